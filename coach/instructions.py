"""Instructions read as edits: the offline coach's parser for requests such as "make session 3 about Teams".

Edits understood (several may be joined with "and", commas or "then"):

- change a session's topic: "make session 3 about Teams", "change the topic of session 3 to phishing"
- change its length: "make session 3 30 minutes shorter", "session 2 to 60 minutes"
- change its date: "move session 2 to 2026-02-03", "move session 4 a week later"
- shift every date: "push everything back two weeks", "move all sessions a week earlier"
- swap two sessions' topics: "swap sessions 2 and 3"
- drop a session: "drop session 4"
- add a session: "add a session on dashboards" (goes before the closing session)
- compress after a cancellation: "session 3 was cancelled, compress the rest"
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Literal

from coach.models import Plan

EditKind = Literal["topic", "length", "date", "shift", "swap", "drop", "add", "cancel"]


@dataclass
class Edit:
    """One edit parsed from an instruction."""

    kind: EditKind
    session: int | None = None
    topic: str | None = None
    minutes: int | None = None
    delta: int | None = None
    date: dt.date | None = None
    days: int | None = None
    other: int | None = None


#: Words in a topic request that name no topic ("make session 2 about the Teams basics").
TOPIC_STOP_WORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "of",
        "to",
        "in",
        "on",
        "for",
        "with",
        "about",
        "into",
        "from",
        "by",
        "at",
        "as",
        "is",
        "it",
        "its",
        "this",
        "that",
        "session",
        "sessions",
        "topic",
        "instead",
        "please",
        "rather",
        "more",
        "some",
        "our",
        "my",
        "your",
        "use",
        "using",
        "how",
        "basics",
        "basic",
        "intro",
        "introduction",
    ]
)


#: "session 3", not the "session 60" of "make every session 60 minutes".
_SESSION = re.compile(r"\bsession\s*(?:#|no\.?|number)?\s*(\d+)\b(?!\s*-?\s*(?:minutes?|mins?)\b)")
_SWAP = re.compile(
    r"\b(?:swap|switch|exchange|trade)\s+(?:the\s+)?(?:sessions?\s*)?(\d+)\s*(?:and|with|&|for)\s*(?:session\s*)?(\d+)\b"
)
#: "everything", "all sessions", "the whole plan", "the rest" (from the session named, else from session 1).
_ALL = re.compile(
    r"\b(?:everything|every\s+session|all(?:\s+(?:the|of\s+the))?\s+sessions|all\s+of\s+it|the\s+whole\s+(?:plan|programme|program|thing)|the\s+rest|all\s+dates)\b"
)
#: The sessions a shift starts from (and ends at): "sessions 3-5", "sessions 3 to 5", "from session 3 on",
#: "session 3 onwards", "after session 2" (from 3).
_RANGE = re.compile(r"\bsessions?\s*(\d+)\s*(?:-|–|to|through|thru|until)\s*(?:session\s*)?(\d+)\b")
_FROM = re.compile(
    r"\bfrom\s+session\s*(\d+)|\bsession\s*(\d+)\s+(?:on|onwards?|and\s+(?:the\s+rest|everything\s+after|later\s+ones))\b"
    r"|\b(?:after|following)\s+session\s*(\d+)"
)
_MONTHS = {
    m: i + 1
    for i, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ]
    )
    for m in names
}
_MONTH_RE = "|".join(sorted(_MONTHS, key=len, reverse=True))
_ISO = re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b")
_DAY_MONTH = re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+({_MONTH_RE})\.?(?:\s+(\d{{4}}))?\b")
_MONTH_DAY = re.compile(rf"\b({_MONTH_RE})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?(?:,?\s+(\d{{4}}))?\b")
_NUMBER_WORDS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6}
#: A month is four weeks: sessions keep their weekday ("push everything back a month" lands on Mondays).
_UNIT_DAYS = {"day": 1, "week": 7, "month": 28}
_SHIFT = re.compile(
    r"\b(a|an|one|two|three|four|five|six|\d+)\s+(week|day|month)s?\s+(later|earlier|sooner|back|forward|on)\b"
)
#: "push ... back two weeks", "bring ... forward by a week", "delay ... by 3 days" (the direction before the amount).
_SHIFT_VERB = re.compile(
    r"\b(push|move|shift|delay|postpone|bring|pull)\b.{0,60}?\b(back|forward|later|earlier|by)\b\s*(?:by\s+)?"
    r"(a|an|one|two|three|four|five|six|\d+)\s+(week|day|month)s?\b"
)
_DELTA = re.compile(r"\b(\d+)\s*-?\s*(?:minutes?|mins?)\s+(shorter|longer|less|more)\b")
_DELTA_VERB = re.compile(
    r"\b(shorten|shorter|cut|reduce|trim|lengthen|longer|extend)\w*\b.{0,80}?\bby\s+(\d+)\s*-?\s*(?:minutes?|mins?)\b"
)
_ABSOLUTE = re.compile(r"\b(\d+)\s*-?\s*(?:minutes?|mins?)\b")
_CANCEL = re.compile(
    r"\bsession\s*(\d+)\s+(?:was|is|got|has\s+been|had\s+to\s+be)?\s*(?:cancell?ed|called\s+off|missed|skipped)"
    r"|\b(?:cancell?ed|missed|skipped|lost|cancel|skip|call\s+off)\s+session\s*(\d+)"
)
_DROP = re.compile(r"\b(?:drop|remove|delete|cut)\b")
_ADD = re.compile(r"\badd\b(?:\s+(?:an?|one|another|one\s+more))?(?:\s+(?:extra|new|more))?\s+session")
_MOVE = re.compile(r"\b(?:move|reschedule|shift|push|bring)\b")
_TOPIC = re.compile(
    r"\b(?:topic\s+(?:of\s+session\s*\d+\s+)?(?:to|into|as)|about|cover(?:s|ing)?|focus(?:ed|ing)?\s+on|on"
    r"|(?:change|switch|swap|replace)\s+session\s*\d+(?:'s\s+topic)?\s+(?:to|for|with))\s+(.+)$",
)
_FILLER = re.compile(r"\b(?:instead|please|rather|too|as\s+well)\b|[.!?]+$")


def _parse_date(text: str, near: dt.date) -> dt.date | None:
    """A date written as 2026-02-03, 3 Feb, 3rd February 2026 or Feb 3; the year defaults near `near`."""
    try:
        if m := _ISO.search(text):
            return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        if m := _DAY_MONTH.search(text):
            day, month, year = int(m.group(1)), _MONTHS[m.group(2)], m.group(3)
        elif m := _MONTH_DAY.search(text):
            month, day, year = _MONTHS[m.group(1)], int(m.group(2)), m.group(3)
        else:
            return None
        if year:
            return dt.date(int(year), month, day)
        # No year: the occurrence closest to the session's current date.
        options = [dt.date(near.year + k, month, day) for k in (-1, 0, 1)]
        return min(options, key=lambda d: abs((d - near).days))
    except ValueError:
        return None


def _clauses(text: str) -> list[str]:
    """Split on and/commas/then, re-joining pieces that are not edits by themselves ("Slack and Teams")."""
    pieces = [p.strip() for p in re.split(r",|;|\band\b|\bthen\b|\balso\b", text) if p.strip()]
    out: list[str] = []
    for piece in pieces:
        standalone = bool(
            _SESSION.search(piece)
            or _DELTA.search(piece)
            or _DELTA_VERB.search(piece)
            or _ABSOLUTE.search(piece)
            or _SHIFT.search(piece)
            or _SHIFT_VERB.search(piece)
            or _SWAP.search(piece)
            or _ADD.search(piece)
            or _DROP.search(piece)
            or re.search(r"\bcompress\b|\bmake\b|\bchange\b|\bmove\b", piece)
        )
        if out and not standalone:
            out[-1] = f"{out[-1]} and {piece}"
        else:
            out.append(piece)
    return out


_WORD_NUMBERS = {w: i for i, w in enumerate(("one", "two", "three", "four", "five", "six", "seven", "eight"), 1)}
_ORDINALS = {w: i for i, w in enumerate(("first", "second", "third", "fourth", "fifth", "sixth", "seventh"), 1)}
#: "sessions 3 and 4", "sessions 2, 3 and 4", "session 5 & 6".
_LIST = re.compile(r"\bsessions?\s+(\d+)((?:\s*,\s*\d+)*)\s*,?\s*(?:and|&)\s*(\d+)\b")


def _normalise(text: str, plan: Plan) -> str:
    """Everyday forms in the words the rules read: "session three", "the third session", "the last session",
    "a fortnight", and consecutive lists of sessions as a range ("sessions 3 and 4" -> "sessions 3-4")."""
    text = re.sub(r"\bsession\s+(" + "|".join(_WORD_NUMBERS) + r")\b", lambda m: f"session {_WORD_NUMBERS[m[1]]}", text)
    text = re.sub(
        r"\b(?:the\s+)?(" + "|".join(_ORDINALS) + r")\s+session\b", lambda m: f"session {_ORDINALS[m[1]]}", text
    )
    text = re.sub(r"\b(?:the\s+)?(?:last|final)\s+session\b", f"session {len(plan.sessions)}", text)
    text = re.sub(r"\b(?:a|one)\s+fortnight\b", "two weeks", text)
    if not _SWAP.search(text):

        def as_range(m: re.Match[str]) -> str:
            numbers = [int(n) for n in re.findall(r"\d+", m.group(0))]
            if numbers == list(range(numbers[0], numbers[0] + len(numbers))):
                return f"sessions {numbers[0]}-{numbers[-1]}"
            return m.group(0)

        text = _LIST.sub(as_range, text)
    return text


#: Words an instruction may hold besides the edits themselves ("can you please move ...").
_FILLER_WORDS = frozenset(
    re.findall(
        r"\S+",
        "a an the and or then also please pls can could would you we i us lets let's want wants need needs "
        "like to it its that this them these those so ok okay just make change set put move shift push bring "
        "is are be was were instead rather too as well our my your his her their plan session sessions one "
        "ones of for by at in on into from with up back forward later earlier sooner rest everything every "
        "all whole each after before start starting onwards onward thing edit do longer shorter thanks thank cheers",
    )
)


#: A clause that gives a reason, not an order ("Helen is travelling", "due to illness", "she's on leave").
_STATEMENT = re.compile(
    r"\b(?:is|are|was|were|will|has|have|had|got|because|since|due|owing|i'm|we're|she's|he's|they're|it's)\b"
)


def _residue(clause: str) -> str:
    """What is left of a clause once every span the rules read, and filler words, are taken out."""
    rest = clause
    for pattern in (
        _ISO,
        _DAY_MONTH,
        _MONTH_DAY,
        _SWAP,
        _TOPIC,
        _RANGE,
        _FROM,
        _LIST,
        _CANCEL,
        _SHIFT_VERB,
        _SHIFT,
        _DELTA_VERB,
        _DELTA,
        _ABSOLUTE,
        _ALL,
        _ADD,
        _DROP,
        _MOVE,
        _SESSION,
    ):
        rest = pattern.sub(" ", rest)
    rest = re.sub(r"\bcompress\w*|\b(?:mon|tues|wednes|thurs|fri|satur|sun)day\b|\d+|[^\w\s']", " ", rest)
    return " ".join(w for w in rest.split() if w not in _FILLER_WORDS)


def parse_edits(instruction: str, plan: Plan) -> list[Edit]:
    """The edits in an instruction, in order; [] when the offline coach does not understand it."""
    return read_instruction(instruction, plan)[0]


def read_instruction(instruction: str, plan: Plan) -> tuple[list[Edit], list[str]]:
    """The edits in an instruction, and its clauses with words no rule reads ("close the gap" in
    "drop session 4 and close the gap")."""
    text = _normalise(_hours_to_minutes(" ".join(instruction.lower().split())), plan)
    unread: list[str] = []
    edits: list[Edit] = []
    current: int | None = None
    pending_from: int | None = None  # "from session 4 on, push back two weeks"
    for clause in _clauses(text):
        # A reason ("Helen is travelling in late January") is not an edit; an order no rule reads is named.
        if _residue(clause) and not _STATEMENT.search(clause):
            unread.append(clause)
        if m := _SESSION.search(clause):
            current = int(m.group(1))
        if m := _CANCEL.search(clause):
            edits.append(Edit("cancel", session=int(m.group(1) or m.group(2))))
            continue
        if re.search(r"\bcompress\b", clause) and not _SESSION.search(clause):
            continue  # "compress the rest" goes with the cancellation already read
        if m := _SWAP.search(clause):
            edits.append(Edit("swap", session=int(m.group(1)), other=int(m.group(2))))
            continue
        if shift := _shift_days(clause):
            if m := _RANGE.search(clause):
                edits.append(Edit("shift", session=int(m.group(1)), other=int(m.group(2)), days=shift))
            elif start_from := _from_session(clause) or pending_from:
                edits.append(Edit("shift", session=start_from, days=shift))
            elif _ALL.search(clause) or current is None:
                # "the rest" after "move session 3 and the rest ..." starts at the session named before it.
                start = current if current is not None and re.search(r"\bthe\s+rest\b", clause) else None
                edits.append(Edit("shift", session=current if _SESSION.search(clause) else start or 1, days=shift))
            else:
                edits.append(Edit("date", session=current, days=shift))
            pending_from = None
            continue
        if start := _from_session(clause):
            pending_from = start
            continue
        if _ADD.search(clause):
            topic = _TOPIC.search(clause[_ADD.search(clause).end() :])  # type: ignore[union-attr]
            edits.append(Edit("add", topic=_clean(topic.group(1)) if topic else None))
            continue
        if _DROP.search(clause) and (m := _RANGE.search(clause)):
            # "drop sessions 4 and 5": the later one first, so the numbers still mean what was asked.
            edits += [Edit("drop", session=n) for n in range(int(m.group(2)), int(m.group(1)) - 1, -1)]
            continue
        if _DROP.search(clause) and _SESSION.search(clause) and not _ABSOLUTE.search(clause):
            edits.append(Edit("drop", session=current))
            continue
        near = _session_date(plan, current)
        date = _parse_date(clause, near) if near else None
        if date is not None:
            edits.append(Edit("date", session=current, date=date))
            continue
        length: Edit | None = None
        if m := _DELTA.search(clause):
            sign = 1 if m.group(2) in {"longer", "more"} else -1
            length = Edit("length", session=current, delta=sign * int(m.group(1)))
        elif m := _DELTA_VERB.search(clause):
            sign = 1 if m.group(1) in {"lengthen", "longer", "extend"} else -1
            length = Edit("length", session=current, delta=sign * int(m.group(2)))
        elif m := _ABSOLUTE.search(clause):
            length = Edit("length", session=current, minutes=int(m.group(1)))
        # A topic may share the clause with a length: "make session 2 a 30-minute session about Teams".
        rest = _ABSOLUTE.sub(" ", _DELTA.sub(" ", clause))
        if (m := _TOPIC.search(rest)) and _clean(m.group(1)):
            edits.append(Edit("topic", session=current, topic=_clean(m.group(1))))
        if length is not None and length.session is None and _ALL.search(clause) and plan.sessions:
            # "make every session an hour": each session, not an unnamed one.
            # "make every session an hour": each session, not an unnamed one.
            edits += [
                Edit("length", session=n, minutes=length.minutes, delta=length.delta)
                for n in range(1, len(plan.sessions) + 1)
            ]
        elif length is not None:
            edits.append(length)
    return edits, unread


def _from_session(clause: str) -> int | None:
    """The first session of "from session 3 on", "session 3 onwards" or "after session 2" (3), else None."""
    if m := _FROM.search(clause):
        return int(m.group(1) or m.group(2) or m.group(3)) + (m.group(3) is not None)
    return None


def _shift_days(clause: str) -> int | None:
    """Days a clause moves dates by ("two weeks later" 14, "bring it forward a week" -7), or None."""
    if m := _SHIFT.search(clause):
        count, unit, way = m.group(1), m.group(2), m.group(3)
    elif m := _SHIFT_VERB.search(clause):
        verb, way, count, unit = m.group(1), m.group(2), m.group(3), m.group(4)
        if way == "by":
            way = "earlier" if verb in {"bring", "pull"} else "later"
    else:
        return None
    days = (_NUMBER_WORDS.get(count) or int(count)) * _UNIT_DAYS[unit]
    return -days if way in {"earlier", "sooner", "forward"} else days


def _hours_to_minutes(text: str) -> str:
    """'half an hour' -> '30 minutes', 'an hour and a half' -> '90 minutes', '2 hours' -> '120 minutes'."""
    text = re.sub(r"\b(?:an?|one)\s+hour\s+and\s+a\s+half\b", "90 minutes", text)
    text = re.sub(r"\bhalf\s+an\s+hour\b", "30 minutes", text)
    text = re.sub(r"\b(?:an?|one)\s+hour\b", "60 minutes", text)
    return re.sub(r"\b(\d+)\s*hours?\b", lambda m: f"{int(m.group(1)) * 60} minutes", text)


def looks_like_edit(text: str) -> bool:
    """Whether a message reads as an edit to a plan ("make session 3 about Teams", "session 2 was cancelled")."""
    q = " ".join(text.lower().split())
    if _SWAP.search(q) or (_ALL.search(q) and _shift_days(q)):
        return True  # "swap sessions 2 and 3", "push everything back two weeks"
    if not re.search(r"\bsession\s*\d+\b|\badd\s+(?:an?\s+|another\s+|one\s+more\s+)?session\b", q):
        return False
    verbs = r"\b(?:make|change|move|drop|remove|delete|add|shorten|lengthen|extend|reschedule|swap|replace|switch)\b"
    return bool(re.search(verbs, q) or _CANCEL.search(q) or _DELTA.search(q) or _SHIFT.search(q))


def _clean(text: str) -> str:
    text = _FILLER.sub("", text).strip(" .,'\"")
    text = re.sub(r"^(?:the\s+topic\s+of\s+|a\s+session\s+on\s+)", "", text)
    return " ".join(text.split())


def _session_date(plan: Plan, number: int | None) -> dt.date | None:
    if number is None or not 1 <= number <= len(plan.sessions):
        return plan.sessions[0].date if plan.sessions else None
    return plan.sessions[number - 1].date
