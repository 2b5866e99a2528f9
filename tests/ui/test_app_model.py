"""The app with a model engine (a loopback OpenAI-compatible test server): streamed, cited, sanitised answers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fakeserver import FakeOpenAI, text
from uiapp import RunningApp, launch, stop

pytestmark = pytest.mark.integration

MODEL_ANSWER = (
    "Hallucinations are confident answers that are wrong [genai-hallucinations-fact-checking].\n"
    "Check every number against the source. <script>window.__x = 1</script>\n"
    '<img src=x onerror="alert(1)"> and [see this](javascript:alert(1)) [not-a-real-card]\n'
)


@pytest.fixture(scope="module")
def model_app(
    shared_index_home: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[RunningApp, FakeOpenAI]]:
    with FakeOpenAI() as server:
        server.always(text(MODEL_ANSWER, as_tool_call=False))
        tmp = tmp_path_factory.mktemp("model-app")
        env = {
            "COACH_MODEL": "openai:fake-model",
            "OPENAI_BASE_URL": server.url,
            "COACH_MAX_RETRIES": "1",
            "COACH_TIMEOUT": "20",
        }
        app = launch(tmp, shared_index_home, None, None, env)
        yield app, server
        stop(app)


def test_model_answer_streams_with_links_and_no_markup(model_app, client_for) -> None:
    from test_app_client import LINK, text_of

    app, server = model_app
    client = client_for(app)
    job = client.submit("Explain hallucinations simply", [], "mentee", "none", api_name="/chat")
    history, _, _ = job.result(timeout=120)
    final = text_of(history[-1])
    assert server.requests, "the model was asked"
    assert "confident answers that are wrong" in final
    assert "&lt;script&gt;" in final
    for raw in ("<script", "<img", "](javascript:"):
        assert raw not in final, raw
    targets = {t for _, t in LINK.findall(final)}
    assert "genai-hallucinations-fact-checking" in targets
    assert "not-a-real-card" not in targets
    steps = [text_of(o[0][-1]) for o in job.outputs() if o[0]]
    assert len(steps) >= 3
