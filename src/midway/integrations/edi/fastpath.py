"""The fast path of validation: one regular expression per segment spec.

:func:`fast_check` compiles a segment spec (elements, lengths, types, code lists and syntax
rules) into a single expression that matches only valid segments, so the common case costs one
C-level match instead of Python code per element. Segments it rejects go to
:func:`~midway.integrations.edi.validate.segment_findings`, which says what is wrong. The
expression may reject a value the slow path then accepts (29 February, say), never the
reverse: a match always means the segment is valid.

The segment text is matched padded with separators to the spec's full number of elements, so
every element has a fixed place and the expression needs no nested optional groups. Syntax
rules over neighbouring elements become the presence patterns they allow, written as a trie
(patterns that agree on the first elements share them); rules spanning many elements become
look-aheads. Values are written so that each has one reading, and a component never holds
the component separator (the slow path splits composites on it before checking them).

:func:`inline_segment_pattern` writes the same expression for a segment that is followed by the
segment terminator inside a longer text (no padding possible there): an element separator may
then also be the end of the segment, so absent trailing elements need no padding either. The
set-level expressions of :mod:`~midway.integrations.edi.setpattern` are built from it.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, replace
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
class Marks:
    """How element boundaries are written in an expression.

    ``sep`` is the escaped element separator; ``gap`` what precedes each element (the
    separator, or inline also the end of the segment); ``stop`` the characters no value may
    contain (raw, not escaped); ``end`` what may follow a value at the end of the segment;
    ``inline`` whether the segment may end before its last element (no padding), in which
    case values must also be ASCII: text that is not gets re-decoded segment by segment, so
    only the segment-by-segment path can check it.
    """

    sep: str
    gap: str
    stop: str
    end: str
    inline: bool = False

    @property
    def stop_class(self) -> str:
        """``stop`` escaped for use inside a character class (non-ASCII too, inline)."""
        return "".join(re.escape(c) for c in self.stop) + ("\x80-\xff" if self.inline else "")

    def usable(self, code: str) -> bool:
        """Whether a code value can be a whole element here."""
        return not any(c in self.stop for c in code) and (code.isascii() or not self.inline)


def padded_marks(delimiters: Delimiters) -> Marks:
    """Marks of the per-segment check: the segment text alone, padded with separators."""
    sep = re.escape(delimiters.element)
    return Marks(sep, sep, delimiters.element, "$")


def inline_marks(delimiters: Delimiters, split: str) -> Marks:
    """Marks of a segment followed by ``split`` (its terminator and line break) in a text."""
    sep = re.escape(delimiters.element)
    term = re.escape(split)
    stop = "".join(dict.fromkeys(delimiters.element + delimiters.segment + split))
    return Marks(sep, f"(?:{sep}|(?={term}))", stop, term, inline=True)


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


def value_pattern(spec: ElementSpec, delimiters: Delimiters, marks: Marks | None = None) -> str:
    """An expression matching only valid, non-empty values of a simple element."""
    marks = marks or padded_marks(delimiters)
    low, high = spec.min_length, spec.max_length
    sep, stop = marks.sep, marks.stop_class
    kind = spec.type
    if kind in NUMERIC_TYPES:
        return rf"-?\d{{{low},{high}}}"
    if kind == "R":
        if low <= 1:
            # Digits either side of the point bounded so their sum cannot pass the maximum:
            # up to ``high`` digits without a point, or up to ``half`` on each side with one.
            # Left-factored, the leading digits read once; more digits may follow only a full
            # first run (the look-behind), so each value has exactly one reading. With two,
            # a segment of many numbers could be read in exponentially many ways, all of
            # them retried when a later segment fails.
            half = max(high // 2, 1)
            rest = max(high - half, 0)
            more = rf"|(?<=\d{{{half}}})\d{{1,{rest}}}" if rest else ""
            return rf"-?(?:\d{{1,{half}}}(?:\.\d{{0,{half}}}{more}|)|\.\d{{1,{half}}})"
        end = marks.end
        return rf"-?(?=\.?(?:\d\.?){{{low},{high}}}(?:{sep}|{end}))(?:\d+\.?\d*|\.\d+)"
    if kind == "DT":
        # CCYYMMDD or YYMMDD, the year's first two digits read once.
        long, short = low <= 8 <= high, low <= 6 <= high
        if not (long or short):
            return "(?!)"
        year = r"\d{2}(?:\d{2})?" if long and short else (r"\d{4}" if long else r"\d{2}")
        return f"(?:{year}{_MONTH_DAY})"
    if kind == "TM":
        # HHMM, HHMMSS, HHMMSSd or HHMMSSdd, the hour and minute read once.
        tails = {4: "", 6: r"[0-5]\d", 7: r"[0-5]\d\d", 8: r"[0-5]\d\d\d"}
        allowed = [tail for size, tail in tails.items() if low <= size <= high]
        if not allowed:
            return "(?!)"
        return f"(?:{_HOUR_MINUTE}(?:{'|'.join(reversed(allowed))}))"
    if spec.codes is not None:
        # A code holding a delimiter can never be one whole element: leaving it out keeps the
        # alternation from reading across element or segment boundaries.
        return _alternatives(sorted(filter(marks.usable, spec.codes)))
    return rf"[^{stop}\x00-\x1f\x7f]{{{low},{high}}}"


def _composite_pattern(spec: ElementSpec, delimiters: Delimiters, marks: Marks) -> str:
    """A composite: components joined by the component separator, trailing ones omittable."""
    comp = re.escape(delimiters.component)
    # A component never holds the component separator (the slow path splits on it first);
    # letting its value take one would also let the expression read a composite many ways.
    inner = replace(marks, stop=marks.stop + delimiters.component)
    parts = [(value_pattern(c, delimiters, inner), c.mandatory) for c in spec.components]
    rest = ""
    needed = False
    # ``(?:x|)`` rather than ``(?:x)?``: the same strings, but the regular-expression engine
    # skips a failing branch that starts with a literal without entering a repeat.
    for pattern, mandatory in reversed(parts[1:]):
        value = pattern if mandatory else f"(?:{pattern}|)"
        chunk = f"{comp}{value}{rest}"
        needed = needed or mandatory
        rest = chunk if needed else f"(?:{chunk}|)"
    first, mandatory = parts[0]
    return (first if mandatory else f"(?:{first}|)") + rest


def _element_pattern(spec: ElementSpec, delimiters: Delimiters, marks: Marks) -> str:
    if spec.components:
        return f"(?:{_composite_pattern(spec, delimiters, marks)})"
    return value_pattern(spec, delimiters, marks)


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


def _unit_pattern(
    spec: SegmentSpec, low: int, high: int, delimiters: Delimiters, marks: Marks
) -> tuple[str, bool]:
    """The presence patterns a span of elements may take, given the rules inside it, and
    whether the span may be wholly absent."""
    positions = range(low, high + 1)
    rules = [r for r in spec.rules if low <= min(r.positions) and max(r.positions) <= high]
    values = [_element_pattern(spec.elements[p - 1], delimiters, marks) for p in positions]
    allowed: list[tuple[bool, ...]] = []
    for flags in itertools.product((True, False), repeat=len(positions)):
        present = dict(zip(positions, flags, strict=True))
        if any(spec.elements[p - 1].mandatory and not present[p] for p in positions):
            continue
        if all(_holds(rule, present) for rule in rules):
            allowed.append(flags)
    if not allowed:
        return "(?!)", False
    return _presence_trie(allowed, values, 0, marks.gap), (False,) * len(positions) in allowed


def _presence_trie(allowed: list[tuple[bool, ...]], values: list[str], index: int, gap: str) -> str:
    """The allowed presence patterns of a span from ``index`` on, as a trie: options that
    agree on the first elements share them, so a value is matched once, not once per option.
    """
    branches = []
    for flag in (True, False):
        subset = [flags for flags in allowed if flags[index] == flag]
        if not subset:
            continue
        value = values[index] if flag else ""
        if index + 1 < len(values):
            value += gap + _presence_trie(subset, values, index + 1, gap)
        branches.append(value)
    return branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"


def _lookahead(rule: SyntaxRule, spec_id: str, marks: Marks) -> str:
    """A look-ahead from the start of the segment asserting one (wide) syntax rule."""
    sep, stop = marks.sep, marks.stop_class

    def present(k: int) -> str:
        """Element k is present."""
        return rf"(?={re.escape(spec_id)}(?:{sep}[^{stop}]*){{{k - 1}}}{sep}[^{stop}])"

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


def segment_pattern(spec: SegmentSpec, delimiters: Delimiters, marks: Marks) -> str:
    """The expression of a whole segment, from its ID to its last element."""
    spans, wide = _units(spec)
    starts = {low: high for low, high in spans}
    parts: list[tuple[str, bool]] = []  # (expression, may be absent)
    position = 1
    while position <= len(spec.elements):
        if position in starts:
            high = starts[position]
            parts.append(_unit_pattern(spec, position, high, delimiters, marks))
            position = high + 1
            continue
        element = spec.elements[position - 1]
        value = _element_pattern(element, delimiters, marks)
        parts.append((value, False) if element.mandatory else (f"(?:{value}|)", True))
        position += 1
    if marks.inline:
        # Nested from the last element back: where everything left may be absent, the segment
        # may end instead (one branch, rather than a separator-or-end test per element).
        body = ""
        may_end = True
        for part, absent in reversed(parts):
            may_end = may_end and absent
            step = marks.sep + part + body
            body = f"(?:{step}|(?={marks.end}))" if may_end else step
    else:
        body = "".join(marks.gap + part for part, _ in parts)
    rules = "".join(_lookahead(rule, spec.id, marks) for rule in wide)
    # Extra trailing separators (empty elements past the spec) are tolerated, as in the slow path.
    return f"{rules}{re.escape(spec.id)}{body}(?:{marks.sep})*"


def inline_segment_pattern(spec: SegmentSpec, delimiters: Delimiters, split: str) -> str:
    """The expression of a segment that ``split`` follows: matches where the check would."""
    return segment_pattern(spec, delimiters, inline_marks(delimiters, split))


@lru_cache(maxsize=4096)
def fast_check(spec: SegmentSpec, delimiters: Delimiters) -> FastCheck:
    """Compile (and cache) the fast check of a segment spec for a set of delimiters."""
    pattern = re.compile(segment_pattern(spec, delimiters, padded_marks(delimiters)))
    return FastCheck(pattern, delimiters.element * len(spec.elements))
