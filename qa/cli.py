"""`qa` command line: parse flags, call the package, print. No retrieval logic lives here."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from pathlib import Path

from . import __version__
from .config import ROOT, Settings, check_k, load_settings
from .errors import QAError


def _settings(args) -> Settings:
    settings = load_settings()
    return settings.with_(
        reports_dir=Path(args.reports) if getattr(args, "reports", None) else None,
        index_dir=Path(args.index) if getattr(args, "index", None) else None,
        embedder=getattr(args, "embedder", None),
        embed_workers=getattr(args, "workers", None),
        ray_address=getattr(args, "ray_address", None),
    )


def _districts(values: list[str] | None) -> list[str] | None:
    if not values:
        return None
    out = []
    for value in values:
        out.extend(v.strip() for v in value.replace("，", ",").split(",") if v.strip())
    return out


def cmd_index(args) -> int:
    from tqdm import tqdm

    from .service import Service

    settings = _settings(args)
    bar = None

    def start(total):
        nonlocal bar
        bar = tqdm(total=total, desc="embedding chunks", unit="chunk", file=sys.stderr, disable=args.quiet)

    def progress(n):
        if bar is not None:
            bar.update(n)

    service = Service(settings, load=False)
    report = service.build(full=args.full, on_message=lambda m: print(m, file=sys.stderr),
                           on_embed_start=start, on_progress=progress)
    if bar is not None:
        bar.close()
    if report.modified and not report.full:  # the add is live; merge small segments if a tier is full
        service.merge(on_message=lambda m: print(m, file=sys.stderr))
    kind = "full build" if report.full else ("incremental" if report.modified else "up to date")
    print(f"index: {settings.index_dir} ({kind}, {report.seconds:.1f}s) — {len(report.documents)} reports, "
          f"{report.chunks} chunks, {report.embedded} embedded")
    for name, label in (("added", "added"), ("changed", "changed"), ("removed", "removed")):
        for source in getattr(report, name):
            print(f"  {label}: {source}")
    new = set(report.added) | set(report.changed) | (set(d["source"] for d in report.documents) if report.full else set())
    for doc in report.documents:
        if args.quiet or doc["source"] not in new:
            continue
        removed = ", ".join(f"{k} {v}" for k, v in doc.get("removed", {}).items()) or "nothing"
        level = f", {doc['level']}" if doc.get("level") else ""
        detected = doc.get("detected", {})
        print(f"  {doc['source']}: {doc.get('place') or doc['district']}{level} · {doc['year']} · 《{doc['title']}》 "
              f"[{doc['encoding']}]\n      place from {detected.get('place') or '—'}; year from {detected.get('year') or '—'}"
              f"\n      cleaning removed: {removed}")
    for doc in report.documents:
        for warning in doc.get("warnings", []):
            print(f"  warning: {warning}", file=sys.stderr)
    for source, why in report.skipped.items():
        print(f"  skipped: {source} — {why}")
    return 0


def _service(args):
    from .service import Service

    return Service(_settings(args))


def _print_table(answer) -> None:
    from .render import format_value, table_summary

    print(table_summary(answer))
    for row in answer.comparison.rows:
        if row["value"] is None:
            print(f"  {row['place']}  —  not stated")
        else:
            print(f"  {row['place']}  {format_value(row)}  {row['kind']} {row['year']}  "
                  f"{row['source']}:{row['start']}-{row['end']}  {row['sentence'][:60]}")
    print()


def _print_answer(answer, show_scores: bool) -> None:
    bold, end = ("\033[1m", "\033[0m") if sys.stdout.isatty() else ("【", "】")
    if answer.notice:
        print(answer.notice)
    if answer.comparison is not None:
        _print_table(answer)
    if answer.comparison is not None and answer.comparison.stated():
        pass  # the table is the answer; the passages follow
    elif answer.abstain:
        print("The reports do not say." if answer.lang == "en" else "报告中没有找到答案。")
        if answer.note:  # a place or year the reports do not cover: their passages are beside the point
            print(answer.note)
            return
        if answer.hits:
            print("Closest passages:" if answer.lang == "en" else "最接近的段落：")
    else:
        when = f" · {answer.year} {answer.kind}" if answer.year and answer.kind else ""
        print(f"{bold}{answer.district}{end}{when} — {answer.sentence} [{answer.rank or 1}]")
    for h in answer.hits:
        score = f"  score {h.score:.4f} (dense {h.dense:.3f}, bm25 {h.keyword:.2f})" if show_scores else ""
        page = f" · {h.pages()}" if h.page else ""
        print(f"\n[{h.rank}] {h.district} · {h.title} · {h.section or '—'}{page}{score}")
        print(f"    {h.source}:{h.start}-{h.end}")
        text = h.text[: h.sentence_start] + bold + h.sentence + end + h.text[h.sentence_end :]
        print("    " + text.replace("\n", "\n    "))


def _batch_question(line: str) -> str:
    """The question of one `--jsonl` input line: plain text, a JSON string, or {"question": "…"}.
    Other JSON (null, 5, [..], {"question": 5}) and broken JSON objects are not questions."""
    text = line.strip()
    try:
        row = json.loads(text)
    except ValueError as exc:
        if text.startswith(("{", "[")):
            raise QAError(f"not a question: invalid JSON ({exc.msg})") from exc
        return text  # plain text
    question = row.get("question") if isinstance(row, dict) else row
    if not isinstance(question, str):
        raise QAError('not a question: expected a line of text or {"question": "<text>"}')
    return question


def cmd_search(args) -> int:
    check_k(args.k, _settings(args))  # before the index and the model load
    service = _service(args)
    districts = _districts(args.district)
    unknown = [d for d in districts or [] if not service.searcher.place_keys([d])]
    if unknown:
        raise QAError(f"Unknown district {', '.join(unknown)}; indexed: {', '.join(service.districts)}")

    def ask(question: str):
        return service.ask(question, args.k, districts, args.retriever)

    if args.jsonl:
        # Output line n always answers input line n: a line that is not a question gets an error object.
        for line in sys.stdin:
            try:
                row = ask(_batch_question(line)).to_json()
            except QAError as exc:
                row = {"question": line.strip()[:200], "error": str(exc)}
            print(json.dumps(row, ensure_ascii=False), flush=True)
        return 0
    if not args.question:
        return _interactive(service, districts, args)
    answer = ask(" ".join(args.question))
    if args.json:
        print(json.dumps(answer.to_json(), ensure_ascii=False, indent=2))
    else:
        _print_answer(answer, args.scores)
    return 0


INTERACTIVE_HELP = """Ask a question in Chinese or English, e.g. 万州区2024年地区生产总值增长目标是多少？
Follow-ups keep the indicator and change the place or year: 那璧山区呢？ / And Bishan? / 2023年呢？
  :help      this help
  :new       forget the previous question (no follow-up)
  :scores    show or hide retrieval scores
  :k N       number of passages (1–{max_k}), now {k}
  :quit      leave (also an empty line or Ctrl-D)"""


def _interactive(service, districts, args) -> int:
    """A prompt with follow-up memory: each question may lean on the one before it."""
    print("Ask about the reports (:help for help; empty line or Ctrl-D to quit). 输入问题，回车检索。")
    previous, k, scores = None, args.k, args.scores
    while True:
        try:
            line = input("qa> ").strip()
        except EOFError:
            print()
            return 0
        if not line or line in (":quit", ":q"):
            return 0
        if line.startswith(":"):
            command, _, value = line.partition(" ")
            if command == ":help":
                print(INTERACTIVE_HELP.format(max_k=service.settings.max_k, k=k))
            elif command == ":new":
                previous = None
            elif command == ":scores":
                scores = not scores
            elif command == ":k":
                try:
                    k = check_k(value.strip(), service.settings)
                except QAError as exc:
                    print(f"error: {exc}")
            else:
                print(f"unknown command {command}; :help lists them")
            continue
        try:
            question = service.followup(line, previous)
            if question != line:
                print(f"(understood as: {question})")
            answer = service.ask(question, k, districts, args.retriever)
        except QAError as exc:
            print(f"error: {exc}")
            continue
        previous = question
        _print_answer(answer, scores)
        print()


EVAL_SETS = {"dev": ROOT / "eval" / "dev.jsonl", "test": ROOT / "eval" / "test.jsonl",
             "elsewhere": ROOT / "eval" / "elsewhere" / "questions.jsonl"}


def _eval_searcher(args, name: str, cache: dict):
    """The searcher a set is judged on: the live index, or for eval/elsewhere/ an index of its
    reports beside the bundled ones (index/elsewhere/, built incrementally)."""
    from .service import Service

    key = "elsewhere" if name == "elsewhere" else "main"
    if key not in cache:
        settings = _settings(args)
        if key == "elsewhere":
            settings = _elsewhere_index(settings)
            Service(settings, load=False).build()
        cache[key] = Service(settings).searcher
    return cache[key]


def _elsewhere_index(settings):
    """Settings for an index of the bundled reports and those of eval/elsewhere/ together, with
    the live index's embedder; the reports are mirrored into index/elsewhere-reports/."""
    import shutil

    from .ingest import SUPPORTED
    from .store import read_manifest

    folder = settings.index_dir / "elsewhere-reports"
    folder.mkdir(parents=True, exist_ok=True)
    wanted = {p.name: p for src in (settings.reports_dir, EVAL_SETS["elsewhere"].parent) for p in src.iterdir()
              if p.is_file() and p.suffix.lower() in SUPPORTED}
    for p in folder.iterdir():
        if p.name not in wanted:
            p.unlink()
    for name, p in wanted.items():
        if not (folder / name).exists() or (folder / name).read_bytes() != p.read_bytes():
            shutil.copyfile(p, folder / name)
    live = read_manifest(settings.index_dir)
    print(f"indexing the bundled reports and eval/elsewhere/ into {settings.index_dir / 'elsewhere'} …", file=sys.stderr)
    return settings.with_(reports_dir=folder, index_dir=settings.index_dir / "elsewhere",
                          embedder=live["embedder"] if live else None)


