"""Hostile input: time and peak memory per input, and chat latency while heavy requests run.

    .venv/bin/python benchmarks/hostile.py [--chats 30] [--skip-app]

Each CLI input runs in its own process, so its peak RSS is its own. The app part launches `coach ui`
on a loopback port, measures chat p50/p95 when quiet, then again while four heavy requests
(two 1 MB revision texts, two real revisions, each in a loop) run at the same time.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "tests" / "unit"), str(ROOT / "tests" / "ui")]
os.environ.setdefault("HF_HUB_OFFLINE", "1")

QUESTIONS = ["Explain phishing simply", "How do I start with ChatGPT?", "What is a Slack channel for?"]


def run_cli(args: list[str], home: Path, stdin: str | None = None) -> tuple[int, float, int]:
    """Exit code, wall seconds and peak RSS (MB) of one CLI run in its own process."""
    from test_hostile_input import PEAK_SCRIPT

    env = {**os.environ, "COACH_HOME": str(home)}
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", PEAK_SCRIPT, *args], input=stdin, capture_output=True, text=True, env=env, timeout=600
    )
    wall = time.perf_counter() - start
    peak = int(proc.stderr.rsplit("PEAK_KB=", 1)[1].split()[0]) // 1024 if "PEAK_KB=" in proc.stderr else -1
    return proc.returncode, wall, peak


def cli_inputs(tmp: Path) -> None:
    """Print one line per hostile CLI input."""
    from test_hostile_input import alias_bomb, deep

    home = tmp / "cli-home"
    files = {
        "alias bomb (9 levels of aliases), pair add": ("bomb.yaml", alias_bomb(), ["pair", "add"]),
        "nesting 3,000 deep, plan": ("deep.yaml", deep(3000), ["plan", "--pair"]),
        "10 MB goal, pair add": (
            "huge.yaml",
            "mentor: {name: A, role: B}\n"
            f"mentee: {{name: C, role: D, goals: ['{'x' * 10_000_000}']}}\n"
            "program: {sessions: 4, minutes: 60, cadence: weekly, start: 2027-01-04}\n",
            ["pair", "add"],
        ),
    }
    for label, (name, text, args) in files.items():
        path = tmp / name
        path.write_text(text)
        code, wall, peak = run_cli([*args, str(path)], home)
        print(f"{label:<40} exit {code}  {wall:6.2f} s  peak {peak:5d} MB  ({len(text.encode()):,} bytes)")
    plan = tmp / "plan.json"
    # Index first, so the revision figures are the revision's, not a first-time index build's.
    subprocess.run(
        [sys.executable, "-m", "coach.cli", "index"], check=True, env={**os.environ, "COACH_HOME": str(home)}
    )
    subprocess.run(
        [sys.executable, "-m", "coach.cli", "plan", "--pair", str(ROOT / "examples" / "pair.yaml"), "--format", "json"],
        stdout=plan.open("w"),
        check=True,
        env={**os.environ, "COACH_HOME": str(home)},
    )
    for size in (1_000, 100_000, 1_000_000):
        text = ("push everything back a week and " * (size // 32 + 1))[:size]
        code, wall, peak = run_cli(["revise", "--plan", str(plan), "-"], home, stdin=text)
        print(f"{f'revision text of {size:,} chars':<40} exit {code}  {wall:6.2f} s  peak {peak:5d} MB")


def chat_latencies(url: str, n: int) -> list[float]:
    """Wall seconds of `n` chat requests, one after another."""
    from gradio_client import Client

    client = Client(url, verbose=False)
    out = []
    for i in range(n):
        start = time.perf_counter()
        client.predict(QUESTIONS[i % len(QUESTIONS)], [], "mentor", "example", api_name="/chat")
        out.append(time.perf_counter() - start)
    return out


def heavy_loop(url: str, stop: Any, kind: str, done: Any) -> None:
    """In a process of its own: send heavy requests of one kind until told to stop.

    The kinds are a plan, a real revision and a 1 MB revision text; each answer (or refusal) is put
    on `done` as (time, label). A process, not a thread: the clients must not slow the chat client's
    own interpreter, or the benchmark would measure itself.
    """
    from gradio_client import Client
    from test_app_client import FORM

    client = Client(url, verbose=False)
    if kind != "plan":
        # The plan to revise lives in this client's page state: generate it first, as a user would.
        client.predict(**FORM, api_name="/generate_plan")
    session = 2
    refused: set[str] = set()
    while not stop.is_set():
        try:
            if kind == "plan":
                client.predict(**FORM, api_name="/generate_plan")
            else:
                session = 5 - session  # sessions 2 and 3 in turn, so each revision changes the plan
                text = "make it shorter " * 65_000 if kind == "1 MB revision" else "make it about Teams"
                client.predict(f"Session {session}", text, api_name="/revise_plan")
            done.put((time.time(), kind))
        except Exception as exc:  # the figure is the chat latency; a refused heavy request is fine
            label = f"{kind}: {type(exc).__name__}"
            done.put((time.time(), label))
            if label not in refused and not stop.is_set():
                refused.add(label)
                print(f"  ({kind} refused: {str(exc)[:160]})")
            time.sleep(0.5)  # a refusal comes back at once: do not spin


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[18]


def app_under_load(tmp: Path, chats: int) -> None:
    """Print chat p50/p95 quiet and with four heavy requests running."""
    from uiapp import launch, stop

    from coach.config import load_settings
    from coach.index import build_index

    index_home = tmp / "index-home"
    os.environ["COACH_HOME"] = str(index_home)
    build_index(load_settings())
    app = launch(tmp / "app", index_home, None, None)
    try:
        chat_latencies(app.url, 3)  # warm up
        quiet = chat_latencies(app.url, chats)
        print(f"chat quiet:        p50 {statistics.median(quiet) * 1000:7.0f} ms  p95 {p95(quiet) * 1000:7.0f} ms")
        import multiprocessing

        ctx = multiprocessing.get_context("spawn")
        stop_event = ctx.Event()
        queue: Any = ctx.Queue()
        workers = [
            ctx.Process(target=heavy_loop, args=(app.url, stop_event, kind, queue), daemon=True)
            for kind in ("plan", "plan", "real revision", "1 MB revision")
        ]
        for w in workers:
            w.start()
        done: list[tuple[float, str]] = []
        # Measure only once every kind of heavy request is running steadily (workers warm, plans made).
        deadline = time.monotonic() + 300
        while len({label.split(":")[0] for _t, label in done}) < 3 and time.monotonic() < deadline:
            done.append(queue.get(timeout=300))
        start_wall = time.time()
        start = time.perf_counter()
        loaded = chat_latencies(app.url, chats)
        window = time.perf_counter() - start
        end_wall = time.time()
        stop_event.set()
        for w in workers:
            w.join(timeout=60)
            if w.is_alive():
                w.terminate()
        while not queue.empty():
            done.append(queue.get())
        during = [label for t, label in done if start_wall <= t <= end_wall]
        print(f"chat with 4 heavy: p50 {statistics.median(loaded) * 1000:7.0f} ms  p95 {p95(loaded) * 1000:7.0f} ms")
        print(f"ratio p95 loaded / quiet: {p95(loaded) / p95(quiet):.2f} (target <= 2.0)")
        counts = ", ".join(f"{k}: {during.count(k)}" for k in sorted(set(during)))
        print(f"heavy requests answered during those {window:.1f} s: {len(during)} ({counts})")
    finally:
        stop(app)


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chats", type=int, default=30)
    parser.add_argument("--skip-app", action="store_true", help="only the CLI inputs")
    args = parser.parse_args()
    # Figures depend on what else runs: say how busy the machine was.
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start")
    tmp = Path(tempfile.mkdtemp(prefix="hostile-"))
    try:
        cli_inputs(tmp)
        if not args.skip_app:
            app_under_load(tmp, args.chats)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
