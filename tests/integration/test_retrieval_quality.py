"""The labelled retrieval sets are well formed, and hybrid search keeps its quality on them."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from support import ROOT

from coach.retrieval import Retriever

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


def hit_at_3_and_mrr(retriever: Retriever, labelled: list[dict[str, Any]], mode: str) -> tuple[float, float]:
    """hit@3 by domain and MRR@10 by card id, as benchmarks/retrieval.py computes them."""
    results = retriever.search_many([q["query"] for q in labelled], k=10, mode=mode)  # type: ignore[arg-type]
    hits = mrr = 0.0
    for q, found in zip(labelled, results, strict=True):
        hits += any(h.card.domain == q["domain"] for h in found[:3])
        ids = [h.card.id for h in found]
        mrr += next((1 / (i + 1) for i, cid in enumerate(ids) if cid in q["cards"]), 0.0)
    return hits / len(labelled), mrr / len(labelled)


@pytest.mark.parametrize("mode", ["bm25", "dense"])
def test_hybrid_beats_each_retriever_alone(retriever: Retriever, mode: str) -> None:
    labelled = _labelled()
    hybrid = hit_at_3_and_mrr(retriever, labelled, "hybrid")
    alone = hit_at_3_and_mrr(retriever, labelled, mode)
    assert hybrid[0] >= 0.95, f"hybrid hit@3 {hybrid[0]:.3f}"
    assert hybrid[1] > alone[1], f"MRR@10 hybrid {hybrid[1]:.3f} vs {mode} {alone[1]:.3f}"
