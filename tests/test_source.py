"""Check the source (qa/source.py): a cited span's raw text in its original file, the document
view page, and the /source route — on the report excerpts of tests/data."""

from __future__ import annotations

import re
import shutil
import socket
from pathlib import Path

import pytest

from qa.config import Settings
from qa.ingest import read_raw
from qa.source import (
    document_page,
    in_order_share,
    mount_source_view,
    raw_span,
    source_link,
    source_view,
)
from qa.store import build_index, load_index

DATA = Path(__file__).parent / "data"
TRADITIONAL, GBK, WEB_PAGE = "荣昌区-繁体.txt", "梁平区-gbk.txt", "璧山区-网页.txt"
# A report whose text holds HTML-special characters, to check that every part of the page escapes them.
SPECIAL = "特殊-2024.txt"
SPECIAL_TEXT = (
    "2024年重庆市潼南区政府工作报告\n各位代表：\n一、2023年工作回顾\n"
    "研发投入强度<5%的企业减少，R&D经费>10亿元，<img src=x onerror=alert(1)>不是图片。\n"
    "二、2024年工作安排\n规上工业增加值增长13.5%，力争新建柠檬精深加工项目3个。\n"
)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple:
    """(index, reports folder): the excerpts and SPECIAL, indexed once for the module (hash embedder)."""
    root = tmp_path_factory.mktemp("source")
    reports = root / "reports"
    reports.mkdir()
    for path in DATA.iterdir():
        if path.is_file():
            shutil.copy(path, reports / path.name)
    (reports / SPECIAL).write_text(SPECIAL_TEXT, encoding="utf-8")
    settings = Settings(reports_dir=reports, index_dir=root / "index", embedder="hash")
    build_index(settings)
    return load_index(settings.index_dir), reports


def _span(index, source: str, sentence: str) -> tuple[str, int, int]:
    text = index.documents[source]["text"]
    start = text.index(sentence)
    return text, start, start + len(sentence)


def _check_offsets(path: Path, found: tuple[str, int, int]) -> None:
    raw, start, end = found
    assert read_raw(path)[0][start:end] == raw  # offsets into the decoded file, as the index read it


def test_raw_span_of_the_traditional_excerpt_keeps_traditional_characters_and_pinyin(built):
    index, reports = built
    text, start, end = _span(index, TRADITIONAL, "现在,我代表区人民政府,向大会报告工作,请予审议,并请各位政协委员和其他列席人员提出意见。")
    found = raw_span(reports / TRADITIONAL, text, start, end)
    assert found is not None
    raw = found[0]
    assert raw.startswith("現在,我代表區人民政府,向大會(huì )報告工作")
    assert raw.endswith("提出意見(jiàn)。")  # the annotation after the last character belongs to the span
    assert "\n" not in raw  # nothing of the lines around
    _check_offsets(reports / TRADITIONAL, found)
    assert in_order_share(text[start:end], raw) == 1.0
    # A span ending on an annotated character takes its annotation: 政協(xié), not 政協.
    text, start, end = _span(index, TRADITIONAL, "并请各位政协")
    assert raw_span(reports / TRADITIONAL, text, start, end)[0] == "并請各位政協(xié)"


def test_raw_span_of_the_gbk_excerpt_keeps_the_sites_words_and_page_markers(built):
    index, reports = built
    path = reports / GBK
    assert read_raw(path)[1] == "gb18030"
    # The document site swapped 持续 for 一直不间断; the raw span shows the site's word.
    text, start, end = _span(index, GBK, "持续擦亮国际湿地城市名片。")
    found = raw_span(path, text, start, end)
    assert found is not None and found[0] == "一直不间断擦亮国际湿地城市名片。"
    assert found[0].encode("gb18030") in path.read_bytes()  # the file's own bytes
    _check_offsets(path, found)
    # The title line is repeated in the site's header ("2024年梁平区政府工作报告.docx"): the span
    # starts at the report's own title, after the site's page marker "1、".
    text, start, end = _span(index, GBK, "2024年梁平区政府工作报告各位代表:")
    found = raw_span(path, text, start, end)
    assert found is not None and found[0] == "2024年梁平区政府工作报告各位代表:"
    assert read_raw(path)[0][found[1] - 2:found[1]] == "1、"
    # A page marker cut this sentence ("殊为\n2、不易"); cleaning joined it, the raw span keeps the cut.
    text, start, end = _span(index, GBK, "交出了一份难中求成、殊为不易的答卷。")
    found = raw_span(path, text, start, end)
    assert found is not None and found[0] == "交出了一份难中求成、殊为\n2、不易的答卷。"


