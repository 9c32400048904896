"""The fleet on containers: the engine, the image, the Compose project, and a way to drive it.

pytest-docker brings the project up once for the fleet's tests (`docker-compose up -d`) and
down after the last of them (`down -v`); the fixtures here start the suite's own dockerd and
build the image before that, and wait until every appliance has installed bdr. All of it is
package-scoped: the engine stops before the other suites run, not at the end of the session.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pytest_docker.plugin import Services, get_docker_services

from tests.fleet import engine
from tests.integration.daemon import wait_for

# One project name per checkout's run, so that a developer's fleet and a CI run on the same
# engine do not meet.
PROJECT = os.environ.get("BDR_FLEET_PROJECT", "bdrfleet")
ROOT = Path(__file__).resolve().parents[2]
APPLIANCES = {"appliance-a": "dental-01", "appliance-b": "law-01", "appliance-c": "clinic-01"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.fleet)


@pytest.fixture(scope="package")
def fleet_platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The engine running, the image built, the release and wheels staged; yields a log dir."""
    if os.geteuid() != 0:
        raise pytest.UsageError("the fleet suite runs as root (dockerd, debootstrap)")
    logs = tmp_path_factory.mktemp("fleet-logs")
    docker_engine = engine.Engine(logs / "dockerd.log")
    docker_engine.start()
    # Compose reads these from the environment; the suites after this one get theirs back.
    before = os.environ.copy()
    try:
        os.environ.update(
            DOCKER_HOST=f"unix://{engine.SOCKET}",
            BDR_FLEET_IMAGE=engine.image(logs / "image.log"),
            BDR_FLEET_RELEASE=str(engine.release(ROOT, tmp_path_factory.mktemp("release"))),
            BDR_FLEET_WHEELS=str(engine.wheels(ROOT, sys.executable)),
        )
        yield logs
    finally:
        os.environ.clear()
        os.environ.update(before)
        docker_engine.stop()


@pytest.fixture(scope="package")
def docker_compose_command() -> str:
    return "docker-compose"  # Debian 12's Compose is v1 (1.29)


@pytest.fixture(scope="package")
def docker_compose_file(fleet_platform: Path) -> str:
    return str(Fleet.compose_file)


@pytest.fixture(scope="package")
def docker_compose_project_name() -> str:
    return PROJECT


@pytest.fixture(scope="package")
def docker_setup() -> list[str]:
    return ["up -d"]  # Compose v1 has no --wait: the fleet fixture waits for readiness


@pytest.fixture(scope="package")
def docker_cleanup() -> list[str]:
    return ["down -v -t 5"]


def container(service: str) -> str:
    """The container of a Compose service (Compose v1 names them project_service_1)."""
    return f"{PROJECT}_{service}_1"


@pytest.fixture(scope="package")
def docker_services(
    docker_compose_command: str,
    docker_compose_file: str,
    docker_compose_project_name: str,
    docker_setup: list[str],
    docker_cleanup: list[str],
) -> Iterator[Services]:
    """pytest-docker's own fixture, scoped to this package instead of the session."""
    with get_docker_services(
        docker_compose_command,
        docker_compose_file,
        docker_compose_project_name,
        docker_setup,
        docker_cleanup,
    ) as services:
        yield services


@dataclass
class Fleet:
    """The running fleet, driven the way the MSP's technician would: `docker exec` for a shell
    on an appliance, PromQL against the central server."""

    central_url: str
    logs: Path
    compose_file: Path = Path(__file__).parent / "docker-compose.yml"

    def exec(
        self, service: str, *argv: str, user: str = "root", expect: int | None = 0,
        timeout: float = 300,
    ) -> subprocess.CompletedProcess[str]:  # fmt: skip
        result = engine.docker(
            "exec", "-u", user, container(service), *argv, check=False, timeout=timeout
        )
        if expect is not None and result.returncode != expect:
            raise AssertionError(
                f"{service}: {' '.join(argv)} exited {result.returncode}, expected {expect}\n"
                f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
            )
        return result

    def bdr(
        self, service: str, *args: str, expect: int | None = 0
    ) -> subprocess.CompletedProcess[str]:
        """`bdr ARGS` on an appliance, as its bdr user."""
        return self.exec(service, "bdr", *args, user="bdr", expect=expect)

    def bdr_json(self, service: str, *args: str) -> Any:
        return json.loads(self.bdr(service, "--json", *args).stdout)

    def start(self, service: str, *args: str) -> subprocess.Popen[str]:
        """`bdr ARGS` on an appliance, in the background; its stderr is read by `wait_line`."""
        return subprocess.Popen(
            ["docker", "exec", "-u", "bdr", container(service), "bdr", *args],
            env=engine.docker_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip

    def wait_line(self, process: subprocess.Popen[str], text: str) -> str:
        """Read the process's stderr until a line holding `text` (bdr says each step there)."""
        assert process.stderr is not None
        seen = []
        for line in process.stderr:
            seen.append(line)
            if text in line:
                return line
        raise AssertionError(f"never said {text!r}: {''.join(seen)[-2000:]}")

    def query(self, promql: str) -> list[dict[str, Any]]:
        url = f"{self.central_url}/api/v1/query?" + urllib.parse.urlencode({"query": promql})
        with urllib.request.urlopen(url, timeout=10) as response:
            body = json.load(response)
        assert body["status"] == "success", body
        result: list[dict[str, Any]] = body["data"]["result"]
        return result

    def wait_for(self, what: str, check: Callable[[], object], timeout: float = 120) -> None:
        """Wait for `check()`, polling once a second: each poll is a `docker exec` or a query."""
        wait_for(what, check, timeout, pause=1)


def _installed(fleet: Fleet) -> bool:
    for service in APPLIANCES:
        state = engine.docker("inspect", "-f", "{{.State.Running}}", container(service))
        if state.stdout.strip() != "true":
            logs = engine.docker("logs", "--tail", "30", container(service), check=False)
            raise AssertionError(f"{service} stopped while installing:\n{logs.stdout}{logs.stderr}")
        done = fleet.exec(service, "test", "-e", "/run/fleet-installed", expect=None)
        if done.returncode != 0:
            return False
    return True


def _central_up(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/-/ready", timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


@pytest.fixture(scope="package")
def fleet(docker_services: Any, fleet_platform: Path) -> Iterator[Fleet]:
    port = docker_services.port_for("central", 9090)
    running = Fleet(f"http://127.0.0.1:{port}", fleet_platform)
    try:
        running.wait_for("the central Prometheus", lambda: _central_up(running.central_url), 120)
        running.wait_for("bdr installed on every appliance", lambda: _installed(running), 600)
        yield running
    finally:
        # What the services said, for a failure's post-mortem.
        for service in ("cloud", "central", "recovery", *APPLIANCES):
            logs = engine.docker("logs", container(service), check=False)
            (fleet_platform / f"{service}.log").write_text(logs.stdout + logs.stderr)
