"""Document → Chunks: paragraph-first splitting inside sections, with exact spans and section paths."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict, dataclass

from .clean import heading_label, heading_level
from .ingest import Document
from .tokens import numbers_in

# Paragraph first, then Chinese sentence ends, then clauses; separators stay with their sentence.
SEPARATORS = ["\n", "。", "！", "？", "；", "，", ""]
SECTION_SEP = " › "


@dataclass
class Chunk:
    id: str
    source: str
    district: str
    year: int
    title: str
    section: str
    start: int  # span in the cleaned document text: document.text[start:end] == text
    end: int
    text: str
    half: str = ""  # "review" (last year's results), "plan" (this year's targets) or "" (neither)
    place: str = ""  # qualified name of the reporting government (深圳市龙岗区); the key searches filter on
    english: str = ""  # its English name (Longgang)
    page: int = 0  # printed page of the span's start (PDFs, images); 0 when the report has no pages
    page_end: int = 0  # page of its end, when the span runs onto the next page
    breaks: str = ""  # offsets in text where a later page starts ("57"), comma-separated; "" for most

    def page_of(self, offset: int) -> int:
        """The page of text[offset] (offset inside this passage); 0 without pages."""
        return page_in(self.page, self.breaks, offset)

    def context(self) -> str:
        """What is embedded and keyword-indexed: the passage with the report and section it sits in,
        so a paragraph that never names its place is still found by a question that does."""
        head = f"{self.place or self.district}（{self.english}）{self.year}年 {self.title}"
        return f"{head}\n{self.section}\n{self.text}" if self.section else f"{head}\n{self.text}"

    def to_dict(self) -> dict:
        return asdict(self)


def page_in(page: int, breaks: str, offset: int) -> int:
    """The page of a passage's offset, given the page it starts on and where later pages start."""
    if not page:
        return 0
    return page + sum(1 for b in breaks.split(",") if b and int(b) <= offset)


def page_label(first: int, last: int = 0) -> str:
    """"p. 12", "pp. 12–13", or "" without pages: how citations show pages."""
    if not first:
        return ""
    return f"pp. {first}–{last}" if last > first else f"p. {first}"


def span_label(page_of: Callable[[int], int], start: int, end: int) -> str:
    """page_label of the span [start, end), page_of giving the page of an offset."""
    return page_label(page_of(start), page_of(max(start, end - 1)))


def _is_subheading(paragraph: str) -> bool:
    """A short line with no sentence punctuation and no figures that introduces what follows
    ("主要指标"); "地区生产总值增长7%" on its own line is a fact, not a heading."""
    return (
        len(paragraph) <= 30
        and not re.search(r"[。！？；，,;!?:：]", paragraph)
        and not re.search(r"\d+(\.\d+)?\s*(%|亿|万|元|天|人|户|家)|^[\d\s]+$", paragraph)
    )


# Every report has two halves: a review of last year and the plan for this one. Headings say
# which ("一、2023年工作回顾", "二、2024年工作安排", "主要预期目标"); the half lasts until the next such heading.
_REVIEW_HEAD = re.compile(r"回顾|主要指标|主要成效|过去一年|过去的一年")
_PLAN_HEAD = re.compile(r"目标|安排|任务|总体要求|工作要求|重点工作|主要工作|重点抓好|今年")


def heading_half(heading: str, year: int = 0) -> str:
    m = re.search(r"(20\d{2})年", heading)
    if m and year:
        return "review" if int(m.group(1)) < year else "plan"
    if _REVIEW_HEAD.search(heading):
        return "review"
    if _PLAN_HEAD.search(heading):
        return "plan"
    return ""


# Wording that marks a part as a review of results or a plan of targets, for reports whose
# part headings say neither ("一、攻坚克难，经济社会发展取得新成效").
_REVIEW_WORDS = re.compile(r"完成|实现了|一年来|过去一年|同比|比上年|获评|荣获|被评为|成功举办|累计|达到|建成了?|新增|增长\d")
_PLAN_WORDS = re.compile(r"力争|预期目标|左右|确保|今年|计划|将|加快|推动|着力|实施|支持|打造")


def wording_half(body: str) -> str:
    """"review" or "plan" from how a part is written, "" when its wording does not lean either way."""
    review, plan = len(_REVIEW_WORDS.findall(body)), len(_PLAN_WORDS.findall(body))
    if review + plan < 5:
        return ""
    share = review / (review + plan)
    return "review" if share >= 0.6 else "plan" if share <= 0.4 else ""


def _part_bodies(paragraphs: list[str]) -> dict[int, str]:
    """Body text of each level-1 part ("一、…"), keyed by the index of its heading paragraph."""
    heads = [i for i, p in enumerate(paragraphs) if heading_level(p) == 1] + [len(paragraphs)]
    return {a: "\n".join(paragraphs[a:b]) for a, b in zip(heads, heads[1:])}


