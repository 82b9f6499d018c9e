"""What a person wrote in an e-mail reply: the text without the quoted history and signature.

Mail programs quote differently; the markers below cover the common ones (Gmail, Apple Mail,
Thunderbird, Outlook, and their French, German, Spanish, Dutch, Italian and Portuguese forms).
The text as received is always kept beside the stripped one.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

# A line that starts the quoted history: everything from it on goes.
_HISTORY = [
    re.compile(p, re.IGNORECASE)
    for p in (
        r"^-{2,}\s*original message\s*-{2,}$",
        r"^-{2,}\s*forwarded message\s*-{2,}$",
        r"^_{10,}$",
        r"^(from|von|de|van|da):\s.+",  # Outlook's header block
    )
]
# "On <date>, <someone> wrote:" and its translations; may be folded over two lines.
_WROTE = re.compile(
    r"^(on|le|am|el|op|il|em)\s.{0,300}?"
    r"(wrote|a écrit|schrieb|escribió|schreef|ha scritto|escreveu)(\s.{0,300})?\s*:\s*$",
    re.IGNORECASE | re.DOTALL,
)
# Lines a phone or mail program adds at the end.
_SENT_FROM = re.compile(
    r"^(sent from my .+|sent from (mail|outlook|yahoo).*|get outlook for .+|"
    r"envoyé de mon .+|von meinem .+ gesendet|enviado desde mi .+)$",
    re.IGNORECASE,
)
_SIGNATURE = re.compile(r"^--\s?$")  # RFC 3676's "-- " (and its trimmed form)


def strip_reply(text: str) -> str:
    """The new text of a reply: up to the quoted history, without quote lines, signature and
    sent-from lines, trailing blank lines removed."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    kept: list[str] = []
    for index, line in enumerate(lines):
        bare = line.strip()
        if _SIGNATURE.match(line.rstrip("\n")) or any(p.match(bare) for p in _HISTORY):
            break
        if _WROTE.match(bare) or (
            index + 1 < len(lines) and _WROTE.match(f"{bare} {lines[index + 1].strip()}")
        ):
            break
        if bare.startswith(">"):
            continue
        kept.append(line.rstrip())
    while kept and (not kept[-1].strip() or _SENT_FROM.match(kept[-1].strip())):
        kept.pop()
    while kept and not kept[0].strip():
        kept.pop(0)
    return "\n".join(kept)


class _Text(HTMLParser):
    """HTML to text, leaving out quoted parts (blockquote, Gmail's and Outlook's quote
    containers), scripts and styles."""

    _SKIP = frozenset({"blockquote", "script", "style", "head", "title"})
    _BREAK = frozenset({"br", "p", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6"})
    _QUOTE_CLASSES = ("gmail_quote", "moz-cite-prefix", "yahoo_quoted", "divrplyfwdmsg")

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.stack: list[tuple[str, bool]] = []

    def _skipping(self) -> bool:
        return any(skip for _, skip in self.stack)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._BREAK:
            self.parts.append("\n")
        if tag in ("br", "img", "hr", "meta", "link", "input"):
            return
        classes = " ".join(v or "" for k, v in attrs if k in ("class", "id")).lower()
        skip = tag in self._SKIP or any(c in classes for c in self._QUOTE_CLASSES)
        self.stack.append((tag, skip))

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self.stack) - 1, -1, -1):
            if self.stack[depth][0] == tag:
                del self.stack[depth:]
                break
        if tag in self._BREAK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping():
            self.parts.append(data)


def html_to_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    parser.close()
    text = "".join(parser.parts)
    text = re.sub(r"[ \t\xa0]+", " ", text)
    return re.sub(r"\n\s*\n\s*\n+", "\n\n", text).strip()
