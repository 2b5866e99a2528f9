"""Cohort planning: plan one stored pair, or every pair of a cohort (concurrent, resumable).

The roster import is in `coach.roster`; re-planning after cancellations is in `coach.replan`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from coach.errors import CoachError

if TYPE_CHECKING:
    from coach.config import Settings
    from coach.knowledge import KnowledgeBase
    from coach.models import Pair, Plan
    from coach.providers import Provider
    from coach.retrieval import Retriever
    from coach.store import Store


# --------------------------------------------------------------------------- planning one pair


def check_or_raise(plan: Plan, pair: Pair, kb: KnowledgeBase) -> None:
    """Raise CoachError when the plan breaks a rule of coach.checks."""
    from coach.checks import check_plan

    problems = check_plan(plan, pair, kb)
    if problems:
        raise CoachError("the plan failed its checks: " + "; ".join(problems))


def plan_pair(settings: Settings, pair_id: str, reason: str = "generated", retriever: Retriever | None = None) -> Plan:
    """Build the offline plan for a stored pair, check it and store it as a new version."""
    from coach.planner import build_plan
    from coach.retrieval import get_retriever
    from coach.store import open_store

    store = open_store(settings)
    info = store.get_pair(pair_id)
    retriever = retriever or get_retriever(settings)
    plan = build_plan(info.pair, retriever)
    check_or_raise(plan, info.pair, retriever.kb)
    store.save_plan(info.id, plan, reason)
    return plan


# --------------------------------------------------------------------------- cohort planning


@dataclass
class CohortResult:
    """What a `coach cohort plan` run did."""

    run_id: int
    resumed: bool
    total: int
    already_done: int
    planned: int = 0
    failed: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    #: Token counts summed over the plans a model wrote in this run.
    usage: dict[str, int] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        """Plans per second of this run."""
        return self.planned / self.seconds if self.seconds > 0 else 0.0


@dataclass
class PairDone:
    """One pair of a cohort run, finished: its plan or why it failed, and how long it took."""

    pair_id: str
    names: str
    seconds: float
    plan: Plan | None = None
    error: str | None = None


def pair_line(done: PairDone) -> str:
    """One pair of a run in words: who, how many sessions the model wrote, tokens and time."""
    if done.plan is None:
        return f"{done.pair_id} ({done.names}): failed after {done.seconds:.1f} s: {done.error}"
    plan = done.plan
    by = plan.generated_by
    if by.engine == "offline":
        return f"{done.pair_id} ({done.names}): {len(plan.sessions)} sessions, offline, {done.seconds:.1f} s"
    wrote = len(by.sessions or []) if plan.fallback_reason is None else 0
    kept = [s.number for s in plan.sessions if s.number not in set(by.sessions or [])]
    why = f"; offline text kept for session {', '.join(map(str, kept))}" if kept else ""
    return (
        f"{done.pair_id} ({done.names}): the model wrote {wrote} of {len(plan.sessions)} sessions{why}; "
        f"{plan.usage.get('completion_tokens', 0):,} completion tokens, {done.seconds:.1f} s"
    )


def _plan_one(pair: Pair, retriever: Retriever, settings: Settings, provider: Provider | None) -> Plan:
    from coach.planner import build_plan

    plan = build_plan(pair, retriever)
    if provider is not None:
        from coach.chains import write_plan

        plan = write_plan(pair, retriever, settings, plan, provider=provider)
    check_or_raise(plan, pair, retriever.kb)
    return plan


def plan_stored_pair(settings: Settings, ident: str) -> tuple[str, int, Plan]:
    """Plan one stored pair as `coach cohort plan` would and store it as a new version.

    Returns the pair id, the new version and the plan. Raises InputError for an unknown pair and
    CoachError when the plan fails its checks (nothing is stored then).
    """
    from coach.providers import open_provider
    from coach.retrieval import get_retriever
    from coach.store import open_store

    store = open_store(settings)
    info = store.get_pair(ident)
    with open_provider(settings) as provider:
        plan = _plan_one(info.pair, get_retriever(settings), settings, provider)
    return info.id, store.save_plan(info.id, plan, "planned with coach pair plan"), plan


def plan_cohort(
    settings: Settings,
    cohort: str | None = None,
    replan_all: bool = False,
    concurrency: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    retriever: Retriever | None = None,
    wait: float = 0.0,
    on_pair: Callable[[PairDone], None] | None = None,
) -> CohortResult:
    """Plan every pair of the cohort (or all pairs) with at most `concurrency` plans in flight.

    Each plan is committed as soon as it is ready, so a crash keeps the finished ones; the next
    call resumes the unfinished run and plans only the rest. By default a run plans the pairs
    with no plan yet; `replan_all` stores a new version for every pair.

    Args:
        settings: Database, knowledge base and the default concurrency (COACH_CONCURRENCY).
        cohort: Only this cohort's pairs; None for every stored pair.
        replan_all: Plan pairs that already have a plan too (each gets a new version).
        concurrency: Plans built at once; defaults to settings.concurrency.
        progress: Called with (done, total) after each pair.
        retriever: A retriever to reuse (else one is opened from settings).
        wait: Seconds to wait for another run of this database to finish before giving up.
        on_pair: Called with each finished pair (its plan or error and time), for a per-pair report.

    With a model configured (`COACH_MODEL`), each pair's sessions are written by it as in `coach plan`.

    Raises:
        coach.store.Busy: another run holds the cohort lock (after `wait` seconds).
    """
    from coach.store import open_store

    store = open_store(settings)
    # One writer per database: a second run would take the first's open run for a crashed one and
    # plan every pair twice. The lock dies with its holder, so a crashed run is resumed by the next.
    with store.writer_lock("cohort-plan", wait=wait, what="another `coach cohort plan` run"):
        from coach.providers import open_provider

        with open_provider(settings) as provider:
            return _plan_cohort_locked(
                store, settings, cohort, replan_all, concurrency, progress, retriever, provider, on_pair
            )


def _plan_cohort_locked(
    store: Store,
    settings: Settings,
    cohort: str | None,
    replan_all: bool,
    concurrency: int | None,
    progress: Callable[[int, int], None] | None,
    retriever: Retriever | None,
    provider: Provider | None = None,
    on_pair: Callable[[PairDone], None] | None = None,
) -> CohortResult:
    from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

    mode = "all" if replan_all else "missing"
    run_id, resumed = store.open_run(cohort, mode)
    todo = store.pairs_to_plan(run_id, cohort, mode)
    in_scope = len(store.list_pairs(cohort))
    result = CohortResult(run_id=run_id, resumed=resumed, total=in_scope, already_done=in_scope - len(todo))
    started = time.perf_counter()
    if progress:
        progress(result.already_done, result.total)
    if todo:
        if retriever is None:
            from coach.retrieval import get_retriever

            retriever = get_retriever(settings)
        bound = max(1, concurrency or settings.concurrency)
        reason = f"cohort plan (run {run_id})"
        pending = iter(todo)
        in_flight: dict[Future[Plan], tuple[str, str, float]] = {}
        # The bound is on plans in flight: submit more only as results come back.
        with ThreadPoolExecutor(max_workers=bound, thread_name_prefix="cohort-plan") as pool:

            def submit_next() -> bool:
                info = next(pending, None)
                if info is None:
                    return False
                names = f"{info.pair.mentee.name} & {info.pair.mentor.name}"
                job = pool.submit(_plan_one, info.pair, retriever, settings, provider)
                in_flight[job] = (info.id, names, time.perf_counter())
                return True

            for _ in range(bound):
                if not submit_next():
                    break
            while in_flight:
                done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
                for fut in done:
                    pid, names, began = in_flight.pop(fut)
                    finished = PairDone(pid, names, time.perf_counter() - began)
                    try:
                        plan = fut.result()
                    except CoachError as exc:
                        result.failed[pid] = finished.error = str(exc)
                    else:
                        # Committed one by one in this thread: a kill loses at most the plans in flight.
                        store.save_plan(pid, plan, reason, run_id=run_id)
                        result.planned += 1
                        finished.plan = plan
                        for key, value in plan.usage.items():
                            result.usage[key] = result.usage.get(key, 0) + value
                    if on_pair:
                        on_pair(finished)
                    if progress:
                        progress(result.already_done + result.planned + len(result.failed), result.total)
                    submit_next()
    result.seconds = time.perf_counter() - started
    if not result.failed:
        store.finish_run(run_id)
    return result
