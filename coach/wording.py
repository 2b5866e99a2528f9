"""Words for plans: card titles and goals quoted with their own casing, short main ideas, plain domain names.

The offline planner and the plan editor write sentences from these, and the wording evaluator reads
the same vocabulary of acronyms and product names, so what one writes the other accepts.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from coach.knowledge import KnowledgeBase
    from coach.models import Card, Pair, Session

#: Common English words that some product is also called; never treated as a product name.
_NOT_PRODUCTS = frozenset(
    [
        "alpha",
        "center",
        "centre",
        "companion",
        "insights",
        "bookings",
        "studio",
        "shorts",
        "reels",
        "promoter",
        "checkup",
        "star",
        "gem",
        "docs",
        "sim",
        "hi",
        "friday",
        "monday",
        "sprout",
        "notion",
        "loom",
        "meet",
        "viva",
        "x",
        "i",
    ]
)
_proper_cache: dict[tuple[str, ...], frozenset[str]] = {}


def proper_words(kb: KnowledgeBase) -> frozenset[str]:
    """Acronyms and product names, lower-cased, as the cards spell them: words capitalised mid-sentence nearly always.

    Read from the cards themselves (titles, summaries, objectives, activities, prompts, concepts), so
    a new card naming a new product teaches the wording its spelling.
    """
    key = tuple(c.id for c in kb.cards)
    if key not in _proper_cache:
        cap: dict[str, int] = {}
        low: dict[str, int] = {}
        for c in kb.cards:
            parts = [c.title, c.summary, *c.objectives, *[f"{a.title}. {a.description}" for a in c.activities]]
            parts += [p.text for p in c.discussion_prompts] + [f"{k.term}. {k.meaning}" for k in c.key_concepts]
            for part in parts:
                for sentence in re.split(r"(?<=[.?!:;])\s+|\n", part):
                    for w in re.findall(r"[A-Za-z][A-Za-z0-9']*", sentence)[1:]:
                        counts = cap if w[0].isupper() else low
                        counts[w.lower()] = counts.get(w.lower(), 0) + 1
        _proper_cache[key] = frozenset(
            w
            for w, n in cap.items()
            if n >= 2 and low.get(w, 0) <= 0.1 * n and len(w) >= 2 and w not in _NOT_PRODUCTS and "'" not in w
        )
    return _proper_cache[key]


def mid_sentence(text: str, proper: frozenset[str]) -> str:
    """`text` as it reads inside a sentence: the first letter lowered unless the first word is a name."""
    text = text.strip()
    m = re.match(r"[A-Za-z][A-Za-z0-9']*", text)
    if not m:
        return text
    word = m.group(0)
    if word.lower() in proper or (not word[1:].islower() and len(word) > 1):
        return text  # "Microsoft Teams", "AI meeting notes", "TikTok Shop"
    return text[0].lower() + text[1:]


def sentence_start(text: str) -> str:
    """`text` with its first letter capitalised (the rest as written)."""
    text = text.strip()
    return text[:1].upper() + text[1:]


def main_idea(card: Card) -> str:
    """A card title's main idea: the part before its subtitle ("Microsoft Teams: chats, ..." -> "Microsoft Teams")."""
    head = re.split(r":\s|\?\s|\s[-–—]\s", card.title, maxsplit=1)[0].strip()
    return head if len(head.split()) >= 2 or len(head) >= 6 else card.title


def quoted(text: str) -> str:
    """A goal or title quoted as written (no trailing full stop)."""
    return f"“{text.strip().rstrip('.')}”"


def goal_phrase(goal: str, proper: frozenset[str]) -> str:
    """A goal as it reads after "help you ...": its own words and casing, the first letter lowered unless a name."""
    return mid_sentence(goal.strip().rstrip("."), proper)


