"""The write target: small picklable recipes, page-safe windows, space reservation, durable commits,
resumable writes and the template-and-regions API. Files are read back by the official ``isx`` and
compared with numpy."""

from __future__ import annotations

import json
import os
import pickle

import dask.array as da
import numpy as np
import pytest

import isx_dask as xd
from isx_dask import _io
from isx_dask import target as tg
from isx_dask.layout import ArrayLayout
from isx_dask.regions import commit_movie, create_movie, discard_movie, missing_movie_frames, write_movie_region

from conftest import split_file


def entries(directory) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


def assert_reads_back(isx, path, frames, timing):
    movie = isx.Movie.read(str(path))
    assert movie.timing.num_samples == timing.num_samples
    valid = timing.get_valid_samples_mask()
    for i in range(timing.num_samples):
        expected = frames[i] if valid[i] else np.zeros_like(frames[i])
        np.testing.assert_array_equal(movie.get_frame_data(i), expected)


# -- the target ---------------------------------------------------------------------------------
def test_target_pickles_to_less_than_1_kb(tmp_path):
    layout = ArrayLayout(5120, (100000, 800, 1280), "<u2", (2058240, 2560, 2))
    long_dir = str(tmp_path / ("d" * 100))
    for target in (
        tg.IsxdTarget(long_dir + "/.movie.isxd.0123456789abcdef0123456789abcdef.partial", layout),
        tg.IsxdTarget(long_dir + "/.movie.isxd.partial", layout, "pwrite", long_dir + "/.movie.isxd.partial.d/done/a0_", True),
    ):
        payload = pickle.dumps(target)
        assert len(payload) < 1024, len(payload)
        assert pickle.loads(payload) == target


def _filled(tmp_path, nbytes):
    path = tmp_path / "f.bin"
    path.write_bytes(b"\xab" * nbytes)
    return str(path)


@pytest.mark.parametrize("method", ["auto", "pwrite", "mmap"])
def test_a_tile_touches_only_its_own_bytes(tmp_path, method):
    shape = (300, 40, 48)  # 300 x 40 runs of 24 bytes for a half-width tile: a fragmented chunk
    layout = ArrayLayout.contiguous(7, shape, "<u2")
    path = _filled(tmp_path, layout.end + 11)
    tile = np.arange(300 * 40 * 24, dtype=np.uint16).reshape(300, 40, 24)
    tg.IsxdTarget(path, layout, method)[:, :, 24:] = tile
    raw = np.fromfile(path, np.uint8)
    expected = np.full(layout.end + 11, 0xAB, np.uint8)
    view = expected[7 : layout.end].view("<u2").reshape(shape)
    view[:, :, 24:] = tile
    np.testing.assert_array_equal(raw, expected)


