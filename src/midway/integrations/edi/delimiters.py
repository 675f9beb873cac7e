"""Reading an interchange's delimiters from its ISA, tolerantly.

The ISA is meant to be 106 fixed-width characters: the element separator at position 4, the
component separator (ISA16) at 105 and the segment terminator at 106. Real files shorten the
padded fields, drop ISA16 or put a newline where the terminator should be, so the scan counts
separators instead of trusting positions, and then decides what the characters after the
sixteenth separator are.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from midway.integrations.edi.models import Delimiters

# Characters real senders use as segment terminators (besides line breaks): a segment ending
# in one of these followed by a line break, in an interchange that declared another
# terminator, is a mixed-terminator segment.
FOREIGN_TERMINATORS = frozenset("~'}$\\|!^`\x15\x1c\x1d\x1e")
SEGMENT_START = re.compile(r"[A-Z][A-Z0-9]{1,2}(?=[^A-Za-z0-9\s])")
_ISA_LOOKAHEAD = 512
_SPARE_COMPONENT_SEPARATORS = (">", ":", "<", "^", "\\")


@dataclass(frozen=True, slots=True)
class IsaScan:
    """What the scan of one ISA found.

    ``end`` is the index just after the ISA's terminator; ``split`` is the terminator plus the
    line break the sender puts after each segment (``~\\n``), which the tokenizer splits on.
    ``problems`` are (diagnostic code, message) pairs about the ISA's layout.
    """

    elements: list[str]
    raw: str
    end: int
    delimiters: Delimiters
    split: str
    problems: tuple[tuple[str, str], ...]


def _spare_component(used: str) -> str:
    for candidate in _SPARE_COMPONENT_SEPARATORS:
        if candidate not in used:
            return candidate
    return "\x1f"


def split_style(text: str, terminator_end: int, terminator: str) -> str:
    """The separator between segments: the terminator and any line break that follows it."""
    if terminator == "\n":
        return "\r\n" if text[terminator_end - 2 : terminator_end] == "\r\n" else "\n"
    after = text[terminator_end : terminator_end + 2]
    if after == "\r\n":
        return terminator + "\r\n"
    if after[:1] == "\n":
        return terminator + "\n"
    return terminator


def _next_line_ends_with(text: str, start: int, char: str) -> bool:
    """Whether the next non-empty line after ``start`` ends with ``char`` (before its break)."""
    limit = min(len(text), start + _ISA_LOOKAHEAD * 4)
    index = start
    while index < limit and text[index] in " \t\r\n":
        index += 1
    end = text.find("\n", index, limit)
    if end == -1:
        return False
    line = text[index:end].rstrip("\r")
    return line.endswith(char)


def scan_isa(text: str, start: int) -> IsaScan:
    """Scan the ISA starting at ``text[start]`` (which reads ``ISA`` plus a separator)."""
    sep = text[start + 3]
    separators: list[int] = []
    limit = min(len(text), start + _ISA_LOOKAHEAD)
    line_break = -1
    index = start + 3
    while index < limit and len(separators) < 16:
        char = text[index]
        if char == sep:
            separators.append(index)
        elif char in "\r\n":
            line_break = index
            break
        index += 1
    problems: list[tuple[str, str]] = []
    component: str | None = None
    if len(separators) == 16:
        last = separators[15]
        c1 = text[last + 1 : last + 2]
        c2 = text[last + 2 : last + 3]
        if c1 == "":
            terminator, stop = "~", last + 1
        elif c1 in "\r\n":
            terminator = "\n"
            stop = last + 2 if text[last + 1 : last + 3] == "\r\n" else last + 1
        elif c2 == "":
            component, terminator, stop = c1, "~", last + 2
        elif c2.isalnum() or (c2 in "\r\n" and _next_line_ends_with(text, last + 2, c1)):
            terminator, stop = c1, last + 1
        elif c2 == "\r" and text[last + 3 : last + 4] == "\n":
            component, terminator, stop = c1, "\n", last + 3
        else:
            component, terminator, stop = c1, c2, last + 2
        raw = text[start : last + 2] if component is not None else text[start : last + 1]
        end = stop + 1
    elif line_break != -1:
        # The ISA ends at a line break before its sixteenth separator: a newline-terminated
        # interchange whose ISA lost ISA16 (or more).
        raw = text[start:line_break].rstrip("\r")
        terminator = "\n"
        end = line_break + 1
    else:
        candidates = [
            i for i in range(start + 4, limit) if text[i] in FOREIGN_TERMINATORS and text[i] != sep
        ]
        stop = candidates[0] if candidates else limit
        raw = text[start:stop]
        terminator = text[stop] if candidates else "\n"
        end = stop + 1
        problems.append(("ISA_UNREADABLE", "the ISA does not have 16 elements"))
    if component is None:
        component = _spare_component(sep + terminator)
        if not problems:
            problems.append(("ISA16_MISSING", "ISA16 (the component separator) is missing"))
    elements = raw.split(sep)
    if len({sep, component, terminator}) < 3:
        problems.append(
            ("DELIMITER_CONFLICT", f"delimiters {sep!r}, {component!r}, {terminator!r} clash")
        )
    repetition = None
    version = elements[12] if len(elements) > 12 else ""
    if version.isdigit() and version >= "00402" and len(elements) > 11:
        candidate = elements[11]
        if len(candidate) == 1 and not candidate.isalnum() and candidate not in (sep, terminator):
            repetition = candidate if candidate != component else None
    delimiters = Delimiters(sep, component, terminator, repetition)
    return IsaScan(
        elements, raw, end, delimiters, split_style(text, end, terminator), tuple(problems)
    )


def guess_fragment(text: str, start: int) -> tuple[Delimiters, str] | None:
    """Delimiters of a file with no ISA (a bare ST..SE fragment), or None if it is not X12."""
    match = SEGMENT_START.match(text, start)
    if match is None:
        return None
    sep = text[match.end()]
    limit = min(len(text), start + _ISA_LOOKAHEAD)
    for index in range(match.end() + 1, limit):
        char = text[index]
        if char in "\r\n" or (char in FOREIGN_TERMINATORS and char != sep):
            if char == "\r" and text[index + 1 : index + 2] == "\n":
                index, char = index + 1, "\n"
            component = _spare_component(sep + char)
            delimiters = Delimiters(sep, component, char)
            return delimiters, split_style(text, index + 1, char)
    return None
