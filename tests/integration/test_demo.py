"""The demo: a few days of seeded history must hold a believable, consistent scenario, and
``run_demo`` must recreate its database and hand out working keys."""

from __future__ import annotations

import io
import json
import sqlite3
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from rich.console import Console
from sqlalchemy import select

from midway.agreements.models import Agreement, AgreementVersion
from midway.catalog.models import Sku
from midway.core.fulfillment import HOLD_REASONS
from midway.core.regions import region_of
from midway.db import Database
from midway.demo.run import run_demo
from midway.demo.seed import SeedResult, seed
from midway.facilities.models import Facility
from midway.fulfillment.models import FulfillmentOrder, FulfillmentOrderLine, Hold, Shipment
from midway.inventory.models import StockBalance, StockMovement
from midway.inventory.service import ledger_matches_balances
from midway.orders.models import Order
from midway.parties import service as parties
from midway.parties.models import Party
from midway.schema import upgrade
from midway.tasks.models import Task

NOW = datetime(2025, 3, 13, 18, 0, tzinfo=UTC)  # a Thursday afternoon
DAYS = 3
Seeded = tuple[Database, SeedResult]


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    """Three days of demo history ending on a Thursday afternoon (seeded once)."""
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    db = Database(url)
    result = seed(db, days=DAYS, now=NOW, strict=True)
    yield db, result
    db.dispose()


def _ids(result: SeedResult) -> dict[str, str]:
    return {key.label: key.party_id for key in result.keys}


def test_three_parties_with_admin_keys_and_four_facilities(seeded: Seeded) -> None:
    db, result = seeded
    ids = _ids(result)
    with db.transaction(write=False) as session:
        kinds = {p.id: p.kind for p in session.scalars(select(Party))}
        facilities = {f.code: f for f in session.scalars(select(Facility))}
        principals = {k.label: parties.authenticate(session, k.secret) for k in result.keys}
    assert kinds == {
        ids["merchant"]: "merchant",
        ids["us_provider"]: "provider",
        ids["eu_provider"]: "provider",
    }
    for label, principal in principals.items():
        assert (principal.party_id, principal.role) == (ids[label], "admin")
    assert set(facilities) == {"KS-CHI", "RF-DUS", "NW-STUDIO", "NW-RETURNS"}
    chicago, dusseldorf = facilities["KS-CHI"], facilities["RF-DUS"]
    assert (chicago.party_id, chicago.timezone) == (ids["us_provider"], "America/Chicago")
    assert (dusseldorf.party_id, dusseldorf.timezone) == (ids["eu_provider"], "Europe/Berlin")
    assert facilities["NW-STUDIO"].kind == "packing_studio"
    assert facilities["NW-STUDIO"].party_id == ids["merchant"]


def test_agreements_active_with_different_templates_and_a_limited_eu_pilot(seeded: Seeded) -> None:
    db, result = seeded
    ids = _ids(result)
    with db.transaction(write=False) as session:
        active = {
            a.provider_id: v
            for a, v in session.execute(
                select(Agreement, AgreementVersion).join(
                    AgreementVersion,
                    (AgreementVersion.agreement_id == Agreement.id)
                    & (AgreementVersion.version == Agreement.active_version),
                )
            )
        }
        eu_versions = {
            v.version: v.status
            for v in session.scalars(
                select(AgreementVersion).where(
                    AgreementVersion.agreement_id == active[ids["eu_provider"]].agreement_id
                )
            )
        }
    us, eu = active[ids["us_provider"]], active[ids["eu_provider"]]
    assert us.status == eu.status == "active"
    assert (us.template, eu.template) == ("classic_semi_managed", "fully_managed")
    assert all(value is None for value in us.scope.values())
    assert eu.scope["sku_tags"] == ["eu-pilot"]
    assert eu.scope["countries"] and all(region_of(c) == "EU" for c in eu.scope["countries"])
    # The pilot widened during the history: version 1 is kept as superseded.
    assert eu_versions == {1: "superseded", 2: "active"}


def test_orders_span_several_days_both_channels_and_both_continents(seeded: Seeded) -> None:
    db, _ = seeded
    with db.transaction(write=False) as session:
        orders = list(session.scalars(select(Order)))
    assert len(orders) >= DAYS * 40
    # the DAYS whole days before NOW's day, then that day until NOW
    assert len({o.created_at.date() for o in orders}) == DAYS + 1
    assert all(o.created_at <= NOW for o in orders)
    assert {o.channel for o in orders} == {"web", "amazon"}
    countries = Counter(o.ship_to["country"] for o in orders)
    assert countries["US"] > len(orders) / 2
    assert sum(n for c, n in countries.items() if region_of(c) == "EU") > 0
    assert all(o.currency == ("USD" if o.ship_to["country"] == "US" else "EUR") for o in orders)
    assert all(o.order_value is not None and o.order_value > 0 for o in orders)


