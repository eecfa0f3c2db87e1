"""Comparison and plural questions → a table from the fact table (qa/facts.py): one row per place,
every value cited by its report sentence, places whose report does not state it listed as not
stated (value None), never skipped and never filled in.

A question is a comparison when it names an indicator the vocabulary knows (qa/data/
indicators.json) and asks about several places: it names two or more places ("X和Y哪个更高"), or
it names none and asks across places ("各区…", "哪些区…", "哪个区…最快", "compare … across
districts", "which districts …"). A question about one place is never a comparison.

Every row of a table has the same kind (result or target), year and measure (level, growth,
share …): the question's when it says, else the one most places state. An asked figure ("7%",
"超过10%", "above 10%") marks the places that state it, with its comparison.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from . import indicators as vocab
from .facts import Fact, figures_in, format_value, query_facts
from .query import IndexedPlace, Query

_ACROSS = re.compile(
    r"各(?:个)?[区县市省旗地]|哪些|哪几个|哪个[区县市省旗地]?.{0,12}最|对比|比较|谁最|"
    r"\b(?:which (?:districts|counties|cities|places|provinces|regions)|compare[sd]?|comparison|across|"
    r"each (?:district|county|city|place)|all (?:the )?(?:districts|counties|cities|places)|"
    r"which (?:district|county|city|place|province)\b.{0,60}\b(?:most|least|highest|lowest|fastest|slowest|largest|smallest))",
    re.I)
_HIGHER = re.compile(r"更高|更多|更大|更快|最高|最多|最大|最快|higher|larger|faster|highest|most|largest|fastest", re.I)
_LOWER = re.compile(r"更低|更少|更小|更慢|最低|最少|最小|最慢|lower|smaller|slower|lowest|least|smallest|fewest", re.I)
_GROWTH = re.compile(r"增长|增速|增幅|增加|提高|下降|growth|grow|increase|rise|decline", re.I)
_SHARE = re.compile(r"占比|比重|比例|\bshare\b|proportion", re.I)
_TARGET = re.compile(r"目标|预期|计划|力争|target|goal|aim|plan", re.I)
_RESULT = re.compile(r"实现|完成|达到了|去年|上年|achieved|actual|last year|\bwas\b|\bwere\b|grew", re.I)
# "超过10%", "above 10%", "不低于7%": which places state a value beyond the asked one.
_ABOVE = re.compile(r"超过|高于|多于|大于|以上|above|more than|over|exceed|greater than|higher than", re.I)
_AT_LEAST = re.compile(r"不低于|不少于|至少|at least|no less than", re.I)
_BELOW = re.compile(r"低于|少于|小于|以下|以内|below|less than|under|fewer than|lower than", re.I)
# A question's words just before an indicator that make it another indicator (民营经济, 人均GDP).
_MODIFIED = re.compile(r"(?:人均|民营|数字|亩均|地均|农业|工业|服务业|文旅|旅游|海洋|县域|园区|开发区|新区|外贸|"
                       r"digital|private|per[- ]capita|marine|county)\s*$", re.I)


@dataclass
class Comparison:
    indicator: str  # the standard name
    measure: str | None
    kind: str | None
    year: int | None
    rows: list[dict] = field(default_factory=list)  # Fact.to_json() rows, value None where not stated
    matches: list[str] = field(default_factory=list)  # places whose value is the asked one ("7%", "超过10%")
    asked: str = ""  # the asked figure with its comparison, as the question wrote it
    order: str = ""  # "higher" or "lower" when the question asks which is more or less
    not_indexed: list[str] = field(default_factory=list)  # places the question names that no report is about

    def stated(self) -> list[dict]:
        return [r for r in self.rows if r["value"] is not None]


def asked_indicator(text: str) -> str | None:
    """The vocabulary indicator a question names (longest wording first), Chinese or English; a
    wording right after a modifier that makes it another indicator (民营经济增长) does not count."""
    best = None
    for ind in vocab.vocabulary():
        for wording in (ind.name, *ind.variants, *ind.english):
            latin = wording.isascii()
            pattern = rf"(?<![A-Za-z]){re.escape(wording)}(?![A-Za-z])" if latin else re.escape(wording)
            for m in re.finditer(pattern, text, re.I if latin else 0):
                if _MODIFIED.search(text[max(0, m.start() - 12):m.start()]):
                    continue
                if best is None or len(wording) > best[0]:
                    best = (len(wording), ind.name)
    return best[1] if best else None


def is_comparison(query: Query) -> bool:
    named = len(query.places) + len(query.foreign_places)
    return named >= 2 or (named == 0 and bool(_ACROSS.search(query.text)))


def _asked_measure(query: Query) -> str | None:
    if _SHARE.search(query.text):
        return "share"
    if _GROWTH.search(query.text):
        return "growth"
    return None


def _asked_kind(query: Query) -> str | None:
    if query.half:
        return "target" if query.half == "plan" else "result"
    if query.relative in ("this", "last"):
        return "target" if query.relative == "this" else "result"
    if _TARGET.search(query.text):
        return "target"
    if _RESULT.search(query.text):
        return "result"
    return None


def _asked_value(query: Query) -> tuple[str, float, str] | None:
    """The figure the question gives, with its unit ("1万人", "10%", "28 billion yuan"), and how a
    place's value must relate to it: (op, value, unit)."""
    found = [(f.start, f.end, f.value, f.unit) for f in figures_in(query.text)]
    english = vocab.parse_english_amount(query.text)
    if not found and english:
        value, unit = english
        found = [(0, 0, value, unit)]
    if not found:
        return None
    start, end, value, unit = found[0]
    around = query.text[max(0, start - 12):end + 4] if end else query.text
    op = ">=" if _AT_LEAST.search(around) else ">" if _ABOVE.search(around) else "<" if _BELOW.search(around) else "="
    return op, value, unit


