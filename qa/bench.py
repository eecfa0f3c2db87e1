"""`qa bench`: this project against the usual recipes, side by side on the same machine and data.

Systems, each run in its own process so its peak memory is its own:
  project    this pipeline (cleaning, sectioned chunks with context, hybrid dense + BM25 + figures)
  langchain  the plain LangChain recipe: RecursiveCharacterTextSplitter (defaults: 1000/200 → here
             500/50 characters, the usual size for Chinese) + FAISS + the same embedder; no context,
             no keyword index, no query analysis
  bm25       keyword-only BM25 (bm25s over jieba words) on the same plain chunks

The recipes get the cleaned report text (Simplified, de-noised), so the comparison measures
retrieval, not cleaning. Quality is judged exactly as `qa eval` judges it (evidence spans).
The floor is the time to embed the question alone: no dense search can be faster.
"""

from __future__ import annotations

import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from .config import Settings
from .embed import get_embedder
from .evaluate import evidence_spans, is_relevant, load_items
from .search import Searcher
from .store import build_index, load_index

SYSTEMS = ("project", "langchain", "bm25")


@dataclass
class BenchRow:
    system: str
    recall_at_5: float
    mrr: float
    search_p50_ms: float
    search_p95_ms: float
    floor_p50_ms: float | None
    build_s: float
    peak_mb: float
    chunks: int
    incremental_add_s: float | None = None


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    if not values:
        return 0.0
    pos = (len(values) - 1) * q
    lo, hi = int(pos), min(int(pos) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (pos - lo)


def _timed_ms(fn, *args) -> tuple[object, float]:
    t0 = time.perf_counter()
    result = fn(*args)
    return result, (time.perf_counter() - t0) * 1000


def _score(items, documents: dict, search, embed_query=None) -> tuple[float, float, list[float], list[float]]:
    """Recall@5 and MRR@10 over the answerable items, search latencies and query-embedding
    latencies (the floor) in ms, each timed on its own."""
    found5, rr, latencies, floor = 0, 0.0, [], []
    answerable = [i for i in items if i.answerable]
    for item in answerable:
        if embed_query is not None:
            floor.append(_timed_ms(embed_query, item.question)[1])
        hits, ms = _timed_ms(search, item.question)  # [(source, start, end)] best first, 10 of them
        latencies.append(ms)
        spans = evidence_spans(item, documents)
        ranks = [r for r, (source, start, end) in enumerate(hits, start=1) if is_relevant(source, start, end, spans)]
        if ranks:
            found5 += ranks[0] <= 5
            rr += 1 / ranks[0]
    return found5 / len(answerable), rr / len(answerable), latencies, floor


class _PlainChunks:
    """The recipe's chunks: RecursiveCharacterTextSplitter on each cleaned report, with start index."""

    def __init__(self, documents: dict, chunk_size: int = 500, chunk_overlap: int = 50):
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        splitter = RecursiveCharacterTextSplitter(chunk_size=chunk_size, chunk_overlap=chunk_overlap, add_start_index=True)
        self.rows = []  # (source, start, end, text)
        for doc in documents.values():
            for piece in splitter.create_documents([doc["text"]]):
                start = piece.metadata["start_index"]
                self.rows.append((doc["source"], start, start + len(piece.page_content), piece.page_content))


def _run_recipe(system: str, settings: Settings, documents: dict, items) -> BenchRow:
    started = time.perf_counter()
    chunks = _PlainChunks(documents)
    texts = [r[3] for r in chunks.rows]
    embed_query = None
    if system == "langchain":
        import faiss

        embedder = get_embedder(settings.embedder)
        vectors = embedder.encode_document(texts)
        index = faiss.IndexFlatIP(vectors.shape[1])
        index.add(vectors)
        build_s = time.perf_counter() - started

        def embed_query(question):
            return embedder.encode_query([question])

        def search(question):
            _, rows = index.search(embed_query(question), 10)
            return [chunks.rows[i][:3] for i in rows[0] if i >= 0]
    else:
        import bm25s

        from .tokens import tokenize

        retriever = bm25s.BM25()
        retriever.index([tokenize(t, "jieba") or [""] for t in texts], show_progress=False)
        vocab = retriever.vocab_dict
        build_s = time.perf_counter() - started

        def search(question):
            tokens = [t for t in tokenize(question, "jieba") if t in vocab]
            if not tokens:
                return []
            scores = retriever.get_scores(tokens)
            return [chunks.rows[i][:3] for i in np.argsort(-scores, kind="stable")[:10] if scores[i] > 0]

    search(items[0].question)  # warm-up
    recall, mrr, latencies, floor = _score(items, documents, search, embed_query)
    return BenchRow(system, recall, mrr, statistics.median(latencies), percentile(latencies, 0.95),
                    statistics.median(floor) if floor else None, build_s, 0.0, len(texts))


def _run_project(settings: Settings, items) -> tuple[BenchRow, dict]:
    """Full build in a scratch folder, then drop the last report and add it back (incremental)."""
    files = sorted(p for p in settings.reports_dir.iterdir() if p.is_file() and not p.name.startswith("."))
    embedder = get_embedder(settings.embedder)  # loaded once, outside every timing
    tmp = tempfile.mkdtemp()
    try:
        reports = Path(tmp) / "reports"
        reports.mkdir()
        for f in files:
            shutil.copy(f, reports / f.name)
        bench = settings.with_(reports_dir=reports, index_dir=Path(tmp) / "index")
        full = build_index(bench, full=True, embedder=embedder)
        (reports / files[-1].name).unlink()
        build_index(bench, embedder=embedder)
        shutil.copy(files[-1], reports / files[-1].name)
        added = build_index(bench, embedder=embedder)
        index = load_index(bench.index_dir)
        searcher = Searcher(index, bench, embedder=embedder)
        def embed_query(question):  # what the search embeds: the question with its glossary terms
            return embedder.encode_query([searcher.analyze(question).keyword_text])

        def search(question):
            return [(h.source, h.start, h.end) for h in searcher.search(question, k=10)]

        searcher.search(items[0].question, k=10)  # warm-up
        recall, mrr, latencies, floor = _score(items, index.documents, search, embed_query)
        row = BenchRow("project", recall, mrr, statistics.median(latencies), percentile(latencies, 0.95),
                       statistics.median(floor), full.seconds, 0.0, full.chunks, added.seconds)
        return row, index.documents
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run_one(system: str, settings: Settings, data: Path) -> BenchRow:
    """One system in this process (called in a child process by run_all)."""
    items = load_items(data)
    if system == "project":
        row, _ = _run_project(settings, items)
    else:
        documents = load_index(settings.index_dir).documents  # the same cleaned text the project indexed
        row = _run_recipe(system, settings, documents, items)
    row.peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return row


def run_all(settings: Settings, data: Path, systems=SYSTEMS) -> list[BenchRow]:
    """Each system in a fresh process, one after the other, so timings and memory don't mix."""
    rows = []
    for system in systems:
        out = subprocess.run(
            [sys.executable, "-m", "qa", "bench", "--one", system, "--data", str(data),
             "--index", str(settings.index_dir), "--reports", str(settings.reports_dir), "--embedder", settings.embedder],
            capture_output=True, text=True, check=False,
        )
        if out.returncode != 0:
            raise RuntimeError(f"bench of {system} failed: {out.stderr.strip().splitlines()[-1:]}")
        rows.append(BenchRow(**json.loads(out.stdout.strip().splitlines()[-1])))
    return rows


def row_json(row: BenchRow) -> str:
    return json.dumps(asdict(row))
