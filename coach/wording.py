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
    from coach.checks import DOMAIN_NAMES
    from coach.models import MENTOR_DOMAINS

    mentor, mentee = pair.mentor.name, pair.mentee.name
    served = served if served is not None else [True] * len(pair.mentee.goals)
    touched = touched if touched is not None else set(pair.mentee.comfort)
    goal_measures = []
    for gi, goal in enumerate(pair.mentee.goals):
        where = _worked_on(gi, sessions)
        if not served[gi] or not where:
            continue
        goal_measures.append(f"{mentee} can show a real example of progress on {quoted(goal)} ({where})")
    comfort = []
    for domain in MENTOR_DOMAINS:
        level = pair.mentee.comfort.get(domain)  # type: ignore[call-overload]
        if domain in touched and level is not None and level < 5:
            target = min(5, level + 2)
            comfort.append(
                f"{mentee}'s self-rated comfort with {DOMAIN_NAMES[domain]} rises from {level} to at least {target} of 5"
            )
    program = [
        f"{_how_many_held(pair.program.sessions)} held, with both sides rating each one",
        f"{mentor} can name one strategy, leadership or career insight gained from {mentee} per session",
    ]
    room = MAX_MEASURES - len(program)
    goal_measures = goal_measures[:room]
    return [*goal_measures, *comfort[: room - len(goal_measures)], *program]


def _worked_on(goal: int, sessions: list[Session]) -> str:
    """ "worked on in session 2" / "worked on in sessions 2, 4", or "" when no session serves the goal."""
    where = [s.number for s in sessions if goal in s.goals]
    if not where:
        return ""
    return (
        f"worked on in session {where[0]}" if len(where) == 1 else f"worked on in sessions {', '.join(map(str, where))}"
    )


def _how_many_held(n: int) -> str:
    """The sessions to hold: every one of a short program ("All 3 sessions are"), else 80 %."""
    import math

    held = max(1, math.ceil(0.8 * n))
    # "At least 3 of the 3 sessions" reads as a template: a short program holds every session.
    if held >= n:
        return "The session is" if n == 1 else f"All {n} sessions are"
    return f"At least {held} of the {n} sessions are"


_GOAL_MEASURE = re.compile(
    r"^(?P<head>.+ can show a real example of progress on “(?P<goal>[^”]*)”) \(worked on in [^)]*\)$"
)
_HELD_MEASURE = re.compile(r"^(?:The session is|All \d+ sessions are|At least \d+ of the \d+ sessions are) held\b")


def refresh_measures(measures: list[str], goals: list[str], sessions: list[Session]) -> list[str]:
    """Success measures after an edit: each goal's "worked on in session N" and the sessions to hold follow
    the sessions as they now are; a goal no session works on any more loses its measure."""
    wanted = [quoted(g)[1:-1] for g in goals]
    out = []
    for m in measures:
        if (g := _GOAL_MEASURE.match(m)) and g["goal"] in wanted:
            where = _worked_on(wanted.index(g["goal"]), sessions)
            if where:
                out.append(f"{g['head']} ({where})")
        elif h := _HELD_MEASURE.match(m):
            out.append(_how_many_held(len(sessions)) + " held" + m[h.end() :])
        else:
            out.append(m)
    return out


#: Who a card's pre-work line is for, by its subject ("Senior leader recalls ...", "Each side writes ...").
_SUBJECTS = {
    "mentee": "mentee",
    "senior leader": "mentee",
    "mentor": "mentor",
    "junior mentor": "mentor",
    "both": "both",
    "each": "both",
    "each side": "both",
}
_TASK = re.compile(
    r"^(Mentee|Mentor|Both|Each side|Each|Junior mentor|Senior leader)\s+([a-z]+(?:-[a-z]+)?)\b\s*(.*)$", re.DOTALL
)
_NAMED_TASK = re.compile(r"^([A-Z][\w'.-]*(?:\s+[A-Z][\w'.-]*){0,3}):\s+(.+)$", re.DOTALL)
#: In a card's pre-work "they", "their" and "them" are the person doing the task (README.md, "Writing cards"),
#: so the instruction says "you".
_YOU = {"they": "you", "their": "your", "them": "you", "themselves": "yourself", "theirs": "yours"}
_PRONOUN = re.compile(r"\b(they|their|them|themselves|theirs)\b(?:\s+(are|were)\b)?")


#: Second verbs of a task ("... and prepares five questions"): the verbs cards use, not nouns ("and talks").
_AND_VERB = re.compile(
    r"\b(and|or|then)\s+(brings|checks|confirms|copies|describes|finds|gets|knows|marks|notes|opens|picks|"
    r"prepares|reads|saves|screenshots|sends|shares|spends|writes|lists|asks|collects|makes|does|goes|has)\b"
)


def _to_you(text: str, mentor: str, mentee: str) -> str:
    text = _PRONOUN.sub(lambda m: _YOU[m.group(1)] + (f" {m.group(2)}" if m.group(2) else ""), text)
    text = _AND_VERB.sub(lambda m: f"{m.group(1)} {_base_form(m.group(2))}", text)
    if mentee:
        text = re.sub(r"\bthe (?:mentee|senior leader)\b", mentee, text)
    if mentor:
        text = re.sub(r"\bthe (?:junior mentor|mentor)\b", mentor, text)
    return text


