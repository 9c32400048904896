"""Apprise URLs are never shown whole; subjects parse as a PSA rule would."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from bdr.apprise_urls import masked, scrub, secrets_of, url_problems
from bdr.notify.messages import SUBJECT, Appliance, Context, compose, one_line
from bdr.store.problems import Problem

URL = "mailtos://bdr-mailer:S3cret-Pass@smtp.example.com:587?to=tickets@psa.test&from=a@b.test"


def test_masked_shows_scheme_and_host_only():
    assert masked(URL) == "mailtos://smtp.example.com/…"
    assert masked("slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7F") == "slack://t1jj3t3l2/…"


def test_scrub_removes_every_part_that_could_be_a_secret():
    text = f"SMTP error for {URL}: auth failed for bdr-mailer with S3cret-Pass"
    cleaned = scrub(text, [URL])
    assert "S3cret-Pass" not in cleaned and "bdr-mailer" not in cleaned
    assert "S3cret-Pass" in secrets_of(URL)
    token = "json://hooks.example.com/api/8f2c9e0d41b7?token=TOKEN-77ab"
    assert "TOKEN-77ab" not in scrub("403 for TOKEN-77ab at 8f2c9e0d41b7", [token])


def test_url_problems_name_lines_not_urls():
    text = f"# PSA\n{URL}\n\nnot a url with S3cret\n"
    assert list(url_problems(text)) == ["line 4 is not an Apprise URL (scheme://...)"]
    assert list(url_problems("# nothing\n")) == ["holds no URL"]


def test_subjects_are_one_line_and_parse():
    problem = Problem(
        id=1,
        key="acme-01:copy:office/cloud",
        kind="copy",
        scope="office/cloud",
        severity="failure",
        title=one_line("copy of plan office to cloud: connection refused\nstack trace\x1b[0m"),
        opened_at=0.0,
        opened_by=7,
        last_run=7,
        last_reason="connection refused",
        occurrences=1,
        notified_at=None,
        resolved_at=None,
        resolved_by=None,
    )
    appliance = Appliance("acme-01", "Acme Dental", "Main office", "https://g/d?a={appliance}")
    message = compose(
        "opened", problem, appliance, Context(run_id=7, plan="office", tier="cloud"),
        now=60.0, zone=ZoneInfo("Europe/Berlin"),
    )  # fmt: skip
    match = SUBJECT.match(message.subject)
    assert match and match.groupdict() == {
        "level": "FAIL",
        "appliance": "acme-01",
        "scope": "office/cloud",
        "reason": "copy of plan office to cloud: connection refused",
    }
    assert "Alert-ID: acme-01:copy:office/cloud" in message.body
    assert "Grafana: https://g/d?a=acme-01" in message.body
    assert "Next: no run of this job is scheduled" in message.body
    assert message.fields["alert_id"] == "acme-01:copy:office/cloud"
    long = one_line("x" * 500)
    assert len(long) == 120 and long.endswith("…")


def test_urls_apprise_does_not_accept_are_named_by_line():
    from bdr.apprise_urls import rejected

    text = "json://127.0.0.1:9/hook\nnosuchservice://host/token-abcdef\n"
    assert list(rejected(text)) == ["line 2: Apprise does not accept this nosuchservice:// URL"]
