"""Read report files of any supported format and encoding into Documents (raw + clean text, metadata)."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from .clean import clean_text, is_common_han, to_simplified
from .errors import ReportError
from .places import Place, detect_place, detect_year, find_place

log = logging.getLogger(__name__)
log.addHandler(logging.NullHandler())

SUPPORTED = {".txt", ".md", ".html", ".htm", ".docx", ".pdf"}
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
        }


def report_files(folder: Path) -> list[Path]:
    """Report files in a folder, sorted by name; hidden files, READMEs and metadata.json are not reports."""
    if not folder.is_dir():
        raise ReportError(f"Reports folder not found: {folder}")
    return sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and not p.name.startswith(".") and p.name.lower() not in _IGNORED
    )


def file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def decode_bytes(data: bytes) -> tuple[str, str]:
    """Decode text of unknown encoding: UTF-8 (with or without BOM), else GB18030/GBK or Big5."""
    if b"\x00" in data[:8192]:
        raise ReportError("binary file, not text")
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace"), "utf-8-sig"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
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


def read_raw(path: Path) -> tuple[str, str]:
    """Text of a report file and how it was decoded. Raises ReportError for unreadable files."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        raise ReportError(f"unsupported file type {suffix or '(none)'}; use one of {', '.join(sorted(SUPPORTED))}")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ReportError(f"cannot read file: {exc.strerror or exc}") from exc
    if not data.strip():
        raise ReportError("empty file")
    try:
        if suffix in {".txt", ".md"}:
            return decode_bytes(data)
        if suffix in {".html", ".htm"}:
            html, enc = decode_bytes(data)
            return html_to_text(html), enc
        if suffix == ".docx":
            return docx_to_text(path), "docx"
        return pdf_to_text(path), "pdf"
    except ReportError:
        raise
    except Exception as exc:  # a corrupt .docx/.pdf raises whatever its parser raises
        raise ReportError(f"cannot parse {suffix} file ({type(exc).__name__}: {exc})") from exc


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


def pdf_to_text(path: Path) -> str:
    from pypdf import PdfReader

    reader = PdfReader(str(path))
    text = "\n".join(page.extract_text() or "" for page in reader.pages)
    if not text.strip():
        raise ReportError("PDF has no text layer (scanned image?)")
    return text


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
    path = folder / METADATA_FILE
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ReportError(f"{path}: not valid JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise ReportError(f"{path}: expected an object mapping file names to metadata")
    return data


def load_document(path: Path, overrides: dict | None = None, sha256: str | None = None) -> Document:
    """Read, decode, clean and describe one report. Raises ReportError if it holds no usable text."""
    raw, encoding = read_raw(path)
    text, removed = clean_text(raw)
    if len(re.findall(r"[\u4e00-\u9fff]", text)) < 20:
        raise ReportError("no Chinese text after cleaning (empty, binary or not a report)")
    over = (overrides or {}).get(path.name, {})
    raw_simplified = to_simplified(raw)[0]
    place, place_how, warnings = describe_place(text, raw_simplified, path.name, over)
    if over.get("year"):
        year, year_how = int(over["year"]), "reports/metadata.json"
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
    )


UPLOAD_TYPES = {".txt", ".md", ".html", ".htm", ".docx", ".pdf"}


def safe_report_name(name: str) -> str:
    """A file name that is safe to write into the reports folder: no folders, no leading dots,
    no control or shell-special characters; Chinese is kept."""
    base = Path(name.replace("\\", "/")).name
    stem, suffix = Path(base).stem, Path(base).suffix.lower()
    stem = re.sub(r"[^\w\u3400-\u9fff\-（）()·]+", "_", stem).strip("._ ")[:80]
    if not stem:
        raise ReportError(f"{name!r} is not a usable file name")
    return stem + suffix


def accept_upload(source: Path, original_name: str, reports_dir: Path, max_bytes: int) -> Path:
    """Validate an uploaded report (type, size, name, readable text) and copy it into the reports
    folder. Raises ReportError, leaving the folder as it was."""
    name = safe_report_name(original_name)
    suffix = Path(name).suffix
    if suffix not in UPLOAD_TYPES:
        raise ReportError(f"{original_name}: unsupported type {suffix or '(none)'}; use .txt, .docx, .pdf or .html")
    size = source.stat().st_size
    if size > max_bytes:
        raise ReportError(f"{original_name}: {size / 1e6:.1f} MB is over the {max_bytes / 1e6:.0f} MB limit")
    readable = source if source.suffix.lower() == suffix else _with_suffix(source, suffix)
    try:
        load_document(readable)  # unreadable, empty or not a report: refuse before it is copied
    except ReportError as exc:
        raise ReportError(f"{original_name}: {exc}") from exc
    finally:
        if readable != source:
            readable.unlink(missing_ok=True)
    target = reports_dir / name
    tmp = reports_dir / f".{name}.part"
    shutil.copyfile(source, tmp)
    os.replace(tmp, target)
    return target


def _with_suffix(source: Path, suffix: str) -> Path:
    """A copy of an upload under the suffix its name claims, so the right reader parses it."""
    copy = source.with_name(source.stem + "-upload" + suffix)
    shutil.copyfile(source, copy)
    return copy
