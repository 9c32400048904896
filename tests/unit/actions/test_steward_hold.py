"""The steward's retention holds while the appliance's audited evidence names an open suspect
(on the typed fake of restic: no process runs)."""

from __future__ import annotations

import json
import time
from pathlib import Path

from bdr.actions.context import Context
from bdr.actions.steward import keep_cloud
from bdr.store import steward as seen
from bdr.store.database import connect
from bdr.store.outcomes import StewardOutcome
from tests.unit.appliance import office_config
from tests.unit.fake_restic import FakeRestic, Reply, ok

DAY = 86400.0
IDS = [f"{index:08x}" * 8 for index in range(1, 6)]


def listing(_: tuple[str, ...]) -> Reply:
    """Five daily snapshots of plan office, the newest an hour old."""
    now = time.time()
    snapshots = [
        {
            "id": sid,
            "short_id": sid[:8],
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - 3600 - age * DAY)),
            "paths": ["/srv"],
            "hostname": "office",
            "tags": ["bdr-plan=office"],
        }
        for age, sid in zip(range(4, -1, -1), IDS, strict=True)
    ]
    return Reply(stdout=[json.dumps(snapshots) + "\n"])


def steward_context(tmp_path: Path) -> Context:
    signers = tmp_path / "acme-01.allowed_signers"
    signers.write_text("acme-01@bdr ssh-ed25519 AAAA\n")
    config = office_config(
        tmp_path,
        steward={"local": {"appliance": "acme-01", "keep": {"within": "2d"}}},
        audit={"acme-01": {"repository": "local", "allowed_signers": str(signers)}},
    )
    restic = FakeRestic({"check": ok, "snapshots": listing, "forget": ok, "prune": ok, "stats": ok})
    return Context(config=config, db=connect(config.appliance.state_dir), restic=restic)


def forgotten(restic: FakeRestic) -> list[str]:
    return [
        sid for call in restic.calls if "forget" in call for sid in call[call.index("--") + 1 :]
    ]


def test_an_open_suspect_in_the_audited_evidence_holds_the_steward(tmp_path: Path):
    ctx = steward_context(tmp_path)
    audited = seen.Audited("c" * 32, 40, "f" * 64, time.time(), suspects=(IDS[3],))
    seen.note_audited(ctx.db, "acme-01", audited)
    summaries = keep_cloud(ctx, "local")
    assert [s.kind for s in summaries] == ["check", "steward"], "no prune: nothing forgotten"
    outcome = summaries[1].outcome
    assert isinstance(outcome, StewardOutcome) and outcome.forgotten == 0
    assert (
        outcome.held is not None
        and f"1 suspect snapshot(s) not cleared ({IDS[3][:8]})" in outcome.held
    )
    assert not forgotten(ctx.restic)  # type: ignore[arg-type]


def test_once_the_evidence_names_no_open_suspect_the_policy_applies(tmp_path: Path):
    ctx = steward_context(tmp_path)
    seen.note_audited(ctx.db, "acme-01", seen.Audited("c" * 32, 41, "e" * 64, time.time(), ()))
    summaries = keep_cloud(ctx, "local")
    outcome = summaries[1].outcome
    assert isinstance(outcome, StewardOutcome) and outcome.held is None
    # Older than two days: the snapshots of four, three and two days and an hour ago.
    assert sorted(forgotten(ctx.restic)) == sorted(IDS[:3])  # type: ignore[arg-type]
    assert [s.kind for s in summaries] == ["check", "steward", "prune"]
