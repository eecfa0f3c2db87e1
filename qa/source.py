"""Check the source: where a cited span of a cleaned report came from in its original file, and
the page that shows it — the whole cleaned report with the span highlighted and scrolled to, and
beside it the span's raw text as the file has it (its own encoding decoded, Traditional
characters, pinyin annotations and scraping noise left in).

Cleaning keeps no offset map, so the raw span is found by alignment. Both texts are folded the
same way character by character (Traditional → Simplified, full → half width, Chinese → ASCII
punctuation) with whitespace and the noise cleaning deletes inline (pinyin annotations, mojibake,
HTML residue) left out, keeping where each kept character sits in the decoded file. Eight-
character runs found exactly once in each fold anchor the two in order (a longest increasing
chain drops the odd false pair); a span is mapped through the anchors inside it, and only its
ends that fall between anchors are aligned character by character (difflib) in the gap between
the anchors around them. For .docx/.pdf/.html the "raw" text is the extracted text before cleaning,
read by `qa.ingest.read_raw` exactly as the index read it.

Measured with `python -m qa.source index=reports index/elsewhere=index/elsewhere-reports` (2026-11-22,
2 cores): of 200 chunk spans drawn (seed 9) from the 782 distinct ones of the five bundled and eight
eval/elsewhere reports (.txt UTF-8/GB18030/Big5, .md, .html, .docx, .pdf), 200 get a raw span that
holds ≥ 90% of the span's characters in order (all 782 do); 997 of 1,000 sampled sentences do, the
other three being right but shorter than the document site's swapped words. A first span of a
117 KB report costs 55–95 ms (decode, fold, anchors; cached per file and hash), later ones 0.1–5 ms.
"""

from __future__ import annotations

import bisect
import html
import random
import re
import threading
import urllib.parse
from array import array
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from difflib import SequenceMatcher
from pathlib import Path
from typing import TYPE_CHECKING

from .clean import detect_sites, normalize_newlines, to_halfwidth, to_simplified
from .errors import QAError
from .chunk import span_label
from .ingest import file_hash, page_at, read_raw
from .noise import HTML_RESIDUE, INLINE_NOISE, PINYIN_ANNOTATION, PINYIN_MOJIBAKE

if TYPE_CHECKING:
    from .store import Index

ANCHOR = 8  # characters in an anchor run; 8 keeps anchors dense between pinyin annotations and noise
_STRIDE = 4  # anchors are tried at every 4th clean position (halves the first look at a report)
_EDGE_MIN = 3  # an edge alignment trusts matching runs of at least this many characters
_CHECKED = 5_000  # spans up to this long are checked against their raw text (a chunk is ~200)
_MAX_SPAN = 200_000  # longer spans (a whole report is ~20–60k characters) are refused


class SourceError(QAError):
    """A source view that cannot be shown: unknown report, offsets out of range, file gone."""


# --- folding: the same character-level normalisation for raw and clean text ---------------------

_PUNCT = {
    "，": ",", "：": ":", "；": ";", "（": "(", "）": ")", "！": "!", "？": "?", "“": '"', "”": '"',
    "‘": "'", "’": "'", "「": '"', "」": '"', "『": '"', "』": '"', "〔": "(", "〕": ")", "［": "[",
    "］": "]", "～": "~", "／": "/", "＜": "<", "＞": ">", "＝": "=", "﹪": "%", "－": "-", "—": "-",
    "–": "-", "･": "·", "•": "·",
}
# clean.to_halfwidth's own mapping, as a table: str.translate is ~20× faster than its loop.
_WIDTH = {ord(c): h for c in map(chr, [0x3000, *range(0xFF01, 0xFF5F)]) if (h := to_halfwidth(c)) != c}
_FOLD_TABLE = {**_WIDTH, **str.maketrans(_PUNCT)}
# Runs that cleaning deletes from inside a line (clean.strip_pinyin, strip_mojibake,
# strip_inline_noise): left out of the raw fold so they do not break anchors, kept in the raw span.
_DELETED = (PINYIN_ANNOTATION, PINYIN_MOJIBAKE, HTML_RESIDUE, *(p for ps in INLINE_NOISE.values() for p in ps))


