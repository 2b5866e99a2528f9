"""The `coach` command line. Imports stay light here so `coach --help` is instant."""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

import click

from coach.errors import CoachError, InputError

#: Commands defined in other modules, imported only when used: name -> "module:attribute".
LAZY_COMMANDS: dict[str, str] = {
    "pair": "coach.store_cli:pair",
    "session": "coach.store_cli:session",
    "cohort": "coach.store_cli:cohort",
    "report": "coach.store_cli:report",
    "ask": "coach.llm_cli:ask",
    "chat": "coach.llm_cli:chat",
    "revise": "coach.llm_cli:revise",
    "eval": "coach.eval_cli:eval_cmd",
    "ui": "coach.ui_cli:ui",
    "match": "coach.match_cli:match",
    "user": "coach.user_cli:user",
    "audit": "coach.user_cli:audit",
    "remind": "coach.remind_cli:remind",
    "assess": "coach.assess_cli:assess",
}


class CoachGroup(click.Group):
    """A click group that loads some commands lazily and maps errors to exit codes."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *LAZY_COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in LAZY_COMMANDS:
            module, attr = LAZY_COMMANDS[cmd_name].split(":")
            return getattr(importlib.import_module(module), attr)  # type: ignore[no-any-return]
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Lazy commands carry their help in LAZY_HELP so listing them does not import them.
        rows = []
        for name in self.list_commands(ctx):
            if name in LAZY_COMMANDS:
                rows.append((name, LAZY_HELP.get(name, "")))
            else:
                cmd = super().get_command(ctx, name)
                if cmd is not None and not cmd.hidden:
                    rows.append((name, cmd.get_short_help_str(80)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except InputError as exc:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            click.echo(f"error: {exc}", err=True)
            ctx.exit(2)
        except CoachError as exc:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            click.echo(f"error: {exc}", err=True)
            ctx.exit(1)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            ctx.exit(130)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Exception as exc:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            cause = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            click.echo(f"error: {cause} (run with --debug for the traceback)", err=True)
            ctx.exit(1)


#: One-line help for lazy commands (shown by `coach --help` without importing them).
LAZY_HELP: dict[str, str] = {
    "pair": "Store pairs, show their plans and sessions, export or delete them.",
    "session": "Log what happened to a session (held, cancelled, moved) and its ratings.",
    "cohort": "Import a roster of pairs and plan the whole cohort.",
    "report": "Program metrics per pair and overall (table, JSON or HTML with charts).",
    "ask": "Ask the coach: session briefings, timed lessons, explanations, cancellations.",
    "chat": "Talk to the coach in the terminal; follow-ups build on the last answer.",
    "revise": "Edit a plan in words; the result must pass the plan checks.",
    "eval": "Score plans and answers against the eval cases; gate on thresholds.",
    "ui": "Start the web app (Coach, Plan, Knowledge, Program, Evals).",
    "match": "Propose the best pairs from a people file, with reasons; --publish stores them.",
    "user": "Accounts: add, list, remove, API tokens, invitation and password-reset links.",
    "audit": "The audit log of admin reads, exports and deletions.",
    "assess": "Import baseline, closing and follow-up assessments from a CSV (all rows or none).",
    "remind": "E-mail session briefings two days ahead and due assessments ($COACH_SMTP_URL), each once.",
}


@click.group(cls=CoachGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show tracebacks on errors.")
@click.version_option(package_name="mentor-coach")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Mentor Coach: curricula, coaching and evals for reverse-mentoring pairs.

    Data (index, database) lives under $COACH_HOME (default ./.coach).
    The model comes from $COACH_MODEL (offline | local | openai:MODEL).
    """
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


def settings_with_kb(kb_dirs: tuple[str, ...]) -> Any:
    """Settings from the environment plus any `--kb DIR` folders."""
    from coach.config import load_settings

    settings = load_settings()
    for d in kb_dirs:
        if not Path(d).is_dir():
            raise InputError(d, "--kb", "a folder of card YAML files, but it does not exist")
    return settings.with_kb([Path(d) for d in kb_dirs])


def write_output(text: str, out: str | None) -> None:
    """Print `text`, or write it atomically to `out` (no partial file on failure)."""
    if out is None:
        click.echo(text, nl=not text.endswith("\n"))
        return
    import os
    import tempfile

    target = Path(out)
    if not target.parent.exists():
        raise InputError(out, "--out", f"a path in an existing folder, but {target.parent} does not exist")
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    click.echo(f"wrote {target}", err=True)


def format_for(fmt: str | None, out: str | None, default: str, choices: tuple[str, ...]) -> str:
    """The --format given, else the one --out's extension names (plan.json is JSON), else `default`."""
    if fmt:
        return fmt
    suffix = Path(out).suffix.lower().lstrip(".") if out else ""
    return suffix if suffix in choices else default