def _meets(row: dict, op: str, value: float, unit: str) -> bool:
    """Whether a place's value relates to the asked one as asked, in the same base unit
    (2.5万人 > 1万人 > 4500人)."""
    try:
        v = vocab.convert(row["value"], row["unit"], unit) if unit else row["value"]
    except ValueError:  # another kind of unit: not comparable
        return False
    qualifier = row["qualifier"]
    if op == "=":
        return v == value
    if op == ">":  # 10%以上 is not above 10%, but 突破/超过10% is
        return v > value or (v == value and qualifier in ("超过", "突破"))
    if op == ">=":
        return v >= value
    return v < value or (v == value and qualifier in ("以内", "以下", "低于"))


def _common(facts: list[Fact], attribute: str, prefer: tuple) -> str | int | None:
    """The value of an attribute that most places state (ties by preference)."""
    places = Counter()
    for value, place in {(getattr(f, attribute), f.place) for f in facts}:
        places[value] += 1
    if not places:
        return None
    return max(places, key=lambda v: (places[v], -prefer.index(v) if v in prefer else -len(prefer)))


def compare(query: Query, places: list[IndexedPlace], facts_path: Path, only: list[str] | None = None
            ) -> Comparison | None:
    """The comparison table a question asks for, or None when it asks for none (or names no
    indicator the vocabulary knows)."""
    if not is_comparison(query) or not Path(facts_path).is_file():
        return None
    indicator = asked_indicator(query.text) or asked_indicator(query.keyword_text)
    if indicator is None:
        return None
    keys = query.places or only or [p.key for p in places]
    chosen = [p for p in places if p.key in keys]
    facts = [f for f in query_facts(facts_path, indicator=indicator, year=query.years[0] if query.years else None)
             if f.place in keys]
    kind = _asked_kind(query) or _common(facts, "kind", ("target", "result"))
    facts = [f for f in facts if f.kind == kind]
    # "地区生产总值哪个更高" asks for the amount when any place states one; else what most places state.
    measure = _asked_measure(query) or ("level" if any(f.measure == "level" for f in facts) else
                                        _common(facts, "measure", ("growth", "share", "rate", "count")))
    facts = [f for f in facts if f.measure == measure]
    year = query.years[0] if query.years else _common(facts, "year", ())
    facts = [f for f in facts if f.year == year]
    table = Comparison(indicator, measure, kind, year, not_indexed=list(query.foreign_places))
    for place in chosen:
        own = sorted((f for f in facts if f.place == place.key), key=lambda f: (not f.standard, f.start))
        if not own:
            table.rows.append(_not_stated(place, indicator, measure, kind, year))
        else:
            table.rows.append({**own[0].to_json(), "place": place.name})
    asked = _asked_value(query)
    if asked:
        op, value, unit = asked
        table.asked = f"{'' if op == '=' else op}{format_value(value, unit)}"
        table.matches = [r["place"] for r in table.stated() if _meets(r, *asked)]
    if not asked or asked[0] == "=":
        table.order = "higher" if _HIGHER.search(query.text) else "lower" if _LOWER.search(query.text) else ""
    return table


def _not_stated(place: IndexedPlace, indicator: str, measure: str | None, kind: str | None, year: int | None) -> dict:
    return {"place": place.name, "indicator": indicator, "measure": measure or "", "value": None, "unit": "",
            "kind": kind or "", "qualifier": "", "year": year, "source": "", "start": None, "end": None,
            "sentence": ""}


def leaders(table: Comparison) -> list[dict]:
    """The rows with the highest (or lowest) value — all of them on a tie — when the question asks
    which is more (or less) and every stated value has the same unit; [] otherwise."""
    rows = table.stated()
    if not table.order or len(rows) < 2 or len({r["unit"] for r in rows}) != 1:
        return []
    best = (max if table.order == "higher" else min)(r["value"] for r in rows)
    return [r for r in rows if r["value"] == best]
