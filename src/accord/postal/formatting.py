"""Postal addresses for a mailing house: the recipient's name first, then the address lines as
the person wrote them, then the country on its own last line in capitals (the UPU convention
for international mail), with the country's own order kept (street before or after the
number, postcode before or after the town): Accord never reorders what the person typed."""

from __future__ import annotations

COLUMNS = ["name", "line1", "line2", "line3", "line4", "line5", "country"]
MAX_LINES = 5
# Country names (lower case) and ISO codes people type on an address's last line.
COUNTRIES = {
    "united kingdom": "GB",
    "uk": "GB",
    "great britain": "GB",
    "england": "GB",
    "gb": "GB",
    "germany": "DE",
    "deutschland": "DE",
    "de": "DE",
    "france": "FR",
    "fr": "FR",
    "usa": "US",
    "united states": "US",
    "united states of america": "US",
    "us": "US",
    "netherlands": "NL",
    "nederland": "NL",
    "nl": "NL",
    "spain": "ES",
    "españa": "ES",
    "es": "ES",
    "italy": "IT",
    "italia": "IT",
    "it": "IT",
    "austria": "AT",
    "österreich": "AT",
    "at": "AT",
    "switzerland": "CH",
    "schweiz": "CH",
    "suisse": "CH",
    "ch": "CH",
    "ireland": "IE",
    "ie": "IE",
    "canada": "CA",
    "ca": "CA",
}


def lines_of(address: str) -> list[str]:
    """The address's lines: by line break, else by comma, trimmed, empty ones dropped."""
    raw = address.splitlines() if "\n" in address.strip() else address.split(",")
    return [" ".join(line.split()) for line in raw if line.strip()]


def format_address(name: str, address: str) -> list[str]:
    """[name, line1..line5, country]: the country (ISO code) from the last line when it names
    one, that line then written in capitals as the country line."""
    lines = lines_of(address)
    country = ""
    if lines and lines[-1].lower().strip(" .") in COUNTRIES:
        country = COUNTRIES[lines[-1].lower().strip(" .")]
        lines = lines[:-1]
    if len(lines) > MAX_LINES:  # fold the surplus into the last line
        lines = [*lines[: MAX_LINES - 1], ", ".join(lines[MAX_LINES - 1 :])]
    padded = lines + [""] * (MAX_LINES - len(lines))
    return [name, *padded, country]
