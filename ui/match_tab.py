"""Match tab (admin): a people file in, proposed pairs with their reasons out; lock, re-run and publish.

The work is `coach match`'s own: `run_match` scores every junior x senior cell and chooses the pairs
(locked pairs fixed, the rest optimised), `pair_reasons` writes each pair's reasons and
`publish_and_plan` stores the pairs with the file's program settings and plans them. This module
only reads the upload, keeps the locks of one browser session and turns the result into words.
"""

from __future__ import annotations

import html
import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gradio as gr

from ui import access
from ui.heavy import heavy
from ui.safe import escape

if TYPE_CHECKING:
    from coach.errors import InputError
    from coach.people import PeopleFile

log = logging.getLogger(__name__)

INTRO = """### Match people into pairs
Upload a **people file** (YAML or CSV, like `examples/people.yaml`) listing the junior mentors and the
senior leaders who join the cohort, then press **Match**. The coach never pairs someone with their
manager (or their manager's manager), two people with the same manager, or anyone who asked not to be
paired; it matches as many senior leaders as it can, then picks the pairs that fit best overall.
Lock the pairs you want to keep, re-run to rearrange the rest, and **Publish** when you are happy.
Nothing is saved before you publish."""

#: Weight levels offered for each criterion; "file" keeps the people file's own weight.
LEVEL_CHOICES = [
    ("As in the file", "file"),
    ("Must (required)", "must"),
    ("High", "high"),
    ("Medium", "medium"),
    ("Low", "low"),
    ("Off", "off"),
]
#: Each criterion as the admin reads it, in the order of the weight boxes.
CRITERION_LABELS = {
    "teaches": "The mentor's strengths serve the senior leader's goals",
    "comfort": "The mentor covers subjects the senior leader rates low (1-2)",
    "learns": "The senior leader can help with the mentor's own goals",
}
#: Largest matrix drawn as a heat map (bigger ones are unreadable on a page).
HEATMAP_MAX = 60

#: One match at a time per process: the phrase cache of `coach.match_cli.card_space` is shared.
_run_lock = threading.Lock()


@dataclass
class MatchState:
    """One browser session's match: the people file, the locks and the pairs last proposed."""

    people: PeopleFile
    shown: str
    locks: list[str] = field(default_factory=list)
    weights: str | None = None
    pairs: list[tuple[str, str]] = field(default_factory=list)
    published: str | None = None


# --------------------------------------------------------------------------- reading and running


def weights_text(teaches: str | None, comfort: str | None, learns: str | None) -> str | None:
    """The `--weights` text for the levels chosen on the page (None when every box says "as in the file")."""
    chosen = {"teaches": teaches, "comfort": comfort, "learns": learns}
    parts = [f"{c}={level}" for c, level in chosen.items() if level and level != "file"]
    return ",".join(parts) or None


def problem_text(exc: InputError, people: PeopleFile | None = None) -> str:
    """Bad input in plain words: each problem with the file and field it is about (people by name, not id)."""
    errors = getattr(exc, "errors", None) or [exc]
    lines = []
    for e in errors:
        if e.file in ("--lock", "--weights"):
            place = "the locked pairs" if e.file == "--lock" else "the weights"
        else:
            place = f"{e.file}, field {e.field}" if e.field else e.file
        lines.append(f"- **{escape(place)}**: {escape(named(e.expected, people))}")
    return "\n".join(lines)


def named(text: str, people: PeopleFile | None) -> str:
    """`text` with each whole-word person id of the file replaced by the person's name ("j1" -> "Priya Nair")."""
    if people is None:
        return text
    import re

    names = {p.id: p.name for p in people.people}
    return re.sub(r"(?<![\w-])[A-Za-z0-9_-]{1,40}(?![\w-])", lambda m: names.get(m.group(0), m.group(0)), text)


def read_people(path: str) -> tuple[PeopleFile, str]:
    """The uploaded people file, validated, and the name it is shown by (its own file name).

    Raises:
        InputError: the file is not a valid people file; the errors name the upload by its file name.
    """
    from coach.errors import InputError, InputErrors
    from coach.people import load_people

    shown = Path(path).name
    try:
        return load_people(path), shown
    except InputError as exc:
        errors = getattr(exc, "errors", None) or [exc]
        renamed = [InputError(shown if e.file == str(Path(path)) else e.file, e.field, e.expected) for e in errors]
        raise InputErrors(renamed) from None


