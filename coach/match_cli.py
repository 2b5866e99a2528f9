"""`coach match`: propose pairs from a people file (SPEC.md section 9), with reasons.

Registered lazily in coach.cli (LAZY_COMMANDS), so nothing here loads until it runs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from coach.errors import InputError

if TYPE_CHECKING:
    from coach.match_score import CardSpace
    from coach.matching import Match
    from coach.people import PeopleFile

CSV_HEADER = [
    "mentor",
    "mentee",
    "mentor_name",
    "mentee_name",
    "score",
    "for_mentee",
    "for_mentor",
    "locked",
    "reasons",
]


def run_match(
    people: PeopleFile,
    kb_dirs: tuple[str, ...] = (),
    locks: tuple[str, ...] | list[str] = (),
    weights: str | None = None,
    history: set[tuple[str, str]] | None = None,
) -> tuple[CardSpace, Match]:
    """Score every junior x senior cell and choose the pairs (the CLI and the app share this).

    Args:
        people: The validated people file.
        kb_dirs: Extra card folders (`--kb`).
        locks: `JUNIOR=SENIOR` pairs fixed by hand.
        weights: `criterion=level,...` overriding the file's weights.
        history: Earlier pairs, never made again.
    """
    from coach.cli import settings_with_kb
    from coach.matching import match, parse_locks, resolve_weights, score_all
    from coach.people import parse_weights
    from coach.retrieval import get_retriever

    chosen = resolve_weights(
        {str(k): str(v) for k, v in people.weights.items()}, parse_weights(weights) if weights else None
    )
    fixed = parse_locks(list(locks), people)
    space = card_space(get_retriever(settings_with_kb(kb_dirs)))
    scored = score_all(space, people, chosen, history)
    return space, match(scored, fixed)


_SPACES: dict[str, CardSpace] = {}


def card_space(retriever: Any) -> CardSpace:
    """One CardSpace per index generation and process (its phrase cache makes a re-run fast)."""
    from coach.match_score import CardSpace

    key = str(retriever.gen.path)
    if key not in _SPACES:
        _SPACES.clear()
        _SPACES[key] = CardSpace.from_retriever(retriever)
    return _SPACES[key]


def to_csv(data: dict[str, Any]) -> str:
    """One row per pair; `reasons` as `criterion=points` joined by `; `."""
    import csv
    import io

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for p in data["pairs"]:
        reasons = "; ".join(f"{r['criterion']}={r['points']:.2f}" for r in p["reasons"])
        writer.writerow([*(p[k] for k in CSV_HEADER[:-2]), "yes" if p["locked"] else "", reasons])
    for s in data["unmatched"]:
        writer.writerow(["", s, "", "", "", "", "", "", "unmatched"])
    return buf.getvalue()


def print_table(data: dict[str, Any]) -> None:
    """Pairs with their score and strongest reason, then who is left."""
    from rich.console import Console
    from rich.table import Table

    table = Table("mentor", "mentee", "score", "for mentee", "for mentor", "strongest reason")
    for column in table.columns:
        column.overflow = "fold"
    for p in data["pairs"]:
        top = max(p["reasons"], key=lambda r: r["points"], default=None)
        why = f"{top['criterion']} ({top['points']:.2f}): {top['evidence']}" if top else ""
        lock = " (locked)" if p["locked"] else ""
        table.add_row(
            f"{p['mentor']} {p['mentor_name']}{lock}",
            f"{p['mentee']} {p['mentee_name']}",
            f"{p['score']:.2f}",
            f"{p['for_mentee']:.2f}",
            f"{p['for_mentor']:.2f}",
            why,
        )
    console = Console()
    console.print(table)
    summary = data["summary"]
    console.print(
        f"{summary['matched']} of {summary['seniors']} seniors matched, total score {summary['total_score']:.2f}",
        highlight=False,
    )
    if data["unmatched"]:
        console.print("unmatched seniors: " + ", ".join(data["unmatched"]), highlight=False)
    if data["spare_capacity"]:
        spare = ", ".join(f"{j} ({n})" for j, n in data["spare_capacity"].items())
        console.print(f"juniors with room for more: {spare}", highlight=False)


@click.group(invoke_without_command=True)
@click.option("--kb", "kb_dirs", multiple=True, metavar="DIR", help="Extra folder of your own cards (repeatable).")
@click.option(
    "--people", "people_file", default=None, metavar="FILE", help="The people file, YAML or CSV (examples/people.yaml)."
)
@click.option("--format", "fmt", type=click.Choice(["json", "table", "csv"]), default="table", show_default=True)
@click.option("--lock", "locks", multiple=True, metavar="J=S", help="Fix a pair by hand, e.g. j1=s2 (repeatable).")
@click.option("--weights", default=None, metavar="C=LEVEL,...", help="Criterion weights, e.g. teaches=must,learns=low.")
@click.option("--history", "history_file", default=None, metavar="FILE", help="Earlier pairs, never made again.")
@click.option("--out", default=None, help="Write to this file instead of standard output.")
@click.option("--publish", is_flag=True, help="Store the pairs with the file's program settings and plan them.")
@click.option("--cohort", "cohort_name", default=None, help="Cohort to publish into (default: the file's cohort).")
@click.pass_context
def match(
    ctx: click.Context,
    kb_dirs: tuple[str, ...],
    people_file: str | None,
    fmt: str,
    locks: tuple[str, ...],
    weights: str | None,
    history_file: str | None,
    out: str | None,
    publish: bool,
    cohort_name: str | None,
) -> None:
    """Propose the best pairs for a people file, with reasons whose points add up to each score.

    Hard constraints come first (reporting lines, do_not_pair, capacity, earlier cohorts); then as many
    seniors as possible are matched, and among those choices the total score is highest.
    Criteria: teaches (the junior's strengths serve the senior's goals), comfort (they reach the domains
    the senior rates 1-2), learns (the senior's strengths and role serve the junior's goals); levels
    must | high | medium | low | off.
    """
    if ctx.invoked_subcommand is not None:
        return
    from coach.cli import write_output
    from coach.people import load_history, load_people

    if people_file is None:
        raise InputError("--people", "people", "a people file (YAML or CSV, like examples/people.yaml)")
    people = load_people(people_file)
    history = load_history(history_file) if history_file else None
    space, result = run_match(people, kb_dirs, locks, weights, history)
    from coach.matching import to_json_dict

    cohort = cohort_name or people.cohort or Path(people_file).stem
    data = to_json_dict(space, result, cohort)
    if publish:
        data["published"] = publish_and_plan(kb_dirs, people, result.pairs, cohort, people_file)
        ids = dict(zip(map(tuple, data["published"]["pairs"]), data["published"]["ids"], strict=True))
        for p in data["pairs"]:
            p["pair_id"] = ids.get((p["mentor"], p["mentee"]))
    if fmt == "json":
        write_output(json.dumps(data, indent=2, ensure_ascii=False) + "\n", out)
    elif fmt == "csv":
        write_output(to_csv(data), out)
    else:
        if out is not None:
            raise InputError("--out", "out", "--format json or csv when writing to a file")
        print_table(data)


def publish_and_plan(
    kb_dirs: tuple[str, ...], people: PeopleFile, chosen: list[tuple[str, str]], cohort: str, shown: str
) -> dict[str, Any]:
    """Store the pairs (all or none) and plan them as `coach cohort plan` does; progress goes to stderr."""
    from coach.cli import settings_with_kb
    from coach.cohort import plan_cohort
    from coach.errors import CoachError
    from coach.match_publish import publish

    if not chosen:
        raise InputError(shown, "people", "at least one pair to publish, but no pair could be made")
    settings = settings_with_kb(kb_dirs)
    ids = publish(settings, people, chosen, cohort, shown)
    click.echo(f"published {len(ids)} pairs into cohort {cohort!r}; planning them...", err=True)
    result = plan_cohort(settings, cohort)
    click.echo(
        f"planned {result.planned} pairs, {result.already_done} already done, {len(result.failed)} failed",
        err=True,
    )
    if result.failed:
        for pid, why in sorted(result.failed.items()):
            click.echo(f"failed {pid}: {why}", err=True)
        raise CoachError(f"{len(result.failed)} pairs could not be planned; run `coach cohort plan --cohort {cohort}`")
    return {"cohort": cohort, "ids": ids, "pairs": [list(p) for p in chosen], "planned": result.planned}


def _store(kb_dirs: tuple[str, ...] = ()) -> Any:
    from coach.cli import settings_with_kb
    from coach.store import open_store

    return open_store(settings_with_kb(kb_dirs))


@match.command("fit")
@click.argument("pair_id", metavar="PAIR")
@click.option("--side", type=click.Choice(["mentor", "mentee"]), required=True, help="Who answers.")
@click.option(
    "--answer",
    type=click.Choice(["good-fit", "still-deciding", "not-a-good-fit"]),
    required=True,
    help="Is the pair a good fit after session 1?",
)
@click.option("--note", default="", help="A few words on why (optional).")
def fit(pair_id: str, side: str, answer: str, note: str) -> None:
    """Record one side's answer after session 1: good fit, still deciding, or not a good fit."""
    store = _store()
    info = store.get_pair(pair_id)
    status = store.session_status(info.id)
    first = status.get(1)
    if first is None or first.status != "held":
        raise InputError(
            "PAIR",
            "session 1",
            f"a pair whose session 1 was held (log it with `coach session log {info.id} 1 --status held`)",
        )
    store.record_fit(info.id, side, answer, note)
    answers = store.fit_answers(info.id)
    summary = ", ".join(f"{s}: {answers[s].answer if s in answers else 'no answer yet'}" for s in ("mentor", "mentee"))
    click.echo(f"recorded for pair {info.id} ({summary})")
    if answer == "not-a-good-fit":
        if store.match_link(info.id) is not None:
            click.echo(f"see the alternatives: coach match alternatives {info.id} --people FILE")
        else:
            click.echo("this pair was not published by `coach match`, so no alternatives can be proposed")


