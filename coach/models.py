"""Pydantic schemas: topic cards, the pair file and the plan (see SPEC.md)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from coach import limits

Domain = Literal[
    "generative-ai",
    "consumer-trends",
    "collaboration-tools",
    "social-media",
    "digital-workflow",
    "data-literacy",
    "cybersecurity-privacy",
    "strategy-context",
    "leadership-communication",
    "career-navigation",
    "program-practice",
]
DOMAINS: tuple[str, ...] = Domain.__args__  # type: ignore[attr-defined]
#: What the junior mentor teaches.
MENTOR_DOMAINS: tuple[str, ...] = DOMAINS[:7]
#: What the senior leader gives back (the two-way half).
SENIOR_DOMAINS: tuple[str, ...] = DOMAINS[7:10]
PROGRAM_DOMAIN = "program-practice"

Lead = Literal["mentor", "mentee", "both"]
Level = Literal["intro", "intermediate", "advanced"]
Cadence = Literal["weekly", "biweekly", "monthly"]
ActivityFormat = Literal[
    "demo", "hands-on", "discussion", "reflection", "role-play", "exercise", "walkthrough", "review"
]
ResourceKind = Literal["book", "tool", "help-page", "article", "course", "podcast", "template", "report"]

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
URL = re.compile(r"https?://|www\.", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
REVIEW_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


class Strict(BaseModel):
    """Base model that rejects unknown keys, so a typo is never ignored."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# --------------------------------------------------------------------------- cards


#: One piece of card text (a summary, an objective, a pitfall ...), bounded like every input.
CardText = Annotated[str, Field(min_length=1, max_length=limits.CARD_FIELD_CHARS)]


class KeyConcept(Strict):
    """A term and its meaning in plain words."""

    term: str = Field(min_length=1, max_length=limits.CARD_FIELD_CHARS)
    meaning: str = Field(min_length=1, max_length=limits.CARD_FIELD_CHARS)


class Activity(Strict):
    """A timed activity a session can run."""

    title: str = Field(min_length=1, max_length=limits.CARD_FIELD_CHARS)
    minutes: int = Field(ge=1, le=120)
    format: ActivityFormat
    lead: Lead
    description: str = Field(min_length=1, max_length=limits.CARD_FIELD_CHARS)


class CardPrompt(Strict):
    """A discussion prompt on a card; `{mentor}`, `{mentee}`, `{mentee_role}`... may be filled in."""

    text: str = Field(min_length=1, max_length=limits.CARD_FIELD_CHARS)
    asked_by: Lead


class Resource(Strict):
    """A named book, tool or help page; never a URL."""

    name: str = Field(min_length=1, max_length=limits.CARD_FIELD_CHARS)
    kind: ResourceKind
    note: str = Field(default="", max_length=limits.CARD_FIELD_CHARS)

    @field_validator("name", "note")
    @classmethod
    def _no_url(cls, value: str) -> str:
        if URL.search(value):
            raise ValueError("resources are named, not linked: remove the URL")
        return value


