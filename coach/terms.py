"""Which key concept a "what is X?" question names: "LLM" is the card term "Large language model (LLM)".

A term matches on its whole words, its parts ("A and B", "A or B") and its abbreviation in brackets, never
on a fragment: "AI" is not "Shadow AI", and "generative AI" is not "Inpainting / generative fill". An exact
match anywhere in the knowledge base wins; otherwise a close one among the cards the search found.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from coach.models import Card, KeyConcept

#: Closeness (0-100) for a term among the cards found; anywhere in the base only an exact term counts.
CLOSE = 90
EXACT = 95


def _forms(text: str) -> list[str]:
    """A term's spellings to compare: whole, without its brackets, the bracketed abbreviation, each part."""
    low = " ".join(re.sub(r"[^\w\s()/&'-]", " ", text.lower()).split())
    out = [low]
    if m := re.search(r"\(([^)]+)\)", low):
        out.append(m.group(1).strip())
        low = (low[: m.start()] + low[m.end() :]).strip()
        out.append(low)
    out += [p.strip() for p in re.split(r"\s+(?:and|or|vs)\s+|\s*/\s*", low) if p.strip()]
    return list(dict.fromkeys(o for o in out if o))


def _singular(text: str) -> str:
    return text[:-1] if len(text) > 3 and text.endswith("s") and not text.endswith("ss") else text


def score(topic: str, term: str) -> float:
    """How closely a question's topic names a term (0-100), comparing whole spellings."""
    from rapidfuzz import fuzz

    whole = _forms(topic)[0]
    return max(fuzz.ratio(a, _singular(f)) for a in (_singular(whole), whole) for f in _forms(term))


def find(topic: str, found: list[Card], every: Iterable[Card]) -> tuple[Card, KeyConcept] | None:
    """The card and key concept a topic names: exact anywhere, else close among `found`; None if neither."""
    scored = [(score(topic, k.term), c, k) for c in every for k in c.key_concepts]
    # The cards found in their search order, so a tie goes to the better-ranked card.
    close = [x for c in found for x in scored if x[1].id == c.id]
    for floor, pool in ((EXACT, scored), (CLOSE, close)):
        best = max((x for x in pool if x[0] >= floor), key=lambda x: x[0], default=None)
        if best is not None:
            return best[1], best[2]
    return None
