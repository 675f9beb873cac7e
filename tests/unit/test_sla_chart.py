"""The scorecard trend chart: one panel per term, each month's result against the target."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from midway.sla.chart import MET, MISSED, trend_svg

SVG = "{http://www.w3.org/2000/svg}"

CARD = {
    "agreement_id": "agr_1",
    "period": "2026-09",
    "terms": [
        {
            "code": "acc",
            "metric": "order_accuracy",
            "target": "99.5",
            "result": {"percent": "100.00"},
            "trend": [
                {"period": "2026-08", "percent": "100.00"},
                {"period": "2026-07", "percent": "75.00"},
                {"period": "2026-06", "percent": None},
            ],
        },
        {
            "code": "ots",
            "metric": "on_time_ship",
            "target": "99.0",
            "result": {"percent": "98.00"},
            "trend": [
                {"period": "2026-08", "percent": "99.00"},
                {"period": "2026-07", "percent": "99.50"},
                {"period": "2026-06", "percent": "97.00"},
            ],
        },
    ],
}


def panels() -> dict[str, ET.Element]:
    root = ET.fromstring(trend_svg(CARD))
    assert root.tag == f"{SVG}svg"
    return {g.attrib["data-code"]: g for g in root.iter(f"{SVG}g")}


def test_one_panel_per_term_with_a_point_per_month_that_counted() -> None:
    by_code = panels()
    assert list(by_code) == ["acc", "ots"]
    acc = [
        (c.attrib["data-month"], c.attrib["class"], c.attrib["fill"])
        for c in by_code["acc"].iter(f"{SVG}circle")
    ]
    # June counted nothing: no point, a "no data" label instead.
    assert acc == [
        ("2026-07", "missed", MISSED),
        ("2026-08", "met", MET),
        ("2026-09", "met", MET),
    ]
    assert "no data" in [t.text for t in by_code["acc"].iter(f"{SVG}text")]
    ots = [(c.attrib["data-month"], c.attrib["class"]) for c in by_code["ots"].iter(f"{SVG}circle")]
    # 97 < 99 missed, 99.5 met, 99.0 = the target met, 98 missed
    assert ots == [
        ("2026-06", "missed"),
        ("2026-07", "met"),
        ("2026-08", "met"),
        ("2026-09", "missed"),
    ]


def test_points_and_target_are_placed_on_the_panel_scale() -> None:
    acc = panels()["acc"]
    # First panel from y0 = 40; plot from y0 + 28 (100 %) to y0 + 118 (the floor). Lowest
    # value 75: floor = 75 - 25 x 0.25 - 1 = 67.75 -> 68 %.
    lines = {ln.attrib.get("class"): ln for ln in acc.iter(f"{SVG}line")}
    target = lines["target"]
    # 99.5: 158 - (31.5 / 32) x 90 = 69.40625
    assert target.attrib["y1"] == "69.4"
    points = {c.attrib["data-month"]: c for c in acc.iter(f"{SVG}circle")}
    # 75: 158 - (7 / 32) x 90 = 138.3125; 100: 68; x from 70 in steps of 550 / 3
    assert (points["2026-07"].attrib["cx"], points["2026-07"].attrib["cy"]) == ("253.3", "138.3")
    assert (points["2026-09"].attrib["cx"], points["2026-09"].attrib["cy"]) == ("620.0", "68.0")
    texts = [t.text for t in acc.iter(f"{SVG}text")]
    assert "68 %" in texts and "100 %" in texts