def _base_form(verb: str) -> str:
    """ "notes" -> "note", "searches" -> "search", "tidies" -> "tidy"; a verb without -s as it is."""
    if verb in {"goes", "does", "has"}:
        return {"goes": "go", "does": "do", "has": "have"}[verb]
    if re.search(r"(?:ch|sh|ss|x|z)es$", verb):
        return verb[:-2]
    if verb.endswith("ies") and len(verb) > 4:
        return verb[:-3] + "y"
    if verb.endswith("s") and not verb.endswith("ss"):
        return verb[:-1]
    return verb


def task(line: str, mentor: str = "", mentee: str = "") -> tuple[str | None, str]:
    """Who a pre-work line is for ("mentor", "mentee", "both" or None) and the task as an instruction.

    Cards write pre-work in the third person ("Mentee notes where their tasks live"); plans write it
    with a name ("Robert Klein: note where your tasks live", "Both: note ..."). Either way the
    instruction is "Note where your tasks live", so a briefing can speak to the person who does it.
    """
    line = line.strip()
    if m := _TASK.match(line):
        who, verb, rest = m.groups()
        return _SUBJECTS[who.lower()], sentence_start(_to_you(f"{_base_form(verb)} {rest}".strip(), mentor, mentee))
    if m := _NAMED_TASK.match(line):
        who = m.group(1)
        side = {"Both": "both", mentor: "mentor", mentee: "mentee"}.get(who)
        if side is not None:
            return side, sentence_start(m.group(2))
    return None, line


def pre_work_line(line: str, mentor: str, mentee: str) -> str:
    """A card's pre-work line as a plan writes it: "Robert Klein: note three tasks ..." (was "Mentee notes ...")."""
    side, what = task(line, mentor, mentee)
    who = {"mentor": mentor, "mentee": mentee, "both": "Both"}.get(side or "")
    return f"{who}: {mid_sentence(what, frozenset())}" if who else line


def tasks_for(lines: list[str], side: str, mentor: str, mentee: str) -> list[str]:
    """The pre-work lines for one side ("mentor" or "mentee"), as instructions to that person.

    A line for the other side is left out; one for both says so ("Both of you: read ..."); one that
    names nobody is kept as written.
    """
    return [shown for _, shown in task_items(lines, side, mentor, mentee)]


def task_items(lines: list[str], side: str, mentor: str, mentee: str) -> list[tuple[str, str]]:
    """(instruction, shown) per task of `tasks_for`: the instruction as `task` reads it, for finding its card."""
    names = frozenset(w.lower() for n in (mentor, mentee) for w in n.split())
    me = mentor if side == "mentor" else mentee
    out: dict[str, str] = {}
    for line in lines:
        who, instruction = task(line, mentor, mentee)
        what = instruction.replace(f"{me}'s ", "your ") if me else instruction  # "your goals", not your own name
        if who == side or who is None:
            out.setdefault(what, instruction)
        elif who == "both":
            out.setdefault(f"Both of you: {mid_sentence(what, names)}", instruction)
    return [(instruction, shown) for shown, instruction in out.items()]


_LEARNER_PRONOUN = re.compile(r"\b(?:(on|to|for|with|at|by|from|about) you|yourself|yours|your|you)\b", re.IGNORECASE)


def learns(name: str, objective: str, source: str = "") -> str:
    """A card objective written to its learner ("Map your current network"), as what `name` learns.

    "Priya Shah learns to map their current network": in the senior leader's briefing "your" would
    read as the senior's own network. `source` says from whom ("Robert Klein (CFO)").
    """

    def third(m: re.Match[str]) -> str:
        word = m.group(0).lower()
        if m.group(1):
            return f"{m.group(1)} them"
        return {"yourself": "themselves", "yours": "theirs", "your": "their", "you": "they"}[word]

    text = _LEARNER_PRONOUN.sub(third, objective.strip().rstrip("."))
    return f"{name} learns{f' from {source}' if source else ''} to {mid_sentence(text, frozenset())}"


def senior_segments(s: Session, teach: list[Card], mentee: str) -> list[tuple[int, str]]:
    """(minutes, what) for the blocks the senior leader leads that are not part of the junior's lesson.

    The activity is given as written, without any "NAME leads (TOPIC):" label in front of it.
    """
    own = {a.title.lower() for c in teach for a in c.activities} | {c.title.lower() for c in teach}
    out = []
    for a in s.agenda:
        if a.lead != "mentee":
            continue
        what = re.sub(rf"^{re.escape(mentee)}\s+leads\b[^:]*:\s*", "", a.activity)
        # An agenda line starts with its activity's title, then ":", "." or nothing after a "?" (agenda_line).
        if any(what.lower().startswith(title) for title in own):
            continue
        out.append((a.minutes, what))
    return out
