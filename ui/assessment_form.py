"""My pairs' assessment form: a participant fills in their own side's baseline or closing assessment.

Comfort per domain is chosen from levels described in plain words (`coach.assessments.COMFORT_WORDS`),
each goal of the pair is rated on the goal-attainment scale, and the closing one asks whether they
would recommend the program (0-10). The form says which assessments are due for the chosen pair.
The answers go through `coach.assessments.parse_assessment` and `coach.permissions` like the API's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import gradio as gr

from ui.common import settings
from ui.safe import escape

NOT_RATED = "(not rated)"
#: Goal dropdowns laid out (a pair has at most coach.limits.GOALS_MAX goals).
GOAL_SLOTS = 12
KIND_CHOICES = [("Baseline (before session 1)", "baseline"), ("Closing (after the last session)", "closing")]
RECOMMEND_CHOICES = [NOT_RATED, *[str(n) for n in range(11)]]


def comfort_choices() -> list[str]:
    """'(not rated)' then each level with its words, e.g. '3: I can do it on my own'."""
    from coach.assessments import COMFORT_WORDS

    return [NOT_RATED, *[f"{n}: {words}" for n, words in COMFORT_WORDS.items()]]


def goal_choices() -> list[str]:
    """'(not rated)' then -2..+2 with their words."""
    from coach.assessments import GAS_WORDS

    return [NOT_RATED, *[f"{n:+d}: {words}" for n, words in GAS_WORDS.items()]]


def _level(choice: str | None) -> int | None:
    if not choice or choice == NOT_RATED:
        return None
    return int(choice.split(":", 1)[0])


def _store() -> Any:
    from coach.store import open_store

    return open_store(settings())


def goals_of(account: Any, pair_id: str | None) -> list[str]:
    """The pair's goals (the senior leader's), when the account may see the pair."""
    from coach.permissions import can_see_pair

    if account is None or not pair_id or not can_see_pair(account, pair_id):
        return []
    return list(_store().get_pair(pair_id).pair.mentee.goals)


def due_text(account: Any, pair_id: str | None, today: dt.date | None = None) -> str:
    """What the account's side should fill in now for the pair, in a sentence."""
    from coach.outcomes import due_assessments
    from coach.permissions import can_see_pair

    if account is None or not pair_id or not can_see_pair(account, pair_id):
        return ""
    side = account.pairs.get(pair_id)
    if side is None:
        return "Admins enter assessments with `coach assess FILE` or the API."
    store = _store()
    found = store.report_facts(pair_id=pair_id)
    if not found:
        return ""
    facts = found[0]
    done = facts.assessments
    due = [slot for slot, who, _since in due_assessments(facts, done, today or dt.date.today()) if who == side]
    if not due:
        return "Nothing to fill in for this pair right now."
    words = {"baseline": "your baseline assessment", "closing": "your closing assessment"}
    return "Due now: " + ", ".join(words.get(s, f"your {s.replace('followup-', '')} follow-up") for s in due) + "."


def save(
    account: Any,
    pair_id: str | None,
    kind: str,
    comfort: Mapping[str, str | None],
    goals: Sequence[str | None],
    recommend: str | None,
    today: dt.date | None = None,
) -> str:
    """Store the account's own side's assessment; a message saying what was stored or what is wrong."""
    from coach.assessments import parse_assessment
    from coach.errors import InputError
    from coach.permissions import Denied, NotVisible, require_pair, side_for_assessment

    if account is None:
        return "⚠ Sign in first."
    if not pair_id:
        return "⚠ Choose a pair."
    try:
        require_pair(account, pair_id)
        if account.pairs.get(pair_id) is None:
            raise Denied("admins enter a participant's answers with `coach assess FILE` or the API")
        side = side_for_assessment(account, pair_id, None)
        body: dict[str, Any] = {
            "kind": kind,
            "comfort": {d: v for d, c in comfort.items() if (v := _level(c)) is not None},
            "goals": {str(i + 1): v for i, c in enumerate(goals) if (v := _level(c)) is not None},
        }
        if _level(recommend) is not None:  # refused for a baseline: the form says "closing only"
            body["recommend"] = _level(recommend)
        store = _store()
        info = store.get_pair(pair_id)
        parsed = parse_assessment(
            body, side=side, goals_total=len(info.pair.mentee.goals), today=today or dt.date.today(), file="form"
        )
        store.add_assessment(info.id, parsed, account.email)
    except NotVisible:
        return "⚠ No such pair."
    except (Denied, InputError) as exc:
        return f"⚠ {escape(str(exc))}"
    rated = len(parsed.comfort) + len(parsed.goals)
    return f"Saved your {escape(parsed.kind)} assessment as the {side} ({rated} answers)."


def build(session: gr.State, pair: gr.Dropdown, account_of: Any) -> None:
    """Lay out the form under the chosen pair and wire its events; `account_of(session)` gives the account."""
    from coach.assessments import domains

    names = list(domains())
    with gr.Accordion("Your assessment (baseline and closing)", open=False, elem_id="assessment-form"):
        due = gr.Markdown("", elem_id="assessment-due")
        kind = gr.Radio(label="Which one", choices=KIND_CHOICES, value="baseline", elem_id="assessment-kind")
        gr.Markdown("**How comfortable are you with each of these?** Leave the ones that do not apply not rated.")
        levels = []
        for i in range(0, len(names), 3):
            with gr.Row():
                for name in names[i : i + 3]:
                    levels.append(
                        gr.Dropdown(
                            label=name.replace("-", " ").capitalize(),
                            choices=comfort_choices(),
                            value=NOT_RATED,
                            elem_id=f"assess-comfort-{name}",
                        )
                    )
        gr.Markdown("**Goals:** how far has each one come, compared with what you expected?")
        goal_boxes = [
            gr.Dropdown(label=f"Goal {n + 1}", choices=goal_choices(), value=NOT_RATED, visible=False)
            for n in range(GOAL_SLOTS)
        ]
        recommend = gr.Dropdown(
            label="Closing only: would you recommend the program to a colleague? (0 not at all, 10 certainly)",
            choices=RECOMMEND_CHOICES,
            value=NOT_RATED,
            elem_id="assessment-recommend",
        )
        save_btn = gr.Button("Save assessment", variant="primary", elem_id="assessment-save")
        message = gr.Markdown("", elem_id="assessment-msg")

    def refresh(s: Any, pid: str | None) -> list[Any]:
        account = account_of(s)
        goals = goals_of(account, pid)
        boxes = [
            gr.update(visible=n < len(goals), label=f"Goal {n + 1}: {goals[n]}" if n < len(goals) else f"Goal {n + 1}")
            for n in range(GOAL_SLOTS)
        ]
        return [due_text(account, pid), *boxes]

    def do_save(s: Any, pid: str | None, k: str, rec: str, *answers: str) -> list[Any]:
        account = account_of(s)
        comfort = dict(zip(names, answers[: len(names)], strict=True))
        text = save(account, pid, k, comfort, list(answers[len(names) :]), rec)
        return [text, due_text(account, pid)]

    quiet: dict[str, Any] = {"show_progress": "minimal", "api_visibility": "private"}
    pair.change(refresh, [session, pair], [due, *goal_boxes], **quiet)
    save_btn.click(do_save, [session, pair, kind, recommend, *levels, *goal_boxes], [message, due], **quiet)
