"""What a passage must hold to answer an English question (qa/answer.py content_terms)."""

from __future__ import annotations

from qa.answer import content_terms, coverage
from qa.query import analyze

REPORT = ["全年接待游客1589.32万人次，过夜游客增长58.8%。", "新培育专精特新企业41家。"]


def occurs(zh: str) -> int:
    return len(REPORT) if zh == "" else sum(zh in s for s in REPORT)


def test_english_words_are_rendered_as_words_people_write():
    # Without the index, renderings are chosen by general Chinese usage: 游客, not 观光客 or 旅游客 only.
    query = analyze("How many tourists came?", [])
    alternatives = {a for t in content_terms(query, []) for a in t.alternatives}
    assert "游客" in alternatives
    assert coverage(content_terms(query, []), REPORT[0]) > 0


def test_content_terms_do_not_depend_on_the_index():
    alone = content_terms(analyze("How many tourists came?", []), [])
    with_index = content_terms(analyze("How many tourists came?", [], occurs), [])
    assert alone == with_index
