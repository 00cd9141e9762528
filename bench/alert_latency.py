"""Seconds from "a new statement is published" to "its Slack message arrives", through real Airflow.

``airflow standalone`` (scheduler, dag-processor, triggerer, api-server; LocalExecutor, SQLite
metadata, parallelism 4, as ``make run``) runs under ``setsid`` in a throw-away AIRFLOW_HOME and
is stopped by signalling its whole process group. A local site and a local fake Slack stand in
for the world. After a baseline pass, the bench publishes a statement about autonomous weapons,
triggers ``pledgewatch_scrape`` through the REST API and waits for the message to reach the fake
Slack through the Asset chain scrape -> match -> alerts: no downstream DAG is triggered by hand.

Prints one JSON line: {"seconds": ..., "target_s": 60, ...}. Target: <= 60 s on this machine.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support import pages  # noqa: E402
from tests.support.site import LocalSite  # noqa: E402
from tests.support.slack import FakeSlack  # noqa: E402

DAG_IDS = ("pledgewatch_scrape", "pledgewatch_match", "pledgewatch_alerts", "pledgewatch_quiet")
CHAIN = DAG_IDS[:3]  # the daily quiet check stays paused: it is not part of the chain measured
TARGET_S = 60.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Airflow:
    """Airflow processes in their own session, with a REST client; ``stop()`` leaves nothing behind."""

    def __init__(self, home: Path, env: dict[str, str], command: list[str]) -> None:
        self.home = home
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "PATH": f"{ROOT / '.venv' / 'bin'}:{os.environ.get('PATH', '')}",
            "PYTHONPATH": str(ROOT),  # tasks import this tree's code, whatever is installed
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(ROOT / "plugins"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__PARALLELISM": "4",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
            "AIRFLOW__API__PORT": str(self.port),
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.base}/execution/",
            **env,
        }
        self.command = command
        self.proc: subprocess.Popen[bytes] | None = None
        self.token = ""

    def cli(self, *args: str) -> None:
        subprocess.run(["airflow", *args], env=self.env, check=True, capture_output=True)

    def start(self, timeout_s: float = 180.0) -> None:
        self.cli("db", "migrate")
        from pipeline.airflow_support import FETCH_POOL, fetch_pool_slots

        self.cli("pools", "set", FETCH_POOL, str(fetch_pool_slots()), "bench")
        log = open(self.home / "airflow.log", "wb")  # noqa: SIM115 - lives as long as the processes
        self.proc = subprocess.Popen(
            self.command, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"Airflow exited; see {self.home / 'airflow.log'}")
            try:
                urllib.request.urlopen(f"{self.base}/api/v2/monitor/health", timeout=2).read()
                break
            except (urllib.error.URLError, OSError):
                time.sleep(0.5)
        else:
            raise TimeoutError("the api-server did not come up")
        self.token = self.login()

    def login(self) -> str:
        passwords = self.home / "simple_auth_manager_passwords.json.generated"
        for _ in range(60):
            if passwords.exists() and passwords.read_text().strip():
                break
            time.sleep(0.5)
        password = json.loads(passwords.read_text())["admin"]
        reply = self.call("POST", "/auth/token", {"username": "admin", "password": password}, auth=False)
        return str(reply["access_token"])

    def call(self, method: str, path: str, body: Any = None, *, auth: bool = True) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method)
        req.add_header("Content-Type", "application/json")
        if auth:
            req.add_header("Authorization", f"Bearer {self.token}")
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.loads(resp.read() or b"null")

    def wait_for_dags(self, dag_ids: tuple[str, ...], timeout_s: float = 120.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            found = {d["dag_id"] for d in self.call("GET", "/api/v2/dags?limit=100")["dags"]}
            if set(dag_ids) <= found:
                return
            time.sleep(1)
        raise TimeoutError(f"DAGs not parsed: {set(dag_ids) - found}")

    def unpause(self, *dag_ids: str) -> None:
        for dag_id in dag_ids:
            self.call("PATCH", f"/api/v2/dags/{dag_id}", {"is_paused": False})

    def trigger(self, dag_id: str, conf: dict[str, Any] | None = None) -> str:
        run = self.call("POST", f"/api/v2/dags/{dag_id}/dagRuns", {"logical_date": None, "conf": conf or {}})
        return str(run["dag_run_id"])

    def runs(self, dag_id: str) -> list[dict[str, Any]]:
        return list(self.call("GET", f"/api/v2/dags/{dag_id}/dagRuns?limit=100")["dag_runs"])

    def wait_idle(self, timeout_s: float = 240.0, settle_s: float = 3.0) -> None:
        """Until no run of ours is queued or running for ``settle_s`` (downstream runs included)."""
        deadline = time.monotonic() + timeout_s
        quiet_since: float | None = None
        while time.monotonic() < deadline:
            busy = any(r["state"] in ("queued", "running") for d in CHAIN for r in self.runs(d))
            now = time.monotonic()
            if busy:
                quiet_since = None
            elif quiet_since is None:
                quiet_since = now
            elif now - quiet_since >= settle_s:
                return
            time.sleep(0.5)
        raise TimeoutError("Airflow did not become idle")

    @staticmethod
    def group_alive(pgid: int) -> bool:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return False
        return True

    def stop(self) -> None:
        """SIGTERM the whole process group, then SIGKILL whatever is left of it."""
        if self.proc is None:
            return
        pgid = self.proc.pid
        for sig, wait_s in ((signal.SIGTERM, 30.0), (signal.SIGKILL, 10.0)):
            if not self.group_alive(pgid):
                break
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pgid, sig)
            deadline = time.monotonic() + wait_s
            while self.group_alive(pgid) and time.monotonic() < deadline:
                time.sleep(0.3)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=5)
        self.proc = None


WEAPONS = pages.statement(
    "Secretary-General renews appeal on autonomous weapons",
    [
        "NEW YORK (21 November 2026) – The Secretary-General called for a treaty to prohibit lethal autonomous weapons.",
        "He said machines that take lives without human control are morally repugnant.",
    ],
)
BUDGET = pages.statement(
    "Budget committee concludes its session",
    ["The committee approved revised estimates for conference services and closed its session on time."],
)


def listing(site: LocalSite, with_weapons: bool) -> None:
    items = [("/en/press-releases/2026/11/budget", "Budget", "2026-11-16T09:00:00Z")]
    if with_weapons:
        items.insert(0, ("/en/press-releases/2026/11/weapons", "Weapons", "2026-11-21T09:00:00Z"))
    site.add("/en/press-releases", pages.listing(items))


def main() -> None:
    site, slack = LocalSite(), FakeSlack()
    site.add("/robots.txt", "User-agent: *\nAllow: /\n", content_type="text/plain")
    site.add("/en/press-releases/2026/11/budget", BUDGET)
    site.add("/en/press-releases/2026/11/weapons", WEAPONS)
    listing(site, with_weapons=False)
    work = Path(tempfile.mkdtemp(prefix="pw-latency-"))
    registry = work / "sources.yaml"
    registry.write_text(
        pages.registry(
            [
                {
                    "key": "bench-press",
                    "publisher": "Bench Office",
                    "kind": "listing",
                    "url": site.url("/en/press-releases"),
                    "languages": ["en"],
                    "pattern": r"/en/press-releases/\d{4}/\d{2}/",
                }
            ]
        )
    )
    settings = {
        "PLEDGEWATCH_DATA_DIR": str(work / "data"),
        "PLEDGEWATCH_DATABASE_URL": f"sqlite:///{work / 'data' / 'pledgewatch.db'}",
        "PLEDGEWATCH_SOURCES_FILE": str(registry),
        "PLEDGEWATCH_BUILTIN_SOURCES": "false",
        "PLEDGEWATCH_ALLOW_PRIVATE_ADDRESSES": "true",
        "PLEDGEWATCH_MIN_DELAY_S": "0",
        "PLEDGEWATCH_DELAY_JITTER_S": "0",
        "PLEDGEWATCH_SLACK_WEBHOOK_URL": slack.webhook_url,
        "PLEDGEWATCH_SLACK_MIN_INTERVAL_S": "0",
    }
    os.environ.update(settings)
    from models import upgrade_database

    upgrade_database(settings["PLEDGEWATCH_DATABASE_URL"])
    airflow = Airflow(work / "airflow", settings, ["airflow", "standalone"])
    (work / "airflow").mkdir()
    try:
        started = time.monotonic()
        airflow.start()
        airflow.wait_for_dags(DAG_IDS)
        airflow.unpause(*CHAIN)
        startup_s = time.monotonic() - started
        # Baseline: the first pass stores the listing's one unremarkable statement.
        airflow.trigger("pledgewatch_scrape", {"force": True})
        airflow.wait_idle()
        assert not slack.messages, "the baseline statement must not alert"

        listing(site, with_weapons=True)
        t0 = time.monotonic()
        run_id = airflow.trigger("pledgewatch_scrape", {"force": True})
        while not slack.messages:
            if time.monotonic() - t0 > 300:
                raise TimeoutError("no Slack message within 300 s")
            time.sleep(0.05)
        seconds = time.monotonic() - t0
        assert "c2a.7.4" in slack.messages[0]["text"]
        airflow.wait_idle()
        runs = {d: sorted(r["run_type"] for r in airflow.runs(d)) for d in CHAIN}
    finally:
        airflow.stop()
        site.close()
        slack.close()
    print(
        json.dumps(
            {
                "seconds": round(seconds, 1),
                "target_s": TARGET_S,
                "within_target": seconds <= TARGET_S,
                "scrape_run": run_id,
                "run_types": runs,
                "startup_s": round(startup_s, 1),
                "executor": "LocalExecutor (airflow standalone, parallelism 4)",
            }
        )
    )


if __name__ == "__main__":
    main()
