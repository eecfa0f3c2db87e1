"""Approximate dense index (FAISS HNSW / IVF) against exact IndexFlatIP, at 50k–1M passages.

Vectors: the live index's real passage vectors (rows 0..n_real-1) plus distractors up to N rows:
  noisy   copies of the real vectors + gaussian noise (σ cycling over NOISE), renormalised: the
          near-duplicates a corpus of many similar reports has (the real e5 passages sit at cosine
          ~0.91–0.97 to one another; σ 0.005/0.01/0.02/0.03 give cosine ~0.995/0.98/0.93/0.86)
  random  uniformly random unit vectors (the 1,000,000 case)
  mix     (extra, --distractors mix) a random point between two real passages (λ ~ U(0, 0.5)) + noise
          σ=0.01: similar passages without the noisy case's tight clusters of ~N/481 copies
Queries: every question of eval/dev.jsonl + eval/test.jsonl embedded with the e5 embedder (cached
in /tmp/measure/ann_queries.npy). Ground truth: exact flat search on the same N rows.

Per index: build seconds (train + add, 2 OpenMP threads), serialized bytes, single-query search
p50/p95 ms (k=200, one query at a time, omp threads 1 and 2), recall@200 and recall@10 (top 10 of
the k=200 result) against flat. HNSW searches with ef = max(efSearch, k), so efSearch < 200
behaves as 200. Filtered search (--filtered): allowed rows = 1% of N (the question's place's real
passages + random rows) and 0.02% of N (one report: the place's real passages, cut or padded with
their own noisy copies), each against exact search over the allowed rows only. Load (--load):
faiss.read_index with no flag / IO_FLAG_MMAP / IO_FLAG_READ_ONLY|MMAP / IO_FLAG_MMAP_IFC in a fresh
process: seconds, RSS after load and after 50 queries, and whether results equal a plain load.

One run per size (or per part of a grid) keeps each run short; each writes a JSON part, and
--report merges the parts into a markdown table with recommendations:

    nice -n 10 .venv/bin/python scripts/ann_bench.py --size 50000 --hnsw 16:40,16:80,32:40,32:80,32:200 --filtered --load --tag a
    nice -n 10 .venv/bin/python scripts/ann_bench.py --size 500000 --hnsw 16:40 --filtered --load --lat-queries 100 --tag a
    nice -n 10 .venv/bin/python scripts/ann_bench.py --size 500000 --hnsw 16:80,32:80 --no-flat --no-ivf --filtered --load --lat-queries 100 --tag b
    nice -n 10 .venv/bin/python scripts/ann_bench.py --size 500000 --hnsw 32:40 --no-flat --no-ivf --filtered --load --lat-queries 100 --tag c
    nice -n 10 .venv/bin/python scripts/ann_bench.py --size 1000000 --hnsw "" --filtered --load --lat-queries 50 --tag d1
    nice -n 10 .venv/bin/python scripts/ann_bench.py --size 1000000 --hnsw 16:40 --no-flat --no-ivf --filtered --load --lat-queries 50 --tag d2
    nice -n 10 .venv/bin/python scripts/ann_bench.py --size 500000 --distractors mix --hnsw 32:80 --lat-queries 100 --tag mix
    nice -n 10 .venv/bin/python scripts/ann_bench.py --size 500000 --distractors mix --hnsw "" --no-flat --nprobe 128,256 --lat-queries 100 --tag mix2
    nice -n 10 .venv/bin/python scripts/ann_bench.py --crossover 1000,2000,5000,10000,20000,50000 --hnsw 32:80 --cross-efs 256 --cross-nprobe 32
    .venv/bin/python scripts/ann_bench.py --report        # → /tmp/measure/ann.md
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

OUT = Path("/tmp/measure")
PARTS = OUT / "ann_parts"
IDX_DIR = OUT / "ann_idx"
K = 200
NOISE = (0.005, 0.01, 0.02, 0.03)
FILTERS = (("1%", 0.01), ("0.02%", 0.0002))


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def pct(ms: list[float]) -> tuple[float, float]:
    return float(np.percentile(ms, 50)), float(np.percentile(ms, 95))


# ---------------------------------------------------------------- data

def live_index():
    """(faiss index, chunk dicts, embedder spec) of the live build: qa.store.load_index, or, when
    this checkout's qa cannot read that build (its format changed meanwhile), its files directly."""
    try:
        from qa.store import load_index

        ix = load_index(ROOT / "index")
        return ix.vectors, [{"text": c.text, "district": c.district} for c in ix.chunks], ix.manifest["embedder"]
    except Exception as exc:  # noqa: BLE001 - fall back to the build's own files
        import faiss

        build = ROOT / "index" / "builds" / (ROOT / "index" / "CURRENT").read_text().strip()
        print(f"load_index failed ({type(exc).__name__}); reading {build} directly", file=sys.stderr)
        manifest = json.loads((build / "manifest.json").read_text(encoding="utf-8"))
        with (build / "chunks.jsonl").open(encoding="utf-8") as fh:
            chunks = [json.loads(line) for line in fh if line.strip()]
        return faiss.read_index(str(build / "vectors.faiss")), chunks, manifest["embedder"]


