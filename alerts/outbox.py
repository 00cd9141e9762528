"""The outbox: alerts are rows first, messages second.

A rule writes its alert row in the same transaction as whatever caused it (a reference, a
status change), keyed by a dedup key, so an alert is owed exactly when its cause exists and
is owed only once. The sender claims rows, posts them and marks them sent.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from models import Alert, utcnow
from models.db import insert_ignore

PENDING, SENDING, SENT, FAILED, MUTED, CONSOLE = "pending", "sending", "sent", "failed", "muted", "console"


@dataclass(frozen=True)
class NewAlert:
    kind: str
    dedup_key: str
    payload: dict[str, Any]
    commitment_id: str | None = None
    statement_id: int | None = None
    source_id: int | None = None
    channel: str | None = None
    status: str = PENDING


def enqueue(session: Session, alerts: list[NewAlert]) -> int:
    """Add alerts to the outbox; an alert whose dedup key exists is not added again."""
    now = utcnow()
    rows = [
        {
            "kind": a.kind,
            "dedup_key": a.dedup_key,
            "payload": a.payload,
            "commitment_id": a.commitment_id,
            "statement_id": a.statement_id,
            "source_id": a.source_id,
            "channel": a.channel,
            "status": a.status,
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        for a in alerts
    ]
    return insert_ignore(session, Alert, rows, ["dedup_key"])


def claim(
    session: Session,
    *,
    limit: int = 100,
    now: datetime | None = None,
    stale_after: timedelta = timedelta(minutes=10),
) -> tuple[str, list[Alert]]:
    """Mark up to ``limit`` due alerts as being sent by us; returns our claim token and the rows.

    The claim is a conditional UPDATE, so two senders never hold the same row. Rows left in
    'sending' by a crashed sender become claimable again after ``stale_after``; the sender then
    asks Slack (or the transport's records) whether the earlier attempt was delivered.
    """
    now = now or utcnow()
    token = uuid.uuid4().hex
    due = (
        select(Alert.id)
        .where(
            or_(
                (Alert.status == PENDING)
                & (or_(Alert.next_attempt_at.is_(None), Alert.next_attempt_at <= now)),
                (Alert.status == SENDING) & (Alert.claimed_at <= now - stale_after),
            )
        )
        .order_by(Alert.id)
        .limit(limit)
    )
    ids = list(session.scalars(due))
    if not ids:
        return token, []
    session.execute(
        update(Alert)
        .where(Alert.id.in_(ids), Alert.status.in_([PENDING, SENDING]))
        .where(or_(Alert.status == PENDING, Alert.claimed_at <= now - stale_after))
        .values(status=SENDING, claim_token=token, claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    rows = list(session.scalars(select(Alert).where(Alert.claim_token == token).order_by(Alert.id)))
    return token, rows
