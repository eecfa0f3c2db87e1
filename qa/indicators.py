"""The indicator vocabulary and units of the reports (qa/data/indicators.json): which wordings
name which standard indicator, in Chinese and English, and how amounts convert between units
(280亿元 = 28 billion yuan). Data, not code: adding an indicator or a variant is an edit of the
JSON file; nothing here names a place or a year.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

DATA = Path(__file__).parent / "data" / "indicators.json"


@dataclass(frozen=True)
class Indicator:
    name: str  # the standard name (地区生产总值)
    variants: tuple[str, ...]  # wordings that mean it with any scope word before them (全区地区生产总值)
    exact: tuple[str, ...]  # wordings that mean it only as the whole phrase (经济, not 数字经济)
    english: tuple[str, ...]
    percent: str  # what a bare percentage of it is: growth, rate or share


@lru_cache(maxsize=1)
def _data() -> dict:
    return json.loads(DATA.read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def vocabulary() -> tuple[Indicator, ...]:
    return tuple(Indicator(row["name"], tuple(row.get("variants", [])), tuple(row.get("exact", [])),
                           tuple(row.get("english", [])), row.get("percent", "growth"))
                 for row in _data()["indicators"])


def _key(text: str) -> str:
    """How wordings are compared: Latin lower-cased, spaces and hyphens dropped, so "Fixed-asset
    investment", "fixed asset investment" and "GDP"/"gdp" meet."""
    return re.sub(r"[\s\-_'’]", "", text.strip().lower())


@lru_cache(maxsize=1)
def _by_wording() -> dict[str, str]:
    """Every Chinese wording (variant or exact) → standard name."""
    out: dict[str, str] = {}
    for ind in vocabulary():
        for wording in (ind.name, *ind.variants, *ind.exact):
            out.setdefault(_key(wording), ind.name)
    return out


@lru_cache(maxsize=1)
def _by_english() -> dict[str, str]:
    out: dict[str, str] = {}
    for ind in vocabulary():
        for wording in ind.english:
            out.setdefault(_key(wording), ind.name)
    return out


def standard_name(text: str) -> str | None:
    """The standard indicator a user means by a name, a variant or an English name ("GDP",
    "规模以上工业增加值", "retail sales"), or None when the vocabulary does not know it."""
    key = _key(text)
    return _by_wording().get(key) or _by_english().get(key)


def indicator_of(phrase: str) -> str | None:
    """The standard indicator a report's noun phrase names, when the whole phrase is one of its
    wordings (scope words such as 全区 already removed by the caller); None otherwise, so
    "工业税收" does not become 税收收入 and "数字经济" does not become GDP."""
    return _by_wording().get(_key(phrase))


def get(name: str) -> Indicator | None:
    return next((ind for ind in vocabulary() if ind.name == name), None)


def english_name(name: str) -> str:
    """The first English name of a standard indicator, else the name itself."""
    ind = get(name)
    return ind.english[0] if ind and ind.english else name


def is_standard(name: str) -> bool:
    return get(name) is not None


def distributive_prefixes() -> dict[str, list[str]]:
    """Phrase prefixes that name several indicators at once (城乡 → 城镇, 农村)."""
    return _data()["distributive"]["prefixes"]


# ---- units -----------------------------------------------------------------------------------

def unit_kinds() -> dict[str, str]:
    """Base unit → its kind: money, count, level or percent."""
    units = _data()["units"]
    return {u: kind for kind in ("money", "count", "level", "percent") for u in units[kind]}


def multipliers() -> dict[str, int]:
    """Chinese magnitude prefixes of units: 千, 万, 亿, 万亿."""
    return _data()["units"]["multipliers"]


def split_unit(unit: str) -> tuple[int, str]:
    """(multiplier, base unit) of a unit as written: 亿元 → (10^8, 元), 万人 → (10^4, 人), % → (1, %)."""
    kinds = unit_kinds()
    if unit in kinds:
        return 1, unit
    for prefix, factor in sorted(multipliers().items(), key=lambda kv: -len(kv[0])):
        if unit.startswith(prefix) and unit[len(prefix):] in kinds:
            return factor, unit[len(prefix):]
    return 1, unit


def unit_kind(unit: str) -> str | None:
    return unit_kinds().get(split_unit(unit)[1])


def convert(value: float, unit: str, to_unit: str) -> float:
    """A value in another unit of the same base: convert(28, "亿元", "万元") = 280000.
    ValueError when the bases differ (亿元 vs 万人)."""
    factor_from, base_from = split_unit(unit)
    factor_to, base_to = split_unit(to_unit)
    if base_from != base_to:
        raise ValueError(f"cannot convert {unit} to {to_unit}")
    return value * factor_from / factor_to


_CURRENCY_EN = {"yuan": "元", "rmb": "元", "renminbi": "元", "cny": "元", "dollars": "美元", "us dollars": "美元",
                "usd": "美元", "dollar": "美元", "people": "人", "persons": "人", "tons": "吨", "tonnes": "吨"}


def parse_english_amount(text: str) -> tuple[float, str] | None:
    """An English amount as the reports would write it: "28 billion yuan" → (280.0, "亿元"),
    "1.5 million people" → (150.0, "万人"), "$3 billion" → (30.0, "亿美元"); None if not an amount."""
    m = re.search(r"(\$)?\s*(\d+(?:,\d{3})*(?:\.\d+)?)\s*(thousand|million|billion|trillion)?\s*([a-z][a-z ]*)?",
                  text.strip().lower())
    if not m:
        return None
    dollar, number, scale, noun = m.groups()
    base = "美元" if dollar else _CURRENCY_EN.get((noun or "").strip())
    if base is None:
        return None
    value = float(number.replace(",", "")) * _data()["units"]["english_multipliers"].get(scale or "", 1)
    return chinese_amount(value, base)


def chinese_amount(value: float, base: str) -> tuple[float, str]:
    """A plain value of a base unit in the magnitude the reports use: 2.8e10 元 → (280, "亿元")."""
    for prefix in ("亿", "万"):
        factor = multipliers()[prefix]
        if abs(value) >= factor:
            return round(value / factor, 6), prefix + base
    return value, base


def english_amount(value: float, unit: str) -> str:
    """An amount in English words: (280, "亿元") → "28 billion yuan", (2.5, "万人") → "25 thousand people"."""
    factor, base = split_unit(unit)
    plain = value * factor
    noun = {"元": "yuan", "美元": "US dollars", "人": "people", "吨": "tonnes"}.get(base, base)
    for word, size in sorted(_data()["units"]["english_multipliers"].items(), key=lambda kv: -kv[1]):
        if abs(plain) >= size:
            return f"{_number(plain / size)} {word} {noun}"
    return f"{_number(plain)} {noun}"


def _number(x: float) -> str:
    return f"{x:.6f}".rstrip("0").rstrip(".")
