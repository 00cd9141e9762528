"""The CPU side of a fetched page: extraction, the content hash and the SimHash.

In a pass these run next to the fetch, in the fetch threads, where they share one core (the
GIL): a 20 KB statement page costs a few milliseconds of Python, several times its fetch. When
a pass has many pages to read (a first pass, a backfill, a busy news day), ``Analyser`` moves
that work to a few worker processes so that it uses the other cores:

- the workers are started only when a pass has more than ``pool_after`` pages to read (new
  pages its discovery found, or pages analysed so far): a pass with a handful of new or changed
  pages never pays for processes. They start in the background; pages keep being analysed in
  the calling threads until the first worker is up;
- each worker is one process with one pipe: a fetch thread takes an idle worker, sends it the
  page and reads the answer back itself (no dispatcher thread between them, whose every
  hand-over would wait for the GIL behind busy fetch threads);
- a pass that will read many pages from the start (a source's first pass: its backfill)
  forks its workers before its fetch threads start, when the process has one thread (a CLI
  run): a fork of a single-threaded process is safe, takes milliseconds and inherits what is
  imported. Otherwise (other threads about: an Airflow task, a test; or no ``fork``) the workers
  come from a forkserver (never ``fork`` of a multi-threaded process), which preloads only this
  module and what extraction needs;
- anything that stops the workers (they cannot be started, e.g. inside a daemonic process; one
  died) switches back to the threads for the rest of the pass: no page is lost to it.

Results are identical either way: the same function runs in both places.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import multiprocessing
import queue
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from scrapers.dedup import simhash
from scrapers.extract import Extracted, extract

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Analysed:
    extracted: Extracted
    content_hash: str
    fingerprint: int | None  # only when asked for (a page probably new: its cluster is decided)


def analyse(
    body: bytes,
    url: str,
    content_type: str,
    charset: str | None,
    config: dict[str, Any],
    fingerprint: bool,
    extractor: Callable[..., Extracted] = extract,
) -> Analysed:
    """Extract a page and hash its text; raises ``ExtractionError`` like ``extract``."""
    extracted = extractor(body, url, content_type=content_type, charset=charset, config=config)
    return Analysed(
        extracted=extracted,
        # ``content_hash`` without normalising a second time: every path of ``extract`` ends
        # in ``normalise_text``, which is idempotent (tests/scrapers/test_pass_speed.py holds
        # extract to that), so the text is already in the form versions are compared in
        content_hash=hashlib.sha256(extracted.text.encode("utf-8")).hexdigest(),
        fingerprint=simhash(extracted.text) if fingerprint else None,
    )


def _serve(conn: Any) -> None:
    """A worker process: analyse what comes down the pipe until it is closed or sent None."""
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError):
            return
        if request is None:  # the end: say how much CPU this worker used, for the record
            with contextlib.suppress(OSError, ValueError):
                conn.send(time.process_time())
            return
        try:
            answer: tuple[bool, Any] = (True, analyse(*request))
        except Exception as exc:  # the page's own failure (ExtractionError...) goes back as is
            answer = (False, exc)
        try:
            conn.send(answer)
        except Exception as exc:  # an exception that does not pickle
            conn.send((False, RuntimeError(f"{type(exc).__name__}: {exc}")))


def _single_threaded_fork() -> bool:
    """May this process fork its workers now (Linux, ``fork`` available, no other thread)?"""
    return (
        sys.platform.startswith("linux")
        and "fork" in multiprocessing.get_all_start_methods()
        and threading.active_count() == 1
    )


class _PoolGone(Exception):
    pass


class _Worker:
    def __init__(self, context: Any) -> None:
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_serve, args=(child,), name="pledgewatch-analyse", daemon=True)
        self.process.start()
        child.close()

    def call(self, request: tuple[Any, ...]) -> Analysed:
        try:
            self.conn.send(request)
            ok, value = self.conn.recv()
        except (EOFError, OSError) as exc:
            raise _PoolGone(f"worker process {self.process.pid} is gone: {exc}") from exc
        if not ok:
            raise value
        return value  # type: ignore[no-any-return]

    def stop(self) -> float:
        """Stop the worker; the CPU seconds it used (0.0 if it cannot say)."""
        cpu = 0.0
        with contextlib.suppress(OSError, ValueError, EOFError):
            self.conn.send(None)
            if self.conn.poll(2):
                cpu = float(self.conn.recv())
        self.process.join(2)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(2)
        self.conn.close()
        return cpu


class Analyser:
    """``analyse`` in the calling thread, or in worker processes once there is enough work."""

    def __init__(
        self, processes: int, pool_after: int = 32, extractor: Callable[..., Extracted] = extract
    ) -> None:
        self.processes = max(0, processes)
        self.extractor = extractor  # in the calling threads (the workers use ``extract``)
        self.pool_after = pool_after
        self._lock = threading.Lock()
        self._count = 0  # pages analysed (or being analysed) in this pass
        self._expected = 0  # new pages discovered in this pass
        self._started = False
        self._workers: list[_Worker] = []
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._up = threading.Event()  # the first worker answers
        self._failed = self.processes == 0
        self._starter: threading.Thread | None = None
        self.workers_cpu_s = 0.0  # CPU the worker processes used, known after close()

    def analyse(
        self,
        body: bytes,
        url: str,
        *,
        content_type: str,
        charset: str | None,
        config: dict[str, Any],
        fingerprint: bool,
    ) -> Analysed:
        request = (body, url, content_type, charset, config, fingerprint)
        worker = self._take_worker()
        if worker is not None:
            try:
                return worker.call(request)
            except _PoolGone as exc:
                self._give_up(exc)
            finally:
                self._idle.put(worker)
        return analyse(*request, extractor=self.extractor)

    def expect(self, pages: int) -> None:
        """``pages`` new pages are on their way (a source's discovery found them): when the pass
        will read more than ``pool_after``, the workers are started now, before the first."""
        if self._failed:
            return
        with self._lock:
            self._expected += pages
            self._maybe_start()

    def _maybe_start(self) -> None:  # under self._lock
        if not self._started and max(self._count, self._expected) > self.pool_after:
            self._started = True
            self._starter = threading.Thread(target=self._start, name="analyse-start", daemon=True)
            self._starter.start()

    def _take_worker(self) -> _Worker | None:
        if self._failed:
            return None
        with self._lock:
            self._count += 1
            self._maybe_start()
        if not self._up.is_set():
            return None  # not up yet: this page is read here
        while not self._failed:
            try:
                return self._idle.get(timeout=0.5)
            except queue.Empty:
                continue
        return None

    def warm(self) -> None:
        """Start the forkserver (one small process, once per process) in the background, so
        that workers, if this pass comes to need them, are up sooner: a source's first pass
        reads its whole backfill. Workers themselves still start only past ``pool_after``."""
        if self._failed:
            return
        threading.Thread(target=self._ensure_forkserver, name="analyse-warm", daemon=True).start()

    def prestart(self) -> None:
        """For a pass that will read many pages (a source's first pass reads its backfill):
        have the workers up before the first page arrives.

        Where this process has a single thread (a CLI run, before the pass starts its fetch
        threads) the workers are forked from it: a fork of one thread is safe, takes a few
        milliseconds, and the workers inherit what this process has imported. A worker from the
        forkserver instead starts a fresh interpreter and imports extraction, lxml and numpy (a
        few hundred milliseconds of CPU each, during which pages are read in the fetch
        threads). With other threads about (a test, an Airflow task) or no ``fork`` (not
        Linux), this is ``warm``."""
        if self._failed:
            return
        if not _single_threaded_fork():
            self.warm()
            return
        context = multiprocessing.get_context("fork")
        try:
            workers = [_Worker(context) for _ in range(self.processes)]
        except Exception as exc:  # e.g. a daemonic process may not have children
            log.debug("extraction workers not forked: %s", exc)
            self.warm()
            return
        with self._lock:
            self._started = True
            self._workers.extend(workers)
        for worker in workers:
            self._idle.put(worker)
        self._up.set()

    @staticmethod
    def _ensure_forkserver() -> Any:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["scrapers.analyse"])
        try:
            from multiprocessing import forkserver

            forkserver.ensure_running()
        except Exception as exc:  # the workers will try again, and give up cleanly
            log.debug("forkserver not started early: %s", exc)
        return context

    def _start(self) -> None:
        try:
            context = self._ensure_forkserver()
            for _ in range(self.processes):
                worker = _Worker(context)
                with self._lock:
                    closed = self._failed
                    self._workers.append(worker)
                if closed:
                    return
                self._idle.put(worker)
                if not self._up.is_set():
                    log.debug("extraction moves to worker processes (after %d pages)", self._count)
                self._up.set()
        except Exception as exc:  # e.g. no child processes allowed here: stay in the threads
            self._give_up(exc)

    def _give_up(self, exc: BaseException | None) -> None:
        with self._lock:
            if self._failed:
                return
            self._failed = True
        log.warning("extraction stays in the fetch threads: the worker processes failed (%s)", exc)

    def close(self) -> None:
        with self._lock:
            self._failed = True
            starter = self._starter
        if starter is not None:
            starter.join()
        with self._lock:
            workers, self._workers = self._workers, []
        for worker in workers:
            self.workers_cpu_s += worker.stop()
