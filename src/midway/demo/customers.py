"""Invented customers: common first and last names combined at random, and plausible addresses
in real cities with made-up street numbers. No record here describes a real person."""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass

# fmt: off
FIRST_NAMES = (
    "James", "Mary", "John", "Linda", "Michael", "Sarah", "David", "Emma", "Daniel", "Laura",
    "Thomas", "Anna", "Paul", "Julia", "Mark", "Sophie", "Peter", "Lena", "Chris", "Olivia",
    "Lukas", "Marie", "Jonas", "Clara", "Noah", "Mia", "Leon", "Hannah", "Lucas", "Camille",
    "Hugo", "Chloe", "Marco", "Giulia", "Pablo", "Lucia", "Sven", "Ingrid", "Liam", "Aoife",
)
LAST_NAMES = (
    "Smith", "Johnson", "Brown", "Miller", "Davis", "Wilson", "Moore", "Taylor", "Clark",
    "Walker", "Young", "King", "Wright", "Hill", "Green", "Baker", "Adams", "Nelson", "Carter",
    "Mueller", "Schmidt", "Fischer", "Weber", "Wagner", "Becker", "Hoffmann", "Koch", "Richter",
    "Martin", "Bernard", "Dubois", "Moreau", "Visser", "Jansen", "Bakker", "Rossi", "Bianchi",
    "Garcia", "Lopez", "Murphy",
)
# fmt: on


@dataclass(frozen=True)
class City:
    """A city orders ship to: name, region (state), a postal code pattern, street names."""

    name: str
    region: str | None
    postal: str  # "#" = a random digit
    streets: tuple[str, ...]
    phone_prefix: str | None = None


_US_STREETS = (
    "Maple Ave",
    "Oak St",
    "Cedar Ln",
    "Park Pl",
    "2nd St",
    "Lakeview Dr",
    "Main St",
    "Elm St",
    "Pine St",
    "Hillcrest Rd",
    "Riverside Dr",
    "Willow Way",
)
_DE_STREETS = (
    "Hauptstrasse",
    "Bahnhofstrasse",
    "Gartenweg",
    "Lindenallee",
    "Schulstrasse",
    "Bergstrasse",
    "Am Markt",
)
_NL_STREETS = ("Kerkstraat", "Dorpsstraat", "Molenweg", "Stationsweg", "Schoolstraat")
_FR_STREETS = (
    "Rue des Lilas",
    "Avenue des Acacias",
    "Rue du Moulin",
    "Rue de la Gare",
    "Boulevard du Parc",
)
_IT_STREETS = ("Via del Corso", "Via dei Tigli", "Corso Italia", "Via della Stazione")
_ES_STREETS = ("Calle Mayor", "Calle del Sol", "Avenida del Mar", "Calle de la Luna")
_BE_STREETS = ("Kerkstraat", "Stationsstraat", "Rue de la Station", "Molenstraat")

