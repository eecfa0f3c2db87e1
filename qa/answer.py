"""Hits → Answer: the direct-answer line (a quoted sentence, never composed text), or abstention."""

from __future__ import annotations

from dataclasses import dataclass, field

from .search import Hit, Query, Searcher, analyze

# A question counts as answered when the best passage holds enough of its content: the
# IDF-weighted share of the question's content tokens found in it (search.Searcher.coverage).
# Calibrated with `qa eval --calibrate` on eval/qa.jsonl (124 answerable, 10 unanswerable):
# refusing below 0.14 catches 8 of the 10 unanswerable questions (precision 0.57) and refuses 6
# answerable ones (4.8%, mostly paraphrases that share no words with their passage). A cosine
# floor on top of it did not help at any value from 0.80 to 0.95.
MIN_COVERAGE = 0.14


@dataclass
class Answer:
    question: str
    hits: list[Hit] = field(default_factory=list)
    district: str | None = None
    sentence: str | None = None
    abstain: bool = True
    lang: str = "zh"

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
                }
                for h in self.hits
            ],
            "answer": {"district": self.district, "sentence": self.sentence, "abstain": self.abstain},
        }


def is_answered(hit: Hit) -> bool:
    return hit.coverage >= MIN_COVERAGE


def make_answer(query: Query, hits: list[Hit]) -> Answer:
    answer = Answer(question=query.original, hits=hits, lang=query.lang)
    if hits and is_answered(hits[0]):
        answer.district = hits[0].district
        answer.sentence = hits[0].sentence
        answer.abstain = False
    return answer


def ask(searcher: Searcher, question: str, k: int = 5, districts: list[str] | None = None,
        retriever: str = "hybrid") -> Answer:
    """The whole way from a question to a cited answer: analyse, retrieve, decide."""
    query = analyze(question, searcher.districts)
    return make_answer(query, searcher.search_query(query, k=k, districts=districts or None, retriever=retriever))
