"""Metrics through real Prometheus and Pushgateway on loopback."""

from __future__ import annotations

import datetime
import ssl
import time
import urllib.error
import urllib.request
from base64 import b64encode
from collections.abc import Iterator
from pathlib import Path

import pytest

from bdr.metrics.exporter import MAX_CONNECTIONS
from bdr.metrics.names import METRIC_NAMES, STEWARD_HOST_ONLY
from tests.integration.conftest import Appliance
from tests.integration.daemon import RunningDaemon, runs, wait_for
from tests.integration.servers import Prometheus, Pushgateway, free_port
from tests.promql import dashboard_expressions, rule_expressions


def metric_names(exposition: str) -> set[str]:
    return {
        line.split("{")[0].split(" ")[0]
        for line in exposition.splitlines()
        if line and not line.startswith("#")
    }


@pytest.fixture
def monitored(appliance: Appliance, office) -> Appliance:
    appliance.local_repository()
    appliance.add_plan("office", [office], schedule="*/3 * * * *")
    appliance.add("drills", "onsite", plan="office", repository="local", schedule="*/4 * * * *")
    appliance.add("checks", "local", repository="local", schedule="*/5 * * * *")
    # Where its evidence goes (a local path here): bdr_evidence_upload_pending has a value.
    appliance.local_repository("evidence")
    appliance.sections["evidence"] = {"upload_to": "evidence"}
    appliance.port = free_port()  # type: ignore[attr-defined]
    appliance.sections["metrics"] = {"listen": f"127.0.0.1:{appliance.port}"}  # type: ignore[attr-defined]
    return appliance


def _set_metrics(appliance: Appliance, **settings: object) -> None:
    appliance.sections["metrics"] = settings
    appliance.write()


def test_prometheus_scrapes_every_metric_and_every_query_returns_data(
    monitored: Appliance, tmp_path
):
    port = monitored.port  # type: ignore[attr-defined]
    # A second plan with a missing source makes partial backups: their series exist too.
    monitored.add_plan(
        "mail", [tmp_path / "office", tmp_path / "mail-archive"], schedule="*/3 * * * *"
    )
    monitored.write()
    monitored.bdr("init")
    # The monthly report runs on the 1st: this month's, by hand, makes its series.
    monitored.bdr("report", "--month", datetime.datetime.now().astimezone().strftime("%Y-%m"))
    monitored.bdr("prune", "local")  # on its weekly schedule otherwise
    daemon = RunningDaemon(monitored)
    # Fleet labels come from Prometheus (target labels here, external labels on an agent).
    labels = {"client": "Test Client", "site": "Lab", "appliance": "test-01"}
    prometheus = Prometheus(
        tmp_path / "prometheus",
        [
            {
                "job_name": "bdr",
                "static_configs": [{"targets": [f"127.0.0.1:{port}"], "labels": labels}],
            }
        ],
    )
    prometheus.start()
    try:
        wait_for(
            "a backup, a drill, a check and a partial backup",
            lambda: (
                {(row["kind"], row["status"]) for row in runs(monitored)}
                >= {("backup", "ok"), ("drill", "ok"), ("check", "ok"), ("backup", "warning")}
            ),
        )
        body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read()
        exported = metric_names(body.decode())
        appliance_names = set(METRIC_NAMES) - set(STEWARD_HOST_ONLY)
        assert appliance_names <= exported, appliance_names - exported
        assert prometheus.wait_for('up{job="bdr"} == 1')
        for name in sorted(appliance_names):
            prometheus.wait_for(name)
        (drill,) = prometheus.wait_for('bdr_drill_last_success{drill="onsite"}')
        assert drill["value"][1] == "1"  # type: ignore[index]
        for where, expression in [*dashboard_expressions(), *rule_expressions()]:
            if any(name in expression for name in STEWARD_HOST_ONLY):
                continue  # the steward host's own series: an appliance has none
            try:
                prometheus.wait_for(expression, timeout=30)
            except AssertionError as error:
                raise AssertionError(f"{where}: {error}") from None
    finally:
        prometheus.stop()
        assert daemon.stop() == 0


