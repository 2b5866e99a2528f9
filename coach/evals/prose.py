"""Prose evaluators: no repetition (diversity), written for this pair (personalization), readable, and worded
as sentences rather than assembled labels (wording)."""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from typing import ClassVar

from coach.evals.evaluator import (
    PlanEvaluator,
    PlanSubject,
    Verdict,
    normalise,
    plan_texts,
    problems_reason,
    ratio,
    session_texts,
    words_of,
)
from coach.models import DOMAINS, Pair, Plan

#: Two texts whose normalised fuzzy ratio (0-100) reaches this are near-duplicates.
NEAR_DUPLICATE_RATIO = 90.0
#: Activities of at least this many words are compared across sessions; shorter ones are routine
#: blocks (check-in, wrap-up) that a session may repeat by design, and are only compared within a session.
ACTIVITY_WORDS_ACROSS = 15
#: Flesch-Kincaid grade of a session's prose. Plan text is read by busy executives and HR teams:
#: plain-English guidance for business writing aims at grades 8 to 12. Below 5 the text is
#: telegraphic or broken (a model's fragments); above 16 it is run-on or jargon-heavy.
READABILITY_BAND = (5.0, 16.0)
#: textstat locale: British hyphenation (the cards are in British English). Syllables then come from
#: pyphen's dictionary alone; "en" would make textstat fetch NLTK's cmudict from the internet.
READABILITY_LANG = "en-GB"
#: Share of a goal's content words that must appear in the plan's prose for the goal to count as named.
GOAL_WORDS_SHARE = 0.6
#: Two plans for different pairs that share at least this share (0-1) of their 3-word runs, once
#: names, roles, goals and dates are masked, are one generic plan handed to both.
GENERIC_SIMILARITY = 0.9


def degenerate(text: str) -> str | None:
    """Why a text repeats itself degenerately, or None.

    Degenerate: one word 4 times in a row, a run of 2 to 8 words said 3 times back to back
    ("ask one question ask one question ask one question"), or a 4-word run 3 times anywhere.
    Parallel phrasing ("ask about the budget, then ask about the team") is not degenerate.
    """
    words = words_of(text)
    run = 1
    for a, b in itertools.pairwise(words):
        run = run + 1 if a == b else 1
        if run >= 4:
            return f"repeats {a!r} {run} times in a row"
    for size in range(2, 9):
        for i in range(len(words) - 3 * size + 1):
            unit = words[i : i + size]
            if unit == words[i + size : i + 2 * size] == words[i + 2 * size : i + 3 * size]:
                return f"repeats {' '.join(unit)!r} 3 times in a row"
    grams: dict[tuple[str, ...], int] = {}
    for i in range(len(words) - 3):
        g = tuple(words[i : i + 4])
        grams[g] = grams.get(g, 0) + 1
        if grams[g] >= 3:
            return f"repeats {' '.join(g)!r} {grams[g]} times"
    return None


class DiversityEvaluator(PlanEvaluator):
    """No near-duplicate prompts or activities; no degenerate repetition inside one text."""

    name: ClassVar[str] = "diversity"

    def score_plan(self, plan: Plan, subject: PlanSubject) -> Verdict:
        """Share of prompts, activities and texts with no near-duplicate and no self-repetition."""
        prompts = [(s.number, p.text) for s in plan.sessions for p in s.discussion_prompts]
        activities = [(s.number, a.activity) for s in plan.sessions for a in s.agenda]
        flagged: set[tuple[str, int]] = set()
        problems: list[str] = []
        for i, j in _near_duplicates([t for _, t in prompts]):
            flagged.add(("prompt", j))
            problems.append(
                f"session {prompts[j][0]} prompt repeats session {prompts[i][0]}: {_short(prompts[j][1], 60)!r}"
            )
        for i, j in _near_duplicates([t for _, t in activities]):
            same_session = activities[i][0] == activities[j][0]
            long_enough = len(words_of(activities[j][1])) >= ACTIVITY_WORDS_ACROSS
            if same_session or long_enough:
                flagged.add(("activity", j))
                problems.append(
                    f"session {activities[j][0]} activity repeats session {activities[i][0]}: "
                    f"{_short(activities[j][1], 60)!r}"
                )
        texts = plan_texts(plan)
        for k, (where, text) in enumerate(texts):
            why = degenerate(text)
            if why:
                flagged.add(("text", k))
                problems.append(f"{where} {why}")
        # The same card activity run twice (under any label), or again later while its card offers others.
        from coach.checks import activity_repeats

        repeats = activity_repeats(plan, subject.kb)
        for k, why in enumerate(repeats):
            flagged.add(("card activity", k))
            problems.append(why)
        total = len(prompts) + len(activities) + len(texts)
        score = ratio(total - len(flagged), total)
        return Verdict(
            score, problems_reason(problems, f"no near-duplicates among {total} prompts, activities and texts")
        )


