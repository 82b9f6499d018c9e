"""The inbound classifier, phrase by phrase: keywords in any dress, plain-language stops
(FCC 24-24 "any reasonable means") and the look-alikes that must not count."""

from __future__ import annotations

import pytest

from accord.sms.classifier import Kind, classify, normalise

STOP, STOP_ALL, START, HELP, OTHER = Kind.stop, Kind.stop_all, Kind.start, Kind.help, Kind.other

PHRASES: list[tuple[str, Kind]] = [
    # The standard keywords, in any case, with punctuation, spaces and emoji around them.
    ("STOP", STOP),
    ("stop", STOP),
    ("sToP", STOP),
    ("  Stop  ", STOP),
    ("STOP.", STOP),
    ("Stop!!!", STOP),
    ("STOP 🛑", STOP),
    ("🛑", STOP),
    ("Stop😡", STOP),
    ('"stop"', STOP),
    ("UNSUBSCRIBE", STOP),
    ("Unsubscribe.", STOP),
    ("cancel", STOP),
    ("END", STOP),
    ("Quit", STOP),
    ("REVOKE", STOP),
    ("OPT OUT", STOP),
    ("opt-out", STOP),
    ("OptOut", STOP),
    ("stop stop stop", STOP),
    ("STOP please", STOP),
    ("Please stop.", STOP),
    ("stop it", STOP),
    ("Stop now, thanks", STOP),
    ("STOPALL", STOP_ALL),
    ("Stop all", STOP_ALL),
    ("stop all!", STOP_ALL),
    ("Parar", STOP),
    ("Stopp", STOP),
    # Plain-language requests a reasonable person reads as "stop texting me".
    ("Stop texting me", STOP),
    ("STOP TEXTING ME!!!", STOP),
    ("please stop sending me these messages", STOP),
    ("Stop sending me texts", STOP),
    ("quit texting me", STOP),
    ("stop messaging me", STOP),
    ("Stop contacting me.", STOP),
    ("No more texts please", STOP),
    ("no more messages", STOP),
    ("Don't text me anymore", STOP),
    ("do not contact me", STOP),
    ("Never contact me again", STOP),
    ("I don't want these texts", STOP),
    ("i dont want any more messages from you", STOP),
    ("Remove me from your list", STOP),
    ("remove my number", STOP),
    ("Take me off your list", STOP),
    ("Please take me off the mailing list", STOP),
    ("Unsubscribe me", STOP),
    ("How do I unsubscribe?", STOP),
    ("I want to opt out", STOP),
    ("opt me out please", STOP),
    ("Leave me alone", STOP),
    ("Wrong number", STOP),
    ("cancel my subscription", STOP),
    ("How do I stop these texts?", STOP),
    ("I revoke my consent", STOP),
    ("Enough texts!", STOP),
    ("stop spamming me", STOP),
    ("I want to stop receiving these", STOP),
    # Opt back in, and help.
    ("START", START),
    ("unstop", START),
    ("Yes", START),
    ("start please", START),
    ("HELP", HELP),
    ("help?", HELP),
    ("Info", HELP),
    # Look-alikes: not a request to stop.
    ("Don't stop", OTHER),
    ("dont stop the music", OTHER),
    ("Please don't stop sending me deals", OTHER),
    ("I'll stop by the store tomorrow", OTHER),
    ("Can you stop at 5pm?", OTHER),
    ("unstoppable", OTHER),
    ("Can't stop won't stop", OTHER),
    ("Non-stop deals?", OTHER),
    ("When does the sale end?", OTHER),
    ("The end", OTHER),
    ("I want to cancel my order", OTHER),
    ("I quit my job lol", OTHER),
    ("Endless summer sale, nice", OTHER),
    ("Help me find a size 9", OTHER),
    ("Is the bus stop near the shop?", OTHER),
    ("Stopped by yesterday, great shop", OTHER),
    ("Yes I'll be there", OTHER),
    ("Take me to the new arrivals page", OTHER),
    ("Drop me a line when the vinyl is in", OTHER),
    ("Don't unsubscribe me, I love these", OTHER),
    ("quite good offer", OTHER),
    ("", OTHER),
    ("👍", OTHER),
    ("Thanks!", OTHER),
]


def test_the_table_is_large_enough() -> None:
    assert len(PHRASES) >= 60
    assert sum(kind is OTHER for _, kind in PHRASES) >= 15


@pytest.mark.parametrize(("text", "kind"), PHRASES)
def test_phrase(text: str, kind: Kind) -> None:
    assert classify(text) is kind


def test_normalise_keeps_words_and_apostrophes() -> None:
    assert normalise("  Don\u2019t   STOP!! 🎶 ") == "don't stop"
    assert normalise("Opt-Out.") == "opt out"
    assert normalise("Arrêt") == "arret"
