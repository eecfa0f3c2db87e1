"""Document → Fact rows: every figure a report states, as (place, indicator, measure, value, unit,
result or target, qualifier, year) with the span of its sentence, kept in SQLite beside the index.

Comparisons and "which places…" questions are answered from this table, so each row must say
what the report says and nothing more: a figure is kept only with a unit, its indicator is the
report's own noun phrase (normalised to the vocabulary of qa/indicators.py when the whole phrase
is one of its wordings), and dates, ranks and names with digits (第1, 前10名, 5G, “885”机制,
2024年2月2日) are not figures.

Whether a figure is a result or a target comes from the half of the report its chunk is in
(qa/chunk.py: review of last year, plan for this one), refined by the sentence's wording.
"""

from __future__ import annotations

import bisect
import csv
import hashlib
import io
import logging
import os
import re
import sqlite3
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

from . import indicators as vocab
from .chunk import Chunk
from .errors import QAError

log = logging.getLogger(__name__)
log.addHandler(logging.NullHandler())

FACTS_FILE = "facts.sqlite"
MEASURES = ("level", "growth", "share", "count", "rate")
KINDS = ("result", "target")
JSON_KEYS = ("place", "indicator", "measure", "value", "unit", "kind", "qualifier", "year", "source", "start", "end",
             "sentence")


@dataclass(frozen=True)
class Fact:
    place: str  # qualified name of the reporting government (重庆市万州区)
    indicator: str  # standard name (地区生产总值) or the report's own noun phrase (新建5G基站)
    measure: str  # level | growth | share | count | rate
    value: float  # negative for a fall (下降3% → -3)
    unit: str  # as the report writes it: %, 百分点, 亿元, 万人, 个 …
    kind: str  # result (of the review year) | target (of the plan year)
    qualifier: str  # 以上, 左右, 以内, 突破, 超过, 力争 … or ""
    year: int
    source: str
    start: int  # span of the sentence in the cleaned report text
    end: int
    sentence: str
    phrase: str = ""  # the report's words for the indicator, before normalisation
    standard: bool = False  # indicator is a name of the vocabulary

    def to_json(self) -> dict:
        row = {k: getattr(self, k) for k in JSON_KEYS}
        row["value"] = _plain_number(self.value)
        return row


def _plain_number(value: float) -> int | float:
    """7.0 → 7, so JSON and tables show figures as the reports write them."""
    return int(value) if float(value).is_integer() else value


def format_value(value: float, unit: str) -> str:
    return f"{_plain_number(value)}{unit}"


# ---- wording ---------------------------------------------------------------------------------
# Grammar of report sentences, not knowledge of any report: verbs that link an indicator to its
# figure, scope words before it, qualifiers around the figure.

_UP = ("同比增长", "比上年增长", "年均增长", "增长了", "增长", "增加", "提高", "提升", "上涨", "上升")
_DOWN = ("同比下降", "比上年下降", "下降了", "下降", "降低", "减少", "回落", "缩短", "压减", "压缩")
_GROWTH_NOUNS = ("增速", "增幅", "涨幅", "降幅")
_AMOUNT_CHANGE = {"同比增长", "比上年增长", "增长了", "增长", "增加", "同比下降", "比上年下降", "下降了", "下降", "减少"}
# "提高到 6.3%", "降至", "控制在" state a new level, even after a verb of change.
_TO = ("提高到", "提高至", "提升到", "提升至", "增至", "增加到", "增加至", "增长到", "增长至", "降至", "降到", "下降到",
       "下降至", "减少到", "减少至", "缩短至", "缩短到", "压缩至", "压减至", "扩大到", "扩大至")
# Other words that stand between an indicator and its figure.
_LINKS = ("达到了", "达到", "达", "突破", "超过", "超", "为", "是", "约", "近", "逾", "控制在", "稳定在", "保持在", "维持在",
          "在", "至", "到", "平均", "累计", "共", "共计", "合计", "总计", "分别", "均", "同比", "比上年", "较上年", "同口径",
          "不低于", "不少于", "不超过", "不高于", "高于", "低于", "保持", "稳定", "完成", "实现", "首次", "了", "以上", "左右",
          "全年", "年均", "力争", "确保", "争取", "预计")
_PREFIX_QUALIFIERS = ("不低于", "不少于", "不超过", "不高于", "突破", "超过", "高于", "低于", "约", "近", "逾", "超")
_SUFFIX_QUALIFIERS = ("以上", "左右", "以内", "以下", "上下")
# One name per meaning: "1.8万余个" and "超10亿元" say 以上 and 超过.
_QUALIFIER_NAMES = {"余": "以上", "多": "以上", "超": "超过", "逾": "超过"}
_LEADING = ("主要预期目标是", "主要预期目标为", "预期目标是", "主要目标是", "目标是", "据初步核算", "初步核算", "预计全年",
            "其中", "全年", "实现了", "实现", "完成了", "完成", "累计", "力争", "确保", "争取", "预计", "共计", "共",
            "合计", "总计", "今年", "去年", "上年", "同时", "并", "和", "与", "及", "以及", "全区", "全县", "全市",
            "全省", "全旗", "全州", "全镇", "全乡", "全社会", "全口径", "当年", "年度", "年内", "我区", "我县", "我市",
            "我省", "我旗", "本区", "本县", "本市", "带动", "、")
