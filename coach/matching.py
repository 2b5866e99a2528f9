"""Matching: from a people file to the best pairs, with reasons whose points add up to the score.

1. **Hard constraints** first (`blocked`): never a person and their manager or their manager's
   manager, never two people with the same manager, never a `do_not_pair` (either side), never two
   people paired in an earlier cohort (`history`), and never a pair that earns nothing on a criterion
   weighted `must`. Such a cell is `null` in `scores` and `blocked` says why.
2. **Scores** 0..100 (`coach.match_score` reads the phrases through the cards): each criterion that
   applies to the pair gets `100 x weight / sum of applicable weights` points at most, times its
   fraction. Points are rounded to 0.01 and the score is their sum, so the reasons add up exactly.
3. **Assignment**: one row per senior, one column per capacity slot of each junior, solved by
   `scipy.optimize.linear_sum_assignment`. Every allowed cell is worth `BIG + score` with `BIG`
   larger than any possible total, so the optimum first matches as many seniors as possible, then
   maximises the total score. Locked pairs are fixed first and the rest optimised around them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from coach.errors import InputError
from coach.people import CRITERIA, DEFAULT_WEIGHTS, LEVELS

if TYPE_CHECKING:
    import numpy as np

    from coach.match_score import CardSpace
    from coach.people import PeopleFile, Person

#: How each criterion is named in `reasons`.
CRITERION_NAMES: dict[str, str] = {
    "teaches": "teaches a goal",
    "comfort": "covers low comfort",
    "learns": "learns from the senior",
}


@dataclass
class Scored:
    """Every junior x senior cell: points per criterion, score, and why a cell is blocked."""

    juniors: list[Person]
    seniors: list[Person]
    weights: dict[str, str]
    #: criterion -> (juniors x seniors) points, rounded to 0.01; zero where the criterion does not apply.
    points: dict[str, np.ndarray]
    #: criterion -> (juniors x seniors) whether it applies (counts towards the normalisation).
    applies: dict[str, np.ndarray]
    #: (juniors x seniors) the sum of the points, rounded to 0.01.
    score: np.ndarray
    #: (juniors x seniors) what the score is for the senior (teaches, comfort) and for the junior (learns), 0..100.
    for_mentee: np.ndarray
    for_mentor: np.ndarray
    #: (junior id, senior id) -> why the pair must never be made.
    blocked: dict[tuple[str, str], str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.junior_index = {p.id: k for k, p in enumerate(self.juniors)}
        self.senior_index = {p.id: k for k, p in enumerate(self.seniors)}

    def allowed(self) -> np.ndarray:
        """(juniors x seniors) True where a pair may be made."""
        import numpy as np

        ok = np.ones(self.score.shape, dtype=bool)
        for j, s in self.blocked:
            ok[self.junior_index[j], self.senior_index[s]] = False
        return ok


def resolve_weights(file_weights: dict[str, str], overrides: dict[str, str] | None = None) -> dict[str, str]:
    """Criterion -> level: the defaults, then the people file's `weights`, then `--weights`."""
    out = dict(DEFAULT_WEIGHTS)
    out.update(file_weights)
    out.update(overrides or {})
    if not any(LEVELS[level] for level in out.values()):
        raise InputError("--weights", "weights", "at least one criterion above 'off'")
    return out


def constraints(people: PeopleFile, history: set[tuple[str, str]] | None = None) -> dict[tuple[str, str], str]:
    """(junior id, senior id) -> the reason the pair must never be made (reporting lines, do_not_pair, history)."""
    managers = {p.id: p.manager for p in people.people}
    junior_ids = {p.id for p in people.juniors}
    senior_ids = {p.id for p in people.seniors}
    out: dict[tuple[str, str], str] = {}

    def block(junior: str, senior: str, why: str) -> None:
        out.setdefault((junior, senior), why)

    def line_of(person: str) -> list[tuple[str, str]]:
        """(id, relation) of the person's manager and manager's manager, where known."""
        found: list[tuple[str, str]] = []
        boss = managers.get(person)
        if boss:
            found.append((boss, "manager"))
            grand = managers.get(boss)
            if grand:
                found.append((grand, "manager's manager"))
        return found

    for person in people.people:
        others = senior_ids if person.side == "junior" else junior_ids
        for above, relation in line_of(person.id):
            if above in others:
                pair = (person.id, above) if person.side == "junior" else (above, person.id)
                block(*pair, f"{above} is {person.id}'s {relation}")
    seniors_by_manager: dict[str, list[str]] = {}
    for senior in people.seniors:
        if senior.manager:
            seniors_by_manager.setdefault(senior.manager, []).append(senior.id)
    for junior in people.juniors:
        for senior_id in seniors_by_manager.get(junior.manager or "", []):
            block(junior.id, senior_id, f"{junior.id} and {senior_id} have the same manager ({junior.manager})")
    for person in people.people:
        for other in person.do_not_pair:
            if other not in (senior_ids if person.side == "junior" else junior_ids):
                continue  # two juniors (or two seniors) are never paired anyway
            pair = (person.id, other) if person.side == "junior" else (other, person.id)
            block(*pair, f"{person.id} asked not to be paired with {other}")
    for junior_id, senior_id in sorted(history or ()):
        if junior_id in junior_ids and senior_id in senior_ids:
            block(junior_id, senior_id, f"{junior_id} and {senior_id} were paired in an earlier cohort")
    return out


