"""Retrieval: dense + keyword candidates of the passages and their fusion into Hits.

Each retriever returns only its best `candidates` passages (a few hundred), searched segment by
segment (qa/segment.py): dense (FAISS inner product; HNSW in big segments), keyword (BM25 over
character bigrams, touching only the postings of the question's tokens, with statistics over
all segments), and "exact figures" (passages that state the numbers the question names, e.g.
16%, 983亿元, looked up in the segments' figure tables). Fusion (reciprocal rank) and everything
after it run on those candidates only, so a question's cost does not grow with the corpus beyond
the retrieval itself. Places named in the question (qa/query.py) restrict every retriever inside
retrieval, so a filtered search never comes back short. `rerank` is the seam for a reranker: it
gets the query and the fused candidates and returns them reordered.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np

from .chunk import Chunk, page_in, page_label, span_label
from .config import Settings
from .embed import Embedder, get_embedder
from .query import IndexedPlace, Query, analyze
from .segment import dense_config
from .store import Index
from .tokens import tokenize

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
    page: int = 0  # printed page the passage starts on (PDFs, images); 0 for reports without pages
    page_end: int = 0
    breaks: str = ""  # where later pages start inside text (Chunk.breaks)

    def pages(self) -> str:
        """The cited sentence's page ("p. 12"), or the passage's when no sentence is chosen; ""
        for reports without pages."""
        if not self.page:
            return ""
        if self.sentence:
            return span_label(lambda offset: page_in(self.page, self.breaks, offset), self.sentence_start,
                              self.sentence_end)
        return page_label(self.page, self.page_end)

    def to_dict(self) -> dict:
        return asdict(self)


def _top(rows: np.ndarray, scores: np.ndarray, limit: int | None) -> tuple[np.ndarray, np.ndarray]:
    """The best `limit` (all when None) by descending score, ties by row."""
    if limit is not None and len(rows) > limit:
        keep = np.argpartition(-scores, limit - 1)[:limit]
        rows, scores = rows[keep], scores[keep]
    order = np.lexsort((rows, -scores))
    return rows[order], scores[order]


def indexed_places(index: Index) -> list[IndexedPlace]:
    """The places of the indexed reports, with the names questions may use for them."""
    seen: dict[str, IndexedPlace] = {}
    for doc in index.reports.values():
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


def _trim_dict(cache: dict, size: int) -> None:
    if len(cache) > size:
        cache.pop(next(iter(cache)))


class Searcher:
    """Loaded once (per process or per web app) and reused for every question."""

    def __init__(self, index: Index, settings: Settings, embedder: Embedder | None = None,
                 reranker: Reranker | None = None):
        self.index = index
        self.settings = settings
        self._embedder = embedder
        self.reranker = reranker
        self.places = indexed_places(index)
        self._dense = dense_config(settings)
        # One question is one query vector: FAISS's threads only wait for each other (and for every
        # other process) on it. Measured on 50,000 vectors under load, flat search p50 4 ms on one
        # thread vs 48 ms on two (scripts/ann_bench.py). Questions run in parallel threads anyway.
        import faiss

        faiss.omp_set_num_threads(1)
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
        """In how many live passages a string occurs (for choosing dictionary translations), read
        from the keyword postings: the passages that hold every bigram of it. "" counts them all."""
        count = self._occurs.get(chinese)
        if count is None:
            count = self._occurs[chinese] = self._count_passages(chinese) if chinese else int(self.index.live.sum())
            _trim_dict(self._occurs, 100_000)
        return count

    def _count_passages(self, text: str) -> int:
        tokens = list(dict.fromkeys(tokenize(text, self.index.tokenizer)))
        if not tokens:
            return 0
        total = 0
        for offset, segment in zip(self.index.offsets, self.index.segments):
            if len(tokens) == 1 and len(tokens[0]) == 1 and "\u3400" <= tokens[0] <= "\u9fff":
                # one Chinese character is a token only where it stands alone: look inside bigrams
                found = [segment.postings(t) for t in segment.tokens_with(tokens[0])]
                rows = np.unique(np.concatenate(found)) if found else np.zeros(0, np.int64)
            else:
                lists = sorted((segment.postings(t) for t in tokens), key=len)
                rows = lists[0]
                for other in lists[1:]:
                    if not len(rows):
                        break
                    rows = np.intersect1d(rows, other, assume_unique=True)
            total += int(self.index.live[offset + rows].sum()) if len(rows) else 0
        return total

    def report_years(self, query: Query, places: list[str] | None = None) -> list[int]:
        """Years of the reports a question is about (all reports when it names no place)."""
        keys = set(self.place_keys(places) if places else query.places)
        return sorted({d["year"] for d in self.index.reports.values()
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
            self._embedder = get_embedder(self.index.manifest["embedder"], threads=self.settings.query_threads or None)
        return self._embedder

    def query_vector(self, query: Query) -> np.ndarray:
        """The question's embedding (1 × dim). English questions also carry their Chinese report
        terms, which the passages share."""
        text = query.keyword_text if self.settings.expand_dense else query.text
        # An English question: its own embedding beside that of its report-term translation (mean)
        dual = self.settings.dual_dense and query.lang == "en" and bool(query.expansion)
        key = ("\x00dual\x00" if dual else "") + text
        with self._model_lock:
            if key not in self._query_vectors:
                if dual:
                    v = self.embedder.encode_query([query.text, text])
                    m = v.mean(axis=0, keepdims=True)
                    self._query_vectors[key] = (m / np.linalg.norm(m)).astype(np.float32)
                else:
                    self._query_vectors[key] = self.embedder.encode_query([text])
                _trim(self._query_vectors, 64)
            return self._query_vectors[key]

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

    def allowed(self, keys: list[str] | None) -> np.ndarray | None:
        """Rows a search may return: live rows of these places (None = every row, nothing deleted)."""
        live = self.index.live
        if not keys:
            return None if live.all() else live
        wanted = set(keys)
        ids = [i for i, key in enumerate(self.index.place_keys) if key in wanted]
        return live & np.isin(self.index.place_of, ids)

    def dense_candidates(self, query: Query, allowed: np.ndarray | None, limit: int | None
                         ) -> tuple[np.ndarray, np.ndarray]:
        """(global rows, cosines) of the best `limit` allowed passages (all when None)."""
        vector = self.query_vector(query)
        rows, scores = [np.zeros(0, np.int64)], [np.zeros(0, np.float32)]
        for offset, segment in zip(self.index.offsets, self.index.segments):
            part = None if allowed is None else allowed[offset:offset + segment.rows]
            if part is not None and part.all():
                part = None
            k = segment.rows if limit is None else limit
            r, sc = segment.dense(vector, k, part, self._dense,
                                  self.settings.filter_exact_max if limit is not None else segment.rows)
            rows.append(r.astype(np.int64) + offset)
            scores.append(sc.astype(np.float32))
        return _top(np.concatenate(rows), np.concatenate(scores), limit)

    def keyword_candidates(self, tokens: list[str], allowed: np.ndarray | None, limit: int | None
                           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(global rows, BM25) of the best `limit` allowed passages with a positive score, and
        the score of every row (for showing a hit's BM25 even when dense found it)."""
        scores = self.keyword_scores(tokens)
        ok = scores > 0
        if allowed is not None:
            ok &= allowed
        rows = np.flatnonzero(ok)
        top_rows, top_scores = _top(rows, scores[rows], limit)
        return top_rows, top_scores, scores

    def keyword_scores(self, tokens: list[str]) -> np.ndarray:
        """BM25 of every passage (0 for deleted ones); only the tokens' postings are read."""
        return self.index.keyword_scores(tokens)

    def dense_scores(self, query: Query, allowed: np.ndarray | None = None, limit: int | None = None) -> np.ndarray:
        """Cosine of the question and every passage, -1 outside the best `limit` allowed ones."""
        rows, scores = self.dense_candidates(query, allowed, limit)
        out = np.full(self.index.rows, -1.0, dtype=np.float32)
        out[rows] = scores
        return out

    def figure_candidates(self, numbers: list[str], allowed: np.ndarray | None, limit: int
                          ) -> tuple[np.ndarray, np.ndarray]:
        """(global rows, how many of these figures each states), most figures first, then by row."""
        found: list[np.ndarray] = []
        for offset, segment in zip(self.index.offsets, self.index.segments):
            pairs = segment.figure_rows(sorted(set(numbers)))
            if pairs:
                found.append(np.array([r for _, r in pairs], dtype=np.int64) + offset)
        if not found:
            return np.zeros(0, np.int64), np.zeros(0)
        rows, counts = np.unique(np.concatenate(found), return_counts=True)
        if allowed is not None:
            keep = allowed[rows]
            rows, counts = rows[keep], counts[keep]
        return _top(rows, counts.astype(np.float64), limit)

    def figure_matches(self, numbers: list[str]) -> np.ndarray:
        """Per passage, how many of these figures (16%, 983) it states."""
        matched = np.zeros(self.index.rows, dtype=np.float64)
        rows, counts = self.figure_candidates(numbers, None, None)
        matched[rows] = counts
        return matched

    def wanted_half(self, query: Query, rows: np.ndarray) -> np.ndarray | None:
        """Per row, the half of its report the question asks about, resolved against that
        report's own year: a year equal to it is its plan, the year before its review; 今年/this
        year is the plan, 去年/last year the review; else the question's wording decides."""
        if query.years:
            year, years = query.years[0], self.index.year_of[rows]
            return np.where(year == years, "plan", np.where(year == years - 1, "review", "-"))
        if query.relative in ("this", "last"):
            return np.full(len(rows), "plan" if query.relative == "this" else "review")
        if query.half:
            return np.full(len(rows), query.half)
        return None

    def _fuse(self, query: Query, rankings: list[tuple[np.ndarray, float]]) -> tuple[np.ndarray, np.ndarray]:
        """Reciprocal rank fusion of ranked candidate lists (rows best first, weight): (rows, fused)."""
        k0 = self.settings.rrf_k
        fused: dict[int, float] = {}
        for rows, weight in rankings:
            for rank, row in enumerate(rows.tolist(), start=1):
                fused[row] = fused.get(row, 0.0) + weight / (k0 + rank)
        rows = np.fromiter(fused, dtype=np.int64, count=len(fused))
        scores = np.fromiter(fused.values(), dtype=np.float64, count=len(fused))
        wanted = self.wanted_half(query, rows)
        if wanted is not None:
            scores = scores * np.where(self.index.half_of[rows] == wanted, 1.0 + self.settings.half_boost, 1.0)
        return rows, scores

    def search(self, question: str, k: int = 5, places: list[str] | None = None, retriever: str = "hybrid") -> list[Hit]:
        return self.search_query(self.analyze(question), k, places, retriever)

    def search_query(self, query: Query, k: int = 5, places: list[str] | None = None, retriever: str = "hybrid") -> list[Hit]:
        """Candidates for a question, best first. `places` (keys or names) overrides the places the
        question names."""
        if retriever not in RETRIEVERS:
            raise ValueError(f"retriever must be one of {RETRIEVERS}")
        allowed = self.allowed(self.place_keys(places) if places else query.places)
        tokens = tokenize(query.keyword_text, self.index.tokenizer)
        limit = self.settings.candidates or None  # 0: exhaustive, every passage ranked
        dense_rows, dense = (self.dense_candidates(query, allowed, limit if retriever == "hybrid" else k)
                             if retriever != "keyword" else (np.zeros(0, np.int64), np.zeros(0, np.float32)))
        keyword_rows, keyword, all_keyword = self.keyword_candidates(tokens, allowed, limit)
        if retriever == "dense":
            rows, fused = dense_rows, dense.astype(np.float64)
        elif retriever == "keyword":
            rows, fused = keyword_rows, keyword.astype(np.float64)
        else:
            rankings = [(dense_rows, self.settings.dense_weight), (keyword_rows, self.settings.keyword_weight)]
            if query.numbers:
                rankings.append((self.figure_candidates(query.numbers, allowed, limit or self.index.rows)[0], 1.0))
            rows, fused = self._fuse(query, rankings)
        rows, fused = _top(rows, fused, k)
        cosine = dict(zip(dense_rows.tolist(), dense.tolist()))
        chunks = self.index.chunk_rows(rows.tolist())
        hits = []
        for rank, (i, score) in enumerate(zip(rows.tolist(), fused.tolist()), start=1):
            chunk: Chunk = chunks[i]
            hits.append(Hit(
                rank=rank, score=round(float(score), 6), chunk_id=chunk.id, district=chunk.district,
                source=chunk.source, title=chunk.title, section=chunk.section, start=chunk.start, end=chunk.end,
                text=chunk.text, dense=round(float(cosine.get(i, -1.0)), 4), keyword=round(float(all_keyword[i]), 4),
                place=chunk.place or chunk.district, year=chunk.year, half=chunk.half,
                page=chunk.page, page_end=chunk.page_end, breaks=chunk.breaks,
            ))
        if self.reranker is not None:
            hits = self.reranker(query, hits)
            for rank, hit in enumerate(hits, start=1):
                hit.rank = rank
        return hits
