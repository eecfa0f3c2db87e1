"""Hits → Answer: the direct-answer line (a quoted sentence, never composed text), or abstention."""

from __future__ import annotations

from dataclasses import dataclass, field

from .search import Hit, Query

# A question is answered when the best passage shares enough of its keywords or is close enough
# in meaning. Below both, the reports are taken not to say. The thresholds come from the
# answerable vs `none` questions of eval/qa.jsonl (see `qa eval`, abstention metrics).
MIN_COVERAGE = 0.45
MIN_DENSE = 0.86


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
    return hit.coverage >= MIN_COVERAGE or hit.dense >= MIN_DENSE


def make_answer(query: Query, hits: list[Hit]) -> Answer:
    answer = Answer(question=query.original, hits=hits, lang=query.lang)
    if hits and is_answered(hits[0]):
        answer.district = hits[0].district
        answer.sentence = hits[0].sentence
        answer.abstain = False
    return answer
