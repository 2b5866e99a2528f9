"""`/report`: the program report of SPEC.md section 7, for admins only."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from coach.api.auth import Caller, store_of
from coach.permissions import require_admin

router = APIRouter(tags=["report"])


@router.get(
    "/report",
    summary="The program report (SPEC.md section 7)",
    responses={403: {"description": "The caller is a participant"}},
)
def get_report(request: Request, account: Caller, cohort: str | None = None) -> dict[str, Any]:
    """Every pair's sessions, ratings and stalls, and the program totals; admins only (403 otherwise)."""
    from coach import metrics

    require_admin(account, "the program report")
    store = store_of(request)
    data = metrics.build_report(store.report_facts(cohort))
    store.audit(account.email, "read", "report", f"cohort {cohort}" if cohort else "all pairs")
    return data
