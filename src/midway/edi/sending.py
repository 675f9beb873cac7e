"""Writing one document for a partner: rendered with its profile and control numbers, checked
by parsing it back, recorded in ``edi_documents`` and queued for its outbox.

Every outbound set (940, 943, 944, 945, 947, 846) goes through :func:`send`; the builders
only say which segments to write and which Midway objects and events the document comes from.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from midway.db import new_id, utcnow
from midway.edi import transport
from midway.edi.models import EdiDocument, EdiPartner
from midway.edi.service import StoredCounter, control, engine_profile, partners_of_party
from midway.integrations.edi import (
    Delimiters,
    PartnerProfile,
    Segment,
    Severity,
    TransactionSet,
    render,
    validate,
)

# Control characters no value contains: sets built here are re-split on them when rendered.
BUILT = Delimiters("\x1d", "\x1f", "\x1c", "\x1e")


@dataclass
class Recording:
    """Hands out a partner's control numbers and remembers the last ones (the document's)."""

    counter: StoredCounter
    interchange: int = 0
    group: int = 0
    transaction_set: int = 0

    def next_interchange(self) -> int:
        """The next ISA13."""
        self.interchange = self.counter.next_interchange()
        return self.interchange

    def next_group(self) -> int:
        """The next GS06."""
        self.group = self.counter.next_group()
        return self.group

    def next_set(self) -> int:
        """The next ST02."""
        self.transaction_set = self.counter.next_set()
        return self.transaction_set


def partners(
    session: Session, party_id: str, since: datetime, code: str | None = None
) -> list[EdiPartner]:
    """A party's enabled partners that existed when the event happened; with ``code``, only
    those serving that facility (a provider's WMS with a facility serves only that one)."""
    return [
        p
        for p in partners_of_party(session, party_id)
        if p.created_at <= since and (code is None or p.facility_code in (None, code))
    ]


def clean(value: object, profile: PartnerProfile, size: int) -> str:
    """A value safe to write: no delimiter or line break of the partner, at most ``size``."""
    text = "" if value is None else str(value)
    for char in (*profile.delimiters.characters(), "\r", "\n"):
        text = text.replace(char, " ")
    return text.strip()[:size].strip()


def day(moment: datetime | None) -> str:
    """CCYYMMDD (empty without a moment)."""
    return moment.strftime("%Y%m%d") if moment is not None else ""


def iso_day(value: object) -> str:
    """CCYYMMDD of an ISO 8601 text (as events carry times), or empty."""
    return value[:10].replace("-", "") if isinstance(value, str) and len(value) >= 10 else ""


def depositor(merchant_id: str, name: str, profile: PartnerProfile) -> list[str]:
    """N1*DE: whose goods these are (N104 the merchant's Midway id)."""
    return ["N1", "DE", clean(name, profile, 60), "ZZ", merchant_id]


def warehouse(name: str, code: str, profile: PartnerProfile) -> list[str]:
    """N1*WH: the facility (N104 its code, which inbound documents read back)."""
    return ["N1", "WH", clean(name, profile, 60), "ZZ", clean(code, profile, 80)]


def send(
    session: Session,
    partner: EdiPartner,
    set_id: str,
    rows: Sequence[Sequence[str]],
    objects: dict[str, object],
    now: datetime,
) -> EdiDocument:
    """Render one set for a partner, check it, record it and queue it for the outbox."""
    profile = engine_profile(partner)
    tset = TransactionSet(
        id=set_id,
        control_number="0001",
        header=Segment(["ST", set_id, "0001"]),
        items=[Segment(list(r)) for r in rows],
        delimiters=BUILT,
    )
    numbers = Recording(StoredCounter(session, partner.id))
    rendered = render([tset], profile, numbers, now=now)
    problems = list(rendered.diagnostics)
    if rendered.ok:
        problems += validate(rendered.text.encode("utf-8"), overrides=profile.overrides)
    failed = not rendered.ok or any(d.severity is Severity.ERROR for d in problems)
    document = EdiDocument(
        id=new_id("edd"),
        partner_id=partner.id,
        direction="out",
        set_id=set_id,
        interchange_control=str(numbers.interchange),
        group_control=str(numbers.group),
        set_control=control(str(numbers.transaction_set)),
        status="failed" if failed else "sent",
        objects=objects,
        diagnostics=[d.to_dict() for d in problems],
        note="the document failed its own checks and was not sent" if failed else None,
        file_name=None,
        created_at=utcnow(),
        updated_at=utcnow(),
        ack_status=None,
        ack_codes=None,
        acknowledged_at=None,
        ack_document_id=None,
    )
    if not failed:
        name = f"{set_id}-{numbers.interchange:09d}.edi"
        document.file_name = transport.write_outbox(session, partner.id, name, rendered.text)
    session.add(document)
    session.flush()
    return document