class Card(Strict):
    """One skill-topic card of the knowledge base."""

    id: str
    title: str = Field(min_length=1, max_length=limits.CARD_FIELD_CHARS)
    domain: Domain
    level: Level
    summary: str = Field(min_length=1, max_length=limits.CARD_FIELD_CHARS)
    objectives: list[CardText] = Field(min_length=1, max_length=limits.CARD_LIST_MAX)
    key_concepts: list[KeyConcept] = Field(min_length=1, max_length=limits.CARD_LIST_MAX)
    activities: list[Activity] = Field(min_length=1, max_length=limits.CARD_LIST_MAX)
    discussion_prompts: list[CardPrompt] = Field(min_length=1, max_length=limits.CARD_LIST_MAX)
    pitfalls: list[CardText] = Field(default_factory=list, max_length=limits.CARD_LIST_MAX)
    pre_work: list[CardText] = Field(default_factory=list, max_length=limits.CARD_LIST_MAX)
    resources: list[Resource] = Field(default_factory=list, max_length=limits.CARD_LIST_MAX)
    prerequisites: list[CardText] = Field(default_factory=list, max_length=limits.CARD_LIST_MAX)
    tags: list[CardText] = Field(default_factory=list, max_length=limits.CARD_LIST_MAX)
    #: Questions as people type them that this card answers ("chatgpt made up a number in my report"),
    #: written from the card alone; searched by the chat beside the card's own words (coach/index.py).
    asks: list[CardText] = Field(default_factory=list, max_length=limits.CARD_LIST_MAX)
    #: Questions that sound close to this card but that no card answers ("write me a DAX measure" near the
    #: spreadsheet card), written from the knowledge base alone; the chat's coverage rule reads how close a
    #: question comes to them (coach/coverage.py). Never shown, never searched for plans.
    beyond: list[CardText] = Field(default_factory=list, max_length=limits.CARD_LIST_MAX)
    #: The month the card was last checked, `YYYY-MM` (SPEC.md section 5).
    reviewed: str | None = None
    #: DigComp 2.2 competences the card builds, by number such as "2.4" (SPEC.md section 5; coach/digcomp.py).
    digcomp: list[str] = Field(default_factory=list)
    #: Where the card was loaded from (set by the loader, not written in YAML).
    source: str = Field(default="", exclude=True)

    @field_validator("id")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not SLUG.match(value):
            raise ValueError("expected a lowercase slug such as 'genai-prompting-basics'")
        return value

    @field_validator("digcomp", mode="before")
    @classmethod
    def _digcomp(cls, value: Any) -> Any:
        from coach.digcomp import check_ids

        if value is None:
            return []
        if not isinstance(value, list):
            raise ValueError("expected a list of DigComp 2.2 competence numbers such as ['1.2', '4.2']")
        # YAML reads an unquoted 2.4 as a number; the framework's numbers are labels, kept as text.
        return check_ids([f"{v:.1f}" if isinstance(v, float) else str(v) for v in value])

    @field_validator("reviewed", mode="before")
    @classmethod
    def _review_month(cls, value: Any) -> Any:
        if value is None:
            return None
        text = value if isinstance(value, str) else ""
        match = REVIEW_MONTH.match(text.strip())
        if not match:
            raise ValueError("expected the month the card was last checked as YYYY-MM, such as '2026-12'")
        year, month = int(match[1]), int(match[2])
        if not 1 <= month <= 12:
            raise ValueError(f"expected a month 01..12 in YYYY-MM, got month {match[2]}")
        today = dt.date.today()
        if (year, month) > (today.year, today.month):
            raise ValueError(f"expected a month not after this one ({today:%Y-%m}); a review cannot be in the future")
        return text.strip()

    def text_for_index(self) -> str:
        """The text that retrieval sees: title, summary, concepts, objectives and tags."""
        parts = [self.title, self.summary, " ".join(self.tags)]
        parts += [f"{k.term}: {k.meaning}" for k in self.key_concepts]
        parts += self.objectives
        return "\n".join(parts)


# --------------------------------------------------------------------------- pair file


def _plain_text(value: str) -> str:
    """Refuse control characters: they break exports and print terminal escapes in listings."""
    if _CONTROL.search(value):
        raise ValueError("control characters (such as escape or NUL) are not allowed")
    return value


PlainName = Annotated[str, Field(min_length=1, max_length=limits.NAME_CHARS), AfterValidator(_plain_text)]
PlainRole = Annotated[str, Field(min_length=1, max_length=limits.ROLE_CHARS), AfterValidator(_plain_text)]
GoalText = Annotated[str, Field(min_length=1, max_length=limits.GOAL_CHARS), AfterValidator(_plain_text)]
_EMAIL = re.compile(r"^[^@\s<>,;]{1,64}@[^@\s<>,;]{1,190}\.[A-Za-z]{2,24}$")


def _email(value: str | None) -> str | None:
    if value is not None and not _EMAIL.match(value):
        raise ValueError("expected an email address such as 'priya.shah@example.com'")
    return value


Email = Annotated[str | None, AfterValidator(_email)]


def check_comfort(value: dict[str, int]) -> dict[str, int]:
    """Comfort ratings run 1 (new to it) to 5 (fluent) per domain."""
    for domain, level in value.items():
        if not 1 <= level <= 5:
            raise ValueError(f"comfort for {domain} must be 1 (new to it) to 5 (fluent), got {level}")
    return value


class Mentor(Strict):
    """The junior colleague who teaches."""

    name: PlainName
    role: PlainRole
    strengths: list[GoalText] = Field(default_factory=list, max_length=limits.STRENGTHS_MAX)
    email: Email = None


class Mentee(Strict):
    """The senior leader who learns."""

    name: PlainName
    role: PlainRole
    goals: list[GoalText] = Field(min_length=1, max_length=limits.GOALS_MAX)
    comfort: dict[Domain, int] = Field(default_factory=dict)
    email: Email = None

    @field_validator("comfort")
    @classmethod
    def _comfort_range(cls, value: dict[str, int]) -> dict[str, int]:
        return check_comfort(value)


