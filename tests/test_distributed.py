"""Writing under ``dask.distributed`` with process workers: one LocalCluster for the module.

Files are read back by the official ``isx`` and compared with numpy. A worker is killed in the
middle of a chunk write and the task is retried elsewhere; regions are written by separate
processes and committed once."""

from __future__ import annotations

import glob
import os
import subprocess
import sys
import textwrap
import time

import cloudpickle
import dask.array as da
import numpy as np
import pytest

distributed = pytest.importorskip("distributed")

import isx_dask as xd  # noqa: E402
from isx_dask.regions import commit_movie, create_movie, missing_movie_frames, write_movie_region  # noqa: E402

from conftest import split_file  # noqa: E402


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=50
    )
    with distributed.Client(cluster) as c:
        yield c
    cluster.close()


def entries(directory) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def _pattern(block, block_info=None):
    start = block_info[None]["array-location"][0][0]
    return (np.arange(block.size, dtype=np.uint32).reshape(block.shape) * 13 + start).astype(np.uint16)


def movie(n=24, rows=30, cols=40, chunks=(4, 30, 40)):
    return da.zeros((n, rows, cols), dtype=np.uint16, chunks=chunks).map_blocks(_pattern, dtype=np.uint16)


def assert_reads_back(isx, path, frames, timing):
    official = isx.Movie.read(str(path))
    assert official.timing.num_samples == timing.num_samples
    valid = timing.get_valid_samples_mask()
    for i in range(timing.num_samples):
        np.testing.assert_array_equal(official.get_frame_data(i), frames[i] if valid[i] else 0 * frames[i])


def test_movie_written_by_process_workers_reads_back_exact(tmp_path, isx, client):
    timing = xd.Timing(24, xd.Duration(1, 20), dropped=[3, 17], blank=[9])
    frames = movie(chunks=(5, 16, 40))
    out = tmp_path / "m.isxd"
    xd.write_movie(frames, out, timing=timing)  # the client is the default scheduler
    expected = frames.compute(scheduler="sync")
    assert_reads_back(isx, out, expected, timing)
    assert split_file(out)[0] == expected[timing.get_valid_samples_mask()].tobytes()
    assert entries(tmp_path) == ["m.isxd"]


def test_compute_false_composes_with_client_compute_and_progress(tmp_path, isx, client, capsys):
    out = tmp_path / "m.isxd"
    delayed = xd.write_movie(movie(), out, compute=False, resume=True)
    future = client.compute(delayed)
    distributed.progress(future, notebook=False)
    assert future.result() == str(out)
    assert_reads_back(isx, out, movie().compute(scheduler="sync"), xd.Timing(24))
    assert entries(tmp_path) == ["m.isxd"]


def test_little_travels_through_the_scheduler(tmp_path, client):
    frames = movie(n=400, rows=200, cols=320, chunks=(4, 200, 320))  # 100 chunks, 51 MB
    delayed = xd.write_movie(frames, tmp_path / "m.isxd", compute=False)
    graph = dict(delayed.__dask_graph__())
    per_task = len(cloudpickle.dumps(graph)) / len(graph)
    assert per_task < 2048, per_task  # a recipe per chunk, never the chunk's data
    future = client.compute(delayed)
    assert future.result() == str(tmp_path / "m.isxd")
    # each chunk task hands back a one-byte flag, not its frames
    assert split_file(tmp_path / "m.isxd")[0] == frames.compute(scheduler="sync").tobytes()


def _die_once_mid_write(marker_dir):
    def fn(block, block_info=None):
        loc = block_info[None]["chunk-location"][0]
        marker = os.path.join(marker_dir, f"died-{loc}")
        if loc == 2 and not os.path.exists(marker):
            open(marker, "w").close()
            # half a write: garbage over this chunk's bytes, then the worker process dies
            (partial,) = glob.glob(os.path.join(marker_dir, "out", ".m.isxd.*partial"))
            nbytes = block.nbytes // 2
            with open(partial, "r+b") as f:
                f.seek(block_info[None]["array-location"][0][0] * block[0].nbytes)
                f.write(b"\xff" * nbytes)
                f.flush()
            os._exit(1)
        return block

    return fn


