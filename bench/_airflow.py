"""What the benches share: a real Airflow (standalone or a lone api-server) in its own session,
with a REST client, and a clean stop for any process group we started.

Airflow's processes run under ``setsid`` (``start_new_session``) in a throw-away AIRFLOW_HOME,
and ``stop()`` signals the whole group (SIGTERM, then SIGKILL for what is left): standalone's
children (scheduler, dag-processor, triggerer, executor workers) go with it. The same shape as
``scripts/run-airflow.sh``. ``stop_on_sigterm()`` turns a SIGTERM of the bench itself into a
normal exit, so its ``finally`` blocks still stop what it started.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # the group id was reused by someone else's process: ours are gone
        return False
    return True


def stop_process_group(proc: subprocess.Popen[Any] | None, term_wait_s: float = 30.0) -> None:
    """SIGTERM the session ``proc`` leads (it must have been started with ``start_new_session``),
    then SIGKILL whatever is left of it; reap ``proc``."""
    if proc is None:
        return
    pgid = proc.pid
    for sig, wait_s in ((signal.SIGTERM, term_wait_s), (signal.SIGKILL, 10.0)):
        if not group_alive(pgid):
            break
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, sig)
        deadline = time.monotonic() + wait_s
        while group_alive(pgid) and time.monotonic() < deadline:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=0.1)  # reap the leader, else its zombie keeps the group "alive"
            time.sleep(0.2)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=5)


@contextlib.contextmanager
def workdir(prefix: str) -> Iterator[Path]:
    """A temporary directory, removed when the block succeeds and kept (and named) when it fails."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield path
    except BaseException:
        print(f"(work files kept in {path})", file=sys.stderr)
        raise
    else:
        shutil.rmtree(path, ignore_errors=True)


@contextlib.contextmanager
def stop_on_sigterm() -> Iterator[None]:
    """Inside: SIGTERM raises SystemExit, so ``finally`` blocks run and nothing is left behind."""

    def _exit(signum: int, frame: Any) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, _exit)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


class Airflow:
    """Airflow processes in their own session, with a REST client; ``stop()`` leaves nothing behind."""

    def __init__(self, home: Path, env: dict[str, str], command: Sequence[str]) -> None:
        self.home = home
        self.home.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "PATH": f"{ROOT / '.venv' / 'bin'}:{Path(sys.executable).parent}:{os.environ.get('PATH', '')}",
            "PYTHONPATH": str(ROOT),  # tasks and the plugin import this tree's code, whatever is installed
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
        self.command = list(command)
        self.proc: subprocess.Popen[bytes] | None = None
        self.token = ""
        self.log_path = home / "airflow.log"

    def cli(self, *args: str) -> None:
        subprocess.run(["airflow", *args], env=self.env, check=True, capture_output=True)

    def create_fetch_pool(self) -> None:
        """The pool the scrape DAG's batches run in, sized as ``scripts/run-airflow.sh`` sizes it."""
        from pipeline.airflow_support import FETCH_POOL, fetch_pool_slots

        self.cli("pools", "set", FETCH_POOL, str(fetch_pool_slots()), "bench")

    def start(self, *, fetch_pool: bool = True, timeout_s: float = 180.0) -> None:
        """Migrate the metadata DB, start ``command`` under its own session, wait for the API, log in."""
        self.cli("db", "migrate")
        if fetch_pool:
            self.create_fetch_pool()
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                self.command, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"Airflow exited; see {self.log_path}")
            try:
                urllib.request.urlopen(f"{self.base}/api/v2/monitor/health", timeout=2).read()
                break
            except (urllib.error.URLError, OSError):
                time.sleep(0.5)
        else:
            raise TimeoutError(f"the api-server did not come up; see {self.log_path}")
        self.token = self.login()

    def admin_password(self) -> str:
        """The password Airflow's simple auth manager generated for ``admin`` on its first start."""
        passwords = self.home / "simple_auth_manager_passwords.json.generated"
        for _ in range(60):
            if passwords.exists() and passwords.read_text().strip():
                break
            time.sleep(0.5)
        return str(json.loads(passwords.read_text())["admin"])

    def login(self) -> str:
        """A JWT from Airflow's own login endpoint, as the UI gets one."""
        body = {"username": "admin", "password": self.admin_password()}
        return str(self.call("POST", "/auth/token", body, auth=False)["access_token"])

    def request(
        self, method: str, path: str, body: Any = None, *, auth: bool = True, timeout: float = 30.0
    ) -> tuple[int, bytes]:
        """(status, body) of one HTTP call; errors are returned, not raised."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method)
        req.add_header("Content-Type", "application/json")
        if auth:
            req.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as err:
            return err.code, err.read()

    def call(self, method: str, path: str, body: Any = None, *, auth: bool = True) -> Any:
        status, payload = self.request(method, path, body, auth=auth)
        if status >= 400:
            raise RuntimeError(f"{method} {path}: HTTP {status}: {payload[:300]!r}")
        return json.loads(payload or b"null")

    def wait_for_dags(self, dag_ids: Sequence[str], timeout_s: float = 120.0) -> None:
        deadline = time.monotonic() + timeout_s
        found: set[str] = set()
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

    def wait_idle(self, dag_ids: Sequence[str], timeout_s: float = 240.0, settle_s: float = 3.0) -> None:
        """Until no run of ``dag_ids`` is queued or running for ``settle_s`` (downstream runs included)."""
        deadline = time.monotonic() + timeout_s
        quiet_since: float | None = None
        while time.monotonic() < deadline:
            busy = any(r["state"] in ("queued", "running") for d in dag_ids for r in self.runs(d))
            now = time.monotonic()
            if busy:
                quiet_since = None
            elif quiet_since is None:
                quiet_since = now
            elif now - quiet_since >= settle_s:
                return
            time.sleep(0.5)
        raise TimeoutError("Airflow did not become idle")

    def stop(self) -> None:
        """SIGTERM the whole process group, then SIGKILL whatever is left of it."""
        stop_process_group(self.proc)
        self.proc = None