class Program(Strict):
    """Length and rhythm of the pairing."""

    sessions: int = Field(ge=1, le=24)
    minutes: int = Field(ge=15, le=180)
    cadence: Cadence
    start: dt.date
    #: Local start time of every session (SPEC.md section 2); all-day calendar events without it.
    time: dt.time | None = None
    #: IANA time zone of `time`, such as Europe/London.
    timezone: str | None = None

    @field_validator("start", mode="before")
    @classmethod
    def _start_date(cls, value: Any) -> Any:
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value.strip())
            except ValueError:
                raise ValueError("expected a real date as YYYY-MM-DD, such as 2026-01-12") from None
        return value

    @field_validator("time", mode="before")
    @classmethod
    def _clock(cls, value: Any) -> Any:
        # YAML 1.1 reads an unquoted 9:30 as the base-60 number 570.
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 24 * 60:
            return dt.time(value // 60, value % 60)
        if isinstance(value, str) and re.fullmatch(r"([01]?\d|2[0-3]):[0-5]\d", value.strip()):
            hour, minute = value.strip().split(":")
            return dt.time(int(hour), int(minute))
        if value is None or isinstance(value, dt.time):
            return value
        raise ValueError("expected a local start time as HH:MM (24 h), such as '09:30'")

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        if value is None:
            return None
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("expected an IANA time zone such as 'Europe/London'") from None
        return value

    @model_validator(mode="after")
    def _zone_with_time(self) -> Program:
        if self.time is not None and self.timezone is None:
            raise ValueError("timezone: expected an IANA time zone (such as Europe/London) to go with `time`")
        return self


class Pair(Strict):
    """One mentoring pair, as written in the pair YAML file."""

    mentor: Mentor
    mentee: Mentee
    program: Program


# --------------------------------------------------------------------------- plan


class PersonRef(BaseModel):
    """Name and role of one side of the pair."""

    name: str
    role: str


class PlanTopic(BaseModel):
    """A card a session covers."""

    id: str
    title: str
    domain: Domain


class AgendaItem(BaseModel):
    """One timed block of a session."""

    minutes: int = Field(ge=1)
    activity: str
    lead: Lead


class DiscussionPrompt(BaseModel):
    """A question one side asks the other."""

    text: str
    asked_by: Lead


class Citation(BaseModel):
    """A card the session draws on, with its file."""

    topic_id: str
    source: str


class SessionDocument(BaseModel):
    """An organisation document a session draws on (SPEC.md section 12): where to read it."""

    doc_id: str
    title: str
    locator: str


class Session(BaseModel):
    """One session of the curriculum."""

    number: int = Field(ge=1)
    date: dt.date
    title: str
    minutes: int = Field(ge=1)
    topics: list[PlanTopic]
    objectives: list[str]
    pre_work: list[str]
    agenda: list[AgendaItem]
    discussion_prompts: list[DiscussionPrompt]
    reflection: list[str]
    citations: list[Citation]
    #: Which mentee goals (by index) this session serves.
    goals: list[int] = Field(default_factory=list)
    #: The organisation's own documents this session draws on; `citations` stay cards only.
    documents: list[SessionDocument] = Field(default_factory=list)


class GeneratedBy(BaseModel):
    """Which engine and model wrote the plan."""

    engine: str = "offline"
    model: str = "cards"
    #: Numbers of the sessions whose words the model wrote (the rest keep the offline draft's text);
    #: None for plans not written session by session (offline plans, revisions), and then left out
    #: of the JSON, so an offline plan reads exactly as before.
    sessions: list[int] | None = Field(default=None, exclude_if=lambda v: v is None)


class Plan(BaseModel):
    """The curriculum of SPEC.md section 3 plus provenance fields."""

    mentor: PersonRef
    mentee: PersonRef
    ground_rules: list[str]
    success_measures: list[str]
    sessions: list[Session]
    goals: list[str] = Field(default_factory=list)
    #: The mentee's goals that no card serves (SPEC.md section 3); never claimed elsewhere in the plan.
    uncovered_goals: list[str] = Field(default_factory=list)
    generated_by: GeneratedBy = Field(default_factory=GeneratedBy)
    attempts: int = 0
    fallback_reason: str | None = None
    usage: dict[str, int] = Field(default_factory=dict)
    notes: list[str] = Field(default_factory=list)

    def to_json_dict(self) -> dict[str, Any]:
        """The plan as JSON-ready data (dates as ISO strings)."""
        return self.model_dump(mode="json")
