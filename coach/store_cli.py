"""CLI commands over the program database: `pair`, `session`, `cohort` and `report`.

Registered lazily in coach.cli (LAZY_COMMANDS), so nothing here loads until one of them runs.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import click

from coach.errors import CoachError, InputError

FORMATS_EXPORT = ("json", "md", "ics", "docx")


def _settings(kb_dirs: tuple[str, ...] = ()) -> Any:
    from coach.cli import settings_with_kb

    return settings_with_kb(kb_dirs)


def _store() -> Any:
    from coach.store import open_store

    return open_store(_settings())


def _write_bytes(data: bytes, out: str) -> None:
    """Write `data` atomically to `out` (no partial file on failure)."""
    import os
    import tempfile

    target = Path(out)
    if not target.parent.exists():
        raise InputError(out, "--out", f"a path in an existing folder, but {target.parent} does not exist")
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    click.echo(f"wrote {target}", err=True)


def _emit(text: str, out: str | None) -> None:
    from coach.cli import write_output

    write_output(text, out)


def _table(headers: list[str], rows: list[list[Any]]) -> None:
    """A rich table whose cells fold rather than being cut off with an ellipsis in a narrow terminal."""
    from rich.console import Console
    from rich.table import Table

    table = Table(*headers)
    for column in table.columns:
        column.overflow = "fold"
    if table.columns and headers[0] == "id":
        table.columns[0].no_wrap = True
    for row in rows:
        table.add_row(*[str(v) for v in row])
    Console().print(table)


# --------------------------------------------------------------------------- pair


@click.group()
def pair() -> None:
    """Store pairs, show their plans and sessions, export or delete them."""


@pair.command("add")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--cohort", default=None, help="Cohort name to file the pair under.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def pair_add(file: str, cohort: str | None, fmt: str) -> None:
    """Store the pair described by a pair YAML file (SPEC.md section 2); prints its id."""
    from coach.pairs import load_pair

    data = load_pair(file)
    store = _store()
    same = store.existing_names(cohort).get((data.mentor.name.lower(), data.mentee.name.lower()))
    if same is not None:
        where = f"cohort {cohort!r}" if cohort else "no cohort"
        raise InputError(
            str(file),
            "mentee.name",
            f"a new pair, but pair {same} ({where}) has the same mentor and mentee (coach pair show {same}); "
            "file a new program for them under another --cohort",
        )
    pid = store.add_pair(data, cohort=cohort, source=str(file))
    if fmt == "json":
        click.echo(json.dumps(store.get_pair(pid).list_row()))
    else:
        click.echo(pid)


@pair.command("list")
@click.option("--cohort", default=None, help="Only this cohort.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def pair_list(cohort: str | None, fmt: str) -> None:
    """List stored pairs (SPEC.md section 7 with --format json)."""
    rows = [p.list_row() for p in _store().list_pairs(cohort)]
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    keys = ["id", "mentor", "mentee", "sessions_planned", "cadence", "start", "cohort", "plan_version"]
    headers = ["id", "mentor", "mentee", "sessions", "cadence", "start", "cohort", "plan"]
    _table(headers, [[r[k] if r[k] is not None else "" for k in keys] for r in rows])


@pair.command("show")
@click.argument("pair_id", metavar="ID")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def pair_show(pair_id: str, fmt: str) -> None:
    """Show a pair: who, the program, plan versions and logged sessions."""
    store = _store()
    info = store.get_pair(pair_id)
    versions = store.plan_versions(info.id)
    sessions = store.sessions(info.id)
    if fmt == "json":
        data = {
            **info.list_row(),
            "pair": info.pair.model_dump(mode="json"),
            "plan_versions": [
                {
                    "version": v.version,
                    "reason": v.reason,
                    "engine": v.engine,
                    "model": v.model,
                    "created_at": v.created_at.isoformat(timespec="seconds") + "Z",
                    "sessions": [s.number for s in v.plan.sessions],
                }
                for v in versions
            ],
            "sessions": [
                {
                    "number": s.number,
                    "status": s.status,
                    "date": s.date.isoformat(),
                    "notes": s.notes,
                    "ratings": {side: {"rating": r, "comment": c} for side, (r, c) in s.ratings.items()},
                }
                for s in sessions
            ],
        }
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    p = info.pair
    click.echo(f"pair {info.id}" + (f" (cohort {info.cohort})" if info.cohort else ""))
    click.echo(f"  mentor: {p.mentor.name}, {p.mentor.role}")
    click.echo(f"  mentee: {p.mentee.name}, {p.mentee.role}")
    for i, goal in enumerate(p.mentee.goals, 1):
        click.echo(f"  goal {i}: {goal}")
    prog = p.program
    click.echo(f"  program: {prog.sessions} x {prog.minutes} min, {prog.cadence}, from {prog.start.isoformat()}")
    if versions:
        click.echo("plan versions:")
        for v in versions:
            when = v.created_at.isoformat(timespec="seconds")
            click.echo(f"  v{v.version}  {when}  {v.engine}:{v.model}  {v.reason}")
    else:
        click.echo(f"no plan yet (coach pair plan {info.id}, or coach cohort plan for every pair without one)")
    if sessions:
        click.echo("sessions logged:")
        for s in sessions:
            rated = ", ".join(f"{side} {r}/5" for side, (r, _c) in s.ratings.items())
            extra = f"  [{rated}]" if rated else ""
            notes = f"  {s.notes}" if s.notes else ""
            click.echo(f"  #{s.number} {s.status:<9} {s.date.isoformat()}{extra}{notes}")


@pair.command("plan")
@click.argument("pair_id", metavar="ID")
@click.option("--kb", "kb_dirs", multiple=True, metavar="DIR", help="Extra folder of your own cards (repeatable).")
def pair_plan(pair_id: str, kb_dirs: tuple[str, ...]) -> None:
    """Plan one stored pair and keep the plan as its newest version (COACH_MODEL writes it, as in plan)."""
    from coach.cohort import plan_stored_pair

    pid, version, plan = plan_stored_pair(_settings(kb_dirs), pair_id)
    click.echo(f"stored plan v{version} of pair {pid}: {len(plan.sessions)} sessions (coach pair show {pid})")


@pair.command("delete")
@click.argument("pair_id", metavar="ID")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def pair_delete(pair_id: str, yes: bool) -> None:
    """Delete a pair and every row about it: plans, sessions, feedback (right to be forgotten)."""
    store = _store()
    info = store.get_pair(pair_id)
    if not yes:
        click.confirm(f"Delete pair {info.id} ({info.mentor} and {info.mentee}) and all its records?", abort=True)
    pid, counts = store.delete_pair(info.id)
    detail = ", ".join(f"{n} {table}" for table, n in counts.items() if n)
    click.echo(f"deleted pair {pid}: {detail}")


@pair.command("export")
@click.argument("pair_id", metavar="ID")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS_EXPORT),
    default="json",
    show_default=True,
    help="json: all the pair's data; md, ics, docx: its plan.",
)
@click.option("--version", "version", type=int, default=None, help="Plan version (default: the latest).")
@click.option("--time", "start_time", default=None, metavar="HH:MM", help="ics: session start time (else all-day).")
@click.option("--out", default=None, help="Write to this file (required for docx).")
def pair_export(pair_id: str, fmt: str, version: int | None, start_time: str | None, out: str | None) -> None:
    """Export all of a pair's data as JSON, or its plan as Markdown, an .ics calendar or a .docx."""
    store = _store()
    if fmt == "json":
        _emit(json.dumps(store.export_pair(pair_id), indent=2, ensure_ascii=False) + "\n", out)
        return
    info = store.get_pair(pair_id)
    found = store.get_plan(info.id, version)
    if found is None:
        what = f"version {version}" if version is not None else "a plan"
        raise InputError(
            "ID", "--version" if version is not None else "id", f"a pair with {what}; pair {info.id} has none"
        )
    from coach import export

    if fmt == "md":
        _emit(export.to_markdown(found.plan), out)
        return
    if fmt == "ics":
        when = None
        if start_time:
            try:
                when = dt.time.fromisoformat(start_time)
            except ValueError:
                raise InputError("--time", "time", f"a time as HH:MM, got {start_time!r}") from None
        # The calendar as it stands: logged moves on their new dates, cancellations as cancelled events.
        data = export.to_ics(found.plan, when, record=store.session_status(info.id))
        if out is None:
            click.echo(data.decode("utf-8"), nl=False)
        else:
            _write_bytes(data, out)
        return
    if out is None:
        raise InputError("--out", "out", "a .docx file path: a Word document is not printed to the terminal")
    _write_bytes(export.to_docx(found.plan), out)


