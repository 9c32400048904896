"""Ways the metrics leave the appliance: an HTTP endpoint (TLS and basic auth optional), an
atomically written textfile for node_exporter, and a push to a Pushgateway after every run."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import ssl
import threading
from collections.abc import Callable, Iterable
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

from prometheus_client import CollectorRegistry, generate_latest, make_wsgi_app
from prometheus_client.exposition import ThreadingWSGIServer, push_to_gateway

from bdr.atomic import write_atomic
from bdr.config.model import Config, Metrics
from bdr.metrics.collector import BdrCollector

log = logging.getLogger(__name__)

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def registry_for(config: Callable[[], Config]) -> CollectorRegistry:
    """A private registry holding only bdr's collector (no process or platform metrics)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(BdrCollector(config))
    return registry


def exposition(config: Config) -> bytes:
    return generate_latest(registry_for(lambda: config))


def write_textfile(config: Config) -> None:
    """Write the exposition for node_exporter's textfile collector, atomically."""
    assert config.metrics.textfile is not None
    write_atomic(config.metrics.textfile, exposition(config), mode=0o644)


def push(config: Config) -> None:
    """Push to the Pushgateway, grouped by appliance, replacing its previous push."""
    assert config.metrics.pushgateway is not None
    push_to_gateway(
        config.metrics.pushgateway,
        job="bdr",
        grouping_key={"appliance": config.appliance.id},
        registry=registry_for(lambda: config),
        timeout=10,
    )


def publish_after_run(config: Config) -> None:
    """Refresh the textfile and push, as configured; failures are logged, never raised."""
    for enabled, action, what in (
        (config.metrics.textfile, write_textfile, "textfile"),
        (config.metrics.pushgateway, push, "pushgateway"),
    ):
        if not enabled:
            continue
        try:
            action(config)
        except Exception as error:  # a metrics hiccup must not fail a backup
            log.warning("metrics %s: %s", what, error)


BCRYPT_PREFIXES = ("$2a$", "$2b$", "$2y$")


def _basic_auth(app: WsgiApp, user: str, password: str) -> WsgiApp:
    """Require HTTP basic auth (the scheme's name in any case, as RFC 7617 says); `password`
    may be a bcrypt hash (`$2b$...`), so the file need not hold the password itself."""
    hashed = password.startswith(BCRYPT_PREFIXES)
    accepted: set[str] = set()  # credentials a bcrypt check passed: bcrypt is slow by design
    lock = threading.Lock()

    def allowed(header: str) -> bool:
        scheme, _, token = header.strip().partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            given_user, _, given = (
                base64.b64decode(token.strip(), validate=True).decode().partition(":")
            )
        except (ValueError, UnicodeDecodeError):
            return False
        if not hmac.compare_digest(given_user.encode(), user.encode()):
            return False
        if not hashed:
            return hmac.compare_digest(given.encode(), password.encode())
        digest = hashlib.sha256(f"{given_user}:{given}".encode()).hexdigest()
        with lock:
            if digest in accepted:
                return True
        import bcrypt

        if bcrypt.checkpw(given.encode(), password.encode()):
            with lock:
                accepted.add(digest)
            return True
        return False

    def guarded(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if not allowed(environ.get("HTTP_AUTHORIZATION", "")):
            start_response(
                "401 Unauthorized",
                [("WWW-Authenticate", 'Basic realm="bdr"'), ("Content-Type", "text/plain")],
            )
            return [b"authentication required\n"]
        return app(environ, start_response)

    return guarded


class _QuietHandler(WSGIRequestHandler):
    # A connection that says nothing for this long is closed: idle clients hold no thread.
    timeout = 10

    def log_message(self, format: str, *args: Any) -> None:
        return None


# At most this many requests at once; more connections are closed at once, so a flood of them
# cannot take the daemon's threads or file descriptors (backups need those).
MAX_CONNECTIONS = 16


class _BoundedServer(ThreadingWSGIServer):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._slots = threading.BoundedSemaphore(MAX_CONNECTIONS)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()


class Exporter:
    """The HTTP endpoint inside the daemon, serving /metrics from the store."""

    def __init__(self, settings: Metrics, config: Callable[[], Config]) -> None:
        assert settings.listen is not None
        host, _, port = settings.listen.rpartition(":")
        app: WsgiApp = make_wsgi_app(registry_for(config))
        if settings.basic_auth_user and settings.basic_auth_password_file:
            password = settings.basic_auth_password_file.read_text().splitlines()[0]
            app = _basic_auth(app, settings.basic_auth_user, password)
        self.server = make_server(
            host.strip("[]"), int(port), app, _BoundedServer, handler_class=_QuietHandler
        )
        if settings.tls_cert_file and settings.tls_key_file:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.minimum_version = ssl.TLSVersion.TLSv1_2
            # TLS 1.2 with forward-secret AEAD suites only (TLS 1.3's are all AEAD).
            context.set_ciphers("ECDHE+AESGCM:ECDHE+CHACHA20")
            context.load_cert_chain(str(settings.tls_cert_file), str(settings.tls_key_file))
            # The handshake happens in each request's thread: a client that connects and says
            # nothing must not hold up the accepting thread.
            self.server.socket = context.wrap_socket(
                self.server.socket, server_side=True, do_handshake_on_connect=False
            )
        self.address = settings.listen
        self._thread = threading.Thread(
            target=self.server.serve_forever, daemon=True, name="metrics"
        )

    def start(self) -> None:
        self._thread.start()
        log.info(
            "metrics on %s://%s/metrics",
            "https" if isinstance(self.server.socket, ssl.SSLSocket) else "http",
            self.address,
        )

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
