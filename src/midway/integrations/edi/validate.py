"""Element-level validation of one segment against its spec: the exact, explaining path.

:mod:`~midway.integrations.edi.fastpath` first tries one regular expression per segment; only
segments it does not accept come here, to be checked element by element and syntax rule by
syntax rule, with a message for each problem.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from midway.integrations.edi.diagnostics import Diagnostic, diagnostic
from midway.integrations.edi.models import Delimiters, Segment
from midway.integrations.edi.spec import NUMERIC_TYPES, ElementSpec, SegmentSpec, SyntaxRule

_INTEGER = re.compile(r"-?\d+")
_DECIMAL = re.compile(r"-?(?:\d+\.?\d*|\.\d+)")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem with one element (or component) of a segment."""

    code: str
    message: str
    position: int
    component: int | None = None
    value: str | None = None


def value_problem(value: str, spec: ElementSpec) -> tuple[str, str] | None:
    """Check one non-empty simple value; return (diagnostic code, message) or None."""
    kind = spec.type
    if kind in NUMERIC_TYPES or kind == "R":
        pattern = _DECIMAL if kind == "R" else _INTEGER
        if pattern.fullmatch(value) is None:
            return (
                "INVALID_CHARACTER",
                f"{value!r} is not a {'decimal' if kind == 'R' else 'whole'} number",
            )
        size = sum(c.isdigit() for c in value)
    elif kind == "DT":
        if not value.isdigit() or not value.isascii():
            return "INVALID_DATE", f"{value!r} is not a date"
        size = len(value)
    elif kind == "TM":
        if not value.isdigit() or not value.isascii():
            return "INVALID_TIME", f"{value!r} is not a time"
        size = len(value)
    else:
        if _CONTROL.search(value):
            return "INVALID_CHARACTER", f"{value!r} contains a control character"
        if spec.codes is not None and value not in spec.codes:
            return "INVALID_CODE", f"{value!r} is not an accepted code"
        size = len(value)
    if size < spec.min_length:
        return "ELEMENT_TOO_SHORT", f"{value!r} is {size} long; the minimum is {spec.min_length}"
    if size > spec.max_length:
        return "ELEMENT_TOO_LONG", f"{value!r} is {size} long; the maximum is {spec.max_length}"
    if kind == "DT" and not _real_date(value):
        return "INVALID_DATE", f"{value!r} is not a calendar date"
    if kind == "TM" and not _real_time(value):
        return "INVALID_TIME", f"{value!r} is not a time of day"
    return None


def _real_date(value: str) -> bool:
    if len(value) == 6:
        # YYMMDD (ISA09, TA102): the century does not matter for validity except 29 February.
        value = "20" + value
    if len(value) != 8:
        return False
    try:
        date(int(value[:4]), int(value[4:6]), int(value[6:]))
    except ValueError:
        return False
    return True


def _real_time(value: str) -> bool:
    if len(value) < 4:
        return False
    hours, minutes = int(value[:2]), int(value[2:4])
    seconds = int(value[4:6]) if len(value) >= 6 else 0
    return hours < 24 and minutes < 60 and seconds < 60


def segment_findings(
    elements: list[str], spec: SegmentSpec, delimiters: Delimiters
) -> list[Finding]:
    """Every element-level problem of a segment (``elements[0]`` is its ID)."""
    findings: list[Finding] = []
    count = len(elements) - 1
    for element in spec.elements:
        position = element.position
        value = elements[position] if position <= count else ""
        if not value:
            if element.mandatory:
                findings.append(
                    Finding(
                        "MANDATORY_ELEMENT_MISSING",
                        f"{_ref(spec, position)} is mandatory",
                        position,
                    )
                )
            continue
        if element.components:
            findings.extend(_composite_findings(value, element, spec, delimiters))
            continue
        problem = value_problem(value, element)
        if problem is not None:
            code, message = problem
            findings.append(
                Finding(code, f"{_ref(spec, position)}: {message}", position, None, value)
            )
    for position in range(len(spec.elements) + 1, count + 1):
        if elements[position]:
            findings.append(
                Finding(
                    "TOO_MANY_ELEMENTS",
                    f"{spec.id} has {len(spec.elements)} elements; {_ref(spec, position)} is extra",
                    position,
                    None,
                    elements[position],
                )
            )
            break
    for rule in spec.rules:
        finding = rule_finding(rule, elements, spec)
        if finding is not None:
            findings.append(finding)
    return findings