def compute(state: MatchState) -> dict[str, Any]:
    """Run the match for the state's file, locks and weights; the JSON `coach match` prints, in the app's words."""
    from coach.match_cli import run_match
    from coach.matching import to_json_dict

    with _run_lock:
        space, result = run_match(state.people, (), list(state.locks), state.weights)
        data = to_json_dict(space, result, state.people.cohort, plain=True)
    return data


# --------------------------------------------------------------------------- words for the page


def _name(people: PeopleFile, pid: str) -> str:
    person = people.by_id().get(pid)
    return person.name if person else pid


#: A pair that serves the senior leader less than this (of 100) is named in the headline.
WEAK_FOR_MENTEE = 20


def summary_md(state: MatchState, data: dict[str, Any]) -> str:
    """The match at a glance: how many seniors are matched, the total, who is left and who has room."""
    s = data["summary"]
    lines = [
        f"**{s['matched']} of {s['seniors']} senior leaders matched** with {s['juniors']} junior mentors "
        f"from **{escape(state.shown)}** · total score {s['total_score']:.1f}"
        + (f" · {len(state.locks)} locked by you" if state.locks else ""),
        "Weights: " + ", ".join(f"{CRITERION_LABELS[c].lower()}: **{level}**" for c, level in data["weights"].items()),
    ]
    if data["unmatched"]:
        names = ", ".join(escape(_name(state.people, pid)) for pid in data["unmatched"])
        lines.append(
            f"**Not matched:** {names} (no free mentor may be paired with them; add mentors or raise a capacity)."
        )
    else:
        # A mentor who serves the senior nothing is not a match to celebrate: say so in the headline.
        weak = [p for p in data["pairs"] if p["for_mentee"] < WEAK_FOR_MENTEE]
        if weak:
            names = ", ".join(f"{escape(p['mentee_name'])} ({p['for_mentee']:.0f} of 100)" for p in weak)
            lines.append(
                f"Every senior leader has a mentor, but **{len(weak)} of these pairs "
                f"{'serves' if len(weak) == 1 else 'serve'} the senior leader little:** "
                f"{names}. No free mentor's strengths meet their goals well; look at the reasons below, "
                "lock a better pair or add mentors."
            )
        else:
            lines.append("Every senior leader has a mentor.")
    if data["spare_capacity"]:
        room = ", ".join(f"{escape(_name(state.people, j))} ({n} more)" for j, n in data["spare_capacity"].items())
        lines.append(f"**Mentors with room for more:** {room}.")
    return "\n\n".join(lines)


def pairs_md(state: MatchState, data: dict[str, Any]) -> str:
    """Each proposed pair: who, the score, and every reason with its points and evidence, in plain words."""
    from coach.matching import CRITERION_NAMES

    if not data["pairs"]:
        return "No pair can be made from this file: every possible pair is ruled out."
    by_id = state.people.by_id()
    mentor_note = (
        " (the mentor's own goals are weighted off)"
        if data["weights"].get("learns") == "off"
        else " (the mentor gave no goals of their own)"
    )
    blocks = []
    for k, p in enumerate(data["pairs"]):
        mentor, senior = by_id[p["mentor"]], by_id[p["mentee"]]
        lock = " · <b>locked by you</b>" if p["locked"] else ""
        learns = any(r["criterion"] == CRITERION_NAMES["learns"] for r in p["reasons"])
        rows = [
            f"| **{r['points']:.2f} points**: {escape(r['criterion'])} (weight {escape(r['weight'])}) "
            f"| {escape(r['evidence']).replace('|', '&#124;')} |"
            for r in p["reasons"]
        ]
        body = "\n".join(["| What counts | Why |", "| --- | --- |", *rows])
        blocks.append(
            f'<details class="match-pair"{" open" if k < 3 else ""}><summary><b>{escape(senior.name)}</b> '
            f"({escape(senior.role)}) with mentor <b>{escape(mentor.name)}</b> ({escape(mentor.role)}): "
            f"score <b>{p['score']:.2f}</b> of 100{lock}</summary>\n\n{body}\n\n"
            f"How well it serves the senior leader: {p['for_mentee']:.0f} of 100"
            + (f" · the mentor: {p['for_mentor']:.0f} of 100" if learns else mentor_note)
            + "\n\n</details>"
        )
    return "\n\n".join(blocks)


