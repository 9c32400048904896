"""The monthly report from real runs (restic): PDF read back with poppler, HTML in Chromium,
files signed for OpenSSH, the report run in the history, the chain and the metrics."""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from bdr.config.units import format_duration
from tests.integration.conftest import Appliance

LOGO = """<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 80 20" width="80" height="20">
<rect width="20" height="20" fill="#8a1538"/>
<text x="24" y="15" font-size="12">Fixers &amp; Co</text>
</svg>"""


def month() -> str:
    return datetime.now().astimezone().strftime("%Y-%m")


@pytest.fixture(scope="module")
def reported(tmp_path_factory: pytest.TempPathFactory) -> Appliance:
    """An appliance that backed up, copied, drilled both tiers and checked, then reported."""
    root = tmp_path_factory.mktemp("report")
    office = root / "office"
    for name, content in {
        "documents/invoices/2026-001.txt": "Invoice 1: 120 EUR\n",
        "documents/<b>markup</b> & [brackets].txt": "a name that looks like markup\n",
        "photos/team.jpg": bytes(range(256)) * 1200,
    }.items():
        path = office / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content) if isinstance(content, str) else path.write_bytes(content)
    appliance = Appliance(root / "appliance")
    appliance.appliance["client"] = "Acme <Dental> & Sons"
    appliance.local_repository()
    appliance.local_repository("cloud")
    appliance.add_plan("office", [office], copy_to=["cloud"], rpo="4h")
    appliance.add("drills", "onsite", plan="office", repository="local", rto="1h")
    appliance.add(
        "drills", "offsite", plan="office", repository="cloud", kind="sample", sample="50%"
    )
    appliance.add("checks", "cloud", repository="cloud", read_data_cycle=2)
    logo = root / "logo.svg"
    logo.write_text(LOGO)
    appliance.sections["reports"] = {
        "msp": "Fixers & Co IT",
        "contact": "help@fixers.test",
        "logo": str(logo),
        "accent": "#8a1538",
    }
    appliance.bdr("init")
    appliance.bdr("backup")
    appliance.bdr("drill", "run", "--all")
    appliance.bdr("check")
    appliance.bdr("report", "--month", month())
    return appliance


def files(appliance: Appliance) -> dict[str, Path]:
    directory = appliance.state_dir / "reports" / month()
    return {
        extension: directory / f"bdr-test-01-{month()}.{extension}"
        for extension in ("html", "pdf", "json")
    }


def poppler(tool: str, *args: str | Path) -> str:
    return subprocess.run(
        [tool, *map(str, args)], capture_output=True, text=True, check=True, timeout=60
    ).stdout


def test_the_pdf_tells_the_drills_measured_time_and_verdict(reported: Appliance):
    pdf = files(reported)["pdf"]
    text = poppler("pdftotext", "-layout", pdf, "-")
    history = reported.bdr_json("drill", "history", "onsite")
    measured = history[0]["measured_seconds"]
    assert format_duration(measured) in text
    assert "Restore-test report" in text and "Acme <Dental> & Sons" in text
    words = " ".join(text.split())
    assert (
        "Yes: restored from local and cloud and verified on the appliance by 2 passed drills"
        in words
    )
    html = " ".join(re.sub(r"<[^>]+>", " ", files(reported)["html"].read_text()).split())
    assert "Recovery time (RTO) compliance, office on cloud 1 of 1 drills passed (100%)" in html
    assert "passed" in text and "Fixers & Co IT" in text
    info = poppler("pdfinfo", pdf)
    assert f"Restore-test report {month()}: Acme <Dental> & Sons" in info
    assert "A4" in info and int(info.split("Pages:")[1].split()[0]) >= 3


def test_every_pdf_font_is_embedded(reported: Appliance):
    rows = poppler("pdffonts", files(reported)["pdf"]).splitlines()[2:]
    assert rows, "the PDF has no fonts: its text would not be text"
    for row in rows:
        # name type encoding emb sub uni object ID: "emb" is the fourth column from the end.
        assert row.split()[-5] == "yes", row


def dark_share_of_page_one(pdf: Path, where: Path) -> float:
    subprocess.run(
        ["pdftoppm", "-gray", "-r", "30", "-f", "1", "-l", "1", str(pdf), str(where / "page")],
        check=True,
        timeout=60,
    )
    (image,) = where.glob("page*.pgm")
    data = image.read_bytes()
    magic, size, _, pixels = data.split(b"\n", 3)
    width, height = map(int, size.split())
    assert magic == b"P5" and len(pixels) == width * height
    return sum(1 for value in pixels if value < 160) / len(pixels)


def test_the_first_page_is_not_blank(reported: Appliance, tmp_path: Path):
    assert dark_share_of_page_one(files(reported)["pdf"], tmp_path) > 0.01


