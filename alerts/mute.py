"""Mutes: a monitor silences a commitment (and the commitments under it) until a date.

A mute never drops anything: alerts owed meanwhile are written to the outbox as ``muted``
(listed by ``pledgewatch alerts list``, sendable with ``alerts resend``), and the commitment's
status keeps being computed, so the dashboard still shows whether it is quiet.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from models import Alert, CommitmentStatus, utcnow


def active_mutes(session: Session, now: datetime | None = None) -> dict[str, datetime]:
    """Commitment id -> muted until, for mutes still running."""
    now = now or utcnow()
    rows = session.execute(
        select(CommitmentStatus.commitment_id, CommitmentStatus.muted_until).where(
            CommitmentStatus.muted_until > now
        )
    )
    return {cid: until for cid, until in rows}


def muted_until(commitment_id: str | None, mutes: dict[str, datetime]) -> datetime | None:
    """When the mute on this commitment ends: its own mute or one on a parent or family."""
    if not commitment_id or not mutes:
        return None
    parts = commitment_id.split(".")
    ends = [mutes[k] for k in (".".join(parts[:d]) for d in range(len(parts), 0, -1)) if k in mutes]
    return max(ends) if ends else None


def shown_status(status: str, commitment_id: str, mutes: dict[str, datetime]) -> str:
    """The status a monitor sees: ``muted`` while a mute (its own or a parent's) holds its alerts.

    The computed status stays underneath (``status``): a mute silences, it measures nothing.
    """
    return "muted" if muted_until(commitment_id, mutes) else status


def set_mute(session: Session, commitment_id: str, until: datetime | None, reason: str | None = None) -> int:
    """Mute (``until`` in the future) or unmute (``None``) a commitment.

    Muting also holds alerts about it (or a commitment under it) that are still pending;
    returns how many. The commitment must exist in ``commitments``.
    """
    row = session.get(CommitmentStatus, commitment_id)
    if row is None:
        row = CommitmentStatus(commitment_id=commitment_id, status="never", details={})
        session.add(row)
    row.muted_until = until
    row.mute_reason = reason if until else None
    session.flush()
    if until is None or until <= utcnow():
        return 0
    held = session.execute(
        update(Alert)
        .where(
            Alert.status == "pending",
            (Alert.commitment_id == commitment_id)
            | Alert.commitment_id.startswith(commitment_id + ".", autoescape=True),
        )
        .values(status="muted", last_error=f"muted until {until:%Y-%m-%d %H:%M} UTC")
        .execution_options(synchronize_session=False)
    )
    return int(held.rowcount or 0)  # type: ignore[attr-defined]
