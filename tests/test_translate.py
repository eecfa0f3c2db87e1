"""English → Chinese candidate terms, against the real CC-CEDICT data and a small real-style passage set."""

from __future__ import annotations

import time

import pytest

from qa.translate import Term, content_words, english_terms, lemmas

SENTENCES = [
    "全年完成老旧小区改造120个，加装电梯85部。",
    "新增养老床位500张，建成社区养老服务中心12个。",
    "护理型床位占比提高到55%。",
    "新建改扩建学校8所，新增学位4000个。",
    "建成农村公路300公里，改造危旧桥梁15座。",
    "全年接待游客3200万人次，旅游综合收入增长12%。",
    "建成高标准农田5万亩，耕地保有量稳定。",
    "城市生活污水集中处理率达到98%，长江干流水质保持优良。",
    "中国（重庆）自由贸易试验区建设提速。",
    "新建养老院3所，幼儿园普惠率达到92%。",
    "出口总额增长8%，进口总额增长5%。",
]


def occurs(zh: str) -> int:
    return sum(zh in s for s in SENTENCES)


def chinese(text: str, **kw) -> list[str]:
    return [t.chinese for t in english_terms(text, occurs, **kw)]


def test_elevators_become_dianti():
    terms = english_terms("How many elevators were installed in old residential compounds?", occurs)
    assert all(isinstance(t, Term) for t in terms)
    assert any(t.english == "elevators" and t.chinese == "电梯" for t in terms)


@pytest.mark.parametrize("question", ["How many nursing beds were added?", "elderly care beds"])
def test_care_beds(question):
    assert any("床位" in zh or "养老" in zh for zh in chinese(question))


def test_single_characters_only_as_last_resort():
    # 床 occurs (inside 床位) but a multi-character rendering of "beds" occurs too.
    assert "床" not in chinese("beds") and "床位" in chinese("beds")


@pytest.mark.parametrize("word", ["school", "schools"])
def test_school_and_plural(word):
    assert "学校" in chinese(word)


def test_tourists():
    assert {"游客", "旅游"} & set(chinese("How many tourists visited last year?"))


def test_phrase_before_words():
    terms = english_terms("How many nursing homes were built?", occurs)
    assert ("nursing homes", "养老院") in {(t.english, t.chinese) for t in terms}
    assert not any(t.english in ("nursing", "homes") for t in terms)


def test_plural_reaches_the_verb_sense_too():
    assert chinese("exports")[0] == "出口"


def test_never_returns_absent_candidates():
    questions = ["elevators schools tourists farmland sewage kindergarten roads bridges exports", "old compounds"]
    for q in questions:
        terms = english_terms(q, occurs)
        assert terms and all(occurs(t.chinese) > 0 for t in terms)
    without_dianti = english_terms("elevators", lambda zh: 0 if zh == "电梯" else occurs(zh))
    assert "电梯" not in [t.chinese for t in without_dianti]


def test_weights_limits_and_determinism():
    q = "How many elevators, schools, tourists, old farmland roads and sewage pipes were reported?"
    assert english_terms(q, occurs) == english_terms(q, occurs)
    everywhere = english_terms(q, lambda zh: 100 if zh == "" else 20)  # every candidate occurs equally
    assert all(0 < t.weight <= 1 for t in everywhere)
    ties = [(a, b) for a, b in zip(everywhere, everywhere[1:]) if a.english == b.english and a.weight == b.weight]
    assert ties and all(a.chinese < b.chinese for a, b in ties)
    best = {t.english: t.chinese for t in english_terms(q, lambda zh: 100 if zh == "" else 20, per_word=1)}
    for t in everywhere:  # the kept one of tied candidates is the first headword in code-point order
        assert best[t.english] <= t.chinese or t.weight < max(u.weight for u in everywhere if u.english == t.english)
    for per_word in (1, 3):
        counts: dict[str, int] = {}
        for t in english_terms(q, lambda zh: 100 if zh == "" else 20, per_word=per_word):
            counts[t.english] = counts.get(t.english, 0) + 1
        assert max(counts.values()) == per_word


def test_terms_in_almost_every_passage_count_less():
    weight = {total: english_terms("elevators", lambda zh: total if zh == "" else 10)[0].weight for total in (10, 100)}
    assert weight[10] < weight[100]


def test_proper_names_are_not_translated():
    # 中国 is glossed "China", 长江 "Yangtze River" (head noun "river"); both occur in SENTENCES.
    assert "中国" not in chinese("China") and "长江" not in chinese("river")


def test_stopwords():
    words = content_words("How many of the schools did they build in Wanzhou in 2023?")
    assert words == ["schools", "build", "wanzhou"]  # place names are the caller's to remove
    assert content_words("What was the number of the year?") == []
    assert english_terms("What was the total number for the year?", occurs) == []
    assert english_terms("", occurs) == []


@pytest.mark.parametrize("word,base", [
    ("elevators", "elevator"), ("cities", "city"), ("buses", "bus"), ("installed", "install"),
    ("built", "build"), ("growing", "grow"), ("women", "woman"), ("planned", "plan"),
    ("studied", "study"), ("raised", "raise"), ("shelves", "shelf"), ("boxes", "box"),
])
def test_lemmas(word, base):
    assert base in lemmas(word)


def test_lemmas_leave_non_plurals_alone():
    assert lemmas("bus") == [] and lemmas("news") == [] and "gas" not in lemmas("gas")


def test_speed_after_load():
    english_terms("warm up", occurs)
    q = "How many new elevators and nursing beds were installed in old residential compounds and schools last year?"
    start = time.perf_counter()
    for _ in range(20):
        english_terms(q, occurs)
    assert (time.perf_counter() - start) / 20 < 0.005
