"""Short versions of long answers ("shorter pls, bullet points" after a briefing)."""

from __future__ import annotations

import re

_CITE_END = re.compile(r"\s*((?:\[[a-z0-9:-]+\]\s*)+)$")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'(])")


def _first_sentence(bullet: str) -> str:
    """A bullet cut to its first sentence, keeping the citations it ended with."""
    body = bullet[2:].strip()
    cites = _CITE_END.search(body)
    tail = cites.group(1).strip() if cites else ""
    body = body[: cites.start()] if cites else body
    first = _SENTENCE_END.split(body, maxsplit=1)[0].strip()
    if len(first) > 220:
        first = first[:217].rsplit(" ", 1)[0] + "..."
    return f"- {first}" + (f" {tail}" if tail else "")


def shorten(text: str, points: int) -> str:
    """The answer's opening lines, then `points` bullets taken in turn from each of its sections.

    Each bullet is cut to its first sentence (its citations kept), so the short version says the
    same things as the long one, in the same words, only fewer of them.
    """
    lines = text.splitlines()
    head: list[str] = []
    for line in lines:
        if not line.strip():
            break
        head.append(line)
    sections: list[list[str]] = []
    sources = ""
    for line in lines[len(head) :]:
        if line.startswith("**") and line.rstrip().endswith("**"):
            sections.append([])
        elif line.startswith("- "):
            if not sections:
                sections.append([])
            sections[-1].append(line)
        elif line.startswith(("Source: ", "Sources: ")):
            sources = line
    # The first section says what the answer is about (each topic of a briefing): all of it, then the rest in turn.
    chosen: list[str] = [_first_sentence(b) for b in sections[0][:points]] if sections else []
    sections = sections[1:]
    depth = 0
    while len(chosen) < points and any(len(s) > depth for s in sections):
        for s in sections:
            if depth < len(s) and len(chosen) < points:
                chosen.append(_first_sentence(s[depth]))
        depth += 1
    if head:
        head[0] = head[0][:-2] + ", in short**" if head[0].endswith("**") else head[0]
    return "\n".join([*head, "", *chosen, *(["", sources] if sources else [])]).strip()
