"""Pure text cleaning: raw scraped report text → clean Simplified-Chinese paragraphs.

Each rule is a function ``text -> (text, count)`` so `qa index` can report, per file, how much
of each kind of noise it removed. The patterns themselves are data in `qa.noise`; here they are
applied. Two promises hold throughout: furniture is matched as whole lines (or well-delimited
runs), so clean prose passes unchanged (tests/data/clean/clean_prose.txt); and a rule seen on one
site only runs where that site's signature is found (`detect_sites`).

`clean_text` runs the rules in an order that matters: pinyin annotations and mojibake are
recognised before Traditional→Simplified conversion, page markers are joined before paragraphs
are split back apart, and furniture is looked for again once Traditional text is converted.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache

from .noise import (
    BARE_METADATA_LABEL,
    BULLET,
    CJK,
    CN_NUM,
    CONTROL_TOKENS,
    FIELD_LABEL,
    FIELD_LABELS,
    FIELD_LINE,
    GLUED_METADATA_LABEL,
    HOST_TOKENS,
    HTML_RESIDUE,
    INLINE_NOISE,
    LABELS,
    LINE_NOISE,
    LINK_NAME,
    LIST_SEPARATORS,
    MAX_FURNITURE_LEN,
    NAV_WORDS,
    PINYIN_ANNOTATION,
    PINYIN_MOJIBAKE,
    RELATED_LINKS_HEADER,
    SENTENCE_PUNCT,
    SITES,
    TOC_ENTRY,
    TOC_ENTRY_AFTER_HEADER,
    TOC_HEADER,
    Site,
)

# A document-sharing site's page marker: "12、" at the start of a line, numbered 1, 2, 3 … in
# order, that cuts the sentence it lands in ("殊为\n2、不易的答卷").
_PAGE_MARK_RE = re.compile(r"^(\d{1,3})、")
# A list item is one short, complete line; a page of text cut by a marker is not.
_LIST_ITEM_MAX = 80

HEADING_RES = (
    (1, re.compile(rf"^[{CN_NUM}]{{1,3}}[、.．]")),
    (2, re.compile(rf"^[(（][{CN_NUM}]{{1,3}}[)）]")),
)
_SENTENCE_END = "。！？；!?;"


def normalize_newlines(text: str) -> str:
    return text.replace("\ufeff", "").replace("\r\n", "\n").replace("\r", "\n").replace("\u00a0", " ")


def detect_sites(text: str) -> tuple[Site, ...]:
    """The sites whose signature the document's first lines carry (at least `min_cues` cues)."""
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    found = []
    for site in SITES:
        head = "\n".join(lines[: site.head_lines])
        if sum(1 for cue in site.cues.values() if cue.search(head)) >= site.min_cues:
            found.append(site)
    return tuple(found)


def strip_pinyin(text: str) -> tuple[str, int]:
    return PINYIN_ANNOTATION.subn("", text)


def is_common_han(ch: str) -> bool:
    """In GB2312's first level: the 3,755 most used characters (lead byte 0xB0–0xD7)."""
    try:
        code = ch.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return len(code) == 2 and 0xB0 <= code[0] <= 0xD7


def _gbk_misread(run: str) -> bool:
    """True if `run` is UTF-8 bytes read as GBK ("鏀垮簻" is 政府): read back, the bytes decode as
    UTF-8 into common characters, while the run itself is made of rare ones. Checked on the
    five reports: no run of real text, Simplified or Traditional, passes."""
    try:
        decoded = run.encode("gbk").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return False
    return (
        len(decoded) >= 2
        and all(is_common_han(ch) or (ch.isascii() and ch.isalnum()) for ch in decoded)
        and sum(not is_common_han(ch) for ch in run) * 3 >= len(run)
    )


def _strip_gbk_misreads(line: str) -> tuple[str, int]:
    spans = []
    for m in re.finditer(rf"[{CJK}]{{3,}}", line):
        run, i = m.group(), 0
        while i <= len(run) - 3:
            end = next((j for j in range(min(len(run), i + 40), i + 2, -1) if _gbk_misread(run[i:j])), 0)
            if end:
                spans.append((m.start() + i, m.start() + end))
                i = end
            else:
                i += 1
    for start, end in reversed(spans):
        line = line[:start] + line[end:]
    return line, len(spans)