def test_a_day_of_history_seeded_just_after_midnight_has_its_orders(tmp_path: Path) -> None:
    """The history is whole days before today plus today so far: seeded ten minutes after
    midnight UTC, one day of history is yesterday's orders, not ten minutes' worth."""
    url = f"sqlite:///{tmp_path / 'midnight.db'}"
    upgrade(url)
    db = Database(url)
    try:
        just_after = datetime(2025, 3, 14, 0, 10, tzinfo=UTC)
        seed(db, days=1, now=just_after, strict=True)
        with db.transaction(write=False) as session:
            days = Counter(o.created_at.date() for o in session.scalars(select(Order)))
    finally:
        db.dispose()
    assert days[just_after.date() - timedelta(days=1)] >= 40


def test_fulfillment_orders_cover_the_whole_lifecycle(seeded: Seeded) -> None:
    db, result = seeded
    with db.transaction(write=False) as session:
        fos = list(session.scalars(select(FulfillmentOrder)))
        parcels = Counter(session.scalars(select(Shipment.fulfillment_order_id)))
        holds = list(session.scalars(select(Hold)))
        order_status = dict(session.execute(select(Order.id, Order.status)).all())
    status = Counter(fo.status for fo in fos)
    request = Counter(fo.request_status for fo in fos)
    assert any(fo.status == "closed" and parcels[fo.id] >= 1 for fo in fos)
    assert max(parcels.values()) >= 2  # shipped in two parcels
    assert request["rejected"] >= 1
    assert status["cancelled"] >= 1
    assert status["incomplete"] >= 1
    assert request["cancellation_accepted"] + request["cancellation_rejected"] >= 1
    assert status["open"] + status["in_progress"] + status["on_hold"] >= 1  # live work
    # A rejected order is re-sourced (elsewhere, or to the same facility once stock arrived)
    # or cancelled by the merchant; until the merchant gets to it, the rejected units wait as
    # backordered.
    by_order = defaultdict(list)
    for fo in fos:
        by_order[fo.order_id].append(fo)
    for fo in (f for f in fos if f.request_status == "rejected"):
        elsewhere = [o for o in by_order[fo.order_id] if o.request_status != "rejected"]
        assert elsewhere or order_status[fo.order_id] in ("cancelled", "backordered")
    assert holds and {h.reason for h in holds} <= set(HOLD_REASONS)
    assert any(h.released_at is not None for h in holds)
    merchant_id = _ids(result)["merchant"]
    assert {h.placed_by == merchant_id for h in holds} == {True, False}  # both parties hold


def test_the_packing_studio_ships_premium_orders_itself(seeded: Seeded) -> None:
    db, _ = seeded
    with db.transaction(write=False) as session:
        studio = session.scalar(select(Facility.id).where(Facility.code == "NW-STUDIO"))
        fos = list(
            session.scalars(select(FulfillmentOrder).where(FulfillmentOrder.facility_id == studio))
        )
        skus = set(
            session.scalars(
                select(FulfillmentOrderLine.sku).where(
                    FulfillmentOrderLine.fulfillment_order_id.in_([fo.id for fo in fos])
                )
            )
        )
        tags = {s.sku: set(s.tags) for s in session.scalars(select(Sku).where(Sku.sku.in_(skus)))}
    assert any(fo.status == "closed" for fo in fos)
    assert all(fo.provider_id is None and fo.request_status == "unsubmitted" for fo in fos)
    assert skus and all("premium" in tags[sku] for sku in skus)


