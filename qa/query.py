"""Question → Query: language, the places and years it names, its figures, and Chinese terms for
its English words. Built from the index's own places and years: no place list or year in code.

Places are recognised by their full name (深圳市龙岗区, 龙岗区), short name (龙岗), Traditional
(normalised first) and English (Longgang, "Xia County", Nan'an/Nanan). A short name inside another
word is not that place: "健康长寿" is not 长寿, "江北新区" is not 江北. Places the index does not hold
("浦东新区", "Jiangjin District") and years no report covers are recorded, so the answer step can
say that the reports do not cover them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from .clean import to_halfwidth, to_simplified
from .glossary import EN_TERMS
from .places import arabic_years, divisions, name_pattern, romanize, short_name
from .tokens import numbers_in


@dataclass(frozen=True)
class IndexedPlace:
    key: str  # qualified name: what chunks are filtered on
    name: str  # display name
    short: str
    english: str
    level: str = ""
    province: str = ""

    @property
    def parent(self) -> str:
        """The city or province written before its name in the key: 重庆市 of 重庆市万州区."""
        return self.key[: -len(self.name)] if self.key.endswith(self.name) else ""


def _plain(english: str) -> str:
    """An English name as compared: lower case, no apostrophe (Nan'an = nanan)."""
    return english.lower().replace("'", "")


@dataclass
class Query:
    original: str
    text: str  # Simplified, half-width
    lang: str  # "zh" or "en"
    places: list[str] = field(default_factory=list)  # qualified names of indexed places it names
    foreign_places: list[str] = field(default_factory=list)  # places it names that are not indexed
    numbers: list[str] = field(default_factory=list)
    expansion: str = ""  # Chinese report terms for its English words (glossary, then dictionary)
    english_missing: list[str] = field(default_factory=list)  # English words whose meaning no report holds
    english_content: int = 0  # how many English content words (that the dictionary knows) it has
    years: list[int] = field(default_factory=list)  # years it names (2023, 二〇二三年)
    relative: str = ""  # "this" (今年), "last" (去年) or "next" (明年): resolved against each report's year
    half: str = ""  # "plan" or "review" when its wording says which half of a report is meant

    @property
    def keyword_text(self) -> str:
        return f"{self.text} {self.expansion}".strip()


def normalize_query(question: str) -> str:
    return arabic_years(to_simplified(to_halfwidth(question.strip()))[0])


# ---- places ----------------------------------------------------------------------------------

_LEVEL_WORDS = r"(?:district|county|city|prefecture|province|banner|autonomous county|new area|municipality)"
# A short name followed by these is part of a longer name ("江北新区", "长寿路"), not the place.
_LONGER_NAME = re.compile(r"新区|开发区|高新区|园区|路|街|镇|乡|村|湖|寺|站|港|桥|大道|广场")


@lru_cache(maxsize=1)
def _word_freq() -> dict[str, int]:
    """jieba's general dictionary (349k words): tells "健康长寿" (a word) from "那长寿" (not one)."""
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba.dt.FREQ


def _inside_word(text: str, start: int, end: int) -> bool:
    """Whether text[start:end] is part of a longer dictionary word that is not a place name + level."""
    freq = _word_freq()
    for a in range(max(0, start - 3), start + 1):
        for b in range(end, min(len(text), end + 3) + 1):
            if (a, b) == (start, end):
                continue
            if not freq.get(text[a:b]):
                continue
            if text[end:b][:1] in ("省", "市", "区", "县", "旗", "州"):
                continue  # 长寿区, 万州区: the place itself, with its level
            return True
    return False


def _chinese_mentions(text: str, alias: str) -> bool:
    """Whether a short name occurs as a name, not inside another word ("健康长寿", "江北新区")."""
    start = text.find(alias)
    while start >= 0:
        end = start + len(alias)
        if not (_LONGER_NAME.match(text[end:end + 3]) or _inside_word(text, start, end)):
            return True
        start = text.find(alias, start + 1)
    return False


@lru_cache(maxsize=100_000)
def _english_pattern(english: str, short_is_one_syllable: bool) -> re.Pattern:
    base = re.escape(english.lower()).replace("'", "'?")
    if short_is_one_syllable:  # "Xia" alone is too weak: "Xia County" or "Xiaxian"
        return re.compile(rf"(?<![a-z]){base}(?:\s+{_LEVEL_WORDS}|xian|qu|shi)(?![a-z])")
    return re.compile(rf"(?<![a-z]){base}(?![a-z])")


@lru_cache(maxsize=100_000)
def _one_syllable(english: str) -> bool:
    return len(re.findall(r"[aeiouv]+n?g?", english.lower())) <= 1


def find_places(text: str, places: list[IndexedPlace]) -> list[str]:
    """Keys of the indexed places a (normalised) question names."""
    lowered = text.lower().replace("’", "'")
    plain = lowered.replace("'", "")
    found = []
    for p in places:  # substring tests first: a question is checked against thousands of places
        qualified_hit = p.key in text or p.name in text
        short_hit = len(p.short) >= 2 and p.short != p.name and p.short in text and _chinese_mentions(text, p.short)
        english_hit = (bool(p.english) and _plain(p.english) in plain
                       and bool(_english_pattern(p.english, _one_syllable(p.english)).search(lowered)))
        if qualified_hit or short_hit or english_hit:
            found.append(p)
    if len(found) > 1:  # 江北区 of Chongqing and of Ningbo: keep the ones whose parent is named too
        qualified = [p for p in found if _parent_named(p, text, lowered)]
        names = {p.name for p in found}
        if qualified and len(names) < len(found):
            found = [p for p in found if p in qualified or sum(q.name == p.name for q in found) == 1]
    return [p.key for p in found]


def _parent_named(p: IndexedPlace, text: str, lowered: str) -> bool:
    parent = p.parent
    return bool(parent) and (short_name(parent) in text or parent in text or romanize(parent).lower() in lowered)


@lru_cache(maxsize=1)
def _division_english() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for p in divisions().values():
        out.setdefault(_plain(p.english), []).append(p.name)
    return out


def foreign_places(text: str, places: list[IndexedPlace], found: list[str]) -> list[str]:
    """Divisions a question names by full name ("浦东新区", "Jiangjin District") that no indexed report is about."""
    indexed = {p.name for p in places} | {p.key for p in places}
    parents = {p.parent for p in places} | {p.province for p in places}
    indexed_english = {_plain(p.english) for p in places}
    out = []
    # Full names of three characters or more: two-character ones (城区, 郊区) are ordinary words.
    for m in name_pattern(3).finditer(text):
        name = m.group(0)
        if name in indexed or name in parents or any(name in k for k in indexed):
            continue
        if _LONGER_NAME.match(text[m.end():m.end() + 3]):
            continue
        out.append(name)
    # A capitalised pinyin name of two or more syllables ("Suzhou's", "Chengdu") is a place too.
    for m in re.finditer(r"(?<![A-Za-z])([A-Z][a-z]+(?:'[aeo][a-z]+)?)(?![a-z])", text):
        if not _in_place_position(text, m.start(), m.end()):
            continue
        key = _plain(m.group(1))
        if len(key) >= 5 and not _one_syllable(key) and key in _division_english():
            if key not in indexed_english and key not in _parent_english(places):
                out.append(m.group(1))
    for m in re.finditer(rf"(?<![a-z])([a-z]+(?:'[a-z]+)?)\s+{_LEVEL_WORDS}(?![a-z])", text.lower()):
        key = m.group(1).replace("'", "")
        names = _division_english().get(key, [])
        if names and not any(n in indexed or any(n in k for k in indexed) for n in names):
            if key not in indexed_english:
                out.append(m.group(0))
    return sorted(set(out), key=out.index)


_THING_BEFORE = re.compile(r"(?:\b(?:the|a|an)\s+|['\"‘“])$", re.I)


def _in_place_position(text: str, start: int, end: int) -> bool:
    """A capitalised name used as a place ("in Suzhou", "Suzhou's GDP"), not as part of the name of
    a thing ("the Sichuan opera", "'Xiajiang Yue'", "Longxi River")."""
    if _THING_BEFORE.search(text[max(0, start - 6):start]):
        return False
    after = re.match(r"\s+([A-Z][a-z]+)", text[end:])
    return not after or bool(re.fullmatch(_LEVEL_WORDS, after.group(1).lower()))


def _parent_english(places: list[IndexedPlace]) -> set[str]:
    """Pinyin of the provinces and cities the indexed places belong to (Chongqing, Shenzhen)."""
    out = set()
    for parent in filter(None, {p.parent for p in places} | {p.province for p in places}):
        for name in re.findall(r".+?(?:自治区|省|市|自治州|地区|盟)", parent) or [parent]:
            out.add(_plain(romanize(name)))
    return out


# ---- years -----------------------------------------------------------------------------------

_LAST = re.compile(r"去年|上年|上一年|过去一年|过去的一年|last year|past year|previous year", re.I)
_NEXT = re.compile(r"明年|next year", re.I)
_PLAN_CUES = re.compile(r"今年|目标|预期|力争|计划|打算|将要|target|plan|aim|goal|expect|will\b|this year|going to", re.I)
_REVIEW_CUES = re.compile(
    r"去年|上年|过去一年|完成了|实现了|\b(was|were|did|had|grew|achieved|reached|rose|fell|increased|decreased)\b|last year",
    re.I,
)


def question_half(text: str) -> str:
    plan, review = bool(_PLAN_CUES.search(text)), bool(_REVIEW_CUES.search(text))
    return "plan" if plan and not review else "review" if review and not plan else ""


def relative_year(text: str) -> str:
    if _NEXT.search(text):
        return "next"
    if _LAST.search(text):
        return "last"
    if re.search(r"今年|this year", text, re.I):
        return "this"
    return ""


def years_in(text: str) -> list[int]:
    return [int(y) for y in re.findall(r"(?<!\d)((?:19|20)\d{2})(?!\d)", text)]


# ---- English ---------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def _en_terms() -> list[tuple[re.Pattern, str]]:
    phrases = sorted(EN_TERMS, key=len, reverse=True)
    return [(re.compile(rf"(?<![a-z]){re.escape(p)}(?![a-z])"), EN_TERMS[p]) for p in phrases]


def glossary_terms(text: str) -> tuple[list[str], str]:
    """Chinese terms of the curated glossary found in an English text, and the text left over."""
    lowered = text.lower()
    found = []
    for pattern, chinese in _en_terms():
        if pattern.search(lowered):
            lowered = pattern.sub(" ", lowered)
            found.append(chinese)
    return found, lowered


def without_places(text: str, keys: list[str], places: list[IndexedPlace]) -> str:
    """The text with the named places blanked out, in Chinese and English."""
    for p in places:
        if p.key not in keys:
            continue
        for alias in sorted({p.key, p.name, p.short}, key=len, reverse=True):
            if len(alias) >= 2:
                text = text.replace(alias, " ")
        if p.english:
            text = re.sub(rf"(?<![a-z]){re.escape(p.english).replace(chr(39), chr(39) + '?')}(?:\s+{_LEVEL_WORDS})?(?![a-z])",
                          " ", text, flags=re.I)
    return text


def analyze(question: str, places: list[IndexedPlace], occurs=None) -> Query:
    """Everything retrieval and the answer step need to know about a question.

    occurs(chinese) → in how many passages a Chinese string occurs; English words beyond the
    glossary are translated with the dictionary only when it is given.
    """
    text = normalize_query(question)
    found = find_places(text, places)
    latin = len(re.findall(r"[A-Za-z]", text))
    han = len(re.findall(r"[\u4e00-\u9fff]", text))
    lang = "en" if latin > han else "zh"
    expansion, missing, known = "", [], 0
    if latin:
        terms, rest = glossary_terms(without_places(text, found, places))
        if occurs is not None:
            from .translate import content_words, english_terms

            extra = english_terms(rest, occurs)
            terms += [t.chinese for t in extra]
            covered = {w for t in extra for w in t.english.split()}
            # A Latin word the reports themselves use (CD级, GDP, PPP) is not missing either.
            missing = [w for w in content_words(rest) if w not in covered and _has_dictionary_entry(w)
                       and not _written_in_reports(w, text, occurs)]
            known = len(covered | set(missing))
        expansion = " ".join(terms)
    return Query(
        original=question,
        text=text,
        lang=lang,
        places=found,
        foreign_places=foreign_places(text, places, found),
        numbers=numbers_in(text),
        expansion=expansion,
        english_missing=missing,
        english_content=known,
        years=years_in(text),
        relative=relative_year(text),
        half=question_half(text),
    )


def _written_in_reports(word: str, text: str, occurs) -> bool:
    """The word as the question writes it (CD, GDP) occurs in some passage."""
    m = re.search(rf"(?<![A-Za-z]){re.escape(word)}(?![A-Za-z])", text, re.I)
    return bool(m) and occurs(m.group(0)) > 0


def _has_dictionary_entry(word: str) -> bool:
    """A word the dictionary knows: if none of its renderings occurs in any report, the reports
    do not speak of it. Words it does not know (names, typos) say nothing either way."""
    from .translate import english_terms

    return bool(english_terms(word, lambda _zh: 1))


# ---- follow-ups ------------------------------------------------------------------------------

# What is left of a follow-up such as "那璧山区呢？" / "And Bishan?" once its places are removed.
_FOLLOWUP_FILLER = re.compile(
    r"那么|那|呢|怎么样|怎样|如何|情况|的|吗|又|还有|和|与|及|what|about|how|and|for|in|the|of|district|county|city|"
    r"[?？。.,，!！\s'’s]", re.I
)


def resolve_followup(question: str, previous: str | None, places: list[IndexedPlace]) -> str:
    """Turn a follow-up that only names other places ("那璧山区呢？") into the previous question
    asked about them, keeping its indicator; any other question is returned unchanged."""
    if not previous:
        return question
    text = normalize_query(question)
    keys = find_places(text, places)
    if not keys:
        return question
    if _FOLLOWUP_FILLER.sub("", without_places(text, keys, places)):
        return question  # it says more than a place: a question of its own
    before = normalize_query(previous)
    old = find_places(before, places)
    by_key = {p.key: p for p in places}
    new = [by_key[k] for k in keys]
    if not old:  # the previous question named no place: scope it to the new ones
        if re.search(r"[\u4e00-\u9fff]", before):
            return "、".join(p.name for p in new) + before
        return " and ".join(p.english for p in new) + ": " + before
    for i, key in enumerate(old):
        p, q = by_key[key], new[min(i, len(new) - 1)]
        for a, b in ((p.key, q.key), (p.name, q.name), (p.short, q.short)):
            if len(a) >= 2:
                before = before.replace(a, b)
        if p.english:
            before = re.sub(re.escape(p.english), q.english, before, flags=re.I)
    return before
