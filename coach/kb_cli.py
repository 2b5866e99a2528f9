"""`coach kb` commands for review dates and organisation documents, and readable search rows.

Registered lazily under the `kb` group of coach/cli.py: `stale`, `add-doc`, `docs`, `remove-doc`.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from coach.retrieval import DocHit, Hit, Retriever

#: Dense cosine similarity of a hit's best passage at or above which the evidence reads "strong",
#: and "partial" (below: "weak"). all-MiniLM-L6-v2 puts on-topic question/passage pairs mostly
#: above 0.5 and unrelated ones below 0.3.
STRONG = 0.55
PARTIAL = 0.40


def _today(value: str | None) -> dt.date | None:
    from coach.errors import parse_iso_date

    return parse_iso_date(value, "--today", "today")


def stale_rows(cards: list[Any], months: int, today: dt.date | None) -> list[dict[str, Any]]:
    """The rows `coach kb stale` prints: cards due for review, never-reviewed first, then oldest."""
    from coach.knowledge import stale_cards

    return [
        {
            "topic_id": s.card.id,
            "title": s.card.title,
            "domain": s.card.domain,
            "reviewed": s.card.reviewed,
            "months_since_review": s.months,
            "source": s.card.source,
        }
        for s in stale_cards(cards, months, today)
    ]


@click.command("stale")
@click.option("--kb", "kb_dirs", multiple=True, metavar="DIR", help="Extra folder of your own cards (repeatable).")
@click.option("--months", default=12, show_default=True, type=click.IntRange(0, 600), help="Review age that is due.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@click.option("--today", default=None, hidden=True, help="Measure from this date (YYYY-MM-DD), for tests.")
def stale(kb_dirs: tuple[str, ...], months: int, fmt: str, today: str | None) -> None:
    """List cards due for review: reviewed MONTHS or more months ago, or never."""
    from coach.cli import print_table, settings_with_kb
    from coach.knowledge import load_knowledge

    when = _today(today)
    cards = load_knowledge(settings_with_kb(kb_dirs).kb_dirs).cards
    rows = stale_rows(cards, months, when)
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo(f"no card is due for review ({len(cards)} cards, all reviewed within {months} months)")
        return
    print_table(
        ["topic_id", "domain", "reviewed", "months ago"],
        [[r["topic_id"], r["domain"], r["reviewed"] or "never", r["months_since_review"] or "-"] for r in rows],
    )


def stale_warnings(cards: list[Any], today: dt.date | None = None, months: int = 12) -> list[str]:
    """`kb validate` warnings for cards due for review (warnings, never errors)."""
    return [
        f"warning: {r['source'] or r['topic_id']}: reviewed {r['reviewed'] or 'never'}; due for review "
        f"(older than {months} months)"
        for r in stale_rows(cards, months, today)
    ]


# --------------------------------------------------------------------------- organisation documents


def _reindex() -> str:
    from coach.config import load_settings
    from coach.index import build_index

    report = build_index(load_settings())
    return f"index: {report.added} added, {report.updated} updated, {report.removed} removed passages or cards"


@click.command("add-doc")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--title", default=None, help="The document's title (default: the file name).")
def add_doc(file: Path, title: str | None) -> None:
    """Add an organisation document (Markdown, text, HTML, PDF, .docx); the same file again updates it."""
    from coach.config import load_settings
    from coach.documents import add_document

    doc, replaced = add_document(load_settings(), file, title)
    n = len(doc.passages)
    click.echo(f"{'updated' if replaced else 'added'} {doc.doc_id}: {doc.title!r}, {n} passage{'s' if n != 1 else ''}")
    click.echo(_reindex(), err=True)


@click.command("docs")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
def docs(fmt: str) -> None:
    """List the organisation documents (SPEC.md section 12 with --format json)."""
    from coach.cli import print_table
    from coach.config import load_settings
    from coach.documents import load_documents

    rows = [d.summary() for d in load_documents(load_settings())]
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2))
        return
    print_table(
        ["doc_id", "title", "file", "passages"], [[r[k] for k in ("doc_id", "title", "file", "passages")] for r in rows]
    )


@click.command("remove-doc")
@click.argument("doc_id")
def remove_doc(doc_id: str) -> None:
    """Remove an organisation document and its passages from the index."""
    from coach.config import load_settings
    from coach.documents import remove_document

    doc = remove_document(load_settings(), doc_id)
    click.echo(f"removed {doc.doc_id}: {doc.title!r}")
    click.echo(_reindex(), err=True)


COMMANDS: dict[str, click.Command] = {"stale": stale, "add-doc": add_doc, "docs": docs, "remove-doc": remove_doc}


# --------------------------------------------------------------------------- search rows


def strength(similarity: float | None, covered: bool = True) -> str:
    """How strong a hit's evidence is: "strong", "partial" or "weak".

    Bands of the dense similarity of the hit's best passage (an absolute measure, unlike the fused
    score); when the calibrated coverage decision (coach/coverage.py) says the knowledge base does not
    cover the question, no hit reads stronger than "weak".
    """
    if not covered or similarity is None:
        return "weak"
    return "strong" if similarity >= STRONG else "partial" if similarity >= PARTIAL else "weak"


def query_covered(query: str, retriever: Retriever) -> bool:
    """The calibrated coverage decision for a query (True when coach.coverage cannot decide)."""
    try:
        from coach.coverage import assess
    except ImportError:  # pragma: no cover - coverage ships with the package
        return True
    try:
        return bool(assess(query, retriever).covered)
    except Exception:  # a coverage failure must not break search; bands then come from similarity alone
        return True


def hit_row(hit: Hit | DocHit, covered: bool = True) -> dict[str, Any]:
    """One SPEC.md section 4 / 12 row: a card's topic_id etc., or a document's doc_id and locator."""
    row: dict[str, Any]
    if hit.kind == "doc":
        assert not hasattr(hit, "card")
        row = {"topic_id": None, "title": hit.title, "domain": None}  # type: ignore[union-attr]
        row |= {"doc_id": hit.doc_id, "locator": hit.locator}  # type: ignore[union-attr]
    else:
        row = {"topic_id": hit.card.id, "title": hit.card.title, "domain": hit.card.domain}  # type: ignore[union-attr]
    row |= {
        "score": round(float(hit.score), 4),
        "kind": hit.kind,
        # The coverage decision is calibrated on cards; a document passage reads by its similarity alone.
        "strength": strength(hit.similarity, covered or hit.kind == "doc"),
        "similarity": None if hit.similarity is None else round(float(hit.similarity), 4),
    }
    return row
