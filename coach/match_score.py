"""How well two people fit, read through the knowledge base: free text -> cards and domains -> criteria.

Every phrase a person writes (a junior's strength "Copilot in Excel", a senior's goal "draft budget
commentary") is embedded with the index's model and compared with the passages of every card
(the vectors `coach index` stored). A phrase's relevance to a card is its best passage similarity,
mapped linearly from `LOW` (nothing) to `HIGH` (certain), and nothing for cards more than `MARGIN`
below the phrase's best card; its relevance to a domain is that of its best card in the domain.

Two phrases match when they point at the same card (the smaller of their two relevances, for
their best shared card among each phrase's `TOP_K` cards) or, more weakly, at the same domain
(`DOMAIN_FACTOR` times the smaller relevance). So "Copilot in Excel" and "draft budget commentary"
meet in a card on drafting with AI, and "AI" never matches "retail" because a word inside another
word plays no part: only the model's reading of whole phrases and the cards does.

Three criteria turn matches into fractions 0..1 for every junior x senior cell at once (numpy):

- `teaches`: each senior goal's best match among the junior's strengths, weighted by the senior's
  comfort in the goal's domain (comfort 1 counts 3x as much as comfort 5).
- `comfort`: how strongly the junior's strengths reach the domains the senior rates 1 or 2.
- `learns`: each junior goal's best match among the senior's strengths and role.

`coach.matching` weights the fractions into points and chooses the pairs; `explain` writes the
evidence for the pairs it chose.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from coach.models import DOMAINS

if TYPE_CHECKING:
    import numpy as np

    from coach.people import Person
    from coach.retrieval import Retriever

#: Passage similarity at or below which a phrase says nothing about a card (MiniLM cosine).
LOW = 0.30
#: Passage similarity at or above which a phrase is fully about a card.
HIGH = 0.60
#: Cards per phrase that take part in card-level matches.
TOP_K = 4
#: A card counts for a phrase only if its similarity is within this of the phrase's best card: a phrase
#: is about its best few cards, not about every card that mentions one of its words in passing.
MARGIN = 0.10
#: A match through a shared domain counts this much of one through a shared card.
DOMAIN_FACTOR = 0.6
#: Comfort assumed for a domain the senior did not rate.
DEFAULT_COMFORT = 3
#: Comfort at or below which a domain is a need (the `comfort` criterion).
LOW_COMFORT = 2

WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
STOP = frozenset(
    {
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "can",
        "do",
        "for",
        "from",
        "get",
        "how",
        "i",
        "in",
        "into",
        "is",
        "it",
        "its",
        "my",
        "of",
        "on",
        "or",
        "our",
        "the",
        "their",
        "them",
        "this",
        "to",
        "use",
        "using",
        "we",
        "what",
        "when",
        "with",
        "work",
        "working",
        "your",
    }
)


def words(text: str) -> list[str]:
    """The whole words of `text` (letters and digits; an apostrophe inside a word keeps it whole)."""
    return WORD.findall(text)


def shared_words(a: str, b: str) -> list[str]:
    """Whole words (not stop words) that `a` and `b` share, spelled as in `a`; "AI" never matches "retail"."""
    theirs = {w.casefold() for w in words(b)}
    out: list[str] = []
    for w in words(a):
        key = w.casefold()
        if key in theirs and key not in STOP and w not in out:
            out.append(w)
    return out


def text_key(text: str) -> str:
    """Phrases that embed alike share one key (the model is uncased; spacing does not matter)."""
    return " ".join(text.casefold().split())


@dataclass(repr=False)
class CardSpace:
    """Card passages (their vectors), and the phrases seen so far mapped onto cards and domains."""

    card_ids: list[str]
    titles: list[str]
    domains: list[str]
    #: Card index of each passage row.
    passage_card: np.ndarray
    #: Unit-length passage vectors, one row per passage.
    passages: np.ndarray
    embed: Callable[[list[str]], np.ndarray]
    _relevance: dict[str, np.ndarray] = field(default_factory=dict)
    _order: np.ndarray | None = None
    #: Per phrase: (top-K card relevance, domain relevance), as `phrases` returns them.
    _rows: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    #: Links between two phrases already explained (evidence for many pairs reuses them).
    _links: dict[tuple[str, str], Link] = field(default_factory=dict)

    @classmethod
    def from_retriever(cls, retriever: Retriever) -> CardSpace:
        """The passages `coach index` embedded for the retriever's cards, and its embedding model."""
        import numpy as np

        from coach.embedding import get_embedder
        from coach.index import open_collection

        got = open_collection(retriever.settings, retriever.gen).get(include=["embeddings", "metadatas"])
        position = {cid: i for i, cid in enumerate(retriever.ids)}
        keep = [k for k, meta in enumerate(got["metadatas"]) if str(meta["card"]) in position]
        cards = np.array([position[str(got["metadatas"][k]["card"])] for k in keep], dtype=np.int64)
        vectors = np.asarray(got["embeddings"], dtype=np.float32)[keep]
        kb_cards = [retriever.kb.get(cid) for cid in retriever.ids]
        embedder = get_embedder(retriever.settings)
        return cls(
            card_ids=list(retriever.ids),
            titles=[c.title if c else cid for c, cid in zip(kb_cards, retriever.ids, strict=True)],
            domains=[c.domain if c else "" for c in kb_cards],
            passage_card=cards,
            passages=vectors,
            embed=lambda texts: np.asarray(embedder.encode(texts), dtype=np.float32),
        )

    def forget(self) -> None:
        """Drop every phrase seen so far (the next use embeds them again)."""
        self._relevance.clear()
        self._rows.clear()
        self._links.clear()

    def relevance(self, texts: Sequence[str]) -> np.ndarray:
        """Relevance 0..1 of each text to each card (rows: texts, columns: cards); embeds unseen texts once."""
        import numpy as np

        keys = [text_key(t) for t in texts]
        missing = list(dict.fromkeys(k for k in keys if k not in self._relevance))
        if missing:
            if self._order is None:
                self._order = np.argsort(self.passage_card, kind="stable")
            order = self._order
            sorted_cards = self.passage_card[order]
            starts = np.flatnonzero(np.r_[True, sorted_cards[1:] != sorted_cards[:-1]])
            for b in range(0, len(missing), 2048):
                chunk = missing[b : b + 2048]
                sims = self.embed(chunk) @ self.passages[order].T
                best = np.maximum.reduceat(sims, starts, axis=1)
                best = np.where(best >= best.max(axis=1, keepdims=True) - MARGIN, best, LOW)
                rel = np.zeros((len(chunk), len(self.card_ids)), dtype=np.float32)
                rel[:, sorted_cards[starts]] = np.clip((best - LOW) / (HIGH - LOW), 0.0, 1.0)
                for key, row in zip(chunk, rel, strict=True):
                    self._relevance[key] = row
        if not keys:
            return np.zeros((0, len(self.card_ids)), dtype=np.float32)
        return np.stack([self._relevance[k] for k in keys])


