"""Per-partner folders: ``<root>/<partner id>/{inbox,outbox,processed,rejected}``.

The root is ``MIDWAY_EDI_ROOT`` (default ``var/edi``). The worker takes each file a partner
drops in its inbox (names starting with a dot or ending in ``.tmp``/``.part`` are uploads in
progress and wait), receives it, and moves it to ``processed/`` (every set accepted) or
``rejected/`` (anything refused), with ``<name>.diagnostics.json`` beside it; the 997s (and
TA1s) it produced go to the outbox, as do the documents Midway sends.

Files change only once the database transaction commits: a file is first claimed by renaming
it to ``.<name>.working`` in the inbox, moved on after the commit and renamed back after a
rollback; outbox files are written under a temporary name and renamed into place after the
commit. A claim left behind by a crashed worker is put back after :data:`STALE_CLAIM`.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import event, select, update
from sqlalchemy.orm import Session, SessionTransaction

from midway.edi.models import EdiDocument, EdiPartner
from midway.edi.receiving import Receipt, receive

log = logging.getLogger("midway.edi")

ROOT_ENV = "MIDWAY_EDI_ROOT"
DEFAULT_ROOT = Path("var") / "edi"
FOLDERS = ("inbox", "outbox", "processed", "rejected")
MAX_FILES_PER_TICK = 20
STALE_CLAIM = 15 * 60.0  # seconds
_WORKING = ".working"
_AFTER_COMMIT = "midway_edi_after_commit"
_AFTER_ROLLBACK = "midway_edi_after_rollback"
_OUTCOME = "midway_edi_outcome"


def edi_root() -> Path:
    """Where partner folders live (``MIDWAY_EDI_ROOT``, default ``var/edi``)."""
    return Path(os.environ.get(ROOT_ENV) or DEFAULT_ROOT)


def folder(partner_id: str, name: str, root: Path | None = None) -> Path:
    """One of a partner's folders (created when missing)."""
    if name not in FOLDERS:
        raise ValueError(f"unknown EDI folder {name!r}")
    path = (root or edi_root()) / partner_id / name
    path.mkdir(parents=True, exist_ok=True)
    return path


# --- Running file changes after the commit ------------------------------------------------------


def _hooks(session: Session) -> tuple[list[Callable[[], None]], list[Callable[[], None]]]:
    info = session.info
    if _AFTER_COMMIT not in info:
        info[_AFTER_COMMIT], info[_AFTER_ROLLBACK] = [], []
        event.listen(session, "after_commit", _committed)
        event.listen(session, "after_rollback", _rolled_back)
        event.listen(session, "after_transaction_end", _ended)
    return info[_AFTER_COMMIT], info[_AFTER_ROLLBACK]


# Savepoints fire the commit and rollback events too: remember how the last transaction
# ended, and act only when the outermost one does.
def _committed(session: Session) -> None:
    session.info[_OUTCOME] = _AFTER_COMMIT


def _rolled_back(session: Session) -> None:
    session.info[_OUTCOME] = _AFTER_ROLLBACK


