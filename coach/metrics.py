"""Program metrics (SPEC.md section 7): per pair and for the program, as JSON, a table or HTML with charts.

Pure computation over facts the store reads (coach.store.Store.report_facts); no database here.
Outcomes and health (SPEC.md section 11) come from `coach.outcomes`.
A session's state is its latest record: held, cancelled or moved (moved = rescheduled, still to come).
"""

from __future__ import annotations

import datetime as dt
import html
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from coach import outcomes

if TYPE_CHECKING:
    from coach.assessments import Assessment

#: Days between sessions per cadence; a pair is stalled after twice this with no held session.
CADENCE_DAYS = {"weekly": 7, "biweekly": 14, "monthly": 30}
#: Pairs drawn in the HTML progress chart (stalled and least advanced first).
PROGRESS_ROWS = 150


@dataclass(frozen=True)
class PairFacts:
    """Everything the report needs about one pair."""

    id: str
    mentor: str
    mentee: str
    cohort: str | None
    sessions_planned: int
    cadence: str
    start: dt.date
    goals_total: int
    plan_version: int = 0
    #: Session number -> indexes of the goals it serves, from the latest plan version.
    session_goals: dict[int, list[int]] = field(default_factory=dict)
    #: (record id, session number, status, date); a later id supersedes an earlier one.
    records: list[tuple[int, int, str, dt.date]] = field(default_factory=list)
    #: (feedback id, session number, side, rating 1-5).
    feedback: list[tuple[int, int, str, int]] = field(default_factory=list)
    #: Both sides' assessments (coach.assessments.Assessment), oldest first.
    assessments: list[Assessment] = field(default_factory=list)
    #: Each side's latest answer to "is this pair a good fit?".
    fit: dict[str, str] = field(default_factory=dict)


@dataclass
class _Month:
    held: int = 0
    cancelled: int = 0
    moved: int = 0
    ratings: dict[str, list[int]] = field(default_factory=lambda: {"mentor": [], "mentee": []})

    def row(self, month: str) -> dict[str, Any]:
        return {
            "month": month,
            "held": self.held,
            "cancelled": self.cancelled,
            "moved": self.moved,
            "avg_rating_mentor": _mean(self.ratings["mentor"]),
            "avg_rating_mentee": _mean(self.ratings["mentee"]),
        }


def _mean(values: list[int]) -> float | None:
    return round(sum(values) / len(values), 2) if values else None


def _rate(part: int, whole: int) -> float:
    return round(part / whole, 3) if whole else 0.0


