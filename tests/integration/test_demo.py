"""`bdr demo`, as `make demo` runs it, on a fresh directory and again on the same one."""

import subprocess
import sys
from pathlib import Path


def test_demo_runs_end_to_end_and_again(tmp_path):
    for _ in range(2):
        result = subprocess.run(
            [sys.executable, "-m", "bdr", "demo", "--dir", str(tmp_path / "demo")],
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert "ok: 80 invoices of snapshot" in result.stdout
        assert "restored from cloud" in result.stdout
    assert "backup    office -> onsite" in result.stdout
    assert "copy      office -> cloud" in result.stdout
    assert (tmp_path / "demo" / "repos" / "cloud" / "config").exists()
    assert "exists" in result.stdout  # the second run reuses the repositories
    (line,) = [x for x in result.stdout.splitlines() if x.startswith("The client's report: ")]
    pdf = Path(line.removeprefix("The client's report: "))
    assert pdf.parent.parent == tmp_path / "demo" / "reports"
    assert pdf.read_bytes().startswith(b"%PDF") and Path(f"{pdf}.sig").exists()
