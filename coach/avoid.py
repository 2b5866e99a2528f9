"""What to avoid: a question about mistakes or pitfalls is answered from the cards' `pitfalls` lists.

"and what should I avoid?" after an explanation of prompting, or "what mistakes do people make with
dashboards": the answer leads with what the best card says to avoid, not a general summary of it.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from coach.models import Card

#: Words that ask what to avoid ("what should I avoid", "common mistakes", "any gotchas", "what could go wrong").
_AVOID = re.compile(
    r"\b(?:avoid\w*|pitfalls?|mistakes?|gotchas?|traps?|watch\s+out|be\s+careful|careful\s+(?:about|with)|"
    r"go(?:es)?\s+wrong|don'?ts|dos\s+and\s+don'?ts|red\s+flags?|not\s+to\s+do|never\s+do)\b"
)


def asks_what_to_avoid(question: str) -> bool:
    """Whether a question asks for the mistakes to avoid."""
    return bool(_AVOID.search(question.lower()))


def topic_words(question: str) -> str:
    """The question without its asking-what-to-avoid words, to search by ("mistakes with dashboards": "with dashboards")."""
    return " ".join(_AVOID.sub(" ", question.lower()).split())


def avoid_answer(cards: list[Card], fill: Callable[[str], str], cite: Callable[[Card], str]) -> tuple[str, list[Card]]:
    """The text of a "what to avoid" answer and the cards it cites, or ("", []) when no card lists pitfalls."""
    card = next((c for c in cards[:2] if c.pitfalls), None)
    if card is None:
        return "", []
    c = cite(card)
    out = [f"**What to avoid: {card.title}** {c}", ""]
    out += [f"- {fill(p)}" for p in card.pitfalls]
    practice = next((a for a in card.activities if a.format in {"hands-on", "exercise", "demo"}), None)
    if practice is not None:
        out += ["", f"To practise the right habit together: {practice.title} ({practice.minutes} min): "]
        out[-1] += fill(practice.description)
    # A second card only from the same domain: a neighbour in the search is often unrelated ("phishing" after prompting).
    more = [m for m in cards[:3] if m.id != card.id and m.domain == card.domain][:1]
    if more:
        out += ["", f"See also *{more[0].title}* {cite(more[0])}."]
    used = [card, *more]
    out += ["", ("Sources: " if more else "Source: ") + ", ".join(cite(u) for u in used)]
    return "\n".join(out), used
