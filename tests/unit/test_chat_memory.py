"""Issue 11: intents that follow the words, calibrated coverage, conversation memory, today's date, plain text."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from coach.answers import ChatContext, humanise
from coach.chat import ask, classify
from coach.cli import cli
from coach.conversation import HISTORY_CHARS, Conversation
from coach.coverage import DOMAIN_TITLES, load_rule, refusal
from coach.evals.blind import split
from coach.models import DOMAINS, Pair

ROOT = Path(__file__).resolve().parents[2]
CITE = re.compile(r"\[([a-z0-9]+(?:-[a-z0-9]+)+)\]")

# --------------------------------------------------------------------------- intents


@pytest.mark.parametrize(
    ("question", "kind", "session", "side"),
    [
        ("What should I teach my mentor back about strategy in session 3?", "briefing", 3, "mentee"),
        ("Session 3 was cancelled last time. What did we miss?", "briefing", 3, None),
        ("Prepare me for my next session", "briefing", None, None),
        ("prepare my mentor for session 2", "briefing", 2, "mentor"),
        ("what should i teach robert in session 2?", "briefing", 2, None),
        ("build me a 30-minute lesson on prompting for my mentee", "lesson", None, None),
        # The coming session said another way (probe: it gave a card "for the junior mentor").
        ("I have 20 minutes before my session with Priya, what should I prepare?", "briefing", None, None),
        ("what should I expect from our meeting tomorrow", "briefing", None, None),
        ("what do I do if my session with priya keeps getting cancelled", "cancellations", None, None),
    ],
)
def test_intents_follow_the_words(question: str, kind: str, session: int | None, side: str | None) -> None:
    intent = classify(question, has_plan=True)
    assert (intent.kind, intent.session, intent.side) == (kind, session, side)


def test_a_question_never_edits_a_plan() -> None:
    assert classify("Session 3 was cancelled last time. What did we miss?", has_plan=True).kind != "revise"
    assert classify("what happens in session 3 if we make it shorter?", has_plan=True).kind != "revise"
    assert classify("make session 3 about Teams", has_plan=True).kind == "revise"  # a change asked for


def test_teach_back_answers_the_senior_half_on_the_topic(retriever, pair: Pair) -> None:
    answer = ask("What should I teach my mentor back about strategy in session 3?", ChatContext(retriever, pair))
    assert answer.intent == "briefing" and answer.text.startswith("**Session 3")
    assert "teach Priya Shah back" in answer.text
    assert answer.cards and all(retriever.kb.get(c).domain == "strategy-context" for c in answer.cards)


def test_teach_back_times_the_activity_as_the_plan_does(retriever, pair: Pair) -> None:
    import re

    from coach.planner import build_plan

    plan = build_plan(pair, retriever)
    answer = ask("what could I teach back in session 2?", ChatContext(retriever, pair, plan))
    found = re.search(r"An activity you could lead \((\d+) min\): ([^.]+)\.", answer.text)
    assert found, answer.text
    planned = [a.minutes for a in plan.sessions[1].agenda if found.group(2) in a.activity]
    # The plan's minutes (the probe saw the card's 20 beside a plan of 14).
    assert planned and int(found.group(1)) == planned[0]
    # What the mentor learns is said as theirs, not the senior's ("their part of the organisation").
    assert "learns to " in answer.text and " your part" not in answer.text


def test_what_did_we_miss_recaps_without_editing(retriever, pair: Pair) -> None:
    answer = ask("Session 3 was cancelled last time. What did we miss?", ChatContext(retriever, pair))
    assert answer.plan is None and "Done." not in answer.text
    assert "Session 3 catch-up" in answer.text and "cancelled" in answer.text
    assert "Nothing in your plan has been changed" in answer.text


# --------------------------------------------------------------------------- coverage


def test_refusal_names_domains_by_title() -> None:
    text = refusal("treasury hedging")
    for d in DOMAINS:
        assert d not in text  # no slugs
        assert DOMAIN_TITLES[d] in text


def test_a_near_miss_is_told_the_nearest_card_and_an_off_topic_question_is_not(retriever) -> None:
    near = ask("how do I make a DAX measure for year over year sales growth", ChatContext(retriever))
    assert not near.covered and not near.cards and not CITE.findall(near.text)
    assert "The nearest one, *" in near.text and "does not answer it" in near.text
    far = ask("a recipe for lasagne", ChatContext(retriever))
    assert not far.covered and "nearest" not in far.text


def test_rule_file_is_read() -> None:
    rule = load_rule(ROOT / "evals" / "coverage.yaml")
    # More similarity means less likely "not covered"; more unknown words, more likely.
    base = {"similarity": 0.4, "best_similarity": 0.4, "unknown": 0.0, "overlap": 0.3}
    assert rule.probability({**base, "similarity": 0.6}) < rule.probability(base)
    # Words that no card and no card's asks use ("DAX") make "not covered" more likely.
    assert rule.probability({**base, "unknown": 2.0, "unasked": 2.0}) > rule.probability(base)
    # Closer to a near miss that no card answers (a card's beyond list), more likely "not covered".
    assert rule.probability({**base, "beyond": 0.8}) > rule.probability({**base, "beyond": 0.3})


def test_the_default_rule_is_the_fitted_one_rounded() -> None:
    from coach.coverage import DEFAULT_RULE

    rule = load_rule(ROOT / "evals" / "coverage.yaml")
    assert abs(DEFAULT_RULE.bias - rule.bias) < 0.01 and DEFAULT_RULE.threshold == rule.threshold
    assert all(abs(DEFAULT_RULE.weights[k] - v) < 0.01 for k, v in rule.weights.items())


@pytest.mark.parametrize(
    ("question", "card"),
    [
        (
            "I'm a CFO. How can I use ChatGPT on our quarterly numbers without leaking confidential data?",
            "security-data-handling-ai",
        ),
        ("What should I ask Priya about TikTok?", "social-short-video-formats"),
    ],
)
def test_issue_false_refusals_are_answered(retriever, pair: Pair, question: str, card: str) -> None:
    answer = ask(question, ChatContext(retriever, pair))
    assert answer.covered and card in answer.cards


@pytest.mark.parametrize(
    "question", ["should we hedge our euro exposure with forwards", "quick recipe for a veggie lasagne"]
)
def test_off_topic_is_still_refused(retriever, question: str) -> None:
    answer = ask(question, ChatContext(retriever))
    assert not answer.covered and "no card" in answer.text and not CITE.findall(answer.text)
    assert "cybersecurity-privacy" not in answer.text and "cybersecurity and privacy" in answer.text


def test_blind_split_is_fixed_and_even() -> None:
    ids = [f"q{i:03d}" for i in range(1, 241)]
    first, again = split(ids), split(list(reversed(ids)))
    assert first == again  # deterministic, whatever the order
    assert sum(v == "tune" for v in first.values()) == 120
    assert split(ids, seed=1) != first


def test_every_blind_set_loads_with_its_name_and_half(retriever) -> None:
    from coach.evals.blind import BLIND_SETS, load_all, set_of

    cases = load_all(kb=retriever.kb)
    assert len({c.id for c in cases}) == len(cases)  # ids stay unique across sets
    by_set = {name: [c for c in cases if set_of(c) == name] for name in BLIND_SETS}
    for name, mine in by_set.items():
        assert len([c for c in mine if not c.history and "conversation" not in c.tags]) >= 150, name
        assert sum(not c.expect.covered for c in mine) >= 30, name
        assert {c.half for c in mine} == {"tune", "held-out"}, name


def test_a_cards_asks_are_passages_of_their_own(retriever) -> None:
    from coach.index import card_chunks, card_text

    card = next(c for c in retriever.kb.cards if c.asks)
    chunks = card_chunks(card)
    assert all(ask in chunks for ask in card.asks)
    assert card.asks[0] not in card_text(card)  # dense passages only: BM25 reads the card's own words


@pytest.mark.parametrize("exact", [True, False], ids=["in-memory", "chroma-query"])
def test_only_the_chat_search_reads_the_asks(retriever, exact: bool) -> None:
    """An ask, searched word for word, is that card's passage for the chat, and no passage for plans."""
    card = next(c for c in retriever.kb.cards if c.asks)
    ask = card.asks[0]
    saved = retriever._matrix
    try:
        if not exact:
            retriever._matrix = ()  # as an index too large to keep in memory: Chroma answers
        chat = {h.card.id: h.similarity for h in retriever.search_weighted(ask, k=10)}
        plans = {h.card.id: h.similarity for h in retriever.search(ask, k=10, mode="dense")}
    finally:
        retriever._matrix = saved
    from coach.retrieval import ASK_DISCOUNT

    assert chat[card.id] > 0.99 - ASK_DISCOUNT  # the ask itself, less the discount every ask takes
    assert plans.get(card.id, 0.0) < 0.99  # were the ask a plan passage, it would match itself fully