@dataclass
class Phrases:
    """The distinct phrases of one side of a comparison, mapped onto cards and domains."""

    keys: list[str]
    #: (phrases x cards) relevance, zero outside each phrase's TOP_K cards.
    cards: np.ndarray
    #: (phrases x domains) relevance: the phrase's best card in each domain.
    domains: np.ndarray


def phrases(space: CardSpace, texts: Sequence[str]) -> Phrases:
    """Distinct phrases of `texts` with their card (top-K only) and domain relevance (computed once per phrase)."""
    import numpy as np

    keys = list(dict.fromkeys(text_key(t) for t in texts))
    missing = [k for k in keys if k not in space._rows]
    if missing:
        rel = space.relevance(missing)
        card_domain = np.array([DOMAINS.index(d) if d in DOMAINS else 0 for d in space.domains], dtype=np.int64)
        dom = np.zeros((len(missing), len(DOMAINS)), dtype=np.float32)
        for d in range(len(DOMAINS)):
            cols = np.flatnonzero(card_domain == d)
            if len(cols):
                dom[:, d] = rel[:, cols].max(axis=1)
        top = rel.copy()
        if rel.shape[1] > TOP_K:
            cut = np.argpartition(-rel, TOP_K, axis=1)[:, TOP_K:]
            np.put_along_axis(top, cut, 0.0, axis=1)
        for key, card_row, domain_row in zip(missing, top, dom, strict=True):
            space._rows[key] = (card_row, domain_row)
    if not keys:
        return Phrases([], np.zeros((0, len(space.card_ids)), np.float32), np.zeros((0, len(DOMAINS)), np.float32))
    return Phrases(keys, np.stack([space._rows[k][0] for k in keys]), np.stack([space._rows[k][1] for k in keys]))


