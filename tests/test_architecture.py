"""The design's import rules (../shared/DESIGN.md, "Layout"), stated as data and checked over
every module of `accord`: a new domain package or module is covered without editing this file.

A module's imports are every `import` and `from … import` in it, at any depth: an import
inside a function or under `if TYPE_CHECKING:` is still a dependency."""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "accord"

# Packages that are not domains: shared plumbing and the schema's history.
NOT_DOMAINS = {"core", "migrations"}
# Domains that must never import these other domains (besides the rules below).
FORBIDDEN: dict[str, set[str]] = {
    "consent": {"campaigns", "delivery", "analytics"},
}


# The modules of a domain that other domains may import (`accord.<domain>.<module>`): its one
# door, and the data both sides must share. Everything else in a domain is its own business.
PUBLIC: dict[str, str] = {
    "service": "the one door into a domain: its rules, queries and the names it offers",
    "models": "its tables, for set-based SQL that joins across domains (the gate, reports)",
    "schemas": "the Pydantic shapes its service takes and gives",
    "vocabulary": "the enums both sides speak",
    "deps": "the FastAPI dependencies that say who calls (a brand's member, a person)",
    "channels.base": "the channel adapter interface, which the channel domains implement",
}
# Imports of another domain's internals still to move behind its service, each with why it is
# there. The list only shrinks: an entry that no longer happens fails the test.
NOT_YET_THROUGH_SERVICE: dict[tuple[str, str], str] = {}

# Modules that change a person's relationships or write the ledger. Routes (a module whose name
# ends in `api` or `pages`) reach them only through their domain's service, even inside the
# domain: one way in for every change, so a page cannot skip what the service does around it.
CHANGES_THROUGH_SERVICE: dict[str, str] = {
    "accord.relationships.decisions": "a person's decisions, each one ledger event",
    "accord.relationships.global_prefs": "a person's settings across brands, ledger events",
    "accord.relationships.topics": "a brand's topics, which people's choices refer to",
    "accord.consent.ledger": "the ledger itself",
}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def modules() -> dict[str, Path]:
    return {module_name(path): path for path in PACKAGE.rglob("*.py")}


