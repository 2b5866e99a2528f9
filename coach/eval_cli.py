"""`coach eval`: run the eval suite on an engine, store the run, report it, gate on thresholds; or score one plan."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from coach.cli import kb_option, settings_with_kb, write_output
from coach.errors import InputError

if TYPE_CHECKING:
    from coach.evals.comparison import Comparison
    from coach.evals.results import SuiteResult


@click.command("eval")
@kb_option
@click.option(
    "--engine",
    default="offline",
    show_default=True,
    metavar="ENGINE",
    help="offline | local | openai:MODEL: who writes the plans and answers.",
)
@click.option("--cases", "cases_dir", default=None, metavar="DIR", help="Folder of case YAML files [evals/cases].")
@click.option(
    "--thresholds",
    "thresholds_file",
    default=None,
    metavar="FILE",
    help="Minimum score per evaluator [evals/thresholds.yaml].",
)
@click.option("--format", "fmt", type=click.Choice(["table", "json", "html"]), default="table", show_default=True)
@click.option("--out", default=None, metavar="FILE", help="Write the report to this file instead of standard output.")
@click.option(
    "--baseline", type=int, default=None, metavar="RUN_ID", help="Compare with this stored run; mark regressions."
)
@click.option(
    "--compare",
    "compare_engine",
    default=None,
    metavar="ENGINE",
    help="Also run the suite on this engine and print both side by side (e.g. --engine local --compare offline).",
)
@click.option("--attempts", type=click.IntRange(1, 5), default=None, help="Model attempts per plan [the chain's: 3].")
@click.option(
    "--concurrency",
    type=click.IntRange(1, 64),
    default=None,
    help="Concurrent cases for model engines [$COACH_CONCURRENCY].",
)
@click.option("--fail-on-regression", is_flag=True, help="Exit 1 when the run regresses against --baseline.")
@click.option("--list-runs", is_flag=True, help="List the stored runs (id, time, engine, commit) and exit.")
@click.option(
    "--plan",
    "plan_file",
    default=None,
    metavar="PLAN.json",
    help="Score this one plan (with --pair); prints PASSED or FAILED, exit 0 either way.",
)
@click.option("--pair", "pair_file", default=None, metavar="PAIR.yaml", help="The pair the plan is for (with --plan).")
def eval_cmd(
    kb_dirs: tuple[str, ...],
    engine: str,
    cases_dir: str | None,
    thresholds_file: str | None,
    fmt: str,
    out: str | None,
    baseline: int | None,
    compare_engine: str | None,
    attempts: int | None,
    concurrency: int | None,
    fail_on_regression: bool,
    list_runs: bool,
    plan_file: str | None,
    pair_file: str | None,
) -> None:
    """Score plans and answers against the eval cases; exit 1 when an evaluator is below its threshold.

    With --plan, one plan is scored and the exit is 0 whatever its scores: read "passed" from the output.

    \b
    coach eval                                  # offline suite, table, stored under $COACH_HOME
    coach eval --format html --out report.html  # self-contained HTML report
    coach eval --baseline 3                     # compare with stored run 3, regressions marked
    coach eval --engine local --compare offline # SmolLM2 (before fallback) next to the offline planner
    coach eval --plan plan.json --pair pair.yaml --format json   # one plan (SPEC.md section 6)
    """
    from coach.evals.cases import DEFAULT_CASES, DEFAULT_THRESHOLDS
    from coach.providers import parse_model

    settings = settings_with_kb(kb_dirs)
    if out is not None and not Path(out).parent.exists():
        raise InputError(out, "--out", f"a path in an existing folder, but {Path(out).parent} does not exist")
    thresholds_path = Path(thresholds_file) if thresholds_file else DEFAULT_THRESHOLDS
    if plan_file is not None or pair_file is not None:
        if plan_file is None or pair_file is None:
            raise InputError("--plan" if plan_file is None else "--pair", "--plan/--pair", "both --plan and --pair")
        _score_one(settings, Path(plan_file), Path(pair_file), thresholds_path, fmt, out)
        return
    if list_runs:
        _list_runs(settings, fmt, out)
        return
    parse_model(engine, settings, "--engine")
    if compare_engine:
        parse_model(compare_engine, settings, "--engine")
    from coach.evals.cases import load_thresholds

    load_thresholds(thresholds_path)  # bad thresholds are bad input: fail before any work
    cases_path = Path(cases_dir) if cases_dir else DEFAULT_CASES
    base_run = None
    if baseline is not None:
        from coach.store import open_store

        base_run = open_store(settings).eval_run(baseline)
        if base_run is None:
            raise InputError(
                "--baseline", "RUN_ID", f"the id of a stored eval run (see `coach eval --list-runs`), got {baseline}"
            )

    from coach.retrieval import get_retriever

    retriever = get_retriever(settings)
    from coach.evals.cases import load_cases

    load_cases(cases_path, retriever.kb)  # bad cases are bad input: fail before any work
    run = _run(settings, engine, cases_path, thresholds_path, retriever, attempts, concurrency)
    other = None
    if compare_engine:
        other = _run(settings, compare_engine, cases_path, thresholds_path, retriever, attempts, concurrency)

    from coach.evals.comparison import compare

    data = run.as_json()
    comparison = compare(data, base_run, baseline) if base_run is not None and baseline is not None else None
    other_data = None
    if other is not None:
        from coach.evals.comparison import restrict

        # Side by side on the same cases: a model engine may not be asked some (output cap).
        other_data = restrict(other.as_json(), {c["id"] for c in data["cases"]})
    if fmt == "json":
        payload: dict[str, Any] = dict(data)
        if comparison is not None:
            payload["baseline"] = comparison.as_json()
        if other_data is not None:
            payload["compare"] = other_data
        write_output(json.dumps(payload, indent=2) + "\n", out)
    elif fmt == "html":
        from coach.evals.report import render_html

        write_output(render_html(data, comparison, other_data), out)
    else:
        text = _table_text(data, comparison, other_data)
        if out is None:
            click.echo(text, nl=False)
        else:
            write_output(text, out)
    failed = False
    for name, (mean, limit) in run.below().items():
        click.echo(f"below threshold: {name} {mean:.3f} < {limit:.3f} ({run.engine})", err=True)
        failed = True
    if comparison is not None and comparison.regressed:
        for name, (b, c, r) in comparison.evaluators.items():
            if r:
                click.echo(f"regression: {name} {b:.3f} -> {c:.3f} since run {baseline}", err=True)
        click.echo(f"regression: {len(comparison.case_regressions)} case scores dropped", err=True)
        failed = failed or fail_on_regression
    if failed:
        raise click.exceptions.Exit(1)


def _run(
    settings: Any,
    engine: str,
    cases_path: Path,
    thresholds_path: Path,
    retriever: Any,
    attempts: int | None,
    concurrency: int | None,
) -> SuiteResult:
    """Run the suite with a progress bar on standard error and store it."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from coach.evals.runner import run_suite
    from coach.store import open_store

    console = Console(stderr=True)
    with Progress(
        TextColumn("[bold]eval {task.fields[engine]}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[case]}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("eval", total=None, engine=engine, case="")

        def progress(done: int, total: int, case_id: str) -> None:
            bar.update(task, completed=done, total=total, case=case_id)

        result = run_suite(
            settings,
            engine,
            cases_path,
            thresholds_path,
            progress=progress,
            concurrency=concurrency,
            max_attempts=attempts,
            retriever=retriever,
        )
    data = result.as_json()
    result.run_id = open_store(settings).record_suite_run(
        data, result.engine, result.model, result.passed, result.git_commit
    )
    return result


def _score_one(
    settings: Any, plan_path: Path, pair_path: Path, thresholds_path: Path, fmt: str, out: str | None
) -> None:
    """Score one plan (SPEC.md section 6); exit 0 whatever the scores."""
    from coach.evals.cases import load_thresholds
    from coach.evals.scoring import score_plan
    from coach.pairs import load_pair
    from coach.revise import load_plan_file

    plan = load_plan_file(str(plan_path))
    pair = load_pair(pair_path)
    thresholds = load_thresholds(thresholds_path)
    from coach.retrieval import get_retriever

    retriever = get_retriever(settings)
    judge_ctx: Any
    import contextlib

    if settings.judge_model:
        from coach.providers import open_provider

        judge_ctx = open_provider(settings, settings.judge_model)
    else:
        judge_ctx = contextlib.nullcontext(None)
    with judge_ctx as judge:
        result = score_plan(plan, pair, retriever.kb, retriever, thresholds, judge)
    if fmt == "json":
        write_output(json.dumps(result, indent=2) + "\n", out)
        return
    if fmt == "html":
        from coach.evals.report import render_html

        run = {
            "run_id": None,
            "engine": plan.generated_by.engine,
            "model": plan.generated_by.model,
            "git_commit": "",
            "created_at": "",
            "seconds": 0,
            "cases_dir": str(plan_path),
            "passed": result["passed"],
            "evaluators": {
                k: {
                    "mean": v["score"],
                    "threshold": thresholds.get(k, 1.0),
                    "passed": v["passed"],
                    "failing_cases": 0 if v["passed"] else 1,
                    "cases": 1,
                }
                for k, v in result["scores"].items()
            },
            "cases": [
                {
                    "id": plan_path.stem,
                    "kind": "plan",
                    "passed": result["passed"],
                    "scores": result["scores"],
                    "source": "file",
                }
            ],
            "skipped": [],
        }
        write_output(render_html(run), out)
        return
    lines = [f"{plan_path}: {'PASSED' if result['passed'] else 'FAILED'}"]
    for name, s in result["scores"].items():
        mark = "ok  " if s["passed"] else "FAIL"
        lines.append(f"  {mark} {name:<16} {s['score']:.3f}  {s['reason']}")
    write_output("\n".join(lines) + "\n", out)


def _list_runs(settings: Any, fmt: str, out: str | None) -> None:
    from coach.store import open_store

    runs = open_store(settings).eval_runs(limit=50)
    if fmt == "json":
        write_output(json.dumps(runs, indent=2) + "\n", out)
        return
    lines = [f"{'id':>4}  {'created (UTC)':<20}  {'engine':<8} {'model':<24} {'commit':<14} result"]
    for r in runs:
        lines.append(
            f"{r['id']:>4}  {r['created_at']:<20}  {r['engine']:<8} {r['model'][:24]:<24} "
            f"{r['git_commit'][:12]:<14} {'passed' if r['passed'] else 'FAILED'}"
        )
    write_output("\n".join(lines) + "\n", out)


def _table_text(data: dict[str, Any], comparison: Comparison | None, other: dict[str, Any] | None) -> str:
    """The run as plain-text tables (rich): per-evaluator means, failing cases, baseline and compared engine."""
    import io

    from rich.console import Console
    from rich.table import Table

    console = Console(record=True, width=120, force_terminal=False, color_system=None, file=io.StringIO())
    cmp = comparison.as_json()["evaluators"] if comparison is not None else {}
    title = (
        f"eval run {data['run_id']}: {data['engine']} ({data['model']}), {len(data['cases'])} cases "
        f"in {data['seconds']:.1f}s, commit {(data['git_commit'] or '-')[:12]}"
    )
    table = Table(title=title, title_justify="left")
    table.add_column("evaluator")
    table.add_column(f"{data['engine']}", justify="right")
    if other is not None:
        table.add_column(f"{other['engine']} ({other['model']}), same cases", justify="right")
    table.add_column("threshold", justify="right")
    table.add_column("result")
    table.add_column("failing", justify="right")
    if comparison is not None:
        table.add_column(f"baseline {comparison.baseline_id}", justify="right")
        table.add_column("change")
    names = list(data["evaluators"])
    if other is not None:
        names += [k for k in other["evaluators"] if k not in names]
    for name in names:
        ev = data["evaluators"].get(name)
        row = [name, f"{ev['mean']:.3f}" if ev else "-"]
        if other is not None:
            o = other["evaluators"].get(name)
            row.append(f"{o['mean']:.3f}" if o else "-")
        row += [
            f"{ev['threshold']:.2f}" if ev else "-",
            ("pass" if ev["passed"] else "BELOW") if ev else "-",
            f"{ev['failing_cases']}/{ev['cases']}" if ev else "-",
        ]
        if comparison is not None:
            c = cmp.get(name)
            if c and c["baseline"] is not None and c["current"] is not None:
                delta = c["current"] - c["baseline"]
                row += [f"{c['baseline']:.3f}", ("REGRESSION " if c["regressed"] else "") + f"{delta:+.3f}"]
            else:
                row += ["-", "new" if c and c["baseline"] is None else "-"]
        table.add_row(*row)
    console.print(table)
    verdict = "PASSED" if data["passed"] else "FAILED (an evaluator is below its threshold)"
    console.print(f"{data['engine']}: {verdict}")
    if other is not None:
        console.print(
            f"{other['engine']} ({other['model']}) on the same {other.get('same_cases', len(other['cases']))} cases: "
            f"{'PASSED' if other['passed'] else 'FAILED'} (run {other['run_id']})"
        )
    failing = [(c["id"], k, s) for c in data["cases"] for k, s in c["scores"].items() if not s["passed"]]
    if failing:
        ft = Table(title=f"failing cases ({data['engine']})", title_justify="left")
        ft.add_column("case")
        ft.add_column("evaluator")
        ft.add_column("score", justify="right")
        ft.add_column("reason")
        for cid, k, s in failing[:40]:
            ft.add_row(cid, k, f"{s['score']:.3f}", s["reason"])
        console.print(ft)
        if len(failing) > 40:
            console.print(f"... and {len(failing) - 40} more failing case scores (see --format json)")
    if data.get("skipped"):
        console.print(
            f"{len(data['skipped'])} cases not asked (over the model's output cap): "
            + ", ".join(c["id"] for c in data["skipped"])
        )
    if comparison is not None and comparison.case_regressions:
        rt = Table(title=f"regressions since run {comparison.baseline_id}", title_justify="left")
        for col in ("case", "evaluator", "baseline", "now"):
            rt.add_column(col)
        for cid, ev, b, c in comparison.case_regressions:
            rt.add_row(cid, ev, f"{b:.3f}", f"{c:.3f}")
        console.print(rt)
    return console.export_text()
