"""The outbox: alerts are rows first, messages second.

A rule writes its alert row in the same transaction as whatever caused it (a reference, a
status change), keyed by a dedup key, so an alert is owed exactly when its cause exists and
is owed only once. The sender claims rows, posts them and marks them sent.

Statuses: ``pending`` (owed, due at ``next_attempt_at``) -> ``sending`` (claimed by one sender)
-> ``sent``; or ``failed`` (Slack refused it for good: kept, listed, resendable),
``unconfirmed`` (maybe posted through a webhook, which cannot be checked: a person decides),
``muted`` (its commitment was muted when it was owed), ``console`` (printed, Slack not set up).

A person acts on rows through ``resend`` (``pledgewatch alerts resend``): a row not yet known
to be on Slack is made owed again (``requeue``); a row already sent gets a copy of its own,
``resend:<first id>:<n>``, so that every request is one more message and stays on record.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, or_, select, update
from sqlalchemy.orm import Session

from alerts.mute import active_mutes, muted_until
from models import Alert, utcnow
from models.db import insert_ignore

PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"
UNCONFIRMED, MUTED, CONSOLE = "unconfirmed", "muted", "console"
STATUSES = (PENDING, SENDING, SENT, FAILED, UNCONFIRMED, MUTED, CONSOLE)
RESENDABLE = (FAILED, UNCONFIRMED, MUTED, CONSOLE, PENDING)
KINDS = ("reference", "quiet", "unknown", "resumed", "source-failing", "source-recovered", "digest")
RESEND_PREFIX = "resend:"
MAX_RESEND_KEY_TRIES = 50


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
    doubt (``posting_at``), so the Web API is still asked before posting it again, and starts
    a fresh retry budget (a person fixed what made Slack refuse it).
    """
    now = now or utcnow()
    count = 0
    for row in rows:
        if row.status not in RESENDABLE:
            continue
        if row.status in (UNCONFIRMED, CONSOLE):
            row.posting_at = None
        if row.status in (CONSOLE, FAILED):
            row.attempts = 0  # printed, or refused until a person fixed something: a fresh retry budget
        row.status = PENDING
        row.next_attempt_at = now
        row.claim_token = None
        row.claimed_at = None
        row.last_error = None
        count += 1
    session.flush()
    return count


# --- what a person sees and asks for --------------------------------------------------------


def alert_query(
    *,
    ids: Iterable[int] = (),
    statuses: Iterable[str] = (),
    kinds: Iterable[str] = (),
    commitment: str | None = None,
    since: datetime | None = None,
) -> Select[tuple[Alert]]:
    """The outbox rows matching every filter given, newest first.

    ``commitment`` takes the commitments under it too (``c2a.4`` lists ``c2a.4.2``'s alerts),
    as a mute does. One query for ``alerts list`` and ``alerts resend --status ...``.
    """
    query = select(Alert).order_by(Alert.id.desc())
    id_list, status_list, kind_list = list(ids), list(statuses), list(kinds)
    if id_list:
        query = query.where(Alert.id.in_(id_list))
    if status_list:
        query = query.where(Alert.status.in_(status_list))
    if kind_list:
        query = query.where(Alert.kind.in_(kind_list))
    if commitment:
        query = query.where(
            (Alert.commitment_id == commitment)
            | Alert.commitment_id.startswith(commitment + ".", autoescape=True)
        )
    if since is not None:
        query = query.where(Alert.created_at >= since)
    return query


def count_alerts(session: Session, query: Select[tuple[Alert]]) -> int:
    """How many rows ``query`` (from ``alert_query``) matches, ignoring any limit."""
    return int(session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0)


def describe(row: Alert) -> str:
    """One plain line saying what an alert is about (for a terminal, not for Slack).

    Scraped text (titles, publishers, errors) is included as it is: the caller prints it
    literally (``rich.text.Text``), never as markup.
    """
    p: dict[str, Any] = row.payload or {}
    commitment = (p.get("commitment") or {}).get("id") or row.commitment_id or ""
    if row.kind == "reference":
        st = p.get("statement") or {}
        title = " ".join(str(st.get("title") or st.get("url") or "(untitled)").split())
        who = st.get("publisher") or "unknown publisher"
        return f"{commitment} in “{title}” ({who}, {str(st.get('published_at') or 'undated')[:10]})"
    if row.kind in ("quiet", "unknown"):
        gap = p.get("gap_days")
        gap_text = f"{round(float(gap))} days" if gap is not None else "never referenced"
        health = p.get("source_health")
        extra = f", sources healthy {round(float(health) * 100)}%" if health is not None else ""
        return f"{commitment} {row.kind}: no new reference for {gap_text} (threshold {p.get('threshold_days')} days{extra})"
    if row.kind == "resumed":
        quiet = p.get("quiet_days")
        quiet_text = f"{round(float(quiet))} days" if quiet is not None else "a silent spell"
        st = ((p.get("reference") or {}).get("statement")) or {}
        title = " ".join(str(st.get("title") or "").split())
        return f"{commitment} referenced again after {quiet_text}" + (f": “{title}”" if title else "")
    if row.kind == "source-failing":
        src = p.get("source") or {}
        reminder = int(p.get("reminder") or 0)
        error = " ".join(str(p.get("last_error") or "").split())[:120]
        head = (
            f"{src.get('key')} still failing (reminder {reminder})"
            if reminder
            else f"{src.get('key')} failing"
        )
        return (
            f"{head}: {int(p.get('consecutive_failures') or 0)} failed polls since {str(p.get('failing_since') or '?')[:16]}"
            + (f" — {error}" if error else "")
        )
    if row.kind == "source-recovered":
        src = p.get("source") or {}
        return f"{src.get('key')} recovered at {str(p.get('recovered_at') or '?')[:16]} after {int(p.get('failed_polls') or 0)} failed polls"
    if row.kind == "digest":
        refs = sum(int(c.get("references") or 0) for c in p.get("counts") or [])
        return (
            f"{p.get('frequency')} digest {p.get('label')} for {p.get('channel')}: {refs} references, "
            f"{len(p.get('quiet') or [])} quiet, {len(p.get('failing_sources') or [])} failing sources"
        )
    return str(p.get("summary") or row.kind)


