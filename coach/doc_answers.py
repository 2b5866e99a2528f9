"""Organisation documents in chat answers: the passages that answer a question, quoted and cited as [doc:ID].

The cards give general advice; an organisation's own documents (its AI policy, its travel rules,
added with `coach kb add-doc`) say what applies here. When the same hybrid search that finds the
cards (`Retriever.search_all`) ranks a document passage among its best hits, and the passage is
close in meaning to the question and shares its words, the answer quotes the passage's most
relevant sentences with the document's title and locator and cites it as `[doc:DOC_ID]`. The
organisation's own rule leads the answer, since it is what applies here, and the cards' general advice
follows it. A question no card covers but a document does is answered from the document alone (and
counts as covered).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from coach.answers import Answer
    from coach.models import Plan
    from coach.retrieval import DocHit, Retriever

#: How many hits of the joint search are read; a passage must rank among them (cards often fill the first few).
TOP = 5
#: Least cosine similarity (MiniLM) of a passage to the question for it to be used.
DOC_SIMILARITY = 0.40
#: Share of the question's content words a passage must mention (at least one, at most COVER_MAX).
COVER_SHARE = 0.34
COVER_MAX = 2
#: Passages quoted in one answer, and words quoted from each at most.
MAX_PASSAGES = 2
QUOTE_WORDS = 70
#: Intents whose answers may draw on documents (briefings follow the plan, refusals stay refusals).
INTENTS = frozenset({"general", "explain", "lesson"})
#: A document citation as it appears in an answer.
CITATION = re.compile(r"\[doc:([a-z0-9]+(?:-[a-z0-9]+)*)\]")


@dataclass(frozen=True)
class DocSource:
    """A document passage an answer uses: where it is, what it says, and its rank in the joint search."""

    doc_id: str
    title: str
    locator: str
    text: str
    similarity: float
    rank: int

    def as_json(self) -> dict[str, str]:
        """The `documents` row of `coach ask --format json` (SPEC.md section 12's fields)."""
        return {"doc_id": self.doc_id, "title": self.title, "locator": self.locator}


def cite(doc_id: str) -> str:
    """The citation of a document: `[doc:DOC_ID]`."""
    return f"[doc:{doc_id}]"


def _about(question: str, hit: DocHit) -> bool:
    """Whether a passage mentions enough of what the question is about."""
    from coach.grounding import content_words

    asked = content_words(question)
    if not asked:
        return False
    said = content_words(f"{hit.title} {hit.locator} {hit.text}")
    need = min(COVER_MAX, max(1, math.ceil(COVER_SHARE * len(asked))))
    return len(asked & said) >= need


def find(question: str, retriever: Retriever) -> list[DocSource]:
    """The document passages that answer a question, best first (none when no document was added)."""
    from coach.retrieval import DocHit

    if not question.strip() or not getattr(retriever, "n_doc_passages", 0):
        return []
    out: list[DocSource] = []
    for rank, hit in enumerate(retriever.search_all(question, k=TOP)):
        if not isinstance(hit, DocHit) or (hit.similarity or 0.0) < DOC_SIMILARITY or not _about(question, hit):
            continue
        if any(s.doc_id == hit.doc_id and s.locator == hit.locator for s in out):
            continue
        out.append(DocSource(hit.doc_id, hit.title, hit.locator, hit.text, float(hit.similarity or 0.0), rank))
    return out[:MAX_PASSAGES]


def quote(text: str, question: str, words: int = QUOTE_WORDS) -> str:
    """The passage's sentences that best answer the question, in their own order, at most `words` words."""
    from coach.grounding import content_words

    text = " ".join(text.split())
    if len(text.split()) <= words:
        return text
    sentences = [s for s in re.split(r"(?<=[.!?])\s+", text) if s]
    asked = content_words(question)
    score = [len(asked & content_words(sentence)) for sentence in sentences]
    # Sentences that share the question's words, best first; when none does, the passage's opening.
    ranked = sorted((i for i in range(len(sentences)) if score[i]), key=lambda i: (-score[i], i))
    opening = not ranked
    keep: list[int] = []
    used = 0
    for i in ranked or range(len(sentences)):
        n = len(sentences[i].split())
        if keep and used + n > words:
            if opening:
                break
            continue
        keep.append(i)
        used += n
    out = ""
    for j, i in enumerate(sorted(keep)):
        gap = j > 0 and i != sorted(keep)[j - 1] + 1
        out += (" ... " if gap else " " if j else "") + sentences[i]
    cut = out.split()
    return out if len(cut) <= words else " ".join(cut[:words]) + " ..."


def section(sources: list[DocSource], question: str, alone: bool) -> list[str]:
    """The lines that quote the passages: a lead-in, then each passage with its title, locator and citation."""
    several = len({s.doc_id for s in sources}) > 1
    if alone:
        lines = [f"**What your organisation's {'documents say' if several else 'document says'}**", ""]
        lines += [
            f"The coaching cards do not cover this; your organisation's own {'documents do' if several else 'document does'}.",
            "",
        ]
    else:
        lines = ["**What your organisation's own guidance says**", ""]
    for s in sources:
        # Quotation marks, not a Markdown quote block: the app escapes ">" in answers, and they read the same in a terminal.
        lines += [f"*{s.title}*, {s.locator} {cite(s.doc_id)}:", f"\u201c{quote(s.text, question)}\u201d", ""]
    return lines


def _sources_line(lines: list[str]) -> int | None:
    """The index of the answer's closing "Source:" / "Sources:" line, if it has one."""
    for i in range(len(lines) - 1, -1, -1):
        if lines[i].startswith(("Source:", "Sources:")):
            return i
    return None


def with_documents(question: str, retriever: Retriever, answer: Answer) -> Answer:
    """The answer with the organisation's document passages that answer the question quoted and cited.

    Args:
        question: what was asked (the words searched).
        retriever: the hybrid retriever, with its documents.
        answer: the offline answer from the cards (possibly "not covered").

    Returns:
        The same answer when no document passage answers the question; otherwise the answer with the
        passages quoted first, `documents` filled in, and covered.
    """
    if answer.intent not in INTENTS:
        return answer
    sources = find(question, retriever)
    if not sources:
        return answer
    cites = " ".join(dict.fromkeys(cite(s.doc_id) for s in sources))
    answer.documents = [s.as_json() for s in sources]
    if not answer.covered:
        lines = section(sources, question, alone=True)
        lines.append(f"Source: {cites} ({'; '.join(f'{s.title}, {s.locator}' for s in sources)})")
        answer.text = "\n".join(lines)
        answer.covered = True
        answer.cards = []
        return answer
    lines = [*section(sources, question, alone=False), "**What the coaching cards add**", "", *answer.text.split("\n")]
    at = _sources_line(lines)
    if at is None:
        lines.append(f"Sources: {cites}")
    else:
        lines[at] = lines[at] + " " + cites
    answer.text = "\n".join(lines).strip()
    return answer


def for_model(sources: list[dict[str, Any]], retriever: Retriever) -> list[dict[str, str]]:
    """The passages an answer cites, as data for the model's prompt: id, title, locator and text."""
    index = getattr(retriever, "docs", {}) or {}
    wanted = {(s["doc_id"], s["locator"]) for s in sources}
    out = []
    for doc, passage in index.values():
        if (doc.doc_id, passage.locator) in wanted:
            out.append(
                {"id": f"doc:{doc.doc_id}", "title": doc.title, "locator": passage.locator, "text": passage.text}
            )
    return out


def for_sessions(plan: Plan, retriever: Retriever) -> None:
    """List under each session the organisation documents that speak to its topics (SPEC.md section 12).

    A session's question is its topics' titles with the goals it serves; a passage is listed when it
    would answer that question in chat (the same search, similarity and word checks as `find`).
    """
    from coach.models import MENTOR_DOMAINS, SessionDocument

    if not getattr(retriever, "n_doc_passages", 0):
        return
    for session in plan.sessions:
        # The taught topics only: ground rules and the senior's own segment are not in the documents.
        topics = [t.title for t in session.topics if t.domain in MENTOR_DOMAINS]
        goals = [plan.goals[g] for g in session.goals if 0 <= g < len(plan.goals)]
        question = "; ".join([*topics, *goals])
        if not question:
            continue
        seen: set[str] = set()
        for source in find(question, retriever):
            if source.doc_id not in seen:
                seen.add(source.doc_id)
                session.documents.append(
                    SessionDocument(doc_id=source.doc_id, title=source.title, locator=source.locator)
                )
