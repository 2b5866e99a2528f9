"""A size limit on every request body but file uploads, checked before the body is read or parsed.

Gradio parses a request's JSON on the server's event loop before any handler can refuse an
over-long value, so ten megabytes of "goal" or "revision text" would cost every other visitor time
even though the handler then refuses it. Bodies above `MAX_BODY_BYTES` are refused with 413 from the
Content-Length header alone; a body sent without one is cut off once it passes the limit. Values
below it reach the handlers, which refuse them by the limits of coach.limits with a message. File uploads have their
own limit (coach.limits.UPLOAD_BYTES, applied by Gradio's upload route).
"""

from __future__ import annotations

from typing import Any

#: Largest request body: room for a long conversation or a 1 MB value the handler refuses in words.
MAX_BODY_BYTES = 2 * 1024 * 1024


class BodyLimit:
    """ASGI middleware: 413 for a request body over MAX_BODY_BYTES (uploads excepted)."""

    def __init__(self, app: Any, limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope.get("type") != "http" or scope.get("path", "").endswith("/upload"):
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.limit):
            await self._refuse(scope, receive, send)
            return
        seen = 0

        async def counted() -> dict[str, Any]:
            nonlocal seen
            message: dict[str, Any] = await receive()
            if message.get("type") == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    # No Content-Length and too long: end the body here, as if the client had gone.
                    return {"type": "http.disconnect"}
            return message

        await self.app(scope, counted, send)

    async def _refuse(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        from starlette.responses import JSONResponse

        response = JSONResponse(
            {"detail": f"The request is too large (over {self.limit // 1024} KB). Nothing was changed."},
            status_code=413,
        )
        await response(scope, receive, send)
