"""The report by Kirkpatrick level: reaction, learning and behaviour, from ratings and assessments.

L1 reaction is how the sessions were rated and whether people would recommend the program (NPS);
L2 learning is the senior leaders' comfort gain and goal attainment (GAS T, 50 = as expected);
L3 behaviour is what follow-ups 3, 12 and 24 months later say about using it at work. L4 results
(retention, promotion) need HR data the program does not hold and are not computed here.
"""

from __future__ import annotations

import statistics
from typing import Any

#: Follow-up examples quoted in the report at most.
EXAMPLES = 5


def levels(pairs: list[dict[str, Any]], program: dict[str, Any]) -> dict[str, Any]:
    """The `kirkpatrick` block of the program report, from the report's pairs and program figures."""
    o = program["outcomes"]
    gains: dict[str, list[int]] = {}
    for p in pairs:
        for domain, gain in p["outcomes"]["comfort_gain"].items():
            gains.setdefault(domain, []).append(gain)
    answers = [a for p in pairs for a in p["outcomes"].get("followup_answers", [])]
    said = [a for a in answers if a["used_at_work"] is not None]
    used = [a for a in said if a["used_at_work"]]
    return {
        "L1_reaction": {
            "avg_rating_mentor": program["avg_rating_mentor"],
            "avg_rating_mentee": program["avg_rating_mentee"],
            "sessions_held": program["sessions_held"],
            "nps": o["nps"],
            "nps_answers": o["nps_answers"],
        },
        "L2_learning": {
            "pairs_with_baseline_and_closing": o["pairs_with_baseline_and_closing"],
            "median_comfort_gain": o["median_comfort_gain"],
            "mean_gain_by_domain": {d: round(statistics.fmean(v), 2) for d, v in sorted(gains.items())},
            "mean_gas_t": o["mean_gas_t"],
        },
        "L3_behaviour": {
            "followup_answers": len(said),
            "used_at_work": len(used),
            "used_at_work_rate": round(len(used) / len(said), 3) if said else None,
            "examples": [a["example"] for a in used if a["example"]][:EXAMPLES],
        },
    }


def lines(k: dict[str, Any]) -> list[str]:
    """The levels as short lines of text for `coach report`."""

    def one(value: float | None, fmt: str = "{:.1f}") -> str:
        return "-" if value is None else fmt.format(value)

    l1, l2, l3 = k["L1_reaction"], k["L2_learning"], k["L3_behaviour"]
    out = [
        f"L1 reaction: average rating {one(l1['avg_rating_mentor'])} by mentors, "
        f"{one(l1['avg_rating_mentee'])} by senior leaders; NPS {one(l1['nps'])} from {l1['nps_answers']} answers",
        f"L2 learning: {l2['pairs_with_baseline_and_closing']} pairs assessed before and after; median comfort gain "
        f"{one(l2['median_comfort_gain'], '{:+.1f}')} levels; mean GAS T {one(l2['mean_gas_t'])} (50 = as expected)",
        f"L3 behaviour: {l3['used_at_work']} of {l3['followup_answers']} follow-up answers used it at work"
        + (f" ({l3['used_at_work_rate']:.0%})" if l3["used_at_work_rate"] is not None else ""),
    ]
    out += [f"  e.g. {example}" for example in l3["examples"]]
    return out


#: Columns of `coach report --format csv`, one row per pair, for HR analysts.
CSV_COLUMNS = [
    "pair_id",
    "mentee",
    "mentor",
    "sessions_planned",
    "sessions_held",
    "sessions_cancelled",
    "avg_rating_mentor",
    "avg_rating_mentee",
    "health",
    "comfort_baseline",
    "comfort_latest",
    "mean_comfort_gain",
    "gas_t",
    "followups_due",
]


def csv_text(report: dict[str, Any]) -> str:
    """The report's pairs as CSV, one row per pair (comfort as `domain=N;domain=N`, like the people file)."""
    import csv
    import io

    def pairs_of(values: dict[str, int]) -> str:
        return ";".join(f"{d}={v}" for d, v in values.items())

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for p in report["pairs"]:
        o = p["outcomes"]
        gain = o["comfort_gain"]
        writer.writerow(
            [
                p["id"],
                _cell(p["mentee"]),
                _cell(p["mentor"]),
                p["sessions_planned"],
                p["sessions_held"],
                p["sessions_cancelled"],
                "" if p["avg_rating_mentor"] is None else p["avg_rating_mentor"],
                "" if p["avg_rating_mentee"] is None else p["avg_rating_mentee"],
                o["health"],
                pairs_of(o["comfort_baseline"]),
                pairs_of(o["comfort_latest"]),
                round(statistics.fmean(gain.values()), 2) if gain else "",
                "" if o["gas_t"] is None else o["gas_t"],
                ";".join(o["followups_due"]),
            ]
        )
    return buf.getvalue()


def _cell(text: str) -> str:
    """A name made safe for spreadsheets: a leading = + - @ would be read as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text
