"""Statements built once at import bind their ids as UUIDs whatever was imported before.

A parameter compared with a foreign-key column takes the column's type when the statement is
built; a module imported before the referenced model is mapped would see no type yet, and the
id would reach the database unconverted (SQLite refuses a UUID object). Each module is
imported first, in a fresh interpreter, as `accord demo` or a worker may import it."""

from __future__ import annotations

import subprocess
import sys

import pytest

MODULES = [
    "accord.relationships.decisions",
    "accord.relationships.service",
    "accord.people.service",
    "accord.sms.numbers",
    "accord.ideas.service",
    "accord.brands.service",
    "accord.conversations.saved",
    "accord.conversations.threads",
    "accord.terms.roster",
]
CHECK = """
import importlib, sys
from sqlalchemy import Select
from sqlalchemy.types import NullType
module = importlib.import_module(sys.argv[1])
untyped = [
    f"{name}.{bind.key}"
    for name, value in vars(module).items()
    if isinstance(value, Select)
    for bind in value.compile().binds.values()
    if isinstance(bind.type, NullType)
]
print(" ".join(untyped))
"""


@pytest.mark.parametrize("module", MODULES)
def test_a_statement_built_at_import_has_typed_parameters(module: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", CHECK, module], capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "", done.stdout
