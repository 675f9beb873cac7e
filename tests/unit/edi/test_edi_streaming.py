"""Streaming: a large file is processed set by set, in bounded memory."""

from __future__ import annotations

import io
import tracemalloc
from pathlib import Path

from midway.integrations.edi import Reader, TransactionSet, validate
from tests.unit.edi.edi_support import ORDER_BODY, isa


def big_file(sets: int) -> bytes:
    """One interchange, one group, ``sets`` 940s."""
    parts = [isa() + "~\n", "GS*OW*MERCHANT*WAREHOUSE*20240105*1200*1*X*004010~\n"]
    for number in range(1, sets + 1):
        body = [f"ST*940*{number:04d}", *ORDER_BODY, f"SE*{len(ORDER_BODY) + 2}*{number:04d}"]
        parts.append("~\n".join(body) + "~\n")
    parts.append(f"GE*{sets}*1~\nIEA*1*000000001~\n")
    return "".join(parts).encode()


class CountingReader(io.BytesIO):
    """A binary file that remembers how much has been read from it."""

    consumed = 0

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        self.consumed += len(chunk)
        return chunk


def test_sets_are_yielded_before_the_file_is_read() -> None:
    data = big_file(2000)
    source = CountingReader(data)
    reader = Reader(source, chunk_size=1 << 14, keep_sets=False)
    first = next(item for item in reader if isinstance(item, TransactionSet))
    assert first.control_number == "0001" and first.accepted
    assert source.consumed < len(data) // 10


def peak_memory(path: Path) -> int:
    """Peak traced allocation while validating a file."""
    tracemalloc.start()
    try:
        found = validate(path, chunk_size=1 << 12)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert found == []
    return peak


def test_memory_does_not_grow_with_the_file(tmp_path: Path) -> None:
    validate(big_file(2))  # compiles and caches the grammars outside the measurement
    small, large = tmp_path / "small.edi", tmp_path / "large.edi"
    small.write_bytes(big_file(500))
    large.write_bytes(big_file(2500))
    small_peak, large_peak = peak_memory(small), peak_memory(large)
    # Five times the data, about the same memory: it follows the chunk and the current set.
    assert large_peak < small_peak * 1.3 + 50_000, (small_peak, large_peak)
    assert large_peak < large.stat().st_size / 2


def test_streaming_and_whole_document_agree() -> None:
    data = big_file(50).replace(b"W05*N*ORD1001", b"W05*Q*ORD1001", 1)
    streamed = [item for item in Reader(data, keep_sets=False) if isinstance(item, TransactionSet)]
    assert len(streamed) == 50
    assert [d.code for d in streamed[0].diagnostics] == ["INVALID_CODE"]
    assert all(t.accepted for t in streamed[1:])