def match_matrix(a: Phrases, b: Phrases) -> np.ndarray:
    """(a x b) match of every phrase pair: best shared card, or DOMAIN_FACTOR x best shared domain."""
    import numpy as np

    out = np.zeros((len(a.keys), len(b.keys)), dtype=np.float32)
    for left, right, factor in ((a.cards, b.cards, 1.0), (a.domains, b.domains, DOMAIN_FACTOR)):
        for col in range(left.shape[1]):
            rows = np.flatnonzero(left[:, col] > 0)
            cols = np.flatnonzero(right[:, col] > 0)
            if not len(rows) or not len(cols):
                continue
            block = np.minimum.outer(left[rows, col], right[cols, col]) * np.float32(factor)
            grid = np.ix_(rows, cols)
            out[grid] = np.maximum(out[grid], block)
    return out


def _best_per_owner(match: np.ndarray, owners: list[list[int]]) -> np.ndarray:
    """(rows x owners): each row's best match among each owner's columns (0 for an owner with none)."""
    import numpy as np

    out = np.zeros((match.shape[0], len(owners)), dtype=np.float32)
    flat = [c for cols in owners for c in cols]
    if not flat or match.shape[0] == 0:
        return out
    has = [k for k, cols in enumerate(owners) if cols]
    starts = np.cumsum([0] + [len(owners[k]) for k in has])[:-1]
    out[:, has] = np.maximum.reduceat(match[:, flat], starts, axis=1)
    return out


def senior_strengths(person: Person) -> list[str]:
    """What a senior can give back: their strengths and their role."""
    return [*person.strengths, *([person.role] if person.role else [])]


def comfort_of(person: Person) -> dict[str, int]:
    """The senior's comfort per domain, keyed by plain strings."""
    return {str(domain): level for domain, level in person.comfort.items()}


def goal_weight(comfort: dict[str, int], domain_row: np.ndarray) -> float:
    """A senior goal's weight: 1 (comfort 5) to 3 (comfort 1) in the goal's best domain."""
    level = comfort.get(DOMAINS[int(domain_row.argmax())], DEFAULT_COMFORT) if domain_row.any() else DEFAULT_COMFORT
    return 1.0 + (5 - level) / 2.0


def needs(person: Person) -> dict[str, int]:
    """Domains where the senior's comfort is low, with their weight (comfort 1 -> 2, comfort 2 -> 1)."""
    return {d: LOW_COMFORT + 1 - level for d, level in person.comfort.items() if level <= LOW_COMFORT}


@dataclass
class Fractions:
    """Criterion fractions 0..1, each (juniors x seniors), and where each criterion applies."""

    teaches: np.ndarray
    comfort: np.ndarray
    learns: np.ndarray
    #: Per senior: has goals (teaches applies) / has low-comfort domains (comfort applies).
    senior_goals: np.ndarray
    senior_needs: np.ndarray
    #: Per junior: has goals (learns applies).
    junior_goals: np.ndarray


