"""Load benchmark of the web chat's `ask` API, with and without one hostile client.

The requirement it measures: "20 clients × 60 s on loopback with one hostile 1 MB question among
them: 0 errors, and the normal questions' p95 not worse than without it."

Each phase gets its own app.py, started on a free port over a scratch copy of the index and
reports (so a `qa index` run meanwhile cannot change what is measured) and warmed up by asking
every question once before timing. A fresh app per phase matters: a Gradio app slows down with
the number of requests it has served (its queue rebuilds a pandas summary of up to 10,000 past
events after every event), so a second phase on the same app would be slower for that alone.
The two phases, of the same length:

1. baseline: N client threads, each asking normal questions back to back for S seconds;
2. hostile:  the same N clients, plus one more that keeps sending a ~1 MB question (Chinese
   text) for the whole phase. Its requests should be refused quickly with "The question is too
   long"; those count as refused as expected, anything else as an error.

Per phase it reports normal requests done, errors (first few messages), throughput, p50/p95/max
latency of the normal questions, the hostile client's requests and latency, the app's peak
RSS, CPU and log output, and the CPU other processes took meanwhile (on a shared machine, a
phase that competed with something else is not comparable). It prints a markdown table and
exits 1 if any phase had an error.

    .venv/bin/python scripts/load_bench.py [--index index] [--reports reports] [--clients 20]
        [--seconds 60] [--hostile-bytes 1000000] [--transport http|gradio_client]

Transports: `http` (default) posts to Gradio's /gradio_api/call/ask and reads the result
stream, through the same queue as the web page and gradio_client; `gradio_client` uses
gradio_client.Client(url).predict(..., api_name="/ask"), one Client per thread. On a 2-core
machine the default is the one to use: gradio_client spends ~50 ms of client CPU per request
(against ~3 ms for plain HTTP), which takes the cores away from the app being measured.

app.py is started here rather than with tests/browser_helpers.running_app because that one
pipes the app's output without reading it: Gradio prints a ~2 KB traceback for every refused
question, so the 64 KB pipe fills within seconds of the hostile client and the app blocks on
its next write. Here the output goes to a file, and the process id is at hand for RSS and CPU.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa.bench import percentile
from tests.browser_helpers import free_port

K = 5
REFUSAL = "The question is too long"
FIRST_ERRORS = 5  # error messages kept per phase
QUESTION_TIMEOUT = 120.0  # seconds before a request counts as failed

# (question, districts filter): general questions about the bundled reports, Chinese and English.
QUESTIONS: list[tuple[str, list[str]]] = [
    ("万州区2023年地区生产总值是多少？", []),
    ("璧山区2024年GDP增长目标是多少？", []),
    ("大足区规上工业增加值增长了多少？", []),
    ("梁平区固定资产投资增长目标是多少？", []),
    ("荣昌区城镇新增就业多少人？", []),
    ("哪个区提出规上工业增加值增长16%？", []),
    ("万州区城乡居民人均可支配收入增长多少？", []),
    ("璧山区社会消费品零售总额增长多少？", []),
    ("大足区2024年一般公共预算收入目标是什么？", []),
    ("梁平区农村居民人均可支配收入是多少？", []),
    ("荣昌区招商引资签约项目有多少个？", []),
    ("各区单位GDP能耗下降目标是多少？", []),
    ("万州区城镇调查失业率控制在多少以内？", ["万州区"]),
    ("璧山区新能源汽车产业发展情况如何？", ["璧山区"]),
    ("大足石刻文旅融合有什么举措？", ["大足区"]),
    ("荣昌区畜牧业和生猪产业有什么规划？", ["荣昌区"]),
    ("梁平区乡村振兴有哪些重点工作？", []),
    ("居民消费价格涨幅控制在多少？", ["璧山区", "大足区"]),
    ("What was Wanzhou's GDP in 2023?", []),
    ("What is Liangping's GDP growth target for 2024?", []),
    ("Which district targets 16% industrial growth?", []),
    ("How much did Bishan's industrial output grow?", []),
    ("What is Dazu's fixed-asset investment target?", []),
    ("How many new urban jobs does Rongchang plan to create?", []),
    ("What was the per capita disposable income of rural residents in Wanzhou?", []),
    ("What is the general public budget revenue growth target of Liangping?", ["梁平区"]),
    ("How fast did retail sales of consumer goods grow in Rongchang?", []),
    ("What are Bishan's plans for the digital economy?", []),
    ("What is the urban surveyed unemployment rate target?", ["荣昌区"]),
    ("Which district mentions the Chengdu-Chongqing economic circle?", []),
]


@dataclass
class Phase:
    """What one phase measured."""

    name: str
    seconds: float = 0.0
    normal_ms: list[float] = field(default_factory=list)
    hostile_ms: list[float] = field(default_factory=list)
    hostile_refused: int = 0
    errors: int = 0
    first_errors: list[str] = field(default_factory=list)
    peak_rss_mb: float | None = None
    peak_since_start: bool = False  # the kernel would not reset the peak: it covers the warm-up too
    end_rss_mb: float | None = None
    bench_cpu_seconds: float | None = None
    other_cpu_seconds: float | None = None
    app_cpu_seconds: float | None = None
    app_log_bytes: int | None = None
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add_normal(self, ms: float, error: str | None) -> None:
        with self.lock:
            self.normal_ms.append(ms)
            if error is not None:
                self._error(f"normal: {error}")

    def add_hostile(self, ms: float, error: str | None) -> None:
        with self.lock:
            self.hostile_ms.append(ms)
            if error is not None and REFUSAL in error:
                self.hostile_refused += 1
            else:
                self._error(f"hostile: {error or 'answered instead of refused'}")

    def _error(self, message: str) -> None:
        self.errors += 1
        if len(self.first_errors) < FIRST_ERRORS:
            self.first_errors.append(message[:300])


# --- the app under test -------------------------------------------------------------------------

@contextlib.contextmanager
def running_app(index_dir: Path, reports_dir: Path, log_path: Path, timeout: float = 180):
    """app.py on a free port, its output to log_path; yields (url, pid) and stops it afterwards."""
    port = free_port()
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [sys.executable, str(ROOT / "app.py"), "--port", str(port), "--index", str(index_dir),
             "--reports", str(reports_dir)],
            env={**os.environ, "GRADIO_ANALYTICS_ENABLED": "False"}, stdout=log, stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}/"
        try:
            wait_until_up(url, proc, log_path, timeout)
            yield url, proc.pid
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def wait_until_up(url: str, proc: subprocess.Popen, log_path: Path, timeout: float) -> None:
    """Return when the page answers 200; raise if the app exits or takes longer than timeout."""
    deadline = time.time() + timeout
    while True:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=2).status_code == 200:
                return
        if proc.poll() is not None:
            raise RuntimeError(f"app.py exited: {log_path.read_text()[-2000:]}")
        if time.time() > deadline:
            raise RuntimeError(f"app.py did not start in {timeout:.0f} s")
        time.sleep(0.5)


def proc_status_kb(pid: int, key: str) -> int:
    """A memory line of /proc/<pid>/status (VmHWM, VmRSS), in kB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise KeyError(key)


