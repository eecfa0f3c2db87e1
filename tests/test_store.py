import json

import numpy as np
import pytest

from qa.embed import HashEmbedder
from qa.errors import BrokenIndexError, NoIndexError, QAError
from qa.store import build_index, index_status, load_index


def test_build_writes_self_describing_index(settings):
    report = build_index(settings)
    assert report.full and len(report.added) == 4 and report.embedded == report.chunks
    index = load_index(settings.index_dir)
    manifest = index.manifest
    assert manifest["embedder"] == "hash" and manifest["dimension"] == 256
    assert manifest["chunks"] == len(index.chunks) == index.vectors.ntotal
    assert {r["source"] for r in manifest["reports"]} == {p.name for p in settings.reports_dir.iterdir()}
    assert all(r["sha256"] and "removed" in r for r in manifest["reports"])
    raw = (index.path / "manifest.json").read_text(encoding="utf-8")
    assert "万州区" in raw  # Chinese stays readable
    assert index_status(settings) == "fresh"


def test_faiss_matches_numpy_brute_force(index):
    vectors = index.vectors.reconstruct_n(0, index.vectors.ntotal)
    query = HashEmbedder().encode_query(["规上工业增加值增长16%"])
    scores, rows = index.segments[0].vectors.search(query, 10)
    brute = vectors @ query[0]
    expected = np.argsort(-brute, kind="stable")[:10]
    assert np.allclose(scores[0], brute[expected], atol=1e-5)
    assert set(rows[0]) == set(expected)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_row_i_is_chunk_i(index):
    embedder = HashEmbedder()
    vectors = index.vectors.reconstruct_n(0, index.vectors.ntotal)
    for i in (0, len(index.chunks) // 2, len(index.chunks) - 1):
        assert np.allclose(vectors[i], embedder.encode_document([index.chunks[i].context()])[0], atol=1e-5)


def test_incremental_add_change_remove(settings, reports):
    build_index(settings)
    before = load_index(settings.index_dir)
    unchanged_ids = [c.id for c in before.chunks if c.source == "璧山区-网页.txt"]

    (reports / "万州区-节选.txt").rename(reports / "新万州.txt")  # remove one, add one
    assert index_status(settings) == "stale"
    path = reports / "梁平区-gbk.txt"
    path.write_bytes("新增一段：梁平区建成智慧园区二期。\n".encode("gbk") + path.read_bytes())  # change one

    report = build_index(settings)
    assert report.added == ["新万州.txt"]
    assert report.changed == ["梁平区-gbk.txt"]
    assert report.removed == ["万州区-节选.txt"]
    assert sorted(report.unchanged) == ["璧山区-网页.txt", "荣昌区-繁体.txt"]
    after = load_index(settings.index_dir)
    assert report.embedded == sum(1 for c in after.chunks if c.source in ("新万州.txt", "梁平区-gbk.txt"))
    assert [c.id for c in after.chunks if c.source == "璧山区-网页.txt"] == unchanged_ids
    assert not any(c.source == "万州区-节选.txt" for c in after.chunks)
    assert any("智慧园区二期" in c.text for c in after.chunks)
    # Vectors of reused chunks still line up with their chunks.
    vectors = after.vectors.reconstruct_n(0, after.vectors.ntotal)
    i = next(i for i, c in enumerate(after.chunks) if c.source == "璧山区-网页.txt")
    assert np.allclose(vectors[i], HashEmbedder().encode_document([after.chunks[i].context()])[0], atol=1e-5)
    # Nothing changed: nothing embedded.
    assert build_index(settings).embedded == 0


def test_full_rebuild_switches_embedder(settings):
    build_index(settings)

    class Other(HashEmbedder):
        spec = "hash-other"

    report = build_index(settings, embedder=Other(dim=64), full=True)  # incremental refuses (test_index_faults)
    assert report.full and report.embedded == report.chunks
    assert load_index(settings.index_dir).manifest["dimension"] == 64


def test_crash_mid_build_leaves_previous_index(settings, reports, monkeypatch):
    build_index(settings)
    before = load_index(settings.index_dir)
    (reports / "新报告.txt").write_text("重庆市璧山区人民政府工作报告。新增段落：建成智能网联新能源汽车产业园。" * 3, encoding="utf-8")
    import faiss

    def boom(*_args):
        raise RuntimeError("disk full")

    monkeypatch.setattr(faiss, "write_index", boom)
    with pytest.raises(RuntimeError):
        build_index(settings)
    after = load_index(settings.index_dir)
    assert after.path == before.path and len(after.chunks) == len(before.chunks)
    assert not any(p.name.startswith(".tmp") for p in (settings.index_dir / "builds").iterdir())


def test_bad_files_are_named_and_skipped(settings, reports):
    (reports / "坏文件.txt").write_bytes(b"\x00\xff" * 50)
    (reports / "空.txt").write_bytes(b"")
    messages = []
    report = build_index(settings, on_message=messages.append)
    assert set(report.skipped) == {"坏文件.txt", "空.txt"}
    assert len(report.added) == 4
    assert any("坏文件.txt" in m for m in messages)
    assert load_index(settings.index_dir).manifest["skipped"]["空.txt"] == "empty file"
    assert index_status(settings) == "fresh"


def test_no_readable_reports_keeps_previous_index(settings, reports):
    build_index(settings)
    for p in reports.iterdir():
        p.write_bytes(b"")
    with pytest.raises(QAError, match="No readable reports"):
        build_index(settings)
    assert len(load_index(settings.index_dir).documents) == 4


def test_missing_and_broken_index(tmp_path, settings):
    with pytest.raises(NoIndexError, match="run: qa index"):
        load_index(tmp_path / "nowhere")
    build_index(settings)
    index = load_index(settings.index_dir)
    (next((index.path / "segments").iterdir()) / "chunks.sqlite").write_text('{"broken": true}\n', encoding="utf-8")
    with pytest.raises(BrokenIndexError, match="qa index --full"):
        load_index(settings.index_dir)
    manifest = json.loads((index.path / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["embedder"] == "hash"
    # A full rebuild repairs it.
    build_index(settings, full=True)
    assert load_index(settings.index_dir).vectors.ntotal > 0
