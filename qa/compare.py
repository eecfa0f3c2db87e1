"""Comparison and plural questions → a table from the fact table (qa/facts.py): one row per place,
every value cited by its report sentence, places whose report does not state it listed as not
stated (value None), never skipped and never filled in.

A question is a comparison when it names an indicator the vocabulary knows (qa/data/
indicators.json) and asks about several places: "各区…", "哪些区…", "分别", "X和Y哪个更高",
"compare … across districts", "which districts …", or it names two or more indexed places.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from . import indicators as vocab
from .facts import Fact, query_facts
from .query import IndexedPlace, Query

_PLURAL = re.compile(
    r"各(?:个)?[区县市省旗地]|哪些|分别|对比|比较|哪个更|哪个区更|谁更|排名|排序|最高|最低|"
    r"\b(?:which (?:districts|counties|cities|places|provinces|regions)|compare[sd]?|comparison|across|"
    r"each (?:district|county|city|place)|all (?:the )?(?:districts|counties|cities|places)|versus|vs|"
    r"highest|lowest|rank(?:ing)?)\b", re.I)
_HIGHER = re.compile(r"更高|更多|更大|更快|最高|最多|最大|最快|higher|more|larger|faster|highest|most|largest|fastest", re.I)
_LOWER = re.compile(r"更低|更少|更小|更慢|最低|最少|最小|lower|less|fewer|smaller|slower|lowest|least|smallest", re.I)
_GROWTH = re.compile(r"增长|增速|增幅|增加|提高|growth|grow|increase|rise|rate of", re.I)
_SHARE = re.compile(r"占比|比重|比例|\bshare\b|proportion", re.I)
_LEVEL = re.compile(r"总量|总额|规模|多少亿|达到多少|多少元|\btotal\b|how much|\bvalue\b|amount|\blevel\b|\bsize\b", re.I)
_TARGET = re.compile(r"目标|预期|计划|力争|target|goal|aim|plan", re.I)
_RESULT = re.compile(r"实现|完成|达到了|去年|上年|achieved|actual|last year|was|were|grew", re.I)


@dataclass
class Comparison:
    indicator: str  # the standard name
    measure: str | None
    kind: str | None
    year: int | None
    rows: list[dict] = field(default_factory=list)  # Fact.to_json() rows, value None where not stated
    matches: list[str] = field(default_factory=list)  # places whose value is the one asked for ("7%")
    order: str = ""  # "higher" or "lower" when the question asks which is more or less

    def stated(self) -> list[dict]:
        return [r for r in self.rows if r["value"] is not None]


def asked_indicator(text: str) -> str | None:
    """The vocabulary indicator a question names (longest wording first), Chinese or English."""
    best = None
    for ind in vocab.vocabulary():
        for wording in (ind.name, *ind.variants):
            if wording and wording in text and (best is None or len(wording) > best[0]):
                best = (len(wording), ind.name)
        for wording in ind.english:
            if re.search(rf"(?<![A-Za-z]){re.escape(wording)}(?![A-Za-z])", text, re.I):
                if best is None or len(wording) > best[0]:
                    best = (len(wording), ind.name)
    return best[1] if best else None


def is_comparison(query: Query) -> bool:
    return bool(_PLURAL.search(query.text)) or len(query.places) >= 2


def _measure(query: Query, indicator: str) -> str | None:
    if _SHARE.search(query.text):
        return "share"
    if _GROWTH.search(query.text):
        return "growth"
    if any(n.endswith("%") for n in query.numbers):
        ind = vocab.get(indicator)
        return ind.percent if ind else "growth"
    if _LEVEL.search(query.text) or _HIGHER.search(query.text) or _LOWER.search(query.text):
        return "level"
    return None


def _kind(query: Query) -> str | None:
    if query.half:
        return "target" if query.half == "plan" else "result"
    if query.relative in ("this", "last"):
        return "target" if query.relative == "this" else "result"
    if _TARGET.search(query.text):
        return "target"
    if _RESULT.search(query.text):
        return "result"
    return None


def _asked_value(query: Query) -> tuple[float, str] | None:
    """A figure the question gives ("7%", "16%"): which places state exactly it."""
    for number in query.numbers:
        m = re.fullmatch(r"(\d+(?:\.\d+)?)(.*)", number)
        if m:
            return float(m.group(1)), m.group(2)
    return None


def _best(facts: list[Fact], kind: str | None, measure: str | None) -> Fact | None:
    """One fact per place: the asked kind (targets first when the question does not say), the
    asked measure (else the amount, then its growth), the first statement in the report."""
    def rank(f: Fact):
        return (f.kind != (kind or "target"), measure is None and f.measure != "level", not f.standard, f.start)
    return min(facts, key=rank) if facts else None


def compare(query: Query, places: list[IndexedPlace], facts_path: Path, only: list[str] | None = None
            ) -> Comparison | None:
    """The comparison table a question asks for, or None when it asks for none (or names no
    indicator the vocabulary knows)."""
    if not is_comparison(query) or not Path(facts_path).is_file():
        return None
    indicator = asked_indicator(query.text) or asked_indicator(query.keyword_text)
    if indicator is None:
        return None
    measure, kind = _measure(query, indicator), _kind(query)
    year = query.years[0] if query.years else None
    keys = query.places if len(query.places) >= 2 else (only or [p.key for p in places])
    chosen = [p for p in places if p.key in keys]
    facts = query_facts(facts_path, indicator=indicator, measure=measure, year=year)
    table = Comparison(indicator, measure, kind, year)
    asked = _asked_value(query)
    for place in chosen:
        fact = _best([f for f in facts if f.place == place.key], kind, measure)
        if fact is None:
            table.rows.append(_not_stated(place, indicator, measure, kind, year))
            continue
        row = {**fact.to_json(), "place": place.name}
        table.rows.append(row)
        if asked and fact.value == asked[0] and (not asked[1] or fact.unit == asked[1]):
            table.matches.append(place.name)
    table.order = "higher" if _HIGHER.search(query.text) else "lower" if _LOWER.search(query.text) else ""
    return table


def _not_stated(place: IndexedPlace, indicator: str, measure: str | None, kind: str | None, year: int | None) -> dict:
    return {"place": place.name, "indicator": indicator, "measure": measure or "", "value": None, "unit": "",
            "kind": kind or "", "qualifier": "", "year": year, "source": "", "start": None, "end": None,
            "sentence": ""}


def leader(table: Comparison) -> dict | None:
    """The row with the highest (or lowest) value when the question asks which is more (or less)
    and every stated value has the same unit; None otherwise (units differ: nothing to rank)."""
    rows = table.stated()
    if not table.order or len(rows) < 2 or len({r["unit"] for r in rows}) != 1:
        return None
    pick = max if table.order == "higher" else min
    return pick(rows, key=lambda r: r["value"])