def test_raw_span_of_a_web_page_copy_shows_the_furniture_inside_the_span(built):
    index, reports = built
    text = index.documents[WEB_PAGE]["text"]
    end = text.index("会议上") + len("会议上")  # the title line and the session line, with a byline between
    found = raw_span(reports / WEB_PAGE, text, 0, end)
    assert found is not None
    assert found[0].startswith("重庆市璧山区政府工作报告(2024年)")  # not the breadcrumb before it
    assert "日期:2024-02-27" in found[0]
    _check_offsets(reports / WEB_PAGE, found)


def test_every_chunk_of_every_excerpt_is_found_in_its_file(built):
    index, reports = built
    shares = []
    for chunk in index.chunks:
        text = index.documents[chunk.source]["text"]
        found = raw_span(reports / chunk.source, text, chunk.start, chunk.end)
        shares.append(in_order_share(chunk.text, found[0]) if found else 0.0)
    assert len(shares) > 10
    assert min(shares) >= 0.9, shares


def test_raw_span_refuses_bad_offsets_and_missing_files(built, tmp_path):
    index, reports = built
    text = index.documents[GBK]["text"]
    assert raw_span(reports / GBK, text, 10, 10) is None
    assert raw_span(reports / GBK, text, -1, 5) is None
    assert raw_span(reports / GBK, text, 0, len(text) + 1) is None
    assert raw_span(tmp_path / "missing.txt", text, 0, 10) is None


def test_a_span_of_another_report_is_not_found_in_this_file(built):
    """Another report's text shares stock phrases with this file ("各位代表", "工作回顾"), never its passages."""
    index, reports = built
    text = index.documents["万州区-节选.txt"]["text"]
    spans = [(start, start + 100) for start in range(0, len(text) - 100, 100)]
    found = [raw_span(reports / other, text, start, end) for other in (WEB_PAGE, GBK, TRADITIONAL)
             for start, end in spans]
    assert len(found) > 60 and sum(f is not None for f in found) <= 2


def test_document_page_highlights_the_span_and_escapes_html(built):
    index, reports = built
    _text, start, end = _span(index, SPECIAL, "研发投入强度<5%的企业减少，R&D经费>10亿元，<img src=x onerror=alert(1)>不是图片。")
    page = document_page(index, SPECIAL, start, end, reports)
    assert page.startswith("<!doctype html>")
    cited = re.search(r'<mark id="cited">(.*?)</mark>', page)
    assert cited and cited.group(1) == (
        "研发投入强度&lt;5%的企业减少，R&amp;D经费&gt;10亿元，&lt;img src=x onerror=alert(1)&gt;不是图片。")
    assert "<img" not in page  # neither in the report text nor in the raw box
    assert "scrollIntoView" in page and "scroll-margin-top" in page
    raw_box = page[page.index('<aside class="raw">'):]
    assert "原文" in raw_box and SPECIAL in raw_box
    assert "研发投入强度&lt;5%的企业减少，R&amp;D经费&gt;10亿元，&lt;img src=x" in raw_box
    assert page.count("<mark") == 1 and page.index('id="cited"') < page.index('<aside class="raw">')
    assert "2024年重庆市潼南区政府工作报告" in page  # the whole report, not only the span


def test_document_page_of_the_traditional_excerpt_shows_raw_offsets_and_noise(built):
    index, reports = built
    text, start, end = _span(index, TRADITIONAL, "现在,我代表区人民政府,向大会报告工作,请予审议,并请各位政协委员和其他列席人员提出意见。")
    _, raw_start, raw_end = raw_span(reports / TRADITIONAL, text, start, end)
    page = document_page(index, TRADITIONAL, start, end, reports)
    assert f"characters {raw_start}–{raw_end} of the decoded file" in page
    assert '向大會<span class="noise">(huì )</span>報告工作' in page


