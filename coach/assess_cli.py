"""`coach assess FILE`: import paper or survey assessments from a CSV, all rows or none.

Registered lazily in coach.cli (LAZY_COMMANDS). For admins: whoever runs it can already write
the database; each import is recorded in the audit log. Columns (a header row, any order):
pair, side, kind, followup_months, date, comfort (`domain=N;domain=N`), goals (`1=N;2=N`),
used_at_work (yes/no), example, recommend (0-10). A bad cell exits 2 naming the file, line and
column, and nothing is stored.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import click

from coach.errors import InputError


@click.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--dry-run", is_flag=True, help="Check the file and print what would be stored; store nothing.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def assess(file: str, dry_run: bool, fmt: str) -> None:
    """Import assessments (baseline, closing, follow-ups) from a CSV; every row or none."""
    from coach.assessments import parse_csv
    from coach.cli import settings_with_kb
    from coach.store import open_store

    store = open_store(settings_with_kb(()))
    cache: dict[str, tuple[str, int] | None] = {}

    def goals_of(ident: str) -> tuple[str, int] | None:
        if ident not in cache:
            try:
                info = store.get_pair(ident)
                cache[ident] = (info.id, len(info.pair.mentee.goals))
            except InputError:
                cache[ident] = None
        return cache[ident]

    rows = parse_csv(file, goals_of, dt.date.today())
    ids: list[int | None] = []
    if not dry_run:
        name = Path(file).name
        # A survey file imported twice (or a row repeated in it) is not stored twice.
        ids = store.add_assessments([(pid, a) for _, pid, a in rows], f"csv:{name}"[:254], skip_stored=True)
        store.audit("cli", "import", "assessments", f"{sum(i is not None for i in ids)} from {name}")
    skipped = sum(i is None for i in ids)
    if fmt == "json":
        out = [
            {
                "line": line,
                "pair": pid,
                "side": a.side,
                "slot": a.slot,
                "date": a.assessed_on.isoformat(),
                "already_stored": not dry_run and ids[i] is None,
            }
            for i, (line, pid, a) in enumerate(rows)
        ]
        stored = len(ids) - skipped
        click.echo(json.dumps({"stored": stored, "skipped": skipped, "dry_run": dry_run, "rows": out}, indent=2))
        return
    n = len(rows) - skipped
    verb = "would store" if dry_run else "stored"
    click.echo(f"{verb} {n} assessment{'s' if n != 1 else ''} from {file}")
    if skipped:
        lines = ", ".join(str(line) for (line, _, _), i in zip(rows, ids, strict=True) if i is None)
        click.echo(f"skipped {skipped} already stored with the same answers (line{'s' if skipped > 1 else ''} {lines})")
