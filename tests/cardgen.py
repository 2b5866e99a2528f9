"""Valid synthetic topic cards, for index tests and the 5,000-card benchmark."""

from __future__ import annotations

from pathlib import Path

import yaml

from coach.models import MENTOR_DOMAINS

WORDS = [
    "prompt",
    "draft",
    "summary",
    "dashboard",
    "metric",
    "channel",
    "thread",
    "workflow",
    "approval",
    "signature",
    "budget",
    "forecast",
    "customer",
    "creator",
    "video",
    "privacy",
    "password",
    "invoice",
    "roadmap",
    "audience",
    "survey",
    "pivot",
    "chart",
    "calendar",
    "meeting",
    "recap",
    "policy",
    "vendor",
    "pilot",
    "review",
    "trend",
    "loyalty",
    "subscription",
    "community",
]


def card(i: int, domain: str | None = None, summary: str | None = None) -> dict[str, object]:
    """One valid card whose text varies with `i`."""
    words = [WORDS[(i * 7 + j * 3) % len(WORDS)] for j in range(12)]
    return {
        "id": f"synthetic-card-{i:05d}",
        "title": f"Synthetic topic {i}: {' '.join(words[:3])}",
        "domain": domain or MENTOR_DOMAINS[i % len(MENTOR_DOMAINS)],
        "level": "intro",
        "summary": summary or f"A practice card about {' '.join(words)}.",
        "objectives": [f"Explain {words[0]} and {words[1]} in plain words"],
        "key_concepts": [{"term": words[2], "meaning": f"How {words[3]} relates to {words[4]}."}],
        "activities": [
            {"title": "Walkthrough", "minutes": 10, "format": "demo", "lead": "mentor", "description": words[5]}
        ],
        "discussion_prompts": [{"text": f"Where would {words[6]} help you?", "asked_by": "mentor"}],
        "tags": words[7:10],
    }


def write_cards(folder: Path, n: int, start: int = 0) -> list[Path]:
    """Write `n` synthetic cards as YAML files into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(start, start + n):
        path = folder / f"synthetic-card-{i:05d}.yaml"
        path.write_text(yaml.safe_dump(card(i), sort_keys=False), encoding="utf-8")
        paths.append(path)
    return paths