def real_data() -> tuple[np.ndarray, list[str], np.ndarray, list[str]]:
    """Passage vectors, their districts, question vectors, the questions' districts."""
    vectors, chunks, embedder = live_index()
    X = vectors.reconstruct_n(0, vectors.ntotal).astype(np.float32)
    districts = [c["district"] for c in chunks]
    questions = []
    for name in ("dev.jsonl", "test.jsonl"):
        with (ROOT / "eval" / name).open(encoding="utf-8") as fh:
            questions += [json.loads(line) for line in fh if line.strip()]
    texts = [q["question"] for q in questions]
    qdist = []
    for q in questions:
        d = q.get("district")
        d = d[0] if isinstance(d, list) and d else d
        qdist.append(d if d in set(districts) else max(set(districts), key=districts.count))
    cache, meta = OUT / "ann_queries.npy", OUT / "ann_queries.json"
    if cache.exists() and meta.exists() and json.loads(meta.read_text()) == texts:
        Q = np.load(cache)
    else:
        from qa.embed import get_embedder

        Q = get_embedder(embedder).encode_query(texts).astype(np.float32)
        np.save(cache, Q)
        meta.write_text(json.dumps(texts, ensure_ascii=False))
    return X, districts, np.ascontiguousarray(Q), qdist


def make_data(X: np.ndarray, n: int, kind: str, seed: int = 0) -> np.ndarray:
    """n rows: X first, then distractors (noisy copies of X, or random unit vectors)."""
    rng = np.random.default_rng(seed)
    nr, d = X.shape
    D = np.empty((n, d), dtype=np.float32)
    D[:nr] = X
    row, block = nr, 0
    while row < n:
        m = min(nr if kind in ("noisy", "mix") else 50_000, n - row)
        if kind == "noisy":
            sigma = NOISE[block % len(NOISE)]
            Y = X[:m] + rng.standard_normal((m, d), dtype=np.float32) * np.float32(sigma)
        elif kind == "mix":  # a point between two random real passages, plus noise: no tight clusters
            a, b = rng.integers(0, nr, m), rng.integers(0, nr, m)
            lam = rng.uniform(0, 0.5, (m, 1)).astype(np.float32)
            Y = X[a] + lam * (X[b] - X[a]) + rng.standard_normal((m, d), dtype=np.float32) * np.float32(0.01)
        else:
            Y = rng.standard_normal((m, d), dtype=np.float32)
        Y /= np.linalg.norm(Y, axis=1, keepdims=True)
        D[row:row + m] = Y
        row += m
        block += 1
    return D


def allowed_sets(n: int, nr: int, districts: list[str], kind: str, seed: int = 1) -> dict:
    """Per filter and place: the allowed row ids (sorted int64)."""
    rng = np.random.default_rng(seed)
    out: dict[str, dict[str, np.ndarray]] = {}
    for label, frac in FILTERS:
        size = max(1, round(frac * n))
        out[label] = {}
        for place in sorted(set(districts)):
            own = np.array([i for i, d in enumerate(districts) if d == place], dtype=np.int64)
            if label == "1%":
                extra = rng.choice(np.arange(nr, n), size=max(0, size - len(own)), replace=False)
                ids = np.concatenate([own, extra])[:size]
            else:  # one report: the place's passages, padded with their noisy copies (same place, other years)
                ids = own
                copy = 1
                while len(ids) < size and kind == "noisy" and nr + copy * nr <= n:  # (mix/random: random rows)
                    ids = np.concatenate([ids, own + copy * nr])
                    copy += 1
                if len(ids) < size:
                    ids = np.concatenate([ids, rng.choice(np.arange(nr, n), size - len(ids), replace=False)])
                ids = ids[:size]
            out[label][place] = np.sort(ids).astype(np.int64)
    return out


