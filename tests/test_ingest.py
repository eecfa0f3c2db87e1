import json

import pytest

from qa.errors import ReportError
from qa.ingest import decode_bytes, load_document, read_raw, report_files
from qa.places import detect_place

SAMPLE = "重庆市荣昌区人民政府区长向大会报告工作，地区生产总值增长6.6%，一般公共预算收入完成32.6亿元。"


def test_gbk_fixture_detected_and_cleaned(reports):
    doc = load_document(reports / "梁平区-gbk.txt")
    assert doc.encoding == "gb18030"
    assert doc.district == "梁平区" and doc.year == 2024
    assert "殊为不易的答卷" in doc.text  # page marker "2、" removed, sentence rejoined
    assert ".docx" not in doc.text and "链接地址" not in doc.text
    assert doc.removed["page markers"] == 4


def test_big5_detected():
    text, enc = decode_bytes(SAMPLE.replace("重庆市荣昌区", "重慶市榮昌區").encode("big5", errors="ignore"))
    assert enc == "big5"
    assert "榮昌區" in text


def test_gbk_preferred_over_big5_for_simplified():
    text, enc = decode_bytes(SAMPLE.encode("gbk"))
    assert enc == "gb18030" and text == SAMPLE


def test_traditional_fixture(reports):
    doc = load_document(reports / "荣昌区-繁体.txt")
    assert doc.district == "荣昌区"
    assert "经济" in doc.text and "經" not in doc.text


def test_single_line_fixture_split(reports):
    doc = load_document(reports / "万州区-节选.txt")
    assert doc.district == "万州区" and doc.year == 2024
    assert doc.title == "2024年重庆市万州区政府工作报告"
    assert doc.text.count("\n") > 5


def test_web_page_fixture(reports):
    doc = load_document(reports / "璧山区-网页.txt")
    assert doc.district == "璧山区"
    assert "您当前的位置" not in doc.text and "扫一扫" not in doc.text
    assert "地区生产总值实现983亿元、增长7.2%" in doc.text


def test_html_report(tmp_path):
    page = tmp_path / "报告.html"
    page.write_text(
        f"<html><head><script>var x=1;</script><style>p{{}}</style></head><body><nav>首页 > 政务公开</nav>"
        f"<h1>2024年重庆市荣昌区政府工作报告</h1><p>{SAMPLE}</p><p>第二段。</p><footer>版权所有</footer></body></html>",
        encoding="utf-8",
    )
    doc = load_document(page)
    assert doc.district == "荣昌区" and doc.year == 2024
    assert "var x" not in doc.text and "版权所有" not in doc.text
    assert SAMPLE in doc.text.split("\n")


def test_docx_report(tmp_path):
    import docx

    path = tmp_path / "荣昌.docx"
    document = docx.Document()
    document.add_paragraph("2024年荣昌区政府工作报告")
    document.add_paragraph(SAMPLE)
    document.save(str(path))
    doc = load_document(path)
    assert doc.title == "2024年荣昌区政府工作报告"
    assert SAMPLE in doc.text


def test_unreadable_files_raise_report_error(tmp_path):
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "binary.txt").write_bytes(b"\x00\x01\x02" * 100)
    (tmp_path / "broken.docx").write_bytes(b"PK not really a zip")
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4 garbage")
    (tmp_path / "notes.xyz").write_text("x")
    (tmp_path / "english.txt").write_text("just some english text, no report here")
    for name, message in [("empty.txt", "empty"), ("binary.txt", "binary"), ("broken.docx", "cannot parse"),
                          ("broken.pdf", "cannot parse"), ("notes.xyz", "unsupported"), ("english.txt", "no Chinese")]:
        with pytest.raises(ReportError, match=message):
            load_document(tmp_path / name)


def test_metadata_override(reports):
    (reports / "metadata.json").write_text(json.dumps({"璧山区-网页.txt": {"district": "璧山区（测试）", "year": 2023}}), encoding="utf-8")
    from qa.ingest import load_overrides

    doc = load_document(reports / "璧山区-网页.txt", load_overrides(reports))
    assert doc.district == "璧山区（测试）" and doc.year == 2023
    assert "metadata.json" not in [p.name for p in report_files(reports)]


def test_detect_district_outside_gazetteer():
    place, how, _ = detect_place("四川省成都市武侯区人民政府关于印发。\n武侯区政府工作报告")
    assert place.qualified == "成都市武侯区" and how.startswith("title line")


def test_a_pdf_with_nothing_on_its_pages_is_refused_after_ocr_finds_nothing(tmp_path, monkeypatch):
    from pypdf import PdfWriter

    monkeypatch.setenv("QA_OCR_CACHE", str(tmp_path / "ocr.sqlite"))
    path = tmp_path / "blank.pdf"
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    with path.open("wb") as fh:
        writer.write(fh)
    with pytest.raises(ReportError, match="no text found on any page"):
        read_raw(path)