# Growth stated "at comparable prices" is still the growth of the phrase before it.
_NOISE = re.compile(r"[（(][^（）()]{0,20}[)）]|按(?:不变|可比)价(?:格)?计算|连续[\d一二三四五六七八九十]+年|[“”\"‘’《》\s]")
# Words that follow a number-with-unit when it is part of a name or a threshold, not a figure:
# 500万人口城市, 10亿元以上项目, 12个月, 提升19个位次.
_AFTER_NOT_FIGURE = re.compile(r"^(?:口|才|员|民|群|工|籍|月|位次|工作日|小时|季度|级|强|届|版|周年|以来|"
                               r"(?:以上|以下)(?:的|项目|企业|规模|人才|老人|老年人|人口|学历|产业))")
_BEFORE_NOT_FIGURE = re.compile(r"(?:第|前|后|排名|位列|位居|排在|TOP|top|No\.?)\s*$")
_NUMBERING = re.compile(r"(?:19|20)\d{2}年(?:度)?|(?:\d{1,2}|[一二三四五六七八九十]{1,3})[、.．)）]|[（(][一二三四五六七八九十\d]{1,3}[)）]")
_TARGET_WORDS = re.compile(r"预期目标|主要目标|目标是|力争|确保|争取|计划|预计|今年")
_TARGET_IN_REVIEW = re.compile(r"力争|预期目标是|目标是")
_RESULT_WORDS = re.compile(r"完成了|实现了|同比|比上年|较上年|去年|过去一年|一年来|全年实现|全年完成|初步核算")
_YEAR = re.compile(r"(?<![\d比较与同从自])((?:19|20)\d{2})年(?!代|以来|起|前|后|至今|底前)")
# 分别 / 均 that distribute values over a list of phrases; not the 均 of 人均, 亩均, 年均.
_LIST_MARKER = re.compile(r"分别|(?<![人亩年户村平日月])均(?=[增下提达为超保在控实突降减稳])")
# Share and rate wording of a phrase with a bare percentage.
_SHARE_WORDS = re.compile(r"占|比重|占比|比例|份额")
_RATE_END = re.compile(r"(?:率|强度|指数|系数|水平)$")


# ---- figures ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Figure:
    start: int  # span of the number with its unit (and qualifier) in the text
    end: int
    value: float
    unit: str
    qualifier: str  # 以上/左右/…, or 余 for "1.8万余个"


_CN_DIGITS = "零〇一二两三四五六七八九十百千"


@lru_cache(maxsize=1)
def _figure_patterns() -> tuple[re.Pattern, re.Pattern]:
    """Arabic and Chinese-numeral figures followed by a unit of the vocabulary."""
    units = sorted(vocab.unit_kinds(), key=len, reverse=True)
    unit = "|".join(re.escape(u) for u in units)
    mult = "万亿|万|亿|千"
    arabic = re.compile(
        rf"(?<![\d.A-Za-z+·/\-_])(?P<num>\d{{1,3}}(?:,\d{{3}})+(?:\.\d+)?|\d+(?:\.\d+)?)\s*"
        rf"(?P<mult>{mult})?(?P<approx>余|多)?(?P<unit>{unit})")
    # Chinese numerals only where reports use them for statistics: 百分之七, 三万人, 一个百分点.
    # "八个方面", "两个不低于", "十项行动" count names of programmes, not statistics.
    chinese = re.compile(
        rf"百分之(?P<pct>[{_CN_DIGITS}点]+)"
        rf"|(?P<pts>[{_CN_DIGITS}点]+)(?P<ptsu>个百分点)"
        rf"|(?P<cn>[{_CN_DIGITS}]+(?:点[零〇一二三四五六七八九]+)?)(?P<cnmult>万亿|万|亿)(?P<cnapprox>余|多)?(?P<cnunit>{unit})")
    return arabic, chinese


def _cn_number(text: str) -> float | None:
    import cn2an

    try:
        return float(cn2an.cn2an(text, "smart"))
    except (ValueError, KeyError, TypeError):
        return None


def figures_in(text: str) -> list[Figure]:
    """Every figure of a text: a number (Arabic or Chinese) with a unit, not a date, rank or name."""
    arabic, chinese = _figure_patterns()
    quoted = _quoted_spans(text)
    found: list[Figure] = []
    for m in arabic.finditer(text):
        unit = (m.group("mult") or "") + m.group("unit")
        found.append(_figure(text, m.start(), m.end(), float(m.group("num").replace(",", "")), unit,
                             m.group("approx") or ""))
    for m in chinese.finditer(text):
        if m.group("pct"):
            value, unit, approx = _cn_number(m.group("pct")), "%", ""
        elif m.group("pts"):
            value, unit, approx = _cn_number(m.group("pts")), "个百分点", ""
        else:
            value, unit = _cn_number(m.group("cn")), m.group("cnmult") + m.group("cnunit")
            approx = m.group("cnapprox") or ""
        if value is not None:
            found.append(_figure(text, m.start(), m.end(), value, unit, approx))
    return sorted((f for f in found if not _inside(f.start, quoted) and _is_figure(text, f)),
                  key=lambda f: f.start)


def _figure(text: str, start: int, end: int, value: float, unit: str, approx: str) -> Figure:
    """A figure with the qualifier written right after it (7%以上, 6.5%左右) taken into its span."""
    qualifier = approx
    for word in _SUFFIX_QUALIFIERS:
        if text.startswith(word, end):
            qualifier, end = word, end + len(word)
            break
    return Figure(start, end, value, unit, qualifier)


def _is_figure(text: str, f: Figure) -> bool:
    """Not a rank (第1, 前10名), a duration in months, a threshold inside a name (10亿元以上项目),
    or part of a longer word (500万人口)."""
    after = text[f.end - len(f.qualifier) if f.qualifier in _SUFFIX_QUALIFIERS else f.end:][:6]
    if _AFTER_NOT_FIGURE.match(after):
        return False
    return not _BEFORE_NOT_FIGURE.search(text[max(0, f.start - 4):f.start])


