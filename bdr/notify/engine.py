"""Problems, not events: what opens, reminds and resolves a problem, and the messages it makes.

A problem has a stable key (`<appliance>:<kind>:<scope>`) and at most one open row. It opens on
a failed, partial or interrupted run of a job, or on a condition the daemon evaluates every
minute (an RPO breach, a verified-RPO breach, low disk space, a broken evidence chain, a
snapshot suspect of ransomware); it is
reminded at most every `remind`; the next good run of the same job (or the condition clearing)
resolves it. Each message goes into the outbox, one row per target; delivery is elsewhere.

The rules that open, remind and resolve are kept together here, one function per condition,
so that what makes a ticket in the MSP's PSA can be read in one file.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import tzinfo

from bdr.apprise_urls import MAIL_SCHEMES, read_urls, scheme, target_id
from bdr.config.model import Config
from bdr.config.ownership import watched_places
from bdr.config.units import format_duration, parse_fraction, parse_size
from bdr.fsutil import usage_near
from bdr.localtime import zone as local_zone
from bdr.notify import messages
from bdr.restic.outcome import repository_cause
from bdr.store import daemon_state, judgements, outbox, problems, runs, verified
from bdr.store.database import History
from bdr.store.outcomes import BackupOutcome
from bdr.store.problems import FAILURE, INFO, SEVERITIES, WARNING, Problem

log = logging.getLogger(__name__)

# Kinds of run whose failures are problems (a restore or the demo is a person's own business).
TRACKED = ("backup", "copy", "retention", "prune", "drill", "check", "report", "steward", "audit")


@dataclass(frozen=True)
class Finding:
    """What a run or a condition says of a problem key now: bad (with why), or good."""

    key: str
    kind: str
    scope: str
    bad: bool
    severity: str = WARNING
    title: str = ""
    reason: str = ""
    run: runs.Run | None = None


class Notifier:
    def __init__(
        self,
        config: Config,
        db: History,
        *,
        now: Callable[[], float] = time.time,
        zone: tzinfo | None = None,
    ) -> None:
        self.config = config
        self.db = db
        self.now = now
        self.zone = zone or local_zone()
        settings = config.notify
        self.appliance = messages.Appliance(
            id=config.appliance.id,
            client=config.appliance.client,
            site=config.appliance.site,
            grafana_url=settings.grafana_url if settings else None,
        )

    # -- targets ---------------------------------------------------------------------------------

    def urls(self) -> list[str]:
        if self.config.notify is None:
            return []
        try:
            return read_urls(self.config.notify.urls_file)
        except (OSError, ValueError) as error:
            log.error("notify.urls_file %s: %s", self.config.notify.urls_file, error)
            return []

    def _targets(self, severity: str) -> list[str]:
        settings = self.config.notify
        if settings is None:
            return []
        if SEVERITIES.index(severity) < SEVERITIES.index(settings.min_severity):
            return []
        return [target_id(url) for url in self.urls()]

    # -- runs ------------------------------------------------------------------------------------

    def after_run(self, run_id: int) -> None:
        """Open, update or resolve the problem of the job that `run_id` belongs to."""
        run = runs.get_run(self.db, run_id)
        if run is None or run.kind not in TRACKED or run.status == runs.RUNNING:
            return
        access = self._access_of(run)
        if access is None or not access.bad:
            # A run that could not reach its repository is that repository's problem (one
            # ticket for one broken password), not its job's.
            self.observe(self._finding_of(run))
        if access is not None:
            self.observe(access)
        if run.kind == "backup" and run.plan is not None:
            self.observe(self.suspicion(run.plan, run))

    def _access_of(self, run: runs.Run) -> Finding | None:
        """The repository's own problem as `run` shows it: bad when the run could not use the
        repository (unreachable, credentials refused, wrong password, missing, full, locked
        too long), good when the run got through to it; None for a run with no repository."""
        repository = run.repository
        if repository is None:
            return None
        key = f"{self.config.appliance.id}:repository:{repository}"
        cause = repository_cause(run.error) if run.status == runs.FAILED else None
        if cause is None:
            # It got through (or failed for a reason of its own, after reaching it).
            return Finding(key, "repository", repository, bad=False, run=run)
        current = problems.open_for(self.db, key)
        since = current.opened_at if current is not None else run.started_at
        broken = [
            r for r in runs.failed_on(self.db, repository, since) if repository_cause(r.error)
        ]
        jobs = list(dict.fromkeys(_job_label(r) for r in [*broken, run]))
        return Finding(
            key,
            "repository",
            repository,
            bad=True,
            severity=FAILURE,
            title=f"repository {repository}: {cause}",
            reason=f"{run.error}; jobs it broke: {', '.join(jobs)}",
            run=run,
        )

    def _finding_of(self, run: runs.Run) -> Finding:
        app = self.config.appliance.id
        kind = run.kind
        if kind == "backup":
            key, scope = f"{app}:backup:{run.plan}", f"{run.plan}/{run.repository}"
        elif kind in ("copy", "retention"):
            key = f"{app}:{kind}:{run.plan}/{run.repository}"
            scope = f"{run.plan}/{run.repository}"
        elif kind == "drill":
            key, scope = f"{app}:drill:{run.subject}", f"{run.plan}/{run.repository}"
        elif kind in ("check", "prune", "steward"):
            key, scope = f"{app}:{kind}:{run.repository}", f"{run.repository}"
        elif kind == "audit":
            key, scope = f"{app}:audit:{run.subject}", f"{run.subject}"
        else:
            key, scope = f"{app}:report:monthly", "report"
        if run.status == runs.OK or _only_suspect(run):
            # A backup that worked but is suspect of ransomware is the `suspicious` problem's
            # (one ticket for one cause), not a failed backup.
            return Finding(key, kind, scope, bad=False, run=run)
        severity = FAILURE if run.status == runs.FAILED and kind != "report" else WARNING
        reason = run.error or run.status
        return Finding(
            key, kind, scope, bad=True, severity=severity, title=reason, reason=reason, run=run
        )

    def observe(self, finding: Finding) -> None:
        """Apply what a run or condition found to the problem of its key."""
        now = self.now()
        current = problems.open_for(self.db, finding.key)
        run_id = finding.run.id if finding.run else None
        if finding.bad and current is None:
            problem = problems.open_problem(
                self.db,
                key=finding.key,
                kind=finding.kind,
                scope=finding.scope,
                severity=finding.severity,
                title=messages.one_line(finding.title),
                reason=finding.reason,
                run=run_id,
                now=now,
            )
            log.warning("problem %s opened: %s", problem.key, problem.title)
            if self._send("opened", problem, finding):
                problems.notified(self.db, problem, now)
        elif finding.bad and current is not None:
            problems.seen_again(self.db, current, reason=finding.reason, run=run_id)
        elif not finding.bad and current is not None:
            problems.resolve(self.db, current, run=run_id, now=now)
            resolved = problems.get(self.db, current.id)
            assert resolved is not None
            log.info(
                "problem %s resolved after %s",
                resolved.key,
                format_duration(now - resolved.opened_at),
            )
            if current.notified_at is not None:
                self._send("resolved", resolved, finding)

    def _send(self, event: str, problem: Problem, finding: Finding | None) -> bool:
        targets = self._targets(problem.severity)
        if not targets:
            return False
        composed = messages.compose(
            event, problem, self.appliance, self._context(problem, finding), now=self.now(),
            zone=self.zone,
        )  # fmt: skip
        outbox.enqueue(
            self.db,
            problem_id=problem.id,
            event=event,
            targets=targets,
            subject=composed.subject,
            body=composed.body,
            fields=composed.fields,
            now=self.now(),
        )
        return True

    def _context(self, problem: Problem, finding: Finding | None) -> messages.Context:
        run = finding.run if finding else None
        if run is None and problem.last_run is not None:
            run = runs.get_run(self.db, problem.last_run)
        plan, _, tier = problem.scope.partition("/")
        job, command = _job_and_command(self.config, problem)
        next_runs = {s.job_id: s.next_run for s in daemon_state.scheduled_jobs(self.db)}
        return messages.Context(
            run_id=run.id if run else None,
            run_started_at=run.started_at if run else None,
            error=run.error if run and run.error else problem.last_reason,
            next_run=next_runs.get(job) if job else None,
            next_job=job,
            command=command,
            plan=plan if tier else None,
            tier=tier or (problem.scope if problem.kind in ("check", "repository") else None),
        )

    def suspicion(self, plan: str, run: runs.Run | None = None) -> Finding:
        """The plan's `suspicious` problem: open while a snapshot of it is suspect of
        ransomware and not cleared (bdr suspect clear)."""
        app = self.config.appliance.id
        suspect = judgements.open_suspects(self.db, plan)
        scope = (
            f"{plan}/{self.config.plans[plan].repository}" if plan in self.config.plans else plan
        )
        if not suspect:
            return Finding(f"{app}:suspicious:{plan}", "suspicious", scope, bad=False, run=run)
        first = suspect[0]
        examples = [str(e) for signal in first.signals for e in signal.get("examples", [])][:5]
        return Finding(
            f"{app}:suspicious:{plan}",
            "suspicious",
            scope,
            bad=True,
            severity=FAILURE,
            title=f"backup of plan {plan} suspect of ransomware",
            reason=(
                f"snapshot {first.snapshot_id[:8]}: {first.reason}"
                + (f" (e.g. {', '.join(examples)})" if examples else "")
                + (
                    f"; {len(suspect) - 1} later snapshot(s) suspect too"
                    if len(suspect) > 1
                    else ""
                )
                + "; retention is held until it is cleared"
            ),
            run=run,
        )

    # -- conditions, every minute in the daemon ---------------------------------------------------

    def evaluate(self) -> None:
        """Evaluate the conditions that open problems without a run, and send reminders."""
        for finding in self._conditions():
            self.observe(finding)
        self.remind()

    def _conditions(self) -> list[Finding]:
        app = self.config.appliance.id
        now = self.now()
        found: list[Finding] = []
        in_service = now - _service_start(self.db, now)
        settings = self.config.notify
        drilled = {(d.plan, d.repository) for d in self.config.drills.values()}
        for name, plan in self.config.plans.items():
            for repository in (plan.repository, *plan.copy_to):
                scope = f"{name}/{repository}"
                latest = runs.latest_snapshot(self.db, name, repository)
                age = now - latest.snapshot_time if latest else in_service
                rpo = plan.rpo_of(repository)
                found.append(
                    Finding(
                        f"{app}:rpo:{scope}",
                        "rpo",
                        scope,
                        bad=age > rpo,
                        severity=FAILURE,
                        title=f"newest snapshot older than the RPO of {format_duration(rpo)}",
                        reason=(
                            f"the newest snapshot of plan {name} in {repository} "
                            f"({latest.snapshot_id}) is {format_duration(age)} old"
                            if latest
                            else f"plan {name} has no snapshot in {repository}"
                        ),
                    )
                )
                limit = settings.verified_max_age if settings else None
                if limit and (name, repository) in drilled:
                    proven = verified.newest(self.db, name, repository)
                    verified_age = now - proven.snapshot_time if proven else in_service
                    found.append(
                        Finding(
                            f"{app}:verified-rpo:{scope}",
                            "verified-rpo",
                            scope,
                            bad=verified_age > limit,
                            severity=WARNING,
                            title=(
                                "no snapshot younger than "
                                f"{format_duration(limit)} passed a restore drill"
                            ),
                            reason=(
                                f"the newest snapshot that passed a drill is "
                                f"{format_duration(verified_age)} old ({proven.snapshot_id})"
                                if proven
                                else "no snapshot of this tier that still exists has passed a drill"
                            ),
                        )
                    )
        found += [self.suspicion(name) for name in self.config.plans]
        found += self._disks()
        values = daemon_state.daemon_values(self.db)
        chain_ok = values.get("evidence_chain_ok")
        if chain_ok is not None:
            found.append(
                Finding(
                    f"{app}:evidence:chain",
                    "evidence",
                    "evidence",
                    bad=chain_ok == "0",
                    severity=FAILURE,
                    title="the evidence chain failed its verification",
                    reason=values.get("evidence_problem")
                    or "bdr evidence verify names the first broken record",
                )
            )
        return found

    def _disks(self) -> list[Finding]:
        app = self.config.appliance.id
        threshold = self.config.notify.min_free if self.config.notify else "5%"
        found = []
        # The state directory's own full disk is said by the run that cannot write its record.
        for name, path in watched_places(self.config):
            if name == "state":
                continue
            usage = usage_near(path)
            if usage is None:
                continue
            total, free = usage
            if threshold.strip().endswith("%"):
                low = free < total * parse_fraction(threshold)
            else:
                low = free < parse_size(threshold)
            found.append(
                Finding(
                    f"{app}:disk:{name}",
                    "disk",
                    name,
                    bad=low,
                    severity=WARNING,
                    title=f"little free space for {name} ({path})",
                    reason=f"{free / 2**30:.1f} GiB free of {total / 2**30:.1f} GiB "
                    f"(threshold {threshold})",
                )
            )
        return found

    def remind(self) -> None:
        settings = self.config.notify
        if settings is None or settings.remind == 0:
            return
        now = self.now()
        for problem in problems.all_open(self.db):
            due = problem.notified_at is not None and now - problem.notified_at >= settings.remind
            if due and self._send("reminder", problem, None):
                problems.notified(self.db, problem, now)

    # -- information and the report --------------------------------------------------------------

    def info(self, scope: str, title: str, text: str) -> None:
        targets = self._targets(INFO)
        if not targets:
            return
        composed = messages.compose_info(
            self.appliance, scope, title, text, now=self.now(), zone=self.zone
        )
        outbox.enqueue(
            self.db,
            problem_id=None,
            event="info",
            targets=targets,
            subject=composed.subject,
            body=composed.body,
            fields=composed.fields,
            now=self.now(),
        )

    def mail_report(self, subject: str, body: str, files: list[str]) -> None:
        """Queue the report's mail to `[reports] mail_to`, through the mailto URLs."""
        reports = self.config.reports
        if reports is None or not reports.mail_to:
            return
        mail = [url for url in self.urls() if scheme(url) in MAIL_SCHEMES]
        if not mail:
            log.error("reports.mail_to: no mailto:// URL in notify.urls_file to send through")
            return
        outbox.enqueue(
            self.db,
            problem_id=None,
            event="report",
            targets=[target_id(mail[0])],
            subject=subject,
            body=body,
            fields={"event": "report", "to": list(reports.mail_to)},
            attachments=tuple(files),
            now=self.now(),
        )