kb_option = click.option(
    "--kb", "kb_dirs", multiple=True, metavar="DIR", help="Extra folder of your own cards (repeatable)."
)


# --------------------------------------------------------------------------- knowledge base


class KbGroup(click.Group):
    """`coach kb`: commands here plus those of coach/kb_cli.py (stale, documents), imported when used."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), "stale", "add-doc", "docs", "remove-doc"})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in {"stale", "add-doc", "docs", "remove-doc"}:
            from coach.kb_cli import COMMANDS

            return COMMANDS[cmd_name]
        return super().get_command(ctx, cmd_name)


@cli.group(cls=KbGroup)
def kb() -> None:
    """Validate, list and show topic cards; review dates; organisation documents."""


@kb.command("validate")
@kb_option
@click.option("--today", default=None, hidden=True, help="Measure review ages from this date (YYYY-MM-DD), for tests.")
def kb_validate(kb_dirs: tuple[str, ...], today: str | None) -> None:
    """Check every card; report each bad card with file and field; warn on cards due for review."""
    from coach.kb_cli import _today, stale_warnings
    from coach.knowledge import load_knowledge

    settings = settings_with_kb(kb_dirs)
    kbase = load_knowledge(settings.kb_dirs)
    domains = {c.domain for c in kbase.cards}
    for warning in stale_warnings(kbase.cards, _today(today)):
        click.echo(warning, err=True)
    click.echo(f"ok: {len(kbase.cards)} cards in {len(domains)} domains")


@kb.command("list")
@kb_option
@click.option("--domain", default=None, help="Only this domain.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
def kb_list(kb_dirs: tuple[str, ...], domain: str | None, fmt: str) -> None:
    """List cards (SPEC.md section 5 with --format json)."""
    from coach.knowledge import load_knowledge

    settings = settings_with_kb(kb_dirs)
    cards = load_knowledge(settings.kb_dirs).cards
    if domain:
        cards = [c for c in cards if c.domain == domain]
    rows = [
        {
            "topic_id": c.id,
            "title": c.title,
            "domain": c.domain,
            "level": c.level,
            "source": c.source,
            "reviewed": c.reviewed,
        }
        for c in cards
    ]
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2))
        return
    print_table(
        ["topic_id", "domain", "level", "title"],
        [[r[k] for k in ("topic_id", "domain", "level", "title")] for r in rows],
    )


@kb.command("show")
@kb_option
@click.argument("card_id")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
def kb_show(kb_dirs: tuple[str, ...], card_id: str, fmt: str) -> None:
    """Show one card."""
    from coach.knowledge import load_knowledge

    settings = settings_with_kb(kb_dirs)
    kbase = load_knowledge(settings.kb_dirs)
    card = kbase.get(card_id)
    if card is None:
        raise InputError("CARD_ID", "card_id", f"the id of a card (see `coach kb list`), got {card_id!r}")
    if fmt == "json":
        data = card.model_dump(mode="json")
        data["source"] = card.source
        click.echo(json.dumps(data, indent=2))
        return
    from coach.export import card_to_markdown

    click.echo(card_to_markdown(card))


def print_table(headers: list[str], rows: list[list[Any]]) -> None:
    """Print a plain-text table with rich."""
    from rich.console import Console
    from rich.table import Table

    table = Table(*headers, show_lines=False)
    for row in rows:
        table.add_row(*[str(v) for v in row])
    Console().print(table)


# --------------------------------------------------------------------------- index and search


@cli.command()
@kb_option
@click.option("--rebuild", is_flag=True, help="Re-embed every card (e.g. after changing the model).")
def index(kb_dirs: tuple[str, ...], rebuild: bool) -> None:
    """Embed the cards into Chroma and build the BM25 index (incremental)."""
    from coach.index import build_index
    from coach.knowledge import load_knowledge

    settings = settings_with_kb(kb_dirs)
    kbase = load_knowledge(settings.kb_dirs)
    from rich.progress import Progress

    with Progress(transient=True) as bar:
        task = bar.add_task("indexing cards", total=len(kbase.cards))

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        report = build_index(settings, kbase, rebuild=rebuild, progress=progress)
    click.echo(
        f"indexed {report.cards} cards in {report.seconds:.1f}s: {report.added} added, {report.updated} updated, "
        f"{report.unchanged} unchanged, {report.removed} removed ({report.embedded} embedded)"
    )


def hits_json(hits: list[Any], covered: bool = True) -> list[dict[str, Any]]:
    """SPEC.md section 4 rows, with section 12's kind (and doc_id, locator) and a readable strength."""
    from coach.kb_cli import hit_row

    return [hit_row(h, covered) for h in hits]


