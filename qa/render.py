"""Answer → HTML for the web chat: direct answer line, numbered citations, highlighted sentence
with figures in bold, the full passage expandable, scores on demand. Chinese or English labels
follow the question's language; passages stay in Chinese."""

from __future__ import annotations

import html
import re
import uuid

from .answer import Answer
from .compare import leaders
from .facts import format_value as facts_format_value
from .indicators import english_name, standard_name
from .search import Hit
from .source import source_link

LABELS = {
    "zh": {
        "none": "报告中没有找到答案。",
        "closest": "最接近的段落（可能不相关）",
        "passage": "展开全文段落",
        "score": "得分",
        "understood": "按上文理解为",
        "reports": "已索引的报告",
        "chunks": "段",
        "not_stated": "报告未提及",
        "place": "地区", "value": "数值", "kind": "类型", "source": "出处",
        "target": "目标", "result": "完成", "growth": "增速", "level": "总量", "share": "占比", "count": "数量", "rate": "比率",
    },
    "en": {
        "none": "The reports do not say.",
        "closest": "Closest passages (may not be relevant)",
        "passage": "Show the full passage",
        "score": "score",
        "understood": "Understood as",
        "reports": "Indexed reports",
        "chunks": "passages",
        "not_stated": "not stated in its report",
        "place": "Place", "value": "Value", "kind": "Kind", "source": "Source",
    },
}
# A passage's best sentence is highlighted only when it is relevant: the answering passage's, or
# one holding at least this share of the question's content.
RELEVANT_COVERAGE = 0.5


def labels(lang: str) -> dict:
    return LABELS["en" if lang == "en" else "zh"]


def emphasise(text: str, spans: list[tuple[int, int]]) -> str:
    """The text, escaped, with only these spans in bold (the figures that answer the question)."""
    out, at = [], 0
    for start, end in sorted(set(spans)):
        if start < at:
            continue
        out += [html.escape(text[at:start]), f"<b>{html.escape(text[start:end])}</b>"]
        at = end
    return "".join(out) + html.escape(text[at:])


def asked_spans(text: str, numbers: list[str]) -> list[tuple[int, int]]:
    """Where the figures a question names (16%, 983) are written in a text."""
    return [(m.start(), m.end()) for n in numbers for m in re.finditer(rf"(?<![\d.]){re.escape(n)}(?![\d])", text)]


def _highlighted(hit: Hit, bold: list[tuple[int, int]], relevant: bool) -> str:
    before = html.escape(hit.text[: hit.sentence_start])
    sentence = emphasise(hit.sentence, bold)
    after = html.escape(hit.text[hit.sentence_end :])
    return f"{before}<mark>{sentence}</mark>{after}" if relevant else f"{before}{sentence}{after}"


def source_anchor(source: str, start: int, end: int, span: tuple[int, int] | None = None) -> str:
    """file:start-end, a link to the report's page with the cited sentence highlighted and its
    original wording from the file (qa/source.py, served at /source)."""
    link = html.escape(source_link(source, *(span or (start, end))))
    return (f'<a class="qa-src" href="{link}" target="_blank" rel="noopener">'
            f'{html.escape(source)}:{start}-{end}</a>')


def render_citation(hit: Hit, lang: str, show_scores: bool, anchor: str = "cite", answer: Answer | None = None) -> str:
    text = labels(lang)
    score = (
        f'<div class="qa-score">{text["score"]} {hit.score:.4f} · dense {hit.dense:.3f} · bm25 {hit.keyword:.2f} · '
        f'coverage {hit.coverage:.2f}</div>' if show_scores else ""
    )
    answering = answer is not None and not answer.abstain and answer.rank == hit.rank
    sentence_span = (hit.start + hit.sentence_start, hit.start + hit.sentence_end) if hit.sentence else (hit.start, hit.end)
    bold = asked_spans(hit.sentence, answer.numbers if answer else [])
    if answering and answer.figure:
        bold.append(answer.figure)
    relevant = answering or hit.coverage >= RELEVANT_COVERAGE
    sentence = emphasise(hit.sentence, bold)
    quote = (f'<blockquote class="qa-sentence"><mark>{sentence}</mark></blockquote>' if relevant else
             f'<blockquote class="qa-sentence qa-weak">{sentence}</blockquote>')
    return (
        f'<li class="qa-cite" id="{anchor}-{hit.rank}">'
        f'<div class="qa-cite-head">[{hit.rank}] <strong>{html.escape(hit.district)}</strong> · 《{html.escape(hit.title)}》'
        f' · {html.escape(hit.section or "—")}{_page(hit)} {source_anchor(hit.source, hit.start, hit.end, sentence_span)}</div>'
        f'{quote}'
        f'<details><summary>{text["passage"]}</summary><div class="qa-passage">{_highlighted(hit, bold, relevant)}</div></details>'
        f"{score}</li>"
    )