@dataclass(frozen=True)
class Resend:
    """What one resend request did to one alert."""

    alert_id: int  # the alert asked for
    was: str  # its status when asked
    queued_id: (
        int | None
    )  # the row that now carries the delivery (the alert itself or its copy); None: nothing done
    note: str


def _resend_origin(row: Alert) -> tuple[int, str, str | None]:
    """The first alert a row resends (itself when it is not a copy): id, dedup key, first sent."""
    origin = (row.payload or {}).get("resend_of") or {}
    if origin.get("alert_id"):
        return int(origin["alert_id"]), str(origin.get("dedup_key") or ""), origin.get("first_sent_at")
    return row.id, row.dedup_key, row.sent_at.isoformat() if row.sent_at else None


def _copy_for_resend(session: Session, row: Alert, now: datetime) -> Alert:
    """A new outbox row carrying ``row``'s message once more, under a key of its own.

    Its own key matters for exactly once: if the sender dies while posting the copy, the
    next sender looks for the copy's key on Slack, so the original message (which carries the
    original key) is never mistaken for the copy, and the copy is never posted twice. The
    number in the key counts the requests; two requests at once collide on the unique key,
    and the later one takes the next number, so each request is one row.
    """
    origin_id, origin_key, first_sent = _resend_origin(row)
    prefix = f"{RESEND_PREFIX}{origin_id}:"
    n = int(
        session.scalar(
            select(func.count()).select_from(Alert).where(Alert.dedup_key.startswith(prefix, autoescape=True))
        )
        or 0
    )
    payload = {
        **(row.payload or {}),
        "resend_of": {
            "alert_id": origin_id,
            "dedup_key": origin_key,
            "first_sent_at": first_sent,
            "requested_at": now.isoformat(),
        },
    }
    for _ in range(MAX_RESEND_KEY_TRIES):
        n += 1
        values = {
            "kind": row.kind,
            "dedup_key": f"{prefix}{n}",
            "payload": payload,
            "commitment_id": row.commitment_id,
            "statement_id": row.statement_id,
            "source_id": row.source_id,
            "channel": row.channel,
            # an explicit request: a mute does not hold it (a mute holds what rules owe)
            "status": PENDING,
            "attempts": 0,
            "next_attempt_at": now,
            "created_at": now,
        }
        if insert_ignore(session, Alert, [values], ["dedup_key"]):
            copy = session.scalars(select(Alert).where(Alert.dedup_key == values["dedup_key"])).one()
            return copy
    raise RuntimeError(
        f"could not find a free resend key for alert {row.id} after {MAX_RESEND_KEY_TRIES} tries"
    )


def resend(session: Session, rows: list[Alert], *, now: datetime | None = None) -> list[Resend]:
    """One delivery per alert asked for, whatever its state; says what was done to each.

    - not known to be on Slack (muted, failed, unconfirmed, console, pending): the alert
      itself is owed again, now (``requeue``): its delivery is the one asked for;
    - already sent: a copy is owed (``resend:<first id>:<n>``), marked as a resend in its
      payload and its message, the original row and its Slack timestamp left as they are;
    - being sent right now: nothing (its delivery is under way).
    """
    now = now or utcnow()
    out: list[Resend] = []
    for row in rows:
        was = row.status
        if was in RESENDABLE:
            requeue(session, [row], now=now)
            note = {
                MUTED: "held by a mute: owed now",
                FAILED: "refused before: owed again now",
                UNCONFIRMED: "maybe posted before (checked by a person): owed again now",
                CONSOLE: "printed before, never on Slack: owed now",
                PENDING: "already owed: due now",
            }[was]
            out.append(Resend(row.id, was, row.id, note))
        elif was == SENT:
            copy = _copy_for_resend(session, row, now)
            out.append(Resend(row.id, was, copy.id, f"already on Slack: a copy is owed ({copy.dedup_key})"))
        else:
            out.append(Resend(row.id, was, None, f"{was} right now: left alone"))
    session.flush()
    return out
