"""Comparison and plural questions get a table from the fact table: one row per place, each value
cited by its report sentence, places whose report does not state it listed as not stated."""

from __future__ import annotations

import pytest

from qa.compare import asked_indicator, is_comparison
from qa.render import render_answer, table_summary
from qa.service import Service


@pytest.fixture
def service(index, settings):
    return Service(settings)


def _rows(answer) -> dict[str, dict]:
    return {row["place"]: row for row in answer.table}


def test_every_place_gets_a_row_and_each_value_its_sentence(service):
    answer = service.ask("各区2023年地区生产总值分别是多少？")
    rows = _rows(answer)
    assert set(rows) == set(service.districts)  # none skipped
    assert rows["万州区"]["value"] == 1179.4 and rows["万州区"]["unit"] == "亿元" and rows["万州区"]["kind"] == "result"
    assert rows["璧山区"]["value"] == 983
    text = service.documents()[rows["璧山区"]["source"]]["text"]
    assert "983亿元" in text[rows["璧山区"]["start"]:rows["璧山区"]["end"]] == rows["璧山区"]["sentence"]
    assert rows["梁平区"]["value"] is None and rows["梁平区"]["sentence"] == ""  # not stated, not invented
    assert "not stated" not in table_summary(answer) and "未提及" in table_summary(answer)


def test_which_places_state_the_asked_figure(service):
    answer = service.ask("Which districts target 16% industrial growth?")
    assert answer.comparison.matches == ["万州区"]
    assert _rows(answer)["荣昌区"]["value"] == 9  # its own target, shown beside
    assert "1 of" in table_summary(answer) and "万州区" in table_summary(answer)


def test_two_places_which_is_higher(service):
    answer = service.ask("万州区和璧山区2023年地区生产总值哪个更高？")
    assert set(_rows(answer)) == {"万州区", "璧山区"}
    assert table_summary(answer).startswith("最高：万州区（1179.4亿元")


def test_a_single_place_question_has_no_table(service):
    answer = service.ask("万州区2023年地区生产总值是多少？")
    assert answer.table == [] and answer.to_json()["table"] == []


def test_the_table_is_in_the_json_and_the_page(service):
    answer = service.ask("各区2024年规上工业增加值增长目标分别是多少？")
    assert answer.to_json()["table"] == answer.table
    assert set(answer.table[0]) == {"place", "indicator", "measure", "value", "unit", "kind", "qualifier", "year",
                                    "source", "start", "end", "sentence", "page"}
    assert all(row["page"] == "" for row in answer.table)  # text reports have no pages
    page = render_answer(answer)
    assert page.count("<tr") == len(service.districts) + 1 and 'class="qa-bar"' in page and "报告未提及" in page


def test_comparison_wording():
    from qa.query import analyze

    def comparison(text):
        return is_comparison(analyze(text, []))

    assert comparison("各区GDP增速对比") and comparison("哪些区提出增长7%") and comparison("Compare GDP across districts")
    assert not comparison("万州区GDP是多少") and not comparison("What was Wanzhou's GDP?")
    assert asked_indicator("规模以上工业增加值增长多少") == "规上工业增加值"
    assert asked_indicator("fixed-asset investment targets") == "固定资产投资"


def test_the_question_names_its_place_over_the_filter(service):
    answer = service.ask("万州区2023年地区生产总值是多少？", places=["璧山区"])
    assert answer.district == "万州区" and "璧山区" in answer.notice and "万州区" in answer.notice


def test_thresholds_compare_in_the_same_unit(service):
    answer = service.ask("哪些区规上工业增加值增长超过10%？")
    assert answer.comparison.asked == ">10%" and answer.comparison.matches == ["万州区"]  # 16%; 9% is not above
    answer = service.ask("Which districts target industrial growth below 10%?")
    assert answer.comparison.matches == ["荣昌区"]


def test_which_is_lower(service):
    answer = service.ask("万州区和璧山区2023年地区生产总值增长哪个更低？")
    assert answer.comparison.measure == "growth" and table_summary(answer).startswith("最低：万州区（6.9%")


def test_a_modifier_makes_another_indicator():
    assert asked_indicator("各区民营经济增长目标分别是多少") is None
    assert asked_indicator("Compare the digital economy across districts") is None
    assert asked_indicator("各区人均GDP分别是多少") is None
    assert asked_indicator("各区GDP增长目标") == "地区生产总值"


def test_one_place_is_never_a_comparison(service):
    assert service.ask("万州区城镇和农村居民人均可支配收入分别增长多少？").table == []
    assert service.ask("万州区地区生产总值总量和增速在全市排名第几？").table == []


def test_questions_with_no_content_are_refused(service):
    for question in ("？？？", "🚀🚀🚀", "万州区？"):
        assert service.ask(question).abstain, question