# --------------------------------------------------------------------------- session


@click.group()
def session() -> None:
    """Log what happened to a session (held, cancelled, moved) and its ratings."""


@session.command("log")
@click.argument("pair_id", metavar="PAIR")
@click.argument("number", metavar="N", type=int)
@click.option("--status", required=True, type=click.Choice(["held", "cancelled", "moved"]))
@click.option(
    "--date",
    "date",
    default=None,
    metavar="YYYY-MM-DD",
    help="When it was held or cancelled (default today); for moved, the new date (required).",
)
@click.option("--rating-mentor", type=int, default=None, help="The mentor's rating, 1-5 (held sessions).")
@click.option("--rating-mentee", type=int, default=None, help="The mentee's rating, 1-5 (held sessions).")
@click.option("--comment-mentor", default="", help="The mentor's comment with the rating.")
@click.option("--comment-mentee", default="", help="The mentee's comment with the rating.")
@click.option("--notes", default="", help="Notes about the session.")
def session_log(
    pair_id: str,
    number: int,
    status: str,
    date: str | None,
    rating_mentor: int | None,
    rating_mentee: int | None,
    comment_mentor: str,
    comment_mentee: str,
    notes: str,
) -> None:
    """Record session N of PAIR; the latest record of a session is its state."""
    day = dt.date.today()
    if date is not None:
        try:
            day = dt.date.fromisoformat(date)
        except ValueError:
            raise InputError("--date", "date", f"a date as YYYY-MM-DD, got {date!r}") from None
    elif status == "moved":
        raise InputError("--date", "date", "the new date (YYYY-MM-DD) of a moved session")
    ratings: dict[str, tuple[int, str]] = {}
    for side, rating, comment in (("mentor", rating_mentor, comment_mentor), ("mentee", rating_mentee, comment_mentee)):
        if rating is None:
            if comment:
                raise InputError(f"--comment-{side}", f"comment_{side}", f"a --rating-{side} to go with the comment")
            continue
        if not 1 <= rating <= 5:
            raise InputError(f"--rating-{side}", f"rating_{side}", f"a rating from 1 to 5, got {rating}")
        ratings[side] = (rating, comment)
    store = _store()
    info = store.get_pair(pair_id)
    rid = store.log_session(info.id, number, status, day, notes=notes, ratings=ratings)
    click.echo(f"logged session {number} of pair {info.id} as {status} on {day.isoformat()} (record {rid})")


