"""Faults across every writer: nothing lost, nothing that looks valid, nothing left behind.

``tests/test_faults.py`` covers ``write_movie`` itself (a failing or interrupted
chunk, resume after a kill, a simulated full disk, two threads racing). This
module covers the rest:

* an exception in one chunk of every other bulk writer (and of a Zarr source
  with a corrupt chunk), with and without a file already at the path;
* a failed ``overwrite=True`` rewrite by an incremental writer, ended by a
  ``with`` block or by garbage collection after an exception in the user's own
  code: the old file byte-identical, a ``ResourceWarning`` naming the path;
* real signals: SIGINT and SIGKILL sent to a child process in the middle of a
  write (bulk and incremental);
* a real full disk: a 1 MiB tmpfs (mounted where the machine allows it, root
  on Linux; skipped visibly elsewhere);
* writers of one path racing in two processes, and in two threads for the
  other writers: exactly one wins, the loser gets ``FileExistsError`` and leaves
  nothing;
* a conversion whose target is its source (same path, another spelling, a
  symlink to it, a folder that contains it).
"""

from __future__ import annotations

import errno
import gc
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
import warnings
from pathlib import Path
from typing import Any, Callable

import dask
import dask.array as da
import numpy as np
import pytest

import isx_dask as xd
from isx_dask import Duration, Spacing, Timing
from isx_dask.target import remove_partial

from conftest import directory_state, leftovers, split_file

PRECIOUS = b"an existing file that must survive byte for byte"
N, ROWS, COLS = 6, 4, 5
T = Timing(num_samples=N, period=Duration(1, 20))
S = Spacing(num_pixels=(ROWS, COLS))
pytestmark = [
    pytest.mark.filterwarnings("ignore::isx_dask.DefaultMetadataWarning"),
    pytest.mark.filterwarnings("ignore:Converting from:UserWarning"),
]


def _fail_on_chunk(k: int, axis: int = 0) -> Callable[..., Any]:
    def fn(block: np.ndarray, block_info: Any = None) -> np.ndarray:
        if block_info[None]["chunk-location"][axis] == k:
            raise RuntimeError("injected chunk failure")
        return block

    return fn


def failing(array: np.ndarray, chunks: Any, k: int = 1, axis: int = 0) -> da.Array:
    """``array`` as Dask chunks ``chunks`` whose chunk ``k`` along ``axis`` raises when computed."""
    return da.from_array(array, chunks=chunks).map_blocks(_fail_on_chunk(k, axis), dtype=array.dtype)


def fp(n: int = 3) -> np.ndarray:
    return np.linspace(0, 1, n * ROWS * COLS, dtype=np.float32).reshape(n, ROWS, COLS)


def tr(n: int = 3, samples: int = N) -> np.ndarray:
    return (np.arange(n * samples, dtype=np.float32).reshape(n, samples) % 5) + 1


LINES = np.array([[[0, 0], [1, 1]], [[2, 2], [3, 3]], [[1, 0], [0, 1]]])
IMG = np.ones((ROWS, COLS), np.float32)

#: One bulk write per writer whose Dask input fails in one chunk.
BULK: dict[str, Callable[[Path, bool], Any]] = {
    "write_image": lambda p, ow: xd.write_image(failing(fp(1)[0], (2, COLS)), p, spacing=S, overwrite=ow),
    "write_cell_set/traces": lambda p, ow: xd.write_cell_set(fp(), failing(tr(), (1, N)), p, timing=T, spacing=S, overwrite=ow),
    "write_cell_set/footprints": lambda p, ow: xd.write_cell_set(failing(fp(), (1, ROWS, COLS), k=2), tr(), p, timing=T, spacing=S, overwrite=ow),
    "write_event_set_dense": lambda p, ow: xd.write_event_set_dense(failing(tr(), (3, 2), k=2, axis=1), p, timing=T, cell_names=["a", "b", "c"], overwrite=ow),
    "write_cell_set/resume": lambda p, ow: xd.write_cell_set(fp(), failing(tr(), (1, N)), p, timing=T, spacing=S, overwrite=ow, resume=True),
    "write_vessel_set": lambda p, ow: xd.write_vessel_set(IMG, LINES, failing(tr(), (1, N)), p, vessel_type="vessel diameter", center_traces=tr(), timing=T, spacing=S, overwrite=ow),
    "write_vessel_set/image": lambda p, ow: xd.write_vessel_set(failing(IMG, (2, COLS)), LINES, tr(), p, vessel_type="vessel diameter", center_traces=tr(), timing=T, spacing=S, overwrite=ow),
    "write_gpio_set/dense": lambda p, ow: xd.write_gpio_set(failing(tr(2), (2, 2), k=1, axis=1), p, timing=T, channel_names=["a", "b"], overwrite=ow),
    "write_imu_set/dense": lambda p, ow: xd.write_imu_set(failing(tr(9), (9, 3), k=1, axis=1), p, timing=T, overwrite=ow),
    "write_movie/float32_cast": lambda p, ow: xd.write_movie(failing(fp(N).astype(np.float64), (2, ROWS, COLS)), p, timing=T, spacing=S, dtype=np.float32, overwrite=ow),
}