# --------------------------------------------------------------------------- today and the record


def test_next_session_when_all_are_past_says_so(retriever, pair: Pair) -> None:
    ctx = ChatContext(retriever, pair, today=dt.date(2026, 12, 2))
    answer = ask("Prepare me for my next session", ctx)
    assert "behind you" in answer.text and "closing review" in answer.text
    assert "02 December 2026" in answer.text


def test_a_briefing_for_a_past_session_says_its_date_has_passed(retriever, pair: Pair) -> None:
    """Probe: briefings for sessions already past did not say so."""
    ctx = ChatContext(retriever, pair, today=dt.date(2026, 2, 1))
    past = ask("prepare me for session 2", ctx).text.splitlines()[1]
    assert past.startswith("Monday 26 January 2026 (that date has passed and nothing is logged for it)")
    coming = ask("prepare me for session 3", ctx).text.splitlines()[1]
    assert coming.startswith("Monday 09 February 2026, 45 minutes")


def test_next_session_skips_logged_sessions(retriever, pair: Pair) -> None:
    today = dt.date(2026, 1, 20)  # session 2 is on 26 January
    assert ask("Prepare me for my next session", ChatContext(retriever, pair, today=today)).text.startswith(
        "**Session 2"
    )
    logged = ChatContext(retriever, pair, today=today, record={2: "held"})
    assert ask("Prepare me for my next session", logged).text.startswith("**Session 3")


