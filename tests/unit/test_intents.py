"""What a question is read as (issue 11's held-out misreadings): cancellations and lengths in hours."""

from __future__ import annotations

import pytest

from coach.intents import classify


@pytest.mark.parametrize(
    "question",
    [
        "Why are young customers cancelling subscriptions so fast?",
        "How do retailers stop people cancelling their orders?",
        "a colleague keeps missing handovers and i need to say something. how do i start",
        "our customers keep cancelling their memberships with us, why?",
        "clients keep cancelling orders on us after two weeks, is this a trend",
    ],
)
def test_cancelling_something_else_is_not_about_our_sessions(question: str) -> None:
    assert classify(question).kind != "cancellations"


@pytest.mark.parametrize(
    "question",
    [
        "My mentee keeps cancelling our sessions",
        "What do I do when a session is cancelled?",
        "What if my mentor cancels again?",
        "It keeps getting cancelled, what now?",
        "my mentor keeps missing our sessions",
        "she keeps skipping, what do I do",
        "my mentee keeps cancelling on us",
        "he cancelled our catch-up with the client again",
    ],
)
def test_cancelled_sessions_are_still_recognised(question: str) -> None:
    assert classify(question).kind == "cancellations"


@pytest.mark.parametrize(
    ("question", "minutes", "topic"),
    [
        ("Give me a 2 hour lesson on Excel", 120, "excel"),
        ("a 1.5 hour lesson about Teams", 90, "teams"),
        ("Give me a 30 minute lesson on phishing", 30, "phishing"),
        ("an hour lesson on TikTok", 60, "tiktok"),
    ],
)
def test_lesson_lengths_in_hours_become_minutes(question: str, minutes: int, topic: str) -> None:
    intent = classify(question)
    assert (intent.kind, intent.minutes, intent.topic) == ("lesson", minutes, topic)


@pytest.mark.parametrize(
    ("question", "topic"),
    [
        ("meme?", "meme"),
        ("difference between a mentor and a sponsor?", "mentor and a sponsor"),
        ("is copilot chat the same as the paid microsoft 365 copilot or not", None),
        ("my mentor keeps saying 'two-way door decision'. what does he mean", "two-way door decision"),
    ],
)
def test_what_is_questions_without_what_is(question: str, topic: str | None) -> None:
    intent = classify(question)
    assert intent.kind == "explain"
    assert topic is None or intent.topic == topic


@pytest.mark.parametrize("question", ["really?", "meme", "thanks?", "which shortcuts do i teach first"])
def test_not_every_short_question_is_an_explanation_or_a_lesson(question: str) -> None:
    # "thanks?" is thanks (a person's reply), the others general questions.
    assert classify(question).kind == ("smalltalk" if question.startswith("thanks") else "general")


@pytest.mark.parametrize(
    "question",
    ["get me ready for my first session with priya", "what do i need for our kickoff session with helen"],
)
def test_the_first_session_by_name_is_session_1(question: str) -> None:
    intent = classify(question, has_plan=True)
    assert (intent.kind, intent.session) == ("briefing", 1)


def test_x_vs_y_is_an_explanation_but_a_vs_question_with_a_purpose_is_not() -> None:
    assert classify("median vs average again? in normal words pls").kind == "explain"
    assert classify("teams vs slack for a 200 person company, which is better value and cheaper").kind == "general"


def test_how_do_i_is_a_how_to_but_how_do_i_explain_is_an_explanation() -> None:
    assert classify("how do I share a file so only two named people can open it").kind == "general"
    intent = classify("how do i explain hallucinations to a 60 year old CFO without sounding patronising")
    assert (intent.kind, intent.topic) == ("explain", "hallucinations")
    assert classify("how does a funnel chart work").kind == "explain"


def test_how_do_i_teach_a_person_is_advice_but_teach_a_topic_is_a_lesson() -> None:
    # Asking how to teach someone is about the teaching, not a lesson on "someone older than me".
    assert classify("how do i teach someone 30 years older than me without sounding patronising").kind == "general"
    assert classify("how can we teach our directors without boring them").kind == "general"
    lesson = classify("teach my mentee about tiktok in 20 minutes")
    assert (lesson.kind, lesson.minutes) == ("lesson", 20)
    timed = classify("how do i teach my boss excel in 20 minutes")  # a stated length asks for a lesson
    assert (timed.kind, timed.minutes) == ("lesson", 20)


@pytest.mark.parametrize(
    ("question", "topic"),
    [
        ("teach me how budgets get made here, 30 min", "budgets get made here"),
        ("teach me prompting in 20 minutes", "prompting"),
        ("teach us about phishing, 15 min", "phishing"),
    ],
)
def test_a_lesson_topic_drops_who_learns_it(question: str, topic: str) -> None:
    intent = classify(question)
    assert (intent.kind, intent.topic) == ("lesson", topic)
