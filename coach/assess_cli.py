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
    from coach.assessments import answers_key, parse_csv
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
    # A survey file imported twice (or a row repeated in it) is not stored twice; a dry run says the same.
    stored = store.all_assessments({pid for _, pid, _ in rows}) if rows else {}
    known = {(pid, answers_key(a)): "already stored" for pid, items in stored.items() for a in items}
    slots = {(pid, a.slot) for pid, items in stored.items() for a in items}
    todo, skipped, replaces = [], [], []
    for line, pid, a in rows:
        key = (pid, answers_key(a))
        if key in known:
            skipped.append((line, known[key]))
            continue
        known[key] = f"same as line {line}"
        todo.append((line, pid, a))
        if (pid, a.slot) in slots:
            replaces.append(line)
    if not dry_run:
        name = Path(file).name
        store.add_assessments([(pid, a) for _, pid, a in todo], f"csv:{name}"[:254])
        store.audit("cli", "import", "assessments", f"{len(todo)} from {name}")
    why = dict(skipped)
    if fmt == "json":
        out = [
            {
                "line": line,
                "pair": pid,
                "side": a.side,
                "slot": a.slot,
                "date": a.assessed_on.isoformat(),
                "skipped": why.get(line),
                "replaces_earlier": line in replaces,
            }
            for line, pid, a in rows
        ]
        payload = {"stored": 0 if dry_run else len(todo), "skipped": len(skipped), "dry_run": dry_run, "rows": out}
        click.echo(json.dumps(payload, indent=2))
        return
    n = len(todo)
    verb = "would store" if dry_run else "stored"
    click.echo(f"{verb} {n} assessment{'s' if n != 1 else ''} from {file}")
    if skipped:
        lines = ", ".join(f"line {line} ({reason})" for line, reason in skipped)
        click.echo(f"{'would skip' if dry_run else 'skipped'} {len(skipped)} with the same answers: {lines}")
    if replaces:
        click.echo(
            f"line{'s' if len(replaces) > 1 else ''} {', '.join(map(str, replaces))} "
            f"{'would give' if dry_run else 'gave'} new answers for a slot already assessed: "
            "the latest counts in reports, the earlier answers stay in the history"
        )