def _import_nodes(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node


def _resolve(name: str) -> str | None:
    """The module of ours that `name` refers to: itself, or its nearest package."""
    known = modules()
    while name:
        if name in known:
            return name
        name = name.rpartition(".")[0]
    return None


@cache
def imports() -> dict[str, set[str]]:
    """Module → the modules of ours it imports."""
    graph: dict[str, set[str]] = {}
    for name, path in modules().items():
        found: set[str] = set()
        is_package = path.name == "__init__.py"
        for node in _import_nodes(ast.parse(path.read_text())):
            targets: list[str] = []
            if isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = name.split(".")
                    drop = node.level - 1 if is_package else node.level
                    anchor = anchor[: len(anchor) - drop] if drop else anchor
                    base = ".".join([*anchor, base] if base else anchor)
                # `from accord.x import y` imports the module accord.x.y if there is one, else
                # the name y of accord.x.
                known = modules()
                targets = [
                    f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                    for alias in node.names
                ]
            else:
                targets = [alias.name for alias in node.names]
            for target in targets:
                if target.startswith("accord"):
                    resolved = _resolve(target)
                    if resolved and resolved != name and resolved != "accord":
                        found.add(resolved)
        graph[name] = found
    return graph


def part(module: str) -> str:
    """`accord.campaigns.gate_sql` → `campaigns`; modules beside `accord/__init__.py` (the
    composition root, `__main__`) → `<root>`."""
    pieces = module.split(".")
    if len(pieces) == 1 or (PACKAGE / f"{pieces[1]}.py").exists():
        return "<root>"
    return pieces[1]


def domains() -> set[str]:
    return {
        path.parent.name
        for path in PACKAGE.glob("*/__init__.py")
        if path.parent.name not in NOT_DOMAINS
    }


def domain_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = defaultdict(set)
    for source, targets in imports().items():
        for target in targets:
            a, b = part(source), part(target)
            if a != b and a in domains() and b in domains():
                graph[a].add(b)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    visiting: list[str] = []
    done: set[str] = set()

    def visit(node: str) -> list[str] | None:
        if node in done:
            return None
        if node in visiting:
            return [*visiting[visiting.index(node) :], node]
        visiting.append(node)
        for other in sorted(graph.get(node, ())):
            cycle = visit(other)
            if cycle:
                return cycle
        visiting.pop()
        done.add(node)
        return None

    for node in sorted(graph):
        cycle = visit(node)
        if cycle:
            return cycle
    return None


def violations(graph: dict[str, set[str]]) -> list[str]:
    """Every import that breaks a layering rule, as "source -> target: rule"."""
    found = []
    for source, targets in sorted(graph.items()):
        for target in sorted(targets):
            a, b = part(source), part(target)
            if a == "core" and b != "core":
                found.append(f"{source} -> {target}: core imports no domain")
            elif a not in ("<root>", "migrations") and b == "<root>":
                found.append(f"{source} -> {target}: only the composition root imports it")
            elif b in FORBIDDEN.get(a, set()):
                found.append(f"{source} -> {target}: {a} never imports {b}")
    return found


def internal_imports(graph: dict[str, set[str]]) -> set[tuple[str, str]]:
    """Every import of another domain's module that is not one of its PUBLIC ones."""
    found = set()
    for source, targets in graph.items():
        for target in targets:
            a, b = part(source), part(target)
            if a == b or a not in domains() or b not in domains():
                continue
            if target.removeprefix(f"accord.{b}.") not in PUBLIC:
                found.add((source, target))
    return found


def routes_past_the_service(graph: dict[str, set[str]]) -> set[tuple[str, str]]:
    """Every route module's import of a module of CHANGES_THROUGH_SERVICE."""
    return {
        (source, target)
        for source, targets in graph.items()
        if source.endswith(("api", "pages"))
        for target in targets
        if target in CHANGES_THROUGH_SERVICE
    }


def test_the_graph_sees_every_part() -> None:
    graph = imports()
    assert {"core", "consent", "campaigns", "<root>"} <= {part(m) for m in graph}
    assert "accord.core.db" in graph["accord.campaigns.gate_sql"]
    assert "accord.campaigns.service" in graph["accord.app"] | {
        m for ms in graph.values() for m in ms
    }


def test_every_layering_rule_holds() -> None:
    assert violations(imports()) == []


def test_other_domains_enter_a_domain_through_its_service() -> None:
    found = internal_imports(imports())
    new = sorted(f"{a} -> {b}" for a, b in found - NOT_YET_THROUGH_SERVICE.keys())
    assert new == [], "import the domain's service (or a PUBLIC module) instead"
    gone = sorted(f"{a} -> {b}" for a, b in NOT_YET_THROUGH_SERVICE.keys() - found)
    assert gone == [], "no longer imported: take it off NOT_YET_THROUGH_SERVICE"


def test_an_import_of_internals_is_reported() -> None:
    graph = {name: set(targets) for name, targets in imports().items()}
    graph["accord.campaigns.service"].add("accord.consent.verification")
    graph["accord.campaigns.service"].add("accord.consent.models")
    found = internal_imports(graph)
    assert ("accord.campaigns.service", "accord.consent.verification") in found
    assert ("accord.campaigns.service", "accord.consent.models") not in found


def test_pages_and_apis_change_things_through_their_service() -> None:
    found = sorted(f"{a} -> {b}" for a, b in routes_past_the_service(imports()))
    assert found == [], "call the domain's service"


def test_a_page_calling_decisions_is_reported() -> None:
    graph = {name: set(targets) for name, targets in imports().items()}
    graph["accord.relationships.pages"].add("accord.relationships.decisions")
    assert ("accord.relationships.pages", "accord.relationships.decisions") in (
        routes_past_the_service(graph)
    )


def test_domains_form_no_cycles() -> None:
    assert find_cycle(domain_graph()) is None


def test_no_module_level_import_cycles() -> None:
    cycle = find_cycle(imports())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


@pytest.mark.parametrize(
    ("source", "target", "rule"),
    [
        ("accord.core.db", "accord.campaigns.service", "core imports no domain"),
        ("accord.people.service", "accord.app", "only the composition root imports it"),
        ("accord.consent.ledger", "accord.delivery.worker", "consent never imports delivery"),
    ],
)
def test_a_forbidden_import_is_reported(source: str, target: str, rule: str) -> None:
    graph = {name: set(targets) for name, targets in imports().items()}
    graph[source].add(target)
    assert f"{source} -> {target}: {rule}" in violations(graph)


def test_an_added_cycle_is_found() -> None:
    graph = {name: set(targets) for name, targets in imports().items()}
    graph["accord.core.db"].add("accord.core.settings")
    graph["accord.core.settings"].add("accord.core.db")
    assert find_cycle(graph) is not None
