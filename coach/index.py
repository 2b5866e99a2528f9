"""Build the search index: card embeddings in Chroma plus a BM25 index, one generation at a time.

Every build writes a new generation folder under `$COACH_HOME/index/` and only then points
`current` at it (an atomic rename). A build killed half-way therefore leaves the previous
generation, and the pointer to it, untouched. Unchanged cards (same content hash, same
embedding model) are copied from the previous generation instead of being embedded again.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from coach.documents import Document, Passage, passage_index, passage_text
from coach.embedding import embed
from coach.errors import CoachError
from coach.knowledge import KnowledgeBase, card_hash, load_knowledge

if TYPE_CHECKING:
    from coach.config import Settings
    from coach.models import Card

POINTER = "current"
MANIFEST = "manifest.json"
LOCK = "index.lock"
COLLECTION_PREFIX = "coach-cards"
#: Cards embedded per batch (also how often progress is reported).
BATCH = 64
#: Cards read per write round, and the most passage rows sent to Chroma in one call.
WRITE_BATCH = 1000
#: A copy of every passage vector beside the manifest, for indexes of at most MEMORY_ROWS passage rows:
#: retrieval then ranks them exactly in memory (about a millisecond) instead of querying Chroma.
VECTORS = "vectors.npz"
MEMORY_ROWS = 10000

Progress = Callable[[int, int], None]
#: Organisation document passages by index unit id (coach.documents.passage_index).
DocPassages = dict[str, tuple[Document, Passage]]


class IndexBusy(CoachError):
    """Another process holds the index lock."""


class IndexMismatch(CoachError):
    """The index was built with another embedding model."""


@dataclass
class IndexReport:
    """What one `coach index` run did."""

    cards: int
    added: int
    updated: int
    unchanged: int
    removed: int
    embedded: int
    seconds: float
    generation: str


@dataclass
class Generation:
    """One complete, immutable index build."""

    path: Path
    manifest: dict[str, Any]

    @property
    def ids(self) -> list[str]:
        """Card ids in index order (the BM25 document order)."""
        return list(self.manifest["order"])

    @property
    def collection(self) -> str:
        """The Chroma collection that holds this generation's embeddings."""
        return str(self.manifest["collection"])


# --------------------------------------------------------------------------- BM25


def tokenize(texts: list[str]) -> list[list[str]]:
    """Lower-case, drop English stop words, and stem, the same way for cards and queries."""
    import re

    from bm25s.stopwords import STOPWORDS_EN

    stemmer = _stemmer()
    stop = set(STOPWORDS_EN)
    out = []
    for text in texts:
        words = [w for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in stop]
        out.append(stemmer.stemWords(words) if stemmer else words)
    return out


_STEMMER: list[Any] = []


def _stemmer() -> Any:
    if not _STEMMER:
        try:
            import Stemmer

            _STEMMER.append(Stemmer.Stemmer("english"))
        except ImportError:  # PyStemmer is a dependency; without it BM25 still works, unstemmed
            _STEMMER.append(None)
    return _STEMMER[0]


def build_bm25(texts: list[str], folder: Path) -> None:
    """Index `texts` (in document order) with bm25s and save it to `folder`."""
    import bm25s

    retriever = bm25s.BM25()
    tokens = tokenize(texts)
    # bm25s needs at least one token per document; an empty card text is indexed as a placeholder.
    retriever.index([t or ["_empty_"] for t in tokens], show_progress=False)
    retriever.save(str(folder))


def load_bm25(folder: Path) -> Any:
    """Load a saved bm25s index."""
    import bm25s

    return bm25s.BM25.load(str(folder))


# --------------------------------------------------------------------------- Chroma


