"""`/pairs/{id}/assessments`: a participant's baseline, closing or follow-up assessment of their own side.

A participant posts their own side's answers (naming the other side is 403); an admin with no
side in the pair may enter a participant's answers, e.g. from a paper form, by naming `side`
(the entry is audited). A pair the caller may not see is 404, a bad body 422.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from fastapi import APIRouter, Request, status
from pydantic import BaseModel, ConfigDict, Field

from coach.api.auth import Caller, store_of
from coach.api.pairs import _exact_pair
from coach.permissions import side_for_assessment

router = APIRouter(prefix="/pairs", tags=["assessments"])


class AssessmentBody(BaseModel):
    """One side's assessment (SPEC.md section 10); comfort per domain, goal attainment per goal number."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["baseline", "closing", "followup"]
    followup_months: Literal[3, 12, 24] | None = Field(None, description="Which follow-up (followup only).")
    date: dt.date | None = Field(None, description="When it was answered (default today).")
    comfort: dict[str, int] = Field(default_factory=dict, description='{"DOMAIN": 1-5}', max_length=20)
    goals: dict[str, int] = Field(default_factory=dict, description='{"GOAL NUMBER": -2..2}', max_length=20)
    used_at_work: bool | None = Field(None, description="Used it at work since? (followup only)")
    example: str | None = Field(None, max_length=2000, description="An example of that use (followup only).")
    recommend: int | None = Field(None, ge=0, le=10, description="0-10: would you recommend it? (closing only)")
    side: Literal["mentor", "mentee"] | None = Field(None, description="Admins only: whose answers these are.")


class AssessmentOut(BaseModel):
    """The stored assessment."""

    id: int
    pair_id: str
    side: Literal["mentor", "mentee"]
    kind: str
    followup_months: int | None
    date: dt.date
    comfort: dict[str, int]
    goals: dict[str, int]
    used_at_work: bool | None
    example: str
    recommend: int | None


@router.post(
    "/{pair_id}/assessments",
    status_code=status.HTTP_201_CREATED,
    response_model=AssessmentOut,
    summary="Record the caller's own side's assessment",
    responses={
        403: {"description": "A participant named the other side"},
        404: {"description": "No such pair, or not one the caller may see"},
        422: {"description": "A bad body (unknown domain, level out of range, goal number the pair lacks...)"},
    },
)
def post_assessment(request: Request, pair_id: str, body: AssessmentBody, account: Caller) -> AssessmentOut:
    """Validate and store the assessment as the caller's side (or the side an admin names)."""
    from coach.assessments import parse_assessment

    info = _exact_pair(request, account, pair_id)
    side = side_for_assessment(account, info.id, body.side)
    data = body.model_dump(exclude={"side"}, exclude_none=True)
    if "date" in data:
        data["date"] = data["date"].isoformat()
    parsed = parse_assessment(data, side=side, goals_total=len(info.pair.mentee.goals), today=dt.date.today())
    store = store_of(request)
    rid = store.add_assessment(info.id, parsed, account.email)
    if account.pairs.get(info.id) is None:
        store.audit(account.email, "assess", f"pair {info.id}", f"{parsed.slot} for the {side}")
    return AssessmentOut(
        id=rid,
        pair_id=info.id,
        side=side,  # type: ignore[arg-type]
        kind=parsed.kind,
        followup_months=parsed.followup_months,
        date=parsed.assessed_on,
        comfort=parsed.comfort,
        goals={str(k): v for k, v in parsed.goals.items()},
        used_at_work=parsed.used_at_work,
        example=parsed.example,
        recommend=parsed.recommend,
    )