# --------------------------------------------------------------------------- text a person writes


def test_briefing_has_no_stacked_labels(retriever, pair: Pair) -> None:
    for n in range(1, 4):
        text = ask(f"prepare me for session {n}", ChatContext(retriever, pair)).text
        assert not re.search(r"You lead \d+ minutes on \w+ \w+ leads", text)
        assert "Robert Klein leads as" not in text


def test_humanise_keeps_citations_and_names_cards(retriever) -> None:
    text = humanise(
        "learn genai-analysis-custom-assistants [genai-analysis-custom-assistants] in generative-ai", retriever.kb
    )
    assert "[genai-analysis-custom-assistants]" in text
    assert "learn *AI for analysis" in text and "in generative AI" in text


# --------------------------------------------------------------------------- memory


def test_shorter_lesson_follows_up(retriever, pair: Pair) -> None:
    conv = Conversation(ChatContext(retriever, pair, role="mentor"))
    first = conv.ask("build me a 30-minute lesson on prompting for my mentee")
    second = conv.ask("Can you make that shorter, 15 minutes?")
    assert first.cards[0] == second.cards[0] == "genai-prompting-basics"
    assert "A 15-minute lesson" in second.text


def test_what_to_avoid_follows_the_explanation_with_its_pitfalls(retriever, pair: Pair) -> None:
    """ "and what should I avoid?" after an explanation: that card's pitfalls (it gave two cards' summaries,
    one on designing a pilot programme, probe finding)."""
    conv = Conversation(ChatContext(retriever, pair))
    first = conv.ask("what is prompt engineering?")
    card = retriever.kb.get(first.cards[0])
    avoid = conv.ask("and what should I avoid?")
    assert avoid.text.startswith(f"**What to avoid: {card.title}** [{card.id}]")
    for pitfall in card.pitfalls:
        assert f"- {pitfall}" in avoid.text
    # A second card is cited only from the same domain.
    assert all(retriever.kb.get(c).domain == card.domain for c in avoid.cards)


