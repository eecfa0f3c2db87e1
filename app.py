"""Web chat (Gradio): loads the index once, calls the package, renders. No retrieval logic here.

    python app.py [--host 127.0.0.1] [--port 7860] [--auth user:password] [--index DIR] [--reports DIR]

Env: QA_HOST, QA_PORT, QA_AUTH, and the QA_* settings of qa/config.py.
"""

from __future__ import annotations

import argparse
import html
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # an offline machine: no phoning home
# Gradio's queue otherwise rebuilds a summary of up to 10,000 past requests after every request:
# scripts/load_bench.py measured 79 → 53 → 42 req/s over three 30 s phases without this, 105 → 99 → 80 with it.
os.environ.setdefault("GRADIO_ANALYTICS_CACHE_FREQUENCY", "1000000")

import gradio as gr  # noqa: E402

from qa.config import Settings, load_settings
from qa.errors import QAError
from qa.ingest import UPLOAD_TYPES
from qa.render import render_answer, render_reports
from qa.service import Service
from qa.source import mount_source_view

EXAMPLES = [
    "Which district targets 16% industrial growth?",
    "哪个区提出规上工业增加值增长16%？",
    "璧山区2023年GDP是多少？",
    "榮昌區2024年一般公共預算收入目標增長多少？",
    "What is Liangping's GDP growth target for 2024?",
]
CSS = """
.qa-direct { font-size: 1.05em; margin-bottom: .4em; }
.qa-understood { color: #666; font-size: .9em; }
.qa-cite { margin-bottom: .6em; }
.qa-cite-head { font-size: .9em; }
.qa-src { color: #888; font-size: .85em; }
.qa-sentence { margin: .2em 0; border-left: 3px solid #f5c400; padding-left: .5em; }
.qa-score { color: #888; font-size: .8em; }
mark { background: #fff3a8; }
.qa-citations, .qa-closest ol { list-style: none; padding-left: 0; }
.qa-copy { font-size: .75em; padding: 0 .4em; border: 1px solid #ccc; border-radius: 3px; background: #f7f7f7; cursor: pointer; }
.qa-plain { display: none; }
.qa-weak { border-left-color: #ddd; color: #555; }
.qa-notice, .qa-note { color: #8a5a00; font-size: .9em; }
.qa-table table { border-collapse: collapse; width: 100%; font-size: .9em; }
.qa-table td, .qa-table th { border-bottom: 1px solid #ddd; padding: .2em .4em; text-align: left; vertical-align: top; }
.qa-table td:not(.qa-cell-cite), .qa-table th { white-space: nowrap; }
.qa-cell-cite { font-size: .9em; }
.qa-bar { background: #4a90d9; height: .5em; margin-top: .2em; min-width: 2px; }
.qa-missing td { color: #999; }
.qa-table-what { color: #666; font-size: .85em; margin: 0; }
"""


# After an answer: bring its first line into view (not the end of its last citation).
SCROLL_TO_ANSWER = """() => { const all = document.querySelectorAll('#chat .qa-answer');
    if (all.length) all[all.length - 1].scrollIntoView({block: 'start', behavior: 'smooth'}); }"""
# The answers' Copy buttons copy their plain-text citation (.qa-plain), not the page's HTML.
COPY_SCRIPT = """<script>
document.addEventListener('click', e => {
  const b = e.target.closest && e.target.closest('.qa-copy');
  if (!b) return;
  const plain = b.parentElement.querySelector('.qa-plain');
  navigator.clipboard.writeText(plain ? plain.textContent : '').then(() => { b.textContent = '✓'; });
});
</script>"""