def test_stock_books_balance_and_match_open_work(seeded: Seeded) -> None:
    db, result = seeded
    merchant_id = _ids(result)["merchant"]
    with db.transaction(write=False) as session:
        balances = list(session.scalars(select(StockBalance)))
        kinds = set(session.scalars(select(StockMovement.kind).distinct()))
        problems = ledger_matches_balances(session, merchant_id)
        open_units = session.execute(
            select(
                FulfillmentOrder.facility_id,
                FulfillmentOrderLine.components,
                FulfillmentOrderLine.quantity
                - FulfillmentOrderLine.shipped_quantity
                - FulfillmentOrderLine.released_quantity,
            ).join(
                FulfillmentOrder, FulfillmentOrder.id == FulfillmentOrderLine.fulfillment_order_id
            )
        ).all()
    assert problems == []
    assert all(0 <= b.reserved <= b.on_hand for b in balances)
    assert {
        "receipt",
        "adjustment",
        "count",
        "return",
        "reservation",
        "release",
        "shipment",
    } <= kinds
    expected: Counter[tuple[str, str]] = Counter()
    for facility_id, components, left in open_units:
        for part in components:
            expected[(facility_id, part["sku"])] += left * part["quantity"]
    reserved = Counter({(b.facility_id, b.sku): b.reserved for b in balances if b.reserved})
    assert reserved == +expected


def test_eu_provider_only_gets_pilot_skus_for_eu_destinations(seeded: Seeded) -> None:
    db, result = seeded
    eu_id = _ids(result)["eu_provider"]
    with db.transaction(write=False) as session:
        tags = {s.sku: set(s.tags) for s in session.scalars(select(Sku))}
        rows = session.execute(
            select(FulfillmentOrder, Order.ship_to, AgreementVersion.scope)
            .join(Order, Order.id == FulfillmentOrder.order_id)
            .join(
                AgreementVersion,
                (AgreementVersion.agreement_id == FulfillmentOrder.agreement_id)
                & (AgreementVersion.version == FulfillmentOrder.agreement_version),
            )
            .where(FulfillmentOrder.provider_id == eu_id)
        ).all()
        skus = {
            fo.id: set(
                session.scalars(
                    select(FulfillmentOrderLine.sku).where(
                        FulfillmentOrderLine.fulfillment_order_id == fo.id
                    )
                )
            )
            for fo, _, _ in rows
        }
    assert len(rows) >= 5
    for fo, ship_to, scope in rows:
        assert ship_to["country"] in scope["countries"]
        assert all("eu-pilot" in tags[sku] for sku in skus[fo.id])


def test_tasks_are_done_by_their_owners_and_the_merchant_adds_inserts(seeded: Seeded) -> None:
    db, result = seeded
    merchant_id = _ids(result)["merchant"]
    with db.transaction(write=False) as session:
        tasks = list(session.scalars(select(Task)))
    done = [t for t in tasks if t.status == "done"]
    assert done and all(t.completed_by == t.owner_party_id for t in done)
    assert any(
        t.process == "branded_inserts"
        and t.owner_party_id == merchant_id
        and t.provider_id is not None
        for t in done
    )
    assert any(t.status == "open" for t in tasks)


def test_run_demo_recreates_the_database_and_writes_working_keys(tmp_path: Path) -> None:
    path = tmp_path / "var" / "demo.db"
    path.parent.mkdir()
    with sqlite3.connect(path) as stale:
        stale.execute("CREATE TABLE left_over (x INTEGER)")
    stale.close()
    buffer = io.StringIO()
    console = Console(file=buffer, width=240)
    run_demo(host="127.0.0.1", port=8765, path=path, serve=False, days=1, console=console)
    keys = json.loads((path.parent / "demo-keys.json").read_text())
    output = buffer.getvalue()
    merchant_key = keys["merchant"]["api_key"]
    assert f'curl -H "Authorization: Bearer {merchant_key}"' in output
    assert "http://127.0.0.1:8765/v1/orders?limit=5" in output
    db = Database(f"sqlite:///{path}")
    with db.transaction(write=False) as session:
        for label in ("merchant", "us_provider", "eu_provider"):
            principal = parties.authenticate(session, keys[label]["api_key"])
            assert principal.party_id == keys[label]["party_id"]
            assert keys[label]["api_key"] in output
        assert session.scalar(select(Order.id).limit(1)) is not None
    db.dispose()
    with sqlite3.connect(path) as fresh:
        tables = {r[0] for r in fresh.execute("SELECT name FROM sqlite_master")}
    fresh.close()
    assert "left_over" not in tables and "orders" in tables


def test_run_demo_refuses_to_replace_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("keep me")
    buffer = io.StringIO()
    console = Console(file=buffer, width=200)
    with pytest.raises(SystemExit) as stopped:
        run_demo(host="127.0.0.1", port=8000, path=path, serve=False, days=1, console=console)
    assert stopped.value.code == 2
    assert path.read_text() == "keep me"
    assert "not a SQLite database" in buffer.getvalue()
