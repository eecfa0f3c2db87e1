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
import re
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


# ---- `qa bench --scale`: how the pipeline's own costs grow with the corpus ----------------------
#
# A synthetic corpus of N reports from the bundled ones: each copy keeps a source report's text
# under a new file name, gets another real place (reports/metadata.json) and has its figures
# scaled by (1 + k/1000) so no two copies share a text (the build skips identical texts). The
# model-free `hash` embedder keeps the model's cost out of the numbers. Load and search run in a
# fresh process per size, so its RSS is the loaded index's own.

SCALE_SIZES = (5, 50, 500, 5000)
_NUMBER_RE = re.compile(r"(?<![\d.])(\d+)(?:\.(\d+))?(?![\d.])")
_SCALE_TEMPLATES = (
    "{place}2023年地区生产总值是多少？",
    "{place}2024年地区生产总值增长目标是多少？",
    "{place}规上工业增加值增长多少？",
    "{place}城乡居民人均可支配收入增长多少？",
    "{place}2024年固定资产投资增长目标是多少？",
    "{place}社会消费品零售总额是多少？",
    "{place}一般公共预算收入是多少？",
    "{place}城镇新增就业多少人？",
    "{place}2023年粮食产量是多少？",
    "{place}今年的主要预期目标是什么？",
)


@dataclass
class ScaleRow:
    reports: int
    passages: int
    full_build_s: float
    add_one_s: float
    load_s: float
    rss_mb: float
    search_p50_ms: float
    search_p95_ms: float
    questions: int = 0


def scale_places(n: int, exclude: set[str] | None = None) -> list[str]:
    """n real district/county-level names (codes in order), each the only division of its name,
    none of them in `exclude` (the bundled reports' places). There are about 2,800: past that the
    list starts over (generate_corpus gives each round an earlier year, so place + year stay unique)."""
    from collections import Counter

    from .places import divisions

    places = list(divisions().values())
    count = Counter(p.name for p in places)
    exclude = exclude or set()
    names = [p.name for p in sorted(places, key=lambda p: p.code)
             if not p.code.endswith("00") and count[p.name] == 1 and p.name not in exclude
             and p.level in ("district", "county", "county-level city", "autonomous county", "banner")]
    return [names[i % len(names)] for i in range(n)]


def perturb_figures(text: str, factor: float) -> str:
    """Every figure times `factor`, written with its own number of decimals; years (1949–2100
    before 年, or any 4-digit 19xx/20xx) and single digits are kept, so dates and years still read."""

    def scale(m: re.Match) -> str:
        whole, frac = m.group(1), m.group(2)
        value = float(m.group(0))
        if frac is None and (len(whole) == 1 or (len(whole) == 4 and 1949 <= value <= 2100)):
            return m.group(0)
        if whole.startswith("0") and len(whole) > 1:  # codes such as 023 stay as written
            return m.group(0)
        if frac is None and 6 <= len(whole) <= 8 and 1949 <= int(whole[:4]) <= 2100:  # a date run together
            return m.group(0)
        decimals = len(frac) if frac else 0
        return f"{value * factor:.{decimals}f}"

    return _NUMBER_RE.sub(scale, text)


