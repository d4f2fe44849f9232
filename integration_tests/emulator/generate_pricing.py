"""Pricing's country lists: global (the same for every account), alphabetical by ISO code.

Each list record carries only ``country``, ``iso_country`` and ``url`` (the spec's list components);
prices are on the per-country resources, which the emulator does not serve.
"""

from __future__ import annotations

from .store import Item, Row

PRICING = "https://pricing.twilio.com"
PRICING_LISTS = {
    "voice_pricing_countries": "/v2/Voice/Countries",
    "messaging_pricing_countries": "/v1/Messaging/Countries",
    "phone_number_pricing_countries": "/v1/PhoneNumbers/Countries",
}

COUNTRIES = (
    ("AE", "United Arab Emirates"), ("AR", "Argentina"), ("AT", "Austria"), ("AU", "Australia"),
    ("BE", "Belgium"), ("BG", "Bulgaria"), ("BR", "Brazil"), ("CA", "Canada"), ("CH", "Switzerland"),
    ("CL", "Chile"), ("CN", "China"), ("CO", "Colombia"), ("CZ", "Czech Republic"), ("DE", "Germany"),
    ("DK", "Denmark"), ("EE", "Estonia"), ("EG", "Egypt"), ("ES", "Spain"), ("FI", "Finland"),
    ("FR", "France"), ("GB", "United Kingdom"), ("GR", "Greece"), ("HK", "Hong Kong"), ("HR", "Croatia"),
    ("HU", "Hungary"), ("ID", "Indonesia"), ("IE", "Ireland"), ("IL", "Israel"), ("IN", "India"),
    ("IS", "Iceland"), ("IT", "Italy"), ("JP", "Japan"), ("KE", "Kenya"), ("KR", "Korea, Republic of"),
    ("LT", "Lithuania"), ("LU", "Luxembourg"), ("LV", "Latvia"), ("MA", "Morocco"), ("MX", "Mexico"),
    ("MY", "Malaysia"), ("NG", "Nigeria"), ("NL", "Netherlands"), ("NO", "Norway"), ("NZ", "New Zealand"),
    ("PE", "Peru"), ("PH", "Philippines"), ("PL", "Poland"), ("PR", "Puerto Rico"), ("PT", "Portugal"),
    ("RO", "Romania"), ("SA", "Saudi Arabia"), ("SE", "Sweden"), ("SG", "Singapore"), ("SI", "Slovenia"),
    ("SK", "Slovakia"), ("TH", "Thailand"), ("TR", "Turkey"), ("TW", "Taiwan"), ("UA", "Ukraine"),
    ("US", "United States"), ("VN", "Vietnam"), ("ZA", "South Africa"),
)  # fmt: skip
"""62 countries: every pricing list spans two pages at the default page size."""


def pricing_rows(account_sid: str) -> dict[str, list[Row]]:
    """The three pricing lists, held under ``account_sid`` (the main account) though every account reads them."""
    lists = {}
    for stream, path in PRICING_LISTS.items():
        lists[stream] = [
            Row(Item(account_sid, {"country": name, "iso_country": code, "url": f"{PRICING}{path}/{code}"}), code, 0)
            for code, name in COUNTRIES
        ]
    return lists
