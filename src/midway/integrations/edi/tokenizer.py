"""The tokenizer: bytes in, :class:`Segment` objects out, with byte offsets, streaming.

The file is read in chunks, decoded as Latin-1 (one character per byte, so string indexes are
byte offsets) and split on the segment terminator with ``str.split``: no per-character Python
loop on the hot path. Each ISA found at a segment boundary re-reads the delimiters, so several
interchanges with different delimiters can follow each other in one file.

Regions of complete segments are handed out as :class:`TextBlock` text, ending before a set's
ST where they can, so that the reader sees whole sets in one block and can check them in one
go. When segment objects are wanted, text that looks regular (every terminator followed by
the same line break, nothing else odd) is split in one pass; anything else (blank lines,
indentation, CR LF mixes, a segment broken over lines, a foreign terminator, non-ASCII text)
goes through a careful per-segment path that repairs what it safely can and notes what it did.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Iterator
from itertools import accumulate, count, repeat
from operator import add
from pathlib import Path
from typing import BinaryIO, TypeAlias

from midway.integrations.edi.delimiters import (
    FOREIGN_TERMINATORS,
    SEGMENT_START,
    guess_fragment,
    scan_isa,
)
from midway.integrations.edi.diagnostics import Diagnostic, diagnostic
from midway.integrations.edi.models import Delimiters, Segment

Source: TypeAlias = "bytes | bytearray | memoryview | str | os.PathLike[str] | BinaryIO"

CHUNK_SIZE = 1 << 20
# Text is handed out in regions of about this many bytes: large enough that most sets fit in
# one whole and the per-region checks are negligible, small enough that the buffer stays a
# small multiple of it (segment objects are only made from a region a set at a time).
REGION_SIZE = 1 << 14
# A set longer than a region is still handed out whole, up to this size, so that it too can be
# checked in one go; past it, its regions are cut anywhere after a terminator.
LARGEST_SET = 1 << 22
_BOM = "\xef\xbb\xbf"  # the UTF-8 byte order mark, as Latin-1 text
_LINE = re.compile(r"[^\r\n]+")
_WHITESPACE = " \t\r\n\f\v"


def iter_chunks(source: Source, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
    """Bytes of a source in chunks: raw bytes, a path (``str`` or ``PathLike``) or a binary file."""
    if isinstance(source, bytes | bytearray | memoryview):
        view = memoryview(source)
        for start in range(0, len(view), chunk_size):
            yield bytes(view[start : start + chunk_size])
        return
    if isinstance(source, str | os.PathLike):
        with Path(source).open("rb") as handle:
            yield from iter_chunks(handle, chunk_size)
        return
    while chunk := source.read(chunk_size):
        yield chunk


def split_regular(text: str, base: int, sep: str, split: str) -> list[Segment]:
    """The segments of regular text that ends with ``split`` and starts ``base`` bytes in."""
    step = len(split)
    pieces = text.split(split)
    pieces.pop()  # the empty string after the last terminator
    if "" in pieces:
        segments: list[Segment] = []
        offset = base
        for piece in pieces:
            if piece:
                segments.append(Segment(piece.split(sep), offset, piece))
            offset += len(piece) + step
        return segments
    # The common case, looped in C: offsets are the running sum of piece lengths plus one
    # terminator per piece already passed.
    offsets = map(add, accumulate(map(len, pieces), initial=0), count(base, step))
    elements = map(str.split, pieces, repeat(sep))
    return list(map(Segment, elements, offsets, pieces))


def is_regular(text: str, split: str, terminator: str) -> bool:
    """Whether text ending with ``split`` can be split in one pass: ASCII, no indentation,
    and every terminator and line-break character part of a split."""
    if not text.isascii() or "\n " in text or "\n\t" in text:
        return False
    if split == "\n":
        return "\r" not in text
    # Once the splits are removed, none may be left (one pass, then scans that stop at the
    # first hit: cheaper than counting each character).
    rest = text if split == terminator else text.replace(split, "")
    return (split == terminator or terminator not in rest) and "\n" not in rest and "\r" not in rest


class TextBlock:
    """Complete segments as text: ``text`` ends with ``split`` and starts ``base`` bytes into
    the file (Latin-1 decoded, so indexes are byte offsets).

    The layout is not checked when the block is made: whole sets are checked by an expression
    that only matches regular text, and :meth:`segments` checks the part it splits, reading
    irregular text with ``careful`` (the tokenizer's careful path).
    """

    __slots__ = ("base", "careful", "delimiters", "split", "text")

    def __init__(
        self,
        text: str,
        base: int,
        delimiters: Delimiters,
        split: str,
        careful: Callable[[str, int], list[Segment]],
    ) -> None:
        self.text = text
        self.base = base
        self.delimiters = delimiters
        self.split = split
        self.careful = careful

    def segments(self, start: int = 0, stop: int | None = None) -> list[Segment]:
        """The segments of ``text[start:stop]`` (``start`` just after a split or 0, ``stop``
        just after one or None)."""
        text = self.text if start == 0 and stop is None else self.text[start:stop]
        if is_regular(text, self.split, self.delimiters.segment):
            return split_regular(text, self.base + start, self.delimiters.element, self.split)
        # Cut right after terminators, the careful path reads a part as it reads the whole.
        return self.careful(text, self.base + start)


Block: TypeAlias = "TextBlock | list[Segment]"


def _redecode(text: str) -> str:
    """Latin-1 text back to what the bytes meant: UTF-8 when they are, else Windows-1252."""
    data = text.encode("latin-1")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


class Tokenizer:
    """Splits a byte stream into segments; iterate :meth:`batches` (fast) or the tokenizer.

    ``diagnostics`` collects findings that belong to no segment (data that is not X12);
    findings about a segment travel on the segment (``Segment.notes``).
    """

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = iter(chunks)
        self._buf = ""
        self._base = 0
        self._eof = False
        self.delimiters: Delimiters | None = None
        self.split = "~"
        self.in_interchange = False
        self.diagnostics: list[Diagnostic] = []
        self._segment_start: re.Pattern[str] | None = None
        self._set_start = "~ST*"  # the split before a set's ST, set with the delimiters

    # --- buffer management -----------------------------------------------------------------

    def _read(self) -> bool:
        """Append the next chunk to the buffer; False at the end of the input."""
        if self._eof:
            return False
        chunk = next(self._chunks, None)
        if chunk is None:
            self._eof = True
            return False
        self._buf += chunk.decode("latin-1")
        return True

    def _ensure(self, size: int) -> None:
        """Read until the buffer holds ``size`` characters or the input ends."""
        while len(self._buf) < size and self._read():
            pass

    def _drop(self, pos: int) -> None:
        """Forget the buffer before ``pos`` (already tokenized)."""
        self._buf = self._buf[pos:]
        self._base += pos

    # --- iteration ---------------------------------------------------------------------------

    def __iter__(self) -> Iterator[Segment]:
        """Segments one by one."""
        for batch in self.batches():
            yield from batch

    def batches(self) -> Iterator[list[Segment]]:
        """Segments in lists (one per region read), the cheap way to stream them."""
        for block in self.blocks():
            yield block.segments() if isinstance(block, TextBlock) else block

    def blocks(self) -> Iterator[Block]:
        """Regular regions as :class:`TextBlock` text, anything else as segment lists."""
        self._ensure(4096)
        pos = 3 if self._buf.startswith(_BOM) else 0
        while True:
            pos = self._skip_space(pos)
            buf = self._buf
            if pos >= len(buf):
                break
            if self._at_isa(pos):
                self._ensure(pos + 1024)
                yield [self._read_isa(pos)]
                pos = self._isa_end
                continue
            if self.delimiters is None:
                pos = self._start_fragment(pos)
                continue
            end = self._region_end(pos)
            if end == pos:
                if not self._read():
                    end = len(self._buf)
                else:
                    continue
            yield from self._tokenize(pos, end)
            pos = end
            if len(self._buf) - pos < REGION_SIZE:
                self._drop(pos)
                pos = 0
                self._ensure(REGION_SIZE * 2)
        if self.delimiters is None and not self.diagnostics:
            self.diagnostics.append(
                diagnostic("NO_INTERCHANGE", "the input holds no ISA or ST segment", self._base)
            )

    def _skip_space(self, pos: int) -> int:
        while True:
            buf = self._buf
            while pos < len(buf) and buf[pos] in _WHITESPACE:
                pos += 1
            if pos < len(buf) or not self._read():
                return pos

    def _at_isa(self, pos: int) -> bool:
        self._ensure(pos + 4)
        buf = self._buf
        if not buf.startswith("ISA", pos) or pos + 3 >= len(buf):
            return False
        sep = buf[pos + 3]
        return not sep.isalnum() and sep not in _WHITESPACE

    def _read_isa(self, pos: int) -> Segment:
        scan = scan_isa(self._buf, pos)
        self.delimiters = scan.delimiters
        self.split = scan.split
        self.in_interchange = True
        self._segment_start = re.compile(SEGMENT_START.pattern + re.escape(scan.delimiters.element))
        self._set_start = scan.split + "ST" + scan.delimiters.element
        self._isa_end = scan.end
        segment = Segment(scan.elements, self._base + pos, scan.raw)
        if scan.problems:
            segment.notes = [
                diagnostic(code, message, self._base + pos, segment_id="ISA")
                for code, message in scan.problems
            ]
        return segment

    def _start_fragment(self, pos: int) -> int:
        """No ISA yet: guess the delimiters of a bare fragment, or skip what is not X12."""
        self._ensure(pos + 1024)
        guess = guess_fragment(self._buf, pos)
        if guess is not None:
            self.delimiters, self.split = guess
            self._segment_start = re.compile(
                SEGMENT_START.pattern + re.escape(self.delimiters.element)
            )
            self._set_start = self.split + "ST" + self.delimiters.element
            return pos
        skipped_from = self._base + pos
        next_isa = self._find_isa(pos + 1)
        while next_isa == -1 and self._read():
            next_isa = self._find_isa(pos + 1)
        end = next_isa if next_isa != -1 else len(self._buf)
        self.diagnostics.append(
            diagnostic(
                "DATA_OUTSIDE_ENVELOPE",
                f"{end - pos} bytes before any ISA are not X12 and were skipped",
                skipped_from,
            )
        )
        return end

    def _find_isa(self, start: int, stop: int | None = None) -> int:
        """Index of the next ``ISA`` that starts a segment (before ``stop``), or -1."""
        buf = self._buf
        term = self.delimiters.segment if self.delimiters else "~"
        stop = len(buf) if stop is None else stop
        index = buf.find("ISA", start, stop)
        while index != -1:
            before = buf[index - 1] if index else "\n"
            after = buf[index + 3 : index + 4]
            if (before == term or before in _WHITESPACE) and (
                after == "" or (not after.isalnum() and after not in _WHITESPACE)
            ):
                return index
            index = buf.find("ISA", index + 1, stop)
        return -1

    def _region_end(self, pos: int) -> int:
        """End of the next block of complete segments: before an ISA, before a set's ST, or
        after a terminator."""
        stop = pos + REGION_SIZE
        self._ensure(stop + len(self._set_start))
        buf = self._buf
        next_isa = self._find_isa(pos + 1, stop + 3)
        if next_isa != -1:
            return next_isa
        if self._eof and len(buf) <= stop:
            return len(buf)
        set_start = buf.rfind(self._set_start, pos, stop)
        if set_start != -1:
            return set_start + len(self.split)
        if buf.startswith(self._set_start[len(self.split) :], pos):
            whole = self._whole_set_end(pos, stop)
            if whole != -1:
                return whole
        last = buf.rfind(self.split, pos, stop)
        if last == -1:
            # A segment longer than a region: take it whole once it is complete.
            last = buf.rfind(self.split, pos)
            if last == -1:
                return len(buf) if self._eof else pos
        return last + len(self.split)

    def _whole_set_end(self, pos: int, search: int) -> int:
        """A set longer than a region starts at ``pos``: the end of the region holding it
        whole (before the next set or ISA), reading on up to ``LARGEST_SET``; -1 past that."""
        marker = self._set_start
        while True:
            buf = self._buf
            limit = min(len(buf), pos + LARGEST_SET)
            found = buf.find(marker, search, limit)
            next_isa = self._find_isa(search, limit)
            if found != -1 and (next_isa == -1 or found < next_isa):
                return found + len(self.split)
            if next_isa != -1:
                return next_isa
            if len(buf) >= pos + LARGEST_SET:
                return -1
            if not self._read():
                return len(self._buf)
            search = max(search, limit - len(marker) - 3)

    # --- splitting -----------------------------------------------------------------------------

    def _tokenize(self, start: int, end: int) -> list[Block]:
        text = self._buf[start:end]
        split = self.split
        base = self._base + start
        body_end = len(text) if text.endswith(split) else text.rfind(split) + len(split)
        if body_end <= 0:
            careful = self._careful(text, base)
            return [careful] if careful else []
        assert self.delimiters is not None
        body = text if body_end == len(text) else text[:body_end]
        blocks: list[Block] = [TextBlock(body, base, self.delimiters, split, self._careful)]
        if body_end < len(text):
            tail = self._careful(text[body_end:], base + body_end)
            if tail:
                blocks.append(tail)
        return blocks

    def _careful(self, text: str, base: int) -> list[Segment]:
        """Split a block segment by segment, tolerating whatever surrounds the terminators."""
        delimiters = self.delimiters
        assert delimiters is not None
        term = delimiters.segment
        segments: list[Segment] = []
        offset = base
        pieces = text.split(term)
        last = len(pieces) - 1
        for index, piece in enumerate(pieces):
            start = offset
            offset += len(piece) + len(term)
            body = piece.lstrip(_WHITESPACE)
            if term == "\n":
                body = body.rstrip("\r")
            if not body:
                continue
            start += len(piece) - len(piece.lstrip(_WHITESPACE))
            if "\n" in body or "\r" in body:
                segments.extend(self._line_broken(body, start))
            else:
                segments.append(self._segment(body, start))
            if index == last and self._eof and term not in "\r\n":
                note = diagnostic(
                    "MISSING_TERMINATOR",
                    f"the last segment is not followed by the terminator {term!r}",
                    start,
                    segment_id=segments[-1].elements[0],
                )
                segments[-1].notes = [*(segments[-1].notes or []), note]
        return segments

    def _segment(self, text: str, offset: int) -> Segment:
        if not text.isascii():
            text = _redecode(text)
        return Segment(text.split(self.delimiters.element), offset, text)  # type: ignore[union-attr]

    def _line_broken(self, text: str, offset: int) -> list[Segment]:
        """A segment holding line breaks: lines copied out of a page, or run-together segments.

        A line that ends with a foreign terminator (``~`` in a ``$``-terminated interchange)
        and is followed by a line starting like a segment was a segment of its own: split it
        there. Otherwise the line breaks are wrapping and are removed.
        """
        delimiters = self.delimiters
        assert delimiters is not None and self._segment_start is not None
        lines = [(m.group(), offset + m.start()) for m in _LINE.finditer(text)]
        segments: list[Segment] = []
        current, current_offset = lines[0]
        wrapped = False
        for line, line_offset in lines[1:]:
            stripped = line.lstrip(" \t")
            line_offset += len(line) - len(stripped)
            if not stripped:
                continue
            last_char = current[-1:]
            if (
                last_char in FOREIGN_TERMINATORS
                and last_char not in delimiters.characters()
                and self._segment_start.match(stripped)
            ):
                segment = self._segment(current[:-1], current_offset)
                segment.notes = [
                    diagnostic(
                        "MIXED_TERMINATOR",
                        f"segment ends with {last_char!r} and a line break, but the interchange's "
                        f"terminator is {delimiters.segment!r}",
                        current_offset,
                        segment_id=segment.elements[0],
                    )
                ]
                segments.append(segment)
                current, current_offset = stripped, line_offset
            else:
                current += stripped
                wrapped = True
        segment = self._segment(current, current_offset)
        if wrapped:
            segment.notes = [
                diagnostic(
                    "SEGMENT_WRAPPED",
                    "segment broken over several lines; the line breaks were removed",
                    current_offset,
                    segment_id=segment.elements[0],
                )
            ]
        segments.append(segment)
        return segments
