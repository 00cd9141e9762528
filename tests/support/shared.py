"""Where the team's shared data lives (``DESIGN.md``, the catalog ids, seeds, eval set, real pages).

It is read at test time, never copied into the project. It normally sits beside the checkout
(``../shared``); a clone elsewhere (CI's clean clone, say) finds it through
``PLEDGEWATCH_SHARED_DIR`` or the workplace's ``/work/shared``. Tests that need it skip with a
clear message when none of these exists.
"""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def shared_dir() -> Path:
    """The first of $PLEDGEWATCH_SHARED_DIR, ../shared and /work/shared that exists (else ../shared)."""
    candidates = [os.environ.get("PLEDGEWATCH_SHARED_DIR"), ROOT.parent / "shared", "/work/shared"]
    for candidate in candidates:
        if candidate and Path(candidate).is_dir():
            return Path(candidate)
    return ROOT.parent / "shared"


SHARED = shared_dir()
