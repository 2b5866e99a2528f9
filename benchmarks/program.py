"""Program-store benchmark: roster import, `coach report` and cohort planning throughput.

Prints four figures against the issues' targets (2-core machine):
  import of 1,000 pairs <= 5 s; `coach report` on 1,000 pairs x 12 sessions <= 2 s; the same report with
  every pair's assessments (both sides' baseline and closing, a follow-up for some) <= 2 s;
  cohort planning >= 5 plans/s.

Usage: .venv/bin/python benchmarks/program.py [--pairs 1000] [--plan-pairs 60] [--concurrency N] [--no-planning]
Runs in a throwaway $COACH_HOME (SQLite, or --database-url); builds the index there once.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOALS = [
    "use generative AI to draft board reports safely",
    "understand how Gen Z customers choose brands",
    "run meetings in Teams without email chains",
    "read a sales dashboard without help",
    "spot phishing and deepfake fraud",
    "build a personal brand on LinkedIn",
    "automate the weekly status report",
    "ask better questions of data",
]
ROLES = ["Chief Financial Officer", "Head of Sales", "HR Director", "COO", "General Counsel", "Plant Manager"]
COMFORT = ["generative-ai=1", "social-media=2", "data-literacy=2", "collaboration-tools=3", "cybersecurity-privacy=1"]


def write_roster(path: Path, n: int, seed: int = 7) -> None:
    """A realistic roster of n pairs (varied goals, lengths and cadences)."""
    rng = random.Random(seed)
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(
            [
                "mentor_name",
                "mentor_role",
                "mentor_strengths",
                "mentee_name",
                "mentee_role",
                "goals",
                "comfort",
                "sessions",
                "minutes",
                "cadence",
                "start",
            ]
        )
        for i in range(n):
            w.writerow(
                [
                    f"Mentor {i}",
                    "Analyst",
                    "prompting chat assistants;TikTok trends",
                    f"Leader {i}",
                    rng.choice(ROLES),
                    ";".join(rng.sample(GOALS, rng.randint(1, 3))),
                    ";".join(rng.sample(COMFORT, 2)),
                    rng.choice([4, 6, 8, 12]),
                    rng.choice([30, 45, 60, 90]),
                    rng.choice(["weekly", "biweekly", "monthly"]),
                    (dt.date(2026, 1, 5) + dt.timedelta(days=rng.randint(0, 60))).isoformat(),
                ]
            )


def seed_sessions(store, sessions_each: int = 12) -> int:
    """Give every pair a plan summary and `sessions_each` logged sessions with both ratings (bulk, untimed)."""
    import json

    from sqlalchemy import insert, select

    from coach.store import FeedbackRow, PairRow, PlanRow, SessionRecord, utcnow

    rng = random.Random(11)
    now = utcnow()

    def run(s):
        pairs = list(s.execute(select(PairRow.id, PairRow.start, PairRow.goals_total)))
        plans, recs, fbs = [], [], []
        rid = 0
        for pid, start, goals in pairs:
            sg = {str(n): [n % goals] for n in range(1, sessions_each + 1)}
            plans.append(
                {
                    "pair_id": pid,
                    "version": 1,
                    "reason": "benchmark",
                    "engine": "offline",
                    "model": "cards",
                    "run_id": None,
                    "sessions": sessions_each,
                    "session_goals": json.dumps(sg),
                    "plan_json": "{}",
                    "created_at": now,
                }
            )
            for n in range(1, sessions_each + 1):
                rid += 1
                status = rng.choices(["held", "cancelled", "moved"], [8, 1, 1])[0]
                date = start + dt.timedelta(days=14 * (n - 1))
                recs.append(
                    {
                        "id": rid,
                        "pair_id": pid,
                        "number": n,
                        "status": status,
                        "date": date,
                        "notes": "",
                        "created_at": now,
                    }
                )
                if status == "held":
                    for side in ("mentor", "mentee"):
                        fbs.append(
                            {
                                "pair_id": pid,
                                "session_record_id": rid,
                                "number": n,
                                "side": side,
                                "rating": rng.randint(2, 5),
                                "comment": "",
                                "created_at": now,
                            }
                        )
        s.execute(insert(PlanRow), plans)
        s.execute(insert(SessionRecord), recs)
        s.execute(insert(FeedbackRow), fbs)
        return len(recs)

    return store.write(run)


def seed_assessments(store) -> int:
    """Give every pair both sides' baseline and closing assessments and a 3-month follow-up for a third (bulk)."""
    import json

    from sqlalchemy import insert, select

    from coach.assessments import domains
    from coach.store import AssessmentRow, PairRow, utcnow

    rng = random.Random(13)
    now = utcnow()
    names = domains()

    def run(s):
        rows = []
        for pid, start, goals in s.execute(select(PairRow.id, PairRow.start, PairRow.goals_total)):
            for side in ("mentor", "mentee"):
                rated = rng.sample(names, 4)
                base = {d: rng.randint(1, 3) for d in rated}
                for kind, on, comfort, months in (
                    ("baseline", start - dt.timedelta(days=3), base, None),
                    (
                        "closing",
                        start + dt.timedelta(days=180),
                        {d: min(5, v + rng.randint(0, 2)) for d, v in base.items()},
                        None,
                    ),
                    ("followup", start + dt.timedelta(days=270), {rated[0]: 4}, 3),
                ):
                    if kind == "followup" and rng.random() > 0.33:
                        continue
                    rows.append(
                        {
                            "pair_id": pid,
                            "side": side,
                            "kind": kind,
                            "followup_months": months,
                            "assessed_on": on,
                            "comfort_json": json.dumps(comfort),
                            "goals_json": json.dumps({str(g): rng.randint(-2, 2) for g in range(1, goals + 1)}),
                            "used_at_work": True if kind == "followup" else None,
                            "example": "drafted the board memo with an assistant" if kind == "followup" else "",
                            "recommend": rng.randint(5, 10) if kind == "closing" else None,
                            "entered_by": "benchmark",
                            "created_at": now,
                        }
                    )
        s.execute(insert(AssessmentRow), rows)
        return len(rows)

    return store.write(run)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pairs", type=int, default=1000)
    ap.add_argument("--plan-pairs", type=int, default=60, help="pairs planned for the throughput figure")
    ap.add_argument("--concurrency", type=int, default=None)
    ap.add_argument("--database-url", default=None, help="an empty PostgreSQL database to run against")
    ap.add_argument("--no-planning", action="store_true", help="skip the cohort planning figure (no index build)")
    args = ap.parse_args()

    # Never the user's own $COACH_HOME or database: the benchmark writes thousands of rows.
    work = Path(tempfile.mkdtemp(prefix="coach-bench-program-"))
    os.environ["COACH_HOME"] = str(work / "home")
    os.environ.pop("COACH_DATABASE_URL", None)
    if args.database_url:
        os.environ["COACH_DATABASE_URL"] = args.database_url
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    from coach.cohort import plan_cohort
    from coach.config import load_settings
    from coach.roster import import_roster
    from coach.store import open_store

    settings = load_settings()
    store = open_store(settings)
    coach = [sys.executable, "-m", "coach.cli"]
    if (Path(sys.executable).parent / "coach").exists():
        coach = [str(Path(sys.executable).parent / "coach")]

    # 1. Import 1,000 pairs: validation + one transaction (in-process, and the CLI end to end).
    roster = work / "roster.csv"
    write_roster(roster, args.pairs)
    t = time.perf_counter()
    import_roster(settings, roster, cohort="bench")
    t_import = time.perf_counter() - t
    t = time.perf_counter()
    subprocess.run([*coach, "cohort", "import", str(roster), "--cohort", "bench-cli"], check=True, capture_output=True)
    t_import_cli = time.perf_counter() - t
    print(
        f"import {args.pairs} pairs: {t_import:.2f} s in-process, {t_import_cli:.2f} s `coach cohort import` (target <= 5 s)"
    )

    # 2. `coach report` on 1,000 pairs with 12 logged sessions each (the CLI, end to end).
    from sqlalchemy import delete

    from coach.store import PairRow

    store.write(lambda s: s.execute(delete(PairRow).where(PairRow.cohort == "bench-cli")))
    records = seed_sessions(store)
    t = time.perf_counter()
    out = subprocess.run([*coach, "report", "--format", "json"], check=True, capture_output=True)
    t_report = time.perf_counter() - t
    t = time.perf_counter()
    subprocess.run(
        [*coach, "report", "--format", "html", "--out", str(work / "r.html")], check=True, capture_output=True
    )
    t_html = time.perf_counter() - t
    from coach.metrics import build_report

    t = time.perf_counter()
    build_report(store.report_facts())
    t_compute = time.perf_counter() - t
    print(
        f"report on {args.pairs} pairs x 12 sessions ({records} records, {len(out.stdout) // 1024} KiB JSON): "
        f"{t_report:.2f} s `coach report --format json`, {t_html:.2f} s html, {t_compute:.2f} s in-process (target <= 2 s)"
    )

    # 2b. The same report once every pair has both sides' assessments (SPEC 11 outcomes, health, follow-ups).
    assessed = seed_assessments(store)
    t = time.perf_counter()
    out = subprocess.run([*coach, "report", "--format", "json"], check=True, capture_output=True)
    t_report = time.perf_counter() - t
    t = time.perf_counter()
    build_report(store.report_facts())
    t_compute = time.perf_counter() - t
    print(
        f"report on {args.pairs} pairs x 12 sessions with {assessed} assessments "
        f"({len(out.stdout) // 1024} KiB JSON): {t_report:.2f} s `coach report --format json`, "
        f"{t_compute:.2f} s in-process (target <= 2 s)"
    )
    if args.no_planning:
        return

    # 3. Cohort planning throughput, offline engine, committed plan by plan.
    from coach.index import build_index
    from coach.retrieval import get_retriever

    build_index(settings)
    retriever = get_retriever(settings)
    plan_roster = work / "plan.csv"
    write_roster(plan_roster, args.plan_pairs, seed=99)
    import_roster(settings, plan_roster, cohort="bench-plan")
    result = plan_cohort(settings, "bench-plan", concurrency=args.concurrency, retriever=retriever)
    bound = args.concurrency or settings.concurrency
    print(
        f"cohort planning: {result.planned} plans in {result.seconds:.2f} s = {result.rate:.1f} plans/s "
        f"(concurrency {bound}, {len(result.failed)} failed; target >= 5 plans/s)"
    )


if __name__ == "__main__":
    main()
