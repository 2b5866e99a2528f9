"""Time the offline eval suite (prints; never asserts).

Runs `coach eval --engine offline` in a fresh process, as CI and `make evals` do, so the figure
includes start-up, loading the embedding model and the index, planning every case, scoring and
storing the run. The target is under 60 s for the shipped cases on a 2-core machine.

Also prints the in-process split: planning/answering (the engine) versus scoring (the evaluators).

Run: .venv/bin/python benchmarks/evals.py [--cases DIR] [--runs N]
Needs the index ($COACH_HOME; `coach index` builds it).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def whole_process(cases: Path, db: Path) -> tuple[float, int]:
    """Wall time and exit code of `coach eval --engine offline` in its own process."""
    env = {**os.environ, "COACH_DATABASE_URL": f"sqlite:///{db}", "HF_HUB_OFFLINE": "1"}
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "coach.cli", "eval", "--engine", "offline", "--cases", str(cases), "--format", "json"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    return time.perf_counter() - started, proc.returncode


def split(cases: Path) -> None:
    """Engine time versus scoring time, in this process (warm)."""
    from coach.config import load_settings
    from coach.evals.cases import load_cases, load_thresholds
    from coach.evals.runner import produce
    from coach.evals.scoring import score_produced
    from coach.retrieval import get_retriever

    t0 = time.perf_counter()
    retriever = get_retriever(load_settings())
    t1 = time.perf_counter()
    loaded = load_cases(cases, retriever.kb)
    produced = [produce(c, retriever, None) for c in loaded]
    t2 = time.perf_counter()
    score_produced(produced, retriever.kb, retriever, load_thresholds())
    t3 = time.perf_counter()
    plans = sum(1 for c in loaded if c.kind == "plan")
    print(f"  open retriever       {t1 - t0:6.2f} s")
    print(f"  plan/answer {len(loaded):3d} cases {t2 - t1:6.2f} s  ({plans} plans, {len(loaded) - plans} chat)")
    print(f"  score                {t3 - t2:6.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=Path, default=ROOT / "evals" / "cases")
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    print(f"offline eval suite, {os.cpu_count()} cores, cases in {args.cases}")
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.runs):
            seconds, code = whole_process(args.cases, Path(tmp) / "runs.db")
            verdict = (
                "passed its thresholds"
                if code == 0
                else f"exit {code} (below a threshold)"
                if code == 1
                else f"exit {code}"
            )
            print(f"run {i + 1}: whole process {seconds:.1f} s (target < 60 s), {verdict}")
    print("in-process split (warm):")
    split(args.cases)


if __name__ == "__main__":
    main()
