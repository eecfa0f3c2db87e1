"""Answer → HTML for the web chat: direct answer line, numbered citations, highlighted sentence
with figures in bold, the full passage expandable, scores on demand. Chinese or English labels
follow the question's language; passages stay in Chinese."""

from __future__ import annotations

import html
import re
import uuid

from .answer import Answer
from .search import Hit

LABELS = {
    "zh": {
        "none": "报告中没有找到答案。",
        "closest": "最接近的段落（可能不相关）",
        "passage": "展开全文段落",
        "score": "得分",
        "understood": "按上文理解为",
        "reports": "已索引的报告",
        "chunks": "段",
    },
    "en": {
        "none": "The reports do not say.",
        "closest": "Closest passages (may not be relevant)",
        "passage": "Show the full passage",
        "score": "score",
        "understood": "Understood as",
        "reports": "Indexed reports",
        "chunks": "passages",
    },
}
_FIGURE = re.compile(r"\d+(?:\.\d+)?(?:%|‰|亿元|万元|万人次|万人|万户|万吨|万亩|亿|万|元|个|家|天|户|人次|人|公里|亩|所|座|项)?")


def labels(lang: str) -> dict:
    return LABELS["en" if lang == "en" else "zh"]


def bold_figures(escaped: str) -> str:
    return _FIGURE.sub(lambda m: f"<b>{m.group(0)}</b>", escaped)


def _highlighted(hit: Hit) -> str:
    before = html.escape(hit.text[: hit.sentence_start])
    sentence = bold_figures(html.escape(hit.sentence))
    after = html.escape(hit.text[hit.sentence_end :])
    return f"{before}<mark>{sentence}</mark>{after}"


def render_citation(hit: Hit, lang: str, show_scores: bool, anchor: str = "cite") -> str:
    text = labels(lang)
    score = (
        f'<div class="qa-score">{text["score"]} {hit.score:.4f} · dense {hit.dense:.3f} · bm25 {hit.keyword:.2f} · '
        f'coverage {hit.coverage:.2f}</div>' if show_scores else ""
    )
    return (
        f'<li class="qa-cite" id="{anchor}-{hit.rank}">'
        f'<div class="qa-cite-head">[{hit.rank}] <strong>{html.escape(hit.district)}</strong> · 《{html.escape(hit.title)}》'
        f' · {html.escape(hit.section or "—")} <span class="qa-src">{html.escape(hit.source)}:{hit.start}-{hit.end}</span></div>'
        f'<blockquote class="qa-sentence"><mark>{bold_figures(html.escape(hit.sentence))}</mark></blockquote>'
        f'<details><summary>{text["passage"]}</summary><div class="qa-passage">{_highlighted(hit)}</div></details>'
        f"{score}</li>"
    )


def render_answer(answer: Answer, show_scores: bool = False, understood_as: str | None = None) -> str:
    text = labels(answer.lang)
    parts = ['<div class="qa-answer">']
    if understood_as:
        parts.append(f'<p class="qa-understood">{text["understood"]}: {html.escape(understood_as)}</p>')
    # Anchors unique per answer: [1] of the second answer must not jump to the first one's source.
    anchor = f"cite-{uuid.uuid4().hex[:8]}"
    citations = "".join(render_citation(h, answer.lang, show_scores, anchor) for h in answer.hits)
    if answer.abstain:
        parts.append(f'<p class="qa-direct qa-none">{text["none"]}</p>')
        if answer.note:  # a place or year the reports do not cover: their passages are beside the point
            parts.append(f'<p class="qa-note">{html.escape(answer.note)}</p>')
        elif citations:
            parts.append(f'<details class="qa-closest"><summary>{text["closest"]}</summary><ol>{citations}</ol></details>')
    else:
        parts.append(
            f'<p class="qa-direct"><strong>{html.escape(answer.district or "")}</strong> — '
            f'{bold_figures(html.escape(answer.sentence or ""))} <a href="#{anchor}-{answer.rank or 1}">[{answer.rank or 1}]</a></p>'
        )
        parts.append(f'<ol class="qa-citations">{citations}</ol>')
    parts.append("</div>")
    return "".join(parts)


def render_reports(documents: dict[str, dict], chunk_counts: dict[str, int], lang: str = "zh") -> str:
    """Markdown list of the indexed reports."""
    text = labels(lang)
    lines = [f"**{text['reports']}** ({len(documents)})", ""]
    for doc in sorted(documents.values(), key=lambda d: (d["district"], d["source"])):
        lines.append(f"- {doc['district']} {doc['year']} 《{doc['title']}》 — `{doc['source']}`, "
                     f"{chunk_counts.get(doc['source'], 0)} {text['chunks']}")
    return "\n".join(lines)
