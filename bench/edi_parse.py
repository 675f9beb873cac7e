"""Benchmark: X12 parse + validate throughput, against the floor of merely splitting the bytes.

A file of generated 940 shipping orders (about 100 MB; 5 MB with ``quick``) is written to a
temporary directory. The engine reads it streaming with ``validate`` (tokenize, envelopes and
control numbers, placement of every segment in its loops, element validation) and its
throughput is compared, in the same run, with a baseline that only reads the same file,
decodes it and splits it on the segment terminator and each segment on the element separator:
what any parser producing text must at least pay. The target is the engine at 25 % or more of
that baseline. A second row compares with splitting the raw bytes without decoding them, for
reference.

The engine checks clean sets whole, from their text, and builds their segment and loop
objects only when they are read, which ``validate`` does not do (see ``docs/edi.md``,
Performance): what is measured is every check, not the building of objects nobody reads.
"""

from __future__ import annotations

import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from midway.integrations.edi import validate

CHUNK = 1 << 20
TARGET_RATIO = 0.25
SETS_PER_INTERCHANGE = 2000


def _order(rng: random.Random, number: int) -> list[str]:
    """The segments of one 940 between ST and SE."""
    lines = rng.randint(1, 5)
    body = [
        f"W05*N*ORD{number:09d}*PO{rng.randint(1000, 99999)}",
        f"N1*ST*{rng.choice(['JANE DOE', 'ACME STORES', 'R. SMITH', 'NORTH DEPOT'])}*92*C{number}",
        f"N3*{rng.randint(1, 9999)} {rng.choice(['MAIN ST', 'OAK AVE', 'HARBOR RD'])}",
        f"N4*{rng.choice(['SPRINGFIELD', 'RENO', 'TOLEDO'])}*{rng.choice(['IL', 'NV', 'OH'])}"
        f"*{rng.randint(10000, 99999)}*US",
        f"N9*PO*PO{rng.randint(1000, 99999)}",
        f"G62*10*2024{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}",
        "W66*PP*M***UPS GROUND",
    ]
    units = 0
    for line in range(1, lines + 1):
        quantity = rng.randint(1, 40)
        units += quantity
        body += [
            f"LX*{line}",
            f"W01*{quantity}*EA**VN*SKU-{rng.randint(1, 50000):05d}",
            f"G69*{rng.choice(['BLUE WIDGET', 'RED WIDGET', 'GADGET XL', 'SPARE PART'])}",
        ]
    body.append(f"W76*{units}*{units * 0.75:.2f}*LB")
    return body


def generate(path: Path, size: int, seed: int = 7) -> int:
    """Write about ``size`` bytes of 940s (several interchanges) to ``path``; return the size."""
    rng = random.Random(seed)
    written = 0
    number = 0
    interchange = 0
    with path.open("w", encoding="ascii", newline="") as out:
        while written < size:
            interchange += 1
            parts = [
                "ISA*00*          *00*          *ZZ*MERCHANT       *ZZ*WAREHOUSE      "
                f"*240105*1200*U*00401*{interchange:09d}*0*P*>~\n",
                f"GS*OW*MERCHANT*WAREHOUSE*20240105*1200*{interchange}*X*004010~\n",
            ]
            for _ in range(SETS_PER_INTERCHANGE):
                number += 1
                control = f"{number % 100000:05d}"
                body = _order(rng, number)
                parts.append(
                    "~\n".join([f"ST*940*{control}", *body, f"SE*{len(body) + 2}*{control}"])
                    + "~\n"
                )
            parts.append(f"GE*{SETS_PER_INTERCHANGE}*{interchange}~\nIEA*1*{interchange:09d}~\n")
            text = "".join(parts)
            out.write(text)
            written += len(text)
    return written


def split_text(path: Path) -> None:
    """The floor: read, decode, split on the terminator, split each segment on the separator."""
    rest = ""
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            pieces = (rest + chunk.decode("latin-1")).split("~\n")
            rest = pieces.pop()
            for piece in pieces:
                piece.split("*")
    rest.split("*")


def split_bytes(path: Path) -> None:
    """The same without decoding: raw bytes split (no text a program could use)."""
    rest = b""
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            pieces = (rest + chunk).split(b"~\n")
            rest = pieces.pop()
            for piece in pieces:
                piece.split(b"*")
    rest.split(b"*")


def parse_and_validate(path: Path) -> None:
    """The engine: streaming parse plus full validation (every finding the engine reports)."""
    found = validate(path)
    if found:
        raise AssertionError(f"generated file has findings: {found[:3]}")


def best_time(action: Callable[[Path], None], path: Path, repeats: int) -> float:
    """The fastest of ``repeats`` runs, in CPU seconds of this process.

    CPU time rather than wall time: the work is CPU-bound, and on a shared machine other
    processes would otherwise distort one side of the ratio more than the other.
    """
    best = float("inf")
    for _ in range(repeats):
        start = time.process_time()
        action(path)
        best = min(best, time.process_time() - start)
    return best


def run(quick: bool = False) -> list[dict[str, object]]:
    """Generate the file, time the engine and the baselines, and return the result rows."""
    size = 5_000_000 if quick else 100_000_000
    repeats = 3 if quick else 2
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "orders-940.edi"
        written = generate(path, size)
        megabytes = written / 1e6
        validate(path.read_bytes()[:20_000])  # compile the grammars before timing
        engine = text_floor = bytes_floor = float("inf")
        for _ in range(repeats):
            # Interleaved, so that both sides see the same machine load.
            text_floor = min(text_floor, best_time(split_text, path, 1))
            bytes_floor = min(bytes_floor, best_time(split_bytes, path, 1))
            engine = min(engine, best_time(parse_and_validate, path, 1))
    engine_rate = megabytes / engine
    text_rate = megabytes / text_floor
    bytes_rate = megabytes / bytes_floor
    return [
        {
            "name": "edi_parse_validate_940",
            "value": round(engine_rate, 2),
            "unit": "MB/s",
            "baseline_value": round(text_rate, 2),
            "ratio": round(engine_rate / text_rate, 3),
            "target": TARGET_RATIO,
        },
        {
            "name": "edi_parse_validate_940_vs_raw_bytes_split",
            "value": round(engine_rate, 2),
            "unit": "MB/s",
            "baseline_value": round(bytes_rate, 2),
            "ratio": round(engine_rate / bytes_rate, 3),
            "target": None,
        },
    ]


def main(quick: bool = False) -> None:
    """Print the result rows."""
    for row in run(quick=quick):
        print(
            f"{row['name']}: {row['value']} {row['unit']} (baseline {row['baseline_value']} "
            f"{row['unit']}, ratio {row['ratio']}, target {row['target']})"
        )


if __name__ == "__main__":
    import sys

    main(quick="--quick" in sys.argv[1:])
