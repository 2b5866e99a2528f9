"""Browser sign-ins that survive a reload: the session cookie, its routes and the upload guard.

A sign-in handler (admin password or account) opens a web session in the database
(`coach.store.web_sessions`) and hands its token to the page once; the page posts it to
`/auth/adopt`, which sets it as an HttpOnly, SameSite=Strict cookie that scripts cannot read. Every
later page load and handler looks the cookie's session up in the database again, so a reload keeps
the sign-in, "Log out" ends it for every app process, and nothing about who is signed in lives in
one process's memory. `/auth/sign-out` ends the session and clears the cookie.
"""

from __future__ import annotations

from typing import Any

COOKIE = "coach_session"
#: Routes under this prefix, mounted by ui/app.py next to the JSON API.
PREFIX = "/auth"
#: Runs in the page after a sign-in: the token in the hidden box becomes the HttpOnly cookie.
ADOPT_JS = """
async (token) => {
  if (token) {
    await fetch('/auth/adopt', {method: 'POST', credentials: 'same-origin',
      headers: {'Content-Type': 'application/json'}, body: JSON.stringify({token: token})});
  }
  return [];
}
"""
#: Runs in the page on "Log out": the server ends the session and clears the cookie.
SIGN_OUT_JS = """
async () => {
  await fetch('/auth/sign-out', {method: 'POST', credentials: 'same-origin',
    headers: {'Content-Type': 'application/json'}, body: '{}'});
  return [];
}
"""
#: A JSON body above this size is refused before it is parsed.
MAX_BODY = 1024


def _store() -> Any:
    from coach.store import open_store
    from ui.common import settings

    return open_store(settings())


def token_of(request: Any) -> str | None:
    """The session token of a gr.Request or Starlette request's cookie, if any."""
    if request is None:
        return None
    try:
        cookies = request.cookies
    except AttributeError:
        return None
    value = cookies.get(COOKIE) if cookies else None
    return value if isinstance(value, str) and 0 < len(value) <= 200 else None


def lookup(token: str | None) -> Any:
    """The live web session (coach.store.WebSession) of a token, or None."""
    return _store().web_session(token) if token else None


def open_session(account: Any) -> str:
    """A new web-session token for an account (None: the admin password)."""
    return str(_store().open_web_session(account))


def end(token: str | None) -> None:
    """End the web session of this token (if it is still live)."""
    if token:
        _store().end_web_session(token)


def _secure(request: Any) -> bool:
    return request.url.scheme == "https" or request.headers.get("x-forwarded-proto", "") == "https"


async def _json_body(request: Any) -> dict[str, Any] | None:
    """The small JSON object a same-origin script sent, or None (anything else: refused)."""
    import json

    # A cross-site form can post text/plain or a form, never application/json without a CORS
    # preflight this app does not answer: together with SameSite=Strict this stops CSRF.
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        return None
    body = await request.body()
    if len(body) > MAX_BODY:
        return None
    try:
        data = json.loads(body or b"{}")
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


async def adopt(request: Any) -> Any:
    """POST /auth/adopt {"token"}: set a live session's token as this browser's cookie."""
    from starlette.concurrency import run_in_threadpool
    from starlette.responses import JSONResponse

    data = await _json_body(request)
    token = data.get("token") if data else None
    if not isinstance(token, str) or await run_in_threadpool(lookup, token) is None:
        return JSONResponse({"ok": False, "detail": "no such sign-in"}, status_code=400)
    response = JSONResponse({"ok": True})
    response.set_cookie(
        COOKIE, token, httponly=True, samesite="strict", secure=_secure(request), path="/", max_age=14 * 24 * 3600
    )
    return response


async def sign_out(request: Any) -> Any:
    """POST /auth/sign-out: end this browser's session and clear its cookie."""
    from starlette.concurrency import run_in_threadpool
    from starlette.responses import JSONResponse

    if await _json_body(request) is None:
        return JSONResponse({"ok": False, "detail": "send Content-Type: application/json"}, status_code=415)
    await run_in_threadpool(end, token_of(request))
    response = JSONResponse({"ok": True})
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict", secure=_secure(request))
    return response


def routes() -> list[Any]:
    """The /auth routes, mounted by ui/app.py."""
    from starlette.routing import Mount, Route

    return [
        Mount(
            PREFIX,
            routes=[Route("/adopt", adopt, methods=["POST"]), Route("/sign-out", sign_out, methods=["POST"])],
        )
    ]


class UploadGuard:
    """ASGI middleware: file uploads only from signed-in browsers (used when serving beyond loopback)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope.get("type") == "http" and scope.get("method") == "POST" and scope.get("path", "").endswith("/upload"):
            from starlette.concurrency import run_in_threadpool
            from starlette.requests import Request
            from starlette.responses import JSONResponse

            if await run_in_threadpool(lookup, token_of(Request(scope))) is None:
                response = JSONResponse(
                    {"detail": "Sign in (My pairs, or the admin password) before uploading files."}, status_code=401
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
