"""Gathering a report's inputs: the configuration, the history and the evidence chain (I/O)."""

from __future__ import annotations

from datetime import tzinfo
from pathlib import Path

from bdr import __version__
from bdr.config.model import AppCheck, Config
from bdr.errors import BdrError
from bdr.evidence.agreement import ChainIndex, Disagreement, as_recorded, check
from bdr.evidence.chain import CHAIN, head, line_hash
from bdr.evidence.keys import evidence_dir, load_key
from bdr.period import Period
from bdr.report.model import DrillSpec, EvidenceFacts, Finding, Inputs, PlanSpec, Setup
from bdr.store import runs, verified
from bdr.store.database import History

# Runs this long before the period are read too: an exception's cause, and the snapshot that was
# newest when the period began.
LOOKBACK = 35 * 86400.0


# Disagreements with the chain a report names one by one; the rest are one finding. A history
# that was never recorded (an upgrade whose catch-up did not run) would otherwise be a
# finding per run: 7,677 lines, a 500 MB layout of the PDF.
MAX_CHAIN_FINDINGS = 20

NO_CHAIN = (
    "the evidence chain is missing: this report's figures come from the history alone, "
    "which nothing confirms"
)


def setup_of(config: Config) -> Setup:
    reports = config.reports
    return Setup(
        appliance=config.appliance.id,
        client=config.appliance.client,
        site=config.appliance.site,
        msp=reports.msp if reports else "",
        contact=reports.contact if reports else "",
        plans=tuple(
            PlanSpec(
                name=name,
                rpo=float(plan.rpo),
                repository=plan.repository,
                copy_to=tuple(plan.copy_to),
                sources=tuple(plan.sources),
                tier_rpo=tuple((tier, float(rpo)) for tier, rpo in plan.tier_rpo.items()),
            )
            for name, plan in config.plans.items()
        ),
        drills=tuple(
            DrillSpec(
                name=name,
                plan=drill.plan,
                repository=drill.repository,
                kind=drill.kind,
                rto=float(drill.rto),
                checks=tuple(_check_name(check) for check in drill.checks),
                checked_on=tuple(dict.fromkeys(check.runs_on for check in drill.checks)),
            )
            for name, drill in config.drills.items()
        ),
        checks=tuple((check.repository, check.read_data_cycle) for check in config.checks.values()),
    )


def _check_name(check: AppCheck) -> str:
    """The check as the technician configured its name; else the program it runs, without its
    arguments (they may hold secrets)."""
    if check.name:
        return check.name
    name = Path(check.run[0]).name if check.run else "check"
    return f"{name} on {check.remote}" if check.remote else name


def evidence_facts(config: Config, period: Period, index: ChainIndex) -> EvidenceFacts | None:
    """The chain's head and the number of its records of the period; None without a chain."""
    try:
        key = load_key(config.appliance.state_dir, config.appliance.id)
    except (OSError, BdrError):
        return None
    if not index.found:
        return None
    inside = [
        entry
        for entry in index.entries()
        if entry.ended_at is not None and period.start <= entry.ended_at < period.end
    ]
    last = max(inside, key=lambda entry: entry.offset, default=None)
    signed = head(config.appliance.state_dir)
    return EvidenceFacts(
        records=index.records,
        records_in_period=len(inside),
        head_seq=signed.seq,
        head_sha256=signed.sha256,
        fingerprint=key.fingerprint,
        principal=key.principal,
        period_last_seq=last.seq if last else None,
        period_last_sha256=line_hash(index.line(last)) if last else None,
    )


def findings_of(disagreements: list[Disagreement]) -> list[Finding]:
    """A finding for each of the first MAX_CHAIN_FINDINGS disagreements, one for the rest."""
    found = [Finding("failure", d.text, (d.run,)) for d in disagreements[:MAX_CHAIN_FINDINGS]]
    rest = disagreements[MAX_CHAIN_FINDINGS:]
    if rest:
        found.append(
            Finding(
                "failure",
                f"and {len(rest)} more runs where the history and the evidence chain disagree "
                "(bdr evidence verify names them one at a time)",
                tuple(d.run for d in rest),
            )
        )
    return found


def inputs(
    config: Config,
    db: History,
    period: Period,
    *,
    generated_at: float,
    zone: tzinfo,
    restic_version: str,
) -> Inputs:
    """What a report of `period` is computed from: the history's runs as the evidence chain
    records them (a run whose history row disagrees with its record is shown as recorded, and
    each disagreement is a finding)."""
    since = period.start - LOOKBACK
    index = ChainIndex(evidence_dir(config.appliance.state_dir) / CHAIN)
    found = list(runs.runs_for_period(db, since, generated_at))
    disagreements: list[Disagreement] = []
    if index.found:
        first = runs.first_started(db)
        disagreements = check(
            found,
            index,
            config.appliance.id,
            now=generated_at,
            since=generated_at if first is None else first,
            window=(since, generated_at),
        )
        found = as_recorded(found, disagreements)
    chain_findings = findings_of(disagreements)
    if not index.found and any(run.status != runs.RUNNING for run in found):
        chain_findings.append(Finding("failure", NO_CHAIN))
    return Inputs(
        setup=setup_of(config),
        period=period,
        generated_at=generated_at,
        zone=zone,
        runs=tuple(found),
        bdr_version=__version__,
        restic_version=restic_version,
        evidence=evidence_facts(config, period, index),
        gone=tuple(verified.gone(db)),
        chain_findings=tuple(chain_findings),
    )