def join_ideas(ideas: list[str], proper: frozenset[str], limit: int = 80) -> str:
    """Up to two main ideas as one title no longer than `limit` ("Microsoft Teams and co-editing shared documents")."""
    ideas = list(dict.fromkeys(ideas))
    if not ideas:
        return ""
    title = sentence_start(ideas[0])
    if len(ideas) > 1:
        both = f"{title} and {mid_sentence(ideas[1], proper)}"
        if len(both) <= min(limit, 60):  # two short ideas read as one title; longer ones as a list
            title = both
    return title if len(title) <= limit else title[: limit - 1].rsplit(" ", 1)[0] + "…"


def agenda_line(title: str, description: str) -> str:
    """One agenda line with one label: "Title: description" (a full stop instead when the text has its own colon)."""
    title, description = title.strip().rstrip(".:"), description.strip()
    if title.endswith(("?", "!")):
        return f"{title} {description}"
    first_sentence = re.split(r"(?<=[.?!])\s", description, maxsplit=1)[0]
    return f"{title}. {description}" if ":" in first_sentence else f"{title}: {description}"


def session_title(
    ideas: list[str], proper: frozenset[str], *, first: bool, last: bool, practice: bool, limit: int = 80
) -> str:
    """A session title from its main ideas, at most `limit` characters, with one label at most."""
    idea = ideas[0] if ideas else ""
    if first:
        end = ", then a review" if last else ""
        title = f"Getting started: ground rules, goals and {mid_sentence(idea, proper)}{end}"
        return title if len(title) <= limit else f"Getting started: ground rules and goals{end}"
    title = f"Practice: {mid_sentence(idea, proper)}" if practice else join_ideas(ideas[:2], proper, limit)
    if last:
        closing = f"{title}, and a review of progress"
        title = closing if len(closing) <= limit else f"Review of progress, after {mid_sentence(idea, proper)}"
        if len(title) > limit:
            title = "Review of progress and next steps"
    return title if len(title) <= limit else title[: limit - 1].rsplit(" ", 1)[0] + "…"


#: At most this many success measures: one per goal the cards serve, comfort in the domains they touch, two for the program.
MAX_MEASURES = 8


def success_measures(
    pair: Pair, sessions: list[Session], served: list[bool] | None = None, touched: set[str] | None = None
) -> list[str]:
    """Measures agreed at the start and reviewed in the last session: only for goals the cards serve,
    and comfort only in the domains those goals touch (plain names, at most `MAX_MEASURES`)."""
    import math

    from coach.checks import DOMAIN_NAMES
    from coach.models import MENTOR_DOMAINS

    mentor, mentee = pair.mentor.name, pair.mentee.name
    served = served if served is not None else [True] * len(pair.mentee.goals)
    touched = touched if touched is not None else set(pair.mentee.comfort)
    goal_measures = []
    for gi, goal in enumerate(pair.mentee.goals):
        where = [s.number for s in sessions if gi in s.goals]
        if not served[gi] or not where:
            continue
        label = f"session {where[0]}" if len(where) == 1 else f"sessions {', '.join(map(str, where))}"
        goal_measures.append(f"{mentee} can show a real example of progress on {quoted(goal)} (worked on in {label})")
    comfort = []
    for domain in MENTOR_DOMAINS:
        level = pair.mentee.comfort.get(domain)  # type: ignore[call-overload]
        if domain in touched and level is not None and level < 5:
            target = min(5, level + 2)
            comfort.append(
                f"{mentee}'s self-rated comfort with {DOMAIN_NAMES[domain]} rises from {level} to at least {target} of 5"
            )
    held = max(1, math.ceil(0.8 * pair.program.sessions))
    n = pair.program.sessions
    # "At least 3 of the 3 sessions" reads as a template: a short program holds every session.
    how_many = (
        ("The session is" if n == 1 else f"All {n} sessions are")
        if held >= n
        else f"At least {held} of the {n} sessions are"
    )
    program = [
        f"{how_many} held, with both sides rating each one",
        f"{mentor} can name one strategy, leadership or career insight gained from {mentee} per session",
    ]
    room = MAX_MEASURES - len(program)
    goal_measures = goal_measures[:room]
    return [*goal_measures, *comfort[: room - len(goal_measures)], *program]
