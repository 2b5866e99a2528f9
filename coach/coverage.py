"""Whether the cards cover a question, decided from the retrieval evidence by a calibrated rule.

Retrieval always returns its best guesses, even for "a recipe for lasagne". The decision here reads
the evidence of one hybrid search:

- `similarity`: cosine similarity (MiniLM) of the top-ranked card's best passage to the question;
- `best_similarity`: the highest such similarity among the top three cards;
- `unknown`: how many of the question's content words appear in no card at all (capped at 3;
  chatty words such as "whats" or "didn't" and the pair's own names are not counted);
- `overlap`: the largest share of the question's distinctive words that one of the top three
  cards mentions.

A logistic rule turns these into the probability that the question is NOT covered; at or above
`threshold` the coach says so. Its weights are fitted on the "tune" half of the blind chat set
(`evals/blind/chat_blind.yaml`) by `benchmarks/chat_coverage.py` and stored in
`evals/coverage.yaml`; the held-out half is only reported, never used to fit.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from coach.models import Card
    from coach.retrieval import Hit, Retriever

COVERAGE_FILE = Path(__file__).resolve().parents[1] / "evals" / "coverage.yaml"
FEATURES = ("similarity", "best_similarity", "unknown", "overlap")
#: How many hits the evidence reads (and the answers may cite).
TOP = 3
#: Chatty words, contractions and fillers that say nothing about the topic even when no card has them.
CHATTY = frozenset(
    re.findall(
        r"\S+",
        """whats thats its im ive dont doesnt didnt didn isnt wasn wasnt cant won wont hit ok okay pls plz thx thanks
    hello hi hey lol yeah yes no nope sure surely basically actually honestly really totally somehow lately
    him her his hers she he they them someone something stuff thing things bit lots nearly""",
    )
)


@dataclass(frozen=True)
class CoverageRule:
    """A logistic rule: p(not covered) = sigmoid(bias + sum(weight * feature))."""

    bias: float
    weights: dict[str, float]
    threshold: float

    def probability(self, features: dict[str, float]) -> float:
        """The probability that the question is not covered."""
        z = self.bias + sum(self.weights.get(k, 0.0) * features[k] for k in FEATURES)
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


#: Used when evals/coverage.yaml is missing (an installed copy without the evals folder).
DEFAULT_RULE = CoverageRule(
    bias=4.0,
    weights={"similarity": -9.0, "best_similarity": -3.0, "unknown": 1.2, "overlap": -1.5},
    threshold=0.5,
)


@dataclass
class Evidence:
    """What one search says about a question, and the decision."""

    hits: list[Hit]
    features: dict[str, float]
    probability: float
    covered: bool
    cards: list[Card] = field(default_factory=list)


_RULE: dict[str, CoverageRule] = {}


def load_rule(path: Path | str = COVERAGE_FILE) -> CoverageRule:
    """The fitted rule from evals/coverage.yaml (cached), or DEFAULT_RULE when the file is absent."""
    key = str(path)
    if key in _RULE:
        return _RULE[key]
    p = Path(path)
    if not p.is_file():
        return DEFAULT_RULE
    from coach.errors import InputError
    from coach.safe_yaml import load_file

    data = load_file(p)
    try:
        rule = CoverageRule(
            bias=float(data["bias"]),
            weights={k: float(data["weights"][k]) for k in FEATURES},
            threshold=float(data["threshold"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(
            str(p), "weights", f"bias, threshold and a weight for each of {', '.join(FEATURES)} ({exc})"
        ) from None
    _RULE[key] = rule
    return rule


def _vocabulary(retriever: Retriever) -> set[str]:
    from coach.grounding import _card_words

    cache = getattr(retriever, "_coverage_vocab", None)
    if cache is None or cache[0] != len(retriever.kb.cards):
        words: set[str] = set()
        for c in retriever.kb.cards:
            words |= _card_words(c)
        cache = (len(retriever.kb.cards), words)
        retriever._coverage_vocab = cache  # type: ignore[attr-defined]
    return cache[1]


def features_for(question: str, hits: list[Hit], retriever: Retriever, names: tuple[str, ...] = ()) -> dict[str, float]:
    """The evidence features of a question and its hits (see the module docstring)."""
    from coach.grounding import STEM, _card_words, content_words, distinctive_words

    skip = {w[:STEM] for w in CHATTY} | {w.lower()[:STEM] for n in names for w in n.split()}
    words = content_words(question) - skip
    vocab = _vocabulary(retriever)
    unknown = [w for w in words if w not in vocab]
    distinct = distinctive_words(question, retriever.kb.cards) - skip
    sims = [h.similarity or 0.0 for h in hits[:TOP]]
    overlap = max((len(distinct & _card_words(h.card)) / max(1, len(distinct)) for h in hits[:TOP]), default=0.0)
    return {
        "similarity": sims[0] if sims else 0.0,
        "best_similarity": max(sims, default=0.0),
        "unknown": float(min(len(unknown), 3)),
        "overlap": overlap if distinct else 0.0,
    }


def assess(
    question: str,
    retriever: Retriever,
    domains: set[str] | None = None,
    names: tuple[str, ...] = (),
    rule: CoverageRule | None = None,
) -> Evidence:
    """Search the cards for a question and decide whether they cover it.

    Args:
        question: the words to search (a question, or the topic of one).
        retriever: the hybrid retriever.
        domains: limit the search to these domains.
        names: people's names in the question (the pair's), not counted as unknown words.
        rule: the rule to apply (default: evals/coverage.yaml).
    """
    hits = retriever.search(question, k=TOP, domains=domains) if question.strip() else []
    feats = features_for(question, hits, retriever, names)
    prob = (rule or load_rule()).probability(feats) if hits else 1.0
    covered = bool(hits) and prob < (rule or load_rule()).threshold
    return Evidence(hits, feats, prob, covered, [h.card for h in hits] if covered else [])


#: Domain titles as they read in a sentence.
DOMAIN_TITLES: dict[str, str] = {
    "generative-ai": "generative AI",
    "consumer-trends": "consumer trends",
    "collaboration-tools": "collaboration tools such as Slack and Teams",
    "social-media": "social media",
    "digital-workflow": "digital workflow",
    "data-literacy": "data literacy",
    "cybersecurity-privacy": "cybersecurity and privacy",
    "strategy-context": "strategy and business context",
    "leadership-communication": "leadership and communication",
    "career-navigation": "career navigation",
    "program-practice": "running the mentoring itself",
}


def refusal(topic: str | None = None) -> str:
    """The plain "not covered" answer, naming the domains by their titles."""
    from coach.models import DOMAINS

    titles = [DOMAIN_TITLES.get(d, d.replace("-", " ")) for d in DOMAINS]
    about = f" on {topic.strip()}" if topic and len(topic) <= 80 else " on that"
    return (
        f"The knowledge base has no card{about}, so I won't guess. "
        f"The cards cover {', '.join(titles[:-1])} and {titles[-1]}. "
        "Ask me about one of those, or add a card of your own with --kb."
    )
