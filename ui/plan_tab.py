"""Plan tab: a form (or an uploaded pair file) in, a session-by-session plan out, revisions and downloads."""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gradio as gr

from coach.models import MENTOR_DOMAINS, Pair, Plan
from ui import access
from ui.common import PACKAGE_EXAMPLE, domain_label, engine_info, provider, retriever, settings
from ui.files import slug, write_export
from ui.forms import CADENCES, SLOTS, FormResult, form_data, next_monday, pair_to_form, validate
from ui.heavy import heavy
from ui.render import plan_overview, plan_sessions
from ui.safe import escape

log = logging.getLogger(__name__)

#: Largest pair file accepted from the upload box (the server-wide upload limit is larger).
MAX_PAIR_FILE_BYTES = 64 * 1024

INTRO = """### Build a lesson plan
Fill in who is in the pair and what the senior leader wants to learn, then press **Generate plan**.
Or upload a pair file (YAML) to fill the form for you. Nothing is saved unless you press
**Save to program**."""

REVISE_HELP = (
    "Say what to change, for example: *make session 2 about Teams*, *make session 4 45 minutes*, "
    "*move session 3 to 14 Feb*, *swap sessions 2 and 3*, *push everything back two weeks*, "
    "*drop session 4*, *add a session on dashboards* or *session 3 was cancelled, compress the rest*."
)


@dataclass
class PlanTab:
    """The components other tabs need (the Coach tab reads the current plan)."""

    plan_state: gr.State
    pair_state: gr.State


def _error_updates(errors: dict[str, str]) -> list[Any]:
    return [gr.update(value=f"⚠ {errors[s]}" if s in errors else "", visible=s in errors) for s in SLOTS]


def _downloads(plan: Plan, pair: Pair | None = None) -> list[Any]:
    from coach.export import pair_ics, to_docx, to_ics, to_json, to_markdown

    base = slug(f"plan-{plan.mentee.name}-{plan.mentor.name}")
    files = [
        write_export(f"{base}.md", to_markdown(plan)),
        write_export(f"{base}.json", to_json(plan)),
        write_export(f"{base}.ics", pair_ics(plan, pair) if pair is not None else to_ics(plan)),
        write_export(f"{base}.docx", to_docx(plan)),
    ]
    return [gr.update(value=f, interactive=True) for f in files]


def make_plan(pair: Pair, variant: int = 0) -> Plan:
    """The offline plan (checked); a configured model rewrites it afterwards in `ui.plan_progress`.

    `variant` above 0 asks for another valid variant of the offline plan (other activities and prompts).
    """
    from coach.checks import check_plan
    from coach.planner import build_plan

    r = retriever()
    plan = build_plan(pair, r, variant)
    problems = check_plan(plan, pair, r.kb)
    if problems:
        raise gr.Error("The plan failed its own checks, so it is not shown: " + "; ".join(problems))
    return plan


def _session_choices(plan: Plan | None) -> Any:
    choices = ["The whole plan"] + ([f"Session {s.number}" for s in plan.sessions] if plan else [])
    return gr.update(choices=choices, value="The whole plan")


@heavy("Writing the plan", seconds=300, process=True)
def draft_step(
    mentor_name: str,
    mentor_role: str,
    strengths: str,
    mentee_name: str,
    mentee_role: str,
    goals: str,
    comfort_generative_ai: float,
    comfort_consumer_trends: float,
    comfort_collaboration_tools: float,
    comfort_social_media: float,
    comfort_digital_workflow: float,
    comfort_data_literacy: float,
    comfort_cybersecurity_privacy: float,
    sessions: float,
    minutes: float,
    cadence: str,
    start: str,
    time: str = "",
    timezone: str = "",
    mentor_email: str = "",
    mentee_email: str = "",
    variant: int = 0,
) -> tuple[tuple[Any, ...], Pair | None, Plan | None]:
    """Validate the form and build the offline plan: (the tab's outputs, the pair, the plan).

    Field problems go next to their fields (pair and plan are None then). The comfort ratings follow
    `MENTOR_DOMAINS` (1 = new to it, 5 = fluent); `variant` above 0 asks for another variant of the
    plan (Regenerate).
    """
    comfort = [
        comfort_generative_ai,
        comfort_consumer_trends,
        comfort_collaboration_tools,
        comfort_social_media,
        comfort_digital_workflow,
        comfort_data_literacy,
        comfort_cybersecurity_privacy,
    ]
    data, early = form_data(
        mentor_name,
        mentor_role,
        strengths,
        mentee_name,
        mentee_role,
        goals,
        comfort,
        sessions,
        minutes,
        cadence,
        start,
        time,
        timezone,
        mentor_email,
        mentee_email,
    )
    result: FormResult = validate(data, early)
    if not result.ok or result.pair is None:
        n = len(result.errors) + len(result.other)
        summary = f"**Please fix {n} thing{'s' if n != 1 else ''} in the form** (marked ⚠ next to each field)."
        if result.other:
            summary += "\n\n" + "\n".join(f"- {escape(o)}" for o in result.other)
        # Keep any plan already shown: a typo in the form must not wipe it.
        return (summary, *_error_updates(result.errors), *[gr.update() for _ in range(9)]), None, None
    plan = make_plan(result.pair, variant)
    return plan_outputs(plan, result.pair, variant), result.pair, plan