def cmd_eval(args) -> int:
    from .evaluate import (
        breakdown,
        calibrate,
        load_items,
        markdown_table,
        plot_results,
        run_eval,
        side_by_side,
        worst_misses,
        write_results,
    )

    # A named set keeps its name (eval/elsewhere/ is judged on its own index of its reports).
    known = {path.resolve(): name for name, path in EVAL_SETS.items()}
    sets = ({known.get(Path(d).resolve(), Path(d).stem): Path(d) for d in args.data} if args.data
            else dict(EVAL_SETS))
    retrievers = ["dense", "keyword", "hybrid"] if args.retriever == "all" else [args.retriever]
    cache: dict = {}
    results, reports = {}, {}
    for name, path in sets.items():
        items = load_items(path)
        searcher = _eval_searcher(args, name, cache)
        embedder = searcher.index.manifest["embedder"]
        for retriever in retrievers:
            started = time.perf_counter()
            print(f"{name}: {len(items)} questions, {retriever} …", file=sys.stderr, flush=True)
            report = reports[(name, retriever)] = run_eval(searcher, items, k=max(args.k, 10), retriever=retriever,
                                                           progress=f"{name} · {retriever}")
            table = breakdown(report)
            label = f"{name}-{retriever}"
            results[label] = {
                "set": name, "retriever": retriever, "questions": len(items), "data": str(path), "embedder": embedder,
                "k": max(args.k, 10), "metrics": table, "misses": worst_misses(report),
                "seconds": round(time.perf_counter() - started, 2),
            }
            print(f"\n== {name} · {retriever}: {len(items)} questions, {embedder}, {results[label]['seconds']:.1f}s\n")
            print(markdown_table(table))
            if args.misses:
                print("\nworst misses:")
                for miss in results[label]["misses"]:
                    print(f"  {miss['id']} rank={miss['rank']} {miss['question']}\n     expected {miss['expected']}\n     first    {miss['first']}")
    if len(sets) > 1:
        for retriever in retrievers:
            print(f"\n== side by side · {retriever} (R@5 / MRR / answer right / refused or abstained)\n")
            print(side_by_side({n: results[f"{n}-{retriever}"]["metrics"] for n in sets}))
    if args.calibrate:
        name = "dev" if "dev" in sets else next(iter(sets))
        options = calibrate(reports[(name, retrievers[-1])])
        print(f"\nabstention thresholds on {name} (refuse when coverage < c and cosine < d), best first:")
        for o in options[:8]:
            d = "—" if o.min_dense is None else f"{o.min_dense:.2f}"
            print(f"  c={o.min_coverage:.2f} d={d}  F1 {o.f1:.3f}  precision {o.abstain_precision:.3f}  "
                  f"recall {o.abstain_recall:.3f}  answerable refused {o.wrongly_refused:.3f}")
    stamp = time.strftime("%Y-%m-%d")
    if not args.no_save:
        written = write_results(results, Path(args.results), stamp)
        print(f"\nwrote {', '.join(str(p) for p in written)}")
    if args.plot:
        print(f"wrote {plot_results(results, Path(args.results) / f'{stamp}-retrievers.png')}")
    if args.out:
        Path(args.out).write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")
    return 0


