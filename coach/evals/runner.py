"""The suite runner: each case's plan or answer from an engine (offline or a model), scored, as one run."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from coach.evals.cases import (
    DEFAULT_CASES,
    DEFAULT_THRESHOLDS,
    EVALS_ROOT,
    JUDGE,
    Case,
    ChatCase,
    PlanCase,
    load_cases,
    load_thresholds,
)
from coach.evals.results import Produced, SuiteResult
from coach.evals.scoring import score_produced
from coach.models import Pair, Plan

if TYPE_CHECKING:
    from coach.config import Settings
    from coach.providers import Provider
    from coach.retrieval import Retriever


def git_commit(root: Path | None = None) -> str:
    """The checked-out commit (with `+dirty` when tracked files changed), or "" outside git."""
    where = str(root or EVALS_ROOT.parent)
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=where, capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=where,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""
    return sha + ("+dirty" if dirty else "")


def model_plan(
    pair: Pair, retriever: Retriever, draft: Plan, provider: Provider, max_attempts: int | None = None
) -> tuple[Plan | None, str, str | None, int]:
    """The model's own plan for the pair, before any fallback to the offline draft.

    This runs the same steps as `coach.chains.write_plan` (same cards, prompt, checks and repair
    messages) but keeps the last plan the model wrote that could be read, valid or not. Returns
    (plan or None, source, note, attempts); source is "model", "no plan" or "not asked".
    """
    from coach.chains import (
        MAX_ATTEMPTS,
        estimate_tokens,
        fit_prompt,
        make_evaluator,
        plan_cards,
        plan_prompt,
        plan_to_out,
        repair_loop,
    )
    from coach.checks import check_plan

    kb = retriever.kb
    need = estimate_tokens(json.dumps(plan_to_out(draft), separators=(",", ":")))
    if need > provider.max_tokens:
        return (
            None,
            "not asked",
            f"a {len(draft.sessions)}-session plan needs about {need} output tokens, over the cap of "
            f"{provider.max_tokens} for {provider.model}; the chain would not ask the model",
            0,
        )
    cards = plan_cards(draft, retriever, pair)
    system, user = fit_prompt(lambda cs, d: plan_prompt(pair, cs, draft, d), cards, provider)
    inner = make_evaluator(draft, kb, lambda p: check_plan(p, pair, kb), [system])
    written: list[Plan] = []

    def evaluate(data: dict[str, Any]) -> tuple[Plan | None, list[str]]:
        plan, problems = inner(data)
        if plan is not None:
            written.append(plan)
        return plan, problems

    outcome = repair_loop(provider, system, user, evaluate, max_attempts or MAX_ATTEMPTS)
    if written:
        plan = written[-1].model_copy(update={"generated_by": provider.generated_by(), "attempts": outcome.attempts})
        note = None if outcome.plan is not None else outcome.reason("the model's plan")
        return plan, "model", note, outcome.attempts
    return None, "no plan", outcome.reason("the model's plan"), outcome.attempts


def model_answer(case: ChatCase, retriever: Retriever, provider: Provider) -> tuple[str, str, str | None]:
    """The model's own answer text to a chat case, before the chat's fallbacks and citation clean-up."""
    from coach.chains import stream_chat
    from coach.chat import ChatContext, classify, compose, revise_answer
    from coach.providers import ModelFailure

    ctx = ChatContext(retriever, case.pair, None, case.role)
    intent = classify(case.question, False)
    if intent.kind == "revise":
        return revise_answer(case.question, ctx, provider).text, "model", None
    draft = compose(case.question, ctx, intent)
    if intent.kind == "instructions" or not draft.covered:
        # The chat never asks the model here: the refusal and "not covered" come from the cards.
        return draft.text, "offline", "the chat answers this from the cards without the model"
    from coach.chat import chat_prompt

    system, user = chat_prompt(case.question, ctx, draft, provider.compact)
    try:
        text = "".join(stream_chat(provider, system, user))
    except ModelFailure as exc:
        return "", "no plan", f"the model did not answer: {exc}"
    if not text.strip():
        return "", "no plan", "the model's answer was empty"
    return text, "model", None


def produce(case: Case, retriever: Retriever, provider: Provider | None, max_attempts: int | None = None) -> Produced:
    """Run the engine on one case (offline when provider is None)."""
    from coach.chat import ChatContext, ask
    from coach.planner import build_plan

    started = time.perf_counter()
    if isinstance(case, PlanCase):
        draft = build_plan(case.pair, retriever)
        if provider is None:
            out = Produced(case, plan=draft)
        else:
            plan, source, note, attempts = model_plan(case.pair, retriever, draft, provider, max_attempts)
            out = Produced(case, plan=plan, source=source, note=note, attempts=attempts)
    else:
        if case.history:
            # A conversation turn: the earlier questions are asked first, so this one is read in context.
            from coach.conversation import Conversation

            conv = Conversation(ChatContext(retriever, case.pair, None, case.role), provider)
            for earlier in case.history:
                conv.ask(earlier)
            answer = conv.ask(case.question)
            out = Produced(case, text=answer.text, source=answer.engine, note=answer.note)
        elif provider is None:
            answer = ask(case.question, ChatContext(retriever, case.pair, None, case.role))
            out = Produced(case, text=answer.text)
        else:
            text, source, note = model_answer(case, retriever, provider)
            out = Produced(case, text=text, source=source, note=note)
    out.seconds = time.perf_counter() - started
    return out


Progress = Callable[[int, int, str], None]


def run_suite(
    settings: Settings,
    engine: str = "offline",
    cases_dir: Path | str = DEFAULT_CASES,
    thresholds_path: Path | str = DEFAULT_THRESHOLDS,
    progress: Progress | None = None,
    concurrency: int | None = None,
    max_attempts: int | None = None,
    retriever: Retriever | None = None,
    provider: Provider | None = None,
) -> SuiteResult:
    """Run every case on the engine, score it, and return the run (not stored; see `store_run`).

    Args:
        settings: caps, timeout, concurrency and the judge model.
        engine: offline, local or openai:MODEL.
        cases_dir: folder of case YAML files.
        thresholds_path: minimum score per evaluator.
        progress: called as (done, total, case id) after each case.
        concurrency: bound on concurrent model calls (default COACH_CONCURRENCY); offline and local run in order.
        max_attempts: model attempts per plan (default: the chain's, first answer plus two repairs).
        retriever: an already open retriever (default: opened from the settings).
        provider: an already open model provider (default: opened for `engine`).
    """
    from coach.providers import open_provider, parse_model

    spec = parse_model(engine, settings, "--engine")
    thresholds = load_thresholds(thresholds_path)
    if retriever is None:
        from coach.retrieval import get_retriever

        retriever = get_retriever(settings)
    cases = load_cases(cases_dir, retriever.kb)
    started_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    started = time.perf_counter()
    produced: list[Produced]
    if spec.offline:
        produced = []
        for i, case in enumerate(cases):
            produced.append(produce(case, retriever, None))
            if progress:
                progress(i + 1, len(cases), case.id)
        model_name = "cards"
    else:
        # llama.cpp's server answers one request at a time and interrupts the running one when
        # another arrives, so the local engine runs its cases one after another.
        workers = 1 if spec.engine == "local" else (concurrency or settings.concurrency)
        if provider is not None:
            produced = _produce_concurrently(cases, retriever, provider, workers, progress, max_attempts)
            model_name = provider.model
        else:
            with open_provider(settings, engine) as opened:
                assert opened is not None
                produced = _produce_concurrently(cases, retriever, opened, workers, progress, max_attempts)
                model_name = opened.model
    judge_ctx = _judge(settings)
    with judge_ctx as judge:
        results, skipped = score_produced(produced, retriever.kb, retriever, thresholds, judge)
    if judge is None:
        thresholds = {k: v for k, v in thresholds.items() if k != JUDGE}
    return SuiteResult(
        engine=spec.engine,
        model=model_name,
        cases=results,
        skipped=skipped,
        thresholds=thresholds,
        started_at=started_at,
        seconds=time.perf_counter() - started,
        git_commit=git_commit(),
        cases_dir=str(cases_dir),
    )


def _judge(settings: Settings) -> Any:
    """A context giving the judge's provider, or None when COACH_JUDGE_MODEL is not set."""
    import contextlib

    if not settings.judge_model:
        return contextlib.nullcontext(None)
    from coach.providers import open_provider

    return open_provider(settings, settings.judge_model)


def _produce_concurrently(
    cases: list[Case],
    retriever: Retriever,
    provider: Provider,
    workers: int,
    progress: Progress | None,
    max_attempts: int | None,
) -> list[Produced]:
    """Model cases on a bounded thread pool (model calls are I/O bound); results in case order."""
    out: list[Produced | None] = [None] * len(cases)
    done = 0
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="coach-eval") as pool:
        futures = {pool.submit(produce, c, retriever, provider, max_attempts): i for i, c in enumerate(cases)}
        from concurrent.futures import as_completed

        for fut in as_completed(futures):
            i = futures[fut]
            out[i] = fut.result()
            done += 1
            if progress:
                progress(done, len(cases), cases[i].id)
    return [p for p in out if p is not None]
