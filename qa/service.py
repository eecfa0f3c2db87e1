"""The one object app.py and cli.py call: the loaded index and its searcher, asking, adding
reports, rebuilding and reloading — with a lock so a question never meets a half-swapped index
and two builds never run at once in one process (store.build_lock keeps them apart across
processes). Before each question it checks, with one stat, whether another process swapped in a
newer build, and switches to it."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

from .answer import Answer, ask
from .config import Settings, check_k, check_question
from .embed import Embedder
from .errors import EmbedderMismatchError, QAError, ReportError
from .facts import Fact, query_facts
from .ingest import accept_upload
from .query import Query, resolve_followup
from .search import Searcher
from .store import (
    BuildReport,
    Index,
    build_index,
    build_stamp,
    current_build_id,
    index_status,
    load_index,
    merge_segments,
)

log = logging.getLogger(__name__)
log.addHandler(logging.NullHandler())


class Service:
    """The loaded index and everything done with it.

    `build_id` is the name of the loaded build and `generation` counts the builds loaded so far:
    it grows after an upload and when a question finds (refresh) that a `qa index` or another app
    swapped in a newer build. The app can compare `generation` to re-render the report list and
    the district filter only when they changed.
    """

    def __init__(self, settings: Settings, embedder: Embedder | None = None, load: bool = True):
        self.settings = settings
        self._lock = threading.Lock()  # questions and the index swap
        self._build_lock = threading.Lock()  # one build at a time
        self._refresh_lock = threading.Lock()  # one thread loads a newer build; the others keep answering
        self._embedder = embedder
        self.searcher: Searcher | None = None
        self.build_id: str | None = None
        self.generation = 0
        self.merging: threading.Thread | None = None  # the background merge after an upload, if any
        self._stamp: tuple | None = None  # store.build_stamp of CURRENT when the loaded build was chosen
        if load:
            self.reload()

    # -- the index ------------------------------------------------------------------------

    def _loaded_embedder(self) -> Embedder | None:
        """The model already in memory, if any: reloads and builds reuse it rather than load it again."""
        return (self.searcher.loaded_embedder if self.searcher is not None else None) or self._embedder

    def _embedder_for(self, index: Index) -> Embedder | None:
        """A model in memory that made this index's vectors, if any; else the searcher loads the
        index's own embedder (its manifest's), whatever embedder is configured."""
        wanted = index.manifest.get("embedder")
        loaded = self.searcher.loaded_embedder if self.searcher is not None else None
        return next((e for e in (loaded, self._embedder) if e is not None and e.spec == wanted), None)

    def reload(self) -> None:
        stamp = build_stamp(self.settings.index_dir)  # taken first: a build swapped in meanwhile is seen next time
        index = load_index(self.settings.index_dir)
        searcher = Searcher(index, self.settings, embedder=self._embedder_for(index))
        with self._lock:
            self.searcher = searcher
            self.build_id = index.path.name
            self._stamp = stamp
            self.generation += 1

    def refresh(self) -> bool:
        """Switch to the live build if another process swapped in a newer one; True if it did.
        Costs one stat of CURRENT when nothing changed. A newer build that cannot be loaded is
        logged and the loaded one kept (it is in memory), until CURRENT changes again."""
        stamp = build_stamp(self.settings.index_dir)
        if self.searcher is None or stamp is None or stamp == self._stamp:
            return False
        if not self._refresh_lock.acquire(blocking=False):
            return False  # another thread is loading it; this question uses the build in memory
        try:
            if current_build_id(self.settings.index_dir) == self.build_id:
                self._stamp = stamp
                return False
            self.reload()
            return True
        except QAError as exc:
            self._stamp = stamp
            log.warning("kept build %s: the live one cannot be loaded: %s", self.build_id, exc)
            return False
        finally:
            self._refresh_lock.release()

    def warm(self) -> None:
        """Load the embedding model now rather than on the first question."""
        self.searcher.embedder  # noqa: B018

    @property
    def places(self):
        return self.searcher.places

    @property
    def districts(self) -> list[str]:
        return self.searcher.districts

    def documents(self):
        """source → the indexed report with its cleaned text (read from the index when asked for)."""
        return self.searcher.index.documents

    def reports(self) -> dict[str, dict]:
        """source → the indexed report's record (place, year, title…; no text)."""
        return self.searcher.index.reports

    def chunk_counts(self) -> dict[str, int]:
        return self.searcher.index.chunk_counts()

    def facts(self, **filters) -> list[Fact]:
        """Rows of the loaded build's fact table (qa facts); filters as facts.query_facts takes them."""
        return query_facts(self.searcher.index.facts_path, **filters)

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

    def merge(self, on_message: Callable[[str], None] | None = None, background: bool = False) -> list[str] | None:
        """Merge segments when store.merge_plan asks for it (ten of one size tier, or one mostly
        deleted), as a new build switched in atomically; questions keep being answered from the
        loaded build meanwhile. background=True runs it in a thread (the app after an upload)."""
        if background:
            thread = threading.Thread(target=self._merge_quietly, name="qa-merge", daemon=True)
            thread.start()
            self.merging = thread
            return None
        with self._build_lock:
            merged = merge_segments(self.settings, on_message=on_message)
        if merged and self.searcher is not None:
            self.reload()
        return merged

    def _merge_quietly(self) -> None:
        try:
            self.merge()
        except Exception:  # the add is already live; a failed merge leaves the segments as they are
            log.exception("background merge failed")

    def add_reports(self, files: list[tuple[Path, str]], on_embed_start=None, on_progress=None
                    ) -> tuple[list[str], list[str], BuildReport | None]:
        """Validate and copy uploads, index them incrementally, reload. Returns (added names,
        errors, build report); a file that can't be read, or whose text is already indexed, is
        refused and the index stays as it was. An upload whose name is taken is saved as name-2
        …, and its entry in the added names says so."""
        from .ingest import safe_report_name

        max_bytes = self.settings.max_upload_mb * 1_000_000
        reports = self.searcher.index.reports if self.searcher is not None else {}
        known = {d["text_key"]: source for source, d in reports.items() if d.get("text_key")}
        added, errors, renamed = [], [], {}
        for path, name in files:
            try:
                target = accept_upload(path, name, self.settings.reports_dir, max_bytes,
                                       known=known, settings=self.settings)
            except (ReportError, OSError) as exc:
                errors.append(str(exc))
                continue
            added.append(target)
            if target.name != safe_report_name(name):
                renamed[target.name] = safe_report_name(name)
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
        self.merge(background=True)
        names = [p.name + (f" (saved under this name: {renamed[p.name]} is a different report)"
                           if p.name in renamed else "") for p in added if p.name not in report.skipped]
        return names, errors, report

    # -- questions ------------------------------------------------------------------------

    def analyze(self, question: str) -> Query:
        return self.searcher.analyze(question)

    def ask(self, question: str, k: int = 5, places: list[str] | None = None, retriever: str = "hybrid") -> Answer:
        """The whole way from a question to a cited answer: analyse, retrieve, decide. Questions
        run in parallel (the searcher is read-only; only the model is used one at a time), and a
        question over the length limit is refused before anything expensive runs."""
        question = check_question(question, self.settings)
        k = check_k(k, self.settings)
        self.refresh()
        with self._lock:  # only to take the current searcher: a swap never meets a half-read one
            searcher = self.searcher
        if places:
            unknown = [p for p in places if not searcher.place_keys([p])]
            if unknown:
                raise QAError(f"Unknown place {', '.join(unknown)}; indexed: {', '.join(searcher.districts)}")
        _check_dimension(searcher)
        try:
            return ask(searcher, question, k, places, retriever)
        except QAError:
            raise
        except Exception as exc:  # a bare AssertionError from faiss once reached the web API as {"error": ""}
            log.exception("search failed for %r", question[:200])
            detail = (str(exc).splitlines() or [""])[0][:200]
            raise QAError(f"Search failed ({type(exc).__name__}{': ' + detail if detail else ''}); if the index is "
                          f"damaged, rebuild it: qa index --full") from exc

    def followup(self, message: str, previous: str | None) -> str:
        """The question a follow-up ("那璧山区呢？") stands for; the length limit applies first."""
        return resolve_followup(check_question(message, self.settings), previous, self.places)


def _check_dimension(searcher: Searcher) -> None:
    """The embedder must make vectors of the index's size, or faiss fails with a bare assertion."""
    index_dim, embedder = searcher.index.vectors.d, searcher.embedder
    if embedder.dim != index_dim:
        raise EmbedderMismatchError(
            f"The index's vectors have {index_dim} dimensions but embedder {embedder.spec} makes {embedder.dim}; "
            f"rebuild the index with it: qa index --full --embedder {embedder.spec}")
