"""The demo's cast: one merchant, a US and an EU provider, their facilities and agreements,
and the merchant's catalog, created through the real services."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from midway.agreements import service as agreements
from midway.catalog import service as catalog
from midway.demo.catalog import PILOT_TAG, Product, stocked_parts
from midway.facilities.service import FacilityInput, create_facility
from midway.parties import service as parties
from midway.principal import Principal

MERCHANT_NAME = "Northwind Goods"
US_PROVIDER_NAME = "Keystone Fulfillment"
EU_PROVIDER_NAME = "Rheinfracht Logistik"
US_SITE = "KS-CHI"
EU_SITE = "RF-DUS"
STUDIO = "NW-STUDIO"
RETURNS = "NW-RETURNS"
# The EU pilot starts with three countries and widens to six halfway through the history.
PILOT_COUNTRIES_V1 = ("AT", "DE", "NL")
PILOT_COUNTRIES_V2 = ("AT", "BE", "DE", "FR", "LU", "NL")


@dataclass(frozen=True)
class DemoKey:
    """An API key printed for the newcomer, with the party it belongs to."""

    label: str
    party_id: str
    party_name: str
    role: str
    secret: str


@dataclass(frozen=True)
class Site:
    """A facility as the simulation drives it: who runs it, its clock and its carriers."""

    code: str
    facility_id: str
    runner: Principal
    zone: ZoneInfo
    cutoff: time
    provider_run: bool
    lead_days: tuple[int, int]  # supplier lead time for replenishment, in business days


@dataclass
class World:
    """Everything the simulation needs to know about the demo's parties and products."""

    merchant: Principal
    us: Principal
    eu: Principal
    keys: list[DemoKey]
    products: list[Product]
    sites: dict[str, Site] = field(default_factory=dict)
    us_agreement: str = ""
    eu_agreement: str = ""

    @property
    def by_sku(self) -> dict[str, Product]:
        """Products by SKU code."""
        return {p.sku: p for p in self.products}

    def site_of(self, facility_id: str) -> Site:
        """The site with this facility id."""
        return next(s for s in self.sites.values() if s.facility_id == facility_id)


def create_parties(session: Session) -> World:
    """The three parties, each with an admin key (the demo keys)."""
    keys = []
    principals = []
    for label, kind, name in (
        ("merchant", "merchant", MERCHANT_NAME),
        ("us_provider", "provider", US_PROVIDER_NAME),
        ("eu_provider", "provider", EU_PROVIDER_NAME),
    ):
        party, key = parties.create_party(session, kind=kind, name=name, role="admin")
        keys.append(DemoKey(label, party.id, party.name, key.role, key.secret))
        principals.append(Principal(party_id=party.id, kind=kind, role="admin"))
    merchant, us, eu = principals
    return World(merchant=merchant, us=us, eu=eu, keys=keys, products=[])


def create_sites(session: Session, world: World) -> None:
    """Four facilities: the US and EU warehouses, the merchant's studio and returns centre.

    The studio costs less per parcel and more per unit than the US warehouse, so it wins
    small all-premium orders; the numbers are chosen so that no whole number of units costs
    the same at both (a tie would be broken by the random facility ids).
    """
    specs = (
        (
            world.us,
            FacilityInput(
                US_SITE,
                "Keystone Chicago DC",
                "US",
                "America/Chicago",
                "14:00",
                "warehouse",
                Decimal("3.00"),
                Decimal("0.40"),
            ),
            (4, 7),
        ),
        (
            world.eu,
            FacilityInput(
                EU_SITE,
                "Rheinfracht Duesseldorf",
                "DE",
                "Europe/Berlin",
                "15:00",
                "warehouse",
                Decimal("3.20"),
                Decimal("0.45"),
            ),
            (6, 9),
        ),
        (
            world.merchant,
            FacilityInput(
                STUDIO,
                "Northwind Packing Studio, Brooklyn",
                "US",
                "America/New_York",
                "15:00",
                "packing_studio",
                Decimal("2.45"),
                Decimal("0.55"),
            ),
            (3, 5),
        ),
        (
            world.merchant,
            FacilityInput(
                RETURNS,
                "Northwind Returns, Newark",
                "US",
                "America/New_York",
                "16:00",
                "returns_centre",
                Decimal("0.00"),
                Decimal("0.00"),
            ),
            (5, 5),
        ),
    )
    for runner, data, lead in specs:
        facility = create_facility(session, runner, data)
        hours, minutes = (int(p) for p in data.cutoff_local_time.split(":"))
        world.sites[data.code] = Site(
            code=data.code,
            facility_id=facility.id,
            runner=runner,
            zone=ZoneInfo(data.timezone),
            cutoff=time(hours, minutes),
            provider_run=runner.is_provider,
            lead_days=lead,
        )


def eu_terms(countries: tuple[str, ...]) -> agreements.Terms:
    """The EU pilot's terms: fully managed, pilot SKUs only, a few EU countries."""
    return agreements.Terms(
        facility_codes=[EU_SITE],
        template="fully_managed",
        scope={"sku_tags": [PILOT_TAG], "countries": list(countries)},
    )


def propose_agreements(session: Session, world: World) -> None:
    """The merchant proposes both agreements (accepted later by each provider)."""
    us, _ = agreements.propose(
        session,
        world.merchant,
        provider_id=world.us.party_id,
        name="Keystone US fulfilment",
        terms=agreements.Terms(facility_codes=[US_SITE], template="classic_semi_managed"),
    )
    eu, _ = agreements.propose(
        session,
        world.merchant,
        provider_id=world.eu.party_id,
        name="Rheinfracht EU pilot",
        terms=eu_terms(PILOT_COUNTRIES_V1),
    )
    world.us_agreement, world.eu_agreement = us.id, eu.id


def load_catalog(session: Session, world: World, products: list[Product]) -> None:
    """Create every SKU (components before kits, in one all-or-nothing upsert)."""
    catalog.upsert_many(session, world.merchant, [p.as_input() for p in products])
    world.products = products


def stocked_at(world: World) -> dict[str, set[str]]:
    """Which SKUs each site keeps on hand: the US warehouse everything, the EU warehouse the
    pilot range, the studio the light premium range."""
    parts_of = {p.sku: stocked_parts(p) for p in world.products}
    everything = {s for p in world.products for s, _ in parts_of[p.sku]}
    pilot = {s for p in world.products if PILOT_TAG in p.tags for s, _ in parts_of[p.sku]}
    studio = {
        p.sku for p in world.products if "premium" in p.tags and not p.is_kit and p.weight_g < 1000
    }
    return {US_SITE: everything, EU_SITE: pilot, STUDIO: studio}