def test_bdr_metrics_prints_the_exposition_once(monitored: Appliance):
    monitored.bdr("init")
    monitored.bdr("backup")
    body = monitored.bdr("metrics").stdout
    assert 'bdr_backup_last_status{plan="office",repository="local"} 2.0' in body
    assert 'restic_version="0.' in body


def test_textfile_is_written_after_a_run(monitored: Appliance, tmp_path):
    textfile = tmp_path / "textfile" / "bdr.prom"
    textfile.parent.mkdir()
    _set_metrics(monitored, textfile=str(textfile))
    monitored.bdr("init")
    monitored.bdr("backup")
    text = textfile.read_text()
    assert 'bdr_backup_last_status{plan="office",repository="local"} 2.0' in text
    assert [p.name for p in textfile.parent.iterdir()] == ["bdr.prom"]  # no temp file left


def test_push_to_pushgateway_is_seen_by_prometheus(monitored: Appliance, tmp_path):
    gateway = Pushgateway(tmp_path / "pushgateway")
    gateway.start()
    prometheus = Prometheus(
        tmp_path / "prometheus",
        [
            {
                "job_name": "pushgateway",
                "honor_labels": True,
                "static_configs": [{"targets": [f"127.0.0.1:{gateway.port}"]}],
            }
        ],
    )
    prometheus.start()
    try:
        _set_metrics(monitored, pushgateway=gateway.url)
        monitored.bdr("init")
        monitored.bdr("backup")
        (series,) = prometheus.wait_for('bdr_backup_last_status{appliance="test-01"}')
        assert series["value"][1] == "2"  # type: ignore[index]
        assert series["metric"]["job"] == "bdr"  # type: ignore[index]
    finally:
        prometheus.stop()
        gateway.stop()


@pytest.fixture
def certificate(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    import ipaddress

    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_file = tmp_path / "metrics.crt"
    key_file = tmp_path / "metrics.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_file.chmod(0o600)
    yield cert_file, key_file


def test_tls_and_basic_auth_refuse_a_scrape_without_credentials(
    monitored: Appliance, certificate, tmp_path
):
    cert_file, key_file = certificate
    password = monitored.secret("metrics.pass", "scrape me please\n")
    port = monitored.port  # type: ignore[attr-defined]
    _set_metrics(
        monitored,
        listen=f"127.0.0.1:{port}",
        tls_cert_file=str(cert_file),
        tls_key_file=str(key_file),
        basic_auth_user="prometheus",
        basic_auth_password_file=str(password),
    )
    monitored.bdr("init")
    daemon = RunningDaemon(monitored)
    context = ssl.create_default_context(cafile=str(cert_file))
    url = f"https://127.0.0.1:{port}/metrics"
    prometheus = Prometheus(
        tmp_path / "prometheus",
        [
            {
                "job_name": "bdr",
                "scheme": "https",
                "tls_config": {"ca_file": str(cert_file)},
                "basic_auth": {"username": "prometheus", "password_file": str(password)},
                "static_configs": [{"targets": [f"127.0.0.1:{port}"]}],
            }
        ],
    )
    try:
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(url, context=context, timeout=10)
        assert refused.value.code == 401
        with pytest.raises((urllib.error.URLError, ConnectionError)):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10)
        request = urllib.request.Request(
            url,
            headers={
                "Authorization": "Basic " + b64encode(b"prometheus:scrape me please").decode()
            },
        )
        body = urllib.request.urlopen(request, context=context, timeout=10).read().decode()
        assert "bdr_appliance_info" in body
        prometheus.start()
        prometheus.wait_for('up{job="bdr"} == 1')
    finally:
        prometheus.stop()
        assert daemon.stop() == 0


