"""Scanned pages → text, offline: PDF pages without a text layer and image files are recognised by
PP-OCRv6 (the `rapidocr` wheel carries its detection, orientation and recognition models; nothing is
downloaded), the recognised lines are put back in reading order and joined into paragraphs, and
each page's text is cached in SQLite under a content hash, so a rebuild never reads a page twice.

Engines compared on rendered report pages (scripts/ocr_accuracy.py; character accuracy against
the text, seconds per page on 2 cores): rapidocr 3.10 PP-OCRv6 won over rapidocr-onnxruntime 1.4.4
PP-OCRv4 and Debian's tesseract 4.1 chi_sim; the figures are in the README ("Scanned reports").
"""

from __future__ import annotations

import functools
import hashlib
import logging
import math
import re
import sqlite3
import statistics
import threading
import time
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)
log.addHandler(logging.NullHandler())

IMAGE_TYPES = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp"}
# A PDF page with fewer characters than this in its text layer is treated as scanned (a scanned
# page often carries only a page number or a stamp as text).
MIN_TEXT_CHARS = 20
# A page number alone on the first or last line of a page ("- 3 -", "第 3 页", "3/24") is page furniture.
_PAGE_NUMBER = re.compile(r"^[\s\-—–_·.]*(?:第\s*)?\d{1,4}(?:\s*页)?(?:\s*/\s*(?:共\s*)?\d{1,4}\s*页?)?[\s\-—–_·.]*$")
# A printed line starting with one of these continues the line before it, however short that was.
_CONTINUES = re.compile(r"^[%％，。、；：:;,.!?！？)）》”’\]]")
# Spaces the recogniser puts inside Chinese text and figures ("5 3.2亿元", "增长8. 6%").
_OCR_SPACE = re.compile(r"(?<=[\u3000-\u303f\u3400-\u9fff\uff00-\uffef\d.%]) +(?=[\u3000-\u303f\u3400-\u9fff\uff00-\uffef\d.%])")
# ASCII punctuation read between Chinese characters is the full-width mark the page printed.
_HAN = "\u3400-\u9fff"
_FULL_WIDTH = {",": "，", ";": "；", ":": "：", "!": "！", "?": "？"}
_ASCII_PUNCT = re.compile(rf"(?<=[{_HAN}])([,;:!?])(?=[{_HAN}“”])")


class OcrUnavailable(RuntimeError):
    """The OCR engine cannot be loaded (rapidocr or onnxruntime missing or broken)."""


@dataclass(frozen=True)
class Line:
    """One recognised text line: its box on the page (pixels) and text."""

    x0: float
    y0: float
    x1: float
    y1: float
    text: str
    angle: float = 0.0  # slope of the box's top edge, degrees (a photo taken at a slant)

    @property
    def height(self) -> float:
        return self.y1 - self.y0

    @property
    def middle(self) -> float:
        return (self.y0 + self.y1) / 2


# --- the engine -----------------------------------------------------------------------------------

_ENGINE = None
_ENGINE_LOCK = threading.Lock()
_RUN_LOCK = threading.Lock()  # the engine keeps per-call flags (use_det …) as state: one call at a time
SKEW_LIMIT = 0.5  # degrees: lines slanted more than this are not looked for again (measured on 2° photos)
MAX_REREADS = 12  # lines looked for again per page, at most (a report with blank lines between paragraphs)


# Bumped when how lines become text changes (recognise, page_text): cached pages are read again.
READER_VERSION = 7


@functools.lru_cache(maxsize=1)
def engine_id() -> str:
    """What produced a cached text: a new engine version, or a new READER_VERSION, reads pages again."""
    try:
        from importlib.metadata import version

        return f"rapidocr-{version('rapidocr')}-ppocrv6-small-r{READER_VERSION}"
    except Exception:  # noqa: BLE001 - no rapidocr: the id is only used for cache keys
        return "rapidocr-unknown"


