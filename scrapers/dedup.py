"""Near-duplicate fingerprints: 64-bit SimHash over word shingles.

The same Secretary-General message appears on un.org/sg, press.un.org and UN News with
different chrome and small edits; SimHash maps such texts to fingerprints a few bits apart,
so clustering is a cheap Hamming-distance test instead of a pairwise text comparison.
"""

from __future__ import annotations

import hashlib
import re

_WORD = re.compile(r"\w+", re.UNICODE)
SHINGLE = 3


def simhash(text: str) -> int:
    """A signed 64-bit SimHash (signed so that it fits a PostgreSQL BIGINT)."""
    words = [w.lower() for w in _WORD.findall(text)]
    if len(words) < SHINGLE:
        words = words + [""] * (SHINGLE - len(words))
    weights = [0] * 64
    for i in range(len(words) - SHINGLE + 1):
        shingle = " ".join(words[i : i + SHINGLE]).encode("utf-8")
        h = int.from_bytes(hashlib.blake2b(shingle, digest_size=8).digest(), "big")
        for bit in range(64):
            weights[bit] += 1 if (h >> bit) & 1 else -1
    value = 0
    for bit in range(64):
        if weights[bit] > 0:
            value |= 1 << bit
    return value - (1 << 64) if value >= (1 << 63) else value


def hamming(a: int, b: int) -> int:
    return ((a ^ b) & ((1 << 64) - 1)).bit_count()
