import numpy as np

from qa.answer import ask
from qa.query import normalize_query
from qa.search import Searcher


def test_hybrid_finds_figure_and_highlights_sentence(index, settings):
    searcher = Searcher(index, settings)
    answer = ask(searcher, "哪个区提出规上工业增加值增长16%？", k=3)
    hits = answer.hits
    assert hits[0].district == "万州区" and hits[0].place == "重庆市万州区"
    assert "规上工业增加值增长16%" in hits[0].sentence
    assert hits[0].text[hits[0].sentence_start : hits[0].sentence_end] == hits[0].sentence
    top = index.documents[hits[0].source]["text"][hits[0].start : hits[0].end]
    assert top == hits[0].text


def test_district_in_question_filters(index, settings):
    searcher = Searcher(index, settings)
    hits = searcher.search("Bishan 地区生产总值", k=10)
    assert hits and {h.district for h in hits} == {"璧山区"}
    hits = searcher.search("地区生产总值", k=10, places=["荣昌区"])
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
    q = searcher.embedder.encode_query([normalize_query("全年接待游客")])[0]
    vectors = index.vectors.reconstruct_n(0, index.vectors.ntotal)
    expected = np.argsort(-(vectors @ q), kind="stable")[:5]
    assert [h.chunk_id for h in hits] == [index.chunks[i].id for i in expected]


def test_answer_abstains_on_unrelated_question(index, settings):
    searcher = Searcher(index, settings)
    answer = ask(searcher, "How many penguins live on Mars?", k=3)
    assert answer.abstain and answer.district is None
    answer = ask(searcher, "哪个区提出规上工业增加值增长16%？", k=3)
    assert not answer.abstain and answer.district == "万州区"
    assert "16%" in answer.sentence


def test_year_prefers_the_matching_half(index, settings):
    searcher = Searcher(index, settings)
    review = searcher.search("万州区2023年规上工业", k=1)[0]
    plan = searcher.search("万州区2024年规上工业", k=1)[0]
    halves = {c.id: c.half for c in index.chunks}
    assert halves[review.chunk_id] == "review" and halves[plan.chunk_id] == "plan"


def test_the_searcher_loads_its_model_on_one_thread(index, settings, monkeypatch):
    import qa.search as search_module
    from qa.embed import HashEmbedder

    asked = []
    monkeypatch.setattr(search_module, "get_embedder", lambda spec, threads=None: asked.append(threads) or HashEmbedder())
    Searcher(index, settings).embedder  # noqa: B018
    Searcher(index, settings.with_(query_threads=0)).embedder  # noqa: B018
    assert asked == [1, None]


def test_an_english_question_is_embedded_beside_its_translation(index, settings):
    from qa.embed import HashEmbedder

    embedder = HashEmbedder()
    on, off = Searcher(index, settings, embedder=embedder), Searcher(index, settings.with_(dual_dense=False), embedder=embedder)
    query = on.analyze("industrial value added growth target")
    assert query.lang == "en" and query.expansion
    both = embedder.encode_query([query.text, query.keyword_text]).mean(axis=0)
    assert np.allclose(on.query_vector(query)[0], both / np.linalg.norm(both), atol=1e-6)
    assert np.allclose(off.query_vector(query)[0], embedder.encode_query([query.keyword_text])[0], atol=1e-6)
    chinese = on.analyze("规上工业增加值增长目标")
    assert np.allclose(on.query_vector(chinese)[0], embedder.encode_query([chinese.keyword_text])[0], atol=1e-6)
