"""`qa bench --scale`: the synthetic corpus and the per-size measurements (hash embedder, small sizes)."""

import hashlib
import json
from pathlib import Path

from qa.bench import generate_corpus, perturb_figures, run_scale, scale_places, scale_questions, scale_table
from qa.config import Settings
from qa.places import find_place

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted((ROOT / "reports").glob("*.txt"))


def test_generated_copies_have_distinct_texts_and_places(tmp_path):
    places = scale_places(12, exclude={"万州区"})
    new = generate_corpus(SOURCES, tmp_path / "reports", 12, places=places)
    files = sorted((tmp_path / "reports").glob("*.txt"))
    assert len(files) == 12 and set(new) == {f.name for f in files}
    digests = {hashlib.sha256(f.read_bytes()).hexdigest() for f in files}
    assert len(digests) == 12  # the build would skip an identical text
    assert not digests & {hashlib.sha256(p.read_bytes()).hexdigest() for p in SOURCES}
    meta = json.loads((tmp_path / "reports" / "metadata.json").read_text(encoding="utf-8"))
    assert meta == new and len({m["district"] for m in meta.values()}) == 12
    assert all(m["year"] == 2024 and find_place(m["district"]) is not None for m in meta.values())
    assert "万州区" not in {m["district"] for m in meta.values()}
    # a second batch continues the numbering and keeps the first batch's entries
    generate_corpus(SOURCES, tmp_path / "reports", 1, start=12, places=scale_places(13, exclude={"万州区"}))
    meta = json.loads((tmp_path / "reports" / "metadata.json").read_text(encoding="utf-8"))
    assert len(meta) == 13 and len({m["district"] for m in meta.values()}) == 13


def test_perturb_keeps_years_and_scales_figures():
    text = "2023年地区生产总值实现983亿元、增长7.2%，2024年1月23日，新增就业12000人"
    out = perturb_figures(text, 1.002)
    assert out.startswith("2023年") and "2024年1月23日" in out
    assert "985亿元" in out and "7.2%" in out and "12024人" in out


def test_questions_name_the_generated_places():
    places = scale_places(30)
    questions = scale_questions(places, 50)
    assert len(questions) == 50 and all(any(p in q for p in places) for q in questions)


def test_scale_rows_for_two_sizes(tmp_path):
    settings = Settings(reports_dir=ROOT / "reports", index_dir=tmp_path / "no-index", embedder="hash")
    rows = run_scale(settings, [2, 4], questions=10)
    assert [r.reports for r in rows] == [2, 4]
    assert 0 < rows[0].passages < rows[1].passages
    for r in rows:
        assert r.full_build_s > 0 and r.add_one_s > 0 and r.load_s > 0 and r.rss_mb > 10
        assert 0 < r.search_p50_ms <= r.search_p95_ms and r.questions == 10
    table = scale_table(rows).splitlines()
    assert table[0] == "| reports | passages | full build s | add one s | load s | RSS MB | search p50 / p95 ms |"
    assert [line.split("|")[1].strip() for line in table[2:]] == ["2", "4"]
    assert not (tmp_path / "no-index").exists()  # nothing written beside the settings' index


def test_places_start_over_with_an_earlier_year_past_the_list(tmp_path):
    count = len(set(scale_places(4000)))
    places = scale_places(count + 2)
    assert places[count:] == places[:2]
    sources = SOURCES[:1]
    generate_corpus(sources, tmp_path / "r", 1, start=0, places=places)  # copy 0 only: cheap
    meta = generate_corpus(sources, tmp_path / "r", 1, start=count, places=places)
    assert list(meta.values()) == [{"district": places[0], "year": 2023}]
