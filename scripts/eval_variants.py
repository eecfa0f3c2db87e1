"""The eval with the retrieval shortcuts of the scale work turned off or forced, on the live index:

- candidates: each retriever hands fusion its best 200 passages (the default) vs every passage
  ranked (exhaustive, `candidates=0`);
- dense index: the segments' exact flat index vs IVF and HNSW indexes built in memory from the
  same vectors with the settings' parameters (what segments of at least `ann_min_rows` passages get).

    .venv/bin/python scripts/eval_variants.py [--data eval/dev.jsonl eval/test.jsonl]

Prints R@5 / MRR / answer right / answerable refused per split and variant, and the number of
questions whose relevant passages rank differently from the default.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from qa.config import load_settings
from qa.evaluate import load_items, run_eval, summarize
from qa.search import Searcher
from qa.segment import dense_config
from qa.store import load_index


def approximate_in_memory(index, settings, ann: str) -> None:
    """Each segment's flat index replaced by the approximate one a big segment gets."""
    from qa.segment import dense_config, make_dense_index

    for segment in index.segments:
        segment.vectors, segment.dense_kind = make_dense_index(
            segment.all_vectors(), dense_config(settings.with_(ann_min_rows=1, ann=ann)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", nargs="+", default=["eval/dev.jsonl", "eval/test.jsonl"])
    args = parser.parse_args()
    settings = load_settings()
    variants = {
        "flat, 200 candidates (default)": (settings, None),
        "flat, exhaustive": (settings.with_(candidates=0), None),
        "IVF, 200 candidates": (settings, "ivf"),
        "HNSW, 200 candidates": (settings, "hnsw"),
    }
    print("| split | variant | R@5 | MRR | answer right | refused | relevant ranks differ |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    index = load_index(settings.index_dir)
    flat = [(segment.vectors, segment.dense_kind) for segment in index.segments]
    searcher = Searcher(index, settings)  # one searcher: its sentence vectors are embedded once
    for data in args.data:
        items = load_items(Path(data))
        baseline = None
        for name, (variant, ann) in variants.items():
            for segment, (vectors, kind) in zip(index.segments, flat):
                segment.vectors, segment.dense_kind = vectors, kind
            if ann:
                approximate_in_memory(index, variant, ann)
            searcher.settings = variant
            searcher._dense = dense_config(variant)
            report = run_eval(searcher, items, progress=f"{Path(data).stem} · {name}")
            tops = [tuple(o.ranks) for o in report.outcomes]
            differs = 0 if baseline is None else sum(a != b for a, b in zip(tops, baseline))
            baseline = baseline or tops
            s = summarize(report.outcomes)
            print(f"| {Path(data).stem} | {name} | {s['R@5']:.3f} | {s['MRR']:.3f} | {s['answer_acc']:.3f} | "
                  f"{s['wrongly_refused']:.3f} | {differs} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
