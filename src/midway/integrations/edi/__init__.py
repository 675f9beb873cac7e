"""Midway's X12 EDI engine: read, validate, acknowledge and write warehouse documents.

It stands alone (no Midway feature package is imported): bytes in, typed models and
structured diagnostics out, and models back to bytes for a partner. Mapping documents to
orders, receipts and stock is the job of the services that use it.

Reading: :func:`parse` (a whole file into a :class:`Document`), :class:`Reader` (streaming,
set by set), :func:`validate` (findings only). Writing: :func:`render` (sets for a partner),
:func:`serialize_document` (canonical re-emission). Acknowledging: :func:`acknowledge_document`
(997/TA1 for inbound files), :func:`read_acknowledgments` (inbound 997/999).
"""

from midway.integrations.edi.acks import (
    GroupAcknowledgment,
    SetAcknowledgment,
    acknowledge,
    acknowledge_document,
    read_acknowledgment,
    read_acknowledgments,
)
from midway.integrations.edi.diagnostics import CODES, Diagnostic, Severity
from midway.integrations.edi.jsonform import document_to_json, find_sets, set_from_json
from midway.integrations.edi.models import (
    Delimiters,
    Document,
    FunctionalGroup,
    Interchange,
    Loop,
    Segment,
    TransactionSet,
)
from midway.integrations.edi.profiles import ControlNumberCounter, PartnerProfile, ProfileError
from midway.integrations.edi.reader import Reader, parse, validate
from midway.integrations.edi.serializer import (
    Rendered,
    render,
    serialize_document,
    serialize_interchange,
)
from midway.integrations.edi.spec import ElementOverride, SpecError, dialect

__all__ = [
    "CODES",
    "ControlNumberCounter",
    "Delimiters",
    "Diagnostic",
    "Document",
    "ElementOverride",
    "FunctionalGroup",
    "GroupAcknowledgment",
    "Interchange",
    "Loop",
    "PartnerProfile",
    "ProfileError",
    "Reader",
    "Rendered",
    "Segment",
    "SetAcknowledgment",
    "Severity",
    "SpecError",
    "TransactionSet",
    "acknowledge",
    "acknowledge_document",
    "dialect",
    "document_to_json",
    "find_sets",
    "parse",
    "read_acknowledgment",
    "read_acknowledgments",
    "render",
    "serialize_document",
    "serialize_interchange",
    "set_from_json",
    "validate",
]
