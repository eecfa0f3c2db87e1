"""One segment of the index: an immutable folder holding some reports' passages, searchable alone.

The index is a list of segments (qa/store.py), as in Lucene: a full build writes one segment, an
added report goes into a new small segment, and small segments are merged later. A segment is
never changed once written; a removed or changed report is only marked deleted in the manifest
(its rows are skipped at search time) until a merge rewrites the segment without it.

    segments/<name>/chunks.sqlite   documents (with text), chunks, and figure → row; read on demand
    segments/<name>/columns.npy     per row: document number, year, half (0 "", 1 review, 2 plan)
    segments/<name>/vectors.faiss   flat below ann_min_rows rows, else IVF (or HNSW); inner product
    segments/<name>/bm25/           bm25s index (its score matrix memory-mapped at load)

Keyword scores need collection statistics over all segments (Lucene does the same): bm25s stores
idf(t) × tf-part per posting, so a segment's postings are rescaled by idf_all(t) / idf_segment(t)
(`Segment.postings`), with N and df summed over the segments. With one segment the factor is 1
and the scores are bm25s's own.
"""

from __future__ import annotations

import json
import math
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .chunk import Chunk
from .tokens import numbers_in, tokenize

HALVES = ("", "review", "plan")
CHUNK_COLUMNS = ("id", "source", "district", "year", "title", "section", "start", "end", "text", "half", "place",
                 "english", "page", "page_end", "breaks")
SCHEMA = f"""
CREATE TABLE documents (doc INTEGER PRIMARY KEY, source TEXT UNIQUE NOT NULL, meta TEXT NOT NULL, text TEXT NOT NULL);
CREATE TABLE chunks (row INTEGER PRIMARY KEY, doc INTEGER NOT NULL, {', '.join(f'"{c}"' for c in CHUNK_COLUMNS)});
CREATE TABLE figures (figure TEXT NOT NULL, row INTEGER NOT NULL);
"""


@dataclass(frozen=True)
class DenseConfig:
    """Which FAISS index a segment gets: exact flat below ann_min_rows rows, else `ann` ("ivf":
    IndexIVFFlat with nlist = ivf_nlist_factor × √rows, searched with ivf_nprobe lists; or
    "hnsw": IndexHNSWFlat). The choice and its parameters: see Settings in qa/config.py."""
    ann_min_rows: int = 50_000
    ann: str = "ivf"
    ivf_nlist_factor: float = 4.0
    ivf_nprobe: int = 64
    hnsw_m: int = 32
    ef_construction: int = 80
    ef_search: int = 128


