"""The index against real processes: a kill -9 half-way through, and a real Chroma server."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cardgen import write_cards
from support import require

from coach.config import load_settings
from coach.index import build_index, current_generation

pytestmark = pytest.mark.integration
BIN = Path(sys.executable).parent


def coach(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "coach"), *args], env=env, capture_output=True, text=True, timeout=600)


def test_kill_9_mid_index_leaves_the_previous_index_usable(writable_index_home: Path, tmp_path: Path) -> None:
    env = {**os.environ, "COACH_HOME": str(writable_index_home)}
    before = coach("search", "spot a phishing email", "--k", "5", "--format", "json", env=env)
    assert before.returncode == 0, before.stderr
    pointer = (writable_index_home / "index" / "current").read_text()

    big = tmp_path / "big-kb"
    write_cards(big, 1500)
    proc = subprocess.Popen(
        [str(BIN / "coach"), "index", "--kb", str(big)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    index_dir = writable_index_home / "index"
    deadline = time.monotonic() + 300
    partial: list[Path] = []
    # Wait until the new generation is being written (its Chroma store exists), then kill.
    while time.monotonic() < deadline and proc.poll() is None:
        partial = [p for p in index_dir.glob("gen-*") if p.name != pointer.strip() and (p / "chroma").exists()]
        if partial:
            break
        time.sleep(0.05)
    assert partial, "the index run never started writing a new generation"
    time.sleep(1.0)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL, "the run finished before it could be interrupted"
    assert not (partial[0] / "manifest.json").exists()

    assert (index_dir / "current").read_text() == pointer
    after = coach("search", "spot a phishing email", "--k", "5", "--format", "json", env=env)
    assert after.returncode == 0, after.stderr
    assert json.loads(after.stdout) == json.loads(before.stdout)
    plan = coach(
        "plan", "--pair", str(Path(__file__).parents[2] / "examples" / "pair.yaml"), "--format", "json", env=env
    )
    assert plan.returncode == 0, plan.stderr

    # The next successful build clears the half-written generation away.
    small = tmp_path / "small-kb"
    write_cards(small, 1)
    rebuilt = coach("index", "--kb", str(small), env=env)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert not partial[0].exists()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def chroma_server(tmp_path: Path):
    exe = BIN / "chroma"
    require("the chroma CLI (chromadb)", exe.exists())
    port = free_port()
    log = open(tmp_path / "chroma.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [str(exe), "run", "--path", str(tmp_path / "chroma-data"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
    )
    import httpx

    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/api/v2/heartbeat", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail("chroma run did not start: " + (tmp_path / "chroma.log").read_text()[-500:])
    yield url
    proc.terminate()
    proc.wait(timeout=30)
    log.close()


def test_index_and_search_on_a_chroma_server(chroma_server: str, tmp_path: Path) -> None:
    import chromadb

    from coach.retrieval import get_retriever

    kb = tmp_path / "kb"
    write_cards(kb, 4)
    settings = dataclasses.replace(load_settings(), kb_dirs=(kb,), chroma_url=chroma_server)
    report = build_index(settings)
    assert report.embedded == 4
    gen = current_generation(settings)
    assert gen is not None and not (gen.path / "chroma").exists()  # the vectors live on the server

    port = int(chroma_server.rsplit(":", 1)[1])
    client = chromadb.HttpClient(host="127.0.0.1", port=port)
    names = [c if isinstance(c, str) else c.name for c in client.list_collections()]
    assert gen.collection in names
    assert client.get_collection(gen.collection).count() > 4  # several passages per card

    hits = get_retriever(settings).search("Synthetic topic 2", k=2)
    assert hits[0].card.id == "synthetic-card-00002"

    # Incremental on the server too, and the generation before the previous one is dropped there.
    for start in (4, 5):
        write_cards(kb, 1, start=start)
        assert build_index(settings).embedded == 1
    names = [c if isinstance(c, str) else c.name for c in client.list_collections()]
    assert gen.collection not in names and len([n for n in names if n.startswith("coach-cards")]) == 2
