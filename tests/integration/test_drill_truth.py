"""A drill passes only when the data is in the snapshot and proven (issue 8, cases 4 to 9).

Each test reproduces a way a drill used to pass, crash or mislabel its verdict.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.integration.conftest import PASSWORD, Appliance, make_tree


def _drill_json(appliance: Appliance, name: str, expect: int) -> dict:
    result = appliance.bdr("--json", "drill", "run", name, expect=expect)
    (drill,) = json.loads(result.stdout)
    return drill


def _listed_paths(appliance: Appliance, repository: str = "local") -> list[str]:
    listing = appliance.restic(repository, "ls", "--json", "latest").stdout.splitlines()
    nodes = [json.loads(line) for line in listing[1:]]
    return [node["path"] for node in nodes if node["type"] == "file"]


def _plan_with_drills(appliance: Appliance, sources: list[Path | str], **plan: object) -> None:
    appliance.local_repository()
    appliance.add_plan("office", sources, **plan)
    appliance.add("drills", "onsite", plan="office", repository="local", rto="1h")
    appliance.add(
        "drills",
        "sample",
        plan="office",
        repository="local",
        rto="1h",
        kind="sample",
        sample="100%",
    )


# 4. A source that is a symlink to a directory.
def test_symlinked_source_backs_up_the_directory_and_the_drill_proves_it(
    appliance: Appliance, office, tmp_path
):
    link = tmp_path / "share"
    link.symlink_to(office, target_is_directory=True)
    _plan_with_drills(appliance, [link])
    appliance.bdr("init")
    (backup,) = [s for s in appliance.bdr_json("backup") if s["kind"] == "backup"]
    assert backup["details"]["sources"] == [{"configured": str(link), "backed_up": str(office)}]
    paths = _listed_paths(appliance)
    assert f"{office}/documents/invoices/2026-001.txt" in paths
    assert len(paths) == 6  # five office files and the canary, not a bare link
    drill = _drill_json(appliance, "onsite", 0)
    assert drill["verified_files"] == 6 and drill["compared_files"] == 5


# 5. Zero proof is not a pass.
def test_exclude_everything_leaves_nothing_to_prove_and_the_drill_fails(
    appliance: Appliance, office
):
    _plan_with_drills(appliance, [office], exclude=["*"])
    appliance.bdr("init")
    appliance.bdr("backup")
    assert _listed_paths(appliance) == [f"{appliance.state_dir}/canary/office/bdr-canary.txt"], (
        "the plan's exclude never removes the canary"
    )
    drill = _drill_json(appliance, "onsite", 4)
    assert drill["verdict"] == "data"
    assert "no file of the plan's sources" in drill["reason"]


def test_an_exclude_that_matches_the_canary_does_not_remove_it(appliance: Appliance, office):
    _plan_with_drills(appliance, [office], exclude=["*.txt", "canary"])
    appliance.bdr("init")
    appliance.bdr("backup")
    paths = _listed_paths(appliance)
    assert f"{appliance.state_dir}/canary/office/bdr-canary.txt" in paths
    assert not [p for p in paths if p.startswith(str(office)) and p.endswith(".txt")]
    drill = _drill_json(appliance, "onsite", 0)
    assert drill["canary"] == "ok"


def test_a_snapshot_without_the_canary_its_backup_recorded_fails_as_data(
    appliance: Appliance, office
):
    _plan_with_drills(appliance, [office])
    appliance.bdr("init")
    appliance.bdr("backup")
    # What the old `*.txt` exclude produced: a backup run that recorded a canary hash for a
    # snapshot that does not hold the canary.
    appliance.restic("local", "backup", "--tag", "bdr-plan=office", str(office))
    newest = appliance.snapshot_ids("local")[-1]
    db = sqlite3.connect(appliance.state_dir / "bdr.sqlite")
    db.execute("UPDATE runs SET snapshot_id = ? WHERE kind = 'backup'", (newest,))
    db.commit()
    db.close()
    drill = _drill_json(appliance, "onsite", 4)
    assert drill["verdict"] == "data" and drill["canary"] == "missing"
    assert "does not hold the canary" in drill["reason"]


# 6. The canary is the file bdr wrote, by its exact path.
def test_a_planted_canary_in_the_client_data_is_ordinary_data(appliance: Appliance, office):
    planted = office / "canary" / "office" / "bdr-canary.txt"
    planted.parent.mkdir(parents=True)
    planted.write_text("the client's own file that happens to carry this name\n")
    _plan_with_drills(appliance, [office])
    appliance.bdr("init")
    appliance.bdr("backup")
    for name in ("onsite", "sample"):
        drill = _drill_json(appliance, name, 0)
        assert drill["canary"] == "ok"
        assert drill["compared_files"] == 6, "the planted file is compared like any other"


# 7. Names a user can create.
WEIRD = {
    "caf\udce9.doc": b"latin-1 name\n",  # b"caf\xe9.doc" on disk: not UTF-8
    "weird[1].txt": b"brackets\n",
    "weird1.txt": b"decoy that the unescaped pattern would match\n",
    "back\\slash.txt": b"backslash\n",
    "[conceal]x.xlsx": b"markup-looking name\n",
    "[/x]": b"a directory named [ holding x]\n",
    "star*.txt": b"star\n",
}


@pytest.fixture
def weird(appliance: Appliance, tmp_path) -> Appliance:
    data = make_tree(tmp_path / "weird", WEIRD)
    _plan_with_drills(appliance, [data])
    appliance.bdr("init")
    appliance.bdr("backup")
    return appliance


def test_full_and_sample_drills_verify_every_weird_name(weird: Appliance):
    for name in ("onsite", "sample"):
        drill = _drill_json(weird, name, 0)
        assert drill["verified_files"] == len(WEIRD) + 1, drill["reason"]
        assert drill["compared_files"] == len(WEIRD)
    history = weird.bdr("drill", "history").stdout
    assert history.count("passed") == 2


def test_weird_names_in_a_failure_reason_are_shown_as_they_are(weird: Appliance, tmp_path):
    # Same size and mtime, other bytes: the live source says the restore is wrong.
    for name in ("[conceal]x.xlsx", "[/x]"):
        path = tmp_path / "weird" / name
        info = path.stat()
        path.write_bytes(path.read_bytes().upper())
        os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))
    result = weird.bdr("drill", "run", "onsite", expect=4)
    assert "2 file(s) differ from the unchanged live source" in result.stdout
    assert "[/x]" in result.stdout or "[conceal]x.xlsx" in result.stdout
    history = weird.bdr("drill", "history", "onsite").stdout
    assert "data" in history


def test_a_failed_drill_naming_a_non_utf8_file_is_recorded(weird: Appliance, tmp_path):
    path = tmp_path / "weird" / "caf\udce9.doc"
    info = path.stat()
    path.write_bytes(b"LATIN-1 NAME\n")
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))
    drill = _drill_json(weird, "onsite", 4)
    assert drill["verdict"] == "data"
    assert "caf\\xe9.doc" in drill["reason"]
    last = weird.runs()[-1]
    assert (last["kind"], last["status"]) == ("drill", "failed")
    # Wide enough that the table does not fold the path inside the reason column.
    weird.env["COLUMNS"] = "400"
    assert "caf\\xe9.doc" in weird.bdr("drill", "history").stdout
    metrics = weird.bdr("metrics").stdout
    assert 'bdr_drill_last_success{drill="onsite"' in metrics


# 8. A full disk is not damaged data; damaged data is not an error.
@contextmanager
def _small_tmpfs(where: Path, options: str) -> Iterator[None]:
    if os.geteuid() != 0:
        pytest.skip("needs root to mount a small tmpfs as the scratch area")
    where.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)], capture_output=True, text=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield
    finally:
        subprocess.run(["umount", str(where)], check=True)


def test_scratch_running_out_during_the_restore_is_an_error_not_data(
    appliance: Appliance, tmp_path
):
    data = make_tree(tmp_path / "many", {f"d/f{i:03d}.txt": f"file {i}\n" for i in range(213)})
    _plan_with_drills(appliance, [data])
    appliance.bdr("init")
    appliance.bdr("backup")
    # Bytes to spare, but too few inodes: the restore runs out of space part way.
    with _small_tmpfs(appliance.scratch_dir, "size=64m,nr_inodes=60"):
        drill = _drill_json(appliance, "onsite", 1)
        assert drill["verdict"] == "error"
        assert drill["reason"].startswith(f"scratch area {appliance.scratch_dir} ran out of space")
        assert appliance.scratch_emptied()


def test_a_deleted_index_is_data_with_restics_message_and_a_hint(appliance: Appliance, office):
    _plan_with_drills(appliance, [office])
    appliance.bdr("init")
    appliance.bdr("backup")
    for index in (Path(appliance.repositories["local"]["url"]) / "index").iterdir():
        index.unlink()
    result = appliance.bdr("--json", "drill", "run", "onsite", expect=4)
    (drill,) = json.loads(result.stdout)
    assert drill["verdict"] == "data"
    assert "not found in repository" in drill["reason"]
    assert "rebuild-index" in drill["reason"]
    assert ".go:" not in drill["reason"] and "asm_amd64" not in drill["reason"]


# 9. A password that is a common word changes no outcome and is never revealed.
@pytest.mark.parametrize("password", ["wrong", "password", "repository", "lock", "connection"])
def test_common_word_passwords_keep_every_outcome(appliance: Appliance, office, password):
    repo = appliance.local_repository(password=password)
    appliance.add_plan("office", [office])
    appliance.bdr("init")
    assert (repo / "config").exists(), "bdr init created the repository"
    appliance.bdr("backup")
    # The repository opened with another password: "wrong password", exit 6.
    appliance.secret("local.pass", password + "-not\n")
    result = appliance.bdr("backup", expect=6)
    assert "wrong password or no key found" in result.stdout
    # A missing repository is "missing", exit 6, and its path is shown unmasked.
    appliance.secret("local.pass", password + "\n")
    appliance.repositories["local"]["url"] = str(repo) + "-gone"
    appliance.write()
    result = appliance.bdr("backup", expect=6)
    assert "repository missing" in result.stdout
    if len(password) < 8:
        assert f"{repo}-gone" in result.stdout
    check = appliance.bdr("config", "check").stderr
    if len(password) < 8:
        assert "repositories.local.password_file: the password is shorter than 8" in check


def test_checks_run_without_the_services_capabilities_and_their_output_is_scrubbed(
    appliance: Appliance, office: Path
):
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("needs root and setpriv to run bdr with an ambient capability, as systemd does")
    appliance.local_repository()
    password_file = appliance.repositories["local"]["password_file"]
    appliance.add_plan("office", [office])
    appliance.add(
        "drills",
        "onsite",
        plan="office",
        repository="local",
        rto="1h",
        checks=[
            # Under systemd, bdr holds CAP_DAC_READ_SEARCH (every file readable); a check must
            # not (CapAmb 4 would be that capability).
            {
                "run": ["/bin/grep", "^CapAmb:", "/proc/self/status"],
                "expect": "CapAmb:\t0000000000000000",
            },
            # A check that prints a secret: what is kept of its output is masked.
            {"run": ["/bin/sh", "-c", 'cat "$0"; exit 3', password_file]},
        ],
    )
    appliance.bdr("init")
    appliance.bdr("backup")
    ambient = ["setpriv", "--inh-caps=+dac_read_search", "--ambient-caps=+dac_read_search"]
    result = appliance.bdr("--json", "drill", "run", "onsite", expect=4, prefix=ambient)
    (drill,) = json.loads(result.stdout)
    first, second = drill["checks"]
    assert first["ok"], first["problem"]
    assert not second["ok"] and second["problem"] == "exited with 3: ***"
    history = appliance.bdr("--json", "drill", "history", "onsite").stdout
    assert PASSWORD not in history and PASSWORD not in result.stdout + result.stderr
