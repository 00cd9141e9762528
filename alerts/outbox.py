"""The outbox: alerts are rows first, messages second.

A rule writes its alert row in the same transaction as whatever caused it (a reference, a
status change), keyed by a dedup key, so an alert is owed exactly when its cause exists and
is owed only once. The sender claims rows, posts them and marks them sent.

Statuses: ``pending`` (owed, due at ``next_attempt_at``) -> ``sending`` (claimed by one sender)
-> ``sent``; or ``failed`` (Slack refused it for good: kept, listed, resendable),
``unconfirmed`` (maybe posted through a webhook, which cannot be checked: a person decides),
``muted`` (its commitment was muted when it was owed), ``console`` (printed, Slack not set up).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from alerts.mute import active_mutes, muted_until
from models import Alert, utcnow
from models.db import insert_ignore

PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"
UNCONFIRMED, MUTED, CONSOLE = "unconfirmed", "muted", "console"
STATUSES = (PENDING, SENDING, SENT, FAILED, UNCONFIRMED, MUTED, CONSOLE)
RESENDABLE = (FAILED, UNCONFIRMED, MUTED, CONSOLE, PENDING)


@dataclass(frozen=True)
class NewAlert:
    kind: str
    dedup_key: str
    payload: dict[str, Any]
    commitment_id: str | None = None
    statement_id: int | None = None
    source_id: int | None = None
    channel: str | None = None


def enqueue(session: Session, alerts: list[NewAlert], *, now: datetime | None = None) -> int:
    """Add alerts to the outbox; an alert whose dedup key exists is not added again.

    An alert about a muted commitment is still written (nothing owed is ever dropped), as
    ``muted``: listed, never posted unless someone resends it.
    """
    if not alerts:
        return 0
    now = now or utcnow()
    mutes = active_mutes(session, now)
    rows = []
    for a in alerts:
        until = muted_until(a.commitment_id, mutes)
        rows.append(
            {
                "kind": a.kind,
                "dedup_key": a.dedup_key[:255],
                "payload": a.payload,
                "commitment_id": a.commitment_id,
                "statement_id": a.statement_id,
                "source_id": a.source_id,
                "channel": a.channel,
                "status": MUTED if until else PENDING,
                "last_error": f"muted until {until:%Y-%m-%d %H:%M} UTC" if until else None,
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            }
        )
    return insert_ignore(session, Alert, rows, ["dedup_key"])


def claim(
    session: Session,
    *,
    limit: int = 500,
    now: datetime | None = None,
    stale_after: timedelta = timedelta(minutes=5),
    exclude: Iterable[int] = (),
) -> tuple[str, list[Alert]]:
    """Mark up to ``limit`` due alerts as being sent by us; returns our claim token and the rows.

    The claim is a conditional UPDATE, so two senders never hold the same row. A row left in
    'sending' by a sender that died becomes claimable again after ``stale_after`` (the sender
    renews its claim before each post, so a live sender's rows never look stale); whoever
    takes it over first asks Slack whether the earlier attempt was delivered.
    """
    now = now or utcnow()
    token = uuid.uuid4().hex
    due_clause = or_(
        (Alert.status == PENDING) & or_(Alert.next_attempt_at.is_(None), Alert.next_attempt_at <= now),
        (Alert.status == SENDING) & (Alert.claimed_at <= now - stale_after),
    )
    query = select(Alert.id).where(due_clause).order_by(Alert.id).limit(limit)
    excluded = list(exclude)
    if excluded:
        query = query.where(Alert.id.not_in(excluded))
    ids = list(session.scalars(query))
    if not ids:
        return token, []
    session.execute(
        update(Alert)
        .where(Alert.id.in_(ids), due_clause)
        .values(status=SENDING, claim_token=token, claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    rows = list(session.scalars(select(Alert).where(Alert.claim_token == token).order_by(Alert.id)))
    return token, rows


def renew(session: Session, rows: list[Alert], token: str, now: datetime | None = None) -> list[Alert]:
    """Re-stamp our claim on ``rows`` just before posting them; returns those still ours.

    A compare-and-set on the claim token: if another sender took a row over (ours looked
    stale), that row is not ours to post any more.
    """
    now = now or utcnow()
    ids = [r.id for r in rows]
    session.execute(
        update(Alert)
        .where(Alert.id.in_(ids), Alert.claim_token == token, Alert.status == SENDING)
        .values(claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    mine = set(
        session.scalars(
            select(Alert.id).where(Alert.id.in_(ids), Alert.claim_token == token, Alert.status == SENDING)
        )
    )
    for row in rows:
        session.refresh(row)
    return [r for r in rows if r.id in mine]


def release(session: Session, token: str) -> int:
    """Give back rows we claimed but did not finish (a deferral or an unexpected error).

    A row with ``posting_at`` set keeps it: whether that post reached Slack is still unknown.
    """
    result = session.execute(
        update(Alert)
        .where(Alert.claim_token == token, Alert.status == SENDING)
        .values(status=PENDING, claim_token=None)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def requeue(session: Session, rows: list[Alert], *, now: datetime | None = None) -> int:
    """Make rows owed again now (``alerts resend``): failed, unconfirmed, muted or console ones.

    A person resending an ``unconfirmed`` row has checked Slack, and a ``console`` row never
    reached Slack: both are posted without asking Slack first. A ``failed`` row keeps its
    doubt (``posting_at``), so the Web API is still asked before posting it again.
    """
    now = now or utcnow()
    count = 0
    for row in rows:
        if row.status not in RESENDABLE:
            continue
        if row.status in (UNCONFIRMED, CONSOLE):
            row.posting_at = None
        if row.status == CONSOLE:
            row.attempts = 0
        row.status = PENDING
        row.next_attempt_at = now
        row.claim_token = None
        row.claimed_at = None
        row.last_error = None
        count += 1
    session.flush()
    return count
