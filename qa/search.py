"""Query analysis, dense + keyword retrieval, and their fusion into ranked Hits.

Fusion is reciprocal rank fusion over three rankings of the allowed chunks: dense (FAISS inner
product), keyword (BM25 over character bigrams), and "exact figures" (chunks that contain the
numbers the question names, e.g. 16%, 983亿元). A district named in the question, in Chinese,
Traditional or pinyin/English, restricts the search to that district's reports.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field
from functools import lru_cache

import numpy as np

from .chunk import Chunk
from .clean import split_sentences, to_halfwidth, to_simplified
from .config import Settings
from .embed import Embedder, get_embedder
from .glossary import EN_TERMS, place
from .store import Index
from .tokens import numbers_in, tokenize

RETRIEVERS = ("hybrid", "dense", "keyword")


@dataclass
class Query:
    original: str
    text: str  # Simplified, half-width
    lang: str  # "zh" or "en"
    districts: list[str] = field(default_factory=list)
    numbers: list[str] = field(default_factory=list)
    expansion: str = ""  # Chinese report terms for the English words in the question
    years: list[int] = field(default_factory=list)
    unknown_words: list[str] = field(default_factory=list)  # English words no glossary term covers
    half: str = ""  # "plan" or "review" when the wording says which half of a report is meant

    @property
    def keyword_text(self) -> str:
        return f"{self.text} {self.expansion}".strip()


@dataclass
class Hit:
    rank: int
    score: float
    chunk_id: str
    district: str
    source: str
    title: str
    section: str
    start: int
    end: int
    text: str
    sentence: str  # the sentence of text that best answers the question
    sentence_start: int  # offsets of that sentence inside text
    sentence_end: int
    dense: float  # cosine of the question and the passage
    keyword: float  # BM25 score
    coverage: float  # IDF-weighted share of the question's content tokens found in the passage

    def to_dict(self) -> dict:
        return asdict(self)


@lru_cache(maxsize=1)
def _en_terms() -> list[tuple[re.Pattern, str]]:
    phrases = sorted(EN_TERMS, key=len, reverse=True)
    return [(re.compile(rf"(?<![a-z]){re.escape(p)}(?![a-z])"), EN_TERMS[p]) for p in phrases]


def normalize_query(question: str) -> str:
    text = to_halfwidth(question.strip())
    return to_simplified(text)[0]


def _translate(text: str) -> tuple[list[str], str]:
    lowered = text.lower()
    found = []
    for pattern, chinese in _en_terms():
        if pattern.search(lowered):
            lowered = pattern.sub(" ", lowered)
            if chinese:
                found.append(chinese)
    return found, lowered


def english_expansion(text: str) -> str:
    """Chinese report terms for the English words of a question, longest phrases first."""
    return " ".join(_translate(text)[0])


_EN_STOPWORDS = set(
    """a an the of in on at to for by from with and or vs versus what which who whom whose when where why how
    many much is are was were be been being do does did has have had its it this that these those their there
    than then between compare comparison about per each all any more most less district districts county 's s
    did does will would should could can may might year years annual number amount total level rate reach
    reached reaching achieve achieved aim aims plan plans planned target targets targeted set get got make made
    new last next over under up down chongqing report reports government work according""".split()
)


def without_districts(text: str, districts: list[str]) -> str:
    """The text with the given districts' names blanked out, in Chinese (万州区, 万州) and English."""
    for name in districts:
        p = place(name)
        text = text.replace(p.name, " ").replace(p.short, " ")
        text = re.sub(re.escape(p.english), " ", text, flags=re.I)
    return text


def english_leftovers(text: str, districts: list[str]) -> list[str]:
    """Content words of an English question that neither the glossary nor a district name covers."""
    rest = without_districts(_translate(text)[1], districts)
    words = re.findall(r"[a-z][a-z\-]+", rest)
    return [w for w in words if w not in _EN_STOPWORDS and len(w) > 2]


def find_districts(text: str, known: list[str]) -> list[str]:
    """Districts a question names: full name (万州区), short name (万州) or English (Wanzhou)."""
    lowered = text.lower().replace("’", "'")
    found = []
    for name in known:
        p = place(name)
        english = re.escape(p.english.lower()).replace("'", "'?")  # Nan'an, Nanan
        if (
            p.name in text
            or (len(p.short) >= 2 and p.short in text)
            or re.search(rf"(?<![a-z]){english}(?![a-z])", lowered)
        ):
            found.append(name)
    return found


_PLAN_CUES = re.compile(r"今年|目标|预期|力争|计划|打算|将要|target|plan|aim|goal|expect|will\b|this year", re.I)
_REVIEW_CUES = re.compile(r"去年|上年|过去一年|完成了|实现了|\b(was|were|did|had|grew|achieved|reached)\b|last year", re.I)


def question_half(text: str) -> str:
    plan, review = bool(_PLAN_CUES.search(text)), bool(_REVIEW_CUES.search(text))
    return "plan" if plan and not review else "review" if review and not plan else ""


