"""The generic, loop-aware parser: fits the segments of one transaction set to its grammar.

A grammar (:class:`~midway.integrations.edi.spec.SetSpec`) is compiled once per version,
partner overrides and delimiters. Because every loop has a single place in the grammar, the
parser's state is just the innermost open loop and its position in it; for each such state
the compiled grammar holds a dict from segment ID to the move that segment makes: how many
loops it closes, where it lands, whether it opens a loop, and which mandatory segments it
skips on the way. Placing a segment is then one dict lookup, as in the X12 grammar: a segment
may repeat in place, move forward in its loop, open a loop, close loops, or start the next
occurrence of a loop.
"""

from __future__ import annotations

import dataclasses
import re

from midway.integrations.edi.diagnostics import Diagnostic, diagnostic
from midway.integrations.edi.fastpath import fast_check
from midway.integrations.edi.models import Delimiters, Item, Loop, Segment, TransactionSet
from midway.integrations.edi.spec import Dialect, LoopUse, Node, SegmentSpec
from midway.integrations.edi.validate import diagnose_segment

_SEGMENT_ID = re.compile(r"[A-Z0-9]{2,3}")
# Segments the envelope walker handles itself; a set's body stops at the first of them.
ENVELOPE_IDS = frozenset({"ISA", "IEA", "GS", "GE", "ST", "SE", "TA1"})


class CompiledNode:
    """A segment or loop of a grammar, ready for placement and validation."""

    __slots__ = ("fast", "id", "limit", "loop", "pad", "required", "spec")

    def __init__(self, node: Node, dialect: Dialect, delimiters: Delimiters) -> None:
        self.id = node.id
        self.required = node.requirement == "M"
        self.spec: SegmentSpec | None = dialect.segment(node.id)
        self.fast: re.Pattern[str] | None = None
        self.pad = ""
        if self.spec is not None:
            check = fast_check(self.spec, delimiters)
            self.fast, self.pad = check.pattern, check.pad
        self.loop: CompiledLoop | None = None
        if isinstance(node, LoopUse):
            self.limit = node.max_repeat
            self.loop = CompiledLoop(node.id, node.children, dialect, delimiters)
        else:
            self.limit = node.max_use


# A move: (loops closed, index landed on in the loop then innermost, the node there, the
# mandatory segments skipped on the way, including those the closed loops never received,
# and the move table of the state reached). The node's loop, spec, pattern and padding are
# repeated at the end so that the hot loop unpacks them instead of looking them up.
Move = tuple[
    int,
    int,
    "CompiledNode",
    "tuple[CompiledNode, ...]",
    "dict[str, Move]",
    "CompiledLoop | None",
    "SegmentSpec | None",
    "re.Pattern[str] | None",
    str,
]


class CompiledLoop:
    """A loop's children and, for each position reached in it, the move of each segment ID."""

    __slots__ = ("children", "id", "moves", "tail")

    def __init__(
        self, loop_id: str, children: tuple[Node, ...], dialect: Dialect, delimiters: Delimiters
    ) -> None:
        self.id = loop_id
        self.children = [CompiledNode(child, dialect, delimiters) for child in children]
        # tail[cur + 1]: the mandatory children never reached when the loop closes at cur.
        self.tail = [
            tuple(n for n in self.children[cur + 1 :] if n.required)
            for cur in range(-1, len(self.children))
        ]
        # moves[cur + 1]: segment ID -> move, for the loop standing on child ``cur``.
        self.moves: list[dict[str, Move]] = [{} for _ in range(len(self.children) + 1)]

    def local_moves(self, cur: int, root: bool) -> list[tuple[str, int, CompiledNode]]:
        """(segment ID, index, node) of the children reachable from position ``cur``.

        A loop's trigger (index 0) never matches again inside the loop: a second N1 is the
        next occurrence of the N1 loop, a move of the enclosing loop.
        """
        found: list[tuple[str, int, CompiledNode]] = []
        seen: set[str] = set()
        for index in range(max(cur, 0 if root else 1), len(self.children)):
            node = self.children[index]
            if node.id not in seen:
                seen.add(node.id)
                found.append((node.id, index, node))
        return found

    def skipped(self, cur: int, index: int) -> tuple[CompiledNode, ...]:
        """Mandatory children passed over when moving from ``cur`` to ``index``."""
        return tuple(n for n in self.children[cur + 1 : index] if n.required)