@pytest.mark.parametrize("scheduler", ["sync", "threads"])
@pytest.mark.parametrize("existing", [False, True], ids=["new", "overwrite"])
@pytest.mark.parametrize("writer", list(BULK))
def test_an_exception_in_one_chunk_commits_nothing(tmp_path: Path, writer: str, existing: bool, scheduler: str) -> None:
    out = tmp_path / "out.isxd"
    if existing:
        out.write_bytes(PRECIOUS)
    before = directory_state(tmp_path)
    with dask.config.set(scheduler=scheduler), pytest.raises(RuntimeError, match="injected chunk failure"):
        BULK[writer](out, existing)
    if writer.endswith("/resume"):  # a resumable write keeps its partial (and its record) for the next run, nothing else
        assert leftovers(tmp_path) == [".out.isxd.partial", ".out.isxd.partial.d"]
        with pytest.raises(xd.IsxdFormatError):
            xd.open_isxd(tmp_path / ".out.isxd.partial")
        remove_partial(str(tmp_path / ".out.isxd.partial"))
    assert directory_state(tmp_path) == before
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("writer", ["write_cell_set/traces", "write_vessel_set"])
def test_an_exception_in_a_worker_process_commits_nothing(tmp_path: Path, writer: str) -> None:
    out = tmp_path / "out.isxd"
    out.write_bytes(PRECIOUS)
    before = directory_state(tmp_path)
    with dask.config.set(scheduler="processes", num_workers=2), pytest.raises(RuntimeError, match="injected chunk failure"):
        BULK[writer](out, True)
    assert directory_state(tmp_path) == before and leftovers(tmp_path) == []


def test_a_zarr_source_with_a_corrupt_chunk_commits_nothing(tmp_path: Path) -> None:
    zarr = pytest.importorskip("zarr")
    src = tmp_path / "src.zarr"
    z = zarr.open_array(str(src), mode="w", shape=(N, ROWS, COLS), dtype=np.uint16, chunks=(1, ROWS, COLS))
    z[...] = np.arange(N * ROWS * COLS, dtype=np.uint16).reshape(N, ROWS, COLS)
    chunk = sorted(p for p in src.rglob("*") if p.is_file() and p.name not in ("zarr.json", ".zarray", ".zattrs"))[3]
    chunk.write_bytes(b"\xff" * 7)  # not a valid compressed chunk
    out = tmp_path / "out.isxd"
    out.write_bytes(PRECIOUS)
    before = directory_state(tmp_path)
    with pytest.raises(Exception) as info:  # noqa: PT011 - the codec's own error type
        xd.zarr_to_isxd(src, out, overwrite=True, compute_kwargs={"scheduler": "threads"})
    assert not isinstance(info.value, (SystemExit, KeyboardInterrupt))
    assert directory_state(tmp_path) == before and leftovers(tmp_path) == []


def test_a_failing_region_write_keeps_the_template_and_commits_nothing(tmp_path: Path) -> None:
    out = tmp_path / "r.isxd"
    xd.create_movie(out, timing=T, spacing=S, dtype=np.uint16)
    frames = np.arange(N * ROWS * COLS, dtype=np.uint16).reshape(N, ROWS, COLS)
    xd.write_movie_region(frames[:2], out, 0)
    with pytest.raises(RuntimeError, match="injected"):
        xd.write_movie_region(failing(frames[2:], (1, ROWS, COLS), k=2), out, 2)
    assert not out.exists()
    with pytest.raises(ValueError, match="not written yet"):
        xd.commit_movie(out)
    assert not out.exists()
    xd.write_movie_region(frames[2:], out, 2)
    xd.commit_movie(out)
    assert split_file(out)[0] == frames.tobytes()
    assert leftovers(tmp_path) == []


# -- incremental writers: a failed rewrite ----------------------------------------------------------
def _movie(p: Path) -> Any:
    m = xd.Movie.write(p, T, S, np.uint16, overwrite=True)
    m.set_frame_data(0, np.ones((ROWS, COLS), np.uint16))
    return m


def _cells(p: Path) -> Any:
    cs = xd.CellSet.write(p, T, S, overwrite=True)
    cs.set_cell_data(0, fp(1)[0], tr(1)[0], "C0")
    return cs


def _events(p: Path) -> Any:
    es = xd.EventSet.write(p, T, ["C0", "C1"], overwrite=True)
    es.set_cell_data(0, np.array([0, 50000]), np.array([1.0, 2.0]))
    return es


