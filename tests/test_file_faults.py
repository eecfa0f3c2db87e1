"""Files a hostile tester put in reports/ or uploaded: odd encodings, damaged bytes, huge files,
links out of the folder, the same report twice, a broken metadata.json, name clashes."""

import json
import os
from pathlib import Path

import pytest

from qa.config import Settings, load_settings
from qa.errors import ReportError
from qa.ingest import (
    accept_upload,
    decode_text,
    load_document,
    read_overrides,
    report_files,
    same_text_as,
)
from qa.service import Service
from qa.store import build_index

DATA = Path(__file__).parent / "data"
WANZHOU = (DATA / "万州区-节选.txt").read_text(encoding="utf-8")
OTHER_REPORT = (
    "2024年重庆市潼南区政府工作报告\n各位代表：\n一、2023年工作回顾\n"
    "地区生产总值增长6.1%，规上工业增加值增长11.3%，柠檬产业综合产值突破200亿元。\n"
    "二、2024年工作安排\n全区规上工业增加值增长13.5%，力争新建柠檬精深加工项目3个。\n"
)


# 1. UTF-16 ---------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])  # utf-16 writes a BOM
@pytest.mark.parametrize("bom", [True, False])
def test_utf16_report_is_read(tmp_path, encoding, bom):
    data = WANZHOU.encode(encoding)
    if encoding == "utf-16" and not bom:
        data = data[2:]  # the platform's byte order, BOM dropped
    elif bom and encoding != "utf-16":
        data = ("\ufeff" + WANZHOU).encode(encoding)
    path = tmp_path / "万州区-utf16.txt"
    path.write_bytes(data)
    doc = load_document(path)
    assert doc.encoding.startswith("utf-16")
    assert doc.district == "万州区" and "\ufeff" not in doc.text
    assert "规上工业增加值增长16%" in doc.text


def test_utf32_with_bom_is_read():
    assert decode_text(WANZHOU.encode("utf-32")) == (WANZHOU, "utf-32-le", 0)


def test_binary_with_nuls_is_still_refused(tmp_path):
    path = tmp_path / "image.txt"
    path.write_bytes(bytes(range(256)) * 40)
    with pytest.raises(ReportError, match="binary"):
        load_document(path)


# 2. UTF-8 with a few bad bytes ---------------------------------------------------------------


def test_utf8_with_a_few_bad_bytes_is_read_with_a_warning(tmp_path, settings):
    data = WANZHOU.encode("utf-8")
    cut = data.index("规上工业".encode())
    damaged = data[:cut] + b"\xff\xfe" + data[cut:cut + 12] + b"\xc0" + data[cut + 12:]  # at character ends
    (settings.reports_dir / "万州区-节选.txt").write_bytes(damaged)
    doc = load_document(settings.reports_dir / "万州区-节选.txt")
    assert doc.encoding == "utf-8" and doc.district == "万州区"
    assert any("3 bytes not valid UTF-8" in w for w in doc.warnings)
    report = build_index(settings)  # the warning reaches what `qa index` prints
    stored = next(d for d in report.documents if d["source"] == "万州区-节选.txt")
    assert any("3 bytes not valid UTF-8" in w for w in stored["warnings"])


def test_gbk_and_big5_are_not_read_as_damaged_utf8():
    gbk = (DATA / "梁平区-gbk.txt").read_bytes()
    assert decode_text(gbk)[1:] == ("gb18030", 0)
    traditional = (DATA / "荣昌区-繁体.txt").read_text(encoding="utf-8")
    big5 = traditional.encode("big5", errors="ignore")
    assert decode_text(big5)[1:] == ("big5", 0)
    # A short GBK text in a long ASCII file is the worst case for the bad-byte share: still GBK.
    mostly_ascii = b"Annex 1 " * 200 + "地区生产总值增长6.6%，一般公共预算收入完成32.6亿元".encode("gbk")
    assert decode_text(mostly_ascii)[1] == "gb18030"


# 3. Size limit -------------------------------------------------------------------------------