def strip_mojibake(text: str, head_lines: int = 5) -> tuple[str, int]:
    """Broken pinyin annotations, HTML residue, and UTF-8-read-as-GBK runs in the title lines.

    The GBK check tries every substring of a run, so it is kept to the first few short lines,
    where a garbled title ("2024年XX区政府工作报告鏀垮簻") is seen."""
    text, n = PINYIN_MOJIBAKE.subn("", text)
    text, m = HTML_RESIDUE.subn("", text)
    lines, seen = text.split("\n"), 0
    for i, line in enumerate(lines):
        if seen >= head_lines:
            break
        if line.strip():
            seen += 1
            if len(line) <= MAX_FURNITURE_LEN:
                lines[i], k = _strip_gbk_misreads(line)
                n += k
    return "\n".join(lines), n + m


def strip_inline_noise(text: str) -> tuple[str, Counter]:
    """Well-delimited runs anywhere: "（下转第四版）", "锟斤拷", "æ”¿åºœ"."""
    removed = Counter()
    for kind, patterns in INLINE_NOISE.items():
        for pattern in patterns:
            text, n = pattern.subn("", text)
            removed[kind] += n
    return text, removed


@lru_cache(maxsize=1)
def _t2s():
    import opencc

    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> tuple[str, int]:
    """Traditional → Simplified with OpenCC; the count is the number of characters changed."""
    converted = _t2s().convert(text)
    return converted, sum(a != b for a, b in zip(text, converted))


def to_halfwidth(text: str) -> str:
    """Full-width ASCII letters, digits and %.+- → half width (keeps Chinese punctuation)."""
    out = []
    for ch in text:
        code = ord(ch)
        if 0xFF10 <= code <= 0xFF19 or 0xFF21 <= code <= 0xFF3A or 0xFF41 <= code <= 0xFF5A or ch in "％．＋－":
            out.append(chr(code - 0xFEE0))
        elif ch == "\u3000":
            out.append(" ")
        else:
            out.append(ch)
    return "".join(out)


def drop_table_of_contents(text: str) -> tuple[str, int]:
    """Remove a table of contents: "目  录" followed by entries, or two or more dot-leader entries
    ("一、2024年工作回顾……………1"). A "目录" line with no entry after it stays."""
    lines, out, removed, i = text.split("\n"), [], 0, 0
    while i < len(lines):
        stripped = lines[i].strip()
        header = bool(TOC_HEADER.fullmatch(stripped))
        if header or TOC_ENTRY.fullmatch(stripped):
            j, entries = (i + 1, 0) if header else (i, 0)
            while j < len(lines):
                line = lines[j].strip()
                if line and not (TOC_ENTRY.fullmatch(line) or (header and TOC_ENTRY_AFTER_HEADER.fullmatch(line))):
                    break
                entries += bool(line)
                j += 1
            if entries >= (1 if header else 2):
                removed += entries + header
                i = j
                continue
        out.append(lines[i])
        i += 1
    return "\n".join(out), removed


def _is_list_item(line: str) -> bool:
    body = _PAGE_MARK_RE.sub("", line.strip(), count=1)
    return (
        0 < len(body) <= _LIST_ITEM_MAX
        and body[0] not in "，,。、；：:)）"
        and body[-1] not in "，,、：:（(“"
        and not any(ch in _SENTENCE_END for ch in body[:-1])
    )


def join_page_markers(text: str) -> tuple[str, int]:
    """Remove "N、" page markers that number 1, 2, 3 … at line starts and rejoin the cut text.

    Only a run of at least three markers in sequence counts, and only when most of them cut a
    sentence. A numbered list stays: its items either end with a full stop ("1、加强就业…。") or
    are short complete lines ("1、地区生产总值增长6%左右" / "2、规上工业增加值增长8%"), while a
    page marker lands mid-sentence in a long page of text.
    """
    lines = text.split("\n")
    expected, positions = 1, []
    for i, line in enumerate(lines):
        m = _PAGE_MARK_RE.match(line)
        if m and int(m.group(1)) == expected:
            positions.append(i)
            expected += 1

    def cuts_sentence(i: int) -> bool:
        before = lines[i - 1].strip()
        if not before or before[-1] in _SENTENCE_END:
            return False
        return not (_is_list_item(before) and _is_list_item(lines[i]))

    cuts = sum(1 for i in positions[1:] if cuts_sentence(i))
    if len(positions) < 3 or cuts * 2 < len(positions) - 1:
        return text, 0
    out: list[str] = []
    marked = set(positions)
    for i, line in enumerate(lines):
        if i in marked:
            body = _PAGE_MARK_RE.sub("", line, count=1)
            if out and out[-1] and out[-1][-1] not in _SENTENCE_END + "”」":
                out[-1] += body  # the marker cut a sentence: glue it back
            else:
                out.append(body)
        else:
            out.append(line)
    return "\n".join(out), len(positions)


