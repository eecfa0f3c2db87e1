"""Start app.py and drive it in Debian's headless Chromium; shared by the browser tests and
scripts/chat_latency.py."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parent.parent
# Flags for a sandboxed, offline machine: no GPU, no background connections.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running_app(index_dir: Path, reports_dir: Path, env: dict | None = None, timeout: float = 120):
    """app.py on a free port; yields its URL and stops it afterwards."""
    port = free_port()
    log = tempfile.NamedTemporaryFile("w+", prefix="qa-app-", suffix=".log", delete=False)
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "app.py"), "--port", str(port), "--index", str(index_dir), "--reports", str(reports_dir)],
        env={**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", **(env or {})},
        # To a file, not a pipe nobody reads: a full pipe (~64 KB of log) would freeze the app.
        stdout=log, stderr=subprocess.STDOUT, text=True,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.time() + timeout
        while True:
            try:
                if urllib.request.urlopen(url, timeout=2).status == 200:
                    break
            except OSError:
                time.sleep(0.5)
            if proc.poll() is not None:
                raise RuntimeError(f"app.py exited: {Path(log.name).read_text()[-3000:]}")
            if time.time() > deadline:
                raise RuntimeError(f"app.py did not start in {timeout:.0f} s")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()
        Path(log.name).unlink(missing_ok=True)


@contextlib.contextmanager
def browser_page(url: str, width: int = 1300, height: int = 1100):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            page.goto(url)
            page.locator("#question textarea").wait_for()
            yield page
        finally:
            browser.close()


def ask(page, question: str):
    """Type a question, press Enter, wait until its answer is on screen; return (element, seconds)."""
    answers = page.locator("#chat .qa-answer")
    before = answers.count()
    box = page.locator("#question textarea")
    box.fill(question)
    started = time.perf_counter()
    box.press("Enter")
    page.wait_for_function(f"document.querySelectorAll('#chat .qa-answer').length > {before}", timeout=60_000)
    answer = answers.nth(before)
    answer.locator(".qa-direct").first.wait_for(state="visible")
    seconds = time.perf_counter() - started
    # Bring the answer's first line into view inside the chat's own scrolling box.
    answer.evaluate("""e => { e.scrollIntoView({block: 'start'});
        let box = e.parentElement; while (box && box.scrollHeight <= box.clientHeight) box = box.parentElement;
        if (box) box.scrollTop -= 60; }""")
    return answer, seconds


def upload(page, path: Path) -> float:
    """Upload a report from the page and wait until it is indexed; return seconds from click."""
    page.get_by_text("Add reports / 添加报告").click()
    page.set_input_files("#upload input[type=file]", str(path))
    started = time.perf_counter()
    page.locator("#add-reports").click()
    page.wait_for_function("document.querySelector('#upload-status').innerText.includes('indexed')", timeout=300_000)
    return time.perf_counter() - started