def sections(text: str, year: int = 0) -> list[tuple[str, int, int, str]]:
    """Split a cleaned document into (section path, start, end, half) blocks of body text.

    Level 1 "一、…", level 2 "（一）…", level 3 a short unpunctuated line. A heading glued to its
    body text ("（一）产业发展质效稳步提升。加快建设…") names the section and stays in the body.
    """
    path: list[str] = ["", "", ""]
    blocks: list[tuple[str, int, int]] = []
    current, block_start, block_end = None, None, None
    half = ""
    offset = 0
    paragraphs = text.split("\n")
    bodies = _part_bodies(paragraphs)
    for i, paragraph in enumerate(paragraphs):
        start, end = offset, offset + len(paragraph)
        offset = end + 1
        level = heading_level(paragraph)
        heading = ""
        if level:
            heading = heading_label(paragraph)
            path[level - 1:] = [heading] + [""] * (3 - level)
        elif _is_subheading(paragraph) and _introduces_body(paragraphs, i):
            heading = path[2] = paragraph.strip()
        if heading and level != 2 and "工作报告" not in heading:  # "（一）…" headings name topics, not halves
            half = heading_half(heading, year) or (wording_half(bodies[i]) if level == 1 else "") or half
        # A heading line opens its section's text too: nothing of the report is left unindexed.
        name = SECTION_SEP.join(p for p in path if p)
        if (name, half) != current and block_start is not None:
            blocks.append((*current, block_start, block_end))
            block_start = None
        if block_start is None:
            current, block_start = (name, half), start
        block_end = end
    if block_start is not None:
        blocks.append((*current, block_start, block_end))
    return [(name, start, end, half) for name, half, start, end in blocks]


def _introduces_body(paragraphs: list[str], i: int) -> bool:
    """A short line heads what follows only if a body paragraph follows it; in a run of short
    lines ("全体居民人均可支配收入与经济增长基本同步" / "节能减排降碳指标…") they are list items."""
    following = next((p for p in paragraphs[i + 1 :] if p.strip()), None)
    return following is not None and not _is_subheading(following)


def make_splitter(chunk_size: int, chunk_overlap: int):
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    return RecursiveCharacterTextSplitter(
        chunk_size=chunk_size,
        chunk_overlap=chunk_overlap,
        separators=SEPARATORS,
        keep_separator="end",
        strip_whitespace=True,
    )


def _pieces(text: str, splitter, chunk_overlap: int, min_chars: int, year: int = 0) -> list[tuple[str, int, int, str]]:
    """(section, start, end, half) of every piece. A one-line piece shorter than min_chars with no
    figures (a lone heading, a lead-in such as "一年来,我们…实现新提升") is not worth a citation on
    its own: it is joined to the piece after it, or the last one to the piece before."""
    pieces: list[list] = []
    for section, block_start, block_end, half in sections(text, year):
        block = text[block_start:block_end]
        cursor = 0
        for piece in splitter.split_text(block):
            # Overlap means the next piece may start before the end of the last one.
            found = block.find(piece, max(0, cursor - chunk_overlap - len(piece)))
            if found < 0:
                found = block.find(piece)
            cursor = found + len(piece)
            pieces.append([section, block_start + found, block_start + cursor, half])
    merged: list[list] = []
    pending_start = None
    for section, start, end, half in pieces:
        if pending_start is not None:
            start, pending_start = min(start, pending_start), None
        piece = text[start:end]
        if end - start < min_chars and "\n" not in piece and not numbers_in(piece):
            pending_start = start
            continue
        merged.append([section, start, end, half])
    if pending_start is not None:
        if merged:
            merged[-1][2] = max(merged[-1][2], pieces[-1][2])
        else:
            merged.append([pieces[-1][0], pending_start, pieces[-1][2], pieces[-1][3]])
    return [tuple(p) for p in merged]


def chunk_document(doc: Document, chunk_size: int = 200, chunk_overlap: int = 30, min_chars: int = 50) -> list[Chunk]:
    splitter = make_splitter(chunk_size, chunk_overlap)
    return [
        Chunk(
            id=f"{doc.source}#{n}",
            source=doc.source,
            district=doc.district,
            year=doc.year,
            title=doc.title,
            section=section,
            start=start,
            end=end,
            text=doc.text[start:end],
            half=half,
            place=doc.place or doc.district,
            english=doc.english,
            page=doc.page_at(start),
            page_end=doc.page_at(max(start, end - 1)),
            breaks=",".join(str(p - start) for p, _ in doc.pages if start < p < end),
        )
        for n, (section, start, end, half) in enumerate(_pieces(doc.text, splitter, chunk_overlap, min_chars, doc.year))
    ]
