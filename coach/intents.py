"""What a chat question asks for: rule-based intent classification, so the offline chat is predictable."""

from __future__ import annotations

import re
from dataclasses import dataclass

from coach.safety import asks_for_instructions


@dataclass
class Intent:
    """What a question asks for."""

    kind: str
    session: int | None = None
    minutes: int | None = None
    topic: str | None = None
    audience: str | None = None
    #: Whose side a briefing is for when the words say so ("prepare my mentor"): "mentor" or "mentee".
    side: str | None = None
    #: A briefing about a session that was missed or cut short ("what did we miss?").
    missed: bool = False
    #: The senior's half only ("what should I teach my mentor back about strategy").
    give_back: bool = False
    #: A topic to add to a lesson ("add a bit on mean vs median too").
    extra: str | None = None
    #: The previous answer again in this many points ("shorter pls, 3 bullets" after an explanation).
    brief: int | None = None


_BRIEFING = re.compile(
    r"\b(?:prepare|prep|ready|brief(?:ing)?|expect)\b.*?\bsession\s*(\d+)|\bsession\s*(\d+)\b.*?\b(?:prepare|prep|ready|brief|expect)"
)
_NEXT_SESSION = re.compile(r"\b(?:prepare|prep|ready|brief(?:ing)?)\b.*\bnext\s+session\b")
_LESSON = re.compile(
    r"\b(?:lesson|workshop|class|tutorial|crash\s+course|teaching\s+plan|teach|session\s+plan(?=\s+on)|"
    r"(?<=minute\s)session(?=\s+on)|(?<=hour\s)session(?=\s+on))\b(?:\s+(?:on|about|in|covering))?\s+(.+)$"
)
_MINUTES = re.compile(r"\b(\d{1,3})\s*-?\s*(?:minutes?|mins?)\b|\b(an?|one|half\s+an)\s+hour\b")
#: "a 2 hour lesson", "1.5 hours": minutes from hours (the minute pattern above reads "an hour").
_HOURS = re.compile(r"\b(\d(?:\.\d)?)\s*-?\s*(?:hours?|hrs?)\b")
_AUDIENCE = re.compile(r"\s+for\s+(?:a|an|the|my|our)?\s*([a-z][\w\s-]{1,40})$")
_EXPLAIN = re.compile(
    r"^(?:please\s+|can\s+you\s+|could\s+you\s+)?(?:explain|what\s+is|what's|whats|what\s+are|what\s+does|define|"
    r"describe|tell\s+me\s+about|how\s+does)\s+(.+)$"
)
_CANCEL = re.compile(
    r"cancel|reschedul|no[- ]show|postpon|"
    # "keeps missing our sessions", "she keeps skipping": not "keeps missing handovers".
    r"keeps?\s+(?:moving|skipping|missing|dropping)(?:\s+(?:our|the|my)?\s*(?:sessions?|meetings?|catch-?ups?|slots?)\b|\s*$|\s*[,.;!?])|"
    r"(?:missed|skipped)\s+(?:sessions|meetings)|doesn'?t\s+show"
)
#: A cancellation question is about the pairing's own meetings ("customers cancelling subscriptions" is not).
_PAIRING = re.compile(r"\b(?:sessions?|meetings?|mentor\w*|mentee|pairing|slots?|catch-?ups?|we|us|our|keeps?|again)\b")
#: ...unless what is cancelled is the business's ("customers keep cancelling their subscriptions with us"):
#: then only a word for the pairing's own meetings makes it about the pairing.
_BUSINESS = re.compile(
    r"\b(?:customers?|clients?|subscri\w*|orders?|contracts?|memberships?|bookings?|users?|shoppers?|buyers?|"
    r"deals?|flights?|products?|accounts?|policies|suppliers?|vendors?|patients?|guests?)\b"
)
_OWN_MEETINGS = re.compile(r"\b(?:sessions?|meetings?|mentor\w*|mentee|pairing|slots?|catch-?ups?)\b")
_EXPLAIN_TAIL = re.compile(
    r"\s+(?:simply|in\s+plain\s+(?:words|english|terms)|in\s+simple\s+terms|like\s+i'?m\s+\w+|to\s+me|mean|means)\b.*$"
)


