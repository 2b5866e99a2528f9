"""The program store on a real database: SQLite here; tests/integration/test_postgres.py reruns this module on PostgreSQL.

Every test goes through the `store` fixture, which honours the `db_url` fixture (None = SQLite under $COACH_HOME).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import inspect, text

from coach.cli import cli
from coach.config import load_settings
from coach.errors import InputError
from coach.models import (
    AgendaItem,
    Citation,
    DiscussionPrompt,
    GeneratedBy,
    Mentee,
    Mentor,
    Pair,
    PersonRef,
    Plan,
    PlanTopic,
    Program,
    Session,
)
from coach.pairs import load_pair

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "pair.yaml"


def make_pair(mentor: str = "Priya Shah", mentee: str = "Robert Klein", sessions: int = 4) -> Pair:
    """A valid pair built in code."""
    return Pair(
        mentor=Mentor(name=mentor, role="Data Analyst", strengths=["prompting"]),
        mentee=Mentee(name=mentee, role="CFO", goals=["draft board reports with AI", "understand Gen Z"]),
        program=Program(sessions=sessions, minutes=45, cadence="biweekly", start=dt.date(2026, 1, 12)),
    )


def make_plan(pair: Pair, tag: str = "v") -> Plan:
    """A hand-built plan (one topic per session) that round-trips through the store."""
    sessions = []
    for i in range(pair.program.sessions):
        sessions.append(
            Session(
                number=i + 1,
                date=pair.program.start + dt.timedelta(days=14 * i),
                title=f"{tag} session {i + 1}",
                minutes=45,
                topics=[PlanTopic(id="genai-prompting-basics", title="Prompting basics", domain="generative-ai")],
                objectives=[f"objective {i + 1}"],
                pre_work=["read the card"],
                agenda=[
                    AgendaItem(minutes=30, activity="Prompting demo | live", lead="mentor"),
                    AgendaItem(minutes=15, activity="Budget walkthrough", lead="mentee"),
                ],
                discussion_prompts=[DiscussionPrompt(text=f"question {tag} {i}", asked_by="mentee")],
                reflection=["what will you try?"],
                citations=[
                    Citation(
                        topic_id="genai-prompting-basics",
                        source="knowledge_base/generative-ai/genai-prompting-basics.yaml",
                    )
                ],
                goals=[i % len(pair.mentee.goals)],
            )
        )
    return Plan(
        mentor=PersonRef(name=pair.mentor.name, role=pair.mentor.role),
        mentee=PersonRef(name=pair.mentee.name, role=pair.mentee.role),
        ground_rules=["confidential"],
        success_measures=["80% held"],
        sessions=sessions,
        goals=list(pair.mentee.goals),
        generated_by=GeneratedBy(engine="offline", model="cards"),
    )


@pytest.fixture
def db_url() -> str | None:
    """The database under test: None means the default SQLite file under $COACH_HOME."""
    return None


@pytest.fixture
def store(db_url: str | None, monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    from coach.store import close_stores, open_store

    if db_url:
        monkeypatch.setenv("COACH_DATABASE_URL", db_url)
    s = open_store(load_settings())
    yield s
    close_stores()


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


# --------------------------------------------------------------------------- schema


def test_migrations_create_the_schema_the_models_describe(store) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from coach.store import HEAD_REVISION, Base

    assert store.current_revision() == HEAD_REVISION
    with store.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
        assert set(inspect(conn).get_table_names()) >= set(Base.metadata.tables)


def test_sqlite_is_wal_with_busy_timeout(store) -> None:
    from coach.store import BUSY_TIMEOUT_MS

    if not store.is_sqlite:
        pytest.skip("SQLite only")
    assert Path(store.url.removeprefix("sqlite:///")).parent == load_settings().home
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == BUSY_TIMEOUT_MS
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_reopening_keeps_data_and_skips_migration(store) -> None:
    from coach.store import Store

    pid = store.add_pair(make_pair())
    again = Store(store.url, store.home)
    again.migrate()
    assert [p.id for p in again.list_pairs()] == [pid]
    again.engine.dispose()


# --------------------------------------------------------------------------- pairs


def test_pair_round_trip_and_prefix_lookup(store) -> None:
    pair = load_pair(EXAMPLE)
    pid = store.add_pair(pair, cohort="pilot", source=str(EXAMPLE))
    info = store.get_pair(pid[:6])
    assert info.id == pid and info.pair == pair and info.cohort == "pilot"
    assert info.list_row() | {} == {
        "id": pid,
        "mentor": "Priya Shah",
        "mentee": "Robert Klein",
        "sessions_planned": 6,
        "cohort": "pilot",
        "cadence": "biweekly",
        "start": "2026-01-12",
        "plan_version": 0,
    }
    with pytest.raises(InputError, match="the id of a stored pair"):
        store.get_pair("abcdef012345" if pid != "abcdef012345" else "012345abcdef")
    with pytest.raises(InputError, match="a pair id"):
        store.get_pair("x; drop table pairs")


def test_ambiguous_prefix_is_refused(store) -> None:
    ids = store.add_pairs([make_pair(mentee=f"Lead {i}") for i in range(40)])
    first = {i[0] for i in ids}
    clash = next(c for c in sorted(first) if sum(i.startswith(c) for i in ids) > 1)
    # A one-character prefix is too short to be an id; four characters resolve when unique.
    with pytest.raises(InputError):
        store.get_pair(clash)
    assert store.get_pair(ids[0][:12]).id == ids[0]


def test_add_pairs_is_one_transaction(store) -> None:
    from coach.store import PairRow

    pairs = [make_pair(mentee=f"Leader {i}") for i in range(5)]
    original = store._pair_row
    calls = {"n": 0}

    def failing(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 4:
            raise RuntimeError("boom on the fourth row")
        return original(*args, **kwargs)

    store._pair_row = failing  # type: ignore[method-assign]
    try:
        with pytest.raises(RuntimeError):
            store.add_pairs(pairs)
    finally:
        store._pair_row = original  # type: ignore[method-assign]
    assert store.read(lambda s: s.query(PairRow).count()) == 0
    assert len(store.add_pairs(pairs)) == 5


# --------------------------------------------------------------------------- plans


def test_every_plan_is_a_new_version_and_history_stays(store) -> None:
    pair = make_pair()
    pid = store.add_pair(pair)
    assert store.get_plan(pid) is None
    v1, v2 = make_plan(pair, "first"), make_plan(pair, "second")
    assert store.save_plan(pid, v1, "generated") == 1
    assert store.save_plan(pid, v2, "re-planned: session 2 cancelled") == 2
    versions = store.plan_versions(pid)
    assert [(v.version, v.reason) for v in versions] == [(1, "generated"), (2, "re-planned: session 2 cancelled")]
    assert versions[0].plan == v1 and versions[1].plan == v2
    assert store.get_plan(pid).plan == v2
    assert store.get_plan(pid, 1).plan == v1
    assert store.get_plan(pid, 7) is None
    assert store.get_pair(pid).plan_version == 2


def test_module_level_save_plan(store) -> None:
    from coach.store import save_plan

    pair = make_pair()
    pid = store.add_pair(pair)
    assert save_plan(load_settings(), pid, make_plan(pair), "from the LLM chain") == 1
    assert store.get_plan(pid).reason == "from the LLM chain"


# --------------------------------------------------------------------------- sessions and feedback


def test_log_session_with_ratings(store) -> None:
    pid = store.add_pair(make_pair())
    store.log_session(pid, 1, "held", dt.date(2026, 1, 12), "good", {"mentor": (4, "clear"), "mentee": (5, "")})
    store.log_session(pid, 2, "moved", dt.date(2026, 2, 2))
    store.log_session(pid, 2, "held", dt.date(2026, 2, 2), ratings={"mentee": (3, "rushed")})
    recs = store.sessions(pid)
    assert [(r.number, r.status) for r in recs] == [(1, "held"), (2, "moved"), (2, "held")]
    assert recs[0].ratings == {"mentor": (4, "clear"), "mentee": (5, "")}
    assert store.session_status(pid)[2].status == "held"


@pytest.mark.parametrize(
    ("number", "status", "ratings", "message"),
    [
        (1, "held", {"mentor": (6, "")}, "a rating from 1 to 5, got 6"),
        (1, "held", {"mentee": (0, "")}, "a rating from 1 to 5, got 0"),
        (1, "skipped", {}, "one of held, cancelled, moved"),
        (1, "cancelled", {"mentor": (4, "")}, "held when ratings are given"),
        (5, "held", {}, "a session number from 1 to 4"),
        (0, "held", {}, "a session number from 1 to 4"),
    ],
)
def test_bad_session_logs_write_nothing(store, number, status, ratings, message) -> None:
    pid = store.add_pair(make_pair())
    before = store.count_rows()
    with pytest.raises(InputError, match=message):
        store.log_session(pid, number, status, dt.date(2026, 1, 12), ratings=ratings)
    assert store.count_rows() == before


def test_database_constraints_back_the_checks(store) -> None:
    """Even a caller that skips the Python checks cannot store a rating of 9."""
    from sqlalchemy.exc import IntegrityError

    pid = store.add_pair(make_pair())
    rid = store.log_session(pid, 1, "held", dt.date(2026, 1, 12))
    with pytest.raises(IntegrityError):
        store.write(
            lambda s: s.execute(
                text(
                    "INSERT INTO feedback (pair_id, session_record_id, number, side, rating, comment, created_at) "
                    "VALUES (:p, :r, 1, 'mentor', 9, '', :t)"
                ),
                {"p": pid, "r": rid, "t": dt.datetime(2026, 1, 1)},
            )
        )


# --------------------------------------------------------------------------- delete and export


def _fill(store, pair: Pair) -> str:
    pid = store.add_matched_pairs([pair], [("j1", "s1")], cohort="c1")[0]  # as `coach match --publish` stores it
    store.record_fit(pid, "mentee", "still-deciding", "early days")
    mail = pair.mentee.name.split()[0].lower() + "@example.org"
    store.add_account(mail, "Mentor", pair=pid, side="mentor")  # the account stays, its link goes
    store.save_plan(pid, make_plan(pair, "a"), "generated")
    store.save_plan(pid, make_plan(pair, "b"), "re-planned")
    store.log_session(pid, 1, "held", dt.date(2026, 1, 12), "n", {"mentor": (4, "x"), "mentee": (5, "y")})
    store.log_session(pid, 2, "cancelled", dt.date(2026, 1, 26))
    store.record_eval_run({"passed": True, "scores": {}}, "offline", "cards", True, pair_id=pid)
    from coach.assessments import AssessmentIn

    store.add_assessment(
        pid, AssessmentIn("mentee", "baseline", None, dt.date(2026, 1, 10), {"data-literacy": 2}), mail
    )
    from coach.mail import Mail
    from coach.remind import record_sent

    # A reminder e-mail sent to the senior: its key names the pair, its row holds their address.
    record_sent(store, Mail(f"briefing:{pid}:1:mentee:2026-01-12", "Robert", mail, "Session 1", "text", "<p>html</p>"))
    return pid


def test_delete_removes_every_row_of_the_pair(store) -> None:
    from coach.store import PAIR_TABLES, Base

    keep = _fill(store, make_pair(mentee="Keeps Data"))
    gone = _fill(store, make_pair(mentee="Forget Me"))
    store.record_eval_run({"engine": "whole"}, "offline", "cards", True)  # not about any pair
    # Every table that can name a pair is known to the delete (a new table must be added there).
    for name, table in Base.metadata.tables.items():
        if "pair_id" in table.c or name == "pairs":
            assert name in PAIR_TABLES

    pid, counts = store.delete_pair(gone[:8])
    assert pid == gone
    assert counts == {
        "feedback": 2,
        "session_records": 2,
        "plans": 2,
        "eval_runs": 1,
        "pairs": 1,
        "match_links": 1,
        "fit_answers": 1,
        "account_pairs": 1,
        "assessments": 1,
        "reminders_sent": 1,
    }

    with store.engine.connect() as conn:
        for name, column in PAIR_TABLES.items():
            left = conn.execute(text(f"SELECT COUNT(*) FROM {name} WHERE {column} = :p"), {"p": gone}).scalar()
            assert left == 0, f"{name} still holds rows of the deleted pair"
            kept = conn.execute(text(f"SELECT COUNT(*) FROM {name} WHERE {column} = :p"), {"p": keep}).scalar()
            assert kept > 0, name
        # Nothing else mentions the pair either (e.g. in a JSON column).
        for name in Base.metadata.tables:
            for col in Base.metadata.tables[name].c:
                if str(col.type).upper().startswith(("VARCHAR", "TEXT", "STRING")):
                    hits = conn.execute(
                        text(f"SELECT COUNT(*) FROM {name} WHERE {col.name} LIKE :p"), {"p": f"%{gone}%"}
                    ).scalar()
                    assert hits == 0, f"{name}.{col.name} mentions the deleted pair"
                    hits = conn.execute(
                        text(f"SELECT COUNT(*) FROM {name} WHERE {col.name} LIKE :p"), {"p": "%Forget Me%"}
                    ).scalar()
                    assert hits == 0, f"{name}.{col.name} still holds the deleted mentee's name"
    assert store.count_rows()["eval_runs"] == 2
    with pytest.raises(InputError):
        store.get_pair(gone)


def test_export_holds_all_of_the_pairs_data(store) -> None:
    pair = make_pair()
    pid = _fill(store, pair)
    other = _fill(store, make_pair(mentee="Someone Else"))
    data = json.loads(json.dumps(store.export_pair(pid)))
    assert data["id"] == pid and data["cohort"] == "c1"
    assert Pair.model_validate(data["pair"]) == pair
    assert [p["version"] for p in data["plans"]] == [1, 2]
    assert Plan.model_validate(data["plans"][1]["plan"]) == make_plan(pair, "b")
    assert [(s["number"], s["status"]) for s in data["sessions"]] == [(1, "held"), (2, "cancelled")]
    assert sorted((f["side"], f["rating"], f["comment"]) for f in data["feedback"]) == [
        ("mentee", 5, "y"),
        ("mentor", 4, "x"),
    ]
    assert len(data["eval_runs"]) == 1
    assert data["match"] == {"cohort": "c1", "mentor": "j1", "mentee": "s1"}
    assert [(a["side"], a["answer"], a["note"]) for a in data["fit_answers"]] == [
        ("mentee", "still-deciding", "early days")
    ]
    assert other not in json.dumps(data)


# --------------------------------------------------------------------------- cohort runs


def test_cohort_runs_resume_until_finished(store) -> None:
    pairs = [make_pair(mentee=f"L{i}") for i in range(3)]
    ids = store.add_pairs(pairs, cohort="c")
    run_id, resumed = store.open_run("c", "missing")
    assert not resumed
    store.save_plan(ids[0], make_plan(pairs[0]), "x", run_id=run_id)
    again, resumed = store.open_run("c", "missing")
    assert (again, resumed) == (run_id, True)
    assert [p.id for p in store.pairs_to_plan(run_id, "c", "missing")] == ids[1:]
    # "all" re-plans pairs with a plan too, but not twice within the same run.
    all_run, _ = store.open_run("c", "all")
    assert [p.id for p in store.pairs_to_plan(all_run, "c", "all")] == ids
    store.save_plan(ids[1], make_plan(pairs[1]), "x", run_id=all_run)
    assert [p.id for p in store.pairs_to_plan(all_run, "c", "all")] == [ids[0], ids[2]]
    store.finish_run(run_id)
    assert store.open_run("c", "missing") == (run_id + 2, False)


# --------------------------------------------------------------------------- report facts


def test_report_facts_follow_the_latest_plan(store) -> None:
    from coach.metrics import build_report

    pair = make_pair(sessions=4)
    pid = store.add_pair(pair)
    plan = make_plan(pair)
    store.save_plan(pid, plan, "generated")
    revised = plan.model_copy(deep=True)
    revised.sessions[0].goals = [0, 1]
    store.save_plan(pid, revised, "revised")
    store.log_session(pid, 1, "held", dt.date(2026, 1, 12), ratings={"mentor": (4, ""), "mentee": (2, "")})
    store.log_session(pid, 2, "cancelled", dt.date(2026, 1, 26))
    facts = store.report_facts()
    assert facts[0].plan_version == 2 and facts[0].session_goals[1] == [0, 1]
    report = build_report(facts, dt.date(2026, 2, 1))
    row = report["pairs"][0]
    assert {k: row[k] for k in ("id", "sessions_held", "sessions_cancelled", "sessions_planned")} == {
        "id": pid,
        "sessions_held": 1,
        "sessions_cancelled": 1,
        "sessions_planned": 4,
    }
    assert (row["avg_rating_mentor"], row["avg_rating_mentee"], row["stalled"]) == (4.0, 2.0, False)
    assert row["goals_covered"] == 2


def test_report_facts_for_one_pair_are_that_pairs_facts_only(store) -> None:
    from coach.assessments import AssessmentIn

    pairs = [make_pair(sessions=4), make_pair(sessions=3)]
    pairs[1] = pairs[1].model_copy(update={"mentee": pairs[1].mentee.model_copy(update={"name": "Other Leader"})})
    ids = [store.add_pair(p) for p in pairs]
    for pid, pair in zip(ids, pairs, strict=True):
        store.save_plan(pid, make_plan(pair), "generated")
        store.log_session(pid, 1, "held", dt.date(2026, 1, 12), ratings={"mentor": (4, ""), "mentee": (5, "")})
    baseline = AssessmentIn("mentee", "baseline", None, dt.date(2026, 1, 10), comfort={"generative-ai": 2})
    store.add_assessment(ids[1], baseline, "admin")
    whole = {f.id: f for f in store.report_facts()}
    for pid in ids:
        assert store.report_facts(pair_id=pid) == [whole[pid]]
    assert [a.kind for a in store.report_facts(pair_id=ids[1])[0].assessments] == ["baseline"]
    assert store.report_facts(pair_id="no-such-pair") == []


# --------------------------------------------------------------------------- CLI


def test_cli_pair_lifecycle(store, tmp_path: Path) -> None:
    code, out, err = run("pair", "add", str(EXAMPLE), "--cohort", "pilot")
    assert code == 0, err
    pid = out.strip()
    code, out, _ = run("pair", "list", "--format", "json")
    rows = json.loads(out)
    assert [{k: r[k] for k in ("id", "mentor", "mentee", "sessions_planned")} for r in rows] == [
        {"id": pid, "mentor": "Priya Shah", "mentee": "Robert Klein", "sessions_planned": 6}
    ]
    pair = load_pair(EXAMPLE)
    store.save_plan(pid, make_plan(pair), "generated")
    assert run("session", "log", pid, "1", "--status", "held", "--rating-mentor", "4", "--rating-mentee", "5")[0] == 0
    code, out, _ = run("pair", "show", pid[:6], "--format", "json")
    shown = json.loads(out)
    assert shown["plan_versions"][0]["reason"] == "generated"
    assert shown["sessions"][0]["ratings"]["mentee"]["rating"] == 5
    code, out, _ = run("pair", "show", pid)
    assert code == 0 and "v1" in out and "#1 held" in out

    code, out, _ = run("pair", "export", pid)
    assert code == 0 and json.loads(out)["plans"][0]["version"] == 1
    target = tmp_path / "plan.md"
    assert run("pair", "export", pid, "--format", "md", "--out", str(target))[0] == 0
    assert "Reverse-mentoring plan" in target.read_text()

    code, out, _ = run("pair", "delete", pid, "--yes")
    assert code == 0 and "deleted pair" in out
    assert json.loads(run("pair", "list", "--format", "json")[1]) == []
    code, _, err = run("pair", "show", pid)
    assert code == 2 and "the id of a stored pair" in err


def test_cli_pair_add_refuses_the_same_pair_twice_but_not_in_another_cohort(store) -> None:
    code, first, _ = run("pair", "add", str(EXAMPLE))
    assert code == 0
    code, _, err = run("pair", "add", str(EXAMPLE))
    assert code == 2 and f"pair {first.strip()} (no cohort) has the same mentor and mentee" in err
    assert run("pair", "add", str(EXAMPLE), "--cohort", "2027")[0] == 0  # a new program for them
    assert len(json.loads(run("pair", "list", "--format", "json")[1])) == 2


def test_cli_pair_plan_plans_one_stored_pair_and_show_says_how(writable_index_home) -> None:
    from coach.store import close_stores, open_store

    store = open_store(load_settings())
    pid = run("pair", "add", str(EXAMPLE), "--cohort", "plan-one")[1].strip()
    code, out, _ = run("pair", "show", pid)
    assert f"no plan yet (coach pair plan {pid}" in out
    code, out, err = run("pair", "plan", pid)
    assert code == 0, err
    assert f"stored plan v1 of pair {pid}: 6 sessions" in out
    assert [v.reason for v in store.plan_versions(pid)] == ["planned with coach pair plan"]
    assert run("pair", "plan", "nosuch")[0] == 2
    close_stores()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--status", "held", "--rating-mentor", "6"], "--rating-mentor: rating_mentor: a rating from 1 to 5, got 6"),
        (["--status", "held", "--rating-mentee", "0"], "a rating from 1 to 5, got 0"),
        (["--status", "done"], "Invalid value for '--status'"),
        (["--status", "moved"], "the new date (YYYY-MM-DD) of a moved session"),
        (["--status", "held", "--date", "12/01/2026"], "a date as YYYY-MM-DD"),
        (["--status", "cancelled", "--rating-mentor", "3"], "held when ratings are given"),
        # Held in the future would count in every metric ("days since -1125", a 2030 row in the report).
        (["--status", "held", "--date", "2999-01-01"], "a date on or before today"),
    ],
)
def test_cli_session_log_bad_input_exits_2(store, args, message) -> None:
    pid = store.add_pair(make_pair())
    before = store.count_rows()
    code, _, err = run("session", "log", pid, "1", *args)
    assert code == 2
    assert message in err
    assert store.count_rows() == before


def test_cli_report_formats(store, tmp_path: Path) -> None:
    pair = make_pair(sessions=4)
    pid = store.add_pair(pair)
    store.save_plan(pid, make_plan(pair), "generated")
    assert run("session", "log", pid, "1", "--status", "held", "--date", "2026-01-12", "--rating-mentor", "5")[0] == 0
    code, out, err = run("report", "--format", "json", "--as-of", "2026-03-01")
    assert code == 0, err
    data = json.loads(out)
    assert set(data) >= {"pairs", "program"}
    row = data["pairs"][0]
    for key in (
        "id",
        "sessions_held",
        "sessions_cancelled",
        "sessions_planned",
        "avg_rating_mentor",
        "avg_rating_mentee",
        "stalled",
    ):
        assert key in row
    assert row["stalled"] is True  # 48 days since the only session, biweekly cadence
    code, out, _ = run("report", "--as-of", "2026-03-01")
    assert code == 0 and "STALLED" in out
    target = tmp_path / "report.html"
    assert run("report", "--format", "html", "--out", str(target), "--as-of", "2026-03-01")[0] == 0
    page = target.read_text()
    assert (
        page.count("<svg") >= 3
        and "<script" not in page
        and "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    )
    assert run("report", "--as-of", "yesterday")[0] == 2
