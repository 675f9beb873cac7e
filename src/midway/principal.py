"""Who a request runs as: a party (merchant or provider) with a role."""

from __future__ import annotations

from dataclasses import dataclass

from midway.errors import PermissionDenied

ROLES = ("admin", "operator", "viewer")
_RANK = {"viewer": 0, "operator": 1, "admin": 2}


@dataclass(frozen=True, slots=True)
class Principal:
    """The party a call acts for, and the role of the key it used."""

    party_id: str
    kind: str
    role: str

    @property
    def is_merchant(self) -> bool:
        """True for a merchant."""
        return self.kind == "merchant"

    @property
    def is_provider(self) -> bool:
        """True for a provider (3PL)."""
        return self.kind == "provider"

    def require(self, role: str) -> None:
        """Raise PermissionDenied unless the key's role is at least ``role``."""
        if _RANK[self.role] < _RANK[role]:
            raise PermissionDenied(
                f"this needs an API key with role '{role}' or higher; this key is '{self.role}'",
                code="role_too_low",
            )

    def require_kind(self, kind: str, action: str) -> None:
        """Raise PermissionDenied unless the caller is a party of ``kind``."""
        if self.kind != kind:
            raise PermissionDenied(f"only a {kind} can {action}", code="wrong_party_kind")
