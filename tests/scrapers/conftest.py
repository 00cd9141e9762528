"""Fixtures of the scraper suite: fast local sites on several loopback hosts, the real pages."""

from __future__ import annotations

import pathlib
from collections.abc import Iterator

import pytest

from tests.scrapers.faultsite import fast
from tests.support.shared import SHARED
from tests.support.site import LocalSite

REAL_PAGES = SHARED / "real-pages"


@pytest.fixture
def fsite() -> Iterator[LocalSite]:
    """The local site on 127.0.0.1, without Nagle delays."""
    server = fast(LocalSite())
    yield server
    server.close()


@pytest.fixture
def fsite2() -> Iterator[LocalSite]:
    """A second host (127.0.0.2): another site for cross-site and per-host tests."""
    server = fast(LocalSite(host="127.0.0.2"))
    yield server
    server.close()


@pytest.fixture(scope="session")
def real_pages() -> pathlib.Path:
    """Saved HRW and Amnesty pages and feeds, read at test time (never copied into the repo)."""
    if not (REAL_PAGES / "hrw").is_dir():
        pytest.skip(
            f"real pages not found at {REAL_PAGES} (shared data absent): parser tests on them skipped"
        )
    return REAL_PAGES