def _simplified_same_length(text: str) -> str:
    """OpenCC Traditional → Simplified, one character for one (almost always so; a line where a
    phrase rule changes the length is converted character by character)."""
    converted = to_simplified(text)[0]
    if len(converted) == len(text):
        return converted
    out = []
    for line in text.split("\n"):
        conv = to_simplified(line)[0]
        if len(conv) != len(line):
            conv = "".join(c if len(c := to_simplified(ch)[0]) == 1 else ch for ch in line)
        out.append(conv)
    return "\n".join(out)


def fold(text: str) -> str:
    """Simplified, half width, ASCII punctuation: one character for one."""
    return _simplified_same_length(text).translate(_FOLD_TABLE)


@dataclass(frozen=True)
class _Folded:
    text: str  # the text folded: whitespace (and, for raw text, inline noise) left out
    where: array  # where[i]: offset in the original text of folded character i (4 bytes each, not a list of ints)


def _fold_clean(text: str) -> _Folded:
    """Cleaned text is Simplified already: only width and punctuation are folded."""
    where = [i for i, ch in enumerate(text) if not ch.isspace()]
    return _Folded("".join(text[i] for i in where).translate(_FOLD_TABLE), array("i", where))


@dataclass(frozen=True)
class _Raw:
    text: str  # the decoded file text, as read_raw returns it
    encoding: str
    folded: _Folded
    noise: dict[int, int]  # start → end of each inline noise run deleted by cleaning


def _fold_raw(text: str, encoding: str) -> _Raw:
    deleted = bytearray(len(text))
    noise: dict[int, int] = {}
    for pattern in _DELETED:
        for m in pattern.finditer(text):
            if m.end() > m.start():
                deleted[m.start():m.end()] = b"\x01" * (m.end() - m.start())
                noise[m.start()] = max(noise.get(m.start(), 0), m.end())
    where = [i for i, ch in enumerate(text) if not deleted[i] and not ch.isspace() and ch != "\ufeff"]
    # Folded after the noise is left out, so OpenCC's phrase rules see the words cleaning saw.
    folded = fold("".join(text[i] for i in where))
    for site in detect_sites(normalize_newlines(text)):
        for odd, original in site.replacements.items():
            folded, where = _replace(folded, where, fold(odd), fold(original))
    return _Raw(text, encoding, _Folded(folded, array("i", where)), noise)


def _replace(folded: str, where: list[int], odd: str, original: str) -> tuple[str, list[int]]:
    """Undo a site's word swap in the folded raw text as cleaning does (clean.undo_site_replacements),
    the original word standing where the odd one was: its last character on the odd word's last."""
    if odd not in folded:
        return folded, where
    text_out, where_out, i = [], [], 0
    while (j := folded.find(odd, i)) >= 0:
        text_out.append(folded[i:j] + original)
        where_out += where[i:j]
        where_out += [where[j + min(k, len(odd) - 1)] for k in range(len(original) - 1)] + [where[j + len(odd) - 1]]
        i = j + len(odd)
    text_out.append(folded[i:])
    where_out += where[i:]
    return "".join(text_out), where_out


# --- caches: decoded raw text per (path, sha256); folds and anchors per cleaned text --------------

class _Cache:
    """A small thread-safe LRU: the web app serves pages from several threads."""

    def __init__(self, size: int):
        self.size, self.items, self.lock = size, OrderedDict(), threading.Lock()

    def get(self, key, make: Callable[[], object]):
        with self.lock:
            if key in self.items:
                self.items.move_to_end(key)
                return self.items[key]
        value = make()  # outside the lock: two threads may both make it once, never wait on each other
        with self.lock:
            self.items[key] = value
            while len(self.items) > self.size:
                self.items.popitem(last=False)
        return value


_RAW = _Cache(16)
_CLEAN = _Cache(16)
_ANCHORS = _Cache(16)


def _raw(path: Path, sha256: str) -> _Raw:
    def make():
        text, encoding, _ = read_raw(path)
        return _fold_raw(text, encoding)

    return _RAW.get((str(path.resolve()), sha256), make)


def _clean(text: str) -> _Folded:
    return _CLEAN.get(text, lambda: _fold_clean(text))


