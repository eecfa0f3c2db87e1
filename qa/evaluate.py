"""Evaluation: load the Q&A set, judge hits against evidence spans, compute Recall@k / MRR / nDCG.

A hit is relevant when it comes from an expected district's report and its span covers at least
half of an evidence string's occurrence in that report's cleaned text.
"""

from __future__ import annotations

import functools
import json
import math
import sys
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from .answer import ask
from .errors import QAError
from .search import Searcher

LANGS = ("zh", "zh-Hant", "en")
MAX_REFUSED = 0.03  # share of answerable questions a refusal rule may refuse (the target)


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
    top_coverage: float = 0.0  # best coverage among the top hits: what abstention is decided on
    similarity: float = 0.0  # cosine of the question and the answer's sentence (answer.py)
    answer_right: bool = False  # not refused, the right place, and its sentence holds the evidence
    uncovered: bool = False  # refused because of a place or year no report covers

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
    """(district, start, end) of every occurrence of every evidence string in the expected reports.
    Where an evidence string is not in a report exactly, it is looked for with width and whitespace
    folded (NFKC): OCR reads "，" as "," and splits figures ("5 3.2"), and the eval set was
    written against text files."""
    spans = []
    for doc in documents.values():
        if item.districts and not ({doc["district"], doc.get("place")} & set(item.districts)):
            continue
        for ev in item.evidence:
            start = doc["text"].find(ev)
            if start < 0:
                spans += _folded_spans(doc, ev)
            while start >= 0:
                spans.append((doc["source"], start, start + len(ev)))
                start = doc["text"].find(ev, start + 1)
    return spans


def folded(text: str) -> tuple[str, list[int]]:
    """text under NFKC with whitespace left out, and where each folded character came from."""
    chars, where = [], []
    for i, ch in enumerate(text):
        for c in unicodedata.normalize("NFKC", ch):
            if not c.isspace():
                chars.append(c)
                where.append(i)
    return "".join(chars), where


_folded_report = functools.lru_cache(maxsize=64)(folded)  # a report's text is folded once per run


def _folded_spans(doc: dict, evidence: str) -> list[tuple[str, int, int]]:
    text, where = _folded_report(doc["text"])
    needle = folded(evidence)[0]
    spans, start = [], text.find(needle) if needle else -1
    while start >= 0:
        spans.append((doc["source"], where[start], where[start + len(needle) - 1] + 1))
        start = text.find(needle, start + 1)
    return spans


def holds_evidence(sentence: str, evidence: list[str]) -> bool:
    """The sentence holds one of the evidence strings, width and whitespace folded."""
    sentence = folded(sentence or "")[0]
    return any((f := folded(ev)[0]) and f in sentence for ev in evidence)


def is_relevant(source: str, start: int, end: int, spans: list[tuple[str, int, int]]) -> bool:
    for s_source, s_start, s_end in spans:
        if s_source == source:
            overlap = min(end, s_end) - max(start, s_start)
            if overlap >= max(1, (s_end - s_start) / 2):
                return True
    return False


