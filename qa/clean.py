"""Pure text cleaning: raw scraped report text → clean Simplified-Chinese paragraphs.

Each rule is a function ``text -> (text, count)`` so `qa index` can report, per file, how much
of each kind of noise it removed. `clean_text` runs them in an order that matters: pinyin
annotations and mojibake are recognised before Traditional→Simplified conversion, page markers
are joined before paragraphs are split back apart.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache

CJK = "\u3400-\u9fff\uf900-\ufaff"
TONE_VOWELS = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜüńňǹḿê"
_PINYIN_BODY = rf"[a-z{TONE_VOWELS}]{{1,7}}"
# 會(huì ) / 經(jīng)濟: a pinyin syllable in parentheses right after a Han character. A syllable
# with no tone mark (neutral tone, "的(de)") counts too, but only glued to a Han character.
_PINYIN_RE = re.compile(rf"(?<=[{CJK}])\(\s*({_PINYIN_BODY})\s*\)")
# Mojibake left where a pinyin-annotating site mangled UTF-8: "?chē)" followed by a short run of
# wrongly decoded characters that ends at a stray ASCII byte ("谑形⑹姓蛥^"). A GBK reading of
# UTF-8 bytes leaves such ASCII trail bytes, which never occur between Han characters in prose.
_MOJIBAKE_RE = re.compile(
    rf"\?{_PINYIN_BODY}\)"  # the broken annotation itself
    rf"(?:[^\s\x00-\x7f，。、；：！？“”]{{1,10}}?[\x21-\x2f\x3a-\x40\x5b-\x60\x7b-\x7e?a-zA-Z](?=[{CJK}/<]))?"
)
_HTML_RESIDUE_RE = re.compile(r"</?[a-zA-Z]{1,10}>|/(?:span|p|div|strong|b|font)>")

# Line-level site furniture. Each pattern names one kind so the counts say what went.
FURNITURE = {
    "breadcrumb": re.compile(r"^(您当前的位置|当前位置|您的位置|您現在的位置|當前位置|您当前所在位置)"),
    "byline": re.compile(
        r"^(日期|发布日期|发布时间|發布日期|时间|來源|来源|作者|刊发日期|阅读次数|浏览次数|字号|信息来源|"
        r"文字整理|责任编辑|編輯|编辑|记者|索引号|发文机关|成文日期)\s*[:：]"
    ),
    "share prompt": re.compile(r"(扫一扫|掃一掃|分享到|打印本页|关闭窗口|【打印】|【关闭】|手机打开|语音阅读)"),
    "copyright/host": re.compile(
        r"(版权所有|版權所有|主办单位|主辦單位|承办单位|承辦單位|网站标识码|網站標識碼|ICP备|ICP備|公网安备|"
        r"技术支持|联系我们|网站地图|網站地圖)"
    ),
    "link list": re.compile(r"^.{0,12}(网站|網站|微信公众号|微信公眾號|政务微博|政務微博|客户端|APP)$"),
    "document-site header": re.compile(
        r"(\.(docx?|pdf|pptx?|wps)$|由会员分享|可在线阅读|请在.{1,12}上搜索|配套讲稿|特殊限制|关\s*键\s*词|链接地址|"
        r"^https?://|^-\s+\d{4}\s)"
    ),
    "page header": re.compile(r"^[A-Z]\d{1,2}(?:-[A-Z]?\d{1,2})?[:：].*(编印|版|期)"),
    "stray mark": re.compile(r"^[\s?？|·•\-—_=*#]*$"),
}
# Everything after a document-sharing site's footer marker is the site's, not the report's.
_FOOTER_START_RE = re.compile(r"^-?\s*(配套讲稿|特殊限制|关\s*键\s*词)\s*[:：]?")

# A document-sharing site's page marker: "12、" at the start of a line, numbered 1, 2, 3 … in
# order, that cuts the sentence it lands in ("殊为\n2、不易的答卷").
_PAGE_MARK_RE = re.compile(r"^(\d{1,3})、")

# Spinner substitutions: the document site replaced words with odd synonyms; these are the
# pairs a reader of such exports meets, mapped back to the report's own wording.
SPINNER_REVERSALS = {
    "一直不间断": "持续",
    "不间断地去": "不断",
    "不间断": "不断",
    "聪明才智": "智慧",
    "整治管理": "治理",
}

CN_NUM = "一二三四五六七八九十"
HEADING_RES = (
    (1, re.compile(rf"^[{CN_NUM}]{{1,3}}[、.．]")),
    (2, re.compile(rf"^[(（][{CN_NUM}]{{1,3}}[)）]")),
)
_SENTENCE_END = "。！？；!?;"


def normalize_newlines(text: str) -> str:
    return text.replace("\ufeff", "").replace("\r\n", "\n").replace("\r", "\n").replace("\u00a0", " ")


def strip_pinyin(text: str) -> tuple[str, int]:
    return _PINYIN_RE.subn("", text)


def strip_mojibake(text: str) -> tuple[str, int]:
    text, n = _MOJIBAKE_RE.subn("", text)
    text, m = _HTML_RESIDUE_RE.subn("", text)
    return text, n + m


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


def join_page_markers(text: str) -> tuple[str, int]:
    """Remove "N、" page markers that number 1, 2, 3 … at line starts and rejoin the cut text.

    Only a run of at least three markers in sequence counts, and only when most of them cut a
    sentence, so an ordinary numbered list ("1、加强就业…。" then "2、办好教育…") stays.
    """
    lines = text.split("\n")
    expected, positions = 1, []
    for i, line in enumerate(lines):
        m = _PAGE_MARK_RE.match(line)
        if m and int(m.group(1)) == expected:
            positions.append(i)
            expected += 1
    # Page breaks fall anywhere, so most markers cut a sentence; a list item follows a full stop.
    cuts = sum(1 for i in positions[1:] if lines[i - 1].strip() and lines[i - 1].strip()[-1] not in _SENTENCE_END)
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


def drop_furniture(text: str) -> tuple[str, Counter]:
    """Drop site furniture lines; everything after a document-site footer marker goes too."""
    kept, removed = [], Counter()
    lines = text.split("\n")
    for i, line in enumerate(lines):
        stripped = line.strip()
        if _FOOTER_START_RE.match(stripped):
            removed["document-site footer lines"] += sum(1 for rest in lines[i:] if rest.strip())
            break
        if not stripped:
            kept.append("")
            continue
        for kind, pattern in FURNITURE.items():
            # Furniture lines are short; a long line that happens to contain "网站" is prose.
            if len(stripped) <= 80 and pattern.search(stripped):
                removed[kind] += 1
                break
        else:
            kept.append(stripped)
    return "\n".join(kept), removed


def repair_garbles(text: str) -> tuple[str, int]:
    """Small scraping garbles: "%o" for "%。", a "下同)" that lost its "(", spinner synonyms."""
    n_total = 0
    text, n = re.subn(rf"(?<=[\d%])o(?=[{CJK}])", "。", text)
    n_total += n
    text, n = re.subn(r"(?<![(（])下同[)）]", "（下同）", text)
    n_total += n
    for odd, original in SPINNER_REVERSALS.items():
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
    text, removed = drop_furniture(text)
    stats.update(removed)
    text, stats["page markers"] = join_page_markers(text)
    text, stats["pinyin annotations"] = strip_pinyin(text)
    text, stats["mojibake runs"] = strip_mojibake(text)
    text, stats["traditional chars converted"] = to_simplified(text)
    text = to_halfwidth(text)
    text, stats["garbles repaired"] = repair_garbles(text)
    text, stats["paragraphs split"] = split_run_on_lines(text)
    # Conversion can reveal furniture written in Traditional that the first pass missed.
    text, removed = drop_furniture(text)
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