def score_all(
    space: CardSpace,
    people: PeopleFile,
    weights: dict[str, str],
    history: set[tuple[str, str]] | None = None,
) -> Scored:
    """Points per criterion and the score for every junior x senior cell, plus the blocked cells.

    Args:
        space: The cards and their passage vectors (`CardSpace.from_retriever`).
        people: The validated people file.
        weights: Criterion -> level (`resolve_weights`).
        history: Earlier pairs (junior id, senior id), never made again.
    """
    import numpy as np

    from coach.match_score import fractions

    juniors, seniors = people.juniors, people.seniors
    nj, ns = len(juniors), len(seniors)
    frac = fractions(space, juniors, seniors)
    applies = {
        "teaches": np.broadcast_to(frac.senior_goals[None, :], (nj, ns)),
        "comfort": np.broadcast_to(frac.senior_needs[None, :], (nj, ns)),
        "learns": np.broadcast_to(frac.junior_goals[:, None], (nj, ns)),
    }
    values = {"teaches": frac.teaches, "comfort": frac.comfort, "learns": frac.learns}
    w = {c: float(LEVELS[weights[c]]) for c in CRITERIA}
    applies = {c: applies[c] & (w[c] > 0) for c in CRITERIA}
    total_w = sum(np.where(applies[c], w[c], 0.0) for c in CRITERIA)
    safe = np.where(total_w > 0, total_w, 1.0)
    points = {
        c: np.round(np.where(applies[c], 100.0 * w[c] / safe * values[c].astype(np.float64), 0.0), 2) for c in CRITERIA
    }
    score = np.round(sum(points[c] for c in CRITERIA), 2)

    def side(names: tuple[str, ...]) -> np.ndarray:
        wsum = sum(np.where(applies[c], w[c], 0.0) for c in names)
        got = sum(np.where(applies[c], w[c] * values[c], 0.0) for c in names)
        return np.round(100.0 * got / np.where(wsum > 0, wsum, 1.0), 2)

    blocked = constraints(people, history)
    for c in CRITERIA:
        if weights[c] != "must":
            continue
        for j, s in zip(*np.nonzero(applies[c] & (points[c] <= 0)), strict=True):
            key = (juniors[j].id, seniors[s].id)
            blocked.setdefault(key, f"earns nothing on '{CRITERION_NAMES[c]}', weighted must")
    return Scored(
        juniors=juniors,
        seniors=seniors,
        weights=dict(weights),
        points=points,
        applies={c: np.asarray(applies[c]) for c in CRITERIA},
        score=score,
        for_mentee=side(("teaches", "comfort")),
        for_mentor=side(("learns",)),
        blocked=blocked,
    )


# --------------------------------------------------------------------------- assignment


def assign(score: np.ndarray, allowed: np.ndarray, capacity: list[int]) -> list[tuple[int, int]]:
    """Optimal (junior, senior) index pairs: most seniors matched, then the highest total score.

    Args:
        score: (juniors x seniors) scores.
        allowed: (juniors x seniors) where a pair may be made.
        capacity: How many seniors each junior may take (0 or more).

    Returns:
        The pairs, sorted by junior then senior index.
    """
    import numpy as np
    from scipy.optimize import linear_sum_assignment

    nj, ns = score.shape
    slots = [j for j in range(nj) for _ in range(max(0, capacity[j]))]
    if not slots or ns == 0:
        return []
    big = 100.0 * min(ns, len(slots)) + 1.0
    value = np.where(allowed, big + np.clip(score, 0.0, 100.0), 0.0)  # (juniors x seniors)
    matrix = value[np.array(slots)].T  # (seniors x slots)
    rows, cols = linear_sum_assignment(matrix, maximize=True)
    out = [(slots[c], int(r)) for r, c in zip(rows, cols, strict=True) if allowed[slots[c], r]]
    return sorted(out)


@dataclass
class Match:
    """The chosen pairs (junior id, senior id) and the seniors left without a mentor."""

    scored: Scored
    pairs: list[tuple[str, str]]
    locked: set[tuple[str, str]]
    unmatched: list[str]
    spare: dict[str, int]


def parse_locks(values: tuple[str, ...] | list[str], people: PeopleFile) -> list[tuple[str, str]]:
    """`j1=s2` strings -> (junior id, senior id); each id must name a person of the right side."""
    sides = {p.id: p.side for p in people.people}
    out: list[tuple[str, str]] = []
    for raw in values:
        left, sep, right = (s.strip() for s in raw.partition("="))
        if not sep or not left or not right:
            raise InputError("--lock", "lock", f"JUNIOR=SENIOR ids such as j1=s2, got {raw!r}")
        if sides.get(left) == "senior" and sides.get(right) == "junior":
            left, right = right, left
        for pid, want in ((left, "junior"), (right, "senior")):
            if pid not in sides:
                raise InputError("--lock", "lock", f"ids of people in the file, but there is no {pid!r}")
            if sides[pid] != want:
                raise InputError("--lock", "lock", f"a junior and a senior, but {pid!r} is a {sides[pid]}")
        out.append((left, right))
    return out


