"""Agreement SLA terms as the engine and the scorecards need them: parsed, with defaults, and
with the party the matrix makes accountable for each term's process."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from midway.agreements.models import Agreement, AgreementVersion
from midway.core.matrix import Context, parse_matrix, resolve
from midway.core.sla_terms import SlaTerm, default_sla_terms, parse_sla_terms


def version_terms(version: AgreementVersion | None) -> tuple[SlaTerm, ...]:
    """The terms of an agreement version, with defaults (the defaults alone without one)."""
    if version is None:
        return default_sla_terms()
    return parse_sla_terms(version.sla_terms)


def rate_card_currency(version: AgreementVersion | None) -> str | None:
    """The currency of a version's rate card, when it names one."""
    if version is None or not isinstance(version.rate_card, dict):
        return None
    currency = version.rate_card.get("currency")
    return currency.upper() if isinstance(currency, str) and len(currency) == 3 else None


class TermsCache:
    """Parsed terms and accountable parties by agreement version, for one unit of work."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._versions: dict[tuple[str, int | None], AgreementVersion | None] = {}
        self._owners: dict[tuple[str, int | None, str], str | None] = {}

    def version(self, agreement_id: str | None, number: int | None) -> AgreementVersion | None:
        """An agreement version (the active one when ``number`` is None), or None."""
        if agreement_id is None:
            return None
        key = (agreement_id, number)
        if key not in self._versions:
            if number is None:
                agreement = self.session.get(Agreement, agreement_id)
                number = None if agreement is None else agreement.active_version
            self._versions[key] = (
                None
                if number is None
                else self.session.get(AgreementVersion, (agreement_id, number))
            )
        return self._versions[key]

    def term(self, agreement_id: str | None, number: int | None, metric: str) -> SlaTerm | None:
        """The agreement's term for ``metric`` (defaults apply), or None when it has none."""
        terms = version_terms(self.version(agreement_id, number))
        return next((t for t in terms if t.metric == metric), None)

    def accountable(self, agreement_id: str | None, term: SlaTerm) -> str | None:
        """merchant or provider: the default owner of the term's process in the matrix."""
        if term.accountable_process == "incident_owner":
            return None
        version = self.version(agreement_id, None)
        if version is None:
            return "merchant" if agreement_id is None else None
        key = (version.agreement_id, version.version, term.accountable_process)
        if key not in self._owners:
            decision = resolve(parse_matrix(version.matrix), term.accountable_process, Context())
            self._owners[key] = decision.owner
        return self._owners[key]

    def agreement_of(self, merchant_id: str, facility_id: str) -> str | None:
        """The merchant's active agreement that covers ``facility_id``, if any."""
        rows = self.session.execute(
            select(AgreementVersion.agreement_id, AgreementVersion.facility_ids)
            .join(
                Agreement,
                (Agreement.id == AgreementVersion.agreement_id)
                & (Agreement.active_version == AgreementVersion.version),
            )
            .where(Agreement.merchant_id == merchant_id)
            .order_by(Agreement.created_at)
        ).all()
        return next((a for a, ids in rows if facility_id in (ids or [])), None)