def _quoted_spans(text: str) -> list[tuple[int, int]]:
    """Short quoted or titled names (“885”机制, “两个不低于”, 《…2035》): figures inside are names."""
    return [(m.start(), m.end()) for m in re.finditer(r"“[^”\n]{1,20}”|\"[^\"\n]{1,20}\"|《[^》\n]{1,40}》", text)]


def _inside(position: int, spans: list[tuple[int, int]]) -> bool:
    return any(a <= position < b for a, b in spans)


# ---- sentences and clauses -------------------------------------------------------------------

_SENTENCE_END = re.compile(r"[。！？；!?;\n]")
_CLAUSE_END = re.compile(r"[，,：:]")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence: split after 。！？； and at line ends, as the eval sampler
    splits, so a cited span is one sentence of the report."""
    spans, start = [], 0
    for m in _SENTENCE_END.finditer(text):
        spans.append((start, m.end() if m.group() != "\n" else m.start()))
        start = m.end()
    spans.append((start, len(text)))
    out = []
    for a, b in spans:
        while a < b and text[a] in " \t\u3000—-":
            a += 1
        while b > a and text[b - 1] in " \t\u3000":
            b -= 1
        if b > a:
            out.append((a, b))
    return out


def _clauses(text: str, start: int, end: int) -> list[tuple[int, int]]:
    out, a = [], start
    for m in _CLAUSE_END.finditer(text, start, end):
        out.append((a, m.start()))
        a = m.end()
    out.append((a, end))
    return out


# ---- the indicator of a figure ---------------------------------------------------------------

@dataclass
class Lead:
    """What the words before a figure say: the indicator phrase and how the figure relates to it."""
    phrase: str = ""
    up: bool = False  # 增长, 提高 …: a change
    down: bool = False  # 下降, 减少 …: a change downwards (value made negative)
    setting: bool = False  # 提高到, 达到, 控制在 …: a level, even after a change verb
    qualifier: str = ""  # 突破, 超过, 不低于 …
    verbs: list[str] = field(default_factory=list)


def read_lead(words: str, strip: Iterable[str] = ()) -> Lead:
    """Split the words before a figure into its indicator phrase and the verbs that link them
    ("规上工业增加值增长" → phrase 规上工业增加值, up). `strip` are extra leading words (the
    report's own place names)."""
    lead = Lead()
    phrase = _NOISE.sub("", words)
    tails = sorted({*_UP, *_DOWN, *_GROWTH_NOUNS, *_TO, *_LINKS}, key=len, reverse=True)
    changed = True
    while changed and phrase:
        changed = False
        for word in tails:
            if phrase.endswith(word):
                phrase, changed = phrase[: -len(word)], True
                lead.verbs.append(word)
                break
    leading = sorted({*_LEADING, *strip}, key=len, reverse=True)
    changed = True
    while changed and phrase:
        changed = False
        numbering = _NUMBERING.match(phrase)  # "2023年", "1、", "（一）"
        if numbering:
            phrase, changed = phrase[numbering.end():], True
            continue
        for word in leading:
            if word and phrase.startswith(word):
                phrase, changed = phrase[len(word):], True
                break
    lead.phrase = phrase.strip("、，,的")
    verbs = set(lead.verbs)
    lead.up = bool(verbs & {*_UP, *_GROWTH_NOUNS})
    lead.down = bool(verbs & set(_DOWN))
    lead.setting = bool(verbs & set(_TO))
    lead.qualifier = next((q for q in _PREFIX_QUALIFIERS if q in verbs), "")
    return lead


def normalise(phrase: str) -> tuple[str, bool]:
    """(indicator, is standard): the vocabulary's name when the phrase is one of its wordings,
    also with a growth noun after it (地区生产总值增速); else the phrase itself."""
    name = vocab.indicator_of(phrase)
    if name is None:
        for noun in _GROWTH_NOUNS + ("总量", "规模"):
            if phrase.endswith(noun) and (name := vocab.indicator_of(phrase[: -len(noun)])):
                break
    return (name, True) if name else (phrase, False)


_PER_UNIT = re.compile(r"(?:人均|亩均|地均|户均|单位)")


def _complete(phrases: list[str]) -> list[str]:
    """Phrases of a list that share their head or modifier ("规上工业产值和增加值",
    "城镇和农村常住居民人均可支配收入"): a part that is no indicator alone borrows from another part
    when that makes a vocabulary wording; a short part after a per-unit phrase shares its modifier
    ("亩均增加值、税收" → 亩均税收, not 税收收入)."""
    out = []
    for i, p in enumerate(phrases):
        borrowed = _borrowed(p, [other for j, other in enumerate(phrases) if j != i])
        per_unit = next((m for other in phrases[:i] for m in [_PER_UNIT.search(other)] if m), None)
        if len(p) <= 4 and per_unit and not _PER_UNIT.search(p) and not borrowed:
            out.append(per_unit.string[:per_unit.end()] + p)
        elif vocab.indicator_of(p) or len(p) > 12:
            out.append(p)
        else:
            out.append(borrowed or p)
    return out


def _borrowed(part: str, others: list[str]) -> str | None:
    """The part completed with the start or the end of another part into a vocabulary wording."""
    for other in others:
        candidates = ([other[:k] + part for k in range(len(other), 0, -1)] +
                      [part + other[k:] for k in range(len(other))])
        hit = next((c for c in candidates if c != part and vocab.indicator_of(c)), None)
        if hit:
            return hit
    return None


def _split_list(phrase: str, n: int) -> list[str]:
    """The n indicators a phrase before 分别 names: "A、B、C", "A和B", or one distributive phrase
    (城乡居民人均可支配收入 → 城镇…, 农村…). Fewer or more parts than values: the whole phrase for each."""
    parts = [p for p in re.split(r"、", phrase) if p]
    if len(parts) != n:
        parts = [p for p in re.split(r"、|和|与|及|以及", phrase) if p]
    if len(parts) == n:
        return _complete(parts)
    for prefix, names in sorted(vocab.distributive_prefixes().items(), key=lambda kv: -len(kv[0])):
        if phrase.startswith(prefix) and len(names) == n:
            return [name + phrase[len(prefix):] for name in names]
    return [phrase] * n


# ---- one sentence ----------------------------------------------------------------------------

@dataclass
class _Row:
    phrase: str
    figure: Figure
    lead: Lead


def figure_phrases(sentence: str) -> list[tuple[str, Figure]]:
    """Each figure of one sentence with the indicator phrase it is a figure of (the answer step
    uses it to find the figure a question asks for)."""
    return [(row.phrase, row.figure) for row in _sentence_rows(sentence, 0, len(sentence), figures_in(sentence), ())]


def _sentence_rows(text: str, start: int, end: int, figures: list[Figure], strip: tuple[str, ...]) -> list[_Row]:
    """Each figure of a sentence paired with the phrase it is a figure of."""
    rows: list[_Row] = []
    for a, b in _clauses(text, start, end):
        in_clause = [f for f in figures if a <= f.start < b]
        if in_clause:
            rows.extend(_clause_rows(text, a, b, in_clause, rows, strip))
    return rows


def _clause_rows(text: str, a: int, b: int, figures: list[Figure], before: list[_Row],
                 strip: tuple[str, ...]) -> list[_Row]:
    """Rows of one clause. "A、B、C分别增长7%、10%、13%" pairs phrases with values in order;
    "A和B均增长5%" gives each the value; otherwise each figure takes the words since the last one,
    or, with none ("983亿元、增长7.2%"), the indicator of the figure before it."""
    marker = _LIST_MARKER.search(text[a:b])
    if marker:
        at = a + marker.start()
        after = [f for f in figures if f.start >= at]
        if len(after) >= 2 or (marker.group() == "均" and after):
            rows = _plain_rows(text, a, at, [f for f in figures if f.start < at], before, strip)
            head_start = max([a] + [f.end for f in figures if f.start < at])
            listed = _listed_rows(text, head_start, at, marker.group(), after, before + rows, strip)
            if listed:
                return rows + listed
    return _plain_rows(text, a, b, figures, before, strip)


def _plain_rows(text: str, a: int, b: int, figures: list[Figure], before: list[_Row],
                strip: tuple[str, ...]) -> list[_Row]:
    """Each figure with the words since the figure before it. Also "84个老旧小区改造" (the noun
    after the number), "粮食播种面积和产量稳定在150万亩、50万吨" (parts of one phrase in
    order), "占全区比重61.1%" (a share of the phrase before), and "、增长7.2%" (no phrase: the
    indicator of the figure before)."""
    rows: list[_Row] = []
    cursor, pending = a, []
    for i, f in enumerate(figures):
        words = text[cursor:f.start]
        lead = read_lead(words, strip)
        cursor = f.end
        phrase = lead.phrase
        last = (before + rows)[-1] if before or rows else None
        noun, noun_end = _noun_after(text, f.end, b)
        if noun and not (lead.up or lead.down) and not vocab.indicator_of(phrase) and (
                len(phrase) <= 4 or phrase.endswith("等")):
            if not phrase and not text[noun_end:b].strip() and not before and i == 0:
                continue  # a heading line such as "5个聚力": the count of a list, not a statistic
            phrase, cursor = phrase + noun, noun_end
        elif pending and _is_plain(words):
            phrase = pending.pop(0)
        elif not phrase or phrase in _GENERIC:
            if last is None or not (lead.up or lead.down or _is_plain(words) or phrase):
                continue  # "为1.7万名…": a figure whose noun we cannot name
            phrase = re.sub(r"^(?:新增|新建|新培育|新引进)", "", last.phrase) + phrase if phrase else last.phrase
        elif re.match(r"占|高于|低于|快于|慢于", phrase) and last is not None:
            phrase = last.phrase + phrase
        elif not vocab.indicator_of(phrase) and (completed := _completed_by_context(phrase, last)):
            phrase = completed
        else:
            parts = [p for p in re.split(r"和|与|及|以及", phrase) if p]
            following = 0
            for g, h in zip(figures[i:], figures[i + 1:]):
                if not _is_plain(text[g.end:h.start]):
                    break
                following += 1
            if len(parts) > 1 and following == len(parts) - 1:
                phrase, *pending = _complete(parts)
        rows.append(_Row(phrase, f, lead))
    return rows


_GENERIC = ("总数", "总量", "总额", "总计", "累计")
# Where the noun after a number ends: the verb of the clause ("12家企业纳入…", "84个老旧小区改造惠及…").
_NOUN_END = re.compile(r"全面|加快|基本|顺利|开工|竣工|建成|投用|投产|完成|实现|入选|跻身|纳入|获|落地|签约|入驻|通过|"
                       r"被|进入|达|列入|开展|启动|增长|惠及|覆盖|创建|成功|正式|已|均|分别|共|累计|合计|稳定|保持|位列|"
                       r"位居|上榜|挂牌|认定|评为|受益|参与|开放|贯通|通车|运行|运营|投运|落户|开业|的|[、，,；;。：:（(\d]")


def _completed_by_context(phrase: str, last: _Row | None) -> str | None:
    """A short phrase that names a vocabulary indicator with the words of the phrase before it:
    "粮食播种面积达到41.3万亩、产量17.1万吨" → 粮食产量; "规上工业总产值突破千亿大关、增加值" → 规上工业增加值."""
    head, _, tail = phrase.rpartition("、")
    context = head or (last.phrase if last else "")
    if not context or len(tail) > 4:
        return None
    completed = _complete([context, tail])[1]
    return completed if vocab.indicator_of(completed) else None


def _noun_after(text: str, end: int, limit: int) -> tuple[str, int]:
    """The noun right after a figure ("2家企业入驻…" → 企业), when the figure is written before its
    noun; ("", end) when a verb, a punctuation mark or another figure follows at once."""
    window = text[end:min(limit, end + 16)]
    m = _NOUN_END.search(window)
    noun = window[: m.start()] if m else window
    noun = _NOISE.sub("", noun)
    if len(noun) < 2 or not re.match(r"[\u4e00-\u9fff]", noun):
        return "", end
    return noun, end + (m.start() if m else len(window))


def _is_plain(words: str) -> bool:
    """Words between two figures that say nothing of their own ("、", "和")."""
    return not _NOISE.sub("", words).strip("、，,和及与")


def _listed_rows(text: str, head_start: int, at: int, marker: str, figures: list[Figure], before: list[_Row],
                 strip: tuple[str, ...]) -> list[_Row]:
    """Rows of "<phrases>分别|均<verb><values>"; with no phrase before the marker ("…，分别增长5.3%和
    7.4%") the values belong to the figures stated just before, in order."""
    lead = read_lead(text[at + len(marker):figures[0].start], strip)
    head = read_lead(text[head_start:at], strip).phrase
    if marker == "均":
        phrases = _complete([p for p in re.split(r"、|和|与|及|以及", head) if p]) if head else []
        return [_Row(p, f, lead) for f in figures for p in phrases]
    if head:
        phrases = _split_list(head, len(figures))
    else:
        earlier = list(dict.fromkeys(r.phrase for r in before))
        if len(earlier) < len(figures):
            return []
        phrases = earlier[-len(figures):]
    return [_Row(p, f, lead) for p, f in zip(phrases, figures)]


# ---- measure, kind, year ---------------------------------------------------------------------

def measure_of(row: _Row, indicator: str, standard: bool) -> str:
    """level | growth | share | count | rate, from the unit and the verb before the figure."""
    unit, lead = row.figure.unit, row.lead
    kind = vocab.unit_kind(unit)
    change = (lead.up or lead.down) and not lead.setting
    if kind == "percent":
        if "百分点" in unit or change:
            return "growth"
        if unit == "倍":
            return "level"
        if standard:
            return vocab.get(indicator).percent
        if _SHARE_WORDS.search(row.phrase):
            return "share"
        return "rate" if _RATE_END.search(row.phrase) else "share"
    if change and set(lead.verbs) & _AMOUNT_CHANGE:
        return "growth"  # 比上年增加156亿元: an amount of change; "改造提升5000亩" is not
    return "count" if kind == "count" else "level"


def kind_of(half: str, sentence: str, paragraph_before: str) -> str:
    """result | target: the half of the report the sentence is in, refined by its wording.
    A review part that says 力争/目标是 states a target; a part of neither half is read from the
    sentence and the paragraph before it (主要预期目标是：…)."""
    if half == "plan":
        return "target"
    if half == "review":
        return "target" if _TARGET_IN_REVIEW.search(sentence) and not _RESULT_WORDS.search(sentence) else "result"
    if _TARGET_WORDS.search(sentence) and not _RESULT_WORDS.search(sentence):
        return "target"
    if _RESULT_WORDS.search(sentence):
        return "result"
    return "target" if _TARGET_WORDS.search(paragraph_before) else "result"


def stated_year(sentence_before_figure: str, report_year: int) -> int | None:
    """The year a sentence names for its figure (2023年全年…, 到2027年…); not a base year (较2020年)
    nor a year far from the report's (a history), nor one after 以来."""
    years = [int(m.group(1)) for m in _YEAR.finditer(sentence_before_figure)]
    years = [y for y in years if not report_year or abs(y - report_year) <= 5]
    return years[-1] if years else None


# ---- a document ------------------------------------------------------------------------------

def _halves(chunks: list[Chunk]) -> tuple[list[int], list[Chunk]]:
    ordered = sorted(chunks, key=lambda c: c.start)
    return [c.start for c in ordered], ordered


def _half_at(position: int, starts: list[int], ordered: list[Chunk]) -> str:
    """The half of the chunk holding a position ("" when no chunk does)."""
    i = bisect.bisect_right(starts, position) - 1
    while i >= 0:
        c = ordered[i]
        if c.start <= position < c.end:
            return c.half
        if c.end <= position:
            break
        i -= 1
    return ""


def _place_words(doc: dict) -> tuple[str, ...]:
    """The report's own names for its place, removed before a phrase (万州区地区生产总值)."""
    names = {doc.get("place"), doc.get("district"), doc.get("short")}
    return tuple(n for n in names if n and len(n) >= 2)


def extract(doc: dict, chunks: list[Chunk]) -> list[Fact]:
    """Every figure of one indexed report (a documents.jsonl record with its cleaned "text"), as
    Fact rows whose span is the sentence (or table line) stating it."""
    text = doc["text"]
    report_year = int(doc.get("year") or 0)
    place = doc.get("place") or doc.get("district") or ""
    starts, ordered = _halves(chunks)
    figures = figures_in(text)
    strip = _place_words(doc)
    facts, table_lines = _table_facts(text, report_year, place, doc["source"], strip)
    for s, e in sentence_spans(text):
        if (s, e) in table_lines:
            continue
        lo = bisect.bisect_left([f.start for f in figures], s)
        inside = [f for f in figures[lo:] if f.start < e and f.end <= e]
        if not inside:
            continue
        sentence = text[s:e]
        paragraph_before = text[text.rfind("\n", 0, s) + 1:s]
        kind = kind_of(_half_at(s, starts, ordered), sentence, paragraph_before)
        for row in _sentence_rows(text, s, e, inside, strip):
            facts.append(_fact(row, text, s, e, kind, report_year, place, doc["source"]))
    return facts


# A table header with one column per year: "指标 2023年完成 2024年目标".
_COLUMN = re.compile(r"((?:19|20)\d{2})年\S*")
_CELL = re.compile(r"^(\d+(?:\.\d+)?)(以上|左右|以内|以下)?$")


def _table_columns(line: str, report_year: int) -> list[tuple[int, str]]:
    """(year, result|target) of each value column of a table header line, [] for other lines."""
    if re.search(r"[。，,；;：:]", line) or len(line) > 60:
        return []
    columns = []
    for m in _COLUMN.finditer(line):
        year, label = int(m.group(1)), m.group(0)
        target = re.search(r"目标|预期|计划", label) or (not re.search(r"完成|实际|实绩", label) and year >= report_year)
        columns.append((year, "target" if target else "result"))
    return columns if len(columns) >= 2 else []


def _lines(text: str) -> list[tuple[int, int]]:
    spans, start = [], 0
    for line in text.split("\n"):
        spans.append((start, start + len(line)))
        start += len(line) + 1
    return spans


def _table_facts(text: str, report_year: int, place: str, source: str,
                 strip: tuple[str, ...]) -> tuple[list[Fact], set[tuple[int, int]]]:
    """Facts of the tables of a report (a label, then one value per year column), whose kind and
    year come from the column, not from the half of the report; and the spans of their lines."""
    facts, handled = [], set()
    columns: list[tuple[int, str]] = []
    for a, b in _lines(text):
        line = text[a:b].strip()
        if head := _table_columns(line, report_year):
            columns = head
            continue
        cells = line.split()
        if not columns or len(cells) < len(columns) + 1 or re.search(r"[。；;]", line):
            columns = []
            continue
        label = " ".join(cells[: -len(columns)])
        unit = re.search(r"[（(]([^）)]+)[)）]", label)
        lead = read_lead(label, strip)
        offset = text.find(line, a)
        for cell, (year, kind) in zip(cells[-len(columns):], columns):
            figure = _cell_figure(cell, unit.group(1) if unit else "", text.find(cell, offset))
            if figure is None or not lead.phrase:
                continue
            row = _Row(lead.phrase, figure, lead)
            fact = _fact(row, text, offset, offset + len(line), kind, report_year, place, source)
            facts.append(replace(fact, kind=kind, year=year))
        handled.add((offset, offset + len(line)))
    return facts, handled


def _cell_figure(cell: str, label_unit: str, at: int) -> Figure | None:
    """The figure of a table cell: "6.5%左右", or a bare "2.3" whose unit the label gives (万人)."""
    found = figures_in(cell)
    if found:
        f = found[0]
        return Figure(at + f.start, at + f.end, f.value, f.unit, f.qualifier)
    m = _CELL.match(cell)
    if m and label_unit and vocab.unit_kind(label_unit):
        return Figure(at, at + len(cell), float(m.group(1)), label_unit, m.group(2) or "")
    return None


def _fact(row: _Row, text: str, s: int, e: int, kind: str, report_year: int, place: str, source: str) -> Fact:
    indicator, standard = normalise(row.phrase)
    measure = measure_of(row, indicator, standard)
    value = row.figure.value
    if measure == "growth" and row.lead.down:
        value = -value
    year = stated_year(text[s:row.figure.start], report_year)
    if year and report_year:
        kind = "result" if year < report_year else "target" if year > report_year else kind
    if not year:
        year = report_year if kind == "target" or not report_year else report_year - 1
    qualifier = _QUALIFIER_NAMES.get(row.figure.qualifier, row.figure.qualifier) or row.lead.qualifier
    qualifier = _QUALIFIER_NAMES.get(qualifier, qualifier)
    if not qualifier and "力争" in text[s:row.figure.start]:
        qualifier = "力争"
    return Fact(place=place, indicator=indicator, measure=measure, value=value, unit=row.figure.unit, kind=kind,
                qualifier=qualifier, year=year, source=source, start=s, end=e, sentence=text[s:e],
                phrase=row.phrase, standard=standard)


# ---- SQLite ----------------------------------------------------------------------------------

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE documents (source TEXT PRIMARY KEY, sha256 TEXT NOT NULL, place TEXT NOT NULL, district TEXT,
                        short TEXT, english TEXT, year INTEGER, facts INTEGER NOT NULL);
CREATE TABLE facts (place TEXT NOT NULL, indicator TEXT NOT NULL, measure TEXT NOT NULL, value REAL NOT NULL,
                    unit TEXT NOT NULL, kind TEXT NOT NULL, qualifier TEXT NOT NULL, year INTEGER, source TEXT NOT NULL,
                    start INTEGER NOT NULL, "end" INTEGER NOT NULL, sentence TEXT NOT NULL, phrase TEXT NOT NULL,
                    standard INTEGER NOT NULL, sha256 TEXT NOT NULL);
"""
_INDEXES = """
CREATE INDEX facts_by_indicator ON facts (indicator);
CREATE INDEX facts_by_place ON facts (place);
"""
_FACT_COLUMNS = ("place", "indicator", "measure", "value", "unit", "kind", "qualifier", "year", "source", "start",
                 '"end"', "sentence", "phrase", "standard")


def fingerprint() -> str:
    """Hash of the extractor and its vocabulary: a table made by other code is re-extracted in full."""
    digest = hashlib.sha256()
    here = Path(__file__).parent
    for path in (here / "facts.py", here / "indicators.py", vocab.DATA):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def is_current(db_path: Path) -> bool:
    """Whether a fact table exists and was made by this extractor and vocabulary; a build whose
    reports are unchanged but whose table is not current still needs write_facts."""
    try:
        with _connect_read(Path(db_path)) as db:
            return dict(db.execute("SELECT key, value FROM meta")).get("fingerprint") == fingerprint()
    except sqlite3.Error:
        return False


@dataclass
class FactsReport:
    extracted: list[str] = field(default_factory=list)  # sources (re-)extracted
    kept: list[str] = field(default_factory=list)  # sources whose rows were copied from the previous table
    removed: list[str] = field(default_factory=list)
    rows: int = 0


def _doc_key(doc: dict) -> tuple:
    """What a document's facts depend on besides its text: a changed place or year override re-extracts."""
    return doc.get("sha256") or "", doc.get("place") or doc.get("district") or "", int(doc.get("year") or 0)


def write_facts(db_path: Path, documents: Iterable[dict], chunks_by_source: dict[str, list[Chunk]],
                previous_db: Path | None = None) -> FactsReport:
    """Write the fact table of `documents` (documents.jsonl records, with text) to db_path.

    With previous_db (the live build's table), a document whose sha256, place and year are
    unchanged keeps its rows, copied inside SQLite without being re-read (records without text
    are enough for those); others are extracted, removed ones dropped. The file is written
    beside db_path and moved into place, so a reader never sees half of it.
    """
    db_path = Path(db_path)
    documents = list(documents)
    old_docs = _previous_documents(previous_db)
    report = FactsReport(removed=sorted(set(old_docs) - {d["source"] for d in documents}))
    tmp = db_path.with_name(f".{db_path.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    try:
        with _connect_write(tmp) as db:
            db.executescript(_SCHEMA)
            db.execute("INSERT INTO meta VALUES ('fingerprint', ?)", (fingerprint(),))
            kept = [d["source"] for d in documents if old_docs.get(d["source"]) == _doc_key(d)]
            if kept:
                db.execute("ATTACH DATABASE ? AS old", (f"{Path(previous_db).resolve().as_uri()}?mode=ro&immutable=1",))
                db.execute("CREATE TEMP TABLE kept (source TEXT PRIMARY KEY)")
                db.executemany("INSERT INTO kept VALUES (?)", [(k,) for k in kept])
                db.execute("INSERT INTO documents SELECT * FROM old.documents WHERE source IN (SELECT source FROM kept)")
                db.execute("INSERT INTO facts SELECT * FROM old.facts WHERE source IN (SELECT source FROM kept) "
                           "ORDER BY rowid")
                report.kept = kept
                report.rows += db.execute("SELECT count(*) FROM facts").fetchone()[0]
                db.commit()
                db.execute("DETACH DATABASE old")
            for doc in documents:
                if doc["source"] in set(kept):
                    continue
                rows = [_fact_row(f) for f in extract(doc, chunks_by_source.get(doc["source"], []))]
                report.extracted.append(doc["source"])
                _insert(db, doc, rows)
                report.rows += len(rows)
            db.executescript(_INDEXES)
        os.replace(tmp, db_path)
    finally:
        tmp.unlink(missing_ok=True)
    return report


def _previous_documents(previous_db: Path | None) -> dict[str, tuple]:
    """source → document key of a previous table made by this same extractor; empty when there is
    none, it is unreadable, or the extractor has changed since."""
    if previous_db is None or not Path(previous_db).is_file():
        return {}
    try:
        with _connect_read(Path(previous_db)) as db:
            meta = dict(db.execute("SELECT key, value FROM meta"))
            if meta.get("fingerprint") != fingerprint():
                return {}
            return {s: (sha, place, year) for s, sha, place, year in
                    db.execute("SELECT source, sha256, place, year FROM documents")}
    except sqlite3.Error as exc:
        log.warning("previous fact table %s unreadable (%s): extracting every report", previous_db, exc)
        return {}


def _fact_row(f: Fact) -> tuple:
    return (f.place, f.indicator, f.measure, f.value, f.unit, f.kind, f.qualifier, f.year, f.source, f.start, f.end,
            f.sentence, f.phrase, int(f.standard))


def _insert(db: sqlite3.Connection, doc: dict, rows: list[tuple]) -> None:
    sha, place, year = _doc_key(doc)
    db.execute("INSERT INTO documents VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
               (doc["source"], sha, place, doc.get("district") or "", doc.get("short") or "", doc.get("english") or "",
                year, len(rows)))
    db.executemany(f"INSERT INTO facts ({', '.join(_FACT_COLUMNS)}, sha256) VALUES ({', '.join('?' * 15)})",
                   [(*r, sha) for r in rows])


class _Connection:
    """sqlite3's context manager commits but never closes; this one does both."""

    def __init__(self, target: str, uri: bool = False):
        self.db = sqlite3.connect(target, uri=uri)

    def __enter__(self) -> sqlite3.Connection:
        return self.db

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if exc_type is None:
                self.db.commit()
        finally:
            self.db.close()


def _connect_write(path: Path) -> _Connection:
    """Opened as a URI, so the previous table can be ATTACHed read-only and immutable."""
    return _Connection(Path(path).resolve().as_uri(), uri=True)


def _connect_read(path: Path) -> _Connection:
    """Read-only and immutable: a query never writes a journal into the build folder, whose files
    the manifest checks."""
    return _Connection(f"{path.resolve().as_uri()}?mode=ro&immutable=1", uri=True)


# ---- queries ---------------------------------------------------------------------------------

def indexed_places(db_path: Path) -> list[dict]:
    """The reporting governments of a fact table: place, district, short and English names."""
    with _open(db_path) as db:
        return [dict(zip(("place", "district", "short", "english", "year"), r))
                for r in db.execute("SELECT place, district, short, english, year FROM documents ORDER BY place")]


def resolve_places(db_path: Path, names: Iterable[str]) -> list[str]:
    """Qualified places of a table for names as a user writes them (万州区, 万州, Wanzhou,
    重庆市万州区); QAError naming the indexed places for a name that is none of them."""
    known = indexed_places(db_path)
    out: list[str] = []
    for name in names:
        key = name.strip().lower()
        hits = [p["place"] for p in known if key in {str(v).lower() for k, v in p.items() if k != "year" and v}
                or (len(key) >= 2 and p["place"].endswith(name.strip()))]
        if not hits:
            listed = ", ".join(sorted({p["place"] for p in known}))
            raise QAError(f"Unknown place {name}; the fact table has: {listed}")
        out.extend(h for h in hits if h not in out)
    return out


def query_facts(db_path: Path, indicator: str | None = None, kind: str | None = None, year: int | None = None,
                places: Iterable[str] | None = None, measure: str | None = None) -> list[Fact]:
    """Rows of a fact table. indicator: a standard name, variant or English name (GDP,
    规模以上工业增加值) matches that indicator exactly; other words match indicators and report
    phrases that contain them (5G基站 → 新建5G基站). places: names as resolve_places reads them."""
    where, args = [], []
    if indicator:
        name = vocab.standard_name(indicator)
        if name:
            where.append("indicator = ?")
            args.append(name)
        else:
            where.append("(indicator LIKE ? ESCAPE '\\' OR phrase LIKE ? ESCAPE '\\')")
            words = re.sub(r"([\\%_])", r"\\\1", indicator.strip())  # % and _ are the user's, not wildcards
            args += [f"%{words}%"] * 2
    for column, value in (("kind", kind), ("year", year), ("measure", measure)):
        if value is not None:
            where.append(f"{column} = ?")
            args.append(value)
    if places:
        keys = resolve_places(db_path, places)
        where.append(f"place IN ({', '.join('?' * len(keys))})")
        args += keys
    sql = (f"SELECT {', '.join(_FACT_COLUMNS)} FROM facts" + (f" WHERE {' AND '.join(where)}" if where else "")
           + " ORDER BY place, year, kind, standard DESC, indicator, start, rowid")
    with _open(db_path) as db:
        return [_row_fact(r) for r in db.execute(sql, args)]


def _row_fact(r: tuple) -> Fact:
    return Fact(place=r[0], indicator=r[1], measure=r[2], value=r[3], unit=r[4], kind=r[5], qualifier=r[6], year=r[7],
                source=r[8], start=r[9], end=r[10], sentence=r[11], phrase=r[12], standard=bool(r[13]))


def _open(db_path: Path) -> _Connection:
    """A fact table opened for reading; one-line errors for a missing or damaged file."""
    db_path = Path(db_path)
    if not db_path.is_file():
        raise QAError(f"No fact table at {db_path} — run: qa index")
    connection = _connect_read(db_path)
    try:
        connection.db.execute("SELECT 1 FROM facts LIMIT 1")
    except sqlite3.Error as exc:
        connection.db.close()
        raise QAError(f"The fact table {db_path} is unreadable ({exc}) — rebuild it: qa index --full") from exc
    return connection


# ---- printing --------------------------------------------------------------------------------

TABLE_COLUMNS = ("place", "year", "kind", "indicator", "measure", "value", "qualifier", "cited", "sentence")


def _cells(f: Fact, sentence_chars: int) -> list[str]:
    sentence = f.sentence if len(f.sentence) <= sentence_chars else f.sentence[: sentence_chars - 1] + "…"
    return [f.place, str(f.year), f.kind, f.indicator, f.measure, format_value(f.value, f.unit), f.qualifier or "—",
            f"{f.source}:{f.start}-{f.end}", sentence]


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def facts_table(facts: list[Fact], sentence_chars: int = 40) -> str:
    """A plain-text table, columns aligned for Chinese (wide) characters."""
    rows = [list(TABLE_COLUMNS)] + [_cells(f, sentence_chars) for f in facts]
    widths = [max(_width(r[i]) for r in rows) for i in range(len(TABLE_COLUMNS))]
    lines = ["  ".join(cell + " " * (w - _width(cell)) for cell, w in zip(r, widths)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def facts_csv(facts: list[Fact]) -> str:
    """CSV with the JSON row's columns, header first."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(JSON_KEYS), lineterminator="\n")
    writer.writeheader()
    for f in facts:
        writer.writerow(f.to_json())
    return out.getvalue()
