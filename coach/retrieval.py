"""Hybrid retrieval over the cards: dense (Chroma) and BM25, fused by reciprocal rank fusion."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from coach.documents import UNIT_PREFIX
from coach.embedding import embed
from coach.index import (
    Generation,
    build_index,
    check_model,
    current_generation,
    is_fresh,
    is_usable,
    load_bm25,
    load_vectors,
    open_collection,
    tokenize,
)
from coach.knowledge import KnowledgeBase, load_knowledge

if TYPE_CHECKING:
    from coach.config import Settings
    from coach.documents import Document, Passage
    from coach.models import Card

Mode = Literal["hybrid", "bm25", "dense"]
#: The usual RRF constant: it damps the weight of the very top ranks so neither retriever dominates.
RRF_K = 60
#: How deep each retriever looks before fusion (at least k).
DEPTH = 50
#: Result rows per Chroma query call (queries x results), below SQLite's variable limit.
SQLITE_ROWS = 20000
#: Query embeddings kept per retriever (a few MB at most).
QUERY_CACHE = 4096


#: Taken off an ask's similarity (a card's `asks`, in the chat's search): a short question sits close to
#: any short question, so an ask must match clearly better than the card's own words to lead.
#: Chosen on the tune halves of the blind chat sets (0, 0.04, 0.08, 0.12 tried; 0.08 gave the best F1 of
#: "not covered" with the same share of acceptable cards cited).
ASK_DISCOUNT = 0.08


@dataclass(frozen=True)
class Hit:
    """One search result: a card and its score (higher is better)."""

    card: Card
    score: float
    #: Cosine similarity of the card's best passage to the query (an absolute measure, unlike the fused
    #: score); None when dense retrieval did not rank the card.
    similarity: float | None = None

    @property
    def kind(self) -> str:
        """Always "card" (a document passage is a DocHit); SPEC.md section 12's search field."""
        return "card"


@dataclass(frozen=True)
class DocHit:
    """One organisation-document passage found by search (`Retriever.search_all`).

    `doc_id`, `title` and `locator` (page or heading) are what a citation `[doc:DOC_ID]` shows;
    `text` is the passage itself.
    """

    doc_id: str
    title: str
    locator: str
    text: str
    score: float
    similarity: float | None = None
    #: The passage's number in its document (its index unit id is `doc:DOC_ID:N`).
    number: int = 0

    @property
    def unit_id(self) -> str:
        """The passage's id in the index, `doc:DOC_ID:N`."""
        return f"{UNIT_PREFIX}{self.doc_id}:{self.number}"

    @property
    def kind(self) -> str:
        """Always "doc"."""
        return "doc"


def rrf(rankings: Sequence[Sequence[str]], k: int = RRF_K) -> dict[str, float]:
    """Reciprocal rank fusion, scaled so a card ranked first by every retriever scores 1.0."""
    fused: dict[str, float] = {}
    for ranking in rankings:
        for rank, cid in enumerate(ranking):
            fused[cid] = fused.get(cid, 0.0) + 1.0 / (k + rank + 1)
    top = len(rankings) / (k + 1)
    return {cid: s / top for cid, s in fused.items()}


