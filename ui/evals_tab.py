"""Evals tab (admin): latest run per engine, scores per evaluator, trend over runs, failing cases, run the suite.

The eval suite lives in `coach.evals` and its runs in the program database (`Store.eval_runs`,
`Store.eval_run`). This tab only reads them and starts the offline suite; when the suite or its
stored runs are not there it says so plainly instead of failing.
"""

from __future__ import annotations

import logging
from typing import Any

import gradio as gr

from ui import access
from ui.common import retriever, settings
from ui.safe import escape

log = logging.getLogger(__name__)

NO_RUNS = (
    "**No eval runs are available yet.** Press **Run the offline suite** below "
    "(or run `coach eval --engine offline` in a terminal) to score the coach on the shipped cases."
)
RUN_HEADERS = ["Engine", "Model", "When (UTC)", "Result", "Commit", "Run"]
FAIL_HEADERS = ["Case", "Evaluator", "Score", "Why it failed"]
MAX_TREND_RUNS = 20


def _store() -> Any:
    from coach.store import open_store

    return open_store(settings())


def suite_available() -> bool:
    """Whether the eval suite and the stored runs it needs exist in this version of the code."""
    try:
        from coach.evals import runner
        from coach.store import Store
    except ImportError:
        return False
    return hasattr(runner, "run_suite") and hasattr(Store, "eval_runs") and hasattr(Store, "eval_run")


def runs(limit: int = MAX_TREND_RUNS) -> list[dict[str, Any]]:
    """Stored suite runs, newest first (empty when none or when the suite is not available)."""
    if not suite_available():
        return []
    return list(_store().eval_runs(limit))


