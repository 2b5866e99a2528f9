"""Conversation memory: follow-ups ("shorter", "and for my mentor?", "what about session 4?") build on the last answer.

Offline, what carries over is small and explicit: the last intent, its topic, session, side and
lesson length, and the search words of the last covered answer. A follow-up is read against them:

- "can you make that shorter? 15 min" after a lesson: the same lesson at 15 minutes;
- "turn that into a 20 minute exercise" after an explanation: a 20-minute lesson on that topic;
- "what about session 4?" / "the last one?" after a briefing: the same briefing for that session;
- "and for my mentor?", "and for tomás?", "what should she prepare?": the same briefing for the other side;
- "shorter pls, 3 bullets" or "tl;dr" after an explanation: the same answer in a few points; after a
  briefing, the same briefing in a few bullets (`coach.brief`);
- "what about tiktok?" after a lesson: the same lesson on that; "give me a 10 minute activity for it"
  after an answer: a lesson on its topic;
- "what should i avoid", "how do we start small": a short follow-up in words every topic uses stays
  on the previous topic ("more on budgets" names a topic of its own, so it is searched as asked);
- a short follow-up the cards do not cover on its own ("and on my phone?") is searched together
  with the previous topic; one with words of its own that no card has ("ok and how do we get
  ISO 27001 certified") stays "not covered".

With a model, the recent turns (question and the start of each answer) go into the prompt, newest
kept first, within `HISTORY_CHARS`; older turns are summarised as their questions only.

Where the state lives: a `Conversation` is plain data. The terminal (`coach chat`) keeps one for the
process. The app does not keep it in server memory: the browser sends its own chat history with every
message (Gradio's Chatbot value, per browser tab), and the Coach tab rebuilds the `Conversation`
from that history (`Conversation.replay`). So the memory is per browser session, survives a restart
or a second app process, and needs no table; nothing about a conversation is stored server-side.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from coach.intents import Intent, classify, session_number

if TYPE_CHECKING:
    from coach.answers import Answer, ChatContext
    from coach.providers import Provider

#: Characters of earlier turns sent to a model with the question.
HISTORY_CHARS = 2400
#: Of each earlier answer, this many characters are sent (its opening says what it was).
ANSWER_CHARS = 500

#: "What should I avoid?" with no topic, no session and nothing said before: the mentoring's own pitfalls.
_MENTORING_PITFALLS = {"mentor": "program-teaching-a-senior-colleague", "mentee": "program-power-gap-candour"}
_SHORTER = re.compile(r"\b(?:shorter|quicker|less\s+time|trim|cut)\b")
_LONGER = re.compile(r"\b(?:longer|more\s+time|extend)\b")
_MINUTES = re.compile(r"\b(\d{1,3})\s*-?\s*(?:minutes?|mins?|min)\b|\b(an?|one|half\s+an|two|2)\s+hours?\b")
_ANAPHORA = re.compile(
    r"^(?:and|so|ok|okay|but|what\s+if|what\s+about|how\s+about|then|also|fine)\b|\b(?:that|this|it|them|those|these|"
    r"one|same|too|next\s+time|instead)\b"
)
_SIDE = re.compile(r"\bfor\s+(?:my|the|our)\s+(mentor|mentee)\b|\b(?:my|the)\s+(mentor|mentee)'?s?\s+side\b")
_FOLLOW_START = re.compile(r"^(?:and|what\s+about|how\s+about|what\s+if|also|too)\b")
#: Words that point back at the previous answer, read once fillers ("ok so") are dropped.
_REFERS = re.compile(
    r"\b(?:that|this|it|them|those|these|same)\b|^what\s+if\b|\b(?:an?|another|real)\s+example\b|\bfor\s+my\s+own\b"
)
#: "shorter", "3 bullets", "tl;dr", "in a nutshell" after an explanation: the same answer in a few points.
_BRIEF = re.compile(
    r"\b(?:shorter|short\s+version|tl;?\s*dr|too\s+long|simpler|in\s+a\s+(?:nutshell|sentence|line)|"
    r"summar[iy]\w*\s+(?:that|this|it)|bullet\s+points|(\d|one|two|three|four|five)\s+(?:bullets?|points?|lines?|sentences?))\b"
)
_NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5}
#: Words about the form of an answer, not its topic ("bullet points", "version").
_FORM_WORDS = frozenset({"bullet", "bullets", "point", "points", "version", "list", "summar"})
#: "what should she prepare", "and him?": the other person of the pair, by a pronoun.
_OTHER = re.compile(r"\b(?:she|he|her|him|his|they|them|their)\b")
_LAST = re.compile(r"\b(?:the\s+)?(?:last|final)\s+(?:one|session)\b")
_ADD = re.compile(r"\badd\s+(?:a\s+bit|something|a\s+part|a\s+section|some\w*)?\s*(?:on|about)\s+(.+)$")
_BARE_MINUTES = re.compile(r"\b(?:make\s+it|do\s+it\s+in|down\s+to|up\s+to|cut\s+it\s+to)\s+(\d{1,3})\b(?!\s*%)")
_LESSON_WORD = re.compile(r"\b(?:lesson|workshop|class|crash\s+course|activity|exercise)\b")
_WHAT_ABOUT = re.compile(r"^(?:(?:and|ok|okay|so)\s+)?(?:what|how)\s+about\s+(.+)$")
_TURN_INTO = re.compile(r"\b(?:turn|make|build)\s+(?:that|this|it)\s+into\s+an?\b|\bexercise\b")


@dataclass
class Memory:
    """What the last answer was about."""

    intent: str | None = None
    topic: str | None = None
    session: int | None = None
    side: str | None = None
    minutes: int | None = None
    audience: str | None = None
    query: str | None = None
    extra: str | None = None
    #: The first card the answer cited: "any common mistakes?" after it is about that card.
    card: str | None = None


@dataclass
class Conversation:
    """A multi-turn chat: each question is read with what the previous answers were about."""

    ctx: ChatContext
    provider: Provider | None = None
    memory: Memory = field(default_factory=Memory)
    turns: list[tuple[str, str]] = field(default_factory=list)

    def resolve(self, question: str) -> tuple[str, Intent]:
        """The question to answer and its intent, with the follow-up filled in from memory."""
        q = " ".join(question.lower().split()).rstrip("?!. ")
        intent = classify(question, self.ctx.plan is not None)
        mem = self.memory
        if intent.kind in {"general", "explain"} and (avoid := self._avoid(q)) is not None:
            return avoid
        if mem.intent is None or intent.kind in {"instructions", "revise", "smalltalk"}:
            return question, intent
        minutes = _minutes(q)
        if mem.intent == "lesson" and intent.kind in {"lesson", "general", "explain"} and _is_lesson_follow_up(q):
            if intent.kind == "lesson" and intent.topic and not _ANAPHORA.search(intent.topic):
                return question, intent
            other = _WHAT_ABOUT.match(q)
            if other and minutes is None and not _REFERS.search(other.group(1)) and not _is_length(other.group(1)):
                # "what about tiktok?" after a lesson on LinkedIn: the same kind of lesson on that.
                return question, Intent("lesson", minutes=mem.minutes, topic=other.group(1), audience=mem.audience)
            extra = _ADD.search(q)
            if minutes is None and (bare := _BARE_MINUTES.search(q)) and 5 <= int(bare.group(1)) <= 240:
                minutes = int(bare.group(1))  # "actually make it 45" after a lesson: minutes
            if minutes is None and _SHORTER.search(q):
                minutes = max(10, (mem.minutes or 30) // 2)
            elif minutes is None and _LONGER.search(q):
                minutes = (mem.minutes or 30) * 2
            topic = mem.topic or ""
            return question, Intent(
                "lesson",
                minutes=minutes or mem.minutes,
                topic=topic,
                audience=mem.audience,
                extra=extra.group(1).strip() if extra else mem.extra,
            )
        lesson_of_that = intent.kind != "lesson" and _LESSON_WORD.search(q)  # "give me a 20 minute lesson"
        if mem.intent in {"explain", "general"} and (_TURN_INTO.search(q) or lesson_of_that) and minutes:
            return question, Intent("lesson", minutes=minutes, topic=mem.topic or mem.query)
        brief = _BRIEF.search(q)
        if mem.intent in {"explain", "general"} and mem.query and brief and intent.kind in {"general", "explain"}:
            from coach.grounding import content_words

            # Only a request about the form ("shorter pls, 3 bullets"), not a new question that says "simpler".
            if len(content_words(_BRIEF.sub(" ", q))) <= 2:
                return mem.query, Intent(mem.intent, topic=mem.topic or mem.query, brief=_points(brief, 3, 5))
        if mem.intent in {"briefing", "lesson", "cancellations"} and brief and intent.kind in {"general", "explain"}:
            from coach.grounding import content_words

            if len(content_words(_BRIEF.sub(" ", q)) - _FORM_WORDS) <= 1:  # "shorter pls, bullet points"
                return question, Intent(
                    mem.intent,
                    session=mem.session,
                    side=mem.side,
                    minutes=mem.minutes,
                    topic=mem.topic,
                    audience=mem.audience,
                    brief=_points(brief, 5, 8),
                )
        if mem.intent == "briefing" and intent.kind != "lesson":
            number = session_number(q)
            side_m = _SIDE.search(q)
            side = _side(side_m.group(1) or side_m.group(2), self.ctx.role) if side_m else None
            if side is None and number is None:
                side = self._other_side(q)
            if _LAST.search(q):
                number = -1
            if number is not None or side is not None or intent.kind == "briefing":
                return question, Intent(
                    "briefing",
                    session=number if number is not None else (intent.session or mem.session),
                    side=side or intent.side or mem.side,
                    missed=intent.missed,
                )
        if intent.kind == "general" and mem.intent == "cancellations" and _ANAPHORA.search(q):
            return question, Intent("cancellations", topic=q)
        # Fillers ("ok so", "and") say nothing; the follow-up is judged by the words left.
        from coach.chat_search import clean
        from coach.grounding import content_words

        rest = clean(q)
        # "how do we start small", "what should i avoid": a short question in words every topic uses.
        generic = len(rest.split()) <= 6 and _generic(rest, self.ctx)
        if (
            intent.kind in {"general", "explain"}
            and mem.query
            and (_ANAPHORA.search(q) or _REFERS.search(rest) or generic)
            and len(content_words(rest)) <= 7
        ):
            from coach.coverage import assess

            alone = assess(question, self.ctx.retriever, names=self.ctx.names())
            short = len(q.split()) <= 6 and bool(_FOLLOW_START.search(q))
            # "explain that to my CEO", "what if I take their names out", "an example for my own work":
            # about the previous answer's topic.
            refers = bool(_REFERS.search(rest)) and alone.features["unknown"] == 0
            if short or refers or generic or (not alone.covered and alone.features["unknown"] == 0):
                return f"{mem.query} {question}", Intent("general", topic=f"{mem.query} {q}")
        return question, intent

    def _avoid(self, q: str) -> tuple[str, Intent] | None:
        """A "what should I avoid?" that names no topic, read against what it must be about, or None.

        In session N: that session's topics; after a briefing: its session's; after an answer: the card it
        cited; first thing with a plan: the next session's; with nothing to go on, the mentoring's own pitfalls.
        """
        from coach.avoid import asks_what_to_avoid, topic_words
        from coach.chat_search import clean
        from coach.grounding import content_words

        if not asks_what_to_avoid(q):
            return None
        number = session_number(q)
        vague = {"there", "common", "typical", "biggest", "main", "usual", "people", "usually", "next", "session"}
        if content_words(topic_words(clean(q))) - vague - {str(number)}:
            return None  # "what should I avoid with copilot": a topic of its own
        mem = self.memory
        if number is None and mem.intent == "briefing" and mem.session:
            number = mem.session
        elif number is None and mem.intent in {"explain", "general", "lesson"} and (mem.topic or mem.query):
            card = self.ctx.retriever.kb.get(mem.card) if mem.card else None
            topic = card.title if card else mem.topic or mem.query or ""
            return f"{topic}: what should I avoid?", Intent("general", topic=topic)
        if titles := self._titles(number):
            return f"{titles}: what should I avoid?", Intent("general", topic=titles)
        # Nothing to go on: the pitfalls of the mentoring itself, for the side asking.
        card = self.ctx.retriever.kb.get(_MENTORING_PITFALLS["mentor" if self.ctx.role == "mentor" else "mentee"])
        return (f"{card.title}: what should I avoid?", Intent("general", topic=card.title)) if card else None

    def _titles(self, number: int | None) -> str:
        """The teaching topics of session `number` (None: the next one), by title ("" when there is none)."""
        from coach.answers import _session_for
        from coach.models import MENTOR_DOMAINS

        if self.ctx.plan is None and self.ctx.pair is None:
            return ""
        _, s, _ = _session_for(self.ctx, Intent("briefing", session=number))
        return "; ".join(t.title for t in s.topics if t.domain in MENTOR_DOMAINS) if s is not None else ""

    def _other_side(self, q: str) -> str | None:
        """The side a briefing follow-up names by a person: "and for tomás?" or "what should she prepare?"."""
        people = self.ctx.pair if self.ctx.pair is not None else self.ctx.plan
        if people is not None:
            for side, person in (("mentor", people.mentor), ("mentee", people.mentee)):
                first = person.name.split()[0].lower()
                if re.search(rf"(?<!with\s)\b{re.escape(first)}\b", q):
                    return side
        if _OTHER.search(q):
            mine = self.memory.side or ("mentor" if self.ctx.role == "mentor" else "mentee")
            return "mentee" if mine == "mentor" else "mentor"
        return None

    def ask(self, question: str) -> Answer:
        """Answer one question in the conversation (the stream consumed)."""
        turn = self.turn(question)
        for _ in turn:
            pass
        assert turn.answer is not None
        return turn.answer

    def turn(self, question: str) -> ConversationTurn:
        """One turn, to iterate for the streamed text."""
        return ConversationTurn(self, question)

    def remember(self, question: str, asked: str, intent: Intent, answer: Answer) -> None:
        """Keep what this answer was about (a refusal keeps the earlier topic for the next follow-up)."""
        self.turns.append((question, answer.text))
        if intent.kind in {"instructions", "smalltalk"}:
            return  # "thanks!" keeps the topic for the next follow-up
        if not answer.covered and intent.kind not in {"briefing"}:
            return
        session = intent.session
        if intent.kind == "briefing" and answer.text.startswith("**Session "):
            found = re.match(r"\*\*Session (\d+)", answer.text)
            session = int(found.group(1)) if found else session
        self.memory = Memory(
            intent=intent.kind if intent.kind != "revise" else self.memory.intent,
            topic=intent.topic if intent.kind in {"lesson", "explain"} else (intent.topic or self.memory.topic),
            session=session,
            side=intent.side,
            minutes=intent.minutes,
            audience=intent.audience,
            query=_search_words(asked, intent),
            extra=intent.extra,
            card=next(iter(answer.cards or _cited(answer.text)), None),
        )

    def history_text(self) -> str:
        """Recent turns for a model's prompt, newest kept first, within HISTORY_CHARS."""
        parts: list[str] = []
        used = 0
        for i, (q, a) in enumerate(reversed(self.turns)):
            full = f"Q: {q}\nA: {a[:ANSWER_CHARS]}"
            if used + len(full) <= HISTORY_CHARS:
                parts.append(full)
                used += len(full)
                continue
            older = self.turns[: len(self.turns) - i]  # oldest first, each question shortened
            summary = "Earlier questions: " + "; ".join(oq[:80] for oq, _ in older)
            parts.append(summary[: max(0, HISTORY_CHARS - used)])
            break
        return "\n\n".join(reversed(parts))

    @classmethod
    def replay(cls, ctx: ChatContext, history: list[tuple[str, str]]) -> Conversation:
        """A conversation rebuilt from (question, answer) pairs, e.g. the app's chat history from the browser.

        Only the memory is rebuilt (offline, from the words): no question is answered again.
        """
        conv = cls(ctx)
        for question, answer_text in history:
            asked, intent = conv.resolve(question)
            from coach.answers import Answer

            covered = "no card" not in answer_text
            if intent.kind == "briefing" and intent.session == -1:
                intent.session = None
            conv.remember(question, asked, intent, Answer(intent.kind, answer_text, [], covered))
        return conv