def chroma_client(settings: Settings, generation_path: Path | None = None) -> Any:
    """A Chroma client: the server at COACH_CHROMA_URL, or the embedded store of one generation."""
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if settings.chroma_url:
        from urllib.parse import urlparse

        url = urlparse(settings.chroma_url)
        if not url.hostname:
            from coach.errors import InputError

            raise InputError(
                "$COACH_CHROMA_URL",
                "COACH_CHROMA_URL",
                f"a URL such as http://127.0.0.1:8000, got {settings.chroma_url!r}",
            )
        try:
            return chromadb.HttpClient(
                host=url.hostname,
                port=url.port or (443 if url.scheme == "https" else 8000),
                ssl=url.scheme == "https",
                settings=chroma_settings,
            )
        except Exception as exc:
            raise CoachError(f"cannot reach the Chroma server at {settings.chroma_url} ({exc})") from None
    assert generation_path is not None
    return chromadb.PersistentClient(path=str(generation_path / "chroma"), settings=chroma_settings)


def open_collection(settings: Settings, gen: Generation) -> Any:
    """The Chroma collection of a generation, with no embedding function (we embed ourselves)."""
    client = chroma_client(settings, gen.path)
    try:
        return client.get_collection(gen.collection, embedding_function=None)
    except Exception as exc:
        raise CoachError(
            f"the index's Chroma collection {gen.collection!r} cannot be opened ({str(exc).splitlines()[0]}); "
            "run `coach index --rebuild`"
        ) from None


# --------------------------------------------------------------------------- generations


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def current_generation(settings: Settings) -> Generation | None:
    """The generation `current` points at, if it is complete."""
    pointer = settings.index_dir / POINTER
    try:
        name = pointer.read_text(encoding="utf-8").strip()
    except OSError:
        return None
    path = settings.index_dir / name
    manifest = _read_json(path / MANIFEST)
    if not name or manifest is None:
        return None
    return Generation(path, manifest)


def check_model(settings: Settings, gen: Generation) -> None:
    """Refuse an index built with another embedding model than the one configured."""
    built = gen.manifest.get("embed_model")
    if built != settings.embed_model:
        raise IndexMismatch(
            f"the index was built with the embedding model {built!r} but COACH_EMBED_MODEL is "
            f"{settings.embed_model!r}: re-index with `coach index --rebuild`"
        )


def card_text(card: Card) -> str:
    """What BM25 sees of a card: every field a reader could search for (its asks are dense passages only)."""
    parts = [*own_chunks(card), "\n".join(card.pre_work), "\n".join(r.name for r in card.resources)]
    return "\n".join(parts)


def card_chunks(card: Card) -> list[str]:
    """The passages embedded for a card: its own (`own_chunks`), then one per ask.

    Each question people ask in their own words is its own passage: a question matches the closest
    one, where a blend of eight would match none of them well. Ask rows are stored with `kind: ask`
    and only the chat's search reads them (`Retriever.search_weighted`); plans search the card's own words.
    """
    return [*own_chunks(card), *card.asks]


def is_ask_row(unit: Card | tuple[Document, Passage], row: int, n_rows: int) -> bool:
    """Whether passage row `row` of a unit's `n_rows` is one of a card's asks (a card's last rows)."""
    return not isinstance(unit, tuple) and row >= n_rows - len(unit.asks)


def own_chunks(card: Card) -> list[str]:
    """The passages of a card's own content; a query matches the card by its best passage.

    One vector per card blurs a card's many facets (and MiniLM reads only 256 word pieces), so the
    summary, the concepts, the objectives, the activities, the prompts and the pitfalls each get one.
    """
    head = f"{card.title}. "
    chunks = [
        head + card.summary + " " + " ".join(card.tags),
        head + " ".join(f"{k.term}: {k.meaning}" for k in card.key_concepts),
        head + " ".join(card.objectives),
        head + " ".join(f"{a.title}: {a.description}" for a in card.activities),
        head + " ".join(p.text for p in card.discussion_prompts),
    ]
    if card.pitfalls:
        chunks.append(head + " ".join(card.pitfalls))
    chunks.append(card.text_for_index())
    return chunks