def _field_line_kind(line: str) -> str | None:
    """"metadata", "copyright/host", "byline" or "print controls" for a line made only of
    "label：value" fields and page controls ("· 发布机构：XX人民政府", "| 索引号 | 1144… |",
    "字号：大 中 小 【打印】【关闭】"); None for anything else."""
    body = BULLET.sub("", line)
    if "|" in body or "｜" in body:  # a table row: a cell that is a label gets its colon back
        cells = [cell.strip() for cell in re.split(r"[|｜]", body) if cell.strip()]
        body = " ".join(cell + "：" if cell in LABELS else cell for cell in cells)
    if BARE_METADATA_LABEL.match(body) and len(GLUED_METADATA_LABEL.findall(body)) >= 2:
        body = GLUED_METADATA_LABEL.sub(r"\1：", body)
    body, controls = CONTROL_TOKENS.subn(" ", body)
    body, host = HOST_TOKENS.subn(" ", body)
    body = body.strip()
    if not body:
        return "print controls" if controls else ("copyright/host" if host else None)
    if not FIELD_LINE.fullmatch(body):
        return None
    labels = {m.group(1) for m in FIELD_LABEL.finditer(body)}
    return next(kind for kind, names in FIELD_LABELS.items() if labels & set(names))


def _list_kind(line: str) -> str | None:
    """"navigation" for a menu line, "link list" for two or more site/app names on one line."""
    items = [item for item in LIST_SEPARATORS.split(line) if item]
    if len(items) < 2:
        return None
    if all(LINK_NAME.fullmatch(item) for item in items):
        return "link list"
    menu = sum(1 for item in items if item in NAV_WORDS or item.startswith("走进"))
    short = all(len(item) <= 8 and not re.search(rf"[\d{SENTENCE_PUNCT}，,]", item) for item in items)
    return "navigation" if short and menu >= 2 and menu * 2 >= len(items) else None


def furniture_kind(line: str, sites: tuple[Site, ...] = ()) -> str | None:
    """The kind of site furniture a stripped line is, or None if it may be report text."""
    if not line or len(line) > MAX_FURNITURE_LEN or heading_level(line):
        return None  # a heading ("（三）强化人才和技术支持") is never furniture
    for table in [site.line_noise for site in sites] + [LINE_NOISE]:
        for kind, patterns in table.items():
            if any(pattern.fullmatch(line) for pattern in patterns):
                return kind
    return _field_line_kind(line) or _list_kind(line)


def drop_furniture(text: str, sites: tuple[Site, ...] | None = None) -> tuple[str, Counter]:
    """Drop whole furniture lines, by kind.

    Four rules look beyond the line itself: a lone site name ("国务院部门网站") goes only beside
    other furniture or names, since "政府门户网站" alone among prose is a fact; a bare metadata
    label ("索引号：") takes its value line with it; "相关链接" takes the short link titles after
    it; and on a document-sharing site everything from its footer marker ("- 配套讲稿:") on is
    the site's. `sites` defaults to those detected.
    """
    sites = detect_sites(text) if sites is None else sites
    lines = [line.strip() for line in text.split("\n")]
    removed: Counter = Counter()
    for site in sites:
        if site.footer_start is None:
            continue
        cut = next((i for i, line in enumerate(lines) if site.footer_start.fullmatch(line)), None)
        if cut is not None:
            removed["document-site footer lines"] += sum(1 for line in lines[cut:] if line)
            lines = lines[:cut]
    kinds = [furniture_kind(line, sites) for line in lines]
    nonblank = [i for i, line in enumerate(lines) if line]
    for pos, i in enumerate(nonblank):
        if kinds[i] is None and LINK_NAME.fullmatch(lines[i]) and not heading_level(lines[i]):
            neighbours = nonblank[max(pos - 1, 0) : pos] + nonblank[pos + 1 : pos + 2]
            if any(kinds[j] or LINK_NAME.fullmatch(lines[j]) for j in neighbours):
                kinds[i] = "link list"
        if kinds[i] == "metadata" and BARE_METADATA_LABEL.fullmatch(lines[i]) and pos + 1 < len(nonblank):
            value = nonblank[pos + 1]
            if kinds[value] is None and _is_field_value(lines[value]):
                kinds[value] = "metadata"
        if RELATED_LINKS_HEADER.fullmatch(lines[i]):
            kinds[i] = "link list"
            for j in nonblank[pos + 1 :]:
                if kinds[j] is not None or not _is_field_value(lines[j]):
                    break
                kinds[j] = "link list"
    kept = []
    for line, kind in zip(lines, kinds):
        if kind:
            removed[kind] += 1
        else:
            kept.append(line)
    return "\n".join(kept), removed


