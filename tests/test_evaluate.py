import json
from collections import Counter
from pathlib import Path

import pytest

from qa.evaluate import Item, Outcome, evidence_spans, is_relevant, load_items, mrr, ndcg_at, recall_at, summarize
from qa.ingest import load_document, report_files

ROOT = Path(__file__).resolve().parent.parent


def outcome(ranks, answerable=True, abstained=False, n_evidence=1, qtype="fact", district=None):
    item = Item("x", "q", "zh", [district] if district else [], "", ["e"] * n_evidence, qtype if answerable else "none")
    return Outcome(item, ranks, "", abstained, district, relevant_total=n_evidence)


def test_metrics_against_hand_computed_values():
    outcomes = [outcome([1]), outcome([3, 4]), outcome([]), outcome([7])]
    assert recall_at(outcomes, 1) == 0.25
    assert recall_at(outcomes, 5) == 0.5
    assert recall_at(outcomes, 10) == 0.75
    assert mrr(outcomes) == pytest.approx((1 + 1 / 3 + 0 + 1 / 7) / 4)
    # nDCG@10: q1 1.0; q2 (1/log2(4)+1/log2(5)) / 1 capped at 1 → 0.5+0.4307=0.9307; q3 0; q4 1/log2(8)=1/3
    assert ndcg_at(outcomes) == pytest.approx((1 + (0.5 + 1 / 2.321928) + 0 + 1 / 3) / 4, rel=1e-4)


def test_ndcg_two_relevant_ideal():
    # Two evidence strings, relevant at ranks 1 and 2: perfect.
    assert ndcg_at([outcome([1, 2], n_evidence=2)]) == pytest.approx(1.0)
    # Only one found at rank 1 of two expected: 1 / (1 + 1/log2(3)).
    assert ndcg_at([outcome([1], n_evidence=2)]) == pytest.approx(1 / (1 + 1 / 1.5849625), rel=1e-5)


def test_abstention_metrics():
    outcomes = [outcome([1]), outcome([], abstained=True), outcome([], answerable=False, abstained=True), outcome([], answerable=False)]
    summary = summarize(outcomes)
    assert summary["abstain_recall"] == 0.5
    assert summary["abstain_precision"] == 0.5
    assert summary["wrongly_refused"] == 0.5
    assert summary["n"] == 2


def test_relevance_needs_half_the_evidence():
    spans = [("a.txt", 100, 110)]
    assert is_relevant("a.txt", 0, 105, spans)
    assert not is_relevant("a.txt", 0, 104, spans)
    assert not is_relevant("b.txt", 0, 200, spans)


@pytest.fixture(scope="module")
def cleaned_reports():
    return {d.district: {"source": d.source, "district": d.district, "text": d.text}
            for d in (load_document(p) for p in report_files(ROOT / "reports"))}


def test_eval_set_evidence_exists_and_which_is_unique(cleaned_reports):
    items = load_items(ROOT / "eval" / "qa.jsonl")
    assert len(items) >= 40
    assert len({i.id for i in items}) == len(items)
    langs = Counter(i.lang for i in items)
    assert set(langs) == {"zh", "zh-Hant", "en"}
    docs = {d["source"]: d for d in cleaned_reports.values()}
    for item in items:
        if not item.answerable:
            assert not item.evidence
            continue
        assert item.evidence, item.id
        for district in item.districts:
            assert district in cleaned_reports, item.id
        for ev in item.evidence:
            assert any(ev in cleaned_reports[d]["text"] for d in item.districts), (item.id, ev)
        assert evidence_spans(item, docs), item.id
        if item.type == "which":
            holders = [d for d, doc in cleaned_reports.items() if item.evidence[0] in doc["text"]]
            assert holders == item.districts, (item.id, holders)


def test_eval_file_is_valid_jsonl():
    for line in (ROOT / "eval" / "qa.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        assert {"id", "question", "lang", "district", "answer", "evidence", "type"} <= set(row)
