"""The one object app.py and cli.py call: the loaded index and its searcher, asking, adding
reports, rebuilding and reloading — with a lock so a question never meets a half-swapped index
and two builds never run at once in one process."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from .answer import Answer, make_answer
from .config import Settings
from .embed import Embedder
from .errors import QAError, ReportError
from .ingest import accept_upload
from .query import Query, resolve_followup
from .search import Searcher
from .store import BuildReport, build_index, index_status, load_index


class Service:
    def __init__(self, settings: Settings, embedder: Embedder | None = None, load: bool = True):
        self.settings = settings
        self._lock = threading.Lock()  # questions and the index swap
        self._build_lock = threading.Lock()  # one build at a time
        self._embedder = embedder
        self.searcher: Searcher | None = None
        if load:
            self.reload()

    # -- the index ------------------------------------------------------------------------

    def _loaded_embedder(self) -> Embedder | None:
        """The model already in memory, if any: reloads and builds reuse it rather than load it again."""
        return (self.searcher.loaded_embedder if self.searcher is not None else None) or self._embedder

    def reload(self) -> None:
        searcher = Searcher(load_index(self.settings.index_dir), self.settings, embedder=self._loaded_embedder())
        with self._lock:
            self.searcher = searcher

    def warm(self) -> None:
        """Load the embedding model now rather than on the first question."""
        self.searcher.embedder  # noqa: B018

    @property
    def places(self):
        return self.searcher.places

    @property
    def districts(self) -> list[str]:
        return self.searcher.districts

    def documents(self) -> dict[str, dict]:
        return self.searcher.index.documents

    def chunk_counts(self) -> Counter:
        return Counter(c.source for c in self.searcher.index.chunks)

    def status(self) -> str:
        return index_status(self.settings)

    def build(self, full: bool = False, on_message: Callable[[str], None] | None = None,
              on_embed_start: Callable[[int], None] | None = None,
              on_progress: Callable[[int], None] | None = None) -> BuildReport:
        with self._build_lock:
            embedder = self._loaded_embedder()
            if embedder is not None and embedder.spec != self.settings.embedder:
                embedder = None
            return build_index(self.settings, full=full, embedder=embedder, on_message=on_message,
                               on_embed_start=on_embed_start, on_progress=on_progress)

    def add_reports(self, files: list[tuple[Path, str]], on_embed_start=None, on_progress=None
                    ) -> tuple[list[str], list[str], BuildReport | None]:
        """Validate and copy uploads, index them incrementally, reload. Returns (added names,
        errors, build report); a file that can't be read is refused and the index stays as it was."""
        max_bytes = self.settings.max_upload_mb * 1_000_000
        added, errors = [], []
        for path, name in files:
            try:
                added.append(accept_upload(path, name, self.settings.reports_dir, max_bytes))
            except (ReportError, OSError) as exc:
                errors.append(str(exc))
        if not added:
            return [], errors, None
        try:
            report = self.build(on_embed_start=on_embed_start, on_progress=on_progress)
        except Exception as exc:  # the live index is untouched: the build happens beside it
            for path in added:
                path.unlink(missing_ok=True)
            raise QAError(f"Indexing failed, nothing changed: {exc}") from exc
        for path in added:
            if path.name in report.skipped:
                errors.append(f"{path.name}: {report.skipped[path.name]}")
                path.unlink(missing_ok=True)
        self.reload()
        return [p.name for p in added if p.name not in report.skipped], errors, report

    # -- questions ------------------------------------------------------------------------

    def analyze(self, question: str) -> Query:
        return self.searcher.analyze(question)

    def ask(self, question: str, k: int = 5, places: list[str] | None = None, retriever: str = "hybrid") -> Answer:
        """The whole way from a question to a cited answer: analyse, retrieve, decide."""
        question = (question or "").strip()
        if not question:
            raise QAError("The question is empty.")
        if places:
            unknown = [p for p in places if not self.searcher.place_keys([p])]
            if unknown:
                raise QAError(f"Unknown place {', '.join(unknown)}; indexed: {', '.join(self.districts)}")
        with self._lock:
            searcher = self.searcher
            query = searcher.analyze(question)
            hits = searcher.search_query(query, k=k, places=places or None, retriever=retriever)
            return make_answer(query, hits, searcher)

    def followup(self, message: str, previous: str | None) -> str:
        return resolve_followup(message, previous, self.places)