def match(scored: Scored, locks: list[tuple[str, str]] | None = None) -> Match:
    """Choose the pairs: locked ones as given, the rest by `assign`.

    Raises:
        InputError: a lock names a blocked pair, a senior twice, or more seniors than a junior's capacity.
    """
    juniors, seniors = scored.juniors, scored.seniors
    jpos = {p.id: k for k, p in enumerate(juniors)}
    spos = {p.id: k for k, p in enumerate(seniors)}
    capacity = [p.capacity for p in juniors]
    allowed = scored.allowed()
    taken: set[str] = set()
    locked: list[tuple[str, str]] = []
    for j, s in locks or []:
        if (j, s) in scored.blocked:
            raise InputError("--lock", "lock", f"a pair that may be made, but {j}={s}: {scored.blocked[(j, s)]}")
        if s in taken:
            raise InputError("--lock", "lock", f"each senior locked once, but {s} is locked twice")
        if capacity[jpos[j]] == 0:
            raise InputError("--lock", "lock", f"at most {juniors[jpos[j]].capacity} seniors for {j} (its capacity)")
        capacity[jpos[j]] -= 1
        taken.add(s)
        locked.append((j, s))
    free = [k for k, p in enumerate(seniors) if p.id not in taken]
    sub = assign(scored.score[:, free], allowed[:, free], capacity) if free else []
    chosen = sorted({*locked, *((juniors[j].id, seniors[free[s]].id) for j, s in sub)}, key=lambda p: spos[p[1]])
    matched = {s for _, s in chosen}
    used: dict[str, int] = {}
    for j, _ in chosen:
        used[j] = used.get(j, 0) + 1
    spare = {p.id: p.capacity - used.get(p.id, 0) for p in juniors if p.capacity > used.get(p.id, 0)}
    return Match(
        scored=scored,
        pairs=chosen,
        locked=set(locked),
        unmatched=[p.id for p in seniors if p.id not in matched],
        spare=spare,
    )


# --------------------------------------------------------------------------- output


def pair_reasons(space: CardSpace, result: Match, j: str, s: str, plain: bool = False) -> dict[str, Any]:
    """One pair as SPEC.md section 9 prints it, with its reasons and their evidence (`plain`: the app's words)."""
    from coach.match_score import explain

    sc = result.scored
    jk, sk = sc.junior_index[j], sc.senior_index[s]
    junior, senior = sc.juniors[jk], sc.seniors[sk]
    evidence = explain(space, junior, senior, plain)
    reasons = [
        {
            "criterion": CRITERION_NAMES[c],
            "points": float(sc.points[c][jk, sk]),
            "evidence": evidence[c],
            "weight": sc.weights[c],
        }
        for c in CRITERIA
        if sc.applies[c][jk, sk]
    ]
    return {
        "mentor": j,
        "mentee": s,
        "score": float(sc.score[jk, sk]),
        "reasons": reasons,
        "mentor_name": junior.name,
        "mentee_name": senior.name,
        "for_mentee": float(sc.for_mentee[jk, sk]),
        "for_mentor": float(sc.for_mentor[jk, sk]),
        "locked": (j, s) in result.locked,
    }


def to_json_dict(space: CardSpace, result: Match, cohort: str | None = None, plain: bool = False) -> dict[str, Any]:
    """The whole result (SPEC.md section 9 plus `blocked`, `spare_capacity`, `weights` and a summary).

    With `plain`, the evidence is in the app's words (cards by title, domains in words; `pair_reasons`).
    """
    sc = result.scored
    allowed = sc.allowed()
    scores: dict[str, dict[str, float | None]] = {}
    for jk, jp in enumerate(sc.juniors):
        row = sc.score[jk].tolist()
        ok = allowed[jk].tolist()
        scores[jp.id] = {sp.id: (row[sk] if ok[sk] else None) for sk, sp in enumerate(sc.seniors)}
    blocked: dict[str, dict[str, str]] = {}
    for (j, s), why in sorted(sc.blocked.items()):
        blocked.setdefault(j, {})[s] = why
    pairs = [pair_reasons(space, result, j, s, plain) for j, s in result.pairs]
    return {
        "pairs": pairs,
        "unmatched": result.unmatched,
        "scores": scores,
        "blocked": blocked,
        "spare_capacity": result.spare,
        "weights": sc.weights,
        "cohort": cohort,
        "summary": {
            "juniors": len(sc.juniors),
            "seniors": len(sc.seniors),
            "matched": len(pairs),
            "total_score": round(sum(p["score"] for p in pairs), 2),
        },
    }