def plan_outputs(plan: Plan, pair: Pair, variant: int = 0) -> tuple[Any, ...]:
    """The tab's outputs for a finished plan: summary, cleared field errors, state, views and downloads."""
    from coach.export import plan_warnings

    summary = f"Plan ready: {len(plan.sessions)} sessions. Open a session to read it; change it with the box beside it."
    if variant:
        summary = f"Variant {variant + 1}: the same topics with other activities and questions. " + summary
    for warning in plan_warnings(plan, pair, start_field="“First session” above"):
        summary += f"\n\n⚠ {escape(warning[:1].upper() + warning[1:])}"
    return (
        summary,
        *_error_updates({}),
        plan.to_json_dict(),
        pair.model_dump(mode="json"),
        plan_overview(plan),
        plan_sessions(plan),
        _session_choices(plan),
        *_downloads(plan, pair),
    )


def generate(
    mentor_name: str,
    mentor_role: str,
    strengths: str,
    mentee_name: str,
    mentee_role: str,
    goals: str,
    comfort_generative_ai: float,
    comfort_consumer_trends: float,
    comfort_collaboration_tools: float,
    comfort_social_media: float,
    comfort_digital_workflow: float,
    comfort_data_literacy: float,
    comfort_cybersecurity_privacy: float,
    sessions: float,
    minutes: float,
    cadence: str,
    start: str,
    time: str = "",
    timezone: str = "",
    mentor_email: str = "",
    mentee_email: str = "",
    variant: int = 0,
) -> Iterator[tuple[Any, ...]]:
    """Build the plan from the form: the offline plan, then each session rewritten by the model if one is set.

    While a model writes, the tab shows each session as it arrives (`ui.plan_progress`).
    """
    outputs, pair, draft = draft_step(
        mentor_name,
        mentor_role,
        strengths,
        mentee_name,
        mentee_role,
        goals,
        comfort_generative_ai,
        comfort_consumer_trends,
        comfort_collaboration_tools,
        comfort_social_media,
        comfort_digital_workflow,
        comfort_data_literacy,
        comfort_cybersecurity_privacy,
        sessions,
        minutes,
        cadence,
        start,
        time,
        timezone,
        mentor_email,
        mentee_email,
        variant=variant,
    )
    if pair is None or draft is None or engine_info().engine == "offline":
        yield outputs
        return
    from ui.plan_progress import write_with_model

    yield from write_with_model(pair, draft, lambda plan: plan_outputs(plan, pair, variant))


def regenerate(variant: int | None, *form: Any) -> Iterator[tuple[Any, ...]]:
    """Generate again as the next variant: a different valid plan, never the identical one."""
    nxt = (variant or 0) + 1
    build: Any = generate
    for outputs in build(*form, variant=nxt):
        yield (nxt, *outputs)


