"""Exactly once when the sender is killed (SIGKILL) at random moments, over 20 trials.

Each trial owes a fresh batch of alerts (some statements with two commitments, so some
messages carry two dedup keys), starts a real sender process against the fake Slack Web API
(which holds every answer back a little, so kills often land between "Slack took it" and
"we marked it"), kills it at a random moment during delivery, then lets a fresh sender finish.
Every owed alert must be on Slack exactly once, and marked sent with that message's ts.
"""

from __future__ import annotations

import json
import os
import pathlib
import random
import subprocess
import sys
import time

from sqlalchemy import select

from alerts.deliver import deliver_pending
from alerts.policy import AlertPolicy
from alerts.transport import WebApiTransport
from models import Alert, session_scope
from tests.alerts.support import add_commitments, owe_statement

ROOT = pathlib.Path(__file__).resolve().parents[2]
TRIALS = 20
SEED = int(os.environ.get("KILL_TRIALS_SEED", "20261118"))


def _child_env(db_url: str, data_dir: pathlib.Path, api_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLEDGEWATCH_")}
    env.update(
        PLEDGEWATCH_DATABASE_URL=db_url,
        PLEDGEWATCH_DATA_DIR=str(data_dir),
        PLEDGEWATCH_SLACK_BOT_TOKEN="xoxb-kill-trials",
        PLEDGEWATCH_SLACK_API_URL=api_url,
        PLEDGEWATCH_SLACK_MIN_INTERVAL_S="0",
        PLEDGEWATCH_ALERT_RETRY_BASE_S="0",
        # the killed sender is certainly dead when the next one starts: take its claims at once
        PLEDGEWATCH_ALERT_CLAIM_STALE_S="0",
        PYTHONPATH=str(ROOT),
    )
    return env


def test_sender_killed_at_random_moments_no_loss_no_duplicate(make_ctx, slack, tmp_path):
    rng = random.Random(SEED)
    ctx = make_ctx()
    factory = ctx.factory
    slack.add_channel("#frontiers")
    policy = AlertPolicy(
        routes={"c2a.7": "#frontiers"}, min_interval_s=0.0, retry_base_s=0.0, claim_stale_s=0.0
    )
    with session_scope(factory) as session:
        add_commitments(session)
    slack.post_delay_s = 0.03
    env = _child_env(ctx.settings.effective_database_url, tmp_path, slack.api_url)
    summary = {"trials": TRIALS, "seed": SEED, "killed": 0, "finished_before_kill": 0, "alerts": 0}
    summary.update(posted_not_marked=0, marked_not_posted=0, found_by_next_sender=0, duplicates=0, lost=0)

    for trial in range(TRIALS):
        with session_scope(factory) as session:
            keys: list[str] = []
            for i in range(12):
                commitments = ["c2a.4", "c2a.3.7"] if i % 4 == 0 else ["c2a.7.4" if i % 3 else "c2a.4"]
                keys += [a.dedup_key for a in owe_statement(session, policy, f"T{trial} S{i}", commitments)]
        summary["alerts"] += len(keys)

        child = subprocess.Popen(
            [sys.executable, "-m", "tests.alerts.sender_child"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.0, 0.6))
        if child.poll() is None:
            child.kill()  # SIGKILL: no cleanup, no finally
            summary["killed"] += 1
        else:
            summary["finished_before_kill"] += 1
        child.wait(timeout=30)
        child.stdout.close()

        posted = set(slack.keys_posted())
        with session_scope(factory) as session:
            for row in session.scalars(select(Alert).where(Alert.dedup_key.in_(keys))):
                if row.status == "sending" and row.posting_at is not None:
                    if row.dedup_key in posted:
                        summary["posted_not_marked"] += 1
                    else:
                        summary["marked_not_posted"] += 1

        report = deliver_pending(
            factory, WebApiTransport("xoxb-kill-trials", slack.api_url, timeout_s=5), policy
        )
        summary["found_by_next_sender"] += report.found

        counts = {k: 0 for k in keys}
        for k in slack.keys_posted():
            if k in counts:
                counts[k] += 1
        summary["duplicates"] += sum(c - 1 for c in counts.values() if c > 1)
        summary["lost"] += sum(1 for c in counts.values() if c == 0)
        ts_by_key = {}
        for m in slack.messages:
            for k in m["metadata"]["event_payload"]["dedup_keys"].split():
                ts_by_key[k] = m["ts"]
        with session_scope(factory) as session:
            rows = list(session.scalars(select(Alert).where(Alert.dedup_key.in_(keys))))
        assert {r.status for r in rows} == {"sent"}, f"trial {trial}: {[(r.id, r.status) for r in rows]}"
        assert all(r.slack_ts == ts_by_key[r.dedup_key] for r in rows), f"trial {trial}: ts mismatch"
        assert counts == dict.fromkeys(keys, 1), f"trial {trial}: {counts}"

    print("\nkill trials:", json.dumps(summary))
    assert summary["killed"] >= TRIALS // 2, "most kills must land during delivery"
    assert summary["duplicates"] == 0 and summary["lost"] == 0
