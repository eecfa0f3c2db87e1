"""Keyword engine at scale: bm25s (the project's) against tantivy, on 50,000 and 480,000 passages.

Corpus: the live index's real passages, then copies of them up to N, each copy with its figures
perturbed (digits replaced at random, years kept plausible) and, unless --char-drop 0, 2% of its
Chinese characters dropped, so copies are not exact ties and the vocabulary and document
frequencies look like many similar reports. Tokens: qa.tokens.tokenize(text, "bigram").
Queries: the Chinese (lang "zh") questions of eval/dev.jsonl, tokenized the same way; top-200.

bm25s: BM25() with the project's defaults (lucene, k1=1.5, b=0.75), index(token lists), save().
  Query paths: retrieve([tokens], k=200); get_scores(known tokens) + argpartition (what qa/search.py
  does); and a hand scorer that adds the query tokens' CSC columns (scores["data"/"indices"/
  "indptr"]) into a dense float32 accumulator, then argpartition.
tantivy (tantivy-py, measurement only): a text field with the built-in "whitespace" tokenizer and
  index_option "freq" over the space-joined tokens, a fast u64 "row" and a raw text "report" key;
  query = boolean Should of term queries (one per token, repeats kept, like bm25s); row ids from the
  fast field. Its BM25 has k1=1.2, b=0.75 and 1-byte quantised field norms, so the top-200 sets
  differ; overlap is reported.

Load (fresh process, warm page cache): bm25s BM25.load(mmap=False / mmap=True), tantivy Index.open +
searcher; seconds and RSS above the process before the load, after load and after 20 queries.
Updates on the big index: tantivy add one report (100 passages) + commit, delete it by term +
commit; bm25s a separate 100-passage index (index + save).

    nice -n 10 .venv/bin/python scripts/keyword_bench.py --size 50000
    nice -n 10 .venv/bin/python scripts/keyword_bench.py --size 480000
    .venv/bin/python scripts/keyword_bench.py --report      # → /tmp/measure/keyword.md
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import re
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa.tokens import tokenize

OUT = Path("/tmp/measure")
PARTS = OUT / "keyword_parts"
WORK = OUT / "keyword_idx"
K = 200


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def pct(ms):
    return float(np.percentile(ms, 50)), float(np.percentile(ms, 95))


def dir_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def quiet_bm25s():
    import bm25s

    logging.getLogger("bm25s").setLevel(logging.WARNING)
    return bm25s


# ---------------------------------------------------------------- corpus

def live_texts() -> list[str]:
    """Passage texts of the live build: qa.store.load_index, or its chunks.jsonl when this
    checkout's qa cannot read that build."""
    try:
        from qa.store import load_index

        return [c.text for c in load_index(ROOT / "index").chunks]
    except Exception as exc:  # noqa: BLE001
        build = ROOT / "index" / "builds" / (ROOT / "index" / "CURRENT").read_text().strip()
        print(f"load_index failed ({type(exc).__name__}); reading {build}/chunks.jsonl", file=sys.stderr)
        with (build / "chunks.jsonl").open(encoding="utf-8") as fh:
            return [json.loads(line)["text"] for line in fh if line.strip()]


_NUM = re.compile(r"\d+")


def perturb(text: str, rnd: random.Random, char_drop: float) -> str:
    def digits(m):
        s = m.group(0)
        if len(s) == 4 and s[:2] in ("19", "20"):  # a year: keep it a year
            return s[:3] + str(rnd.randrange(10))
        return "".join(str(rnd.randrange(1 if (i == 0 and len(s) > 1) else 0, 10)) if rnd.random() < 0.6 else c
                       for i, c in enumerate(s))

    text = _NUM.sub(digits, text)
    if char_drop > 0:
        text = "".join(c for c in text if not ("\u3400" <= c <= "\u9fff" and rnd.random() < char_drop))
    return text


def corpus_tokens(texts: list[str], n: int, char_drop: float, seed: int = 0) -> tuple[list[list[str]], float]:
    """n token lists (interned strings): the real passages, then perturbed copies."""
    rnd = random.Random(seed)
    intern: dict[str, str] = {}
    out = []
    t = time.perf_counter()
    for i in range(n):
        base = texts[i % len(texts)]
        text = base if i < len(texts) else perturb(base, rnd, char_drop)
        out.append([intern.setdefault(tok, tok) for tok in tokenize(text, "bigram")] or [""])
    return out, time.perf_counter() - t


