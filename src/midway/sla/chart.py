"""A scorecard's trend as an SVG chart: one panel per term, its monthly result against its
target (the three months before the scorecard's, then its own).

Plain SVG text built with the standard library; each point is green when the month met the
target and red when it missed it; a month with nothing counted has no point.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape

WIDTH = 640
PANEL = 150
TOP = 40
LEFT, RIGHT = 70, 20
PLOT_TOP, PLOT_BOTTOM = 28, 118
MET, MISSED = "#1a7f37", "#cf222e"


def months_of(term: dict[str, Any], period: str) -> list[tuple[str, Decimal | None]]:
    """(month, result in percent or None) of a scorecard term, oldest first."""
    points = [(t["period"], _percent(t["percent"])) for t in reversed(term["trend"])]
    points.append((period, _percent(term["result"]["percent"])))
    return points


def trend_svg(card: dict[str, Any]) -> str:
    """The SVG document of a scorecard (as :func:`midway.sla.scorecard.build` returns it)."""
    terms = card["terms"]
    height = TOP + PANEL * max(1, len(terms))
    title = f"SLA scorecard {card['agreement_id']} {card['period']}: monthly result and target"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="11">',
        f"<title>{escape(title)}</title>",
        f'<text x="{LEFT}" y="22" font-size="14" font-weight="bold">{escape(title)}</text>',
    ]
    for index, term in enumerate(terms):
        parts.append(_panel(term, card["period"], TOP + index * PANEL))
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _panel(term: dict[str, Any], period: str, y0: int) -> str:
    target = Decimal(term["target"])
    points = months_of(term, period)
    known = [v for _, v in points if v is not None]
    low = min([target, *known])
    # Show the band from a little under the lowest value (or the target) to 100 %.
    floor = max(Decimal(0), (low - (Decimal(100) - low) * Decimal("0.25") - 1).to_integral())

    def y(value: Decimal) -> float:
        share = (value - floor) / (Decimal(100) - floor) if floor < 100 else Decimal(1)
        return round(y0 + PLOT_BOTTOM - float(share) * (PLOT_BOTTOM - PLOT_TOP), 1)

    step = (WIDTH - LEFT - RIGHT) / max(1, len(points) - 1)
    xs = [round(LEFT + i * step, 1) for i in range(len(points))]
    label = f"{term['code']} ({term['metric']}), target {term['target']} %"
    out = [
        f'<g class="term" data-code="{escape(term["code"])}">',
        f'<text x="{LEFT}" y="{y0 + 16}" font-weight="bold">{escape(label)}</text>',
        f'<line x1="{LEFT}" y1="{y0 + PLOT_BOTTOM}" x2="{WIDTH - RIGHT}" '
        f'y2="{y0 + PLOT_BOTTOM}" stroke="#888"/>',
        f'<text x="{LEFT - 6}" y="{y(Decimal(100)) + 4}" text-anchor="end">100 %</text>',
        f'<text x="{LEFT - 6}" y="{y(floor) + 4}" text-anchor="end">{floor} %</text>',
        f'<line class="target" x1="{LEFT}" y1="{y(target)}" x2="{WIDTH - RIGHT}" '
        f'y2="{y(target)}" stroke="#555" stroke-dasharray="4 3"/>',
    ]
    line = [f"{x},{y(v)}" for x, (_, v) in zip(xs, points, strict=True) if v is not None]
    if len(line) > 1:
        out.append(f'<polyline points="{" ".join(line)}" fill="none" stroke="#0969da"/>')
    for x, (month, value) in zip(xs, points, strict=True):
        out.append(f'<text x="{x}" y="{y0 + PLOT_BOTTOM + 16}" text-anchor="middle">{month}</text>')
        if value is None:
            out.append(
                f'<text x="{x}" y="{y0 + PLOT_BOTTOM - 6}" text-anchor="middle" '
                f'fill="#888">no data</text>'
            )
            continue
        colour, verdict = (MET, "met") if value >= target else (MISSED, "missed")
        out.append(
            f'<circle class="{verdict}" data-month="{month}" data-percent="{value}" cx="{x}" '
            f'cy="{y(value)}" r="4" fill="{colour}"/>'
        )
        out.append(
            f'<text x="{x}" y="{y(value) - 8}" text-anchor="middle" fill="{colour}">'
            f"{value} %</text>"
        )
    out.append("</g>")
    return "\n".join(out)


def _percent(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))
