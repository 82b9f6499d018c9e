"""Where a phone number is, as the law sees it: its country and, in the US and Canada, its
state or province (ISO 3166-2), from the number's area code through `phonenumbers`' geocoder."""

from __future__ import annotations

import phonenumbers
from phonenumbers import geocoder

US_STATES = {
    "Alabama": "AL", "Alaska": "AK", "Arizona": "AZ", "Arkansas": "AR", "California": "CA",
    "Colorado": "CO", "Connecticut": "CT", "Delaware": "DE", "Florida": "FL", "Georgia": "GA",
    "Hawaii": "HI", "Idaho": "ID", "Illinois": "IL", "Indiana": "IN", "Iowa": "IA",
    "Kansas": "KS", "Kentucky": "KY", "Louisiana": "LA", "Maine": "ME", "Maryland": "MD",
    "Massachusetts": "MA", "Michigan": "MI", "Minnesota": "MN", "Mississippi": "MS",
    "Missouri": "MO", "Montana": "MT", "Nebraska": "NE", "Nevada": "NV", "New Hampshire": "NH",
    "New Jersey": "NJ", "New Mexico": "NM", "New York": "NY", "North Carolina": "NC",
    "North Dakota": "ND", "Ohio": "OH", "Oklahoma": "OK", "Oregon": "OR", "Pennsylvania": "PA",
    "Rhode Island": "RI", "South Carolina": "SC", "South Dakota": "SD", "Tennessee": "TN",
    "Texas": "TX", "Utah": "UT", "Vermont": "VT", "Virginia": "VA", "Washington": "WA",
    "West Virginia": "WV", "Wisconsin": "WI", "Wyoming": "WY", "Washington D.C.": "DC",
}  # fmt: skip
CA_PROVINCES = {
    "Alberta": "AB", "British Columbia": "BC", "Manitoba": "MB", "New Brunswick": "NB",
    "Newfoundland and Labrador": "NL", "Nova Scotia": "NS", "Ontario": "ON",
    "Prince Edward Island": "PE", "Quebec": "QC", "Saskatchewan": "SK",
    "Northwest Territories": "NT", "Nunavut": "NU", "Yukon": "YT",
}  # fmt: skip
NAMES = {"US": US_STATES, "CA": CA_PROVINCES}


def subdivision_of(e164: str) -> str | None:
    """ "FL" for a Florida number, "ON" for an Ontario one; None elsewhere or when the number
    does not tell (a toll-free number, a mobile range the geocoder does not place)."""
    number = phonenumbers.parse(e164)
    region = phonenumbers.region_code_for_number(number)
    names = NAMES.get(region or "")
    if names is None:
        return None
    description = geocoder.description_for_number(number, "en")
    if description in names:
        return names[description]
    # "New York, NY": a city, then the state's code.
    _, _, code = description.rpartition(", ")
    return code if code in names.values() else None
