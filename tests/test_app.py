"""The web app's logic without a browser: answers, follow-ups, uploads, the ask endpoint's JSON."""

from pathlib import Path

import pytest

from qa.errors import ReportError
from qa.ingest import accept_upload, safe_report_name
from qa.render import render_answer
from qa.query import IndexedPlace, resolve_followup
from qa.store import build_index

KNOWN = [IndexedPlace(f"重庆市{n}", n, n[:2], e) for n, e in
         (("万州区", "Wanzhou"), ("璧山区", "Bishan"), ("大足区", "Dazu"), ("梁平区", "Liangping"), ("荣昌区", "Rongchang"))]
NEW_REPORT = (
    "2024年重庆市潼南区政府工作报告\n各位代表：\n一、2023年工作回顾\n"
    "地区生产总值增长6.1%，规上工业增加值增长11.3%，柠檬产业综合产值突破200亿元。\n"
    "二、2024年工作安排\n全区规上工业增加值增长13.5%，力争新建柠檬精深加工项目3个。\n"
)


@pytest.fixture
def app(settings):
    import app as web

    build_index(settings)
    return web.App(settings)


def test_followup_keeps_the_indicator_and_changes_the_district():
    assert resolve_followup("那璧山区呢？", "万州区2024年规上工业增加值增长目标是多少？", KNOWN) == "璧山区2024年规上工业增加值增长目标是多少？"
    assert resolve_followup("And Bishan?", "What is Wanzhou's GDP growth target?", KNOWN) == "What is Bishan's GDP growth target?"
    assert resolve_followup("那璧山區呢", "萬州區今年GDP目標", KNOWN) == "璧山区今年GDP目标"
    # A question of its own, or no previous question: unchanged.
    assert resolve_followup("璧山区GDP是多少", "万州区规上工业增加值", KNOWN) == "璧山区GDP是多少"
    assert resolve_followup("那璧山区呢？", None, KNOWN) == "那璧山区呢？"


def test_answer_html_cites_highlights_and_bolds_figures(app):
    answer = app.answer("Which district targets 16% industrial growth?", k=3)
    html = render_answer(answer, show_scores=True)
    assert '<p class="qa-direct">Answer: <strong>Wanzhou</strong>, 2024 target — ' in html and "<b>16%</b>" in html
    assert html.count("<b>") == html.count("<b>16%</b>")  # only the asked figure is bold
    assert 'class="qa-copy"' in html and "万州区-节选.txt:" in html.split('class="qa-plain">')[1].split("<")[0]
    assert html.count('class="qa-cite"') == 3 and "<mark>" in html and "<details>" in html
    assert "Show the full passage" in html and "score" in html  # English question, English labels
    assert "展开全文段落" in render_answer(app.answer("规上工业增加值增长16%"), False)


def test_nothing_relevant_says_so(app):
    html = render_answer(app.answer("How many penguins live on Mars?"), False)
    assert "The reports do not say." in html and "qa-citations" not in html


def test_district_filter_and_ask_json(app):
    answer = app.answer("地区生产总值", k=4, districts=["璧山区"])
    data = answer.to_json()
    assert set(data) == {"question", "hits", "answer", "note", "table"} and {h["district"] for h in data["hits"]} == {"璧山区"}


def test_safe_names_and_upload_validation(tmp_path, settings):
    assert safe_report_name("../../etc/潼南区 报告.TXT") == "潼南区_报告.txt"
    assert safe_report_name("C:\\\\Users\\\\x\\\\r.docx") == "r.docx"
    with pytest.raises(ReportError):
        safe_report_name("...")
    bad = tmp_path / "x.exe"
    bad.write_text("MZ")
    with pytest.raises(ReportError, match="unsupported type"):
        accept_upload(bad, "x.exe", settings.reports_dir, 10_000)
    big = tmp_path / "big.txt"
    big.write_text(NEW_REPORT * 100, encoding="utf-8")
    with pytest.raises(ReportError, match="over the"):
        accept_upload(big, "big.txt", settings.reports_dir, 1_000)
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    with pytest.raises(ReportError, match="empty"):
        accept_upload(empty, "empty.txt", settings.reports_dir, 10_000)
    assert not any(p.name in {"x.exe", "big.txt", "empty.txt"} for p in settings.reports_dir.iterdir())


def test_upload_is_indexed_and_searchable_at_once(app, tmp_path):
    upload = tmp_path / "gradio-tmp-123.txt"
    upload.write_text(NEW_REPORT, encoding="utf-8")
    junk = tmp_path / "junk.txt"
    junk.write_bytes(b"\x00\x01" * 20)
    before = len(app.searcher.index.chunks)
    status = app.add_reports([(upload, "潼南区2024.txt"), (junk, "junk.txt")], progress=lambda *a, **k: None)
    assert "Added and indexed 潼南区2024.txt" in status and "junk.txt" in status and "binary" in status
    assert (Path(app.settings.reports_dir) / "潼南区2024.txt").exists()
    assert not (Path(app.settings.reports_dir) / "junk.txt").exists()
    assert len(app.searcher.index.chunks) > before and "潼南区" in app.searcher.districts
    hit = app.answer("潼南区2024年规上工业增加值增长多少？").hits[0]
    assert hit.district == "潼南区" and "13.5%" in hit.text
    assert "潼南区 2024" in app.reports_markdown()
