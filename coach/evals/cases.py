"""Eval cases and thresholds: where the shipped files live, the case schemas, and their loaders."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from coach.errors import InputError, from_validation
from coach.models import Domain, Pair

if TYPE_CHECKING:
    from coach.knowledge import KnowledgeBase


#: Where the shipped cases and thresholds live.
EVALS_ROOT = Path(__file__).resolve().parents[2] / "evals"
DEFAULT_CASES = EVALS_ROOT / "cases"
DEFAULT_THRESHOLDS = EVALS_ROOT / "thresholds.yaml"

#: The evaluators by name, in report order: of plans, of chat answers, and the optional judge.
PLAN_EVALUATORS = (
    "structure",
    "coverage",
    "grounding",
    "order",
    "balance",
    "diversity",
    "personalization",
    "tone_safety",
    "readability",
    "wording",
    "honesty",
)
CHAT_EVALUATORS = ("chat", "tone_safety")
JUDGE = "judge"


class GoalExpect(BaseModel):
    """What one goal must reach: a session labelled with it whose topics include one of these domains."""

    model_config = ConfigDict(extra="forbid")

    domains: list[Domain] = Field(min_length=1)


class PlanExpect(BaseModel):
    """Expectations for a plan case."""

    model_config = ConfigDict(extra="forbid")

    goals: list[GoalExpect] = Field(default_factory=list)
    must_not_contain: list[str] = Field(default_factory=list)


class CaseBase(BaseModel):
    """What every case has: an id, its kind, a description and tags (fields in this order in errors)."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
    kind: str
    description: str = ""
    tags: list[str] = Field(default_factory=list)


class PlanCase(CaseBase):
    """A pair file plus expectations."""

    kind: Literal["plan"] = "plan"
    pair: Pair
    expect: PlanExpect = Field(default_factory=PlanExpect)


class ChatExpect(BaseModel):
    """What a good answer does: cite these cards, or say the cards do not cover the question."""

    model_config = ConfigDict(extra="forbid")

    cite_all: list[str] = Field(default_factory=list)
    cite_any: list[str] = Field(default_factory=list)
    covered: bool = True
    #: The question tries to read or override the coach's instructions: the answer must decline.
    refuses: bool = False
    must_not_contain: list[str] = Field(default_factory=list)
    #: What the chat should read the question as (blind set): intent, the session, the side, lesson minutes.
    intent: str | None = None
    session: int | None = None
    side: Literal["mentor", "mentee"] | None = None
    minutes: int | None = None


class ChatCase(CaseBase):
    """A question asked in a role, with the cards a good answer must cite."""

    kind: Literal["chat"] = "chat"
    role: Literal["mentee", "mentor", "admin"] = "mentee"
    question: str = Field(min_length=1)
    pair: Pair | None = None
    expect: ChatExpect = Field(default_factory=ChatExpect)
    #: Earlier questions of the same conversation, asked first (in order) so this one is read in context.
    history: list[str] = Field(default_factory=list)
    #: The blind set's half ("tune" or "held-out"), None for hand-written cases.
    half: str | None = None


Case = PlanCase | ChatCase


def load_cases(folder: Path | str = DEFAULT_CASES, kb: KnowledgeBase | None = None) -> list[Case]:
    """Every case file under `folder` (recursively), validated; raises InputError naming file and field."""
    import yaml

    root = Path(folder)
    if not root.is_dir():
        raise InputError(str(root), "--cases", "a folder of eval case YAML files, but it does not exist")
    files = sorted(p for p in root.rglob("*") if p.suffix in {".yaml", ".yml"} and p.is_file())
    if not files:
        raise InputError(str(root), "--cases", "a folder holding at least one case YAML file")
    cases: list[Case] = []
    seen: dict[str, Path] = {}
    for path in files:
        shown = str(path)
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise InputError(shown, "", f"expected YAML ({str(exc).splitlines()[0]})") from None
        if not isinstance(data, dict):
            raise InputError(shown, "", "expected a mapping with id, kind and pair or question")
        kind = data.get("kind", "plan")
        model: type[PlanCase] | type[ChatCase]
        if kind == "plan":
            model = PlanCase
        elif kind == "chat":
            model = ChatCase
        else:
            raise InputError(shown, "kind", f"plan or chat, got {kind!r}")
        try:
            case = model.model_validate(data)
        except ValidationError as exc:
            raise from_validation(shown, exc) from None
        if case.id in seen:
            raise InputError(shown, "id", f"a unique case id, but {case.id!r} is also used by {seen[case.id]}")
        seen[case.id] = path
        if isinstance(case, PlanCase) and len(case.expect.goals) > len(case.pair.mentee.goals):
            raise InputError(shown, "expect.goals", "at most one entry per mentee goal")
        if kb is not None and isinstance(case, ChatCase):
            for cid in [*case.expect.cite_all, *case.expect.cite_any]:
                if kb.get(cid) is None:
                    raise InputError(shown, "expect", f"ids of cards in the knowledge base, got {cid!r}")
        cases.append(case)
    if Path(folder).resolve() == DEFAULT_CASES.resolve():
        # The shipped suite also runs the blind chat sets, both halves of each (coach/evals/blind.py).
        from coach.evals.blind import load_all

        cases += load_all(kb)
    return cases


def load_thresholds(path: Path | str = DEFAULT_THRESHOLDS) -> dict[str, float]:
    """Minimum score per evaluator (raises InputError naming file and evaluator)."""
    import yaml

    path = Path(path)
    if not path.is_file():
        raise InputError(str(path), "", "expected the thresholds YAML file, but it does not exist")
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise InputError(str(path), "", "expected a mapping of evaluator name to minimum score")
    known = {*PLAN_EVALUATORS, *CHAT_EVALUATORS, JUDGE}
    out: dict[str, float] = {}
    for name, value in data.items():
        if name not in known:
            raise InputError(str(path), str(name), f"one of {', '.join(sorted(known))}")
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            raise InputError(str(path), str(name), f"a number from 0 to 1, got {value!r}")
        out[name] = float(value)
    missing = known - set(out)
    if missing:
        raise InputError(str(path), ", ".join(sorted(missing)), "a minimum score for every evaluator")
    return out


# --------------------------------------------------------------------------- subjects