def _near_duplicates(texts: Sequence[str]) -> list[tuple[int, int]]:
    """Index pairs (i < j) whose normalised texts have a fuzzy ratio of at least NEAR_DUPLICATE_RATIO."""
    from rapidfuzz import fuzz, process

    norm = [normalise(t) for t in texts]
    if len(norm) < 2:
        return []
    matrix = process.cdist(norm, norm, scorer=fuzz.ratio, score_cutoff=NEAR_DUPLICATE_RATIO, workers=1)
    out = []
    for j in range(len(norm)):
        for i in range(j):
            if matrix[i][j] >= NEAR_DUPLICATE_RATIO and norm[j]:
                out.append((i, j))
                break  # one earlier twin is enough to flag j
    return out


def _short(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class PersonalizationEvaluator(PlanEvaluator):
    """Names, roles and goals appear in the plan; a different pair does not get the same plan."""

    name: ClassVar[str] = "personalization"

    def score_plan(self, plan: Plan, subject: PlanSubject) -> Verdict:
        """Share of the personalization checks passed."""
        pair = subject.pair
        prose = "\n".join(t for _, t in plan_texts(plan))
        low = prose.lower()
        checks: list[tuple[bool, str]] = [
            (
                plan.mentor.name == pair.mentor.name,
                f"the plan's mentor is {plan.mentor.name!r}, not {pair.mentor.name!r}",
            ),
            (
                plan.mentee.name == pair.mentee.name,
                f"the plan's mentee is {plan.mentee.name!r}, not {pair.mentee.name!r}",
            ),
            (pair.mentor.name.lower() in low, f"the sessions never name the mentor {pair.mentor.name}"),
            (pair.mentee.name.lower() in low, f"the sessions never name the mentee {pair.mentee.name}"),
            (_role_named(pair.mentee.role, low), f"the sessions never mention the mentee's role ({pair.mentee.role})"),
        ]
        words = set(words_of(prose))
        for gi, goal in enumerate(pair.mentee.goals):
            want = _goal_words(goal)
            have = len(want & words)
            checks.append(
                (
                    not want or have / len(want) >= GOAL_WORDS_SHARE,
                    f"goal {gi + 1} ({goal!r}) is not named in the plan ({have} of {len(want)} of its words appear)",
                )
            )
        for other_id, other_pair, other_plan in subject.others:
            if _same_people_and_goals(pair, other_pair):
                continue
            sim = plan_similarity(plan, pair, other_plan, other_pair, subject.fingerprints)
            checks.append(
                (
                    sim < GENERIC_SIMILARITY,
                    f"the plan is {sim:.0%} the same as the plan for case {other_id} (a different pair)",
                )
            )
        problems = [p for ok, p in checks if not ok]
        return Verdict(
            ratio(len(checks) - len(problems), len(checks)),
            problems_reason(problems, "names, role and goals appear, and the plan is this pair's own"),
        )


_GOAL_STOP = frozenset(
    re.findall(
        r"\S+",
        "a an the and or of to in on for with how my our me i we at by as from into about more better be is are "
        "can could use using learn understand get make so what when why which that this it its their your",
    )
)


def _goal_words(goal: str) -> set[str]:
    return {w for w in words_of(goal) if w not in _GOAL_STOP and len(w) > 2}


def _role_named(role: str, low: str) -> bool:
    if role.lower() in low:
        return True
    words = [w for w in words_of(role) if w not in _GOAL_STOP and len(w) > 2]
    # An abbreviation of the role ("CFO" for Chief Financial Officer) counts too.
    initials = "".join(w[0] for w in words_of(role) if w not in {"of", "and", "the", "for"})
    return (bool(words) and all(w in low for w in words)) or (len(initials) >= 2 and f" {initials} " in f" {low} ")


def _same_people_and_goals(a: Pair, b: Pair) -> bool:
    return set(a.mentee.goals) == set(b.mentee.goals)


def _masked(plan: Plan, pair: Pair) -> str:
    text = "\n".join(t for _, t in plan_texts(plan)).lower()
    for value, mask in [
        (pair.mentor.name, "<mentor>"),
        (pair.mentee.name, "<mentee>"),
        (pair.mentor.role, "<mentor_role>"),
        (pair.mentee.role, "<mentee_role>"),
        *[(g, "<goal>") for g in pair.mentee.goals],
        *[(g.rstrip(".").lower(), "<goal>") for g in pair.mentee.goals],
    ]:
        if value:
            text = text.replace(value.lower(), mask)
    # Dates differ between any two programs and say nothing about tailoring.
    return re.sub(r"\d+", "#", text)


def plan_similarity(
    a: Plan, pair_a: Pair, b: Plan, pair_b: Pair, cache: dict[int, set[tuple[str, ...]]] | None = None
) -> float:
    """How alike two plans are (0-1): Jaccard overlap of 3-word runs once names, roles, goals and numbers are masked."""
    cache = {} if cache is None else cache
    for plan, pair in ((a, pair_a), (b, pair_b)):
        if id(plan) not in cache:
            cache[id(plan)] = _shingles(_masked(plan, pair))
    sa, sb = cache[id(a)], cache[id(b)]
    if not sa and not sb:
        return 1.0
    return len(sa & sb) / len(sa | sb)


def _shingles(text: str, n: int = 3) -> set[tuple[str, ...]]:
    words = re.findall(r"[a-z0-9'<>_#]+", text)
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


class ReadabilityEvaluator(PlanEvaluator):
    """Flesch-Kincaid grade of each session's prose within `READABILITY_BAND`."""

    name: ClassVar[str] = "readability"

    def score_plan(self, plan: Plan, subject: PlanSubject) -> Verdict:
        """Share of sessions whose prose reads within the band."""
        from textstat.backend import metrics

        lo, hi = READABILITY_BAND
        grades = []
        problems = []
        for s in plan.sessions:
            text = prose_for_grading([t for _, t in session_texts(s)])
            if not text:
                problems.append(f"session {s.number}: no prose")
                grades.append(0.0)
                continue
            grade = float(metrics.flesch_kincaid_grade(text, READABILITY_LANG))
            grades.append(grade)
            if not lo <= grade <= hi:
                problems.append(f"session {s.number}: grade {grade:.1f}")
        ok = len(plan.sessions) - len(problems)
        mean = sum(grades) / len(grades) if grades else 0.0
        band = f"band {lo:g}-{hi:g}"
        if problems:
            return Verdict(
                ratio(ok, len(plan.sessions)), f"outside the {band}: " + problems_reason(problems, "", limit=4)
            )
        return Verdict(1.0, f"mean grade {mean:.1f}, every session within the {band}")


def prose_for_grading(items: list[str]) -> str:
    """Items joined as sentences (an item without end punctuation gets a full stop)."""
    out = []
    for item in items:
        item = " ".join(item.split())
        if not item:
            continue
        out.append(item if item[-1] in ".?!" else item + ".")
    return " ".join(out)


#: A session title longer than this reads as a list, not a title.
TITLE_CHARS = 80
_STACKED = re.compile(r"^[^.?!:]{1,120}:\s+[^.?!:]{1,120}:\s|^[^.?!:]{1,120}\s[-–—]\s[^.?!:]{1,120}:\s")
_SLUGISH = re.compile(r"\b[a-z0-9]+(?:-[a-z0-9]+)+\b")
_BOTH_ASKS = re.compile(r"\bBoth asks\b|\bboth asks:", re.IGNORECASE)


def _without_user_text(text: str, own: list[str]) -> str:
    """The text with the pair's own words (goals, strengths, names) cut out: quoting them as written is right."""
    for value in own:
        if value:
            text = text.replace(value, " ")
    return text


class WordingEvaluator(PlanEvaluator):
    """Written as sentences: names keep their casing, one label per line, no ids, short titles, grammar.

    Fails on: an acronym or product name lower-cased ("with ai", "in google drive"); an agenda line or
    title that stacks labels ("Leads (Card): Activity: ..."); a card id or domain slug in prose; a
    session title over `TITLE_CHARS` characters; "Both asks" in the rendered plan.
    """

    name: ClassVar[str] = "wording"

    def score_plan(self, plan: Plan, subject: PlanSubject) -> Verdict:
        """Share of texts with no wording seam (the rendered Markdown counts as one more text)."""
        from coach.export import to_markdown

        pair = subject.pair
        own = sorted(
            [*pair.mentee.goals, *pair.mentor.strengths, pair.mentor.name, pair.mentee.name],
            key=len,
            reverse=True,
        )
        from coach.wording import proper_words

        proper = proper_words(subject.kb)
        slugs = {c.id for c in subject.kb.cards} | set(DOMAINS)
        texts = plan_texts(plan)
        problems: list[str] = []
        flagged: set[int] = set()
        for k, (where, text) in enumerate(texts):
            plain = _without_user_text(text, own)
            lowered = sorted({w for w in re.findall(r"\b[a-z][a-z0-9]*\b", plain) if w in proper})
            if lowered:
                flagged.add(k)
                problems.append(f"{where} lower-cases {', '.join(repr(w) for w in lowered[:3])}: {_short(text, 60)!r}")
            ids = sorted({m for m in _SLUGISH.findall(plain) if m in slugs})
            if ids:
                flagged.add(k)
                problems.append(f"{where} shows the id {ids[0]!r} in a sentence")
            if (where.endswith(" title") or " agenda " in where) and _STACKED.search(text):
                flagged.add(k)
                problems.append(f"{where} stacks labels: {_short(text, 60)!r}")
            if where.endswith(" title") and len(text) > TITLE_CHARS:
                flagged.add(k)
                problems.append(f"{where} is {len(text)} characters (at most {TITLE_CHARS}): {_short(text, 60)!r}")
        rendered = to_markdown(plan)
        render_bad = bool(_BOTH_ASKS.search(rendered) or any(_BOTH_ASKS.search(t) for _, t in texts))
        if render_bad:
            problems.append("the plan reads 'Both asks' (two people ask)")
        total = len(texts) + 1
        return Verdict(
            ratio(total - len(flagged) - int(render_bad), total),
            problems_reason(problems, f"{total} texts read as sentences, names keep their casing, no ids"),
        )
