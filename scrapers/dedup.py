"""Near-duplicate fingerprints: 64-bit SimHash over word 3-shingles, and a cluster index.

The same Secretary-General message appears on un.org/sg, press.un.org and UN News with
different chrome and small edits; SimHash maps such texts to fingerprints a few bits apart,
so finding the earlier copy is a Hamming-distance scan instead of pairwise text comparison.
Short texts move more bits per edited word, so a candidate a little further away is
confirmed by shingle containment before it joins the cluster.

Speed (a 20 KB statement has ~1,500 shingles; this runs for every new page of a pass): no
Python work per word, per shingle or per bit. The lower-cased text becomes an array of code
points; word characters (exactly what ``\\w`` matches) are looked up in a table; each word's
hash is a polynomial over its code points (summed per word with ``np.add.reduceat``) through
the splitmix64 finaliser; a shingle's hash is its three word hashes combined by a multiply-add
chain and the same finaliser, all in wrapping uint64 arithmetic over the whole text at once;
sorting and dropping repeats gives set semantics (a repeated shingle votes once); the vote
over the 64 bit positions is one ``np.unpackbits`` and one column sum. The hashes are stable
across processes and machines (no seeded ``hash``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

_WORD = re.compile(r"\w+", re.UNICODE)
SHINGLE = 3
MASK64 = (1 << 64) - 1
NEAR = 3  # bits: the same text with small edits, clustered without further checks
CANDIDATE = 12  # bits: confirmed by shingle containment
CONTAINMENT = 0.8

# multiply-add chain and splitmix64 finaliser constants (odd 64-bit multipliers)
_K1 = np.uint64(0x9E3779B97F4A7C15)
_K2 = np.uint64(0xC2B2AE3D27D4EB4F)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_P = 0x100000001B3  # the polynomial base of a word's hash over its code points (odd)
_EMPTY = np.zeros(0, dtype=np.uint64)
# per code point: 1 a word character (what ``\w`` matches: str.isalnum() or "_"), 0 not, 2 not
# looked up yet (filled in as texts bring new characters: a few dozen lookups per process)
_CLASS = np.full(0x110000, 2, dtype=np.uint8)
_POWERS = [np.ones(1, dtype=np.uint64)]  # _P ** k for k < len, grown on demand


def words_of(text: str) -> list[str]:
    """The words of ``text`` lower-cased, as shingles see them."""
    return _WORD.findall(text.lower())


def shingles(text: str) -> set[str]:
    """The word 3-shingles of ``text`` as strings (what ``shingle_hashes`` hashes)."""
    words = words_of(text)
    if len(words) < SHINGLE:
        return {" ".join(words)} if words else set()
    return {" ".join(t) for t in zip(*(words[i:] for i in range(SHINGLE)), strict=False)}


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser, element-wise on uint64 (wrapping arithmetic)."""
    x = x ^ (x >> np.uint64(30))
    x = x * _M1
    x = x ^ (x >> np.uint64(27))
    x = x * _M2
    return x ^ (x >> np.uint64(31))