_SESSION_N = re.compile(r"\bsession\s*(?:no\.?\s*|number\s*|#\s*)?(\d{1,2})\b")
_ORDINAL = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8}
_ORDINAL |= {"kickoff": 1, "kick-off": 1, "kick off": 1, "opening": 1}
_ORDINAL_SESSION = re.compile(r"\b(" + "|".join(_ORDINAL) + r")\s+session\b")
_MISSED = re.compile(
    r"\bwhat\s+(?:did|have)\s+we\s+(?:miss|skip|lose)|\bwhat\s+we\s+missed\b|\bcatch\s+up\s+on\b|\brecap\b"
)
_TEACH_BACK = re.compile(r"\bteach\b.{0,40}\bback\b|\b(?:share|give)\s+back\b|\bteach\s+my\s+mentor\b")
_PREPARE_OTHER = re.compile(r"\b(?:prepare|prep|brief|ready)\s+my\s+(mentor|mentee)\b|\bfor\s+my\s+(mentor|mentee)\b")
_QUESTION_START = re.compile(
    r"^(?:what|why|how|which|when|who|where|is|are|was|were|do|does|did|should|shall|would|will|has|have)\b"
)
_ABOUT_SESSION = re.compile(
    r"\b(?:teach|cover|about|prep|prepare|ready|brief|need|agenda|expect|bring|happen|plan\s+for)\b"
)
#: "my next session", and the coming one said another way: "my session with Priya", "our meeting tomorrow".
_NEXT = re.compile(
    r"\b(?:my\s+|our\s+|the\s+)?next\s+(?:session|meeting|one)\b"
    r"|\b(?:my|our)\s+(?:mentoring\s+)?(?:session|meeting|catch-?up)\s+(?:with\s+[a-z]|tomorrow|today|later|this\s+week)"
)
_NEXT_VERBS = re.compile(r"\b(?:prepare|prep|ready|brief(?:ing)?|expect|what|cover|plan|about|agenda)\b")


def session_number(q: str) -> int | None:
    """The session a question names ("session 3", "session #3", "the third session"), or None."""
    if m := _SESSION_N.search(q):
        return int(m.group(1))
    if m := _ORDINAL_SESSION.search(q):
        return _ORDINAL[m.group(1)]
    return None


def is_question(q: str) -> bool:
    """Whether the words ask something rather than ask for a change (a question never edits a plan)."""
    return bool(_QUESTION_START.search(q) or _MISSED.search(q))


def classify(question: str, has_plan: bool = False) -> Intent:
    """The intent of a question (rule-based, so the offline chat is predictable).

    A plan is edited only when the words ask for a change ("make session 3 about Teams"); a question
    about a session ("session 3 was cancelled, what did we miss?") is answered, never applied.
    """
    q = " ".join(question.lower().strip().split()).rstrip("?!. ")
    if asks_for_instructions(q):
        return Intent("instructions")
    from coach.smalltalk import reply

    if reply(q) is not None:
        return Intent("smalltalk")
    number = session_number(q)
    side = None
    if m := _PREPARE_OTHER.search(q):
        side = m.group(1) or m.group(2)
    if has_plan and not _BRIEFING.search(q) and not is_question(q):
        from coach.instructions import looks_like_edit

        if looks_like_edit(q):
            return Intent("revise", topic=question.strip())
    if _MISSED.search(q):
        return Intent("briefing", session=number, side=side, missed=True)
    if _TEACH_BACK.search(q):
        topic = re.sub(r"^.*?\b(?:about|on|around)\s+", "", q) if re.search(r"\b(?:about|on|around)\s+", q) else None
        topic = _SESSION_N.sub(" ", topic).replace(" in ", " ").strip() if topic else None
        kind = "briefing" if number is not None else "general"
        return Intent(kind, session=number, topic=_strip_topic(topic) if topic else None, side="mentee", give_back=True)
    if m := _BRIEFING.search(q):
        return Intent("briefing", session=int(m.group(1) or m.group(2)), side=side)
    if _NEXT.search(q) and (_NEXT_VERBS.search(q) or side) and not _CANCEL.search(q):
        return Intent("briefing", session=None, side=side)
    if number is not None and (side or _ABOUT_SESSION.search(q)):
        return Intent("briefing", session=number, side=side)
    minutes = None
    if h := _HOURS.search(q):
        minutes = round(float(h.group(1)) * 60)
    elif m := _MINUTES.search(q):
        minutes = int(m.group(1)) if m.group(1) else 30 if m.group(2).startswith("half") else 60
    if (
        (m := _LESSON.search(q))
        and (minutes or _names_a_topic(m.group(1)))
        and not (minutes is None and _teach_a_person(m, q))
    ):
        rest = _HOURS.sub(" ", _MINUTES.sub(" ", m.group(1))).strip()
        audience = None
        if a := _AUDIENCE.search(rest):
            audience = a.group(1).strip()
            rest = rest[: a.start()].strip()
            # Keep the asker's casing ("CFO", not "cfo").
            found = re.search(re.escape(audience), question, re.IGNORECASE)
            audience = found.group(0) if found else audience
        return Intent("lesson", minutes=minutes, topic=_strip_topic(rest), audience=audience)
    if _CANCEL.search(q) and _PAIRING.search(q) and (_OWN_MEETINGS.search(q) or not _BUSINESS.search(q)):
        return Intent("cancellations", topic=q)
    if m := _EXPLAIN.search(q):
        topic = _EXPLAIN_TAIL.sub("", m.group(1)).strip()
        return Intent("explain", topic=_strip_topic(topic))
    if topic := _asks_what_it_is(q, question.strip().endswith("?")):
        return Intent("explain", topic=_strip_topic(topic))
    return Intent("general", topic=q)