def _composite_findings(
    value: str, element: ElementSpec, spec: SegmentSpec, delimiters: Delimiters
) -> list[Finding]:
    findings: list[Finding] = []
    parts = value.split(delimiters.component)
    position = element.position
    for component in element.components:
        index = component.position
        part = parts[index - 1] if index <= len(parts) else ""
        ref = f"{_ref(spec, position)}-{index}"
        if not part:
            if component.mandatory:
                findings.append(
                    Finding("MANDATORY_ELEMENT_MISSING", f"{ref} is mandatory", position, index)
                )
            continue
        problem = value_problem(part, component)
        if problem is not None:
            code, message = problem
            findings.append(Finding(code, f"{ref}: {message}", position, index, part))
    extra = [i for i in range(len(element.components), len(parts)) if parts[i]]
    if extra:
        index = extra[0] + 1
        findings.append(
            Finding(
                "TOO_MANY_ELEMENTS",
                f"{_ref(spec, position)} has an extra component {index}",
                position,
                index,
                parts[extra[0]],
            )
        )
    return findings


def rule_finding(rule: SyntaxRule, elements: list[str], spec: SegmentSpec) -> Finding | None:
    """Check one syntax rule; return the finding it raises, if any."""
    present = [p < len(elements) and elements[p] != "" for p in rule.positions]
    kind = rule.kind
    if not _violated(kind, present):
        return None
    refs = ", ".join(_ref(spec, p) for p in rule.positions)
    if kind == "P" and any(present) and not all(present):
        missing = rule.positions[present.index(False)]
        message = f"{refs} must be all present or all absent"
    elif kind == "R" and not any(present):
        missing = rule.positions[0]
        message = f"at least one of {refs} is required"
    elif kind == "C" and present[0] and not all(present[1:]):
        missing = rule.positions[1 + present[1:].index(False)]
        message = f"{_ref(spec, rule.positions[0])} requires {refs}"
    elif kind == "L" and present[0] and not any(present[1:]):
        missing = rule.positions[1]
        message = f"{_ref(spec, rule.positions[0])} requires one of the others in {refs}"
    elif kind == "E" and sum(present) > 1:
        second = [p for p, here in zip(rule.positions, present, strict=True) if here][1]
        return Finding("EXCLUSION_VIOLATED", f"only one of {refs} may be present", second)
    else:
        return None
    return Finding("CONDITIONAL_ELEMENT_MISSING", f"{message} (syntax rule {rule})", missing)


def _violated(kind: str, present: list[bool]) -> bool:
    if kind == "P":
        return any(present) and not all(present)
    if kind == "R":
        return not any(present)
    if kind == "C":
        return present[0] and not all(present[1:])
    if kind == "L":
        return present[0] and not any(present[1:])
    return sum(present) > 1


def _ref(spec: SegmentSpec, position: int) -> str:
    return f"{spec.id}{position:02d}"


def diagnose_segment(
    segment: Segment, spec: SegmentSpec, delimiters: Delimiters, position: int | None
) -> list[Diagnostic]:
    """The element findings of a segment as diagnostics pointing at each element's offset."""
    return [
        diagnostic(
            finding.code,
            finding.message,
            segment.element_offset(finding.position),
            segment_id=spec.id,
            segment_position=position,
            element_position=finding.position,
            component_position=finding.component,
            bad_value=finding.value,
        )
        for finding in segment_findings(segment.elements, spec, delimiters)
    ]


def isa11_problems(isa: Segment) -> list[Diagnostic]:
    """ISA11 is the standards ID ``U`` before version 00402 and the repetition separator after."""
    value, version = isa.get(11), isa.get(12)
    if not value or not version.isdigit():
        return []
    if version >= "00402":
        if len(value) == 1 and not value.isalnum():
            return []
        reason = "from 00402 on ISA11 is the repetition separator, a single special character"
    elif value == "U":
        return []
    else:
        reason = f"in version {version} ISA11 must be U"
    return [
        diagnostic(
            "INVALID_CODE",
            f"ISA11 {value!r}: {reason}",
            isa.element_offset(11),
            segment_id="ISA",
            element_position=11,
            bad_value=value,
        )
    ]
