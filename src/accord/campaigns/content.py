"""A campaign's content as the composer writes it: Markdown (the text part is the Markdown
itself, the HTML part is rendered from it), HTML with a text version, or text alone.

The API stores text and HTML; the format is not stored but recognised: a campaign whose HTML is
exactly its text rendered as Markdown was written in Markdown. Raw HTML inside Markdown is
shown as text, never passed through, so Markdown cannot smuggle markup into a message.
"""

from __future__ import annotations

from functools import lru_cache

from markdown_it import MarkdownIt

FORMATS = [
    ("markdown", "Markdown: headings, lists, links, emphasis; sent as HTML and as text"),
    ("html", "HTML, with a plain-text version"),
    ("text", "Plain text only"),
]


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})


@lru_cache(maxsize=256)
def markdown_html(source: str) -> str:
    """(Kept for the last texts rendered: a draft's page tells its format by rendering its
    text on every view.)"""
    return str(_parser().render(source))


def format_of(text: str, html: str | None) -> str:
    if html is None or not html.strip():
        return "text"
    return "markdown" if html == markdown_html(text) else "html"


def parts(fmt: str, text: str, html: str) -> tuple[str, str | None]:
    """The (text, HTML) a campaign stores for what the composer was given."""
    if fmt == "markdown":
        return text, markdown_html(text) if text.strip() else None
    if fmt == "html":
        return text, html if html.strip() else None
    return text, None
