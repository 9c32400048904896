"""Ways the metrics leave the appliance: an HTTP endpoint (TLS and basic auth optional), an
atomically written textfile for node_exporter, and a push to a Pushgateway after every run."""

from __future__ import annotations

import base64
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


def _basic_auth(app: WsgiApp, user: str, password: str) -> WsgiApp:
    expected = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()

    def guarded(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        given = environ.get("HTTP_AUTHORIZATION", "")
        if not hmac.compare_digest(given.encode(), expected.encode()):
            start_response(
                "401 Unauthorized",
                [("WWW-Authenticate", 'Basic realm="bdr"'), ("Content-Type", "text/plain")],
            )
            return [b"authentication required\n"]
        return app(environ, start_response)

    return guarded


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return None


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
            host.strip("[]"), int(port), app, ThreadingWSGIServer, handler_class=_QuietHandler
        )
        if settings.tls_cert_file and settings.tls_key_file:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.minimum_version = ssl.TLSVersion.TLSv1_2
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
