"""The JSON API of SPEC.md section 10, served under `/api/v1` on the app's own port.

`create_api()` builds a FastAPI application (one router per resource: `pairs`, `assessments`, `report`) that
`ui/app.py` mounts at `/api/v1` on the FastAPI app Gradio runs on; its OpenAPI page is then
`/api/v1/docs`. Every route authenticates with `Authorization: Bearer TOKEN` (`auth`) and asks
`coach.permissions` what the caller may see and do. Nothing is imported until `create_api` runs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fastapi import FastAPI

    from coach.store import Store

#: Where ui/app.py mounts the API.
PREFIX = "/api/v1"


def create_api(store: Callable[[], Store] | None = None) -> FastAPI:
    """The API application; `store` returns the program store (default: the one of $COACH_HOME).

    Args:
        store: A function returning the Store to use (tests pass their own).
    """
    from fastapi import FastAPI, Request
    from fastapi.responses import JSONResponse

    from coach.api import assessments, pairs, report
    from coach.api.auth import STORE_KEY, default_store
    from coach.errors import InputError
    from coach.permissions import Denied, NotVisible

    app = FastAPI(
        title="Mentor Coach API",
        version="1",
        description="Pairs, plans, session logs and the program report (SPEC.md section 10). "
        "Send `Authorization: Bearer TOKEN`; `coach user token EMAIL` prints a token.",
        docs_url="/docs",
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.state.__setattr__(STORE_KEY, store or default_store)

    @app.exception_handler(NotVisible)
    async def _not_visible(_request: Request, _exc: NotVisible) -> Any:
        return JSONResponse({"detail": "no such pair"}, status_code=404)

    @app.exception_handler(Denied)
    async def _denied(_request: Request, exc: Denied) -> Any:
        return JSONResponse({"detail": str(exc)}, status_code=403)

    @app.exception_handler(InputError)
    async def _bad_input(_request: Request, exc: InputError) -> Any:
        return JSONResponse({"detail": [{"loc": ["body", exc.field], "msg": exc.expected}]}, status_code=422)

    app.include_router(pairs.router)
    app.include_router(assessments.router)
    app.include_router(report.router)
    return app
