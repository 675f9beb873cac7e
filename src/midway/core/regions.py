"""Countries and the coarse regions used to estimate shipping distance.

Regions are deliberately coarse: they only separate "ships within a trade area" from "ships
across one". ``NA`` is the USMCA area, ``EU`` is the EU-27 plus the EEA/EFTA states and the
United Kingdom. Other places are grouped by geography (overseas territories with the area they
lie in). European countries outside that list (the Balkans, Ukraine, microstates...), the
Caucasus and the uninhabited territories fall into ``OTHER``, which never counts as "same
region" for anything.
"""

from __future__ import annotations

# ISO 3166-1 alpha-2, officially assigned codes (249).
COUNTRY_CODES: tuple[str, ...] = (
    "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX",
    "AZ", "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ",
    "BR", "BS", "BT", "BV", "BW", "BY", "BZ", "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK",
    "CL", "CM", "CN", "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE", "DJ", "DK", "DM",
    "DO", "DZ", "EC", "EE", "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK", "FM", "FO", "FR",
    "GA", "GB", "GD", "GE", "GF", "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS",
    "GT", "GU", "GW", "GY", "HK", "HM", "HN", "HR", "HT", "HU", "ID", "IE", "IL", "IM", "IN",
    "IO", "IQ", "IR", "IS", "IT", "JE", "JM", "JO", "JP", "KE", "KG", "KH", "KI", "KM", "KN",
    "KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC", "LI", "LK", "LR", "LS", "LT", "LU", "LV",
    "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK", "ML", "MM", "MN", "MO", "MP", "MQ",
    "MR", "MS", "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA", "NC", "NE", "NF", "NG", "NI",
    "NL", "NO", "NP", "NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG", "PH", "PK", "PL", "PM",
    "PN", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS", "RU", "RW", "SA", "SB", "SC",
    "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS", "ST", "SV",
    "SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO", "TR",
    "TT", "TV", "TW", "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI",
    "VN", "VU", "WF", "WS", "YE", "YT", "ZA", "ZM", "ZW",
)  # fmt: skip

REGIONS: tuple[str, ...] = ("NA", "EU", "LATAM", "APAC", "MEA", "OTHER")

_REGION_MEMBERS: dict[str, tuple[str, ...]] = {
    "NA": ("US", "CA", "MX"),
    "EU": (
        "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE",
        "IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE",
        "GB", "NO", "CH", "IS", "LI",
    ),
    "LATAM": (
        "AR", "BO", "BR", "CL", "CO", "EC", "FK", "GF", "GY", "PE", "PY", "SR", "UY", "VE",
        "BZ", "CR", "GT", "HN", "NI", "PA", "SV",
        "AG", "AI", "AW", "BB", "BL", "BM", "BQ", "BS", "CU", "CW", "DM", "DO", "GD", "GP",
        "HT", "JM", "KN", "KY", "LC", "MF", "MQ", "MS", "PR", "SX", "TC", "TT", "VC", "VG",
        "VI",
    ),
    "APAC": (
        "AU", "NZ", "CN", "HK", "MO", "TW", "JP", "KR", "KP", "MN",
        "BN", "KH", "ID", "LA", "MY", "MM", "PH", "SG", "TH", "TL", "VN",
        "AF", "BD", "BT", "IN", "LK", "MV", "NP", "PK", "IO",
        "KZ", "KG", "TJ", "TM", "UZ",
        "AS", "CC", "CK", "CX", "FJ", "FM", "GU", "HM", "KI", "MH", "MP", "NC", "NF", "NR",
        "NU", "PF", "PG", "PN", "PW", "SB", "TK", "TO", "TV", "UM", "VU", "WF", "WS",
    ),
    "MEA": (
        "AE", "BH", "IL", "IQ", "IR", "JO", "KW", "LB", "OM", "PS", "QA", "SA", "SY", "TR",
        "YE",
        "AO", "BF", "BI", "BJ", "BW", "CD", "CF", "CG", "CI", "CM", "CV", "DJ", "DZ", "EG",
        "EH", "ER", "ET", "GA", "GH", "GM", "GN", "GQ", "GW", "KE", "KM", "LR", "LS", "LY",
        "MA", "MG", "ML", "MR", "MU", "MW", "MZ", "NA", "NE", "NG", "RE", "RW", "SC", "SD",
        "SH", "SL", "SN", "SO", "SS", "ST", "SZ", "TD", "TG", "TN", "TZ", "UG", "YT", "ZA",
        "ZM", "ZW",
    ),
}  # fmt: skip

_REGION_OF: dict[str, str] = {
    code: region for region, codes in _REGION_MEMBERS.items() for code in codes
}
_COUNTRY_SET: frozenset[str] = frozenset(COUNTRY_CODES)


def is_country_code(code: str) -> bool:
    """Whether ``code`` is an officially assigned ISO 3166-1 alpha-2 code (upper case)."""
    return code in _COUNTRY_SET


def region_of(country: str) -> str:
    """The coarse region of an ISO 3166-1 alpha-2 country code; ``OTHER`` when unknown."""
    return _REGION_OF.get(country.upper(), "OTHER")
