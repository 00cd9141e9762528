"""Near-duplicate fingerprints: the fast SimHash votes exactly like the textbook one."""

from __future__ import annotations

import hashlib
import random

from scrapers.dedup import ClusterIndex, containment, hamming, shingles, simhash, simhash_of
from tests.scrapers.pages import SG_MESSAGE


def reference_simhash(features: set[str]) -> int:
    """The per-bit loop the fast version replaces: one vote per feature per bit."""
    weights = [0] * 64
    for feature in features:
        h = int.from_bytes(hashlib.blake2b(feature.encode(), digest_size=8).digest(), "little")
        for bit in range(64):
            weights[bit] += 1 if (h >> bit) & 1 else -1
    value = sum(1 << bit for bit in range(64) if weights[bit] > 0)
    return value - (1 << 64) if value >= (1 << 63) else value


def test_packed_vote_equals_the_per_bit_loop() -> None:
    rng = random.Random(7)
    vocab = [f"word{i}" for i in range(500)]
    for size in (1, 2, 3, 10, 64, 65, 1000):
        text = " ".join(rng.choice(vocab) for _ in range(size))
        features = shingles(text)
        assert simhash_of(features) == reference_simhash(features)


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
