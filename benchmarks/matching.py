"""Matching time: n juniors x n seniors, from a people file to the chosen pairs with their reasons.

    .venv/bin/python benchmarks/matching.py [--sizes 100 500 1000] [--distinct 1200]

Each size is a fresh process-level cold start for the phrases: the card passages are loaded once
(as `coach match` does per process), but every phrase of the roster is embedded, because the
phrase cache is cleared before each size. "Scoring included" means: embedding every distinct
phrase, relating it to the cards, the three criteria for every junior x senior cell, the hard
constraints, the assignment (linear_sum_assignment over capacity slots) and the reasons with their
evidence for every chosen pair.

People write from a shared vocabulary (tools, topics, goals), so a roster's phrases repeat; the
generator builds phrases from templates and `--distinct` bounds how many different phrases a roster
can hold (the figure printed is the number actually used). Embedding is the cost that grows with
it, at a few milliseconds per phrase on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT)]
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("COACH_HOME", str(ROOT / ".coach"))

TOOLS = [
    "ChatGPT", "Copilot", "Excel", "Power BI", "Tableau", "TikTok", "Instagram", "LinkedIn", "YouTube Shorts",
    "Slack", "Microsoft Teams", "Zapier", "Power Automate", "Notion", "Trello", "DocuSign", "Canva", "Midjourney",
    "password managers", "MFA", "Google Sheets", "Miro", "Loom", "Outlook rules",
]  # fmt: skip
USES = [
    "for first drafts", "dashboards", "automations", "for meeting notes", "trend spotting", "shortcuts",
    "for reports", "templates", "for customer research", "for presentations", "channels", "for approvals",
]  # fmt: skip
GOALS = [
    "use {t} to draft board papers", "read {t} dashboards without help", "understand how Gen Z uses {t}",
    "run better meetings in {t}", "automate approvals with {t}", "stay safe from scams on {t}",
    "build a personal brand on {t}", "summarise long reports with {t}", "follow what customers say on {t}",
]  # fmt: skip
JUNIOR_GOALS = [
    "understand how the board decides on budgets", "learn how promotions are decided", "present to executives",
    "build a network outside my team", "understand how the business makes money", "handle difficult conversations",
    "find a sponsor", "learn how strategy is set", "get better at negotiating", "understand the P&L",
]  # fmt: skip
DOMAINS = ["generative-ai", "consumer-trends", "collaboration-tools", "social-media", "digital-workflow"]


def roster(n: int, distinct: int, seed: int = 7) -> dict:
    """n juniors and n seniors with realistic phrases, managers, do_not_pair and capacities."""
    rng = random.Random(seed)
    strengths = [f"{t} {u}" for t in TOOLS for u in USES]
    goals = [g.format(t=t) for g in GOALS for t in TOOLS]
    rng.shuffle(strengths)
    rng.shuffle(goals)
    strengths, goals = strengths[: distinct // 2], goals[: distinct // 2]
    people = []
    for i in range(n):
        people.append(
            {
                "id": f"j{i}",
                "name": f"Junior {i}",
                "role": "Analyst",
                "side": "junior",
                "manager": f"m{rng.randrange(n // 10 + 1)}",
                "strengths": rng.sample(strengths, 3),
                "goals": rng.sample(JUNIOR_GOALS, 2),
                "capacity": 1 + (i % 5 == 0),
                "do_not_pair": [f"s{rng.randrange(n)}"] if i % 20 == 0 else [],
            }
        )
    for i in range(n):
        people.append(
            {
                "id": f"s{i}",
                "name": f"Senior {i}",
                "role": rng.choice(["CFO", "COO", "CMO", "General Counsel", "Managing Director", "Head of HR"]),
                "side": "senior",
                "manager": f"m{rng.randrange(n // 10 + 1)}",
                "goals": rng.sample(goals, 2),
                "comfort": {d: rng.randint(1, 5) for d in rng.sample(DOMAINS, 2)},
                "strengths": rng.sample(["board governance", "budget negotiations", "brand strategy"], 1),
            }
        )
    return {"people": people}


def main() -> None:
    """Print the time per size, split into embedding, scoring, assignment and reasons."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 500, 1000])
    parser.add_argument("--distinct", type=int, default=1200, help="Most different phrases in one roster.")
    args = parser.parse_args()

    from coach.config import load_settings
    from coach.match_cli import card_space
    from coach.match_score import phrases
    from coach.matching import match, pair_reasons, resolve_weights, score_all
    from coach.people import parse_people
    from coach.retrieval import get_retriever

    t0 = time.perf_counter()
    space = card_space(get_retriever(load_settings()))
    space.relevance(["warm up the model"])
    print(f"cards and model loaded in {time.perf_counter() - t0:.1f} s ({len(space.card_ids)} cards)")
    print(f"{'size':>11} {'phrases':>8} {'embed':>7} {'score':>7} {'assign':>7} {'reasons':>8} {'total':>7}  matched")
    for n in args.sizes:
        people = parse_people(roster(n, args.distinct), f"synthetic {n}x{n}")
        texts = {t for p in people.people for t in [*p.strengths, *p.goals, p.role]}
        space.forget()  # cold: every phrase is embedded again
        t1 = time.perf_counter()
        phrases(space, sorted(texts))
        t2 = time.perf_counter()
        scored = score_all(space, people, resolve_weights({}))
        t3 = time.perf_counter()
        result = match(scored)
        t4 = time.perf_counter()
        for j, s in result.pairs:
            pair_reasons(space, result, j, s)
        t5 = time.perf_counter()
        print(
            f"{n:>5}x{n:<5} {len(texts):>8} {t2 - t1:>6.2f}s {t3 - t2:>6.2f}s {t4 - t3:>6.2f}s {t5 - t4:>7.2f}s"
            f" {t5 - t1:>6.2f}s  {len(result.pairs)}/{n}"
        )
    print(f"cores: {os.cpu_count()}, load average: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
