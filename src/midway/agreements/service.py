"""Use cases for agreements: propose, accept or decline, version, resolve the matrix.

An agreement's terms live in numbered versions. The merchant proposes version 1; the provider
accepts it and it becomes active. Either party may later propose a new version; when the other
accepts it, it becomes active and the previous one is kept as ``superseded``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, or_, select, tuple_
from sqlalchemy.orm import Session

from midway import reads
from midway.agreements.models import Agreement, AgreementVersion
from midway.catalog import service as catalog
from midway.core import sharing
from midway.core.matrix import Context, Decision, Matrix, matrix_to_dict, parse_matrix, resolve
from midway.core.rating import RatingError, parse_rate_card
from midway.core.scope import Scope, parse_scope, scope_to_dict
from midway.core.sla_terms import parse_sla_terms
from midway.core.templates import template
from midway.db import new_id, per_dialect, utcnow
from midway.errors import Conflict, InvalidInput, InvalidState, NotFound
from midway.events.service import NewEvent, emit
from midway.facilities.models import Facility
from midway.parties.models import Party
from midway.principal import Principal

DEFAULT_TEMPLATE = "classic_semi_managed"
DEFAULT_SHARING = sharing.DEFAULT.as_dict()


@dataclass(frozen=True)
class Terms:
    """The terms a party proposes (version content)."""

    facility_codes: list[str]
    template: str | None = None
    matrix: dict[str, Any] | None = None
    scope: dict[str, Any] | None = None
    data_sharing: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_SHARING))
    auto_submit: bool = True
    sla_terms: list[Any] | None = None
    rate_card: dict[str, Any] | None = None


@dataclass(frozen=True)
class ActiveTerms:
    """An active agreement version, parsed for use on the hot path."""

    agreement_id: str
    version: int
    provider_id: str
    facility_ids: tuple[str, ...]
    matrix: Matrix
    scope: Scope
    auto_submit: bool


def _visible(session: Session, principal: Principal, agreement_id: str) -> Agreement:
    agreement = session.get(Agreement, agreement_id)
    if agreement is None or principal.party_id not in (
        agreement.merchant_id,
        agreement.provider_id,
    ):
        raise NotFound(f"no agreement {agreement_id}")
    return agreement


def _version(session: Session, agreement_id: str, version: int) -> AgreementVersion:
    row = session.get(AgreementVersion, (agreement_id, version))
    if row is None:
        raise NotFound(f"agreement {agreement_id} has no version {version}")
    return row


def _build_terms(session: Session, provider_id: str, terms: Terms) -> dict[str, Any]:
    if not terms.facility_codes:
        raise InvalidInput("name at least one of the provider's facilities", field="facility_codes")
    facility_ids = []
    for i, code in enumerate(terms.facility_codes):
        fid = session.scalar(
            select(Facility.id).where(Facility.party_id == provider_id, Facility.code == code)
        )
        if fid is None:
            raise InvalidInput(
                f"the provider runs no facility '{code}'",
                field=f"facility_codes[{i}]",
                code="unknown_facility",
            )
        facility_ids.append(fid)
    if terms.matrix is not None:
        matrix = parse_matrix(terms.matrix)
        template_name = terms.template
    else:
        template_name = terms.template or DEFAULT_TEMPLATE
        matrix = template(template_name)
    if terms.sla_terms is not None:
        parse_sla_terms(terms.sla_terms)  # raises with the path of the bad term
    if terms.rate_card is not None:
        try:
            parse_rate_card(terms.rate_card)
        except RatingError as exc:  # name the field inside the agreement body
            where = f"rate_card.{exc.field}" if exc.field else "rate_card"
            raise InvalidInput(str(exc), field=where, code=exc.code) from None
    return {
        "facility_ids": facility_ids,
        "template": template_name,
        "matrix": matrix_to_dict(matrix),
        "scope": scope_to_dict(parse_scope(terms.scope)),
        "data_sharing": sharing.parse_sharing(terms.data_sharing).as_dict(),
        "auto_submit": terms.auto_submit,
        "sla_terms": terms.sla_terms,
        "rate_card": terms.rate_card,
    }


def propose(
    session: Session,
    principal: Principal,
    *,
    provider_id: str,
    terms: Terms,
    name: str | None = None,
) -> tuple[Agreement, AgreementVersion]:
    """A merchant proposes a new agreement to a provider (version 1, status proposed)."""
    principal.require("admin")
    principal.require_kind("merchant", "propose an agreement")
    provider = session.get(Party, provider_id)
    if provider is None or provider.kind != "provider":
        raise InvalidInput(
            f"no provider {provider_id}", field="provider_id", code="unknown_provider"
        )
    content = _build_terms(session, provider_id, terms)
    now = utcnow()
    agreement = Agreement(
        id=new_id("agr"),
        merchant_id=principal.party_id,
        provider_id=provider_id,
        name=name,
        active_version=None,
        latest_version=1,
        created_at=now,
    )
    version = AgreementVersion(
        agreement_id=agreement.id,
        version=1,
        merchant_id=principal.party_id,
        status="proposed",
        proposed_by=principal.party_id,
        proposed_at=now,
        decided_at=None,
        **content,
    )
    session.add_all([agreement, version])
    session.flush()
    _event(session, agreement, "agreement.proposed", principal, version=1)
    return agreement, version


def propose_version(
    session: Session, principal: Principal, agreement_id: str, terms: Terms
) -> AgreementVersion:
    """Either party proposes changed terms as a new version; the old one stays as it is."""
    principal.require("admin")
    agreement = _visible(session, principal, agreement_id)
    pending = session.scalar(
        select(AgreementVersion.version).where(
            AgreementVersion.agreement_id == agreement_id, AgreementVersion.status == "proposed"
        )
    )
    if pending is not None:
        raise InvalidState(
            f"version {pending} is still awaiting a decision", code="version_pending"
        )
    content = _build_terms(session, agreement.provider_id, terms)
    agreement.latest_version += 1
    version = AgreementVersion(
        agreement_id=agreement_id,
        version=agreement.latest_version,
        merchant_id=agreement.merchant_id,
        status="proposed",
        proposed_by=principal.party_id,
        proposed_at=utcnow(),
        decided_at=None,
        **content,
    )
    session.add(version)
    session.flush()
    _event(session, agreement, "agreement.proposed", principal, version=version.version)
    return version


def decide(
    session: Session, principal: Principal, agreement_id: str, *, accept: bool
) -> tuple[Agreement, AgreementVersion]:
    """The party that did not propose the pending version accepts or declines it."""
    principal.require("admin")
    agreement = _visible(session, principal, agreement_id)
    version = session.scalar(
        select(AgreementVersion).where(
            AgreementVersion.agreement_id == agreement_id, AgreementVersion.status == "proposed"
        )
    )
    if version is None:
        raise InvalidState("no version is awaiting a decision", code="nothing_to_decide")
    if version.proposed_by == principal.party_id:
        raise Conflict(
            "the other party must accept or decline what you proposed", code="own_proposal"
        )
    now = utcnow()
    version.decided_at = now
    if accept:
        if agreement.active_version is not None:
            _version(session, agreement_id, agreement.active_version).status = "superseded"
        version.status = "active"
        agreement.active_version = version.version
    else:
        version.status = "declined"
    session.flush()
    kind = "agreement.accepted" if accept else "agreement.declined"
    _event(session, agreement, kind, principal, version=version.version)
    return agreement, version


def _event(
    session: Session, agreement: Agreement, kind: str, principal: Principal, **data: Any
) -> None:
    emit(
        session,
        [
            NewEvent(
                type=kind,
                merchant_id=agreement.merchant_id,
                provider_id=agreement.provider_id,
                subject_type="agreement",
                subject_id=agreement.id,
                actor_party_id=principal.party_id,
                data={"agreement_id": agreement.id, **data},
            )
        ],
    )


def get(
    session: Session, principal: Principal, agreement_id: str
) -> tuple[Agreement, list[AgreementVersion]]:
    """An agreement with all its versions, newest first."""
    agreement = _visible(session, principal, agreement_id)
    versions = list(
        session.scalars(
            select(AgreementVersion)
            .where(AgreementVersion.agreement_id == agreement_id)
            .order_by(AgreementVersion.version.desc())
        )
    )
    return agreement, versions


def list_visible(session: Session, principal: Principal) -> list[Agreement]:
    """Agreements the caller is a party to."""
    return list(
        session.scalars(
            select(Agreement)
            .where(
                or_(
                    Agreement.merchant_id == principal.party_id,
                    Agreement.provider_id == principal.party_id,
                )
            )
            .order_by(Agreement.created_at)
        )
    )


# Versions never change once written, so their parsed terms can be kept per process.
_parsed: dict[tuple[str, int], ActiveTerms] = {}


_ACTIVE_VERSIONS = per_dialect(
    lambda _dialect: (
        select(Agreement.id, Agreement.active_version)
        .where(Agreement.merchant_id == bindparam("m"), Agreement.active_version.is_not(None))
        .order_by(Agreement.created_at)
    )
)


def active_terms(session: Session, merchant_id: str) -> list[ActiveTerms]:
    """Every active agreement version of a merchant, parsed (used by sourcing and tasks)."""
    keys = reads.rows(session, _ACTIVE_VERSIONS, {"m": merchant_id})
    result = []
    for agreement_id, active in keys:
        assert active is not None  # the query keeps only agreements with an active version
        version = active
        terms = _parsed.get((agreement_id, version))
        if terms is None:
            terms = _parse_version(session, agreement_id, version)
            if len(_parsed) > 10_000:
                _parsed.clear()
            _parsed[(agreement_id, version)] = terms
        result.append(terms)
    return result


# Versions never change, so their data-sharing policies can be kept per process too.
_sharing: dict[tuple[str, int], sharing.SharingPolicy] = {}


def sharing_of(
    session: Session, versions: Iterable[tuple[str, int]]
) -> dict[tuple[str, int], sharing.SharingPolicy]:
    """The data-sharing policy of each (agreement id, version)."""
    wanted = set(versions)
    missing = sorted(wanted - set(_sharing))
    if missing:
        if len(_sharing) > 10_000:
            _sharing.clear()
        rows = session.execute(
            select(
                AgreementVersion.agreement_id,
                AgreementVersion.version,
                AgreementVersion.data_sharing,
            ).where(tuple_(AgreementVersion.agreement_id, AgreementVersion.version).in_(missing))
        )
        for agreement_id, version, raw in rows:
            _sharing[(agreement_id, version)] = sharing.parse_sharing(raw)
    return {key: _sharing.get(key, sharing.DEFAULT) for key in wanted}


def _parse_version(session: Session, agreement_id: str, version: int) -> ActiveTerms:
    agreement = session.get(Agreement, agreement_id)
    v = _version(session, agreement_id, version)
    assert agreement is not None
    return ActiveTerms(
        agreement_id=agreement_id,
        version=version,
        provider_id=agreement.provider_id,
        facility_ids=tuple(v.facility_ids),
        matrix=parse_matrix(v.matrix),
        scope=parse_scope(v.scope),
        auto_submit=v.auto_submit,
    )


def serves(session: Session, *, merchant_id: str, provider_id: str, facility_id: str) -> bool:
    """True when an active agreement lets the provider's facility serve the merchant."""
    return any(
        t.provider_id == provider_id and facility_id in t.facility_ids
        for t in active_terms(session, merchant_id)
    )