def _job_and_command(config: Config, problem: Problem) -> tuple[str | None, str]:
    """The scheduled job that runs again for `problem`, and the command that shows more."""
    plan = problem.scope.split("/", 1)[0]
    if problem.kind in ("backup", "copy", "retention", "rpo"):
        return f"backup:{plan}", "bdr status"
    if problem.kind == "drill":
        name = problem.key.rsplit(":", 1)[1]
        return f"drill:{name}", f"bdr drill history {name}"
    if problem.kind == "verified-rpo":
        return None, "bdr drill list"
    if problem.kind == "check":
        names = [n for n, c in config.checks.items() if c.repository == problem.scope]
        return (f"check:{names[0]}" if names else None), f"bdr check {problem.scope}"
    if problem.kind == "report":
        return "report:monthly", "bdr report list"
    if problem.kind == "prune":
        return f"prune:{problem.scope}", f"bdr prune {problem.scope}"
    if problem.kind == "evidence":
        return None, "bdr evidence verify"
    if problem.kind == "steward":
        return f"steward:{problem.scope}", f"bdr steward run {problem.scope}"
    if problem.kind == "repository":
        return None, f"bdr snapshots --repository {problem.scope}"
    if problem.kind == "audit":
        return f"audit:{problem.scope}", f"bdr steward audit {problem.scope}"
    if problem.kind == "suspicious":
        return f"backup:{plan}", "bdr suspect list"
    return None, "bdr notify status"


