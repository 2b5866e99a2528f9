"""The index: incremental re-embedding, one writer at a time, model recorded, generations switched atomically."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml
from cardgen import card, write_cards
from click.testing import CliRunner

import coach.index as index_mod
from coach.cli import cli
from coach.config import Settings, load_settings
from coach.index import IndexBusy, IndexMismatch, build_index, current_generation
from coach.retrieval import get_retriever, rrf


def small_settings(kb: Path) -> Settings:
    """Settings whose knowledge base is only `kb` (fast to embed)."""
    return dataclasses.replace(load_settings(), kb_dirs=(kb,))


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every text the index sends to the embedding model."""
    seen: list[str] = []
    real = index_mod.embed

    def spy(settings: Any, texts: list[str]) -> list[list[float]]:
        seen.extend(texts)
        return real(settings, texts)

    monkeypatch.setattr(index_mod, "embed", spy)
    return seen


def test_incremental_only_changed_cards_are_embedded(tmp_path: Path, counted: list[str]) -> None:
    kb = tmp_path / "kb"
    write_cards(kb, 3)
    settings = small_settings(kb)

    first = build_index(settings)
    assert (first.added, first.embedded, first.cards) == (3, 3, 3)
    passages = len(counted)

    again = build_index(settings)
    assert (again.embedded, again.unchanged, again.generation) == (0, 3, first.generation)
    assert len(counted) == passages  # nothing embedded

    changed = card(1, summary="Entirely new text about quarterly forecasting with spreadsheets.")
    (kb / "synthetic-card-00001.yaml").write_text(yaml.safe_dump(changed), encoding="utf-8")
    (kb / "synthetic-card-00002.yaml").unlink()
    third = build_index(settings)
    assert (third.updated, third.unchanged, third.removed, third.embedded) == (1, 1, 1, 1)
    assert third.generation != first.generation
    assert any("quarterly forecasting" in t for t in counted[passages:])
    assert not any("synthetic-card-00000" in t or "Synthetic topic 0:" in t for t in counted[passages:])

    # The unchanged card kept its vectors and the search sees the new text.
    hits = get_retriever(settings).search("quarterly forecasting spreadsheets", k=2)
    assert hits[0].card.id == "synthetic-card-00001"
    assert {h.card.id for h in get_retriever(settings).search("topic", k=5)} == {
        "synthetic-card-00000",
        "synthetic-card-00001",
    }


def test_rebuild_re_embeds_everything(tmp_path: Path, counted: list[str]) -> None:
    kb = tmp_path / "kb"
    write_cards(kb, 2)
    settings = small_settings(kb)
    build_index(settings)
    report = build_index(settings, rebuild=True)
    assert report.embedded == 2


def test_old_generations_are_removed_but_the_previous_is_kept(tmp_path: Path) -> None:
    kb = tmp_path / "kb"
    settings = small_settings(kb)
    names = []
    for i in range(3):
        write_cards(kb, 1, start=i)
        names.append(build_index(settings).generation)
    left = sorted(p.name for p in settings.index_dir.glob("gen-*"))
    assert left == sorted(names[1:])
    gen = current_generation(settings)
    assert gen is not None and gen.path.name == names[2]


def test_index_records_model_and_refuses_another(tmp_path: Path) -> None:
    kb = tmp_path / "kb"
    write_cards(kb, 2)
    settings = small_settings(kb)
    build_index(settings)
    gen = current_generation(settings)
    assert gen is not None and gen.manifest["embed_model"] == settings.embed_model
    other = dataclasses.replace(settings, embed_model="some-other-model")
    with pytest.raises(IndexMismatch, match=r"coach index --rebuild"):
        get_retriever(other)
    with pytest.raises(IndexMismatch, match=r"coach index --rebuild"):
        build_index(other)


