"""Near misses: how close a question comes to what no card answers.

Each card may list `beyond` questions: ones that sound close to it but that no card answers ("write
me a DAX measure" near the spreadsheet card, "how do we get posts to rank in google" near social
media). They were written from the knowledge base alone, so they say where the cards stop, in the
words people use. Their vectors are built with the index (`BEYOND` in the generation folder, reused
for unchanged cards) and read only by the chat's coverage rule (`coach.coverage`), as one feature:
the highest similarity of the question to any of them. They are never searched, shown or cited.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from coach.config import Settings
    from coach.index import Generation
    from coach.models import Card
    from coach.retrieval import Retriever

#: The file of a generation that holds the beyond vectors (card id per row, and the vectors).
BEYOND = "beyond.npz"
#: The rows of the generation last read (by its path).
_ROWS: dict[str, tuple[list[str], Any] | None] = {}


def build(settings: Settings, cards: list[Card], path: Path, previous: Generation | None, reuse: set[str]) -> int:
    """Write `BEYOND` for these cards into the generation folder `path`; returns the number of rows.

    Cards in `reuse` (unchanged since `previous`) keep their vectors; the others are embedded.
    """
    import numpy as np

    from coach.embedding import embed

    old: dict[str, list[Any]] = {}
    if previous is not None and (loaded := load(previous)) is not None:
        for cid, vector in zip(*loaded, strict=True):
            if cid in reuse:
                old.setdefault(cid, []).append(vector)
    ids: list[str] = []
    vectors: list[Any] = []
    todo = [c for c in cards if c.beyond and len(old.get(c.id, [])) != len(c.beyond)]
    fresh = embed(settings, [q for c in todo for q in c.beyond]) if todo else []
    made: dict[str, list[Any]] = {}
    pos = 0
    for c in todo:
        made[c.id] = list(fresh[pos : pos + len(c.beyond)])
        pos += len(c.beyond)
    for c in cards:
        for vector in made.get(c.id) or old.get(c.id) or []:
            ids.append(c.id)
            vectors.append(vector)
    with open(path / BEYOND, "wb") as fh:
        matrix = np.asarray(vectors, dtype=np.float32) if vectors else np.zeros((0, 0), dtype=np.float32)
        np.savez(fh, ids=np.array(ids, dtype=str), vectors=matrix)
    return len(ids)


def load(gen: Generation) -> tuple[list[str], Any] | None:
    """A generation's beyond rows (card ids, unit vectors), or None when it has no such file."""
    from coach.index import read_rows

    return read_rows(gen.path / BEYOND)


def similarity(retriever: Retriever, query: str) -> float:
    """The highest cosine similarity of `query` to any card's beyond question (0.0 when there are none)."""
    import numpy as np

    key = str(retriever.gen.path)  # a generation never changes, so its rows are read once per process
    if key not in _ROWS:
        _ROWS.clear()
        _ROWS[key] = load(retriever.gen)
    rows = _ROWS[key]
    if rows is None or not len(rows[0]):
        return 0.0
    vector = np.asarray(retriever.query_vectors([query])[0], dtype=np.float32)
    return float((rows[1] @ vector).max())
