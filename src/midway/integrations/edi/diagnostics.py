"""Structured findings of the X12 engine, and the acknowledgment codes each one maps to.

Nothing in the engine raises on bad input: every problem becomes a :class:`Diagnostic` that
says where it is (byte offset, segment position, segment ID, element position), how bad it is,
and which code a 997 (AK3/AK4/AK5/AK9) or a TA1 would carry for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    """How bad a finding is: errors reject the set (or group, or interchange); warnings do not."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class CodeInfo:
    """What a diagnostic code means and where it lands in an acknowledgment."""

    severity: Severity
    ack_segment: str | None
    ack_code: str | None
    summary: str


_E = Severity.ERROR
_W = Severity.WARNING

# code -> (severity, acknowledgment segment, acknowledgment code, summary). The acknowledgment
# segment is where a 997 or TA1 reports the finding: TA1 (TA105 note code), AK9 (AK905-909),
# AK5 (AK502-506), AK3 (AK304) or AK4 (AK403). None means no acknowledgment carries it.
CODES: dict[str, CodeInfo] = {
    # Interchange (TA1 note codes)
    "NO_INTERCHANGE": CodeInfo(_E, None, None, "no ISA or ST segment found"),
    "DATA_OUTSIDE_ENVELOPE": CodeInfo(_E, "TA1", "022", "data outside any interchange"),
    "ISA_UNREADABLE": CodeInfo(_E, "TA1", "022", "the ISA segment could not be read"),
    "ISA16_MISSING": CodeInfo(_E, "TA1", "027", "ISA16 (component separator) missing"),
    "DELIMITER_CONFLICT": CodeInfo(_E, "TA1", "026", "two delimiters are the same character"),
    "IEA_MISSING": CodeInfo(_E, "TA1", "023", "interchange ends without IEA"),
    "IEA_CONTROL_MISMATCH": CodeInfo(_E, "TA1", "001", "IEA02 differs from ISA13"),
    "IEA_COUNT_MISMATCH": CodeInfo(_E, "TA1", "021", "IEA01 differs from the group count"),
    "GS_MISSING": CodeInfo(_E, "TA1", "024", "transaction set outside a functional group"),
    "MISSING_TERMINATOR": CodeInfo(_W, None, None, "last segment has no terminator"),
    # Functional group (AK9 syntax error codes)
    "GE_MISSING": CodeInfo(_E, "AK9", "3", "functional group ends without GE"),
    "GE_CONTROL_MISMATCH": CodeInfo(_E, "AK9", "4", "GE02 differs from GS06"),
    "GE_COUNT_MISMATCH": CodeInfo(_E, "AK9", "5", "GE01 differs from the set count"),
    "VERSION_NOT_SUPPORTED": CodeInfo(_E, "AK9", "2", "GS08 version not supported"),
    "VERSION_FALLBACK": CodeInfo(_W, None, None, "GS08 version validated with another one"),
    # Transaction set (AK5 syntax error codes)
    "NO_ENVELOPE": CodeInfo(_E, None, None, "transaction set without ISA/GS envelope"),
    "SET_NOT_SUPPORTED": CodeInfo(_E, "AK5", "1", "transaction set not supported"),
    "FUNCTIONAL_ID_MISMATCH": CodeInfo(_E, "AK5", "6", "GS01 does not match the set"),
    "SE_MISSING": CodeInfo(_E, "AK5", "2", "transaction set ends without SE"),
    "SE_CONTROL_MISMATCH": CodeInfo(_E, "AK5", "3", "SE02 differs from ST02"),
    "SE_COUNT_MISMATCH": CodeInfo(_E, "AK5", "4", "SE01 differs from the segment count"),
    # Segment (AK3 syntax error codes)
    "UNRECOGNIZED_SEGMENT": CodeInfo(_E, "AK3", "1", "unrecognized segment ID"),
    "SEGMENT_NOT_IN_SET": CodeInfo(_E, "AK3", "6", "segment not defined in this set"),
    "SEGMENT_OUT_OF_ORDER": CodeInfo(_E, "AK3", "7", "segment not in proper sequence"),
    "MANDATORY_SEGMENT_MISSING": CodeInfo(_E, "AK3", "3", "mandatory segment missing"),
    "LOOP_REPEAT_EXCEEDED": CodeInfo(_E, "AK3", "4", "loop occurs over maximum times"),
    "SEGMENT_REPEAT_EXCEEDED": CodeInfo(_E, "AK3", "5", "segment exceeds maximum use"),
    "MIXED_TERMINATOR": CodeInfo(_E, "AK3", "8", "segment ends with a foreign terminator"),
    "SEGMENT_WRAPPED": CodeInfo(_W, None, None, "segment broken over several lines"),
    # Data element (AK4 syntax error codes)
    "MANDATORY_ELEMENT_MISSING": CodeInfo(_E, "AK4", "1", "mandatory data element missing"),
    "CONDITIONAL_ELEMENT_MISSING": CodeInfo(_E, "AK4", "2", "conditional element missing"),
    "TOO_MANY_ELEMENTS": CodeInfo(_E, "AK4", "3", "too many data elements"),
    "ELEMENT_TOO_SHORT": CodeInfo(_E, "AK4", "4", "data element too short"),
    "ELEMENT_TOO_LONG": CodeInfo(_E, "AK4", "5", "data element too long"),
    "INVALID_CHARACTER": CodeInfo(_E, "AK4", "6", "invalid character in data element"),
    "INVALID_CODE": CodeInfo(_E, "AK4", "7", "invalid code value"),
    "INVALID_DATE": CodeInfo(_E, "AK4", "8", "invalid date"),
    "INVALID_TIME": CodeInfo(_E, "AK4", "9", "invalid time"),
    "EXCLUSION_VIOLATED": CodeInfo(_E, "AK4", "10", "exclusion condition violated"),
    # Outbound: rendering a document
    "DELIMITER_IN_DATA": CodeInfo(_E, None, None, "a value contains a delimiter"),
    "INVALID_DOCUMENT": CodeInfo(_E, None, None, "the document to render is malformed"),
}

