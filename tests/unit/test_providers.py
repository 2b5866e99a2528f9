"""COACH_MODEL picks the engine; every engine shares one HTTP path with timeout, retries and caps."""

from __future__ import annotations

import pytest
from fakeserver import FakeOpenAI, error, json_reply, malformed_body, slow, text, use_server

from coach.config import load_settings
from coach.errors import CoachError, InputError
from coach.providers import (
    LOCAL_MODEL_NAME,
    ModelFailure,
    Provider,
    free_port,
    make_provider,
    open_provider,
    parse_model,
    structured_method,
)


def provider() -> Provider:
    settings = load_settings()
    return make_provider(parse_model(settings.model, settings), settings)


def ask(p: Provider, content: str = "hello") -> str:
    from langchain_core.messages import HumanMessage

    return str(p.chat_model().invoke([HumanMessage(content=content)]).content)


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch):
    with FakeOpenAI() as s:
        use_server(monkeypatch, s)
        yield s


# --------------------------------------------------------------------------- choosing the engine


def test_offline_is_the_default() -> None:
    settings = load_settings()
    assert parse_model(settings.model, settings).offline
    with open_provider(settings) as p:
        assert p is None


def test_engines_parse(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    settings = load_settings()
    spec = parse_model("openai:gpt-4o-mini", settings)
    assert (spec.engine, spec.model, spec.base_url) == ("openai", "gpt-4o-mini", "http://127.0.0.1:9/v1")
    local = parse_model("local", settings)
    assert (local.engine, local.model) == ("local", LOCAL_MODEL_NAME)
    assert structured_method(local) == "json_mode"  # llama.cpp answers 500 to json_schema
    assert structured_method(spec) == "json_schema"


def test_local_engine_does_not_retry_its_own_server(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    settings = load_settings()
    local = make_provider(parse_model("local", settings), settings, base_url="http://127.0.0.1:9/v1")
    hosted = make_provider(parse_model("openai:gpt-4o-mini", settings), settings)
    assert local.chat_model().max_retries == 0
    assert hosted.chat_model().max_retries == settings.max_retries > 0


@pytest.mark.parametrize("bad", ["gpt-4o", "openai:", "openai", "anthropic:claude", "local:/no/such/model.gguf"])
def test_bad_model_names_are_input_errors(bad: str) -> None:
    with pytest.raises(InputError) as err:
        parse_model(bad, load_settings())
    assert "COACH_MODEL" in str(err.value)


def test_structured_output_override_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COACH_STRUCTURED_OUTPUT", "xml")
    with pytest.raises(InputError, match="COACH_STRUCTURED_OUTPUT"):
        structured_method(parse_model("openai:m", load_settings()))


def test_openai_without_key_or_base_url_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COACH_MODEL", "openai:gpt-4o-mini")
    with pytest.raises(CoachError, match="needs OPENAI_API_KEY"):
        provider()


def test_cli_rejects_a_bad_model_with_exit_2() -> None:
    from click.testing import CliRunner

    from coach.cli import cli

    result = CliRunner().invoke(cli, ["plan", "--pair", "examples/pair.yaml", "--model", "gpt4"])
    assert result.exit_code == 2
    assert "--model" in result.output and "openai:MODEL" in result.output


# --------------------------------------------------------------------------- the HTTP path


def test_a_base_url_needs_no_key_and_caps_are_sent(server: FakeOpenAI, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COACH_MAX_TOKENS", "321")
    server.push(text("hi there"))
    assert ask(provider()) == "hi there"
    body = server.requests[0]
    assert body["model"] == "fake-model"
    # Both spellings: OpenAI reads max_completion_tokens, llama.cpp and older servers read max_tokens.
    assert body["max_completion_tokens"] == 321 and body["max_tokens"] == 321
    assert server.request_headers[0]["authorization"] == "Bearer not-needed"


def test_retries_429_and_500_with_backoff_then_succeeds(server: FakeOpenAI) -> None:
    server.push(error(429), error(500), text("third time"))
    assert ask(provider()) == "third time"
    assert len(server.requests) == 3


def test_gives_up_after_max_retries_with_a_model_failure(server: FakeOpenAI, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COACH_MAX_RETRIES", "1")
    server.always(error(503, "overloaded"))
    p = provider()
    with pytest.raises(Exception) as exc:
        ask(p)
    failure = p.failure(exc.value)
    assert isinstance(failure, ModelFailure)
    assert "answered 503 (1 retries)" in str(failure)
    assert len(server.requests) == 2


def test_rate_limit_failure_names_429(server: FakeOpenAI, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COACH_MAX_RETRIES", "0")
    server.always(error(429))
    p = provider()
    with pytest.raises(Exception) as exc:
        ask(p)
    assert "429 Too Many Requests" in str(p.failure(exc.value))


def test_slow_answer_times_out_with_the_explicit_timeout(server: FakeOpenAI, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COACH_TIMEOUT", "0.3")
    monkeypatch.setenv("COACH_MAX_RETRIES", "0")
    server.push(slow(2.0))
    p = provider()
    with pytest.raises(Exception) as exc:
        ask(p)
    failure = p.failure(exc.value)
    assert isinstance(failure, ModelFailure)
    assert "did not answer within 0.3s" in str(failure)


def test_malformed_body_is_a_model_failure_not_a_crash(server: FakeOpenAI, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COACH_MAX_RETRIES", "0")
    server.push(malformed_body())
    p = provider()
    with pytest.raises(Exception) as exc:
        ask(p)
    assert isinstance(p.failure(exc.value), ModelFailure)


def test_unreachable_server_is_one_clear_line(monkeypatch: pytest.MonkeyPatch) -> None:
    port = free_port()  # nothing listens there
    monkeypatch.setenv("COACH_MODEL", "openai:m")
    monkeypatch.setenv("OPENAI_BASE_URL", f"http://127.0.0.1:{port}/v1")
    monkeypatch.setenv("COACH_MAX_RETRIES", "0")
    p = provider()
    with pytest.raises(Exception) as exc:
        ask(p)
    failure = p.failure(exc.value)
    assert not isinstance(failure, ModelFailure)  # configuration: stop, do not fall back silently
    message = str(failure)
    assert message.startswith(f"cannot reach the model server at http://127.0.0.1:{port}/v1")
    assert "\n" not in message


def test_wrong_key_is_one_clear_line(monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeOpenAI(api_key="sk-right") as s:
        use_server(monkeypatch, s, OPENAI_API_KEY="sk-wrong")
        p = provider()
        with pytest.raises(Exception) as exc:
            ask(p)
        failure = p.failure(exc.value)
        assert not isinstance(failure, ModelFailure)
        assert "rejected the API key (401)" in str(failure) and "OPENAI_API_KEY" in str(failure)
        # The key itself is never echoed.
        assert "sk-wrong" not in str(failure)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-right")
        s.push(json_reply({"ok": True}))
        assert ask(provider()) == '{"ok": true}'


def test_unknown_model_404_is_a_clear_error(server: FakeOpenAI) -> None:
    server.push(error(404, "The model `fake-model` does not exist"))
    p = provider()
    with pytest.raises(Exception) as exc:
        ask(p)
    assert "answered 404 for model 'fake-model'" in str(p.failure(exc.value))


def test_cli_plan_against_unreachable_server_exits_1_with_one_line(
    monkeypatch: pytest.MonkeyPatch, indexed_home
) -> None:
    from click.testing import CliRunner

    from coach.cli import cli

    monkeypatch.setenv("COACH_MODEL", "openai:m")
    monkeypatch.setenv("OPENAI_BASE_URL", f"http://127.0.0.1:{free_port()}/v1")
    monkeypatch.setenv("COACH_MAX_RETRIES", "0")
    monkeypatch.setenv("COACH_MAX_TOKENS", "20000")  # room for a 6-session plan, so the call is made
    result = CliRunner().invoke(cli, ["plan", "--pair", "examples/pair.yaml", "--format", "json"])
    assert result.exit_code == 1
    assert result.output.startswith("error: cannot reach the model server")
    assert result.output.count("\n") == 1 and "Traceback" not in result.output
