"""Helpers shared by the EDI tests: the real-document corpus and small document builders."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from midway.integrations.edi import Document, TransactionSet, document_to_json
from midway.integrations.edi.jsonform import set_to_json


def corpus_dir() -> Path:
    """The shared corpus of real X12 files (see its SOURCES.md), or skip/fail without it.

    Outside CI a missing corpus skips the test; in CI (CI=true) it fails, so the conformance
    suite cannot silently stop running.
    """
    root = (Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "edi").resolve()
    if not (root / "SOURCES.md").is_file():
        message = f"shared EDI corpus not found at ../shared/data/edi ({root.name} missing)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return root


def corpus_files() -> list[str]:
    """Names of the corpus files, or [] when the corpus is absent (tests then skip/fail)."""
    root = (Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "edi").resolve()
    return sorted(p.name for p in root.glob("*.edi")) if root.is_dir() else []


def x12(*segments: str, terminator: str = "~", newline: bool = True) -> bytes:
    """Join segments into X12 bytes."""
    end = terminator + ("\n" if newline and terminator != "\n" else "")
    return "".join(s + end for s in segments).encode("utf-8")


def isa(
    control: str = "000000001",
    *,
    sep: str = "*",
    component: str = ">",
    version: str = "00401",
    standards: str = "U",
    ack: str = "0",
    sender: str = "MERCHANT",
    receiver: str = "WAREHOUSE",
) -> str:
    """A fixed-width ISA (without its terminator)."""
    fields = [
        "ISA", "00", " " * 10, "00", " " * 10, "ZZ", sender.ljust(15), "ZZ", receiver.ljust(15),
        "240105", "1200", standards, version, control, ack, "P", component,
    ]  # fmt: skip
    return sep.join(fields)


def envelope(
    *body: str,
    set_id: str = "940",
    functional_id: str = "OW",
    version: str = "004010",
    control: str = "0001",
    group: str = "1",
    interchange: str = "000000001",
) -> list[str]:
    """Segments of one interchange holding one group holding one set with ``body``."""
    return [
        isa(interchange),
        f"GS*{functional_id}*MERCHANT*WAREHOUSE*20240105*1200*{group}*X*{version}",
        f"ST*{set_id}*{control}",
        *body,
        f"SE*{len(body) + 2}*{control}",
        f"GE*1*{group}",
        f"IEA*1*{interchange}",
    ]


ORDER_BODY = (
    "W05*N*ORD1001*PO77",
    "N1*ST*JANE DOE*92*C123",
    "N3*1 MAIN ST",
    "N4*SPRINGFIELD*IL*62701*US",
    "N9*PO*PO77",
    "G62*10*20240105",
    "W66*PP*M***UPS GROUND",
    "LX*1",
    "W01*2*EA**VN*SKU-1001",
    "G69*BLUE WIDGET",
    "LX*2",
    "W01*1*EA**VN*SKU-2002",
    "W76*3*4.5*LB",
)


def codes(document: Document) -> list[str]:
    """The codes of every finding, in offset order."""
    return [d.code for d in document.all_diagnostics()]


def set_shape(tset: TransactionSet) -> dict[str, object]:
    """A set's content (loops, segments, values), without offsets or findings."""
    data = set_to_json(tset, with_diagnostics=False)
    data.pop("offset")
    data.pop("accepted")
    return data


def document_shape(document: Document) -> list[dict[str, object]]:
    """Every set's content, for comparing documents after a round trip."""
    assert document_to_json(document) is not None
    return [set_shape(tset) for tset in document.sets()]