def wanted_hashes(kb: KnowledgeBase, model: str, docs: DocPassages | None = None) -> dict[str, str]:
    """Content hash per card id and document passage id; the model is part of it (a new model, new vectors)."""
    import hashlib

    out = {c.id: hashlib.sha256(f"{model}\n{card_hash(c)}".encode()).hexdigest()[:32] for c in kb.cards}
    for uid, (doc, passage) in (docs or {}).items():
        out[uid] = hashlib.sha256(f"{model}\n{passage_text(doc, passage)}".encode()).hexdigest()[:32]
    return out


def is_fresh(gen: Generation, kb: KnowledgeBase, model: str, docs: DocPassages | None = None) -> bool:
    """Whether a generation holds exactly these cards (and organisation document passages) with this model."""
    return gen.manifest.get("embed_model") == model and gen.manifest.get("hashes") == wanted_hashes(kb, model, docs)


def unit_chunks(unit: Card | tuple[Document, Passage]) -> list[str]:
    """The passages embedded for one index unit: a card's several, a document passage's one."""
    return [passage_text(*unit)] if isinstance(unit, tuple) else card_chunks(unit)


def unit_text(unit: Card | tuple[Document, Passage]) -> str:
    """What BM25 reads of one index unit."""
    return passage_text(*unit) if isinstance(unit, tuple) else card_text(unit)


def unit_id(unit: Card | tuple[Document, Passage]) -> str:
    """A card's id, or a document passage's `doc:DOC_ID:N`."""
    return unit[1].unit_id if isinstance(unit, tuple) else unit.id


def unit_meta(unit: Card | tuple[Document, Passage]) -> dict[str, str]:
    """Chroma metadata of a unit's rows: documents have no domain or level."""
    if isinstance(unit, tuple):
        return {"card": unit[1].unit_id, "domain": "", "level": "", "kind": "doc"}
    return {"card": unit.id, "domain": unit.domain, "level": unit.level, "kind": "card"}


@contextmanager
def write_lock(settings: Settings) -> Iterator[None]:
    """Hold the index's write lock; a second writer is told the index is being rebuilt."""
    from filelock import FileLock, Timeout

    from coach.config import private_dir

    private_dir(settings.home)
    private_dir(settings.index_dir)
    lock = FileLock(str(settings.index_dir / LOCK))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise IndexBusy(
            f"the index is being rebuilt by another process (lock {settings.index_dir / LOCK}); "
            "try again when it finishes"
        ) from None
    try:
        yield
    finally:
        lock.release()


def _switch(settings: Settings, name: str) -> None:
    """Point `current` at generation `name` atomically."""
    tmp = settings.index_dir / f".{POINTER}.{os.getpid()}.tmp"
    tmp.write_text(name + "\n", encoding="utf-8")
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, settings.index_dir / POINTER)


def _cleanup(settings: Settings, keep: set[str]) -> None:
    """Remove generations other than `keep` (the current and the previous one, for readers still on it)."""
    for path in settings.index_dir.glob("gen-*"):
        if path.name not in keep and path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
    if settings.chroma_url:
        try:
            client = chroma_client(settings)
            for col in client.list_collections():
                name = col if isinstance(col, str) else col.name
                if name.startswith(COLLECTION_PREFIX) and name.removeprefix(f"{COLLECTION_PREFIX}-") not in keep:
                    client.delete_collection(name)
        except Exception:  # cleaning the server is best effort; the new generation is already live
            pass