def heatmap(state: MatchState, data: dict[str, Any]) -> Any:
    """Every score as a heat map (senior leaders down, mentors across), the proposed pairs marked; None if too big."""
    import plotly.graph_objects as go

    juniors = [p for p in state.people.people if p.side == "junior"]
    seniors = [p for p in state.people.people if p.side == "senior"]
    if not juniors or not seniors or len(juniors) > HEATMAP_MAX or len(seniors) > HEATMAP_MAX:
        return None

    def labels(people: list[Any]) -> list[str]:
        names = [p.name for p in people]
        # Plotly reads labels as a subset of HTML: names are shown as text; a repeated name gets its id.
        return [html.escape(p.name if names.count(p.name) == 1 else f"{p.name} ({p.id})") for p in people]

    x, y = labels(juniors), labels(seniors)
    z = [[data["scores"][j.id][s.id] for j in juniors] for s in seniors]
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=x,
            y=y,
            zmin=0,
            zmax=100,
            colorscale="Blues",
            colorbar={"title": "score"},
            hovertemplate="%{y} with %{x}: %{z:.1f}<extra></extra>",
        )
    )
    jx = {j.id: label for j, label in zip(juniors, x, strict=True)}
    sy = {s.id: label for s, label in zip(seniors, y, strict=True)}
    fig.add_scatter(
        x=[jx[p["mentor"]] for p in data["pairs"]],
        y=[sy[p["mentee"]] for p in data["pairs"]],
        mode="markers",
        marker={"symbol": "circle-open", "size": 16, "color": "#c0504d", "line": {"width": 3}},
        name="proposed pair",
        hoverinfo="skip",
    )
    fig.update_layout(
        height=max(260, 40 + 28 * len(seniors)),
        margin={"l": 10, "r": 10, "t": 90, "b": 10},
        legend={"orientation": "h", "y": 1.08, "x": 1, "xanchor": "right"},
        xaxis={"title": "junior mentors", "type": "category", "side": "top"},
        yaxis={"title": "senior leaders", "type": "category", "autorange": "reversed"},
    )
    return fig


def _pair_choices(state: MatchState, data: dict[str, Any]) -> list[tuple[str, str]]:
    return [
        (f"{_name(state.people, p['mentee'])} with {_name(state.people, p['mentor'])}", f"{p['mentor']}={p['mentee']}")
        for p in data["pairs"]
        if not p["locked"]
    ]


def _people_choices(state: MatchState, side: str) -> list[tuple[str, str]]:
    return [(f"{p.name} ({p.role})", p.id) for p in state.people.people if p.side == side]


def locks_md(state: MatchState) -> str:
    """The locked pairs in names."""
    if not state.locks:
        return "No pair is locked: every pair may change when you re-run."
    names = []
    for lock in state.locks:
        j, _, s = lock.partition("=")
        names.append(f"{escape(_name(state.people, s))} with {escape(_name(state.people, j))}")
    return "**Locked by you:** " + "; ".join(names) + ". Re-running keeps these and rearranges the rest."


# --------------------------------------------------------------------------- handlers

#: What every matching handler returns: the state, then these components in this order.
OUTPUT_NAMES = ("state", "message", "summary", "pairs", "locks", "lock_pick", "junior", "senior", "cohort", "heat")


def _keep(message: str, state: MatchState | None = None) -> tuple[Any, ...]:
    """Only a message; everything else stays as it was."""
    return (state if state is not None else gr.update(), message, *[gr.update() for _ in OUTPUT_NAMES[2:]])


def _show(state: MatchState, message: str, failed: str = "The match could not run") -> tuple[Any, ...]:
    """Run the match for `state` and lay out the result; bad input leaves the page as it was, with a message."""
    from coach.errors import CoachError, InputError

    try:
        data = compute(state)
    except InputError as exc:
        return _keep(f"⚠ {failed}:\n\n" + problem_text(exc, state.people))
    except CoachError as exc:
        log.warning("match failed: %s", exc)
        return _keep(f"⚠ {failed}: {escape(str(exc))}")
    state.pairs = [(p["mentor"], p["mentee"]) for p in data["pairs"]]
    fig = heatmap(state, data)
    return (
        state,
        message,
        summary_md(state, data),
        pairs_md(state, data),
        locks_md(state),
        gr.update(choices=_pair_choices(state, data), value=None),
        gr.update(choices=_people_choices(state, "junior"), value=None),
        gr.update(choices=_people_choices(state, "senior"), value=None),
        state.published or state.people.cohort or Path(state.shown).stem,
        gr.update(value=fig, visible=fig is not None),
    )


