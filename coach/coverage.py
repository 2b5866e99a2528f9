"""Whether the cards cover a question, decided from the retrieval evidence by a calibrated rule.

Retrieval always returns its best guesses, even for "a recipe for lasagne". The decision here reads
the evidence of one chat search (`coach.chat_search`: hybrid search re-ranked by shared rare words):

- `similarity`: cosine similarity (MiniLM) of the top-ranked card's best passage to the question;
- `best_similarity`: the highest such similarity among the top three cards;
- `unknown`: how many of the question's content words appear in no card at all, anywhere in its
  text (capped at 3; numbers, chatty words such as "whats" or "didn't" and the pair's own names are
  not counted);
- `unasked`: the same count, but a word that some card's `asks` use is known too ("rubbish", "scared"):
  everyday words people use about a covered topic, where a near miss's own term ("DAX") stays unknown;
- `overlap`: the largest share of the question's distinctive words that one of the top three
  cards mentions;
- `beyond`: the highest similarity of the question to any card's `beyond` question, the near misses
  written beside each card that no card answers (`coach.beyond`);
- `out_of_scope`: whether the question names a field the product does not cover at all (tax and
  payroll, investing and crypto, law, certification schemes, programming, medicine, cooking...) or
  asks for what no card gives (a price, code, the user's own live data); see `coach.scope`.

A logistic rule turns these into the probability that the question is NOT covered; at or above
`threshold` the coach says so. Its weights are fitted on the "tune" halves of the blind chat sets
(`coach.evals.blind.BLIND_SETS`) by `benchmarks/chat_coverage.py` and stored in
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
FEATURES = ("similarity", "best_similarity", "unknown", "unasked", "overlap", "out_of_scope", "beyond")
#: How many hits the evidence reads (and the answers may cite).
TOP = 3
#: Chatty words, contractions and fillers that say nothing about the topic even when no card has them.
CHATTY = frozenset(
    re.findall(
        r"\S+",
        """whats thats its im ive dont doesnt didnt didn isnt wasn wasnt cant won wont hit ok okay pls plz thx thanks
    hello hi hey lol yeah yes no nope sure surely basically actually honestly really totally somehow lately
    him her his hers she he they them someone something stuff thing things bit lots nearly
    hasnt havent arent werent shouldnt couldnt wouldnt hasn haven aren weren shouldn couldn wouldn
    though although anyway anyhow maybe perhaps already ever even still quite rather""",
    )
)
#: The lexicon's weight in the rule, fixed rather than fitted: the blind set's own off-topic questions
#: name such fields often, and a fitted weight would let the rest of the rule go slack on the ones that
#: do not. Large enough to refuse an unclear question in such a field, not one the cards clearly match.
OUT_OF_SCOPE_WEIGHT = 4.0


@dataclass(frozen=True)
class CoverageRule:
    """A logistic rule: p(not covered) = sigmoid(bias + sum(weight * feature))."""

    bias: float
    weights: dict[str, float]
    threshold: float

    def probability(self, features: dict[str, float]) -> float:
        """The probability that the question is not covered."""
        z = self.bias + sum(self.weights.get(k, 0.0) * features.get(k, 0.0) for k in FEATURES)
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


#: Used when evals/coverage.yaml is missing (an installed copy without the evals folder): the fitted rule, rounded.
DEFAULT_RULE = CoverageRule(
    bias=1.82,
    weights={
        "similarity": -6.32,
        "best_similarity": -9.38,
        "unknown": -0.41,
        "unasked": 2.09,
        "overlap": -1.49,
        "beyond": 7.84,
        "out_of_scope": 4.00,
    },
    threshold=0.52,
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


def features_for(question: str, hits: list[Hit], retriever: Retriever, names: tuple[str, ...] = ()) -> dict[str, float]:
    """The evidence features of a question and its hits (see the module docstring)."""
    from coach import beyond
    from coach.chat_search import clean, word_stats
    from coach.chat_search import words as stemmed_words
    from coach.grounding import STEM, _card_words, distinctive_words
    from coach.scope import out_of_scope

    question = clean(question)
    skip = {w[:STEM] for w in CHATTY} | {w.lower()[:STEM] for n in names for w in n.split()}
    stemmed_skip = stemmed_words(" ".join(CHATTY) + " " + " ".join(names))
    # Short numbers are quantities ("60 minutes", "a 3 year plan"); long ones are codes (ISO 27001).
    words = {w for w in stemmed_words(question) - stemmed_skip if not (w.isdigit() and len(w) < 5)}
    stats = word_stats(retriever.kb.cards)
    unknown = [w for w in words if w not in stats.df]
    distinct = distinctive_words(question, retriever.kb.cards) - skip
    sims = [h.similarity or 0.0 for h in hits[:TOP]]
    overlap = max((len(distinct & _card_words(h.card)) / max(1, len(distinct)) for h in hits[:TOP]), default=0.0)
    return {
        "similarity": sims[0] if sims else 0.0,
        "best_similarity": max(sims, default=0.0),
        "unknown": float(min(len(unknown), 3)),
        "unasked": float(min(sum(w not in stats.asked for w in unknown), 3)),
        "overlap": overlap if distinct else 0.0,
        "out_of_scope": 1.0 if out_of_scope(question) else 0.0,
        "beyond": beyond.similarity(retriever, question),
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
    from coach.chat_search import search

    hits = search(question, retriever, k=TOP, domains=domains) if question.strip() else []
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


#: A refused question at least this close (cosine) to a card is told which card came nearest.
NEAR_SIMILARITY = 0.45


def nearest(evidence: Evidence) -> Card | None:
    """The card a refused question came closest to, when it came close (a near miss), else None."""
    if evidence.covered or not evidence.hits or evidence.features.get("best_similarity", 0.0) < NEAR_SIMILARITY:
        return None
    return max(evidence.hits, key=lambda h: h.similarity or 0.0).card


def refusal(topic: str | None = None, near: Card | None = None, request: str | None = None) -> str:
    """The plain "not covered" answer, naming the domains by their titles (and the nearest card of a near miss).

    `request`: the kind of request no card answers (a key of `coach.scope.REQUESTS`, such as a price); the
    answer says so first, and who can help.
    """
    from coach.models import DOMAINS

    titles = [DOMAIN_TITLES.get(d, d.replace("-", " ")) for d in DOMAINS]
    about = f" on {topic.strip()}" if topic and len(topic) <= 80 else " on that"
    closest = f"The nearest one, *{near.title}*, does not answer it. " if near is not None else ""
    opening = f"The knowledge base has no card{about}, so I won't guess. {closest}"
    if request is not None:
        from coach.scope import REQUESTS

        # Said first: "no card on per seat prices" alone reads as if another card might have them.
        nearest_card = f"The nearest card is *{near.title}*. " if near is not None else ""
        opening = f"{REQUESTS[request].instead} {nearest_card}"
    return (
        f"{opening}"
        f"The cards cover {', '.join(titles[:-1])} and {titles[-1]}. "
        "Ask me about one of those, or add a card of your own with --kb."
    )