def test_worker_killed_mid_write_is_retried_and_the_file_is_exact(tmp_path, isx, client):
    (tmp_path / "out").mkdir()
    out = tmp_path / "out" / "m.isxd"
    frames = movie().map_blocks(_die_once_mid_write(str(tmp_path)), dtype=np.uint16)
    xd.write_movie(frames, out)
    assert (tmp_path / "died-2").exists()
    expected = movie().compute(scheduler="sync")
    assert split_file(out)[0] == expected.tobytes()
    assert_reads_back(isx, out, expected, xd.Timing(24))
    assert entries(tmp_path / "out") == ["m.isxd"]
    client.wait_for_workers(2, timeout=60)


def _fail_once(marker_dir):
    def fn(block, block_info=None):
        loc = block_info[None]["chunk-location"][0]
        open(os.path.join(marker_dir, f"computed-{loc}-{os.urandom(4).hex()}"), "w").close()
        if loc == 3 and not os.path.exists(os.path.join(marker_dir, "failed")):
            open(os.path.join(marker_dir, "failed"), "w").close()
            raise RuntimeError("injected failure in chunk 3")
        return block

    return fn


def test_resume_on_the_cluster_rewrites_only_missing_chunks(tmp_path, client):
    log = tmp_path / "log"
    log.mkdir()
    (tmp_path / "out").mkdir()
    out, plain = tmp_path / "out" / "m.isxd", tmp_path / "plain.isxd"
    xd.write_movie(movie(), plain)
    frames = movie().map_blocks(_fail_once(str(log)), dtype=np.uint16)
    with pytest.raises(RuntimeError, match="injected failure"):
        xd.write_movie(frames, out, resume=True)
    while any(client.processing().values()):  # chunks already running when the error came finish
        time.sleep(0.05)
    done = os.listdir(tmp_path / "out" / ".m.isxd.partial.d" / "done")
    assert not out.exists() and "a0_12-16_0-30_0-40" not in done
    for p in log.glob("computed-*"):
        p.unlink()
    xd.write_movie(frames, out, resume=True)
    assert len(list(log.glob("computed-*"))) == 6 - len(done)
    assert out.read_bytes() == plain.read_bytes()
    assert entries(tmp_path / "out") == ["m.isxd"]


_REGION_JOB = textwrap.dedent(
    """
    import sys
    import numpy as np
    from isx_dask.regions import write_movie_region
    out, start, stop = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    frames = np.load(sys.argv[4])[start:stop]
    write_movie_region(frames, out, start, compute_kwargs={"scheduler": "threads"})
    """
)


def test_regions_from_separate_processes_then_one_commit(tmp_path, isx, client):
    out = tmp_path / "r.isxd"
    timing = xd.Timing(30, xd.Duration(1, 10), dropped=[4], cropped=[(20, 21)])
    frames = np.random.default_rng(5).random((30, 12, 10), dtype=np.float32)
    np.save(tmp_path / "frames.npy", frames)
    create_movie(out, timing=timing, spacing=xd.Spacing(num_pixels=(12, 10)), dtype=np.float32)
    jobs = [
        subprocess.Popen([sys.executable, "-c", _REGION_JOB, str(out), str(a), str(b), str(tmp_path / "frames.npy")])
        for a, b in ((0, 10), (10, 18))
    ]
    assert [job.wait(timeout=120) for job in jobs] == [0, 0]
    np.testing.assert_array_equal(missing_movie_frames(out), [18, 19, 22, 23, 24, 25, 26, 27, 28, 29])
    with pytest.raises(ValueError, match="10 valid frame"):
        commit_movie(out)
    # the last region as a task on the cluster
    client.compute(write_movie_region(da.from_array(frames[18:], chunks=(4, 12, 10)), out, 18, compute=False)).result()
    commit_movie(out)
    assert entries(tmp_path) == ["frames.npy", "r.isxd"]
    assert_reads_back(isx, out, frames, timing)
