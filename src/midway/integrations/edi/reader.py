"""The envelope walker: groups segments into interchanges, groups and sets, and checks them.

ISA/IEA, GS/GE and ST/SE must pair up, carry matching control numbers and count what they
hold; GS01 must suit the sets inside and GS08 selects the spec version. Every finding becomes
a diagnostic on the container it concerns, never an exception.

:class:`Reader` streams: it yields each transaction set, group and interchange as soon as it
is complete, so a large file is processed set by set. :func:`parse` keeps everything in a
:class:`Document`; :func:`validate` keeps only the findings.

Sets come in two ways. In regular text, once a few sets of an ID have been read with the same
specs and delimiters, each next set is first checked whole by one regular expression
(:mod:`~midway.integrations.edi.setpattern`); when that proves it clean, the set is yielded
at once and its segments and loops are made only if someone reads them
(:mod:`~midway.integrations.edi.wholeset`). Every other set, and everything between sets,
goes segment by segment through the envelope checks below and the loop-aware parser, which
explain every finding. Both ways give the same sets and the same findings.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from typing import TypeAlias

from midway.integrations.edi.diagnostics import Diagnostic, diagnostic
from midway.integrations.edi.fastpath import fast_check
from midway.integrations.edi.models import (
    Delimiters,
    Document,
    FunctionalGroup,
    Interchange,
    Segment,
    TransactionSet,
)
from midway.integrations.edi.parser import SetParser, compile_set
from midway.integrations.edi.sets import FUNCTIONAL_IDS
from midway.integrations.edi.spec import Dialect, ElementOverride, dialect, version_key
from midway.integrations.edi.tokenizer import CHUNK_SIZE, Source, TextBlock, Tokenizer, iter_chunks
from midway.integrations.edi.validate import diagnose_segment, isa11_problems
from midway.integrations.edi.wholeset import WHOLE_SETS_AFTER, Compiled, Run

Completed: TypeAlias = "TransactionSet | FunctionalGroup | Interchange"


def _same_number(first: str, second: str) -> bool:
    """Control numbers match when equal as text, or as numbers (padding is checked apart)."""
    if first == second:
        return True
    a, b = first.strip(), second.strip()
    return a.isdigit() and b.isdigit() and int(a) == int(b)


class Reader:
    """Streams an X12 file: iterate to get each set, group and interchange once complete.

    ``keep_sets`` keeps each group's sets in ``group.sets`` (a whole document in memory);
    ``keep_results`` keeps the per-set summaries a 997 needs. Findings outside any
    interchange end up in :attr:`diagnostics`. ``whole_sets_after`` is the number of sets of
    an ID read segment by segment before the whole-set check is used for that ID (0: from the
    first set; None: never); :attr:`sets_read_whole` counts the sets it proved clean.
    """

    def __init__(
        self,
        source: Source,
        *,
        overrides: Sequence[ElementOverride] = (),
        keep_sets: bool = True,
        keep_results: bool = True,
        chunk_size: int = CHUNK_SIZE,
        whole_sets_after: int | None = WHOLE_SETS_AFTER,
    ) -> None:
        self.source = source
        self.whole_sets_after = whole_sets_after
        self.sets_read_whole = 0
        self.overrides = tuple(overrides)
        self.keep_sets = keep_sets
        self.keep_results = keep_results
        self.chunk_size = chunk_size
        self.diagnostics: list[Diagnostic] = []
        self._tokenizer: Tokenizer | None = None
        self._interchange: Interchange | None = None
        self._group: FunctionalGroup | None = None
        self._group_dialect: Dialect = dialect("004010", self.overrides)
        self._group_sets = 0
        self._group_version = ""
        self._interchange_groups = 0
        self._parser: SetParser | None = None
        self._last: Segment | TransactionSet | None = None
        self._context_key: tuple[Dialect, Delimiters, str] | None = None
        self._compiled = Compiled("")

    def __iter__(self) -> Iterator[Completed]:
        """Each transaction set, functional group and interchange, in the order they end."""
        tokenizer = Tokenizer(iter_chunks(self.source, self.chunk_size))
        self._tokenizer = tokenizer
        for block in tokenizer.blocks():
            if isinstance(block, TextBlock):
                yield from self._text(block)
            else:
                yield from self._segments(block)
        yield from self._end_of_input()
        self.diagnostics.extend(tokenizer.diagnostics)

    def _segments(self, batch: list[Segment]) -> Iterator[Completed]:
        """Segment by segment: the envelope walker, with the set parser between ST and SE."""
        index, end = 0, len(batch)
        while index < end:
            parser = self._parser
            if parser is not None:
                index = parser.feed_batch(batch, index)
                if index == end:
                    break
            done = self._envelope(batch[index])
            index += 1
            if done:
                yield from done
        if batch:
            self._last = batch[-1]

    def _text(self, block: TextBlock) -> Iterator[Completed]:
        """Regular text: runs of sets read whole where they prove clean, and segment by
        segment from the first set that does not (or from what is not a set)."""
        text, split = block.text, block.split
        head = "ST" + block.delimiters.element
        next_set = split + head
        pos, end = 0, len(text)
        after = self.whole_sets_after
        while pos < end:
            group = self._group
            if after is not None and group is not None and self._parser is None:
                dialect, version = self._group_dialect, self._group_version
                run = Run(block, pos, self._context(), dialect, group, version, after)
                for tset in run:
                    self._last = tset  # its trailer, made only if the input ends here
                    self.sets_read_whole += 1
                    self._group_sets += 1
                    if self.keep_results:
                        group.results.append(tset.result())
                    if self.keep_sets:
                        group.sets.append(tset)
                    yield tset
                pos = run.end
                if pos == end:
                    break
            # Up to the next set's ST: the set the run stopped at, or what lies between sets
            # (envelope segments, strays).
            stop = text.find(next_set, pos)
            stop = end if stop == -1 else stop + len(split)
            yield from self._segments(block.segments(pos, stop))
            pos = stop

    # --- dispatch ------------------------------------------------------------------------------

    def _envelope(self, segment: Segment) -> list[Completed]:
        done: list[Completed] = []
        sid = segment.elements[0]
        if sid == "ST":
            self._open_set(segment, done)
        elif sid == "SE":
            self._close_set(segment, done)
        elif sid == "GS":
            self._open_group(segment, done)
        elif sid == "GE":
            self._close_group(segment, done)
        elif sid == "ISA":
            self._open_interchange(segment, done)
        elif sid == "IEA":
            self._close_interchange(segment, done)
        elif sid == "TA1" and self._interchange is not None and self._group is None:
            self._interchange.ta1.append(segment)
            self._check(segment, self._interchange.diagnostics, None)
        else:
            self._stray(segment)
        return done

    def _delimiters(self) -> Delimiters:
        assert self._tokenizer is not None and self._tokenizer.delimiters is not None
        return self._tokenizer.delimiters

    def _innermost(self) -> list[Diagnostic]:
        if self._group is not None:
            return self._group.diagnostics
        if self._interchange is not None:
            return self._interchange.diagnostics
        return self.diagnostics

    def _check(
        self,
        segment: Segment,
        into: list[Diagnostic],
        position: int | None,
        active: Dialect | None = None,
    ) -> None:
        """Validate an envelope segment's elements and collect its tokenizer notes."""
        sid = segment.elements[0]
        active = active or self._group_dialect
        spec = active.segment(sid)
        if active is self._group_dialect:
            checks = self._context().checks
            if sid not in checks:
                checks[sid] = fast_check(spec, self._delimiters()) if spec is not None else None
            check = checks[sid]
        else:
            check = fast_check(spec, self._delimiters()) if spec is not None else None
        if spec is not None and check is not None and not check.accepts(segment):
            into.extend(diagnose_segment(segment, spec, self._delimiters(), position))
        if segment.notes:
            into.extend(_placed(segment.notes, position))

    def _context(self) -> Compiled:
        """What is compiled for the current dialect, delimiters and split."""
        assert self._tokenizer is not None
        key = (self._group_dialect, self._delimiters(), self._tokenizer.split)
        old = self._context_key
        if old is None or key[0] is not old[0] or key[1] is not old[1] or key[2] is not old[2]:
            # Each ISA brings new (often equal) delimiter objects: keep what was compiled
            # unless something really changed.
            if old is None or key[0] is not old[0] or key[1] != old[1] or key[2] != old[2]:
                self._compiled = Compiled(key[2])
            self._context_key = key
        return self._compiled

    def _stray(self, segment: Segment) -> None:
        sid = segment.elements[0]
        where = "between transaction sets" if self._group is not None else "outside a set"
        self._innermost().append(
            diagnostic(
                "DATA_OUTSIDE_ENVELOPE",
                f"{sid[:20]} is {where}",
                segment.offset,
                segment_id=sid[:3],
            )
        )
        if segment.notes:
            self._innermost().extend(segment.notes)

    # --- transaction sets ---------------------------------------------------------------------

    def _open_set(self, segment: Segment, done: list[Completed]) -> None:
        if self._parser is not None:
            self._end_set(segment, done, trailer=None)
        group, interchange = self._group, self._interchange
        elements = segment.elements
        set_id = elements[1] if len(elements) > 1 else ""
        control = elements[2] if len(elements) > 2 else ""
        if group is not None:
            active = self._group_dialect
        else:
            version = "005010" if segment.get(3).startswith("005010") else "004010"
            active = dialect(version, self.overrides)
        tset = TransactionSet(
            id=set_id,
            control_number=control,
            header=segment,
            version=self._group_version if group is not None else active.version,
            delimiters=self._delimiters(),
            group=group,
        )
        segment.position = 1
        segment.spec = active.segment("ST")
        found = tset.diagnostics
        if group is None and interchange is None:
            found.append(
                diagnostic(
                    "NO_ENVELOPE",
                    f"{set_id} {control} has no ISA/GS envelope; it cannot be acknowledged",
                    segment.offset,
                    segment_id="ST",
                    segment_position=1,
                )
            )
        elif group is None:
            found.append(
                diagnostic(
                    "GS_MISSING",
                    f"{set_id} {control} is not inside a functional group",
                    segment.offset,
                    segment_id="ST",
                    segment_position=1,
                )
            )
        self._check(segment, found, 1, active)
        expected = FUNCTIONAL_IDS.get(set_id)
        if group is not None and expected is not None and group.functional_id != expected:
            found.append(
                diagnostic(
                    "FUNCTIONAL_ID_MISMATCH",
                    f"a {set_id} belongs in a {expected} group, not {group.functional_id!r}",
                    segment.element_offset(1),
                    segment_id="ST",
                    segment_position=1,
                    element_position=1,
                )
            )
        if set_id and active.set_spec(set_id) is None:
            found.append(
                diagnostic(
                    "SET_NOT_SUPPORTED",
                    f"transaction set {set_id!r} is not supported; its segments are kept unchecked",
                    segment.element_offset(1),
                    segment_id="ST",
                    segment_position=1,
                    element_position=1,
                )
            )
        grammars = self._context().grammars if active is self._group_dialect else {}
        if set_id not in grammars:
            grammars[set_id] = compile_set(set_id, active, tset.delimiters)
        self._parser = SetParser(tset, active, grammars[set_id])

    def _close_set(self, segment: Segment, done: list[Completed]) -> None:
        parser = self._parser
        if parser is None:
            self._stray(segment)
            return
        parser.count += 1
        segment.position = parser.count
        found = parser.diagnostics
        self._check(segment, found, parser.count)
        elements = segment.elements
        declared = elements[1].strip() if len(elements) > 1 else ""
        if declared.isdigit() and int(declared) != parser.count:
            found.append(
                diagnostic(
                    "SE_COUNT_MISMATCH",
                    f"SE01 says {declared} segments; the set has {parser.count}",
                    segment.element_offset(1),
                    segment_id="SE",
                    segment_position=parser.count,
                    element_position=1,
                    bad_value=segment.get(1),
                )
            )
        if (elements[2] if len(elements) > 2 else "") != parser.tset.control_number:
            found.append(
                diagnostic(
                    "SE_CONTROL_MISMATCH",
                    f"SE02 {segment.get(2)!r} differs from ST02 {parser.tset.control_number!r}",
                    segment.element_offset(2),
                    segment_id="SE",
                    segment_position=parser.count,
                    element_position=2,
                    bad_value=segment.get(2),
                )
            )
        self._end_set(segment, done, trailer=segment)

    def _end_set(self, at: Segment, done: list[Completed], trailer: Segment | None) -> None:
        parser = self._parser
        assert parser is not None
        tset = parser.tset
        parser.finish(at)
        if trailer is None:
            tset.diagnostics.append(
                diagnostic(
                    "SE_MISSING",
                    f"{tset.id} {tset.control_number} ends without SE (at {at.elements[0]})",
                    at.offset,
                    segment_id="SE",
                )
            )
        tset.trailer = trailer
        self._parser = None
        self._group_sets += 1
        group = tset.group
        if group is not None:
            if self.keep_results:
                group.results.append(tset.result())
            if self.keep_sets:
                group.sets.append(tset)
        done.append(tset)

    # --- functional groups --------------------------------------------------------------------

    def _open_group(self, segment: Segment, done: list[Completed]) -> None:
        if self._parser is not None:
            self._end_set(segment, done, trailer=None)
        if self._group is not None:
            self._end_group(segment, done, trailer=None)
        group = FunctionalGroup(
            header=segment, interchange=self._interchange, delimiters=self._delimiters()
        )
        self._group_version = group.version
        key, problem = version_key(group.version)
        self._group_dialect = dialect(key, self.overrides)
        self._group = group
        self._group_sets = 0
        self._check(segment, group.diagnostics, None)
        if self._interchange is None:
            group.diagnostics.append(
                diagnostic(
                    "NO_ENVELOPE",
                    f"group {group.control_number!r} is not inside an interchange",
                    segment.offset,
                    segment_id="GS",
                )
            )
        if problem is not None:
            group.diagnostics.append(
                diagnostic(
                    problem,
                    f"GS08 {group.version!r} is read with the {key} specs",
                    segment.element_offset(8),
                    segment_id="GS",
                    element_position=8,
                    bad_value=group.version,
                )
            )

    def _close_group(self, segment: Segment, done: list[Completed]) -> None:
        if self._parser is not None:
            self._end_set(segment, done, trailer=None)
        group = self._group
        if group is None:
            self._stray(segment)
            return
        self._check(segment, group.diagnostics, None)
        declared = segment.get(1).strip()
        if declared.isdigit() and int(declared) != self._group_sets:
            group.diagnostics.append(
                diagnostic(
                    "GE_COUNT_MISMATCH",
                    f"GE01 says {declared} sets; the group has {self._group_sets}",
                    segment.element_offset(1),
                    segment_id="GE",
                    element_position=1,
                    bad_value=segment.get(1),
                )
            )
        if not _same_number(segment.get(2), group.control_number):
            group.diagnostics.append(
                diagnostic(
                    "GE_CONTROL_MISMATCH",
                    f"GE02 {segment.get(2)!r} differs from GS06 {group.control_number!r}",
                    segment.element_offset(2),
                    segment_id="GE",
                    element_position=2,
                    bad_value=segment.get(2),
                )
            )
        self._end_group(segment, done, trailer=segment)

    def _end_group(self, at: Segment, done: list[Completed], trailer: Segment | None) -> None:
        group = self._group
        assert group is not None
        if trailer is None:
            group.diagnostics.append(
                diagnostic(
                    "GE_MISSING",
                    f"group {group.control_number!r} ends without GE (at {at.elements[0]})",
                    at.offset,
                    segment_id="GE",
                )
            )
        group.trailer = trailer
        if group.interchange is not None:
            group.interchange.groups.append(group)
        self._interchange_groups += 1
        self._group = None
        done.append(group)

    # --- interchanges -------------------------------------------------------------------------

    def _open_interchange(self, segment: Segment, done: list[Completed]) -> None:
        self._close_open(segment, done)
        interchange = Interchange(header=segment, delimiters=self._delimiters())
        self._interchange = interchange
        self._interchange_groups = 0
        self._group_dialect = dialect("004010", self.overrides)
        found = interchange.diagnostics
        notes = segment.notes or []
        segment.notes = None
        found.extend(notes)
        spec = self._group_dialect.segment("ISA")
        assert spec is not None
        isa16_missing = any(n.code == "ISA16_MISSING" for n in notes)
        for finding in diagnose_segment(segment, spec, self._delimiters(), None):
            if finding.element_position == 16 and isa16_missing:
                continue
            found.append(finding)
        found.extend(isa11_problems(segment))

    def _close_interchange(self, segment: Segment, done: list[Completed]) -> None:
        interchange = self._interchange
        if interchange is None:
            self._stray(segment)
            return
        if self._parser is not None:
            self._end_set(segment, done, trailer=None)
        if self._group is not None:
            self._end_group(segment, done, trailer=None)
        found = interchange.diagnostics
        self._check(segment, found, None)
        declared = segment.get(1).strip()
        if declared.isdigit() and int(declared) != self._interchange_groups:
            found.append(
                diagnostic(
                    "IEA_COUNT_MISMATCH",
                    f"IEA01 says {declared} groups; the interchange has {self._interchange_groups}",
                    segment.element_offset(1),
                    segment_id="IEA",
                    element_position=1,
                    bad_value=segment.get(1),
                )
            )
        if not _same_number(segment.get(2), interchange.control_number):
            found.append(
                diagnostic(
                    "IEA_CONTROL_MISMATCH",
                    f"IEA02 {segment.get(2)!r} differs from ISA13 {interchange.control_number!r}",
                    segment.element_offset(2),
                    segment_id="IEA",
                    element_position=2,
                    bad_value=segment.get(2),
                )
            )
        interchange.trailer = segment
        self._interchange = None
        done.append(interchange)

    def _close_open(self, at: Segment, done: list[Completed]) -> None:
        """Close whatever is still open when an ISA or the end of the input arrives."""
        if self._parser is not None:
            self._end_set(at, done, trailer=None)
        if self._group is not None:
            self._end_group(at, done, trailer=None)
        interchange = self._interchange
        if interchange is not None:
            interchange.diagnostics.append(
                diagnostic(
                    "IEA_MISSING",
                    f"interchange {interchange.control_number!r} ends without IEA",
                    at.offset,
                    segment_id="IEA",
                )
            )
            self._interchange = None
            done.append(interchange)

    def _end_of_input(self) -> list[Completed]:
        done: list[Completed] = []
        last = self._last
        if isinstance(last, TransactionSet):
            last = last.trailer
        if last is not None:
            self._close_open(last, done)
        return done


