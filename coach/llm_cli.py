"""`coach ask` and `coach revise`: the coach's chat and plan edits (offline or through a model)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import click

from coach.cli import format_for, kb_option, settings_with_kb, write_output

model_option = click.option(
    "--model",
    default=None,
    metavar="ENGINE",
    help="offline | local | openai:MODEL (default: $COACH_MODEL, else offline).",
)


def _today(value: str | None) -> dt.date | None:
    from coach.errors import parse_iso_date

    return parse_iso_date(value, "--today", "today")


def _context(
    settings: Any, pair_file: str | None, plan_file: str | None, pair_id: str | None, role: str, today: str | None
) -> Any:
    """The chat's context from the options: the pair (a file, or a stored pair with its session record)."""
    from coach.chat import ChatContext
    from coach.pairs import load_pair
    from coach.revise import load_plan_file

    day = _today(today)
    pair = load_pair(pair_file) if pair_file else None
    plan = load_plan_file(plan_file) if plan_file else None
    record: dict[int, str] = {}
    if pair_id:
        from coach.store import open_store

        store = open_store(settings)
        pair = store.get_pair(pair_id).pair
        record = {n: rec.status for n, rec in store.session_status(pair_id).items()}
    from coach.retrieval import get_retriever

    return ChatContext(get_retriever(settings), pair, plan, role, today=day, record=record)


context_options = [
    click.option("--pair", "pair_file", default=None, help="The pair YAML file, to tailor the answer."),
    click.option("--pair-id", default=None, help="A stored pair (`coach pair list`): its sessions held and cancelled."),
    click.option("--plan", "plan_file", default=None, help="A plan JSON file (from `coach plan --format json`)."),
    click.option("--role", type=click.Choice(["mentee", "mentor", "admin"]), default="mentee", show_default=True),
    click.option("--today", default=None, metavar="YYYY-MM-DD", help="Take this as today's date (default: today)."),
]


def with_context_options(f: Any) -> Any:
    """Add the options that say who asks and about which pair."""
    for option in reversed(context_options):
        f = option(f)
    return f


@click.command()
@kb_option
@click.argument("question")
@with_context_options
@model_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def ask(
    kb_dirs: tuple[str, ...],
    question: str,
    pair_file: str | None,
    pair_id: str | None,
    plan_file: str | None,
    role: str,
    today: str | None,
    model: str | None,
    fmt: str,
) -> None:
    """Ask the coach: session briefings, timed lessons, plain explanations, cancellations, plan edits.

    Answers stream as they are written and cite the cards they use as [card-id].
    """
    from coach.chat import ChatTurn
    from coach.providers import open_provider, parse_model

    settings = settings_with_kb(kb_dirs)
    if model:
        parse_model(model, settings, "--model")  # bad input fails before anything starts
    turn = ChatTurn(question, _context(settings, pair_file, plan_file, pair_id, role, today))
    with open_provider(settings, model) as provider:
        turn.provider = provider
        if fmt == "text":
            for chunk in turn:
                click.echo(chunk, nl=False)
            return
        for _ in turn:
            pass
    assert turn.answer is not None
    click.echo(json.dumps(turn.answer.as_json(), indent=2))


@click.command("chat")
@kb_option
@with_context_options
@model_option
def chat(
    kb_dirs: tuple[str, ...],
    pair_file: str | None,
    pair_id: str | None,
    plan_file: str | None,
    role: str,
    today: str | None,
    model: str | None,
) -> None:
    """Talk to the coach in the terminal: one question a line; follow-ups build on the last answer.

    "can you make that shorter?", "what about session 4?", "and for my mentor?" are read against the
    previous answer. An empty line is skipped; end with Ctrl-D (or "quit").
    """
    from coach.conversation import Conversation
    from coach.errors import InputError
    from coach.providers import open_provider, parse_model

    settings = settings_with_kb(kb_dirs)
    if model:
        parse_model(model, settings, "--model")
    ctx = _context(settings, pair_file, plan_file, pair_id, role, today)
    import sys

    stdin = sys.stdin  # CliRunner's input in tests
    # Questions piped in (a file, a here-doc) are not echoed by a terminal: print each after its prompt,
    # so the transcript reads "you> question" / "coach> answer" rather than prompts run together.
    piped = not stdin.isatty()
    with open_provider(settings, model) as provider:
        conv = Conversation(ctx, provider)
        while True:
            if not piped:
                click.echo("you> ", nl=False)
            line = stdin.readline()
            if line and not line.strip():
                continue
            if piped and line:
                click.echo(f"you> {line.strip()}")
            if not line or line.strip().lower() in {"quit", "exit"}:
                if not piped:
                    click.echo("")
                return
            try:
                turn = conv.turn(line.strip())
            except InputError as exc:
                click.echo(f"coach> {exc.expected}")
                continue
            click.echo("coach> ", nl=False)
            for chunk in turn:
                click.echo(chunk, nl=False)
            click.echo("")


@click.command("revise")
@kb_option
@click.option("--plan", "plan_file", required=True, help="The plan JSON file to edit.")
@click.argument("instruction")
@click.option("--pair", "pair_file", default=None, help="The pair YAML file (optional; the plan carries the goals).")
@model_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["json", "md"]),
    default=None,
    help="json or md (default: from --out's extension, else json).",
)
@click.option("--out", default=None, help="Write the revised plan to this file instead of standard output.")
def revise(
    kb_dirs: tuple[str, ...],
    plan_file: str,
    instruction: str,
    pair_file: str | None,
    model: str | None,
    fmt: str | None,
    out: str | None,
) -> None:
    """Edit a plan ("make session 3 about Teams and 30 minutes shorter"); the result must pass the checks.

    INSTRUCTION is the change in words (at most 1,000 characters), or - to read it from standard input.

    Offline: change a session's topic, length or date, drop or add a session, or compress the rest
    after a cancellation. With a model (--model or $COACH_MODEL) any edit; an edit that breaks the
    plan's rules is refused with the reason and nothing is written.
    """
    from coach.export import to_json, to_markdown
    from coach.pairs import load_pair
    from coach.providers import open_provider, parse_model
    from coach.revise import check_instruction, load_plan_file
    from coach.revise import revise as revise_plan

    fmt = format_for(fmt, out, "json", ("json", "md"))

    if instruction == "-":
        # Read one character past the limit: enough to refuse a longer text without holding all of it.
        import sys

        from coach.limits import INSTRUCTION_CHARS

        instruction = sys.stdin.read(INSTRUCTION_CHARS + 1)  # CliRunner's input in tests
    check_instruction(instruction)  # before the index and the model are opened: a bad text costs nothing
    settings = settings_with_kb(kb_dirs)
    if model:
        parse_model(model, settings, "--model")
    plan = load_plan_file(plan_file)
    pair = load_pair(pair_file) if pair_file else None
    from coach.retrieval import get_retriever

    retriever = get_retriever(settings)
    with open_provider(settings, model) as provider:
        result = revise_plan(plan, instruction, retriever, pair, provider)
    for change in result.changes:
        click.echo(f"changed: {change}", err=True)
    write_output(to_json(result.plan) if fmt == "json" else to_markdown(result.plan), out)
