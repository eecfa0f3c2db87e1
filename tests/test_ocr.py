"""Scanned reports (issue 12): PDFs without a text layer and images read by OCR, page by page,
cached by content hash, with each passage's page in its citation; old Word files and workbooks.

The report below is invented for these tests (a county of another province and year than the
bundled reports); tests/scans.py typesets it onto A4 pages as a scanner would deliver them.
Fast tests put a stand-in for the recogniser that returns the printed lines; the slow ones run
the real PP-OCRv6 models.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

import qa.ocr as ocr
from qa.chunk import chunk_document
from qa.clean import clean_text
from qa.errors import ReportError
from qa.ingest import clean_page_starts, load_document, page_at, read_report
from qa.ocr import Line, OcrCache, PageReader, page_text
from tests.scans import font_available, photographed, save_pdf, typeset

REPORT = [
    "江西省上饶市婺源县2025年政府工作报告",
    "各位代表：现在，我代表县人民政府向大会报告工作，请予审议。",
    "一、2024年工作回顾",
    "过去一年，全县地区生产总值完成186.4亿元，增长5.8%；一般公共预算收入完成12.7亿元，增长4.1%；"
    "接待游客2680万人次，旅游综合收入达到265亿元，增长9.3%。",
    "乡村振兴扎实推进。新建高标准农田3.2万亩，茶叶综合产值达到48亿元，新增省级龙头企业6家。",
    "民生福祉持续增进。新增城镇就业4120人，改造农村公路186公里，新建幼儿园5所，城乡居民医保参保率保持在98%以上。",
    "二、2025年主要目标",
    "今年经济社会发展的主要预期目标是：地区生产总值增长6%左右，规上工业增加值增长8%，"
    "固定资产投资增长5%，社会消费品零售总额增长6.5%，城乡居民人均可支配收入增长与经济增长同步。",
    "围绕上述目标，重点抓好以下工作：一是做强茶旅融合产业，力争茶叶综合产值突破55亿元；"
    "二是加快县城更新，完成老旧小区改造23个，加装电梯40台；三是办好民生实事，新增托育位300个。",
]


def printed_pages(dpi: int = 100, paragraphs: list[str] | None = None, point: float = 34):
    """The report typeset large (few lines a page) so that it runs over several pages."""
    return typeset(paragraphs or REPORT, dpi=dpi, point=point)


def printed_lines(text: str, per_line: int = 30, cut: bool = False) -> list[Line]:
    """The boxes a page of these paragraphs gives: 30 characters a printed line, 46 px a
    character, the first line of a paragraph indented by two characters (x 192) where the printed
    text has its indent (a piece continuing the page before has none), the others at the margin
    (x 100), a paragraph's last line as long as its text. On a page whose last paragraph runs on
    to the next (cut), the page's last line is full."""
    lines, y = [], 100
    paragraphs = text.split("\n")
    for n, paragraph in enumerate(paragraphs):
        first = paragraph.startswith("\u3000")
        paragraph = paragraph.strip("\u3000")
        while paragraph:
            width = per_line - 2 if first else per_line
            piece, paragraph = paragraph[:width], paragraph[width:]
            x0 = 192 if first else 100
            last_on_page = n == len(paragraphs) - 1 and not paragraph
            x1 = 100 + 46 * per_line if (cut and last_on_page) or paragraph else x0 + 46 * len(piece)
            lines.append(Line(x0, y, x1, y + 40, piece))
            y, first = y + 60, False
    return lines


def _runs_on(pages: list[str], i: int) -> bool:
    """Page i's last paragraph continues on page i + 1 (which then starts without an indent)."""
    return i + 1 < len(pages) and not pages[i + 1].startswith("\u3000")


