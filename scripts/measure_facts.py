"""Precision and recall of the fact extractor (qa/facts.py) on hand-checked sentences.

Reads eval/facts_gold.jsonl — one line per sampled sentence: {source, place, start, end, sentence,
facts: [{indicator, measure, value, unit, kind, qualifier, year}]} — runs the extractor on the
same reports as the index holds them (index/ and index/elsewhere/ for the eval/elsewhere reports)
and compares, sentence by sentence, what it finds inside each gold span.

A gold fact is matched by an extracted one with the same value, unit and kind, and, when the gold
indicator is in the vocabulary (qa/data/indicators.json), the same standard indicator. Precision
counts extracted facts inside the sampled spans; recall counts gold facts. Both are printed overall
and for standard indicators, with how often matched pairs also agree on measure, qualifier and year.

Usage:
    .venv/bin/python scripts/measure_facts.py [--gold eval/facts_gold.jsonl] [--index index] [--misses]
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa.errors import QAError  # noqa: E402
from qa.facts import Fact, extract  # noqa: E402
from qa.indicators import standard_name  # noqa: E402
from qa.store import load_index  # noqa: E402


def load_reports(index_dir: Path) -> tuple[dict[str, dict], dict[str, list]]:
    """Documents and chunks by source from the index and, when built, index/elsewhere/."""
    documents, chunks = {}, {}
    for folder in (index_dir / "elsewhere", index_dir):
        try:
            index = load_index(folder)
        except QAError as exc:
            print(f"note: {folder}: {exc}", file=sys.stderr)
            continue
        documents.update(index.documents)
        by_source: dict[str, list] = {}
        for c in index.chunks:
            by_source.setdefault(c.source, []).append(c)
        chunks.update(by_source)
    return documents, chunks


def unit_key(unit: str) -> str:
    """Units as compared: full-width %, and 个百分点 = 百分点."""
    return (unit or "").replace("％", "%").replace("个百分点", "百分点")


def same_figure(gold: dict, fact: Fact) -> bool:
    if abs(float(gold["value"]) - fact.value) > 1e-6 or unit_key(gold["unit"]) != unit_key(fact.unit):
        return False
    if gold["kind"] != fact.kind:
        return False
    wanted = standard_name(gold["indicator"])
    return wanted is None or wanted == fact.indicator


@dataclass
class Tally:
    gold: int = 0
    predicted: int = 0
    matched_gold: int = 0
    matched_predicted: int = 0
    agree: dict = field(default_factory=lambda: {"measure": 0, "qualifier": 0, "year": 0, "indicator": 0})

    def line(self, name: str) -> str:
        p = self.matched_predicted / self.predicted if self.predicted else 0.0
        r = self.matched_gold / self.gold if self.gold else 0.0
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        return (f"{name:<22} precision {p:.3f} ({self.matched_predicted}/{self.predicted})  "
                f"recall {r:.3f} ({self.matched_gold}/{self.gold})  F1 {f1:.3f}")


def qualifier_key(q: str) -> str:
    return {"超": "超过", "逾": "超过"}.get(q or "", q or "")


def measure(gold_rows: list[dict], documents: dict, chunks: dict, show_misses: bool) -> tuple[Tally, Tally]:
    overall, standard = Tally(), Tally()
    cache: dict[str, list[Fact]] = {}
    for row in gold_rows:
        source = row["source"]
        if source not in documents:
            print(f"warning: {source} is not in the index; its {len(row['facts'])} facts count as missed",
                  file=sys.stderr)
            found: list[Fact] = []
            start, end = row["start"], row["end"]
        else:
            text = documents[source]["text"]
            start, end = row["start"], row["end"]
            if text[start:end] != row["sentence"]:
                at = text.find(row["sentence"])
                if at < 0:
                    print(f"warning: {source}:{start}-{end} does not hold the gold sentence", file=sys.stderr)
                else:
                    start, end = at, at + len(row["sentence"])
            if source not in cache:
                cache[source] = extract(documents[source], chunks.get(source, []))
            found = [f for f in cache[source] if f.start < end and f.end > start]
        used: set[int] = set()
        for g in row["facts"]:
            is_standard = standard_name(g["indicator"]) is not None
            hit = next((i for i, f in enumerate(found) if i not in used and same_figure(g, f)), None)
            for tally in (overall, standard) if is_standard else (overall,):
                tally.gold += 1
                if hit is not None:
                    tally.matched_gold += 1
            if hit is None:
                if show_misses:
                    print(f"MISSED   {source}:{start} {g['indicator']} {g['value']}{g['unit']} {g['kind']}  "
                          f"| {row['sentence'][:60]}")
                continue
            used.add(hit)
            f = found[hit]
            differ = [k for k, a, b in (("measure", g["measure"], f.measure), ("year", int(g["year"]), f.year),
                                         ("qualifier", qualifier_key(g["qualifier"]), qualifier_key(f.qualifier)))
                      if a != b]
            if differ and show_misses:
                print(f"DIFFER   {source}:{start} {g['indicator']} {g['value']}{g['unit']}: "
                      + ", ".join(f"{k} gold {g[k]!r} extracted {getattr(f, k)!r}" for k in differ))
            for tally in (overall, standard) if is_standard else (overall,):
                tally.agree["measure"] += g["measure"] == f.measure
                tally.agree["qualifier"] += qualifier_key(g["qualifier"]) == qualifier_key(f.qualifier)
                tally.agree["year"] += int(g["year"]) == f.year
                tally.agree["indicator"] += (standard_name(g["indicator"]) or g["indicator"]) == f.indicator
        for i, f in enumerate(found):
            for tally in (overall, standard) if f.standard else (overall,):
                tally.predicted += 1
                tally.matched_predicted += i in used
            if i not in used and show_misses:
                print(f"SPURIOUS {source}:{start} {f.indicator} {f.value:g}{f.unit} {f.kind}  | {row['sentence'][:60]}")
    return overall, standard


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--gold", default=str(ROOT / "eval" / "facts_gold.jsonl"))
    parser.add_argument("--index", default=str(ROOT / "index"))
    parser.add_argument("--misses", action="store_true", help="list missed gold facts and spurious extractions")
    args = parser.parse_args(argv)
    gold_rows = [json.loads(line) for line in Path(args.gold).read_text(encoding="utf-8").splitlines() if line.strip()]
    documents, chunks = load_reports(Path(args.index))
    overall, standard = measure(gold_rows, documents, chunks, args.misses)
    print(f"\n{len(gold_rows)} sentences from {len({r['source'] for r in gold_rows})} reports, "
          f"{overall.gold} gold facts ({standard.gold} of standard indicators)")
    print(overall.line("all facts"))
    print(standard.line("standard indicators"))
    for name, tally in (("all", overall), ("standard", standard)):
        n = tally.matched_gold
        if n:
            shares = ", ".join(f"{k} {v / n:.2f}" for k, v in tally.agree.items())
            print(f"matched pairs that also agree ({name}, {n}): {shares}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
