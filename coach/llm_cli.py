"""`coach ask` and `coach revise`: the coach's chat and plan edits (offline or through a model)."""

from __future__ import annotations

import json

import click

from coach.cli import kb_option, settings_with_kb, write_output

model_option = click.option(
    "--model",
    default=None,
    metavar="ENGINE",
    help="offline | local | openai:MODEL (default: $COACH_MODEL, else offline).",
)


@click.command()
@kb_option
@click.argument("question")
@click.option("--pair", "pair_file", default=None, help="The pair YAML file, to tailor the answer.")
@click.option("--plan", "plan_file", default=None, help="A plan JSON file (from `coach plan --format json`).")
@click.option("--role", type=click.Choice(["mentee", "mentor", "admin"]), default="mentee", show_default=True)
@model_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def ask(
    kb_dirs: tuple[str, ...],
    question: str,
    pair_file: str | None,
    plan_file: str | None,
    role: str,
    model: str | None,
    fmt: str,
) -> None:
    """Ask the coach: session briefings, timed lessons, plain explanations, cancellations, plan edits.

    Answers stream as they are written and cite the cards they use as [card-id].
    """
    from coach.chat import ChatContext, ChatTurn
    from coach.pairs import load_pair
    from coach.providers import open_provider, parse_model
    from coach.revise import load_plan_file

    settings = settings_with_kb(kb_dirs)
    if model:
        parse_model(model, settings, "--model")  # bad input fails before anything starts
    pair = load_pair(pair_file) if pair_file else None
    plan = load_plan_file(plan_file) if plan_file else None
    from coach.retrieval import get_retriever

    retriever = get_retriever(settings)
    turn = ChatTurn(question, ChatContext(retriever, pair, plan, role))
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


@click.command("revise")
@kb_option
@click.option("--plan", "plan_file", required=True, help="The plan JSON file to edit.")
@click.argument("instruction")
@click.option("--pair", "pair_file", default=None, help="The pair YAML file (optional; the plan carries the goals).")
@model_option
@click.option("--format", "fmt", type=click.Choice(["json", "md"]), default="json", show_default=True)
@click.option("--out", default=None, help="Write the revised plan to this file instead of standard output.")
def revise(
    kb_dirs: tuple[str, ...],
    plan_file: str,
    instruction: str,
    pair_file: str | None,
    model: str | None,
    fmt: str,
    out: str | None,
) -> None:
    """Edit a plan ("make session 3 about Teams and 30 minutes shorter"); the result must pass the checks.

    Offline: change a session's topic, length or date, drop or add a session, or compress the rest
    after a cancellation. With a model (--model or $COACH_MODEL) any edit; an edit that breaks the
    plan's rules is refused with the reason and nothing is written.
    """
    from coach.export import to_json, to_markdown
    from coach.pairs import load_pair
    from coach.providers import open_provider, parse_model
    from coach.revise import load_plan_file
    from coach.revise import revise as revise_plan

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
