"""Bearer-token authentication for the API: the caller's account, or 401."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from coach.store.accounts import Account

if TYPE_CHECKING:
    from coach.store import Store

#: The attribute of `app.state` holding the function that returns the store.
STORE_KEY = "coach_store"

_bearer = HTTPBearer(auto_error=False, description="An API token from `coach user token EMAIL`.")


def default_store() -> Store:
    """The program store of the current settings ($COACH_HOME or COACH_DATABASE_URL)."""
    from coach.config import load_settings
    from coach.store import open_store

    return open_store(load_settings())


def store_of(request: Request) -> Store:
    """The store the API application was built with."""
    return getattr(request.app.state, STORE_KEY)()  # type: ignore[no-any-return]


def caller(request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> Account:
    """The account whose token the request carries; 401 without one or with an unknown one."""
    unauthorized = HTTPException(
        status_code=401, detail="send Authorization: Bearer TOKEN", headers={"WWW-Authenticate": "Bearer"}
    )
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise unauthorized
    account = store_of(request).account_for_token(credentials.credentials)
    if account is None:
        raise unauthorized
    return account


Caller = Annotated[Account, Depends(caller)]
