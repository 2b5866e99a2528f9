"""Who may see and do what: the one permission layer used by the API, the CLI and the app.

An admin sees every pair, the program report and the audit log, and manages accounts. A
participant sees only the pairs they are linked to, and records sessions and ratings for their
own side of those pairs. A pair someone may not see is answered exactly as a pair that does not
exist (`NotVisible`), so its existence is not revealed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from coach.errors import CoachError

if TYPE_CHECKING:
    from coach.store.accounts import Account


class Denied(CoachError):
    """The caller is known but may not do this (HTTP 403)."""


class NotVisible(CoachError):
    """No such pair, or one the caller may not see (HTTP 404; the two are never told apart)."""


def can_see_pair(account: Account | None, pair_id: str) -> bool:
    """Whether `account` may see the pair: admins all, participants their own."""
    if account is None:
        return False
    return account.is_admin or pair_id in account.pairs


def visible_pairs(account: Account | None, all_pair_ids: list[str]) -> list[str]:
    """The pair ids of `all_pair_ids` that `account` may see, in the same order."""
    return [pid for pid in all_pair_ids if can_see_pair(account, pid)]


def require_pair(account: Account | None, pair_id: str) -> None:
    """Raise NotVisible unless `account` may see the pair."""
    if not can_see_pair(account, pair_id):
        raise NotVisible(f"no pair {pair_id!r}")


def side_for_logging(account: Account, pair_id: str, rated: bool) -> str | None:
    """The side a session record (and its rating) is stored as.

    A participant records as their own side of the pair. An admin may record what happened to a
    session but has no side, so an admin's record cannot carry a rating (Denied).
    """
    require_pair(account, pair_id)
    if account.is_admin and pair_id not in account.pairs:
        if rated:
            raise Denied("an admin has no side in the pair: ratings come from the mentor or the mentee")
        return None
    return account.pairs[pair_id]


def can_view_report(account: Account | None) -> bool:
    """The program report (every pair's figures) is for admins only."""
    return account is not None and account.is_admin


def require_admin(account: Account | None, what: str = "this") -> None:
    """Raise Denied unless `account` is an admin."""
    if not (account is not None and account.is_admin):
        raise Denied(f"only an admin may use {what}")


def side_for_assessment(account: Account, pair_id: str, side: str | None) -> str:
    """The side an assessment is stored as.

    A participant assesses their own side only (naming the other side is Denied). An admin with
    no side in the pair enters a participant's answers (e.g. from paper) and must name the side.
    """
    require_pair(account, pair_id)
    own = account.pairs.get(pair_id)
    if own is not None:
        if side is not None and side != own:
            raise Denied(f"you assess your own side ({own}) of the pair")
        return own
    if side is None:
        from coach.errors import InputError

        raise InputError("body", "side", "mentor or mentee: an admin names whose answers these are")
    return side