def plain_citation(answer: Answer) -> str:
    """What the copy button copies: the quote, then place, report title, section and file, as text."""
    hit = next((h for h in answer.hits if h.rank == answer.rank), None)
    if hit is None:
        return answer.sentence or ""
    page = f"{hit.pages()}, " if hit.page else ""
    return (f"“{answer.sentence}” — {hit.district}, 《{hit.title}》, {hit.section or '—'}, {page}"
            f"{hit.source}:{answer.start}-{answer.end}")


def _page(hit: Hit) -> str:
    """" · p. 12" for a passage of a paged report (PDF, scan), else ""."""
    return f' · <span class="qa-page">{html.escape(hit.pages())}</span>' if hit.page else ""


def direct_line(answer: Answer, anchor: str) -> str:
    """"万州区 · 2024年目标 — <sentence, the asked figure in bold> [1]"; in English "Answer:
    Wanzhou, 2024 target — …", with the indicator's English name."""
    en = answer.lang == "en"
    when = ""
    if answer.year and answer.kind:
        when = f"{answer.year} {answer.kind}" if en else f"{answer.year}年{'目标' if answer.kind == 'target' else '完成'}"
    place = (answer.place_english or answer.district) if en else answer.district
    head = f"<strong>{html.escape(place or '')}</strong>" + (f", {when}" if en and when else f" · {when}" if when else "")
    sentence = emphasise(answer.sentence or "", [answer.figure] if answer.figure else [])
    what = ""
    if en and answer.phrase and answer.figure:
        name = english_name(standard_name(answer.phrase) or "") if standard_name(answer.phrase) else ""
        figure = (answer.sentence or "")[answer.figure[0]:answer.figure[1]]
        what = f' <span class="qa-what">({html.escape(name + ": " if name else "")}{html.escape(figure)})</span>'
    cite = f'<a href="#{anchor}-{answer.rank or 1}">[{answer.rank or 1}]</a>'
    # The chat's sanitiser drops data-* attributes: the plain text rides in a hidden span.
    copy = (f'<button class="qa-copy" type="button">{"Copy" if en else "复制"}</button>'
            f'<span class="qa-plain">{html.escape(plain_citation(answer))}</span>')
    return f'<p class="qa-direct">{"Answer: " if en else ""}{head} — {sentence}{what} {cite} {copy}</p>'


def format_value(row: dict) -> str:
    """A table cell's value as the report writes it (16210.45亿元, never 1.6e+04), with its qualifier."""
    if row["value"] is None:
        return ""
    return facts_format_value(row["value"], row["unit"]) + (f" {row['qualifier']}" if row["qualifier"] else "")