def _job_label(run: runs.Run) -> str:
    """A job as a ticket names it: `copy of office`, `drill offsite`, `check`."""
    if run.kind == "drill":
        return f"drill {run.subject}"
    if run.kind == "audit":
        return f"audit of {run.subject}"
    return f"{run.kind} of {run.plan}" if run.plan else run.kind


def _only_suspect(run: runs.Run) -> bool:
    """Whether `run` is a backup that made its whole snapshot and is a warning only because
    the snapshot is suspect of ransomware."""
    outcome = run.outcome
    return (
        run.status == runs.WARNING
        and isinstance(outcome, BackupOutcome)
        and outcome.verdict == "suspect"
        and not outcome.incomplete
    )


def _service_start(db: History, now: float) -> float:
    """When bdr began to run here: its first run, or the daemon's start."""
    row = db.execute("SELECT MIN(started_at) FROM runs").fetchone()
    values = daemon_state.daemon_values(db)
    candidates = [row[0]] if row and row[0] is not None else []
    if "started_at" in values:
        candidates.append(float(values["started_at"]))
    return min(candidates, default=now)


def after_run(config: Config, db: History, run_id: int, now: Callable[[], float]) -> None:
    """After every run: its problem opened, noted or resolved. Never raises: a notification
    must not fail a backup."""
    try:
        Notifier(config, db, now=now).after_run(run_id)
    except Exception as error:
        log.error("run=%d: problems and notifications not updated: %s", run_id, error)
