"""The fast path of validation: one regular expression per segment spec.

:func:`fast_check` compiles a segment spec (elements, lengths, types, code lists and syntax
rules) into a single expression that matches only valid segments, so the common case costs one
C-level match instead of Python code per element. Segments it rejects go to
:func:`~midway.integrations.edi.validate.segment_findings`, which says what is wrong. The
expression may reject a value the slow path then accepts (29 February, say), never the
reverse: a match always means the segment is valid.

The segment text is matched padded with separators to the spec's full number of elements, so
every element has a fixed place and the expression needs no nested optional groups. Syntax
rules over neighbouring elements become an alternation of the presence patterns they allow;
rules spanning many elements become look-aheads.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from functools import lru_cache

from midway.integrations.edi.models import Delimiters, Segment
from midway.integrations.edi.spec import NUMERIC_TYPES, ElementSpec, SegmentSpec, SyntaxRule

_MONTH_DAY = (
    r"(?:(?:0[1-9]|1[0-2])(?:0[1-9]|1\d|2[0-8])"
    r"|(?:0[13-9]|1[0-2])(?:29|30)|(?:0[13578]|1[02])31)"
)
_HOUR_MINUTE = r"(?:[01]\d|2[0-3])[0-5]\d"
_MAX_UNIT = 6  # rules over more neighbouring elements than this become look-aheads


@dataclass(frozen=True, slots=True)
class FastCheck:
    """A compiled spec: ``pattern`` matches ``raw + pad[count:]`` for valid segments."""

    pattern: re.Pattern[str]
    pad: str

    def accepts(self, segment: Segment) -> bool:
        """True when the segment is certainly valid."""
        text = segment.raw + self.pad[len(segment.elements) - 1 :]
        return self.pattern.fullmatch(text) is not None


def _alternatives(words: list[str]) -> str:
    """An alternation of literal words, factored by common first characters (a trie)."""
    if not words:
        return "(?!)"
    groups: dict[str, list[str]] = {}
    for word in words:
        groups.setdefault(word[:1], []).append(word[1:])
    options = []
    for head, tails in sorted(groups.items(), key=lambda item: item[0]):
        if head == "":
            continue
        rest = [t for t in tails if t]
        inner = _alternatives(rest) if rest else ""
        optional = "" in tails and rest
        options.append(re.escape(head) + (f"(?:{inner})?" if optional else inner))
    body = "|".join(options)
    return f"(?:{body})" if len(options) > 1 else body


def value_pattern(spec: ElementSpec, delimiters: Delimiters) -> str:
    """An expression matching only valid, non-empty values of a simple element."""
    low, high = spec.min_length, spec.max_length
    sep = re.escape(delimiters.element)
    kind = spec.type
    if kind in NUMERIC_TYPES:
        return rf"-?\d{{{low},{high}}}"
    if kind == "R":
        if low <= 1:
            # Digits either side of the point bounded so their sum cannot pass the maximum.
            half = max(high // 2, 1)
            return rf"-?(?:\d{{1,{high}}}|\d{{0,{half}}}\.\d{{1,{half}}}|\d{{1,{half}}}\.)"
        return rf"-?(?=\.?(?:\d\.?){{{low},{high}}}(?:{sep}|$))(?:\d+\.?\d*|\.\d+)"
    if kind == "DT":
        options = []
        if low <= 8 <= high:
            options.append(r"\d{4}" + _MONTH_DAY)
        if low <= 6 <= high:
            options.append(r"\d{2}" + _MONTH_DAY)
        return "(?:" + "|".join(options) + ")" if options else "(?!)"
    if kind == "TM":
        tails = {4: "", 6: r"[0-5]\d", 7: r"[0-5]\d\d", 8: r"[0-5]\d\d\d"}
        options = [_HOUR_MINUTE + tail for size, tail in tails.items() if low <= size <= high]
        return "(?:" + "|".join(options) + ")" if options else "(?!)"
    if spec.codes is not None:
        return _alternatives(sorted(spec.codes))
    return rf"[^{sep}\x00-\x1f\x7f]{{{low},{high}}}"


def _composite_pattern(spec: ElementSpec, delimiters: Delimiters) -> str:
    """A composite: components joined by the component separator, trailing ones omittable."""
    comp = re.escape(delimiters.component)
    parts = [(value_pattern(c, delimiters), c.mandatory) for c in spec.components]
    rest = ""
    needed = False
    for pattern, mandatory in reversed(parts[1:]):
        value = pattern if mandatory else f"(?:{pattern})?"
        chunk = f"{comp}{value}{rest}"
        needed = needed or mandatory
        rest = chunk if needed else f"(?:{chunk})?"
    first, mandatory = parts[0]
    return (first if mandatory else f"(?:{first})?") + rest


def _element_pattern(spec: ElementSpec, delimiters: Delimiters) -> str:
    if spec.components:
        return f"(?:{_composite_pattern(spec, delimiters)})"
    return value_pattern(spec, delimiters)


def _holds(rule: SyntaxRule, present: dict[int, bool]) -> bool:
    flags = [present[p] for p in rule.positions]
    if rule.kind == "P":
        return all(flags) or not any(flags)
    if rule.kind == "R":
        return any(flags)
    if rule.kind == "C":
        return not flags[0] or all(flags[1:])
    if rule.kind == "L":
        return not flags[0] or any(flags[1:])
    return sum(flags) <= 1


def _units(spec: SegmentSpec) -> tuple[list[tuple[int, int]], list[SyntaxRule]]:
    """Spans of neighbouring elements tied by syntax rules, and the rules left for look-aheads."""
    spans: list[tuple[int, int]] = []
    wide: list[SyntaxRule] = []
    for rule in spec.rules:
        low, high = min(rule.positions), max(rule.positions)
        if high > len(spec.elements) or high - low + 1 > _MAX_UNIT:
            wide.append(rule)
            continue
        merged = (low, high)
        for span in [s for s in spans if s[0] <= merged[1] and merged[0] <= s[1]]:
            spans.remove(span)
            merged = (min(merged[0], span[0]), max(merged[1], span[1]))
        if merged[1] - merged[0] + 1 > _MAX_UNIT:
            wide.append(rule)
            spans.append((low, high))
            continue
        spans.append(merged)
    return sorted(spans), wide


def _unit_pattern(spec: SegmentSpec, low: int, high: int, sep: str, delimiters: Delimiters) -> str:
    """The presence patterns a span of elements may take, given the rules inside it."""
    positions = range(low, high + 1)
    rules = [r for r in spec.rules if low <= min(r.positions) and max(r.positions) <= high]
    values = {p: _element_pattern(spec.elements[p - 1], delimiters) for p in positions}
    options = []
    for flags in itertools.product((True, False), repeat=len(positions)):
        present = dict(zip(positions, flags, strict=True))
        if any(spec.elements[p - 1].mandatory and not present[p] for p in positions):
            continue
        if all(_holds(rule, present) for rule in rules):
            options.append(sep.join(values[p] if present[p] else "" for p in positions))
    return "(?:" + "|".join(options) + ")" if options else "(?!)"


def _lookahead(rule: SyntaxRule, spec_id: str, sep: str) -> str:
    """A look-ahead from the start of the segment asserting one (wide) syntax rule."""

    def present(k: int) -> str:
        """Element k is present."""
        return rf"(?={re.escape(spec_id)}(?:{sep}[^{sep}]*){{{k - 1}}}{sep}[^{sep}])"

    def absent(k: int) -> str:
        """Element k is absent."""
        return "(?!" + present(k)[3:]

    first, *others = rule.positions
    if rule.kind == "P":
        both = "".join(map(present, rule.positions))
        return f"(?:{both}|{''.join(map(absent, rule.positions))})"
    if rule.kind == "R":
        return "(?:" + "|".join(map(present, rule.positions)) + ")"
    if rule.kind == "C":
        return "(?:" + absent(first) + "|" + "".join(map(present, others)) + ")"
    if rule.kind == "L":
        return "(?:" + absent(first) + "|" + "|".join(map(present, others)) + ")"
    pairs = [(a, b) for i, a in enumerate(rule.positions) for b in rule.positions[i + 1 :]]
    return "".join(f"(?!{present(a)}{present(b)})" for a, b in pairs)


@lru_cache(maxsize=4096)
def fast_check(spec: SegmentSpec, delimiters: Delimiters) -> FastCheck:
    """Compile (and cache) the fast check of a segment spec for a set of delimiters."""
    sep = re.escape(delimiters.element)
    spans, wide = _units(spec)
    starts = {low: high for low, high in spans}
    parts: list[str] = []
    position = 1
    while position <= len(spec.elements):
        if position in starts:
            high = starts[position]
            parts.append(_unit_pattern(spec, position, high, sep, delimiters))
            position = high + 1
            continue
        element = spec.elements[position - 1]
        value = _element_pattern(element, delimiters)
        parts.append(value if element.mandatory else f"(?:{value})?")
        position += 1
    body = "".join(sep + part for part in parts)
    rules = "".join(_lookahead(rule, spec.id, sep) for rule in wide)
    # Extra trailing separators (empty elements past the spec) are tolerated, as in the slow path.
    pattern = re.compile(f"{rules}{re.escape(spec.id)}{body}(?:{sep})*")
    return FastCheck(pattern, delimiters.element * len(spec.elements))
