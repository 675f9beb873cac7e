"""The ``midway edi`` sub-commands, driven through Typer's test runner."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from midway.integrations.edi import parse
from midway.integrations.edi.cli import app
from tests.unit.edi.edi_support import ORDER_BODY, envelope, x12

runner = CliRunner()


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_validate_clean_file_exits_zero(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["validate", str(write(tmp_path, "ok.edi", x12(*envelope(*ORDER_BODY))))]
    )
    assert result.exit_code == 0
    assert result.stdout == ""


def test_validate_prints_one_line_per_finding_and_fails(tmp_path: Path) -> None:
    lines = envelope("W05*X*A1", "W76*two")
    lines[-3] = "SE*9*0001"
    path = write(tmp_path, "bad.edi", x12(*lines))
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 1
    printed = result.stdout.splitlines()
    assert len(printed) == 3
    assert printed[0].startswith("offset ") and "segment 2 W05, element W0501" in printed[0]
    assert "INVALID_CODE [AK4 7]" in printed[0]
    assert any("SE_COUNT_MISMATCH" in line for line in printed)


def test_validate_warnings_fail_unless_allowed(tmp_path: Path) -> None:
    path = write(tmp_path, "old.edi", x12(*envelope("W05*N*A1", version="004060")))
    assert runner.invoke(app, ["validate", str(path)]).exit_code == 1
    assert runner.invoke(app, ["validate", "--allow-warnings", str(path)]).exit_code == 0


def test_validate_applies_partner_overrides(tmp_path: Path) -> None:
    path = write(tmp_path, "x7.edi", x12(*envelope("W05*N*A1", "N9*X7*R1")))
    partner = tmp_path / "partner.toml"
    partner.write_text(
        'name = "acme"\nsender_id = "MIDWAY"\nreceiver_id = "ACME"\n'
        '[[overrides]]\nelement = "N901"\nadd_codes = ["X7"]\n',
        encoding="utf-8",
    )
    assert runner.invoke(app, ["validate", str(path)]).exit_code == 1
    assert runner.invoke(app, ["validate", "--partner", str(partner), str(path)]).exit_code == 0


def test_parse_summary_and_json(tmp_path: Path) -> None:
    path = write(tmp_path, "order.edi", x12(*envelope(*ORDER_BODY)))
    summary = runner.invoke(app, ["parse", str(path)])
    assert summary.exit_code == 0
    assert "set 940 0001: accepted" in summary.stdout
    as_json = runner.invoke(app, ["parse", "--json", str(path)])
    assert as_json.exit_code == 0
    data = json.loads(as_json.stdout)
    (tset,) = data["interchanges"][0]["groups"][0]["sets"]
    assert tset["id"] == "940"
    assert tset["segments"][0]["fields"]["depositor_order_number"] == "ORD1001"
    assert tset["segments"][1]["loop"] == "N1"


def test_ack_prints_a_997(tmp_path: Path) -> None:
    path = write(tmp_path, "order.edi", x12(*envelope("W05*N*A1", "N9**3")))
    state = tmp_path / "counters.json"
    result = runner.invoke(app, ["ack", "--state", str(state), str(path)])
    assert result.exit_code == 0
    reply = parse(result.stdout.encode())
    assert reply.clean
    (ack,) = reply.sets()
    assert [s.id for s in ack.walk()] == ["AK1", "AK2", "AK3", "AK4", "AK5", "AK9"]
    assert json.loads(state.read_text()) == {"interchange": 1, "group": 1, "transaction_set": 1}
    again = runner.invoke(app, ["ack", "--state", str(state), str(path)])
    assert parse(again.stdout.encode()).interchanges[0].control_number == "000000002"


def test_ack_without_envelope_says_so(tmp_path: Path) -> None:
    path = write(tmp_path, "bare.edi", x12("ST*940*0001", "W05*N*A1", "SE*3*0001"))
    result = runner.invoke(app, ["ack", str(path)])
    assert result.exit_code == 1
    assert "nothing to acknowledge" in result.stderr


def test_render_from_parse_json_with_a_partner(tmp_path: Path) -> None:
    source = write(tmp_path, "order.edi", x12(*envelope(*ORDER_BODY)))
    doc = tmp_path / "doc.json"
    doc.write_text(runner.invoke(app, ["parse", "--json", str(source)]).stdout, encoding="utf-8")
    partner = tmp_path / "partner.json"
    partner.write_text(
        json.dumps(
            {
                "name": "acme",
                "sender_id": "MIDWAY",
                "receiver_id": "ACME3PL",
                "segment_terminator": "'",
                "newline_after_terminator": False,
            }
        ),
        encoding="utf-8",
    )
    result = runner.invoke(
        app, ["render", "--set", "940", "--from", str(doc), "--partner", str(partner)]
    )
    assert result.exit_code == 0, result.stderr
    assert "\n" not in result.stdout and result.stdout.count("'") == len(ORDER_BODY) + 6
    rendered = parse(result.stdout.encode())
    assert rendered.clean
    assert rendered.interchanges[0].receiver == ("ZZ", "ACME3PL")
    assert [s.elements for s in next(rendered.sets()).walk()] == [s.split("*") for s in ORDER_BODY]


def test_render_reports_bad_inputs(tmp_path: Path) -> None:
    partner = tmp_path / "partner.json"
    partner.write_text('{"name": "acme", "sender_id": "A", "receiver_id": "B"}')
    empty = tmp_path / "empty.json"
    empty.write_text("[]")
    args = ["render", "--set", "940", "--from", str(empty), "--partner", str(partner)]
    result = runner.invoke(app, args)
    assert result.exit_code == 1 and "holds no 940 set" in result.stderr
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    args[4] = str(broken)
    assert runner.invoke(app, args).exit_code == 2
    bad_partner = tmp_path / "bad.json"
    bad_partner.write_text('{"name": "acme"}')
    args[4], args[6] = str(empty), str(bad_partner)
    result = runner.invoke(app, args)
    assert result.exit_code == 2 and "needs sender_id" in result.stderr
