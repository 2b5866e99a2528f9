"""Which cards a question or an edit is really about.

Retrieval always returns its best guesses, even for a question no card mentions. These helpers
keep only hits that share a distinctive word with the text, so the coach can say "the cards do
not cover that" instead of answering from the least unrelated card.
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING

from coach.models import Card

if TYPE_CHECKING:
    from collections.abc import Callable

    from coach.retrieval import Hit, Retriever

#: Letters kept of each word, so "prompting" meets "prompts" but "recipe" does not meet "recipient".
STEM = 6

_STOP = frozenset(
    re.findall(
        r"\S+",
        """
    a an the and or but if then so of to in on for with about into from by at as is are was were be been being
    do does did done have has had i me my we our you your he she they them their it its this that these those
    what which who whom how why when where can could should would will shall may might must please explain
    simply simple plain words terms give lesson minute minutes min mins session sessions prepare tell show
    teach help need want like just really very some any more most much many one two three four five six mean
    means meaning define describe guide quick short brief briefing plan let us get make doing use using work
    best good better
    """,
    )
)


def content_words(text: str) -> set[str]:
    """Meaningful words, cut to a short stem so 'prompting' meets 'prompts'."""
    words = re.findall(r"[a-z0-9]+", text.lower())
    return {w[:STEM] for w in words if w not in _STOP and (len(w) > 2 or w.isdigit() or w in {"ai", "bi"})}


#: A word in more than this share of the cards says nothing about what a question is about.
COMMON_SHARE = 0.15
#: Share of a question's distinctive words a card must mention to count as covering it (at most COVER_MAX).
COVER_SHARE = 0.5
COVER_MAX = 3
#: Least cosine similarity (MiniLM, best passage) for a card to count as being about a question.
#: Measured on the labelled queries and chat cases: off-topic questions top out near 0.21 (tax
#: returns, sourdough, fishing), the least similar on-topic labelled query is 0.27.
COVER_SIMILARITY = 0.25

_df_cache: dict[int, tuple[int, dict[str, int]]] = {}


def _card_words(card: Card) -> set[str]:
    return content_words(card.text_for_index() + " " + " ".join(card.tags) + " " + card.id.replace("-", " "))


def distinctive_words(query: str, cards: list[Card]) -> set[str]:
    """The query's content words that are not common across the cards."""
    key = hash(tuple(c.id for c in cards))
    if key not in _df_cache:
        df: dict[str, int] = {}
        for c in cards:
            for w in _card_words(c):
                df[w] = df.get(w, 0) + 1
        _df_cache[key] = (len(cards), df)
    df = _df_cache[key][1]
    limit = max(2, COMMON_SHARE * len(cards))
    return {w for w in content_words(query) if df.get(w, 0) <= limit}


def relevant(
    query: str,
    retriever: Retriever,
    domains: tuple[str, ...] | None = None,
    k: int = 3,
    search: Callable[..., list[Hit]] | None = None,
) -> list[Card]:
    """Cards the retriever ranks for the query that also mention what the query is about (best first).

    Retrieval always returns something; the word check keeps the coach from answering from a
    card that is merely the least unrelated, so a question the cards do not mention gets
    "not covered" instead of an invented answer. `search` (query, k=, domains=) replaces the
    retriever's own search (the chat passes its re-ranked one).
    """
    words = distinctive_words(query, retriever.kb.cards)
    if not words:
        return []
    hits = (search or retriever.search)(query, k=k, domains=set(domains) if domains else None)
    need = min(COVER_MAX, max(1, math.ceil(COVER_SHARE * len(words))))
    return [
        h.card for h in hits if len(words & _card_words(h.card)) >= need and (h.similarity or 0.0) >= COVER_SIMILARITY
    ]