def _ended(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is not None:
        return
    key = session.info.pop(_OUTCOME, _AFTER_ROLLBACK)
    other = _AFTER_ROLLBACK if key == _AFTER_COMMIT else _AFTER_COMMIT
    actions: list[Callable[[], None]] = session.info.get(key, [])
    session.info[key], session.info[other] = [], []
    for action in actions:
        try:
            action()
        except OSError:
            log.exception("EDI file operation failed after the transaction ended")


def after_commit(session: Session, action: Callable[[], None]) -> None:
    """Run ``action`` once the session's transaction has committed (never if it rolls back)."""
    _hooks(session)[0].append(action)


def after_rollback(session: Session, action: Callable[[], None]) -> None:
    """Run ``action`` if the session's transaction rolls back."""
    _hooks(session)[1].append(action)


def _write(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8", newline="")
    os.replace(temporary, path)


def _free(path: Path) -> Path:
    """``path``, or the same name with a counter when the name is taken."""
    candidate, number = path, 1
    while candidate.exists():
        number += 1
        candidate = path.with_name(f"{path.stem}.{number}{path.suffix}")
    return candidate


def write_outbox(session: Session, partner_id: str, name: str, text: str) -> str:
    """Put a document in a partner's outbox when the transaction commits; returns the name
    it will have."""
    target = _free(folder(partner_id, "outbox") / name)
    after_commit(session, lambda: _write(_free(target), text))
    return target.name


# --- Picking up inbox files ---------------------------------------------------------------------


def _waiting(inbox: Path) -> list[Path]:
    files = []
    for path in sorted(inbox.iterdir()):
        name = path.name
        if not path.is_file():
            continue
        if name.startswith("."):
            if name.endswith(_WORKING) and time.time() - path.stat().st_mtime > STALE_CLAIM:
                _unclaim(path)  # left by a worker that died: try it again next time
            continue
        if name.endswith((".tmp", ".part")):
            continue
        files.append(path)
    return files


def _claimed(path: Path) -> Path:
    return path.with_name(f".{path.name}{_WORKING}")


def _unclaim(claim: Path) -> None:
    original = claim.with_name(claim.name[1 : -len(_WORKING)])
    with contextlib.suppress(FileNotFoundError):
        os.replace(claim, _free(original))


def pick_up(session: Session, now: datetime, *, limit: int = MAX_FILES_PER_TICK) -> int:
    """Receive the files waiting in enabled partners' inboxes (at most ``limit``)."""
    done = 0
    partners = session.scalars(
        select(EdiPartner).where(EdiPartner.enabled.is_(True)).order_by(EdiPartner.id)
    )
    for partner in list(partners):
        inbox = folder(partner.id, "inbox")
        for path in _waiting(inbox):
            if done >= limit:
                return done
            claim = _claimed(path)
            try:
                os.replace(path, claim)
                os.utime(claim)
            except FileNotFoundError:
                continue  # another worker took it
            after_rollback(session, functools.partial(_unclaim, claim))
            process_file(session, partner, claim, path.name, now)
            done += 1
    return done


def receive_file(
    session: Session, partner: EdiPartner, path: Path, name: str, now: datetime
) -> tuple[Receipt, list[str]]:
    """Receive one file in its own savepoint and queue its acknowledgments for the outbox;
    the receipt and the names the acknowledgments will have."""
    try:
        with session.begin_nested():
            receipt = receive(session, partner, path, file_name=name, now=now)
    except Exception as exc:  # the engine or a mapping failed: never block the inbox
        log.exception("EDI file %s of partner %s could not be processed", name, partner.id)
        receipt = Receipt(partner.id, name)
        receipt.diagnostics.append(
            {"code": "PROCESSING_FAILED", "severity": "error", "message": repr(exc)[:500]}
        )
    return receipt, queue_acknowledgments(session, partner.id, receipt)


def queue_acknowledgments(session: Session, partner_id: str, receipt: Receipt) -> list[str]:
    """Put a receipt's 997s (and TA1s) in the partner's outbox at commit; their names."""
    names = []
    for answer in receipt.acknowledgments:
        written = write_outbox(
            session,
            partner_id,
            f"{answer.kind}-{answer.interchange_control.zfill(9)}.edi",
            answer.text,
        )
        names.append(written)
        if answer.document_ids:
            session.execute(
                update(EdiDocument)
                .where(EdiDocument.id.in_(answer.document_ids))
                .values(file_name=written)
            )
    return names


def process_file(
    session: Session, partner: EdiPartner, path: Path, name: str, now: datetime
) -> Receipt:
    """Receive an inbox file; once the transaction commits, move it to processed/ or
    rejected/ with its diagnostics beside it, and write its acknowledgments."""
    receipt, ack_names = receive_file(session, partner, path, name, now)
    target = "processed" if receipt.ok else "rejected"
    report = {
        **receipt.as_dict(),
        "status": target,
        "processed_at": now.isoformat(),
        "acknowledgment_files": ack_names,
    }
    after_commit(session, lambda: _file_away(path, partner.id, name, target, report))
    return receipt


def _file_away(
    claim: Path, partner_id: str, name: str, target: str, report: dict[str, Any]
) -> None:
    destination = _free(folder(partner_id, target) / name)
    os.replace(claim, destination)
    _write(
        destination.with_name(destination.name + ".diagnostics.json"),
        json.dumps(report, indent=2, ensure_ascii=False, default=str) + "\n",
    )