def load_upload(path: str | None, source: str = "the file") -> tuple[Any, ...]:
    """Read an uploaded pair file into the form (even when invalid, so it can be fixed there)."""
    from coach.errors import InputError
    from coach.safe_yaml import load_file

    # One update per form field (14 besides the comfort sliders): Gradio warns when a handler returns more.
    keep = [gr.update() for _ in range(14 + len(MENTOR_DOMAINS))]
    if not path:
        return ("", *keep)
    p = Path(path)
    try:
        if p.stat().st_size > MAX_PAIR_FILE_BYTES:
            return (f"⚠ That file is too large for a pair file (over {MAX_PAIR_FILE_BYTES // 1024} KB).", *keep)
        data = load_file(p, "the uploaded file", MAX_PAIR_FILE_BYTES)
    except InputError as exc:
        return (
            f"⚠ That file is not a readable YAML pair file: {escape(exc.expected)}. Compare it with examples/pair.yaml.",
            *keep,
        )
    except OSError:
        return ("⚠ That file could not be read. Please upload it again.", *keep)
    if not isinstance(data, dict):
        return ("⚠ A pair file starts with the sections mentor:, mentee: and program:.", *keep)
    values = pair_to_form(data)
    result = validate(data)
    if result.ok:
        msg = f"Form filled from {source}. Check it and press **Generate plan**."
    else:
        n = len(result.errors) + len(result.other)
        msg = f"Form filled from {source}, but {n} thing{'s' if n != 1 else ''} need fixing: " + " ".join(
            escape(t) for t in [*result.errors.values(), *result.other]
        )
    return (
        msg,
        values["mentor_name"],
        values["mentor_role"],
        values["strengths"],
        values["mentee_name"],
        values["mentee_role"],
        values["goals"],
        *values["comfort"],
        values["sessions"],
        values["minutes"],
        values["cadence"],
        values["start"],
        values["time"],
        values["timezone"],
        values["mentor_email"],
        values["mentee_email"],
    )


def compose_instruction(which: str | None, change: str) -> str:
    """The revision instruction: the change, tied to the chosen session unless it names one itself."""
    change = " ".join(change.split())
    if not which or not which.startswith("Session "):
        return change
    number = which.split()[1]
    # "make it about Teams" with session 2 chosen: "it" / "this" / "this session" is the chosen session.
    pronoun = re.match(r"(\w+)\s+(?:it|this|that)(?:\s+session)?\b\s*", change, re.IGNORECASE)
    if pronoun:
        change = f"{pronoun.group(1)} session {number} {change[pronoun.end() :]}".strip()
    if re.search(r"\bsession\s*\d", change, re.IGNORECASE):
        return change
    first, _, rest = change.partition(" ")
    if first.lower() in {"make", "move", "drop", "change", "shorten", "lengthen", "extend", "reschedule"}:
        return f"{first} session {number} {rest}".strip()
    return f"make session {number} {change}"


def fill_example() -> tuple[Any, ...]:
    """The form filled from the shipped example pair (examples/pair.yaml), to try the app at once.

    The example's own start date is long past, so the first session is set to next Monday: a demo
    plan should not open with a warning about the date.
    """
    out = list(load_upload(str(PACKAGE_EXAMPLE), "the example pair"))
    start = 1 + 6 + len(MENTOR_DOMAINS) + 3  # message, six text fields, the sliders, sessions, minutes, cadence
    if str(out[start]) < dt.date.today().isoformat():
        out[start] = next_monday().isoformat()
    return tuple(out)


@heavy("The revision", seconds=120, process=True)
def revise_plan(
    plan_json: dict[str, Any] | None, pair_json: dict[str, Any] | None, which: str, change: str
) -> tuple[Any, ...]:
    """Apply a change in words to one session or the whole plan; the result passes the checks or is refused."""
    from coach.errors import InputError
    from coach.revise import RevisionRefused, revise

    same = (gr.update(), gr.update(), gr.update(), gr.update(), *[gr.update() for _ in range(4)])
    if not plan_json:
        return ("Generate a plan first, then revise it.", *same)
    change = (change or "").strip()
    if not change:
        return ("Write what should change first. " + REVISE_HELP, *same)
    plan = Plan.model_validate(plan_json)
    pair = Pair.model_validate(pair_json) if pair_json else None
    instruction = compose_instruction(which, change)
    try:
        result = revise(plan, instruction, retriever(), pair, provider())
    except RevisionRefused as exc:
        return ("That change was refused, the plan is unchanged: " + escape("; ".join(exc.problems)), *same)
    except InputError as exc:
        if exc.expected.startswith("the number of the session"):
            example = exc.expected.split("'")[1] if exc.expected.count("'") >= 2 else "make session 2 about Teams"
            return (
                "Which session should change? Choose it under **What to change**, or name it in the change, "
                f"for example *{escape(example)}*.",
                *same,
            )
        if "cannot read" in exc.expected:  # part of it read, part not: name the part (nothing was changed)
            part = exc.expected.split("cannot read ", 1)[1].split(", so nothing was changed")[0]
            return (f"I could not read {escape(part)}, so nothing was changed. " + REVISE_HELP, *same)
        if exc.expected.startswith("an edit the offline coach understands"):
            return ("I could not read that as a change. " + REVISE_HELP, *same)
        return ("I could not read that as a change: " + escape(exc.expected), *same)
    new = result.plan
    msg = "Done: " + escape("; ".join(result.changes))
    return (
        msg,
        new.to_json_dict(),
        plan_overview(new),
        plan_sessions(new),
        _session_choices(new),
        *_downloads(new, pair),
    )