def cmd_bench(args) -> int:
    import platform

    from .bench import SYSTEMS, row_json, run_all, run_one

    settings = _settings(args)
    if args.one_scale:  # internal: load the index and time questions in this fresh process
        from .bench import scale_load_and_search

        questions = json.loads(Path(args.one_scale).read_text(encoding="utf-8"))
        print(json.dumps(scale_load_and_search(settings, questions)))
        return 0
    if args.scale:
        return _bench_scale(args, settings)
    if args.one:
        print(row_json(run_one(args.one, settings, Path(args.data))))
        return 0
    systems = [s.strip() for s in args.systems.split(",") if s.strip()]
    unknown = [s for s in systems if s not in SYSTEMS]
    if unknown:
        raise QAError(f"Unknown system {', '.join(unknown)}; choose from {', '.join(SYSTEMS)}")
    if "project" not in systems or len(systems) > 1:
        from .store import load_index

        load_index(settings.index_dir)  # the recipes read the cleaned reports from the index
    rows = run_all(settings, Path(args.data), systems)
    print(f"qa bench — {time.strftime('%Y-%m-%d')}, {platform.machine()} {os.cpu_count()} cores, embedder {settings.embedder}, "
          f"questions from {Path(args.data).name}\n")
    print("| system | chunks | Recall@5 | MRR | search p50 ms | search p95 ms | floor p50 ms | build s | peak MB |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        floor = f"{r.floor_p50_ms:.1f}" if r.floor_p50_ms is not None else "—"
        print(f"| {r.system} | {r.chunks} | {r.recall_at_5:.3f} | {r.mrr:.3f} | {r.search_p50_ms:.1f} | {r.search_p95_ms:.1f} | "
              f"{floor} | {r.build_s:.1f} | {r.peak_mb:.0f} |")
    for r in rows:
        if r.incremental_add_s is not None:
            print(f"\n{r.system}: incremental rebuild after adding one report: {r.incremental_add_s:.1f} s")
    return 0


def _bench_scale(args, settings) -> int:
    import platform

    from .bench import faiss_only, faiss_table, run_scale, scale_table

    try:
        sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    except ValueError:
        raise QAError(f"--sizes takes whole numbers such as 5,50,500, not {args.sizes!r}") from None
    if not sizes or min(sizes) < 1:
        raise QAError("--sizes takes whole numbers of at least 1, such as 5,50,500")
    if not args.embedder:
        settings = settings.with_(embedder="hash")  # model-free: only the pipeline's own costs show
    started = time.perf_counter()
    rows = run_scale(settings, sizes, say=lambda m: print(m, file=sys.stderr, flush=True))
    print(f"qa bench --scale — {time.strftime('%Y-%m-%d')}, {platform.machine()} {os.cpu_count()} cores, "
          f"embedder {settings.embedder}, synthetic copies of the reports in {settings.reports_dir}\n")
    print(scale_table(rows))
    print(f"\nadd one: one more report, incremental build; load, RSS and search: a fresh process on the index "
          f"after the add (N+1 reports), Service(settings) then Service.ask over {rows[0].questions} questions; "
          f"total {time.perf_counter() - started:.0f} s")
    if args.faiss_vectors:
        print(f"\nFAISS alone, {args.faiss_vectors:,} random unit vectors (384 dims) in random clusters of 200, "
              f"one query at a time, k=200:\n")
        print(faiss_table(faiss_only(settings, n=args.faiss_vectors)))
    return 0


def cmd_facts(args) -> int:
    from .facts import facts_csv, facts_table

    if args.year is not None and not 1900 <= args.year <= 2200:
        raise QAError(f"--year must be a year such as 2024, not {args.year}")
    facts = _service(args).facts(indicator=args.indicator, kind=args.kind, year=args.year,
                                 places=_districts(args.place), measure=args.measure)
    if args.json:
        print(json.dumps([f.to_json() for f in facts], ensure_ascii=False, indent=2))
    elif args.csv:
        sys.stdout.write(facts_csv(facts))
    elif facts:
        print(facts_table(facts))
    else:
        print("no facts match", file=sys.stderr)
    return 0


def cmd_status(args) -> int:
    from .store import index_status, read_manifest

    settings = _settings(args)
    status = index_status(settings)
    print(status)
    manifest = read_manifest(settings.index_dir)
    if manifest and args.verbose:
        shown = {k: v for k, v in manifest.items() if k not in ("reports", "files")}  # files: one line per index file
        shown["segments"] = [{k: v for k, v in r.items() if k != "sources"} | {"reports": len(r.get("sources", []))}
                             for r in manifest.get("segments", [])]
        print(json.dumps(shown, ensure_ascii=False, indent=2))
    return 0 if status == "fresh" else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="qa", description="Cited answers from Chinese government work reports.")
    parser.add_argument("--version", action="version", version=f"qa {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--index", help="index folder (default: index/, env QA_INDEX_DIR)")

    p = sub.add_parser("index", parents=[common], help="build or update the index from the reports folder")
    p.add_argument("--reports", help="reports folder (default: reports/, env QA_REPORTS_DIR)")
    p.add_argument("--full", action="store_true", help="rebuild everything instead of only new or changed reports")
    p.add_argument("--embedder", help="e5 (default), use, e5+use, hash, or st:<model name or folder> (env QA_EMBEDDER)")
    p.add_argument("--workers", type=int,
                   help="embed in this many processes (a local Ray cluster; env QA_EMBED_WORKERS; default 1)")
    p.add_argument("--ray-address", help="embed on an existing Ray cluster, e.g. ray://head:10001 (env QA_RAY_ADDRESS)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar or per-report lines")
    p.set_defaults(func=cmd_index)

    p = sub.add_parser("search", parents=[common], help="ask a question; without one, an interactive prompt")
    p.add_argument("question", nargs="*", help="the question, in Chinese or English")
    p.add_argument("-k", "--k", type=int, default=5, help="number of passages (default 5)")
    p.add_argument("--district", action="append", help="only these districts (repeat or comma-separate)")
    p.add_argument("--retriever", choices=["hybrid", "dense", "keyword"], default="hybrid")
    p.add_argument("--json", action="store_true", help="print the answer as one JSON object")
    p.add_argument("--jsonl", action="store_true", help="batch: one question per stdin line, one JSON object per line")
    p.add_argument("--scores", action="store_true", help="show retrieval scores")
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("eval", parents=[common], help="Recall@k, MRR and more on a Q&A set")
    p.add_argument("--data", action="append", help="a question set (repeatable); default: dev, test and elsewhere")
    p.add_argument("--retriever", choices=["hybrid", "dense", "keyword", "all"], default="hybrid")
    p.add_argument("-k", "--k", type=int, default=10)
    p.add_argument("--misses", action="store_true", help="list the worst misses")
    p.add_argument("--out", help="also write all metrics as one JSON file here")
    p.add_argument("--results", default=str(ROOT / "eval" / "results"), help="folder for <date>-<retriever>.json/.md")
    p.add_argument("--no-save", action="store_true", help="don't write eval/results/")
    p.add_argument("--plot", action="store_true", help="write a PNG chart comparing retrievers per language")
    p.add_argument("--calibrate", action="store_true", help="show abstention thresholds that fit this set best")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("bench", parents=[common], help="this project vs the LangChain recipe vs BM25: quality, speed, memory")
    p.add_argument("--reports", help="reports folder (default: reports/)")
    p.add_argument("--embedder")
    p.add_argument("--data", default=str(ROOT / "eval" / "dev.jsonl"), help="questions (and evidence) to run")
    p.add_argument("--systems", default="project,langchain,bm25")
    p.add_argument("--one", help=argparse.SUPPRESS)  # internal: run one system in this process
    p.add_argument("--scale", action="store_true",
                   help="scaling: synthetic corpora of --sizes reports (copies of the reports with other places and "
                        "figures); build, add-one, load, RSS and search times, with the hash embedder unless --embedder")
    p.add_argument("--sizes", default="5,50,500,5000",
                   help="corpus sizes for --scale (default 5,50,500,5000; 5,50,500 take about 2 minutes on 2 cores, "
                        "5000 about half an hour)")
    p.add_argument("--faiss-vectors", type=int, default=1_000_000,
                   help="with --scale: FAISS-only search over this many random vectors, flat vs HNSW (0: skip)")
    p.add_argument("--one-scale", help=argparse.SUPPRESS)  # internal: load and search in this process
    p.set_defaults(func=cmd_bench)

    p = sub.add_parser("facts", parents=[common],
                       help="the fact table: each figure by place, indicator, year, result or target")
    p.add_argument("--indicator",
                   help="a standard name, variant or English name (地区生产总值, GDP), or words of a phrase (5G基站)")
    p.add_argument("--kind", choices=["target", "result"])
    p.add_argument("--year", type=int)
    p.add_argument("--place", action="append", help="only these places (repeat or comma-separate; 万州区, 万州, Wanzhou)")
    p.add_argument("--measure", choices=["level", "growth", "share", "count", "rate"])
    out = p.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="a JSON list of rows")
    out.add_argument("--csv", action="store_true", help="CSV with the JSON row's columns")
    p.set_defaults(func=cmd_facts)

    p = sub.add_parser("status", parents=[common], help="is the index missing, stale or fresh?")
    p.add_argument("--reports")
    p.add_argument("-v", "--verbose", action="store_true")
    p.set_defaults(func=cmd_status)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        if getattr(args, "k", None) is not None:
            check_k(args.k, _settings(args))  # one message for every command's --k
        return args.func(args)
    except QAError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
