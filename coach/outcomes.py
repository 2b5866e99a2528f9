"""Outcomes and health (SPEC.md section 11): comfort gains, GAS T-scores, NPS, health rules and follow-ups.

Pure computation over a pair's stored facts (`coach.metrics.PairFacts`) and a `today` passed in,
so the same database gives the same answer after a restart and a clock moved forward gives the
answer of that day. The flat per-pair fields (`comfort_*`, `gas_t`) are the mentee's: the senior
whose goals the pair file lists; `by_side` has both sides. Health, first rule that applies:

- closed: every planned session held or cancelled, or no session held for `IDLE_CLOSE_DAYS`
  (a warning from `IDLE_WARN_DAYS` before);
- needs_check_in: no held session for twice the cadence, the last two sessions cancelled, a
  rating of 2 or less at the latest rated session, or a side answered "not a good fit";
- too_early: fewer than two sessions held;
- on_track: everything else.
"""

from __future__ import annotations

import datetime as dt
import math
import statistics
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from coach.assessments import Assessment
    from coach.metrics import PairFacts

#: Days between sessions per cadence (as in coach.metrics).
CADENCE_DAYS = {"weekly": 7, "biweekly": 14, "monthly": 30}
#: A pair with no held session for this long is closed.
IDLE_CLOSE_DAYS = 90
#: The warning comes this many days before an idle pair is closed.
IDLE_WARN_DAYS = 7
#: Follow-ups, months after the last held session.
FOLLOWUP_MONTHS = (3, 12, 24)
HEALTH = ("too_early", "on_track", "needs_check_in", "closed")


