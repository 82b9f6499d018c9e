"""Statements built once, at import, carry a type for every parameter.

A column declared only by its foreign key takes its type from the column it references, and
only once that table is known: a statement built before then (at import, in a process that
has not yet imported the other domain's models) binds the parameter untyped, and SQLite is then
handed a raw UUID (`accord demo` failed so). The suite's own import order hides this, so each
module that builds statements is imported alone, in an interpreter of its own, as the first
import of a process may do."""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import accord

SRC = Path(accord.__file__).parent
CHECK = """
import importlib, sys
from sqlalchemy.sql import ClauseElement
from sqlalchemy.types import NullType
module = importlib.import_module(sys.argv[1])
for attr, value in vars(module).items():
    if isinstance(value, ClauseElement):
        for name, bind in value.compile().binds.items():
            if isinstance(bind.type, NullType) and bind.value is None:
                print(f"{sys.argv[1]}.{attr}: parameter {name!r} has no type")
"""


def builders() -> list[str]:
    found = []
    for path in sorted(SRC.rglob("*.py")):
        if "migrations" in path.parts or "bindparam(" not in path.read_text():
            continue
        found.append(".".join(("accord", *path.relative_to(SRC).with_suffix("").parts)))
    return found


def untyped(module: str) -> str:
    run = subprocess.run(
        [sys.executable, "-c", CHECK, module], capture_output=True, text=True, check=False
    )
    assert run.returncode == 0, run.stderr[-2000:]
    return run.stdout


def test_every_prebuilt_statement_types_its_parameters() -> None:
    modules = builders()
    assert "accord.relationships.decisions" in modules  # the scan finds what it must
    with ThreadPoolExecutor(max_workers=2) as pool:
        problems = "".join(pool.map(untyped, modules))
    assert problems == ""
