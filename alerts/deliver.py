"""The sender: claims due outbox rows, posts them, records the outcome.

Exactly once, in three parts:

- At least once per owed alert: a row stays owed until Slack said yes. A transient failure
  puts it back with a backoff; a permanent one (bad token, unknown channel) keeps it as
  ``failed`` (listed, resendable), never deletes it.
- At most once per dedup key, across crashes: before a post the row gets ``posting_at``
  (committed), after it ``sent`` with Slack's timestamp. A row found with ``posting_at``
  still set was maybe posted (the sender died, or the answer never came). With the Web API
  the dedup keys travel in the message's metadata, so the sender reads the channel back
  (``conversations.history``) and marks what it finds as sent instead of posting again.
  A webhook cannot be read back: such a row becomes ``unconfirmed`` (logged once, listed by
  ``pledgewatch alerts list --status unconfirmed``) and a person resends it after a look at
  the channel: never a silent double post.
- One sender per row: claims are conditional updates with a token, renewed before each post.

Slack's pace: at most one message per ``min_interval_s`` per channel (Slack asks for about
one per second), channels interleaved so that one busy channel does not hold the others;
``Retry-After`` on a 429 is waited out (briefly, in this run) or scheduled (long).
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from alerts.outbox import CONSOLE, FAILED, PENDING, SENT, UNCONFIRMED, claim, release, renew
from alerts.policy import AlertPolicy
from alerts.render import MAX_REFS_PER_MESSAGE, Message, render
from alerts.transport import DeliveryError, Posted, Transport
from models import Alert, utcnow
from models.db import session_scope

log = logging.getLogger(__name__)

MAX_INLINE_WAIT_S = 30.0  # a longer Retry-After is scheduled, not slept
MAX_BACKOFF_S = 3600.0
CHECK_MARGIN = timedelta(minutes=5)  # clock skew between us and Slack when reading back


@dataclass
class DeliveryReport:
    sent: int = 0  # alerts now on Slack (posted, or found already posted)
    found: int = 0  # of which found already posted after a doubtful attempt (no second post)
    printed: int = 0  # printed to the console (no Slack configured)
    retried: int = 0  # put back for a later attempt
    failed: int = 0  # refused for good (kept as 'failed')
    unconfirmed: int = 0  # maybe posted through a webhook: a person decides
    messages: int = 0  # messages posted
    errors: list[str] = field(default_factory=list)  # one line per distinct problem
    owed: dict[str, int] = field(default_factory=dict)  # alerts newly owed by rules run just before, by kind

    def counts(self) -> dict[str, int]:
        return {
            "sent": self.sent,
            "found": self.found,
            "printed": self.printed,
            "retried": self.retried,
            "failed": self.failed,
            "unconfirmed": self.unconfirmed,
            "messages": self.messages,
            **{f"owed_{k}": v for k, v in sorted(self.owed.items())},
        }


def plan_messages(rows: list[Alert]) -> list[list[Alert]]:
    """Group rows into messages: references of one statement and channel together, in chunks.

    A resent copy never shares a message with an alert owed for the first time: the message
    says it is a resend.
    """
    groups: dict[tuple[int | None, str | None, bool], list[Alert]] = {}
    out: list[list[Alert]] = []
    for row in rows:
        if row.kind == "reference" and row.statement_id is not None:
            key = (row.statement_id, row.channel, "resend_of" in (row.payload or {}))
            if key not in groups:
                groups[key] = []
                out.append(groups[key])
            groups[key].append(row)
        else:
            out.append([row])
    chunked: list[list[Alert]] = []
    for group in out:
        for i in range(0, len(group), MAX_REFS_PER_MESSAGE):
            chunked.append(group[i : i + MAX_REFS_PER_MESSAGE])
    return chunked


def render_rows(rows: list[Alert]) -> Message:
    return render(rows[0].kind, [r.payload for r in rows], [r.id for r in rows])


class _Sender:
    """One delivery run: the claimed rows, the per-channel pace, the problems seen."""

    def __init__(
        self,
        session: Session,
        token: str,
        transport: Transport,
        policy: AlertPolicy,
        report: DeliveryReport,
        sleep: Callable[[float], None],
        clock: Callable[[], float],
    ) -> None:
        self.s = session
        self.token = token
        self.t = transport
        self.p = policy
        self.report = report
        self.sleep = sleep
        self.clock = clock
        self.next_ok: dict[str, float] = defaultdict(float)
        self.problems: set[tuple[str, str, str]] = set()

    # -- outcomes ------------------------------------------------------------------------

    def _sent(self, rows: list[Alert], posted: Posted, *, found: bool = False) -> None:
        now = utcnow()
        for row in rows:
            row.status = CONSOLE if self.t.name == "console" else SENT
            row.slack_ts = posted.ts or None
            row.slack_channel = posted.channel_id
            row.sent_at = now
            row.posting_at = None
            row.last_error = None
            row.claim_token = None
        self.s.commit()
        if self.t.name == "console":
            self.report.printed += len(rows)
        else:
            self.report.sent += len(rows)
            if found:
                self.report.found += len(rows)

    def _retry_later(self, rows: list[Alert], error: str, delay_s: float) -> None:
        when = utcnow() + timedelta(seconds=delay_s)
        for row in rows:
            row.status = PENDING
            row.next_attempt_at = when
            row.claim_token = None
            row.last_error = error[:1000]
        self.s.commit()
        self.report.retried += len(rows)

    def _fail(self, rows: list[Alert], error: str) -> None:
        for row in rows:
            row.status = FAILED
            row.claim_token = None
            row.last_error = error[:1000]
        self.s.commit()
        self.report.failed += len(rows)

    def _unconfirmed(self, rows: list[Alert], why: str) -> None:
        for row in rows:
            row.status = UNCONFIRMED
            row.claim_token = None
            row.last_error = why[:1000]
        self.s.commit()
        self.report.unconfirmed += len(rows)
        ids = " ".join(str(r.id) for r in rows)
        self._surface(
            "unconfirmed",
            why,
            rows[0].channel or "",
            f"{len(rows)} alert(s) maybe posted, not posted again ({why}): check the channel, then "
            f"`pledgewatch alerts resend {ids}` if they are missing",
            level=logging.WARNING,
        )

    def _surface(self, scope: str, code: str, channel: str, text: str, *, level: int = logging.ERROR) -> None:
        """Say it once per run: one log line and one entry in the run's errors."""
        key = (scope, code, channel if scope != "token" else "")
        if key in self.problems:
            return
        self.problems.add(key)
        log.log(level, "alerts: %s", text)
        self.report.errors.append(text)

    def _backoff(self, attempts: int) -> float:
        return min(MAX_BACKOFF_S, self.p.retry_base_s * (2 ** max(0, attempts - 1)))

    # -- one message ---------------------------------------------------------------------

    def _known_channel_id(self, channel: str) -> str | None:
        return self.s.scalar(
            select(Alert.slack_channel)
            .where(Alert.channel == channel, Alert.slack_channel.is_not(None))
            .order_by(Alert.id.desc())
            .limit(1)
        )

    def _settle_doubts(self, rows: list[Alert], channel: str) -> list[Alert] | None:
        """Rows maybe posted before: ask Slack. Returns the rows still to post, None to stop."""
        doubtful = [r for r in rows if r.posting_at is not None]
        if not doubtful:
            return rows
        if not self.t.can_check:
            self._unconfirmed(
                doubtful,
                "an earlier post may have reached Slack (the sender stopped or got no answer) and a "
                "webhook cannot be read back",
            )
            return [r for r in rows if r.posting_at is None]
        since = min(r.posting_at for r in doubtful if r.posting_at) - CHECK_MARGIN
        try:
            found = self.t.find_posted(
                channel, self._known_channel_id(channel), [r.dedup_key for r in doubtful], since
            )
        except DeliveryError as exc:
            if exc.permanent:
                self._unconfirmed(doubtful, f"cannot read the channel back: {exc}")
                return [r for r in rows if r.posting_at is None]
            delay = (
                exc.retry_after_s if exc.retry_after_s is not None else self._backoff(doubtful[0].attempts)
            )
            self._retry_later(rows, f"checking earlier post: {exc}", delay)
            return None
        for row in doubtful:
            if row.dedup_key in found:
                self._sent([row], found[row.dedup_key], found=True)
                log.info(
                    "alerts: %s was already posted (ts %s): not posted again", row.dedup_key, row.slack_ts
                )
        return [r for r in rows if r.status != SENT]

    def deliver(self, rows: list[Alert], queue: list[list[Alert]]) -> None:
        """Post one message; on failure decide for it (and, if the failure says so, its channel)."""
        channel = rows[0].channel or self.p.default_channel
        rows = renew(self.s, rows, self.token)
        if not rows:
            return  # another sender took them over
        pending = self._settle_doubts(rows, channel)
        if not pending:
            return
        try:
            message = render_rows(pending)
        except Exception as exc:  # a payload we cannot render: keep it, say so
            self._fail(pending, f"cannot render: {type(exc).__name__}: {exc}")
            self._surface(
                "render",
                type(exc).__name__,
                channel,
                f"cannot render alert(s) {[r.id for r in pending]}: {exc}",
            )
            return
        text_only = False
        for _ in range(4):  # a 429 waited out inline, or one retry without blocks
            now = utcnow()
            for row in pending:
                row.posting_at = now
                row.attempts += 1
            self.s.commit()  # the attempt is on record before the post
            try:
                posted = self.t.post(channel, message, [r.dedup_key for r in pending])
            except DeliveryError as exc:
                if not exc.maybe_delivered:
                    for row in pending:
                        row.posting_at = None
                if exc.retry_after_s is not None:  # rate limited: not an attempt that counts
                    for row in pending:
                        row.attempts -= 1
                    self.s.commit()
                    self.next_ok[channel] = self.clock() + exc.retry_after_s
                    if exc.retry_after_s <= MAX_INLINE_WAIT_S:
                        self._wait(channel)
                        continue
                    self._defer_channel(
                        channel, pending, queue, f"rate limited by Slack for {exc.retry_after_s:.0f}s"
                    )
                    return
                if exc.maybe_delivered and not self.t.can_check:
                    self._unconfirmed(
                        pending, f"no answer to the post ({exc}) and a webhook cannot be read back"
                    )
                    return
                if exc.scope == "message" and message.blocks and not text_only:
                    log.warning(
                        "alerts: Slack refused the blocks of %s (%s): posting the text alone",
                        pending[0].dedup_key,
                        exc,
                    )
                    message, text_only = Message(message.text), True
                    continue
                self._failed(exc, pending, channel, queue)
                return
            self.report.messages += 1
            self._sent(pending, posted)
            return
        self._retry_later(pending, "rate limited by Slack repeatedly", MAX_INLINE_WAIT_S)

    def _failed(self, exc: DeliveryError, rows: list[Alert], channel: str, queue: list[list[Alert]]) -> None:
        error = str(exc)
        if exc.scope == "retry":
            if rows[0].attempts >= self.p.max_attempts:
                self._fail(rows, f"gave up after {rows[0].attempts} attempts: {error}")
                self._surface(
                    "gave_up",
                    exc.code,
                    channel,
                    f"gave up on {len(rows)} alert(s) after {rows[0].attempts} attempts: {error}",
                )
                return
            delay = self._backoff(rows[0].attempts)
            self._retry_later(rows, error, delay)
            log.warning("alerts: %s not delivered (%s): retry in %.0fs", rows[0].dedup_key, error, delay)
            # the channel is unwell: leave its other messages for the next run, unattempted
            self._defer_channel(channel, [], queue, f"not attempted: {error}", delay)
            return
        # permanent: this message, this channel, or every post (bad token)
        hint = {
            "token": "fix the Slack token/webhook setting",
            "channel": f"fix the route or invite the bot to {channel}",
            "message": "this message cannot be posted as it is",
        }.get(exc.scope, "")
        affected = list(rows)
        if exc.scope in ("token", "channel"):
            for group in list(queue):
                if exc.scope == "token" or (group[0].channel or self.p.default_channel) == channel:
                    affected.extend(group)
                    queue.remove(group)
        self._fail(affected, error)
        self._surface(
            exc.scope,
            exc.code,
            channel,
            f"Slack refused {'every post' if exc.scope == 'token' else channel} ({exc.code or error}): "
            f"{len(affected)} alert(s) kept as 'failed'; {hint}, then `pledgewatch alerts resend --status failed`",
        )

    def _defer_channel(
        self,
        channel: str,
        rows: list[Alert],
        queue: list[list[Alert]],
        why: str,
        delay_s: float | None = None,
    ) -> None:
        delay = delay_s if delay_s is not None else max(0.0, self.next_ok[channel] - self.clock())
        deferred = list(rows)
        for group in list(queue):
            if (group[0].channel or self.p.default_channel) == channel:
                deferred.extend(group)
                queue.remove(group)
        if not deferred:
            return
        when = utcnow() + timedelta(seconds=delay)
        for row in deferred:
            row.status = PENDING
            row.next_attempt_at = when
            row.claim_token = None
        self.s.commit()
        self.report.retried += len(deferred)
        log.info("alerts: %d alert(s) for %s deferred %.0fs (%s)", len(deferred), channel, delay, why)

    def _wait(self, channel: str) -> None:
        wait = self.next_ok[channel] - self.clock()
        if wait > 0:
            self.sleep(wait)

    # -- the run -------------------------------------------------------------------------

    def run(self, rows: list[Alert]) -> None:
        queue = plan_messages(rows)
        interval = 0.0 if self.t.name == "console" else self.p.min_interval_s
        while queue:
            # the message whose channel may post soonest (first in line on ties)
            group = min(queue, key=lambda g: self.next_ok[g[0].channel or self.p.default_channel])
            channel = group[0].channel or self.p.default_channel
            wait = self.next_ok[channel] - self.clock()
            if wait > MAX_INLINE_WAIT_S:
                self._defer_channel(channel, [], queue, "Slack asked us to wait")
                continue
            queue.remove(group)
            self._wait(channel)
            self.deliver(group, queue)
            self.next_ok[channel] = max(self.next_ok[channel], self.clock() + interval)


def deliver_pending(
    factory: sessionmaker[Session],
    transport: Transport,
    policy: AlertPolicy,
    *,
    limit: int = 500,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    now: datetime | None = None,
) -> DeliveryReport:
    """Deliver every alert due now (in rounds of ``limit``); returns what happened."""
    report = DeliveryReport()
    done: set[int] = set()
    while True:
        with session_scope(factory) as session:
            token, rows = claim(
                session,
                limit=limit,
                now=now,
                stale_after=timedelta(seconds=policy.claim_stale_s),
                exclude=done,
            )
            if not rows:
                break
            done.update(r.id for r in rows)
            try:
                _Sender(session, token, transport, policy, report, sleep, clock).run(rows)
            finally:
                session.rollback()  # nothing half-written; every outcome was committed already
                release(session, token)
        if len(rows) < limit:
            break
    return report
