"""Grid over the fusion settings (keyword weight, rrf_k, half boost, exact-figure weight) on a
question set — eval/dev.jsonl only; the chosen values and the grid are in qa/config.py.

Retrieval is run once per question; only the fusion is recomputed per setting.

    .venv/bin/python scripts/tune_fusion.py [eval/dev.jsonl]
"""

import itertools
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa.config import load_settings  # noqa: E402
from qa.evaluate import evidence_spans, is_relevant, load_items  # noqa: E402
from qa.search import Searcher, _ranks  # noqa: E402
from qa.store import load_index  # noqa: E402
from qa.tokens import tokenize  # noqa: E402


def prepare(searcher: Searcher, path: Path) -> list[tuple]:
    rows = []
    chunks = searcher.index.chunks
    for item in load_items(path):
        if not item.answerable:
            continue
        query = searcher.analyze(item.question)
        allowed = np.isin(searcher._place_of, query.places) if query.places else np.ones(len(chunks), bool)
        spans = evidence_spans(item, searcher.index.documents)
        wanted = set(query.numbers)
        rows.append((item.lang, query, allowed, searcher.dense_scores(query),
                     searcher.keyword_scores(tokenize(query.keyword_text, searcher.index.tokenizer)),
                     np.array([is_relevant(c.source, c.start, c.end, spans) for c in chunks]),
                     searcher.figure_matches(list(wanted)),
                     searcher.wanted_half(query)))
    return rows


def score(searcher, rows, keyword_weight, rrf_k, half_boost, figure_weight, lang=None) -> tuple[float, float]:
    """(Recall@5, MRR@10) of the fused ranking under these settings."""
    hits5 = rr = n = 0
    for row_lang, query, allowed, dense, keyword, relevant, matched, half in rows:
        if lang and row_lang != lang:
            continue
        n += 1
        rankings = [(_ranks(dense, allowed), 1.0), (_ranks(keyword, allowed & (keyword > 0)), keyword_weight)]
        if query.numbers:
            rankings.append((_ranks(matched, allowed & (matched > 0)), figure_weight))
        fused = sum(np.where(r > 0, w / (rrf_k + r), 0.0) for r, w in rankings)
        if half is not None:
            fused = fused * np.where(searcher._chunk_half == half, 1 + half_boost, 1)
        order = np.argsort(-np.where(allowed, fused, -np.inf), kind="stable")[:10]
        ranks = [i + 1 for i, c in enumerate(order) if relevant[c]]
        hits5 += bool(ranks and ranks[0] <= 5)
        rr += 1 / ranks[0] if ranks else 0
    return round(hits5 / n, 3), round(rr / n, 3)


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "eval" / "dev.jsonl"
    settings = load_settings()
    searcher = Searcher(load_index(settings.index_dir), settings)
    rows = prepare(searcher, path)
    grid = itertools.product([0.5, 1, 1.5, 2, 3, 4, 6, 10], [30, 60, 100, 200], [0, 0.1, 0.2, 0.4], [0.5, 1, 2])
    results = sorted(((score(searcher, rows, *g), g) for g in grid), key=lambda r: (-r[0][1], -r[0][0]))
    print("keyword weight, rrf_k, half boost, figure weight → R@5, MRR (all; English)")
    for (r5, m), g in results[:15]:
        print(g, "→", r5, m, ";", score(searcher, rows, *g, lang="en"))


if __name__ == "__main__":
    main()
