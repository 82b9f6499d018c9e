"""The demo's brands, members and people: fixed data, so every seed gives the same world."""

from __future__ import annotations

DEMO_PASSWORD = "accord-demo-2026"

BRANDS = [
    {
        "name": "Groove Records",
        "slug": "groove",
        "kind": "Music retailer (CDs and vinyl since 1997)",
        "sender_name": "Groove Records",
        "sender_email": "hello@groove.example",
        "postal_address": "12 Harbour Street, Bristol BS1 4RN, United Kingdom",
        "support_email": "help@groove.example",
    },
    {
        "name": "Velo Cycles",
        "slug": "velo",
        "kind": "Bicycle shop and workshop",
        "sender_name": "Velo Cycles",
        "sender_email": "news@velo.example",
        "postal_address": "Bergmannstraße 5, 10961 Berlin, Germany",
        "support_email": "werkstatt@velo.example",
    },
    {
        "name": "Fernwood Coffee",
        "slug": "fernwood",
        "kind": "Coffee roaster with a subscription service",
        "sender_name": "Fernwood Coffee",
        "sender_email": "roastery@fernwood.example",
        "postal_address": "88 Alder Avenue, Portland OR 97205, USA",
        "support_email": "care@fernwood.example",
    },
]

# (slug, local part, role): every brand has an owner, a marketer and an analyst or support.
MEMBERS = [
    ("groove", "owner", "owner"),
    ("groove", "marketing", "marketer"),
    ("groove", "insights", "analyst"),
    ("velo", "owner", "owner"),
    ("velo", "marketing", "marketer"),
    ("velo", "support", "support"),
    ("fernwood", "owner", "owner"),
    ("fernwood", "marketing", "marketer"),
    ("fernwood", "insights", "analyst"),
]

FIRST_NAMES = [
    "Ada", "Bea", "Carlos", "Dana", "Emeka", "Fatima", "Goran", "Hana", "Ivan", "Jia",
    "Kofi", "Lena", "Mateo", "Nia", "Olga", "Priya", "Quinn", "Rafael", "Sofia", "Tariq",
    "Uma", "Viktor", "Wen", "Ximena", "Yusuf", "Zoe", "Amara", "Bruno", "Chloe", "Dmitri",
    "Elif", "Felix", "Greta", "Hiro", "Ines", "Jonas",
]  # fmt: skip

TIME_ZONES = [
    "Europe/London", "Europe/Berlin", "America/New_York", "America/Los_Angeles",
    "Asia/Tokyo", "Australia/Sydney", "America/Sao_Paulo", "Africa/Lagos",
    "Asia/Kolkata", "Europe/Istanbul", "Pacific/Auckland", "America/Mexico_City",
]  # fmt: skip

LOCALES = ["en", "de", "en-US", "en-GB", "ja", "pt-BR", "es", "fr"]


def people() -> list[dict[str, str]]:
    return [
        {
            "email": f"{name.lower()}@people.example",
            "display_name": name,
            "time_zone": TIME_ZONES[i % len(TIME_ZONES)],
            "locale": LOCALES[i % len(LOCALES)],
        }
        for i, name in enumerate(FIRST_NAMES)
    ]


def member_email(slug: str, local: str) -> str:
    return f"{local}@{slug}.example"