def questions() -> list[str]:
    with (ROOT / "eval" / "dev.jsonl").open(encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh if line.strip()]
    return [r["question"] for r in rows if r.get("lang") == "zh"]


# ---------------------------------------------------------------- engines

def build_bm25s(tokens, path: Path, **kw):
    bm25s = quiet_bm25s()
    t = time.perf_counter()
    bm = bm25s.BM25(**kw)
    bm.index(tokens, show_progress=False)
    build = time.perf_counter() - t
    if path.exists():
        shutil.rmtree(path)
    t = time.perf_counter()
    bm.save(str(path))
    return bm, build, time.perf_counter() - t


def tantivy_schema():
    import tantivy

    sb = tantivy.SchemaBuilder()
    sb.add_text_field("body", stored=False, tokenizer_name="whitespace", index_option="freq")
    sb.add_unsigned_field("row", fast=True)
    # delete_documents_by_term on an indexed u64 field deletes nothing in tantivy-py 0.27 (checked):
    # the report key is a raw (untokenized) text term instead.
    sb.add_text_field("report", tokenizer_name="raw", index_option="basic")
    return sb.build()


def tantivy_doc(tokens, row, report):
    import tantivy

    doc = tantivy.Document()
    doc.add_text("body", " ".join(tokens))
    doc.add_unsigned("row", row)
    doc.add_text("report", f"r{report}")
    return doc