def _vessels(p: Path) -> Any:
    vs = xd.VesselSet.write(p, T, S, "vessel diameter", overwrite=True)
    vs.set_vessel_diameter_data(0, IMG, LINES[0], tr(1)[0], tr(1)[0])
    return vs


INCREMENTAL = {"Movie": _movie, "CellSet": _cells, "EventSet": _events, "VesselSet": _vessels}


def _old_file(p: Path) -> bytes:
    """A real, complete 30-cell set at ``p`` (what a failed rewrite must not replace)."""
    xd.write_cell_set(fp(30), tr(30), p, timing=T, spacing=S)
    return p.read_bytes()


class UserCodeError(Exception):
    pass


@pytest.mark.parametrize("kind", list(INCREMENTAL))
def test_a_rewrite_that_fails_in_a_with_block_keeps_the_old_file(tmp_path: Path, kind: str) -> None:
    p = tmp_path / "old.isxd"
    old = _old_file(p)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ResourceWarning)
        with pytest.raises(UserCodeError), INCREMENTAL[kind](p):
            raise UserCodeError("the analysis loop failed")
    assert p.read_bytes() == old
    assert leftovers(tmp_path) == [] and os.listdir(tmp_path) == ["old.isxd"]


@pytest.mark.parametrize("kind", list(INCREMENTAL))
def test_gc_after_a_failure_in_user_code_commits_nothing_and_warns(tmp_path: Path, kind: str) -> None:
    p = tmp_path / "old.isxd"
    old = _old_file(p)

    def analysis() -> None:
        writer = INCREMENTAL[kind](p)  # noqa: F841 - held only by this frame, as in a user's loop
        raise UserCodeError("the analysis loop failed")

    with pytest.warns(ResourceWarning, match=r"old\.isxd.*never flushed: nothing was committed"):
        try:
            analysis()
        except UserCodeError as err:
            del err  # drop the traceback (and with it the writer) as an except block does
        gc.collect()
    assert p.read_bytes() == old
    assert leftovers(tmp_path) == [] and os.listdir(tmp_path) == ["old.isxd"]


def test_gc_after_a_refused_call_of_the_writer_commits_nothing(tmp_path: Path) -> None:
    p = tmp_path / "old.isxd"
    old = _old_file(p)
    cs = _cells(p)
    with pytest.raises(ValueError, match="trace"):
        cs.set_cell_data(1, fp(1)[0], np.full(N, 1e300), "C1")  # refused: 1e300 is not a float32
    with pytest.warns(ResourceWarning, match=r"old\.isxd"):
        del cs
        gc.collect()
    assert p.read_bytes() == old and leftovers(tmp_path) == []


# -- real signals in a child process ----------------------------------------------------------------
_CHILD = textwrap.dedent(
    """
    import os, sys, time
    import dask.array as da, numpy as np
    import isx_dask as xd
    out, marker, kind, scheduler = sys.argv[1:5]
    T = xd.Timing(num_samples=40)
    S = xd.Spacing(num_pixels=(8, 9))

    def slow(block, block_info=None):
        if block_info[None]["chunk-location"][0] == 1:
            open(marker, "w").close()  # the write is under way
        time.sleep(0.15)
        return block + 1

    if kind == "movie":
        frames = da.zeros((40, 8, 9), dtype=np.uint16, chunks=(1, 8, 9)).map_blocks(slow, dtype=np.uint16)
        xd.write_movie(frames, out, timing=T, spacing=S, overwrite=True, compute_kwargs={"scheduler": scheduler})
    elif kind == "cells":
        traces = da.zeros((40, 40), dtype=np.float32, chunks=(1, 40)).map_blocks(slow, dtype=np.float32)
        xd.write_cell_set(np.ones((40, 8, 9), np.float32), traces, out, timing=T, spacing=S, overwrite=True,
                          compute_kwargs={"scheduler": scheduler})
    elif kind == "incremental":
        cs = xd.CellSet.write(out, T, S, overwrite=True)
        for k in range(40):
            cs.set_cell_data(k, np.ones((8, 9), np.float32), np.ones(40, np.float32), f"C{k}")
            if k == 1:
                open(marker, "w").close()
            time.sleep(0.15)
        cs.flush()
    sys.exit(7)  # not reached when the signal arrives in time
    """
)


