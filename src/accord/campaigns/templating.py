"""Sandboxed message templates with only safe fields, checked when a campaign is saved, and
bounded whenever they render.

Bounds (`Limits`): loop iterations, the characters of what a render builds (its output, and any
string or list an operator or filter makes on the way) and the time a message's renders take
together (`message_budget`). Exceeding one raises `TemplateLimit`: the worker fails that
message alone; the save-time check (`check`) refuses the template, after rendering it for a
sample of real and made-up people. Constructs a message has no use for and that could escape
the bounds are refused when the template is compiled: macros, call and filter blocks, `set`
blocks, include, import, extends, blocks and recursive loops. The filters are a short list of
ones that cannot multiply their input; a string's methods are those that cannot either.
"""

from __future__ import annotations

import contextvars
import operator
import re
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from jinja2 import Template, TemplateSyntaxError, nodes
from jinja2.filters import FILTERS
from jinja2.runtime import LoopContext
from jinja2.sandbox import SandboxedEnvironment
from jinja2.visitor import NodeTransformer
from markupsafe import escape

from accord.core import text as plain_text
from accord.core.errors import InvalidInput

# The only values a template can see. No e-mail address, no id, nothing the brand should not.
ALLOWED = {
    "person": {"name", "first_name", "locale"},
    "brand": {"name", "support_email", "postal_address"},
    "topic": {"name"},
}


@dataclass(frozen=True)
class Limits:
    iterations: int = 10_000  # loop iterations, all loops of a render together
    chars: int = 200_000  # a render's output; also any one string or list built on the way
    seconds: float = 0.5  # a message's renders together (its subject, text and html)


LIMITS = Limits()
# When a template is saved, each sample render must stay well within the time a message has:
# a template that needs most of it would slow every message of its campaign.
SAVE_LIMITS = Limits(seconds=LIMITS.seconds / 5)


class TemplateLimit(Exception):
    """A render went past one of the limits; `str()` says which, as a sentence."""


@dataclass
class Budget:
    limits: Limits
    deadline: float = field(init=False)
    iterations: int = 0

    def __post_init__(self) -> None:
        self.deadline = time.monotonic() + self.limits.seconds

    def tick(self) -> None:
        if time.monotonic() > self.deadline:
            raise TemplateLimit(
                f"The template took longer than {self.limits.seconds:g} s to render."
            )

    def loop(self) -> None:
        self.iterations += 1
        if self.iterations > self.limits.iterations:
            raise TemplateLimit(
                f"The template's loops ran more than {self.limits.iterations} times."
            )
        self.tick()

    def size(self, value: Any) -> Any:
        if isinstance(value, str | list | tuple) and len(value) > self.limits.chars:
            self.too_big()
        return value

    def too_big(self) -> None:
        raise TemplateLimit(
            f"The template built more than {self.limits.chars} characters or items."
        )


_budget: contextvars.ContextVar[Budget | None] = contextvars.ContextVar(
    "accord_template_budget", default=None
)


def _current() -> Budget:
    """The budget of the message being made; outside one (Jinja folding constants when it
    compiles a template), a fresh one for this step alone."""
    budget = _budget.get()
    return budget if budget is not None else Budget(LIMITS)


@contextmanager
def message_budget(limits: Limits = LIMITS) -> Iterator[Budget]:
    """Every render inside shares one budget: the time is measured per message."""
    budget = Budget(limits)
    token = _budget.set(budget)
    try:
        yield budget
    finally:
        _budget.reset(token)


# --- what a template may do at run time --------------------------------------------------------

_FORBIDDEN = (
    nodes.Macro,
    nodes.CallBlock,
    nodes.FilterBlock,
    nodes.AssignBlock,
    nodes.Include,
    nodes.Import,
    nodes.FromImport,
    nodes.Extends,
    nodes.Block,
)
_NAMES = {
    nodes.Macro: "macros",
    nodes.CallBlock: "call blocks",
    nodes.FilterBlock: "filter blocks",
    nodes.AssignBlock: "set blocks",
    nodes.Include: "include",
    nodes.Import: "import",
    nodes.FromImport: "import",
    nodes.Extends: "extends",
    nodes.Block: "blocks",
}
# String methods that cannot make a string longer than it is (no padding, no format, no join).
_STR_METHODS = frozenset(
    {
        "upper",
        "lower",
        "title",
        "capitalize",
        "casefold",
        "swapcase",
        "strip",
        "lstrip",
        "rstrip",
        "startswith",
        "endswith",
        "isdigit",
        "isalpha",
        "isalnum",
        "isspace",
        "isupper",
        "islower",
        "split",
    }
)
_LOOP_ATTRIBUTES = frozenset(
    {"index", "index0", "revindex", "revindex0", "first", "last", "length", "previtem", "nextitem"}
)
_SAFE_FILTERS = [
    *("abs", "capitalize", "center", "count", "d", "default", "e", "escape", "first", "float"),
    *("forceescape", "format", "indent", "int", "join", "last", "length", "list", "lower"),
    *("max", "min", "replace", "reverse", "round", "safe", "sort", "string", "striptags", "sum"),
    *("title", "trim", "truncate", "unique", "upper", "urlencode", "wordcount", "wordwrap"),
]
# printf-style widths or precisions that would pad a value out to a huge string
_WIDE_FORMAT = re.compile(r"%[^a-zA-Z%]*(\d{5,}|\*)")