@heavy("Matching", seconds=300)
def match_file(session: access.Session, path: str | None, teaches: str, comfort: str, learns: str) -> tuple[Any, ...]:
    """Read the uploaded people file and propose pairs (no locks yet)."""
    from coach.errors import InputError

    access.require_admin(session, "the Match view")
    if not path:
        return _keep("Upload a people file first (YAML or CSV, like examples/people.yaml).")
    try:
        people, shown = read_people(path)
    except InputError as exc:
        return _keep(f"⚠ **{escape(Path(path).name)}** is not a valid people file:\n\n" + problem_text(exc))
    state = MatchState(people=people, shown=shown, weights=weights_text(teaches, comfort, learns))
    return _show(state, f"Proposed pairs for **{escape(shown)}**. Lock the ones to keep, or publish them.")


@heavy("Matching", seconds=300)
def rerun(
    session: access.Session, state: MatchState | None, teaches: str, comfort: str, learns: str
) -> tuple[Any, ...]:
    """Match again with the weights on the page, keeping every locked pair."""
    access.require_admin(session, "the Match view")
    if state is None:
        return _keep("Upload a people file and press **Match** first.")
    new = MatchState(state.people, state.shown, list(state.locks), weights_text(teaches, comfort, learns))
    kept = f" with your {len(new.locks)} locked pair{'s' if len(new.locks) != 1 else ''} kept" if new.locks else ""
    return _show(new, f"Matched again{kept}.")


def _with_lock(state: MatchState | None, lock: str | None, what: str) -> tuple[Any, ...]:
    if state is None:
        return _keep("Upload a people file and press **Match** first.")
    if not lock:
        return _keep(f"Choose {what} first.", state)
    junior, _, senior = lock.partition("=")
    # A senior has one mentor: a new lock on them replaces the old one.
    locks = [x for x in state.locks if x.partition("=")[2] != senior] + [lock]
    new = MatchState(state.people, state.shown, locks, state.weights)
    pair = f"{escape(_name(state.people, senior))} with {escape(_name(state.people, junior))}"
    out = _show(new, f"Locked {pair}.", f"{pair} cannot be locked; nothing changed")
    if out[0] is not new:  # the lock cannot be kept (a ruled-out pair, a mentor over capacity)
        return _keep(str(out[1]), state)
    return out


@heavy("Matching", seconds=300)
def lock_pair(session: access.Session, state: MatchState | None, pick: str | None) -> tuple[Any, ...]:
    """Lock one of the proposed pairs, so re-running keeps it."""
    access.require_admin(session, "the Match view")
    return _with_lock(state, pick, "a proposed pair to lock")


@heavy("Matching", seconds=300)
def lock_by_hand(
    session: access.Session, state: MatchState | None, junior: str | None, senior: str | None
) -> tuple[Any, ...]:
    """Lock a pair of the admin's own choosing (a swap) and rearrange the rest around it."""
    access.require_admin(session, "the Match view")
    if not junior or not senior:
        return _keep("Choose a mentor and a senior leader first.", state)
    return _with_lock(state, f"{junior}={senior}", "a mentor and a senior leader")


@heavy("Matching", seconds=300)
def clear_locks(session: access.Session, state: MatchState | None) -> tuple[Any, ...]:
    """Forget every lock and match again."""
    access.require_admin(session, "the Match view")
    if state is None:
        return _keep("Upload a people file and press **Match** first.")
    return _show(MatchState(state.people, state.shown, [], state.weights), "Locks cleared; matched again.")