class Retriever:
    """Searches one index generation; `kb` holds the cards it was built from."""

    def __init__(self, settings: Settings, kb: KnowledgeBase, gen: Generation) -> None:
        import numpy as np

        self.settings = settings
        self.kb = kb
        self.gen = gen
        self.ids = gen.ids
        self.position = {cid: i for i, cid in enumerate(self.ids)}
        domains = gen.manifest["domains"]
        self._domain_of = np.array(domains)
        self._is_doc = np.array([cid.startswith(UNIT_PREFIX) for cid in self.ids], dtype=bool)
        self.n_doc_passages = int(self._is_doc.sum())
        self.docs: dict[str, tuple[Document, Passage]] = {}
        self._bm25 = load_bm25(gen.path / "bm25")
        self._collection = open_collection(settings, gen)
        self._qcache: dict[str, list[float]] = {}
        #: Every passage vector (unit length), its unit's position and whether it is an ask, loaded on first
        #: use; () when not used.
        self._matrix: tuple[Any, ...] | None = None
        self.passages = int(gen.manifest.get("passages", len(self.ids)))
        n_cards = len(self.ids) - self.n_doc_passages
        self.passages_per_card = max(1, -(-(self.passages - self.n_doc_passages) // max(1, n_cards)))

    # ------------------------------------------------------------------ single retrievers

    def _mask(self, domains: set[str] | None, docs: bool = False) -> Any:
        import numpy as np

        if not domains:
            return None if docs or not self.n_doc_passages else ~self._is_doc
        return np.isin(self._domain_of, sorted(domains))

    def _bm25_rankings(
        self, queries: list[str], depth: int, domains: set[str] | None, docs: bool = False
    ) -> list[list[tuple[str, float]]]:
        import numpy as np

        mask = self._mask(domains, docs)
        out = []
        for tokens in tokenize(queries):
            scores = np.asarray(self._bm25.get_scores(tokens), dtype=float)
            if mask is not None:
                scores = np.where(mask, scores, 0.0)
            order = np.argsort(-scores, kind="stable")[:depth]
            # A card that shares no word with the query has no BM25 rank at all.
            out.append([(self.ids[i], float(scores[i])) for i in order if scores[i] > 0])
        return out

    def _dense_rankings(
        self, queries: list[str], depth: int, domains: set[str] | None, docs: bool = False, asks: bool = False
    ) -> list[list[tuple[str, float]]]:
        """Each query's best units by dense similarity of their best passage; `asks`: cards' ask rows count too."""
        n_docs = int(self._mask(domains).sum()) if domains else len(self.ids)
        if n_docs == 0:
            return [[] for _ in queries]
        # Several passages per card: look deep enough to rank `depth` distinct cards.
        n = min(depth * self.passages_per_card, self.passages)
        conds: list[dict[str, Any]] = [{"domain": {"$in": sorted(domains)}}] if domains else []
        if not domains and self.n_doc_passages and not docs:
            # Organisation documents only where asked for (search_all).
            conds.append({"kind": {"$in": ["card", "ask"]}} if asks else {"kind": "card"})
        elif not asks:
            conds.append({"kind": {"$ne": "ask"}})
        where: dict[str, Any] | None = None if not conds else conds[0] if len(conds) == 1 else {"$and": conds}
        vectors = self.query_vectors(queries)
        matrix = self._vectors()
        if matrix:
            return self._exact_rankings(matrix, vectors, depth, self._mask(domains, docs), asks)
        passage_ids: list[Any] = []
        distances: list[Any] = []
        metas: list[Any] = []
        # Chroma reads every result row through SQLite, which allows about 32k variables per statement.
        step = max(1, SQLITE_ROWS // n)
        for b in range(0, len(vectors), step):
            res = self._collection.query(
                query_embeddings=vectors[b : b + step], n_results=n, where=where, include=["distances", "metadatas"]
            )
            passage_ids += res["ids"]
            distances += res["distances"]
            metas += res["metadatas"]
        out = []
        for pids, dists, ms in zip(passage_ids, distances, metas, strict=True):
            best: dict[str, float] = {}
            for pid, dist, meta in zip(pids, dists, ms, strict=True):
                cid = pid.rsplit("#", 1)[0]  # passage ids are "card-id#n"
                # Cosine distance: similarity is 1 - distance; a card scores as its best passage.
                sim = 1.0 - float(dist) - (ASK_DISCOUNT if (meta or {}).get("kind") == "ask" else 0.0)
                best[cid] = max(best.get(cid, -1.0), sim)
            out.append(sorted(best.items(), key=lambda kv: (-kv[1], kv[0]))[:depth])
        return out

    def _vectors(self) -> tuple[Any, ...]:
        """The index's passage vectors (unit length), their units' positions and which are asks, or () for Chroma.

        Index builds keep a copy of the vectors beside the manifest when there are at most
        `coach.index.MEMORY_ROWS` passage rows (10,000 rows of 384 floats are 15 MB): ranking them all
        with one matrix product takes about a millisecond, where a Chroma query takes several, and many
        more on a busy machine. Older and larger generations query Chroma.
        """
        if self._matrix is None:
            self._matrix = ()
            found = load_vectors(self.gen)
            if found is not None:
                import numpy as np

                ids, rows = found
                units = np.array([self.position.get(i.rsplit("#", 1)[0], -1) for i in ids], dtype=np.int64)
                keep = units >= 0
                if len(ids) == self.passages and keep.all() and len(rows) == len(ids):
                    rows = rows / np.clip(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12, None)
                    # A card's asks are its last rows (coach.index.card_chunks): rows numbered at or past
                    # its row count less its ask count.
                    n_asks = np.zeros(len(self.ids), dtype=np.int64)
                    for card in self.kb.cards:
                        if card.id in self.position:
                            n_asks[self.position[card.id]] = len(card.asks)
                    row_no = np.array([int(i.rsplit("#", 1)[1]) for i in ids], dtype=np.int64)
                    n_rows = np.bincount(units, minlength=len(self.ids))
                    ask = row_no >= (n_rows - n_asks)[units]
                    self._matrix = (rows, units, ask)
        return self._matrix

    def _exact_rankings(
        self, matrix: tuple[Any, ...], vectors: list[list[float]], depth: int, mask: Any, asks: bool = False
    ) -> list[list[tuple[str, float]]]:
        """Dense rankings by exact cosine similarity over every passage; a unit scores as its best passage."""
        import numpy as np

        rows, units, ask = matrix
        q = np.asarray(vectors, dtype=np.float32)
        q /= np.clip(np.linalg.norm(q, axis=1, keepdims=True), 1e-12, None)
        sims = rows @ q.T  # (passages, queries)
        if ask.any():
            if asks:
                sims[ask, :] -= ASK_DISCOUNT
            else:
                sims[ask, :] = -np.inf
        allowed = np.ones(len(self.ids), dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
        out = []
        for j in range(sims.shape[1]):
            best = np.full(len(self.ids), -np.inf, dtype=np.float64)
            np.maximum.at(best, units, sims[:, j])
            best[~allowed] = -np.inf
            order = np.argsort(-best, kind="stable")[:depth]
            ranked = [(self.ids[i], float(best[i])) for i in order if np.isfinite(best[i])]
            out.append(sorted(ranked, key=lambda kv: (-kv[1], kv[0])))
        return out

    def query_vectors(self, queries: list[str]) -> list[list[float]]:
        """Embeddings of the queries; repeated texts (a pair's goals, say) are embedded once per process."""
        missing = list(dict.fromkeys(q for q in queries if q not in self._qcache))
        if missing:
            if len(self._qcache) + len(missing) > QUERY_CACHE:
                self._qcache.clear()
            self._qcache.update(zip(missing, embed(self.settings, missing), strict=True))
        return [self._qcache[q] for q in queries]

    # ------------------------------------------------------------------ public API

    def search_many(
        self, queries: Sequence[str], k: int = 5, mode: Mode = "hybrid", domains: set[str] | None = None
    ) -> list[list[Hit]]:
        """The best `k` cards for each query, in query order (cards only; see `search_all` for documents)."""
        return [
            [h for h in hits if isinstance(h, Hit)]
            for hits in self._search(list(queries), k, mode, domains, docs=False)
        ]

    def search_all(
        self, query: str, k: int = 5, mode: Mode = "hybrid", domains: set[str] | None = None
    ) -> list[Hit | DocHit]:
        """The best `k` cards and organisation-document passages for one query, ranked together.

        The same hybrid search as `search`, over the cards and the passages of the documents added with
        `coach kb add-doc` (a domain filter leaves documents out, since they have no domain).
        """
        return self._search([query], k, mode, domains, docs=True)[0]

    def _search(
        self, queries: list[str], k: int, mode: Mode, domains: set[str] | None, docs: bool
    ) -> list[list[Hit | DocHit]]:
        if not queries:
            return []
        depth = max(k, DEPTH)
        results: list[list[Hit | DocHit]] = []
        if mode == "bm25":
            for ranking in self._bm25_rankings(queries, depth, domains, docs):
                results.append(self._hits(ranking[:k]))
            return results
        dense = self._dense_rankings(queries, depth, domains, docs)
        if mode == "dense":
            return [self._hits(r[:k], dict(r)) for r in dense]
        sparse = self._bm25_rankings(queries, depth, domains, docs)
        for d, s in zip(dense, sparse, strict=True):
            fused = rrf([[cid for cid, _ in d], [cid for cid, _ in s]])
            # Ties (rare) fall back to dense similarity, then id, so the order is deterministic.
            sim = dict(d)
            ranked = sorted(fused.items(), key=lambda kv: (-kv[1], -sim.get(kv[0], -1.0), kv[0]))
            results.append(self._hits(ranked[:k], sim))
        return results

    def search(self, query: str, k: int = 5, mode: Mode = "hybrid", domains: set[str] | None = None) -> list[Hit]:
        """The best `k` cards for one query."""
        return self.search_many([query], k=k, mode=mode, domains=domains)[0]

    def search_weighted(
        self, query: str, k: int = 5, bm25_weight: float = 0.4, domains: set[str] | None = None
    ) -> list[Hit]:
        """The best `k` cards for one query by dense similarity plus `bm25_weight` times the BM25 score
        as a share of the best BM25 score (cards only).

        Unlike rank fusion, this keeps how far apart the scores are: a card that alone matches a rare
        word of the query by BM25, or is much closer in meaning, is not levelled with the runners-up.
        """
        depth = max(k, DEPTH)
        # The chat's search: the questions people ask (cards' asks) count as passages too.
        dense = dict(self._dense_rankings([query], depth, domains, asks=True)[0])
        sparse = dict(self._bm25_rankings([query], depth, domains)[0])
        if not dense and not sparse:
            return []
        floor = min(dense.values(), default=0.0)
        top = max(sparse.values(), default=0.0) or 1.0
        scores = {cid: dense.get(cid, floor) + bm25_weight * sparse.get(cid, 0.0) / top for cid in {*dense, *sparse}}
        ranked = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))[:k]
        return [h for h in self._hits(ranked, dense) if isinstance(h, Hit)]

    def _hits(
        self, ranking: Sequence[tuple[str, float]], similarity: dict[str, float] | None = None
    ) -> list[Hit | DocHit]:
        hits: list[Hit | DocHit] = []
        for cid, score in ranking:
            sim = similarity.get(cid) if similarity is not None else None
            sim = None if sim is None else round(sim, 6)
            card = self.kb.get(cid)
            if card is not None:
                hits.append(Hit(card, round(score, 6), sim))
            elif cid in self.docs:
                doc, passage = self.docs[cid]
                hits.append(
                    DocHit(doc.doc_id, doc.title, passage.locator, passage.text, round(score, 6), sim, passage.number)
                )
        return hits


def labelled_scores(labelled: Sequence[dict[str, Any]], results: Sequence[Sequence[Hit]]) -> dict[str, float]:
    """hit@3 by domain, MRR@10 and recall@5 by card id, for labelled queries (evals/retrieval.yaml) and their hits."""
    hit3 = mrr = recall = 0.0
    for item, hits in zip(labelled, results, strict=True):
        ids = [h.card.id for h in hits]
        hit3 += any(h.card.domain == item["domain"] for h in hits[:3])
        rank = next((i + 1 for i, cid in enumerate(ids[:10]) if cid in item["cards"]), None)
        mrr += 1 / rank if rank else 0.0
        recall += len(set(ids[:5]) & set(item["cards"])) / len(item["cards"])
    n = len(labelled)
    return {"hit@3": hit3 / n, "MRR@10": mrr / n, "recall@5": recall / n}


_CACHE: dict[tuple[str, str | None, tuple[str, ...]], Retriever] = {}


def get_retriever(settings: Settings, kb: KnowledgeBase | None = None, auto_index: bool = True) -> Retriever:
    """A retriever over the current index; builds or refreshes the index first if the cards changed."""
    from coach.documents import passage_index

    kb = kb if kb is not None else load_knowledge(settings.kb_dirs)
    docs = passage_index(settings)
    gen = current_generation(settings)
    if (
        gen is None
        or not is_fresh(gen, kb, settings.embed_model, docs)
        or gen.manifest.get("chroma_url") != settings.chroma_url
        or not is_usable(settings, gen)
    ):
        if gen is not None:
            check_model(settings, gen)
        if not auto_index:
            from coach.errors import CoachError

            raise CoachError("the knowledge base is not indexed (or has changed): run `coach index`")
        print("indexing the knowledge base (only new or changed cards are embedded)...", file=sys.stderr)
        build_index(settings, kb)  # a second writer gets IndexBusy: "the index is being rebuilt"
        gen = current_generation(settings)
        assert gen is not None
    check_model(settings, gen)
    # `is_fresh` tied this generation to exactly these cards, so its path identifies their content.
    key = (str(gen.path), settings.chroma_url, tuple(map(str, settings.kb_dirs)))
    retriever = _CACHE.get(key)
    if retriever is None:
        retriever = Retriever(settings, kb, gen)
        _CACHE.clear()  # one live retriever per process is plenty; drop stale generations
        _CACHE[key] = retriever
    else:
        retriever.kb = kb
    retriever.docs = docs
    return retriever