def resolve_for(
    session: Session,
    principal: Principal,
    agreement_id: str,
    *,
    process: str,
    sku: str | None,
    channel: str | None,
    country: str | None,
    order_value: Decimal | None,
    version: int | None = None,
) -> tuple[Decision, int]:
    """Who owns ``process`` under this agreement for the given context, and why."""
    agreement = _visible(session, principal, agreement_id)
    number = version or agreement.active_version or agreement.latest_version
    terms = _version(session, agreement_id, number)
    tags: frozenset[str] = frozenset()
    if sku is not None:
        tags = frozenset(catalog.get_sku(session, agreement.merchant_id, sku, field="sku").tags)
    ctx = Context(
        sku=sku,
        sku_tags=tags,
        channel=channel,
        country=country.upper() if country else None,
        order_value=order_value,
    )
    return resolve(parse_matrix(terms.matrix), process, ctx), number


@dataclass(frozen=True)
class Site:
    """A facility that serves a merchant, and the agreement it serves under (None: its own)."""

    facility: Facility
    terms: ActiveTerms | None

    @property
    def provider_id(self) -> str | None:
        """The provider running the facility (None for the merchant's own site)."""
        return self.terms.provider_id if self.terms else None

    @property
    def operator_id(self) -> str:
        """The party that runs the facility and posts its stock."""
        return self.facility.party_id