def fractions(space: CardSpace, juniors: list[Person], seniors: list[Person]) -> Fractions:
    """Every criterion's fraction for every junior x senior cell.

    Args:
        space: The cards and the phrase cache.
        juniors: Who teaches (rows).
        seniors: Who learns (columns).
    """
    import numpy as np
    from scipy import sparse

    nj, ns = len(juniors), len(seniors)
    j_str = phrases(space, [t for p in juniors for t in p.strengths])
    s_goal = phrases(space, [t for p in seniors for t in p.goals])
    pos_js = {k: i for i, k in enumerate(j_str.keys)}
    pos_sg = {k: i for i, k in enumerate(s_goal.keys)}
    strengths_of = [[pos_js[text_key(t)] for t in p.strengths] for p in juniors]

    # teaches: goal x junior best match, then each senior's comfort-weighted mean over their goals.
    best = _best_per_owner(match_matrix(s_goal, j_str), strengths_of)  # (goal phrases x juniors)
    weights = sparse.lil_matrix((ns, max(1, len(s_goal.keys))), dtype=np.float64)
    for i, p in enumerate(seniors):
        row: dict[int, float] = {}
        for t in p.goals:
            g = pos_sg[text_key(t)]
            row[g] = row.get(g, 0.0) + goal_weight(comfort_of(p), s_goal.domains[g])
        total = sum(row.values())
        for g, w in row.items():
            weights[i, g] = w / total
    teaches = (
        np.asarray((weights.tocsr() @ best).T, dtype=np.float32) if len(s_goal.keys) else np.zeros((nj, ns), np.float32)
    )

    # comfort: the junior's reach into each domain x the senior's needs there.
    reach = np.zeros((nj, len(DOMAINS)), dtype=np.float32)
    for j, idx in enumerate(strengths_of):
        if idx:
            reach[j] = j_str.domains[idx].max(axis=0)
    need = np.zeros((ns, len(DOMAINS)), dtype=np.float32)
    for i, p in enumerate(seniors):
        for d, w in needs(p).items():
            need[i, DOMAINS.index(d)] = w
    totals = need.sum(axis=1)
    comfort = reach @ (need / np.where(totals > 0, totals, 1.0)[:, None]).T

    # learns: each junior goal's best match among the senior's strengths and role.
    s_str = phrases(space, [t for p in seniors for t in senior_strengths(p)])
    j_goal = phrases(space, [t for p in juniors for t in p.goals])
    pos_ss = {k: i for i, k in enumerate(s_str.keys)}
    pos_jg = {k: i for i, k in enumerate(j_goal.keys)}
    offers = [[pos_ss[text_key(t)] for t in senior_strengths(p)] for p in seniors]
    best_l = _best_per_owner(match_matrix(j_goal, s_str), offers)  # (junior goal phrases x seniors)
    mean = sparse.lil_matrix((nj, max(1, len(j_goal.keys))), dtype=np.float64)
    for j, p in enumerate(juniors):
        for t in p.goals:
            g = pos_jg[text_key(t)]
            mean[j, g] = mean[j, g] + 1.0 / len(p.goals)
    learns = np.asarray(mean.tocsr() @ best_l, dtype=np.float32) if len(j_goal.keys) else np.zeros((nj, ns), np.float32)
    return Fractions(
        teaches=np.clip(teaches, 0.0, 1.0),
        comfort=np.clip(comfort, 0.0, 1.0),
        learns=np.clip(learns, 0.0, 1.0),
        senior_goals=np.array([bool(p.goals) for p in seniors]),
        senior_needs=totals > 0,
        junior_goals=np.array([bool(p.goals) for p in juniors]),
    )


# --------------------------------------------------------------------------- evidence


@dataclass(frozen=True)
class Link:
    """Why two phrases match: the card or domain they share, and how strongly."""

    strength: float
    card: str | None
    title: str | None
    domain: str | None


def link(space: CardSpace, a: str, b: str) -> Link:
    """The best shared card (or domain) of two phrases: the same number `match_matrix` gives."""
    key = (text_key(a), text_key(b))
    found = space._links.get(key)
    if found is None:
        if len(space._links) > 200_000:
            space._links.clear()
        found = space._links[key] = _link(space, a, b)
    return found


def _link(space: CardSpace, a: str, b: str) -> Link:
    pa, pb = phrases(space, [a]), phrases(space, [b])
    card_scores = [min(float(x), float(y)) for x, y in zip(pa.cards[0], pb.cards[0], strict=True)]
    c = max(range(len(card_scores)), key=lambda k: (card_scores[k], -k))
    dom_scores = [DOMAIN_FACTOR * min(float(x), float(y)) for x, y in zip(pa.domains[0], pb.domains[0], strict=True)]
    d = max(range(len(dom_scores)), key=lambda k: (dom_scores[k], -k))
    if card_scores[c] <= 0 and dom_scores[d] <= 0:
        return Link(0.0, None, None, None)
    if card_scores[c] >= dom_scores[d]:
        return Link(card_scores[c], space.card_ids[c], space.titles[c], space.domains[c])
    return Link(dom_scores[d], None, None, DOMAINS[d])