def reset_peak_rss(pid: int) -> bool:
    """Reset the process's VmHWM to its current RSS (Linux: write 5 to clear_refs), so each phase
    gets its own peak. False when the kernel refuses; the peak is then since the app started."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (/proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> float:
    """CPU time all processes on the machine have used so far, over all cores (/proc/stat)."""
    first_line = Path("/proc/stat").read_text().split("\n", 1)[0]
    user, nice, system, _idle, _iowait, *rest = (int(v) for v in first_line.split()[1:])
    return (user + nice + system + sum(rest[:3])) / os.sysconf("SC_CLK_TCK")  # + irq, softirq, steal


# --- asking -------------------------------------------------------------------------------------

class AskError(Exception):
    """The API answered with an error (its message), or the request failed."""


def http_asker(url: str):
    """ask(question, districts) over plain HTTP: POST /gradio_api/call/ask, then read its stream."""
    client = httpx.Client(base_url=url, timeout=QUESTION_TIMEOUT)
    bodies: dict[tuple, bytes] = {}  # each distinct request encoded once: the 1 MB one is not re-encoded

    def ask(question: str, districts: list[str]) -> dict:
        key = (question, tuple(districts))
        if key not in bodies:
            bodies[key] = json.dumps({"data": [question, K, districts]}, ensure_ascii=False).encode()
        body = bodies[key]
        try:
            posted = client.post("gradio_api/call/ask", content=body, headers={"Content-Type": "application/json"})
            if posted.status_code != 200:
                raise AskError(f"HTTP {posted.status_code}: {posted.text[:200]}")
            event, data = read_result(client, f"gradio_api/call/ask/{posted.json()['event_id']}")
        except httpx.HTTPError as exc:
            raise AskError(f"{type(exc).__name__}: {exc}") from exc
        if event == "complete":
            return json.loads(data)[0]
        message = (json.loads(data) or {}).get("error") if data and data != "null" else None
        raise AskError(f"{event}: {message}")

    return ask


def read_result(client: httpx.Client, path: str) -> tuple[str, str]:
    """The final (event, data) of a Gradio result stream: complete or error."""
    event = data = ""
    with client.stream("GET", path) as stream:
        for line in stream.iter_lines():
            if line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:"):
                data = line[5:].strip()
                if event in ("complete", "error"):
                    return event, data
    raise AskError(f"the result stream ended without a result (last event {event!r})")


def gradio_asker(url: str):
    """ask(question, districts) through gradio_client, as the README shows."""
    from gradio_client import Client

    client = Client(url, verbose=False)

    def ask(question: str, districts: list[str]) -> dict:
        try:
            return client.predict(question, K, districts, api_name="/ask")
        except Exception as exc:  # gradio_client raises AppError and friends
            raise AskError(f"{type(exc).__name__}: {exc}") from exc

    return ask


ASKERS = {"http": http_asker, "gradio_client": gradio_asker}


def timed(ask, question: str, districts: list[str]) -> tuple[float, str | None]:
    """(milliseconds, error message or None) of one question."""
    started = time.perf_counter()
    try:
        ask(question, districts)
        error = None
    except AskError as exc:
        error = str(exc)
    return (time.perf_counter() - started) * 1000, error


def hostile_question(nbytes: int) -> str:
    """Chinese text of at most nbytes in UTF-8 (3 bytes a character)."""
    text = "请详细说明万州区璧山区大足区梁平区荣昌区的地区生产总值工业投资收入就业情况"
    return (text * (nbytes // len(text.encode()) + 1)).encode()[:nbytes].decode("utf-8", "ignore")


# --- the phases ---------------------------------------------------------------------------------

def warm_up(ask) -> None:
    """Every question once, so the model and first-time paths are loaded before timing."""
    for question, districts in QUESTIONS:
        _, error = timed(ask, question, districts)
        if error:
            raise RuntimeError(f"warm-up question {question!r} failed: {error}")


def normal_client(ask, seed: int, start: threading.Barrier, deadline: list[float], phase: Phase) -> None:
    """Ask normal questions back to back (a fixed shuffled order per client) until the deadline."""
    order = QUESTIONS[:]
    random.Random(seed).shuffle(order)
    start.wait()
    i = 0
    while time.perf_counter() < deadline[0]:
        question, districts = order[i % len(order)]
        phase.add_normal(*timed(ask, question, districts))
        i += 1


def hostile_client(ask, question: str, start: threading.Barrier, deadline: list[float], phase: Phase) -> None:
    """Send the huge question back to back until the deadline."""
    start.wait()
    while time.perf_counter() < deadline[0]:
        phase.add_hostile(*timed(ask, question, []))


def run_phase(name: str, index: Path, reports: Path, log_path: Path, args, hostile: str | None) -> Phase:
    """A fresh app, warmed up; then N normal clients (and the hostile one, if given) for args.seconds."""
    with running_app(index, reports, log_path) as (url, pid):
        print(f"{name}: app.py at {url} (pid {pid}); warming up…", file=sys.stderr)
        warm_up(ASKERS[args.transport](url))
        print(f"{name}: {args.clients} clients{' + 1 hostile' if hostile else ''} × {args.seconds:.0f} s…",
              file=sys.stderr)
        return load(name, url, pid, log_path, args, hostile)


def load(name: str, url: str, pid: int, log_path: Path, args, hostile: str | None) -> Phase:
    """N normal clients (and the hostile one, if given) for args.seconds; the app measured around it."""
    phase = Phase(name)
    make = ASKERS[args.transport]
    askers = [make(url) for _ in range(args.clients + (hostile is not None))]
    start = threading.Barrier(len(askers) + 1)
    deadline = [0.0]
    threads = [threading.Thread(target=normal_client, args=(askers[i], i, start, deadline, phase), daemon=True)
               for i in range(args.clients)]
    if hostile is not None:
        threads.append(threading.Thread(target=hostile_client, args=(askers[-1], hostile, start, deadline, phase),
                                        daemon=True))
    for t in threads:
        t.start()
    phase.peak_since_start = not reset_peak_rss(pid)
    cpu0, log0, bench0 = cpu_seconds(pid), log_path.stat().st_size, cpu_seconds(os.getpid())
    busy0 = machine_busy_seconds()
    began = time.perf_counter()
    deadline[0] = began + args.seconds
    start.wait()
    for t in threads:
        t.join()
    phase.seconds = time.perf_counter() - began
    phase.app_cpu_seconds = cpu_seconds(pid) - cpu0
    phase.app_log_bytes = log_path.stat().st_size - log0
    phase.bench_cpu_seconds = cpu_seconds(os.getpid()) - bench0
    phase.other_cpu_seconds = machine_busy_seconds() - busy0 - phase.app_cpu_seconds - phase.bench_cpu_seconds
    phase.peak_rss_mb = proc_status_kb(pid, "VmHWM") / 1024
    phase.end_rss_mb = proc_status_kb(pid, "VmRSS") / 1024
    return phase


# --- the report ---------------------------------------------------------------------------------

def latency_cell(ms: list[float]) -> str:
    if not ms:
        return "—"
    return f"{percentile(ms, 0.5):.0f} / {percentile(ms, 0.95):.0f} / {max(ms):.0f}"


def table(phases: list[Phase], args) -> str:
    """The README table: one column per phase."""
    def row(label, cell):
        return f"| {label} | " + " | ".join(cell(p) for p in phases) + " |"

    head = f"| {args.clients} clients × {args.seconds:.0f} s, {args.transport} | " + " | ".join(p.name for p in phases) + " |"
    lines = [
        head,
        "|---|" + "---:|" * len(phases),
        row("normal requests", lambda p: f"{len(p.normal_ms):,}"),
        row("errors", lambda p: str(p.errors)),
        row("throughput, normal (req/s)", lambda p: f"{len(p.normal_ms) / p.seconds:.1f}"),
        row("normal latency p50 / p95 / max (ms)", lambda p: latency_cell(p.normal_ms)),
        row("hostile requests (refused as expected)",
            lambda p: f"{len(p.hostile_ms)} ({p.hostile_refused})" if p.hostile_ms else "—"),
        row("hostile latency p50 / p95 / max (ms)", lambda p: latency_cell(p.hostile_ms)),
        row("app peak RSS / RSS at the end (MB)",
            lambda p: f"{p.peak_rss_mb:.0f}{' (since start)' if p.peak_since_start else ''} / {p.end_rss_mb:.0f}"),
        row(f"CPU, cores busy of {os.cpu_count()}: app / load generator / other processes",
            lambda p: " / ".join(f"{s / p.seconds:.2f}" for s in (p.app_cpu_seconds, p.bench_cpu_seconds,
                                                                  max(p.other_cpu_seconds, 0.0)))),
        row("app log written (KB)", lambda p: f"{p.app_log_bytes / 1024:.0f}"),
    ]
    return "\n".join(lines)


def summary(phases: list[Phase]) -> str:
    """The verdict lines under the table: errors, and p95 with the hostile client against without."""
    lines = []
    for p in phases:
        for message in p.first_errors:
            lines.append(f"- {p.name}: {message}")
    if len(phases) == 2 and phases[0].normal_ms and phases[1].normal_ms:
        before, after = (percentile(p.normal_ms, 0.95) for p in phases)
        lines.append(f"Normal p95 with the hostile client: {after:.0f} ms vs {before:.0f} ms without "
                     f"({(after / before - 1) * 100:+.1f}%).")
    lines.append(f"Errors: {sum(p.errors for p in phases)}.")
    return "\n".join(lines)


def size(nbytes: int) -> str:
    return f"{nbytes / 1e6:g} MB" if nbytes >= 100_000 else f"{nbytes:,} bytes"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", default=str(ROOT / "index"), help="index folder (a scratch copy is served)")
    parser.add_argument("--reports", default=str(ROOT / "reports"), help="reports folder (a scratch copy is served)")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--hostile-bytes", type=int, default=1_000_000)
    parser.add_argument("--transport", choices=sorted(ASKERS), default="http")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    hostile = hostile_question(args.hostile_bytes)
    print(f"hostile question: {len(hostile.encode()):,} bytes ({len(hostile):,} characters)", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="load-bench-") as tmp:
        index, reports = Path(tmp) / "index", Path(tmp) / "reports"
        shutil.copytree(args.index, index, ignore=shutil.ignore_patterns("build.lock"))
        shutil.copytree(args.reports, reports)
        phases = [
            run_phase("without hostile", index, reports, Path(tmp) / "app-baseline.log", args, None),
            run_phase(f"with one {size(args.hostile_bytes)} hostile client", index, reports,
                      Path(tmp) / "app-hostile.log", args, hostile),
        ]
    print(table(phases, args))
    print()
    print(summary(phases))
    return 1 if any(p.errors for p in phases) else 0


if __name__ == "__main__":
    sys.exit(main())