def analyze(question: str, known_districts: list[str]) -> Query:
    text = normalize_query(question)
    districts = find_districts(text, known_districts)
    latin = len(re.findall(r"[A-Za-z]", text))
    han = len(re.findall(r"[\u4e00-\u9fff]", text))
    lang = "en" if latin > han else "zh"
    return Query(
        original=question,
        text=text,
        lang=lang,
        districts=districts,
        numbers=numbers_in(text),
        expansion=english_expansion(text) if latin else "",
        unknown_words=english_leftovers(text, districts) if latin else [],
        years=[int(y) for y in re.findall(r"(?<!\d)((?:19|20)\d{2})(?!\d)", text)],
        half=question_half(text),
    )


# Question words carry no content: a passage can't be expected to contain them.
_QUESTION_WORDS = re.compile(r"多少|哪个|哪些|哪里|什么|是否|如何|怎么|怎样|几个|分别|是$|吗|呢|请问|提出|目标是")


def coverage_tokens(query: Query) -> list[str]:
    """Tokens a passage that answers the question should contain: its Chinese content words,
    figures, and the Chinese terms for its English words (Latin words themselves can't match)."""
    # The district filters the hits; it says nothing of the content.
    chinese = without_districts(_QUESTION_WORDS.sub(" ", query.text), query.districts)
    chinese = re.sub(r"(19|20)\d{2}年?", " ", chinese)
    chinese = re.sub(r"[A-Za-z][A-Za-z'&\-]*", " ", chinese)
    return tokenize(f"{chinese} {query.expansion}")


def best_sentence(text: str, query_tokens: set[str], numbers: list[str]) -> tuple[int, int]:
    """Span of the sentence sharing most keyword tokens with the question; figures count double."""
    best, best_score = (0, len(text)), -1.0
    for start, end in split_sentences(text):
        sentence = text[start:end]
        figures = set(numbers_in(sentence))
        score = len(set(tokenize(sentence)) & query_tokens) + 2 * sum(1 for n in numbers if n in figures)
        if score > best_score:
            best, best_score = (start, end), score
    start, end = best
    while start < end and text[start] in " \n":
        start += 1
    return start, end


