import json

from qa.bench import percentile, run_all, run_one
from qa.store import build_index


def testpercentile_interpolates():
    assert percentile([1, 2, 3, 4, 5], 0.5) == 3
    assert percentile([10, 20], 0.95) == 19.5


def _data(tmp_path):
    rows = [
        {"id": "a", "question": "哪个区提出规上工业增加值增长16%？", "lang": "zh", "district": "万州区", "answer": "万州区",
         "evidence": ["规上工业增加值增长16%"], "type": "which"},
        {"id": "b", "question": "璧山区2023年地区生产总值是多少？", "lang": "zh", "district": "璧山区", "answer": "983亿元",
         "evidence": ["地区生产总值实现983亿元、增长7.2%"], "type": "review"},
        {"id": "c", "question": "火星上有几个区？", "lang": "zh", "district": None, "answer": "", "evidence": [], "type": "none"},
    ]
    path = tmp_path / "mini.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    return path


def test_project_row_measures_quality_speed_and_incremental_build(settings, tmp_path):
    row = run_one("project", settings, _data(tmp_path))
    assert row.recall_at_5 == 1.0 and row.mrr > 0.5
    assert row.chunks > 0 and row.build_s > 0 and row.incremental_add_s > 0
    assert 0 < row.search_p50_ms <= row.search_p95_ms and row.floor_p50_ms > 0 and row.peak_mb > 0


def test_all_systems_side_by_side_in_their_own_processes(settings, tmp_path):
    build_index(settings)  # the recipes read the cleaned reports from the index
    rows = run_all(settings, _data(tmp_path))
    assert [r.system for r in rows] == ["project", "langchain", "bm25"]
    for r in rows:
        assert 0 <= r.recall_at_5 <= 1 and r.peak_mb > 0 and r.chunks > 0
    assert rows[2].floor_p50_ms is None  # BM25 embeds nothing
    assert rows[1].floor_p50_ms > 0
