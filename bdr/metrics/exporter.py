"""Ways the metrics leave the appliance: an HTTP endpoint (TLS and basic auth optional), an
atomically written textfile for node_exporter, and a push to a Pushgateway after every run."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import logging
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
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


# A client has this long, from connecting, to send its whole request head; a client that says
# nothing (a scanner, a half-open connection) is closed then, and sooner when a new client needs
# its slot.
HEADER_TIMEOUT = 5.0
# At most this many connections at once, and this many of one client address: more would take
# the daemon's threads or file descriptors (backups need those).
MAX_CONNECTIONS = 16
PER_ADDRESS = 8


class _QuietHandler(WSGIRequestHandler):
    # Each read waits at most this long (the gate's reaper bounds the whole request head).
    timeout = HEADER_TIMEOUT

    def parse_request(self) -> bool:
        parsed = super().parse_request()
        gate = getattr(self.server, "gate", None)
        if parsed and isinstance(gate, Gate):
            gate.spoke(self.connection)
        return parsed

    def log_message(self, format: str, *args: Any) -> None:
        return None


@dataclass
class _Held:
    address: str
    since: float
    silent: bool = True  # has not sent its request head yet


class Gate:
    """Who holds the endpoint's connections. A new connection is let in while there is room
    (MAX_CONNECTIONS, PER_ADDRESS of one address); when there is none, the oldest connection
    that has not said anything yet is closed to make room. Idle connections, however many, so
    never keep a scrape out; only as many requests in progress as there are slots can."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._held: dict[Any, _Held] = {}  # in the order they came: the oldest first

    def admit(self, connection: Any, address: str) -> bool:
        """Let `connection` in, closing an idle one if that makes room; False: no room."""
        with self._lock:
            self._reap_locked()
            mine = [c for c, held in self._held.items() if held.address == address]
            if len(mine) >= PER_ADDRESS and not self._evict_locked(mine):
                return False
            if len(self._held) >= MAX_CONNECTIONS and not self._evict_locked(list(self._held)):
                return False
            self._held[connection] = _Held(address, self._clock())
            return True

    def _evict_locked(self, among: list[Any]) -> bool:
        silent = [c for c in among if self._held[c].silent]
        if not silent:
            return False
        self._close_locked(silent[0])
        return True

    def spoke(self, connection: Any) -> None:
        with self._lock:
            held = self._held.get(connection)
            if held is not None:
                held.silent = False

    def release(self, connection: Any) -> None:
        with self._lock:
            self._held.pop(connection, None)

    def reap(self) -> None:
        """Close the connections that have been silent for HEADER_TIMEOUT."""
        with self._lock:
            self._reap_locked()

    def _reap_locked(self) -> None:
        now = self._clock()
        for connection, held in list(self._held.items()):
            if held.silent and now - held.since >= HEADER_TIMEOUT:
                self._close_locked(connection)

    def _close_locked(self, connection: Any) -> None:
        """Wake the thread reading `connection` (its read returns nothing, and it ends)."""
        del self._held[connection]
        with contextlib.suppress(OSError):
            connection.shutdown(socket.SHUT_RDWR)

    def __len__(self) -> int:
        with self._lock:
            return len(self._held)


class _BoundedServer(ThreadingWSGIServer):
    # Connections the kernel queues before they are accepted (socketserver's default is 5: a
    # burst of connections was refused before the gate could close idle ones).
    request_queue_size = 128

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.gate = Gate()
        super().__init__(*args, **kwargs)

    def process_request(self, request: Any, client_address: Any) -> None:
        address = client_address[0] if isinstance(client_address, tuple) else str(client_address)
        if not self.gate.admit(request, address):
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self.gate.release(request)
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.gate.release(request)

    def service_actions(self) -> None:
        # Called by serve_forever between polls (every half second at most).
        self.gate.reap()


def _server_for(host: str, port: int) -> type[_BoundedServer]:
    """The server class for `host`: IPv6 for an IPv6 address or a name that has only one
    (socketserver assumes IPv4, and `[::1]` failed with gaierror)."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    except OSError:
        return _BoundedServer  # binding says what is wrong, with the address
    if family != socket.AF_INET6:
        return _BoundedServer
    return type("_BoundedServer6", (_BoundedServer,), {"address_family": socket.AF_INET6})


class Exporter:
    """The HTTP endpoint inside the daemon, serving /metrics from the store."""

    def __init__(self, settings: Metrics, config: Callable[[], Config]) -> None:
        assert settings.listen is not None
        host, _, port = settings.listen.rpartition(":")
        app: WsgiApp = make_wsgi_app(registry_for(config))
        if settings.basic_auth_user and settings.basic_auth_password_file:
            password = settings.basic_auth_password_file.read_text().splitlines()[0]
            app = _basic_auth(app, settings.basic_auth_user, password)
        host = host.strip("[]")
        self.server = make_server(
            host, int(port), app, _server_for(host, int(port)), handler_class=_QuietHandler
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
