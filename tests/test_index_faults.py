"""Faults a hostile tester found in the index: two builds at once, an app that never sees a build
made elsewhere, a mismatched embedder, damaged index files, vectors of another dimension."""

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from qa import store
from qa.config import Settings
from qa.embed import HashEmbedder
from qa.errors import BrokenIndexError, EmbedderMismatchError, IndexBusyError, QAError
from qa.service import Service
from qa.store import build_index, build_lock, index_status, load_index

ROOT = Path(__file__).resolve().parent.parent
QUESTION = "哪个区提出规上工业增加值增长16%？"


def qa(args, settings, timeout=120, **env):
    """Run the `qa` command in its own process, as a user does."""
    env = {**os.environ, "QA_EMBEDDER": "hash", "QA_INDEX_DIR": str(settings.index_dir),
           "QA_REPORTS_DIR": str(settings.reports_dir), **env}
    return subprocess.run([sys.executable, "-m", "qa", *args], capture_output=True, text=True, env=env,
                          timeout=timeout, cwd=ROOT, check=False)


def live_build(settings) -> Path:
    return settings.index_dir / "builds" / (settings.index_dir / "CURRENT").read_text().strip()


class FakeE5(HashEmbedder):
    """Stands in for an index built with e5 (384 dimensions) without loading the model."""

    spec = "e5"
    model = "fake e5 for tests"

    def __init__(self):
        super().__init__(dim=384)


# -- 1. two builds at once ------------------------------------------------------------------

# A build in its own process whose keyword-index step is slow: it touches a marker file when it
# gets there and sleeps, so a second build can be started while the first is writing its files.
SLOW_BUILD = """
import sys, time
from pathlib import Path
import qa.store as store
from qa.config import Settings

reports, index, marker, pause = sys.argv[1:5]
real = store._build_bm25

def slow(*args):
    Path(marker).touch()
    time.sleep(float(pause))
    return real(*args)

store._build_bm25 = slow
settings = Settings(reports_dir=Path(reports), index_dir=Path(index), embedder="hash", build_lock_timeout=60)
report = store.build_index(settings, full=True, on_message=lambda m: print(m, file=sys.stderr, flush=True))
print(report.build, report.chunks)
"""


def slow_build(settings, marker: Path, pause: float) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", SLOW_BUILD, str(settings.reports_dir), str(settings.index_dir),
                             str(marker), str(pause)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=ROOT)


def wait_for(path: Path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)


def test_two_builds_in_two_processes_take_turns(settings, tmp_path):
    first = slow_build(settings, tmp_path / "first-writing", pause=4)
    wait_for(tmp_path / "first-writing")  # the first build is writing its folder now
    second = slow_build(settings, tmp_path / "second-writing", pause=0.5)
    _, err1 = first.communicate(timeout=120)
    out2, err2 = second.communicate(timeout=120)
    assert first.returncode == 0, err1
    assert second.returncode == 0, err2
    assert f"is running (pid {first.pid}); waiting" in err2
    index = load_index(settings.index_dir)  # the live build is whole and searchable
    assert index.path.name == out2.split()[0]
    assert len(index.chunks) == index.vectors.ntotal == int(out2.split()[1])
    assert [p.name for p in (settings.index_dir / "builds").iterdir()] == [index.path.name]
    assert index_status(settings) == "fresh"
    assert Service(settings).ask(QUESTION).district == "万州区"


def test_a_build_gives_up_in_one_line_when_another_holds_the_lock(settings):
    build_index(settings)
    before = live_build(settings)
    with build_lock(settings.index_dir, timeout=1, say=print):  # this test process is "the other build"
        result = qa(["index", "--full"], settings, QA_BUILD_LOCK_TIMEOUT="1")
    assert result.returncode == 1
    assert f"another build of {settings.index_dir}/ is running (pid {os.getpid()}); waiting up to 1 s" in result.stderr
    error = result.stderr.strip().splitlines()[-1]
    assert error.startswith(f"error: Another build of {settings.index_dir}/ (pid {os.getpid()}) is still running")
    assert "Traceback" not in result.stderr
    assert live_build(settings) == before and load_index(settings.index_dir).vectors.ntotal > 0
    assert qa(["index", "--full"], settings).returncode == 0  # once the lock is free, it builds


