"""Faults never leave a file that looks valid: failing and interrupted chunks, a full disk, two
writers racing for one path, and a process killed between the data and the footer. In every case
nothing is committed with wrong content, a file already at the path is untouched, and temporary
files are removed (or kept for ``resume=True``, which then completes the same bytes)."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import textwrap
import threading

import dask
import dask.array as da
import numpy as np
import pytest

import isx_dask as xd
from isx_dask import _io
from isx_dask import target as tg

from conftest import split_file

PRECIOUS = b"an existing file that must survive"


def entries(directory) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def _pattern(block, block_info=None):
    start = block_info[None]["array-location"][0][0]
    return (np.arange(block.size, dtype=np.uint32).reshape(block.shape) * 7 + start).astype(np.uint16)


def movie(n=12, chunk=2):
    return da.zeros((n, 8, 9), dtype=np.uint16, chunks=(chunk, 8, 9)).map_blocks(_pattern, dtype=np.uint16)


def _interrupt_on_chunk(k, error=KeyboardInterrupt):
    def fn(block, block_info=None):
        if block_info[None]["chunk-location"][0] == k:
            raise error("injected")
        return block

    return fn


@pytest.mark.parametrize("scheduler", ["sync", "threads"])
@pytest.mark.parametrize("error", [KeyboardInterrupt, RuntimeError])
def test_interrupt_or_exception_in_a_chunk_commits_nothing(tmp_path, scheduler, error):
    out = tmp_path / "m.isxd"
    out.write_bytes(PRECIOUS)
    frames = movie().map_blocks(_interrupt_on_chunk(3, error), dtype=np.uint16)
    with pytest.raises(error, match="injected"):
        xd.write_movie(frames, out, overwrite=True, compute_kwargs={"scheduler": scheduler})
    assert out.read_bytes() == PRECIOUS
    assert entries(tmp_path) == ["m.isxd"]
    new = tmp_path / "new.isxd"
    with pytest.raises(error, match="injected"):
        xd.write_movie(frames, new, compute_kwargs={"scheduler": scheduler})
    assert entries(tmp_path) == ["m.isxd"]


def test_interrupted_resumable_write_keeps_its_partial_and_completes_identically(tmp_path):
    out, plain = tmp_path / "m.isxd", tmp_path / "plain.isxd"
    out.write_bytes(PRECIOUS)
    xd.write_movie(movie(), plain)
    with pytest.raises(KeyboardInterrupt):
        xd.write_movie(movie().map_blocks(_interrupt_on_chunk(4), dtype=np.uint16), out, overwrite=True, resume=True, compute_kwargs={"scheduler": "sync"})
    assert out.read_bytes() == PRECIOUS
    assert entries(tmp_path) == [".m.isxd.partial", ".m.isxd.partial.d", "m.isxd", "plain.isxd"]
    xd.write_movie(movie(), out, overwrite=True, resume=True)
    assert out.read_bytes() == plain.read_bytes()
    assert entries(tmp_path) == ["m.isxd", "plain.isxd"]


# -- a full disk ----------------------------------------------------------------------------------
def test_disk_full_while_writing_chunks(tmp_path, monkeypatch):
    out = tmp_path / "m.isxd"
    out.write_bytes(PRECIOUS)
    real_pwrite, calls = _io.PWRITE or os.pwrite, []

    def pwrite(fd, data, offset):
        calls.append(offset)
        if len(calls) == 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_pwrite(fd, data, offset)

    monkeypatch.setattr(_io, "PWRITE", pwrite)
    for resume in (False, True):
        with pytest.raises(OSError, match="No space left") as info:
            xd.write_movie(movie(), out, overwrite=True, compute_kwargs={"scheduler": "sync"}, resume=resume)
        assert info.value.errno == errno.ENOSPC
        assert out.read_bytes() == PRECIOUS
        calls.clear()
    # the resumable write kept its partial; once space is back it completes
    assert entries(tmp_path) == [".m.isxd.partial", ".m.isxd.partial.d", "m.isxd"]
    monkeypatch.setattr(_io, "PWRITE", real_pwrite)
    xd.write_movie(movie(), out, overwrite=True, resume=True)
    assert split_file(out)[0] == movie().compute().tobytes()
    assert entries(tmp_path) == ["m.isxd"]


@pytest.mark.parametrize("reserve", ["auto", "always"])
def test_disk_full_is_found_before_any_chunk_is_computed(tmp_path, monkeypatch, reserve):
    def no_space(*args):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(_io, "fallocate", no_space)
    monkeypatch.setattr(_io, "POSIX_FALLOCATE", no_space)
    computed = []
    frames = movie().map_blocks(lambda b: (computed.append(1), b)[1], dtype=np.uint16)
    computed.clear()
    out = tmp_path / "m.isxd"
    out.write_bytes(PRECIOUS)
    for resume in (False, True):
        with pytest.raises(OSError, match="cannot reserve .* No space left") as info:
            xd.write_movie(frames, out, overwrite=True, resume=resume, reserve=reserve)
        assert info.value.errno == errno.ENOSPC
        assert computed == []
        assert entries(tmp_path) == ["m.isxd"] and out.read_bytes() == PRECIOUS
    xd.write_movie(frames, out, overwrite=True, reserve="never")
    assert split_file(out)[0] == movie().compute().tobytes()


# -- two writers ----------------------------------------------------------------------------------
def test_second_writer_to_the_same_path_gets_file_exists_error(tmp_path):
    out = tmp_path / "m.isxd"
    first = xd.write_movie(movie(), out, compute=False)
    second = xd.write_movie(movie() + 1, out, compute=False)  # both passed the path check
    dask.compute(first)
    with pytest.raises(FileExistsError, match="created by someone else"):
        dask.compute(second)
    assert split_file(out)[0] == movie().compute().tobytes()
    assert entries(tmp_path) == ["m.isxd"]


def test_two_concurrent_writers_one_wins_cleanly(tmp_path):
    out = tmp_path / "m.isxd"
    barrier = threading.Barrier(2)
    results: dict[int, object] = {}

    def write(k):
        frames = movie(n=40) + k
        delayed = xd.write_movie(frames, out, compute=False)
        barrier.wait()
        try:
            dask.compute(delayed, scheduler="sync")
            results[k] = "ok"
        except FileExistsError as err:
            results[k] = err

    threads = [threading.Thread(target=write, args=(k,)) for k in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [k for k, r in results.items() if r == "ok"]
    assert len(winners) == 1 and isinstance(results[1 - winners[0]], FileExistsError)
    assert split_file(out)[0] == (movie(n=40) + winners[0]).compute().tobytes()
    assert entries(tmp_path) == ["m.isxd"]


@pytest.mark.parametrize("rounds", range(3))
def test_without_hard_links_exactly_one_of_two_concurrent_writers_wins(tmp_path, monkeypatch, rounds):
    def no_links(src, dst):
        raise OSError(errno.EPERM, "Operation not permitted")  # as on FAT, some SMB and FUSE mounts

    monkeypatch.setattr(os, "link", no_links)
    out = tmp_path / "m.isxd"
    barrier = threading.Barrier(2)
    results: dict[int, object] = {}

    def write(k):
        delayed = xd.write_movie(movie(n=20) + k, out, compute=False)
        barrier.wait()
        try:
            dask.compute(delayed, scheduler="sync")
            results[k] = "ok"
        except FileExistsError as err:
            results[k] = err

    threads = [threading.Thread(target=write, args=(k,)) for k in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [k for k, r in results.items() if r == "ok"]
    assert len(winners) == 1 and isinstance(results[1 - winners[0]], FileExistsError), results
    assert split_file(out)[0] == (movie(n=20) + winners[0]).compute().tobytes()
    assert entries(tmp_path) == ["m.isxd"]


def test_a_template_that_loses_the_race_for_its_path_is_kept(tmp_path):
    from isx_dask.regions import commit_movie, create_movie, write_movie_region

    out = tmp_path / "r.isxd"
    frames = np.arange(4 * 3 * 5, dtype=np.uint16).reshape(4, 3, 5)
    create_movie(out, timing=xd.Timing(4), spacing=xd.Spacing(num_pixels=(3, 5)), dtype=np.uint16)
    write_movie_region(frames, out, 0)
    out.write_bytes(PRECIOUS)  # another job got the path first
    with pytest.raises(FileExistsError, match=r"kept in .*\.r\.isxd\.partial"):
        commit_movie(out)
    assert out.read_bytes() == PRECIOUS
    assert entries(tmp_path) == [".r.isxd.partial", ".r.isxd.partial.d", "r.isxd"]
    with pytest.raises(xd.IsxdFormatError):  # kept without a footer: it never looks like a finished file
        xd.open_isxd(tmp_path / ".r.isxd.partial")
    out.unlink()
    commit_movie(out)
    assert split_file(out)[0] == frames.tobytes() and entries(tmp_path) == ["r.isxd"]


@pytest.mark.parametrize("resume", [False, True])
def test_a_footer_that_cannot_be_encoded_is_refused_before_anything_is_created(tmp_path, resume):
    from isx_dask.layout import ArrayLayout

    layout = ArrayLayout.contiguous(0, (4, 3, 3), "<u2")
    computed = []
    frames = movie(4).map_blocks(lambda b: (computed.append(1), b)[1], dtype=np.uint16)[:, :3, :3]
    computed.clear()  # map_blocks tried the function once to learn its output
    for bad in ({"type": 0, "extraProperties": {"note": "\ud800"}}, {"type": 0, "extraProperties": float("nan")}):
        with pytest.raises(ValueError, match="footer cannot be stored"):
            tg.store_then_commit([(frames, layout)], str(tmp_path / "m.isxd"), layout.nbytes, bad, overwrite=False, resume=resume)
    assert entries(tmp_path) == [] and computed == []


# -- killed processes -----------------------------------------------------------------------------
_CHILD = textwrap.dedent(
    """
    import os, sys
    import dask.array as da, numpy as np
    import isx_dask as xd
    from isx_dask import target as tg
    out, where = sys.argv[1], sys.argv[2]
    def pattern(block, block_info=None):
        loc = block_info[None]["chunk-location"][0]
        if where == "chunk" and loc == 4:
            os._exit(3)  # killed in the middle of the write
        start = block_info[None]["array-location"][0][0]
        return (np.arange(block.size, dtype=np.uint32).reshape(block.shape) * 7 + start).astype(np.uint16)
    if where == "footer":
        def die(*args, **kwargs):
            os._exit(3)  # killed after all data, before the footer
        tg.commit = die
    frames = da.zeros((12, 8, 9), dtype=np.uint16, chunks=(2, 8, 9)).map_blocks(pattern, dtype=np.uint16)
    xd.write_movie(frames, out, overwrite=True, resume=True, compute_kwargs={"scheduler": "sync"})
    """
)


@pytest.mark.parametrize("where", ["chunk", "footer"])
def test_killed_writer_leaves_no_file_and_resume_completes_identically(tmp_path, where):
    out, plain = tmp_path / "m.isxd", tmp_path / "plain.isxd"
    out.write_bytes(PRECIOUS)
    xd.write_movie(movie(), plain)
    child = subprocess.run([sys.executable, "-c", _CHILD, str(out), where], capture_output=True, timeout=120)
    assert child.returncode == 3, child.stderr.decode()
    assert out.read_bytes() == PRECIOUS
    done = sorted(os.listdir(tmp_path / ".m.isxd.partial.d" / "done"))
    if where == "footer":
        assert done == sorted(f"a0_{a}-{a + 2}_0-8_0-9" for a in (0, 2, 4, 6, 8, 10))
    else:
        assert 1 <= len(done) < 6 and "a0_8-10_0-8_0-9" not in done
    computed = []
    frames = movie().map_blocks(lambda b, block_info=None: (computed.append(block_info[None]["chunk-location"][0]), b)[1], dtype=np.uint16)
    computed.clear()
    xd.write_movie(frames, out, overwrite=True, resume=True, compute_kwargs={"scheduler": "sync"})
    assert len(computed) == 6 - len(done)
    assert out.read_bytes() == plain.read_bytes()
    assert entries(tmp_path) == ["m.isxd", "plain.isxd"]


def test_killed_plain_writer_never_commits(tmp_path):
    out = tmp_path / "m.isxd"
    script = _CHILD.replace("resume=True", "resume=False")
    child = subprocess.run([sys.executable, "-c", script, str(out), "footer"], capture_output=True, timeout=120)
    assert child.returncode == 3, child.stderr.decode()
    assert not out.exists()
    names = entries(tmp_path)
    assert len(names) == 1 and names[0].startswith(".m.isxd.") and names[0].endswith(".partial")
    with pytest.raises(xd.IsxdFormatError):
        xd.open_isxd(tmp_path / names[0])
