"""No module of bdr keeps mutable state at module level: what a process holds (its running
restic, its stop, its queued records) belongs to an object its owner made, which a test can
make afresh.

Read from the source: a function that declares a module variable `global`, or mutates one
(`NAME.add(...)`, `NAME[key] = ...`, `del NAME[key]`), is a finding, unless listed below
with the reason it is right.
"""

from __future__ import annotations

import ast
from pathlib import Path

BDR = Path(__file__).parents[2] / "bdr"

MUTATORS = {
    "add",
    "append",
    "appendleft",
    "clear",
    "discard",
    "extend",
    "insert",
    "pop",
    "popitem",
    "popleft",
    "remove",
    "set",
    "setdefault",
    "update",
}

ALLOWED = {
    # A ContextVar: each run's thread (and the threads it starts with its context) sees its
    # own value; nothing is shared between runs or kept after them.
    ("restic/runner.py", "_deadline"),
    # The user ids a root restore acts with are the process's own (seteuid changes them for
    # every thread): the module remembers the ids it set, to set them back.
    ("privilege.py", "_dropped"),
    ("privilege.py", "_raised"),
    ("privilege.py", "_capable"),
}


def _module_names(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in tree.body:
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AnnAssign):
            targets = [node.target]
        for target in targets:
            if isinstance(target, ast.Name):
                names.add(target.id)
    return names


def _local_names(function: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    arguments = function.args
    names = {arg.arg for arg in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]}
    names |= {arg.arg for arg in (arguments.vararg, arguments.kwarg) if arg is not None}
    for node in ast.walk(function):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
    return names


def _mutated(function: ast.FunctionDef | ast.AsyncFunctionDef, shared: set[str]) -> set[str]:
    visible = shared - _local_names(function)
    found: set[str] = set()
    for node in ast.walk(function):
        if isinstance(node, ast.Global):
            found |= set(node.names)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in MUTATORS
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id in visible
        ):
            found.add(node.func.value.id)
        elif (
            isinstance(node, ast.Subscript)
            and isinstance(node.ctx, ast.Store | ast.Del)
            and isinstance(node.value, ast.Name)
            and node.value.id in visible
        ):
            found.add(node.value.id)
    return found


def module_state() -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for path in sorted(BDR.rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        shared = _module_names(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                for name in _mutated(node, shared):
                    found.add((str(path.relative_to(BDR)), name))
    return found


def test_no_module_keeps_mutable_state():
    assert module_state() - ALLOWED == set()


def test_the_reading_finds_what_it_looks_for(tmp_path: Path):
    """The reader itself, on a module that does each thing it looks for."""
    tree = ast.parse(
        "_seen = set()\n_table = {}\n_count = 0\n_fine = []\n"
        "def a():\n    _seen.add(1)\n"
        "def b(key):\n    _table[key] = 1\n"
        "def c():\n    global _count\n    _count += 1\n"
        "def d(_fine):\n    _fine.append(1)\n"
    )
    shared = _module_names(tree)
    functions = [node for node in tree.body if isinstance(node, ast.FunctionDef)]
    assert [_mutated(function, shared) for function in functions] == [
        {"_seen"},
        {"_table"},
        {"_count"},
        set(),
    ]