def _ranks(scores: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    """1-based rank of every allowed row by descending score; 0 for rows not allowed or not matched."""
    ranks = np.zeros(len(scores), dtype=np.int64)
    idx = np.flatnonzero(allowed)
    order = idx[np.argsort(-scores[idx], kind="stable")]
    ranks[order] = np.arange(1, len(order) + 1)
    return ranks


class Searcher:
    """Loaded once (per process or per web app) and reused for every question."""

    def __init__(self, index: Index, settings: Settings, embedder: Embedder | None = None):
        self.index = index
        self.settings = settings
        self._embedder = embedder
        self.districts = index.districts
        self._district_of = np.array([c.district for c in index.chunks])
        self._chunk_numbers = [set(numbers_in(c.text)) for c in index.chunks]
        self._vocab = index.bm25.vocab_dict
        self._chunk_year = np.array([c.year for c in index.chunks])
        self._chunk_half = np.array([c.half for c in index.chunks])
        self._chunk_tokens = [set(tokenize(c.context())) for c in index.chunks]
        df: dict[str, int] = {}
        for tokens in self._chunk_tokens:
            for t in tokens:
                df[t] = df.get(t, 0) + 1
        n = len(index.chunks)
        self._idf = {t: math.log((n + 1) / (d + 1)) + 1 for t, d in df.items()}
        self._idf_unseen = math.log(n + 1) + 1  # a term no passage contains

    def coverage(self, query: Query, qtokens: set[str], chunk_index: int) -> float:
        """IDF-weighted share of the question's content found in a passage: missing a rare,
        specific term ("地铁", "house price") costs more than missing a common one ("增长")."""
        weights = {t: self._idf.get(t, self._idf_unseen) for t in qtokens}
        total = sum(weights.values()) + self._idf_unseen * len(query.unknown_words)
        if not total:
            return 0.0
        found = sum(w for t, w in weights.items() if t in self._chunk_tokens[chunk_index])
        return found / total

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = get_embedder(self.index.manifest["embedder"])
        return self._embedder

    def dense_scores(self, query: Query) -> np.ndarray:
        # English questions also carry their Chinese report terms, which the passages share.
        text = query.keyword_text if self.settings.expand_dense else query.text
        vector = self.embedder.encode_query([text])
        n = self.index.vectors.ntotal
        scores, rows = self.index.vectors.search(vector, n)
        out = np.full(n, -1.0, dtype=np.float32)
        valid = rows[0] >= 0
        out[rows[0][valid]] = scores[0][valid]
        return out

    def keyword_scores(self, tokens: list[str]) -> np.ndarray:
        known = [t for t in tokens if t in self._vocab]
        if not known:
            return np.zeros(len(self.index.chunks), dtype=np.float32)
        return np.asarray(self.index.bm25.get_scores(known), dtype=np.float32)

    def _fuse(self, query: Query, dense: np.ndarray, keyword: np.ndarray, allowed: np.ndarray) -> np.ndarray:
        """Reciprocal rank fusion of dense, keyword and exact-figure rankings."""
        k0 = self.settings.rrf_k
        rankings = [(_ranks(dense, allowed), self.settings.dense_weight),
                    (_ranks(keyword, allowed & (keyword > 0)), self.settings.keyword_weight)]
        if query.numbers:
            wanted = set(query.numbers)
            matched = np.array([len(wanted & nums) for nums in self._chunk_numbers], dtype=np.float64)
            rankings.append((_ranks(matched, allowed & (matched > 0)), 1.0))
        fused = np.zeros(len(dense), dtype=np.float64)
        for ranks, weight in rankings:
            fused += np.where(ranks > 0, weight / (k0 + ranks), 0.0)
        wanted = self.wanted_half(query)
        if wanted is not None:
            fused *= np.where(self._chunk_half == wanted, 1.0 + self.settings.half_boost, 1.0)
        return fused

    def wanted_half(self, query: Query) -> np.ndarray | None:
        """Per chunk, the half of its report the question asks about: a year equal to the
        report's is its plan, the year before its review; else the question's wording decides."""
        if query.years:
            year = query.years[0]
            return np.where(year == self._chunk_year, "plan", np.where(year == self._chunk_year - 1, "review", "-"))
        if query.half:
            return np.full(len(self._chunk_half), query.half)
        return None

    def search(self, question: str, k: int = 5, districts: list[str] | None = None, retriever: str = "hybrid") -> list[Hit]:
        query = analyze(question, self.districts)
        return self.search_query(query, k, districts, retriever)

    def search_query(self, query: Query, k: int = 5, districts: list[str] | None = None, retriever: str = "hybrid") -> list[Hit]:
        n = len(self.index.chunks)
        wanted = districts or query.districts
        allowed = np.isin(self._district_of, wanted) if wanted else np.ones(n, dtype=bool)
        tokens = tokenize(query.keyword_text, self.index.tokenizer)
        if retriever not in RETRIEVERS:
            raise ValueError(f"retriever must be one of {RETRIEVERS}")
        dense = self.dense_scores(query) if retriever != "keyword" else np.zeros(n, dtype=np.float32)
        keyword = self.keyword_scores(tokens)
        if retriever == "dense":
            fused = dense.astype(np.float64)
        elif retriever == "keyword":
            fused = np.where(keyword > 0, keyword, -np.inf).astype(np.float64)
        else:
            fused = self._fuse(query, dense, keyword, allowed)
        fused = np.where(allowed, fused, -np.inf)

        order = [i for i in np.argsort(-fused, kind="stable")[:k] if np.isfinite(fused[i])]
        qtokens = set(coverage_tokens(query))
        hits = []
        for rank, i in enumerate(order, start=1):
            chunk: Chunk = self.index.chunks[i]
            s_start, s_end = best_sentence(chunk.text, qtokens, query.numbers)
            coverage = self.coverage(query, qtokens, i)
            hits.append(
                Hit(
                    rank=rank,
                    score=round(float(fused[i]), 6),
                    chunk_id=chunk.id,
                    district=chunk.district,
                    source=chunk.source,
                    title=chunk.title,
                    section=chunk.section,
                    start=chunk.start,
                    end=chunk.end,
                    text=chunk.text,
                    sentence=chunk.text[s_start:s_end],
                    sentence_start=s_start,
                    sentence_end=s_end,
                    dense=round(float(dense[i]), 4),
                    keyword=round(float(keyword[i]), 4),
                    coverage=round(coverage, 4),
                )
            )
        return hits


# What is left of a follow-up such as "那璧山区呢？" / "And Bishan?" once its districts are removed.
_FOLLOWUP_FILLER = re.compile(
    r"那么|那|呢|怎么样|怎样|如何|情况|的|吗|又|还有|和|与|及|what|about|how|and|for|in|the|of|district|"
    r"[?？。.,，!！\s'’s]", re.I
)


def resolve_followup(question: str, previous: str | None, known: list[str]) -> str:
    """Turn a follow-up that only names other districts ("那璧山区呢？") into the previous question
    asked about them, keeping its indicator; any other question is returned unchanged."""
    if not previous:
        return question
    text = normalize_query(question)
    districts = find_districts(text, known)
    if not districts:
        return question
    if _FOLLOWUP_FILLER.sub("", without_districts(text, districts)):
        return question  # it says more than a district: a question of its own
    before = normalize_query(previous)
    old = find_districts(before, known)
    new = [place(n) for n in districts]
    if not old:  # the previous question named no district: scope it to the new ones
        if re.search(r"[\u4e00-\u9fff]", before):
            return "、".join(p.name for p in new) + before
        return " and ".join(p.english for p in new) + ": " + before
    for i, name in enumerate(old):
        p, q = place(name), new[min(i, len(new) - 1)]
        before = before.replace(p.name, q.name)
        if len(p.short) >= 2:
            before = before.replace(p.short, q.short)
        before = re.sub(re.escape(p.english), q.english, before, flags=re.I)
    return before
