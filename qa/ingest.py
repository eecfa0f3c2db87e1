"""Read report files of any supported format and encoding into Documents (raw + clean text, metadata)."""

from __future__ import annotations

import bisect
import codecs
import hashlib
import io
import json
import logging
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from .clean import clean_text, is_common_han, to_simplified
from .config import Settings, load_settings
from .errors import ReportError
from .ocr import IMAGE_TYPES, MIN_TEXT_CHARS, RUNS_ON, OcrCache, OcrUnavailable, PageReader, page_key
from .places import Place, detect_place, detect_year, find_place

log = logging.getLogger(__name__)
log.addHandler(logging.NullHandler())

WORD_TYPES = {".doc", ".wps"}  # old binary Word / WPS files, converted by a Debian tool (see word_to_text)
SUPPORTED = {".txt", ".md", ".html", ".htm", ".docx", ".pdf", ".xlsx"} | WORD_TYPES | IMAGE_TYPES
TEXT_TYPES = {".txt", ".md", ".html", ".htm"}  # file size ≈ text size, so the text limit applies before reading
METADATA_FILE = "metadata.json"  # optional overrides: {"file.txt": {"district": …, "year": …, "title": …}}
_IGNORED = {METADATA_FILE, "readme.md", "readme.txt"}


@dataclass
class Document:
    source: str  # file name inside the reports folder
    sha256: str
    text: str  # cleaned text: one paragraph per line; every span points into this
    district: str  # display name: 龙岗区 (or 未知 when nothing was found)
    year: int
    title: str
    encoding: str = "utf-8"
    removed: dict = field(default_factory=dict)
    place: str = ""  # qualified name: 深圳市龙岗区 (重庆市江北区 and 宁波市江北区 differ)
    level: str = ""  # province, city, district, county, county-level city, banner, autonomous county …
    province: str = ""
    english: str = ""  # Longgang
    short: str = ""  # 龙岗
    detected: dict = field(default_factory=dict)  # how place and year were found (which line)
    warnings: list = field(default_factory=list)
    # Printed pages (PDFs, images): [start offset in text, page number] for each page, in order;
    # empty for formats without pages. page_at(start) gives a span's page.
    pages: list = field(default_factory=list)

    def page_at(self, offset: int) -> int:
        """The page holding text[offset] (1-based), or 0 when the report has no pages."""
        return page_at(self.pages, offset)

    def meta(self) -> dict:
        return {
            "source": self.source,
            "sha256": self.sha256,
            "district": self.district,
            "place": self.place,
            "level": self.level,
            "province": self.province,
            "english": self.english,
            "short": self.short,
            "year": self.year,
            "title": self.title,
            "encoding": self.encoding,
            "removed": self.removed,
            "detected": self.detected,
            "warnings": self.warnings,
            "chars": len(self.text),
            "pages": self.pages,
        }


def page_at(pages: list, offset: int) -> int:
    """The page number whose start is the last at or before offset; 0 without pages."""
    if not pages:
        return 0
    i = bisect.bisect_right([start for start, _ in pages], offset) - 1
    return pages[max(i, 0)][1]


def report_files(folder: Path) -> list[Path]:
    """Report files in a folder, sorted by name; hidden files, READMEs and metadata.json are not
    reports. A subfolder holding page images (photos or scans of one report's pages) is one report."""
    if not folder.is_dir():
        raise ReportError(f"Reports folder not found: {folder}")
    return sorted(
        p
        for p in folder.iterdir()
        if not p.name.startswith(".") and p.name.lower() not in _IGNORED
        and (p.is_file() or (p.is_dir() and page_images(p)))
    )


def page_images(folder: Path) -> list[Path]:
    """The image files of a folder of page photos or scans, in page order: natural order of their
    names, so 页2.jpg comes before 页10.jpg and IMG_0009 before IMG_0010."""
    def natural(p: Path):
        return [(0, int(part), "") if part.isdigit() else (1, 0, part.lower()) for part in re.split(r"(\d+)", p.name)]

    try:
        return sorted((p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")
                       and p.suffix.lower() in IMAGE_TYPES), key=natural)
    except OSError:
        return []


