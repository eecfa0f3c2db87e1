"""A build interrupted part-way resumes where it stopped: each report's vectors are checkpointed
as soon as they are made, and the next build embeds only the reports that were not done."""

from __future__ import annotations

import numpy as np
import pytest

from qa.embed import HashEmbedder
from qa.store import CHECKPOINTS, build_index, load_index


class Interrupted(Exception):
    pass


class Counting(HashEmbedder):
    """The test embedder, counting the passages it embeds; it can be made to fail after n reports."""

    def __init__(self, fail_after: int | None = None):
        super().__init__()
        self.calls, self.embedded, self.fail_after = 0, 0, fail_after

    def encode_document(self, texts, on_progress=None):
        if self.fail_after is not None and self.calls >= self.fail_after:
            raise Interrupted("the machine went down")
        self.calls += 1
        self.embedded += len(texts)
        return super().encode_document(texts, on_progress)


def test_an_interrupted_build_resumes_where_it_stopped(settings, tmp_path):
    with pytest.raises(Interrupted):
        build_index(settings, embedder=Counting(fail_after=2))
    checkpoints = list((settings.index_dir / CHECKPOINTS).rglob("*.npy"))
    assert len(checkpoints) == 2  # two reports were done before the crash

    resumed = Counting()
    report = build_index(settings, embedder=resumed)
    assert resumed.calls == 2 and 0 < resumed.embedded < report.chunks  # only the two not done
    assert report.embedded == report.chunks  # every passage is in the new build
    assert not (settings.index_dir / CHECKPOINTS).exists()  # the build holds them now

    fresh = settings.with_(index_dir=tmp_path / "fresh")
    build_index(fresh, embedder=Counting())
    a, b = load_index(settings.index_dir), load_index(fresh.index_dir)
    assert [c.id for c in a.chunks] == [c.id for c in b.chunks]
    assert np.allclose(a.vectors.reconstruct_n(0, a.vectors.ntotal), b.vectors.reconstruct_n(0, b.vectors.ntotal))


def test_a_damaged_checkpoint_is_embedded_again(settings):
    with pytest.raises(Interrupted):
        build_index(settings, embedder=Counting(fail_after=1))
    (checkpoint,) = (settings.index_dir / CHECKPOINTS).rglob("*.npy")
    checkpoint.write_bytes(b"not an array")
    resumed = Counting()
    report = build_index(settings, embedder=resumed)
    assert resumed.embedded == report.chunks  # nothing trusted from the damaged file


@pytest.mark.slow
def test_a_build_fanned_out_over_a_local_ray_cluster_equals_the_serial_one(settings, tmp_path):
    """embed_workers=2: the reports are embedded by two Ray worker processes (qa/fanout.py), each
    checkpointed as it arrives; the index is the one a serial build makes."""
    with pytest.raises(Interrupted):
        build_index(settings, embedder=Counting(fail_after=1))  # one report checkpointed, then a crash
    fanned = settings.with_(embed_workers=2)
    progress = []
    report = build_index(fanned, on_progress=progress.append)
    assert report.embedded == report.chunks == sum(progress)
    serial = settings.with_(index_dir=tmp_path / "serial")
    build_index(serial)
    a, b = load_index(fanned.index_dir), load_index(serial.index_dir)
    assert [c.id for c in a.chunks] == [c.id for c in b.chunks]
    assert np.allclose(a.vectors.reconstruct_n(0, a.rows), b.vectors.reconstruct_n(0, b.rows), atol=1e-6)