def test_text_over_the_limit_is_skipped_unread(tmp_path, monkeypatch):
    path = tmp_path / "huge.txt"
    path.write_text(WANZHOU * 20, encoding="utf-8")  # 140 KB
    real_read_bytes = Path.read_bytes

    def read_bytes(self):
        assert self != path, "an oversized file must be refused before it is read"
        return real_read_bytes(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    with pytest.raises(ReportError, match=r"0\.1 MB is over the 0\.05 MB limit for \.txt reports .*QA_MAX_TEXT_MB"):
        load_document(path, settings=Settings(max_text_mb=0.05))
    monkeypatch.undo()
    assert load_document(path, settings=Settings(max_text_mb=1)).district == "万州区"


def test_size_limit_from_the_environment_in_qa_index_and_uploads(tmp_path, settings, monkeypatch):
    monkeypatch.setenv("QA_MAX_TEXT_MB", "0.05")
    assert load_settings().max_text_mb == 0.05 and Settings().max_text_mb == 5
    settings = settings.with_(max_text_mb=load_settings().max_text_mb)  # as `qa index` loads its settings
    (settings.reports_dir / "huge.txt").write_text(WANZHOU * 10, encoding="utf-8")  # 70 KB
    report = build_index(settings)
    assert "QA_MAX_TEXT_MB" in report.skipped["huge.txt"] and "0.05 MB limit" in report.skipped["huge.txt"]
    assert "万州区-节选.txt" in [d["source"] for d in report.documents]  # the rest is indexed
    with pytest.raises(ReportError, match="huge-upload.txt: .*over the 0.05 MB limit"):
        accept_upload(settings.reports_dir / "huge.txt", "huge-upload.txt", tmp_path, 20_000_000)


def test_docx_text_over_the_limit_is_refused(tmp_path):
    import docx

    path = tmp_path / "big.docx"
    document = docx.Document()
    for _ in range(15):
        document.add_paragraph(WANZHOU)  # the zipped file is small, its text is not
    document.save(str(path))
    assert path.stat().st_size < 100_000
    with pytest.raises(ReportError, match="MB of text is over the 0.1 MB limit"):
        load_document(path, settings=Settings(max_text_mb=0.1))


# 4. Symbolic links ---------------------------------------------------------------------------


def test_link_out_of_the_reports_folder_is_skipped(tmp_path, settings):
    secret = tmp_path / "secret.txt"
    secret.write_text(OTHER_REPORT * 3, encoding="utf-8")  # would be indexed if it were followed
    os.symlink(secret, settings.reports_dir / "leak.txt")
    os.symlink(settings.reports_dir / "万州区-节选.txt", settings.reports_dir / "a-link-to-wanzhou.txt")
    (settings.reports_dir / "more").mkdir()
    (settings.reports_dir / "more" / "潼南区.txt").write_text(OTHER_REPORT, encoding="utf-8")
    os.symlink(settings.reports_dir / "more" / "潼南区.txt", settings.reports_dir / "潼南区.txt")
    with pytest.raises(ReportError, match="symbolic link to .*secret.txt, outside the reports folder"):
        load_document(settings.reports_dir / "leak.txt")
    report = build_index(settings)
    assert "outside the reports folder" in report.skipped["leak.txt"]
    # A link to another report in the folder is that report again: skipped, even named first.
    assert report.skipped["a-link-to-wanzhou.txt"].startswith("symbolic link to 万州区-节选.txt, which is indexed under")
    assert "万州区-节选.txt" not in report.skipped
    # A link into a subfolder of reports/ is read.
    assert {d["source"]: d["district"] for d in report.documents}["潼南区.txt"] == "潼南区"


# 5. The same report twice --------------------------------------------------------------------


def test_same_text_under_another_name_is_found(reports):
    gbk = (DATA / "梁平区-gbk.txt").read_bytes()
    (reports / "copy-utf16.txt").write_bytes(gbk.decode("gb18030").encode("utf-16"))
    (reports / "copy-rewrapped.txt").write_text(
        WANZHOU.replace("。", "。\n\n"), encoding="utf-8")  # same words, other line breaks
    seen: dict[str, str] = {}
    firsts = {p.name: same_text_as(p.name, load_document(p).text, seen) for p in report_files(reports)}
    assert firsts["copy-utf16.txt"] is None and firsts["梁平区-gbk.txt"] == "copy-utf16.txt"
    assert firsts["copy-rewrapped.txt"] is None and firsts["万州区-节选.txt"] == "copy-rewrapped.txt"
    assert firsts["璧山区-网页.txt"] is None and firsts["荣昌区-繁体.txt"] is None
    assert same_text_as("copy-utf16.txt", load_document(reports / "copy-utf16.txt").text, seen) is None


# 6. metadata.json ----------------------------------------------------------------------------


def test_malformed_metadata_entries_are_named_and_ignored(settings):
    (settings.reports_dir / "metadata.json").write_text(json.dumps({
        "万州区-节选.txt": {"year": "twenty"},
        "梁平区-gbk.txt": ["not", "an", "object"],
        "荣昌区-繁体.txt": {"title": 5},
        "璧山区-网页.txt": {"year": "2023", "title": "测试标题"},
    }, ensure_ascii=False), encoding="utf-8")
    overrides, problems = read_overrides(settings.reports_dir)
    assert list(overrides) == ["璧山区-网页.txt"]
    assert len(problems) == 3 and all(p.startswith("metadata.json: entry ") and "\n" not in p for p in problems)
    assert "'万州区-节选.txt' ignored: 'year' must be a year such as 2024, found \"twenty\"" in problems[0]
    assert "'梁平区-gbk.txt' ignored: expected an object" in problems[1]
    assert "'荣昌区-繁体.txt' ignored: 'title' must be a non-empty string, found 5" in problems[2]
    report = build_index(settings)  # no traceback: all four reports indexed, the valid entry used
    docs = {d["source"]: d for d in report.documents}
    assert len(docs) == 4 and not report.skipped
    assert docs["璧山区-网页.txt"]["year"] == 2023 and docs["璧山区-网页.txt"]["title"] == "测试标题"
    assert docs["万州区-节选.txt"]["year"] == 2024
    # Given an entry nobody checked, the document says so rather than raising.
    doc = load_document(settings.reports_dir / "万州区-节选.txt", {"万州区-节选.txt": {"year": "twenty"}})
    assert doc.year == 2024 and any("metadata.json entry is ignored" in w for w in doc.warnings)


@pytest.mark.parametrize("content", ["{not json", "[1, 2]"])
def test_unreadable_metadata_file_is_named_and_ignored(settings, content):
    (settings.reports_dir / "metadata.json").write_text(content, encoding="utf-8")
    overrides, problems = read_overrides(settings.reports_dir)
    assert overrides == {} and len(problems) == 1 and problems[0].startswith("metadata.json: ")
    assert len(build_index(settings).documents) == 4


# 7. Uploads ----------------------------------------------------------------------------------


@pytest.fixture
def service(settings):
    build_index(settings)
    return Service(settings)


def test_upload_named_like_a_report_keeps_both(service, settings, tmp_path):
    upload = tmp_path / "gradio-1.txt"
    upload.write_text(OTHER_REPORT, encoding="utf-8")
    before = (settings.reports_dir / "万州区-节选.txt").read_bytes()
    added, errors, _ = service.add_reports([(upload, "万州区-节选.txt")])
    assert errors == []
    assert added == ["万州区-节选-2.txt (saved under this name: 万州区-节选.txt is a different report)"]
    assert (settings.reports_dir / "万州区-节选.txt").read_bytes() == before
    sources = {c.source for c in service.searcher.index.chunks}
    assert {"万州区-节选.txt", "万州区-节选-2.txt"} <= sources


def test_upload_of_an_indexed_report_adds_nothing(service, settings, tmp_path):
    same_bytes = tmp_path / "a.txt"
    same_bytes.write_bytes((settings.reports_dir / "万州区-节选.txt").read_bytes())
    re_encoded = tmp_path / "b.txt"
    re_encoded.write_bytes(WANZHOU.encode("utf-16"))
    twice = tmp_path / "c.txt"
    twice.write_text(OTHER_REPORT, encoding="utf-8")
    files_before = sorted(p.name for p in settings.reports_dir.iterdir())
    added, errors, _ = service.add_reports([(same_bytes, "万州区-节选.txt"), (re_encoded, "wanzhou.txt"),
                                            (twice, "潼南区.txt"), (twice, "潼南区-copy.txt")])
    assert added == ["潼南区.txt"]
    assert errors == ["万州区-节选.txt: already indexed as 万州区-节选.txt (same text); nothing added",
                      "wanzhou.txt: already indexed as 万州区-节选.txt (same text); nothing added",
                      "潼南区-copy.txt: already indexed as 潼南区.txt (same text); nothing added"]
    assert sorted(p.name for p in settings.reports_dir.iterdir()) == sorted(files_before + ["潼南区.txt"])


def test_the_same_report_under_two_names_is_indexed_once(settings, reports):
    """The build skips the copy and names it; results never repeat one passage."""
    from qa.store import build_index, load_index

    original = sorted(p for p in reports.iterdir() if p.suffix == ".txt")[0]
    build_index(settings)
    copy = reports / f"copy-of-{original.name}"  # sorts before the original: the indexed one is kept anyway
    copy.write_bytes(original.read_bytes())
    report = build_index(settings)
    assert report.skipped == {copy.name: f"same text as {original.name}"}
    sources = {c.source for c in load_index(settings.index_dir).chunks}
    assert original.name in sources and copy.name not in sources
    report = build_index(settings, full=True)  # from scratch: one of the two, named
    assert list(report.skipped.values()) in ([f"same text as {original.name}"], [f"same text as {copy.name}"])
