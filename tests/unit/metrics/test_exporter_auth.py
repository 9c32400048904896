"""The exporter's basic auth, as a WSGI wrapper called directly (no server, no processes)."""

from __future__ import annotations

import base64
from dataclasses import replace

import bcrypt

from bdr.metrics.exporter import _basic_auth


def inner(environ, start_response):
    start_response("200 OK", [])
    return [b"metrics\n"]


def call(app, header: str | None) -> str:
    seen: list[str] = []
    environ = {} if header is None else {"HTTP_AUTHORIZATION": header}
    app(environ, lambda status, headers: seen.append(status))
    return seen[0]


def basic(user: str, password: str, scheme: str = "Basic") -> str:
    return f"{scheme} " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_plain_password_and_the_scheme_in_any_case():
    app = _basic_auth(inner, "prometheus", "s3cret-scrape")
    assert call(app, basic("prometheus", "s3cret-scrape")).startswith("200")
    assert call(app, basic("prometheus", "s3cret-scrape", "basic")).startswith("200")
    assert call(app, basic("prometheus", "s3cret-scrape", "BASIC")).startswith("200")
    assert call(app, basic("prometheus", "wrong")).startswith("401")
    assert call(app, basic("other", "s3cret-scrape")).startswith("401")
    assert call(app, "Bearer abc").startswith("401")
    assert call(app, "Basic not-base64!").startswith("401")
    assert call(app, None).startswith("401")


def test_a_bcrypt_hash_in_the_password_file():
    hashed = bcrypt.hashpw(b"s3cret-scrape", bcrypt.gensalt(rounds=4)).decode()
    app = _basic_auth(inner, "prometheus", hashed)
    assert call(app, basic("prometheus", "s3cret-scrape")).startswith("200")
    assert call(app, basic("prometheus", "s3cret-scrape")).startswith("200")  # from the cache
    assert call(app, basic("prometheus", "wrong")).startswith("401")
    assert call(app, basic("prometheus", hashed)).startswith("401")  # the hash is no password


def test_config_check_warns_of_metrics_open_to_the_network():
    from bdr.config.load import warnings
    from bdr.config.model import Appliance, Config, Metrics, Repository

    base = Config(
        appliance=Appliance(), repositories={"r": Repository(url="/r", password_command="p")}
    )
    assert not [w for w in warnings(base) if w.startswith("metrics.listen")]
    open_one = replace(base, metrics=Metrics(listen="0.0.0.0:9898"))
    (warning,) = [w for w in warnings(open_one) if w.startswith("metrics.listen")]
    assert "open to the network without TLS and basic auth" in warning
