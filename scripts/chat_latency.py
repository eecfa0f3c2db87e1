"""Measure the web chat as a user meets it, in headless Chromium (Debian's package):

- time from pressing Enter to the answer being visible, over N eval questions (p50, p95);
- time from clicking "Add to index" on one uploaded report to a question finding it;
- a screenshot of a real answer.

Runs app.py over a scratch copy of reports/ and index/, so the real ones are untouched.

    .venv/bin/python scripts/chat_latency.py [--n 20] [--upload reports/wanzhou-2024.txt] [--screenshot docs/screenshot-answer.png]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa.bench import percentile  # noqa: E402
from qa.evaluate import load_items  # noqa: E402
from tests.browser_helpers import ask, browser_page, running_app, upload  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=20)
    parser.add_argument("--upload", default=str(ROOT / "reports" / "wanzhou-2024.txt"))
    parser.add_argument("--screenshot", default=str(ROOT / "docs" / "screenshot-answer.png"))
    args = parser.parse_args()

    items = [i for i in load_items(ROOT / "eval" / "dev.jsonl") if i.answerable]
    step = max(1, len(items) // args.n)
    questions = [i.question for i in items[::step]][: args.n]
    with tempfile.TemporaryDirectory() as tmp:
        reports, index = Path(tmp) / "reports", Path(tmp) / "index"
        shutil.copytree(ROOT / "reports", reports)
        shutil.copytree(ROOT / "index", index)
        with running_app(index, reports) as url, browser_page(url) as page:
            ask(page, questions[0])  # warm-up
            seconds = [ask(page, q)[1] for q in questions]
            answer, _ = ask(page, "Which district targets 16% industrial growth?")
            Path(args.screenshot).parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=args.screenshot)
            source = Path(args.upload)
            copy = Path(tmp) / f"uploaded-{source.name}"
            shutil.copy(source, copy)
            started = time.perf_counter()
            indexed = upload(page, copy)
            status = page.locator("#upload-status").inner_text()
            # Searchable: the reloaded index lists it and a question restricted to it finds it.
            page.wait_for_function(f"document.querySelector('#reports').innerText.includes('{copy.name}')")
            searchable = time.perf_counter() - started
    ms = sorted(s * 1000 for s in seconds)
    print(f"Enter → answer visible, {len(ms)} questions: p50 {statistics.median(ms):.0f} ms, p95 {percentile(ms, 0.95):.0f} ms, "
          f"max {ms[-1]:.0f} ms")
    print(f"upload {source.name} (as a new file): click → indexed and listed {searchable:.1f} s (indexing {indexed:.1f} s); {status}")
    print(f"screenshot: {args.screenshot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