@session.command("list")
@click.argument("pair_id", metavar="PAIR")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def session_list(pair_id: str, fmt: str) -> None:
    """Every record logged for a pair, oldest first."""
    records = _store().sessions(pair_id)
    rows = [
        {
            "id": r.id,
            "number": r.number,
            "status": r.status,
            "date": r.date.isoformat(),
            "rating_mentor": r.ratings.get("mentor", (None, ""))[0],
            "rating_mentee": r.ratings.get("mentee", (None, ""))[0],
            "notes": r.notes,
        }
        for r in records
    ]
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    keys = ["number", "status", "date", "rating_mentor", "rating_mentee", "notes"]
    _table(keys, [["" if r[k] is None else r[k] for k in keys] for r in rows])


# --------------------------------------------------------------------------- cohort


@click.group()
def cohort() -> None:
    """Import a roster of pairs and plan the whole cohort."""


@cohort.command("import")
@click.argument("roster", type=click.Path(dir_okay=False))
@click.option("--cohort", "name", default=None, help="Cohort name (default: the file name without extension).")
def cohort_import(roster: str, name: str | None) -> None:
    """Import a roster CSV, one row per pair, all or nothing.

    Columns: mentor_name, mentor_role, mentor_strengths (optional, ';'-separated), mentee_name,
    mentee_role, goals (';'-separated), comfort (optional, e.g. 'generative-ai=1;social-media=2'),
    sessions, minutes, cadence (weekly|biweekly|monthly), start (YYYY-MM-DD).
    """
    from coach.roster import import_roster

    ids = import_roster(_settings(), roster, name)
    click.echo(f"imported {len(ids)} pairs into cohort {name or Path(roster).stem!r}")


