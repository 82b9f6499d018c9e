"""What counts as text: the one rule for every text field, whatever reads it.

PostgreSQL refuses NUL in text and JSON and cannot encode a lone surrogate; SQLite stores both.
Control characters also break what text feeds into: a line break in a header-bound field (a
display name, a sender name, a subject) starts a new header. So every text input is checked at
the edge, the same way on both databases: multi-line text may hold tabs and line breaks, a
single line holds neither. Pydantic schemas use the annotated types in `accord.core.validation`;
parsers of files (CSV) call `problem` on each value.
"""

from __future__ import annotations

import re

# C0 controls except tab, LF and CR; DEL and the C1 controls; lone surrogates (JSON can encode
# them as \\udxxx, and they cannot be written as UTF-8).
_NOT_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
# One line: every C0 control (tab and line breaks too) and the Unicode line separators.
_NOT_LINE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u0085\ud800-\udfff]")
_BREAKS = frozenset("\n\r\u2028\u2029\u0085\x0b\x0c")
# The Pydantic error type of a failed check (its message is the sentence from `problem`).
ERROR_TYPE = "not_text"


def problem(value: str, *, one_line: bool) -> str | None:
    """What is wrong with `value` as text, in a sentence a person can act on; None if nothing."""
    found = (_NOT_LINE if one_line else _NOT_TEXT).search(value)
    if found is None:
        return None
    char = found.group()
    if char in _BREAKS:
        return "Use a single line here: remove the line break."
    if char == "\t":
        return "Use a single line here: remove the tab."
    if "\ud800" <= char <= "\udfff":
        return f"Remove the invalid character (U+{ord(char):04X}): it is not text."
    return f"Remove the control character (U+{ord(char):04X}): it is not text."


def has_problem(values: str, *, one_line: bool) -> bool:
    """Would `problem` find something in `values` (e.g. a whole column joined)? One scan in C:
    the fast way to rule out a problem in many values at once."""
    return (_NOT_LINE if one_line else _NOT_TEXT).search(values) is not None
