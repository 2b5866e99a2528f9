"""Helpers to launch the real app (`coach ui`) in a subprocess on a free loopback port."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from support import require  # noqa: F401 - the UI tests import it from here

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
ADMIN_PASSWORD = "correct horse battery staple"
STARTUP_SECONDS = 240.0

XSS_CARD = """\
id: xss-test-card
title: Inert markup test <b>bold?</b>
domain: consumer-trends
level: intro
summary: >-
  A card whose text tries to run code. <script>window.__xss = 1; alert('xss')</script>
  It must show as plain text.
objectives:
  - See that <img src=x onerror="window.__xss=2"> stays text
key_concepts:
  - term: Injected image
    meaning: <img src=x onerror=alert(document.domain)> and [click](javascript:alert(1))
activities:
  - title: Look at it
    minutes: 5
    format: demo
    lead: mentor
    description: Nothing runs <svg onload=alert(1)></svg>.
discussion_prompts:
  - text: Did anything pop up? <iframe src="javascript:alert(1)"></iframe>
    asked_by: both
tags: [zzqx-inert-markup]
"""


@dataclass
class RunningApp:
    """A launched app: its base URL, its $COACH_HOME, its card folders and its log file."""

    url: str
    home: Path
    kb_dirs: list[Path]
    log: Path
    process: subprocess.Popen[bytes]


def free_port() -> int:
    """A free TCP port on loopback."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def launch(
    tmp: Path, index_home: Path, password: str | None, extra_kb: Path | None, env_extra: dict[str, str] | None = None
) -> RunningApp:
    """Start `coach ui` with its own copy of the indexed home; wait until it answers."""
    home = tmp / "home"
    shutil.copytree(index_home, home)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COACH_", "OPENAI_", "GRADIO_"))}
    env.update(
        {
            "COACH_HOME": str(home),
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "ANONYMIZED_TELEMETRY": "False",
            "GRADIO_ANALYTICS_ENABLED": "False",
            "COACH_CONCURRENCY": "4",
        }
    )
    if password:
        env["COACH_ADMIN_PASSWORD"] = password
    if extra_kb is not None:
        env["COACH_KB_DIRS"] = str(extra_kb)
    env.update(env_extra or {})
    log = tmp / "app.log"
    out = log.open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "coach.cli", "ui", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + STARTUP_SECONDS
    while True:
        if proc.poll() is not None:
            pytest.fail(f"the app exited with {proc.returncode}:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            if httpx.get(url, timeout=2.0).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            proc.terminate()
            pytest.fail(
                f"the app did not answer within {STARTUP_SECONDS:.0f}s:\n{log.read_text(errors='replace')[-3000:]}"
            )
        time.sleep(0.5)
    return RunningApp(url, home, [ROOT / "knowledge_base", *([extra_kb] if extra_kb else [])], log, proc)


def stop(app: RunningApp) -> None:
    """Stop the app we started (by its own process handle)."""
    app.process.terminate()
    try:
        app.process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        app.process.kill()
        app.process.wait(timeout=10)
