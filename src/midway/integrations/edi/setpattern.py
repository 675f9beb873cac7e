"""Whole-set validation in one regular expression: the fast path for clean transaction sets.

Checking a set segment by segment costs Python work per segment (an object, a dict lookup, a
regular-expression call), several times what splitting the text costs. Most sets are clean,
so :func:`set_pattern` compiles a set grammar, with the inline expression of every segment
spec in it (:func:`~midway.integrations.edi.fastpath.inline_segment_pattern`), into one
expression over the text of a whole ST..SE set. A match proves that the segment-by-segment
path would find nothing to report, so the reader skips it; anything else (no match) goes
through that path, which explains what is wrong. Like the per-segment checks, the expression
may reject a clean set, never accept one with a finding.

What a match proves, piece by piece:

* every segment satisfies its spec (elements, lengths, types, code lists, syntax rules);
* ST01 is the set ID the expression was built for, SE02 equals ST02 (a back-reference);
  SE01 is captured as ``count`` for the caller to compare with the number of segments;
* the segments follow the grammar as the parser (:mod:`~midway.integrations.edi.parser`)
  places them: in order, mandatory segments and loops present, repeats within their limits.

The last point needs care because a grammar may use a segment ID in several places (N1 is a
loop of the 940, a segment of its LX loop and of its W01 loop). The parser is deterministic:
a segment goes to the first child at or after the current position of the innermost open
loop that has its ID, else it closes that loop and tries the enclosing one the same way. The
expression follows the same order (children in sequence, inner loops before outer ones), and
after the repeats of a child, a negative look-ahead (a guard) forbids the next segment from
carrying that child's ID. So where the parser would have put the next segment on a child
already passed (a repeat over its limit, or an invalid segment the expression could not
take), the match fails instead of finding another reading. A guard is written only where it
matters: when the child's ID is one that may come right after it (the IDs that can start
what follows, through optional children and loop ends); otherwise nothing after can take
such a segment and the match fails anyway. None of the current grammars needs one, but a
grammar that reuses an ID just after itself gets them (the tests build such a grammar).

Every segment and value has a single reading (a value never holds a delimiter, numbers are
written without overlapping alternatives, composites are split on their separator), so a
set that does not match is given up after trying each point once: backtracking stays linear.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from midway.integrations.edi.fastpath import inline_segment_pattern
from midway.integrations.edi.models import Delimiters
from midway.integrations.edi.spec import Dialect, LoopUse, Node

# Named groups of a set expression (segment specs use none, so the names cannot clash).
CONTROL_GROUP = "control"
COUNT_GROUP = "count"
_SHORT_BODY = 4000  # characters of expression below which a repeated body is written twice
_IN_VALUES = frozenset("-.0123456789")  # delimiters that numeric values could contain


class _Writer:
    """Writes the expression of one set grammar for one dialect, delimiters and split."""

    def __init__(self, dialect: Dialect, delimiters: Delimiters, split: str) -> None:
        self.dialect = dialect
        self.delimiters = delimiters
        self.split = split
        self.sep = re.escape(delimiters.element)
        self.term = re.escape(split)
        self._segments: dict[str, str] = {}

    def segment(self, segment_id: str) -> str:
        """One segment and its terminator."""
        if segment_id not in self._segments:
            spec = self.dialect.segment(segment_id)
            if spec is None:
                # The parser places a segment without a dictionary entry unchecked (values
                # still regular text: no terminator, control or non-ASCII character).
                stop = "".join(re.escape(c) for c in self.delimiters.segment + self.split)
                text = rf"[^{stop}{self.sep}\x00-\x1f\x7f-\xff]*"
                body = f"{re.escape(segment_id)}(?:{self.sep}{text})*"
            else:
                body = inline_segment_pattern(spec, self.delimiters, self.split)
            self._segments[segment_id] = f"(?:{body}){self.term}"
        return self._segments[segment_id]

    def guard(self, segment_id: str) -> str:
        """The next segment does not carry this ID."""
        return f"(?!{re.escape(segment_id)}(?:{self.sep}|{self.term}))"

    @staticmethod
    def repeat(body: str, required: bool, limit: int, head: str) -> str:
        """``body`` (which starts with the literal ``head``) one (or zero) to ``limit`` times.

        Written so that an absent optional item costs little: a branch whose first item is a
        literal is rejected without entering it, a repeat costs a context each time it is
        tried. A segment is short enough to write twice (once, then up to ``limit - 1`` more
        times); a loop body is not, so a look-ahead on its first segment stands guard.
        """
        if limit == 1:
            return body if required else f"(?:{body}|)"
        if required:
            return f"(?:{body}){{1,{limit}}}"
        if len(body) <= _SHORT_BODY:
            return f"(?:{body}(?:{body}){{0,{limit - 1}}}|)"
        return f"(?:(?={head})(?:{body}){{1,{limit}}}|)"

    def node(self, node: Node, follow: frozenset[str]) -> str:
        """A child of a loop (its repeats, then a guard if needed); ``follow`` is the set of
        IDs that may come right after it."""
        if isinstance(node, LoopUse):
            trigger, *children = node.children
            # Inside the loop, after its last child come another occurrence or what follows.
            body = self.segment(trigger.id) + self.sequence(children, follow | {trigger.id})
            limit = node.max_repeat
        else:
            body, limit = self.segment(node.id), node.max_use
        head = re.escape(node.id) + f"(?:{self.sep}|{self.term})"
        repeated = self.repeat(body, node.requirement == "M", limit, head)
        # The guard matters only if a segment with this ID could be taken next by something
        # after: otherwise nothing can take it and the match fails anyway.
        return repeated + (self.guard(node.id) if node.id in follow else "")

    def sequence(self, nodes: Sequence[Node], after: frozenset[str]) -> str:
        """Children in order; ``after`` is the set of IDs that may follow the last one."""
        parts: list[str] = []
        follow = after
        for node in reversed(nodes):
            parts.append(self.node(node, follow))
            first = frozenset({node.id})
            follow = first if node.requirement == "M" else first | follow
        return "".join(reversed(parts))

    def whole(self, set_id: str, body: tuple[Node, ...]) -> str:
        """ST, the body and SE; SE02 must repeat ST02 and SE01 is captured."""
        sep, term = self.sep, self.term
        stop = "".join(re.escape(c) for c in self.delimiters.element + self.split)
        header = (
            f"(?=ST{sep}{re.escape(set_id)}{sep}(?P<{CONTROL_GROUP}>[^{stop}]*))"
            + self.segment("ST")
        )
        trailer = (
            f"(?=SE{sep}(?P<{COUNT_GROUP}>[0-9]+){sep}(?P={CONTROL_GROUP})(?:{sep}|{term}))"
            + self.segment("SE")
        )
        return header + self.sequence(body, frozenset({"SE"})) + trailer


@lru_cache(maxsize=256)
def set_pattern(
    set_id: str, dialect: Dialect, delimiters: Delimiters, split: str
) -> re.Pattern[str] | None:
    """The expression of a clean ``set_id`` set (None when the dialect has no grammar for it).

    ``split`` is what ends each segment in the text (the terminator and any line break). The
    expression is used with ``match`` at the start of the ST segment and ends after the SE's
    ``split``; the caller must still compare the ``count`` group with the number of segments.
    """
    spec = dialect.set_spec(set_id)
    if spec is None or dialect.segment("ST") is None or dialect.segment("SE") is None:
        return None
    characters = delimiters.characters()
    line_break = split.replace(delimiters.segment, "", 1)
    if (
        len(set(characters)) < len(characters)
        or any(c in characters for c in line_break)
        or any(c in _IN_VALUES or not c.isascii() for c in characters + split)
    ):
        # Delimiters that coincide, that a number may contain or that are not ASCII (text
        # re-decoded segment by segment) would let the expression read a segment otherwise
        # than the segment-by-segment path: such interchanges go segment by segment.
        return None
    return re.compile(_Writer(dialect, delimiters, split).whole(set_id, spec.body))