def gas_t(ratings: dict[int, int]) -> float | None:
    """Kiresuk-Sherman T-score, equal weights, rho 0.3: 50 + 10 * sum(x) / sqrt(0.7 n + 0.3 n^2); None if no rating."""
    n = len(ratings)
    if n == 0:
        return None
    return round(50 + 10 * sum(ratings.values()) / math.sqrt(0.7 * n + 0.3 * n * n), 1)


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` later (the month's last day when it has fewer days)."""
    total = day.month - 1 + months
    year, month = day.year + total // 12, total % 12 + 1
    for d in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, d))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def _order(a: Assessment) -> tuple[dt.date, int]:
    return (a.assessed_on, a.id)


def side_outcomes(items: list[Assessment]) -> dict[str, Any]:
    """One side's comfort at baseline and latest, the gain per domain rated in both, and its GAS T-score."""
    items = sorted(items, key=_order)
    baseline: dict[str, int] = {}
    latest: dict[str, int] = {}
    goals: dict[int, int] = {}
    has_closing = False
    for a in items:
        if a.kind == "baseline":
            baseline.update(a.comfort)
        else:
            latest.update(a.comfort)
            has_closing = has_closing or a.kind == "closing"
        goals.update(a.goals)
    gain = {d: latest[d] - baseline[d] for d in sorted(baseline) if d in latest}
    return {
        "comfort_baseline": dict(sorted(baseline.items())),
        "comfort_latest": dict(sorted(latest.items())),
        "comfort_gain": gain,
        "gas_t": gas_t(goals),
        "has_baseline_and_closing": bool(baseline) and has_closing and bool(gain),
    }


def _latest_states(f: PairFacts) -> dict[int, tuple[str, dt.date]]:
    latest: dict[int, tuple[int, str, dt.date]] = {}
    for rid, number, status, date in sorted(f.records):
        latest[number] = (rid, status, date)
    return {n: (st, d) for n, (_, st, d) in latest.items()}


def health(f: PairFacts, today: dt.date) -> tuple[str, list[str], dt.date | None]:
    """The pair's health, the reasons in plain words, and the day an idle pair closes (None if it does not)."""
    states = _latest_states(f)
    held = {n: d for n, (st, d) in states.items() if st == "held"}
    cancelled = [n for n, (st, _) in states.items() if st == "cancelled"]
    last = max(held.values()) if held else None
    since = last or f.start
    idle = (today - since).days if since <= today else 0
    finished = len(held) + len(cancelled) >= f.sessions_planned
    if finished:
        return "closed", [f"all {f.sessions_planned} planned sessions held or cancelled"], None
    closes_on = since + dt.timedelta(days=IDLE_CLOSE_DAYS)
    if idle >= IDLE_CLOSE_DAYS:
        return "closed", [f"no session held for {idle} days (closed after {IDLE_CLOSE_DAYS})"], None
    reasons: list[str] = []
    if idle >= IDLE_CLOSE_DAYS - IDLE_WARN_DAYS:
        reasons.append(f"closes on {closes_on.isoformat()} unless a session is held (idle {idle} days)")
    limit = 2 * CADENCE_DAYS.get(f.cadence, 30)
    if idle > limit:
        what = "held" if last else "held since the planned start"
        reasons.append(f"no session {what} for {idle} days (twice the {f.cadence} cadence is {limit})")
    decided = [st for _, (st, _) in sorted(states.items()) if st in ("held", "cancelled")]
    if decided[-2:] == ["cancelled", "cancelled"]:
        reasons.append("the last two sessions were cancelled")
    rated = sorted({n for _, n, _, _ in f.feedback if n in held})
    if rated:
        newest = rated[-1]
        low = {side: r for _, n, side, r in sorted(f.feedback) if n == newest}
        for side, value in sorted(low.items()):
            if value <= 2:
                reasons.append(f"the {side} rated session {newest} {value} of 5")
    for side, answer in sorted(f.fit.items()):
        if answer == "not-a-good-fit":
            reasons.append(f"the {side} answered: not a good fit")
    if reasons:
        return "needs_check_in", reasons, closes_on
    if len(held) < 2:
        return (
            "too_early",
            [f"{len(held)} session{'s' if len(held) != 1 else ''} held; too early before session 2"],
            closes_on,
        )
    return "on_track", [f"{len(held)} of {f.sessions_planned} sessions held, the last {idle} days ago"], closes_on


def followups(f: PairFacts, assessments: list[Assessment], today: dt.date) -> list[dict[str, Any]]:
    """The 3/12/24-month follow-ups of a finished pair: date, whether due, and the sides still to answer."""
    states = _latest_states(f)
    held = [d for st, d in states.values() if st == "held"]
    finished = len([1 for st, _ in states.values() if st in ("held", "cancelled")]) >= f.sessions_planned
    idle_closed = bool(held) and (today - max(held)).days >= IDLE_CLOSE_DAYS
    if not held or not (finished or idle_closed):
        return []
    last = max(held)
    done = {(a.followup_months, a.side) for a in assessments if a.kind == "followup"}
    out = []
    for months in FOLLOWUP_MONTHS:
        day = add_months(last, months)
        missing = [s for s in ("mentor", "mentee") if (months, s) not in done]
        out.append({"months": months, "date": day.isoformat(), "due": day <= today, "missing": missing})
    return out


def due_assessments(f: PairFacts, assessments: list[Assessment], today: dt.date) -> list[tuple[str, str, dt.date]]:
    """Assessments each side should fill in now: (slot, side, since when), e.g. ("followup-3m", "mentee", date)."""
    states = _latest_states(f)
    held = [d for st, d in states.values() if st == "held"]
    have = {(a.kind if a.kind != "followup" else f"followup-{a.followup_months}m", a.side) for a in assessments}
    out: list[tuple[str, str, dt.date]] = []
    for side in ("mentor", "mentee"):
        if not held and ("baseline", side) not in have:
            out.append(("baseline", side, min(f.start, today)))
    finished = len([1 for st, _ in states.values() if st in ("held", "cancelled")]) >= f.sessions_planned
    if finished and held:
        for side in ("mentor", "mentee"):
            if ("closing", side) not in have:
                out.append(("closing", side, max(held)))
    for fu in followups(f, assessments, today):
        if fu["due"]:
            for side in fu["missing"]:
                out.append((f"followup-{fu['months']}m", side, dt.date.fromisoformat(fu["date"])))
    return out


def pair_outcomes(f: PairFacts, today: dt.date) -> dict[str, Any]:
    """The per-pair `outcomes` of SPEC.md section 11 (plus `by_side`, `health_reasons`, `followups`)."""
    items: list[Assessment] = list(f.assessments)
    sides = {s: side_outcomes([a for a in items if a.side == s]) for s in ("mentor", "mentee")}
    mentee = sides["mentee"]
    state, reasons, closes_on = health(f, today)
    schedule = followups(f, items, today)
    return {
        "comfort_baseline": mentee["comfort_baseline"],
        "comfort_latest": mentee["comfort_latest"],
        "comfort_gain": mentee["comfort_gain"],
        "gas_t": mentee["gas_t"],
        "health": state,
        "health_reasons": reasons,
        "closes_on": closes_on.isoformat() if closes_on and state != "closed" else None,
        "followups_due": [fu["date"] for fu in schedule if fu["due"] and fu["missing"]],
        "followups": schedule,
        "by_side": {s: {k: v for k, v in o.items() if k != "has_baseline_and_closing"} for s, o in sides.items()},
        "followup_answers": [
            {"months": a.followup_months, "side": a.side, "used_at_work": a.used_at_work, "example": a.example}
            for a in sorted(items, key=_order)
            if a.kind == "followup"
        ],
        "_complete": mentee["has_baseline_and_closing"],
        "_recommend": [
            r
            for s in ("mentor", "mentee")
            if (r := _latest_recommend([a for a in items if a.side == s and a.kind == "closing"])) is not None
        ],
    }


def _latest_recommend(closing: list[Assessment]) -> int | None:
    answers = [a.recommend for a in sorted(closing, key=_order) if a.recommend is not None]
    return answers[-1] if answers else None


def nps(answers: list[int]) -> float | None:
    """Net promoter score: % of 9-10 answers minus % of 0-6 answers; None without answers."""
    if not answers:
        return None
    promoters = sum(1 for a in answers if a >= 9)
    detractors = sum(1 for a in answers if a <= 6)
    return round(100 * (promoters - detractors) / len(answers), 1)


def program_outcomes(pairs: list[dict[str, Any]]) -> dict[str, Any]:
    """The program `outcomes`; pops the private keys `pair_outcomes` left on each pair's outcomes.

    `median_comfort_gain` is the median over pairs with a baseline and a closing of each pair's
    mean gain across its domains; `nps` counts the latest closing answer of each side of each pair.
    """
    complete: list[dict[str, Any]] = []
    answers: list[int] = []
    counts = dict.fromkeys(HEALTH, 0)
    for o in pairs:
        if o.pop("_complete"):
            complete.append(o)
        answers.extend(o.pop("_recommend"))
        counts[o["health"]] += 1
    gains = [statistics.fmean(o["comfort_gain"].values()) for o in complete]
    scores = [o["gas_t"] for o in pairs if o["gas_t"] is not None]
    return {
        "pairs_with_baseline_and_closing": len(complete),
        "median_comfort_gain": round(statistics.median(gains), 2) if gains else None,
        "mean_gas_t": round(statistics.fmean(scores), 1) if scores else None,
        "nps": nps(answers),
        "nps_answers": len(answers),
        "health": counts,
        "followups_due": sum(len(o["followups_due"]) for o in pairs),
    }
