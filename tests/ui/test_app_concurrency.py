"""Twenty chat requests at once against the launched app (loopback, bounded by the queue): all complete."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.integration

QUESTIONS = [
    "Explain phishing simply",
    "Explain hallucinations simply",
    "What should we do, my mentee keeps cancelling?",
    "Give me a 20-minute lesson on prompt writing for a CFO",
    "Prepare me for session 2",
]


def test_twenty_concurrent_chats_all_complete(open_app, client_for) -> None:
    from test_app_client import text_of

    clients = [client_for(open_app) for _ in range(4)]
    jobs = []
    for i in range(20):
        question = QUESTIONS[i % len(QUESTIONS)]
        role = "mentor" if i % 2 else "mentee"
        jobs.append((question, clients[i % 4].submit(question, [], role, "example", api_name="/chat")))
    answers = []
    for question, job in jobs:
        history, _, _ = job.result(timeout=300)
        assert history[0]["role"] == "user" and question in text_of(history[0])
        answer = text_of(history[-1])
        assert history[-1]["role"] == "assistant"
        assert answer.strip() and answer != "…"
        assert re.search(r"\]\(\?card=[a-z0-9-]+\)", answer), answer[:300]
        answers.append(answer)
    # The same question gets the same offline answer, whatever ran next to it.
    by_question: dict[tuple[str, int], set[str]] = {}
    for i, answer in enumerate(answers):
        by_question.setdefault((QUESTIONS[i % len(QUESTIONS)], i % 2), set()).add(answer)
    assert all(len(v) == 1 for v in by_question.values())


def test_megabyte_revision_is_refused_while_a_chat_is_answered(open_app, client_for) -> None:
    from test_app_client import FORM, text_of

    reviser, chatter = client_for(open_app), client_for(open_app)
    reviser.predict(**FORM, api_name="/generate_plan")
    revision = reviser.submit("The whole plan", "push everything back a week " * 40_000, api_name="/revise_plan")
    chat = chatter.submit("Explain phishing simply", [], "mentee", "example", api_name="/chat")
    msg, *_ = revision.result(timeout=120)
    assert "at most 1,000 characters" in msg, msg
    history, _, _ = chat.result(timeout=120)
    assert history[-1]["role"] == "assistant" and "phishing" in text_of(history[-1]).lower()
    # The app is still whole: a normal revision right after works.
    done, *_ = reviser.predict("Session 3", "30 minutes shorter", api_name="/revise_plan")
    assert done.startswith("Done"), done
