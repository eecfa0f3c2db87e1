"""Retrieval: dense + keyword rankings of the passages and their fusion into candidate Hits.

Fusion is reciprocal rank fusion over three rankings of the allowed chunks: dense (FAISS inner
product), keyword (BM25 over character bigrams), and "exact figures" (chunks that contain the
numbers the question names, e.g. 16%, 983亿元). Places named in the question (qa/query.py)
restrict the search to their reports. `rerank` is the seam for a reranker: it gets the query and
the fused candidates and returns them reordered.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np

from .chunk import Chunk
from .config import Settings
from .embed import Embedder, get_embedder
from .query import IndexedPlace, Query, analyze
from .store import Index
from .tokens import numbers_in, tokenize

RETRIEVERS = ("hybrid", "dense", "keyword")


@dataclass
class Hit:
    rank: int
    score: float
    chunk_id: str
    district: str  # display name of the reporting government
    source: str
    title: str
    section: str
    start: int
    end: int
    text: str
    dense: float  # cosine of the question and the passage
    keyword: float  # BM25 score
    place: str = ""  # qualified name
    year: int = 0
    half: str = ""
    # Filled by the answer step (qa/answer.py): the sentence that best answers the question.
    sentence: str = ""
    sentence_start: int = 0
    sentence_end: int = 0
    coverage: float = 0.0  # share of the question's content found in the passage (answer.py)

    def to_dict(self) -> dict:
        return asdict(self)


def _ranks(scores: np.ndarray, allowed: np.ndarray, limit: int | None = None) -> np.ndarray:
    """1-based rank of the allowed rows by descending score (only the best `limit` of them when
    given: the candidates); 0 for the rest."""
    ranks = np.zeros(len(scores), dtype=np.int64)
    idx = np.flatnonzero(allowed)
    if limit is not None and len(idx) > limit:
        idx = idx[np.argpartition(-scores[idx], limit - 1)[:limit]]
    order = idx[np.argsort(-scores[idx], kind="stable")]
    ranks[order] = np.arange(1, len(order) + 1)
    return ranks


def indexed_places(index: Index) -> list[IndexedPlace]:
    """The places of the indexed reports, with the names questions may use for them."""
    seen: dict[str, IndexedPlace] = {}
    for doc in index.documents.values():
        key = doc.get("place") or doc["district"]
        if key not in seen:
            seen[key] = IndexedPlace(key, doc["district"], doc.get("short") or doc["district"],
                                     doc.get("english", ""), doc.get("level", ""), doc.get("province", ""))
    return sorted(seen.values(), key=lambda p: p.key)


Reranker = Callable[[Query, list[Hit]], list[Hit]]
SENTENCE_CACHE = 20_000  # sentence vectors kept (384 floats each: ~30 MB)


def _trim(cache: OrderedDict, size: int) -> None:
    while len(cache) > size:
        cache.popitem(last=False)


class Searcher:
    """Loaded once (per process or per web app) and reused for every question."""

    def __init__(self, index: Index, settings: Settings, embedder: Embedder | None = None,
                 reranker: Reranker | None = None):
        self.index = index
        self.settings = settings
        self._embedder = embedder
        self.reranker = reranker
        self.places = indexed_places(index)
        self._place_of = np.array([c.place or c.district for c in index.chunks])
        # Figure → rows of the passages that state it: a question's figures are looked up, not scanned for.
        self._figure_rows: dict[str, list[int]] = {}
        for row, c in enumerate(index.chunks):
            for figure in set(numbers_in(c.text)):
                self._figure_rows.setdefault(figure, []).append(row)
        self._vocab = index.bm25.vocab_dict
        self._chunk_year = np.array([c.year for c in index.chunks])
        self._chunk_half = np.array([c.half for c in index.chunks])
        self._occurs: dict[str, int] = {}
        # Questions run in parallel threads: the caches and the model are used one thread at a time.
        self._model_lock = threading.Lock()
        self._query_vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._sentence_vectors: OrderedDict[str, np.ndarray] = OrderedDict()

    @property
    def districts(self) -> list[str]:
        """Display names of the indexed places (for filters and messages)."""
        return [p.name for p in self.places]

    def place_keys(self, names: list[str] | None) -> list[str]:
        """Qualified keys for names a user gives a filter: 万州区, 重庆市万州区, Wanzhou."""
        keys = []
        for name in names or []:
            lowered = name.strip().lower()
            keys += [p.key for p in self.places
                     if name.strip() in (p.key, p.name, p.short) or lowered == p.english.lower()]
        return sorted(set(keys))

    def occurs(self, chinese: str) -> int:
        """In how many passages a Chinese string occurs (for choosing dictionary translations)."""
        count = self._occurs.get(chinese)
        if count is None:  # "" counts every passage: translate.py uses it as the total
            count = self._occurs[chinese] = sum(1 for c in self.index.chunks if chinese in c.text)
        return count

    def report_years(self, query: Query, places: list[str] | None = None) -> list[int]:
        """Years of the reports a question is about (all reports when it names no place)."""
        keys = set(self.place_keys(places) if places else query.places)
        return sorted({d["year"] for d in self.index.documents.values()
                       if d.get("year") and (not keys or (d.get("place") or d["district"]) in keys)})

    def analyze(self, question: str) -> Query:
        return analyze(question, self.places, self.occurs)

    @property
    def loaded_embedder(self) -> Embedder | None:
        """The embedder if it is already loaded (None otherwise): reused on reload, never loaded for it."""
        return self._embedder

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = get_embedder(self.index.manifest["embedder"])
        return self._embedder

    def query_vector(self, query: Query) -> np.ndarray:
        """The question's embedding (1 × dim). English questions also carry their Chinese report
        terms, which the passages share."""
        text = query.keyword_text if self.settings.expand_dense else query.text
        with self._model_lock:
            if text not in self._query_vectors:
                self._query_vectors[text] = self.embedder.encode_query([text])
                _trim(self._query_vectors, 64)
            return self._query_vectors[text]

    def similarities(self, query: Query, texts: list[str]) -> np.ndarray:
        """Cosine of the question and each text (the sentences of the top passages, which
        answer.py chooses among); sentence vectors are cached, a sentence is embedded once."""
        if not texts:
            return np.zeros(0, dtype=np.float32)
        vector = self.query_vector(query)[0]
        with self._model_lock:
            missing = [t for t in dict.fromkeys(texts) if t not in self._sentence_vectors]
            if missing:
                for text, row in zip(missing, self.embedder.encode_document(missing)):
                    self._sentence_vectors[text] = row
            matrix = np.stack([self._sentence_vectors[t] for t in texts])
            _trim(self._sentence_vectors, SENTENCE_CACHE)
        return matrix @ vector

    def dense_scores(self, query: Query, allowed: np.ndarray | None = None, limit: int | None = None) -> np.ndarray:
        """Cosine of the question and the passages: the best `limit` of the allowed rows (a place
        filter applied inside FAISS, so a filtered search never comes back short); -1 for the
        rest. Without a limit, every passage."""
        import faiss

        vector = self.query_vector(query)
        n = self.index.vectors.ntotal
        params = None
        if allowed is not None and not allowed.all():
            ids = np.flatnonzero(allowed).astype(np.int64)
            params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(ids))
            n = len(ids)
        scores, rows = self.index.vectors.search(vector, max(1, min(limit or n, n)), params=params)
        n = self.index.vectors.ntotal
        out = np.full(n, -1.0, dtype=np.float32)
        valid = rows[0] >= 0
        out[rows[0][valid]] = scores[0][valid]
        return out

    def keyword_scores(self, tokens: list[str]) -> np.ndarray:
        known = [t for t in tokens if t in self._vocab]
        if not known:
            return np.zeros(len(self.index.chunks), dtype=np.float32)
        return np.asarray(self.index.bm25.get_scores(known), dtype=np.float32)

    def _fuse(self, query: Query, dense: np.ndarray, keyword: np.ndarray, allowed: np.ndarray) -> np.ndarray:
        """Reciprocal rank fusion of dense, keyword and exact-figure rankings."""
        k0 = self.settings.rrf_k
        limit = self.settings.candidates
        rankings = [(_ranks(dense, allowed, limit), self.settings.dense_weight),
                    (_ranks(keyword, allowed & (keyword > 0), limit), self.settings.keyword_weight)]
        if query.numbers:
            matched = self.figure_matches(query.numbers)
            rankings.append((_ranks(matched, allowed & (matched > 0)), 1.0))
        fused = np.zeros(len(dense), dtype=np.float64)
        for ranks, weight in rankings:
            fused += np.where(ranks > 0, weight / (k0 + ranks), 0.0)
        wanted = self.wanted_half(query)
        if wanted is not None:
            fused *= np.where(self._chunk_half == wanted, 1.0 + self.settings.half_boost, 1.0)
        return fused

    def figure_matches(self, numbers: list[str]) -> np.ndarray:
        """Per passage, how many of these figures (16%, 983) it states."""
        matched = np.zeros(len(self.index.chunks), dtype=np.float64)
        for figure in set(numbers):
            matched[self._figure_rows.get(figure, [])] += 1
        return matched

    def wanted_half(self, query: Query) -> np.ndarray | None:
        """Per chunk, the half of its report the question asks about, resolved against that
        report's own year: a year equal to it is its plan, the year before its review; 今年/this
        year is the plan, 去年/last year the review; else the question's wording decides."""
        if query.years:
            year = query.years[0]
            return np.where(year == self._chunk_year, "plan", np.where(year == self._chunk_year - 1, "review", "-"))
        if query.relative in ("this", "last"):
            return np.full(len(self._chunk_half), "plan" if query.relative == "this" else "review")
        if query.half:
            return np.full(len(self._chunk_half), query.half)
        return None

    def search(self, question: str, k: int = 5, places: list[str] | None = None, retriever: str = "hybrid") -> list[Hit]:
        return self.search_query(self.analyze(question), k, places, retriever)

    def search_query(self, query: Query, k: int = 5, places: list[str] | None = None, retriever: str = "hybrid") -> list[Hit]:
        """Candidates for a question, best first. `places` (keys or names) overrides the places the
        question names."""
        n = len(self.index.chunks)
        wanted = self.place_keys(places) if places else query.places
        allowed = np.isin(self._place_of, wanted) if wanted else np.ones(n, dtype=bool)
        tokens = tokenize(query.keyword_text, self.index.tokenizer)
        if retriever not in RETRIEVERS:
            raise ValueError(f"retriever must be one of {RETRIEVERS}")
        dense = (self.dense_scores(query, allowed, self.settings.candidates if retriever == "hybrid" else k)
                 if retriever != "keyword" else np.zeros(n, dtype=np.float32))
        keyword = self.keyword_scores(tokens)
        if retriever == "dense":
            fused = dense.astype(np.float64)
        elif retriever == "keyword":
            fused = np.where(keyword > 0, keyword, -np.inf).astype(np.float64)
        else:
            fused = self._fuse(query, dense, keyword, allowed)
        fused = np.where(allowed, fused, -np.inf)

        order = [i for i in np.argsort(-fused, kind="stable")[:k] if np.isfinite(fused[i])]
        hits = []
        for rank, i in enumerate(order, start=1):
            chunk: Chunk = self.index.chunks[i]
            hits.append(Hit(
                rank=rank, score=round(float(fused[i]), 6), chunk_id=chunk.id, district=chunk.district,
                source=chunk.source, title=chunk.title, section=chunk.section, start=chunk.start, end=chunk.end,
                text=chunk.text, dense=round(float(dense[i]), 4), keyword=round(float(keyword[i]), 4),
                place=chunk.place or chunk.district, year=chunk.year, half=chunk.half,
            ))
        if self.reranker is not None:
            hits = self.reranker(query, hits)
            for rank, hit in enumerate(hits, start=1):
                hit.rank = rank
        return hits
