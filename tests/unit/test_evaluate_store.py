"""Eval runs in the program database: migration 0002 upgrades an existing database and keeps its rows."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import inspect, text


def test_migration_0002_upgrades_a_0001_database_in_place(tmp_path: Path) -> None:
    from alembic import command
    from alembic.config import Config

    from coach.store import HEAD_REVISION, MIGRATIONS_DIR, Store

    url = f"sqlite:///{tmp_path / 'old.db'}"
    old = Store(url, tmp_path)
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    with old.engine.connect().execution_options(coach_write=True) as conn, conn.begin():
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
        conn.execute(
            text(
                "INSERT INTO eval_runs (engine, model, passed, result_json, created_at) "
                "VALUES ('offline', 'cards', 1, '{\"scores\": {}}', '2026-01-01 00:00:00')"
            )
        )
    assert old.current_revision() == "0001"

    store = Store(url, tmp_path)
    store.migrate()
    assert store.current_revision() == HEAD_REVISION >= "0002"  # 0002 and every later migration applied
    with store.engine.connect() as conn:
        columns = {c["name"] for c in inspect(conn).get_columns("eval_runs")}
        assert {"kind", "git_commit"} <= columns
        assert "eval_scores" in inspect(conn).get_table_names()
        assert conn.execute(text("SELECT COUNT(*) FROM eval_runs")).scalar() == 1
    # The old per-pair style row is not a suite run; new suite runs get their score rows.
    assert store.eval_runs() == []
    run = {
        "engine": "offline",
        "cases": [
            {"id": "a", "scores": {"structure": {"score": 1.0, "passed": True, "reason": "ok"}}},
            {"id": "b", "scores": {"structure": {"score": 0.5, "passed": False, "reason": "agenda adds up to 50"}}},
        ],
    }
    rid = store.record_suite_run(run, "offline", "cards", False, "abc123+dirty")
    assert store.eval_scores(rid) == [
        ("a", "structure", 1.0, True, "ok"),
        ("b", "structure", 0.5, False, "agenda adds up to 50"),
    ]
    listed = store.eval_runs()
    assert [(r["id"], r["git_commit"], r["passed"]) for r in listed] == [(rid, "abc123+dirty", False)]
    assert store.eval_run(rid)["cases"] == run["cases"]  # type: ignore[index]
    assert store.eval_run(1) is None  # not a suite run
    # Deleting a run's row deletes its scores (foreign key with cascade).
    with store.engine.connect().execution_options(coach_write=True) as conn, conn.begin():
        conn.execute(text("DELETE FROM eval_runs WHERE id = :i"), {"i": rid})
    assert store.eval_scores(rid) == []
