"""The blind set's conversations, turn by turn, offline and with a model served over loopback (issue 11).

Every turn of every conversation in the blind sets (evals/blind/, evals/blind_v2/, evals/blind_v3/, evals/blind_v4/, evals/blind_v5/,
both halves of each) is one case per engine:
the conversation is replayed up to that turn and the turn passes when the coach says "not covered"
exactly when the label does and, when covered, cites a card the label accepts.

With the model, the loopback OpenAI-compatible server (tests/fakeserver.py) answers as a plain model
would: it restates the grounded answer the prompt carries, without its inline citations, and cites
the card ids the prompt gave it. So what is checked is the coach's own handling with a model in the
loop: the earlier turns reach the prompt within the history budget, the model's answer streams back
whole (no fallback), and the citations that survive are of acceptable cards.

Only the pass counts of the held-out half should be read (`--tb=no -q`); its individual cases are
for reporting, not for tuning (see coach/evals/blind.py). A turn whose answer misses its label is
reported as xfail while issue 11 is open: the later sets (v2 to v5) came after the chat was tuned on the
first, and some of their tune turns miss too (benchmarks/chat_coverage.py lists them). The v1 tune turns
the chat was tuned on still fail hard, as does any model-specific check on either half of either set.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from fakeserver import FakeOpenAI, Reply, data_block, provider, text, use_server

from coach.answers import ChatContext
from coach.chains import cited_ids
from coach.conversation import HISTORY_CHARS, Conversation
from coach.evals.blind import load_all, set_of
from coach.evals.cases import ChatCase

pytestmark = pytest.mark.integration

ENGINES = ("offline", "model")
_CITATION = re.compile(r"\s?\[[a-z0-9]+(?:-[a-z0-9]+)+\]")


def _conversations() -> dict[str, list[ChatCase]]:
    """Conversation id -> its turns in order (each case carries its earlier questions as history)."""
    out: dict[str, list[ChatCase]] = {}
    for case in load_all():
        if case.history or "conversation" in case.tags:
            out.setdefault(case.id.rsplit("-t", 1)[0], []).append(case)
    return out


CONVERSATIONS = _conversations()
TURNS = [
    pytest.param(cid, n, engine, id=f"{set_of(turns[0])}-{turns[0].half}-{cid}-t{n}-{engine}")
    for engine in ENGINES
    for cid, turns in CONVERSATIONS.items()
    for n in range(1, len(turns) + 1)
]


def restating_model() -> Any:
    """A model that restates the draft answer in the prompt and cites the cards the prompt gave it."""

    def respond(body: dict[str, Any]) -> Reply:
        try:
            draft = data_block(body, "draft_answer")
            cards = json.loads(data_block(body, "cards"))
        except LookupError:
            return text("I can only answer from the cards I am given.")
        plain = "\n".join(_CITATION.sub("", line) for line in draft.splitlines())
        ids = " ".join(f"[{c['id']}]" for c in cards)
        return text(f"Here is how I would put it for you.\n\n{plain}\n\nFrom the cards: {ids}\n")

    return respond


def test_conversations_are_loaded() -> None:
    assert len(CONVERSATIONS) >= 20
    halves = {turns[0].half for turns in CONVERSATIONS.values()}
    assert halves == {"tune", "held-out"}
    for turns in CONVERSATIONS.values():
        assert [len(t.history) for t in turns] == list(range(len(turns)))  # turn k carries k-1 questions
        assert all(t.history == [p.question for p in turns[:i]] for i, t in enumerate(turns))


@pytest.mark.parametrize(("cid", "n", "engine"), TURNS)
def test_turn(cid: str, n: int, engine: str, retriever, monkeypatch: pytest.MonkeyPatch) -> None:
    turns = CONVERSATIONS[cid][:n]
    first = turns[0]
    if engine == "offline":
        conv = Conversation(ChatContext(retriever, first.pair, None, first.role))
        answers = [conv.ask(t.question) for t in turns]
        _check_turn(turns[-1], answers[-1])
        return
    with FakeOpenAI() as server:
        use_server(monkeypatch, server)
        server.always(restating_model())
        conv = Conversation(ChatContext(retriever, first.pair, None, first.role), provider())
        for t in turns[:-1]:
            conv.ask(t.question)
        asked_before = len(server.requests)
        last = conv.ask(turns[-1].question)
        new = server.requests[asked_before:]
    label_miss = _label_miss(turns[-1], last)
    if not last.covered or last.intent == "instructions":
        assert not new, "refusals and questions the cards do not cover are never sent to the model"
        _report(turns[-1], label_miss)
        return
    assert len(new) == 1 and last.engine == "openai", "the model answers every covered turn"
    assert last.note is None, f"the model's answer was replaced: {last.note}"
    assert last.text.startswith("Here is how I would put it for you."), "the model's answer streams back whole"
    if n > 1:
        earlier = data_block(new[0], "earlier_turns")
        assert len(earlier) <= HISTORY_CHARS
        assert turns[-2].question[:80] in earlier, "the previous question reaches the model's prompt"
    else:
        with pytest.raises(LookupError):
            data_block(new[0], "earlier_turns")
    _report(turns[-1], label_miss)


def _label_miss(case: ChatCase, answer: Any) -> str | None:
    """Why the answer misses its label (covered exactly when labelled so, then an acceptable card), or None."""
    if answer.covered != case.expect.covered:
        return f"{case.id}: covered={answer.covered}, labelled {case.expect.covered}"
    if case.expect.covered:
        cited = set(cited_ids(answer.text))
        if not cited & set(case.expect.cite_any):
            return f"{case.id}: cites {sorted(cited)}, none acceptable"
    return None


def _report(case: ChatCase, miss: str | None) -> None:
    if miss is None:
        return
    if case.half == "held-out" or set_of(case) != "v1":
        pytest.xfail(f"{set_of(case)} {case.half} miss, issue 11 open: {miss}")
    pytest.fail(miss)


def _check_turn(case: ChatCase, answer: Any) -> None:
    _report(case, _label_miss(case, answer))