def _previous_vectors(settings: Settings, gen: Generation | None, ids: list[str]) -> dict[str, list[list[float]]]:
    """Passage embeddings of `ids` stored in the previous generation (for cards that did not change)."""
    if gen is None or not ids or gen.manifest.get("chroma_url") != settings.chroma_url:
        return {}
    out: dict[str, list[tuple[int, list[float]]]] = {}
    try:
        col = open_collection(settings, gen)
        for b in range(0, len(ids), WRITE_BATCH):
            got = col.get(where={"card": {"$in": ids[b : b + WRITE_BATCH]}}, include=["embeddings", "metadatas"])
            for rid, vec, meta in zip(got["ids"], got["embeddings"], got["metadatas"], strict=True):
                out.setdefault(str(meta["card"]), []).append((int(rid.rsplit("#", 1)[1]), list(map(float, vec))))
    except Exception:  # a damaged previous generation only costs re-embedding
        return {}
    return {cid: [v for _, v in sorted(parts)] for cid, parts in out.items()}


def build_index(
    settings: Settings,
    kbase: KnowledgeBase | None = None,
    rebuild: bool = False,
    progress: Progress | None = None,
) -> IndexReport:
    """Embed the cards into Chroma and build the BM25 index; only changed cards are embedded."""
    start = time.perf_counter()
    kb = kbase if kbase is not None else load_knowledge(settings.kb_dirs)
    model = settings.embed_model
    with write_lock(settings):
        docs = passage_index(settings)
        previous = current_generation(settings)
        if previous is not None and not rebuild and previous.manifest.get("embed_model") != model:
            raise IndexMismatch(
                f"the index was built with the embedding model {previous.manifest.get('embed_model')!r}; "
                f"to switch to {model!r} run `coach index --rebuild`"
            )
        hashes = wanted_hashes(kb, model, docs)
        old_hashes: dict[str, str] = dict(previous.manifest.get("hashes", {})) if previous else {}
        added = [i for i in hashes if i not in old_hashes]
        updated = [i for i in hashes if i in old_hashes and old_hashes[i] != hashes[i]]
        unchanged = [i for i in hashes if old_hashes.get(i) == hashes[i]]
        removed = [i for i in old_hashes if i not in hashes]
        total = len(kb.cards) + len(docs)
        fresh = previous is not None and previous.manifest.get("embed_model") == model and old_hashes == hashes
        if previous is not None and not rebuild and fresh and is_usable(settings, previous):
            if progress:
                progress(total, total)
            return IndexReport(total, 0, 0, len(unchanged), 0, 0, time.perf_counter() - start, previous.path.name)

        name = f"gen-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}-{time.monotonic_ns() % 10**6}"
        path = settings.index_dir / name
        path.mkdir(parents=True)
        try:
            reused = {} if rebuild else _previous_vectors(settings, previous, unchanged)
            cards: list[Card | tuple[Document, Passage]] = [*kb.cards, *docs.values()]
            client = chroma_client(settings, path)
            collection = f"{COLLECTION_PREFIX}-{name}"
            col = client.create_collection(
                collection,
                embedding_function=None,
                metadata={"embed_model": model, "hnsw:space": "cosine"},
            )
            # Chroma caps the rows of one write (several passages per card, so not the card count).
            max_rows = min(WRITE_BATCH, int(client.get_max_batch_size()))
            embedded = 0
            done = 0
            kept: list[tuple[str, list[float]]] = []  # (row id, vector) for VECTORS
            for startat in range(0, total, WRITE_BATCH):
                chunk = cards[startat : startat + WRITE_BATCH]
                todo = [c for c in chunk if unit_id(c) not in reused]
                vectors = {cid: reused[cid] for cid in map(unit_id, chunk) if cid in reused}
                for b in range(0, len(todo), BATCH):
                    part = todo[b : b + BATCH]
                    texts = [unit_chunks(c) for c in part]
                    flat = embed(settings, [t for ts in texts for t in ts])
                    pos = 0
                    for card, ts in zip(part, texts, strict=True):
                        vectors[unit_id(card)] = flat[pos : pos + len(ts)]
                        pos += len(ts)
                    embedded += len(part)
                    if progress:
                        progress(done + len(chunk) - len(todo) + b + len(part), total)
                rows = [(c, i, v) for c in chunk for i, v in enumerate(vectors[unit_id(c)])]
                if len(kept) + len(rows) <= MEMORY_ROWS:
                    kept += [(f"{unit_id(c)}#{i}", v) for c, i, v in rows]
                else:
                    kept = []  # too large to keep in memory: retrieval queries Chroma
                for r in range(0, len(rows), max_rows):
                    part_rows = rows[r : r + max_rows]
                    col.add(
                        ids=[f"{unit_id(c)}#{i}" for c, i, _ in part_rows],
                        embeddings=[v for _, _, v in part_rows],
                        metadatas=[
                            {**unit_meta(c), "hash": hashes[unit_id(c)]}
                            | ({"kind": "ask"} if is_ask_row(c, i, len(vectors[unit_id(c)])) else {})
                            for c, i, _ in part_rows
                        ],
                    )
                done += len(chunk)
                if progress:
                    progress(done, total)
            build_bm25([unit_text(c) for c in cards], path / "bm25")
            from coach import beyond

            n_beyond = beyond.build(settings, kb.cards, path, None if rebuild else previous, set(unchanged))
            n_rows = sum(len(unit_chunks(c)) for c in cards)
            if kept and len(kept) == n_rows:
                _save_vectors(path / VECTORS, kept)
            manifest = {
                "embed_model": model,
                "collection": collection,
                "order": [unit_id(c) for c in cards],
                "passages": n_rows,
                "domains": [c.domain if not isinstance(c, tuple) else "" for c in cards],
                "documents": len(docs),
                "hashes": hashes,
                "beyond": n_beyond,
                "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
                "chroma_url": settings.chroma_url,
            }
            # The manifest is written last and atomically: a generation without one is incomplete.
            tmp = path / f".{MANIFEST}.tmp"
            tmp.write_text(json.dumps(manifest, indent=1), encoding="utf-8")
            os.replace(tmp, path / MANIFEST)
            del col, client
        except BaseException:
            shutil.rmtree(path, ignore_errors=True)
            raise
        _switch(settings, name)
        _cleanup(settings, {name, previous.path.name if previous else name})
        return IndexReport(
            cards=total,
            added=len(added),
            updated=len(updated),
            unchanged=len(unchanged),
            removed=len(removed),
            embedded=embedded,
            seconds=time.perf_counter() - start,
            generation=name,
        )


