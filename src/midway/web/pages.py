"""The landing page: what is running and where to go next."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import func, select

from midway import __version__
from midway.db import Database
from midway.events.models import Event
from midway.fulfillment.models import FulfillmentOrder
from midway.orders.models import Order
from midway.parties.models import Party

router = APIRouter(include_in_schema=False)

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Midway</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body {{ font: 16px/1.5 system-ui, sans-serif; max-width: 46rem; margin: 3rem auto;
       padding: 0 1rem; color: #1d2330; }}
h1 {{ margin-bottom: 0; }} .sub {{ color: #5b6475; margin-top: .2rem; }}
table {{ border-collapse: collapse; margin: 1rem 0; }}
td {{ padding: .25rem 1.2rem .25rem 0; }}
td.n {{ text-align: right; font-variant-numeric: tabular-nums; }}
a {{ color: #1f5fbf; }} code {{ background: #f1f3f7; padding: 0 .25rem; border-radius: 3px; }}
</style></head><body>
<h1>Midway</h1>
<p class="sub">The shared record of a merchant and its 3PLs &middot; version {version}</p>
<p>This hub is running on <strong>{backend}</strong>. Both sides work on one record of orders,
fulfillment orders, stock, tasks and events, each seeing only what its agreements allow.</p>
<table id="counts">
<tr><td>Parties</td><td class="n">{parties}</td></tr>
<tr><td>Orders</td><td class="n">{orders}</td></tr>
<tr><td>Fulfillment orders</td><td class="n">{fos}</td></tr>
<tr><td>Events</td><td class="n">{events}</td></tr>
</table>
<p><a href="/docs">API documentation</a> (interactive) &middot;
<a href="/openapi.json">OpenAPI 3.1 document</a></p>
<p>Every call needs <code>Authorization: Bearer &lt;API key&gt;</code>. Keys are created with
<code>midway party create</code>; <code>make run</code> prints the demo keys.</p>
</body></html>
"""


@router.get("/", response_class=HTMLResponse)
def landing(request: Request) -> HTMLResponse:
    """What is running, with counts and links to the API docs."""
    db: Database = request.app.state.db
    with db.transaction(write=False) as session:
        counts = {
            name: session.scalar(select(func.count()).select_from(model)) or 0
            for name, model in (
                ("parties", Party),
                ("orders", Order),
                ("fos", FulfillmentOrder),
                ("events", Event),
            )
        }
    return HTMLResponse(
        _PAGE.format(
            version=__version__,
            backend=db.engine.dialect.name,
            **{k: f"{v:,}" for k, v in counts.items()},
        )
    )


@router.get("/healthz")
def health(request: Request) -> dict[str, str]:
    """Liveness and database reachability."""
    db: Database = request.app.state.db
    with db.transaction(write=False) as session:
        session.scalar(select(1))
    return {"status": "ok", "database": db.engine.dialect.name}