#: "difference between a mentor and a sponsor", "is copilot chat the same as microsoft 365 copilot".
_COMPARE = re.compile(
    r"^(?:the\s+|what'?s\s+the\s+)?difference\s+between\s+(.+)$|^is\s+(.+?)\s+the\s+same\s+(?:thing\s+)?as\b|"
    r"^((?:\w+\s+){0,2}\w+\s+(?:vs\.?|versus)\s+\w+(?:\s+\w+)?)(?:\s+again)?(?:[?,.]|$)"
)
#: "my mentor keeps saying 'two-way door decision'. what does he mean": the quoted words.
_MEANS = re.compile(r"\bwhat\s+(?:does|do|did)\s+(?:he|she|they|it|that|this|\w+)\s+mean\b|\bwhat\s+is\s+that\b")
_QUOTED = re.compile(r"['‘\"“]([^'‘’\"“”]{3,60})['’\"”]")


_HOW_EXPLAIN = re.compile(
    r"^how\s+(?:do|would|should|can|could)\s+(?:i|we)\s+explain\s+(.+?)(?:\s+to\s+(?:a|an|my|our|the)\b.*)?$"
)


def _asks_what_it_is(q: str, asked: bool) -> str | None:
    """The term a question asks about without saying "what is" ("meme?", "difference between X and Y")."""
    if m := _HOW_EXPLAIN.search(q):
        return m.group(1)
    if m := _COMPARE.search(q):
        return m.group(1) or m.group(3) or q
    if _MEANS.search(q) and (quoted := _QUOTED.search(q)):
        return quoted.group(1)
    # A bare term and a question mark ("meme?", "OKRs?"): one or two words that are not a request.
    from coach.coverage import CHATTY
    from coach.grounding import content_words

    if asked and 1 <= len(q.split()) <= 2 and not _QUESTION_START.search(q) and re.fullmatch(r"[a-z0-9 .&/+-]+", q):
        return q if content_words(q) - CHATTY else None
    return None


#: Words after "teach" that name no topic ("which shortcuts do i teach first").
_NO_TOPIC = frozenset({"first", "next", "then", "now", "today", "later", "him", "her", "them", "it", "this", "that"})


#: "teach someone 30 years older than me", "teach my boss to ...": about teaching a person, not a lesson.
_PERSON = re.compile(
    r"(?:someone|somebody|people|him|her|them|(?:a|an|my|our|the|this|that|older|senior)\s+(?:\w+\s+)?"
    r"(?:mentors?|mentees?|seniors?|boss|directors?|execs?|executives?|leaders?|managers?|ceo|cfo|coo|cto|"
    r"colleagues?|person|people))\b"
)


def _teach_a_person(m: re.Match[str], q: str) -> bool:
    """Whether the question asks how to teach a person ("how do i teach someone older"), not for a lesson."""
    asks_how = re.search(r"\bhow\s+(?:do|can|should|would)\s+(?:i|we)\s+$", q[: m.start()])
    return bool(asks_how) and m.group(0).startswith("teach ") and bool(_PERSON.match(m.group(1)))


def _names_a_topic(text: str) -> bool:
    """Whether the words after "lesson on" or "teach" name a topic (not "first" or "them")."""
    from coach.grounding import content_words

    return bool(content_words(text) - _NO_TOPIC)


def _strip_topic(text: str) -> str:
    # "teach me how budgets get made", "teach us about phishing in": the topic, not who learns it.
    text = re.sub(r"^(?:me|us)\s+(?:how\s+to\s+|how\s+|about\s+)?", "", text.strip())
    text = re.sub(r"\s+(?:in|for|within)$", "", text)
    text = re.sub(r"^(?:a|an|the|on|about|how\s+to)\s+", "", text.strip())
    return text.strip(" .,?!\"'")