def _engine():
    global _ENGINE
    with _ENGINE_LOCK:
        if _ENGINE is None:
            try:
                from rapidocr import RapidOCR

                _ENGINE = RapidOCR(params={"Global.log_level": "error"})
                logging.getLogger("RapidOCR").setLevel(logging.ERROR)  # "detection result is empty" on blank pages
            except Exception as exc:  # noqa: BLE001 - any import/model error means no OCR here
                raise OcrUnavailable(f"the OCR engine could not be loaded ({type(exc).__name__}: {exc}); "
                                     "reinstall with `make setup`") from exc
        return _ENGINE


def recognise(image) -> list[Line]:
    """The text lines of a page image (PIL Image), in no particular order.

    The models now and then lose a printed line, and which one depends on the scale (measured: a
    line lost at 300 dpi was read at 200, another the other way round). Two checks catch it:
    - a page's lines are evenly spaced, so where two solid lines are more than 1.6 line pitches
      apart, each line that should sit between them is recognised on its own, across the body's
      width (fragments found there before, a stray "0", are replaced when it reads);
    - a line box that got far fewer characters than its width holds (a full-width box read as
      "众·") is recognised again.
    Both use the recogniser alone, in three overlapping pieces (about 0.1 s a line), and only on a
    level page: on a photo taken at a slant a straight band cuts through neighbouring lines (on
    2° photos the checks cost 4 points of accuracy before this rule)."""
    import numpy as np

    rgb = np.asarray(image.convert("RGB"))
    lines = _read(rgb)
    long = [abs(line.angle) for line in lines if line.x1 - line.x0 > 8 * line.height]
    if len(lines) < 4 or (long and statistics.median(long) > SKEW_LIMIT):
        return lines  # a slanted page: a band across it would cut through neighbouring lines
    lines = [_reread_box(rgb, line) for line in lines]
    height = statistics.median(line.height for line in lines)
    solid = [line for line in lines if line.height >= 0.75 * height and line.x1 - line.x0 >= 1.5 * height]
    ordered = rows(solid)
    middles = [statistics.fmean(b.middle for b in row) for row in ordered]
    steps = [b - a for a, b in zip(middles, middles[1:])]
    if len(steps) < 3:
        return lines
    pitch = statistics.median(steps)
    left, right = min(b.x0 for b in solid), max(b.x1 for b in solid)
    tried = 0
    for upper, step in zip(middles, steps):
        missing = round(step / pitch) - 1 if step > 1.6 * pitch else 0
        for j in range(1, missing + 1):
            if tried >= MAX_REREADS:
                return lines
            tried += 1
            middle = upper + j * step / (missing + 1)
            guess = Line(left, middle - height / 2, right, middle + height / 2, "")
            found = _reread_box(rgb, guess, min_score=0.75)
            if found.text:
                lines = [b for b in lines if not guess.y0 < b.middle < guess.y1] + [found]
    return lines


def _reread_box(rgb, line: Line, min_score: float = 0.0) -> Line:
    """line, or its box recognised again in three overlapping pieces when the text it got is far
    shorter than the box is wide (a Chinese character is about as wide as the line is high)."""
    width = line.x1 - line.x0
    if width < 8 * line.height or len(line.text) >= 0.35 * width / line.height:
        return line
    y0, y1 = max(int(line.y0 - line.height * 0.15), 0), int(line.y1 + line.height * 0.15)
    piece, overlap = width / 3, line.height * 0.6
    texts = []
    for i in range(3):
        x0, x1 = max(int(line.x0 + i * piece - overlap), 0), int(line.x0 + (i + 1) * piece + overlap)
        text, score = _recognise_line(rgb[y0:y1, x0:x1])
        texts.append(text if score >= min_score else "")
    text = _merge_overlapping(texts)
    return Line(line.x0, line.y0, line.x1, line.y1, text) if len(text) > len(line.text) else line


def _merge_overlapping(texts: list[str]) -> str:
    """Join pieces read from overlapping crops, dropping what the overlap repeats."""
    out = ""
    for text in texts:
        for k in range(min(len(out), len(text), 4), 0, -1):
            if out.endswith(text[:k]):
                text = text[k:]
                break
        out += text
    return out


