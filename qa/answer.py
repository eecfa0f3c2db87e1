"""Hits → Answer: the direct-answer line (a quoted sentence, never composed text), or abstention."""

from __future__ import annotations

from dataclasses import dataclass, field

from .search import Hit, Query

# A question counts as answered when the best passage holds enough of its content words
# (coverage) or is close enough in meaning (dense cosine). Below both, the reports are taken not
# to say. Calibrated on eval/qa.jsonl with e5: coverage < 0.34 and cosine < 0.88 refuses 2 of the
# 3 `none` questions and 1 of 47 answerable ones (an English paraphrase); catching the third
# (cosine 0.93, coverage 0.33) would refuse 4 more answerable paraphrases. Cosines are on each
# model's own scale, so other embedders are judged on coverage alone.
MIN_COVERAGE = 0.34
MIN_DENSE = {"e5": 0.88}


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


def is_answered(hit: Hit, embedder: str = "e5") -> bool:
    if hit.coverage >= MIN_COVERAGE:
        return True
    floor = MIN_DENSE.get(embedder)
    return floor is not None and hit.dense >= floor


def make_answer(query: Query, hits: list[Hit], embedder: str = "e5") -> Answer:
    answer = Answer(question=query.original, hits=hits, lang=query.lang)
    if hits and is_answered(hits[0], embedder):
        answer.district = hits[0].district
        answer.sentence = hits[0].sentence
        answer.abstain = False
    return answer