def run_eval(searcher: Searcher, items: list[Item], k: int = 10, retriever: str = "hybrid",
             progress: str | None = None) -> Report:
    """Every question through the whole answer path. progress: a label for a progress bar on
    stderr (the CLI; a run takes a minute or two)."""
    report = Report()
    documents = searcher.index.documents
    if progress:
        from tqdm import tqdm

        items = tqdm(items, desc=progress, unit="q", file=sys.stderr, leave=False)
    for item in items:
        answer = ask(searcher, item.question, k=k, retriever=retriever)
        hits = answer.hits
        spans = evidence_spans(item, documents)
        ranks = [h.rank for h in hits if is_relevant(h.source, h.start, h.end, spans)]
        first = f"{hits[0].district}: {hits[0].sentence[:60]}" if hits else "(nothing)"
        right = (not answer.abstain and bool(item.districts) and
                 bool({answer.district, answer.place} & set(item.districts)) and
                 (is_relevant(answer.source, answer.start, answer.end, spans) or
                  holds_evidence(answer.sentence, item.evidence)))
        report.outcomes.append(
            Outcome(
                item, ranks, first, answer.abstain, answer.district,
                relevant_total=max(1, len(item.evidence)),
                top_coverage=max((h.coverage for h in hits[:3]), default=0.0),
                similarity=answer.similarity,
                answer_right=right,
                uncovered=answer.abstain and bool(answer.note),
            )
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
    out: dict = {"n": len(answerable)}
    if answerable:  # a group of unanswerable questions only has abstention metrics
        out.update({
            "R@1": recall_at(answerable, 1),
            "R@5": recall_at(answerable, 5),
            "R@10": recall_at(answerable, 10),
            "MRR": mrr(answerable),
            "nDCG@10": ndcg_at(answerable),
        })
    if answerable:
        out["answer_acc"] = sum(1 for o in answerable if o.answer_right) / len(answerable)
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


COLUMNS = ["n", "R@1", "R@5", "R@10", "MRR", "nDCG@10", "answer_acc", "which_district_acc", "abstain_precision", "abstain_recall",
           "wrongly_refused"]
_HEADERS = {"answer_acc": "answer right", "which_district_acc": "which acc", "abstain_precision": "abstain P", "abstain_recall": "abstain R",
            "wrongly_refused": "refused"}


def group_order(name: str) -> tuple:
    return (name != "all", not name.startswith("lang"), name)


def markdown_table(table: dict[str, dict]) -> str:
    """Metrics per group as a Markdown table (blank where a metric does not apply)."""
    lines = ["| group | " + " | ".join(_HEADERS.get(c, c) for c in COLUMNS) + " |",
             "| --- |" + " ---: |" * len(COLUMNS)]
    for name in sorted(table, key=group_order):
        row = table[name]
        cells = [f"{row[c]:.3f}" if isinstance(row.get(c), float) else str(row.get(c, "")) for c in COLUMNS]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def side_by_side(tables: dict[str, dict[str, dict]]) -> str:
    """One row per group, one column per question set: R@5 / MRR / answer right / refused-or-abstained."""
    names = list(tables)
    groups = sorted({g for t in tables.values() for g in t}, key=group_order)
    lines = ["| group | " + " | ".join(names) + " |", "| --- |" + " --- |" * len(names)]

    def cell(row: dict) -> str:
        if not row:
            return ""
        if "R@5" not in row:  # only unanswerable questions: how many were refused
            return f"abstained {row.get('abstain_recall', 0):.2f}"
        return f"{row['R@5']:.2f} / {row['MRR']:.2f} / {row.get('answer_acc', 0):.2f} / {row.get('wrongly_refused', 0):.2f}"

    for g in groups:
        lines.append(f"| {g} | " + " | ".join(cell(tables[n].get(g, {})) for n in names) + " |")
    return "\n".join(lines)


def write_results(results: dict, folder: Path, stamp: str) -> list[Path]:
    """eval/results/<date>-<retriever>.json and .md for each retriever evaluated."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for label, result in results.items():
        base = folder / f"{stamp}-{label}"
        base.with_suffix(".json").write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
        misses = "\n".join(f"- {m['id']} (rank {m['rank']}): {m['question']} — expected {m['expected']}; first {m['first']}"
                           for m in result["misses"])
        base.with_suffix(".md").write_text(
            f"# qa eval — {label}, {result['questions']} questions, {result['embedder']}, {stamp}\n\n"
            f"{markdown_table(result['metrics'])}\n\n## Worst misses\n\n{misses or '(none)'}\n",
            encoding="utf-8",
        )
        written += [base.with_suffix(".json"), base.with_suffix(".md")]
    return written


def plot_results(results: dict, path: Path) -> Path:
    """Grouped bars: Recall@5 and MRR per language, one bar per retriever."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = ["all"] + [f"lang:{lang}" for lang in LANGS]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    width = 0.8 / max(1, len(results))
    for ax, metric in zip(axes, ("R@5", "MRR")):
        for i, (retriever, result) in enumerate(results.items()):
            values = [result["metrics"].get(g, {}).get(metric, 0.0) for g in groups]
            xs = [x + i * width for x in range(len(groups))]
            bars = ax.bar(xs, values, width, label=retriever)
            ax.bar_label(bars, fmt="%.2f", fontsize=7)
        ax.set_xticks([x + width * (len(results) - 1) / 2 for x in range(len(groups))])
        ax.set_xticklabels([g.replace("lang:", "") for g in groups])
        ax.set_title(metric)
        ax.set_ylim(0, 1.1)
    axes[0].legend(loc="lower left")
    fig.suptitle("qa eval: retrievers per language")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


@dataclass
class Calibration:
    min_coverage: float
    min_dense: float | None
    abstain_precision: float
    abstain_recall: float
    wrongly_refused: float

    @property
    def f1(self) -> float:
        p, r = self.abstain_precision, self.abstain_recall
        return 2 * p * r / (p + r) if p + r else 0.0


def calibrate(report: Report) -> list[Calibration]:
    """Every (coverage, cosine) threshold pair on a grid, best first: the pairs that refuse at most
    3% of answerable questions (the target) by most unanswerable ones refused, then the rest by
    F1 of abstaining; ties go to fewer answerable questions refused."""
    answerable = [o for o in report.outcomes if o.item.answerable]
    unanswerable = [o for o in report.outcomes if not o.item.answerable]
    if not answerable or not unanswerable:
        return []
    options = []
    for c in [i / 20 for i in range(0, 21)]:
        for d in [None] + [0.80 + i / 100 for i in range(0, 21)]:
            def refuses(o, c=c, d=d):
                return o.uncovered or (o.top_coverage < c and (d is None or o.similarity < d))

            refused_none = sum(1 for o in unanswerable if refuses(o))
            refused_ok = sum(1 for o in answerable if refuses(o))
            total = refused_none + refused_ok
            options.append(Calibration(c, d, refused_none / total if total else 0.0, refused_none / len(unanswerable),
                                       refused_ok / len(answerable)))
    options.sort(key=lambda o: (o.wrongly_refused > MAX_REFUSED, -o.abstain_recall if o.wrongly_refused <= MAX_REFUSED
                                else -o.f1, o.wrongly_refused, -o.min_coverage))
    return options