def _move(
    up: int, loop: CompiledLoop, index: int, node: CompiledNode, skipped: tuple[CompiledNode, ...]
) -> Move:
    table = node.loop.moves[1] if node.loop is not None else loop.moves[index + 1]
    return (up, index, node, skipped, table, node.loop, node.spec, node.fast, node.pad)


def _link(loop: CompiledLoop, ancestors: list[tuple[CompiledLoop, int]]) -> None:
    """Fill ``loop.moves`` (and its descendants'), given the open loops around it.

    ``ancestors`` lists (loop, position held in it) from the innermost outwards; while this
    loop is open, every enclosing loop stands on the child that leads to it.
    """
    root = not ancestors
    for cur in range(-1, len(loop.children)):
        moves = loop.moves[cur + 1]
        for sid, index, node in loop.local_moves(cur, root):
            moves[sid] = _move(0, loop, index, node, loop.skipped(cur, index))
        closed = loop.tail[cur + 1]
        for up, (outer, held) in enumerate(ancestors, start=1):
            for sid, index, node in outer.local_moves(held, up == len(ancestors)):
                if sid not in moves:
                    skipped = closed + outer.skipped(held, index)
                    moves[sid] = _move(up, outer, index, node, skipped)
            closed = closed + outer.tail[held + 1]
    for index, child in enumerate(loop.children):
        if child.loop is not None:
            _link(child.loop, [(loop, index), *ancestors])


class CompiledSet:
    """A transaction set grammar compiled for one dialect and set of delimiters."""

    def __init__(self, set_id: str, dialect: Dialect, delimiters: Delimiters) -> None:
        spec = dialect.set_spec(set_id)
        assert spec is not None
        self.spec = spec
        self.root = CompiledLoop(set_id, spec.body, dialect, delimiters)
        _link(self.root, [])
        self.segment_ids = spec.segment_ids()


def compile_set(set_id: str, dialect: Dialect, delimiters: Delimiters) -> CompiledSet | None:
    """The compiled grammar of a set (cached on the dialect), or None if not supported."""
    key = (set_id, delimiters)
    cache = dialect.compiled
    if key not in cache:
        cache[key] = CompiledSet(set_id, dialect, delimiters) if dialect.set_spec(set_id) else None
    found = cache[key]
    assert found is None or isinstance(found, CompiledSet)
    return found


class _Frame:
    """An open loop occurrence: where the parser stands in it, its moves from there, and what
    it holds."""

    __slots__ = ("count", "cur", "items", "loop", "table")

    def __init__(self, loop: CompiledLoop, cur: int, count: int, items: list[Item]) -> None:
        self.loop = loop
        self.table = loop.moves[cur + 1]
        self.cur = cur
        self.count = count
        self.items = items


