"""Write eval/dev.jsonl and eval/test.jsonl (run once; the files are committed).

eval/qa.jsonl (the first 134 questions; removed after the split, it is in git history at d73cfee, written with the code in view and tuned on) is split in
half, stratified by type and language, seeded. dev gets one half plus eval/dev_extra.jsonl
(60 questions a helper wrote to tune on); test gets the other half plus eval/sampled.jsonl (144
questions a different helper wrote from sentences that scripts/sample_sentences.py picked at
random, without seeing the code or any retrieval result). Nothing is chosen on test.

Later, eval/dev_sampled.jsonl (125 questions written the way sampled.jsonl was, from sentences
sample_sentences.py picked with seed 7, those already in dev or test left out, by a third helper
that saw neither code nor results) was appended to dev.jsonl, so that dev is as hard as test; its
Traditional evidence strings were converted to Simplified to match the cleaned text.
"""

import json
import random
import sys
from collections import defaultdict
from pathlib import Path

root = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent) / "eval"


def read(name):
    return [json.loads(line) for line in (root / name).read_text(encoding="utf-8").splitlines() if line.strip()]


rng = random.Random(2026)
groups = defaultdict(list)
for row in read("qa.jsonl"):
    groups[(row["type"], row["lang"])].append(row)
dev, test = [], []
for key in sorted(groups):
    rows = groups[key]
    rng.shuffle(rows)
    half = (len(rows) + rng.randint(0, 1)) // 2
    dev += [{**r, "origin": "qa"} for r in rows[:half]]
    test += [{**r, "origin": "qa"} for r in rows[half:]]
dev += [{**r, "origin": "dev_extra"} for r in read("dev_extra.jsonl")]
test += [{**r, "origin": "sampled"} for r in read("sampled.jsonl")]
for name, rows in (("dev.jsonl", dev), ("test.jsonl", test)):
    rows.sort(key=lambda r: r["id"])
    (root / name).write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    print(name, len(rows))
