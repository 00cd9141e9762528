"""The sender: claims due outbox rows, posts them, records the outcome.

At least once per owed alert: a failed post stays pending with a backoff. At most once per
dedup key: a row is claimed before posting, marked sent with Slack's timestamp after, and a
row found still 'sending' (the sender died between post and mark) is first looked up in
Slack by its dedup key (Web API message metadata) before it is posted again.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from alerts.outbox import CONSOLE, FAILED, PENDING, SENDING, SENT, claim
from alerts.render import render_generic, render_reference
from alerts.transport import DeliveryError, Transport
from models import Alert, utcnow
from models.db import session_scope

log = logging.getLogger(__name__)


@dataclass
class DeliveryReport:
    sent: int = 0
    printed: int = 0
    retried: int = 0
    failed: int = 0
    messages: int = 0
    errors: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {
            "sent": self.sent,
            "printed": self.printed,
            "retried": self.retried,
            "failed": self.failed,
            "messages": self.messages,
        }


def _group(rows: list[Alert]) -> list[list[Alert]]:
    """Reference alerts of one statement and channel share a message; others go alone."""
    groups: dict[tuple[str, int | None, str | None], list[Alert]] = defaultdict(list)
    singles: list[list[Alert]] = []
    for row in rows:
        if row.kind == "reference":
            groups[(row.kind, row.statement_id, row.channel)].append(row)
        else:
            singles.append([row])
    return list(groups.values()) + singles


def _render(rows: list[Alert]) -> tuple[str, list[dict]]:
    if rows[0].kind == "reference":
        return render_reference([r.payload for r in rows])
    return render_generic(rows[0].kind, rows[0].payload)


def deliver_pending(
    factory: sessionmaker[Session],
    transport: Transport,
    *,
    default_channel: str,
    max_attempts: int = 12,
    min_interval_s: float = 1.0,
    limit: int = 500,
    sleep=time.sleep,
) -> DeliveryReport:
    report = DeliveryReport()
    last_post: dict[str, float] = {}
    with session_scope(factory) as session:
        token, rows = claim(session, limit=limit)
        for group in _group(rows):
            channel = group[0].channel or default_channel
            dedup = group[0].dedup_key
            try:
                if any(r.attempts > 0 and r.claimed_at is not None for r in group):
                    earlier = transport.find_posted(
                        channel, dedup, since_ts=group[0].created_at.timestamp() - 60
                    )
                    if earlier:
                        _mark_sent(session, group, earlier)
                        report.sent += len(group)
                        continue
                text, blocks = _render(group)
                wait = min_interval_s - (time.monotonic() - last_post.get(channel, -1e9))
                if wait > 0 and transport.name != "console":
                    sleep(wait)
                for row in group:
                    row.attempts += 1
                session.commit()  # the attempt is on record before the post
                ts = transport.post(channel, text, blocks, dedup)
                last_post[channel] = time.monotonic()
                report.messages += 1
                if transport.name == "console":
                    for row in group:
                        row.status = CONSOLE
                        row.sent_at = utcnow()
                    report.printed += len(group)
                else:
                    _mark_sent(session, group, ts)
                    report.sent += len(group)
            except DeliveryError as exc:
                for row in group:
                    row.last_error = str(exc)[:1000]
                    if exc.permanent or row.attempts >= max_attempts:
                        row.status = FAILED
                        report.failed += 1
                    else:
                        row.status = PENDING
                        backoff = max(exc.retry_after_s or 0, 30 * (2 ** min(row.attempts, 8)))
                        row.next_attempt_at = utcnow() + timedelta(seconds=backoff)
                        report.retried += 1
                report.errors.append(f"{dedup}: {exc}")
                log.warning("alert %s not delivered: %s", dedup, exc)
            session.commit()
        # rows of ours that were not handled (should not happen) go back to pending
        for row in rows:
            if (
                row.status == SENDING
                and row.claim_token == token
                and row.sent_at is None
                and row.attempts == 0
            ):
                row.status = PENDING
    return report


def _mark_sent(session: Session, group: list[Alert], ts: str) -> None:
    now = utcnow()
    for row in group:
        row.status = SENT
        row.slack_ts = ts or None
        row.sent_at = now
        row.last_error = None
    session.commit()
