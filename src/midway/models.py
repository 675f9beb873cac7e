"""Imports every table so that metadata (migrations, tests) sees the whole schema."""

from midway.agreements.models import Agreement, AgreementVersion
from midway.billing.models import (
    Invoice,
    InvoiceAudit,
    InvoiceAuditFinding,
    InvoiceAuditRow,
    InvoiceLine,
)
from midway.catalog.models import Sku
from midway.db import Base
from midway.edi.models import (
    EdiCursor,
    EdiDocument,
    EdiPartner,
    ProviderSnapshot,
    ProviderSnapshotLine,
)
from midway.events.models import Event
from midway.facilities.models import Facility
from midway.fulfillment.models import FulfillmentOrder, FulfillmentOrderLine, Hold, Shipment
from midway.idempotency.models import IdempotencyKey
from midway.inbound.models import InboundLine, InboundShipment
from midway.incidents.models import Incident, IncidentMessage
from midway.inventory.models import StockBalance, StockMovement
from midway.kpis.models import InventoryCountFact, OrderFact
from midway.orders.models import Order, OrderLine
from midway.parties.models import ApiKey, Party
from midway.returns.models import ReturnAuthorization, ReturnLine
from midway.sla.models import FacilityClosure, SlaClock, SlaCursor
from midway.tasks.models import Task
from midway.webhooks.models import WebhookDelivery, WebhookEndpoint

metadata = Base.metadata

__all__ = [
    "Agreement",
    "AgreementVersion",
    "ApiKey",
    "EdiCursor",
    "EdiDocument",
    "EdiPartner",
    "Event",
    "Facility",
    "FacilityClosure",
    "FulfillmentOrder",
    "FulfillmentOrderLine",
    "Hold",
    "IdempotencyKey",
    "InboundLine",
    "InboundShipment",
    "Incident",
    "IncidentMessage",
    "InventoryCountFact",
    "Invoice",
    "InvoiceAudit",
    "InvoiceAuditFinding",
    "InvoiceAuditRow",
    "InvoiceLine",
    "Order",
    "OrderFact",
    "OrderLine",
    "Party",
    "ProviderSnapshot",
    "ProviderSnapshotLine",
    "ReturnAuthorization",
    "ReturnLine",
    "Shipment",
    "Sku",
    "SlaClock",
    "SlaCursor",
    "StockBalance",
    "StockMovement",
    "Task",
    "WebhookDelivery",
    "WebhookEndpoint",
    "metadata",
]