def _month(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def _pair_metrics(f: PairFacts, today: dt.date, months: dict[str, _Month]) -> dict[str, Any]:
    """One pair's row; adds its sessions and ratings to the program's `months`."""
    latest: dict[int, tuple[int, str, dt.date]] = {}
    for rid, number, status, date in sorted(f.records):
        latest[number] = (rid, status, date)
    held = {n: d for n, (_, st, d) in latest.items() if st == "held"}
    cancelled = sum(1 for _, st, _ in latest.values() if st == "cancelled")
    moved = sum(1 for _, st, _ in latest.values() if st == "moved")
    # The latest rating per session and side, for sessions that were held.
    rating: dict[tuple[int, str], int] = {}
    for _fid, number, side, value in sorted(f.feedback):
        if number in held:
            rating[(number, side)] = value
    by_side: dict[str, list[int]] = {"mentor": [], "mentee": []}
    for (_number, side), value in rating.items():
        by_side.setdefault(side, []).append(value)

    own: dict[str, _Month] = {}
    for number, (_, status, date) in latest.items():
        for bucket in (own, months):
            m = bucket.setdefault(_month(date), _Month())
            setattr(m, status, getattr(m, status) + 1)
            if status == "held":
                for side in ("mentor", "mentee"):
                    if (number, side) in rating:
                        m.ratings[side].append(rating[(number, side)])

    covered = sorted({g for n in held for g in f.session_goals.get(n, [])})
    last = max(held.values()) if held else None
    days_since = (today - last).days if last else None
    limit = 2 * CADENCE_DAYS.get(f.cadence, 30)
    finished = len(held) + cancelled >= f.sessions_planned
    since = last or f.start  # no session held yet: the clock runs from the planned start
    stalled = not finished and since <= today and (today - since).days > limit
    return {
        "id": f.id,
        "mentor": f.mentor,
        "mentee": f.mentee,
        "cohort": f.cohort,
        "sessions_held": len(held),
        "sessions_cancelled": cancelled,
        "sessions_moved": moved,
        "sessions_planned": f.sessions_planned,
        "cancellation_rate": _rate(cancelled, len(held) + cancelled),
        "avg_rating_mentor": _mean(by_side["mentor"]),
        "avg_rating_mentee": _mean(by_side["mentee"]),
        "goals_covered": len(covered),
        "goals_total": f.goals_total,
        "goals_covered_ids": covered,
        "last_session": last.isoformat() if last else None,
        "days_since_last_session": days_since,
        "stalled": stalled,
        "cadence": f.cadence,
        "plan_version": f.plan_version,
        "trend": [own[k].row(k) for k in sorted(own)],
        "outcomes": outcomes.pair_outcomes(f, today),
    }


def build_report(facts: list[PairFacts], today: dt.date | None = None) -> dict[str, Any]:
    """The report of SPEC.md section 7: `{"pairs": [...], "program": {...}}` plus trend by month."""
    today = today or dt.date.today()
    months: dict[str, _Month] = {}
    pairs = [_pair_metrics(f, today, months) for f in facts]
    held = sum(p["sessions_held"] for p in pairs)
    cancelled = sum(p["sessions_cancelled"] for p in pairs)
    planned = sum(p["sessions_planned"] for p in pairs)
    goals_covered = sum(p["goals_covered"] for p in pairs)
    goals_total = sum(p["goals_total"] for p in pairs)
    all_ratings = {side: [r for m in months.values() for r in m.ratings[side]] for side in ("mentor", "mentee")}
    stalled = [p["id"] for p in pairs if p["stalled"]]
    program = {
        "as_of": today.isoformat(),
        "pairs": len(pairs),
        "pairs_stalled": len(stalled),
        "stalled": stalled,
        "sessions_held": held,
        "sessions_cancelled": cancelled,
        "sessions_moved": sum(p["sessions_moved"] for p in pairs),
        "sessions_planned": planned,
        "completion_rate": _rate(held, planned),
        "cancellation_rate": _rate(cancelled, held + cancelled),
        "avg_rating_mentor": _mean(all_ratings["mentor"]),
        "avg_rating_mentee": _mean(all_ratings["mentee"]),
        "goals_covered": goals_covered,
        "goals_total": goals_total,
        "goals_covered_rate": _rate(goals_covered, goals_total),
        "trend": [months[k].row(k) for k in sorted(months)],
        "outcomes": outcomes.program_outcomes([p["outcomes"] for p in pairs]),
    }
    from coach.kirkpatrick import levels

    program["kirkpatrick"] = levels(pairs, program)
    return {"pairs": pairs, "program": program}


# --------------------------------------------------------------------------- rendering


def fmt_value(value: Any) -> str:
    """A value for a table cell: '-' for none, two decimals for floats."""
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def _one(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def table_rows(report: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    """Headers and rows of the per-pair table (stalled pairs marked)."""
    headers = ["id", "mentee / mentor", "held", "canc", "rating m/e", "goals", "days", "stalled"]
    rows = [
        [
            p["id"],
            f"{p['mentee']} / {p['mentor']}",
            f"{p['sessions_held']}/{p['sessions_planned']}",
            str(p["sessions_cancelled"]),
            f"{_one(p['avg_rating_mentor'])}/{_one(p['avg_rating_mentee'])}",
            f"{p['goals_covered']}/{p['goals_total']}",
            fmt_value(p["days_since_last_session"]),
            "STALLED" if p["stalled"] else "",
        ]
        for p in report["pairs"]
    ]
    return headers, rows


def program_lines(report: dict[str, Any]) -> list[str]:
    """The program summary as short lines of text."""
    g = report["program"]
    return [
        f"as of {g['as_of']}: {g['pairs']} pairs, {g['pairs_stalled']} stalled",
        f"sessions held {g['sessions_held']} of {g['sessions_planned']} planned "
        f"({g['completion_rate']:.0%}), cancelled {g['sessions_cancelled']} "
        f"(cancellation rate {g['cancellation_rate']:.0%}), moved {g['sessions_moved']}",
        f"average rating: mentor {fmt_value(g['avg_rating_mentor'])}, mentee {fmt_value(g['avg_rating_mentee'])}",
        f"goals covered so far: {g['goals_covered']} of {g['goals_total']} ({g['goals_covered_rate']:.0%})",
        *outcome_lines(g["outcomes"]),
        *kirkpatrick_lines(g["kirkpatrick"]),
    ]


def kirkpatrick_lines(k: dict[str, Any]) -> list[str]:
    """The report by Kirkpatrick level (coach.kirkpatrick) as short lines."""
    from coach.kirkpatrick import lines

    return lines(k)


def outcome_lines(o: dict[str, Any]) -> list[str]:
    """The program outcomes (SPEC.md section 11) and pair health as short lines of text."""
    h = o["health"]
    return [
        f"health: {h['on_track']} on track, {h['needs_check_in']} need a check-in, "
        f"{h['too_early']} too early to tell, {h['closed']} closed; {o['followups_due']} follow-ups due",
        f"outcomes: {o['pairs_with_baseline_and_closing']} pairs with a baseline and a closing assessment, "
        f"median comfort gain {fmt_value(o['median_comfort_gain'])}, mean GAS T-score {fmt_value(o['mean_gas_t'])}, "
        f"NPS {fmt_value(o['nps'])} ({o['nps_answers']} answers)",
    ]


def _bar_chart(trend: list[dict[str, Any]], width: int = 720, height: int = 260) -> str:
    """Stacked bars per month: held, cancelled, moved (inline SVG, no script, no network)."""
    if not trend:
        return "<p>No sessions logged yet.</p>"
    colours = {"held": "#2e7d32", "cancelled": "#c62828", "moved": "#f9a825"}
    left, bottom, top = 40, 40, 20
    plot_h = height - bottom - top
    peak = max(1, max(t["held"] + t["cancelled"] + t["moved"] for t in trend))
    step = (width - left - 10) / len(trend)
    bar = max(4.0, step * 0.6)
    parts = [
        f'<svg role="img" aria-label="Sessions per month" xmlns="http://www.w3.org/2000/svg" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - 10}" y2="{top + plot_h}" stroke="#999"/>',
        f'<text x="4" y="{top + 4}">{peak}</text><text x="4" y="{top + plot_h}">0</text>',
    ]
    for i, t in enumerate(trend):
        x = left + i * step + (step - bar) / 2
        y = top + plot_h
        for key in ("held", "cancelled", "moved"):
            h = t[key] / peak * plot_h
            if h > 0:
                y -= h
                parts.append(
                    f'<rect class="{key}" x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                    f'fill="{colours[key]}"><title>{html.escape(t["month"])}: {t[key]} {key}</title></rect>'
                )
        parts.append(
            f'<text x="{x + bar / 2:.1f}" y="{top + plot_h + 14}" text-anchor="middle">{html.escape(t["month"])}</text>'
        )
    lx = left
    for key, colour in colours.items():
        parts.append(f'<rect x="{lx}" y="{height - 14}" width="10" height="10" fill="{colour}"/>')
        parts.append(f'<text x="{lx + 14}" y="{height - 5}">{key}</text>')
        lx += 90
    parts.append("</svg>")
    return "".join(parts)


def _line_chart(trend: list[dict[str, Any]], width: int = 720, height: int = 240) -> str:
    """Average rating per month for each side, on a 1-5 scale (inline SVG)."""
    points = {
        side: [(i, t[f"avg_rating_{side}"]) for i, t in enumerate(trend) if t[f"avg_rating_{side}"] is not None]
        for side in ("mentor", "mentee")
    }
    if not any(points.values()):
        return "<p>No ratings yet.</p>"
    colours = {"mentor": "#1565c0", "mentee": "#6a1b9a"}
    left, bottom, top = 40, 40, 20
    plot_h = height - bottom - top
    step = (width - left - 20) / max(1, len(trend) - 1)

    def xy(i: int, value: float) -> tuple[float, float]:
        return left + i * step, top + plot_h - (value - 1) / 4 * plot_h

    parts = [
        f'<svg role="img" aria-label="Average rating per month" xmlns="http://www.w3.org/2000/svg" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">'
    ]
    for level in range(1, 6):
        _, y = xy(0, level)
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - 10}" y2="{y:.1f}" stroke="#eee"/>')
        parts.append(f'<text x="20" y="{y + 4:.1f}">{level}</text>')
    for i, t in enumerate(trend):
        x, _ = xy(i, 1)
        parts.append(f'<text x="{x:.1f}" y="{top + plot_h + 14}" text-anchor="middle">{html.escape(t["month"])}</text>')
    for side, pts in points.items():
        if not pts:
            continue
        coords = " ".join(f"{x:.1f},{y:.1f}" for x, y in (xy(i, v) for i, v in pts))
        parts.append(
            f'<polyline class="{side}" fill="none" stroke="{colours[side]}" stroke-width="2" points="{coords}"/>'
        )
        for i, v in pts:
            x, y = xy(i, v)
            parts.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colours[side]}">'
                f"<title>{side} {html.escape(trend[i]['month'])}: {v}</title></circle>"
            )
    lx = left
    for side, colour in colours.items():
        parts.append(f'<rect x="{lx}" y="{height - 14}" width="10" height="10" fill="{colour}"/>')
        parts.append(f'<text x="{lx + 14}" y="{height - 5}">{side} rating</text>')
        lx += 120
    parts.append("</svg>")
    return "".join(parts)


