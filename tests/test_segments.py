"""Segments: an add writes only the added report, a removal only marks rows deleted, a merge
folds segments together, and search over several segments answers as one index does."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from qa.search import Searcher
from qa.store import build_index, load_index, merge_plan, merge_segments

QUESTIONS = ["规上工业增加值增长16%", "地区生产总值增长目标", "城乡居民人均可支配收入", "粮食产量", "新增就业"]


def _segments(settings) -> list[dict]:
    build = settings.index_dir / "builds" / (settings.index_dir / "CURRENT").read_text().strip()
    return json.loads((build / "manifest.json").read_text(encoding="utf-8"))["segments"]


def _file(settings, segment: str, name: str) -> Path:
    build = settings.index_dir / "builds" / (settings.index_dir / "CURRENT").read_text().strip()
    return build / "segments" / segment / name


@pytest.fixture
def two_segments(settings, reports, tmp_path):
    """An index of three reports, then a fourth added: two segments."""
    aside = tmp_path / "aside"
    aside.mkdir()
    shutil.move(reports / "荣昌区-繁体.txt", aside / "荣昌区-繁体.txt")
    build_index(settings)
    first = _segments(settings)[0]["name"]
    inode = _file(settings, first, "vectors.faiss").stat().st_ino
    shutil.move(aside / "荣昌区-繁体.txt", reports / "荣昌区-繁体.txt")
    report = build_index(settings)
    return SimpleNamespace(first=first, inode=inode, report=report)


def test_an_added_report_goes_into_a_new_segment_and_the_rest_is_not_rewritten(settings, two_segments):
    segments = _segments(settings)
    assert segments[0]["name"] == two_segments.first and len(segments) == 2
    assert segments[1]["sources"] == ["荣昌区-繁体.txt"]
    assert two_segments.report.added == ["荣昌区-繁体.txt"]
    assert two_segments.report.embedded == segments[1]["rows"]  # only the new report was embedded
    # the first segment's files are the same files (hard-linked into the new build), not copies
    assert _file(settings, two_segments.first, "vectors.faiss").stat().st_ino == two_segments.inode
    index = load_index(settings.index_dir)
    assert len(index.chunks) == index.rows == sum(s["rows"] for s in segments)
    assert "荣昌区" in index.districts


def test_search_over_two_segments_ranks_as_one_segment_does(settings, two_segments, tmp_path):
    one = settings.with_(index_dir=tmp_path / "one")
    build_index(one, full=True)
    many, single = Searcher(load_index(settings.index_dir), settings), Searcher(load_index(one.index_dir), one)
    for question in QUESTIONS:
        a = [h.chunk_id for h in many.search(question, k=5)]
        b = [h.chunk_id for h in single.search(question, k=5)]
        assert a == b, question
    # BM25 with the collection's statistics: the same scores up to the segments' own average lengths
    by_id_many = {c.id: i for i, c in enumerate(many.index.chunks)}
    by_id_single = {c.id: i for i, c in enumerate(single.index.chunks)}
    tokens = ["工业", "增加", "16%", "粮食"]
    s_many, s_single = many.keyword_scores(tokens), single.keyword_scores(tokens)
    ids = sorted(by_id_single)
    x = np.array([s_many[by_id_many[i]] for i in ids])
    y = np.array([s_single[by_id_single[i]] for i in ids])
    assert np.corrcoef(x, y)[0, 1] > 0.99 and np.allclose(x, y, rtol=0.15, atol=0.05)


def test_a_removed_report_is_marked_deleted_until_a_merge(settings, reports, two_segments):
    (reports / "梁平区-gbk.txt").unlink()
    report = build_index(settings)
    assert report.removed == ["梁平区-gbk.txt"] and report.embedded == 0
    assert _file(settings, two_segments.first, "vectors.faiss").stat().st_ino == two_segments.inode
    index = load_index(settings.index_dir)
    assert "梁平区" not in index.districts and "梁平区-gbk.txt" not in index.documents
    assert len(index.chunks) < index.rows  # its rows are still in the segment, marked deleted
    searcher = Searcher(index, settings)
    for question in QUESTIONS + ["梁平区"]:
        assert all(h.district != "梁平区" for h in searcher.search(question, k=20))
    rows_before = index.rows

    merged = merge_segments(settings, names=[s["name"] for s in _segments(settings)])
    assert len(merged) == 2
    after = load_index(settings.index_dir)
    assert len(after.segments) == 1 and after.rows == len(after.chunks) < rows_before
    assert sorted(after.documents) == sorted(index.documents)
    assert after.documents["万州区-节选.txt"]["text"] == index.documents["万州区-节选.txt"]["text"]
    merged_searcher = Searcher(after, settings)
    for question in QUESTIONS:
        assert ({h.chunk_id for h in merged_searcher.search(question, k=5)}
                == {h.chunk_id for h in searcher.search(question, k=5)}), question
    build_index(settings)  # nothing changed since: up to date, no new build
    assert load_index(settings.index_dir).path == after.path


def _fake_index(rows: list[int], live: list[int]) -> SimpleNamespace:
    segments = [SimpleNamespace(name=f"s{i}", rows=r) for i, r in enumerate(rows)]
    mask = np.concatenate([np.arange(r) < alive for r, alive in zip(rows, live)])
    return SimpleNamespace(segments=segments, offsets=np.cumsum([0] + rows)[:-1], live=mask)


def test_merge_plan_merges_a_full_tier_and_mostly_deleted_segments():
    # one big segment and nine small ones: the small tier is not full yet
    assert merge_plan(_fake_index([50_000] + [100] * 9, [50_000] + [100] * 9)) == []
    # the tenth small one fills the tier: the ten small ones merge, the big one stays
    plan = merge_plan(_fake_index([50_000] + [100] * 10, [50_000] + [100] * 10))
    assert plan == [f"s{i}" for i in range(1, 11)]
    # a segment with most of its rows deleted is rewritten
    assert merge_plan(_fake_index([50_000, 100], [20_000, 100])) == ["s0"]


@pytest.mark.parametrize("ann", ["ivf", "hnsw"])
def test_approximate_segments_and_filters_come_back_full(settings, ann):
    build_index(settings.with_(ann_min_rows=1, ann=ann))  # every segment approximate
    index = load_index(settings.index_dir)
    assert {s.dense_kind for s in index.segments} == {ann}
    searcher = Searcher(index, settings)
    vectors = index.vectors.reconstruct_n(0, index.rows)
    for question in QUESTIONS:
        query = searcher.analyze(question)
        rows, _ = searcher.dense_candidates(query, None, 10)
        brute = np.argsort(-(vectors @ searcher.query_vector(query)[0]), kind="stable")[:10]
        assert len(set(rows) & set(brute)) >= 9  # approximate, but near exact at this size
        allowed = searcher.allowed(searcher.place_keys(["万州区"]))
        rows, _ = searcher.dense_candidates(query, allowed, 30)
        assert len(rows) == min(30, int(allowed.sum())) and allowed[rows].all()
        hits = searcher.search(question, k=8, places=["万州区"])
        assert len(hits) == 8 and {h.district for h in hits} == {"万州区"}
        # the same filter searched inside the approximate index rather than over its rows
        inside = Searcher(index, settings.with_(filter_exact_max=0))
        rows, _ = inside.dense_candidates(query, allowed, 30)
        assert len(rows) == min(30, int(allowed.sum())) and allowed[rows].all()


def test_occurs_counts_the_passages_that_hold_a_string(index, settings):
    searcher = Searcher(index, settings)
    contexts = [c.context() for c in index.chunks]
    for text in ("增长", "工", "地区生产总值", "粮食产量", "不存在的词语"):
        truth = sum(text in c for c in contexts)
        count = searcher.occurs(text)
        assert count >= truth  # every bigram of it, not always next to each other
        if len(text) <= 2:
            assert count == truth, text
    assert searcher.occurs("地区生产总值") == sum("地区生产总值" in c for c in contexts)
    assert searcher.occurs("") == len(index.chunks)


def test_the_app_merges_a_mostly_deleted_segment_in_the_background(settings, reports):
    from qa.service import Service

    build_index(settings)
    for name in ("梁平区-gbk.txt", "璧山区-网页.txt", "荣昌区-繁体.txt"):
        (reports / name).unlink()
    build_index(settings)  # one segment, most of its rows deleted
    service = Service(settings)
    rows = service.searcher.index.rows
    assert merge_plan(service.searcher.index) == [_segments(settings)[0]["name"]]
    service.merge(background=True)
    service.merging.join(timeout=60)
    index = service.searcher.index
    assert index.rows == len(index.chunks) < rows and index.districts == ["万州区"]
    assert service.ask("规上工业增加值增长多少？").district == "万州区"