def _read(rgb) -> list[Line]:
    """Detect and recognise the lines of a page image (array)."""
    with _RUN_LOCK:
        result = _engine()(rgb, use_det=True, use_cls=True, use_rec=True)
    if result is None or result.boxes is None or result.txts is None:
        return []
    lines = []
    for box, text in zip(result.boxes, result.txts):
        xs, ys = [p[0] for p in box], [p[1] for p in box]
        text = _tidy(text)
        if text:
            angle = math.degrees(math.atan2(box[1][1] - box[0][1], max(box[1][0] - box[0][0], 1e-6)))
            lines.append(Line(min(xs), min(ys), max(xs), max(ys), text, angle))
    return lines


def _recognise_line(rgb) -> tuple[str, float]:
    """The text of an image holding one line (no detection), and the recogniser's confidence."""
    with _RUN_LOCK:
        result = _engine()(rgb, use_det=False, use_cls=False, use_rec=True)
    if result is None or not result.txts:
        return "", 0.0
    scores = [float(x) for x in (result.scores or [0.0])]
    return _tidy("".join(result.txts)), min(scores) if scores else 0.0


def _tidy(text: str) -> str:
    return _ASCII_PUNCT.sub(lambda m: _FULL_WIDTH[m.group(1)], _OCR_SPACE.sub("", text.strip()))


# --- lines → paragraphs ---------------------------------------------------------------------------

def rows(lines: list[Line]) -> list[list[Line]]:
    """Lines grouped into rows (boxes side by side on one printed line), top to bottom, each row
    left to right. A box joins a row when its middle lies within half a line height of the row's."""
    if not lines:
        return []
    height = statistics.median(line.height for line in lines)
    out: list[list[Line]] = []
    for line in sorted(lines, key=lambda b: (b.middle, b.x0)):
        if out and abs(line.middle - statistics.fmean(b.middle for b in out[-1])) <= height / 2:
            out[-1].append(line)
        else:
            out.append([line])
    return [sorted(row, key=lambda b: b.x0) for row in out]


def _join(left: str, right: str) -> str:
    """Two pieces of one paragraph: joined with nothing, as Chinese and figures are ("14.7" + "%"),
    except Latin words, which keep a space between them."""
    if left and right and left[-1].isascii() and (left[-1].isalpha() or left[-1] in ",;:") \
            and right[0].isascii() and right[0].isalpha():
        return left + " " + right
    return left + right


# Marks, in a page's text as PageReader gives it, that the page starts inside a paragraph (before
# the text) or ends inside one (after it), so the pages of a paragraph running over a page break
# are joined into one (qa/ingest.py join_pages). The recogniser never outputs this character.
RUNS_ON = "\u2063"
_PARAGRAPH_END = set("。！？!?")