def test_document_page_says_when_the_file_changed_since_indexing(built, tmp_path):
    index, reports = built
    changed = tmp_path / "reports"
    shutil.copytree(reports, changed)
    (changed / GBK).write_bytes((changed / GBK).read_bytes() + "补充一句。".encode("gb18030"))
    page = document_page(index, GBK, 0, 20, changed)
    assert "has changed since it was indexed" in page and "<pre>" not in page
    (changed / GBK).unlink()
    assert "no longer in the reports folder" in document_page(index, GBK, 0, 20, changed)


@pytest.mark.parametrize(("source", "start", "end", "says"), [
    ("nope.txt", 0, 10, "No report named “nope.txt” in the index."),
    ("../../etc/passwd", 0, 10, "No report named “../../etc/passwd” in the index."),
    (GBK, 0, 10**6, "are not a passage of"),
    (GBK, 30, 30, "are not a passage of"),
    (GBK, -5, 10, "are not a passage of"),
])
def test_unknown_reports_and_bad_offsets_get_a_message_not_a_traceback(built, source, start, end, says):
    index, reports = built
    view = source_view(index, source, start, end, reports)
    assert view.status == 404 and says in view.html and "<mark" not in view.html
    assert document_page(index, source, start, end, reports) == view.html


def test_source_link_is_url_encoded():
    link = source_link("梁平区 gbk&x.txt", 3, 40)
    assert link == "/source?file=%E6%A2%81%E5%B9%B3%E5%8C%BA+gbk%26x.txt&start=3&end=40#cited"
    assert source_link("a.txt", 1, 2, prefix="/qa/source").startswith("/qa/source?file=a.txt&")


def test_route_serves_indexed_reports_only(built):
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    index, reports = built
    app = FastAPI()
    mount_source_view(app, lambda: index, reports)
    client = TestClient(app)
    _text, start, end = _span(index, GBK, "持续擦亮国际湿地城市名片。")
    ok = client.get(source_link(GBK, start, end))
    assert ok.status_code == 200 and ok.headers["content-type"].startswith("text/html")
    assert '<mark id="cited">持续擦亮国际湿地城市名片。</mark>' in ok.text and "一直不间断擦亮" in ok.text

    for file in ("../../etc/passwd", "/etc/passwd", "..%2F..%2Fetc%2Fpasswd", "tests/data/" + GBK):
        refused = client.get("/source", params={"file": file, "start": 0, "end": 10})
        assert refused.status_code == 404 and "root:" not in refused.text, file
    assert client.get("/source", params={"file": GBK, "start": 0, "end": 10**8}).status_code == 404

    for params, says in [
        ({"file": GBK, "start": "x", "end": "10"}, "start= must be a whole number"),
        ({"file": GBK, "start": "-1", "end": "10"}, "start= must be a whole number"),
        ({"file": GBK, "start": "0"}, "end= must be a whole number"),
        ({"file": GBK, "start": "9", "end": "3"}, "must be greater than start"),
        ({"start": "0", "end": "3"}, "file= must name an indexed report"),
    ]:
        bad = client.get("/source", params=params)
        assert bad.status_code == 400 and says in bad.text and bad.text.count("\n") == 1, params


def test_route_answers_in_one_line_when_there_is_no_index(built):
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from qa.errors import NoIndexError

    def no_index():
        raise NoIndexError("index")

    app = FastAPI()
    mount_source_view(app, no_index, built[1])
    reply = TestClient(app).get("/source", params={"file": GBK, "start": 0, "end": 10})
    assert reply.status_code == 503 and reply.text == "error: No index in index/ — run: qa index\n"


def test_route_on_a_launched_gradio_app_needs_its_login(built):
    """The wiring app.py uses: launch, then mount on blocks.app; with --auth the page needs the login."""
    import gradio as gr
    import httpx

    index, reports = built
    with gr.Blocks() as demo:
        gr.Markdown("test")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", server_port=port, auth=("user", "secret"), quiet=True)
    try:
        mount_source_view(demo.app, lambda: index, reports)
        url = demo.local_url.rstrip("/")
        link = url + source_link(GBK, 0, 20)
        assert httpx.get(link).status_code == 401
        with httpx.Client() as client:
            assert client.post(url + "/login", data={"username": "user", "password": "secret"}).status_code == 200
            page = client.get(link)
            assert page.status_code == 200 and 'id="cited"' in page.text
    finally:
        demo.close()
