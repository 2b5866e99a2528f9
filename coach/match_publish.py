"""Publishing matched pairs to the program database, and re-matching after a "not a good fit".

`publish` turns the chosen (junior, senior) pairs into pair files (SPEC.md section 2) with the
people file's program settings and stores them with their people-file ids, all or nothing; the
caller then plans them as `coach cohort plan` does. `alternatives` lists, for a published pair,
the best available partners for each side: juniors with room left and seniors without a mentor
in the same cohort, never the same two people again and never a forbidden pair.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from coach.errors import InputError, InputErrors

if TYPE_CHECKING:
    from coach.config import Settings
    from coach.match_score import CardSpace
    from coach.matching import Scored
    from coach.models import Pair
    from coach.people import PeopleFile


def pairs_for(people: PeopleFile, chosen: list[tuple[str, str]], shown: str) -> list[Pair]:
    """The pair file of each (junior id, senior id), with the people file's program settings.

    Raises:
        InputErrors: no program settings, or a senior without goals (a pair file needs at least one).
    """
    from coach.models import Mentee, Mentor, Pair

    if people.program is None:
        raise InputError(shown, "program", "program settings (sessions, minutes, cadence, start) to publish pairs")
    index = {p.id: i for i, p in enumerate(people.people)}
    by_id = people.by_id()
    errors: list[InputError] = []
    out: list[Pair] = []
    for j, s in chosen:
        junior, senior = by_id[j], by_id[s]
        if not senior.goals:
            errors.append(InputError(shown, f"people[{index[s]}].goals", "at least one goal to publish a pair"))
            continue
        out.append(
            Pair(
                mentor=Mentor(name=junior.name, role=junior.role, strengths=list(junior.strengths)),
                mentee=Mentee(
                    name=senior.name, role=senior.role, goals=list(senior.goals), comfort=dict(senior.comfort)
                ),
                program=people.program,
            )
        )
    if errors:
        raise InputErrors(errors)
    return out


def publish(
    settings: Settings, people: PeopleFile, chosen: list[tuple[str, str]], cohort: str, shown: str
) -> list[str]:
    """Store the chosen pairs in `cohort` with their people-file ids (all or none); returns the pair ids.

    Raises:
        InputErrors: the pairs cannot be written as pair files, or the cohort already holds the same two people.
    """
    from coach.store import open_store

    pairs = pairs_for(people, chosen, shown)
    store = open_store(settings)
    existing = store.existing_names(cohort)
    clashes = [
        InputError(
            shown,
            "cohort",
            f"a cohort without {p.mentor.name} and {p.mentee.name} already paired, but pair "
            f"{existing[(p.mentor.name.lower(), p.mentee.name.lower())]} in {cohort!r} has them (publish once)",
        )
        for p in pairs
        if (p.mentor.name.lower(), p.mentee.name.lower()) in existing
    ]
    if clashes:
        raise InputErrors(clashes)
    return store.add_matched_pairs(pairs, chosen, cohort, source=shown)


# --------------------------------------------------------------------------- re-matching


@dataclass
class Alternatives:
    """Who else a published pair's two people could be paired with, best first."""

    pair_id: str
    mentor: str
    mentee: str
    #: Juniors with room left who could mentor this senior instead: (junior id, score).
    for_mentee: list[tuple[str, float]]
    #: Seniors without a mentor whom this junior could mentor instead: (senior id, score).
    for_mentor: list[tuple[str, float]]


def find_alternatives(
    scored: Scored, pair_id: str, mentor: str, mentee: str, taken: list[tuple[str, str]], k: int = 5
) -> Alternatives:
    """The best available partners for each side of a pair, never the same two again.

    Args:
        scored: Every cell scored, with the blocked ones (reporting lines, do_not_pair, history).
        pair_id: The stored pair.
        mentor: Its junior's id.
        mentee: Its senior's id.
        taken: Every published (junior, senior) pair of the cohort, this one included.
        k: How many alternatives per side.
    """
    juniors = {p.id: i for i, p in enumerate(scored.juniors)}
    seniors = {p.id: i for i, p in enumerate(scored.seniors)}
    allowed = scored.allowed()
    used: dict[str, int] = {}
    for j, _ in taken:
        used[j] = used.get(j, 0) + 1
    matched = {s for _, s in taken}

    def cell(j: str, s: str) -> float | None:
        if (j, s) == (mentor, mentee) or not allowed[juniors[j], seniors[s]]:
            return None
        return float(scored.score[juniors[j], seniors[s]])

    room = {p.id: p.capacity - used.get(p.id, 0) for p in scored.juniors}
    for_mentee = [
        (p.id, value)
        for p in scored.juniors
        if p.id != mentor and room[p.id] > 0 and (value := cell(p.id, mentee)) is not None
    ]
    for_mentor = [
        (p.id, value)
        for p in scored.seniors
        if p.id != mentee and p.id not in matched and (value := cell(mentor, p.id)) is not None
    ]
    for_mentee.sort(key=lambda x: (-x[1], x[0]))
    for_mentor.sort(key=lambda x: (-x[1], x[0]))
    return Alternatives(pair_id, mentor, mentee, for_mentee[:k], for_mentor[:k])


def alternatives_json(space: CardSpace, scored: Scored, alt: Alternatives) -> dict[str, Any]:
    """JSON-ready alternatives with the reasons of each proposed pair."""
    from coach.matching import Match, pair_reasons

    result = Match(scored=scored, pairs=[], locked=set(), unmatched=[], spare={})

    def row(j: str, s: str) -> dict[str, Any]:
        data = pair_reasons(space, result, j, s)
        data.pop("locked", None)
        return data

    return {
        "pair": alt.pair_id,
        "mentor": alt.mentor,
        "mentee": alt.mentee,
        "for_mentee": [row(j, alt.mentee) for j, _ in alt.for_mentee],
        "for_mentor": [row(alt.mentor, s) for s, _ in alt.for_mentor],
    }
