"""The design's rule: domains import each other in one direction only (no cycles). `core` is
the shared plumbing plus the composition roots (app factory, CLI, model registry), so it is
left out of the graph."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "accord"


def domain_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = defaultdict(set)
    for path in PACKAGE.rglob("*.py"):
        domain = path.relative_to(PACKAGE).parts[0]
        if domain.endswith(".py") or domain in ("core", "migrations"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            for name in names:
                parts = name.split(".")
                if parts[0] == "accord" and len(parts) > 1 and parts[1] not in (domain, "core"):
                    graph[domain].add(parts[1])
    return graph


def test_domains_form_no_cycles() -> None:
    graph = domain_graph()
    assert "relationships" in graph and "campaigns" in graph
    visiting: list[str] = []
    done: set[str] = set()

    def visit(node: str) -> None:
        if node in done:
            return
        assert node not in visiting, "import cycle: " + " -> ".join([*visiting, node])
        visiting.append(node)
        for other in sorted(graph.get(node, ())):
            visit(other)
        visiting.pop()
        done.add(node)

    for domain in sorted(graph):
        visit(domain)


def test_consent_never_imports_campaigns() -> None:
    assert "campaigns" not in domain_graph()["consent"]