def _signal_child(tmp_path: Path, kind: str, scheduler: str, sig: int) -> tuple[int, str]:
    out, marker = tmp_path / "m.isxd", tmp_path / "started.marker"
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(out), str(marker), kind, scheduler],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while not marker.exists():
        if child.poll() is not None or time.monotonic() > deadline:
            child.kill()
            _, err = child.communicate()
            pytest.fail(f"the child never got under way: {err.decode()[-2000:]}")
        time.sleep(0.02)
    marker.unlink()
    child.send_signal(sig)
    try:
        _, err = child.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        child.kill()
        _, err = child.communicate()
        pytest.fail("the child did not stop after the signal")
    return child.returncode, err.decode()


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize(("kind", "scheduler"), [("movie", "threads"), ("incremental", "sync")])
def test_sigint_mid_write_leaves_the_old_file_and_nothing_else(tmp_path: Path, kind: str, scheduler: str) -> None:
    out = tmp_path / "m.isxd"
    out.write_bytes(PRECIOUS)
    code, err = _signal_child(tmp_path, kind, scheduler, signal.SIGINT)
    assert code not in (0, 7), err
    assert "KeyboardInterrupt" in err
    assert out.read_bytes() == PRECIOUS
    assert sorted(os.listdir(tmp_path)) == ["m.isxd"], err


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize(("kind", "existing"), [("movie", True), ("incremental", False)], ids=["movie-overwrite", "incremental-new"])
def test_sigkill_mid_write_leaves_at_most_a_hidden_partial_that_open_isxd_refuses(tmp_path: Path, kind: str, existing: bool) -> None:
    out = tmp_path / "m.isxd"
    if existing:
        out.write_bytes(PRECIOUS)
    code, err = _signal_child(tmp_path, kind, "sync", signal.SIGKILL)
    assert code == -signal.SIGKILL, err
    if existing:
        assert out.read_bytes() == PRECIOUS
    else:
        assert not out.exists()
    others = [name for name in os.listdir(tmp_path) if name != "m.isxd"]
    partials = [name for name in others if name.startswith(".m.isxd.") and name.endswith(".partial")]
    assert partials == others and len(partials) <= 1, others
    for name in partials:
        with pytest.raises(xd.IsxdFormatError):
            xd.open_isxd(tmp_path / name)
    # a new write of the path is not hindered by the stale partial
    xd.write_movie(np.zeros((2, 3, 3), np.uint16), out, overwrite=True)
    assert xd.open_isxd(out).shape == (2, 3, 3)


# -- a real full disk -------------------------------------------------------------------------------
@pytest.fixture
def small_disk(tmp_path: Path):
    """A 1 MiB tmpfs mounted at ``tmp_path / 'disk'`` (Linux, as root); skips visibly elsewhere."""
    if not sys.platform.startswith("linux") or os.geteuid() != 0:
        pytest.skip("a small tmpfs can only be mounted as root on Linux here")
    disk = tmp_path / "disk"
    disk.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(disk)], capture_output=True, text=True)
    if done.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        (disk / "old.isxd").write_bytes(PRECIOUS)
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True)


def _counted(array: np.ndarray | da.Array, chunks: Any, computed: list[int]) -> da.Array:
    def count(block: np.ndarray) -> np.ndarray:
        computed.append(1)
        return block

    lazy = array if isinstance(array, da.Array) else da.from_array(array, chunks=chunks)
    out = lazy.map_blocks(count, dtype=lazy.dtype)
    computed.clear()  # map_blocks may call the function once to learn its output
    return out


def _assert_disk_untouched(disk: Path) -> None:
    assert sorted(os.listdir(disk)) == ["old.isxd"] and (disk / "old.isxd").read_bytes() == PRECIOUS


def test_full_disk_write_movie_fails_before_any_chunk(small_disk: Path) -> None:
    computed: list[int] = []
    frames = _counted(da.ones((64, 128, 128), dtype=np.uint16, chunks=(8, 128, 128)), None, computed)  # 2 MiB
    for target in ("new.isxd", "old.isxd"):
        with pytest.raises(OSError) as info:
            xd.write_movie(frames, small_disk / target, overwrite=True)
        assert info.value.errno == errno.ENOSPC and "cannot reserve" in str(info.value)
        assert computed == []
        _assert_disk_untouched(small_disk)


def test_full_disk_write_cell_set_fails_before_any_chunk(small_disk: Path) -> None:
    computed: list[int] = []
    footprints = _counted(da.ones((40, 128, 128), dtype=np.float32, chunks=(4, 128, 128)), None, computed)  # 2.5 MiB
    with pytest.raises(OSError) as info:
        xd.write_cell_set(footprints, np.ones((40, 10), np.float32), small_disk / "old.isxd", overwrite=True)
    assert info.value.errno == errno.ENOSPC
    assert computed == []
    _assert_disk_untouched(small_disk)


def test_full_disk_write_event_set_dense_fails_before_the_writing_pass(small_disk: Path) -> None:
    computed: list[int] = []
    amplitudes = _counted(da.ones((4, 50000), dtype=np.float32, chunks=(4, 5000)), None, computed)  # 200000 events, 4 MB
    with pytest.raises(OSError) as info:
        xd.write_event_set_dense(amplitudes, small_disk / "old.isxd", cell_names=list("abcd"), overwrite=True)
    assert info.value.errno == errno.ENOSPC
    assert len(computed) <= 10, "the counting pass computes each chunk once; the writing pass must not start"
    _assert_disk_untouched(small_disk)