def page_text(lines: list[Line], marked: bool = False) -> str:
    """A page's text, one paragraph per line. A printed line starts a new paragraph when it is
    indented, when the line before it ended short of the right margin (a paragraph's last line, a
    heading), or when a gap wider than a line separates them. A page number alone at the top or
    bottom of the page is dropped. marked: add RUNS_ON where the page starts at the margin (the
    text is indented elsewhere, so this is a paragraph's continuation) and where it ends on a full
    line without a full stop."""
    grouped = rows(lines)
    if not grouped:
        return ""
    merged = []  # (x0, y0, x1, y1, text) per row
    for row in grouped:
        text = ""
        for box in row:
            text = _join(text, box.text)
        merged.append((row[0].x0, min(b.y0 for b in row), max(b.x1 for b in row), max(b.y1 for b in row), text))
    for end in (0, -1):
        if merged and _PAGE_NUMBER.match(merged[end][4]):
            merged.pop(end)
    if not merged:
        return ""
    height = statistics.median(r[3] - r[1] for r in merged)
    # The margins are where most lines reach, not the median line: a page of one-line paragraphs
    # (a list of targets) is mostly indented and short.
    left = _percentile([r[0] for r in merged], 0.1)
    right = max(_percentile([r[2] for r in merged], 0.9), left + height)
    gaps = [b[1] - a[3] for a, b in zip(merged, merged[1:]) if b[1] > a[3]]
    usual_gap = statistics.median(gaps) if gaps else height / 2
    paragraphs: list[str] = []
    previous = None
    for row in merged:
        x0, y0, _, _, text = row
        new = (
            previous is None
            or x0 > left + 1.0 * height  # indented first line
            or (previous[2] < right - 2 * height and not _CONTINUES.match(text))  # the line before ended short
            or y0 - previous[3] > max(1.8 * usual_gap, 0.8 * height)  # a blank line between
        )
        if new:
            paragraphs.append(text)
        else:
            paragraphs[-1] = _join(paragraphs[-1], text)
        previous = row
    text = "\n".join(paragraphs)
    if marked:
        indents = any(r[0] > left + height for r in merged)
        if _CONTINUES.match(merged[0][4]) or (indents and merged[0][0] <= left + height / 2):
            text = RUNS_ON + text
        if merged[-1][2] >= right - 2 * height and merged[-1][4][-1:] not in _PARAGRAPH_END:
            text += RUNS_ON
    return text


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(share * len(ordered)), len(ordered) - 1)]


# --- cache ----------------------------------------------------------------------------------------

class OcrCache:
    """Recognised page texts in SQLite, keyed by a hash of the page's content and of how it was read
    (engine version, dpi). Safe to share between processes and threads."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._ready = False

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=30)
        if not self._ready:
            db.execute("CREATE TABLE IF NOT EXISTS pages (key TEXT PRIMARY KEY, text TEXT NOT NULL, "
                       "seconds REAL NOT NULL, engine TEXT NOT NULL)")
            self._ready = True
        return db

    def get(self, key: str) -> str | None:
        if not self.path.exists():
            return None
        try:
            with self._connect() as db:
                row = db.execute("SELECT text FROM pages WHERE key = ?", (key,)).fetchone()
        except sqlite3.Error as exc:
            log.warning("OCR cache %s unreadable (%s); reading pages again", self.path, exc)
            return None
        return row[0] if row else None

    def put(self, key: str, text: str, seconds: float) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._connect() as db:
                db.execute("INSERT OR REPLACE INTO pages VALUES (?, ?, ?, ?)", (key, text, seconds, engine_id()))
        except (OSError, sqlite3.Error) as exc:  # a read-only index folder: OCR still works, uncached
            log.warning("OCR cache %s not written (%s)", self.path, exc)

    def stats(self) -> tuple[int, float]:
        """(pages cached, seconds their OCR took)."""
        if not self.path.exists():
            return 0, 0.0
        with self._connect() as db:
            n, seconds = db.execute("SELECT COUNT(*), COALESCE(SUM(seconds), 0) FROM pages").fetchone()
        return n, seconds


def page_key(content_sha256: str, page: int, dpi: int) -> str:
    """Cache key of page `page` (1-based) of a file whose bytes hash to content_sha256."""
    return hashlib.sha256(f"{engine_id()}|{dpi}|{content_sha256}|{page}".encode()).hexdigest()


@dataclass
class PageReader:
    """Reads scanned pages through the cache. `read` is called with a page's key and a function
    giving its image; the image is only made (rendered) when the page is not cached."""

    cache: OcrCache | None
    recognised: int = 0  # pages actually run through OCR by this reader
    cached: int = 0  # pages served from the cache
    seconds: float = 0.0

    def read(self, key: str, image) -> str:
        if self.cache is not None and (text := self.cache.get(key)) is not None:
            self.cached += 1
            return text
        started = time.perf_counter()
        text = page_text(recognise(image()), marked=True)
        took = time.perf_counter() - started
        self.recognised += 1
        self.seconds += took
        if self.cache is not None:
            self.cache.put(key, text, took)
        return text
