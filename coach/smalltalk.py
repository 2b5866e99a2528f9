"""Fixed replies: thanks, greetings and goodbyes answered as a person would (never "no card covers that"),
and what the coach says when asked for its instructions."""

from __future__ import annotations

import re

_THANKS = re.compile(
    r"^(?:(?:ok(?:ay)?|great|perfect|brilliant|super|lovely|cool|nice)[,!. ]*)?"
    r"(?:thanks?|thank\s+you|thx|ty|cheers|many\s+thanks)(?:\s+(?:so\s+much|a\s+lot|very\s+much|again|coach))*"
    r"(?:\s+for\s+(?:the|your|all\s+the|this|that)\s+(?:help|answer|tips?|advice|ideas?))?$"
)
_ACK = re.compile(r"^(?:ok(?:ay)?|great|perfect|brilliant|super|lovely|cool|nice|got\s+it|understood|noted|will\s+do)$")
_HELLO = re.compile(r"^(?:hi|hello|hey|hiya|good\s+(?:morning|afternoon|evening))(?:\s+(?:there|coach))?$")
_BYE = re.compile(r"^(?:bye|goodbye|see\s+you|that'?s\s+all(?:\s+for\s+now)?)$")

INSTRUCTIONS_REPLY = (
    "I can't share or change my instructions. I can prepare you for a session, give you a timed lesson "
    "on a topic, explain a term simply, suggest what to do about cancellations, or revise your plan."
)
_OFFER = (
    "prepare you for a session ('prepare me for session 2'), build a timed lesson ('a 20-minute lesson on "
    "phishing'), explain a term simply, say what to avoid, or help when a session is cancelled"
)


def reply(question: str) -> str | None:
    """The reply to a thanks, greeting or goodbye; None for anything else (a question to answer)."""
    q = " ".join(re.sub(r"[!.?,:;)(]+", " ", question.lower()).split())
    if _THANKS.match(q):
        return "Glad it helps. Ask me about a session, a topic to teach or what to avoid whenever you are ready."
    if _ACK.match(q):
        return "Good. What would you like next? I can " + _OFFER + "."
    if _HELLO.match(q):
        return "Hello! I can " + _OFFER + ". What would you like?"
    if _BYE.match(q):
        return "Good luck with the session. Come back any time to prepare the next one."
    return None
