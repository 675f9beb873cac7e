"""Partner profiles and control-number counters: what differs from one trading partner to the
next, as data.

A :class:`PartnerProfile` holds the identifiers, version, delimiters, layout and element
overrides of one partner; it loads from a dict, JSON or TOML, so onboarding a partner means
writing a file, not code. A :class:`ControlNumberCounter` hands out the next ISA13, GS06 and
ST02 for a partner; a service can persist it (it is plain data) or replace it with anything
that has the same three methods.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Protocol

from midway.integrations.edi.models import Delimiters
from midway.integrations.edi.spec import ElementOverride, SpecError

_MAX_CONTROL = 999_999_999


class ProfileError(ValueError):
    """A partner profile is malformed."""


class ControlNumbers(Protocol):
    """Anything that hands out the next interchange, group and set control numbers."""

    def next_interchange(self) -> int:
        """The next ISA13/IEA02."""
        ...

    def next_group(self) -> int:
        """The next GS06/GE02."""
        ...

    def next_set(self) -> int:
        """The next ST02/SE02."""
        ...


@dataclass
class ControlNumberCounter:
    """In-memory counters of the last control numbers used with one partner.

    Each number increases by one and wraps from 999999999 back to 1, the X12 range.
    """

    interchange: int = 0
    group: int = 0
    transaction_set: int = 0

    @staticmethod
    def _after(value: int) -> int:
        return 1 if value >= _MAX_CONTROL else value + 1

    def next_interchange(self) -> int:
        """The next ISA13/IEA02."""
        self.interchange = self._after(self.interchange)
        return self.interchange

    def next_group(self) -> int:
        """The next GS06/GE02."""
        self.group = self._after(self.group)
        return self.group

    def next_set(self) -> int:
        """The next ST02/SE02."""
        self.transaction_set = self._after(self.transaction_set)
        return self.transaction_set

    def to_dict(self) -> dict[str, int]:
        """The counter as plain data."""
        return {
            "interchange": self.interchange,
            "group": self.group,
            "transaction_set": self.transaction_set,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> ControlNumberCounter:
        """Read a counter saved with :meth:`to_dict`."""
        values: dict[str, int] = {}
        for key in ("interchange", "group", "transaction_set"):
            value = data.get(key, 0)
            if (
                isinstance(value, bool)
                or not isinstance(value, int)
                or not 0 <= value <= _MAX_CONTROL
            ):
                raise ProfileError(f"counter {key} must be an integer from 0 to {_MAX_CONTROL}")
            values[key] = value
        return cls(**values)


def _version_envelope(version: str) -> str:
    """ISA12 that goes with a GS08 version (00401 for 004010, 00501 for 005010...)."""
    return version[:5] if len(version) >= 6 and version[:6].isdigit() else "00401"


@dataclass(frozen=True)
class PartnerProfile:
    """How to talk X12 with one partner: identifiers, version, delimiters, layout, overrides.

    ``sender_*`` identify Midway (or whoever Midway sends as) and ``receiver_*`` the partner,
    as written in outbound ISA06/ISA08 (with qualifiers ISA05/ISA07) and GS02/GS03.
    ``overrides`` change the partner's element definitions on top of the standard dictionary.
    """

    name: str
    sender_id: str
    receiver_id: str
    sender_qualifier: str = "ZZ"
    receiver_qualifier: str = "ZZ"
    application_sender: str = ""
    application_receiver: str = ""
    version: str = "004010"
    interchange_version: str = ""
    element_separator: str = "*"
    component_separator: str = ">"
    segment_terminator: str = "~"
    repetition_separator: str = "^"
    newline_after_terminator: bool = True
    usage: str = "P"
    acknowledgment_requested: bool = False
    overrides: tuple[ElementOverride, ...] = field(default=())

    def __post_init__(self) -> None:
        """Reject profiles the serializer could not honour."""
        chars = (self.element_separator, self.component_separator, self.segment_terminator)
        for char in (*chars, self.repetition_separator):
            if len(char) != 1 or char.isalnum() or char == " ":
                raise ProfileError(f"{self.name}: delimiters must be single special characters")
        if len(set(chars)) != 3 or self.repetition_separator in chars:
            raise ProfileError(f"{self.name}: delimiters must differ from each other")
        for label, value, size in (
            ("sender_id", self.sender_id, 15),
            ("receiver_id", self.receiver_id, 15),
            ("application_sender", self.gs_sender, 15),
            ("application_receiver", self.gs_receiver, 15),
        ):
            if not value or len(value) > size or any(c in value for c in chars):
                raise ProfileError(f"{self.name}: {label} must be 1 to {size} plain characters")
        if len(self.sender_qualifier) != 2 or len(self.receiver_qualifier) != 2:
            raise ProfileError(f"{self.name}: ID qualifiers are two characters")
        if self.usage not in ("P", "T", "I"):
            raise ProfileError(f"{self.name}: usage must be P, T or I")
        if not (len(self.version) >= 6 and self.version[:6].isdigit()):
            raise ProfileError(f"{self.name}: version must look like 004010 or 005010")
        if len(self.isa_version) != 5 or not self.isa_version.isdigit():
            raise ProfileError(f"{self.name}: interchange_version must be five digits")

    @property
    def gs_sender(self) -> str:
        """GS02: the application sender (the interchange sender ID unless set)."""
        return self.application_sender or self.sender_id

    @property
    def gs_receiver(self) -> str:
        """GS03: the application receiver (the interchange receiver ID unless set)."""
        return self.application_receiver or self.receiver_id

    @property
    def isa_version(self) -> str:
        """ISA12: explicit, or derived from the version (00401 for 004010)."""
        return self.interchange_version or _version_envelope(self.version)

    @property
    def delimiters(self) -> Delimiters:
        """The delimiters to write; a repetition separator only exists from ISA12 00402 on."""
        repetition = self.repetition_separator if self.isa_version >= "00402" else None
        return Delimiters(
            self.element_separator, self.component_separator, self.segment_terminator, repetition
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> PartnerProfile:
        """Build a profile from plain data (what a JSON or TOML profile file holds)."""
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ProfileError(f"unknown profile keys: {', '.join(sorted(unknown))}")
        values: dict[str, object] = {}
        for item in fields(cls):
            if item.name not in data:
                continue
            value = data[item.name]
            if item.name == "overrides":
                if not isinstance(value, list | tuple):
                    raise ProfileError("overrides must be a list")
                try:
                    value = tuple(ElementOverride.from_dict(_mapping(o)) for o in value)
                except SpecError as exc:
                    raise ProfileError(f"bad override: {exc}") from None
            elif item.type == "bool" and not isinstance(value, bool):
                raise ProfileError(f"{item.name} must be true or false")
            elif item.type == "str" and not isinstance(value, str):
                raise ProfileError(f"{item.name} must be a string")
            values[item.name] = value
        for required in ("name", "sender_id", "receiver_id"):
            if required not in values:
                raise ProfileError(f"a profile needs {required}")
        return cls(**values)  # type: ignore[arg-type]

    def to_dict(self) -> dict[str, object]:
        """The profile as plain data (what :meth:`from_dict` reads)."""
        data: dict[str, object] = {}
        for item in fields(self):
            value = getattr(self, item.name)
            data[item.name] = [o.to_dict() for o in value] if item.name == "overrides" else value
        return data

    @classmethod
    def from_json(cls, text: str) -> PartnerProfile:
        """Parse a JSON profile."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ProfileError(f"profile is not valid JSON: {exc}") from None
        return cls.from_dict(_mapping(data))

    @classmethod
    def from_toml(cls, text: str) -> PartnerProfile:
        """Parse a TOML profile (overrides as ``[[overrides]]`` tables)."""
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ProfileError(f"profile is not valid TOML: {exc}") from None
        return cls.from_dict(data)

    @classmethod
    def load(cls, path: str | Path) -> PartnerProfile:
        """Read a ``.json`` or ``.toml`` profile file."""
        file = Path(path)
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ProfileError(f"cannot read profile {file.name}: {exc}") from None
        if file.suffix.lower() == ".toml":
            return cls.from_toml(text)
        return cls.from_json(text)


def _mapping(value: object) -> Mapping[str, object]:
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise ProfileError("expected an object with string keys")
    return value