def test_two_uploads_in_one_app_process_take_turns(settings, monkeypatch):
    """Two sessions (two Service objects) in one process: their thread locks don't see each other."""
    build_index(settings)
    real = store._build_bm25
    first_writing = threading.Event()

    def slow(*args):  # the first build pauses while writing its folder; the second starts then
        if not first_writing.is_set():
            first_writing.set()
            time.sleep(2)
        return real(*args)

    monkeypatch.setattr(store, "_build_bm25", slow)
    errors, messages = [], []

    def upload(service):
        try:
            service.build(full=True, on_message=messages.append)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    first = threading.Thread(target=upload, args=(Service(settings),))
    second = threading.Thread(target=upload, args=(Service(settings),))
    first.start()
    assert first_writing.wait(30)
    second.start()
    first.join(60)
    second.join(60)
    assert not errors
    assert any(f"is running (pid {os.getpid()}); waiting" in m for m in messages)
    index = load_index(settings.index_dir)
    assert len(index.chunks) == index.vectors.ntotal and index_status(settings) == "fresh"
    assert [p.name for p in (settings.index_dir / "builds").iterdir()] == [index.path.name]


def test_a_lock_wait_times_out_with_index_busy(settings):
    other = Settings(reports_dir=settings.reports_dir, index_dir=settings.index_dir, embedder="hash",
                     build_lock_timeout=0.2)
    messages = []
    with build_lock(settings.index_dir, timeout=1, say=print), \
            pytest.raises(IndexBusyError, match="still running after 0.2 s"):
        build_index(other, on_message=messages.append)
    assert any("waiting up to 0.2 s" in m for m in messages)
    assert not (settings.index_dir / "CURRENT").exists()


def test_cleanup_spares_the_tmp_folder_of_a_running_build(settings):
    builds = settings.index_dir / "builds"
    builds.mkdir(parents=True)
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                          check=True)
    try:
        in_use = builds / f".tmp-20260101T000000000000Z-{sleeper.pid}"
        crashed = builds / f".tmp-20260101T000000000001Z-{dead.stdout.strip()}"
        for folder in (in_use, crashed):
            folder.mkdir()
            (folder / "chunks.jsonl").write_text("{}\n")
        build_index(settings)
        assert in_use.exists()  # another process is writing it
        assert not crashed.exists()  # its process is gone: left by a crash
    finally:
        sleeper.kill()
        sleeper.wait()


# -- 2. an app sees a build made elsewhere -----------------------------------------------------

def test_service_switches_to_a_build_made_by_the_cli(settings, reports):
    build_index(settings)
    service = Service(settings)
    generation, build = service.generation, service.build_id
    assert "荣昌区" in service.districts
    service.ask(QUESTION)
    assert (service.generation, service.build_id) == (generation, build)  # nothing new: no reload

    (reports / "荣昌区-繁体.txt").unlink()
    result = qa(["index"], settings)
    assert result.returncode == 0, result.stderr

    assert service.ask(QUESTION).district == "万州区"
    assert service.generation == generation + 1
    assert service.build_id == live_build(settings).name != build
    assert "荣昌区" not in service.districts and "荣昌区-繁体.txt" not in service.documents()


def test_service_keeps_its_build_when_the_new_one_is_broken(settings, reports):
    build_index(settings)
    service = Service(settings)
    (reports / "荣昌区-繁体.txt").unlink()
    build_index(settings)
    (segment(live_build(settings))[0] / "vectors.faiss").write_bytes(b"garbage")
    assert service.ask(QUESTION).district == "万州区"  # answered from the build in memory
    assert "荣昌区" in service.districts


# -- 3. another embedder than the index's ----------------------------------------------------------

def test_incremental_build_with_another_embedder_refuses(settings, reports):
    build_index(settings, embedder=FakeE5())  # "an e5 index"
    before = live_build(settings)
    (reports / "荣昌区-繁体.txt").unlink()

    result = qa(["index"], settings)  # QA_EMBEDDER=hash
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "built with embedder e5, but hash is configured" in result.stderr
    assert "qa index --full --embedder hash" in result.stderr
    assert live_build(settings) == before and load_index(settings.index_dir).manifest["embedder"] == "e5"

    result = qa(["index", "--full"], settings)  # only --full switches
    assert result.returncode == 0, result.stderr
    assert load_index(settings.index_dir).manifest["embedder"] == "hash"


def test_upload_into_an_index_of_another_embedder_refuses(settings, tmp_path):
    build_index(settings, embedder=FakeE5())
    before = live_build(settings)
    service = Service(settings, embedder=FakeE5())  # the app runs with QA_EMBEDDER=hash over an e5 index
    upload = tmp_path / "upload.txt"
    upload.write_text((settings.reports_dir / "万州区-节选.txt").read_text(encoding="utf-8").replace("万州", "潼南"),
                      encoding="utf-8")
    with pytest.raises(QAError, match="built with embedder e5, but hash is configured.*qa index --full"):
        service.add_reports([(upload, "潼南区-2024.txt")])
    assert live_build(settings) == before
    assert not (settings.reports_dir / "潼南区-2024.txt").exists()
    assert service.ask(QUESTION).district == "万州区"  # still searched with the index's own embedder