def test_what_to_avoid_after_a_briefing_is_about_that_sessions_topics(retriever, pair: Pair) -> None:
    conv = Conversation(ChatContext(retriever, pair, role="mentor"))
    conv.ask("prepare me for session 3")
    avoid = conv.ask("ok and what should i avoid?")
    assert avoid.cards[0] == "genai-drafting-summarising", avoid.text
    assert avoid.text.startswith("**What to avoid: Drafting and summarising documents with AI**")


def test_what_to_avoid_names_its_topic_by_session_or_by_the_last_answer(retriever, pair: Pair) -> None:
    """Probe: "what should I avoid in session 5?" gave feedback loops, "any common mistakes?" after an
    explanation of hallucinations gave misleading charts."""
    conv = Conversation(ChatContext(retriever, pair))
    assert conv.ask("what should I avoid in session 5?").cards[0] == "genai-responsible-use-policy"
    conv.ask("prepare me for session 4")
    assert conv.ask("what should I avoid there?").cards[0] == "genai-slide-generation"
    conv.ask("what is a hallucination?")
    for follow_up in ("any common mistakes?", "what mistakes do people make?"):
        assert conv.ask(follow_up).cards[0] == "genai-hallucinations-fact-checking", follow_up
    # A topic of its own is searched as asked.
    assert conv.ask("what should I avoid with copilot").cards[0] == "genai-copilot-microsoft-365"


@pytest.mark.parametrize(
    ("role", "card"), [("mentor", "program-teaching-a-senior-colleague"), ("mentee", "program-power-gap-candour")]
)
def test_what_to_avoid_with_nothing_to_go_on_is_about_the_mentoring(retriever, role: str, card: str) -> None:
    """Probe: "what should I avoid?" as a first question gave social-media etiquette."""
    answer = Conversation(ChatContext(retriever, role=role)).ask("what should I avoid?")
    assert answer.cards[0] == card and answer.text.startswith("**What to avoid: ")


@pytest.mark.parametrize(
    ("question", "card"),
    [
        ("what mistakes do people make with dashboards", "data-reading-dashboards"),
        ("what should I avoid in my first session with my mentor?", "program-kickoff-ground-rules"),
    ],
)
def test_a_question_about_mistakes_leads_with_them(retriever, question: str, card: str) -> None:
    answer = Conversation(ChatContext(retriever)).ask(question)
    assert answer.cards[0] == card and answer.text.startswith("**What to avoid: ")
    assert retriever.kb.get(card).pitfalls[0] in answer.text


def test_what_to_avoid_off_topic_is_still_refused(retriever) -> None:
    answer = Conversation(ChatContext(retriever)).ask("what should i avoid when investing in crypto")
    assert not answer.covered and "no card" in answer.text


def test_a_refusal_names_the_topic_as_the_asker_wrote_it(retriever) -> None:
    answer = Conversation(ChatContext(retriever)).ask("what is BeReal?")
    assert not answer.covered and answer.text.startswith("The knowledge base has no card on BeReal,")