def combine(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """The hash of the shingles (a, b, c) from their word hashes: order matters."""
    return _mix(_mix(a * _K1 + b) * _K2 + c)


def _powers(n: int) -> np.ndarray:
    powers = _POWERS[0]
    if len(powers) < n:
        size = max(n, 2 * len(powers), 64)
        powers = np.cumprod(np.full(size, _P, dtype=np.uint64))
        powers = np.concatenate([np.ones(1, dtype=np.uint64), powers[:-1]])
        _POWERS[0] = powers
    return powers


def word_hashes(text: str) -> np.ndarray:
    """The 64-bit hash of each word of ``text`` (lower-cased), in order (uint64).

    A word's hash is the polynomial sum of its code points (base ``_P``, modulo 2**64) and its
    length, through the splitmix64 finaliser: computed for all words at once."""
    points = np.frombuffer(text.lower().encode("utf-32-le", "surrogatepass"), dtype="<u4")
    classes = _CLASS[points]
    if (classes == 2).any():
        for point in set(points[classes == 2].tolist()):
            _CLASS[point] = 1 if chr(point).isalnum() or point == 95 else 0
        classes = _CLASS[points]
    word = classes == 1
    edges = np.diff(word, prepend=False, append=False).nonzero()[0]
    if not len(edges):
        return _EMPTY
    starts, ends = edges[0::2], edges[1::2]  # each word: [start, end)
    lengths = ends - starts
    positions = word.nonzero()[0]  # the word characters, word after word
    offsets = positions - np.repeat(starts, lengths)  # each one's place in its word
    terms = points[positions].astype(np.uint64) * _powers(int(lengths.max()))[offsets]
    firsts = np.concatenate([[0], np.cumsum(lengths)[:-1]])  # where each word begins in ``terms``
    return _mix(np.add.reduceat(terms, firsts) + lengths.astype(np.uint64) * _K2)


def word_hash(word: str) -> int:
    """``word_hashes`` of one word, in plain Python integers (for tests and reference)."""
    total = sum(ord(ch) * pow(_P, i, 1 << 64) for i, ch in enumerate(word.lower())) & MASK64
    x = (total + len(word.lower()) * int(_K2)) & MASK64
    x ^= x >> 30
    x = (x * int(_M1)) & MASK64
    x ^= x >> 27
    x = (x * int(_M2)) & MASK64
    return x ^ (x >> 31)


def shingle_hashes(text: str) -> np.ndarray:
    """The distinct 64-bit hashes of the word 3-shingles of ``text``, sorted (uint64).

    A text of one or two words is one shingle (the missing words hash as 0); no words: none."""
    h = word_hashes(text)
    if not len(h):
        return _EMPTY
    if len(h) < SHINGLE:
        h = np.concatenate([h, np.zeros(SHINGLE - len(h), dtype=np.uint64)])
    hashes = np.sort(combine(h[:-2], h[1:-1], h[2:]))
    if len(hashes) > 1:
        hashes = hashes[np.concatenate([[True], hashes[1:] != hashes[:-1]])]
    return hashes


def shingle_set(text: str) -> set[int]:
    """``shingle_hashes`` as a Python set, for containment."""
    return set(shingle_hashes(text).tolist())


def simhash_of_hashes(hashes: np.ndarray) -> int:
    """A signed 64-bit SimHash (signed so that it fits a PostgreSQL BIGINT) of distinct feature
    hashes: bit k is set when more than half of the hashes have bit k set."""
    n = len(hashes)
    if n == 0:
        return 0
    as_bytes = np.ascontiguousarray(hashes, dtype="<u8").view(np.uint8).reshape(n, 8)
    # column 8j + b: bit b of byte j of each little-endian hash, i.e. bit 8j + b of its value
    counts = np.unpackbits(as_bytes, axis=1, bitorder="little").sum(axis=0, dtype=np.int64)
    votes = np.packbits(2 * counts > n, bitorder="little")
    return int(votes.view("<i8")[0])


def simhash(text: str) -> int:
    return simhash_of_hashes(shingle_hashes(text))


def hamming(a: int, b: int) -> int:
    return ((a ^ b) & MASK64).bit_count()


def containment(a: set[str] | set[int], b: set[str] | set[int]) -> float:
    """Share of the smaller shingle set found in the other: 1.0 when one text contains the other."""
    if not a or not b:
        return 0.0
    return len(a & b) / min(len(a), len(b))  # type: ignore[operator]


# number of set bits of each byte value, for a vectorised popcount (numpy < 2 has no bitwise_count)
_POPCOUNT = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)


@dataclass
class ClusterIndex:
    """Recent statements' fingerprints, for assigning a new statement to its cluster.

    ``entries`` are (statement id, cluster id, fingerprint). The caller loads it once per pass
    and adds each statement it stores, so two copies stored in the same pass find each other.
    Past a thousand entries, the distances to all of them are computed at once (numpy).
    """

    entries: list[tuple[int, int, int]] = field(default_factory=list)
    _fingerprints: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64), repr=False)

    def add(self, statement_id: int, cluster_id: int, fingerprint: int) -> None:
        self.entries.append((statement_id, cluster_id, fingerprint))

    def _array(self) -> np.ndarray:
        """The entries' fingerprints as int64, extended with those added since last asked."""
        have = len(self._fingerprints)
        if have != len(self.entries):
            if have > len(self.entries):
                have = 0
                self._fingerprints = np.zeros(0, dtype=np.int64)
            more = np.fromiter((fp for _, _, fp in self.entries[have:]), dtype=np.int64)
            self._fingerprints = np.concatenate([self._fingerprints, more])
        return self._fingerprints

    def candidates(self, fingerprint: int, *, limit: int = 5) -> list[tuple[int, int, int]]:
        """(distance, statement id, cluster id) of the nearest entries within CANDIDATE bits."""
        if len(self.entries) < 1024:  # a few hundred: the loop costs less than numpy's calls
            found = []
            for sid, cid, fp in self.entries:
                distance = ((fp ^ fingerprint) & MASK64).bit_count()
                if distance <= CANDIDATE:
                    found.append((distance, sid, cid))
            found.sort()
            return found[:limit]
        xor = self._array() ^ np.int64(fingerprint)
        distances = _POPCOUNT[xor.view(np.uint8)].reshape(-1, 8).sum(axis=1)
        found = []
        for i in np.flatnonzero(distances <= CANDIDATE).tolist():
            sid, cid, _ = self.entries[i]
            found.append((int(distances[i]), sid, cid))
        found.sort()
        return found[:limit]
