"""`coach match` (SPEC.md section 9): JSON shape, formats, locks, bad input, publish, fit answers, alternatives."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from support import ROOT

from coach.cli import cli

EXAMPLE = ROOT / "examples" / "people.yaml"

SMALL = {
    "cohort": "autumn",
    "program": {"sessions": 3, "minutes": 45, "cadence": "weekly", "start": "2027-09-06"},
    "people": [
        {"id": "j1", "name": "Ana Diaz", "role": "Analyst", "side": "junior", "capacity": 2,
         "strengths": ["prompting ChatGPT", "Copilot in Excel"]},
        {"id": "j2", "name": "Ben Ito", "role": "Coordinator", "side": "junior", "capacity": 2,
         "strengths": ["TikTok trends", "Instagram Reels"]},
        {"id": "s1", "name": "Cara Moss", "role": "CFO", "side": "senior",
         "goals": ["use generative AI to draft board reports"], "comfort": {"generative-ai": 1}},
        {"id": "s2", "name": "Dev Shah", "role": "CMO", "side": "senior",
         "goals": ["understand TikTok and short video"], "comfort": {"social-media": 1}},
        {"id": "s3", "name": "Eve Lang", "role": "COO", "side": "senior", "goals": ["write emails faster with AI"],
         "do_not_pair": ["j2"]},
    ],
}  # fmt: skip


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def write(tmp_path: Path, data: object, name: str = "people.yaml") -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def test_json_follows_spec_9(indexed_home: Path) -> None:
    code, out, err = invoke("match", "--people", str(EXAMPLE), "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    assert set(data) >= {"pairs", "unmatched", "scores"}
    people = yaml.safe_load(EXAMPLE.read_text())["people"]
    juniors = {p["id"] for p in people if p["side"] == "junior"}
    seniors = {p["id"] for p in people if p["side"] == "senior"}
    assert set(data["scores"]) == juniors
    assert all(set(row) == seniors for row in data["scores"].values())
    for pair in data["pairs"]:
        assert pair["mentor"] in juniors and pair["mentee"] in seniors
        assert 0 <= pair["score"] <= 100
        assert {"criterion", "points", "evidence"} <= set(pair["reasons"][0])
        assert abs(sum(r["points"] for r in pair["reasons"]) - pair["score"]) <= 0.01
    # j2's manager is s3, j1 and s6 asked not to meet, j4 and s2 likewise
    assert data["scores"]["j2"]["s3"] is None
    assert data["scores"]["j1"]["s6"] is None
    assert data["scores"]["j4"]["s2"] is None
    assert sorted([p["mentee"] for p in data["pairs"]] + data["unmatched"]) == sorted(seniors)


def test_table_and_csv(indexed_home: Path, tmp_path: Path) -> None:
    code, out, err = invoke("match", "--people", str(EXAMPLE))
    assert code == 0, err
    assert "seniors matched" in out
    target = tmp_path / "pairs.csv"
    code, _, err = invoke("match", "--people", str(EXAMPLE), "--format", "csv", "--out", str(target))
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(target.read_text())))
    assert rows and {"mentor", "mentee", "score", "reasons"} <= set(rows[0])
    assert all(r["reasons"].startswith("teaches a goal=") for r in rows if r["mentor"])


def test_lock_is_kept(indexed_home: Path, tmp_path: Path) -> None:
    path = write(tmp_path, SMALL)
    code, out, err = invoke("match", "--people", str(path), "--format", "json", "--lock", "j2=s1")
    assert code == 0, err
    pairs = {(p["mentor"], p["mentee"]): p["locked"] for p in json.loads(out)["pairs"]}
    assert pairs[("j2", "s1")] is True
    code, _, err = invoke("match", "--people", str(path), "--lock", "j2=s3")
    assert code == 2 and "asked not to be paired" in err


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda d: d["people"][3].update(id="s1"), "people[3].id"),
        (lambda d: d["people"][4].update(do_not_pair=["j9"]), "people[4].do_not_pair[0]"),
        (lambda d: d["people"][0].update(capacity=3), "people[0].capacity"),
        (lambda d: d["people"][0].update(side="mentor"), "people[0].side"),
        (lambda d: d["people"][0].update(hobby="chess"), "people[0].hobby"),
    ],
    ids=["duplicate id", "do_not_pair nobody", "capacity 3", "unknown side", "unknown key"],
)
def test_bad_file_exits_2_naming_file_and_field(tmp_path: Path, change: object, field: str) -> None:
    data = json.loads(json.dumps(SMALL))
    change(data)  # type: ignore[operator]
    path = write(tmp_path, data)
    code, out, err = invoke("match", "--people", str(path), "--format", "json", "--publish")
    assert code == 2, (out, err)
    assert str(path) in err and field in err
    assert "Traceback" not in err and out == ""
    assert not list((tmp_path / "coach-home").glob("*.db"))  # nothing written


def test_bad_options_exit_2(tmp_path: Path) -> None:
    path = write(tmp_path, SMALL)
    for args, words in [
        ([], "--people"),
        (["--people", str(path), "--weights", "speed=high"], "criterion=level"),
        (["--people", str(path), "--lock", "j1"], "JUNIOR=SENIOR"),
        (["--people", str(tmp_path / "none.yaml")], "does not exist"),
        (["--people", str(path), "--history", str(write(tmp_path, "x: 1", "h.yaml"))], "pairs"),
    ]:
        code, _, err = invoke("match", *args)
        assert code == 2, (args, err)
        assert words in err and "Traceback" not in err


def test_publish_plans_then_fit_and_alternatives(writable_index_home: Path, tmp_path: Path) -> None:
    path = write(tmp_path, SMALL)
    code, out, err = invoke("match", "--people", str(path), "--format", "json", "--publish")
    assert code == 0, err
    data = json.loads(out)
    made = {(p["mentor"], p["mentee"]): p["pair_id"] for p in data["pairs"]}
    assert set(made) == {("j1", "s1"), ("j2", "s2"), ("j1", "s3")}
    code, out, err = invoke("pair", "list", "--format", "json", "--cohort", "autumn")
    assert code == 0, err
    listed = {row["id"]: row for row in json.loads(out)}
    assert set(listed) == set(made.values())
    assert all(row["plan_version"] == 1 for row in listed.values())  # planned as `coach cohort plan` does
    assert listed[made[("j1", "s1")]]["mentee"] == "Cara Moss"

    # Publishing the same file again would pair the same people twice in the cohort.
    code, _, err = invoke("match", "--people", str(path), "--publish")
    assert code == 2 and "publish once" in err

    pid = made[("j1", "s3")]
    code, _, err = invoke("match", "fit", pid, "--side", "mentee", "--answer", "not-a-good-fit")
    assert code == 2 and "session 1" in err  # only after session 1
    assert invoke("session", "log", pid, "1", "--status", "held")[0] == 0
    code, out, err = invoke("match", "fit", pid, "--side", "mentee", "--answer", "not-a-good-fit", "--note", "no")
    assert code == 0, err
    assert "mentee: not-a-good-fit" in out and "alternatives" in out
    code, _, err = invoke("match", "fit", pid, "--side", "boss", "--answer", "good-fit")
    assert code == 2

    code, out, err = invoke("match", "alternatives", pid, "--people", str(path), "--format", "json")
    assert code == 0, err
    alt = json.loads(out)
    assert alt["fit"] == {"mentee": "not-a-good-fit"}
    # s3 could only move to j2, but asked never to meet j2; j1 has no room for anyone else, and
    # every other senior has a mentor: nobody is proposed, and never the same two again.
    assert all(r["mentor"] != "j1" for r in alt["for_mentee"])
    assert all(r["mentor"] != "j2" for r in alt["for_mentee"])
    assert alt["for_mentor"] == []

    # Right to be forgotten: the fit answers and the match link go with the pair.
    code, out, err = invoke("pair", "delete", pid, "--yes")
    assert code == 0, err
    assert "1 fit_answers" in out and "1 match_links" in out
    from coach.config import load_settings
    from coach.store import open_store

    left = {x.pair_id for x in open_store(load_settings()).match_links("autumn")}
    assert left == set(made.values()) - {pid}


def test_alternatives_propose_free_partners(writable_index_home: Path, tmp_path: Path) -> None:
    data = json.loads(json.dumps(SMALL))
    data["people"].append(
        {"id": "j3", "name": "Fay Oduya", "role": "Intern", "side": "junior", "strengths": ["ChatGPT prompts"]}
    )
    path = write(tmp_path, data)
    code, out, err = invoke("match", "--people", str(path), "--format", "json", "--publish", "--lock", "j1=s1")
    assert code == 0, err
    made = {(p["mentor"], p["mentee"]): p["pair_id"] for p in json.loads(out)["pairs"]}
    pid = made[("j1", "s1")]
    code, out, err = invoke("match", "alternatives", pid, "--people", str(path), "--format", "json")
    assert code == 0, err
    alt = json.loads(out)
    proposed = [r["mentor"] for r in alt["for_mentee"]]
    assert "j1" not in proposed  # never the same two again
    free = [j for j in ("j1", "j2", "j3") if sum(1 for m, _ in made if m == j) < (2 if j != "j3" else 1)]
    assert set(proposed) <= set(free)
    assert proposed, "a junior with room left is proposed"
    for r in alt["for_mentee"]:
        assert abs(sum(x["points"] for x in r["reasons"]) - r["score"]) <= 0.01


def test_migration_0003_upgrades_a_0002_database(tmp_path: Path) -> None:
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import inspect, text

    from coach.store import HEAD_REVISION, MIGRATIONS_DIR, Store

    url = f"sqlite:///{tmp_path / 'old.db'}"
    old = Store(url, tmp_path)
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    with old.engine.connect().execution_options(coach_write=True) as conn, conn.begin():
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0002")
    assert old.current_revision() == "0002"
    store = Store(url, tmp_path)
    store.migrate()
    assert store.current_revision() == HEAD_REVISION >= "0003"  # later migrations build on 0003
    with store.engine.connect() as conn:
        tables = set(inspect(conn).get_table_names())
        assert {"match_links", "fit_answers"} <= tables
        assert conn.execute(text("SELECT COUNT(*) FROM fit_answers")).scalar() == 0