def build_tantivy(tokens, path: Path, threads: int, per_report: int = 96):
    import tantivy

    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    t = time.perf_counter()
    index = tantivy.Index(tantivy_schema(), path=str(path))
    writer = index.writer(heap_size=256_000_000, num_threads=threads)
    for row, toks in enumerate(tokens):
        writer.add_document(tantivy_doc(toks, row, row // per_report))
    writer.commit()
    writer.wait_merging_threads()
    return index, time.perf_counter() - t


def tantivy_query(schema, toks):
    import tantivy

    return tantivy.Query.boolean_query(
        [(tantivy.Occur.Should, tantivy.Query.term_query(schema, "body", t, index_option="freq")) for t in toks])


def tantivy_search(searcher, schema, toks, k=K):
    hits = searcher.search(tantivy_query(schema, toks), k, count=False).hits
    return np.asarray(searcher.fast_field_values("row", [a for _, a in hits]), dtype=np.int64)


def hand_scorer(scores: dict):
    data, indices, indptr, n = scores["data"], scores["indices"], scores["indptr"], int(scores["num_docs"])

    def search(ids, k=K):
        acc = np.zeros(n, dtype=np.float32)
        for t in ids:
            s, e = indptr[t], indptr[t + 1]
            acc[indices[s:e]] += data[s:e]  # rows are unique within a column
        top = np.argpartition(-acc, k - 1)[:k]
        return top[np.argsort(-acc[top], kind="stable")]

    return search


def timed(fn, queries, warm=3, repeats=3):
    """Per query the minimum of `repeats` runs (wall ms, and this thread's CPU ms: preemption on a
    busy shared machine inflates the first, not the second); p50/p95 over queries; the results."""
    for q in queries[:warm]:
        fn(q)
    wall, cpu, res = np.full(len(queries), np.inf), np.full(len(queries), np.inf), []
    for rep in range(repeats):
        for i, q in enumerate(queries):
            c, t = time.thread_time(), time.perf_counter()
            r = fn(q)
            wall[i] = min(wall[i], (time.perf_counter() - t) * 1000)
            cpu[i] = min(cpu[i], (time.thread_time() - c) * 1000)
            if rep == 0:
                res.append(np.asarray(r))
    return (float(np.percentile(wall, 50)), float(np.percentile(wall, 95)), float(np.percentile(cpu, 50)),
            float(np.percentile(cpu, 95))), res


def overlap(a_list, b_list):
    return float(np.mean([len(set(a.tolist()) & set(b.tolist())) / max(1, min(K, len(a), len(b)))
                          for a, b in zip(a_list, b_list)]))


LOAD_CODE = r"""
import json, logging, sys, time, numpy as np
from pathlib import Path
def rss():
    for l in Path("/proc/self/status").read_text().splitlines():
        if l.startswith("VmRSS:"): return int(l.split()[1]) / 1024
engine, path, how, qfile = sys.argv[1:5]
queries = json.loads(Path(qfile).read_text())
if engine == "bm25s":
    import bm25s; logging.getLogger("bm25s").setLevel(logging.WARNING)
else:
    import tantivy
r0 = rss(); t = time.perf_counter()
if engine == "bm25s":
    bm = bm25s.BM25.load(path, mmap=(how == "mmap"))
    sec = time.perf_counter() - t; r1 = rss()
    data, indices, indptr, n = bm.scores["data"], bm.scores["indices"], bm.scores["indptr"], int(bm.scores["num_docs"])
    vocab = bm.vocab_dict
    def run(toks):
        acc = np.zeros(n, dtype=np.float32)
        for tok in toks:
            i = vocab.get(tok)
            if i is None: continue
            s, e = indptr[i], indptr[i + 1]; acc[indices[s:e]] += data[s:e]
        return np.argpartition(-acc, 199)[:200]
else:
    ix = tantivy.Index.open(path); s = ix.searcher(); schema = ix.schema
    sec = time.perf_counter() - t; r1 = rss()
    def run(toks):
        q = tantivy.Query.boolean_query([(tantivy.Occur.Should, tantivy.Query.term_query(schema, "body", x, index_option="freq")) for x in toks])
        return s.search(q, 200, count=False).hits
ms = []
for toks in queries[:20]:
    t = time.perf_counter(); run(toks); ms.append((time.perf_counter() - t) * 1000)
print(json.dumps({"sec": sec, "rss_load_mb": r1 - r0, "rss_query_mb": rss() - r0, "first_query_ms": ms[0],
                  "first20_p50_ms": float(np.median(ms))}))
"""


def load_test(engine: str, path: Path, how: str, qfile: Path) -> dict:
    proc = subprocess.run([sys.executable, "-c", LOAD_CODE, engine, str(path), how, str(qfile)],
                          capture_output=True, text=True, timeout=900)
    try:
        return json.loads(proc.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {"error": (proc.stderr.strip().splitlines() or ["crashed"])[-1][:160]}


# ---------------------------------------------------------------- run

def run_size(args):
    n = args.size
    texts = live_texts()
    tokens, tok_s = corpus_tokens(texts, n, args.char_drop)
    n_tokens = sum(len(t) for t in tokens)
    print(f"corpus {n}: {n_tokens:,} tokens, tokenize {tok_s:.1f}s, rss {rss_mb():.0f} MB", flush=True)
    qtoks = [tokenize(q, "bigram") for q in questions()]
    qfile = OUT / "keyword_queries.json"
    qfile.write_text(json.dumps(qtoks, ensure_ascii=False))
    WORK.mkdir(parents=True, exist_ok=True)
    row = {"n": n, "tokens": n_tokens, "tokenize_s": tok_s, "nq": len(qtoks), "char_drop": args.char_drop}
    part = {"summary": row, "bm25s": {}, "tantivy": {}, "updates": {}}

    # bm25s
    bpath = WORK / f"bm25s_{n}"
    r0 = rss_mb()
    bm, b_build, b_save = build_bm25s(tokens, bpath)
    vocab = bm.vocab_dict
    part["bm25s"].update(build_s=b_build, save_s=b_save, disk=dir_bytes(bpath), vocab=len(vocab),
                         nnz=len(bm.scores["data"]), rss_growth_mb=rss_mb() - r0, peak_mb=peak_mb())
    print("bm25s", json.dumps(part["bm25s"]), flush=True)
    known = [[t for t in q if t in vocab] for q in qtoks]
    ids = [[vocab[t] for t in q] for q in known]
    (p_ret, res_ret) = timed(lambda q: bm.retrieve([q], k=K, show_progress=False, n_threads=0)[0][0], qtoks)

    def scores_top(q):
        s = bm.get_scores(q) if q else np.zeros(bm.scores["num_docs"], np.float32)
        top = np.argpartition(-s, K - 1)[:K]
        return top[np.argsort(-s[top], kind="stable")]

    (p_gs, res_gs) = timed(scores_top, known)
    hand = hand_scorer(bm.scores)
    (p_hand, res_hand) = timed(hand, ids)
    part["bm25s"].update(retrieve=p_ret, get_scores=p_gs, hand=p_hand,
                         hand_vs_get_scores=overlap(res_hand, res_gs), retrieve_vs_get_scores=overlap(res_ret, res_gs))
    print("bm25s", json.dumps(part["bm25s"]), flush=True)
    if args.k1_check:
        bm12, _, _ = build_bm25s(tokens, WORK / f"bm25s_k12_{n}", k1=1.2)
        _, res_k12 = timed(hand_scorer(bm12.scores), [[bm12.vocab_dict[t] for t in q if t in bm12.vocab_dict]
                                                      for q in qtoks], warm=0)
        shutil.rmtree(WORK / f"bm25s_k12_{n}")
        del bm12

    # tantivy
    tpath = WORK / f"tantivy_{n}"
    index, t_build = build_tantivy(tokens, tpath, args.tantivy_threads)
    index.reload()
    searcher, schema = index.searcher(), index.schema
    part["tantivy"].update(build_s=t_build, threads=args.tantivy_threads, disk=dir_bytes(tpath),
                           segments=searcher.num_segments, peak_mb=peak_mb())
    print("tantivy", json.dumps(part["tantivy"]), flush=True)
    (p_t, res_t) = timed(lambda q: tantivy_search(searcher, schema, q), qtoks)
    (p_t_nofast, _) = timed(lambda q: searcher.search(tantivy_query(schema, q), K, count=False).hits, qtoks)
    part["tantivy"].update(search=p_t, search_no_rowids=p_t_nofast)
    part["summary"].update(overlap_bm25s_tantivy=overlap(res_gs, res_t))
    # Copies of one passage score (nearly) alike, so which 200 of them make the cut is close to
    # arbitrary: two tie-aware measures of agreement.
    nr, same_base, within = len(texts), [], []
    for q, g, t_rows in zip(known, res_gs, res_t):
        bases = {int(r) % nr for r in g}
        same_base.append(np.mean([int(r) % nr in bases for r in t_rows]) if len(t_rows) else 1.0)
        sc = bm.get_scores(q) if q else np.zeros(n, np.float32)
        cut = sc[g[min(K, len(g)) - 1]]
        within.append(np.mean(sc[t_rows] >= 0.99 * cut) if len(t_rows) else 1.0)
    part["summary"].update(overlap_same_passage=float(np.mean(same_base)), overlap_score_1pct=float(np.mean(within)))
    del bm
    if args.k1_check:
        part["summary"].update(overlap_bm25s_k12_tantivy=overlap(res_k12, res_t))
    print("tantivy", json.dumps(part["tantivy"]), json.dumps(part["summary"]), flush=True)
    if args.tantivy_threads2:
        _, t2 = build_tantivy(tokens, WORK / f"tantivy2_{n}", 2)
        part["tantivy"]["build_s_2threads"] = t2
        shutil.rmtree(WORK / f"tantivy2_{n}")

    # updates: one more report of 100 passages
    rnd = random.Random(7)
    new_tokens = [tokenize(perturb(texts[i % len(texts)], rnd, args.char_drop), "bigram") or [""]
                  for i in range(100)]
    report_id = 10_000_000
    t = time.perf_counter()
    writer = index.writer(heap_size=64_000_000, num_threads=1)
    for i, toks in enumerate(new_tokens):
        writer.add_document(tantivy_doc(toks, n + i, report_id))
    writer.commit()
    add_s = time.perf_counter() - t
    index.reload()
    after_add = index.searcher().num_docs
    t = time.perf_counter()
    writer.delete_documents_by_term("report", f"r{report_id}")
    writer.commit()
    del_s = time.perf_counter() - t
    t = time.perf_counter()
    writer.wait_merging_threads()
    merge_wait = time.perf_counter() - t
    index.reload()
    after_del = index.searcher().num_docs
    t = time.perf_counter()
    _, small_build, small_save = build_bm25s(new_tokens, WORK / "bm25s_small")
    part["updates"] = {"tantivy_add_commit_s": add_s, "tantivy_delete_commit_s": del_s,
                       "tantivy_wait_merging_s": merge_wait, "docs_after_add": after_add,
                       "docs_after_delete": after_del, "bm25s_small_build_s": small_build,
                       "bm25s_small_save_s": small_save}
    print("updates", json.dumps(part["updates"]), flush=True)
    del searcher, index, writer, tokens

    # loading, fresh processes
    part["load"] = {"bm25s mmap=False": load_test("bm25s", bpath, "ram", qfile),
                    "bm25s mmap=True": load_test("bm25s", bpath, "mmap", qfile),
                    "tantivy Index.open": load_test("tantivy", tpath, "-", qfile)}
    print("load", json.dumps(part["load"]), flush=True)
    PARTS.mkdir(parents=True, exist_ok=True)
    (PARTS / f"{n}.json").write_text(json.dumps(part, indent=1))
    if not args.keep:
        shutil.rmtree(bpath, ignore_errors=True)
        shutil.rmtree(tpath, ignore_errors=True)
        shutil.rmtree(WORK / "bm25s_small", ignore_errors=True)


def lat(x) -> str:
    return " | ".join(f"{v:.2f}" for v in x)


def report():
    parts = [json.loads(f.read_text()) for f in sorted(PARTS.glob("*.json"))]
    parts.sort(key=lambda p: p["summary"]["n"])
    L = ["# Keyword engine: bm25s 0.3.16 vs tantivy-py 0.27.0 (character-bigram tokens)", "",
         f"Queries: the {parts[0]['summary']['nq'] if parts else 0} Chinese (zh) questions of eval/dev.jsonl, top-200, "
         "one at a time, single thread, shared 2-core machine (nice 10). Corpus: real passages + copies with "
         f"perturbed figures and {parts[0]['summary']['char_drop'] if parts else 0:.0%} of Han characters dropped. "
         "Load: fresh process, warm page cache; RSS = growth over the process before loading.", "",
         "Query latency per question = min of 3 runs; CPU = the querying thread's CPU time.", "",
         "| N passages | engine | build s | disk MB | load s | RSS after load MB | RSS after 20 queries MB | "
         "query p50 ms | query p95 ms | CPU p50 | CPU p95 |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for p in parts:
        n, b, t, ld = p["summary"]["n"], p["bm25s"], p["tantivy"], p["load"]

        def lcell(key):
            r = ld[key]
            return ("– | – | –" if "error" in r else
                    f"{r['sec']:.2f} | {r['rss_load_mb']:.0f} | {r['rss_query_mb']:.0f}")

        L.append(f"| {n:,} | bm25s retrieve() | {b['build_s']:.1f} | {b['disk'] / 1e6:.0f} | {lcell('bm25s mmap=False')} "
                 f"| {lat(b['retrieve'])} |")
        L.append(f"| {n:,} | bm25s get_scores+argpartition | ″ | ″ | ″ | ″ | ″ | {lat(b['get_scores'])} |")
        L.append(f"| {n:,} | bm25s hand CSC scorer | ″ | ″ | ″ | ″ | ″ | {lat(b['hand'])} |")
        L.append(f"| {n:,} | bm25s load mmap=True (hand scorer) | ″ | ″ | {lcell('bm25s mmap=True')} | "
                 f"first query {ld['bm25s mmap=True'].get('first_query_ms', float('nan')):.1f}, "
                 f"p50 of 20 {ld['bm25s mmap=True'].get('first20_p50_ms', float('nan')):.2f} | | | |")
        L.append(f"| {n:,} | tantivy ({t['threads']} indexing thread{'s' if t['threads'] > 1 else ''}) | "
                 f"{t['build_s']:.1f} | {t['disk'] / 1e6:.0f} | {lcell('tantivy Index.open')} | {lat(t['search'])} |")
        L.append(f"| {n:,} | tantivy without row-id lookup | ″ | ″ | ″ | ″ | ″ | {lat(t['search_no_rowids'])} |")
    L += ["", "| N | tokens | tokenize s | bm25s vocab | bm25s nnz | bm25s save s | bm25s build peak RSS MB | "
          "tantivy segments | tantivy build 2 threads s | top-200 overlap bm25s∩tantivy | same with bm25s k1=1.2 | "
          "tantivy hits of a passage bm25s also has (any copy) | tantivy hits bm25s scores ≥ 99% of its 200th | "
          "bm25s retrieve ∩ get_scores | hand = get_scores |", "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for p in parts:
        s, b, t = p["summary"], p["bm25s"], p["tantivy"]
        L.append(f"| {s['n']:,} | {s['tokens']:,} | {s['tokenize_s']:.1f} | {b['vocab']:,} | {b['nnz']:,} | "
                 f"{b['save_s']:.1f} | {b['peak_mb']:.0f} | {t['segments']} | "
                 f"{t.get('build_s_2threads', float('nan')):.1f} | {s['overlap_bm25s_tantivy']:.3f} | "
                 f"{s.get('overlap_bm25s_k12_tantivy', float('nan')):.3f} | {s.get('overlap_same_passage', float('nan')):.3f} | "
                 f"{s.get('overlap_score_1pct', float('nan')):.3f} | {b['retrieve_vs_get_scores']:.3f} | "
                 f"{b['hand_vs_get_scores']:.3f} |")
    L += ["", "| N | tantivy add 100 passages + commit s | tantivy delete by term + commit s | wait merging s | "
          "bm25s separate 100-passage index build s (+ save s) |", "|---|---|---|---|---|"]
    for p in parts:
        u = p["updates"]
        L.append(f"| {p['summary']['n']:,} | {u['tantivy_add_commit_s']:.3f} | {u['tantivy_delete_commit_s']:.3f} | "
                 f"{u['tantivy_wait_merging_s']:.3f} | {u['bm25s_small_build_s']:.3f} (+{u['bm25s_small_save_s']:.3f}) |")
    L += ["", "## Recommendation (computed from the rows above)", ""]
    if parts:
        big = parts[-1]
        b, t, ld = big["bm25s"], big["tantivy"], big["load"]
        fastest = min((("bm25s hand CSC scorer", b["hand"][1]), ("bm25s get_scores", b["get_scores"][1]),
                       ("bm25s retrieve", b["retrieve"][1]), ("tantivy", t["search"][1])), key=lambda x: x[1])
        L.append(f"- At {big['summary']['n']:,} passages the lowest query p95 is {fastest[0]} ({fastest[1]:.2f} ms); "
                 f"p95 wall / CPU: bm25s get_scores (today's path) {b['get_scores'][1]:.2f} / {b['get_scores'][3]:.2f} ms, "
                 f"bm25s retrieve {b['retrieve'][1]:.2f} / {b['retrieve'][3]:.2f} ms, hand scorer {b['hand'][1]:.2f} / "
                 f"{b['hand'][3]:.2f} ms, tantivy {t['search'][1]:.2f} / {t['search'][3]:.2f} ms.")
        L.append(f"- Build: bm25s {b['build_s']:.0f} s (full rebuild on every change) vs tantivy {t['build_s']:.0f} s "
                 f"once, then {big['updates']['tantivy_add_commit_s']:.2f} s to add a report and "
                 f"{big['updates']['tantivy_delete_commit_s']:.2f} s to delete one.")
        L.append(f"- Disk: bm25s {b['disk'] / 1e6:.0f} MB vs tantivy {t['disk'] / 1e6:.0f} MB; load: bm25s "
                 f"{ld['bm25s mmap=False'].get('sec', float('nan')):.2f} s (RAM) / "
                 f"{ld['bm25s mmap=True'].get('sec', float('nan')):.2f} s (mmap) vs tantivy "
                 f"{ld['tantivy Index.open'].get('sec', float('nan')):.2f} s.")
        sm = big["summary"]
        L.append(f"- Rankings (BM25 variants: k1 1.5 vs 1.2, tantivy's 1-byte length norms): top-200 row overlap "
                 f"{sm['overlap_bm25s_tantivy']:.3f} (bm25s with k1=1.2: {sm.get('overlap_bm25s_k12_tantivy', float('nan')):.3f}); "
                 f"but {sm.get('overlap_same_passage', float('nan')):.3f} of tantivy's hits are copies of passages bm25s also "
                 f"returns and {sm.get('overlap_score_1pct', float('nan')):.3f} score ≥ 99% of bm25s's own 200th: the "
                 f"difference is mostly which of many near-tied copies make the cut (bm25s retrieve vs get_scores, same "
                 f"scores, agree on only {b['retrieve_vs_get_scores']:.3f}).")
    text = "\n".join(L) + "\n"
    (OUT / "keyword.md").write_text(text, encoding="utf-8")
    print(text)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", type=int)
    p.add_argument("--char-drop", type=float, default=0.02)
    p.add_argument("--tantivy-threads", type=int, default=1)
    p.add_argument("--tantivy-threads2", action="store_true", help="also time a 2-thread tantivy build")
    p.add_argument("--k1-check", action="store_true", help="also overlap tantivy with bm25s k1=1.2")
    p.add_argument("--keep", action="store_true", help="keep the written indexes")
    p.add_argument("--report", action="store_true")
    args = p.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    if args.report:
        report()
    elif args.size:
        run_size(args)
    else:
        p.error("--size or --report")


if __name__ == "__main__":
    main()
