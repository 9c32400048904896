"""The fleet's container engine and its one image.

A dockerd of the suite's own (socket, data root and exec root under /run and /var/lib, never
the machine's default engine), started when none answers on that socket and stopped at the
end by whoever started it. No image registry is reachable, so the image every fleet service
runs is built here: `debootstrap --variant=minbase bookworm` with the Debian packages the
services need, trimmed, and `docker import`ed; it is tagged by a hash of its inputs, so a
second run reuses it. What changes with every commit (bdr's source and its wheels) is not in
the image: it is mounted into the containers, where `appliance/install.sh` installs it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

RUN = Path("/run/bdr-fleet")
SOCKET = RUN / "docker.sock"
DATA_ROOT = Path("/var/lib/bdr-fleet/docker")
CACHE = Path("/var/cache/bdr-fleet")
MIRROR = "http://deb.debian.org/debian"

# What the services run: restic and Python for the appliances (and what install.sh would
# otherwise fetch with apt: the containers reach no mirror), sshd for the recovery host,
# Prometheus for the central server and the appliances' agents.
PACKAGES = (
    "restic",
    "rclone",
    "python3",
    "python3-venv",
    "openssh-server",
    "openssh-client",
    "prometheus",
    "procps",
    "ca-certificates",
    "libpango-1.0-0",
    "libpangoft2-1.0-0",
    "libharfbuzz-subset0",
    "fonts-dejavu-core",
)
# Taken out of the image: documentation, translations, and the JavaScript of Prometheus's
# console templates (218 MB the fleet never opens). Each container is a full copy on vfs.
TRIMMED = (
    "var/cache/apt/archives",
    "var/lib/apt/lists",
    "usr/share/doc",
    "usr/share/locale",
    "usr/share/man",
    "usr/share/javascript",
)


def docker_env() -> dict[str, str]:
    return {**os.environ, "DOCKER_HOST": f"unix://{SOCKET}"}


def docker(
    *args: str, check: bool = True, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["docker", *args], env=docker_env(), capture_output=True, text=True, check=check,
        timeout=timeout,
    )  # fmt: skip


def _answers() -> bool:
    if not SOCKET.exists():
        return False
    return (
        docker("version", "--format", "{{.Server.Version}}", check=False, timeout=20).returncode
        == 0
    )


@dataclass
class Engine:
    log: Path
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        if _answers():
            return  # someone's engine on our socket (a previous run left it): use it
        for needed in ("dockerd", "docker", "docker-compose", "debootstrap"):
            if shutil.which(needed) is None:
                raise RuntimeError(
                    f"{needed} is missing: make test installs it (scripts/system-deps.sh test)"
                )
        RUN.mkdir(parents=True, exist_ok=True)
        DATA_ROOT.mkdir(parents=True, exist_ok=True)
        SOCKET.unlink(missing_ok=True)
        self.process = subprocess.Popen(
            [
                "dockerd",
                "--storage-driver=vfs",
                # No NAT, no firewall rules on the machine: the containers talk to each other
                # on their own networks; nothing in them needs the outside.
                "--iptables=false",
                "--ip6tables=false",
                f"--data-root={DATA_ROOT}",
                f"--exec-root={RUN / 'exec'}",
                f"--pidfile={RUN / 'dockerd.pid'}",
                f"--host=unix://{SOCKET}",
            ],
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while not _answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"dockerd did not start: {self.log.read_text()[-2000:]}")
            time.sleep(0.5)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def image(log: Path) -> str:
    """The fleet's image, built unless an image of the same inputs exists."""
    digest = hashlib.sha256(" ".join((MIRROR, *PACKAGES, *TRIMMED)).encode()).hexdigest()[:12]
    tag = f"bdr-fleet:{digest}"
    if docker("image", "inspect", tag, check=False).returncode == 0:
        return tag
    CACHE.mkdir(parents=True, exist_ok=True)
    root = CACHE / f"rootfs-{digest}"
    shutil.rmtree(root, ignore_errors=True)
    with log.open("ab") as out:
        subprocess.run(
            ["debootstrap", "--variant=minbase", f"--include={','.join(PACKAGES)}", "bookworm",
             str(root), MIRROR],
            stdout=out, stderr=subprocess.STDOUT, check=True, timeout=900,
        )  # fmt: skip
    for part in TRIMMED:
        for entry in (root / part).glob("*"):
            shutil.rmtree(entry) if entry.is_dir() and not entry.is_symlink() else entry.unlink()
    tar = subprocess.Popen(["tar", "-C", str(root), "-c", "."], stdout=subprocess.PIPE)
    subprocess.run(
        ["docker", "import", "-", tag], stdin=tar.stdout, env=docker_env(), check=True,
        capture_output=True, timeout=600,
    )  # fmt: skip
    tar.wait()
    shutil.rmtree(root)
    return tag


def release(source: Path, into: Path) -> Path:
    """The project as a release tarball would hold it: the files git tracks or would track."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=source, capture_output=True, check=True,
    ).stdout.split(b"\0")  # fmt: skip
    for name in filter(None, listed):
        path = source / os.fsdecode(name)
        if path.is_file():
            target = into / os.fsdecode(name)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
    return into


def wheels(source: Path, python: str) -> Path:
    """bdr's dependencies (and setuptools, to build bdr) as wheels, for pip with --no-index:
    the containers reach no package index. Cached by pyproject.toml's hash."""
    digest = hashlib.sha256((source / "pyproject.toml").read_bytes()).hexdigest()[:12]
    directory = CACHE / f"wheels-{digest}"
    if (directory / ".complete").exists():
        return directory
    shutil.rmtree(directory, ignore_errors=True)
    subprocess.run(
        [python, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
         "--only-binary=:all:", "--dest", str(directory), str(source), "setuptools>=68", "wheel"],
        check=True, capture_output=True, timeout=600,
    )  # fmt: skip
    for built in directory.glob("bdr-*"):
        built.unlink()  # bdr itself comes from the release, as install.sh installs it
    (directory / ".complete").touch()
    return directory