class SetParser:
    """Builds one :class:`TransactionSet` from its body segments, fed in batches.

    ``check_elements=False`` places segments without checking their elements: for sets
    already proved clean (see :mod:`~midway.integrations.edi.wholeset`), where checking them
    again would only confirm it.
    """

    def __init__(
        self,
        tset: TransactionSet,
        dialect: Dialect,
        compiled: CompiledSet | None,
        *,
        check_elements: bool = True,
    ) -> None:
        self.tset = tset
        self.check_elements = check_elements
        self.dialect = dialect
        self.delimiters = tset.delimiters
        self.diagnostics: list[Diagnostic] = tset.diagnostics
        self.count = 1  # ST is the first segment of the set
        self.compiled = compiled
        self.stack: list[_Frame] = []
        if compiled is not None:
            self.stack.append(_Frame(compiled.root, -1, 0, tset.items))

    def feed(self, segment: Segment) -> None:
        """Place one body segment (anything between ST and SE)."""
        self.feed_batch([segment], 0)

    def feed_batch(self, batch: list[Segment], start: int) -> int:
        """Place ``batch[start:]`` up to the first envelope segment; return where it stopped.

        This is the hot loop of the engine, written for speed: state lives in locals, and the
        common case costs one dict lookup, one list append and one regular-expression match.
        """
        envelope = ENVELOPE_IDS
        stack = self.stack
        if not stack:
            return self._feed_unknown(batch, start)
        count = self.count
        end = len(batch)
        index = start
        frame = stack[-1]
        check = self.check_elements
        while index < end:
            segment = batch[index]
            sid = segment.elements[0]
            if sid in envelope:
                break
            count += 1
            segment.position = count
            move = frame.table.get(sid)
            if move is None:
                self._unexpected(segment, frame)
                index += 1
                continue
            up, place, node, skipped, table, loop_spec, spec, fast, pad = move
            if skipped:
                self._missing(skipped, segment)
            if up:
                del stack[-up:]
                frame = stack[-1]
            if place == frame.cur:
                frame.count += 1
                if frame.count > node.limit:
                    self._over_limit(node, segment)
            else:
                frame.cur = place
                frame.count = 1
            if loop_spec is None:
                frame.items.append(segment)
                frame.table = table
            else:
                loop = Loop(sid, [segment])
                frame.items.append(loop)
                frame = _Frame(loop_spec, 0, 1, loop.items)
                stack.append(frame)
            segment.spec = spec
            if (
                check
                and fast is not None
                and fast.fullmatch(segment.raw + pad[len(segment.elements) - 1 :]) is None
            ):
                self._check(segment)
            if segment.notes is not None:
                self._noted(segment)
            index += 1
        self.count = count
        return index

    def _feed_unknown(self, batch: list[Segment], start: int) -> int:
        """A set without a grammar: keep its segments in order, unchecked."""
        index = start
        while index < len(batch):
            segment = batch[index]
            if segment.elements[0] in ENVELOPE_IDS:
                break
            self.count += 1
            segment.position = self.count
            segment.spec = self.dialect.segment(segment.elements[0])
            self.tset.items.append(segment)
            self._noted(segment)
            index += 1
        return index

    def _check(self, segment: Segment) -> None:
        assert segment.spec is not None
        self.diagnostics.extend(
            diagnose_segment(segment, segment.spec, self.delimiters, segment.position)
        )

    def _noted(self, segment: Segment) -> None:
        if segment.notes:
            self.diagnostics.extend(
                dataclasses.replace(note, segment_position=segment.position)
                for note in segment.notes
            )

    def _missing(self, nodes: tuple[CompiledNode, ...], at: Segment) -> None:
        for node in nodes:
            kind = "loop" if node.loop is not None else "segment"
            self.diagnostics.append(
                diagnostic(
                    "MANDATORY_SEGMENT_MISSING",
                    f"mandatory {kind} {node.id} is missing before {at.elements[0]}",
                    at.offset,
                    segment_id=node.id,
                    segment_position=at.position,
                )
            )

    def _over_limit(self, node: CompiledNode, segment: Segment) -> None:
        if node.loop is not None:
            code, what = "LOOP_REPEAT_EXCEEDED", f"loop {node.id} occurs more than {node.limit}"
        else:
            code, what = "SEGMENT_REPEAT_EXCEEDED", f"{node.id} occurs more than {node.limit}"
        self.diagnostics.append(
            diagnostic(
                code,
                f"{what} times here",
                segment.offset,
                segment_id=node.id,
                segment_position=segment.position,
            )
        )

    def _unexpected(self, segment: Segment, frame: _Frame) -> None:
        """A segment the grammar has no place for here: keep it where it is, and say why."""
        sid = segment.elements[0]
        assert self.compiled is not None
        if sid in self.compiled.segment_ids:
            code, why = "SEGMENT_OUT_OF_ORDER", f"{sid} is not allowed at this point of the set"
        elif self.dialect.segment(sid) is not None:
            code, why = "SEGMENT_NOT_IN_SET", f"{sid} is not part of a {self.tset.id}"
        elif _SEGMENT_ID.fullmatch(sid):
            code, why = "UNRECOGNIZED_SEGMENT", f"unknown segment {sid}"
        else:
            code, why = "UNRECOGNIZED_SEGMENT", f"{sid[:20]!r} is not a segment ID"
        segment.spec = self.dialect.segment(sid)
        frame.items.append(segment)
        self.diagnostics.append(
            diagnostic(
                code, why, segment.offset, segment_id=sid[:3], segment_position=segment.position
            )
        )
        self._noted(segment)

    def finish(self, at: Segment) -> None:
        """Close every open loop at the end of the set (``at`` is the SE, or what ended it)."""
        for frame in reversed(self.stack):
            skipped = frame.loop.tail[frame.cur + 1]
            if skipped:
                self._missing(skipped, at)
        self.stack.clear()
