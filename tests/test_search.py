import numpy as np

from qa.answer import make_answer
from qa.search import Searcher, analyze, english_expansion, find_districts

KNOWN = ["万州区", "梁平区", "璧山区", "荣昌区", "大足区"]


def test_query_analysis_districts_in_every_script():
    assert analyze("萬州區2023年完成固定資產投資多少？", KNOWN).districts == ["万州区"]
    assert analyze("万州去年接待了多少游客？", KNOWN).districts == ["万州区"]
    assert analyze("What was Bishan's GDP in 2023?", KNOWN).districts == ["璧山区"]
    assert find_districts("Compare WANZHOU and rongchang", KNOWN) == ["万州区", "荣昌区"]
    assert analyze("哪个区提出规上工业增加值增长16%？", KNOWN).districts == []


def test_query_analysis_numbers_width_and_language():
    q = analyze("哪個區規上工業增加值增長１６％？", KNOWN)
    assert q.text == "哪个区规上工业增加值增长16%？"
    assert q.numbers == ["16%"] and q.lang == "zh"
    q = analyze("Which district targets 16% industrial growth in 2024?", KNOWN)
    assert q.lang == "en" and q.numbers == ["16%"]  # the year is not a figure


def test_english_expansion_prefers_longest_phrase():
    expansion = english_expansion("what is the industrial added value target")
    assert "规上工业增加值" in expansion
    assert english_expansion("fixed asset investment").startswith("固定资产投资")


def test_hybrid_finds_figure_and_highlights_sentence(index, settings):
    searcher = Searcher(index, settings)
    hits = searcher.search("哪个区提出规上工业增加值增长16%？", k=3)
    assert hits[0].district == "万州区"
    assert "规上工业增加值增长16%" in hits[0].sentence
    assert hits[0].text[hits[0].sentence_start : hits[0].sentence_end] == hits[0].sentence
    top = index.documents[hits[0].source]["text"][hits[0].start : hits[0].end]
    assert top == hits[0].text


def test_district_in_question_filters(index, settings):
    searcher = Searcher(index, settings)
    hits = searcher.search("Bishan 地区生产总值", k=10)
    assert hits and {h.district for h in hits} == {"璧山区"}
    hits = searcher.search("地区生产总值", k=10, districts=["荣昌区"])
    assert {h.district for h in hits} == {"荣昌区"}


def test_hybrid_is_fusion_of_its_parts(index, settings):
    """Every hybrid hit comes from the dense or keyword ranking, and a passage that is first in
    both is first in the fusion."""
    searcher = Searcher(index, settings)
    question = "规上工业增加值增长16%"
    dense = searcher.search(question, k=len(index.chunks), retriever="dense")
    keyword = searcher.search(question, k=5, retriever="keyword")
    hybrid = searcher.search(question, k=5)
    assert {h.chunk_id for h in hybrid} <= {h.chunk_id for h in dense}
    if dense[0].chunk_id == keyword[0].chunk_id:
        assert hybrid[0].chunk_id == dense[0].chunk_id
    scores = [h.score for h in hybrid]
    assert scores == sorted(scores, reverse=True)


def test_dense_ranking_is_brute_force_cosine(index, settings):
    searcher = Searcher(index, settings)
    hits = searcher.search("全年接待游客", k=5, retriever="dense")
    q = searcher.embedder.encode_query([analyze("全年接待游客", searcher.districts).text])[0]
    vectors = index.vectors.reconstruct_n(0, index.vectors.ntotal)
    expected = np.argsort(-(vectors @ q), kind="stable")[:5]
    assert [h.chunk_id for h in hits] == [index.chunks[i].id for i in expected]


def test_answer_abstains_on_unrelated_question(index, settings):
    searcher = Searcher(index, settings)
    query = analyze("How many penguins live on Mars?", searcher.districts)
    answer = make_answer(query, searcher.search_query(query, k=3))
    assert answer.abstain and answer.district is None
    query = analyze("哪个区提出规上工业增加值增长16%？", searcher.districts)
    answer = make_answer(query, searcher.search_query(query, k=3))
    assert not answer.abstain and answer.district == "万州区"
    assert "16%" in answer.sentence


def test_question_half():
    from qa.search import question_half

    assert question_half("万州区今年规上工业增加值目标是多少？") == "plan"
    assert question_half("How fast did Dazu's economy grow last year?") == "review"
    assert question_half("万州区规上工业增加值") == ""
    assert analyze("万州区2023年GDP", KNOWN).years == [2023]


def test_year_prefers_the_matching_half(index, settings):
    searcher = Searcher(index, settings)
    review = searcher.search("万州区2023年规上工业", k=1)[0]
    plan = searcher.search("万州区2024年规上工业", k=1)[0]
    halves = {c.id: c.half for c in index.chunks}
    assert halves[review.chunk_id] == "review" and halves[plan.chunk_id] == "plan"


def test_english_words_without_a_report_term_count_as_uncovered(index, settings):
    from qa.search import english_leftovers

    assert english_leftovers("How many electric buses does Bishan plan to buy?", ["璧山区"]) == ["electric", "buses", "buy"]
    assert english_leftovers("What is Wanzhou's GDP growth target?", ["万州区"]) == []
    searcher = Searcher(index, settings)
    known = searcher.search("What is Wanzhou's GDP growth target?", k=1)[0]
    unknown = searcher.search("How many electric buses does Wanzhou plan to buy?", k=1)[0]
    assert known.coverage > unknown.coverage
