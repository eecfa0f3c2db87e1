"""Evaluation: load the Q&A set, judge hits against evidence spans, compute Recall@k / MRR / nDCG.

A hit is relevant when it comes from an expected district's report and its span covers at least
half of an evidence string's occurrence in that report's cleaned text.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from .answer import make_answer
from .errors import QAError
from .search import Searcher, analyze

LANGS = ("zh", "zh-Hant", "en")


@dataclass
class Item:
    id: str
    question: str
    lang: str
    districts: list[str]
    answer: str
    evidence: list[str]
    type: str

    @property
    def answerable(self) -> bool:
        return self.type != "none"


@dataclass
class Outcome:
    item: Item
    ranks: list[int]  # 1-based ranks of relevant hits
    first: str  # what came first (district: sentence)
    abstained: bool
    answer_district: str | None
    relevant_total: int = 1

    @property
    def best_rank(self) -> int | None:
        return min(self.ranks) if self.ranks else None


@dataclass
class Report:
    outcomes: list[Outcome] = field(default_factory=list)


def load_items(path: Path) -> list[Item]:
    if not path.exists():
        raise QAError(f"Eval set not found: {path}")
    items = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            district = row.get("district")
            items.append(
                Item(
                    id=str(row["id"]),
                    question=row["question"],
                    lang=row["lang"],
                    districts=[district] if isinstance(district, str) else list(district or []),
                    answer=str(row.get("answer", "")),
                    evidence=list(row.get("evidence", [])),
                    type=row.get("type", "fact"),
                )
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise QAError(f"{path}:{n}: bad eval line ({exc})") from exc
    return items


def evidence_spans(item: Item, documents: dict[str, dict]) -> list[tuple[str, int, int]]:
    """(district, start, end) of every occurrence of every evidence string in the expected reports."""
    spans = []
    for doc in documents.values():
        if item.districts and doc["district"] not in item.districts:
            continue
        for ev in item.evidence:
            start = doc["text"].find(ev)
            while start >= 0:
                spans.append((doc["source"], start, start + len(ev)))
                start = doc["text"].find(ev, start + 1)
    return spans


def is_relevant(source: str, start: int, end: int, spans: list[tuple[str, int, int]]) -> bool:
    for s_source, s_start, s_end in spans:
        if s_source == source:
            overlap = min(end, s_end) - max(start, s_start)
            if overlap >= max(1, (s_end - s_start) / 2):
                return True
    return False


def run_eval(searcher: Searcher, items: list[Item], k: int = 10, retriever: str = "hybrid") -> Report:
    report = Report()
    documents = searcher.index.documents
    for item in items:
        query = analyze(item.question, searcher.districts)
        hits = searcher.search_query(query, k=k, retriever=retriever)
        answer = make_answer(query, hits, searcher.index.manifest["embedder"])
        spans = evidence_spans(item, documents)
        ranks = [h.rank for h in hits if is_relevant(h.source, h.start, h.end, spans)]
        first = f"{hits[0].district}: {hits[0].sentence[:60]}" if hits else "(nothing)"
        report.outcomes.append(
            Outcome(item, ranks, first, answer.abstain, answer.district, relevant_total=max(1, len(item.evidence)))
        )
    return report


def recall_at(outcomes: list[Outcome], k: int) -> float:
    """Share of questions with a relevant hit in the top k."""
    return sum(1 for o in outcomes if o.best_rank and o.best_rank <= k) / len(outcomes) if outcomes else 0.0


def mrr(outcomes: list[Outcome], k: int = 10) -> float:
    return sum(1.0 / o.best_rank for o in outcomes if o.best_rank and o.best_rank <= k) / len(outcomes) if outcomes else 0.0


def ndcg_at(outcomes: list[Outcome], k: int = 10) -> float:
    """Binary-relevance nDCG@k; the ideal ranking puts min(#evidence, k) relevant hits first."""
    if not outcomes:
        return 0.0
    total = 0.0
    for o in outcomes:
        dcg = sum(1.0 / math.log2(r + 1) for r in o.ranks if r <= k)
        ideal_n = min(max(o.relevant_total, 1), k)
        idcg = sum(1.0 / math.log2(i + 1) for i in range(1, ideal_n + 1))
        total += min(dcg / idcg, 1.0)
    return total / len(outcomes)


def summarize(outcomes: list[Outcome]) -> dict:
    answerable = [o for o in outcomes if o.item.answerable]
    unanswerable = [o for o in outcomes if not o.item.answerable]
    out = {
        "n": len(answerable),
        "R@1": recall_at(answerable, 1),
        "R@5": recall_at(answerable, 5),
        "R@10": recall_at(answerable, 10),
        "MRR": mrr(answerable),
        "nDCG@10": ndcg_at(answerable),
    }
    which = [o for o in answerable if o.item.type == "which"]
    if which:
        out["which_district_acc"] = sum(1 for o in which if o.answer_district in o.item.districts) / len(which)
    abstained = [o for o in outcomes if o.abstained]
    if unanswerable:
        out["abstain_recall"] = sum(1 for o in unanswerable if o.abstained) / len(unanswerable)
    if abstained:
        out["abstain_precision"] = sum(1 for o in abstained if not o.item.answerable) / len(abstained)
    if answerable:
        out["wrongly_refused"] = sum(1 for o in answerable if o.abstained) / len(answerable)
    return out


def breakdown(report: Report) -> dict[str, dict]:
    """Metrics overall, per language and per question type."""
    groups: dict[str, list[Outcome]] = defaultdict(list)
    for o in report.outcomes:
        groups["all"].append(o)
        groups[f"lang:{o.item.lang}"].append(o)
        groups[f"type:{o.item.type}"].append(o)
    return {name: summarize(group) for name, group in groups.items()}


def worst_misses(report: Report, limit: int = 10) -> list[dict]:
    misses = [o for o in report.outcomes if o.item.answerable and (o.best_rank is None or o.best_rank > 1)]
    misses.sort(key=lambda o: -(o.best_rank or 999))
    return [
        {
            "id": o.item.id,
            "question": o.item.question,
            "expected": f"{'/'.join(o.item.districts) or '?'}: {o.item.evidence[0] if o.item.evidence else ''}",
            "rank": o.best_rank,
            "first": o.first,
        }
        for o in misses[:limit]
    ]