# Element errors on envelope segments are reported at the level that owns the segment: TA1 for
# ISA/IEA (and GS/GE, "invalid GS segment"), AK5 for ST/SE. Keys are (segment, position).
ENVELOPE_ELEMENT_ACKS: dict[tuple[str, int], tuple[str, str]] = {
    ("ISA", 1): ("TA1", "010"),
    ("ISA", 2): ("TA1", "011"),
    ("ISA", 3): ("TA1", "012"),
    ("ISA", 4): ("TA1", "013"),
    ("ISA", 5): ("TA1", "005"),
    ("ISA", 6): ("TA1", "006"),
    ("ISA", 7): ("TA1", "007"),
    ("ISA", 8): ("TA1", "008"),
    ("ISA", 9): ("TA1", "014"),
    ("ISA", 10): ("TA1", "015"),
    ("ISA", 11): ("TA1", "016"),
    ("ISA", 12): ("TA1", "017"),
    ("ISA", 13): ("TA1", "018"),
    ("ISA", 14): ("TA1", "019"),
    ("ISA", 15): ("TA1", "020"),
    ("ISA", 16): ("TA1", "027"),
    ("IEA", 1): ("TA1", "021"),
    ("IEA", 2): ("TA1", "018"),
    ("ST", 1): ("AK5", "6"),
    ("ST", 2): ("AK5", "7"),
    ("ST", 3): ("AK5", "6"),
    ("SE", 1): ("AK5", "4"),
    ("SE", 2): ("AK5", "3"),
}


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One finding: where it is, what it is, and how an acknowledgment reports it.

    ``offset`` is the byte offset in the file of the element at fault (or of the segment, when
    no element is involved). ``segment_position`` counts segments from ST (= 1) inside a
    transaction set, as AK302 does; outside a set it is None. Element and component positions
    are 1-based.
    """

    code: str
    message: str
    severity: Severity
    offset: int
    segment_id: str = ""
    segment_position: int | None = None
    element_position: int | None = None
    component_position: int | None = None
    ack_segment: str | None = None
    ack_code: str | None = None
    bad_value: str | None = None

    @property
    def is_error(self) -> bool:
        """True when this finding rejects what contains it."""
        return self.severity is Severity.ERROR

    def element_ref(self) -> str:
        """The element at fault as X12 writes it (``W01-14``, ``CTX01-2``), or ``-``."""
        if self.element_position is None:
            return "-"
        ref = f"{self.segment_id}{self.element_position:02d}"
        if self.component_position is not None:
            ref += f"-{self.component_position}"
        return ref

    def line(self) -> str:
        """One line for humans and greps: offset, segment position and ID, element, code."""
        position = "-" if self.segment_position is None else str(self.segment_position)
        ack = f" [{self.ack_segment} {self.ack_code}]" if self.ack_segment else ""
        return (
            f"offset {self.offset}, segment {position} {self.segment_id or '-'}, "
            f"element {self.element_ref()}: {self.severity.value} {self.code}{ack}: "
            f"{self.message}"
        )

    def to_dict(self) -> dict[str, object]:
        """The diagnostic as plain JSON-ready data."""
        return {
            "code": self.code,
            "severity": self.severity.value,
            "message": self.message,
            "offset": self.offset,
            "segment_id": self.segment_id,
            "segment_position": self.segment_position,
            "element_position": self.element_position,
            "component_position": self.component_position,
            "ack_segment": self.ack_segment,
            "ack_code": self.ack_code,
            "bad_value": self.bad_value,
        }


def diagnostic(
    code: str,
    message: str,
    offset: int,
    *,
    segment_id: str = "",
    segment_position: int | None = None,
    element_position: int | None = None,
    component_position: int | None = None,
    bad_value: str | None = None,
) -> Diagnostic:
    """Build a diagnostic whose severity and acknowledgment code come from :data:`CODES`."""
    info = CODES[code]
    ack_segment, ack_code = info.ack_segment, info.ack_code
    if element_position is not None and ack_segment == "AK4":
        # An element error in an envelope segment belongs to the envelope's acknowledgment.
        envelope = ENVELOPE_ELEMENT_ACKS.get((segment_id, element_position))
        if envelope is not None:
            ack_segment, ack_code = envelope
        elif segment_id in ("GS", "GE"):
            ack_segment, ack_code = "TA1", "024"
    return Diagnostic(
        code=code,
        message=message,
        severity=info.severity,
        offset=offset,
        segment_id=segment_id,
        segment_position=segment_position,
        element_position=element_position,
        component_position=component_position,
        ack_segment=ack_segment,
        ack_code=ack_code,
        bad_value=bad_value,
    )


def has_errors(diagnostics: list[Diagnostic]) -> bool:
    """True when any of the diagnostics is an error."""
    return any(d.severity is Severity.ERROR for d in diagnostics)
