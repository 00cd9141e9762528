"""Near-duplicate fingerprints: 64-bit SimHash over word 3-shingles, and a cluster index.

The same Secretary-General message appears on un.org/sg, press.un.org and UN News with
different chrome and small edits; SimHash maps such texts to fingerprints a few bits apart,
so finding the earlier copy is a Hamming-distance scan instead of pairwise text comparison.
Short texts move more bits per edited word, so a candidate a little further away is
confirmed by shingle containment before it joins the cluster.

Speed: the per-bit vote is counted in C, not per feature and bit in Python: the shingle
hashes are packed side by side, and each bit position is one slice, one ``bytes.translate``
and one ``count`` over n bytes, 64 such passes in all.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

_WORD = re.compile(r"\w+", re.UNICODE)
SHINGLE = 3
MASK64 = (1 << 64) - 1
NEAR = 3  # bits: the same text with small edits, clustered without further checks
CANDIDATE = 12  # bits: confirmed by shingle containment
CONTAINMENT = 0.8


def shingles(text: str) -> set[str]:
    words = [w.lower() for w in _WORD.findall(text)]
    if len(words) < SHINGLE:
        return {" ".join(words)} if words else set()
    return {" ".join(t) for t in zip(*(words[i:] for i in range(SHINGLE)), strict=False)}


# _BIT_OF_BYTE[b][v]: bit b of byte value v, as a byte (0 or 1), for bytes.translate
_BIT_OF_BYTE = [bytes((v >> bit) & 1 for v in range(256)) for bit in range(8)]


def simhash_of(features: Iterable[str]) -> int:
    """A signed 64-bit SimHash of ``features`` (signed so that it fits a PostgreSQL BIGINT).

    The vote is counted per byte column of the packed little-endian digests: bit ``8j + b`` of
    every hash is bit ``b`` of byte ``j`` of its digest, so one slice, one ``translate`` and one
    ``count`` (all C) count a bit position over every feature."""
    blake2b = hashlib.blake2b
    data = b"".join([blake2b(f.encode("utf-8"), digest_size=8).digest() for f in features])
    n = len(data) // 8
    if n == 0:
        return 0
    value = 0
    for byte in range(8):
        column = data[byte::8]
        for bit in range(8):
            if 2 * column.translate(_BIT_OF_BYTE[bit]).count(1) > n:
                value |= 1 << (8 * byte + bit)
    return value - (1 << 64) if value >= (1 << 63) else value


def simhash(text: str) -> int:
    return simhash_of(shingles(text))


def hamming(a: int, b: int) -> int:
    return ((a ^ b) & MASK64).bit_count()


def containment(a: set[str], b: set[str]) -> float:
    """Share of the smaller shingle set found in the other: 1.0 when one text contains the other."""
    if not a or not b:
        return 0.0
    return len(a & b) / min(len(a), len(b))


@dataclass
class ClusterIndex:
    """Recent statements' fingerprints, for assigning a new statement to its cluster.

    ``entries`` are (statement id, cluster id, fingerprint). The caller loads it once per pass
    and adds each statement it stores, so two copies stored in the same pass find each other.
    """

    entries: list[tuple[int, int, int]] = field(default_factory=list)

    def add(self, statement_id: int, cluster_id: int, fingerprint: int) -> None:
        self.entries.append((statement_id, cluster_id, fingerprint))

    def candidates(self, fingerprint: int, *, limit: int = 5) -> list[tuple[int, int, int]]:
        """(distance, statement id, cluster id) of the nearest entries within CANDIDATE bits."""
        found = []
        for sid, cid, fp in self.entries:
            distance = ((fp ^ fingerprint) & MASK64).bit_count()
            if distance <= CANDIDATE:
                found.append((distance, sid, cid))
        found.sort()
        return found[:limit]
