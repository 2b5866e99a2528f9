"""The labelled retrieval sets are well formed, and hybrid search keeps its quality on them."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from support import ROOT

from coach.retrieval import Retriever, labelled_scores

LABELLED = ROOT / "evals" / "retrieval.yaml"


def _labelled() -> list[dict[str, Any]]:
    return list(yaml.safe_load(LABELLED.read_text(encoding="utf-8")))


def test_labelled_sets_are_well_formed(retriever: Retriever) -> None:
    labelled = _labelled()
    assert len(labelled) >= 80
    assert sum(bool(q["paraphrased"]) for q in labelled) * 2 == len(labelled)  # half paraphrased
    assert len({q["query"] for q in labelled}) == len(labelled)  # no query counted twice
    assert sum(bool(q.get("blind")) for q in labelled) >= 80  # the blind part alone is a full set
    for q in labelled:
        assert (
            {"query", "domain", "cards", "paraphrased"}
            <= set(q)
            <= {"query", "domain", "cards", "paraphrased", "blind"}
        )
        cards = [retriever.kb.get(cid) for cid in q["cards"]]
        assert all(cards), f"unknown card id in {q}"
        assert q["domain"] in {c.domain for c in cards if c}, q


def scores(retriever: Retriever, labelled: list[dict[str, Any]], mode: str) -> dict[str, float]:
    """The figures benchmarks/retrieval.py prints, for one mode."""
    results = retriever.search_many([q["query"] for q in labelled], k=10, mode=mode)  # type: ignore[arg-type]
    return labelled_scores(labelled, results)


@pytest.mark.parametrize("mode", ["bm25", "dense"])
def test_hybrid_beats_each_retriever_alone(retriever: Retriever, mode: str) -> None:
    labelled = _labelled()
    hybrid = scores(retriever, labelled, "hybrid")
    alone = scores(retriever, labelled, mode)
    assert hybrid["hit@3"] >= 0.95, f"hybrid hit@3 {hybrid['hit@3']:.3f}"
    assert hybrid["MRR@10"] > alone["MRR@10"], f"MRR@10 hybrid {hybrid['MRR@10']:.3f} vs {mode} {alone['MRR@10']:.3f}"


def test_blind_queries_keep_quality_with_the_new_cards(retriever: Retriever) -> None:
    """The blind queries alone (old cards and those added in issue 16 together) keep hybrid hit@3 >= 0.95."""
    blind = [q for q in _labelled() if q.get("blind")]
    assert len(blind) >= 250  # 134 for the first cards, 130 for the cards of issue 16
    hybrid = scores(retriever, blind, "hybrid")
    assert hybrid["hit@3"] >= 0.95, f"blind hybrid hit@3 {hybrid['hit@3']:.3f}"
