"""A sender in a process of its own, for the kill trials: says "ready", then delivers what is due.

Configured like any deployment, by PLEDGEWATCH_* variables; the test kills it with SIGKILL
at a random moment and checks that a fresh sender finishes the job without loss or duplicate.
"""

from __future__ import annotations

from pipeline.alert import run_alerts
from pipeline.context import Context


def main() -> None:
    ctx = Context.from_env(trigger="test")
    with ctx.engine.connect():  # connected before "ready": the kill is meant to hit delivery
        _ = ctx.slack, ctx.alert_policy
    print("ready", flush=True)
    report = run_alerts(ctx, echo=lambda *_: None)
    print("done", report.counts(), flush=True)
    ctx.close()


if __name__ == "__main__":
    main()
