"""Speed-up of qa.fanout.embed_reports: serial in-process embedding vs Ray with 1, 2, ... workers.

Passages are the real ones a build embeds: each report in reports/ read with qa.ingest.load_document
and cut with qa.chunk.chunk_document (settings from qa.config), taken report by report until
--passages are collected. Every run embeds the same jobs (one per report) and is checked against
the serial vectors. Per run it prints wall time (Ray: start-up, actor loading and shutdown
included), passages/s and the speed-up over serial. Ray's fixed overhead is measured apart, as
a run over a single passage; "steady" is the rate once that overhead is taken off.

    nice -n 10 .venv/bin/python scripts/fanout_bench.py [--passages 400] [--embedder e5] [--workers 1,2]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from qa.chunk import chunk_document
from qa.config import load_settings
from qa.fanout import embed_reports
from qa.ingest import load_document, report_files


def passages(limit: int) -> list[tuple[str, list[str]]]:
    settings = load_settings()
    jobs, total = [], 0
    for path in report_files(settings.reports_dir):
        chunks = chunk_document(load_document(path, settings=settings), settings.chunk_size, settings.chunk_overlap)
        texts = [c.context() for c in chunks][: limit - total]
        if texts:
            jobs.append((path.name, texts))
            total += len(texts)
    return jobs


def timed(spec: str, jobs, workers: int) -> tuple[float, dict[str, np.ndarray]]:
    started = time.perf_counter()
    out = embed_reports(spec, jobs, workers=workers)
    return time.perf_counter() - started, out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=400)
    parser.add_argument("--embedder", default="e5")
    parser.add_argument("--workers", default="1,2", help="Ray pool sizes to measure, comma-separated")
    args = parser.parse_args()
    jobs = passages(args.passages)
    n = sum(len(t) for _, t in jobs)
    chars = sum(len(x) for _, t in jobs for x in t)
    print(f"{n} passages from {len(jobs)} reports (mean {chars / n:.0f} chars), embedder {args.embedder}, "
          f"{len(os.sched_getaffinity(0))} cores, load average before {os.getloadavg()[0]:.2f}")

    serial_s, reference = timed(args.embedder, jobs, 1)
    rows = [("serial (in-process)", serial_s, None, 0.0)]
    for workers in [int(w) for w in args.workers.split(",")]:
        overhead, _ = timed(args.embedder, [("one", [jobs[0][1][0]])], workers)  # start, load, 1 passage, stop
        wall, out = timed(args.embedder, jobs, workers)
        diff = max(float(np.abs(out[k] - v).max()) for k, v in reference.items() if len(v))
        rows.append((f"ray, {workers} worker{'s' * (workers > 1)}", wall, overhead, diff))

    print("\n| run | wall s | passages/s | speed-up | Ray overhead s | steady passages/s | steady speed-up | max |Δ| |")
    print("|---|---|---|---|---|---|---|---|")
    for name, wall, overhead, diff in rows:
        steady = n / max(wall - (overhead or 0.0), 1e-9)
        print(f"| {name} | {wall:.1f} | {n / wall:.1f} | {serial_s / wall:.2f}x | "
              f"{'-' if overhead is None else f'{overhead:.1f}'} | {steady:.1f} | {steady * serial_s / n:.2f}x | {diff:.1e} |")
    print(f"\nload average after {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