def test_full_disk_movie_writer_fails_at_write(small_disk: Path) -> None:
    with pytest.raises(OSError) as info:
        xd.Movie.write(small_disk / "old.isxd", Timing(num_samples=64), Spacing(num_pixels=(128, 128)), np.uint16, overwrite=True)
    assert info.value.errno == errno.ENOSPC
    _assert_disk_untouched(small_disk)


def _fill_cells(p: Path) -> None:
    cs = xd.CellSet.write(p, Timing(num_samples=64), Spacing(num_pixels=(128, 128)), overwrite=True)
    for k in range(100):
        cs.set_cell_data(k, np.ones((128, 128), np.float32), np.ones(64, np.float32), f"C{k}")
    cs.flush()


def _fill_events(p: Path) -> None:
    es = xd.EventSet.write(p, Timing(num_samples=10**6), ["a", "b", "c", "d"], overwrite=True)
    for k in range(4):
        es.set_cell_data(k, np.arange(100000, dtype=np.uint64) * 10, np.ones(100000, np.float32))
    es.flush()


def _fill_vessels(p: Path) -> None:
    vs = xd.VesselSet.write(p, Timing(num_samples=20000), Spacing(num_pixels=(8, 8)), "vessel diameter", overwrite=True)
    for k in range(20):
        vs.set_vessel_diameter_data(k, np.ones((8, 8), np.float32), np.array([[0, 0], [1, 1]]), np.ones(20000, np.float32), np.ones(20000, np.float32))
    vs.flush()


@pytest.mark.parametrize("fill", [_fill_cells, _fill_events, _fill_vessels], ids=["CellSet", "EventSet", "VesselSet"])
def test_full_disk_incremental_writers_leave_the_old_file_and_nothing_else(small_disk: Path, fill: Callable[[Path], None]) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)  # the writer, dropped unflushed, says so (tested above)
        with pytest.raises(OSError) as info:
            fill(small_disk / "old.isxd")
        assert info.value.errno == errno.ENOSPC
        del info
        gc.collect()
    _assert_disk_untouched(small_disk)


# -- racing writers -----------------------------------------------------------------------------------
_RACER = textwrap.dedent(
    """
    import os, sys, time
    import dask, numpy as np
    import isx_dask as xd
    out, go, value = sys.argv[1], sys.argv[2], int(sys.argv[3])
    delayed = xd.write_movie(np.full((30, 16, 16), value, np.uint16), out, compute=False)  # both pass the path check
    open(go + str(value), "w").close()
    while not all(os.path.exists(go + str(v)) for v in (1, 2)):
        time.sleep(0.005)
    try:
        dask.compute(delayed, scheduler="sync")
    except FileExistsError as err:
        print("lost", err)
        sys.exit(3)
    print("won")
    """
)