def test_what_an_llm_is_is_answered(retriever) -> None:
    """A product about generative AI answers its first question (it was refused: no card used the word)."""
    answer = Conversation(ChatContext(retriever)).ask("what is an LLM?")
    assert answer.covered and answer.text.startswith("**Large language model (LLM), simply** [genai-prompting-basics]")


def test_a_bare_number_after_a_lesson_is_its_length(retriever) -> None:
    conv = Conversation(ChatContext(retriever))
    conv.ask("20 minute lesson on spotting phishing for my exec team")
    assert "A 45-minute lesson" in conv.ask("actually make it 45, they'll have questions").text
    assert "A 45-minute lesson" in conv.ask("and add a bit on passwords").text  # the length carries over


def test_session_and_side_follow_ups(retriever, pair: Pair) -> None:
    conv = Conversation(ChatContext(retriever, pair, role="mentee"))
    assert conv.ask("prepare me for session 2").text.startswith("**Session 2 briefing")
    assert conv.ask("what about session 4?").text.startswith("**Session 4 briefing")
    mentor = conv.ask("and for my mentor?")
    assert mentor.text.startswith("**Session 4 facilitation notes for Priya Shah")


@pytest.mark.parametrize(
    ("role", "follow_up", "expected"),
    [
        ("mentee", "and for priya?", "facilitation notes for Priya Shah"),
        ("mentor", "and what should he prepare?", "briefing for Robert Klein"),
        ("mentor", "and for robert", "briefing for Robert Klein"),
    ],
)
def test_a_briefing_follow_up_names_the_other_person(
    retriever, pair: Pair, role: str, follow_up: str, expected: str
) -> None:
    conv = Conversation(ChatContext(retriever, pair, role=role))
    conv.ask("prepare me for session 2")
    answer = conv.ask(follow_up)
    assert answer.text.startswith("**Session 2 ") and expected in answer.text.split("\n")[0]


def test_a_session_with_someone_is_not_their_side(retriever, pair: Pair) -> None:
    conv = Conversation(ChatContext(retriever, pair, role="mentor"))
    conv.ask("prepare me for session 2")
    assert "facilitation notes" in conv.ask("what about session 3 with robert?").text.split("\n")[0]


def test_shorter_after_an_explanation_gives_the_same_card_in_points(retriever) -> None:
    conv = Conversation(ChatContext(retriever))
    first = conv.ask("how do I read the funnel chart the product team keeps showing me")
    brief = conv.ask("shorter pls, 3 bullets")
    assert brief.cards == first.cards[:1] == ["data-funnels-cohorts"]
    assert sum(line.startswith("- ") for line in brief.text.splitlines()) == 3
    assert len(brief.text) < len(first.text) / 2
    assert "in 2 points" in conv.ask("in two points").text.split("\n")[0]
    # A new question that happens to say "simpler" is a new question, not the same card again.
    assert conv.ask("what is a simpler way to spot phishing emails").cards[0].startswith("security-")


def test_teach_with_no_topic_after_it_is_a_question_and_a_lesson_follows_on_its_topic(retriever) -> None:
    conv = Conversation(ChatContext(retriever, role="mentor"))
    first = conv.ask("mentee does everything with the mouse, which shortcuts do i teach first")
    assert first.covered and first.cards[0] == "workflow-shortcuts-search"
    lesson = conv.ask("give me a 20 minute lesson")
    assert lesson.intent == "lesson" and lesson.cards[0] == "workflow-shortcuts-search" and "20-minute" in lesson.text
    other = conv.ask("ok and a 30 minute lesson on phishing")
    assert other.cards[0] == "security-phishing-social-engineering"


def test_shorter_after_a_briefing_keeps_its_topics_in_bullets(retriever, pair: Pair) -> None:
    conv = Conversation(ChatContext(retriever, pair, role="mentor"))
    full = conv.ask("what do i need to prep for session 3")
    short = conv.ask("shorter pls, bullet points")
    assert short.intent == "briefing" and short.text.splitlines()[0].endswith(", in short**")
    assert len(short.text) < len(full.text) / 2
    assert set(CITE.findall(full.text.split("**Key terms")[0])) <= set(CITE.findall(short.text))  # every topic kept
    assert "for Robert Klein" in conv.ask("and for him?").text.splitlines()[0]  # still the briefing


