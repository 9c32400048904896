"""Notifications end to end: real runs (restic), the real daemon delivering through Apprise to a
real SMTP server (STARTTLS, AUTH) and a JSON webhook on 127.0.0.1."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from bdr.notify.messages import SUBJECT
from tests.integration.conftest import Appliance
from tests.integration.daemon import RunningDaemon, wait_for
from tests.integration.receivers import SMTP_PASSWORD, SmtpServer, Webhook


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[SmtpServer]:
    server = SmtpServer(tmp_path / "smtp")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    hook = Webhook()
    yield hook
    hook.stop()


def far_away() -> str:
    """A schedule that does not fire while a test runs, even on the daemon's 60x clock."""
    return f"0 {(datetime.now().hour + 12) % 24} * * *"


def notifying(appliance: Appliance, office: Path, *urls: str, **settings: object) -> Appliance:
    appliance.local_repository()
    appliance.add_plan("office", [office], schedule=far_away())
    appliance.sections["notify"] = {
        "urls_file": str(appliance.secret("notify.urls", "".join(f"{u}\n" for u in urls))),
        **settings,
    }
    appliance.write()
    appliance.bdr("init")
    return appliance


def repository(appliance: Appliance) -> Path:
    return Path(appliance.repositories["local"]["url"])


def break_repository(appliance: Appliance) -> None:
    repository(appliance).rename(repository(appliance).with_name("away"))


def mend_repository(appliance: Appliance) -> None:
    repository(appliance).with_name("away").rename(repository(appliance))


def status(appliance: Appliance) -> dict:
    return appliance.bdr_json("notify", "status")


def deliver(appliance: Appliance, until, what: str) -> RunningDaemon:
    """Run the daemon until `until()` holds; return it stopped (its log is kept)."""
    daemon = RunningDaemon(appliance)
    try:
        wait_for(what, until, 60)
    finally:
        assert daemon.stop() == 0
    return daemon


def test_ten_failures_are_one_message_and_the_next_good_run_resolves_it(
    appliance: Appliance, office: Path, smtp: SmtpServer
):
    notifying(appliance, office, smtp.url())
    appliance.bdr("backup")
    break_repository(appliance)
    for _ in range(10):
        appliance.bdr("backup", expect=None)
    # The repository is gone: its problem, one for however many runs it broke.
    (problem,) = status(appliance)["open"]
    assert (problem["key"], problem["occurrences"]) == ("test-01:repository:local", 10)
    assert problem["title"] == "repository local: missing"
    deliver(appliance, lambda: len(smtp.messages) >= 1, "the opening mail")
    # The daemon has stopped with nothing left to send: nothing more comes.
    assert status(appliance)["outbox"] == []
    (opened,) = smtp.messages
    mend_repository(appliance)
    appliance.bdr("backup")
    deliver(appliance, lambda: len(smtp.messages) >= 2, "the resolved mail")
    resolved = smtp.messages[1]
    first, second = (SUBJECT.match(str(m["Subject"])) for m in (opened, resolved))
    assert first and second, (opened["Subject"], resolved["Subject"])
    assert (first["level"], second["level"]) == ("FAIL", "OK")
    for part in ("appliance", "scope", "reason"):
        assert first[part] == second[part]  # the PSA threads them by subject
    assert (first["appliance"], first["scope"]) == ("test-01", "local")
    body = opened.get_content()
    assert "Alert-ID: test-01:repository:local" in body and "Client: Test Client" in body
    assert "More: bdr snapshots --repository local" in body and "Run: " in body
    assert "Next: it resolves when any job reaches local again" in body
    assert "Alert-ID: test-01:repository:local" in resolved.get_content()
    assert "resolved" in resolved.get_content() and "(10 occurrence(s))" in resolved.get_content()
    assert status(appliance)["open"] == []


def test_two_plans_failing_for_their_own_reasons_are_two_problems(
    appliance: Appliance, office: Path, smtp: SmtpServer, tmp_path: Path
):
    notifying(appliance, office, smtp.url())
    appliance.bdr("backup")
    appliance.add_plan("mail", [tmp_path / "mail-that-is-not-there"], schedule=far_away())
    appliance.plans["office"]["sources"] = [str(tmp_path / "office-unmounted")]
    appliance.write()
    appliance.bdr("backup", expect=None)
    keys = sorted(problem["key"] for problem in status(appliance)["open"])
    assert keys == ["test-01:backup:mail", "test-01:backup:office"]
    deliver(appliance, lambda: len(smtp.messages) >= 2, "two mails")
    ids = sorted(
        line for m in smtp.messages for line in m.get_content().splitlines() if "Alert-ID" in line
    )
    assert ids == ["Alert-ID: test-01:backup:mail", "Alert-ID: test-01:backup:office"]


def test_an_rpo_breach_opens_with_no_run_at_all(
    appliance: Appliance, office: Path, smtp: SmtpServer
):
    notifying(appliance, office, smtp.url())
    appliance.plans["office"]["rpo"] = "10m"
    appliance.write()
    appliance.bdr("backup")
    runs_before = len(appliance.runs())
    # The daemon's clock runs 60 times faster: ten minutes pass in ten seconds, with no run.
    deliver(appliance, lambda: len(smtp.messages) >= 1, "the RPO mail")
    assert len(appliance.runs()) == runs_before
    match = SUBJECT.match(str(smtp.messages[0]["Subject"]))
    assert match and match["level"] == "FAIL" and match["scope"] == "office/local"
    assert match["reason"] == "newest snapshot older than the RPO of 10m 00s"
    assert "Alert-ID: test-01:rpo:office/local" in smtp.messages[0].get_content()


