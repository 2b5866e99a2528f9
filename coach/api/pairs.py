"""`/pairs`: the pairs the caller may see, a pair's current plan, and logging a session."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from fastapi import APIRouter, Request, status
from pydantic import BaseModel, ConfigDict, Field

from coach.api.auth import Caller, store_of
from coach.permissions import NotVisible, require_pair, side_for_logging, visible_pairs
from coach.store.accounts import Account

router = APIRouter(prefix="/pairs", tags=["pairs"])


class PairOut(BaseModel):
    """One pair as listed (SPEC.md section 10)."""

    id: str
    mentor: str
    mentee: str
    sessions_planned: int
    side: Literal["mentor", "mentee"] | None = Field(None, description="The caller's side (participants).")


class SessionIn(BaseModel):
    """What happened to a session, with the caller's own rating and comment."""

    model_config = ConfigDict(extra="forbid")

    status: Literal["held", "cancelled", "moved"]
    date: dt.date
    rating: int | None = Field(None, ge=1, le=5, description="1-5, only for a held session.")
    comment: str = Field("", max_length=2000)
    notes: str = Field("", max_length=2000)


class SessionOut(BaseModel):
    """The stored record."""

    id: int
    pair_id: str
    number: int
    status: str
    date: dt.date
    side: Literal["mentor", "mentee"] | None
    rating: int | None
    comment: str


def _exact_pair(request: Request, account: Account, pair_id: str) -> Any:
    """The pair with exactly this id, when the caller may see it; NotVisible otherwise."""
    require_pair(account, pair_id)
    from coach.errors import InputError

    try:
        info = store_of(request).get_pair(pair_id)
    except InputError:
        raise NotVisible(pair_id) from None
    if info.id != pair_id:  # the store accepts id prefixes; the API does not
        raise NotVisible(pair_id)
    return info


@router.get("", response_model=list[PairOut], summary="The pairs the caller may see")
def list_pairs(request: Request, account: Caller) -> list[PairOut]:
    """A participant's own pairs; every pair for an admin."""
    infos = store_of(request).list_pairs()
    allowed = set(visible_pairs(account, [i.id for i in infos]))
    if account.is_admin:
        store_of(request).audit(account.email, "read", "pairs", f"{len(allowed)} pairs")
    return [
        PairOut(
            id=i.id, mentor=i.mentor, mentee=i.mentee, sessions_planned=i.sessions_planned, side=account.pairs.get(i.id)
        )
        for i in infos
        if i.id in allowed
    ]


@router.get(
    "/{pair_id}/plan",
    summary="The pair's current plan (SPEC.md section 3)",
    responses={404: {"description": "No such pair, or not one the caller may see"}},
)
def get_plan(request: Request, pair_id: str, account: Caller) -> dict[str, Any]:
    """The latest plan version as SPEC section 3 JSON; 404 when there is none or the pair is not visible."""
    info = _exact_pair(request, account, pair_id)
    found = store_of(request).get_plan(info.id)
    if found is None:
        raise NotVisible(pair_id)
    if account.is_admin and pair_id not in account.pairs:
        store_of(request).audit(account.email, "read", f"pair {info.id}", f"plan v{found.version}")
    data: dict[str, Any] = found.plan.model_dump(mode="json")
    return data


@router.post(
    "/{pair_id}/sessions/{number}",
    status_code=status.HTTP_201_CREATED,
    response_model=SessionOut,
    summary="Log what happened to session N, with the caller's rating",
    responses={
        403: {"description": "An admin sent a rating (admins have no side)"},
        404: {"description": "No such pair, or not one the caller may see"},
        422: {"description": "A bad body or session number"},
    },
)
def log_session(request: Request, pair_id: str, number: int, body: SessionIn, account: Caller) -> SessionOut:
    """Record the session; the rating and comment are stored as the caller's own side's."""
    info = _exact_pair(request, account, pair_id)
    side = side_for_logging(account, info.id, rated=body.rating is not None)
    if body.rating is None and body.comment:
        from coach.errors import InputError

        raise InputError("body", "comment", "a rating with the comment (a comment goes with a 1-5 rating)")
    ratings = {side: (body.rating, body.comment)} if side is not None and body.rating is not None else {}
    rid = store_of(request).log_session(info.id, number, body.status, body.date, body.notes, ratings)
    return SessionOut(
        id=rid,
        pair_id=info.id,
        number=number,
        status=body.status,
        date=body.date,
        side=side,  # type: ignore[arg-type]
        rating=body.rating,
        comment=body.comment,
    )
