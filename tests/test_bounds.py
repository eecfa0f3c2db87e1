"""Bounded work per question: the length limit, k from 1 to 50, places not indexed named, and
questions answered in parallel threads."""

from __future__ import annotations

import threading

import pytest

from qa.errors import QAError
from qa.service import Service, check_k


@pytest.fixture
def service(index, settings):
    return Service(settings)


def test_a_question_over_the_limit_is_refused_before_search(service, monkeypatch):
    limit = service.settings.max_question_chars
    monkeypatch.setattr(service.searcher, "analyze", lambda q: pytest.fail("analysed a refused question"))
    with pytest.raises(QAError, match=f"too long .*limit is {limit}"):
        service.ask("万" * (limit + 1))
    with pytest.raises(QAError, match="too long"):
        service.ask("万州区地区生产总值" * 120_000)  # ~1 MB


def test_a_question_at_the_limit_is_answered(service):
    question = "万州区2023年地区生产总值是多少？"
    question += " " * (service.settings.max_question_chars - len(question))
    assert service.ask(question).hits


@pytest.mark.parametrize("k", [-1, 0, 51, 10**9, 2.5, "x", None])
def test_k_out_of_range_is_refused(service, k):
    with pytest.raises(QAError, match="k must be a whole number from 1 to 50"):
        service.ask("万州区2023年地区生产总值", k=k)


def test_k_in_range(service, settings):
    assert check_k(1, settings) == 1 and check_k(50, settings) == 50
    assert len(service.ask("地区生产总值", k=50).hits) <= 50


def test_a_place_not_indexed_is_named_with_the_indexed_ones(service):
    answer = service.ask("浦东新区2023年GDP是多少？")
    assert answer.abstain and answer.district is None
    assert "浦东新区" in answer.note and all(name in answer.note for name in service.districts)
    english = service.ask("What was Pudong's GDP in 2023?")
    assert english.abstain and "Pudong: not among the indexed reports" in english.note


def test_questions_run_in_parallel_threads(service):
    """Many threads at once all get their answers (no deadlock, no shared-state mix-up)."""
    questions = ["万州区2023年地区生产总值是多少？", "哪个区提出规上工业增加值增长16%？", "荣昌区今年的目标是什么？"] * 8
    results: dict[int, str] = {}

    def run(i, q):
        results[i] = service.ask(q).question

    threads = [threading.Thread(target=run, args=(i, q)) for i, q in enumerate(questions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert results == dict(enumerate(questions))
