"""A broken or hostile restic under every command that parses its output: bdr ends each run
with a clear result, never an internal error, a hang, or a success it cannot prove.

A fake `restic` (BDR_RESTIC) answers `version` as restic 0.14.0 and everything else the way the
behaviour under test says; the real restic made the repository and a first snapshot.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.integration.conftest import Appliance

FAKE = r"""#!/bin/sh
for arg in "$@"; do
    if [ "$arg" = version ]; then
        echo "restic 0.14.0 compiled with go1.19.8 on linux/amd64"
        exit 0
    fi
done
case "$FAKE_RESTIC" in
    empty) exit 0 ;;
    garbage) echo "<html><body>502 Bad Gateway</body></html>"; exit 0 ;;
    garbage-failing) echo "segmentation violation" >&2; exit 1 ;;
    truncated) printf '{"message_type":"summary","snapshot_id":"ab'; exit 0 ;;
    scalars) printf '1\nnull\n"text"\ntrue\n[]\n'; exit 0 ;;
    wrong-types) echo '{"message_type":"summary","snapshot_id":12,"files_new":"many"}'
                 echo '[{"id":"zz","time":"yesterday"}]'
                 echo '{"struct_type":"node","path":null,"size":"big"}'; exit 0 ;;
    huge-line) head -c 2000000 /dev/zero | tr '\0' 'x'; echo; exit 0 ;;
    no-snapshot-id) echo '{"message_type":"summary","snapshot_id":"","files_new":1}'; exit 0 ;;
    stderr-flood) head -c 10000000 /dev/zero | tr '\0' 'e' | fold -w 100 >&2; exit 1 ;;
    not-utf8) printf 'Fatal: \377\376 caf\351\n' >&2; exit 1 ;;
    missing) echo "Fatal: unable to open config file: stat /x/config: no such file or directory" >&2
             echo "Is there a repository at the following location?" >&2; exit 10 ;;
    locked) echo "unable to create lock in backend: repository is already locked by PID 1" \
                 "on x by y (UID 0, GID 0)" >&2; exit 11 ;;
    wrong-password) echo "Fatal: wrong password or no key found" >&2; exit 12 ;;
    partial) exit 3 ;;
    killed) kill -9 $$ ;;
    odd-exit) exit 77 ;;
    hangs) exec sleep 457 ;;
esac
exit 0
"""
BEHAVIOURS = [
    "empty", "garbage", "garbage-failing", "truncated", "scalars", "wrong-types", "huge-line",
    "no-snapshot-id", "stderr-flood", "not-utf8", "missing", "locked", "wrong-password",
    "partial", "killed", "odd-exit", "hangs",
]  # fmt: skip
COMMANDS = {
    "backup": ["backup"],
    "snapshots": ["snapshots"],
    "drill": ["drill", "run", "onsite"],
    "check": ["check"],
    "restore": ["restore", "office", "--target", "{tmp}/restored"],
    "prune": ["prune"],
}


@pytest.fixture(scope="module")
def broken(tmp_path_factory: pytest.TempPathFactory) -> Appliance:
    root = tmp_path_factory.mktemp("fake")
    data = root / "data"
    data.mkdir()
    (data / "a.txt").write_text("a\n")
    appliance = Appliance(root / "appliance")
    appliance.local_repository()
    appliance.add_plan("office", [data], retention={"last": 3})
    appliance.add("drills", "onsite", plan="office", repository="local")
    appliance.appliance["max_run_time"] = {
        kind: "3s"
        for kind in (
            "backup",
            "copy",
            "retention",
            "prune",
            "drill",
            "check",
            "snapshots",
            "restore",
        )
    }
    appliance.appliance["lock_timeout"] = "2s"
    appliance.bdr("init")
    appliance.bdr("backup")
    appliance.use_restic(FAKE)
    return appliance


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize("behaviour", BEHAVIOURS)
def test_each_command_survives_each_behaviour(
    broken: Appliance, tmp_path: Path, command: str, behaviour: str
):
    before = {row["id"] for row in broken.runs()}
    argv = [arg.format(tmp=tmp_path) for arg in COMMANDS[command]]
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "bdr", "--config", str(broken.config_path), *argv],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **broken.env, "FAKE_RESTIC": behaviour},
    )
    said = result.stdout + result.stderr
    assert time.monotonic() - started < 60, "no hang: max_run_time ends a restic that hangs"
    assert "internal error" not in said and "Traceback" not in said, said
    assert result.returncode in (0, 1, 2, 3, 4, 5, 6), (result.returncode, said)
    new = [row for row in broken.runs() if row["id"] not in before]
    assert all(row["status"] != "running" for row in new), new
    # Nothing is claimed that restic did not prove.
    for row in new:
        if row["kind"] == "backup" and row["status"] in ("ok", "warning"):
            assert row["snapshot_id"], f"{behaviour}: a backup recorded ok without a snapshot"
        if row["kind"] == "drill":
            assert row["status"] != "ok", f"{behaviour}: a drill passed on a fake restore"
    if command == "restore" and result.returncode == 0:
        restored = tmp_path / "restored"
        assert restored.exists() and any(restored.rglob("*")), "restore said ok, restored nothing"
    subprocess.run(["pkill", "-fx", "sleep 457"], capture_output=True)