def test_mail_server_down_then_up_across_a_restart_delivers_exactly_once(
    appliance: Appliance, office: Path, smtp: SmtpServer
):
    notifying(appliance, office, smtp.url())
    smtp.stop()
    break_repository(appliance)
    appliance.bdr("backup", expect=None)
    first = deliver(
        appliance,
        lambda: any(m["attempts"] >= 1 for m in status(appliance)["outbox"]),
        "a failed delivery",
    )
    (waiting,) = status(appliance)["outbox"]
    assert waiting["last_error"] and SMTP_PASSWORD not in waiting["last_error"]
    smtp.start()
    second = deliver(appliance, lambda: len(smtp.messages) >= 1, "the mail after the restart")
    # The daemon has stopped with nothing left to send: the mail came once.
    assert status(appliance)["outbox"] == []
    assert len(smtp.messages) == 1
    # The password is in the urls file only: not in logs, history, status or the config shown.
    shown = [
        first.text(),
        second.text(),
        appliance.bdr("notify", "status").stdout,
        json.dumps(status(appliance)),
        appliance.bdr("config", "show").stdout,
        "\n".join(sqlite3.connect(appliance.state_dir / "bdr.sqlite").iterdump()),
    ]
    assert not [text for text in shown if SMTP_PASSWORD in text]


def test_a_webhook_answering_500_then_200_gets_the_fields_once(
    appliance: Appliance, office: Path, webhook: Webhook
):
    webhook.statuses = [500]
    notifying(appliance, office, webhook.url())
    break_repository(appliance)
    appliance.bdr("backup", expect=None)
    deliver(appliance, lambda: len(webhook.delivered()) >= 1, "the webhook's 200")
    assert [status for status, _ in webhook.received] == [500, 200]
    (payload,) = webhook.delivered()
    assert payload["alert_id"] == "test-01:repository:local"
    assert (payload["level"], payload["client"], payload["tier"]) == (
        "FAIL",
        "Test Client",
        "local",
    )
    assert SUBJECT.match(payload["title"])
    counts = appliance.bdr("metrics").stdout
    assert 'bdr_notifications_sent_total{result="sent"} 1.0' in counts
    assert 'bdr_notifications_sent_total{result="failed"} 1.0' in counts
    assert "bdr_notify_outbox_pending 0.0" in counts


def test_the_monthly_report_is_mailed_with_the_pdf(
    appliance: Appliance, office: Path, smtp: SmtpServer
):
    notifying(appliance, office, smtp.url())
    appliance.sections["reports"] = {"mail_to": ["manager@client.test", "audit@client.test"]}
    appliance.write()
    appliance.bdr("backup")
    appliance.bdr("report", "--month", datetime.now().astimezone().strftime("%Y-%m"))
    # One mail to each address: the client's manager and its auditor do not see each other.
    deliver(appliance, lambda: len(smtp.messages) >= 2, "the report mails")
    assert status(appliance)["outbox"] == []  # the daemon has stopped with nothing to send
    assert sorted(map(tuple, smtp.inbox.recipients)) == [
        ("audit@client.test",),
        ("manager@client.test",),
    ]
    for mail in smtp.messages:
        assert str(mail["Subject"]) == (
            f"Restore-test report {datetime.now().astimezone():%Y-%m}, Test Client: "
            "Not proven: no drill is configured for the local tier"
        )
        assert mail.get_content_type() == "multipart/mixed" and not mail.defects
        attached = {part.get_filename(): part.get_content() for part in mail.iter_attachments()}
        assert sorted(name.rsplit(".", 1)[1] for name in attached) == ["html", "pdf"]
        (pdf,) = [content for name, content in attached.items() if name.endswith(".pdf")]
        assert pdf.startswith(b"%PDF")


def test_notify_test_says_how_each_url_went(
    appliance: Appliance, office: Path, smtp: SmtpServer, webhook: Webhook
):
    notifying(appliance, office, smtp.url(), webhook.url())
    (mail, hook) = appliance.bdr_json("notify", "test")
    assert mail["ok"] and hook["ok"] and mail["url"].startswith("mailtos://127.0.0.1")
    assert SMTP_PASSWORD not in json.dumps([mail, hook])
    webhook.statuses = [500]
    result = appliance.bdr("notify", "test", expect=1)
    assert "FAILED" in result.stdout and "delivered" in result.stdout


# Loaded into `bdr backup` through PYTHONPATH: the process dies (SIGKILL) as restic starts,
# leaving its run `running`, as a crash or a power cut does.
DIE_AT_RESTIC_BACKUP = """
import os, signal, subprocess

_init = subprocess.Popen.__init__


def init(self, args, *rest, **kwargs):
    if "backup" in list(args):
        os.kill(os.getpid(), signal.SIGKILL)
    _init(self, args, *rest, **kwargs)


subprocess.Popen.__init__ = init
"""


def test_the_daemons_start_after_a_crash_is_an_info_message(
    appliance: Appliance, office: Path, smtp: SmtpServer, tmp_path: Path
):
    notifying(appliance, office, smtp.url())
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(DIE_AT_RESTIC_BACKUP)
    appliance.env["PYTHONPATH"] = str(hook)
    appliance.bdr("backup", expect=-9)
    del appliance.env["PYTHONPATH"]
    (left,) = [row for row in appliance.runs() if row["status"] == "running"]
    deliver(appliance, lambda: len(smtp.messages) >= 1, "the info mail")
    match = SUBJECT.match(str(smtp.messages[0]["Subject"]))
    assert match and (match["level"], match["scope"]) == ("INFO", "appliance")
    assert match["reason"] == "the daemon restarted after a crash"
    assert f"marked interrupted: {left['id']}" in smtp.messages[0].get_content()