def test_auto_never_maps_a_page_shared_with_other_bytes_on_a_shared_file_system(tmp_path, monkeypatch):
    monkeypatch.setattr(_io, "on_local_filesystem", lambda directory: False)
    mapped = []
    original = tg.IsxdTarget._write_mapped
    monkeypatch.setattr(tg.IsxdTarget, "_write_mapped", lambda self, *a: (mapped.append(1), original(self, *a)))
    # Short runs inside pages shared with the other half of each row: pwrite.
    layout = ArrayLayout.contiguous(0, (600, 1024), "<u2")
    path = _filled(tmp_path, layout.end)
    tg.IsxdTarget(path, layout)[:, :512] = np.ones((600, 512), np.uint16)
    assert mapped == []
    # Runs of whole pages, page-aligned: the window is all this chunk's, so it may be mapped.
    layout = ArrayLayout(0, (600, _io.DIRECT_ALIGN // 2), "<u2", (2 * _io.DIRECT_ALIGN, 2))
    path = _filled(tmp_path, 600 * 2 * _io.DIRECT_ALIGN)
    tg.IsxdTarget(path, layout)[:, :] = np.full((600, _io.DIRECT_ALIGN // 2), 7, np.uint16)
    assert mapped == [1]
    raw = np.fromfile(path, np.uint8).reshape(600, 2 * _io.DIRECT_ALIGN)
    assert (raw[:, : _io.DIRECT_ALIGN].view("<u2") == 7).all() and (raw[:, _io.DIRECT_ALIGN :] == 0xAB).all()


def test_chunk_that_does_not_fill_its_region_is_refused(tmp_path):
    layout = ArrayLayout.contiguous(0, (4, 4), "<u2")
    path = _filled(tmp_path, layout.end)
    with pytest.raises(ValueError, match="does not fill"):
        tg.IsxdTarget(path, layout)[0:2] = np.zeros(3, np.uint16)


@pytest.mark.parametrize(
    ("path", "error", "match"),
    [(None, TypeError, "path must be a str or os.PathLike"), (3, TypeError, "path must be a str or os.PathLike"),
     ("o\x00ut.isxd", ValueError, "NUL")],
)
def test_paths_that_name_no_file_are_refused_with_the_argument_named(tmp_path, path, error, match):
    with pytest.raises(error, match=match):
        tg.check_output_path(path, False)


def test_a_data_section_no_file_can_hold_is_refused_before_anything_is_created(tmp_path):
    huge = xd.Timing(2**62)
    with pytest.raises(ValueError, match="more than a file can hold"):
        create_movie(tmp_path / "h.isxd", timing=huge, spacing=xd.Spacing(num_pixels=(2**20, 2**20)), dtype=np.uint16)
    with pytest.raises(ValueError, match="more than a file can hold"):
        tg.preallocate(str(tmp_path / "h.isxd"), 2**63)
    layout = ArrayLayout.contiguous(0, (2**62, 4), "<u2")
    with pytest.raises(ValueError, match="more than a file can hold"):
        tg.store_then_commit([(da.zeros(layout.shape, np.uint16, chunks=(2**60, 4)), layout)], str(tmp_path / "h.isxd"),
                             layout.nbytes, {"type": 0}, overwrite=False, compute=False)
    assert entries(tmp_path) == []


# -- reservation ----------------------------------------------------------------------------------
def test_reservation_allocates_blocks_and_never_leaves_a_sparse_hole(tmp_path):
    out = str(tmp_path / "m.isxd")
    size = 64 * 2**20
    partial = tg.preallocate(out, size, reserve="never")
    assert os.path.getsize(partial) == size and os.stat(partial).st_blocks * 512 < size
    tg.remove_partial(partial)
    partial = tg.preallocate(out, size, reserve="auto")
    allocated = os.stat(partial).st_blocks * 512
    tg.remove_partial(partial)
    fd = os.open(str(tmp_path / "probe"), os.O_RDWR | os.O_CREAT)
    supported = _io.fallocate(fd, 4096)
    os.close(fd)
    assert os.path.getsize(str(tmp_path / "probe")) == 4096 or not supported
    if supported:
        assert allocated >= size
    with pytest.raises(ValueError, match="reserve must be one of"):
        tg.preallocate(out, size, reserve="sometimes")
    assert [n for n in entries(tmp_path) if n.endswith(".partial")] == []


# -- commit ---------------------------------------------------------------------------------------
def test_commit_flushes_data_and_footer_before_the_name_appears(tmp_path, monkeypatch):
    events = []
    real_fsync, real_link = os.fsync, os.link
    out = tmp_path / "m.isxd"

    def fsync(fd):
        events.append(("fsync", os.path.exists(out)))
        real_fsync(fd)

    def link(src, dst):
        events.append(("link", os.path.getsize(src)))
        real_link(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "link", link)
    frames = np.arange(3 * 4 * 5, dtype=np.uint16).reshape(3, 4, 5)
    xd.write_movie(frames, out)
    data, footer = split_file(out)
    assert data == frames.tobytes()
    # file fsync (path absent), then the link of the complete file, then the directory fsync
    assert events[0] == ("fsync", False)
    assert events[1] == ("link", out.stat().st_size)
    assert events[2][0] == "fsync"
    events.clear()
    xd.write_movie(frames, tmp_path / "n.isxd", fsync=False)
    assert [e[0] for e in events] == ["link"]


# -- resumable writes -----------------------------------------------------------------------------
def _counting(log):
    def gen(block, block_info=None):
        log.append(block_info[None]["chunk-location"][0])
        start = block_info[None]["array-location"][0][0]
        return (np.arange(block.size, dtype=np.uint32).reshape(block.shape) + 1000 * start).astype(np.uint16)

    return gen


def test_resume_writes_only_missing_chunks_and_gives_identical_bytes(tmp_path, isx):
    log: list[int] = []
    frames = da.zeros((10, 6, 7), dtype=np.uint16, chunks=(2, 6, 7)).map_blocks(_counting(log), dtype=np.uint16)
    expected = frames.compute()
    timing = xd.Timing(10, xd.Duration(1, 30))
    plain = tmp_path / "plain.isxd"
    xd.write_movie(frames, plain, timing=timing, compute_kwargs={"scheduler": "sync"})
    out = tmp_path / "m.isxd"
    partial = tg.partial_path(out)
    # an interrupted write: two chunks finished before the job died
    delayed = xd.write_movie(frames, out, timing=timing, resume=True, compute=False)
    assert os.path.exists(partial) and not out.exists()
    state = json.loads((tmp_path / ".m.isxd.partial.d" / "state.json").read_text())
    assert state["data_size"] == 10 * 6 * 7 * 2 and state["metadata"]["timingInfo"]["numTimes"] == 10
    del delayed
    layout = ArrayLayout.contiguous(0, (10, 6, 7), "<u2")
    target = tg.IsxdTarget(partial, layout, record=os.path.join(partial + ".d", "done", "a0_"))
    stored = expected[timing.get_valid_samples_mask()]
    target[0:2] = stored[0:2]
    target[6:8] = stored[6:8]
    log.clear()
    xd.write_movie(frames, out, timing=timing, resume=True, compute_kwargs={"scheduler": "sync"})
    assert sorted(log) == [1, 2, 4]  # time chunks 0-2 and 6-8 were not recomputed
    assert out.read_bytes() == plain.read_bytes()
    assert entries(tmp_path) == ["m.isxd", "plain.isxd"]
    assert_reads_back(isx, out, expected, timing)


def test_resume_refuses_different_metadata_before_writing(tmp_path):
    out = tmp_path / "m.isxd"
    frames = da.ones((4, 3, 3), dtype=np.uint16, chunks=(2, 3, 3))
    xd.write_movie(frames, out, resume=True, compute=False)
    partial = tg.partial_path(out)
    before = open(partial, "rb").read()
    with pytest.raises(ValueError, match="different footer key 'timingInfo'"):
        xd.write_movie(frames, out, timing=xd.Timing(4, xd.Duration(1, 10)), resume=True)
    with pytest.raises(ValueError, match="different"):
        xd.write_movie(frames.astype(np.float32), out, resume=True)
    assert open(partial, "rb").read() == before and not out.exists()
    xd.write_movie(frames, out, resume=True)
    assert split_file(out)[0] == np.ones((4, 3, 3), np.uint16).tobytes()
    assert entries(tmp_path) == ["m.isxd"]


def test_resume_starts_afresh_when_the_data_file_is_gone(tmp_path):
    out = tmp_path / "m.isxd"
    frames = da.full((4, 3, 3), 5, dtype=np.uint16, chunks=(2, 3, 3))
    xd.write_movie(frames, out, resume=True, compute=False)
    done = tmp_path / ".m.isxd.partial.d" / "done"
    (done / "a0_0-2_0-3_0-3").touch()  # a marker whose bytes were lost with the data file
    os.unlink(tg.partial_path(out))
    xd.write_movie(frames, out, resume=True)
    assert split_file(out)[0] == np.full((4, 3, 3), 5, np.uint16).tobytes()


# -- template and regions -------------------------------------------------------------------------
def test_regions_in_any_order_then_commit(tmp_path, isx):
    out = tmp_path / "r.isxd"
    timing = xd.Timing(12, xd.Duration(1, 20), dropped=[2], cropped=[(6, 7)])
    spacing = xd.Spacing(num_pixels=(5, 6))
    frames = np.random.default_rng(1).integers(0, 60000, (12, 5, 6), dtype=np.uint16)
    assert create_movie(out, timing=timing, spacing=spacing, dtype=np.uint16) == str(out)
    np.testing.assert_array_equal(missing_movie_frames(out), [0, 1, 3, 4, 5, 8, 9, 10, 11])
    write_movie_region(da.from_array(frames[8:], chunks=(1, 5, 3)), out, 8)
    write_movie_region(frames[0:5], out, start_frame=0)
    np.testing.assert_array_equal(missing_movie_frames(out), [5])
    with pytest.raises(ValueError, match="1 valid frame"):
        commit_movie(out)
    assert not out.exists()
    # a job that calls create_movie again finds the same template with its regions
    create_movie(out, timing=timing, spacing=spacing, dtype=np.uint16)
    write_movie_region(frames[5:8], out, 5)
    write_movie_region(frames[5:8], out, 5)  # a retried job: harmless
    commit_movie(out)
    assert entries(tmp_path) == ["r.isxd"]
    assert_reads_back(isx, out, frames, timing)
    assert split_file(out)[0] == frames[timing.get_valid_samples_mask()].tobytes()
    with pytest.raises(FileNotFoundError, match="no unfinished file"):
        commit_movie(out)


def test_region_arguments_are_checked_before_writing(tmp_path):
    out = tmp_path / "r.isxd"
    timing, spacing = xd.Timing(4), xd.Spacing(num_pixels=(2, 3))
    with pytest.raises(FileNotFoundError, match="create it first"):
        write_movie_region(np.zeros((1, 2, 3), np.uint16), out, 0)
    create_movie(out, timing=timing, spacing=spacing, dtype=np.uint16)
    with pytest.raises(ValueError, match="different footer key 'spacingInfo'"):
        create_movie(out, timing=timing, spacing=xd.Spacing(num_pixels=(3, 2)), dtype=np.uint16)
    with pytest.raises(ValueError, match="start_frame"):
        write_movie_region(np.zeros((2, 2, 3), np.uint16), out, 3)
    with pytest.raises(TypeError, match="start_frame"):
        write_movie_region(np.zeros((2, 2, 3), np.uint16), out, 1.0)
    with pytest.raises(ValueError, match="num_pixels"):
        write_movie_region(np.zeros((2, 3, 2), np.uint16), out, 0)
    with pytest.raises(ValueError, match="frames"):  # 0.5 cannot be stored as uint16 unchanged
        write_movie_region(np.full((2, 2, 3), 0.5, np.float32), out, 0)
    with pytest.raises(ValueError, match="frames"):  # nor can 70000
        write_movie_region(da.full((2, 2, 3), 70000, np.uint32, chunks=1), out, 0)
    with pytest.raises(TypeError, match="casting"):
        write_movie_region(np.zeros((2, 2, 3), np.float32), out, 0, casting="safe")
    with pytest.raises(ValueError, match=r"compute_kwargs\['scheduler'\]"):
        write_movie_region(np.zeros((2, 2, 3), np.uint16), out, 0, compute_kwargs={"scheduler": "bogus"})
    with pytest.raises(ValueError, match="write_method must be one of"):
        write_movie_region(np.zeros((2, 2, 3), np.uint16), out, 0, write_method="magic")
    with pytest.raises(TypeError, match="data comes first"):
        write_movie_region(out, np.zeros((2, 2, 3), np.uint16), 0)
    with pytest.raises(ValueError, match="at least one frame"):
        create_movie(tmp_path / "y.isxd", timing=xd.Timing(0), spacing=spacing, dtype=np.uint16)
    with pytest.raises(ValueError, match="at least one row"):
        create_movie(tmp_path / "y.isxd", timing=timing, spacing=xd.Spacing(num_pixels=(0, 3)), dtype=np.uint16)
    with pytest.raises(ValueError, match="reserve must be one of"):
        create_movie(tmp_path / "y.isxd", timing=timing, spacing=spacing, dtype=np.uint16, reserve="sometimes")
    with pytest.raises(ValueError, match="dtype"):
        create_movie(tmp_path / "x.isxd", timing=timing, spacing=spacing, dtype=np.int64)
    np.testing.assert_array_equal(missing_movie_frames(out), [0, 1, 2, 3])  # no refused region was recorded
    write_movie_region(np.full((4, 2, 3), 7.0, np.float64), out, 0)  # exact values: converted
    commit_movie(out)
    assert split_file(out)[0] == np.full((4, 2, 3), 7, np.uint16).tobytes()
    create_movie(out, timing=timing, spacing=spacing, dtype=np.uint16, overwrite=True)
    write_movie_region(np.full((4, 2, 3), 300.7, np.float64), out, 0, casting="unsafe")  # explicit opt-in
    np.testing.assert_array_equal(missing_movie_frames(out), [])
    discard_movie(out)
    out.unlink()
    assert entries(tmp_path) == []
    (tmp_path / "keep.isxd").write_bytes(b"precious")
    with pytest.raises(FileExistsError, match="overwrite"):
        create_movie(tmp_path / "keep.isxd", timing=timing, spacing=spacing, dtype=np.uint16)
    create_movie(tmp_path / "keep.isxd", timing=timing, spacing=spacing, dtype=np.uint16, overwrite=True)
    write_movie_region(np.ones((4, 2, 3), np.uint16), tmp_path / "keep.isxd", 0)
    assert (tmp_path / "keep.isxd").read_bytes() == b"precious"
    commit_movie(tmp_path / "keep.isxd")
    assert split_file(tmp_path / "keep.isxd")[0] == np.ones((4, 2, 3), np.uint16).tobytes()


MOUNTINFO = [
    "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw",
    "40 22 0:35 / /shared rw,relatime shared:20 - nfs4 server:/export rw,vers=4.2",
    "41 40 0:36 / /shared/scratch rw - lustre 10.0.0.1@tcp:/fs rw",
    "42 22 0:37 / /home/me/My\\040Drive rw - fuse.rclone remote: rw",
]


@pytest.mark.parametrize(
    ("directory", "expected"),
    [("/data/run1", "ext4"), ("/shared", "nfs4"), ("/shared/lab", "nfs4"), ("/sharedx", "ext4"),
     ("/shared/scratch/job", "lustre"), ("/home/me/My Drive/x", "fuse.rclone")],
)
def test_filesystem_type_from_mountinfo(directory, expected):
    assert _io.mountinfo_filesystem_type(MOUNTINFO, directory) == expected


@pytest.mark.parametrize("local", [True, False])
def test_tiles_use_mapped_windows_only_on_local_file_systems(tmp_path, monkeypatch, local):
    """On a network file system a mapped window would write back pages shared with other chunks."""
    import dask.array as da

    monkeypatch.setattr(_io, "on_local_filesystem", lambda directory: local)
    mapped = []
    original = tg.IsxdTarget._write_mapped
    monkeypatch.setattr(tg.IsxdTarget, "_write_mapped", lambda self, *a: (mapped.append(a[1]), original(self, *a)))
    frames = np.random.default_rng(5).integers(0, 4000, size=(8, 300, 300), dtype=np.uint16)
    out = tmp_path / "tiles.isxd"
    xd.write_movie(da.from_array(frames, chunks=(8, 300, 150)), out, compute_kwargs={"scheduler": "synchronous"})
    assert bool(mapped) is local
    np.testing.assert_array_equal(xd.open_isxd(out).frames.compute(), frames)


def test_resume_with_scattered_finished_chunks_writes_exactly_the_others(tmp_path):
    """Finished chunks in any pattern (as a cluster leaves them) are skipped; the others land at their bytes."""
    base = (np.arange(40 * 6 * 8) % 60000).astype(np.uint16).reshape(40, 6, 8)
    frames = da.from_array(base, chunks=(3, 6, 3))  # uneven chunks along two axes
    layout = ArrayLayout.contiguous(0, base.shape, "<u2")
    out = str(tmp_path / "m.isxd")
    tg.store_then_commit([(frames, layout)], out, layout.nbytes, {"type": 0}, overwrite=False, resume=True, compute=False)
    partial = tg.partial_path(out)
    rng = np.random.default_rng(2)
    done = {}
    row_starts, col_starts = np.cumsum((0,) + frames.chunks[0]), np.cumsum((0,) + frames.chunks[2])
    for i in range(len(frames.chunks[0])):
        for j in range(len(frames.chunks[2])):
            region = ((int(row_starts[i]), int(row_starts[i + 1])), (0, 6), (int(col_starts[j]), int(col_starts[j + 1])))
            done[region] = bool(rng.random() < 0.5)
            if done[region]:
                (tmp_path / ".m.isxd.partial.d" / "done" / ("a0_" + "_".join(f"{a}-{b}" for a, b in region))).touch()
    delayed = tg.store_then_commit([(frames, layout)], out, layout.nbytes, {"type": 0}, overwrite=False, resume=True, compute=False)
    delayed.compute(scheduler="threads")
    raw = np.fromfile(out, np.uint16, count=base.size).reshape(base.shape)
    for ((a, b), _, (c, d)), skipped in done.items():
        expected = np.zeros_like(base[a:b, :, c:d]) if skipped else base[a:b, :, c:d]
        np.testing.assert_array_equal(raw[a:b, :, c:d], expected)
    assert 0 < sum(done.values()) < len(done) and not os.path.exists(partial)