def _save_vectors(path: Path, rows: list[tuple[str, list[float]]]) -> None:
    """Write the passage vectors (row ids and float32 vectors) for exact in-memory search."""
    import numpy as np

    with open(path, "wb") as fh:
        np.savez(fh, ids=np.array([r for r, _ in rows]), vectors=np.asarray([v for _, v in rows], dtype=np.float32))


def load_vectors(gen: Generation) -> tuple[list[str], Any] | None:
    """A generation's passage row ids and vectors (VECTORS), or None when it has none (older or large)."""
    return read_rows(gen.path / VECTORS)


def read_rows(path: Path) -> tuple[list[str], Any] | None:
    """Row ids and float32 vectors from an `np.savez` file of `ids` and `vectors`, or None when unreadable."""
    import numpy as np

    try:
        with np.load(path, allow_pickle=False) as data:
            return [str(i) for i in data["ids"]], np.asarray(data["vectors"], dtype=np.float32)
    except (OSError, KeyError, ValueError):
        return None


def is_usable(settings: Settings, gen: Generation) -> bool:
    """Whether the generation's stores are where the manifest says (e.g. not built against another server)."""
    if gen.manifest.get("chroma_url") != settings.chroma_url:
        return False
    from coach.beyond import BEYOND

    if gen.manifest.get("beyond") and not (gen.path / BEYOND).is_file():
        return False
    return (gen.path / "bm25").is_dir() and (settings.chroma_url is not None or (gen.path / "chroma").is_dir())
