from qa.bench import _percentile, run_bench


def test_percentile_interpolates():
    assert _percentile([1, 2, 3, 4, 5], 0.5) == 3
    assert _percentile([10, 20], 0.95) == 19.5


def test_bench_builds_adds_and_times(settings):
    result = run_bench(settings, ["规上工业增加值增长16%", "Wanzhou GDP"], k=3, repeats=2)
    assert result.reports == 4 and result.chunks > 0
    assert result.added_report == "荣昌区-繁体.txt"
    assert result.full_build_s > 0 and result.incremental_add_s > 0
    assert 0 < result.floor_p50_ms and 0 < result.search_p50_ms <= result.search_p95_ms