def _bounded_loop(iterable: Any) -> Iterator[Any]:
    budget = _current()
    for item in iterable:
        budget.loop()
        yield item


def _bounded_concat(*values: Any) -> str:
    budget = _current()
    budget.tick()
    total = 0
    parts = []
    for value in values:
        part = str(value)
        total += len(part)
        if total > budget.limits.chars:
            budget.too_big()
        parts.append(part)
    return "".join(parts)


def _bounded_range(*args: int) -> range:
    found = range(*args)
    if len(found) > _current().limits.iterations:
        raise TemplateLimit(f"range() of more than {_current().limits.iterations} numbers.")
    return found


def _length(value: Any) -> int:
    return len(value) if isinstance(value, str | list | tuple) else 0


def _check_format(value: Any) -> None:
    if isinstance(value, str) and _WIDE_FORMAT.search(value):
        raise TemplateLimit("A format's width or precision is too large.")


def _bounded_filter(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    def bounded(*args: Any, **kwargs: Any) -> Any:
        budget = _current()
        budget.tick()
        limit = budget.limits.chars
        for arg in (*args, *kwargs.values()):
            if isinstance(arg, int) and not isinstance(arg, bool) and abs(arg) > limit:
                raise TemplateLimit(f"The {name} filter was given a number over {limit}.")
        first = 1 if hasattr(function, "jinja_pass_arg") else 0  # after the environment
        values = args[first:]
        if name == "format" and values:
            _check_format(values[0])
        if name == "join" and values and isinstance(values[0], Iterable):
            args = (*args[:first], _joinable(budget, values), *values[1:])
        if name == "replace" and len(values) >= 2:
            _check_replace(budget, values, kwargs)
        return budget.size(function(*args, **kwargs))

    # Jinja passes the environment, context or eval context to filters marked for it.
    for mark in ("jinja_pass_arg",):
        if hasattr(function, mark):
            setattr(bounded, mark, getattr(function, mark))
    return bounded


def _joinable(budget: Budget, values: tuple[Any, ...]) -> list[Any]:
    """The items of a join, once its result is known to fit."""
    items: list[Any] = budget.size(list(values[0]))
    sep = str(values[1]) if len(values) > 1 else ""
    if sum(len(str(i)) for i in items) + len(sep) * len(items) > budget.limits.chars:
        budget.too_big()
    return items


def _check_replace(budget: Budget, values: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    subject, old = str(values[0]), str(values[1])
    new = str(values[2]) if len(values) > 2 else str(kwargs.get("new", ""))
    grows = max(0, len(new) - len(old)) * (subject.count(old) if old else len(subject) + 1)
    if len(subject) + grows > budget.limits.chars:
        budget.too_big()


class _Bounding(NodeTransformer):
    """Every loop's iterable through `_bounded_loop`, every `~` through `_bounded_concat`."""

    def visit_For(self, node: nodes.For) -> nodes.Node:
        if node.recursive:
            raise TemplateSyntaxError("Recursive loops are not allowed.", node.lineno)
        self.generic_visit(node)
        node.iter = nodes.Call(
            nodes.Name("_accord_loop", "load"), [node.iter], [], None, None, lineno=node.lineno
        )
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:
        self.generic_visit(node)
        return nodes.Call(
            nodes.Name("_accord_concat", "load"),
            list(node.nodes),
            [],
            None,
            None,
            lineno=node.lineno,
        )


class BoundedSandbox(SandboxedEnvironment):
    """Jinja's sandbox with the limits above."""

    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def __init__(self, *, autoescape: bool) -> None:
        super().__init__(autoescape=autoescape)
        self.globals = {
            "range": _bounded_range,
            "_accord_loop": _bounded_loop,
            "_accord_concat": _bounded_concat,
        }
        self.filters = {name: _bounded_filter(name, FILTERS[name]) for name in _SAFE_FILTERS}

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        tree = super()._parse(source, name, filename)
        for kind in _FORBIDDEN:
            found = next(tree.find_all(kind), None)
            if found is not None:
                raise TemplateSyntaxError(
                    f"Message templates cannot use {_NAMES[kind]}.", found.lineno, name, filename
                )
        bounded = _Bounding().visit(tree)
        assert isinstance(bounded, nodes.Template)
        return bounded

    def wrap_str_format(self, value: Any) -> None:
        return None  # str.format and format_map: refused like any method not listed

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        _current().tick()
        return super().call(__context, __obj, *args, **kwargs)

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        if isinstance(obj, str):
            return attr in _STR_METHODS
        if isinstance(obj, LoopContext):
            return attr in _LOOP_ATTRIBUTES
        return False

    def call_binop(self, context: Any, operator_: str, left: Any, right: Any) -> Any:
        budget = _current()
        budget.tick()
        limit = budget.limits.chars
        if operator_ == "*":
            for seq, n in ((left, right), (right, left)):
                if _length(seq) and isinstance(n, int) and _length(seq) * n > limit:
                    budget.too_big()
        elif operator_ == "**" and isinstance(left, int) and isinstance(right, int):
            if right > 0 and max(1, left.bit_length()) * right > MAX_BITS:
                raise TemplateLimit(f"A power came to more than {MAX_BITS} bits.")
        elif operator_ == "+":
            if _length(left) + _length(right) > limit:
                budget.too_big()
        elif operator_ == "%":
            _check_format(left)
        found = _BINOPS[operator_](left, right)
        if isinstance(found, int) and found.bit_length() > MAX_BITS:
            raise TemplateLimit(f"A number came to more than {MAX_BITS} bits.")
        return budget.size(found)


MAX_BITS = 4096  # numbers: far beyond any a message shows, far below a slow one
_BINOPS: dict[str, Callable[[Any, Any], Any]] = {
    "*": operator.mul,
    "**": operator.pow,
    "+": operator.add,
    "%": operator.mod,
}

_env = BoundedSandbox(autoescape=False)
_html_env = BoundedSandbox(autoescape=True)


def _refuse(field: str, problem: str) -> InvalidInput:
    return InvalidInput(f"{field}: {problem}", field=field)


def check(
    source: str,
    *,
    field: str,
    samples: Iterable[dict[str, Any]] = (),
    limits: Limits = SAVE_LIMITS,
) -> None:
    """Refuse a template that does not parse, uses a field outside ALLOWED or a construct
    message templates cannot use, or cannot be rendered within the limits for one of the
    made-up people (`synthetic_contexts`) or of `samples` (real ones), naming the field. A
    subject must render to one line."""
    try:
        tree = _env.parse(source)
        _env._parse(source, None, None)  # the constructs refused at compile time
    except TemplateSyntaxError as exc:
        raise _refuse(field, f"template error on line {exc.lineno}: {exc.message}") from None
    _check_fields(tree, field)
    for context in [*synthetic_contexts(), *samples]:
        _check_render(source, context, field, limits)


def _check_fields(tree: nodes.Template, field: str) -> None:
    for node in tree.find_all(nodes.Name):
        if node.ctx == "load" and node.name not in ALLOWED:
            raise _refuse(
                field,
                f"'{node.name}' is not a field templates may use "
                f"(allowed: {', '.join(_allowed_names())}).",
            )
    for attr in tree.find_all(nodes.Getattr):
        owner = attr.node
        if isinstance(owner, nodes.Name) and attr.attr not in ALLOWED.get(owner.name, set()):
            raise _refuse(
                field,
                f"'{owner.name}.{attr.attr}' is not a field templates may use "
                f"(allowed: {', '.join(_allowed_names())}).",
            )
    if next(tree.find_all(nodes.Getitem), None) is not None:
        raise _refuse(field, "use person.name style fields, not [] lookups.")


def _check_render(source: str, context: dict[str, Any], field: str, limits: Limits) -> None:
    part = field.rsplit(".", 1)[-1]  # "contents.push.subject": a channel's own subject
    try:
        with message_budget(limits):
            rendered = render(source, context, html=part == "html")
    except TemplateLimit as exc:
        raise _refuse(field, f"the template goes past a limit. {exc}") from None
    except Exception as exc:  # whatever a render raises: the worker would raise it too
        raise _refuse(field, f"the template cannot be rendered ({_describe(exc)}).") from None
    if part == "subject":
        problem = plain_text.problem(rendered, one_line=True)
        if problem is not None:
            raise _refuse(field, f"the subject as sent is not one line of text. {problem}")


def _describe(exc: Exception) -> str:
    message = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {message}"[:200] if message else type(exc).__name__


def _allowed_names() -> list[str]:
    return [f"{obj}.{attr}" for obj, attrs in ALLOWED.items() for attr in sorted(attrs)]


class _SampleBrand:
    name = "Sample & Sons <Ltd>"
    support_email = "help@sample.example"
    postal_address = "1 Sample Street\nSampletown"


def synthetic_contexts(brand: Any = None, topic_name: str = "News") -> list[dict[str, Any]]:
    """Made-up people at the edges of what a profile holds: no name, one name, a long one,
    letters of other scripts, markup."""
    brand = brand if brand is not None else _SampleBrand()
    names = ["", "Ada", "Zoë Ōta-Łukasiewicz 山田 太郎", '<b>Bold</b> & "Quoted"', "N" * 120]
    return [
        context_for(display_name=name, locale=locale, brand=brand, topic_name=topic_name)
        for name, locale in zip(names, ["en", "de", "ja", "fr", "pt-BR"], strict=True)
    ]


@lru_cache(maxsize=64)
def compiled(source: str, html: bool) -> Template:
    """Parsing and compiling a template costs a hundred times what rendering it does, and a
    campaign renders the same few sources for every recipient: compile each once. Compiled
    templates are immutable, so the cache is safe across threads."""
    return (_html_env if html else _env).from_string(source)


# A template that is only text and `{{ object.field }}` outputs: its pieces, each the text or
# the (object, field) to put there.
Plan = tuple[str | tuple[str, str], ...]


@lru_cache(maxsize=64)
def _plan(source: str) -> Plan | None:
    """The pieces of a template made of text and ALLOWED fields alone (nearly every message
    template), else None. Parsed by Jinja itself, so the text is what Jinja would output
    (its trailing newline dropped, as Jinja does)."""
    try:
        tree = _env.parse(source)
    except TemplateSyntaxError:
        return None
    pieces: list[str | tuple[str, str]] = []
    for node in tree.body:
        if not isinstance(node, nodes.Output):
            return None
        for child in node.nodes:
            if isinstance(child, nodes.TemplateData):
                pieces.append(child.data)
            elif (
                isinstance(child, nodes.Getattr)
                and isinstance(child.node, nodes.Name)
                and child.attr in ALLOWED.get(child.node.name, ())
            ):
                pieces.append((child.node.name, child.attr))
            else:
                return None
    return tuple(pieces)


def render(source: str, context: dict[str, Any], *, html: bool = False) -> str:
    """The template rendered in its sandbox, within the limits of the current budget
    (`message_budget`; else one of its own). A template of text and fields alone is put
    together directly: what Jinja makes of it (a test keeps the two equal) at a tenth of the
    cost, and a campaign renders three templates for every recipient."""
    plan = _plan(source)
    if plan is not None:
        try:
            return "".join(
                piece if isinstance(piece, str) else _field(context[piece[0]][piece[1]], html)
                for piece in plan
            )
        except (KeyError, TypeError):
            pass  # a context without the field: Jinja says what that makes
    template = compiled(source, html)
    if _budget.get() is None:
        with message_budget():
            return _bounded_render(template, context)
    return _bounded_render(template, context)


def _bounded_render(template: Template, context: dict[str, Any]) -> str:
    budget = _current()
    parts: list[str] = []
    total = 0
    for part in template.generate(**context):
        total += len(part)
        if total > budget.limits.chars:
            raise TemplateLimit(f"The message came to more than {budget.limits.chars} characters.")
        budget.tick()
        parts.append(part)
    return "".join(parts)


def _field(value: Any, html: bool) -> str:
    return str(escape(value)) if html else str(value)


def context_for(*, display_name: str, locale: str, brand: Any, topic_name: str) -> dict[str, Any]:
    first = display_name.split()[0] if display_name.strip() else ""
    return {
        "person": {
            "name": display_name or "there",
            "first_name": first or "there",
            "locale": locale,
        },
        "brand": {
            "name": brand.name,
            "support_email": brand.support_email,
            "postal_address": brand.postal_address or "",
        },
        "topic": {"name": topic_name},
    }