def test_each_file_has_a_signature_openssh_verifies(reported: Appliance, tmp_path: Path):
    evidence = reported.state_dir / "evidence"
    for path in files(reported).values():
        verify = [
            "ssh-keygen", "-Y", "verify", "-f", str(evidence / "allowed_signers"),
            "-I", "test-01@bdr", "-n", "bdr-evidence", "-s", f"{path}.sig",
        ]  # fmt: skip
        good = subprocess.run(verify, input=path.read_bytes(), capture_output=True, timeout=30)
        assert good.returncode == 0 and b'Good "bdr-evidence" signature' in good.stdout
        changed = bytearray(path.read_bytes())
        changed[len(changed) // 2] ^= 1
        bad = subprocess.run(verify, input=bytes(changed), capture_output=True, timeout=30)
        assert bad.returncode != 0


def test_the_report_is_a_run_in_the_history_the_chain_and_the_metrics(reported: Appliance):
    last = reported.runs()[-1]
    assert (last["kind"], last["status"], last["subject"]) == ("report", "ok", month())
    chain = (reported.state_dir / "evidence" / "chain.jsonl").read_bytes().splitlines()
    assert json.loads(chain[-1])["kind"] == "report"
    assert reported.bdr_json("evidence", "verify")["ok"]
    (sample,) = [
        line
        for line in reported.bdr("metrics").stdout.splitlines()
        if line.startswith("bdr_report_last_success_timestamp_seconds")
    ]
    assert float(sample.split()[-1]) == pytest.approx(last["ended_at"])
    (listed,) = reported.bdr_json("report", "list")
    assert listed["month"] == month() and all(listed["signed"])
    assert listed["run_id"] == last["id"]


def test_the_json_is_the_view_model_with_run_ids(reported: Appliance):
    model = json.loads(files(reported)["json"].read_text())
    ids = {row["id"] for row in reported.runs()}
    drills = model["drills"]
    assert {d["drill"] for d in drills} == {"onsite", "offsite"}
    assert all(d["run"] in ids and d["verdict"] == "passed" for d in drills)
    assert set(model["summary"]["backup_success"]["runs"]) <= ids
    assert model["summary"]["plans"][0]["light"] == "green"
    assert model["cover"]["msp"] == "Fixers & Co IT"


RENDER = """
import sys, time
from pathlib import Path
from bdr.config.load import load_config
from bdr.localtime import zone
from bdr.report import load
from bdr.logo import data_uri
from bdr.report.build import build
from bdr.period import period
from bdr.report.render import Branding, to_html, to_pdf
from bdr.store.database import reader

config = load_config(Path(sys.argv[1]))
generated = float(sys.argv[3])
chosen = period(sys.argv[2], now=generated, zone=zone())
with reader(config.appliance.state_dir) as db:
    inputs = load.inputs(config, db, chosen, generated_at=generated, zone=zone(),
                         restic_version="0.14.0")
html = to_html(build(inputs), chosen, zone(),
               Branding(config.reports.accent, data_uri(config.reports.logo)))
sys.stdout.buffer.write(to_pdf(html, title="t", generated_at=generated))
"""


def test_the_same_history_and_time_give_the_same_pdf_bytes(reported: Appliance):
    at = str(datetime.now().timestamp())
    command = [sys.executable, "-c", RENDER, str(reported.config_path), month(), at]
    first, second = (
        subprocess.run(command, capture_output=True, check=True, timeout=120).stdout
        for _ in range(2)
    )
    assert first.startswith(b"%PDF") and first == second


def test_the_html_opens_in_chromium_without_errors_or_requests(reported: Appliance, tmp_path: Path):
    playwright = pytest.importorskip("playwright.sync_api")
    chromium = shutil.which("chromium")
    assert chromium, "Debian's chromium is a test dependency (scripts/system-deps.sh)"
    html = files(reported)["html"]
    errors: list[str] = []
    requests: list[str] = []
    with playwright.sync_playwright() as driver:
        browser = driver.chromium.launch(
            executable_path=chromium,
            args=[
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run",
            ],
        )  # fmt: skip
        try:
            page = browser.new_page(viewport={"width": 1000, "height": 1400})
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("request", lambda r: requests.append(r.url))
            page.goto(html.as_uri())
            page.wait_for_load_state("load")
            assert page.title().startswith(f"Restore-test report {month()}")
            assert page.locator(".verdict.green").count() == 1
            assert page.locator("figure svg").count() == 4  # two charts for each of two tiers
            shot = tmp_path / "report.png"
            page.screenshot(path=str(shot), full_page=True)
            blank = browser.new_page()
            dark = blank.evaluate(DARK_SHARE, "data:image/png;base64," + b64(shot))
        finally:
            browser.close()
    assert errors == []
    # The file itself and the inline logo (a data: URI) are all it loads.
    assert [url for url in requests if not url.startswith("data:")] == [html.as_uri()]
    assert dark > 0.01


def b64(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode()


DARK_SHARE = """async (uri) => {
  const image = new Image();
  image.src = uri;
  await image.decode();
  const canvas = document.createElement("canvas");
  canvas.width = image.width;
  canvas.height = image.height;
  const context = canvas.getContext("2d");
  context.drawImage(image, 0, 0);
  const pixels = context.getImageData(0, 0, canvas.width, canvas.height).data;
  let dark = 0;
  for (let i = 0; i < pixels.length; i += 4) {
    if (pixels[i] + pixels[i + 1] + pixels[i + 2] < 480) dark++;
  }
  return dark / (pixels.length / 4);
}"""


def test_a_missing_logo_is_a_config_error_naming_its_key(
    appliance: Appliance, office: Path, tmp_path: Path
):
    logo = tmp_path / "logo.png"
    logo.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 20)
    appliance.local_repository()
    appliance.add_plan("office", [office])
    appliance.sections["reports"] = {"logo": str(logo)}
    appliance.write()
    logo.unlink()
    result = appliance.bdr("report", "--month", month(), expect=2)
    assert result.stderr.strip().splitlines()[-1] == f"  reports.logo: {logo} does not exist"
    assert "Traceback" not in result.stderr
