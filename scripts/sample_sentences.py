"""Sample sentences from the district government work reports for writing eval questions.

Deterministic for a given seed: loads every report in reports/ with
qa.ingest.load_document, splits the cleaned text into sentences, drops short
fragments and headings, tags each sentence as "figure" (contains a digit) or
"text", and as "review" (2023 review part) or "plan" (2024 plan part), then
samples a fixed number of sentences per report, balanced by kind and spread
over both halves in proportion to their size.

Usage:
    .venv/bin/python scripts/sample_sentences.py [--seed 2026] [--per-report 28]
                                                 [--min-half 8] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa.ingest import load_document  # noqa: E402

REPORTS_DIR = ROOT / "reports"
MIN_CHARS = 15
HEADING_MAX = 40

# Split after a sentence-ending mark (full-width or ASCII); line ends split too.
SENT_END = re.compile(r"(?<=[。！？；!?;])")
END_MARKS = "。！？；!?;"
# Heading that opens the 2024 part: "二、2024年工作安排", "二、2024年主要任务…",
# "二、2024年工作要求和目标", or a bare "2024" section marker.
PLAN_HEADING = re.compile(r"^\s*(?:[一二三四五六七八九十]+[、.．]\s*)?2024(?:\s*$|年(?:工作|主要|重点))")
# Numbered heading markers: "一、", "（一）", "1.", "1、", "2、".
NUMBERED = re.compile(r"^\s*(?:[一二三四五六七八九十]+、|[（(][一二三四五六七八九十\d]+[)）]|\d+[.、．])")
DIGIT = re.compile(r"\d")


def plan_start(lines: list[str]) -> int:
    """Index of the first line of the 2024 plan part (len(lines) if not found)."""
    for i, line in enumerate(lines):
        if PLAN_HEADING.match(line):
            return i
    return len(lines)


def is_heading(line: str) -> bool:
    """A line that is a heading / title rather than running text."""
    s = line.strip()
    if not s:
        return True
    # short numbered or dash-led lines are section headings even when they end in "。"
    # ("3.实施科技创新赋能增效行动。", "(六)坚持生态优先绿色发展,…。", "——坚持改革求变,…。")
    if len(s) <= HEADING_MAX and (NUMBERED.match(s) or s.startswith("——")):
        return True
    if s[-1] in END_MARKS:
        return False
    # Unpunctuated line: a heading when numbered, a title/byline, or without any figure
    # (unpunctuated lines with figures are kept: e.g. "固定资产投资增长12.1%,高于…").
    return bool(
        NUMBERED.match(s)
        or s.startswith("——")
        or "工作报告" in s
        or "代表大会" in s
        or not DIGIT.search(s)
    )


def sentences(text: str) -> list[tuple[str, str]]:
    """(half, sentence) pairs for one cleaned report text, in document order."""
    lines = text.split("\n")
    start = plan_start(lines)
    if start == len(lines):
        print("warning: no 2024 plan heading found; treating the whole report as review",
              file=sys.stderr)
    out: list[tuple[str, str]] = []
    for i, line in enumerate(lines):
        half = "plan" if i >= start else "review"
        if is_heading(line):
            continue
        for part in SENT_END.split(line):
            part = part.strip()
            if len(part) < MIN_CHARS:
                continue
            if is_heading(part):
                continue
            out.append((half, part))
    return out


def allocate(n: int, sizes: dict[str, int], min_half: int) -> dict[str, int]:
    """Split n over the halves in proportion to their size, at least min_half each."""
    total = sum(sizes.values()) or 1
    plan = round(n * sizes["plan"] / total)
    plan = max(min_half, min(n - min_half, plan))
    alloc = {"review": n - plan, "plan": plan}
    # never ask for more than a half has; give the rest to the other half
    for a, b in (("review", "plan"), ("plan", "review")):
        if alloc[a] > sizes[a]:
            alloc[b] += alloc[a] - sizes[a]
            alloc[a] = sizes[a]
    return alloc


def sample_report(path: Path, rng: random.Random, n: int, min_half: int) -> list[dict]:
    doc = load_document(path)
    order: dict[str, int] = {}
    pools: dict[tuple[str, str], list[str]] = {}
    for half, sent in sentences(doc.text):
        if sent in order:
            continue
        order[sent] = len(order)
        kind = "figure" if DIGIT.search(sent) else "text"
        pools.setdefault((half, kind), []).append(sent)
    sizes = {h: sum(len(pools.get((h, k), [])) for k in ("figure", "text"))
             for h in ("review", "plan")}
    alloc = allocate(n, sizes, min_half)
    picked: list[dict] = []
    for half in ("review", "plan"):
        want = alloc[half]
        fig_pool = pools.get((half, "figure"), [])
        txt_pool = pools.get((half, "text"), [])
        n_fig = (want + rng.randint(0, 1)) // 2  # alternate the odd one out
        n_txt = want - n_fig
        # shift to the other kind when one kind runs short
        if n_fig > len(fig_pool):
            n_txt += n_fig - len(fig_pool)
            n_fig = len(fig_pool)
        if n_txt > len(txt_pool):
            n_fig = min(len(fig_pool), n_fig + n_txt - len(txt_pool))
            n_txt = len(txt_pool)
        for kind, pool, k in (("figure", fig_pool, n_fig), ("text", txt_pool, n_txt)):
            for sent in rng.sample(pool, k):
                picked.append({"report": doc.source, "half": half, "kind": kind,
                               "sentence": sent})
    picked.sort(key=lambda r: order[r["sentence"]])  # document order
    return picked


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--per-report", type=int, default=28)
    ap.add_argument("--min-half", type=int, default=8)
    ap.add_argument("--reports", type=Path, default=REPORTS_DIR)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()

    rng = random.Random(args.seed)
    rows: list[dict] = []
    for path in sorted(args.reports.glob("*.txt")):
        rows.extend(sample_report(path, rng, args.per_report, args.min_half))
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
