"""The Match tab's handlers without a browser: match a file, bad files, locks kept on re-run, weights, publish."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from ui import access, match_tab

ADMIN = access.Session(admin=True)

PEOPLE = {
    "cohort": "autumn",
    "program": {"sessions": 3, "minutes": 45, "cadence": "weekly", "start": "2027-09-06"},
    "people": [
        {"id": "j1", "name": "Ana Diaz", "role": "Analyst", "side": "junior", "capacity": 2,
         "strengths": ["prompting ChatGPT", "Copilot in Excel"]},
        {"id": "j2", "name": "Ben Ito", "role": "Coordinator", "side": "junior", "capacity": 2,
         "strengths": ["TikTok trends", "Instagram Reels"], "manager": "s2"},
        {"id": "j3", "name": "Gil Rao", "role": "Intern", "side": "junior",
         "strengths": ["TikTok trends", "short video editing"]},
        {"id": "s1", "name": "Cara Moss", "role": "CFO", "side": "senior",
         "goals": ["use generative AI to draft board reports"], "comfort": {"generative-ai": 1}},
        {"id": "s2", "name": "Dev Shah", "role": "CMO", "side": "senior",
         "goals": ["understand TikTok and short video"], "comfort": {"social-media": 1}},
        {"id": "s3", "name": "Eve Lang", "role": "COO", "side": "senior", "goals": ["write emails faster with AI"],
         "do_not_pair": ["j2"]},
    ],
}  # fmt: skip

#: What each handler's output tuple holds, by name.
OUT = {name: k for k, name in enumerate(match_tab.OUTPUT_NAMES)}


def write(tmp_path: Path, data: object, name: str = "people.yaml") -> str:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return str(path)


def pairs_of(out: tuple) -> list[tuple[str, str]]:
    state = out[OUT["state"]]
    assert isinstance(state, match_tab.MatchState), out[OUT["message"]]
    return list(state.pairs)


@pytest.fixture
def matched(indexed_home: Path, tmp_path: Path) -> tuple:
    return match_tab.match_file(ADMIN, write(tmp_path, PEOPLE), "file", "file", "file")


def test_match_shows_pairs_reasons_and_unmatched_in_plain_words(matched: tuple) -> None:
    from coach.knowledge import load_knowledge
    from ui.common import settings

    pairs = pairs_of(matched)
    # Dev Shah's TikTok goal: Ben Ito reports to him, so Gil Rao (the other TikTok mentor) teaches him.
    assert ("j3", "s2") in pairs and ("j2", "s2") not in pairs
    assert ("j2", "s3") not in pairs  # do_not_pair
    assert len(pairs) == 3
    summary = matched[OUT["summary"]]
    assert "3 of 3 senior leaders matched" in summary
    text = matched[OUT["pairs"]]
    for name in ("Cara Moss", "Dev Shah", "Eve Lang", "Gil Rao"):
        assert name in text
    assert "points**: teaches a goal (weight high)" in text
    # Evidence quotes whole phrases: a strength of the mentor and a goal of the senior leader.
    assert re.search(r'the strength "(short video editing|TikTok trends)" serves the goal "understand TikTok', text)
    # Plain words: cards by their titles, never their ids, and no person ids in sentences.
    card_ids = [c.id for c in load_knowledge(settings().kb_dirs).cards]
    assert not [cid for cid in card_ids if re.search(rf"\b{re.escape(cid)}\b", text)]
    assert 'the card "' in text
    assert not re.search(r"\b[js][123]\b", text + summary)
    # Each pair's points add up to its score.
    for block in text.split("<details")[1:]:
        score = float(re.search(r"score <b>([\d.]+)</b>", block).group(1))
        points = [float(x) for x in re.findall(r"\*\*([\d.]+) points\*\*", block)]
        assert points and abs(sum(points) - score) <= 0.011, block
    # Choices to lock: the proposed pairs by name, valued as the CLI's --lock J=S.
    assert ("Cara Moss with Ana Diaz", "j1=s1") in matched[OUT["lock_pick"]]["choices"]
    assert matched[OUT["cohort"]] == "autumn"


def test_the_headline_names_a_pair_that_serves_the_senior_little(indexed_home: Path, tmp_path: Path) -> None:
    people = {
        "cohort": "small",
        "people": [
            {
                "id": "j1",
                "name": "Ana Diaz",
                "role": "Analyst",
                "side": "junior",
                "strengths": ["Excel formulas and pivot tables"],
            },
            {"id": "j2", "name": "Ben Ito", "role": "Coordinator", "side": "junior", "strengths": ["TikTok trends"]},
            {
                "id": "s1",
                "name": "Cara Moss",
                "role": "CFO",
                "side": "senior",
                "goals": ["learn Excel formulas and pivot tables"],
            },
            {"id": "s2", "name": "Dev Shah", "role": "CMO", "side": "senior", "goals": ["pass the bar exam"]},
        ],
    }
    out = match_tab.match_file(ADMIN, write(tmp_path, people), "file", "file", "file")
    summary = out[OUT["summary"]]
    assert "2 of 2 senior leaders matched" in summary
    # Nothing any mentor offers meets "pass the bar exam": every senior has a mentor, but not a useful one.
    assert (
        "Every senior leader has a mentor, but **1 of these pairs serves the senior leader little:** Dev Shah ("
        in summary
    )
    assert "Cara Moss (" not in summary


def test_a_bad_file_names_the_file_and_field_without_a_traceback(indexed_home: Path, tmp_path: Path) -> None:
    bad = {**PEOPLE, "people": [*PEOPLE["people"][:-1], {**PEOPLE["people"][-1], "capacity": 3, "side": "boss"}]}
    out = match_tab.match_file(ADMIN, write(tmp_path, bad, "spring people.yaml"), "file", "file", "file")
    message = out[OUT["message"]]
    assert "spring people.yaml" in message and "people[5].side" in message
    assert str(tmp_path) not in message and "Traceback" not in message
    assert not isinstance(out[OUT["state"]], match_tab.MatchState)
    csv_out = match_tab.match_file(ADMIN, str(_csv(tmp_path)), "file", "file", "file")
    assert "people.csv" in csv_out[OUT["message"]] and "capacity" in csv_out[OUT["message"]]
    assert "Upload a people file first" in match_tab.match_file(ADMIN, None, "file", "file", "file")[1]


def _csv(tmp_path: Path) -> Path:
    path = tmp_path / "people.csv"
    path.write_text(
        "id,name,role,side,strengths,goals,capacity\n"
        "j1,Ana Diaz,Analyst,junior,ChatGPT,,7\n"
        "s1,Cara Moss,CFO,senior,,use AI to draft reports,\n",
        encoding="utf-8",
    )
    return path


def test_a_lock_is_kept_on_rerun_and_a_ruled_out_lock_is_refused(matched: tuple) -> None:
    state = matched[OUT["state"]]
    # Ben Ito (TikTok) with Cara Moss (AI goal) is not what the optimum proposes: lock it by hand.
    assert ("j2", "s1") not in state.pairs
    locked = match_tab.lock_by_hand(ADMIN, state, "j2", "s1")
    assert ("j2", "s1") in pairs_of(locked)
    assert "Locked Cara Moss with Ben Ito" in locked[OUT["message"]]
    assert "Cara Moss with Ben Ito" in locked[OUT["locks"]]
    assert "locked by you" in locked[OUT["pairs"]]
    # Lock a proposed pair too, then re-run with other weights: both locks are kept.
    proposed = [v for _, v in locked[OUT["lock_pick"]]["choices"]]
    assert proposed and "j2=s1" not in proposed
    both = match_tab.lock_pair(ADMIN, locked[OUT["state"]], proposed[0])
    again = match_tab.rerun(ADMIN, both[OUT["state"]], "low", "off", "high")
    kept = pairs_of(again)
    assert ("j2", "s1") in kept and tuple(proposed[0].split("=")) in kept
    assert "2 locked pairs kept" in again[OUT["message"]]
    assert again[OUT["pairs"]].count("locked by you") == 2
    # Ben Ito's manager is Dev Shah: that lock is refused in names, and the page stays as it was.
    refused = match_tab.lock_by_hand(ADMIN, again[OUT["state"]], "j2", "s2")
    assert "cannot be locked" in refused[OUT["message"]]
    assert "Ben Ito is Dev Shah's manager" not in refused[OUT["message"]]
    assert "Dev Shah is Ben Ito's manager" in refused[OUT["message"]]
    assert refused[OUT["state"]] is again[OUT["state"]]
    cleared = match_tab.clear_locks(ADMIN, again[OUT["state"]])
    assert cleared[OUT["state"]].locks == [] and "locked" not in cleared[OUT["pairs"]]


def test_weights_reach_the_match(matched: tuple) -> None:
    assert match_tab.weights_text("file", "file", "file") is None
    assert match_tab.weights_text("must", "file", "off") == "teaches=must,learns=off"
    state = matched[OUT["state"]]
    out = match_tab.rerun(ADMIN, state, "low", "off", "high")
    assert "teaches: **low**" not in out[OUT["summary"]]  # criteria are named in words
    assert "goals: **low**" in out[OUT["summary"]] and "own goals: **high**" in out[OUT["summary"]]
    assert "the mentor's own goals are weighted off" not in out[OUT["pairs"]]
    learns_off = match_tab.rerun(ADMIN, state, "file", "file", "off")
    assert "the mentor's own goals are weighted off" in learns_off[OUT["pairs"]]
    off = match_tab.rerun(ADMIN, state, "off", "off", "off")
    assert "at least one criterion above" in off[OUT["message"]]


def test_publish_stores_and_plans_the_pairs_once(writable_index_home: Path, tmp_path: Path) -> None:
    from coach.store import open_store
    from ui.common import settings

    out = match_tab.match_file(ADMIN, write(tmp_path, PEOPLE), "file", "file", "file")
    state = out[OUT["state"]]
    new_state, message = match_tab.publish(ADMIN, state, "autumn 2027")
    assert "Published 3 pairs into cohort **autumn 2027** and planned 3" in message
    stored = open_store(settings()).list_pairs("autumn 2027")
    names = state.people.by_id()
    assert sorted((p.mentor, p.mentee) for p in stored) == sorted(
        (names[j].name, names[s].name) for j, s in state.pairs
    )
    assert all(p.plan_version for p in stored)
    _, again = match_tab.publish(ADMIN, new_state, "autumn 2027")
    assert again.startswith("⚠ Nothing was published") and "already paired" in again
    assert "Match a people file first" in match_tab.publish(ADMIN, None, "x")[1]


def test_the_handlers_refuse_a_visitor_when_a_password_is_set(
    indexed_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gradio as gr

    monkeypatch.setenv("COACH_ADMIN_PASSWORD", "secret words")
    with pytest.raises(gr.Error):
        match_tab.match_file(access.Session(), write(tmp_path, PEOPLE), "file", "file", "file")
    with pytest.raises(gr.Error):
        match_tab.publish(access.Session(), None, "autumn")
