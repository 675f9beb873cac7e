"""Routes: agreements, versions and matrix resolution."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field, StrictBool

from midway.agreements import service
from midway.agreements.models import Agreement, AgreementVersion
from midway.api_deps import CurrentPrincipal, Db
from midway.facilities.models import Facility
from midway.schemas import PROBLEM_RESPONSES, StrictModel

router = APIRouter(tags=["agreements"], responses=PROBLEM_RESPONSES)


class TermsIn(StrictModel):
    """Terms of an agreement version."""

    facility_codes: list[str] = Field(description="the provider's facilities that serve you")
    template: str | None = Field(
        None,
        description="classic_semi_managed | fully_managed | "
        "in_house (default classic_semi_managed)",
    )
    matrix: dict[str, Any] | None = Field(
        None, description="rules and defaults; overrides the template"
    )
    scope: dict[str, Any] | None = Field(None, description="sku_tags, skus, channels, countries")
    data_sharing: dict[str, Any] | None = None
    auto_submit: StrictBool = Field(
        True, description="submit new fulfillment orders to the provider automatically"
    )
    sla_terms: list[dict[str, Any]] | None = Field(
        None, description="SLA terms; omitted means the default terms (see docs/sla.md)"
    )
    rate_card: dict[str, Any] | None = Field(None, description="the provider's prices")

    def terms(self) -> service.Terms:
        """As the service's value."""
        data = self.model_dump(include=set(TermsIn.model_fields))
        data["data_sharing"] = data["data_sharing"] or dict(service.DEFAULT_SHARING)
        return service.Terms(**data)


class AgreementIn(TermsIn):
    """A new agreement proposed by a merchant."""

    provider_id: str
    name: str | None = None


class VersionOut(BaseModel):
    """One version of an agreement's terms."""

    version: int
    status: str
    facility_codes: list[str]
    template: str | None
    matrix: dict[str, Any]
    scope: dict[str, Any]
    data_sharing: dict[str, Any]
    auto_submit: bool
    sla_terms: list[dict[str, Any]] | None
    rate_card: dict[str, Any] | None
    proposed_by: str
    proposed_at: datetime
    decided_at: datetime | None


class AgreementOut(BaseModel):
    """An agreement: the status and number of its newest version, and every version."""

    id: str
    merchant_id: str
    provider_id: str
    name: str | None
    status: str
    version: int
    active_version: int | None
    versions: list[VersionOut]


class Resolution(BaseModel):
    """Who owns a process, the rule that decided it and why."""

    process: str
    owner: str | None
    rule: str | None
    reason: str
    facility: str | None
    sla_target: str | None
    cost_bearer: str | None
    agreement_version: int


def _out(session: Any, agreement: Agreement, versions: list[AgreementVersion]) -> AgreementOut:
    ids = {fid for v in versions for fid in v.facility_ids}
    codes = {f.id: f.code for f in session.query(Facility).filter(Facility.id.in_(ids))}
    latest = versions[0]
    return AgreementOut(
        id=agreement.id,
        merchant_id=agreement.merchant_id,
        provider_id=agreement.provider_id,
        name=agreement.name,
        status=latest.status,
        version=latest.version,
        active_version=agreement.active_version,
        versions=[
            VersionOut(
                version=v.version,
                status=v.status,
                facility_codes=[codes.get(f, f) for f in v.facility_ids],
                template=v.template,
                matrix=v.matrix,
                scope=v.scope,
                data_sharing=v.data_sharing,
                auto_submit=v.auto_submit,
                sla_terms=v.sla_terms,
                rate_card=v.rate_card,
                proposed_by=v.proposed_by,
                proposed_at=v.proposed_at,
                decided_at=v.decided_at,
            )
            for v in versions
        ],
    )


@router.post("/v1/agreements", response_model=AgreementOut, status_code=201)
def propose(body: AgreementIn, principal: CurrentPrincipal, db: Db) -> AgreementOut:
    """A merchant proposes an agreement to a provider (status proposed, version 1)."""
    with db.transaction() as session:
        agreement, _ = service.propose(
            session, principal, provider_id=body.provider_id, terms=body.terms(), name=body.name
        )
        return _out(session, *service.get(session, principal, agreement.id))


@router.get("/v1/agreements", response_model=list[AgreementOut])
def list_agreements(principal: CurrentPrincipal, db: Db) -> list[AgreementOut]:
    """The agreements the caller is a party to."""
    with db.transaction(write=False) as session:
        return [
            _out(session, *service.get(session, principal, a.id))
            for a in service.list_visible(session, principal)
        ]


@router.get("/v1/agreements/{agreement_id}", response_model=AgreementOut)
def get_agreement(agreement_id: str, principal: CurrentPrincipal, db: Db) -> AgreementOut:
    """An agreement with every version."""
    with db.transaction(write=False) as session:
        return _out(session, *service.get(session, principal, agreement_id))


@router.post("/v1/agreements/{agreement_id}/versions", response_model=AgreementOut, status_code=201)
def propose_version(
    agreement_id: str, body: TermsIn, principal: CurrentPrincipal, db: Db
) -> AgreementOut:
    """Propose changed terms as a new version; the current one stays in force until accepted."""
    with db.transaction() as session:
        service.propose_version(session, principal, agreement_id, body.terms())
        return _out(session, *service.get(session, principal, agreement_id))


@router.post("/v1/agreements/{agreement_id}/accept", response_model=AgreementOut)
def accept(agreement_id: str, principal: CurrentPrincipal, db: Db) -> AgreementOut:
    """The other party accepts the pending version; it becomes active."""
    with db.transaction() as session:
        service.decide(session, principal, agreement_id, accept=True)
        return _out(session, *service.get(session, principal, agreement_id))


@router.post("/v1/agreements/{agreement_id}/decline", response_model=AgreementOut)
def decline(agreement_id: str, principal: CurrentPrincipal, db: Db) -> AgreementOut:
    """The other party declines the pending version."""
    with db.transaction() as session:
        service.decide(session, principal, agreement_id, accept=False)
        return _out(session, *service.get(session, principal, agreement_id))


@router.get("/v1/agreements/{agreement_id}/matrix/resolve", response_model=Resolution)
def resolve(
    agreement_id: str,
    process: str,
    principal: CurrentPrincipal,
    db: Db,
    sku: str | None = None,
    channel: str | None = None,
    country: str | None = None,
    order_value: Decimal | None = None,
    version: int | None = None,
) -> Resolution:
    """Who owns ``process`` for this SKU, channel, destination and order value, and why."""
    with db.transaction(write=False) as session:
        decision, number = service.resolve_for(
            session,
            principal,
            agreement_id,
            process=process,
            sku=sku,
            channel=channel,
            country=country,
            order_value=order_value,
            version=version,
        )
    return Resolution(
        process=decision.process,
        owner=decision.owner,
        rule=decision.rule_id,
        reason=decision.reason,
        facility=decision.facility,
        sla_target=decision.sla_target,
        cost_bearer=decision.cost_bearer,
        agreement_version=number,
    )
