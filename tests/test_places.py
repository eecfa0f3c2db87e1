"""Who wrote a report, from the report itself: place, level, year and halves — on the reports of
eval/elsewhere/ (written for testing: other provinces, levels, years, formats and noise) and on
the openings that fooled the old gazetteer."""

import json
from pathlib import Path

import pytest

from qa.chunk import chunk_document
from qa.ingest import load_document
from qa.places import detect_place, detect_year, find_place, romanize, short_name
from qa.query import IndexedPlace, find_places, foreign_places, normalize_query

ELSEWHERE = Path(__file__).resolve().parent.parent / "eval" / "elsewhere"
EXPECTED = json.loads((ELSEWHERE / "expected.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def documents():
    return {name: load_document(ELSEWHERE / name) for name in EXPECTED}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_elsewhere_place_level_and_year(documents, name):
    doc, want = documents[name], EXPECTED[name]
    assert doc.place in (want["place"], want["province"] + want["place"]), doc.detected
    assert doc.district == want["name"]
    assert doc.level == want["level"]
    assert doc.year == want["year"], doc.detected
    assert not [w for w in doc.warnings if "no reporting government" in w]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_elsewhere_halves(documents, name):
    chunks = chunk_document(documents[name])
    for half in ("review", "plan"):
        for sentence in EXPECTED[name][half]:
            holders = [c for c in chunks if sentence in c.text]
            assert holders, (name, sentence)
            assert {c.half for c in holders} == {half}, (name, sentence, [c.section for c in holders])


@pytest.mark.parametrize("opening, filename, place, year", [
    ("深圳市龙岗区2024年政府工作报告\n各位代表：\n让老年人健康长寿。\n", "x.txt", "深圳市龙岗区", 2024),
    ("2024年成安县政府工作报告\n学习南京江北新区经验。\n", "x.txt", "邯郸市成安县", 2024),
    ("宁波市江北区2024年政府工作报告\n各位代表：\n", "jiangbei.txt", "宁波市江北区", 2024),
    ("政府工作报告\n——2025年1月15日在甘肃省第十四届人民代表大会第三次会议上\n兰州市、天水市发展很好。\n", "g.md", "甘肃省", 2025),
    ("2025年无锡市政府工作报告\n2024年政府工作报告确定的目标任务全面完成。\n", "x-2025.txt", "江苏省无锡市", 2025),
    ("政府工作报告\n——二〇二四年一月十日在夏县第十七届人民代表大会第三次会议上\n", "x.txt", "运城市夏县", 2024),
])
def test_detection_from_the_opening(opening, filename, place, year):
    found, how, _ = detect_place(opening, filename)
    assert found.qualified == place and how
    assert detect_year(opening, filename)[0] == year


def test_nothing_found_is_a_warning_not_a_garbage_name():
    place, _, warnings = detect_place("各位代表：\n我代表区人民政府向大会报告工作。\n", "wuxi-2024.txt")
    assert place is None  # wuxi is 无锡 and 巫溪: the file name alone can't say
    assert "metadata.json" in warnings[0]
    year, _, warnings = detect_year("各位代表：\n2024年政府工作报告确定的任务完成。\n", "x-2025.txt")
    assert year == 2025 and "file name" in warnings[0]


def test_filename_year_that_disagrees_is_reported():
    year, _, warnings = detect_year("2025年无锡市政府工作报告\n", "wuxi-2024.txt")
    assert year == 2025 and "2024" in warnings[0]


def test_names_short_forms_and_pinyin():
    assert short_name("城步苗族自治县") == "城步" and short_name("夏县") == "夏县" and short_name("内蒙古自治区") == "内蒙古"
    assert romanize("南岸区") == "Nan'an" and romanize("夏县") == "Xia"
    assert find_place("重庆市江北区").qualified == "重庆市江北区" and find_place("江北区") is None  # two 江北区


def _indexed(*qualified):
    out = []
    for q in qualified:
        p = find_place(q)
        out.append(IndexedPlace(p.qualified, p.name, p.short, p.english, p.level, p.province))
    return out


def test_questions_name_indexed_places_in_any_form():
    places = _indexed("重庆市长寿区", "宁波市江北区", "重庆市江北区", "深圳市龙岗区", "运城市夏县", "浙江省嘉兴市")

    def found(q):
        return find_places(normalize_query(q), places)

    assert found("长寿区2023年GDP") == ["重庆市长寿区"] and found("長壽去年GDP") == ["重庆市长寿区"]
    assert found("让老人健康长寿") == [] and found("江北新区的投资") == []
    assert found("宁波江北区的GDP") == ["宁波市江北区"]
    assert sorted(found("江北区GDP")) == ["宁波市江北区", "重庆市江北区"]
    assert found("What is Longgang's GDP target?") == ["深圳市龙岗区"]
    assert found("Xia County GDP") == ["运城市夏县"] and found("Jiaxing city") == ["浙江省嘉兴市"]


def test_places_that_are_not_indexed_are_recognised():
    places = _indexed("重庆市万州区")
    assert foreign_places(normalize_query("浦东新区2023年GDP是多少？"), places, []) == ["浦东新区"]
    assert foreign_places("What is Suzhou's 2024 growth target?", places, []) == ["Suzhou"]
    assert foreign_places("What was Wanzhou's GDP?", places, []) == []
