"""The demo merchant's catalog: about 300 invented products in families, with tags, kits,
prices and how popular each one is."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from midway.catalog.service import SkuInput

PILOT_TAG = "eu-pilot"
CENT = Decimal("0.01")

SIZES = ("XS", "S", "M", "L", "XL", "XXL")
# How often each size sells relative to the others.
SIZE_SHARE = {"XS": 0.5, "S": 0.9, "M": 1.4, "L": 1.3, "XL": 0.8, "XXL": 0.4, "SM": 1.0, "LXL": 1.0}


@dataclass(frozen=True)
class Product:
    """One SKU of the demo catalog, with what the simulation needs beyond the catalog row."""

    sku: str
    name: str
    tags: tuple[str, ...]
    price: Decimal  # USD list price
    popularity: float
    weight_g: int
    dims_mm: tuple[int, int, int]
    case_pack: int
    components: tuple[tuple[str, int], ...] = ()
    instructions: str | None = None

    @property
    def is_kit(self) -> bool:
        """True for a kit (assembled from components, holds no stock of its own)."""
        return bool(self.components)

    def price_in(self, currency: str) -> Decimal:
        """The list price in USD or EUR (EUR prices end in .95)."""
        if currency == "USD":
            return self.price
        euros = (self.price * Decimal("0.96")).quantize(Decimal(1), ROUND_HALF_UP)
        return euros - Decimal("0.05")

    def as_input(self) -> SkuInput:
        """The row to give the catalog service."""
        length, width, height = self.dims_mm
        return SkuInput(
            sku=self.sku,
            name=self.name,
            weight_g=self.weight_g,
            length_mm=length,
            width_mm=width,
            height_mm=height,
            tags=list(self.tags),
            components=list(self.components),
            packaging_instructions=self.instructions,
        )


@dataclass(frozen=True)
class Family:
    """Products that differ only by variant (colour, size, scent)."""

    code: str
    name: str
    tags: tuple[str, ...]
    price: Decimal
    popularity: float
    weight_g: int
    dims_mm: tuple[int, int, int]
    variants: tuple[str, ...]
    sizes: tuple[str, ...] = ()
    case_pack: int = 6
    pilot_variants: tuple[str, ...] = ()  # variants tagged for the EU pilot ("*" = all)
    size_prices: dict[str, Decimal] = field(default_factory=dict)


def _d(value: str) -> Decimal:
    return Decimal(value)


# fmt: off
FAMILIES: tuple[Family, ...] = (
    # apparel
    Family("TEE", "Organic Cotton Tee", ("apparel",), _d("28.00"), 9.0, 180, (300, 250, 20),
           ("BLK", "WHT", "NVY", "SAGE", "RUST"), SIZES, 12, ("BLK", "WHT", "NVY")),
    Family("HOOD", "Heavyweight Hoodie", ("apparel",), _d("68.00"), 5.0, 650, (350, 300, 60),
           ("BLK", "GRY", "NVY", "OLV"), ("S", "M", "L", "XL", "XXL"), 6),
    Family("MRN", "Merino Crew Sweater", ("apparel", "premium"), _d("129.00"), 2.2, 380,
           (320, 260, 40), ("CHR", "OAT", "NVY"), ("S", "M", "L", "XL"), 4),
    Family("LIN", "Linen Shirt", ("apparel",), _d("74.00"), 2.4, 260, (320, 240, 30),
           ("WHT", "SND", "BLU"), ("S", "M", "L", "XL"), 6),
    Family("SOCK", "Everyday Socks 3-Pack", ("apparel",), _d("16.00"), 4.0, 150, (200, 120, 40),
           ("BLK", "WHT", "MIX"), ("SM", "LXL"), 12, ("*",)),
    Family("BNE", "Wool Beanie", ("apparel",), _d("32.00"), 2.0, 90, (220, 200, 30),
           ("BLK", "GRY", "NVY", "RUST", "OAT", "FOR"), (), 12, ("*",)),
    Family("CAP", "Canvas Cap", ("apparel",), _d("29.00"), 1.6, 110, (280, 200, 120),
           ("BLK", "KHK", "NVY", "OLV", "STN"), (), 12),
    Family("RAIN", "Packable Rain Jacket", ("apparel",), _d("139.00"), 1.5, 420, (300, 220, 60),
           ("BLK", "YEL", "NVY"), ("S", "M", "L", "XL"), 4),
    # home
    Family("MUG", "Stoneware Mug", ("home", "fragile"), _d("22.00"), 5.5, 420, (130, 100, 110),
           ("SAND", "MOSS", "INK", "CLAY", "SNOW", "TEAL", "ASH", "RUST"), (), 6, ("*",)),
    Family("ESP", "Espresso Cup Pair", ("home", "fragile"), _d("26.00"), 1.2, 300,
           (160, 110, 80), ("SAND", "INK", "SNOW", "MOSS"), (), 6),
    Family("CNDL", "Scented Candle", ("home", "fragile"), _d("24.00"), 6.0, 320, (90, 90, 100),
           ("FIG", "CEDAR", "AMBER", "SEA", "LINEN", "TEA", "PINE", "ROSE", "SMOKE", "CITRUS"),
           ("S", "L"), 6, ("FIG", "CEDAR", "AMBER", "SEA", "LINEN"),
           {"S": _d("24.00"), "L": _d("42.00")}),
    Family("CUSH", "Linen Cushion Cover", ("home",), _d("38.00"), 1.8, 250, (300, 250, 20),
           ("OAT", "RUST", "SAGE", "INK", "SNOW", "CLAY"), ("45", "60"), 6, (),
           {"45": _d("38.00"), "60": _d("46.00")}),
    Family("THRW", "Wool Throw", ("home", "premium"), _d("119.00"), 1.3, 1100, (400, 300, 80),
           ("OAT", "CHR", "RUST", "MOSS", "INK"), (), 4),
    Family("PLNT", "Ceramic Planter", ("home", "fragile"), _d("28.00"), 1.9, 800,
           (180, 180, 170), ("SAND", "MOSS", "INK", "SNOW"), ("S", "M", "L"), 6, (),
           {"S": _d("28.00"), "M": _d("39.00"), "L": _d("54.00")}),
    Family("CRF", "Glass Carafe", ("home", "fragile"), _d("45.00"), 0.7, 700, (120, 120, 260),
           ("CLR", "SMK"), (), 6),
    Family("TTWL", "Tea Towel Set", ("home",), _d("19.00"), 1.4, 200, (250, 180, 30),
           ("STRIPE", "CHECK", "SAGE", "RUST", "INK", "OAT"), (), 12),
    Family("TOWL", "Cotton Towel", ("home",), _d("24.00"), 1.6, 500, (300, 250, 80),
           ("SNOW", "SAND", "SAGE", "INK", "CLAY"), ("HAND", "BATH"), 6, (),
           {"HAND": _d("24.00"), "BATH": _d("48.00")}),
    Family("BRD", "Wooden Cutting Board", ("home",), _d("49.00"), 0.9, 1200, (400, 250, 25),
           ("OAK", "WAL"), ("S", "L"), 4, (), {"S": _d("49.00"), "L": _d("79.00")}),
    Family("BOWL", "Stoneware Serving Bowl", ("home", "fragile", "premium"), _d("58.00"), 0.8,
           1400, (280, 280, 110), ("SAND", "MOSS", "INK", "SNOW"), (), 4),
    Family("NAPK", "Linen Napkins Set of 4", ("home",), _d("32.00"), 0.8, 240, (220, 200, 30),
           ("OAT", "RUST", "SAGE", "SNOW", "INK"), (), 12),
    Family("CLCK", "Oak Wall Clock", ("home", "premium", "fragile"), _d("89.00"), 0.4, 900,
           (320, 320, 60), ("NAT", "BLK", "WHT"), (), 4),
    # accessories
    Family("WLT", "Leather Wallet", ("accessories", "premium"), _d("89.00"), 1.6, 120,
           (120, 100, 25), ("TAN", "BLK", "BRN", "OXB"), (), 4),
    Family("CARD", "Leather Card Holder", ("accessories", "premium"), _d("49.00"), 1.5, 60,
           (110, 80, 10), ("TAN", "BLK", "BRN", "OXB"), (), 4, ("*",)),
    Family("BELT", "Leather Belt", ("accessories", "premium"), _d("79.00"), 0.9, 220,
           (200, 120, 50), ("TAN", "BLK"), ("S", "M", "L", "XL"), 4),
    Family("TOTE", "Canvas Tote", ("accessories",), _d("34.00"), 2.6, 300, (400, 380, 20),
           ("NAT", "BLK", "NVY", "OLV", "RUST", "STRIPE"), (), 12, ("*",)),
    Family("WKND", "Weekender Bag", ("accessories", "premium"), _d("249.00"), 0.5, 1600,
           (550, 300, 250), ("TAN", "BLK", "OLV"), (), 2),
    Family("NOTE", "A5 Dot-Grid Notebook", ("accessories",), _d("18.00"), 2.4, 280,
           (210, 150, 15), ("BLK", "SAGE", "RUST", "INK", "SAND", "RED"), (), 12, ("*",)),
    Family("PEN", "Brass Fountain Pen", ("accessories", "premium"), _d("65.00"), 0.6, 70,
           (160, 50, 30), ("BRS", "BLK", "SLV"), (), 4),
    Family("SUN", "Acetate Sunglasses", ("accessories", "premium", "fragile"), _d("119.00"),
           1.0, 90, (170, 70, 50), ("TRT", "BLK", "HNY", "CLR"), (), 4),
    Family("CASE", "Recycled Phone Case", ("accessories",), _d("29.00"), 2.5, 60,
           (180, 100, 20), ("BLK", "SAND", "SAGE", "RUST"), ("P13", "P14", "P15", "P16"), 12),
    Family("BTL", "Insulated Water Bottle", ("accessories",), _d("32.00"), 1.8, 350,
           (80, 80, 260), ("BLK", "SNOW", "SAGE", "INK", "RUST", "SAND"), (), 6),
    Family("UMB", "Compact Umbrella", ("accessories",), _d("39.00"), 0.8, 380, (280, 70, 70),
           ("BLK", "NVY", "YEL", "CHK"), (), 6),
    Family("SCRF", "Silk Scarf", ("accessories", "premium"), _d("95.00"), 0.9, 80,
           (200, 200, 20), ("IVY", "INK", "POPPY", "SAND", "TEAL", "PLUM"), (), 4),
    # pantry
    Family("COF", "Ground Coffee 250 g", ("pantry",), _d("16.00"), 2.6, 270, (160, 90, 60),
           ("HOUSE", "DARK", "DECAF", "ESPR", "ETH", "COL", "BRZ", "GUA"), (), 12),
    Family("TEA", "Loose Leaf Tea 100 g", ("pantry",), _d("14.00"), 1.6, 130, (120, 80, 80),
           ("EARL", "GRN", "CHAI", "MINT", "CHAM", "SENCHA", "ROOI", "BRKF"), (), 12),
    Family("CHOC", "Dark Chocolate Bar", ("pantry",), _d("7.00"), 1.4, 100, (160, 80, 10),
           ("70", "85", "SALT", "ORNG", "MILK", "ALMD", "CHIL", "MINT"), (), 24),
)

# (code, name, components, price, popularity, extra tags)
KITS: tuple[tuple[str, str, tuple[tuple[str, int], ...], str, float, tuple[str, ...]], ...] = (
    ("KIT-MORNING", "Morning Ritual Gift Set",
     (("MUG-SAND", 1), ("COF-HOUSE", 1), ("CHOC-70", 1)), "49.00", 1.6, ("home", "fragile")),
    ("KIT-TEATIME", "Tea Time Gift Set",
     (("ESP-SNOW", 1), ("TEA-EARL", 1), ("TEA-GRN", 1)), "52.00", 0.8, ("home", "fragile")),
    ("KIT-CANDLE-DUO", "Candle Duo",
     (("CNDL-FIG-S", 1), ("CNDL-CEDAR-S", 1)), "44.00", 1.4, ("home", "fragile", PILOT_TAG)),
    ("KIT-SPA", "Home Spa Set",
     (("TOWL-SNOW-BATH", 1), ("TOWL-SNOW-HAND", 1), ("CNDL-LINEN-S", 1)), "89.00", 0.7,
     ("home", "premium")),
    ("KIT-DESK", "Writer's Desk Set", (("NOTE-BLK", 1), ("PEN-BRS", 1)), "79.00", 0.6,
     ("accessories", "premium")),
    ("KIT-LEATHER", "Leather Gift Set", (("WLT-TAN", 1), ("CARD-TAN", 1)), "129.00", 0.6,
     ("accessories", "premium")),
    ("KIT-SOCKS-6", "Everyday Socks 6-Pack", (("SOCK-MIX-SM", 2),), "29.00", 1.2,
     ("apparel", PILOT_TAG)),
    ("KIT-TRAVEL", "Travel Set", (("WKND-TAN", 1), ("TOTE-NAT", 1)), "269.00", 0.3,
     ("accessories", "premium")),
)

# fmt: on

_FRAGILE_NOTE = "Wrap in two layers of paper, fill every void, mark the carton FRAGILE."
_PREMIUM_NOTE = "Tissue wrap, branded box, insert card on top."
_KIT_NOTE = "Assemble the components in one gift box; components must not rattle."


def _instructions(tags: tuple[str, ...], kit: bool) -> str | None:
    notes = []
    if kit:
        notes.append(_KIT_NOTE)
    if "premium" in tags:
        notes.append(_PREMIUM_NOTE)
    if "fragile" in tags:
        notes.append(_FRAGILE_NOTE)
    return " ".join(notes) or None


def build_catalog(rng: random.Random) -> list[Product]:
    """Every product of the demo catalog, kits last (their components come first)."""
    products: list[Product] = []
    for family in FAMILIES:
        variants = family.variants
        sizes = family.sizes or ("",)
        for rank, variant in enumerate(variants):
            colour_share = 1.0 / (1.0 + 0.35 * rank)  # the first colours sell best
            for size in sizes:
                sku = f"{family.code}-{variant}" + (f"-{size}" if size else "")
                share = colour_share * SIZE_SHARE.get(size, 1.0)
                noise = rng.lognormvariate(0.0, 0.35)
                pilot = "*" in family.pilot_variants or variant in family.pilot_variants
                tags = family.tags + ((PILOT_TAG,) if pilot else ())
                label = variant.title() if not variant.isdigit() else f"{variant}%"
                name = f"{family.name}, {label}" + (f", {size}" if size else "")
                scale = 1.0 + 0.12 * (sizes.index(size) - len(sizes) / 2) if size else 1.0
                products.append(
                    Product(
                        sku=sku,
                        name=name,
                        tags=tuple(sorted(tags)),
                        price=family.size_prices.get(size, family.price),
                        popularity=family.popularity * share * noise / len(sizes),
                        weight_g=max(10, round(family.weight_g * scale)),
                        dims_mm=family.dims_mm,
                        case_pack=family.case_pack,
                        instructions=_instructions(family.tags, kit=False),
                    )
                )
    known = {p.sku: p for p in products}
    for code, name, components, price, popularity, tags in KITS:
        missing = [c for c, _ in components if c not in known]
        if missing:
            raise ValueError(f"kit {code} lists unknown components {missing}")
        weight = sum(known[c].weight_g * q for c, q in components) + 250
        all_tags = tuple(sorted({*tags, "kit"}))
        products.append(
            Product(
                sku=code,
                name=name,
                tags=all_tags,
                price=_d(price),
                popularity=popularity,
                weight_g=weight,
                dims_mm=(320, 260, 140),
                case_pack=1,
                components=components,
                instructions=_instructions(all_tags, kit=True),
            )
        )
    return products


def stocked_parts(product: Product) -> tuple[tuple[str, int], ...]:
    """The SKUs that hold stock for one unit of ``product`` (its components for a kit)."""
    return product.components or ((product.sku, 1),)