def test_service_loads_the_embedder_of_a_build_made_elsewhere(settings):
    build_index(settings, embedder=FakeE5())
    service = Service(settings, embedder=FakeE5())
    assert service.ask(QUESTION).district == "万州区"  # the 384-dimension model is now in memory
    build_index(settings, full=True)  # another process switched the index to hash (256)
    answer = service.ask(QUESTION)
    assert answer.district == "万州区"
    assert service.searcher.embedder.spec == "hash"


def test_errors_always_carry_text(settings, index, monkeypatch):
    assert str(QAError()) and str(QAError(""))
    service = Service(settings)

    def fails(*_args, **_kwargs):
        raise AssertionError()

    monkeypatch.setattr(service.searcher, "search_query", fails)
    with pytest.raises(QAError) as caught:
        service.ask(QUESTION)
    assert "AssertionError" in str(caught.value) and "qa index --full" in str(caught.value)


# -- 4. damaged index files ----------------------------------------------------------------------

def segment(build) -> tuple[Path, str]:
    """The first segment folder of a build and its path relative to the build."""
    name = json.loads((build / "manifest.json").read_text(encoding="utf-8"))["segments"][0]["name"]
    return build / "segments" / name, f"segments/{name}"


def truncate_vectors(build):
    folder, rel = segment(build)
    path = folder / "vectors.faiss"
    path.write_bytes(path.read_bytes()[:1000])
    return f"{rel}/vectors.faiss", "truncated: 1,000 of"


def cut_chunks(build):
    folder, rel = segment(build)
    path = folder / "chunks.sqlite"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    return f"{rel}/chunks.sqlite", "truncated"


def garble_bm25(build):
    folder, rel = segment(build)
    path = folder / "bm25" / "data.csc.index.npy"
    data = bytearray(path.read_bytes())
    data[-64:] = bytes(64)  # same size, other bytes
    path.write_bytes(bytes(data))
    return f"{rel}/bm25/data.csc.index.npy", "contents changed"


def edit_chunk_text(build):
    folder, rel = segment(build)
    path = folder / "chunks.sqlite"
    data = path.read_bytes()
    assert "增长".encode() in data
    path.write_bytes(data.replace("增长".encode(), "下降".encode(), 1))  # same length in UTF-8
    return f"{rel}/chunks.sqlite", "contents changed"


@pytest.mark.parametrize("damage", [truncate_vectors, cut_chunks, garble_bm25, edit_chunk_text])
def test_damaged_file_is_named_by_status_and_load(settings, index, damage):
    name, reason = damage(index.path)
    status = index_status(settings)
    assert status.startswith(f"broken: {name} ({reason}") and status.endswith(") — run qa index --full")
    with pytest.raises(BrokenIndexError, match="qa index --full") as caught:
        load_index(settings.index_dir)
    assert caught.value.file == name and name in str(caught.value)


def test_manifest_records_every_file(index):
    files = index.manifest["files"]
    on_disk = {p.relative_to(index.path).as_posix() for p in index.path.rglob("*") if p.is_file()}
    assert set(files) == on_disk - {"manifest.json"}
    _, rel = segment(index.path)
    assert {f"{rel}/{name}" for name in ("vectors.faiss", "chunks.sqlite", "columns.npy", "bm25/vocab.index.json")
            } | {"facts.sqlite"} <= set(files)
    assert all(r["bytes"] > 0 and len(r["sha256"]) == 64 for r in files.values())


def test_cli_status_and_search_on_a_damaged_index(settings, index):
    truncate_vectors(index.path)
    result = qa(["status"], settings)
    assert result.returncode == 1
    assert result.stdout.startswith(f"broken: {segment(index.path)[1]}/vectors.faiss (truncated: 1,000 of ")
    assert result.stdout.strip().endswith("— run qa index --full")
    result = qa(["search", "GDP"], settings)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1 and "vectors.faiss" in result.stderr and "qa index --full" in result.stderr
    assert qa(["index"], settings).returncode == 0  # a damaged index is rebuilt, not reused
    assert qa(["status"], settings).stdout.strip() == "fresh"


# -- 5. vectors of another dimension -----------------------------------------------------------

def test_vectors_of_another_dimension_say_so_in_one_line(settings):
    build_index(settings, embedder=HashEmbedder(dim=64))  # "hash" in the manifest, 64 dimensions
    with pytest.raises(EmbedderMismatchError, match="64 dimensions but embedder hash makes 256.*qa index --full"):
        Service(settings).ask(QUESTION)
    result = qa(["search", QUESTION], settings)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1 and "64 dimensions" in result.stderr and "256" in result.stderr
    assert "qa index --full" in result.stderr


def test_manifest_dimension_must_match_the_vectors(settings, index):
    manifest_path = index.path / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["dimension"] = 384
    manifest_path.write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(BrokenIndexError, match="256-dimensional vectors, the manifest says 384"):
        load_index(settings.index_dir)