def save_to_program(session: access.Session, plan_json: dict[str, Any] | None, pair_json: dict[str, Any] | None) -> str:
    """Store the pair and its plan in the program database (admins only when a password is set)."""
    access.require_admin(session, "saving to the program")
    if not plan_json or not pair_json:
        return "Generate a plan first."
    from coach.store import open_store

    store = open_store(settings())
    pair = Pair.model_validate(pair_json)
    pair_id = store.add_pair(pair, source="app")
    version = store.save_plan(pair_id, Plan.model_validate(plan_json), "generated in the app")
    return (
        f"Saved: pair `{pair_id}`, plan version {version}. It now appears in the Program tab and the Coach's pair list."
    )


def build(session: gr.State, plan_state: gr.State, pair_state: gr.State) -> PlanTab:
    """Lay out the Plan tab inside the current gr.Tab (the plan and pair states are shared with the Coach tab)."""
    gr.Markdown(INTRO)
    error_boxes: dict[str, gr.Markdown] = {}

    def err(slot: str) -> None:
        error_boxes[slot] = gr.Markdown("", visible=False, elem_classes=["field-error"], elem_id=f"err-{slot}")

    with gr.Row():
        with gr.Column(scale=1, min_width=320), gr.Group():
            gr.Markdown("**The junior mentor** (teaches digital skills)", padding=True)
            mentor_name = gr.Textbox(label="Name", placeholder="e.g. Priya Shah", elem_id="mentor-name")
            err("mentor_name")
            mentor_role = gr.Textbox(label="Job title", placeholder="e.g. Data Analyst", elem_id="mentor-role")
            err("mentor_role")
            strengths = gr.Textbox(
                label="What they are good at (one per line, optional)",
                placeholder="e.g. prompting chat assistants\nPower BI dashboards",
                lines=2,
                elem_id="strengths",
            )
            err("strengths")
        with gr.Column(scale=1, min_width=320), gr.Group():
            gr.Markdown("**The senior leader** (learns, and shares strategy and leadership back)", padding=True)
            mentee_name = gr.Textbox(label="Name", placeholder="e.g. Robert Klein", elem_id="mentee-name")
            err("mentee_name")
            mentee_role = gr.Textbox(
                label="Job title", placeholder="e.g. Chief Financial Officer", elem_id="mentee-role"
            )
            err("mentee_role")
            goals = gr.Textbox(
                label="What they want to learn (one goal per line)",
                placeholder="e.g. use generative AI to draft board reports safely\nunderstand how Gen Z customers choose brands",
                lines=3,
                elem_id="goals",
            )
            err("goals")
    with gr.Accordion("How comfortable is the senior leader today? (1 = new to it, 5 = fluent)", open=False):
        gr.Markdown("Lower comfort pulls a subject forward in the plan. Leave 3 if you are not sure.")
        with gr.Row():
            comfort = [
                gr.Slider(1, 5, value=3, step=1, label=domain_label(d), min_width=160, elem_id=f"comfort-{d}")
                for d in MENTOR_DOMAINS
            ]
        err("comfort")
    with gr.Row():
        with gr.Column(min_width=160):
            sessions = gr.Number(value=6, precision=0, label="Number of sessions (1-24)", elem_id="sessions")
            err("sessions")
        with gr.Column(min_width=160):
            minutes = gr.Number(value=45, precision=0, label="Minutes per session (15-180)", elem_id="minutes")
            err("minutes")
        with gr.Column(min_width=160):
            cadence = gr.Radio(CADENCES, value="biweekly", label="How often you meet", elem_id="cadence")
            err("cadence")
        with gr.Column(min_width=160):
            start = gr.Textbox(
                value=next_monday().isoformat(),
                label="First session (YYYY-MM-DD)",
                placeholder="2026-01-12",
                elem_id="start",
            )
            err("start")
    # Optional: with them the calendar file has timed events with both people invited (SPEC 2). An empty
    # initial value makes them optional for API clients too (Gradio's client needs a default).
    with gr.Accordion("Calendar details (optional): start time, time zone and emails", open=False):
        gr.Markdown(
            "With a start time and time zone, the calendar download puts each session at that time; "
            "with emails, both people are invited. Without them, sessions are all-day events."
        )
        with gr.Row():
            with gr.Column(min_width=160):
                time_box = gr.Textbox(value="", label="Start time (HH:MM, 24 h)", placeholder="09:30", elem_id="time")
                err("time")
            with gr.Column(min_width=200):
                zone_box = gr.Textbox(value="", label="Time zone", placeholder="Europe/London", elem_id="timezone")
                err("timezone")
            with gr.Column(min_width=220):
                mentor_email = gr.Textbox(
                    value="",
                    label="Junior mentor's email",
                    placeholder="priya.shah@example.com",
                    elem_id="mentor-email",
                )
                err("mentor_email")
            with gr.Column(min_width=220):
                mentee_email = gr.Textbox(
                    value="",
                    label="Senior leader's email",
                    placeholder="robert.klein@example.com",
                    elem_id="mentee-email",
                )
                err("mentee_email")
    with gr.Row():
        upload = gr.File(
            label="Or upload a pair file (.yaml) to fill the form",
            file_types=[".yaml", ".yml"],
            type="filepath",
            elem_id="pair-upload",
        )
        with gr.Column():
            upload_msg = gr.Markdown("", elem_id="upload-msg")
            gr.Markdown(f"Plans are written by: **{escape(engine_info().label)}**")
    with gr.Row():
        example_btn = gr.Button("Fill in the example pair", variant="secondary", scale=1, elem_id="fill-example")
        generate_btn = gr.Button("Generate plan", variant="primary", scale=2, elem_id="generate")
        # Another variant of a plan: nothing to vary until there is one.
        regenerate_btn = gr.Button("Regenerate", variant="secondary", scale=1, interactive=False, elem_id="regenerate")
    summary = gr.Markdown("", elem_id="plan-summary")
    overview = gr.Markdown("", elem_id="plan-overview")
    with gr.Row():
        dl_md = gr.DownloadButton("Download Markdown", value=None, interactive=False, variant="secondary")
        dl_json = gr.DownloadButton("Download JSON", value=None, interactive=False, variant="secondary")
        dl_ics = gr.DownloadButton("Download calendar (.ics)", value=None, interactive=False, variant="secondary")
        dl_docx = gr.DownloadButton("Download Word (.docx)", value=None, interactive=False, variant="secondary")
    # The plan and the box that changes it side by side: no scrolling to the bottom to revise.
    with gr.Row(equal_height=False):
        with gr.Column(scale=3, min_width=560):
            sessions_md = gr.Markdown("", elem_id="plan-sessions")
        with gr.Column(scale=2, min_width=320), gr.Group(elem_id="revise-box"):
            gr.Markdown("**Change the plan**  \n" + REVISE_HELP, padding=True)
            which = gr.Dropdown(["The whole plan"], value="The whole plan", label="What to change")
            change = gr.Textbox(
                label="The change, in words", placeholder="e.g. make session 2 about Teams", elem_id="revise-text"
            )
            with gr.Row():
                revise_btn = gr.Button("Revise", variant="secondary", elem_id="revise")
                save_btn = gr.Button("Save to program", variant="secondary")
            revise_msg = gr.Markdown("", elem_id="revise-msg")

    form = [
        mentor_name,
        mentor_role,
        strengths,
        mentee_name,
        mentee_role,
        goals,
        *comfort,
        sessions,
        minutes,
        cadence,
        start,
        time_box,
        zone_box,
        mentor_email,
        mentee_email,
    ]
    downloads = [dl_md, dl_json, dl_ics, dl_docx]
    outputs = [
        summary,
        *[error_boxes[s] for s in SLOTS],
        plan_state,
        pair_state,
        overview,
        sessions_md,
        which,
        *downloads,
    ]
    generate_btn.click(generate, form, outputs, api_name="generate_plan", scroll_to_output=True)
    variant = gr.State(0)
    generate_btn.click(lambda: 0, None, variant, api_visibility="private")
    regenerate_btn.click(regenerate, [variant, *form], [variant, *outputs], api_visibility="private")
    plan_state.change(
        lambda plan: gr.update(interactive=bool(plan)), plan_state, regenerate_btn, api_visibility="private"
    )
    upload.upload(load_upload, upload, [upload_msg, *form], api_name="load_pair_file")
    example_btn.click(fill_example, None, [upload_msg, *form], api_visibility="private")
    revise_btn.click(
        revise_plan,
        [plan_state, pair_state, which, change],
        [revise_msg, plan_state, overview, sessions_md, which, *downloads],
        api_name="revise_plan",
    )
    save_btn.click(save_to_program, [session, plan_state, pair_state], revise_msg, api_name="save_to_program")
    return PlanTab(plan_state, pair_state)
