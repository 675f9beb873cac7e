"""The reader's fast path: runs of clean transaction sets read whole, one expression per set.

A set proved clean by its whole-set expression (:mod:`~midway.integrations.edi.setpattern`)
has nothing to report, so reading it means making the :class:`TransactionSet` the reader
yields, with its ID, control number, version, delimiters and group. Its header and trailer
segments and its loops and segments are made only when someone reads ``header``,
``trailer`` or ``items`` (see :meth:`TransactionSet.deferred`), from the set's text, by the
same splitting and the same parser the segment-by-segment path uses: they are the objects
that path would have made.

What is checked eagerly for every set read whole, against the text itself: each segment's
elements (requirement, length, type, code list, syntax rules), the placement of every segment
in the set's loops (order, mandatory segments and loops, repeat limits), ST01 being the set
ID, SE02 equal to ST02 and SE01 equal to the number of segments; GS01 suiting the set. What
is deferred: the ``Segment`` objects of ST and SE and the ``Segment`` and ``Loop`` objects of
the body, with each segment's position, spec and byte offset. What is not done at all:
turning findings into diagnostics, as there are none; any set that is not proved clean is
read segment by segment instead, from its ST, and explained there.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TypeAlias

from midway.integrations.edi.fastpath import FastCheck
from midway.integrations.edi.models import (
    Delimiters,
    FunctionalGroup,
    Item,
    Segment,
    TransactionSet,
)
from midway.integrations.edi.parser import CompiledSet, SetParser, compile_set
from midway.integrations.edi.setpattern import CONTROL_GROUP, COUNT_GROUP, set_pattern
from midway.integrations.edi.sets import FUNCTIONAL_IDS
from midway.integrations.edi.spec import Dialect
from midway.integrations.edi.tokenizer import TextBlock, split_regular

# Sets of one ID read segment by segment before its whole-set expression is compiled: the
# compilation costs about as much as reading several hundred sets segment by segment, and the
# expression is cached for the process, so small files skip it and large ones pay it once.
WHOLE_SETS_AFTER = 16
# After n sets of an ID in a row fail their whole-set check, the next 2**(n-1) - 1 of them (at
# most this many) are read segment by segment without trying: a partner whose every set has
# the same fault costs one failed attempt in 64, an isolated fault costs nothing more.
MOST_SKIPPED = 63

# What a set read whole keeps to make its parts later: its text (ST to SE, with SE's split),
# the byte offset of that text, its segment count, the delimiters and split, its ID and the
# dialect it was checked with.
Source: TypeAlias = "tuple[str, int, int, Delimiters, str, str, Dialect]"


class Compiled:
    """What the reader compiled for one dialect, delimiters and split: set grammars, segment
    checks and whole-set expressions (with how many sets were read before deciding on one)."""

    __slots__ = ("checks", "grammars", "misses", "seen", "skips", "split", "wholes")

    def __init__(self, split: str) -> None:
        self.split = split
        self.grammars: dict[str, CompiledSet | None] = {}
        self.checks: dict[str, FastCheck | None] = {}
        self.wholes: dict[str, re.Pattern[str] | None] = {}
        self.seen: dict[str, int] = {}
        self.misses: dict[str, int] = {}  # failed whole-set checks in a row, per set ID
        self.skips: dict[str, int] = {}  # sets of an ID still to read without trying

    def missed(self, set_id: str) -> None:
        """A set of ``set_id`` failed its whole-set check: skip the next few (see above)."""
        misses = self.misses[set_id] = self.misses.get(set_id, 0) + 1
        self.skips[set_id] = min(2 ** min(misses - 1, 16), MOST_SKIPPED + 1) - 1

    def decide(
        self, set_id: str, dialect: Dialect, delimiters: Delimiters, after: int
    ) -> re.Pattern[str] | None:
        """Count one more set of ``set_id``; past ``after`` of them, compile its expression."""
        seen = self.seen[set_id] = self.seen.get(set_id, 0) + 1
        if seen <= after:
            return None
        pattern = set_pattern(set_id, dialect, delimiters, self.split)
        self.wholes[set_id] = pattern
        return pattern


class Run:
    """The clean sets that follow each other from ``start`` in ``block``, read whole.

    Iterating yields them one by one; :attr:`end` is then where the run stopped: at the first
    set not proved clean, at whatever is not a set (a GE, say), or at the end of the block.
    Nothing can come between two sets of a run, so the group, dialect and delimiters stay
    those given for the whole run.
    """

    __slots__ = ("after", "block", "compiled", "dialect", "end", "group", "version")

    def __init__(
        self,
        block: TextBlock,
        start: int,
        compiled: Compiled,
        dialect: Dialect,
        group: FunctionalGroup,
        version: str,
        after: int,
    ) -> None:
        self.block = block
        self.end = start
        self.compiled = compiled
        self.dialect = dialect
        self.group = group
        self.version = version
        self.after = after

    def __iter__(self) -> Iterator[TransactionSet]:
        """The sets, made as described in the module docstring (the reader's hot loop)."""
        block, compiled, dialect, group = self.block, self.compiled, self.dialect, self.group
        text, split, base, delimiters = block.text, block.split, block.base, block.delimiters
        head, terminator = "ST" + delimiters.element, delimiters.segment
        version = self.version
        wholes, misses, skips = compiled.wholes, compiled.misses, compiled.skips
        functional_id = group.functional_id
        pos = self.end
        while text.startswith(head, pos):
            set_id = text[pos + 3 : pos + 6]
            if FUNCTIONAL_IDS.get(set_id) != functional_id:
                return  # read segment by segment, which reports the mismatch
            if skips and skips.get(set_id):
                skips[set_id] -= 1
                return
            try:
                pattern = wholes[set_id]
            except KeyError:
                pattern = compiled.decide(set_id, dialect, delimiters, self.after)
            if pattern is None:
                return
            found = pattern.match(text, pos)
            if found is None:
                compiled.missed(set_id)
                return
            stop = found.end()
            # Every terminator of a text block is followed by the same line break, so counting
            # the one-character terminator counts the segments (faster than the split).
            count = text.count(terminator, pos, stop)
            if int(found[COUNT_GROUP]) != count:
                compiled.missed(set_id)
                return
            if misses:
                misses.pop(set_id, None)
            source = (text[pos:stop], base + pos, count, delimiters, split, set_id, dialect)
            control = found[CONTROL_GROUP]
            self.end = pos = stop
            yield TransactionSet.deferred(
                set_id, control, version, delimiters, group, make_part, source
            )


def make_part(source: Source, name: str) -> object:
    """The ``header``, ``trailer`` or ``items`` of a set read whole, as the segment-by-segment
    path would have made them."""
    text, base, count, delimiters, split, set_id, dialect = source
    sep = delimiters.element
    # ST is the first segment, SE the last: they end at the first and the last split.
    header_end = text.find(split)
    trailer_start = text.rfind(split, 0, len(text) - len(split)) + len(split)
    if name == "header":
        raw = text[:header_end]
        header = Segment(raw.split(sep), base, raw)
        header.position = 1
        header.spec = dialect.segment("ST")
        return header
    if name == "trailer":
        raw = text[trailer_start : len(text) - len(split)]
        trailer = Segment(raw.split(sep), base + trailer_start, raw)
        trailer.position = count
        return trailer
    body = header_end + len(split)
    return _items(text[body:trailer_start], base + body, delimiters, split, set_id, dialect)


def _items(
    body: str, base: int, delimiters: Delimiters, split: str, set_id: str, dialect: Dialect
) -> list[Item]:
    """The items of a set read whole: its body parsed as the reader would have parsed it."""
    segments = split_regular(body, base, delimiters.element, split)
    scratch = TransactionSet(set_id, "", Segment(["ST"]), delimiters=delimiters)
    compiled = compile_set(set_id, dialect, delimiters)
    parser = SetParser(scratch, dialect, compiled, check_elements=False)
    parser.feed_batch(segments, 0)
    return scratch.items