# ---------------------------------------------------------------- measurement

def recall(I: np.ndarray, G: np.ndarray, k: int) -> float:
    return float(np.mean([len(set(a[:k][a[:k] >= 0]) & set(g[:k][g[:k] >= 0])) / max(1, (g[:k] >= 0).sum())
                          for a, g in zip(I, G)]))


TIE = 0.005  # cosine: the spread of the σ=0.005 near-duplicates around their passage


def tie_recall(DI: np.ndarray, GD: np.ndarray, k: int) -> float:
    """Share of the approximate top-k whose similarity is within TIE of the exact k-th one: a
    miss among near-identical copies (which a reader could not tell apart) does not count."""
    return float(np.mean([(d[:k] >= g[k - 1] - TIE).sum() / k for d, g in zip(DI, GD)]))


def latency(search, Q: np.ndarray, threads: int, nq: int, repeats: int = 3) -> dict:
    """Single-query latency over the first nq questions: per question the minimum of `repeats`
    runs (wall ms and this thread's CPU ms), then p50/p95 over questions. The minimum removes
    most of the preemption a shared, busy machine adds; CPU time (1 thread) removes the rest."""
    import faiss

    faiss.omp_set_num_threads(threads)
    for i in range(min(5, nq)):
        search(Q[i:i + 1])
    wall, cpu = np.full(nq, np.inf), np.full(nq, np.inf)
    for _ in range(repeats):
        for i in range(nq):
            c, t = time.thread_time(), time.perf_counter()
            search(Q[i:i + 1])
            wall[i] = min(wall[i], (time.perf_counter() - t) * 1000)
            cpu[i] = min(cpu[i], (time.thread_time() - c) * 1000)
    return {"p50": float(np.percentile(wall, 50)), "p95": float(np.percentile(wall, 95)),
            "cpu_p50": float(np.percentile(cpu, 50)), "cpu_p95": float(np.percentile(cpu, 95))}


def index_bytes(index, name: str) -> tuple[int, Path]:
    import faiss

    IDX_DIR.mkdir(parents=True, exist_ok=True)
    path = IDX_DIR / f"{name}.faiss"
    faiss.write_index(index, str(path))
    return path.stat().st_size, path


LOAD_CODE = r"""
import json, sys, time, numpy as np, faiss
from pathlib import Path
def rss():
    for l in Path("/proc/self/status").read_text().splitlines():
        if l.startswith("VmRSS:"): return int(l.split()[1]) / 1024
path, flag, qpath, param, value = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5])
faiss.omp_set_num_threads(1)
Q = np.load(qpath)
r0 = rss()
t = time.perf_counter()
try:
    ix = faiss.read_index(path, flag)
except Exception as e:
    print(json.dumps({"error": (str(e).splitlines() or [type(e).__name__])[-1][:120]})); sys.exit()
sec = time.perf_counter() - t
r1 = rss()
if param == "efSearch": ix.hnsw.efSearch = value
elif param == "nprobe": ix.nprobe = value
ms = []
for i in range(50):
    t = time.perf_counter(); D, I = ix.search(Q[i:i+1], 200); ms.append((time.perf_counter() - t) * 1000)
D, I = ix.search(Q[:20], 200)
print(json.dumps({"sec": sec, "rss_load_mb": r1 - r0, "rss_query_mb": rss() - r0, "first50_p50_ms": float(np.median(ms)),
                  "ids": I[:, :20].tolist()}))
"""


