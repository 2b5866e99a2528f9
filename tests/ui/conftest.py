"""Fixtures: the real app (`coach ui`) launched in a subprocess, with and without an admin password."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from uiapp import ADMIN_PASSWORD, ARTIFACTS, XSS_CARD, RunningApp, launch, stop


@pytest.fixture(scope="module")
def open_app(shared_index_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    """The app with no admin password (admin views open, loopback only) and a card full of markup."""
    tmp = tmp_path_factory.mktemp("open-app")
    cards = tmp / "cards" / "consumer-trends"
    cards.mkdir(parents=True)
    (cards / "xss-test-card.yaml").write_text(XSS_CARD, encoding="utf-8")
    app = launch(tmp, shared_index_home, None, tmp / "cards")
    yield app
    stop(app)


@pytest.fixture(scope="module")
def locked_app(shared_index_home: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    """The app with COACH_ADMIN_PASSWORD set."""
    tmp = tmp_path_factory.mktemp("locked-app")
    app = launch(tmp, shared_index_home, ADMIN_PASSWORD, None)
    yield app
    stop(app)


@pytest.fixture
def client_for():
    """Make a gradio_client Client for a running app (closed after the test)."""
    from gradio_client import Client

    made: list[Client] = []

    def make(app: RunningApp) -> Client:
        c = Client(app.url, verbose=False, download_files=str(ARTIFACTS / "downloads"), analytics_enabled=False)
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()