@cli.command()
@kb_option
@click.argument("query", required=False)
@click.option("--k", default=5, show_default=True, type=click.IntRange(1, 100), help="How many results.")
@click.option("--queries", type=click.Path(dir_okay=False), help="A file with one query per line (JSON Lines out).")
@click.option("--mode", type=click.Choice(["hybrid", "bm25", "dense"]), default="hybrid", show_default=True)
@click.option("--domain", "domains", multiple=True, help="Only these domains (repeatable).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
def search(
    kb_dirs: tuple[str, ...],
    query: str | None,
    k: int,
    queries: str | None,
    mode: str,
    domains: tuple[str, ...],
    fmt: str,
) -> None:
    """Search the knowledge base with hybrid retrieval."""
    from coach.models import DOMAINS

    if (query is None) == (queries is None):
        raise InputError("QUERY", "query", "either a QUERY argument or --queries FILE (exactly one)")
    for d in domains:
        if d not in DOMAINS:
            raise InputError("--domain", "domain", f"one of {', '.join(DOMAINS)}, got {d!r}")
    lines: list[str]
    if queries is not None:
        path = Path(queries)
        if not path.is_file():
            raise InputError(queries, "--queries", "a text file with one query per line, but it does not exist")
        lines = [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
    else:
        assert query is not None
        if not query.strip():
            raise InputError("QUERY", "query", "a non-empty search text")
        lines = [query]
    from coach.kb_cli import query_covered
    from coach.retrieval import get_retriever

    retriever = get_retriever(settings_with_kb(kb_dirs))
    chosen = set(domains) or None
    if queries is not None:
        for line in lines:
            hits = retriever.search_all(line, k=k, mode=mode, domains=chosen)  # type: ignore[arg-type]
            click.echo(json.dumps(hits_json(hits, query_covered(line, retriever))))
        return
    rows = hits_json(retriever.search_all(lines[0], k=k, mode=mode, domains=chosen), query_covered(lines[0], retriever))  # type: ignore[arg-type]
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2))
        return
    print_table(
        ["#", "evidence", "topic_id / document", "domain / where", "title"],
        [
            [i + 1, r["strength"], r["topic_id"] or f"doc:{r['doc_id']}", r["domain"] or r["locator"], r["title"]]
            for i, r in enumerate(rows)
        ],
    )


# --------------------------------------------------------------------------- planning


@cli.command()
@kb_option
@click.option("--pair", "pair_file", required=True, help="The pair YAML file (examples/pair.yaml shows every key).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["md", "markdown", "json", "ics"]),
    default=None,
    help="md (or markdown), json, or ics: a calendar, timed when the pair file gives time and timezone "
    "(default: from --out's extension, else md).",
)
@click.option("--out", default=None, help="Write to this file instead of standard output.")
@click.option("--model", default=None, metavar="ENGINE", help="offline | local | openai:MODEL (default: $COACH_MODEL).")
def plan(kb_dirs: tuple[str, ...], pair_file: str, fmt: str | None, out: str | None, model: str | None) -> None:
    """Build the curriculum for one pair."""
    fmt = format_for(fmt, out, "md", ("md", "markdown", "json", "ics"))
    from coach.pairs import load_pair
    from coach.providers import parse_model

    pair = load_pair(pair_file)
    settings = settings_with_kb(kb_dirs)
    spec = parse_model(model, settings, "--model") if model else parse_model(settings.model, settings)
    from coach.checks import check_plan
    from coach.export import to_json, to_markdown
    from coach.planner import build_plan
    from coach.retrieval import get_retriever

    retriever = get_retriever(settings)
    result = build_plan(pair, retriever)
    if not spec.offline:
        from coach.chains import usage_line, write_plan
        from coach.progress_cli import session_bar

        # Each session is written, checked and repaired inside; a session that fails keeps the draft's text.
        with session_bar(len(result.sessions)) as progress:
            result = write_plan(pair, retriever, settings, result, model=model, progress=progress)
        line = usage_line(result, settings)
        if line:
            click.echo(line, err=True)
    problems = check_plan(result, pair, retriever.kb)
    if problems:
        raise CoachError("the plan failed its checks: " + "; ".join(problems))
    from coach.export import plan_warnings

    # Warnings go to standard error, except beside JSON on standard output, which scripts read whole
    # (the JSON lists uncovered_goals itself).
    if not (fmt == "json" and out is None):
        for warning in plan_warnings(result, pair):
            click.echo(f"warning: {warning}", err=True)
    if fmt == "ics":
        from coach.export import pair_ics

        write_output(pair_ics(result, pair).decode("utf-8"), out)
        return
    write_output(to_json(result) if fmt == "json" else to_markdown(result), out)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="coach")


if __name__ == "__main__":
    main()