def generate_corpus(sources: list[Path], folder: Path, n: int, start: int = 0,
                    places: list[str] | None = None) -> dict[str, dict]:
    """Write copies start … start+n-1 of the source reports into `folder` and merge their
    place and year into its metadata.json; returns {file name: override} of the new copies.
    Copy i is source i % len(sources), figures scaled by 1 + (i // len(sources) + 1) / 1000, and
    has its source's year (as the report states it), earlier each time its place comes round again."""
    from .ingest import load_document

    folder.mkdir(parents=True, exist_ok=True)
    texts = [p.read_text(encoding="utf-8") for p in sources]
    years = [load_document(p).year for p in sources]
    if places is None:
        places = scale_places(start + n)
    meta_path = folder / "metadata.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.exists() else {}
    new = {}
    seen: dict[str, int] = {}
    for i in range(start):
        seen[places[i]] = seen.get(places[i], 0) + 1
    for i in range(start, start + n):
        source = i % len(sources)
        text = perturb_figures(texts[source], 1 + (i // len(sources) + 1) / 1000)
        name = f"synthetic-{i:05d}-{sources[source].stem}.txt"
        (folder / name).write_text(text, encoding="utf-8")
        rounds = seen.get(places[i], 0)  # a place used again (past ~2,800 copies): an earlier year
        seen[places[i]] = rounds + 1
        new[name] = {"district": places[i], "year": years[source] - rounds}
    meta.update(new)
    meta_path.write_text(json.dumps(meta, ensure_ascii=False, indent=1), encoding="utf-8")
    return new


def scale_questions(places: list[str], count: int = 50) -> list[str]:
    """`count` general questions, the templates filled with places spread over the corpus."""
    picks = [places[round(j * (len(places) - 1) / max(count // len(_SCALE_TEMPLATES), 1))]
             for j in range(max(count // len(_SCALE_TEMPLATES), 1))] if places else [""]
    out = [t.format(place=p) for p in picks for t in _SCALE_TEMPLATES]
    return (out * (count // max(len(out), 1) + 1))[:count]


def _rss_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def scale_load_and_search(settings: Settings, questions: list[str]) -> dict:
    """In this (fresh) process: time Service(settings) (load_index + Searcher), RSS after it,
    then Service.ask latencies over the questions (one warm-up question first, not counted)."""
    from .service import Service

    t0 = time.perf_counter()
    service = Service(settings)
    load_s = time.perf_counter() - t0
    rss = _rss_mb()
    service.ask(questions[0])  # warm-up: the embedder's first call, lazy caches
    latencies = [_timed_ms(service.ask, q)[1] for q in questions]
    return {"load_s": load_s, "rss_mb": rss, "search_p50_ms": statistics.median(latencies),
            "search_p95_ms": percentile(latencies, 0.95), "questions": len(latencies)}


def _scale_child(settings: Settings, questions: list[str]) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False, encoding="utf-8") as f:
        json.dump(questions, f, ensure_ascii=False)
    try:
        out = subprocess.run(
            [sys.executable, "-m", "qa", "bench", "--one-scale", f.name, "--index", str(settings.index_dir),
             "--reports", str(settings.reports_dir), "--embedder", settings.embedder],
            capture_output=True, text=True, check=False,
        )
    finally:
        Path(f.name).unlink(missing_ok=True)
    if out.returncode != 0:
        raise RuntimeError(f"scale load/search failed: {out.stderr.strip().splitlines()[-3:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_scale_size(settings: Settings, n: int, work: Path, embedder=None, questions: int = 50) -> ScaleRow:
    """One size: generate n reports in work/, full build, add one more (incremental), then load
    and search in a fresh process. `settings` gives the source reports and the embedder."""
    import gc

    from .ingest import load_document, report_files

    sources = [p for p in report_files(settings.reports_dir) if p.suffix == ".txt"]
    # The copies' places avoid the places of the reports they are copied from (read from them).
    originals = {load_document(p).district for p in sources}
    places = scale_places(n + 1, exclude=originals)
    reports, index_dir = work / f"reports-{n}", work / f"index-{n}"
    generate_corpus(sources, reports, n, places=places)
    bench = settings.with_(reports_dir=reports, index_dir=index_dir)
    embedder = embedder or get_embedder(settings.embedder)
    full = build_index(bench, full=True, embedder=embedder)
    generate_corpus(sources, reports, 1, start=n, places=places)
    added = build_index(bench, embedder=embedder)
    if len(added.added) != 1:
        raise RuntimeError(f"adding one report added {added.added}, skipped {added.skipped}")
    del full.documents[:], added.documents[:]
    gc.collect()
    measured = _scale_child(bench, scale_questions(places[:n + 1], questions))
    passages = full.chunks
    shutil.rmtree(reports, ignore_errors=True)
    shutil.rmtree(index_dir, ignore_errors=True)
    return ScaleRow(n, passages, full.seconds, added.seconds, measured["load_s"], measured["rss_mb"],
                    measured["search_p50_ms"], measured["search_p95_ms"], measured["questions"])


def run_scale(settings: Settings, sizes=SCALE_SIZES, questions: int = 50, say=None) -> list[ScaleRow]:
    """Every size in its own scratch folder, removed afterwards."""
    embedder = get_embedder(settings.embedder)  # loaded once, outside every timing
    rows = []
    with tempfile.TemporaryDirectory(prefix="qa-scale-") as tmp:
        for n in sizes:
            row = run_scale_size(settings, n, Path(tmp), embedder, questions)
            rows.append(row)
            if say:
                say(f"{n} reports: done")
    return rows


def scale_table(rows: list[ScaleRow]) -> str:
    lines = ["| reports | passages | full build s | add one s | load s | RSS MB | search p50 / p95 ms |",
             "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in rows:
        lines.append(f"| {r.reports} | {r.passages} | {r.full_build_s:.2f} | {r.add_one_s:.2f} | "
                     f"{r.load_s:.3f} | {r.rss_mb:.0f} | {r.search_p50_ms:.1f} / {r.search_p95_ms:.1f} |")
    return "\n".join(lines)


# ---- FAISS alone at a million vectors ----------------------------------------------------------

@dataclass
class FaissRow:
    kind: str
    vectors: int
    build_s: float
    search_p50_ms: float
    search_p95_ms: float
    recall_at_k: float  # share of flat's top k that this index also returns (1.0 for flat)
    k: int


def faiss_only(settings: Settings, n: int = 1_000_000, dim: int = 384, queries: int = 200, k: int = 200,
               seed: int = 0, cluster: int = 200, spread: float = 0.05) -> list[FaissRow]:
    """Dense search alone over n random unit vectors: flat (exact) and the approximate index
    segments use above settings.ann_min_rows (IVF or HNSW), one query at a time; its recall
    against flat at k."""
    import faiss

    rng = np.random.default_rng(seed)
    # Random vectors in random clusters of `cluster` (a report's ~100 passages and their copies
    # are near each other): with no structure at all, a vector's 200 "nearest" are arbitrary and
    # no index, nor any real corpus, looks like that.
    centres = rng.standard_normal((max(1, n // cluster), dim), dtype=np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    data = np.empty((n, dim), dtype=np.float32)
    for start in range(0, n, 100_000):
        part = slice(start, min(n, start + 100_000))
        size = part.stop - part.start
        data[part] = centres[rng.integers(0, len(centres), size)] + spread * rng.standard_normal((size, dim), dtype=np.float32)
    data /= np.linalg.norm(data, axis=1, keepdims=True)
    q = centres[rng.integers(0, len(centres), queries)] + spread * rng.standard_normal((queries, dim), dtype=np.float32)
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    rows, truth = [], []
    t0 = time.perf_counter()
    flat = faiss.IndexFlatIP(dim)
    flat.add(data)
    build = time.perf_counter() - t0
    latencies = []
    for i in range(queries):
        t = time.perf_counter()
        _, found = flat.search(q[i:i + 1], k)
        latencies.append((time.perf_counter() - t) * 1000)
        truth.append(set(found[0].tolist()))
    rows.append(FaissRow("flat", n, build, statistics.median(latencies), percentile(latencies, 0.95), 1.0, k))
    from .segment import dense_config, make_dense_index

    dense = dense_config(settings.with_(ann_min_rows=1))
    t0 = time.perf_counter()
    index, kind = make_dense_index(data, dense)
    build = time.perf_counter() - t0
    params = (faiss.SearchParametersHNSW(efSearch=max(dense.ef_search, k)) if kind == "hnsw"
              else faiss.SearchParametersIVF(nprobe=dense.ivf_nprobe))
    latencies, recall = [], []
    for i in range(queries):
        t = time.perf_counter()
        _, found = index.search(q[i:i + 1], k, params=params)
        latencies.append((time.perf_counter() - t) * 1000)
        recall.append(len(truth[i] & set(found[0].tolist())) / k)
    label = (f"hnsw M={dense.hnsw_m} efC={dense.ef_construction} efS={max(dense.ef_search, k)}" if kind == "hnsw"
             else f"ivf nlist={index.nlist} nprobe={dense.ivf_nprobe}")
    rows.append(FaissRow(label, n, build, statistics.median(latencies), percentile(latencies, 0.95),
                         statistics.mean(recall), k))
    return rows


def faiss_table(rows: list[FaissRow]) -> str:
    lines = ["| index | vectors | build s | search p50 / p95 ms | recall@k vs flat |", "| --- | ---: | ---: | ---: | ---: |"]
    for r in rows:
        lines.append(f"| {r.kind} | {r.vectors:,} | {r.build_s:.1f} | {r.search_p50_ms:.2f} / {r.search_p95_ms:.2f} | "
                     f"{r.recall_at_k:.3f} (k={r.k}) |")
    return "\n".join(lines)
