"""What a person wrote, without quoted history or signature, from the replies mail programs
write."""

from __future__ import annotations

import pytest

from accord.conversations.reply_text import html_to_text, strip_reply

CASES = [
    (  # Gmail, the "wrote:" line folded over two
        "Yes, Tuesday works.\n\nOn Mon, 7 Dec 2026 at 10:02, Groove Records <news@groove.example>\n"
        "wrote:\n\n> Would Tuesday suit you?\n> Groove\n",
        "Yes, Tuesday works.",
    ),
    (  # Apple Mail
        "Thanks!\n\n> On 7 Dec 2026, at 10:02, Groove <news@groove.example> wrote:\n>\n> Hi\n",
        "Thanks!",
    ),
    (  # Outlook
        "Please cancel it.\r\n\r\n________________________________\r\nFrom: Groove Records\r\n"
        "Sent: Monday\r\nSubject: Your order\r\n\r\nYour order shipped.\r\n",
        "Please cancel it.",
    ),
    (  # Outlook, header block only
        "Please cancel it.\n\nFrom: Groove Records <news@groove.example>\nSent: Monday\n",
        "Please cancel it.",
    ),
    (  # old-style separator
        "See below.\n-----Original Message-----\nFrom: x\n",
        "See below.",
    ),
    (  # RFC 3676 signature and a phone's line
        "Two copies please.\n\n-- \nAda Lovelace\nAnalytical Engines Ltd\n",
        "Two copies please.",
    ),
    ("Sure, go ahead.\n\nSent from my iPhone\n", "Sure, go ahead."),
    (  # French and German
        "D'accord.\n\nLe lun. 7 déc. 2026 à 10:02, Groove <n@g.example> a écrit :\n> Bonjour\n",
        "D'accord.",
    ),
    ("Passt.\n\nAm Mo., 7. Dez. 2026 um 10:02 schrieb Groove <n@g.example>:\n> Hallo\n", "Passt."),
    (  # no quote at all: kept whole, inner blank lines too
        "First line.\n\nSecond paragraph.\n",
        "First line.\n\nSecond paragraph.",
    ),
    (  # interleaved quotes: the quote lines go, the answers stay
        "> Which size?\n42\n> Which colour?\nBlue\n",
        "42\nBlue",
    ),
]


@pytest.mark.parametrize(("raw", "expected"), CASES)
def test_strips_quotes_and_signatures(raw: str, expected: str) -> None:
    assert strip_reply(raw) == expected


def test_a_reply_that_is_only_a_quote_is_empty() -> None:
    assert strip_reply("\n\nOn Mon, Groove wrote:\n> Hello\n") == ""


def test_html_leaves_out_quoted_parts_and_markup() -> None:
    html = (
        "<html><head><style>p{color:red}</style></head><body><div>Yes &amp; thanks<br>Ada</div>"
        "<div class='gmail_quote'>On Mon wrote:<blockquote>old text</blockquote></div>"
        "<script>alert(1)</script></body></html>"
    )
    assert html_to_text(html) == "Yes & thanks\nAda"
