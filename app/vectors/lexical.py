"""The `lexical` embedder: hashed word unigrams and bigrams, deterministic and offline.

It is lexical, not semantic: two texts are close when they share words (after case,
Unicode and light suffix folding), not when they mean the same thing in other words.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable

WORD = re.compile(r"[^\W_]+")
BIGRAM_WEIGHT = 0.5
# Words too common in English to tell two issues apart.
_STOPWORDS = """
a an and are as at be been but by can could did do does for from had has have he her his how
i if in into is it its me my no not of on or our she should so than that the their them then
there these they this those to too us was we were what when where which who why will with
would you your
"""
STOPWORDS = frozenset(_STOPWORDS.split())


def fold_suffix(word: str) -> str:
    """Fold plural and tense endings so "crashes", "crashed" and "crash" meet."""
    if len(word) < 4 or word.isdigit():
        return word
    if word.endswith("ies"):
        word = word[:-3] + "y"
    elif word.endswith("ing") and len(word) >= 6:
        word = word[:-3]
    elif word.endswith("ed") and len(word) >= 5:
        word = word[:-2]
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    if word.endswith("e") and len(word) > 3:
        word = word[:-1]
    return word


def words(text: str) -> list[str]:
    """Normalized content words of `text`, in order."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return [fold_suffix(w) for w in WORD.findall(folded) if w not in STOPWORDS]


def features(text: str) -> Counter[str]:
    """Unigram and bigram counts; a bigram holds a space, so it never collides with a word."""
    found = words(text)
    counts: Counter[str] = Counter(found)
    counts.update(f"{a} {b}" for a, b in itertools.pairwise(found))
    return counts


@functools.lru_cache(maxsize=200_000)
def _slot(feature: str, dimensions: int) -> tuple[int, float]:
    """The feature's dimension and sign, from a stable hash (never Python's salted hash())."""
    digest = int.from_bytes(hashlib.blake2b(feature.encode(), digest_size=8).digest(), "big")
    return digest % dimensions, (1.0 if digest >> 63 else -1.0)


def hashed_vector(counts: Iterable[tuple[str, int]], dimensions: int) -> list[float]:
    """Sublinear term frequency (1 + ln tf) hashed into `dimensions`, L2-normalized."""
    vector = [0.0] * dimensions
    for feature, count in counts:
        index, sign = _slot(feature, dimensions)
        weight = 1.0 + math.log(count)
        if " " in feature:
            weight *= BIGRAM_WEIGHT
        vector[index] += sign * weight
    norm = math.sqrt(sum(v * v for v in vector))
    if norm == 0.0:
        return vector
    return [v / norm for v in vector]


class LexicalEmbedder:
    """Feature hashing of word unigrams and bigrams: fast, deterministic, lexical only."""

    name = "lexical"

    def __init__(self, dimensions: int = 384) -> None:
        if dimensions < 16:
            raise ValueError("the lexical embedder needs at least 16 dimensions")
        self.dimensions = dimensions

    def embed(self, texts: list[str]) -> list[list[float]]:
        return [hashed_vector(features(t).items(), self.dimensions) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self.embed([text])[0]