def test_second_writer_is_told_the_index_is_being_rebuilt(tmp_path: Path) -> None:
    kb = tmp_path / "kb"
    write_cards(kb, 1)
    settings = small_settings(kb)
    settings.index_dir.mkdir(parents=True)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import sys, time
                from filelock import FileLock
                lock = FileLock({str(settings.index_dir / index_mod.LOCK)!r})
                lock.acquire()
                print("held", flush=True)
                time.sleep(60)
                """
            ),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(IndexBusy, match="being rebuilt"):
            build_index(settings)
        result = CliRunner().invoke(cli, ["index", "--kb", str(kb)], env={"COACH_HOME": str(settings.home)})
        assert result.exit_code == 1
        assert "being rebuilt" in result.output
        assert current_generation(settings) is None  # nothing half-written
    finally:
        holder.kill()
        holder.wait()
    # Once the writer is gone the lock is free again.
    assert build_index(settings).cards == 1


def test_lock_is_released_when_the_writer_dies(tmp_path: Path) -> None:
    kb = tmp_path / "kb"
    write_cards(kb, 1)
    settings = small_settings(kb)
    settings.index_dir.mkdir(parents=True)
    code = f"from filelock import FileLock; FileLock({str(settings.index_dir / index_mod.LOCK)!r}).acquire(); import os; os._exit(0)"
    subprocess.run([sys.executable, "-c", code], check=True)
    assert build_index(settings).cards == 1


def test_retriever_indexes_automatically_and_notices_changes(tmp_path: Path) -> None:
    kb = tmp_path / "kb"
    write_cards(kb, 2)
    settings = small_settings(kb)
    assert current_generation(settings) is None
    assert len(get_retriever(settings).search("topic", k=5)) == 2
    write_cards(kb, 1, start=2)
    assert len(get_retriever(settings).search("topic", k=5)) == 3


def test_domain_filter_and_modes(tmp_path: Path) -> None:
    kb = tmp_path / "kb"
    write_cards(kb, 14)
    retriever = get_retriever(small_settings(kb))
    for mode in ("hybrid", "bm25", "dense"):
        hits = retriever.search("budget forecast customer", k=20, mode=mode, domains={"data-literacy"})  # type: ignore[arg-type]
        assert hits and {h.card.domain for h in hits} == {"data-literacy"}
    many = retriever.search_many(["prompt draft", "video creator", "password privacy"], k=3)
    assert [len(h) for h in many] == [3, 3, 3]
    scores = [h.score for h in many[0]]
    assert scores == sorted(scores, reverse=True) and 0 < scores[-1] <= scores[0] <= 1


def test_rrf_rewards_agreement() -> None:
    fused = rrf([["a", "b", "c"], ["b", "a", "d"]])
    assert fused["a"] == fused["b"] == max(fused.values())
    assert fused["a"] > fused["c"] > 0 and fused["a"] > fused["d"]
    assert rrf([["x"], ["x"]])["x"] == pytest.approx(1.0)


def test_search_cli_json_contract(indexed_home: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["search", "draft board papers with AI", "--k", "5", "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert len(rows) == 5
    for row in rows:
        # SPEC.md section 4's fields, plus section 12's kind and a readable strength (fields may be added).
        assert {"topic_id", "title", "domain", "score", "kind", "strength"} <= set(row)
        assert isinstance(row["score"], float) and row["kind"] == "card"
        assert row["strength"] in {"strong", "partial", "weak"}
    assert rows[0]["strength"] in {"strong", "partial"}  # a question the cards answer well
    assert rows[0]["domain"] == "generative-ai"

    queries = tmp_path / "q.txt"
    queries.write_text("phishing emails\n\nGen Z brand trust\nTeams channels\n", encoding="utf-8")
    result = runner.invoke(cli, ["search", "--queries", str(queries), "--k", "3", "--format", "json"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [len(x) for x in lines] == [3, 3, 3]
    assert lines[0][0]["domain"] == "cybersecurity-privacy"

    table = runner.invoke(cli, ["search", "phishing emails", "--k", "2"])
    assert table.exit_code == 0 and "security-phishing" in table.stdout


def test_search_bad_input_exit_2(indexed_home: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(cli, ["search"]).exit_code == 2
    bad = runner.invoke(cli, ["search", "x", "--domain", "astrology"])
    assert bad.exit_code == 2 and "domain" in bad.output


def test_index_cli_adds_user_cards_incrementally(writable_index_home: Path, tmp_path: Path) -> None:
    kb = tmp_path / "kb"
    write_cards(kb, 2)
    runner = CliRunner()
    first = runner.invoke(cli, ["index", "--kb", str(kb)])
    assert first.exit_code == 0, first.output
    assert "2 added" in first.output and "(2 embedded)" in first.output
    second = runner.invoke(cli, ["index", "--kb", str(kb)])
    assert second.exit_code == 0 and "(0 embedded)" in second.output
    found = runner.invoke(cli, ["search", "Synthetic topic 1", "--kb", str(kb), "--k", "3", "--format", "json"])
    assert found.exit_code == 0, found.output
    assert "synthetic-card-00001" in [r["topic_id"] for r in json.loads(found.stdout)]


def test_writes_are_split_below_the_row_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Each card writes several passages: a write round of cards must still be sent in bounded row batches.
    monkeypatch.setattr(index_mod, "WRITE_BATCH", 3)
    kb = tmp_path / "kb"
    write_cards(kb, 5)
    settings = small_settings(kb)
    report = build_index(settings)
    gen = current_generation(settings)
    assert gen is not None and report.cards == 5
    collection = index_mod.open_collection(settings, gen)
    assert collection.count() == gen.manifest["passages"] > 5 * 3
    assert get_retriever(settings).search("Synthetic topic 4", k=1)[0].card.id == "synthetic-card-00004"


def test_beyond_questions_are_embedded_with_the_index_and_kept_for_unchanged_cards(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import coach.embedding
    from coach import beyond

    seen: list[str] = []
    real = coach.embedding.embed

    def spy(settings: Any, texts: list[str]) -> list[list[float]]:
        seen.extend(texts)
        return real(settings, texts)

    monkeypatch.setattr(coach.embedding, "embed", spy)
    kb = tmp_path / "kb"
    write_cards(kb, 2)
    near = ["how do i write a vba macro that merges twelve sheets", "which crm is cheaper, salesforce or hubspot"]
    (kb / "synthetic-card-00000.yaml").write_text(yaml.safe_dump(card(0) | {"beyond": near}), encoding="utf-8")
    settings = small_settings(kb)
    build_index(settings)
    gen = current_generation(settings)
    assert gen is not None and gen.manifest["beyond"] == 2 and (gen.path / beyond.BEYOND).is_file()
    assert all(q in seen for q in near)

    seen.clear()
    changed = card(1, summary="New text.") | {"beyond": ["what does a billboard on the m25 cost"]}
    (kb / "synthetic-card-00001.yaml").write_text(yaml.safe_dump(changed), encoding="utf-8")
    build_index(settings)
    assert seen == changed["beyond"]  # only the changed card's; the unchanged card's vectors were kept

    r = get_retriever(settings)
    assert beyond.similarity(r, near[0]) > 0.99
    assert beyond.similarity(r, "a recipe for lasagne") < 0.5
    # Never searched: no hit is ever a beyond question, and the card's words are what a search matches.
    assert all(h.card.id.startswith("synthetic-card-") for h in r.search(near[1], k=5))

    # A generation whose beyond file went missing is not used: the next retriever re-indexes.
    gen = current_generation(settings)
    assert gen is not None
    (gen.path / beyond.BEYOND).unlink()
    again = get_retriever(settings)
    assert (again.gen.path / beyond.BEYOND).is_file() and beyond.similarity(again, near[0]) > 0.99