def test_what_about_another_topic_after_a_lesson_is_the_same_lesson_on_it(retriever) -> None:
    conv = Conversation(ChatContext(retriever))
    conv.ask("give me a 20 minute lesson on linkedin for leaders")
    other = conv.ask("what about phishing?")
    assert other.intent == "lesson" and "A 20-minute lesson" in other.text
    assert other.cards[0].startswith("security-")


def test_a_short_generic_follow_up_stays_on_the_topic(retriever) -> None:
    conv = Conversation(ChatContext(retriever, role="mentor"))
    conv.ask("my mentee asked me what 'rizz' means lol. how do i explain memes to a 60 year old")
    activity = conv.ask("give me a 10 minute activity for it")
    assert activity.intent == "lesson" and activity.cards[0] == "social-memes-internet-culture"
    assert "social-memes-internet-culture" in conv.ask("what should i avoid").cards
    # A follow-up that names a topic of its own ("budgets") is about that topic.
    assert "strategy-budgets-business-cases" in conv.ask("more on budgets specifically").cards


def test_follow_up_topic_carries_but_new_unknown_topic_is_refused(retriever) -> None:
    conv = Conversation(ChatContext(retriever))
    conv.ask("how do I stop teams pinging me all day")
    assert "collab-notifications-focus" in conv.ask("and on my phone?").cards
    conv2 = Conversation(ChatContext(retriever))
    conv2.ask("how do i spot a phishing email")
    assert not conv2.ask("ok and how do we get ISO 27001 certified").covered


def test_history_for_a_model_stays_within_budget(retriever) -> None:
    conv = Conversation(ChatContext(retriever))
    conv.turns = [(f"question {i} " + "x" * 300, "answer " + "y" * 2000) for i in range(12)]
    text = conv.history_text()
    assert len(text) <= HISTORY_CHARS + 10
    assert "question 11" in text  # newest kept
    assert "Earlier questions" in text and "question 0" in text  # older summarised


def test_replay_rebuilds_memory_from_the_app_history(retriever, pair: Pair) -> None:
    first = ask("prepare me for session 2", ChatContext(retriever, pair))
    conv = Conversation.replay(ChatContext(retriever, pair), [("prepare me for session 2", first.text)])
    assert conv.ask("and for my mentor?").text.startswith("**Session 2 facilitation notes")


def test_cli_chat_is_multi_turn(indexed_home: Path) -> None:
    lines = "build me a 30-minute lesson on prompting\n\ncan you make that shorter? 15 min\nquit\n"
    result = CliRunner().invoke(cli, ["chat", "--role", "mentor"], input=lines)
    assert result.exit_code == 0, result.output
    assert "A 30-minute lesson" in result.output and "A 15-minute lesson" in result.output
    # Piped questions are printed after their prompt, one exchange after another (the empty line is skipped).
    said = [line for line in result.output.splitlines() if line.startswith(("you> ", "coach> "))]
    assert said[0] == "you> build me a 30-minute lesson on prompting"
    assert said[1].startswith("coach> ") and said[2] == "you> can you make that shorter? 15 min"
    assert said[-1] == "you> quit" and "you> you>" not in result.output


def test_cli_ask_today_and_bad_today(indexed_home: Path) -> None:
    pair_file = str(ROOT / "examples" / "pair.yaml")
    ok = CliRunner().invoke(
        cli, ["ask", "prepare me for my next session", "--pair", pair_file, "--today", "2026-12-02"]
    )
    assert ok.exit_code == 0 and "behind you" in ok.output
    bad = CliRunner().invoke(cli, ["ask", "hi", "--today", "2nd of May"])
    assert bad.exit_code == 2 and "--today" in bad.output and "Traceback" not in bad.output


