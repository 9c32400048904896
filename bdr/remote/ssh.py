"""Running an application check on a remote host over SSH.

Host keys are verified against the configured known_hosts file; an unknown or changed key is
refused, never accepted, since a drill that trusts any host proves nothing.
"""

from __future__ import annotations

import shlex
import time
from dataclasses import dataclass
from typing import Any

from bdr.config.model import Remote
from bdr.errors import BdrError

OUTPUT_LIMIT = 64 * 1024


class RemoteError(BdrError):
    pass


@dataclass(frozen=True)
class RemoteResult:
    exit_code: int
    stdout: str
    stderr: str


def run_remote(name: str, remote: Remote, argv: list[str], *, timeout: float) -> RemoteResult:
    """Run `argv` (quoted for the remote shell) on remote `name`; raise RemoteError on trouble."""
    import paramiko

    where = f"remote.{name} ({remote.user}@{remote.host}:{remote.port})"
    client = paramiko.SSHClient()
    try:
        client.load_host_keys(str(remote.known_hosts))
    except OSError as error:
        raise RemoteError(
            f"{where}: cannot read known_hosts {remote.known_hosts}: {error}"
        ) from None
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
    try:
        client.connect(
            remote.host,
            port=remote.port,
            username=remote.user,
            key_filename=str(remote.key_file),
            timeout=min(timeout, 30),
            banner_timeout=30,
            auth_timeout=30,
            allow_agent=False,
            look_for_keys=False,
        )
    except paramiko.BadHostKeyException:
        raise RemoteError(
            f"{where}: the host key has CHANGED from the one in {remote.known_hosts}; refusing to "
            "connect (if the host was reinstalled, update known_hosts)"
        ) from None
    except paramiko.SSHException as error:
        if "not found in known_hosts" in str(error):
            raise RemoteError(
                f"{where}: host key unknown: not in {remote.known_hosts}; refusing to connect "
                "(add it with ssh-keyscan after checking its fingerprint)"
            ) from None
        raise RemoteError(f"{where}: ssh failed: {error}") from None
    except OSError as error:
        raise RemoteError(f"{where}: cannot connect: {error or type(error).__name__}") from None
    try:
        return _run(client, _ended_with_the_session(argv), timeout, where)
    except (paramiko.SSHException, OSError) as error:
        raise RemoteError(f"{where}: the session broke: {error or type(error).__name__}") from None
    finally:
        client.close()


# The check runs in the background of a small POSIX shell that also waits for the end of its
# stdin, the SSH channel: when bdr sends EOF (the check overstayed its timeout) or the session
# breaks, the check is sent SIGTERM. Without this, sshd leaves a check that hangs running.
# (A background list reads /dev/null unless told otherwise: the channel goes in as fd 3.)
_WATCHED = (
    'exec 3<&0; "$@" </dev/null & child=$!; '
    "(cat <&3 >/dev/null; kill -TERM $child) >/dev/null 2>&1 & "
    "exec 3<&-; wait $child"
)


def _ended_with_the_session(argv: list[str]) -> str:
    return shlex.join(["sh", "-c", _WATCHED, "sh", *argv])


def _run(client: Any, command: str, timeout: float, where: str) -> RemoteResult:
    """Run `command` on an open session; read stdout and stderr together (a check that writes
    much to one must not stall on the other), keep the first 64 KiB of each."""
    transport = client.get_transport()
    assert transport is not None
    channel = transport.open_session(timeout=30)
    channel.exec_command(command)
    deadline = time.monotonic() + timeout
    out, err = bytearray(), bytearray()
    while True:
        progressed = False
        for ready, receive, kept in (
            (channel.recv_ready, channel.recv, out),
            (channel.recv_stderr_ready, channel.recv_stderr, err),
        ):
            while ready():
                data = receive(65536)
                kept += data[: max(0, OUTPUT_LIMIT - len(kept))]
                progressed = True
        if (
            channel.exit_status_ready()
            and not channel.recv_ready()
            and not (channel.recv_stderr_ready())
        ):
            break
        if time.monotonic() >= deadline:
            channel.shutdown_write()  # EOF: the watcher ends the check
            time.sleep(0.5)
            channel.close()
            raise RemoteError(
                f"{where}: the check did not end within its timeout of {timeout:g}s; its "
                "session was closed"
            )
        if not progressed:
            time.sleep(0.02)
    return RemoteResult(
        channel.recv_exit_status(),
        out.decode(errors="replace"),
        err.decode(errors="replace"),
    )
