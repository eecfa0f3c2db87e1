"""The fact table (qa/facts.py): figures of report sentences as rows, SQLite storage and queries.

Real excerpts from tests/data, plus short reports written here in the style of other places and
years (a fictional county's 2025 report, a prefecture city's 2023 report with a target table).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qa import facts as facts_module
from qa.chunk import chunk_document
from qa.errors import QAError
from qa.facts import JSON_KEYS, extract, figures_in, query_facts, write_facts
from qa.indicators import convert, english_amount, parse_english_amount, standard_name
from qa.ingest import Document, load_document

DATA = Path(__file__).parent / "data"

COUNTY_2025 = """2025年青山县政府工作报告
——2025年1月10日在青山县第十八届人民代表大会第四次会议上
各位代表：
一、2024年工作回顾
过去一年，全县地区生产总值、规上工业增加值、固定资产投资分别增长6.1%、8.4%、11.3%。
实现地区生产总值286.5亿元、增长6.1%，总量和增速均位列全市第3。
城镇居民人均可支配收入45210元、农村居民人均可支配收入23860元，分别增长4.9%和6.8%。
规上工业产值和增加值均增长9.2%。
新建5G基站420个，建成T2航站楼配套工程，党建统领“885”机制持续深化，连续12个月排名前10名。
单位地区生产总值能耗下降3.2%，城镇新增就业三万人。
二、2025年工作安排
今年经济社会发展的主要预期目标是：地区生产总值增长6%左右；
一般公共预算收入增长百分之五；
城镇调查失业率控制在5.5%以内；
社会消费品零售总额突破150亿元；
全社会研发投入强度提高一个百分点。
全力抓好八个方面工作，落实“十四五”规划。
2024年全县粮食产量达到32.6万吨。
"""

CITY_2023 = """2023年临川市政府工作报告
一、2022年工作回顾
全年实现地区生产总值1520亿元，增长4.8%。
二、2023年工作安排
指标 2022年完成 2023年目标
地区生产总值增速 4.8% 6%左右
城镇新增就业（万人） 3.1 3以上
"""


def make_doc(text: str, source: str, place: str, year: int, sha: str = "sha-1") -> tuple[dict, list]:
    doc = Document(source=source, sha256=sha, text=text, district=place[-3:], year=year, title=text.split("\n")[0],
                   place=place, short=place[-3:-1])
    return {**doc.meta(), "text": doc.text}, chunk_document(doc)


def facts_of(text: str, place: str = "江南省临川市青山县", year: int = 2025) -> list:
    doc, chunks = make_doc(text, "qingshan-2025.txt", place, year)
    return extract(doc, chunks)


def find(rows, **want):
    return [r for r in rows if all(getattr(r, k) == v for k, v in want.items())]


@pytest.fixture(scope="module")
def county():
    return facts_of(COUNTY_2025)


def test_list_with_fenbie_gives_one_row_per_indicator(county):
    rows = [r for r in county if r.sentence.startswith("过去一年")]
    assert [(r.indicator, r.value, r.measure) for r in rows] == [
        ("地区生产总值", 6.1, "growth"), ("规上工业增加值", 8.4, "growth"), ("固定资产投资", 11.3, "growth")]


def test_fenbie_after_a_comma_refers_to_the_figures_before(county):
    rows = [r for r in county if "分别增长4.9%和6.8%" in r.sentence]
    got = {(r.indicator, r.measure, r.value) for r in rows}
    assert ("城镇居民人均可支配收入", "growth", 4.9) in got
    assert ("农村居民人均可支配收入", "growth", 6.8) in got
    assert ("城镇居民人均可支配收入", "level", 45210) in got


def test_jun_gives_the_value_to_each_phrase(county):
    rows = [r for r in county if r.sentence.startswith("规上工业产值和增加值")]
    assert {(r.indicator, r.value) for r in rows} == {("规上工业产值", 9.2), ("规上工业增加值", 9.2)}


def test_level_and_growth_of_one_indicator_from_a_real_report():
    doc = load_document(DATA / "万州区-节选.txt")
    rows = extract({**doc.meta(), "text": doc.text}, chunk_document(doc))
    gdp = find(rows, indicator="地区生产总值", kind="result")
    assert {(r.measure, r.value, r.unit, r.year) for r in gdp} >= {("level", 1179.4, "亿元", 2023),
                                                                   ("growth", 6.9, "%", 2023)}
    for r in gdp:  # the span is the sentence, in the cleaned text
        assert doc.text[r.start:r.end] == r.sentence and "1179.4" in r.sentence


def test_level_and_growth_and_no_ranks(county):
    rows = [r for r in county if r.sentence.startswith("实现地区生产总值286.5")]
    assert [(r.indicator, r.measure, r.value, r.unit) for r in rows] == [
        ("地区生产总值", "level", 286.5, "亿元"), ("地区生产总值", "growth", 6.1, "%")]


def test_qualifiers(county):
    targets = {r.indicator: r for r in county if r.kind == "target"}
    assert targets["地区生产总值"].qualifier == "左右"
    assert (targets["城镇调查失业率"].qualifier, targets["城镇调查失业率"].measure) == ("以内", "rate")
    assert (targets["社会消费品零售总额"].qualifier, targets["社会消费品零售总额"].value) == ("突破", 150)


def test_chinese_numerals(county):
    assert find(county, indicator="一般公共预算收入", kind="target")[0].value == 5
    jobs = find(county, indicator="城镇新增就业")[0]
    assert (jobs.value, jobs.unit, jobs.measure) == (3, "万人", "count")
    rd = find(county, indicator="研发投入强度")[0]
    assert (rd.value, rd.unit, rd.measure) == (1, "个百分点", "growth")


def test_a_fall_is_a_negative_growth(county):
    energy = find(county, indicator="单位地区生产总值能耗")[0]
    assert (energy.measure, energy.value) == ("growth", -3.2)


def test_dates_ranks_and_names_with_digits_are_not_figures(county):
    names = [r for r in county if r.sentence.startswith("新建5G基站")]  # 5G, T2, “885”, 12个月, 前10名
    assert [(r.indicator, r.value, r.unit, r.measure) for r in names] == [("新建5G基站", 420, "个", "count")]
    assert not [r for r in county if "八个方面" in r.sentence]  # 八个方面, “十四五”
    assert 3 not in {r.value for r in county if "位列全市第3" in r.sentence}
    assert not figures_in("2024年2月2日，位列全市第8，渝东北第1，“两个不低于”，连续12个月，500万人口城市")


def test_kind_from_half_and_wording(county):
    assert {r.kind for r in county if r.start < COUNTY_2025.index("二、2025年")} == {"result"}
    assert find(county, indicator="地区生产总值", kind="target")[0].year == 2025
    assert find(county, indicator="地区生产总值", measure="level")[0].year == 2024
    # a plan part that states last year's figure: the sentence's year decides
    grain = find(county, indicator="粮食产量")[0]
    assert (grain.kind, grain.year) == ("result", 2024)
    # a passage of neither half: its wording
    plain = "青山县工作简报\n力争城镇新增就业4000人以上。\n全年完成固定资产投资88亿元，同比增长9%。\n"
    rows = facts_of(plain)
    assert find(rows, indicator="城镇新增就业")[0].kind == "target"
    assert {r.kind for r in find(rows, indicator="固定资产投资")} == {"result"}


def test_table_columns_give_kind_and_year():
    rows = facts_of(CITY_2023, place="江南省临川市", year=2023)
    table = [r for r in rows if r.sentence.startswith(("地区生产总值增速", "城镇新增就业"))]
    got = {(r.indicator, r.kind, r.year, r.value, r.unit, r.qualifier) for r in table}
    assert got == {("地区生产总值", "result", 2022, 4.8, "%", ""), ("地区生产总值", "target", 2023, 6, "%", "左右"),
                   ("城镇新增就业", "result", 2022, 3.1, "万人", ""), ("城镇新增就业", "target", 2023, 3, "万人", "以上")}


def test_units_convert_between_chinese_and_english():
    assert convert(28, "亿元", "万元") == 280000
    assert parse_english_amount("28 billion yuan") == (280, "亿元")
    assert parse_english_amount("1.5 million people") == (150, "万人")
    assert english_amount(280, "亿元") == "28 billion yuan"
    with pytest.raises(ValueError):
        convert(1, "亿元", "万人")


def test_indicator_names_variants_and_english():
    assert standard_name("规模以上工业增加值") == standard_name("industrial value added") == "规上工业增加值"
    assert standard_name("GDP") == standard_name("经济总量") == "地区生产总值"
    assert standard_name("retail sales") == "社会消费品零售总额"
    assert standard_name("新建5G基站") is None


def test_json_row_has_exactly_the_contract_keys(county):
    row = county[0].to_json()
    assert tuple(row) == JSON_KEYS
    assert json.loads(json.dumps(row, ensure_ascii=False))["value"] == row["value"]


# ---- storage ---------------------------------------------------------------------------------

def _two_docs(sha_a="a1", text_a=COUNTY_2025):
    a = make_doc(text_a, "qingshan-2025.txt", "江南省临川市青山县", 2025, sha=sha_a)
    b = make_doc(CITY_2023, "linchuan-2023.txt", "江南省临川市", 2023, sha="b1")
    return [a[0], b[0]], {"qingshan-2025.txt": a[1], "linchuan-2023.txt": b[1]}


def test_incremental_rebuild_reextracts_only_changed_documents(tmp_path, monkeypatch):
    docs, chunks = _two_docs()
    first = write_facts(tmp_path / "v1.sqlite", docs, chunks)
    assert sorted(first.extracted) == ["linchuan-2023.txt", "qingshan-2025.txt"]

    changed = COUNTY_2025.replace("286.5亿元", "291.2亿元")
    docs, chunks = _two_docs(sha_a="a2", text_a=changed)
    seen = []
    real_extract = facts_module.extract
    monkeypatch.setattr(facts_module, "extract", lambda doc, ch: seen.append(doc["source"]) or real_extract(doc, ch))
    second = write_facts(tmp_path / "v2.sqlite", docs, chunks, previous_db=tmp_path / "v1.sqlite")
    assert seen == ["qingshan-2025.txt"] and second.kept == ["linchuan-2023.txt"]
    levels = query_facts(tmp_path / "v2.sqlite", indicator="GDP", measure="level", places=["青山县"])
    assert [r.value for r in levels] == [291.2]
    assert query_facts(tmp_path / "v2.sqlite", places=["临川市"], kind="target")  # kept rows are still there

    third = write_facts(tmp_path / "v3.sqlite", docs[:1], chunks, previous_db=tmp_path / "v2.sqlite")
    assert third.removed == ["linchuan-2023.txt"] and third.kept == ["qingshan-2025.txt"]
    with pytest.raises(QAError, match="Unknown place"):
        query_facts(tmp_path / "v3.sqlite", places=["临川市"])


def test_query_by_variant_english_name_or_phrase_words(tmp_path):
    docs, chunks = _two_docs()
    db = tmp_path / "facts.sqlite"
    write_facts(db, docs, chunks)
    by_name = query_facts(db, indicator="规上工业增加值")
    assert by_name and by_name == query_facts(db, indicator="规模以上工业增加值") == query_facts(
        db, indicator="industrial value added")
    targets = query_facts(db, indicator="GDP", kind="target", measure="growth")
    assert {(r.place, r.year, r.value) for r in targets} == {("江南省临川市青山县", 2025, 6), ("江南省临川市", 2023, 6)}
    assert [r.value for r in query_facts(db, indicator="5G基站")] == [420]
    assert query_facts(db, indicator="GDP", year=2022)[0].place == "江南省临川市"


def test_cli_facts_reads_the_table_the_build_made(index, settings, capsys):
    from qa.cli import main

    assert main(["facts", "--index", str(settings.index_dir), "--indicator", "GDP", "--place", "万州区", "--json"]) == 0
    out, err = capsys.readouterr()
    rows = json.loads(out)
    assert not err
    assert rows and {r["place"] for r in rows} == {"重庆市万州区"} and all(r["indicator"] == "地区生产总值" for r in rows)
    assert main(["facts", "--index", str(settings.index_dir), "--place", "浦东新区"]) == 1
    assert "Unknown place" in capsys.readouterr().err


def test_a_per_unit_modifier_covers_every_part_of_a_list():
    rows = facts_of("一、2024年工作回顾\n推进亩均效益评价，规上工业亩均增加值、税收分别达到126万元、14.2万元。\n")
    by_value = {r.value: r.indicator for r in rows}
    assert by_value[14.2] == "规上工业亩均税收"  # a per-mu figure, not the county's tax revenue
    assert "税收收入" not in by_value.values()