def _is_field_value(line: str) -> bool:
    return len(line) <= 40 and not heading_level(line) and not re.search(rf"[{SENTENCE_PUNCT}，,]", line)


def repair_garbles(text: str) -> tuple[str, int]:
    """Small scraping garbles: "%o" for "%。", a "下同)" that lost its "("."""
    n_total = 0
    text, n = re.subn(rf"(?<=[\d%])o(?=[{CJK}])", "。", text)
    n_total += n
    text, n = re.subn(r"(?<![(（])下同[)）]", "（下同）", text)
    return text, n_total + n


def undo_site_replacements(text: str, sites: tuple[Site, ...]) -> tuple[str, int]:
    """Undo the word swaps of the sites found (a document-sharing site's "一直不间断" for 持续)."""
    n_total = 0
    for site in sites:
        for odd, original in site.replacements.items():
            n_total += text.count(odd)
            text = text.replace(odd, original)
    return text, n_total


def split_run_on_lines(text: str, long_line: int = 600) -> tuple[str, int]:
    """Split single-line text back into paragraphs.

    Two shapes occur: paragraphs separated only by a space (a whole report on one line), and
    paragraphs glued together with nothing between them, where a heading ("二、…", "（三）…")
    starts right after the previous sentence's full stop.
    """
    out, splits = [], 0
    for line in text.split("\n"):
        if len(line) < long_line:
            out.append(line)
            continue
        parts = re.split(r"(?<=[^\x00-\x7f])\s+(?=\S)", line)
        pieces = []
        for part in parts:
            pieces.extend(
                re.split(
                    rf"(?<=[。！？：:!?])(?=[{CN_NUM}]{{1,3}}、|[(（][{CN_NUM}]{{1,3}}[)）]|各位代表[:：!！])",
                    part,
                )
            )
        splits += len(pieces) - 1
        out.extend(p.strip() for p in pieces if p.strip())
    return "\n".join(out), splits


def tidy_paragraphs(text: str) -> str:
    """One paragraph per line, no blank lines, no edge spaces."""
    lines = [re.sub(r"[ \t]+", " ", line).strip() for line in text.split("\n")]
    return "\n".join(line for line in lines if line)


def clean_text(raw: str) -> tuple[str, Counter]:
    """Run every rule in order; return the clean text and what each rule removed or changed."""
    stats: Counter = Counter()
    text = normalize_newlines(raw)
    sites = detect_sites(text)
    text, stats["table of contents"] = drop_table_of_contents(text)
    text, removed = drop_furniture(text, sites)
    stats.update(removed)
    text, removed = strip_inline_noise(text)
    stats.update(removed)
    text, stats["page markers"] = join_page_markers(text)
    text, stats["pinyin annotations"] = strip_pinyin(text)
    text, n = strip_mojibake(text)
    stats["mojibake runs"] += n
    text, stats["traditional chars converted"] = to_simplified(text)
    text = to_halfwidth(text)
    text, stats["garbles repaired"] = repair_garbles(text)
    text, stats["site word swaps undone"] = undo_site_replacements(text, sites)
    text, stats["paragraphs split"] = split_run_on_lines(text)
    # Conversion can reveal furniture written in Traditional that the first pass missed.
    text, removed = drop_furniture(text, sites)
    stats.update(removed)
    return tidy_paragraphs(text), Counter({k: v for k, v in stats.items() if v})


def heading_level(paragraph: str) -> int:
    """1 for "一、…", 2 for "（一）…", 0 for body text."""
    for level, pattern in HEADING_RES:
        if pattern.match(paragraph):
            return level
    return 0


def heading_label(paragraph: str, limit: int = 30) -> str:
    """The heading part of a paragraph: up to its first full stop, or the whole short line."""
    m = re.search(r"[。！？；:：!?;]", paragraph)
    label = paragraph[: m.start()] if m else paragraph
    if len(label) > limit:
        cut = re.search(r"[,，]", label)
        label = label[: cut.start()] if cut and cut.start() <= limit else label[:limit]
    return label.strip()


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Spans of the sentences of a text (split after 。！？；)."""
    spans, start = [], 0
    for m in re.finditer(r"[。！？；!?;]+[”」’]?|\n", text):
        end = m.end()
        if text[start:end].strip():
            spans.append((start, end))
        start = end
    if text[start:].strip():
        spans.append((start, len(text)))
    return spans