def latest_per_engine(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The newest run of each engine/model, newest first."""
    seen: set[tuple[str, str]] = set()
    out = []
    for r in items:
        key = (r["engine"], r["model"])
        if key not in seen:
            seen.add(key)
            out.append(r)
    return out


def scores_chart(run: dict[str, Any]) -> Any:
    """Mean score per evaluator of one run, with its threshold."""
    import plotly.graph_objects as go

    ev = run.get("evaluators", {})
    names = list(ev)
    means = [ev[n]["mean"] for n in names]
    colours = ["#2f7d4f" if ev[n]["passed"] else "#c0504d" for n in names]
    fig = go.Figure()
    fig.add_bar(x=names, y=means, marker_color=colours, name="mean score")
    fig.add_scatter(
        x=names,
        y=[ev[n]["threshold"] for n in names],
        mode="markers",
        marker={"symbol": "line-ew-open", "size": 34, "color": "#111", "line": {"width": 3, "color": "#111"}},
        name="threshold",
    )
    fig.update_layout(
        yaxis={"range": [0, 1.05]},
        height=300,
        margin={"l": 40, "r": 10, "t": 40, "b": 60},
        legend={"orientation": "h", "y": -0.35},
    )
    return fig


def trend_chart(full_runs: list[dict[str, Any]]) -> Any:
    """Each evaluator's mean over the runs of one engine, oldest to newest."""
    import plotly.graph_objects as go

    fig = go.Figure()
    ordered = list(reversed(full_runs))
    names: list[str] = []
    for r in ordered:
        names += [n for n in r.get("evaluators", {}) if n not in names]
    for n in names:
        xs = [f"#{r['run_id']}" for r in ordered if n in r.get("evaluators", {})]
        ys = [r["evaluators"][n]["mean"] for r in ordered if n in r.get("evaluators", {})]
        fig.add_scatter(x=xs, y=ys, mode="lines+markers", name=n)
    fig.update_layout(
        yaxis={"range": [0, 1.05]},
        xaxis_title="run",
        height=300,
        margin={"l": 40, "r": 10, "t": 40, "b": 40},
    )
    return fig


def failing_rows(run: dict[str, Any]) -> list[list[Any]]:
    """Every failing (case, evaluator) of a run, with the reason."""
    rows = []
    for case in run.get("cases", []):
        for name, s in case.get("scores", {}).items():
            if not s.get("passed", True):
                rows.append([case.get("id", "?"), name, round(float(s.get("score", 0.0)), 3), s.get("reason", "")])
    return rows


def evals_view(session: access.Session) -> tuple[Any, ...]:
    """Everything the Evals tab shows (refused unless admin)."""
    access.require_admin(session, "the Evals view")
    hidden = gr.update(visible=False)
    if not suite_available():
        return NO_RUNS, hidden, hidden, hidden, hidden, gr.update(interactive=False)
    items = runs()
    if not items:
        return NO_RUNS, hidden, hidden, hidden, hidden, gr.update(interactive=True)
    table = [
        [
            r["engine"],
            r["model"],
            r["created_at"].replace("T", " ").rstrip("Z"),
            "passed" if r["passed"] else "FAILED",
            (r.get("git_commit") or "")[:12],
            r["id"],
        ]
        for r in latest_per_engine(items)
    ]
    store = _store()
    latest = store.eval_run(items[0]["id"]) or {}
    same_engine = [r for r in items if (r["engine"], r["model"]) == (items[0]["engine"], items[0]["model"])]
    full = [x for x in (store.eval_run(r["id"]) for r in same_engine) if x]
    fails = failing_rows(latest)
    verdict = "passed every threshold" if latest.get("passed") else "is below a threshold"
    text = (
        f"Latest run **#{items[0]['id']}** ({escape(items[0]['engine'])}, {escape(items[0]['model'])}) {verdict}: "
        f"{len(latest.get('cases', []))} cases, {len(fails)} failing score{'s' if len(fails) != 1 else ''}."
    )
    return (
        text,
        gr.update(value=table, visible=True),
        gr.update(value=scores_chart(latest), visible=True),
        gr.update(value=trend_chart(full), visible=True),
        gr.update(value=fails, visible=bool(fails)),
        gr.update(interactive=True),
    )


def evals_view_quiet(session: access.Session) -> tuple[Any, ...]:
    """The same for page load: empty for a visitor who has not logged in, a message if reading fails."""
    if not access.is_admin(session):
        hidden = gr.update(visible=False)
        return "", hidden, hidden, hidden, hidden, gr.update()
    try:
        return evals_view(session)
    except Exception as exc:
        log.exception("evals view failed")
        hidden = gr.update(visible=False)
        return f"The eval runs could not be read: {escape(str(exc))}", hidden, hidden, hidden, hidden, gr.update()


def run_offline(session: access.Session, progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:
    """Run the offline suite with a progress bar, store it, and show the new results."""
    access.require_admin(session, "running the evals")
    if not suite_available():
        raise gr.Error("The eval suite is not available in this version of the coach.")
    from coach.evals import runner

    progress(0, desc="Starting the offline eval suite")

    def tick(done: int, total: int, case_id: str = "") -> None:
        progress((done, total), desc=f"Scoring case {case_id}" if case_id else "Scoring cases")

    s = settings()
    result = runner.run_suite(s, engine="offline", progress=tick, retriever=retriever())
    if hasattr(runner, "store_run"):
        runner.store_run(s, result)
    else:
        data = result.as_json()
        _store().record_suite_run(data, result.engine, result.model, result.passed, result.git_commit)
    return evals_view(session)


def build(session: gr.State) -> dict[str, Any]:
    """Lay out the Evals tab's admin panel (the app puts the login box above it)."""
    with gr.Column(visible=not access.password_set(), elem_id="evals-panel") as panel:
        gr.Markdown(
            "Is the coach good enough? Each run scores generated plans and answers on the eval cases; "
            "a score passes when it reaches its threshold."
        )
        text = gr.Markdown(NO_RUNS, elem_id="evals-summary")
        with gr.Row():
            run_btn = gr.Button("Run the offline suite", variant="primary", scale=0, min_width=220)
            refresh = gr.Button("Refresh", size="sm", scale=0, min_width=100)
        latest = gr.Dataframe(
            headers=RUN_HEADERS, interactive=False, label="Latest run per engine", max_height=200, visible=False
        )
        with gr.Row():
            chart = gr.Plot(label="Scores by evaluator", visible=False)
            trend = gr.Plot(label="Trend over runs", visible=False)
        fails = gr.Dataframe(
            headers=FAIL_HEADERS, interactive=False, wrap=True, label="Failing cases", max_height=300, visible=False
        )
    outputs = [text, latest, chart, trend, fails, run_btn]
    refresh.click(evals_view, session, outputs, api_name="evals")
    run_btn.click(run_offline, session, outputs, api_name="run_evals", concurrency_limit=1, concurrency_id="evals")
    return {"panel": panel, "outputs": outputs, "load": evals_view_quiet}
