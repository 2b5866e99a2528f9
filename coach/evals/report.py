"""The eval report: a run, with its baseline comparison and compared engine, as one self-contained HTML page."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from coach.evals.cases import EVALS_ROOT

if TYPE_CHECKING:
    from coach.evals.comparison import Comparison

#: The report's Jinja2 templates (data, next to the cases).
TEMPLATES_DIR = EVALS_ROOT / "templates"


def render_html(run: dict[str, Any], comparison: Comparison | None = None, other: dict[str, Any] | None = None) -> str:
    """The self-contained HTML report (no script, no external file): summary, bars, failures, baseline."""
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    env = Environment(loader=FileSystemLoader(str(TEMPLATES_DIR)), autoescape=select_autoescape(["html", "j2"]))
    template = env.get_template("report.html.j2")
    failing = [
        {"id": c["id"], "evaluator": k, "score": s["score"], "reason": s["reason"]}
        for c in run["cases"]
        for k, s in c["scores"].items()
        if not s["passed"]
    ]
    return template.render(
        run=run,
        failing=failing,
        comparison=comparison.as_json() if comparison else None,
        other=other,
    )
