"""Request bodies are bounded before they are read (issue 18): 413 above the limit, uploads excepted."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from ui.request_limits import BodyLimit


def _client(limit: int) -> TestClient:
    async def echo(request: Request) -> Any:
        return PlainTextResponse(str(len(await request.body())))

    app = Starlette(
        routes=[
            Route("/gradio_api/queue/join", echo, methods=["POST"]),
            Route("/gradio_api/upload", echo, methods=["POST"]),
        ],
        middleware=[Middleware(BodyLimit, limit=limit)],
    )
    return TestClient(app, base_url="http://127.0.0.1")


def test_bodies_over_the_limit_are_refused_before_reading() -> None:
    with _client(1000) as client:
        assert client.post("/gradio_api/queue/join", content=b"x" * 1000).text == "1000"
        refused = client.post("/gradio_api/queue/join", content=b"x" * 1001)
        assert refused.status_code == 413 and "too large" in refused.json()["detail"]
        # Uploads have their own limit (Gradio's max_file_size), not this one.
        assert client.post("/gradio_api/upload", content=b"x" * 5000).text == "5000"


def test_a_body_without_a_length_is_cut_off_at_the_limit() -> None:
    def chunks() -> Any:
        for _ in range(10):
            yield b"x" * 400

    import pytest
    from starlette.requests import ClientDisconnect

    # The handler never sees more than the limit: reading on ends as if the client had gone.
    with _client(1000) as client, pytest.raises(ClientDisconnect):
        client.post("/gradio_api/queue/join", content=chunks())
    with _client(10_000) as client:
        assert client.post("/gradio_api/queue/join", content=chunks()).text == "4000"