def describe(giver_label: str, giver: str, goal: str, how: Link, plain: bool = False) -> str:
    """One piece of evidence: the two phrases quoted whole, the card or domain between them, shared words.

    With `plain`, the words a person reads in the app: the card by its title only, the domain in plain words.
    """
    if plain:
        via = f'the card "{how.title}"' if how.card else f"a shared subject only, {domain_words(how.domain or '')}"
        text = f'the {giver_label} "{giver}" serves the goal "{goal}" through {via}'
    else:
        # A domain-only link is weaker evidence than a shared card, and says so.
        via = f'card {how.card} "{how.title}"' if how.card else f"domain {how.domain} only, no card in common"
        text = f'{giver_label} "{giver}" serves goal "{goal}" through {via}'
    common = shared_words(giver, goal)
    if common:
        text += " (words in common: " + ", ".join(f'"{w}"' for w in common) + ")"
    return text


def domain_words(domain: str) -> str:
    """A domain in plain words for a sentence ("generative AI"), the slug itself when unknown."""
    from coach.checks import DOMAIN_NAMES

    return DOMAIN_NAMES.get(domain, domain)


def explain_match(
    space: CardSpace,
    givers: list[tuple[str, str]],
    goals: list[str],
    weights: list[float],
    top: int = 2,
    plain: bool = False,
) -> str:
    """Evidence for a teaches/learns fraction: the goals that contribute most and what serves them.

    Args:
        space: The cards.
        givers: (label, phrase) of what one side offers, e.g. ("strength", "Copilot in Excel").
        goals: The other side's goals.
        weights: Each goal's weight in the fraction.
        top: How many goals to quote.
        plain: Words for the app (`describe`).
    """
    found: list[tuple[float, str]] = []
    for goal, w in zip(goals, weights, strict=True):
        best: tuple[float, str, str, Link] | None = None
        for label, giver in givers:
            how = link(space, giver, goal)
            if how.strength > 0 and (best is None or how.strength > best[0]):
                best = (how.strength, label, giver, how)
        if best is not None:
            found.append((w * best[0], describe(best[1], best[2], goal, best[3], plain)))
    if not found:
        return "nothing offered relates to the goals (no shared card or domain)"
    found.sort(key=lambda x: -x[0])
    return "; ".join(text for _, text in found[:top])


def explain_comfort(space: CardSpace, strengths: list[str], senior: Person, plain: bool = False) -> str:
    """Evidence for the comfort fraction: which strength reaches which low-comfort domain (`plain`: app words)."""
    parts: list[tuple[float, str]] = []
    rows = phrases(space, strengths)
    for domain, w in needs(senior).items():
        if not strengths:
            break
        d = DOMAINS.index(domain)
        k = int(rows.domains[:, d].argmax())
        reach = float(rows.domains[k, d])
        if reach <= 0:
            continue
        keyed = {text_key(s): s for s in strengths}
        phrase = keyed.get(rows.keys[k], rows.keys[k])
        rel = space.relevance([phrase])[0]
        cols = [c for c, dom in enumerate(space.domains) if dom == domain]
        card = max(cols, key=lambda c: (float(rel[c]), -c))
        level = comfort_of(senior)[domain]
        if plain:
            text = f'the strength "{phrase}" reaches {domain_words(domain)} (comfort {level} of 5) '
            text += f'through the card "{space.titles[card]}"'
        else:
            text = f'strength "{phrase}" reaches {domain} (comfort {level}) '
            text += f'through card {space.card_ids[card]} "{space.titles[card]}"'
        parts.append((w * reach, text))
    if not parts:
        return "no strength reaches the domains rated 1 or 2"
    parts.sort(key=lambda x: -x[0])
    return "; ".join(text for _, text in parts[:2])


def explain(space: CardSpace, junior: Person, senior: Person, plain: bool = False) -> dict[str, str]:
    """Evidence per criterion for one pair, quoting whole phrases and the cards between them (`plain`: app words)."""
    goal_weights = [goal_weight(comfort_of(senior), phrases(space, [g]).domains[0]) for g in senior.goals]
    return {
        "teaches": explain_match(
            space, [("strength", s) for s in junior.strengths], senior.goals, goal_weights, plain=plain
        ),
        "comfort": explain_comfort(space, junior.strengths, senior, plain),
        "learns": explain_match(
            space,
            [*(("strength", s) for s in senior.strengths), *([("role", senior.role)] if senior.role else [])],
            junior.goals,
            [1.0] * len(junior.goals),
            plain=plain,
        ),
    }
