"""What an inbound text asks for: stop (this brand), stop-all (every brand on that number),
start, help, or something else (a reply the brand reads).

Revocation by "any reasonable means" (FCC 24-24): the standard keywords in any case, with
punctuation, spaces or emoji around them, and plain-language requests a reasonable person
reads as "stop texting me". Words that only look like a stop ("don't stop", "stop by the
store", "unstoppable", "cancel my order") are not one: a false stop silently ends what the
person asked for, so a phrase counts only when it is about the texts, the list or contacting.
"""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum


class Kind(StrEnum):
    stop = "stop"
    stop_all = "stop_all"
    start = "start"
    help = "help"
    other = "other"


# Whole-message keywords (after normalising), CTIA and the carriers' lists, FCC 24-24's "per se
# reasonable" words, and the usual Spanish, French and German ones.
STOP_WORDS = {
    "stop", "unsubscribe", "cancel", "end", "quit", "revoke", "optout", "opt out", "unsub",
    "stopp", "parar", "alto", "cancelar", "baja", "arret", "abmelden", "no mas",
}  # fmt: skip
STOP_ALL_WORDS = {"stopall", "stop all", "unsubscribe all", "cancel all", "quit all", "end all"}
START_WORDS = {"start", "unstop", "yes", "optin", "opt in", "subscribe", "resubscribe"}
HELP_WORDS = {"help", "info", "ayuda", "aide", "hilfe"}
# Words that may stand beside a keyword without changing what it asks ("STOP please").
POLITE = {
    "please", "pls", "plz", "now", "thanks", "thank", "you", "thx", "ty", "ok", "okay", "asap",
    "immediately", "right", "away", "just", "texts", "text", "messages", "msgs", "sms", "it",
    "me", "already", "again", "for", "good",
}  # fmt: skip

NEGATION = r"(?:don'?t|do not|dont|never|can'?t|cannot|won'?t|wouldn'?t|shouldn'?t|not|no need to)"
TEXTS = (
    r"(?:texts?|txts?|messages?|msgs?|sms(?:es)?|spam|promos?|promotions?|ads|offers|deals"
    r"|alerts|marketing|notifications?)"
)
CONTACT_VERBS = (
    r"(?:text(?:ing)?|txt(?:ing)?|messag(?:e|ing)|contact(?:ing)?|send(?:ing)?|spam(?:ming)?"
    r"|bother(?:ing)?|sms(?:ing)?|email(?:ing)?|call(?:ing)?)"
)

# Plain-language requests: each about the texts, contacting, the list or the number.
PLAIN_STOPS = [
    rf"\b(?:stop|quit|cease|end|enough)\s+(?:with\s+)?{CONTACT_VERBS}\b",
    rf"\b(?:stop|end|cancel|quit|halt|enough)\s+(?:all\s+)?(?:(?:the|these|this|those|your|ur|my|all)\s+)*{TEXTS}\b",
    rf"\bno\s+more\s+(?:of\s+)?(?:(?:the|these|this|those|your|ur)\s+)?{TEXTS}\b",
    rf"\b(?:{NEGATION})\s+(?:ever\s+)?{CONTACT_VERBS}\s+(?:me|us|this number|my number)\b",
    rf"\b(?:i\s+)?(?:{NEGATION})\s+want\s+(?:to\s+(?:get|receive)\s+)?(?:any\s+more\s+|anymore\s+|any\s+|more\s+|these\s+|your\s+|this\s+|the\s+)*{TEXTS}\b",
    r"\b(?:stop|quit)\s+(?:receiving|getting)\b",
    r"\b(?:remove|delete|erase)\s+(?:me|my\s+(?:phone\s+|cell\s+|mobile\s+)?number|this\s+number)\b",
    r"\btake\s+(?:me|my\s+number|this\s+number)\s+off\b",
    r"\b(?:revoke|withdraw)\s+(?:my\s+|all\s+)?(?:consent|permission)\b",
    r"\b(?:unsubscribe|opt)\s+me\b",
    r"\b(?:unsubscribe|unsubscribed|optout|opt out|opt-out)\b",
    r"\bleave\s+me\s+alone\b",
    r"\bwrong\s+(?:number|person)\b",
    r"\b(?:cancel|end|stop)\s+(?:my\s+|this\s+|the\s+)?(?:subscription|membership\s+texts|sms\s+list|list)\b",
    r"\b(?:off|out\s+of)\s+(?:your|ur|the|this)\s+(?:mailing\s+|texting\s+|sms\s+|contact\s+)?list\b",
    r"\bnever\s+(?:text|message|contact)\b",
]  # fmt: skip
_PLAIN = [re.compile(p) for p in PLAIN_STOPS]
# A match this close after a negation is the opposite request ("please don't stop the texts").
_NEGATED = re.compile(rf"\b(?:{NEGATION}|non)\s+(?:[\w']+\s+){{0,1}}$")
_CONTACT_NEGATION = re.compile(rf"^{NEGATION}\s")

_EMOJI_WORDS = {"\U0001f6d1": " stop ", "\u26d4": " stop "}  # 🛑 and ⛔ read as STOP
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'", "\u00b4": "'"})


def normalise(text: str) -> str:
    """Lower-case words separated by single spaces: accents, punctuation and emoji gone,
    apostrophes kept ("don't")."""
    for emoji, word in _EMOJI_WORDS.items():
        text = text.replace(emoji, word)
    text = unicodedata.normalize("NFKD", text.translate(_APOSTROPHES))
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    text = re.sub(r"(?<=\w)-(?=\w)", " ", text)  # opt-out -> opt out
    text = re.sub(r"[^\w\s']+|_", " ", text)
    text = re.sub(r"(?<!\w)'|'(?!\w)", " ", text)
    return " ".join(text.split())


def _keyword(words: str, keywords: set[str]) -> bool:
    """The message is the keyword, maybe repeated, maybe with polite words around it."""
    if words in keywords:
        return True
    tokens = words.split()
    found = False
    i = 0
    while i < len(tokens):
        pair = " ".join(tokens[i : i + 2])
        if pair in keywords:
            found, i = True, i + 2
        elif tokens[i] in keywords:
            found, i = True, i + 1
        elif tokens[i] in POLITE:
            i += 1
        else:
            return False
    return found


def _plain_stop(words: str) -> bool:
    for pattern in _PLAIN:
        for match in pattern.finditer(words):
            before = words[: match.start()]
            if _NEGATED.search(before) and not _CONTACT_NEGATION.match(match.group(0)):
                continue
            return True
    return False


def classify(text: str) -> Kind:
    words = normalise(text)
    if not words:
        return Kind.other
    if _keyword(words, STOP_ALL_WORDS):
        return Kind.stop_all
    if _keyword(words, STOP_WORDS):
        return Kind.stop
    if _keyword(words, START_WORDS):
        return Kind.start
    if _keyword(words, HELP_WORDS):
        return Kind.help
    if _plain_stop(words):
        return Kind.stop
    return Kind.other