@heavy("Publishing and planning the pairs", seconds=600)
def publish(session: access.Session, state: MatchState | None, cohort: str) -> tuple[Any, str]:
    """Store the proposed pairs with the file's program settings and plan them, as `coach match --publish` does."""
    from coach.errors import CoachError, InputError
    from coach.match_cli import publish_and_plan

    access.require_admin(session, "publishing pairs")
    if state is None or not state.pairs:
        return gr.update(), "Match a people file first: there are no pairs to publish."
    name = " ".join((cohort or "").split()) or state.people.cohort or Path(state.shown).stem
    try:
        done = publish_and_plan((), state.people, list(state.pairs), name, state.shown)
    except InputError as exc:
        return gr.update(), "⚠ Nothing was published:\n\n" + problem_text(exc, state.people)
    except CoachError as exc:
        log.warning("publishing failed: %s", exc)
        return gr.update(), f"⚠ Publishing stopped: {escape(str(exc))}"
    state.published = name
    n = len(done["ids"])
    return state, (
        f"Published {n} pair{'s' if n != 1 else ''} into cohort **{escape(name)}** and planned "
        f"{done['planned']}. They are in the **Program** tab now; each pair's plan is in the Coach's pair list."
    )


# --------------------------------------------------------------------------- layout


def build(session: gr.State) -> dict[str, Any]:
    """Lay out the Match tab's admin panel (the app puts the login box above it)."""
    state = gr.State(None)
    with gr.Column(visible=not access.password_set(), elem_id="match-panel") as panel:
        gr.Markdown(INTRO)
        with gr.Row(equal_height=False):
            upload = gr.File(
                label="People file (YAML or CSV)",
                file_types=[".yaml", ".yml", ".csv"],
                type="filepath",
                elem_id="match-file",
                scale=2,
            )
            with gr.Column(scale=3):
                gr.Markdown("**How much each thing counts** (leave *As in the file* to use the file's weights)")
                with gr.Row():
                    levels = [
                        gr.Dropdown(
                            choices=LEVEL_CHOICES, value="file", label=label, elem_id=f"match-weight-{c}", min_width=160
                        )
                        for c, label in CRITERION_LABELS.items()
                    ]
        with gr.Row():
            run = gr.Button("Match", variant="primary", elem_id="match-run")
            again = gr.Button("Re-run (keeps locked pairs)", elem_id="match-rerun")
        message = gr.Markdown("", elem_id="match-msg")
        summary = gr.Markdown("", elem_id="match-summary")
        pairs = gr.Markdown("", elem_id="match-pairs")
        locks = gr.Markdown("", elem_id="match-locks")
        with gr.Row():
            pick = gr.Dropdown(choices=[], label="Lock a proposed pair", elem_id="match-lock-pick", scale=3)
            lock = gr.Button("Lock this pair", elem_id="match-lock", scale=1)
            clear = gr.Button("Clear locks", elem_id="match-clear", scale=1)
        hand = gr.Accordion("Pair two people yourself (the rest is rearranged around them)", open=False)
        with hand, gr.Row():
            junior = gr.Dropdown(choices=[], label="Junior mentor", elem_id="match-junior", scale=2)
            senior = gr.Dropdown(choices=[], label="Senior leader", elem_id="match-senior", scale=2)
            by_hand = gr.Button("Lock these two", elem_id="match-lock-hand", scale=1)
        with gr.Row():
            cohort = gr.Textbox(label="Cohort to publish into", max_length=80, elem_id="match-cohort", scale=3)
            publish_btn = gr.Button("Publish and plan these pairs", variant="primary", elem_id="match-publish", scale=1)
        published = gr.Markdown("", elem_id="match-publish-msg")
        heat = gr.Plot(
            label="Every score (senior leaders down, mentors across; circles: the proposed pairs; blank: never paired)",
            visible=False,
        )

    outputs = [state, message, summary, pairs, locks, pick, junior, senior, cohort, heat]
    quiet: dict[str, Any] = {"show_progress": "minimal"}
    run.click(match_file, [session, upload, *levels], outputs, api_name="match", **quiet)
    again.click(rerun, [session, state, *levels], outputs, api_name="match_rerun", **quiet)
    lock.click(lock_pair, [session, state, pick], outputs, api_name="match_lock", **quiet)
    by_hand.click(lock_by_hand, [session, state, junior, senior], outputs, api_visibility="private", **quiet)
    clear.click(clear_locks, [session, state], outputs, api_visibility="private", **quiet)
    done = publish_btn.click(publish, [session, state, cohort], [state, published], api_name="match_publish", **quiet)
    return {"panel": panel, "published": done}
