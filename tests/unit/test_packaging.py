"""Every data file under bdr/ is in the wheel: the appliance installs bdr from one, and a
file the source tree has and the wheel lacks fails only there (a backup's internal error)."""

import fnmatch
import tomllib
from pathlib import Path

ROOT = Path(__file__).parents[2]


def packaged(path: Path, declared: dict[str, list[str]]) -> bool:
    for package, globs in declared.items():
        base = ROOT.joinpath(*package.split("."))
        if base in path.parents:
            inside = path.relative_to(base).as_posix()
            if any(fnmatch.fnmatch(inside, glob) for glob in globs):
                return True
    return False


def test_every_data_file_is_package_data():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    declared = config["tool"]["setuptools"]["package-data"]
    data = [
        path
        for path in (ROOT / "bdr").rglob("*")
        if path.is_file() and path.suffix not in (".py", ".pyc") and "__pycache__" not in path.parts
    ]
    assert len(data) >= 3, "the report's template and style, the names ransomware leaves"
    assert [str(p.relative_to(ROOT)) for p in data if not packaged(p, declared)] == []
