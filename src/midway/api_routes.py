"""Every router of the API, in one place."""

from __future__ import annotations

from fastapi import FastAPI

from midway.agreements.api import router as agreements
from midway.billing.api import router as billing
from midway.catalog.api import router as catalog
from midway.edi.api import router as edi
from midway.events.api import router as events
from midway.facilities.api import router as facilities
from midway.fulfillment.api import router as fulfillment
from midway.inbound.api import router as inbound
from midway.incidents.api import router as incidents
from midway.inventory.api import router as inventory
from midway.kpis.api import router as kpis
from midway.orders.api import router as orders
from midway.parties.api import router as parties
from midway.returns.api import router as returns
from midway.sla.api import router as sla
from midway.tasks.api import router as tasks
from midway.web.pages import router as pages
from midway.webhooks.api import router as webhooks


def include_all(app: FastAPI) -> None:
    """Mount every router.

    Requests are matched against the routes one by one, in this order, so the routers of
    the busiest paths (order intake, fulfillment orders, tasks, the event feed) come first
    and the landing page last. No path of one router overlaps another's, so the order
    changes nothing but the time to find a route."""
    for router in (
        orders,
        fulfillment,
        tasks,
        events,
        inventory,
        catalog,
        facilities,
        agreements,
        parties,
        inbound,
        returns,
        incidents,
        sla,
        kpis,
        billing,
        edi,
        webhooks,
        pages,
    ):
        app.include_router(router)