def test_agent_remote_writes_with_the_appliance_labels(monitored: Appliance, tmp_path):
    """appliance/prometheus-agent.yml, pointed at this appliance and a receiving Prometheus."""
    import yaml

    port = monitored.port  # type: ignore[attr-defined]
    monitored.bdr("init")
    monitored.bdr("backup")
    daemon = RunningDaemon(monitored)
    central = Prometheus(
        tmp_path / "central", [], extra_args=("--web.enable-remote-write-receiver",)
    )
    central.start()
    config = yaml.safe_load(
        (Path(__file__).parents[2] / "appliance" / "prometheus-agent.yml").read_text()
    )
    config["global"]["scrape_interval"] = "1s"
    config["scrape_configs"][0]["static_configs"][0]["targets"] = [f"127.0.0.1:{port}"]
    remote = config["remote_write"][0]
    remote["url"] = f"{central.url}/api/v1/write"
    remote["basic_auth"]["password_file"] = str(monitored.secret("remote-write.pass", "x\n"))
    agent = Prometheus(tmp_path / "agent", [], config=config, agent=True)
    agent.start()
    try:
        (series,) = central.wait_for('bdr_backup_last_status{plan="office"}', timeout=90)
        labels = series["metric"]
        assert (labels["client"], labels["site"], labels["appliance"]) == (  # type: ignore[index]
            "Acme Dental",
            "Main office",
            "acme-01",
        )
        assert series["value"][1] == "2"  # type: ignore[index]
    finally:
        agent.stop()
        central.stop()
        assert daemon.stop() == 0


def test_a_flood_of_idle_connections_holds_neither_threads_nor_the_scrape_for_long(
    monitored: Appliance,
):
    import socket

    port = monitored.port  # type: ignore[attr-defined]
    monitored.plans["office"]["schedule"] = "0 0 1 1 *"  # no run: the daemon idles
    monitored.write()
    monitored.bdr("init")
    daemon = RunningDaemon(monitored)
    idle = []
    try:
        # "daemon ready" comes before its evidence catch-up thread has ended: count from a
        # daemon whose threads have settled, so that only the flood's own threads are measured.
        threads_before = _settled_threads(daemon.process.pid)
        for _ in range(60):
            connection = socket.create_connection(("127.0.0.1", port), timeout=5)
            idle.append(connection)  # connects, says nothing
        time.sleep(1)
        # Bounded by the exporter's slots, not one per connection (60). The scheduler's pool
        # may start a thread or two meanwhile for its heartbeat and condition jobs.
        assert _threads(daemon.process.pid) <= threads_before + MAX_CONNECTIONS + 3
        # While they are still open, a scrape is served at once: the oldest idle connection
        # makes room for it.
        assert b"bdr_appliance_info" in (_scrape(port) or b"")
        # The idle ones are closed after the header timeout, from the daemon's side.
        wait_for("the idle connections closed", lambda: all(_closed(c) for c in idle), 15)
    finally:
        for connection in idle:
            connection.close()
        assert daemon.stop() == 0


def _closed(connection) -> bool:  # type: ignore[no-untyped-def]
    """Whether the server closed `connection` (a read returns end of file, or fails)."""
    connection.settimeout(0.01)
    try:
        return connection.recv(1) == b""
    except TimeoutError:
        return False
    except OSError:
        return True


def _settled_threads(pid: int) -> int:
    """The daemon's thread count once it has stayed the same for two seconds."""
    counts = [_threads(pid)]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        time.sleep(0.5)
        counts.append(_threads(pid))
        if len(set(counts[-4:])) == 1 and len(counts) >= 4:
            return counts[-1]
    raise AssertionError(f"the daemon's threads did not settle: {counts}")


def _threads(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("Threads:")).split()[1])


def _scrape(port: int) -> bytes | None:
    try:
        return urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read()
    except (urllib.error.URLError, OSError):
        return None


@pytest.mark.parametrize("host", ["127.0.0.1", "[::1]"])
def test_the_endpoint_serves_ipv4_and_ipv6(tmp_path: Path, host: str):
    import socket

    from bdr.config.model import Appliance as ApplianceSettings
    from bdr.config.model import Config, Metrics, Repository
    from bdr.metrics.exporter import Exporter

    if host == "[::1]" and not socket.has_ipv6:
        pytest.fail("this machine has no IPv6: the test cannot show the endpoint serves it")
    port = free_port()
    config = Config(
        appliance=ApplianceSettings(state_dir=tmp_path / "state"),
        repositories={"local": Repository(url=str(tmp_path / "repo"), password_command="p")},
        metrics=Metrics(listen=f"{host}:{port}"),
    )
    exporter = Exporter(config.metrics, lambda: config)
    exporter.start()
    try:
        body = urllib.request.urlopen(f"http://{host}:{port}/metrics", timeout=5).read()
        assert b"bdr_appliance_info" in body
    finally:
        exporter.stop()
