"""Program tab (admin): pairs, sessions, ratings, stalled pairs, health and outcomes, and charts."""

from __future__ import annotations

import datetime as dt
import html
import logging
from typing import Any

import gradio as gr

from ui import access
from ui.common import settings
from ui.heavy import heavy
from ui.safe import escape

log = logging.getLogger(__name__)

PAIR_HEADERS = [
    "Senior leader",
    "Mentor",
    "Held",
    "Cancelled",
    "To come",
    "Planned",
    "Rating (mentor)",
    "Rating (senior)",
    "Goals",
    "Days since",
    "Status",
    "id",
]
COLUMN_WIDTHS: list[str | int] = ["12%", "11%", "6%", "8%", "7%", "7%", "8%", "8%", "6%", "7%", "9%", "11%"]
STALLED = "⚠ Stalled"
NOTE_HEADERS = ["Date", "Senior leader", "Mentor", "Session", "Status", "Mentor's rating", "Senior's rating"]
#: The newest session notes shown (across every pair).
NOTES_SHOWN = 50
HEALTH_HEADERS = [
    "Senior leader",
    "Mentor",
    "Health",
    "Why",
    "Follow-ups due",
    "Comfort (baseline → latest)",
    "GAS T",
    "id",
]
# Every column wide enough for its header on one or two lines (a narrow one wrapped a letter per line).
HEALTH_WIDTHS: list[str | int] = ["11%", "10%", "10%", "24%", "10%", "21%", "6%", "8%"]
HEALTH_WORDS = {
    "needs_check_in": "Needs a check-in",
    "too_early": "Too early to tell",
    "on_track": "On track",
    "closed": "Closed",
}