def _anchors(raw: _Raw, raw_key: tuple, clean: _Folded, clean_text: str) -> list[tuple[int, int, int]]:
    """Blocks (clean position, raw position, length) of the folded texts that are equal, in order
    in both: ANCHOR-character runs found once in each, chained by a longest increasing
    subsequence, and merged where they continue each other."""

    def make():
        a, b, k = clean.text, raw.folded.text, ANCHOR
        once_a = _unique_runs(a, k)
        once_b = _unique_runs(b, k)
        # Every _STRIDE-th clean position is enough: anchors overlap, and a block is merged from them.
        pairs = sorted((pa, rb) for g, pa in once_a.items() if not pa % _STRIDE and (rb := once_b.get(g)) is not None)
        chain = _increasing_chain(pairs)
        blocks: list[list[int]] = []
        for ca, rb in chain:
            if blocks and ca - blocks[-1][0] == rb - blocks[-1][1] and ca <= blocks[-1][0] + blocks[-1][2]:
                blocks[-1][2] = ca + k - blocks[-1][0]
            elif blocks and ca < blocks[-1][0] + blocks[-1][2]:
                continue  # overlaps the previous block off its diagonal: a repeat, not a match
            else:
                blocks.append([ca, rb, k])
        return [tuple(x) for x in blocks]

    return _ANCHORS.get((raw_key, clean_text), make)


def _unique_runs(text: str, k: int) -> dict[str, int]:
    """Each k-character run found once in text → its position."""
    first: dict[str, int] = {}
    repeated = set()
    for i in range(len(text) - k + 1):
        run = text[i:i + k]
        if run in first:
            repeated.add(run)
        else:
            first[run] = i
    for run in repeated:
        del first[run]
    return first