def _progress_chart(pairs: list[dict[str, Any]], width: int = 720) -> str:
    """One horizontal bar per pair: held and cancelled out of planned; stalled pairs in red text."""
    if not pairs:
        return "<p>No pairs yet.</p>"
    # Stalled pairs first, then the least advanced; a long cohort is cut short (the table lists all).
    pairs = sorted(pairs, key=lambda p: (not p["stalled"], p["sessions_held"] / max(1, p["sessions_planned"])))
    more = len(pairs) - PROGRESS_ROWS
    pairs = pairs[:PROGRESS_ROWS]
    row_h, left = 18, 220
    height = row_h * len(pairs) + 10
    plot_w = width - left - 10
    parts = [
        f'<svg role="img" aria-label="Progress per pair" xmlns="http://www.w3.org/2000/svg" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">'
    ]
    for i, p in enumerate(pairs):
        y = 5 + i * row_h
        planned = max(1, p["sessions_planned"])
        label = html.escape(f"{p['mentee']} / {p['mentor']}"[:34])
        colour = "#c62828" if p["stalled"] else "#333"
        parts.append(f'<text x="4" y="{y + 12}" fill="{colour}">{label}</text>')
        parts.append(f'<rect x="{left}" y="{y + 2}" width="{plot_w}" height="{row_h - 6}" fill="#eee"/>')
        held_w = p["sessions_held"] / planned * plot_w
        canc_w = p["sessions_cancelled"] / planned * plot_w
        parts.append(
            f'<rect class="held" x="{left}" y="{y + 2}" width="{held_w:.1f}" height="{row_h - 6}" fill="#2e7d32"/>'
        )
        parts.append(
            f'<rect class="cancelled" x="{left + held_w:.1f}" y="{y + 2}" width="{canc_w:.1f}" height="{row_h - 6}" fill="#c62828"/>'
        )
    parts.append("</svg>")
    if more > 0:
        parts.append(f"<p>... and {more} more pairs (all are in the table below).</p>")
    return "".join(parts)