class App:
    """The web chat's view of the service: renders what the service answers."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.service = Service(settings)
        self.service.warm()

    @property
    def searcher(self):
        return self.service.searcher

    def answer(self, question: str, k: int = 5, districts: list[str] | None = None):
        return self.service.ask(question, k, districts)

    def reports_markdown(self) -> str:
        return render_reports(self.service.reports(), self.service.chunk_counts())

    def add_reports(self, paths: list[tuple[Path, str]], progress) -> str:
        """Validate, copy and index uploads; returns a status message."""
        total = {"n": 0, "done": 0}

        def start(n):
            total["n"] = n

        def step(n):
            total["done"] += n
            progress(total["done"] / max(total["n"], 1), desc=f"embedding {total['done']}/{total['n']}")

        started = time.perf_counter()
        try:
            ok, errors, report = self.service.add_reports(paths, on_embed_start=start, on_progress=step)
        except QAError as exc:
            return str(exc)
        if report is None:
            return "\n".join(f"Not added: {e}" for e in errors) or "No file."
        lines = [f"Added and indexed {', '.join(ok)} in {time.perf_counter() - started:.1f}s ({report.embedded} passages embedded)"] if ok else []
        return "\n\n".join(lines + [f"Not added: {e}" for e in errors])


def build_ui(app: App) -> gr.Blocks:
    def respond(message, history, districts, k, show_scores, last_question, seen):
        history = list(history or [])
        message = (message or "").strip()
        if not message:
            return "", history, last_question, *live(seen)
        question = last_question
        try:
            question = app.service.followup(message, last_question)
            answer = app.answer(question, int(k), districts)
            body = render_answer(answer, bool(show_scores), understood_as=question if question != message else None)
        except QAError as exc:
            body = f"Error: {html.escape(str(exc))}"
        # The question is shown as the user typed it (text, never HTML; a very long one cut for display).
        shown = message if len(message) <= 2000 else message[:2000] + "…"
        history += [{"role": "user", "content": html.escape(shown)}, {"role": "assistant", "content": body}]
        return "", history, question, *live(seen)

    def live(seen):
        """The report list and district filter, updated only when another build was loaded since
        this page last drew them (an upload in another session, a `qa index` on the server)."""
        generation = app.service.generation
        if seen == generation:
            return gr.update(), gr.update(), seen
        return app.reports_markdown(), gr.update(choices=app.searcher.districts), generation

    def on_load():
        app.service.refresh()
        return live(None)

    def upload(files, progress=gr.Progress()):
        paths = [(Path(f), Path(getattr(f, "orig_name", None) or f).name) for f in (files or [])]
        status = app.add_reports(paths, progress)
        return status, app.reports_markdown(), gr.update(choices=app.searcher.districts), None, app.service.generation

    def ask(question: str, k: int = 5, districts: list[str] | None = None) -> dict:
        """One question → the same JSON object as one line of `qa search --jsonl`."""
        try:
            return app.answer(question, k, districts).to_json()
        except QAError as exc:  # a user's mistake: one line to the caller, no traceback in the log
            raise gr.Error(str(exc), print_exception=False) from None

    with gr.Blocks(title="政府工作报告问答 · Work report QA") as demo:
        gr.Markdown("## 政府工作报告问答 · Government work report QA\n"
                    "Ask in Chinese or English; every answer is a quoted, cited sentence from a report.")
        last_question = gr.State(None)
        seen = gr.State(None)  # the service generation this page's report list and filter show
        with gr.Row():
            with gr.Column(scale=3):
                # No built-in copy button (it copies the HTML); each answer has its own plain-text Copy.
                # Its height follows the screen, so on a phone the question box stays in view.
                chat = gr.Chatbot(show_label=False, height="62vh", elem_id="chat", buttons=[], autoscroll=False)
                box = gr.Textbox(placeholder="例如：哪个区提出规上工业增加值增长16%？ / Which district targets 16% industrial growth?",
                                 show_label=False, elem_id="question", submit_btn=True)
                examples = gr.Examples(EXAMPLES, inputs=box, label="Examples")
            with gr.Column(scale=1):
                districts = gr.CheckboxGroup(app.searcher.districts, label="Districts / 区县", elem_id="districts")
                k = gr.Slider(1, 10, value=app.settings.default_k, step=1, label="Passages / 段落数")
                show_scores = gr.Checkbox(False, label="Show scores / 显示得分")
                with gr.Accordion("Add reports / 添加报告", open=False):
                    files = gr.File(file_count="multiple", file_types=sorted(UPLOAD_TYPES), label="Report files",
                                    elem_id="upload")
                    add = gr.Button("Add to index / 加入索引", elem_id="add-reports")
                    status = gr.Markdown(elem_id="upload-status")
                reports = gr.Markdown(app.reports_markdown(), elem_id="reports")
        asking = ([box, chat, districts, k, show_scores, last_question, seen],
                  [box, chat, last_question, reports, districts, seen])
        box.submit(respond, *asking).then(None, None, None, js=SCROLL_TO_ANSWER)
        examples.load_input_event.then(respond, *asking).then(None, None, None, js=SCROLL_TO_ANSWER)  # sent on click
        add.click(upload, [files], [status, reports, districts, files, seen])
        demo.load(on_load, None, [reports, districts, seen])
        chat.clear(lambda: None, None, last_question)  # Clear forgets the follow-up memory too
        gr.api(ask, api_name="ask")
    return demo


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Web chat over the indexed work reports")
    parser.add_argument("--host", default=os.environ.get("QA_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("QA_PORT", "7860")))
    parser.add_argument("--auth", default=os.environ.get("QA_AUTH"), help="user:password to require a login")
    parser.add_argument("--index", help="index folder (default: index/)")
    parser.add_argument("--reports", help="reports folder, where uploads go (default: reports/)")
    args = parser.parse_args(argv)
    settings = load_settings().with_(
        index_dir=Path(args.index) if args.index else None, reports_dir=Path(args.reports) if args.reports else None
    )
    try:
        app = App(settings)
    except QAError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    auth = None
    if args.auth:
        user, _, password = args.auth.partition(":")
        if not user or not password:
            print("error: --auth must be user:password", file=sys.stderr)
            return 1
        auth = (user, password)
    demo = build_ui(app).queue(default_concurrency_limit=4)
    demo.launch(server_name=args.host, server_port=args.port, auth=auth, css=CSS, head=COPY_SCRIPT, show_error=True,
                prevent_thread_lock=True,
                # Each API call is a session holding its question: 10,000 (the default) of 1 MB
                # refused questions would hold ~8 GB; 1,000 bounds it.
                state_session_capacity=1000)
    # Gradio has no public way to add a route before launch: the source view goes on its app after.
    mount_source_view(demo.app, lambda: app.searcher.index, settings.reports_dir)
    demo.block_thread()
    return 0


if __name__ == "__main__":
    sys.exit(main())