def _increasing_chain(pairs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The longest chain of pairs increasing in both positions (patience sorting)."""
    tails: list[int] = []  # raw position ending the best chain of each length
    tail_ids: list[int] = []
    back = [-1] * len(pairs)
    for i, (_, rb) in enumerate(pairs):
        j = bisect.bisect_left(tails, rb)
        back[i] = tail_ids[j - 1] if j else -1
        if j == len(tails):
            tails.append(rb)
            tail_ids.append(i)
        else:
            tails[j], tail_ids[j] = rb, i
    chain, i = [], tail_ids[-1] if tail_ids else -1
    while i >= 0:
        chain.append(pairs[i])
        i = back[i]
    return chain[::-1]


# --- the raw span -------------------------------------------------------------------------------

def raw_span(path: Path, clean_text: str, start: int, end: int) -> tuple[str, int, int] | None:
    """The text of `path` (decoded as the index read it) that cleaned span [start, end) of
    `clean_text` came from, with its offsets in the decoded text; None when the span is empty or
    out of range, the file cannot be read, or its text is not found there."""
    found = _raw_match(path, clean_text, start, end)
    if found is None:
        return None
    raw, raw_start, raw_end = found
    return raw.text[raw_start:raw_end], raw_start, raw_end


def _raw_match(path: Path, clean_text: str, start: int, end: int) -> tuple[_Raw, int, int] | None:
    if not (0 <= start < end <= len(clean_text)) or end - start > _MAX_SPAN:
        return None
    try:
        sha = file_hash(path)
        raw = _raw(path, sha)
    except (OSError, QAError):
        return None
    clean = _clean(clean_text)
    cs = bisect.bisect_left(clean.where, start)
    ce = bisect.bisect_left(clean.where, end)
    if cs >= ce:
        return None
    blocks = _anchors(raw, (str(path.resolve()), sha), clean, clean_text)
    found = _locate(clean.text, cs, ce, raw.folded.text, blocks)
    if found is None:
        return None
    rs, re_ = found
    # Half the span's characters at least, in order, or it was not found (a text that is not this
    # file's: nothing is shown rather than a stretch of the file that merely shares some words).
    # A span longer than _CHECKED holds anchors enough to vouch for it, and the check is quadratic.
    if re_ <= rs or (ce - cs <= _CHECKED and _lcs(clean.text[cs:ce], raw.folded.text[rs:re_]) * 2 < ce - cs):
        return None
    raw_start, raw_end = raw.folded.where[rs], raw.folded.where[re_ - 1] + 1
    while raw_end in raw.noise:  # a pinyin annotation after the last character belongs to it
        raw_end = raw.noise[raw_end]
    return raw, raw_start, raw_end


def _locate(a: str, cs: int, ce: int, b: str, blocks: list[tuple[int, int, int]]) -> tuple[int, int] | None:
    """[rs, re) in folded raw text b of folded clean text a[cs:ce]."""
    starts = [blk[0] for blk in blocks]
    first = bisect.bisect_right(starts, cs) - 1  # the last block starting at or before cs …
    if first < 0 or blocks[first][0] + blocks[first][2] <= cs:
        first += 1  # … unless it ends before cs: then the first block after cs
    last = bisect.bisect_left(starts, ce) - 1  # the last block starting before ce
    if first <= last:
        fc, fr, _fn = blocks[first]
        lc, lr, ln = blocks[last]
        if fc <= cs:
            rs = fr + cs - fc
        else:
            floor = blocks[first - 1][1] + blocks[first - 1][2] if first > 0 else 0
            rs = _head_start(a[cs:fc], b, floor, fr)
        if lc + ln >= ce:
            re_ = lr + ce - lc
        else:
            ceiling = blocks[last + 1][1] if last + 1 < len(blocks) else len(b)
            re_ = _tail_end(a[lc + ln:ce], b, lr + ln, ceiling)
        return rs, re_
    # No anchor inside the span: align it in the gap between the anchors around it.
    prev = blocks[last] if last >= 0 else None
    after = blocks[last + 1] if last + 1 < len(blocks) else None
    floor = prev[1] + prev[2] if prev else 0
    ceiling = after[1] if after else len(b)
    piece = a[cs:ce]
    expected = floor + (cs - (prev[0] + prev[2]) if prev else cs)
    slack = 2 * len(piece) + 200
    w0, w1 = max(floor, expected - slack), min(ceiling, expected + len(piece) + slack)
    if w1 <= w0:
        return None
    window = b[w0:w1]
    matched = [m for m in SequenceMatcher(None, piece, window, autojunk=False).get_matching_blocks()
               if m.size >= min(_EDGE_MIN, len(piece))]
    if sum(m.size for m in matched) * 2 < len(piece):
        return None
    head, tail = matched[0], matched[-1]
    rs = max(0, head.b - head.a)
    re_ = min(len(window), tail.b + tail.size + (len(piece) - tail.a - tail.size))
    return w0 + rs, w0 + re_


def _head_start(head: str, b: str, floor: int, anchor: int) -> int:
    """Where in b the text `head`, which ends right before position `anchor`, starts."""
    w0 = max(floor, anchor - 3 * len(head) - 100)
    window = b[w0:anchor]
    # Aligned backwards from the anchor, so of two equal runs the one nearest the anchor is taken
    # (a document site repeats the title in its header: "2024年XX区政府工作报告.docx").
    return anchor - _tail_end(head[::-1], window[::-1], 0, len(window))


def _tail_end(tail: str, b: str, anchor: int, ceiling: int) -> int:
    """Where in b the text `tail`, which starts right at position `anchor`, ends."""
    w1 = min(ceiling, anchor + 3 * len(tail) + 100)
    window = b[anchor:w1]
    matched = [m for m in SequenceMatcher(None, tail, window, autojunk=False).get_matching_blocks()
               if m.size >= min(_EDGE_MIN, len(tail))]
    if not matched:
        return min(w1, anchor + len(tail))
    m = matched[-1]
    return anchor + min(len(window), m.b + m.size + len(tail) - m.a - m.size)


# --- measuring it ---------------------------------------------------------------------------------

def in_order_share(clean_piece: str, raw_piece: str) -> float:
    """Share of the cleaned span's characters (folded, whitespace aside) found in order in the
    folded raw text: the longest common subsequence over the cleaned length."""
    a = _fold_clean(clean_piece).text
    b = fold("".join(raw_piece.split()))
    return _lcs(a, b) / len(a) if a else 0.0


def _lcs(a: str, b: str) -> int:
    """Length of the longest common subsequence, bit-parallel (Hyyrö 2004)."""
    masks: dict[str, int] = {}
    for i, ch in enumerate(a):
        masks[ch] = masks.get(ch, 0) | (1 << i)
    full = (1 << len(a)) - 1
    v = full
    for ch in b:
        u = v & masks.get(ch, 0)
        v = ((v + u) | (v - u)) & full
    return len(a) - v.bit_count()


def check_sample(indexes: list[tuple[Index, Path]], n: int = 200, seed: int = 9, threshold: float = 0.9) -> dict:
    """Over n chunk spans drawn at random from the indexes (each with its reports folder): how
    many get a raw span holding at least `threshold` of the span's characters in order, and the
    time per span. Returns the counts and the spans that fell short."""
    import time

    spans: dict[tuple, tuple] = {}  # a report in two indexes counts once
    for ix, folder in indexes:
        for c in ix.chunks:
            record = ix.documents[c.source]
            spans.setdefault((record["sha256"], c.start, c.end), (str(folder / c.source), c.source, c.start, c.end))
    population = sorted(spans.values())
    sample = random.Random(seed).sample(population, min(n, len(population)))
    texts = {(str(folder / s), s): ix.documents[s]["text"] for ix, folder in indexes for s in ix.documents}
    good, misses, times = 0, [], []
    for path, source, start, end in sample:
        text = texts[path, source]
        t0 = time.perf_counter()
        found = raw_span(Path(path), text, start, end)
        times.append(time.perf_counter() - t0)
        share = in_order_share(text[start:end], found[0]) if found else 0.0
        if share >= threshold:
            good += 1
        else:
            misses.append({"source": source, "start": start, "end": end, "share": round(share, 3),
                           "clean": text[start:end], "raw": found[0] if found else None})
    times.sort()
    return {"population": len(population), "spans": len(sample), "found": good, "share": good / max(len(sample), 1),
            "ms_p50": 1000 * times[len(times) // 2], "ms_max": 1000 * times[-1], "misses": misses}


def main(argv: list[str] | None = None) -> int:
    """python -m qa.source [--n 200] [--seed 9] INDEX=REPORTS …: check_sample, printed."""
    import argparse
    import json

    from .store import load_index

    parser = argparse.ArgumentParser(description="How often a cited span's raw text is found in its file")
    parser.add_argument("pairs", nargs="+", help="index folder=its reports folder, e.g. index=reports")
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--seed", type=int, default=9)
    args = parser.parse_args(argv)
    indexes = []
    for pair in args.pairs:
        index_dir, _, reports_dir = pair.partition("=")
        indexes.append((load_index(Path(index_dir)), Path(reports_dir or "reports")))
    result = check_sample(indexes, args.n, args.seed)
    print(f"{result['found']}/{result['spans']} spans ({result['share']:.1%}) of {result['population']} found with "
          f"≥ 90% of their characters in order; p50 {result['ms_p50']:.2f} ms, max {result['ms_max']:.1f} ms per span")
    for miss in result["misses"]:
        print(json.dumps(miss, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


# --- the document view ----------------------------------------------------------------------------

_CSS = """
body { font-family: system-ui, "Noto Sans CJK SC", "Microsoft YaHei", sans-serif; line-height: 1.8; margin: 0;
       color: #222; background: #fafafa; }
.page { max-width: 46em; margin: 0 auto; padding: 1em 1.2em 40vh; background: #fff; }
.pg { color: #888; font-size: .85em; text-align: center; margin: 1.2em 0 .4em; border-top: 1px dashed #ccc; }
h1 { font-size: 1.3em; line-height: 1.4; margin: .3em 0; }
.meta, .raw-meta, .note { color: #666; font-size: .88em; }
.report > p { margin: .5em 0; text-indent: 2em; }
.report > p.h1, .report > p.h2 { text-indent: 0; font-weight: 600; }
mark { background: #fff3a8; padding: .1em 0; }
#cited { scroll-margin-top: 30vh; }
.raw { border: 1px solid #d9c27a; border-left: 4px solid #f5c400; background: #fffdf3; padding: .4em .8em;
       margin: .8em 0 1.2em; }
.raw h2 { font-size: .95em; margin: .2em 0; }
.raw pre { white-space: pre-wrap; word-break: break-all; font-family: inherit; margin: .3em 0; }
.raw .noise { color: #a33; background: #fde8e8; text-decoration: line-through; }
.error { color: #a33; }
"""


@dataclass(frozen=True)
class SourceView:
    """A page to send: its HTTP status and HTML."""

    status: int
    html: str


def document_page(index: Index, source: str, start: int, end: int, reports_dir: Path) -> str:
    """The document view of cleaned span [start, end) of report `source`: a full HTML page."""
    return source_view(index, source, start, end, reports_dir).html


def source_view(index: Index, source: str, start: int, end: int, reports_dir: Path) -> SourceView:
    """document_page with its status: 200, or 404 with a message page for a report not in the
    index or offsets outside its text. Only reports in the index are read, by the name the
    index knows them under, from reports_dir: a name from a request never becomes a path."""
    record = index.documents.get(source) if isinstance(source, str) else None
    if record is None or Path(source).name != source or source.startswith("."):
        return SourceView(404, error_page(f"No report named “{source}” in the index."))
    text = record.get("text", "")
    if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text)):
        return SourceView(404, error_page(
            f"Characters {start}–{end} are not a passage of {source}: its cleaned text has {len(text):,} "
            f"characters (start must be at least 0 and below end)."))
    raw_box = _raw_box(reports_dir / source, record, start, end)
    title, place = record.get("title") or source, record.get("place") or record.get("district") or ""
    year = record.get("year") or ""
    pages = record.get("pages") or []
    cited_pages = span_label(lambda offset: page_at(pages, offset), start, end)
    head = (f'<header><h1>《{_e(title)}》</h1><p class="meta">{_e(place)}{f" · {year}" if year else ""} · '
            f'{_e(source)}{f" · {cited_pages}" if cited_pages else ""} · '
            f'引文 / cited: characters {start}–{end} of the cleaned text · '
            f'<a href="#cited">跳到引文 / go to the passage</a></p></header>')
    body = _report_html(text, start, end, raw_box, pages)
    page = _page(f"{title} · {source}:{start}-{end}", head + f'<article class="report">{body}</article>'
                 '<script>document.getElementById("cited").scrollIntoView({block: "center"});</script>')
    return SourceView(200, page)


def error_page(message: str) -> str:
    return _page("Not found / 未找到", f'<h1>未找到 / Not found</h1><p class="error">{_e(message)}</p>')


def _page(title: str, body: str) -> str:
    return ('<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{_e(title)}</title><style>{_CSS}</style></head>"
            f'<body><div class="page">{body}</div></body></html>')


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def _report_html(text: str, start: int, end: int, raw_box: str, pages: list | None = None) -> str:
    """The cleaned report, one <p> per line, [start, end) in <mark> (the first one id="cited"),
    the raw box after the paragraph where the span ends. A printed page's start (PDFs, scans) is
    marked "— p. 12 —" (id="p12") before the paragraph it falls in."""
    from .clean import heading_level

    parts, pos, marked = [], 0, False
    starts = list(pages or [])
    for line in text.split("\n"):
        p0, p1 = pos, pos + len(line)
        pos = p1 + 1
        while starts and starts[0][0] <= p1:
            number = starts.pop(0)[1]
            parts.append(f'<div class="pg" id="p{number}">— p. {number} —</div>')
        level = heading_level(line)
        cls = f' class="h{level}"' if level else ""
        if p1 <= start or p0 >= end:
            parts.append(f"<p{cls}>{_e(line)}</p>")
            continue
        a, b = max(start, p0) - p0, min(end, p1) - p0
        mark_id = "" if marked else ' id="cited"'
        marked = True
        parts.append(f"<p{cls}>{_e(line[:a])}<mark{mark_id}>{_e(line[a:b])}</mark>{_e(line[b:])}</p>")
        if end <= pos:  # the span ends in this paragraph (or at its line break)
            parts.append(raw_box)
    if not marked:  # a span of line breaks only: the anchor still has to exist
        parts.insert(0, '<span id="cited"></span>' + raw_box)
    return "".join(parts)


def _raw_box(path: Path, record: dict, start: int, end: int) -> str:
    """"原文": the span as the file has it, with its offsets in the decoded file; or why not."""
    head = '<aside class="raw"><h2>原文 / original text in the file</h2>'
    name = _e(path.name)
    if not path.exists():
        return f'{head}<p class="note">{name} is no longer in the reports folder.</p></aside>'
    try:
        changed = file_hash(path) != record.get("sha256")
    except OSError:
        changed = True
    if changed:
        return (f'{head}<p class="note">{name} has changed since it was indexed, so its text no longer matches '
                f"these offsets; re-index (qa index) to see it.</p></aside>")
    found = _raw_match(path, record["text"], start, end)
    if found is None:
        return f'{head}<p class="note">This passage could not be located in {name}.</p></aside>'
    raw, rs, re_ = found
    segment = raw.text[rs:re_]
    kind = raw.encoding if raw.encoding in ("docx", "pdf") else f"{raw.encoding} text"
    what = "text extracted from the file" if raw.encoding in ("docx", "pdf") or path.suffix.lower() in (
        ".html", ".htm") else "decoded file"
    converted = sum(a != b for a, b in zip(segment, _simplified_same_length(segment)))
    noise = [(a, min(b, re_)) for a, b in raw.noise.items() if rs <= a < re_]
    notes = []
    if converted:
        notes.append(f"{converted} Traditional character{'s' if converted > 1 else ''}")
    if noise:
        notes.append(f"{len(noise)} noise run{'s' if len(noise) > 1 else ''} removed by cleaning (struck through)")
    return (f'{head}<p class="raw-meta">{name} · {_e(kind)} · characters {rs}–{re_} of the {what}</p>'
            f"<pre>{_noise_marked(segment, rs, noise)}</pre>"
            + (f'<p class="note">{_e("; ".join(notes))}</p>' if notes else "") + "</aside>")


def _noise_marked(segment: str, offset: int, noise: list[tuple[int, int]]) -> str:
    out, pos = [], 0
    for a, b in sorted(noise):
        a, b = a - offset, b - offset
        if a < pos:
            continue
        out.append(_e(segment[pos:a]) + f'<span class="noise">{_e(segment[a:b])}</span>')
        pos = b
    out.append(_e(segment[pos:]))
    return "".join(out)


# --- the route --------------------------------------------------------------------------------------

def source_link(source: str, start: int, end: int, prefix: str = "/source") -> str:
    """URL of the document view of a cited span (query string URL-encoded; #cited scrolls to it)."""
    return f"{prefix}?{urllib.parse.urlencode({'file': source, 'start': int(start), 'end': int(end)})}#cited"


_WHOLE_NUMBER = re.compile(r"\d{1,9}")


def parse_request(params) -> tuple[str, int, int]:
    """(file, start, end) from the query parameters; SourceError with one line when they are bad."""
    source = params.get("file")
    if not source or len(source) > 255 or "\x00" in source:
        raise SourceError("file= must name an indexed report, e.g. ?file=report.txt&start=0&end=100")
    values = []
    for key in ("start", "end"):
        value = params.get(key)
        if value is None or not _WHOLE_NUMBER.fullmatch(value):
            raise SourceError(f"{key}= must be a whole number of characters (0 or more), not {value!r}")
        values.append(int(value))
    start, end = values
    if end <= start:
        raise SourceError(f"end= ({end}) must be greater than start= ({start})")
    return source, start, end


def mount_source_view(fastapi_app, get_index: Callable[[], Index], reports_dir: Path, prefix: str = "/source") -> None:
    """Add GET {prefix}?file=<source>&start=<int>&end=<int> to a FastAPI app (a Gradio app's
    included: when it was launched with a login, the page needs that login too). Bad parameters
    → 400, an unknown report or offsets outside it → 404, no index → 503, each one line."""
    from fastapi import Request
    from fastapi.responses import HTMLResponse, PlainTextResponse
    from starlette.concurrency import run_in_threadpool

    async def view(request):
        if not await _signed_in(fastapi_app, request):
            return PlainTextResponse("error: sign in to the chat first\n", status_code=401)
        try:
            source, start, end = parse_request(request.query_params)
        except SourceError as exc:
            return PlainTextResponse(f"error: {exc}\n", status_code=400)
        try:
            page = await run_in_threadpool(lambda: source_view(get_index(), source, start, end, reports_dir))
        except QAError as exc:
            return PlainTextResponse(f"error: {exc}\n", status_code=503)
        return HTMLResponse(page.html, status_code=page.status)

    # Set here, not written in the signature: with postponed annotations FastAPI would look the name
    # up in this module's globals, and fastapi is imported only when a route is mounted.
    view.__annotations__ = {"request": Request}
    fastapi_app.add_api_route(prefix, view, methods=["GET"], include_in_schema=False)


async def _signed_in(app, request) -> bool:
    """Gradio's own login check (gradio.routes.App.get_current_user): its access-token cookie, or
    its auth_dependency. True for an app without a login (a bare FastAPI app has no `auth`)."""
    dependency = getattr(app, "auth_dependency", None)
    if getattr(app, "auth", None) is None and dependency is None:
        return True
    if dependency is not None:
        user = dependency(request)
        if hasattr(user, "__await__"):
            user = await user
        return user is not None
    cookie_id = getattr(app, "cookie_id", "")
    token = request.cookies.get(f"access-token-{cookie_id}") or request.cookies.get(f"access-token-unsecure-{cookie_id}")
    return getattr(app, "tokens", {}).get(token) is not None
