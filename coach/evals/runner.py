"""The suite runner: each case's plan or answer from an engine (offline or a model), scored, as one run."""

from __future__ import annotations

import datetime as dt
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
    """The model's own plan for the pair, before any session falls back to the offline draft.

    This runs the same requests as `coach.chains.write_plan` (same prompts, checks and repair
    messages, one per session) but keeps each session's last text the model wrote that could be
    read, valid or not, so the suite scores what the model wrote. Returns (plan or None, source,
    note, attempts); source is "model" or "no plan".
    """
    from coach.chains import MAX_ATTEMPTS, concurrency_for, session_jobs
    from coach.checks import check_plan
    from coach.session_writer import write_sessions

    kb = retriever.kb
    jobs = session_jobs(pair, draft, kb, provider)
    if all(j.skip for j in jobs):
        return None, "not asked", f"no session can be asked: session 1 {jobs[0].skip}", 0
    outcome = write_sessions(
        provider,
        draft,
        jobs,
        lambda p: check_plan(p, pair, kb),
        list(dict.fromkeys(j.system for j in jobs)),
        concurrency_for(provider, provider.settings),
        attempts=max_attempts or MAX_ATTEMPTS,
    )
    failed = outcome.fallbacks
    note = "; ".join(f"session {n}: {why}" for n, why in sorted(failed.items())) or None
    if not any(r.last_readable for r in outcome.results):
        return None, "no plan", note, outcome.attempts
    sessions = [r.last_readable or d for r, d in zip(outcome.results, draft.sessions, strict=True)]
    by = provider.generated_by().model_copy(update={"sessions": [r.number for r in outcome.results if r.last_readable]})
    plan = draft.model_copy(update={"sessions": sessions, "generated_by": by, "attempts": outcome.attempts})
    return plan, "model", note, outcome.attempts


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
