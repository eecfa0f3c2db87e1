from qa.chunk import chunk_document, sections
from qa.ingest import load_document


def test_spans_point_at_chunk_text(reports):
    for path in sorted(p for p in reports.iterdir() if p.is_file()):
        doc = load_document(path)
        chunks = chunk_document(doc, chunk_size=200, chunk_overlap=30)
        assert chunks
        for c in chunks:
            assert doc.text[c.start : c.end] == c.text
            assert len(c.text) <= 200 + 50  # a short lead-in line may be joined on
            assert c.district == doc.district and c.source == path.name


def test_every_paragraph_is_in_some_chunk(reports):
    doc = load_document(reports / "万州区-节选.txt")
    chunks = chunk_document(doc, 300, 40)
    covered = set()
    for c in chunks:
        covered.update(range(c.start, c.end))
    for start, para in _paragraphs(doc.text):
        assert start in covered or not para.strip(), para


def _paragraphs(text):
    offset = 0
    for p in text.split("\n"):
        yield offset, p
        offset += len(p) + 1


def test_section_paths(reports):
    doc = load_document(reports / "万州区-节选.txt")
    chunks = chunk_document(doc, 300, 40)
    target = next(c for c in chunks if "规上工业增加值增长16%" in c.text)
    assert target.section.startswith("二、2024年工作安排")
    review = next(c for c in chunks if "1179.4亿元" in c.text)
    assert review.section.startswith("一、2023年工作回顾")


def test_subheading_lines_name_their_section_and_figures_are_not_headings():
    from qa.ingest import Document

    text = "主要预期目标\n地区生产总值增长7%\n规上工业增加值增长12%\n重点工作\n推进交通互联互通。"
    blocks = sections(text)
    names = [b[0] for b in blocks]
    assert names == ["主要预期目标", "重点工作"]
    doc = Document("d.txt", "x", text, "大足区", 2024, "t")
    chunks = chunk_document(doc, 300, 0)
    assert any("规上工业增加值增长12%" in c.text and c.section == "主要预期目标" for c in chunks)


def test_context_names_district_and_section(reports):
    doc = load_document(reports / "万州区-节选.txt")
    chunk = chunk_document(doc)[3]
    context = chunk.context()
    assert context.startswith("重庆市万州区（Wanzhou）2024年")
    assert chunk.text in context and chunk.section in context


def test_lone_heading_lines_join_the_next_chunk(reports):
    doc = load_document(reports / "万州区-节选.txt")
    chunks = chunk_document(doc, 300, 40)
    assert not any(c.text.strip() == "一、2023年工作回顾" for c in chunks)
    joined = next(c for c in chunks if c.text.startswith("一、2023年工作回顾"))
    assert "\n" in joined.text and doc.text[joined.start : joined.end] == joined.text


def test_chunks_know_which_half_of_the_report_they_are_in(reports):
    doc = load_document(reports / "万州区-节选.txt")
    chunks = chunk_document(doc, 300, 40)
    assert next(c for c in chunks if "1179.4亿元" in c.text).half == "review"
    assert next(c for c in chunks if "规上工业增加值增长16%" in c.text).half == "plan"