# --------------------------------------------------------------------------- with the loopback model server


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch):
    from fakeserver import FakeOpenAI, use_server

    with FakeOpenAI() as s:
        use_server(monkeypatch, s)
        yield s


def test_model_follow_up_gets_the_earlier_turns(server, retriever, pair: Pair) -> None:
    from fakeserver import data_block, provider, text

    from coach.chat import lesson_minutes

    server.push(text("- Warm-up (10 min) [genai-prompting-basics]\n- Practice (20 min)\n"))
    server.push(text("- Warm-up (5 min) [genai-prompting-basics]\n- Practice (10 min)\n"))
    conv = Conversation(ChatContext(retriever, pair, role="mentor"), provider())
    conv.ask("build me a 30-minute lesson on prompting for my mentee")
    second = conv.ask("can you make that shorter? 15 min")
    assert second.engine == "openai" and "genai-prompting-basics" in second.cards
    assert lesson_minutes(second.text) == 15
    assert "build me a 30-minute lesson" in data_block(server.requests[1], "earlier_turns")
    assert "A 15-minute lesson" in data_block(server.requests[1], "draft_answer")


def test_blind_conversation_turn_runs_in_the_suite(retriever) -> None:
    from coach.evals.blind import load_blind
    from coach.evals.runner import produce
    from coach.evals.scoring import chat_evaluators

    cases = {c.id: c for c in load_blind(kb=retriever.kb)}
    case = cases["blind-c001-t2"]  # "can you make that shorter? 15 min" after a 30-minute lesson
    assert case.history == ["build me a 30-minute lesson on prompting for my mentee"]
    produced = produce(case, retriever, None)
    assert "A 15-minute lesson" in produced.text
    from coach.evals.evaluator import ChatSubject

    verdict = chat_evaluators()[0].score(ChatSubject(case.question, produced.text, retriever.kb, case.expect))
    assert verdict.score == 1.0, verdict.reason


@pytest.mark.parametrize(
    ("said", "start"),
    [
        ("thanks!", "Glad it helps."),
        ("Thank you so much", "Glad it helps."),
        ("great, thanks for the help", "Glad it helps."),
        ("ok", "Good. What would you like next?"),
        ("hi", "Hello! I can prepare you"),
        ("bye", "Good luck with the session."),
    ],
)
def test_thanks_and_greetings_are_answered_as_a_person_would(retriever, said: str, start: str) -> None:
    """ "thanks!" got "The knowledge base has no card on that, so I won't guess" (probe finding)."""
    conv = Conversation(ChatContext(retriever))
    conv.ask("what is a hallucination?")
    answer = conv.ask(said)
    assert answer.covered and answer.intent == "smalltalk" and answer.text.startswith(start)
    # The topic carries over the thanks to the next follow-up.
    assert conv.ask("any common mistakes?").cards[0] == "genai-hallucinations-fact-checking"


def test_the_app_history_carries_the_card_to_what_to_avoid(retriever) -> None:
    """In the app (history replayed), "any common mistakes?" after "what is generative AI?" gave the image
    generation card: the topic words were carried, not the card the answer used (seen in a screenshot)."""
    conv = Conversation(ChatContext(retriever))
    history = [(q, conv.ask(q).text) for q in ("what is generative AI?", "thanks!")]
    replayed = Conversation.replay(ChatContext(retriever), history)
    assert replayed.memory.card == "genai-prompting-basics"
    assert replayed.ask("any common mistakes?").cards[0] == "genai-prompting-basics"


def test_a_question_after_thanks_is_still_a_question(retriever) -> None:
    answer = Conversation(ChatContext(retriever)).ask("thanks, what is the capital of France?")
    assert answer.intent != "smalltalk" and not answer.covered