def make_dense_index(matrix: np.ndarray, dense: DenseConfig, seed: int = 0):
    """(FAISS index holding the rows of `matrix`, its kind: "flat", "ivf" or "hnsw")."""
    import faiss

    n, dim = matrix.shape
    if n < dense.ann_min_rows:
        index, kind = faiss.IndexFlatIP(dim), "flat"
    elif dense.ann == "hnsw":
        index, kind = faiss.IndexHNSWFlat(dim, dense.hnsw_m, faiss.METRIC_INNER_PRODUCT), "hnsw"
        index.hnsw.efConstruction = dense.ef_construction
    else:
        nlist = max(1, min(int(dense.ivf_nlist_factor * math.sqrt(n)), n // 39))
        index, kind = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, nlist, faiss.METRIC_INNER_PRODUCT), "ivf"
        # k-means on a sample of 50 rows per list is what FAISS itself caps training at (max 256)
        sample = np.random.default_rng(seed).choice(n, min(n, 50 * nlist), replace=False)
        index.train(matrix[np.sort(sample)])
    index.add(matrix)
    if kind == "ivf":
        index.make_direct_map()  # row → vector, for exact search over a filter's few rows and merges
    return index, kind


def dense_config(settings) -> DenseConfig:
    """The dense-index part of the Settings (qa/config.py)."""
    return DenseConfig(ann_min_rows=settings.ann_min_rows, ann=settings.ann, ivf_nlist_factor=settings.ivf_nlist_factor,
                       ivf_nprobe=settings.ivf_nprobe, hnsw_m=settings.hnsw_m,
                       ef_construction=settings.hnsw_ef_construction, ef_search=settings.hnsw_ef_search)


def _bm25s():
    import logging

    import bm25s

    logging.getLogger("bm25s").setLevel(logging.WARNING)  # bm25s sets DEBUG on import
    return bm25s


def build_bm25(texts: list[str], tokenizer: str):
    """A bm25s index of the texts. Each distinct token is kept once in memory (a big build holds
    the tokens of every passage at once: 480,000 passages × ~250 bigrams)."""
    bm25 = _bm25s().BM25()
    canonical: dict[str, str] = {}
    corpus = [[canonical.setdefault(t, t) for t in tokenize(text, tokenizer)] or [""] for text in texts]
    bm25.index(corpus, show_progress=False)
    return bm25


def write_segment(folder: Path, documents: list[dict], chunks: dict[str, list[Chunk]],
                  vectors: dict[str, np.ndarray], tokenizer: str, dense: DenseConfig,
                  bm25_builder=build_bm25) -> dict:
    """Write the documents (records with "text"), their chunks and vectors as one segment; the
    segment's manifest record (rows, sources, dense kind)."""
    import faiss

    folder.mkdir(parents=True)
    order = [d["source"] for d in documents]
    rows = [c for s in order for c in chunks[s]]
    matrix = np.vstack([vectors[s] for s in order]).astype(np.float32)
    vindex, kind = make_dense_index(matrix, dense)
    faiss.write_index(vindex, str(folder / "vectors.faiss"))
    bm25_builder([c.context() for c in rows], tokenizer).save(str(folder / "bm25"))
    doc_of = {s: i for i, s in enumerate(order)}
    columns = np.array([(doc_of[c.source], c.year, HALVES.index(c.half) if c.half in HALVES else 0) for c in rows],
                       dtype=np.int32).reshape(-1, 3)
    np.save(folder / "columns.npy", columns)
    db = sqlite3.connect(folder / "chunks.sqlite")
    try:
        db.executescript(SCHEMA)
        db.executemany("INSERT INTO documents VALUES (?, ?, ?, ?)",
                       [(i, d["source"], json.dumps({k: v for k, v in d.items() if k != "text"}, ensure_ascii=False),
                         d["text"]) for i, d in enumerate(documents)])
        db.executemany(f"INSERT INTO chunks VALUES ({', '.join('?' * (len(CHUNK_COLUMNS) + 2))})",
                       [(r, doc_of[c.source], *(getattr(c, k) for k in CHUNK_COLUMNS)) for r, c in enumerate(rows)])
        db.executemany("INSERT INTO figures VALUES (?, ?)",
                       [(f, r) for r, c in enumerate(rows) for f in sorted(set(numbers_in(c.text)))])
        db.execute("CREATE INDEX figures_by_figure ON figures (figure)")
        db.commit()
    finally:
        db.close()
    record = {"name": folder.name, "rows": len(rows), "dense": kind, "sources": order}
    (folder / "segment.json").write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    return record


class Segment:
    """A written segment, opened for search: the vector index and the keyword postings in memory
    (the score matrix memory-mapped), chunk and document text read from SQLite when asked for."""

    def __init__(self, folder: Path, record: dict):
        import faiss

        self.folder = folder
        self.name = record["name"]
        self.rows = int(record["rows"])
        self.dense_kind = record.get("dense", "flat")
        # An IVF index is memory-mapped: loading it reads the coarse centroids only (0.004 s and a
        # few MB for 1,000,000 vectors against 2.4 s and 1.5 GB read whole; scripts/ann_bench.py),
        # and a question touches only the lists it probes.
        flags = faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY if self.dense_kind == "ivf" else 0
        self.vectors = faiss.read_index(str(folder / "vectors.faiss"), flags)
        self.bm25 = _bm25s().BM25.load(str(folder / "bm25"), mmap=True)
        self.vocab: dict[str, int] = self.bm25.vocab_dict
        self._indptr = np.asarray(self.bm25.scores["indptr"])
        self.columns = np.load(folder / "columns.npy")
        # Opened now and kept open: a newer build may delete this folder while a running app still
        # answers from it, and an open file stays readable after it is unlinked (as the memory-
        # mapped postings do). Questions run in threads, so queries take turns on the connection.
        uri = f"{(folder / 'chunks.sqlite').resolve().as_uri()}?mode=ro&immutable=1"
        self._db = sqlite3.connect(uri, uri=True, check_same_thread=False)
        self._db_lock = threading.Lock()
        self.sources = [s for (s,) in self._query("SELECT source FROM documents ORDER BY doc")]

    def _query(self, sql: str, args=()) -> list[tuple]:
        with self._db_lock:
            return self._db.execute(sql, args).fetchall()

    # -- text, read on demand ----------------------------------------------------------------------
    def chunks(self, rows: list[int]) -> dict[int, Chunk]:
        out = {}
        for start in range(0, len(rows), 500):
            part = [int(r) for r in rows[start:start + 500]]
            sql = (f"SELECT row, {', '.join(f'{chr(34)}{c}{chr(34)}' for c in CHUNK_COLUMNS)} FROM chunks "
                   f"WHERE row IN ({', '.join('?' * len(part))})")
            for row, *values in self._query(sql, part):
                out[row] = Chunk(**dict(zip(CHUNK_COLUMNS, values)))
        return out

    def iter_chunks(self):
        sql = f"SELECT row, {', '.join(f'{chr(34)}{c}{chr(34)}' for c in CHUNK_COLUMNS)} FROM chunks ORDER BY row"
        last = -1
        while True:  # in pages, so the lock is not held across the caller's work
            page = self._query(f"{sql.replace(' ORDER BY row', '')} WHERE row > ? ORDER BY row LIMIT 2000", (last,))
            if not page:
                return
            for row, *values in page:
                yield row, Chunk(**dict(zip(CHUNK_COLUMNS, values)))
            last = page[-1][0]

    def document(self, source: str) -> dict | None:
        found = next(iter(self._query("SELECT meta, text FROM documents WHERE source = ?", (source,))), None)
        return {**json.loads(found[0]), "text": found[1]} if found else None

    def figure_rows(self, figures: list[str]) -> list[tuple[str, int]]:
        """(figure, row) for the passages that state any of these figures."""
        if not figures:
            return []
        sql = f"SELECT figure, row FROM figures WHERE figure IN ({', '.join('?' * len(figures))})"
        return self._query(sql, list(figures))

    # -- dense ------------------------------------------------------------------------------------
    def dense(self, vector: np.ndarray, k: int, allowed: np.ndarray | None, dense: DenseConfig,
              exact_max: int) -> tuple[np.ndarray, np.ndarray]:
        """(rows, cosines) of the best k allowed rows (allowed: bool per row, None = all). A filter
        that leaves few rows is searched exactly over just those rows, so it never comes back
        short; otherwise the index is searched with the filter inside it."""
        import faiss

        if allowed is not None:
            ids = np.flatnonzero(allowed)
            if len(ids) == 0:
                return np.zeros(0, np.int64), np.zeros(0, np.float32)
            if len(ids) <= exact_max or k >= len(ids):
                matrix = self._storage().reconstruct_batch(ids.astype(np.int64))
                scores = matrix @ vector[0]
                top = np.argsort(-scores, kind="stable")[:k]
                return ids[top], scores[top]
        k = min(k, self.rows)
        params = None
        allowed_rows = self.rows if allowed is None else int(allowed.sum())
        if self.dense_kind == "hnsw":
            params = faiss.SearchParametersHNSW(efSearch=max(dense.ef_search, k))
        elif self.dense_kind == "ivf":
            # a filter keeping a share f of the rows leaves ~f of each probed list: probe 1/f as many
            nprobe = min(self.vectors.nlist, math.ceil(dense.ivf_nprobe * self.rows / max(allowed_rows, 1)))
            params = faiss.SearchParametersIVF(nprobe=nprobe)
        if allowed is not None:
            selector = faiss.IDSelectorBatch(np.flatnonzero(allowed).astype(np.int64))
            if params is None:
                params = faiss.SearchParameters(sel=selector)
            else:
                params.sel = selector
        scores, rows = self.vectors.search(vector, k, params=params)
        valid = rows[0] >= 0
        if valid.sum() < min(k, allowed_rows) and allowed is not None:  # short: search the rows exactly
            return self.dense(vector, k, allowed, dense, exact_max=self.rows)
        return rows[0][valid], scores[0][valid]

    def _storage(self):
        import faiss

        return faiss.downcast_index(self.vectors.storage) if self.dense_kind == "hnsw" else self.vectors

    def all_vectors(self) -> np.ndarray:
        return self._storage().reconstruct_n(0, self.rows)

    # -- keyword ----------------------------------------------------------------------------------
    def df(self, token: str) -> int:
        tid = self.vocab.get(token)
        return 0 if tid is None else int(self._indptr[tid + 1] - self._indptr[tid])

    def keyword(self, weighted: list[tuple[str, float]]) -> np.ndarray:
        """BM25 of every row of this segment for (token, idf factor) pairs: only the postings of
        the query's tokens are read."""
        scores = np.zeros(self.rows, dtype=np.float32)
        data, indices = self.bm25.scores["data"], self.bm25.scores["indices"]
        for token, factor in weighted:
            tid = self.vocab.get(token)
            if tid is None:
                continue
            a, b = int(self._indptr[tid]), int(self._indptr[tid + 1])
            values = np.asarray(data[a:b])
            scores[np.asarray(indices[a:b])] += values if factor == 1.0 else values * np.float32(factor)
        return scores

    def postings(self, token: str) -> np.ndarray:
        tid = self.vocab.get(token)
        if tid is None:
            return np.zeros(0, np.int64)
        return np.asarray(self.bm25.scores["indices"][int(self._indptr[tid]):int(self._indptr[tid + 1])])

    def tokens_with(self, char: str) -> list[str]:
        """Vocabulary tokens that contain a character (a one-character string is inside them)."""
        return [t for t in self.vocab if char in t]


def idf(df: int, n: int) -> float:
    """bm25s's (Lucene's) idf."""
    return math.log(1 + (n - df + 0.5) / (df + 0.5))
