"""Retrieval quality on the labelled queries of evals/retrieval.yaml: BM25, dense and hybrid.

Prints hit@3 (by domain), MRR@10 and recall@5 (by card id) for each mode, overall and for the
paraphrased queries (those written without the card's key words): for the queries written while
the retriever was being built, for those written later blind (`blind: true`: from the cards only,
no search results seen, to check that retrieval choices generalise), and for all of them.

    .venv/bin/python benchmarks/retrieval.py [--queries evals/retrieval.yaml]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("COACH_HOME", str(ROOT / ".coach"))

MODES = ("bm25", "dense", "hybrid")


def main() -> None:
    """Print the table."""
    import yaml

    from coach.config import load_settings
    from coach.retrieval import get_retriever, labelled_scores

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", default=str(ROOT / "evals" / "retrieval.yaml"))
    args = parser.parse_args()
    everything = yaml.safe_load(Path(args.queries).read_text(encoding="utf-8"))
    sets = {
        "written while building": [q for q in everything if not q.get("blind")],
        "written blind": [q for q in everything if q.get("blind")],
        "all": everything,
    }
    retriever = get_retriever(load_settings())
    for name, labelled in sets.items():
        if not labelled:
            continue
        queries = [q["query"] for q in labelled]
        para = [i for i, q in enumerate(labelled) if q.get("paraphrased")]
        print(f"\n{name}: {len(labelled)} labelled queries ({len(para)} paraphrased), {len(retriever.kb.cards)} cards")
        print(f"{'mode':<8} {'hit@3':>7} {'MRR@10':>7} {'recall@5':>9}   paraphrased: {'hit@3':>6} {'MRR@10':>7}")
        for mode in MODES:
            results = retriever.search_many(queries, k=10, mode=mode)  # type: ignore[arg-type]
            all_ = labelled_scores(labelled, results)
            sub = labelled_scores([labelled[i] for i in para], [results[i] for i in para])
            print(
                f"{mode:<8} {all_['hit@3']:>7.3f} {all_['MRR@10']:>7.3f} {all_['recall@5']:>9.3f}"
                f"                {sub['hit@3']:>6.3f} {sub['MRR@10']:>7.3f}"
            )


if __name__ == "__main__":
    main()