@pytest.mark.skipif(sys.platform == "win32", reason="uses POSIX paths for the barrier")
def test_two_processes_racing_for_one_path_one_wins_cleanly(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    out, go = work / "m.isxd", str(tmp_path / "go")
    children = [subprocess.Popen([sys.executable, "-c", _RACER, str(out), go, str(v)], stdout=subprocess.PIPE, stderr=subprocess.PIPE) for v in (1, 2)]
    results = [c.communicate(timeout=120) + (c.returncode,) for c in children]
    codes = sorted(code for _, _, code in results)
    assert codes == [0, 3], [err.decode()[-1500:] for _, err, _ in results]
    winner = 1 + [code for _, _, code in results].index(0)
    assert split_file(out)[0] == np.full((30, 16, 16), winner, np.uint16).tobytes()
    assert os.listdir(work) == ["m.isxd"]


RACES: dict[str, Callable[[Path, int], Any]] = {
    "write_cell_set": lambda p, v: xd.write_cell_set(fp(2) * v, tr(2) * v, p, timing=T, spacing=S, compute=False),
    "write_event_set_dense": lambda p, v: xd.write_event_set_dense(tr(2) * v, p, timing=T, cell_names=["a", "b"], compute=False),
    "write_vessel_set": lambda p, v: xd.write_vessel_set(IMG * v, LINES, tr() * v, p, vessel_type="vessel diameter", center_traces=tr(), timing=T, spacing=S, compute=False),
    "write_image": lambda p, v: xd.write_image(IMG * v, p, compute=False),
}


@pytest.mark.parametrize("writer", list(RACES))
def test_two_threads_racing_for_one_path_one_wins_cleanly(tmp_path: Path, writer: str) -> None:
    out = tmp_path / "x.isxd"
    delayed = {v: RACES[writer](out, v) for v in (1, 2)}  # both passed the path check
    barrier = threading.Barrier(2)
    results: dict[int, Any] = {}

    def run(v: int) -> None:
        barrier.wait()
        try:
            dask.compute(delayed[v], scheduler="sync")
            results[v] = "won"
        except FileExistsError as err:
            results[v] = err

    threads = [threading.Thread(target=run, args=(v,)) for v in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [v for v, r in results.items() if r == "won"]
    assert len(winners) == 1, results
    assert isinstance(results[3 - winners[0]], FileExistsError)
    assert os.listdir(tmp_path) == ["x.isxd"]
    # the file at the path is the winner's, complete: compare with the same write done alone
    alone = tmp_path / "alone" / "x.isxd"
    alone.parent.mkdir()
    dask.compute(RACES[writer](alone, winners[0]))
    assert out.read_bytes() == alone.read_bytes()


@pytest.mark.parametrize("kind", ["CellSet", "EventSet"])
def test_two_incremental_writers_of_one_path_one_flush_wins(tmp_path: Path, kind: str) -> None:
    out = tmp_path / "x.isxd"
    make = {"CellSet": lambda: xd.CellSet.write(out, T, S), "EventSet": lambda: xd.EventSet.write(out, T, ["C0", "C1"])}[kind]
    first, second = make(), make()  # both opened before either committed
    for k, w in enumerate((first, second)):
        if kind == "CellSet":
            w.set_cell_data(0, fp(1)[0] * (k + 1), tr(1)[0], "C0")
        else:
            w.set_cell_data(0, np.array([k * 1000]), np.array([1.0]))
            w.set_cell_data(1, np.array([], np.uint64), np.array([], np.float32))
    first.flush()
    committed = out.read_bytes()
    with pytest.raises(FileExistsError):
        second.flush()
    assert out.read_bytes() == committed
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        second.discard()
        del second
        gc.collect()
    assert os.listdir(tmp_path) == ["x.isxd"]


# -- a conversion whose target is its source -----------------------------------------------------------
def _source(tmp_path: Path) -> tuple[Path, bytes]:
    p = tmp_path / "m.isxd"
    xd.write_movie(np.arange(2 * 3 * 4, dtype=np.uint16).reshape(2, 3, 4), p, timing=Timing(num_samples=2), spacing=Spacing(num_pixels=(3, 4)))
    return p, p.read_bytes()


@pytest.mark.parametrize("spelling", ["same", "dot", "symlink", "parent_folder", "relative"])
def test_isxd_to_zarr_refuses_its_own_source_as_target(tmp_path: Path, spelling: str, monkeypatch: pytest.MonkeyPatch) -> None:
    src, data = _source(tmp_path)
    if spelling == "same":
        target: Any = src
    elif spelling == "dot":
        target = Path(f"{tmp_path}/./m.isxd")
    elif spelling == "symlink":
        target = tmp_path / "link.zarr"
        target.symlink_to(src)
    elif spelling == "parent_folder":
        target = tmp_path
    else:
        monkeypatch.chdir(tmp_path)
        target = "m.isxd"
    before = directory_state(tmp_path)
    with pytest.raises(ValueError, match=r"target|source"):
        xd.isxd_to_zarr(src, target, overwrite=True)
    assert src.read_bytes() == data
    assert directory_state(tmp_path) == before


@pytest.mark.parametrize("interrupt", [UserCodeError, KeyboardInterrupt])
def test_an_interrupted_loop_in_a_with_block_commits_nothing(tmp_path: Path, interrupt: type[BaseException]) -> None:
    p = tmp_path / "old.isxd"
    old = _old_file(p)
    with pytest.raises(interrupt), xd.CellSet.write(p, T, S, overwrite=True) as cs:
        for k in range(30):
            cs.set_cell_data(k, fp(1)[0], tr(1)[0], f"C{k}")
            if k == 4:
                raise interrupt("stopped in the middle")
    assert p.read_bytes() == old and os.listdir(tmp_path) == ["old.isxd"]


# -- sources that fail part-way ------------------------------------------------------------------------
def test_a_tiff_with_a_corrupt_page_commits_nothing(tmp_path: Path) -> None:
    tifffile = pytest.importorskip("tifffile")
    src = tmp_path / "s.tif"
    frames = (np.arange(N * 32 * 32, dtype=np.uint32).reshape(N, 32, 32) % 4000).astype(np.uint16)
    tifffile.imwrite(src, frames, photometric="minisblack", compression="zlib")
    with tifffile.TiffFile(src) as tif:
        page = tif.pages[4]
        offset, count = page.dataoffsets[0], page.databytecounts[0]
    raw = bytearray(src.read_bytes())
    raw[offset : offset + count] = b"\x00" * count  # not a zlib stream
    src.write_bytes(bytes(raw))
    out = tmp_path / "out.isxd"
    out.write_bytes(PRECIOUS)
    before = directory_state(tmp_path)
    with pytest.raises(Exception) as info:  # noqa: PT011 - the codec's own error type
        xd.tiff_to_isxd(src, out, period=0.05, pixel_size=2, overwrite=True)
    assert not isinstance(info.value, AssertionError)
    assert directory_state(tmp_path) == before and leftovers(tmp_path) == []


def _tree(directory: Path) -> list[tuple[str, bytes]]:
    return sorted((str(p.relative_to(directory)), p.read_bytes() if p.is_file() else b"") for p in directory.rglob("*"))


def test_isxd_to_zarr_whose_source_is_replaced_mid_write_keeps_the_old_target(tmp_path: Path) -> None:
    pytest.importorskip("zarr")
    from dask.callbacks import Callback

    src, _ = _source(tmp_path)
    target = tmp_path / "t.zarr"
    xd.isxd_to_zarr(src, target)
    before = _tree(tmp_path)
    replaced: list[int] = []

    def replace_source(key: Any, dsk: Any, state: Any) -> None:
        if not replaced:  # another process rewrites the source while the conversion runs
            replaced.append(1)
            xd.write_movie(np.full((2, 3, 4), 9, np.uint16), tmp_path / "new.isxd", timing=Timing(num_samples=2), spacing=Spacing(num_pixels=(3, 4)))
            os.replace(tmp_path / "new.isxd", src)

    with Callback(pretask=replace_source), pytest.raises(OSError, match=r"m\.isxd.*replaced"):
        xd.isxd_to_zarr(src, target, overwrite=True, compute_kwargs={"scheduler": "sync"})
    assert replaced
    after = _tree(tmp_path)
    assert [e for e in after if not e[0].startswith("m.isxd")] == [e for e in before if not e[0].startswith("m.isxd")]


def test_a_lazy_reader_never_returns_the_bytes_of_a_file_written_over_it(tmp_path: Path) -> None:
    p = tmp_path / "m.isxd"
    first = np.arange(4 * 6 * 7, dtype=np.uint16).reshape(4, 6, 7)
    xd.write_movie(first, p, timing=Timing(num_samples=4), spacing=Spacing(num_pixels=(6, 7)))
    lazy = xd.open_isxd(p).to_dask()
    xd.write_movie(first[:2, :3, :3] + 1000, p, timing=Timing(num_samples=2), spacing=Spacing(num_pixels=(3, 3)), overwrite=True)
    try:
        got = lazy.compute(scheduler="sync")
    except OSError as err:  # refused: the file changed under the reader
        assert str(p) in str(err) or p.name in str(err)
    else:  # or read from the old file, which the reader still holds
        np.testing.assert_array_equal(got, first)


def test_racing_writers_on_a_file_system_without_hard_links_one_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_link(src: Any, dst: Any, *args: Any, **kwargs: Any) -> None:
        raise OSError(errno.EPERM, "Operation not permitted (no hard links here)")

    monkeypatch.setattr(os, "link", no_link)
    out = tmp_path / "x.isxd"
    frames = {v: np.full((12, 8, 8), v, np.uint16) for v in (1, 2)}
    delayed = {v: xd.write_movie(frames[v], out, compute=False) for v in (1, 2)}
    barrier = threading.Barrier(2)
    results: dict[int, Any] = {}

    def run(v: int) -> None:
        barrier.wait()
        try:
            dask.compute(delayed[v], scheduler="sync")
            results[v] = "won"
        except FileExistsError as err:
            results[v] = err

    threads = [threading.Thread(target=run, args=(v,)) for v in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [v for v, r in results.items() if r == "won"]
    assert len(winners) == 1, results
    assert split_file(out)[0] == frames[winners[0]].tobytes()
    assert os.listdir(tmp_path) == ["x.isxd"]


_CLI_CHILD = textwrap.dedent(
    """
    import sys, time
    import isx_dask.writers._validate as validate
    from isx_dask.cli import main
    src, dst, marker = sys.argv[1:4]
    exact = validate.cast_exact

    def slow(*args, **kwargs):  # every chunk is value-checked on its way to uint8: make each one take a while
        open(marker, "w").close()
        time.sleep(0.15)
        return exact(*args, **kwargs)

    validate.cast_exact = slow
    sys.exit(main(["convert", src, dst, "--dtype", "uint8", "--period", "0.05", "--pixel-size", "2", "--overwrite",
                   "--scheduler", "synchronous", "--no-progress"]))
    """
)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_sigint_to_the_command_line_exits_130_and_keeps_the_old_file(tmp_path: Path) -> None:
    zarr = pytest.importorskip("zarr")
    src, dst, marker = tmp_path / "src.zarr", tmp_path / "out.isxd", tmp_path / "started.marker"
    z = zarr.open_array(str(src), mode="w", shape=(40, 8, 9), dtype=np.uint16, chunks=(1, 8, 9))
    z[...] = np.arange(40 * 8 * 9, dtype=np.uint16).reshape(40, 8, 9) % 200
    dst.write_bytes(PRECIOUS)
    before = directory_state(tmp_path)
    child = subprocess.Popen([sys.executable, "-c", _CLI_CHILD, str(src), str(dst), str(marker)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not marker.exists():
        if child.poll() is not None or time.monotonic() > deadline:
            child.kill()
            pytest.fail(f"the conversion never got under way: {child.communicate()[1].decode()[-2000:]}")
        time.sleep(0.02)
    child.send_signal(signal.SIGINT)
    _, err = child.communicate(timeout=60)
    assert child.returncode == 130, err.decode()
    marker.unlink()
    assert directory_state(tmp_path) == before and leftovers(tmp_path) == []
    assert sorted(os.listdir(tmp_path)) == ["out.isxd", "src.zarr"]


# -- the final rename fails ----------------------------------------------------------------------------------
def _refuse_rename(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise PermissionError(errno.EACCES, "Permission denied (injected)")

    monkeypatch.setattr(os, "replace", refuse)
    monkeypatch.setattr(os, "rename", refuse)
    monkeypatch.setattr(os, "link", refuse)


def _write_one_cell(p: Path, overwrite: bool) -> None:
    cs = xd.CellSet.write(p, T, S, overwrite=overwrite)
    cs.set_cell_data(0, fp(1)[0], tr(1)[0], "C0")
    cs.flush()


COMMITS: dict[str, Callable[[Path, bool], Any]] = {
    "write_movie": lambda p, ow: xd.write_movie(np.ones((N, ROWS, COLS), np.uint16), p, timing=T, spacing=S, overwrite=ow),
    "write_event_set_dense": lambda p, ow: xd.write_event_set_dense(tr(), p, timing=T, cell_names=["a", "b", "c"], overwrite=ow),
    "CellSet": _write_one_cell,
}


@pytest.mark.parametrize("existing", [False, True], ids=["new", "overwrite"])
@pytest.mark.parametrize("writer", list(COMMITS))
def test_a_failed_final_rename_keeps_the_old_file_and_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, writer: str, existing: bool) -> None:
    p = tmp_path / "m.isxd"
    if existing:
        p.write_bytes(PRECIOUS)
    before = directory_state(tmp_path)
    _refuse_rename(monkeypatch)
    with pytest.raises(PermissionError, match="injected"):
        COMMITS[writer](p, existing)
    monkeypatch.undo()
    assert directory_state(tmp_path) == before and leftovers(tmp_path) == []


def test_commit_movie_whose_rename_fails_keeps_the_template_for_a_retry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = tmp_path / "r.isxd"
    p.write_bytes(PRECIOUS)
    frames = np.arange(N * ROWS * COLS, dtype=np.uint16).reshape(N, ROWS, COLS)
    xd.create_movie(p, timing=T, spacing=S, dtype=np.uint16, overwrite=True)
    xd.write_movie_region(frames, p, 0)
    _refuse_rename(monkeypatch)
    with pytest.raises(PermissionError, match="injected"):
        xd.commit_movie(p)
    monkeypatch.undo()
    assert p.read_bytes() == PRECIOUS
    assert len(xd.missing_movie_frames(p)) == 0  # the regions are still there ...
    xd.commit_movie(p)  # ... and the commit can be retried
    assert split_file(p)[0] == frames.tobytes() and leftovers(tmp_path) == []


def test_isxd_to_nwb_whose_source_is_replaced_mid_export_keeps_the_old_nwb(tmp_path: Path) -> None:
    pytest.importorskip("pynwb")
    from dask.callbacks import Callback

    frames = np.arange(40 * 8 * 9, dtype=np.uint16).reshape(40, 8, 9)
    timing, spacing = Timing(num_samples=40), Spacing(num_pixels=(8, 9))
    src, nwb = tmp_path / "m.isxd", tmp_path / "old.nwb"
    xd.write_movie(frames, src, timing=timing, spacing=spacing)
    nwb.write_bytes(PRECIOUS)
    replaced: list[int] = []

    def replace_source(key: Any, dsk: Any, state: Any) -> None:
        if not replaced:
            replaced.append(1)
            xd.write_movie(frames + 1, tmp_path / "new.isxd", timing=timing, spacing=spacing)
            os.replace(tmp_path / "new.isxd", src)

    before = {name: data for name, data in directory_state(tmp_path).items() if name != "m.isxd"}
    with Callback(pretask=replace_source), pytest.raises(OSError, match=r"m\.isxd.*replaced"):
        xd.isxd_to_nwb(src, nwb, overwrite=True)
    assert replaced
    after = {name: data for name, data in directory_state(tmp_path).items() if name != "m.isxd"}
    assert after == before and sorted(os.listdir(tmp_path)) == ["m.isxd", "old.nwb"]