def file_hash(path: Path) -> str:
    """SHA-256 of a file's bytes, read in blocks so a huge file does not fill memory. A link out of
    its folder is hashed by where it points: it is never read (see outside_link)."""
    digest = hashlib.sha256()
    if (target := outside_link(path)) is not None:
        digest.update(f"link:{target}".encode())
        return digest.hexdigest()
    if path.is_dir():  # a folder of page images: its pages' names and hashes, in page order
        for page in page_images(path):
            digest.update(f"{page.name}\0{file_hash(page)}\n".encode())
        return digest.hexdigest()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def outside_link(path: Path) -> Path | None:
    """Where a symbolic link points when that is outside the link's own folder, else None.
    A link out of reports/ could make the index (and every answer) quote any file the server can
    read, e.g. /etc/passwd."""
    if not path.is_symlink():
        return None
    target = path.resolve()
    return None if target.is_relative_to(path.parent.resolve()) else target


def link_problem(path: Path) -> str | None:
    """Why a symbolic link is not read, or None. A link to another report in the same folder is
    skipped as a copy of it, whatever the names' order (the report is read under its own name); a
    link into a subfolder is read, since report_files does not list subfolders."""
    if (target := outside_link(path)) is not None:
        return f"symbolic link to {target}, outside the reports folder; not read"
    if path.is_symlink() and path.resolve().parent == path.parent.resolve():
        return f"symbolic link to {path.resolve().name}, which is indexed under its own name"
    return None


def decode_bytes(data: bytes) -> tuple[str, str]:
    """Decode text of unknown encoding: UTF-8 (with or without BOM), UTF-16, else GB18030/GBK or Big5."""
    text, encoding, _ = decode_text(data)
    return text, encoding


# UTF-8 with a few bad bytes (a damaged download, one stray Latin-1 byte) is read with U+FFFD in
# their place, but only when they are at most 0.1% of the file (8 bytes at least, for short files):
# GBK or Big5 read as UTF-8 fails on most of its Chinese bytes (45–62% of the bytes of the test
# reports), so no Chinese report comes near the limit.
_MAX_BAD_UTF8_SHARE = 0.001
_MIN_BAD_UTF8_ALLOWED = 8