def site_for(
    session: Session, merchant_id: str, code: str, *, field: str = "facility_code"
) -> Site:
    """The facility with ``code`` among the merchant's own sites and its active agreements'."""
    found: list[Site] = []
    own = session.scalar(
        select(Facility).where(Facility.party_id == merchant_id, Facility.code == code)
    )
    if own is not None:
        found.append(Site(own, None))
    for terms in active_terms(session, merchant_id):
        for facility in session.scalars(
            select(Facility).where(Facility.id.in_(terms.facility_ids), Facility.code == code)
        ):
            found.append(Site(facility, terms))
    if not found:
        raise NotFound(f"no facility '{code}' serves this merchant", field=field)
    if len(found) > 1:
        raise InvalidInput(
            f"facility code '{code}' is used by more than one party; give facility_id", field=field
        )
    return found[0]


def site_by_id(session: Session, merchant_id: str, facility_id: str) -> Site:
    """The merchant's site with this facility id (own, or under an active agreement)."""
    facility = session.get(Facility, facility_id)
    if facility is None:
        raise NotFound(f"no facility {facility_id}")
    if facility.party_id == merchant_id:
        return Site(facility, None)
    for terms in active_terms(session, merchant_id):
        if facility_id in terms.facility_ids:
            return Site(facility, terms)
    raise NotFound(f"no facility {facility_id} serves this merchant")
