"""`coach eval`: one plan (SPEC.md section 6), suite runs stored and compared, thresholds gate, bad input.

The command runs in-process through click's runner against the shared index, with the real offline
planner; a small case folder keeps each suite run to a few seconds.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from support import EVAL_CASES, EXAMPLE_PAIR, ROOT, copy_cases

from coach.cli import cli


@pytest.fixture
def env(indexed_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The shared index, but a private database for the runs this test stores."""
    monkeypatch.setenv("COACH_DATABASE_URL", f"sqlite:///{tmp_path / 'runs.db'}")
    from coach.store import close_stores

    close_stores()
    return tmp_path


def run(*args: str):
    return CliRunner().invoke(cli, ["eval", *args], catch_exceptions=False)


@pytest.fixture
def plan_file(env: Path) -> Path:
    result = CliRunner().invoke(cli, ["plan", "--pair", str(EXAMPLE_PAIR), "--format", "json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    path = env / "plan.json"
    path.write_text(result.stdout)
    return path


def test_one_plan_prints_spec_section_6(plan_file: Path) -> None:
    result = run("--plan", str(plan_file), "--pair", str(EXAMPLE_PAIR), "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) == {"passed", "scores"}
    assert data["passed"] is True
    for name, s in data["scores"].items():
        assert set(s) == {"score", "passed", "reason"}, name
        assert 0.0 <= s["score"] <= 1.0 and isinstance(s["passed"], bool) and s["reason"]
    assert {"structure", "coverage", "grounding", "order", "balance", "diversity", "personalization"} <= set(
        data["scores"]
    )


def test_a_hand_edited_plan_that_fails_still_exits_0(plan_file: Path, env: Path) -> None:
    data = json.loads(plan_file.read_text())
    data["sessions"][1]["agenda"][0]["minutes"] += 7  # an admin's slip
    edited = env / "edited.json"
    edited.write_text(json.dumps(data))
    result = run("--plan", str(edited), "--pair", str(EXAMPLE_PAIR), "--format", "json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["passed"] is False
    assert not out["scores"]["structure"]["passed"]
    assert [k for k, v in out["scores"].items() if not v["passed"]] == ["structure"]


@pytest.mark.parametrize(
    ("content", "field"),
    [
        (None, "--plan"),
        ("{not json", "plan JSON (Expecting property name"),
        (json.dumps({"mentor": {"name": "A", "role": "B"}}), "mentee"),
        (json.dumps([1, 2]), "JSON object"),
        ("# Reverse-mentoring plan: A and B\n", "Markdown plan"),
        ("[" * 200_000 + "]" * 200_000, "nested too deeply"),
        ("{" + " " * (2 * 1024 * 1024) + "}", "at most 2 MB"),
    ],
    ids=["missing", "not-json", "missing-field", "not-an-object", "markdown", "deep", "too-big"],
)
def test_bad_plan_input_exits_2_naming_file_and_field(env: Path, content: str | None, field: str) -> None:
    path = env / "bad.json"
    if content is not None:
        path.write_text(content)
    out = env / "scores.json"
    result = run("--plan", str(path), "--pair", str(EXAMPLE_PAIR), "--format", "json", "--out", str(out))
    assert result.exit_code == 2
    assert str(path) in result.stderr and field in result.stderr
    assert not out.exists()


def test_bad_pair_and_missing_half_exit_2(plan_file: Path, env: Path) -> None:
    pair = env / "pair.yaml"
    pair.write_text("mentor: {name: A, role: B}\nmentee: {name: C, role: D, goals: [x]}\nprogram: {sessions: 0}\n")
    result = run("--plan", str(plan_file), "--pair", str(pair), "--format", "json")
    assert result.exit_code == 2 and "program.sessions" in result.stderr
    result = run("--plan", str(plan_file))
    assert result.exit_code == 2 and "--pair" in result.stderr


def test_a_suite_run_is_stored_and_gated_by_thresholds(env: Path) -> None:
    cases = copy_cases(env, ["cfo-retail-genai-genz", "chat-explain-hallucinations"])
    result = run("--cases", str(cases), "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["passed"] is True and data["engine"] == "offline" and data["run_id"] == 1
    assert sorted(c["id"] for c in data["cases"]) == ["cfo-retail-genai-genz", "chat-explain-hallucinations"]
    assert data["evaluators"]["structure"] == {
        "mean": 1.0,
        "threshold": 1.0,
        "passed": True,
        "failing_cases": 0,
        "cases": 1,
    }
    from coach.config import load_settings
    from coach.store import open_store

    store = open_store(load_settings())
    stored = store.eval_run(1)
    assert stored is not None and stored["git_commit"] == data["git_commit"]
    rows = store.eval_scores(1)
    assert ("cfo-retail-genai-genz", "structure", 1.0, True) in [r[:4] for r in rows]
    assert len(rows) == 11 + 2  # eleven plan evaluators (wording and honesty joined in issue 12), two chat evaluators
    listed = run("--list-runs", "--format", "json")
    assert [r["id"] for r in json.loads(listed.stdout)] == [1]

    # A case whose expectation the plan cannot meet drops coverage below its threshold: exit 1.
    case = cases / "cfo-retail-genai-genz.yaml"
    data = yaml.safe_load(case.read_text())
    data["expect"]["goals"][1]["domains"] = ["cybersecurity-privacy"]
    case.write_text(yaml.safe_dump(data))
    result = run("--cases", str(cases), "--baseline", "1")
    assert result.exit_code == 1
    assert "below threshold: coverage 0.500 < 1.000" in result.stderr
    assert "regression: coverage 1.000 -> 0.500 since run 1" in result.stderr
    assert "REGRESSION" in result.stdout and "baseline 1" in result.stdout


def test_html_report_has_summary_bars_failures_and_baseline(env: Path) -> None:
    cases = copy_cases(env, ["ceo-bank-security", "chat-not-covered-sourdough"])
    assert run("--cases", str(cases), "--format", "json").exit_code == 0
    case = cases / "ceo-bank-security.yaml"
    data = yaml.safe_load(case.read_text())
    data["expect"]["goals"][0]["domains"] = ["data-literacy"]
    case.write_text(yaml.safe_dump(data))
    report = env / "report.html"
    result = run("--cases", str(cases), "--format", "html", "--out", str(report), "--baseline", "1")
    assert result.exit_code == 1  # below threshold, but the report is written first
    html = report.read_text()
    assert "<h2>Summary</h2>" in html and "<h2>Per-evaluator scores</h2>" in html
    assert 'class="fill below"' in html  # coverage's bar is red
    assert "ceo-bank-security" in html and "none of their topics matches it" in html
    assert "Comparison with baseline run 1" in html and "REGRESSION" in html
    assert "<script" not in html and "http://" not in html and "https://" not in html


def test_a_regression_only_fails_with_the_flag(env: Path) -> None:
    cases = copy_cases(env, ["board-chair-copilot"])
    thresholds = env / "thresholds.yaml"
    lenient = yaml.safe_load((ROOT / "evals" / "thresholds.yaml").read_text())
    lenient["coverage"] = 0.0
    thresholds.write_text(yaml.safe_dump(lenient))
    assert run("--cases", str(cases), "--thresholds", str(thresholds)).exit_code == 0
    case = cases / "board-chair-copilot.yaml"
    data = yaml.safe_load(case.read_text())
    data["expect"]["goals"][0]["domains"] = ["social-media"]
    case.write_text(yaml.safe_dump(data))
    args = ["--cases", str(cases), "--thresholds", str(thresholds), "--baseline", "1", "--format", "json"]
    result = run(*args)
    assert result.exit_code == 0
    report = json.loads(result.stdout)["baseline"]
    assert report["regressed"] is True
    assert report["case_regressions"] == [
        {"case": "board-chair-copilot", "evaluator": "coverage", "baseline": 1.0, "current": 0.0}
    ]
    assert run(*args, "--fail-on-regression").exit_code == 1
    # Against itself nothing regressed.
    same = json.loads(
        run("--cases", str(cases), "--thresholds", str(thresholds), "--baseline", "2", "--format", "json").stdout
    )
    assert same["baseline"]["regressed"] is False


def test_bad_suite_input_exits_2_before_any_work(env: Path) -> None:
    result = run("--baseline", "99")
    assert result.exit_code == 2 and "RUN_ID" in result.stderr
    result = run("--cases", str(env / "nowhere"))
    assert result.exit_code == 2 and "--cases" in result.stderr
    bad = env / "cases"
    bad.mkdir()
    (bad / "x.yaml").write_text("id: x\nkind: plan\npair: {}\nexpcet: {}\n")
    result = run("--cases", str(bad))
    assert result.exit_code == 2 and "x.yaml" in result.stderr and "expcet" in result.stderr
    thresholds = env / "t.yaml"
    thresholds.write_text("structure: 2\n")
    result = run("--thresholds", str(thresholds))
    assert result.exit_code == 2 and "structure" in result.stderr
    result = run("--engine", "gpt4")
    assert result.exit_code == 2 and "--engine" in result.stderr
    from coach.config import load_settings
    from coach.store import open_store

    assert open_store(load_settings()).eval_runs() == []


def test_shipped_cases_cover_the_issue() -> None:
    from coach.evals.cases import ChatCase, PlanCase, load_cases

    cases = load_cases(EVAL_CASES)
    plans = [c for c in cases if isinstance(c, PlanCase)]
    chats = [c for c in cases if isinstance(c, ChatCase)]
    assert len(plans) >= 24 and len(chats) >= 8
    sessions = {c.pair.program.sessions for c in plans}
    minutes = {c.pair.program.minutes for c in plans}
    assert {1, 24} <= sessions and {15, 180} <= minutes
    tags = {t for c in cases for t in c.tags}
    assert {"hostile", "barely-covered", "narrow", "broad", "not-covered"} <= tags
    assert any(c.expect.must_not_contain for c in plans)
    assert any(not c.expect.covered for c in chats)
    assert len({c.pair.mentee.role for c in plans}) >= 20  # different seniorities and industries