@cohort.command("plan")
@click.option("--kb", "kb_dirs", multiple=True, metavar="DIR", help="Extra folder of your own cards (repeatable).")
@click.option("--cohort", "name", default=None, help="Only this cohort (default: every stored pair).")
@click.option("--all", "replan_all", is_flag=True, help="Also pairs that have a plan (each gets a new version).")
@click.option("--concurrency", type=click.IntRange(1, 64), default=None, help="Plans at once [$COACH_CONCURRENCY].")
@click.option(
    "--wait",
    type=click.FloatRange(0, 86_400),
    default=0.0,
    show_default=True,
    help="Seconds to wait for another cohort run to finish before giving up.",
)
def cohort_plan(
    kb_dirs: tuple[str, ...], name: str | None, replan_all: bool, concurrency: int | None, wait: float
) -> None:
    """Plan every pair without a plan; resumable: a rerun after a crash plans only the rest."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from coach.cohort import PairDone, pair_line, plan_cohort

    settings = _settings(kb_dirs)
    with Progress(
        TextColumn("planning pairs"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=False,
    ) as bar:
        task = bar.add_task("plan", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        def on_pair(done: PairDone) -> None:
            # One line per pair when a model writes (minutes each, so people want to see which are done).
            if done.plan is not None and done.plan.generated_by.engine != "offline":
                bar.console.print(pair_line(done), highlight=False, markup=False, soft_wrap=True)

        result = plan_cohort(
            settings,
            name,
            replan_all=replan_all,
            concurrency=concurrency,
            progress=progress,
            wait=wait,
            on_pair=on_pair,
        )
    resumed = f" (resumed run {result.run_id})" if result.resumed else ""
    click.echo(
        f"planned {result.planned} pairs{resumed}, {result.already_done} already done, "
        f"{len(result.failed)} failed, {result.total} in scope; {result.rate:.1f} plans/s"
    )
    if result.usage:
        u = result.usage
        line = f"model tokens: {u.get('prompt_tokens', 0):,} prompt + {u.get('completion_tokens', 0):,} completion"
        if settings.price_per_mtok is not None:
            cost = u.get("total_tokens", 0) * settings.price_per_mtok / 1_000_000
            line += f", about ${cost:.4f} at ${settings.price_per_mtok:g} per million tokens"
        click.echo(line)
    if result.failed:
        for pid, why in sorted(result.failed.items()):
            click.echo(f"failed {pid}: {why}", err=True)
        raise CoachError(f"{len(result.failed)} pairs could not be planned; rerun to retry them")


# --------------------------------------------------------------------------- report


@click.command()
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json", "html", "csv"]), default="table", show_default=True
)
@click.option("--cohort", "name", default=None, help="Only this cohort.")
@click.option("--as-of", "as_of", default=None, metavar="YYYY-MM-DD", help="Compute as of this day (default today).")
@click.option("--out", default=None, help="Write to this file instead of standard output.")
def report(fmt: str, name: str | None, as_of: str | None, out: str | None) -> None:
    """Program metrics per pair and overall: sessions, ratings, goals, stalled pairs, trend, outcomes by Kirkpatrick level.

    --format csv writes one row per pair (health, comfort, goal attainment) for HR analysts.
    """
    from coach import metrics

    today = dt.date.today()
    if as_of:
        try:
            today = dt.date.fromisoformat(as_of)
        except ValueError:
            raise InputError("--as-of", "as_of", f"a date as YYYY-MM-DD, got {as_of!r}") from None
    data = metrics.build_report(_store().report_facts(name), today)
    if fmt == "json":
        _emit(json.dumps(data, indent=2, ensure_ascii=False) + "\n", out)
        return
    if fmt == "html":
        _emit(metrics.to_html(data), out)
        return
    if fmt == "csv":
        from coach.kirkpatrick import csv_text

        _emit(csv_text(data), out)
        return
    if out is not None:
        raise InputError("--out", "out", "--format json, html or csv when writing to a file")
    for line in metrics.program_lines(data):
        click.echo(line)
    trend = data["program"]["trend"]
    if trend:
        _table(
            ["month", "held", "cancelled", "moved", "rating mentor", "rating mentee"],
            [
                [
                    t["month"],
                    t["held"],
                    t["cancelled"],
                    t["moved"],
                    metrics.fmt_value(t["avg_rating_mentor"]),
                    metrics.fmt_value(t["avg_rating_mentee"]),
                ]
                for t in trend
            ],
        )
    headers, rows = metrics.table_rows(data)
    _table(headers, rows)
