"""The chat's card search: dense similarity plus weighted BM25, and the card-word statistics coverage reads.

Hybrid search fuses ranks (reciprocal rank fusion), which levels the scores: a card that alone
matches a rare word of the question ("BLUF") ranks no higher than a runner-up in meaning, and a
card far closer in meaning than the rest is not ahead by more than one rank. The chat instead adds
the dense similarity and a share of the BM25 score (`Retriever.search_weighted`), which keeps those
gaps; on the labelled retrieval queries (evals/retrieval.yaml) it finds the right card first more
often than rank fusion does. The question is searched without its fillers ("ok so", "lol").

The same word statistics (stemmed as BM25 stems them) give the coverage rule (coach/coverage.py)
its lexical evidence: which words no card has at all.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from coach.models import Card
    from coach.retrieval import Hit, Retriever

#: Hits read when a focus word may re-rank them (the answer shows at most three).
DEPTH = 10
#: Weight of the BM25 score (as a share of the best) added to the dense similarity (Retriever.search_weighted).
BM25_WEIGHT = 0.4
#: Bonus for a card whose title, tags or id name the focus of the question (a lesson's skill).
FOCUS_WEIGHT = 0.1


@dataclass(frozen=True)
class WordStats:
    """Per-card word sets (stemmed content words) and how many cards have each word."""

    text: dict[str, frozenset[str]]
    title: dict[str, frozenset[str]]
    df: dict[str, int]
    n: int
    #: Words of the cards' asks (questions as people type them), which the cards' own text may not use.
    asked: frozenset[str] = frozenset()
    #: Words that name some card's topic (its title, tags or id: "budgets", "tiktok").
    titled: frozenset[str] = frozenset()

    def idf(self, word: str) -> float:
        """Inverse document frequency of a word over the cards (a word no card has weighs most)."""
        return math.log((self.n + 1) / (self.df.get(word, 0) + 0.5))

    def rarity(self, word: str) -> float:
        """0 for a word every card has, 1 for a word only one card has."""
        df = self.df.get(word, 0)
        return 0.0 if df == 0 else 1.0 - math.log(df) / math.log(max(2, self.n))


_STATS: dict[int, WordStats] = {}


def words(text: str) -> set[str]:
    """Content words (those `coach.grounding.content_words` keeps) stemmed as the BM25 index stems them.

    "automating" meets "automation", "building" meets "build" and "OKRs" meets "OKR".
    """
    from coach.grounding import _STOP
    from coach.index import _stemmer

    text = re.sub(r"n['’]t\b", "", text.lower())  # "hasn't" is "has", a stop word
    kept = [
        w for w in re.findall(r"[a-z0-9]+", text) if w not in _STOP and (len(w) > 2 or w.isdigit() or w in {"ai", "bi"})
    ]
    stemmer = _stemmer()
    return set(stemmer.stemWords(kept) if stemmer else kept)


def _full_text(card: Card) -> str:
    from coach.index import card_text

    return card_text(card) + " " + " ".join(card.tags) + " " + card.id.replace("-", " ")


def word_stats(cards: list[Card]) -> WordStats:
    """The word statistics of these cards (cached per set of cards and their content)."""
    key = hash(tuple((c.id, c.title, c.summary, tuple(c.asks)) for c in cards))
    stats = _STATS.get(key)
    if stats is None:
        text = {c.id: frozenset(words(_full_text(c))) for c in cards}
        title = {c.id: frozenset(words(c.title + " " + " ".join(c.tags) + " " + c.id.replace("-", " "))) for c in cards}
        df: dict[str, int] = {}
        for card_words in text.values():
            for w in card_words:
                df[w] = df.get(w, 0) + 1
        asked = frozenset(w for c in cards for w in words(" ".join(c.asks)))
        stats = WordStats(text, title, df, len(cards), asked, frozenset().union(*title.values()))
        if len(_STATS) > 8:
            _STATS.clear()
        _STATS[key] = stats
    return stats


#: Fillers that say nothing about the topic ("ok so", "lol", "pls"), dropped before searching.
_FILLER = re.compile(
    r"^(?:(?:ok(?:ay)?|so|and|hi|hey|hello|um+|hmm+|also|then|but)\b[\s,.!]*)+|"
    r"\b(?:lol|lmao|pls|plz|thx|tbh|haha|idk)\b",
    re.IGNORECASE,
)


def clean(question: str) -> str:
    """The question without leading fillers and chat noise ("ok so why...", "lol"), for searching."""
    out = " ".join(_FILLER.sub(" ", question).split())
    return out or question


_GERUND = re.compile(r"^(?:how\s+to\s+)?([a-z]{3,}ing)\b")


def lesson_focus(topic: str) -> str | None:
    """The skill a lesson topic names first ("automating the weekly store report": "automating"), or None.

    In "a lesson on X-ing Y" the lesson teaches X-ing; Y is where it is applied. Search alone weighs
    the words of Y as much (a weekly report is also a dashboard), so the skill gets a bonus.
    """
    m = _GERUND.match(" ".join(topic.lower().split()))
    return m.group(1) if m and m.group(1) not in {"something", "anything", "everything", "nothing"} else None


def search(
    question: str, retriever: Retriever, k: int = 3, domains: set[str] | None = None, focus: str | None = None
) -> list[Hit]:
    """The best `k` cards for a chat question (see the module docstring).

    `focus` (a word of the question) adds FOCUS_WEIGHT to cards whose title, tags or id name it.
    """
    query = clean(question)
    hits = retriever.search_weighted(query, k=max(k, DEPTH) if focus else k, bm25_weight=BM25_WEIGHT, domains=domains)
    focused = words(focus) if focus else set()
    if not focused:
        return hits[:k]
    titles = word_stats(retriever.kb.cards).title

    def score(h: Hit) -> float:
        return h.score + (FOCUS_WEIGHT if focused & titles.get(h.card.id, frozenset()) else 0.0)

    ranked = sorted(enumerate(hits), key=lambda ih: (-score(ih[1]), ih[0]))
    return [h for _, h in ranked[:k]]
