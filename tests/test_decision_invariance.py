"""The answered / not-answered decision depends only on the question and the passages, not on how
many reports are indexed: the same questions against 4 reports and against the same 4 plus 12 more
(other places, figures changed) get the same decision, the same sentence and the same coverage."""

from __future__ import annotations

import json
import re
import shutil

import pytest

from qa.answer import make_answer
from qa.places import divisions
from qa.search import Searcher
from qa.store import build_index, load_index

QUESTIONS = [
    "万州区2023年税收收入是多少？",
    "What was Wanzhou's surveyed urban unemployment rate in 2023?",
    "How much tax revenue did Wanzhou collect last year?",
    "万州区机场旅客吞吐量是多少？",  # the airport is there, the figure is not
    "璧山区2023年新增了多少家进出口企业？",
    "梁平区工业投资增长了多少？",
    "梁平区的湿地面积有多大？",
    "荣昌区今年的目标是什么？",
    "万州区2023年的森林覆盖率是多少？",  # a figure the excerpts do not give
    "How many museums did Rongchang open in 2023?",
    "梁平区2019年财政收入是多少？",  # a year no report covers
    "浦东新区2023年GDP是多少？",  # a place not indexed
]


def _other_places(n: int, taken: set[str]) -> list[str]:
    """n district-level division names not among the indexed ones (from the package's data)."""
    names = sorted({d.name for d in divisions().values() if d.name.endswith("区") and len(d.name) == 3} - taken)
    return names[:: max(1, len(names) // n)][:n]


def _perturbed(text: str, salt: int) -> str:
    """The same report with its figures changed, so no copy is a duplicate of another."""
    return re.sub(r"\d+(?:\.\d+)?", lambda m: str(round(float(m.group()) * (1 + salt / 100), 1)), text)


def _searcher(settings) -> Searcher:
    build_index(settings)
    return Searcher(load_index(settings.index_dir), settings)


@pytest.fixture
def small_and_large(tmp_path, settings, reports):
    big_reports = tmp_path / "big-reports"
    shutil.copytree(reports, big_reports)
    originals = sorted(p for p in reports.iterdir() if p.is_file())
    metadata = {}
    for n, place in enumerate(_other_places(12, {"万州区", "梁平区", "璧山区", "荣昌区"}), start=1):
        source = originals[n % len(originals)]
        name = f"copy{n:02d}.txt"
        text = source.read_bytes().decode("utf-8", errors="ignore") if "gbk" not in source.name else \
            source.read_bytes().decode("gb18030")
        (big_reports / name).write_text(_perturbed(text, n), encoding="utf-8")
        metadata[name] = {"district": place, "year": 2024}
    (big_reports / "metadata.json").write_text(json.dumps(metadata, ensure_ascii=False), encoding="utf-8")
    large = settings.with_(reports_dir=big_reports, index_dir=tmp_path / "big-index")
    return _searcher(settings), _searcher(large)


def test_same_decision_with_more_reports(small_and_large):
    small, large = small_and_large
    assert len(large.places) == len(small.places) + 12
    decided = set()
    for question in QUESTIONS:
        query_small, query_large = small.analyze(question), large.analyze(question)
        # The same passages, decided on with each index's own query analysis.
        hits = small.search_query(query_small, k=5)
        a = make_answer(query_small, [h for h in hits], small)
        coverage_small = [h.coverage for h in hits]
        hits = small.search_query(query_small, k=5)
        b = make_answer(query_large, hits, large)
        # The same decision for the same reason (a note about a place lists the indexed ones, which differ).
        assert (a.abstain, a.sentence, bool(a.note)) == (b.abstain, b.sentence, bool(b.note)), question
        assert a.note or a.why == b.why, question
        assert coverage_small == [h.coverage for h in hits], question
        decided.add(a.abstain)
        # End to end, a question that names an indexed place gets the same decision in both.
        if query_small.places:
            end_small = make_answer(query_small, small.search_query(query_small, k=5), small)
            end_large = make_answer(query_large, large.search_query(query_large, k=5), large)
            assert end_small.abstain == end_large.abstain, question
    assert decided == {True, False}  # both kinds of decision were exercised