@match.command("alternatives")
@click.option("--kb", "kb_dirs", multiple=True, metavar="DIR", help="Extra folder of your own cards (repeatable).")
@click.argument("pair_id", metavar="PAIR")
@click.option("--people", "people_file", required=True, metavar="FILE", help="The cohort's people file.")
@click.option("--weights", default=None, metavar="C=LEVEL,...", help="Criterion weights, as for `coach match`.")
@click.option("--history", "history_file", default=None, metavar="FILE", help="Earlier pairs, never made again.")
@click.option("--k", default=5, show_default=True, type=click.IntRange(1, 50), help="Alternatives per side.")
@click.option("--format", "fmt", type=click.Choice(["json", "table"]), default="table", show_default=True)
def alternatives(
    kb_dirs: tuple[str, ...],
    pair_id: str,
    people_file: str,
    weights: str | None,
    history_file: str | None,
    k: int,
    fmt: str,
) -> None:
    """The best available partners for each side of a published pair (never the same two again)."""
    from coach.cli import settings_with_kb
    from coach.match_publish import alternatives_json, find_alternatives
    from coach.matching import resolve_weights, score_all
    from coach.people import load_history, load_people, parse_weights
    from coach.retrieval import get_retriever

    store = _store(kb_dirs)
    info = store.get_pair(pair_id)
    link = store.match_link(info.id)
    if link is None:
        raise InputError("PAIR", "id", f"a pair published by `coach match --publish`, but {info.id} was added by hand")
    people = load_people(people_file)
    by_id = people.by_id()
    for ref, side in ((link.mentor, "junior"), (link.mentee, "senior")):
        if ref not in by_id or by_id[ref].side != side:
            raise InputError(people_file, "people", f"the {side} {ref!r} of pair {info.id}, but the file has no such")
    history = load_history(history_file) if history_file else set()
    history.add((link.mentor, link.mentee))
    chosen = resolve_weights(
        {str(c): str(v) for c, v in people.weights.items()}, parse_weights(weights) if weights else None
    )
    space = card_space(get_retriever(settings_with_kb(kb_dirs)))
    scored = score_all(space, people, chosen, history)
    taken = [(x.mentor, x.mentee) for x in store.match_links(link.cohort) if x.mentor in by_id and x.mentee in by_id]
    alt = find_alternatives(scored, info.id, link.mentor, link.mentee, taken, k)
    data = alternatives_json(space, scored, alt)
    data["fit"] = {side: a.answer for side, a in store.fit_answers(info.id).items()}
    if fmt == "json":
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
        return
    from rich.console import Console
    from rich.table import Table

    console = Console()
    for title, rows, key in (
        (f"other mentors for {alt.mentee} {by_id[alt.mentee].name}", data["for_mentee"], "mentor"),
        (f"other mentees for {alt.mentor} {by_id[alt.mentor].name}", data["for_mentor"], "mentee"),
    ):
        table = Table("who", "score", "strongest reason", title=title)
        for column in table.columns:
            column.overflow = "fold"
        for r in rows:
            top = max(r["reasons"], key=lambda x: x["points"], default=None)
            why = f"{top['criterion']}: {top['evidence']}" if top else ""
            table.add_row(f"{r[key]} {r[key + '_name']}", f"{r['score']:.2f}", why)
        console.print(table if rows else f"{title}: nobody available")
