"""Docs as tests: every CLI command and every setting is documented."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer.main

from accord.cli import build
from accord.core.settings import Settings

ROOT = Path(__file__).resolve().parents[1]


def documentation() -> str:
    files = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    return "\n".join(path.read_text() for path in files)


def command_paths(group: Any, ctx: Any, prefix: str = "accord") -> list[str]:
    # Duck-typed: typer ships its own click, so isinstance(click.Group) is not reliable. The
    # root loads its commands lazily, so they are asked for by name, not read from `commands`.
    paths = []
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        path = f"{prefix} {name}"
        if hasattr(command, "list_commands"):
            paths += command_paths(command, ctx, path)
        else:
            paths.append(path)
    return paths


def test_every_cli_command_is_documented() -> None:
    root = typer.main.get_command(build())
    paths = command_paths(root, root.context_class(root, info_name="accord"))
    assert "accord db upgrade" in paths and "accord apikey create" in paths
    docs = documentation()
    missing = [path for path in paths if f"`{path}" not in docs]
    assert not missing, f"undocumented commands: {missing}"
    assert "accord --version" in docs


def test_every_setting_is_documented() -> None:
    docs = documentation()
    names = [f"ACCORD_{name.upper()}" for name in Settings.model_fields]
    missing = [name for name in names if f"`{name}`" not in docs]
    assert not missing, f"undocumented settings: {missing}"


def test_the_readme_starts_with_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    first_block = readme.split("```sh", 1)[1].split("```", 1)[0]
    assert "make demo" in first_block and "make test" in first_block
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in ci
