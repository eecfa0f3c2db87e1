"""Speed benchmark: full and incremental build time, warm search latency, and its floor.

The floor is the time to embed the question alone: no search can be faster than that.
"""

from __future__ import annotations

import shutil
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from .config import Settings
from .embed import get_embedder
from .search import Searcher, analyze
from .store import build_index, load_index


@dataclass
class BenchResult:
    reports: int
    chunks: int
    full_build_s: float
    incremental_add_s: float
    added_report: str
    search_p50_ms: float
    search_p95_ms: float
    floor_p50_ms: float
    floor_p95_ms: float
    questions: int


def _percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    if not values:
        return 0.0
    pos = (len(values) - 1) * q
    lo, hi = int(pos), min(int(pos) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (pos - lo)


def run_bench(settings: Settings, questions: list[str], k: int = 5, repeats: int = 3) -> BenchResult:
    """Build all reports from scratch, drop the last one and add it back (incremental), then
    time searches on the result."""
    files = sorted(p for p in settings.reports_dir.iterdir() if p.is_file() and not p.name.startswith("."))
    embedder = get_embedder(settings.embedder)  # loaded once, outside every timing
    with tempfile.TemporaryDirectory() as tmp:
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
        searcher = Searcher(load_index(bench.index_dir), bench, embedder=embedder)
        searcher.search(questions[0], k=k)  # warm-up
        search_ms, floor_ms = [], []
        for _ in range(repeats):
            for question in questions:
                query = analyze(question, searcher.districts)
                t0 = time.perf_counter()
                embedder.encode_query([query.keyword_text])
                floor_ms.append((time.perf_counter() - t0) * 1000)
                t0 = time.perf_counter()
                searcher.search(question, k=k)
                search_ms.append((time.perf_counter() - t0) * 1000)
        return BenchResult(
            reports=len(files),
            chunks=added.chunks,
            full_build_s=full.seconds,
            incremental_add_s=added.seconds,
            added_report=files[-1].name,
            search_p50_ms=statistics.median(search_ms),
            search_p95_ms=_percentile(search_ms, 0.95),
            floor_p50_ms=statistics.median(floor_ms),
            floor_p95_ms=_percentile(floor_ms, 0.95),
            questions=len(questions),
        )