class ConversationTurn:
    """One question of a conversation answered as a stream of text; `answer` is set when the stream ends."""

    def __init__(self, conversation: Conversation, question: str) -> None:
        from coach.chat import ChatTurn

        self.conversation = conversation
        self.question = question
        self.asked, self.intent = conversation.resolve(question)
        if self.intent.kind == "briefing" and self.intent.session == -1:
            plan_len = _plan_length(conversation.ctx)
            self.intent.session = plan_len
        history = conversation.history_text() if conversation.turns else ""
        self._turn = ChatTurn(self.asked, conversation.ctx, conversation.provider, intent=self.intent, history=history)
        self.answer: Answer | None = None

    def __iter__(self):  # type: ignore[no-untyped-def]
        yield from self._turn
        self.answer = self._turn.answer
        assert self.answer is not None
        self.conversation.remember(self.question, self.asked, self.intent, self.answer)


def _cited(text: str) -> list[str]:
    """The card ids an answer's text cites, in order (the app's history keeps the text only)."""
    return re.findall(r"\[([a-z0-9]+(?:-[a-z0-9]+)+)\]", text)


def _plan_length(ctx: ChatContext) -> int | None:
    if ctx.plan is not None:
        return len(ctx.plan.sessions)
    if ctx.pair is not None:
        return ctx.pair.program.sessions
    return None