def _health_table(pairs: list[dict[str, Any]]) -> str:
    """Pairs that need a check-in or have follow-ups due, with the reasons in plain words."""
    esc = html.escape
    rows = [
        f"<tr><td>{esc(p['mentee'])} / {esc(p['mentor'])}</td><td>{esc(o['health'].replace('_', ' '))}</td>"
        f"<td>{esc('; '.join(o['health_reasons']))}</td><td>{esc(', '.join(o['followups_due']))}</td>"
        f"<td>{_one(o['gas_t'])}</td></tr>"
        for p in pairs
        if (o := p["outcomes"])["health"] == "needs_check_in" or o["followups_due"]
    ]
    if not rows:
        return "<p>No pair needs a check-in and no follow-up is due.</p>"
    head = "<tr><th>pair</th><th>health</th><th>why</th><th>follow-ups due</th><th>GAS T</th></tr>"
    return f"<table><thead>{head}</thead><tbody>{''.join(rows)}</tbody></table>"


def to_html(report: dict[str, Any]) -> str:
    """A self-contained HTML report with inline SVG charts (no scripts, nothing fetched)."""
    g = report["program"]
    esc = html.escape
    headers, rows = table_rows(report)
    body_rows = "".join(
        "<tr" + (' class="stalled"' if r[-1] else "") + ">" + "".join(f"<td>{esc(c)}</td>" for c in r) + "</tr>"
        for r in rows
    )
    trend_rows = "".join(
        f"<tr><td>{esc(t['month'])}</td><td>{t['held']}</td><td>{t['cancelled']}</td><td>{t['moved']}</td>"
        f"<td>{fmt_value(t['avg_rating_mentor'])}</td><td>{fmt_value(t['avg_rating_mentee'])}</td></tr>"
        for t in g["trend"]
    )
    summary = "".join(f"<li>{esc(line)}</li>" for line in program_lines(report))
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Mentor Coach program report {esc(g["as_of"])}</title>
<style>
body{{font-family:system-ui,sans-serif;margin:2rem;color:#222;max-width:1000px}}
table{{border-collapse:collapse;margin:1rem 0}}td,th{{border:1px solid #ccc;padding:.25rem .5rem;text-align:left}}
tr.stalled td{{background:#fdecea}}h2{{margin-top:2rem}}
</style></head><body>
<h1>Reverse-mentoring program report</h1>
<ul>{summary}</ul>
<h2>Sessions per month</h2>
{_bar_chart(g["trend"])}
<h2>Average rating per month</h2>
{_line_chart(g["trend"])}
<h2>Progress per pair</h2>
{_progress_chart(report["pairs"])}
<h2>Trend by month</h2>
<table><thead><tr><th>month</th><th>held</th><th>cancelled</th><th>moved</th><th>rating mentor</th><th>rating mentee</th></tr></thead>
<tbody>{trend_rows}</tbody></table>
<h2>Health and outcomes</h2>
{_health_table(report["pairs"])}
<h2>By Kirkpatrick level</h2>
<ul>{"".join(f"<li>{esc(line.strip())}</li>" for line in kirkpatrick_lines(g["kirkpatrick"]))}</ul>
<h2>Pairs</h2>
<table><thead><tr>{"".join(f"<th>{esc(h)}</th>" for h in headers)}</tr></thead>
<tbody>{body_rows}</tbody></table>
</body></html>
"""
