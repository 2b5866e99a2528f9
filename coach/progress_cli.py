"""Progress on a terminal while a model writes a plan: a bar of sessions written, tokens streamed so far."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from coach.session_writer import Progress, SessionEvent


@contextlib.contextmanager
def session_bar(total: int, label: str = "writing sessions") -> Iterator[Progress | None]:
    """A callback that moves a bar on standard error, or None when standard error is not a terminal."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    tokens: dict[int, int] = {}
    kept: list[int] = []
    with Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[detail]}"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=False,
    ) as bar:
        task = bar.add_task(label, total=total, detail="")

        def progress(event: SessionEvent) -> None:
            if event.state == "writing":
                tokens[event.number] = max(tokens.get(event.number, 0), event.tokens)
            elif event.state in ("written", "draft"):
                if event.state == "draft":
                    kept.append(event.number)
                bar.advance(task)
            detail = f"{sum(tokens.values()):,} tokens streamed"
            if kept:
                detail += f"; offline text kept for session {', '.join(map(str, sorted(kept)))}"
            bar.update(task, detail=detail)

        yield progress