def _minutes(q: str) -> int | None:
    m = _MINUTES.search(q)
    if not m:
        return None
    if m.group(1):
        return int(m.group(1))
    word = m.group(2)
    return 30 if word.startswith("half") else 120 if word in {"two", "2"} else 60


#: A follow-up whose every word is this common across the cards names no topic of its own.
GENERIC_DF = 0.05


def _generic(text: str, ctx: ChatContext) -> bool:
    """Whether a short follow-up names no topic ("how do we start small", "what should i avoid")."""
    from coach.chat_search import word_stats, words

    stats = word_stats(ctx.retriever.kb.cards)
    mine = words(text)
    return bool(mine) and all(stats.df.get(w, 0) >= GENERIC_DF * stats.n and w not in stats.titled for w in mine)


def _points(brief: re.Match[str], default: int, most: int) -> int:
    """How many points a "shorter" request asks for ("3 bullets", "two points"), `default` when it names none."""
    n = brief.group(1)
    points = int(n) if n and n.isdigit() else _NUMBER_WORDS.get(n or "", default)
    return max(1, min(points, most))


def _is_length(text: str) -> bool:
    return bool(_SHORTER.search(text) or _LONGER.search(text) or _MINUTES.search(text) or _BARE_MINUTES.search(text))


def _is_lesson_follow_up(q: str) -> bool:
    return bool(
        _SHORTER.search(q)
        or _LONGER.search(q)
        or _MINUTES.search(q)
        or _BARE_MINUTES.search(q)
        or _ADD.search(q)
        or _ANAPHORA.search(q)
    )


def _side(word: str, role: str) -> str:
    """The side a briefing is for: "for my mentor" is the mentor's side."""
    return "mentor" if word == "mentor" else "mentee"


def _search_words(asked: str, intent: Intent) -> str:
    if intent.kind in {"lesson", "explain"} and intent.topic:
        return intent.topic
    return asked