def _placed(notes: list[Diagnostic], position: int | None) -> list[Diagnostic]:
    """Tokenizer notes with the segment's position in its set filled in."""
    return [dataclasses.replace(note, segment_position=position) for note in notes]


def parse(
    source: Source,
    *,
    overrides: Sequence[ElementOverride] = (),
    whole_sets_after: int | None = WHOLE_SETS_AFTER,
) -> Document:
    """Read a whole file (bytes, a path or a binary file) into a :class:`Document`."""
    reader = Reader(source, overrides=overrides, whole_sets_after=whole_sets_after)
    document = Document()
    for item in reader:
        if isinstance(item, Interchange):
            document.interchanges.append(item)
        elif isinstance(item, FunctionalGroup):
            if item.interchange is None:
                document.groups.append(item)
        elif item.group is None:
            document.fragments.append(item)
    document.diagnostics.extend(reader.diagnostics)
    return document


def validate(
    source: Source,
    *,
    overrides: Sequence[ElementOverride] = (),
    chunk_size: int = CHUNK_SIZE,
    whole_sets_after: int | None = WHOLE_SETS_AFTER,
) -> list[Diagnostic]:
    """Every finding in a file, streaming (sets are dropped as soon as they are checked)."""
    reader = Reader(
        source,
        overrides=overrides,
        keep_sets=False,
        keep_results=False,
        chunk_size=chunk_size,
        whole_sets_after=whole_sets_after,
    )
    found: list[Diagnostic] = []
    for item in reader:
        found.extend(item.diagnostics)
    found.extend(reader.diagnostics)
    return sorted(found, key=lambda d: (d.offset, d.code))
