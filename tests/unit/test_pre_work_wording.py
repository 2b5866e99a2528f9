"""Pre-work is said to the person who does it: cards write "Mentee notes ...", plans "Robert: note ..." (probe finding)."""

from __future__ import annotations

import pytest

from coach.wording import pre_work_line, task, tasks_for


@pytest.mark.parametrize(
    ("line", "side", "instruction"),
    [
        ("Mentee notes where their tasks live today.", "mentee", "Note where your tasks live today."),
        (
            "Senior leader recalls how they handled the last pay request.",
            "mentee",
            "Recall how you handled the last pay request.",
        ),
        (
            "Mentor gets the mentee view access to it and prepares five questions.",
            "mentor",
            "Get Robert view access to it and prepare five questions.",
        ),
        ("Junior mentor searches for their grade.", "mentor", "Search for your grade."),
        ("Each side writes down three things they hope to get.", "both", "Write down three things you hope to get."),
        ("Both re-read the goals.", "both", "Re-read the goals."),
        ("Mentee goes through their inbox and does a count.", "mentee", "Go through your inbox and do a count."),
        ("Robert: rate your comfort again, 1-5", "mentee", "Rate your comfort again, 1-5"),
        ("Both: note what you hope to get out of the pairing", "both", "Note what you hope to get out of the pairing"),
        ("Bring a real board-report paragraph", None, "Bring a real board-report paragraph"),
        ("Program lead gathers the business goals.", None, "Program lead gathers the business goals."),
    ],
)
def test_a_task_is_read_as_an_instruction_to_its_doer(line: str, side: str | None, instruction: str) -> None:
    assert task(line, "Priya", "Robert") == (side, instruction)


def test_plans_name_the_doer() -> None:
    assert pre_work_line("Mentee lists the channels they belong to.", "Priya", "Robert") == (
        "Robert: list the channels you belong to."
    )
    assert pre_work_line("Mentor prepares a sample inbox.", "Priya", "Robert") == "Priya: prepare a sample inbox."
    assert pre_work_line("Bring a laptop", "Priya", "Robert") == "Bring a laptop"


def test_each_side_gets_its_own_tasks_and_the_shared_ones() -> None:
    lines = ["Mentee notes two tasks.", "Mentor prepares a template.", "Both: read the agreement", "Bring a laptop"]
    assert tasks_for(lines, "mentee", "Priya", "Robert") == [
        "Note two tasks.",
        "Both of you: read the agreement",
        "Bring a laptop",
    ]
    assert tasks_for(lines, "mentor", "Priya", "Robert") == [
        "Prepare a template.",
        "Both of you: read the agreement",
        "Bring a laptop",
    ]


def test_every_card_pre_work_line_names_its_doer(retriever) -> None:
    """A card's pre-work starts with who does it (knowledge_base/README.md), so plans and briefings can address them."""
    for card in retriever.kb.cards:
        for line in card.pre_work:
            who, _ = task(line)
            assert who is not None or line.startswith("Program lead"), (card.id, line)


def test_share_back_leaves_out_the_juniors_lesson_blocks_the_senior_leads(retriever) -> None:
    """A block of the mentor's lesson the senior does ("Who can see this? The mentee opens ...") is not his to
    share back, whatever separator follows its title (probe finding)."""
    import datetime as dt

    from coach.models import AgendaItem, PlanTopic, Session
    from coach.wording import agenda_line, senior_segments

    card = retriever.kb.get("workflow-cloud-files-sharing")
    asked = next(a for a in card.activities if a.title.endswith("?"))
    lesson = AgendaItem(minutes=8, activity=agenda_line(asked.title, asked.description), lead="mentee")
    assert lesson.activity.startswith("Who can see this? ")
    own = AgendaItem(minutes=10, activity="How the board reads a case: the senior walks through one", lead="mentee")
    session = Session(
        number=2,
        date=dt.date(2026, 1, 26),
        title="t",
        minutes=18,
        topics=[PlanTopic(id=card.id, title=card.title, domain=card.domain)],
        objectives=[],
        pre_work=[],
        agenda=[lesson, own],
        discussion_prompts=[],
        reflection=[],
        citations=[],
    )
    assert senior_segments(session, [card], "Robert Klein") == [(10, own.activity)]
