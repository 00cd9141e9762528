"""Near-duplicate fingerprints: the vectorised SimHash is exactly the textbook one."""

from __future__ import annotations

import random

import numpy as np

from scrapers.dedup import (
    ClusterIndex,
    containment,
    hamming,
    shingle_hashes,
    shingle_set,
    shingles,
    simhash,
    simhash_of_hashes,
    word_hash,
    words_of,
)
from tests.scrapers.pages import SG_MESSAGE

MASK = (1 << 64) - 1


def _mix(x: int) -> int:
    x ^= x >> 30
    x = (x * 0xBF58476D1CE4E5B9) & MASK
    x ^= x >> 27
    x = (x * 0x94D049BB133111EB) & MASK
    return x ^ (x >> 31)


def reference_shingle_hashes(text: str) -> set[int]:
    """Per shingle in plain Python integers: the three word hashes, multiply-add and mix."""
    words = [word_hash(w) for w in words_of(text)]
    if not words:
        return set()
    words += [0] * max(0, 3 - len(words))
    out = set()
    for a, b, c in zip(words, words[1:], words[2:], strict=False):
        x = _mix((a * 0x9E3779B97F4A7C15 + b) & MASK)
        out.add(_mix((x * 0xC2B2AE3D27D4EB4F + c) & MASK))
    return out


def reference_simhash(features: set[int]) -> int:
    """The per-bit loop the fast version replaces: one vote per feature per bit."""
    weights = [0] * 64
    for h in features:
        for bit in range(64):
            weights[bit] += 1 if (h >> bit) & 1 else -1
    value = sum(1 << bit for bit in range(64) if weights[bit] > 0)
    return value - (1 << 64) if value >= (1 << 63) else value


def test_vectorised_shingles_and_vote_equal_the_per_bit_loop() -> None:
    rng = random.Random(7)
    vocab = [f"word{i}" for i in range(500)] + ["Été", "ÉTÉ", "naïve", "Ωmega", "x_y", "42"]
    for size in (1, 2, 3, 10, 64, 65, 1000):
        text = " ".join(rng.choice(vocab) for _ in range(size))
        expected = reference_shingle_hashes(text)
        got = shingle_hashes(text)
        assert got.dtype == np.uint64 and sorted(expected) == got.tolist()  # distinct, sorted
        assert len(got) == len(shingles(text))  # one hash per distinct shingle
        assert shingle_set(text) == expected
        assert simhash(text) == simhash_of_hashes(got) == reference_simhash(expected)


def test_case_and_punctuation_do_not_change_the_shingles() -> None:
    assert shingle_set("The Council, today: decided!") == shingle_set("the council today decided")
    assert shingle_set("a b c") != shingle_set("c b a")  # order matters


def test_fingerprint_fits_a_signed_bigint_and_is_stable() -> None:
    text = " ".join(SG_MESSAGE)
    fp = simhash(text)
    assert -(1 << 63) <= fp < (1 << 63)
    assert fp == simhash(text)  # no per-process hash seed involved
    assert simhash("") == 0


def test_near_duplicates_are_close_and_different_texts_are_far() -> None:
    original = " ".join(SG_MESSAGE)
    # press.un.org's copy: an introductory line and a symbol added, the text otherwise the same
    copy = "The following statement was issued today by the Spokesperson: " + original + " SG/SM/22345"
    other = (
        "The Security Council today extended the mandate of the mission for one year, asking the "
        "Secretary-General to report every ninety days on the implementation of the ceasefire."
    )
    assert hamming(simhash(original), simhash(copy)) <= 12
    assert containment(shingles(original), shingles(copy)) >= 0.8
    assert hamming(simhash(original), simhash(other)) > 12


def test_cluster_index_returns_nearest_first() -> None:
    index = ClusterIndex()
    base = simhash(" ".join(SG_MESSAGE))
    index.add(1, 1, base)
    index.add(2, 2, base ^ 0b111)  # three bits away
    index.add(3, 3, ~base)  # as far as it gets
    found = index.candidates(base)
    assert [sid for _, sid, _ in found] == [1, 2]
    assert found[0][0] == 0 and found[1][0] == 3


def test_cluster_index_distances_equal_the_plain_loop() -> None:
    rng = random.Random(11)

    def signed(v: int) -> int:
        return v - (1 << 64) if v >= (1 << 63) else v

    for trial in range(300):
        base = signed(rng.getrandbits(64))
        entries = []
        for i in range(rng.randint(0, 60) if trial % 3 else rng.randint(1024, 1500)):  # loop, numpy
            flips = sum(1 << rng.randrange(64) for _ in range(rng.randint(0, 16)))
            entries.append((i, rng.randint(0, 9), signed((base ^ flips) & ((1 << 64) - 1))))
        index = ClusterIndex(list(entries))
        plain = sorted((hamming(fp, base), sid, cid) for sid, cid, fp in entries if hamming(fp, base) <= 12)
        assert index.candidates(base) == plain[:5]
        index.add(99, 7, base)  # added later: seen by the next question
        assert (0, 99, 7) in index.candidates(base, limit=100)