def render_table(answer: Answer) -> str:
    """The comparison table: one row per place, its value with a bar, kind and year, and the
    report sentence that states it (cited); places whose report does not state it say so."""
    table, text = answer.comparison, labels(answer.lang)
    en = answer.lang == "en"
    stated = table.stated()
    units = {r["unit"] for r in stated}
    top = max((abs(r["value"]) for r in stated), default=0) if len(units) == 1 else 0
    name = (english_name(table.indicator) if en else table.indicator)
    what = " · ".join(filter(None, [name, table.measure and text.get(table.measure, table.measure),
                                     table.kind and text.get(table.kind, table.kind), table.year and str(table.year)]))
    rows = []
    for row in table.rows:
        if row["value"] is None:
            rows.append(f'<tr class="qa-missing"><td>{html.escape(row["place"])}</td><td colspan="3">{text["not_stated"]}</td></tr>')
            continue
        width = int(100 * abs(row["value"]) / top) if top else 0
        bar = f'<div class="qa-bar" style="width:{width}%"></div>' if top else ""
        kind = text.get(row["kind"], row["kind"])
        rows.append(
            f'<tr><td>{html.escape(row["place"])}</td><td class="qa-value"><b>{html.escape(format_value(row))}</b>{bar}</td>'
            f'<td>{html.escape(kind)} {row["year"]}</td>'
            f'<td class="qa-cell-cite">“{html.escape(row["sentence"])}” '
            f'{html.escape(row.get("page") or "")} {source_anchor(row["source"], row["start"], row["end"])}</td></tr>')
    return (f'<div class="qa-table"><p class="qa-table-what">{html.escape(what)}</p>'
            f'<table><thead><tr><th>{text["place"]}</th><th>{text["value"]}</th><th>{text["kind"]}</th>'
            f'<th>{text["source"]}</th></tr></thead><tbody>{"".join(rows)}</tbody></table></div>')


def table_summary(answer: Answer) -> str:
    """One line over the table: which places state the asked figure, or which is highest or
    lowest (all of them on a tie), and which do not state it or are not indexed."""
    table, en = answer.comparison, answer.lang == "en"
    stated, missing = table.stated(), [r["place"] for r in table.rows if r["value"] is None]
    join = ", " if en else "、"
    best = leaders(table)
    if table.asked:
        line = (f"{len(table.matches)} of {len(stated)} stating it: {table.asked}: {join.join(table.matches) or 'none'}"
                if en else f"{table.asked}：{join.join(table.matches) or '无'}（{len(stated)}个有此数据）")
    elif best:
        value = format_value(best[0])
        names = join.join(r["place"] for r in best)
        line = (f"{'Highest' if table.order == 'higher' else 'Lowest'}: {names} ({value})" if en else
                f"{'最高' if table.order == 'higher' else '最低'}：{names}（{value}）")
    else:
        line = f"{len(stated)} of {len(table.rows)} state it" if en else f"{len(table.rows)}个中{len(stated)}个有此数据"
    if missing:
        line += f"; not stated: {join.join(missing)}" if en else f"；未提及：{join.join(missing)}"
    if table.not_indexed:
        line += (f"; not among the indexed reports: {join.join(table.not_indexed)}" if en else
                 f"；未索引：{join.join(table.not_indexed)}")
    return line


def render_answer(answer: Answer, show_scores: bool = False, understood_as: str | None = None) -> str:
    text = labels(answer.lang)
    parts = ['<div class="qa-answer">']
    if understood_as:
        parts.append(f'<p class="qa-understood">{text["understood"]}: {html.escape(understood_as)}</p>')
    if answer.notice:
        parts.append(f'<p class="qa-notice">{html.escape(answer.notice)}</p>')
    if answer.comparison is not None:
        parts.append(f'<p class="qa-direct qa-table-summary">{html.escape(table_summary(answer))}</p>')
        parts.append(render_table(answer))
    # Anchors unique per answer: [1] of the second answer must not jump to the first one's source.
    anchor = f"cite-{uuid.uuid4().hex[:8]}"
    citations = "".join(render_citation(h, answer.lang, show_scores, anchor, answer) for h in answer.hits)
    if answer.comparison is not None and answer.comparison.stated():
        parts.append(f'<ol class="qa-citations">{citations}</ol>')  # the table is the answer
    elif answer.abstain:
        parts.append(f'<p class="qa-direct qa-none">{text["none"]}</p>')
        if answer.note:  # a place or year the reports do not cover: their passages are beside the point
            parts.append(f'<p class="qa-note">{html.escape(answer.note)}</p>')
        elif citations:
            parts.append(f'<details class="qa-closest"><summary>{text["closest"]}</summary><ol>{citations}</ol></details>')
    else:
        parts.append(direct_line(answer, anchor))
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
