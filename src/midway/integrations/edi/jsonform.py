"""The typed JSON form of parsed X12, and reading it back into models.

Every segment becomes ``{"segment": "W05", "elements": [...], "fields": {...}}``: elements by
position (composites as lists of components, trailing empty elements dropped) and, where the
spec names them, the same values by name. Loops become ``{"loop": "N1", "segments": [...]}``.
The form does not depend on the delimiters of the file it came from, so it renders for any
partner.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TypeAlias

from midway.integrations.edi.diagnostics import Diagnostic, diagnostic
from midway.integrations.edi.models import (
    INTERNAL,
    Delimiters,
    Document,
    FunctionalGroup,
    Interchange,
    Item,
    Loop,
    Segment,
    TransactionSet,
)
from midway.integrations.edi.spec import dialect, version_key

JSON: TypeAlias = "dict[str, object]"


def segment_to_json(segment: Segment, delimiters: Delimiters) -> JSON:
    """One segment: its values by position and, where the spec names them, by name."""
    spec = segment.spec
    elements: list[object] = []
    fields: dict[str, object] = {}
    for position, value in enumerate(segment.trimmed()[1:], start=1):
        element = spec.element(position) if spec is not None else None
        shaped: object = value
        if element is not None and element.components and value:
            shaped = value.split(delimiters.component)
        elements.append(shaped)
        if element is not None and value:
            fields[element.name] = shaped
    data: JSON = {"segment": segment.elements[0], "elements": elements}
    if fields:
        data["fields"] = fields
    return data


def _items_to_json(items: Sequence[Item], delimiters: Delimiters) -> list[JSON]:
    out: list[JSON] = []
    for item in items:
        if isinstance(item, Loop):
            out.append({"loop": item.id, "segments": _items_to_json(item.items, delimiters)})
        else:
            out.append(segment_to_json(item, delimiters))
    return out


def set_to_json(tset: TransactionSet, *, with_diagnostics: bool = True) -> JSON:
    """A transaction set with its loops (and findings)."""
    data: JSON = {
        "id": tset.id,
        "control_number": tset.control_number,
        "version": tset.version,
        "offset": tset.header.offset,
        "accepted": tset.accepted,
        "header": segment_to_json(tset.header, tset.delimiters),
        "segments": _items_to_json(tset.items, tset.delimiters),
    }
    if with_diagnostics:
        data["diagnostics"] = [d.to_dict() for d in tset.diagnostics]
    return data


def group_to_json(group: FunctionalGroup) -> JSON:
    """A functional group, its header fields and its sets."""
    return {
        "functional_id": group.functional_id,
        "control_number": group.control_number,
        "sender": group.sender,
        "receiver": group.receiver,
        "date": group.header.get(4),
        "time": group.header.get(5),
        "version": group.version,
        "sets": [set_to_json(tset) for tset in group.sets],
        "diagnostics": [d.to_dict() for d in group.diagnostics],
    }


def interchange_to_json(interchange: Interchange) -> JSON:
    """An interchange, its envelope fields, delimiters and groups."""
    delimiters = interchange.delimiters
    return {
        "control_number": interchange.control_number,
        "sender": {"qualifier": interchange.sender[0], "id": interchange.sender[1]},
        "receiver": {"qualifier": interchange.receiver[0], "id": interchange.receiver[1]},
        "date": interchange.header.get(9),
        "time": interchange.header.get(10),
        "version": interchange.version,
        "usage": interchange.header.get(15),
        "acknowledgment_requested": interchange.ack_requested,
        "delimiters": {
            "element": delimiters.element,
            "component": delimiters.component,
            "segment": delimiters.segment,
            "repetition": delimiters.repetition,
        },
        "groups": [group_to_json(group) for group in interchange.groups],
        "diagnostics": [d.to_dict() for d in interchange.diagnostics],
    }


def document_to_json(document: Document) -> JSON:
    """A whole parsed file."""
    return {
        "clean": document.clean,
        "interchanges": [interchange_to_json(i) for i in document.interchanges],
        "groups": [group_to_json(g) for g in document.groups],
        "fragments": [set_to_json(t) for t in document.fragments],
        "diagnostics": [d.to_dict() for d in document.diagnostics],
    }


# --- Reading the JSON form back ----------------------------------------------------------------


def find_sets(data: object) -> list[Mapping[str, object]]:
    """The sets in a JSON document: a full parse output, one set, or a list of sets."""
    found: list[Mapping[str, object]] = []
    if isinstance(data, list):
        for item in data:
            found.extend(find_sets(item))
    elif isinstance(data, dict):
        if "segments" in data and "id" in data:
            found.append(data)
        else:
            for key in ("interchanges", "groups", "sets", "fragments"):
                if key in data:
                    found.extend(find_sets(data[key]))
    return found


def _value(raw: object, where: str, problems: list[Diagnostic]) -> str:
    if isinstance(raw, str):
        return raw
    if isinstance(raw, list) and all(isinstance(part, str) for part in raw):
        return INTERNAL.component.join(raw)
    if raw is None:
        return ""
    problems.append(
        diagnostic("INVALID_DOCUMENT", f"{where}: values must be strings or lists of strings", 0)
    )
    return ""


def _segment_from_json(
    data: Mapping[str, object], version: str, problems: list[Diagnostic], where: str
) -> Segment | None:
    sid = data.get("segment")
    if not isinstance(sid, str) or not sid:
        problems.append(diagnostic("INVALID_DOCUMENT", f"{where}: a segment needs an ID", 0))
        return None
    values: list[str] = [sid]
    raw_elements = data.get("elements")
    if isinstance(raw_elements, list):
        values += [_value(v, f"{where} {sid}", problems) for v in raw_elements]
    elif isinstance(data.get("fields"), dict):
        spec = dialect(version).segment(sid)
        named = data["fields"]
        assert isinstance(named, dict)
        for name, raw in named.items():
            position = spec.position_of(str(name)) if spec is not None else None
            if position is None:
                problems.append(
                    diagnostic("INVALID_DOCUMENT", f"{where}: {sid} has no field {name!r}", 0)
                )
                continue
            values += [""] * (position + 1 - len(values))
            values[position] = _value(raw, f"{where} {sid}.{name}", problems)
    else:
        problems.append(
            diagnostic("INVALID_DOCUMENT", f"{where}: {sid} needs elements or fields", 0)
        )
    return Segment(values)


def _flatten(items: object, version: str, problems: list[Diagnostic], where: str) -> list[Segment]:
    if not isinstance(items, list):
        problems.append(diagnostic("INVALID_DOCUMENT", f"{where}: segments must be a list", 0))
        return []
    segments: list[Segment] = []
    for index, item in enumerate(items):
        place = f"{where}[{index}]"
        if isinstance(item, dict) and "loop" in item:
            segments += _flatten(item.get("segments"), version, problems, place)
        elif isinstance(item, dict):
            segment = _segment_from_json(item, version, problems, place)
            if segment is not None:
                segments.append(segment)
        else:
            problems.append(diagnostic("INVALID_DOCUMENT", f"{place}: not a segment", 0))
    return segments


def set_from_json(data: Mapping[str, object]) -> tuple[TransactionSet | None, list[Diagnostic]]:
    """Rebuild a transaction set (its segments in order) from its JSON form.

    Loops are flattened: serializing needs only the order, and the result is re-parsed (and
    so re-grouped and validated) by whoever reads it.
    """
    problems: list[Diagnostic] = []
    set_id = data.get("id")
    if not isinstance(set_id, str) or not set_id:
        return None, [diagnostic("INVALID_DOCUMENT", 'a set needs its ID ("id": "940")', 0)]
    raw_version = data.get("version")
    version = version_key(raw_version if isinstance(raw_version, str) else "004010")[0]
    segments = _flatten(data.get("segments"), version, problems, f"set {set_id}")
    control = data.get("control_number")
    header = Segment(["ST", set_id, control if isinstance(control, str) else "0001"])
    tset = TransactionSet(
        id=set_id,
        control_number=header.elements[2],
        header=header,
        version=raw_version if isinstance(raw_version, str) else "004010",
        items=list(segments),
        delimiters=INTERNAL,
    )
    return (tset if not problems else None), problems