def _one(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def report() -> dict[str, Any]:
    """The program report of SPEC.md section 7, computed from the database as of today."""
    from coach import metrics
    from coach.store import open_store

    return metrics.build_report(open_store(settings()).report_facts(), dt.date.today())


def status_of(p: dict[str, Any]) -> str:
    """A pair's state in one word or two."""
    if p["stalled"]:
        return STALLED
    if p["sessions_held"] + p["sessions_cancelled"] >= p["sessions_planned"]:
        return "Finished"
    if p["sessions_held"] == 0:
        return "Not started"
    return "On track"


def pair_rows(data: dict[str, Any]) -> list[list[Any]]:
    """One row per pair, stalled pairs first."""
    rows = []
    for p in sorted(data["pairs"], key=lambda p: (not p["stalled"], p["mentee"].lower())):
        upcoming = max(0, p["sessions_planned"] - p["sessions_held"] - p["sessions_cancelled"])
        rows.append(
            [
                p["mentee"],
                p["mentor"],
                p["sessions_held"],
                p["sessions_cancelled"],
                upcoming,
                p["sessions_planned"],
                _one(p["avg_rating_mentor"]),
                _one(p["avg_rating_mentee"]),
                f"{p['goals_covered']}/{p['goals_total']}",
                "-" if p["days_since_last_session"] is None else p["days_since_last_session"],
                status_of(p),
                p["id"],
            ]
        )
    return rows


def pairs_table(rows: list[list[Any]]) -> Any:
    """The pairs as a styled table: stalled rows highlighted."""
    import pandas as pd

    frame = pd.DataFrame(rows, columns=PAIR_HEADERS)

    def highlight(row: Any) -> list[str]:
        style = "background-color: #fde2e1; color: #7a1c16; font-weight: 600" if row["Status"] == STALLED else ""
        return [style] * len(row)

    return frame.style.apply(highlight, axis=1)


def summary(data: dict[str, Any]) -> str:
    """The program at a glance."""
    g = data["program"]
    if not g["pairs"]:
        return (
            "**No pairs in the program yet.** Generate a plan in the Plan tab and press **Save to program**, "
            "or import a roster with `coach cohort import roster.csv`."
        )
    stalled = g["pairs_stalled"]
    parts = [
        f"**{g['pairs']} pair{'s' if g['pairs'] != 1 else ''}** · "
        f"{g['sessions_held']} of {g['sessions_planned']} sessions held · "
        f"{g['sessions_cancelled']} cancelled ({g['cancellation_rate']:.0%}) · "
        f"average rating {_one(g['avg_rating_mentor'])} by mentors, {_one(g['avg_rating_mentee'])} by senior leaders · "
        f"goals covered {g['goals_covered']}/{g['goals_total']}",
    ]
    if stalled:
        parts.append(
            f"\n\n**{stalled} pair{'s are' if stalled != 1 else ' is'} stalled** (no session for more than twice "
            "their meeting interval): highlighted in the table."
        )
    parts.append(outcomes_summary(g["outcomes"]))
    parts.append(f"\n\nAs of {escape(g['as_of'])}.")
    return "".join(parts)


def outcomes_summary(o: dict[str, Any]) -> str:
    """Health counts and the program outcomes (SPEC.md section 11) in a sentence each."""
    h = o["health"]
    text = (
        f"\n\n**Health:** {h['on_track']} on track · {h['needs_check_in']} need a check-in · "
        f"{h['too_early']} too early to tell · {h['closed']} closed · {o['followups_due']} follow-ups due."
    )
    if o["pairs_with_baseline_and_closing"] or o["nps"] is not None or o["mean_gas_t"] is not None:
        gain = o["median_comfort_gain"]
        text += (
            f"\n\n**Outcomes:** {o['pairs_with_baseline_and_closing']} pairs assessed before and after · "
            f"median comfort gain {'-' if gain is None else f'{gain:+.1f}'} levels · "
            f"mean goal attainment (GAS T) {_one(o['mean_gas_t'])} (50 = as expected) · "
            f"NPS {_one(o['nps'])} from {o['nps_answers']} closing answers."
        )
    return text


def comfort_change(o: dict[str, Any]) -> str:
    """The senior's comfort per domain in plain words: the baseline, and the latest with the gain once there is one."""
    from ui.common import domain_label

    parts = []
    for domain, first in o["comfort_baseline"].items():
        gain = o["comfort_gain"].get(domain)
        later = "" if gain is None else f" → {o['comfort_latest'][domain]} ({gain:+d})"
        parts.append(f"{domain_label(domain)} {first}{later}")
    return "; ".join(parts)


def health_rows(data: dict[str, Any]) -> list[list[Any]]:
    """One row per pair: its health and why, follow-ups due, comfort gain and GAS T; pairs needing a check-in first."""
    order = {"needs_check_in": 0, "too_early": 2, "on_track": 3, "closed": 4}
    rows = []
    for p in sorted(data["pairs"], key=lambda p: (order[p["outcomes"]["health"]], p["mentee"].lower())):
        o = p["outcomes"]
        gain = comfort_change(o)
        rows.append(
            [
                p["mentee"],
                p["mentor"],
                HEALTH_WORDS[o["health"]],
                "; ".join(o["health_reasons"]),
                ", ".join(o["followups_due"]),
                gain,
                _one(o["gas_t"]),
                p["id"],
            ]
        )
    return rows


def held_chart(data: dict[str, Any]) -> Any:
    """Sessions held and cancelled per month."""
    import plotly.graph_objects as go

    trend = data["program"]["trend"]
    months = [t["month"] for t in trend]
    fig = go.Figure()
    fig.add_bar(name="Held", x=months, y=[t["held"] for t in trend], marker_color="#2f7d4f")
    fig.add_bar(name="Cancelled", x=months, y=[t["cancelled"] for t in trend], marker_color="#c0504d")
    fig.update_layout(
        barmode="stack",
        height=300,
        margin={"l": 40, "r": 10, "t": 40, "b": 40},
        legend={"orientation": "h", "y": 1.1, "x": 1, "xanchor": "right"},
        yaxis={"title": "sessions", "dtick": 1},
        xaxis={"type": "category"},
    )
    return fig


def ratings_chart(data: dict[str, Any]) -> Any:
    """Average ratings per pair, by each side."""
    import plotly.graph_objects as go

    pairs = [p for p in data["pairs"] if p["avg_rating_mentor"] is not None or p["avg_rating_mentee"] is not None]
    pairs = pairs[:30]
    # Plotly reads labels as a subset of HTML (<b>, <a href>): people's names are shown as text.
    names = [html.escape(f"{p['mentee']} / {p['mentor']}") for p in pairs]
    fig = go.Figure()
    fig.add_bar(name="By mentor", x=names, y=[p["avg_rating_mentor"] for p in pairs], marker_color="#4f6fb0")
    fig.add_bar(name="By senior leader", x=names, y=[p["avg_rating_mentee"] for p in pairs], marker_color="#e0a030")
    fig.update_layout(
        barmode="group",
        height=300,
        yaxis={"range": [0, 5]},
        margin={"l": 40, "r": 10, "t": 40, "b": 40},
        legend={"orientation": "h", "y": 1.1, "x": 1, "xanchor": "right"},
    )
    return fig


def note_rows() -> list[list[Any]]:
    """The newest session logs of every pair, with both sides' ratings and comments, newest first."""
    from coach.store import open_store
    from ui.safe import escape_cell

    store = open_store(settings())
    rows: list[tuple[Any, list[Any]]] = []

    def said(value: Any) -> str:
        if value is None:
            return ""
        rating, comment = value
        return f"{rating}/5" + (f": {escape_cell(comment)}" if comment else "")

    for info in store.list_pairs():
        for rec in store.sessions(info.id):
            mentor, mentee = rec.ratings.get("mentor"), rec.ratings.get("mentee")
            row = [rec.date.isoformat(), info.mentee, info.mentor, rec.number, rec.status, said(mentor), said(mentee)]
            rows.append((rec.date, row))
    rows.sort(key=lambda r: r[0], reverse=True)
    return [row for _date, row in rows[:NOTES_SHOWN]]


@heavy("The program report")
def program_view(session: access.Session) -> tuple[Any, ...]:
    """Everything the Program tab shows (refused unless admin)."""
    access.require_admin(session, "the Program view")
    data = report()
    rows = pair_rows(data)
    shown = bool(rows)
    notes = note_rows()
    return (
        summary(data),
        gr.update(value=pairs_table(rows), visible=shown),
        gr.update(value=health_rows(data), visible=shown),
        gr.update(value=held_chart(data), visible=shown),
        gr.update(value=ratings_chart(data), visible=shown),
        gr.update(value=notes, visible=bool(notes)),
    )


def program_view_quiet(session: access.Session) -> tuple[Any, ...]:
    """The same, but empty instead of an error for a visitor who has not logged in (page load)."""
    hidden = gr.update(visible=False)
    if not access.is_admin(session):
        return "", hidden, hidden, hidden, hidden, hidden
    try:
        return program_view(session)
    except Exception as exc:  # an unreachable database must not break the page
        log.exception("program view failed")
        return f"The program database could not be read: {escape(str(exc))}", hidden, hidden, hidden, hidden, hidden


def build(session: gr.State) -> dict[str, Any]:
    """Lay out the Program tab's admin panel (the app puts the login box above it)."""
    with gr.Column(visible=not access.password_set(), elem_id="program-panel") as panel:
        with gr.Row():
            gr.Markdown(
                "How the pairs are doing: sessions held, cancelled and still to come, ratings, stalled pairs, "
                "health and outcomes."
            )
            refresh = gr.Button("Refresh", size="sm", scale=0, min_width=100)
        text = gr.Markdown("", elem_id="program-summary")
        table = gr.Dataframe(
            headers=PAIR_HEADERS,
            interactive=False,
            wrap=True,
            max_height=300,
            label="Pairs (stalled pairs first, highlighted)",
            column_widths=COLUMN_WIDTHS,
            visible=False,
        )
        health = gr.Dataframe(
            headers=HEALTH_HEADERS,
            column_widths=HEALTH_WIDTHS,
            interactive=False,
            wrap=True,
            max_height=300,
            label="Health and outcomes (pairs needing a check-in first; the reasons in plain words)",
            visible=False,
            elem_id="program-health",
        )
        with gr.Row():
            held = gr.Plot(label="Sessions held over time", visible=False)
            ratings = gr.Plot(label="Ratings by pair", visible=False)
        notes = gr.Dataframe(
            headers=NOTE_HEADERS,
            interactive=False,
            wrap=True,
            max_height=320,
            label=f"Session notes: what each side said (newest {NOTES_SHOWN})",
            visible=False,
            elem_id="program-notes",
        )
    outputs = [text, table, health, held, ratings, notes]
    refresh.click(program_view, session, outputs, api_name="program")
    return {"panel": panel, "outputs": outputs, "load": program_view_quiet}