# fmt: off
CITIES: dict[str, tuple[City, ...]] = {
    "US": (
        City("New York", "NY", "100##", _US_STREETS, "+1 212 555 01"),
        City("Brooklyn", "NY", "112##", _US_STREETS, "+1 718 555 01"),
        City("Chicago", "IL", "606##", _US_STREETS, "+1 312 555 01"),
        City("Austin", "TX", "787##", _US_STREETS, "+1 512 555 01"),
        City("Denver", "CO", "802##", _US_STREETS, "+1 303 555 01"),
        City("Seattle", "WA", "981##", _US_STREETS, "+1 206 555 01"),
        City("Portland", "OR", "972##", _US_STREETS, "+1 503 555 01"),
        City("San Francisco", "CA", "941##", _US_STREETS, "+1 415 555 01"),
        City("Los Angeles", "CA", "900##", _US_STREETS, "+1 213 555 01"),
        City("Boston", "MA", "021##", _US_STREETS, "+1 617 555 01"),
        City("Atlanta", "GA", "303##", _US_STREETS, "+1 404 555 01"),
        City("Minneapolis", "MN", "554##", _US_STREETS, "+1 612 555 01"),
        City("Philadelphia", "PA", "191##", _US_STREETS, "+1 215 555 01"),
        City("Phoenix", "AZ", "850##", _US_STREETS, "+1 602 555 01"),
        City("Nashville", "TN", "372##", _US_STREETS, "+1 615 555 01"),
        City("Columbus", "OH", "432##", _US_STREETS, "+1 614 555 01"),
    ),
    "DE": (
        City("Berlin", None, "10###", _DE_STREETS), City("Hamburg", None, "20###", _DE_STREETS),
        City("Muenchen", None, "80###", _DE_STREETS), City("Koeln", None, "50###", _DE_STREETS),
        City("Frankfurt am Main", None, "60###", _DE_STREETS),
        City("Leipzig", None, "04###", _DE_STREETS), City("Stuttgart", None, "70###", _DE_STREETS),
    ),
    "AT": (City("Wien", None, "1###", _DE_STREETS), City("Graz", None, "80##", _DE_STREETS),
           City("Salzburg", None, "50##", _DE_STREETS)),
    "NL": (City("Amsterdam", None, "10## AB", _NL_STREETS),
           City("Rotterdam", None, "30## CD", _NL_STREETS),
           City("Utrecht", None, "35## EF", _NL_STREETS)),
    "FR": (City("Paris", None, "750##", _FR_STREETS), City("Lyon", None, "6900#", _FR_STREETS),
           City("Bordeaux", None, "330##", _FR_STREETS), City("Lille", None, "590##", _FR_STREETS)),
    "BE": (City("Bruxelles", None, "10##", _BE_STREETS),
           City("Antwerpen", None, "20##", _BE_STREETS), City("Gent", None, "90##", _BE_STREETS)),
    "LU": (City("Luxembourg", None, "L-1###", _FR_STREETS),),
    "IT": (City("Milano", "MI", "201##", _IT_STREETS), City("Roma", "RM", "001##", _IT_STREETS),
           City("Bologna", "BO", "401##", _IT_STREETS)),
    "ES": (City("Madrid", None, "280##", _ES_STREETS),
           City("Barcelona", None, "080##", _ES_STREETS),
           City("Valencia", None, "460##", _ES_STREETS)),
    "IE": (City("Dublin", None, "D0# X2##", ("Harbour Road", "Church Street", "Main Street")),),
}
# fmt: on

# Where EU orders go, with weights.
EU_DESTINATIONS = (
    ("DE", 34),
    ("FR", 14),
    ("NL", 12),
    ("AT", 9),
    ("BE", 8),
    ("IT", 9),
    ("ES", 8),
    ("IE", 4),
    ("LU", 2),
)


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


def _fill(pattern: str, rng: random.Random) -> str:
    return "".join(str(rng.randrange(10)) if ch == "#" else ch for ch in pattern)


def ship_to(rng: random.Random, country: str) -> dict[str, str | None]:
    """An invented recipient and address in ``country``."""
    city = rng.choice(CITIES[country])
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    number = rng.randint(1, 240 if country != "US" else 9800)
    street = rng.choice(city.streets)
    address1 = (
        f"{number} {street}"
        if country in ("US", "IE") or street.startswith(("Rue", "Avenue", "Boulevard"))
        else f"{street} {number}"
    )
    address2 = None
    if rng.random() < 0.22:
        address2 = f"Apt {rng.randint(1, 40)}" if country == "US" else f"{rng.randint(1, 5)}. OG"
        if country not in ("US", "DE", "AT"):
            address2 = f"App. {rng.randint(1, 30)}"
    company = None
    if rng.random() < 0.06:
        company = rng.choice(
            (
                "Studio Nord",
                "Harbor Design Co",
                "Bluebird Cafe",
                "Atelier Soleil",
                "Green Leaf Office",
            )
        )
    phone = f"{city.phone_prefix}{rng.randint(0, 99):02d}" if city.phone_prefix else None
    return {
        "name": f"{first} {last}",
        "company": company,
        "address1": address1,
        "address2": address2,
        "city": city.name,
        "region": city.region,
        "postal_code": _fill(city.postal, rng),
        "country": country,
        "phone": phone,
        "email": f"{_ascii(first)}.{_ascii(last).replace(' ', '')}{rng.randint(1, 99)}@example.com",
    }
