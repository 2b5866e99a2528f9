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


_BRIEFING = re.compile(
    r"\b(?:prepare|prep|ready|brief(?:ing)?|expect)\b.*?\bsession\s*(\d+)|\bsession\s*(\d+)\b.*?\b(?:prepare|prep|ready|brief|expect)"
)
_NEXT_SESSION = re.compile(r"\b(?:prepare|prep|ready|brief(?:ing)?)\b.*\bnext\s+session\b")
_LESSON = re.compile(
    r"\b(?:lesson|workshop|class|tutorial|crash\s+course|teaching\s+plan|teach)\b(?:\s+(?:on|about|in|covering))?\s+(.+)$"
)
_MINUTES = re.compile(r"\b(\d{1,3})\s*-?\s*(?:minutes?|mins?)\b|\b(an?|one|half\s+an)\s+hour\b")
_AUDIENCE = re.compile(r"\s+for\s+(?:a|an|the|my|our)?\s*([a-z][\w\s-]{1,40})$")
_EXPLAIN = re.compile(
    r"^(?:please\s+|can\s+you\s+|could\s+you\s+)?(?:explain|what\s+is|what's|whats|what\s+are|what\s+does|define|"
    r"describe|tell\s+me\s+about|how\s+does|how\s+do)\s+(.+)$"
)
_CANCEL = re.compile(
    r"cancel|reschedul|no[- ]show|postpon|keeps?\s+(?:moving|skipping|missing|dropping)|"
    r"(?:missed|skipped)\s+(?:sessions|meetings)|doesn'?t\s+show"
)
_EXPLAIN_TAIL = re.compile(
    r"\s+(?:simply|in\s+plain\s+(?:words|english|terms)|in\s+simple\s+terms|like\s+i'?m\s+\w+|to\s+me|mean|means)\b.*$"
)


def classify(question: str, has_plan: bool = False) -> Intent:
    """The intent of a question (rule-based, so the offline chat is predictable)."""
    q = " ".join(question.lower().strip().split()).rstrip("?!. ")
    if asks_for_instructions(q):
        return Intent("instructions")
    if has_plan and not _BRIEFING.search(q):
        from coach.instructions import looks_like_edit

        if looks_like_edit(q):
            return Intent("revise", topic=question.strip())
    if m := _BRIEFING.search(q):
        return Intent("briefing", session=int(m.group(1) or m.group(2)))
    if _NEXT_SESSION.search(q):
        return Intent("briefing", session=None)
    minutes = None
    if m := _MINUTES.search(q):
        minutes = int(m.group(1)) if m.group(1) else 30 if m.group(2).startswith("half") else 60
    if m := _LESSON.search(q):
        rest = _MINUTES.sub(" ", m.group(1)).strip()
        audience = None
        if a := _AUDIENCE.search(rest):
            audience = a.group(1).strip()
            rest = rest[: a.start()].strip()
            # Keep the asker's casing ("CFO", not "cfo").
            found = re.search(re.escape(audience), question, re.IGNORECASE)
            audience = found.group(0) if found else audience
        return Intent("lesson", minutes=minutes, topic=_strip_topic(rest), audience=audience)
    if _CANCEL.search(q):
        return Intent("cancellations", topic=q)
    if m := _EXPLAIN.search(q):
        topic = _EXPLAIN_TAIL.sub("", m.group(1)).strip()
        return Intent("explain", topic=_strip_topic(topic))
    return Intent("general", topic=q)


def _strip_topic(text: str) -> str:
    text = re.sub(r"^(?:a|an|the|on|about|how\s+to)\s+", "", text.strip())
    return text.strip(" .,?!\"'")