def load_test(path: Path, param: str, value: int) -> list[dict]:
    import faiss

    flags = [("none", 0), ("MMAP", faiss.IO_FLAG_MMAP), ("READ_ONLY|MMAP", faiss.IO_FLAG_READ_ONLY | faiss.IO_FLAG_MMAP),
             ("MMAP_IFC", faiss.IO_FLAG_MMAP_IFC)]
    qpath = OUT / "ann_queries.npy"
    rows, ref = [], None
    for label, flag in flags:
        proc = subprocess.run([sys.executable, "-c", LOAD_CODE, str(path), str(flag), str(qpath), param, str(value)],
                              capture_output=True, text=True, timeout=900)
        try:
            out = json.loads(proc.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            out = {"error": (proc.stderr.strip().splitlines() or ["crashed"])[-1][:120]}
        if "ids" in out:
            ref = ref if ref is not None else out["ids"]
            out["same_results"] = out.pop("ids") == ref
        rows.append({"flag": label, **out})
    return rows


def build_flat(D):
    import faiss

    ix = faiss.IndexFlatIP(D.shape[1])
    t = time.perf_counter()
    ix.add(D)
    return ix, time.perf_counter() - t


def build_hnsw(D, m, efc):
    import faiss

    ix = faiss.IndexHNSWFlat(D.shape[1], m, faiss.METRIC_INNER_PRODUCT)
    ix.hnsw.efConstruction = efc
    t = time.perf_counter()
    ix.add(D)
    return ix, time.perf_counter() - t


def build_ivf(D, nlist, seed=0):
    import faiss

    d = D.shape[1]
    quantizer = faiss.IndexFlatIP(d)
    ix = faiss.IndexIVFFlat(quantizer, d, nlist, faiss.METRIC_INNER_PRODUCT)
    ix.cp.niter = 10
    ix.cp.seed = seed
    sample = D[np.random.default_rng(seed).choice(len(D), min(len(D), 50 * nlist), replace=False)]
    t = time.perf_counter()
    ix.train(sample)
    ix.add(D)
    return ix, time.perf_counter() - t


def measure_index(ix, kind, params, build_s, Q, G, name, args, row_base):
    """Rows for one built index over its search-parameter grid."""
    import faiss

    G, GD = G

    size, path = index_bytes(ix, name)
    rows = []
    grid = [None] if kind == "flat" else ([("efSearch", e) for e in args.efs] if kind == "hnsw"
                                           else [("nprobe", p) for p in args.nprobe])
    for g in grid:
        if g is not None:
            if g[0] == "efSearch":
                ix.hnsw.efSearch = g[1]
            else:
                ix.nprobe = g[1]
        faiss.omp_set_num_threads(2)
        DI, I = ix.search(Q, K)
        lat = {}
        for th in (1, 2):
            nq = args.lat_queries if kind != "flat" or row_base["n"] < 200_000 else min(args.lat_queries, 100)
            lat[th] = latency(lambda q: ix.search(q, K), Q, th, nq)
        rows.append({**row_base, "index": kind, "params": {**params, **({g[0]: g[1]} if g else {})},
                     "build_s": build_s, "bytes": size, "p50_1": lat[1]["p50"], "p95_1": lat[1]["p95"],
                     "cpu_p50_1": lat[1]["cpu_p50"], "cpu_p95_1": lat[1]["cpu_p95"], "p50_2": lat[2]["p50"],
                     "p95_2": lat[2]["p95"], "r200": recall(I, G, 200), "r10": recall(I, G, 10),
                     "r200_tol": tie_recall(DI, GD, 200), "r10_tol": tie_recall(DI, GD, 10)})
        print(json.dumps(rows[-1]), flush=True)
    return rows, path


def filtered(ix, kind, params, D, Q, qdist, allowed, args, row_base):
    """Filtered search against exact search over the allowed rows."""
    import faiss

    faiss.omp_set_num_threads(1)
    nq = args.lat_queries
    rows = []
    storage = faiss.downcast_index(ix.storage) if kind == "hnsw" else ix if kind == "flat" else None
    view = None
    if storage is not None:
        view = faiss.rev_swig_ptr(storage.get_xb(), storage.ntotal * storage.d).reshape(storage.ntotal, storage.d)
    for label, sets in allowed.items():
        truth = []
        for i in range(nq):
            ids = sets[qdist[i]]
            s = D[ids] @ Q[i]
            order = np.argsort(-s)[:K]
            truth.append(ids[order])
        methods = []
        if kind == "flat":
            methods.append(("flat+IDSelectorBatch", {}, lambda q, ids: ix.search(
                q, min(K, len(ids)), params=faiss.SearchParameters(sel=faiss.IDSelectorBatch(ids)))[1][0]))

            def gather(q, ids, fetch):
                V = fetch(ids)
                s = V @ q[0]
                k = min(K, len(ids))
                top = np.argpartition(-s, k - 1)[:k] if k < len(ids) else np.arange(len(ids))
                return ids[top[np.argsort(-s[top])]]

            methods.append(("exact gather reconstruct_batch+matmul", {},
                            lambda q, ids: gather(q, ids, lambda r: ix.reconstruct_batch(r))))
            methods.append(("exact gather numpy view+matmul", {}, lambda q, ids: gather(q, ids, lambda r: view[r])))
        elif kind == "hnsw":
            for ef in args.filter_efs:
                methods.append((f"hnsw+sel efSearch={ef}", {"efSearch": ef}, (lambda ef: lambda q, ids: ix.search(
                    q, min(K, len(ids)),
                    params=faiss.SearchParametersHNSW(sel=faiss.IDSelectorBatch(ids), efSearch=ef))[1][0])(ef)))
        else:
            for p in args.filter_nprobe:
                methods.append((f"ivf+sel nprobe={p}", {"nprobe": p}, (lambda p: lambda q, ids: ix.search(
                    q, min(K, len(ids)),
                    params=faiss.SearchParametersIVF(sel=faiss.IDSelectorBatch(ids), nprobe=p))[1][0])(p)))
        for mname, mp, fn in methods:
            for i in range(3):
                fn(Q[i:i + 1], sets[qdist[i]])
            wall, cpu = np.full(nq, np.inf), np.full(nq, np.inf)
            for _ in range(3):
                for i in range(nq):
                    ids = sets[qdist[i]]
                    c, t = time.thread_time(), time.perf_counter()
                    fn(Q[i:i + 1], ids)
                    wall[i] = min(wall[i], (time.perf_counter() - t) * 1000)
                    cpu[i] = min(cpu[i], (time.thread_time() - c) * 1000)
            got, short, r200, r10 = [], 0, [], []
            for i in range(nq):
                ids = sets[qdist[i]]
                res = np.asarray(fn(Q[i:i + 1], ids))
                res = res[res >= 0]
                want = min(K, len(ids))
                short += len(res) < want
                got.append(len(res) / want)
                tr = truth[i]
                r200.append(len(set(res.tolist()) & set(tr.tolist())) / want)
                r10.append(len(set(res[:10].tolist()) & set(tr[:10].tolist())) / min(10, want))
            rows.append({**row_base, "index": kind, "params": {**params, **mp}, "method": mname, "filter": label,
                         "allowed": int(np.mean([len(v) for v in sets.values()])),
                         "p50_1": float(np.percentile(wall, 50)), "p95_1": float(np.percentile(wall, 95)),
                         "cpu_p95_1": float(np.percentile(cpu, 95)),
                         "short_rate": short / nq, "returned": float(np.mean(got)), "r200": float(np.mean(r200)),
                         "r10": float(np.mean(r10))})
            print(json.dumps(rows[-1]), flush=True)
    return rows


def run_size(args):
    import faiss

    X, districts, Q, qdist = real_data()
    n = args.size
    kind = args.distractors or ("random" if n >= 1_000_000 else "noisy")
    t = time.perf_counter()
    D = make_data(X, n, kind)
    print(f"data {n} {kind}: {time.perf_counter() - t:.1f}s", flush=True)
    allowed = allowed_sets(n, len(X), districts, kind)
    faiss.omp_set_num_threads(2)
    flat, flat_s = build_flat(D)
    GD, G = flat.search(Q, K)
    base = {"n": n, "distractors": kind, "nq": len(Q), "lat_nq": args.lat_queries}
    part = {"main": [], "filtered": [], "load": []}
    tag = f"{n}_{args.tag or os.getpid()}"
    if args.flat:
        rows, path = measure_index(flat, "flat", {}, flat_s, Q, (G, GD), f"flat_{tag}", args, base)
        part["main"] += rows
        if args.filtered:
            part["filtered"] += filtered(flat, "flat", {}, D, Q, qdist, allowed, args, base)
        if args.load:
            part["load"] += [{**base, "index": "flat", **r} for r in load_test(path, "-", 0)]
        path.unlink()
    del flat
    for spec in args.hnsw:
        m, efc = (int(x) for x in spec.split(":"))
        faiss.omp_set_num_threads(2)
        ix, sec = build_hnsw(D, m, efc)
        print(f"hnsw M={m} efC={efc}: {sec:.1f}s", flush=True)
        rows, path = measure_index(ix, "hnsw", {"M": m, "efC": efc}, sec, Q, (G, GD), f"hnsw{m}_{efc}_{tag}", args, base)
        part["main"] += rows
        if args.filtered:
            part["filtered"] += filtered(ix, "hnsw", {"M": m, "efC": efc}, D, Q, qdist, allowed, args, base)
        if args.load:
            part["load"] += [{**base, "index": f"hnsw M={m} efC={efc}", **r}
                             for r in load_test(path, "efSearch", 256)]
        path.unlink()
        del ix
        _save(part, tag)
    if args.ivf:
        nlist = args.nlist or int(round(4 * math.sqrt(n)))
        faiss.omp_set_num_threads(2)
        ix, sec = build_ivf(D, nlist)
        print(f"ivf nlist={nlist}: {sec:.1f}s", flush=True)
        rows, path = measure_index(ix, "ivf", {"nlist": nlist}, sec, Q, (G, GD), f"ivf{nlist}_{tag}", args, base)
        part["main"] += rows
        if args.filtered:
            part["filtered"] += filtered(ix, "ivf", {"nlist": nlist}, D, Q, qdist, allowed, args, base)
        if args.load:
            part["load"] += [{**base, "index": f"ivf nlist={nlist}", **r} for r in load_test(path, "nprobe", 32)]
        path.unlink()
        del ix
    _save(part, tag)


def _save(part, tag):
    PARTS.mkdir(parents=True, exist_ok=True)
    (PARTS / f"{tag}.json").write_text(json.dumps(part, indent=1))


def run_crossover(args):
    """Flat vs HNSW vs IVF single-query p95 (1 thread) at small N: where approximate starts to win."""
    import faiss

    X, _, Q, _ = real_data()
    m, efc = (int(x) for x in args.hnsw[0].split(":"))
    rows = []
    for n in args.crossover:
        D = make_data(X, n, "noisy")
        faiss.omp_set_num_threads(2)
        flat, _ = build_flat(D)
        G = flat.search(Q, K)[1]
        h, _ = build_hnsw(D, m, efc)
        h.hnsw.efSearch = args.cross_efs
        nlist = int(round(4 * math.sqrt(n)))
        ivf, _ = build_ivf(D, nlist) if n >= 8 * nlist else (None, 0)
        for name, ix, setp in (("flat", flat, None), (f"hnsw M={m} efC={efc} efSearch={args.cross_efs}", h, None),
                               (f"ivf nlist={nlist} nprobe={args.cross_nprobe}", ivf, "nprobe")):
            if ix is None:
                continue
            if setp:
                ix.nprobe = args.cross_nprobe
            faiss.omp_set_num_threads(2)
            I = ix.search(Q, K)[1]
            lat = latency(lambda q: ix.search(q, K), Q, 1, args.lat_queries)
            rows.append({"n": n, "index": name, "p50_1": lat["p50"], "p95_1": lat["p95"], "cpu_p50_1": lat["cpu_p50"],
                         "cpu_p95_1": lat["cpu_p95"], "r200": recall(I, G, 200)})
            print(json.dumps(rows[-1]), flush=True)
    PARTS.mkdir(parents=True, exist_ok=True)
    (PARTS / "crossover.json").write_text(json.dumps({"crossover": rows}, indent=1))


# ---------------------------------------------------------------- report

def fmt_params(p: dict) -> str:
    return " ".join(f"{k}={v}" for k, v in p.items())


def report():
    main, filt, load, cross = [], [], [], []
    for f in sorted(PARTS.glob("*.json")):
        part = json.loads(f.read_text())
        main += part.get("main", [])
        filt += part.get("filtered", [])
        load += part.get("load", [])
        cross += part.get("crossover", [])
    key = lambda r: (r["n"], r["distractors"], ["flat", "hnsw", "ivf"].index(r["index"]), tuple(r["params"].values()))
    main.sort(key=key)
    L = ["# Dense index: approximate vs exact flat (faiss-cpu 1.15.1, 384-dim e5, IP)", "",
         f"k={K}; {main[0]['nq'] if main else 0} real questions (dev+test) for recall; latency = single queries "
         f"(first {main[0]['lat_nq'] if main else 0}; flat at N≥200k: 100), omp threads 1 and 2, on a shared 2-core "
         "machine (nice 10). Build uses 2 threads. IVF trains on 50×nlist rows, 10 k-means iterations. "
         "HNSW searches with ef=max(efSearch,k): efSearch 64/128 run as 200. recall@10 = top 10 of the k=200 result. "
         f"'±ties' = share of the returned top-k whose cosine is within {TIE} of the exact k-th cosine (a miss among "
         "near-identical copies does not count).",
         "Latency per question = min of 3 runs (wall); 'CPU' = the search thread's CPU time (1 thread), which "
         "preemption by other processes does not inflate.",
         "", "| N | distractors | index | params | build s | MB | p50 ms (1t) | p95 ms (1t) | CPU p50 (1t) | "
         "CPU p95 (1t) | p50 ms (2t) | p95 ms (2t) | recall@200 | recall@10 | recall@200 ±ties | recall@10 ±ties |",
         "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in main:
        L.append(f"| {r['n']:,} | {r['distractors']} | {r['index']} | {fmt_params(r['params'])} | {r['build_s']:.1f} | "
                 f"{r['bytes'] / 1e6:.0f} | {r['p50_1']:.2f} | {r['p95_1']:.2f} | {r['cpu_p50_1']:.2f} | "
                 f"{r['cpu_p95_1']:.2f} | {r['p50_2']:.2f} | {r['p95_2']:.2f} | {r['r200']:.4f} | {r['r10']:.4f} | "
                 f"{r.get('r200_tol', float('nan')):.4f} | {r.get('r10_tol', float('nan')):.4f} |")
    if filt:
        L += ["", "## Filtered search (k=200 or all allowed rows; 1 thread; vs exact over the allowed rows)", "",
              "short = share of queries returning fewer than min(k, allowed) rows; returned = mean fraction returned.",
              "", "| N | filter | allowed rows | index | method | p50 ms | p95 ms | CPU p95 | short | returned | "
              "recall@200 | recall@10 |", "|---|---|---|---|---|---|---|---|---|---|---|---|"]
        filt.sort(key=lambda r: (r["n"], r["distractors"], r["filter"], ["flat", "hnsw", "ivf"].index(r["index"]),
                                 tuple(r["params"].values()), r["method"]))
        for r in filt:
            idx = r["index"] + (f" M={r['params']['M']} efC={r['params']['efC']}" if r["index"] == "hnsw" else
                                f" nlist={r['params']['nlist']}" if r["index"] == "ivf" else "")
            L.append(f"| {r['n']:,} {r['distractors']} | {r['filter']} | {r['allowed']:,} | {idx} | {r['method']} | {r['p50_1']:.2f} | "
                     f"{r['p95_1']:.2f} | {r['cpu_p95_1']:.2f} | {r['short_rate']:.2f} | {r['returned']:.3f} | {r['r200']:.4f} | "
                     f"{r['r10']:.4f} |")
    if load:
        L += ["", "## Loading the written index (fresh process, warm page cache)", "",
              "RSS in MB above the process before the load; 'after queries' = after 50 single queries (k=200); "
              "same = top-20 ids of 20 queries equal to those of a plain load.", "",
              "| N | index | flag | load s | RSS after load | RSS after queries | same | error |",
              "|---|---|---|---|---|---|---|---|"]
        for r in sorted(load, key=lambda r: (r["n"], r["distractors"])):
            if "error" in r:
                L.append(f"| {r['n']:,} {r['distractors']} | {r['index']} | {r['flag']} | – | – | – | – | {r['error']} |")
            else:
                L.append(f"| {r['n']:,} {r['distractors']} | {r['index']} | {r['flag']} | {r['sec']:.3f} | {r['rss_load_mb']:.0f} | "
                         f"{r['rss_query_mb']:.0f} | {'yes' if r['same_results'] else 'NO'} | |")
    if cross:
        L += ["", "## Crossover: single-query p95 (1 thread), noisy distractors", "",
              "| N | index | p50 ms | p95 ms | CPU p50 | CPU p95 | recall@200 |", "|---|---|---|---|---|---|---|"]
        for r in cross:
            L.append(f"| {r['n']:,} | {r['index']} | {r['p50_1']:.2f} | {r['p95_1']:.2f} | {r['cpu_p50_1']:.2f} | "
                     f"{r['cpu_p95_1']:.2f} | {r['r200']:.4f} |")
    L += ["", "## Recommendation (computed from the rows above)", ""]
    for n, kind in sorted({(r["n"], r["distractors"]) for r in main}):
        rows = [r for r in main if r["n"] == n and r["distractors"] == kind]
        ok = [r for r in rows if r["index"] != "flat" and r["r200"] >= 0.99]
        flat = [r for r in rows if r["index"] == "flat"]
        fl = f"; flat p95 {flat[0]['p95_1']:.1f} ms (CPU {flat[0]['cpu_p95_1']:.1f})" if flat else ""
        if ok:
            best = min(ok, key=lambda r: r["p95_1"])
            L.append(f"- N={n:,} ({kind}): lowest p95 (1 thread) with recall@200 ≥ 0.99: {best['index']} "
                     f"{fmt_params(best['params'])} — p95 {best['p95_1']:.2f} ms (CPU {best['cpu_p95_1']:.2f}), recall@200 {best['r200']:.4f}, "
                     f"recall@10 {best['r10']:.4f}, {best['bytes'] / 1e6:.0f} MB, build {best['build_s']:.0f} s{fl}")
        else:
            top = max((r for r in rows if r["index"] != "flat"), key=lambda r: r["r200"], default=None)
            if top:
                L.append(f"- N={n:,} ({kind}): no approximate config reached recall@200 0.99; best {top['index']} "
                         f"{fmt_params(top['params'])} recall@200 {top['r200']:.4f}, p95 {top['p95_1']:.2f} ms{fl}")
    if cross:
        import re

        family = lambda name: re.sub(r"nlist=\d+", "nlist=4√N", name)
        for name in dict.fromkeys(family(r["index"]) for r in cross if r["index"] != "flat"):
            for col, what in (("p95_1", "wall p95"), ("cpu_p95_1", "CPU p95")):
                mine = [r for r in cross if family(r["index"]) == name]
                wins = [r["n"] for r in mine
                        if r[col] < next(f[col] for f in cross if f["n"] == r["n"] and f["index"] == "flat")]
                loses = [r["n"] for r in mine if r["n"] not in wins]
                L.append(f"- crossover, {name}: {what} below flat at N = {', '.join(f'{w:,}' for w in wins) or 'none'}"
                         f"{'; not at ' + ', '.join(f'{x:,}' for x in loses) if loses else ''}")
    for n, kind, label in sorted({(r["n"], r["distractors"], r["filter"]) for r in filt}):
        rows = [r for r in filt if (r["n"], r["distractors"], r["filter"]) == (n, kind, label)]
        exact = [r for r in rows if r["short_rate"] == 0 and r["r200"] >= 0.999]
        approx = [r for r in rows if r["index"] != "flat"]
        best = min(exact, key=lambda r: r["cpu_p95_1"]) if exact else None
        worst_short = min((r["short_rate"] for r in approx), default=float("nan"))
        best_r = max((r["r200"] for r in approx), default=float("nan"))
        if best:
            L.append(f"- filter {label} of {n:,} ({kind}, {best['allowed']:,} rows): fastest complete+exact = {best['method']} "
                     f"(CPU p95 {best['cpu_p95_1']:.2f} ms, wall p95 {best['p95_1']:.2f}); approximate+IDSelector came back "
                     f"short for ≥{worst_short:.0%} of queries, best recall@200 {best_r:.3f}")
    text = "\n".join(L) + "\n"
    (OUT / "ann.md").write_text(text, encoding="utf-8")
    print(text)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ints = lambda s: [int(x) for x in s.split(",") if x]
    p.add_argument("--size", type=int)
    p.add_argument("--distractors", choices=["noisy", "random", "mix"])
    p.add_argument("--hnsw", type=lambda s: [x for x in s.split(",") if x], default=["16:40", "16:80", "32:40", "32:80"],
                   help="M:efConstruction,…")
    p.add_argument("--efs", type=ints, default=[64, 128, 256, 512, 1024, 2048])
    p.add_argument("--nprobe", type=ints, default=[8, 16, 32, 64])
    p.add_argument("--nlist", type=int)
    p.add_argument("--filter-efs", type=ints, default=[256, 512])
    p.add_argument("--filter-nprobe", type=ints, default=[32])
    p.add_argument("--no-flat", dest="flat", action="store_false")
    p.add_argument("--no-ivf", dest="ivf", action="store_false")
    p.add_argument("--filtered", action="store_true")
    p.add_argument("--load", action="store_true")
    p.add_argument("--lat-queries", type=int, default=200)
    p.add_argument("--tag")
    p.add_argument("--crossover", type=ints)
    p.add_argument("--cross-efs", type=int, default=256)
    p.add_argument("--cross-nprobe", type=int, default=32)
    p.add_argument("--report", action="store_true")
    args = p.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    if args.report:
        report()
    elif args.crossover:
        run_crossover(args)
    elif args.size:
        run_size(args)
    else:
        p.error("--size, --crossover or --report")


if __name__ == "__main__":
    main()