# UTF-32 first: its little-endian BOM begins with UTF-16's.
_UNICODE_BOMS = ((codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"),
                 (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))


def decode_text(data: bytes) -> tuple[str, str, int]:
    """(text, encoding, number of bad bytes replaced) of text of unknown encoding."""
    for bom, encoding in _UNICODE_BOMS:
        if data.startswith(bom):
            return _strict(data[len(bom):], encoding), encoding, 0
    if b"\x00" in data[:8192]:  # UTF-8 and the GB/Big5 encodings never hold a NUL; UTF-16 does
        found = _utf16_without_bom(data)
        if found is None:
            raise ReportError("binary file, not text")
        return found[0], found[1], 0
    encoding = "utf-8"
    if data.startswith(codecs.BOM_UTF8):
        data, encoding = data[len(codecs.BOM_UTF8):], "utf-8-sig"
    try:
        return data.decode("utf-8"), encoding, 0
    except UnicodeDecodeError:
        pass
    bad = len(data) - len(data.decode("utf-8", errors="ignore").encode("utf-8"))
    if bad <= max(_MIN_BAD_UTF8_ALLOWED, len(data) * _MAX_BAD_UTF8_SHARE):
        return data.decode("utf-8", errors="replace"), encoding, bad
    text, encoding = _decode_chinese_legacy(data)
    return text, encoding, 0


def _strict(data: bytes, encoding: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise ReportError(f"not valid {encoding} text ({exc.reason} at byte {exc.start})") from exc


def _utf16_without_bom(data: bytes) -> tuple[str, str] | None:
    """UTF-16 saved without a BOM (its line ends and digits hold NULs): the byte order under which
    the text reads as Chinese and ASCII. The wrong order scatters characters over unrelated blocks,
    and binary data decodes to noise either way."""
    for encoding in ("utf-16-le", "utf-16-be"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if _plain_share(text[:20000]) >= 0.9:
            return text, encoding
    return None


def _plain_share(text: str) -> float:
    """Share of characters that a Chinese report is made of: ASCII text, quotes and dashes, CJK
    punctuation and ideographs, full-width forms."""
    plain = sum(
        1 for c in text
        if c in "\t\n\r·" or " " <= c <= "~" or "\u2010" <= c <= "\u206f" or "\u3000" <= c <= "\u303f"
        or "\u4e00" <= c <= "\u9fff" or "\uff00" <= c <= "\uffef"
    )
    return plain / max(len(text), 1)


def _decode_chinese_legacy(data: bytes) -> tuple[str, str]:
    """Text in GB18030/GBK or Big5, else whatever charset_normalizer finds."""
    # GB18030 decodes almost any byte string, so it cannot decide on its own: ask which of the
    # strict decodings reads as the most common Chinese (characters of GB2312's first level).
    candidates = []
    for enc in ("gb18030", "big5"):
        try:
            text = data.decode(enc)
        except UnicodeDecodeError:
            continue
        candidates.append((_commonness(text), enc, text))
    if candidates:
        _, enc, text = max(candidates)
        return text, enc
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise ReportError("unknown text encoding")
    return str(best), best.encoding


def _commonness(text: str) -> float:
    """Share of Han characters that are in GB2312 level 1 (the 3,755 most common), Traditional folded in."""
    han = [c for c in to_simplified(text[:20000])[0] if "\u4e00" <= c <= "\u9fff"]
    if not han:
        return 0.0
    return sum(map(is_common_han, han)) / len(han)


@dataclass
class RawReport:
    """A report file's text before cleaning, as its reader returned it."""

    text: str
    encoding: str
    warnings: list
    page_starts: list = field(default_factory=list)  # [offset in text, page number] per page; [] without pages


def read_raw(path: Path, settings: Settings | None = None) -> tuple[str, str, list[str]]:
    """Text of a report file, how it was decoded, and warnings about the decoding. Raises
    ReportError for unreadable files, links out of the folder and files over the size limits."""
    raw = read_report(path, settings)
    return raw.text, raw.encoding, raw.warnings


def read_report(path: Path, settings: Settings | None = None) -> RawReport:
    """read_raw, with where each printed page starts (PDFs and images)."""
    settings = settings or load_settings()
    if why := link_problem(path):
        raise ReportError(why)
    if path.is_dir():
        return _read_page_folder(path, settings)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        raise ReportError(f"unsupported file type {suffix or '(none)'}; use one of {', '.join(sorted(SUPPORTED))}")
    try:
        check_file_size(path.stat().st_size, suffix, settings)  # before reading: memory stays bounded
        data = path.read_bytes()
    except OSError as exc:
        raise ReportError(f"cannot read file: {exc.strerror or exc}") from exc
    if not data.strip():
        raise ReportError("empty file")
    warnings: list[str] = []
    try:
        text, encoding, replaced, pages = _parse(path, suffix, data, settings, warnings)
    except ReportError:
        raise
    except Exception as exc:  # a corrupt .docx/.pdf raises whatever its parser raises
        raise ReportError(f"cannot parse {suffix} file ({type(exc).__name__}: {exc})") from exc
    check_text_size(text, settings)
    if replaced:
        bytes_ = f"{replaced} byte{'s' if replaced > 1 else ''}"
        warnings.append(f"{path.name}: {bytes_} not valid UTF-8, replaced with \ufffd (the text around may be garbled)")
    return RawReport(text, encoding, warnings, pages or [])


def _read_page_folder(folder: Path, settings: Settings) -> RawReport:
    """A folder of page images as one report: each image OCR'd (every frame of a TIFF), the pages
    numbered in order across them. An image that cannot be read is named and left out."""
    images = page_images(folder)
    if not images:
        raise ReportError("folder holds no page images")
    warnings: list[str] = []
    for image in images:
        if why := link_problem(image):
            raise ReportError(f"{image.name}: {why}")
    try:
        check_file_size(sum(p.stat().st_size for p in images), ".png", settings)
    except OSError as exc:
        raise ReportError(f"cannot read file: {exc.strerror or exc}") from exc
    reader = PageReader(OcrCache(settings.ocr_cache))
    pages: list[str] = []
    for image in _progress(images, folder.name):
        try:
            data = image.read_bytes()
            pages += image_pages(data, f"{folder.name}/{image.name}", reader, hashlib.sha256(data).hexdigest(), warnings)
        except (OSError, ReportError) as exc:
            warnings.append(f"{folder.name}/{image.name}: {exc}; page left out")
    text, starts = join_pages(pages, "no text found on any page (OCR read nothing)")
    check_text_size(text, settings)
    return RawReport(text, "ocr", warnings, starts)


def join_pages(pages: list[str], empty: str = "no text found on any page") -> tuple[str, list[list[int]]]:
    """The pages' texts as one, and [offset, page number] of each page in it. Pages are joined
    by a line break, but a paragraph running over a page break (OCR marks its ends with RUNS_ON:
    the page ends on a full line without a full stop, the next starts at the margin) is joined
    without one. Raises ReportError(empty) when no page holds any text."""
    if not any(p.strip(RUNS_ON + " \n") for p in pages):
        raise ReportError(empty)
    parts, starts, offset, runs_on = [], [], 0, False
    for number, page in enumerate(pages, start=1):
        starts_inside, ends_inside = page.startswith(RUNS_ON), page.endswith(RUNS_ON) and len(page) > 1
        page = page.strip(RUNS_ON)
        separator = "" if number == 1 or (runs_on and starts_inside) else "\n"
        parts.append(separator + page)
        offset += len(separator)
        starts.append([offset, number])
        offset += len(page)
        runs_on = ends_inside
    return "".join(parts), starts


def _parse(path: Path, suffix: str, data: bytes, settings: Settings,
           warnings: list[str]) -> tuple[str, str, int, list[list[int]] | None]:
    """(text, encoding, bad bytes replaced, page starts or None) of a report file's bytes, by its type."""
    if suffix in {".txt", ".md"}:
        return *decode_text(data), None
    if suffix in {".html", ".htm"}:
        html, encoding, replaced = decode_text(data)
        return html_to_text(html), encoding, replaced, None
    if suffix == ".docx":
        return docx_to_text(path), "docx", 0, None
    if suffix == ".xlsx":
        return xlsx_to_text(data), "xlsx", 0, None
    if suffix in WORD_TYPES:
        text, tool = word_to_text(path)
        return text, tool, 0, None
    reader = PageReader(OcrCache(settings.ocr_cache))
    digest = hashlib.sha256(data).hexdigest()
    if suffix == ".pdf":
        pages = pdf_pages(data, path.name, reader, digest, settings.ocr_dpi, warnings)
        encoding = "pdf+ocr" if reader.recognised + reader.cached else "pdf"
    else:
        pages = image_pages(data, path.name, reader, digest, warnings)
        encoding = "ocr"
    if reader.recognised:
        log.info("%s: %d page(s) read by OCR in %.1f s (%d from the cache)", path.name, reader.recognised,
                 reader.seconds, reader.cached)
    text, starts = join_pages(pages, "no text found on any page (OCR read nothing)" if encoding != "pdf"
                              else "PDF has no text")
    return text, encoding, 0, starts


def check_file_size(size: int, suffix: str, settings: Settings) -> None:
    """Refuse a file too large to be a report before it is read: text formats over the text limit,
    .docx/.pdf (mostly zip, images and fonts) over the upload limit."""
    if suffix in TEXT_TYPES:
        limit, setting = settings.max_text_mb, "QA_MAX_TEXT_MB"
    elif suffix == ".pdf" or suffix in IMAGE_TYPES:  # scans: a page image is 0.2–1 MB
        limit, setting = max(settings.max_scan_mb, settings.max_upload_mb), "QA_MAX_SCAN_MB"
    else:
        limit, setting = settings.max_upload_mb, "QA_MAX_UPLOAD_MB"
    if size > limit * 1_000_000:
        raise ReportError(f"{size / 1e6:.1f} MB is over the {limit:g} MB limit for {suffix} reports "
                          f"(government reports are 20–100 KB; raise it with {setting})")


def check_text_size(text: str, settings: Settings) -> None:
    """Refuse text over the text limit, however small its file was (a .docx is zipped)."""
    size = len(text.encode("utf-8"))
    if size > settings.max_text_mb * 1_000_000:
        raise ReportError(f"{size / 1e6:.1f} MB of text is over the {settings.max_text_mb:g} MB limit "
                          f"(government reports are 20–100 KB; raise it with QA_MAX_TEXT_MB)")


_BLOCK_TAGS = ["p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "section", "article", "table"]


def html_to_text(html: str) -> str:
    """Visible text of a web page, one block per line; scripts, styles and page chrome dropped."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(["script", "style", "noscript", "nav", "header", "footer", "iframe", "form", "select"]):
        tag.decompose()
    for tag in soup.find_all(_BLOCK_TAGS):
        tag.insert_before("\n")
        tag.insert_after("\n")
    return soup.get_text()


def docx_to_text(path: Path) -> str:
    import docx

    document = docx.Document(str(path))
    lines = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            lines.append(" ".join(cell.text.strip() for cell in row.cells))
    return "\n".join(lines)


def pdf_pages(data: bytes, name: str, reader: PageReader, digest: str, dpi: int, warnings: list[str]) -> list[str]:
    """Each page's text: its text layer, or OCR of the page rendered at dpi when the layer holds
    fewer than MIN_TEXT_CHARS characters (scanned pages; a mixed PDF is read page by page)."""
    from pypdf import PdfReader

    pdf = PdfReader(io.BytesIO(data))
    texts: list[str] = []
    for number, page in enumerate(pdf.pages, start=1):
        try:
            texts.append(page.extract_text() or "")
        except Exception as exc:  # noqa: BLE001 - one damaged page: try OCR on it
            log.info("%s p. %d: text layer unreadable (%s)", name, number, exc)
            texts.append("")
    scanned = [i for i, t in enumerate(texts) if len(re.sub(r"\s", "", t)) < MIN_TEXT_CHARS]
    if scanned:
        import pypdfium2 as pdfium

        document = pdfium.PdfDocument(data)
        try:
            for i in _progress(scanned, name):
                texts[i] = _ocr_page(reader, page_key(digest, i + 1, dpi), lambda i=i: _render(document, i, dpi),
                                     name, i + 1, warnings, texts[i], has_text=len(scanned) < len(texts))
        finally:
            document.close()
    return texts


def _render(document, index: int, dpi: int):
    page = document[index]
    try:
        return page.render(scale=dpi / 72).to_pil()
    finally:
        page.close()


def image_pages(data: bytes, name: str, reader: PageReader, digest: str, warnings: list[str]) -> list[str]:
    """OCR of each frame of an image file (a multi-page TIFF has several), turned upright by its
    EXIF orientation (photos from phones)."""
    from PIL import Image, ImageOps, ImageSequence

    try:
        image = Image.open(io.BytesIO(data))
        frames = [ImageOps.exif_transpose(frame.copy()) for frame in ImageSequence.Iterator(image)]
    except Exception as exc:  # noqa: BLE001 - Pillow raises several types for a bad image
        raise ReportError(f"not a readable image ({type(exc).__name__}: {exc})") from exc
    texts = []
    for i in _progress(range(len(frames)), name):
        texts.append(_ocr_page(reader, page_key(digest, i + 1, 0), lambda i=i: frames[i], name, i + 1, warnings, "",
                               has_text=False))
    return texts


def _ocr_page(reader: PageReader, key: str, image, name: str, number: int, warnings: list[str],
              fallback: str, has_text: bool) -> str:
    """One page through OCR; a page that cannot be read is named in the warnings and left as it was."""
    try:
        return reader.read(key, image)
    except OcrUnavailable as exc:
        if not has_text:
            raise ReportError(f"scanned pages need OCR, and {exc}") from exc
        warnings.append(f"{name}: p. {number} is scanned and was not read: {exc}")
    except Exception as exc:  # noqa: BLE001 - a page the renderer or the engine cannot take
        warnings.append(f"{name}: p. {number} could not be read by OCR ({type(exc).__name__}: {exc}); skipped")
    return fallback


def _progress(items, name: str):
    """A progress bar per OCR'd page when there are several (OCR takes seconds a page)."""
    items = list(items)
    if len(items) < 2:
        return items
    from tqdm import tqdm

    return tqdm(items, desc=f"OCR {name}", unit="page", leave=False, disable=None)


def xlsx_to_text(data: bytes) -> str:
    """A workbook as text rows: the sheet name, then each row. When a sheet's first row is a header
    (text in two or more cells), each later row reads "first cell：header value，header value", so a
    figure keeps the name of its column."""
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    lines: list[str] = []
    for sheet in book.worksheets:
        rows = [[_cell(v) for v in row] for row in sheet.iter_rows(values_only=True)]
        rows = [r for r in rows if any(r)]
        if not rows:
            continue
        lines.append(sheet.title)
        header = rows[0] if sum(1 for v in rows[0] if v and not _is_number(v)) >= 2 else None
        if header:
            lines.append("，".join(v for v in header if v))
        for row in rows[1:] if header else rows:
            if header and row[0]:
                pairs = [f"{h} {v}".strip() for h, v in zip(header[1:], row[1:]) if v]
                lines.append(f"{row[0]}：{'，'.join(pairs)}" if pairs else row[0])
            else:
                lines.append("，".join(v for v in row if v))
    book.close()
    return "\n".join(lines)


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _is_number(text: str) -> bool:
    return bool(re.fullmatch(r"[-+]?\d+(\.\d+)?%?", text))


# Old Word (.doc) and WPS (.wps) files: antiword first (fast, small), then catdoc, then LibreOffice
# headless when installed. Speed and fidelity of the three: README ("Old formats").
def word_to_text(path: Path) -> tuple[str, str]:
    """(text, tool used) of a .doc/.wps file."""
    tried = []
    for tool, command in (("antiword", ["antiword", "-m", "UTF-8.txt", "-w", "0", str(path)]),
                          ("catdoc", ["catdoc", "-d", "utf-8", "-w", str(path)])):
        if not shutil.which(command[0]):
            tried.append(f"{tool} not installed")
            continue
        done = subprocess.run(command, capture_output=True, timeout=120)
        text = done.stdout.decode("utf-8", errors="replace")
        if done.returncode == 0 and len(re.findall(r"[\u4e00-\u9fff]", text)) >= 20:
            return text, tool
        tried.append(f"{tool}: {(done.stderr.decode('utf-8', 'replace').strip() or 'no Chinese text')[:120]}")
    office = shutil.which("soffice") or shutil.which("libreoffice")
    if office:
        with tempfile.TemporaryDirectory() as out:
            done = subprocess.run([office, "--headless", "--convert-to", "txt:Text (encoded):UTF8", "--outdir", out,
                                   str(path)], capture_output=True, timeout=300)
            converted = Path(out) / (path.stem + ".txt")
            if done.returncode == 0 and converted.exists():
                return decode_text(converted.read_bytes())[0], "libreoffice"
            tried.append(f"libreoffice: {done.stderr.decode('utf-8', 'replace').strip()[:120] or 'no output'}")
    else:
        tried.append("libreoffice not installed")
    raise ReportError(f"cannot read this {path.suffix} file ({'; '.join(tried)}); "
                      "install antiword (`make setup` does) or save it as .docx")


def detect_title(text: str, place: str, year: int) -> str:
    for line in text.split("\n")[:12]:
        if "政府工作报告" in line:
            m = re.search(r"[^—\s《》]*政府工作报告(?:[(（](?:19|20)\d{2}年?[)）])?([(（]?摘[登要][)）]?)?", line)
            if m and len(m.group(0)) >= 8 and not m.group(0).startswith("政府工作报告"):
                return m.group(0)
    return f"{place}{year or ''}{'年' if year else ''}政府工作报告" if place else "政府工作报告"


def describe_place(text: str, raw: str, filename: str, override: dict) -> tuple[Place | None, str, list[str]]:
    """The reporting government: metadata.json first ("district" or "place"), else detected."""
    named = override.get("place") or override.get("district")
    if named:
        found = find_place(str(named))
        return found, "reports/metadata.json", [] if found else [
            f"{filename}: {named!r} from reports/metadata.json is not a known division; used as written"]
    return detect_place(text, filename, raw)


def load_overrides(folder: Path) -> dict:
    """metadata.json's well-formed entries; its problems are logged (read_overrides returns them)."""
    overrides, problems = read_overrides(folder)
    for problem in problems:
        log.warning(problem)
    return overrides


def read_overrides(folder: Path) -> tuple[dict, list[str]]:
    """metadata.json's well-formed entries, and one line per problem naming the entry (or the file)
    and what is wrong. A bad entry is left out rather than stopping the build: the other entries
    and every report still count."""
    path = folder / METADATA_FILE
    if not path.exists():
        return {}, []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return {}, [f"{METADATA_FILE}: not valid JSON ({exc}); the whole file is ignored"]
    if not isinstance(data, dict):
        why = f"expected an object mapping file names to metadata, found {_shown(data)}"
        return {}, [f"{METADATA_FILE}: {why}; the whole file is ignored"]
    overrides, problems = {}, []
    for name, entry in data.items():
        if why := override_problem(entry):
            problems.append(f"{METADATA_FILE}: entry {name!r} ignored: {why}")
        else:
            overrides[name] = entry
    return overrides, problems


def override_problem(entry) -> str | None:
    """What is wrong with one metadata.json entry, or None. A missing or null key is fine."""
    if not isinstance(entry, dict):
        return f'expected an object such as {{"year": 2024}}, found {_shown(entry)}'
    for key in ("district", "place", "title"):
        value = entry.get(key)
        if value is not None and not (isinstance(value, str) and value.strip()):
            return f"{key!r} must be a non-empty string, found {_shown(value)}"
    if entry.get("year") is not None and _override_year(entry["year"]) is None:
        return f"'year' must be a year such as 2024, found {_shown(entry['year'])}"
    return None


def _override_year(value) -> int | None:
    """A year as metadata.json may write it (2024 or "2024"), or None if it is not one."""
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).strip().isdigit():
        return None
    year = int(value)
    return year if 1900 <= year <= 2100 else None


def _shown(value) -> str:
    """A JSON value as the user wrote it, cut short."""
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "…"


def _override_for(name: str, overrides: dict | None) -> tuple[dict, list[str]]:
    """This file's metadata.json entry, or {} and a warning when it is malformed (callers may pass
    overrides that read_overrides did not check)."""
    entry = (overrides or {}).get(name, {})
    if why := override_problem(entry):
        return {}, [f"{name}: its {METADATA_FILE} entry is ignored: {why}"]
    return entry, []


def load_document(path: Path, overrides: dict | None = None, sha256: str | None = None,
                  settings: Settings | None = None) -> Document:
    """Read, decode, clean and describe one report. Raises ReportError if it holds no usable text.
    settings gives the size limits; without it they come from the environment (load_settings)."""
    report = read_report(path, settings)
    raw, encoding, warnings = report.text, report.encoding, report.warnings
    text, removed = clean_text(raw)
    if len(re.findall(r"[\u4e00-\u9fff]", text)) < 20:
        raise ReportError("no Chinese text after cleaning (empty, binary or not a report)")
    over, override_warnings = _override_for(path.name, overrides)
    raw_simplified = to_simplified(raw)[0]
    place, place_how, place_warnings = describe_place(text, raw_simplified, path.name, over)
    warnings += override_warnings + place_warnings
    if over.get("year") is not None:
        year, year_how = _override_year(over["year"]), "reports/metadata.json"
    else:
        year, year_how, year_warnings = detect_year(text + "\n" + raw_simplified[:3000], path.name)
        warnings += year_warnings
    named = str(over.get("place") or over.get("district") or "")
    name = place.name if place else (named or "未知")
    qualified = place.qualified if place else named
    title = over.get("title") or detect_title(text, qualified, year)
    return Document(
        source=path.name,
        sha256=sha256 or file_hash(path),
        text=text,
        district=name,
        year=year,
        title=title,
        encoding=encoding,
        removed=dict(removed),
        place=qualified or name,
        level=place.level if place else "",
        province=place.province if place else "",
        english=place.english if place else "",
        short=place.short if place else name,
        detected={"place": place_how, "year": year_how},
        warnings=warnings,
        pages=clean_page_starts(raw, report.page_starts, text),
    )


_KEPT = re.compile(r"[\u4e00-\u9fff0-9A-Za-z]")
_WINDOW = 12  # characters a page's opening must match in the cleaned text


def _kept(text: str) -> tuple[str, list[int]]:
    """The characters cleaning never changes (Han after Traditional → Simplified, digits, Latin
    letters) and where each sits in text."""
    where = [i for i, c in enumerate(text) if _KEPT.match(c)]
    return "".join(text[i] for i in where), where


def clean_page_starts(raw: str, raw_starts: list, clean: str) -> list[list[int]]:
    """Where each printed page starts in the cleaned text. Cleaning keeps no offset map, so each
    page's opening is found in the cleaned text: its first 12 kept characters, or, when cleaning
    dropped them (a running header, a page number), the next 12, and so on, searched forward from
    the previous page's start."""
    if not raw_starts:
        return []
    clean_keys, clean_where = _kept(clean)
    starts, cursor = [[0, raw_starts[0][1]]], 0
    bounds = [s for s, _ in raw_starts] + [len(raw)]
    for (offset, number), end in zip(raw_starts[1:], bounds[2:]):
        keys, _ = _kept(to_simplified(raw[offset:end])[0])
        found = None
        for skip in range(0, max(len(keys) - _WINDOW, 0) + 1, _WINDOW):
            window = keys[skip:skip + _WINDOW]
            if len(window) < min(_WINDOW, len(keys)) or not window:
                break
            j = clean_keys.find(window, cursor + 1)  # a page is never empty: not where the last one starts
            if j >= 0:
                found = max(cursor, j - skip) if skip else j
                break
            if skip >= 10 * _WINDOW:
                break
        if found is None or found >= len(clean_where):
            starts.append([None, number])
            continue
        cursor = found
        starts.append([clean_where[found], number])
    # A paragraph starting a page begins at its line's start, not at its first kept character.
    for start in starts[1:]:
        if start[0] is None:
            continue
        line_start = clean.rfind("\n", 0, start[0]) + 1
        if not re.search(r"[\u4e00-\u9fff0-9A-Za-z]", clean[line_start:start[0]]):
            start[0] = line_start
    # A page not found (nothing read on it, or only furniture) is empty: it starts where the next
    # page does, so no text is attributed to it.
    following = len(clean)
    for start in reversed(starts):
        start[0] = following = following if start[0] is None else start[0]
    return starts


def text_key(text: str) -> str:
    """Fingerprint of a report's cleaned text, whitespace ignored: the same report under two names,
    re-encoded (GBK, UTF-16) or re-wrapped, fingerprints alike."""
    return hashlib.sha256(re.sub(r"\s+", "", text).encode("utf-8")).hexdigest()


def same_text_as(source: str, text: str, seen: dict[str, str]) -> str | None:
    """The report already seen with this cleaned text, else None (and this one is remembered).
    seen maps text_key → report name and is shared across one pass over the folder; the first name
    wins, so the build, reading files in name order, indexes the same report once."""
    first = seen.setdefault(text_key(text), source)
    return first if first != source else None


UPLOAD_TYPES = set(SUPPORTED)


def safe_report_name(name: str) -> str:
    """A file name that is safe to write into the reports folder: no folders, no leading dots,
    no control or shell-special characters; Chinese is kept."""
    base = Path(name.replace("\\", "/")).name
    stem, suffix = Path(base).stem, Path(base).suffix.lower()
    stem = re.sub(r"[^\w\u3400-\u9fff\-（）()·]+", "_", stem).strip("._ ")[:80]
    if not stem:
        raise ReportError(f"{name!r} is not a usable file name")
    return stem + suffix


def accept_upload(source: Path, original_name: str, reports_dir: Path, max_bytes: int, *,
                  known: dict[str, str] | None = None, settings: Settings | None = None) -> Path:
    """Validate an uploaded report (type, size, name, readable text, not already indexed) and copy
    it into the reports folder, under a new name if its own is taken. Raises ReportError, leaving
    the folder as it was. known maps text_key → report name of the indexed reports; the upload is
    added to it, so a batch holding one report twice adds it once."""
    name = safe_report_name(original_name)
    suffix = Path(name).suffix
    if suffix not in UPLOAD_TYPES:
        raise ReportError(f"{original_name}: unsupported type {suffix or '(none)'}; use one of {', '.join(sorted(UPLOAD_TYPES))}")
    size = source.stat().st_size
    if size > max_bytes:
        raise ReportError(f"{original_name}: {size / 1e6:.1f} MB is over the {max_bytes / 1e6:.0f} MB limit")
    readable = source if source.suffix.lower() == suffix else _with_suffix(source, suffix)
    try:
        doc = load_document(readable, settings=settings)  # unreadable, empty or not a report: refuse before it is copied
    except ReportError as exc:
        raise ReportError(f"{original_name}: {exc}") from exc
    finally:
        if readable != source:
            readable.unlink(missing_ok=True)
    known = {} if known is None else known
    key = text_key(doc.text)
    if key in known:  # under its own name or another: a second copy would repeat every passage
        raise ReportError(f"{original_name}: already indexed as {known[key]} (same text); nothing added")
    target = free_report_name(reports_dir, name)
    known[key] = target.name
    tmp = reports_dir / f".{target.name}.part"
    shutil.copyfile(source, tmp)
    os.replace(tmp, target)
    return target


def free_report_name(reports_dir: Path, name: str) -> Path:
    """name in the reports folder, or name-2, name-3 … if that is taken: an upload never replaces
    a report (a 4 KB upload named like a 60 KB report once wiped out its passages)."""
    stem, suffix = Path(name).stem, Path(name).suffix
    target, n = reports_dir / name, 2
    while target.exists() or target.is_symlink():
        target, n = reports_dir / f"{stem}-{n}{suffix}", n + 1
    return target


def _with_suffix(source: Path, suffix: str) -> Path:
    """A copy of an upload under the suffix its name claims, so the right reader parses it."""
    copy = source.with_name(source.stem + "-upload" + suffix)
    shutil.copyfile(source, copy)
    return copy