class FakeRecogniser:
    """Stands in for the OCR models: returns each page's printed lines as boxes, in page order,
    and counts its calls."""

    def __init__(self, pages: list[str], fail_on: int | None = None):
        self.pages, self.calls, self.fail_on = pages, 0, fail_on

    def __call__(self, image) -> list[Line]:
        self.calls += 1
        if self.fail_on == self.calls:
            raise RuntimeError("model error")
        i = (self.calls - 1) % len(self.pages)
        return printed_lines(self.pages[i], cut=_runs_on(self.pages, i))


class PixelRecogniser(FakeRecogniser):
    """A stand-in that knows each page by its pixels, so page order is checked, not assumed."""

    def __init__(self, pages):
        super().__init__([printed for _, printed in pages])
        self.by_pixels = {image.convert("L").tobytes(): i for i, (image, _) in enumerate(pages)}

    def __call__(self, image) -> list[Line]:
        self.calls += 1
        i = self.by_pixels[image.convert("L").tobytes()]
        return printed_lines(self.pages[i], cut=_runs_on(self.pages, i))


needs_font = pytest.mark.skipif(not font_available(), reason="fonts-wqy-zenhei (make browser-deps / make setup)")


@pytest.fixture()
def cache(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "ocr-cache.sqlite"
    monkeypatch.setenv("QA_OCR_CACHE", str(path))
    return path


# --- lines into paragraphs ----------------------------------------------------------------------

def test_printed_lines_become_paragraphs_in_reading_order():
    h = 40  # line height in pixels; body from x=100 to x=1500
    lines = [
        Line(700, 3000, 760, 3000 + h, "- 3 -"),  # page number at the foot: dropped
        Line(180, 100, 1500, 100 + h, "全年地区生产总值完成186.4亿元，增长"),  # indented: a paragraph starts
        Line(100, 160, 1500, 160 + h, "5.8%；一般公共预算收入完成12.7亿元，同比增长"),
        Line(100, 220, 300, 220 + h, "4.1%"),
        Line(100, 280, 1100, 280 + h, "二、2025年主要目标"),  # the line before ended short
        Line(180, 340, 900, 340 + h, "今年目标：地区生产总值增长"),
        Line(920, 342, 1500, 342 + h, "6%左右，规上工业增加值增长"),  # same printed line, second box
        Line(100, 400, 700, 400 + h, "%8，与GDP growth target 同步。"),
    ]
    assert page_text(lines).split("\n") == [
        "全年地区生产总值完成186.4亿元，增长5.8%；一般公共预算收入完成12.7亿元，同比增长4.1%",
        "二、2025年主要目标",
        "今年目标：地区生产总值增长6%左右，规上工业增加值增长%8，与GDP growth target 同步。",
    ]


def test_a_line_starting_with_a_percent_sign_continues_a_short_line():
    lines = [Line(180, 100, 1200, 140, "固定资产投资增长14.7"),  # ends short of the margin
             Line(100, 160, 1500, 200, "%；社会消费品零售总额"),
             Line(100, 220, 1500, 260, "增长8.8%，比上年提高一个百分点以上，消费市场持续回暖。")]
    assert page_text(lines) == "固定资产投资增长14.7%；社会消费品零售总额增长8.8%，比上年提高一个百分点以上，消费市场持续回暖。"


def test_a_paragraph_running_over_a_page_break_is_joined_and_its_pages_kept():
    from qa.ingest import join_pages
    from qa.ocr import RUNS_ON

    page1 = [Line(192, 100, 1480, 140, "今年的主要预期目标是：地区生产总值增长6%左右，"),
             Line(100, 160, 1500, 200, "规上工业增加值增长8%，固定资产投资增长5%，社会消费品零售"),
             Line(100, 220, 1500, 260, "总额增长6.5%，城乡居民人均可支配收入增长与经济增长")]
    page2 = [Line(100, 100, 700, 140, "同步，粮食产量稳定。"),  # at the margin: a continuation
             Line(192, 160, 1500, 200, "围绕上述目标，重点抓好以下工作，一是做强茶旅融合产业，"),
             Line(100, 220, 900, 260, "二是加快县城更新。")]
    first, second = page_text(page1, marked=True), page_text(page2, marked=True)
    assert first.endswith(RUNS_ON) and second.startswith(RUNS_ON)
    text, starts = join_pages([first, second, "第三页的文字。"])
    assert "经济增长同步，粮食产量稳定。\n围绕上述目标" in text and RUNS_ON not in text
    assert starts[1] == [text.index("同步，粮食"), 2] and text[starts[2][0]:] == "第三页的文字。"
    # A page ending with a full stop on a full line, or starting indented, stays apart.
    assert not page_text(page2, marked=True).endswith(RUNS_ON)
    assert join_pages([first, page_text(page1, marked=True)])[0].count("\n") == 1


# --- pages found again after cleaning -------------------------------------------------------------

def test_each_page_is_found_in_the_cleaned_text_and_every_passage_knows_its_page():
    pages = ["婺源县人民政府门户网站 首页>政务公开\n" + "\n".join(REPORT[:4]),
             "婺源县人民政府门户网站 首页>政务公开\n" + "\n".join(REPORT[4:7]),
             "\n".join(REPORT[7:])]
    raw = "\n".join(pages)
    starts, offset = [], 0
    for number, page in enumerate(pages, start=1):
        starts.append([offset, number])
        offset += len(page) + 1
    text, _ = clean_text(raw)
    found = clean_page_starts(raw, starts, text)
    assert [n for _, n in found] == [1, 2, 3]
    # The running header repeats on page 2: page 2 starts at its second showing, not its first.
    assert text[found[1][0]:].startswith("婺源县人民政府门户网站 首页>政务公开\n乡村振兴扎实推进")
    assert text[found[2][0]:].startswith("今年经济社会发展的主要预期目标")
    assert page_at(found, text.index("新增城镇就业4120人")) == 2


# --- scanned PDFs and images, with a stand-in recogniser --------------------------------------------

@needs_font
def test_a_scanned_pdf_is_read_page_by_page_and_a_rebuild_reads_no_page_twice(tmp_path, cache, monkeypatch):
    pages = printed_pages()
    assert len(pages) >= 3
    path = save_pdf([image for image, _ in pages], tmp_path / "婺源县-扫描.pdf", dpi=100)
    fake = FakeRecogniser([printed for _, printed in pages])
    monkeypatch.setattr(ocr, "recognise", fake)
    doc = load_document(path)
    assert fake.calls == len(pages)
    assert doc.encoding == "pdf+ocr" and doc.district == "婺源县" and doc.year == 2025
    assert [n for _, n in doc.pages] == list(range(1, len(pages) + 1))
    chunks = chunk_document(doc)
    target = next(c for c in chunks if "规上工业增加值增长8%" in c.text)
    printed_on = next(n for n, (_, printed) in enumerate(pages, start=1) if "规上工业增加值增长8%" in printed)
    assert target.page_of(target.text.index("规上工业增加值增长8%")) == printed_on
    assert OcrCache(cache).stats()[0] == len(pages)

    again = load_document(path)  # the same file again (a rebuild): every page from the cache
    assert fake.calls == len(pages) and again.text == doc.text

    copy = tmp_path / "copy" / "婺源县.pdf"  # the same bytes under another name: still cached
    copy.parent.mkdir()
    shutil.copyfile(path, copy)
    load_document(copy)
    assert fake.calls == len(pages)


@needs_font
def test_a_page_that_cannot_be_read_is_named_and_the_others_are_kept(tmp_path, cache, monkeypatch):
    pages = printed_pages()
    path = save_pdf([image for image, _ in pages], tmp_path / "婺源县.pdf", dpi=100)
    monkeypatch.setattr(ocr, "recognise", FakeRecogniser([p for _, p in pages], fail_on=2))
    doc = load_document(path)
    assert any("p. 2 could not be read" in w and "model error" in w for w in doc.warnings)
    assert pages[0][1].split("\n")[-1].strip("\u3000") in doc.text and pages[-1][1].split("\n")[-1].strip("\u3000") in doc.text
    assert pages[1][1].split("\n")[-1].strip("\u3000") not in doc.text
    assert doc.pages[1][0] == doc.pages[2][0] and doc.page_at(0) == 1  # page 2 is empty; text is never put on it
    assert OcrCache(cache).stats()[0] == len(pages) - 1  # the failed page is tried again next time


@needs_font
def test_a_mixed_pdf_uses_the_text_layer_where_there_is_one(tmp_path, cache, monkeypatch):
    from pypdf import PdfReader, PdfWriter

    text_pdf = Path(__file__).parent.parent / "eval" / "elsewhere" / "chengbu-2024.pdf"
    scanned = save_pdf([printed_pages()[0][0]], tmp_path / "scan.pdf", dpi=100)
    writer = PdfWriter()
    writer.add_page(PdfReader(str(text_pdf)).pages[0])
    writer.add_page(PdfReader(str(scanned)).pages[0])
    writer.add_page(PdfReader(str(text_pdf)).pages[1])
    path = tmp_path / "城步-混合.pdf"
    with path.open("wb") as fh:
        writer.write(fh)
    fake = FakeRecogniser(["乡村振兴扎实推进。新建高标准农田3.2万亩，茶叶综合产值达到48亿元。"])
    monkeypatch.setattr(ocr, "recognise", fake)
    raw = read_report(path)
    assert fake.calls == 1  # only the scanned page went through OCR
    assert [n for _, n in raw.page_starts] == [1, 2, 3]
    second = raw.text[raw.page_starts[1][0]:raw.page_starts[2][0]]
    assert "新建高标准农田3.2万亩" in second
    assert "城步苗族自治县" in raw.text[:raw.page_starts[1][0]]


@needs_font
def test_without_the_ocr_engine_a_scanned_pdf_is_refused_with_how_to_fix_it(tmp_path, cache, monkeypatch):
    path = save_pdf([printed_pages()[0][0]], tmp_path / "婺源县.pdf", dpi=100)

    def missing(image):
        raise ocr.OcrUnavailable("the OCR engine could not be loaded (ImportError: no rapidocr); reinstall with `make setup`")

    monkeypatch.setattr(ocr, "recognise", missing)
    with pytest.raises(ReportError, match="scanned pages need OCR.*make setup"):
        load_document(path)


@needs_font
def test_a_folder_of_page_photos_is_one_report_with_its_pages_in_order(tmp_path, cache, monkeypatch):
    from qa.config import load_settings
    from qa.service import Service

    reports = tmp_path / "reports"
    album = reports / "婺源县政府工作报告照片"
    album.mkdir(parents=True)
    pages = printed_pages(point=40)
    assert len(pages) >= 3
    names = [f"IMG_{n}.png" for n in (9, 10, 11, 12)][:len(pages)]  # 9 before 10: natural order, not by text
    for (image, _), name in zip(pages, names):
        image.save(album / name)
    (album / "notes.txt").write_text("not a page", encoding="utf-8")
    fake = PixelRecogniser(pages)
    monkeypatch.setattr(ocr, "recognise", fake)
    settings = load_settings().with_(reports_dir=reports, index_dir=tmp_path / "index", embedder="hash")
    service = Service(settings, load=False)
    built = service.build()
    service.reload()
    assert built.added == [album.name] and fake.calls == len(pages)
    record = service.reports()[album.name]
    assert record["district"] == "婺源县" and [n for _, n in record["pages"]] == list(range(1, len(pages) + 1))
    last = pages[-1][1].split("\n")[-1].strip("\u3000")
    answer = service.ask(last[:30])
    hit = next(h for h in answer.hits if last[:20] in h.text)
    assert hit.pages() == f"p. {len(pages)}"

    (album / names[0]).unlink()  # a page taken out: the report changes and is read again, from the cache
    rebuilt = service.build()
    assert rebuilt.changed == [album.name]
    assert fake.calls == len(pages)


def test_an_image_that_is_not_an_image_is_refused(tmp_path, cache):
    path = tmp_path / "scan.png"
    path.write_bytes(b"not a png at all" * 10)
    with pytest.raises(ReportError, match="not a readable image"):
        load_document(path)


# --- citations and the document view show the page --------------------------------------------------

@needs_font
def test_citations_and_the_document_view_show_the_page(tmp_path, cache, monkeypatch):
    from qa.config import load_settings
    from qa.service import Service
    from qa.source import document_page

    reports = tmp_path / "reports"
    reports.mkdir()
    pages = printed_pages()
    save_pdf([image for image, _ in pages], reports / "婺源县.pdf", dpi=100)
    monkeypatch.setattr(ocr, "recognise", FakeRecogniser([p for _, p in pages]))
    settings = load_settings().with_(reports_dir=reports, index_dir=tmp_path / "index", embedder="hash")
    service = Service(settings, load=False)
    service.build()
    service.reload()
    first = next(n for n, (_, printed) in enumerate(pages, start=1) if "今年经济社会发展的主要预期目标是" in printed)
    last = next(n for n, (_, printed) in enumerate(pages, start=1) if "城乡居民人均可支配收入增长与经济增长同步" in printed)
    assert first < last  # the targets' sentence runs over a page break: one paragraph, cited over both pages
    answer = service.ask("婺源县2025年规上工业增加值增长目标是多少？")
    hit = next(h for h in answer.hits if "规上工业增加值增长8%" in h.sentence)
    assert hit.sentence.startswith("今年经济社会发展的主要预期目标是") and hit.pages() == f"pp. {first}–{last}"
    assert answer.to_json()["hits"][hit.rank - 1]["page"] == f"pp. {first}–{last}"
    if answer.rank == hit.rank:
        assert answer.to_json()["answer"]["page"] == f"pp. {first}–{last}"
    from qa.render import plain_citation, render_answer

    assert f'<span class="qa-page">pp. {first}–{last}</span>' in render_answer(answer)
    if answer.rank == hit.rank:
        assert f"pp. {first}–{last}, 婺源县.pdf:" in plain_citation(answer)
    tourists = service.ask("婺源县2024年接待游客多少万人次？")
    on = next(n for n, (_, printed) in enumerate(pages, start=1) if "接待游客2680万人次" in printed)
    assert next(h for h in tourists.hits if "2680万人次" in h.sentence).pages() == f"p. {on}"
    table = service.ask("各县2025年地区生产总值增长目标对比").table
    row = next(r for r in table if r["value"] is not None)
    assert row["value"] == 6 and row["sentence"].startswith("今年经济社会发展的主要预期目标是")
    assert row["page"] == f"pp. {first}–{last}"
    view = document_page(service.searcher.index, "婺源县.pdf", hit.start, hit.end, reports)
    assert f'id="p{last}"' in view and f"— p. {len(pages)} —" in view
    assert f" · pp. {first}–{last}" in view


# --- the real models ---------------------------------------------------------------------------------

@pytest.mark.slow
@needs_font
def test_real_ocr_reads_a_scanned_report_and_its_figures_are_found_with_their_page(tmp_path, cache):
    from qa.config import load_settings
    from qa.service import Service

    reports = tmp_path / "reports"
    reports.mkdir()
    pages = typeset(REPORT, dpi=200, point=14)
    save_pdf([image for image, _ in pages], reports / "婺源县2025.pdf", dpi=200)
    settings = load_settings().with_(reports_dir=reports, index_dir=tmp_path / "index", embedder="hash")
    service = Service(settings, load=False)
    service.build()
    service.reload()
    doc = service.reports()["婺源县2025.pdf"]
    assert doc["district"] == "婺源县" and doc["year"] == 2025 and doc["encoding"] == "pdf+ocr"
    answer = service.ask("婺源县接待游客多少万人次？")
    assert not answer.abstain and "2680万人次" in answer.sentence
    assert answer.hits[0].pages() == "p. 1"
    assert OcrCache(cache).stats()[0] == len(pages)


@pytest.mark.slow
@needs_font
def test_real_ocr_reads_a_photographed_page(tmp_path, cache):
    image, printed = typeset(REPORT, dpi=300, point=12)[0]
    path = tmp_path / "婺源县-照片.jpg"
    photographed(image).save(path)
    doc = load_document(path)
    assert doc.encoding == "ocr" and doc.pages == [[0, 1]]
    for figure in ("186.4亿元", "增长5.8%", "2680万人次", "规上工业增加值增长8%"):
        assert figure in doc.text


# --- old Word files and workbooks --------------------------------------------------------------------

WORD_FIXTURE = Path(__file__).parent / "data" / "word" / "婺源县-2025.doc"  # written by LibreOffice from REPORT (make_word_fixture)


@pytest.mark.skipif(not shutil.which("antiword"), reason="antiword (make setup installs it)")
def test_an_old_word_file_is_read_with_antiword():
    doc = load_document(WORD_FIXTURE)
    assert doc.encoding == "antiword" and doc.district == "婺源县" and doc.year == 2025
    assert "规上工业增加值增长8%" in doc.text and "接待游客2680万人次" in doc.text


def test_a_word_file_no_tool_can_read_is_refused_with_what_was_tried(tmp_path):
    path = tmp_path / "broken.doc"
    path.write_bytes(b"\xd0\xcf\x11\xe0" + b"\x00" * 600)
    with pytest.raises(ReportError, match="cannot read this .doc file"):
        load_document(path)


def test_a_workbook_is_read_as_rows_that_keep_their_column_names(tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "婺源县2025年主要经济指标"
    sheet.append(["指标", "单位", "2024年完成", "增长%", "2025年目标"])
    sheet.append(["地区生产总值", "亿元", 186.4, 5.8, "增长6%左右"])
    sheet.append(["一般公共预算收入", "亿元", 12.7, 4.1, "增长3%"])
    sheet.append([None, None, None, None, None])
    sheet.append(["接待游客", "万人次", 2680, None, "2800"])
    book.create_sheet("说明").append(["数据来源：婺源县统计局，江西省上饶市婺源县人民政府2025年政府工作报告附表"])
    path = tmp_path / "婺源县指标.xlsx"
    book.save(path)
    doc = load_document(path)
    assert doc.encoding == "xlsx" and doc.district == "婺源县"
    assert "地区生产总值：单位 亿元，2024年完成 186.4，增长% 5.8，2025年目标 增长6%左右" in doc.text
    assert "接待游客：单位 万人次，2024年完成 2680，2025年目标 2800" in doc.text


def test_libreoffice_is_tried_when_the_small_tools_fail(monkeypatch):
    if not (shutil.which("soffice") or shutil.which("libreoffice")):
        pytest.skip("LibreOffice not installed (optional: apt-get install libreoffice-writer-nogui)")
    import qa.ingest

    which = shutil.which
    monkeypatch.setattr(qa.ingest.shutil, "which", lambda name: None if name in ("antiword", "catdoc") else which(name))
    doc = load_document(WORD_FIXTURE)
    assert doc.encoding == "libreoffice" and "规上工业增加值增长8%" in doc.text


def make_word_fixture() -> None:  # pragma: no cover - run by hand to rewrite tests/data/word/婺源县-2025.doc
    folder = Path("/tmp/word-fixture")
    folder.mkdir(exist_ok=True)
    source = folder / "婺源县-2025.txt"
    source.write_text("\n".join(REPORT), encoding="utf-8")
    subprocess.run(["soffice", "--headless", "--infilter=Text (encoded):UTF8", "--convert-to", "doc:MS Word 97",
                    "--outdir", str(folder), str(source)], check=True)
    shutil.copyfile(folder / "婺源县-2025.doc", WORD_FIXTURE)
