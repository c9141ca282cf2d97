"""How bytes reach the disk (``isx_dask._io``): every platform call is withdrawn in turn and the bytes
written must stay identical to what numpy computes independently; ``direct`` writes with unaligned edges,
their fallback on ``EINVAL`` (tmpfs), durability, reservation and file-system detection fallbacks."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import textwrap
import threading

import dask.array as da
import numpy as np
import pytest

import isx_dask as xd
from isx_dask import _io
from isx_dask import target as tg
from isx_dask.layout import ArrayLayout

from conftest import split_file

FILL = 0xAB


@pytest.fixture(autouse=True)
def _fresh_probes():
    _io.on_local_filesystem.cache_clear()
    refused = set(_io._DIRECT_REFUSED)
    _io._DIRECT_REFUSED.clear()
    yield
    _io.on_local_filesystem.cache_clear()
    _io._DIRECT_REFUSED.clear()
    _io._DIRECT_REFUSED.update(refused)


def _withdraw(monkeypatch, what: str) -> None:
    """Remove one platform call (or all of them) from ``_io``, as on a platform that lacks it."""
    names = {
        "pwrite": ["PWRITE"],
        "fdatasync": ["FDATASYNC"],
        "o_direct": ["O_DIRECT"],
        "fallocate": ["LINUX_FALLOCATE", "POSIX_FALLOCATE"],
        "proc": ["MOUNTINFO", "MOUNTS"],
    }
    chosen = sum(names.values(), []) if what == "all" else names.get(what, [])
    for name in chosen:
        monkeypatch.setattr(_io, name, False if name == "LINUX_FALLOCATE" else 0 if name == "O_DIRECT" else None)
    _io.on_local_filesystem.cache_clear()


def _filled(tmp_path, nbytes, name="f.bin"):
    path = tmp_path / name
    path.write_bytes(bytes([FILL]) * nbytes)
    return str(path)


def _direct_accepted(directory) -> bool:
    """Whether this platform and file system take O_DIRECT writes (probed independently of _io)."""
    flag = getattr(os, "O_DIRECT", 0)
    if not flag or not _io.O_DIRECT:
        return False
    probe = os.path.join(directory, "probe")
    try:
        fd = os.open(probe, os.O_RDWR | os.O_CREAT | flag)
    except OSError:
        return False
    os.close(fd)
    os.unlink(probe)
    return True


WITHDRAWN = ["none", "pwrite", "fdatasync", "o_direct", "fallocate", "proc", "all"]


# -- every strategy gives the same bytes with every call withdrawn ---------------------------------
@pytest.mark.parametrize("what", WITHDRAWN)
@pytest.mark.parametrize("method", ["auto", "direct", "pwrite", "mmap"])
def test_chunks_land_at_their_bytes_whatever_is_withdrawn(tmp_path, monkeypatch, what, method):
    _withdraw(monkeypatch, what)
    shape = (6, 130, 1031)  # odd offset and row length: every run has unaligned edges
    layout = ArrayLayout.contiguous(4099, shape, "<u2")
    path = _filled(tmp_path, layout.end + 5000)
    data = np.random.default_rng(3).integers(0, 65535, shape, dtype=np.uint16)
    target = tg.IsxdTarget(path, layout, method)
    target[0:2] = data[0:2]  # whole frames: one long run of ~536 KB
    target[2:6, :, :500] = data[2:6, :, :500]  # tiles: many short runs
    target[2:6, :, 500:] = data[2:6, :, 500:]
    expected = np.full(layout.end + 5000, FILL, np.uint8)
    expected[4099 : layout.end] = data.reshape(-1).view(np.uint8)
    np.testing.assert_array_equal(np.fromfile(path, np.uint8), expected)


@pytest.mark.parametrize("what", WITHDRAWN)
def test_write_movie_with_each_call_withdrawn_gives_the_same_file(tmp_path, monkeypatch, what):
    frames = np.random.default_rng(4).integers(0, 65535, (9, 300, 301), dtype=np.uint16)
    timing = xd.Timing(9, xd.Duration(1, 20), dropped=[3])
    spacing = xd.Spacing(num_pixels=(300, 301))
    reference = tmp_path / "reference.isxd"
    xd.write_movie(frames, reference, timing=timing, spacing=spacing)
    _withdraw(monkeypatch, what)
    for resume in (False, True):
        out = tmp_path / f"m{int(resume)}.isxd"
        xd.write_movie(
            da.from_array(frames, chunks=(2, 300, 301)), out, timing=timing, spacing=spacing, resume=resume,
            compute_kwargs={"scheduler": "threads"},
        )
        data, footer = split_file(out)
        assert data == frames[timing.get_valid_samples_mask()].tobytes()
        assert out.read_bytes() == reference.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m0.isxd", "m1.isxd", "reference.isxd"]


# -- direct writes ---------------------------------------------------------------------------------
@pytest.mark.parametrize("offset", [0, 1, 4095, 4096, 12345])
@pytest.mark.parametrize("nbytes", [100, 4096, 3 * 4096 + 17, 2**20 + 3])
def test_direct_runs_with_unaligned_edges(tmp_path, offset, nbytes):
    size = offset + nbytes + 9000
    path = _filled(tmp_path, size)
    payload = np.random.default_rng(nbytes).integers(0, 255, 2 * nbytes, dtype=np.uint8)
    offsets = [offset, offset + nbytes + 4000]
    with open(path, "r+b") as f:
        f.truncate(offsets[1] + nbytes + 100)
    fd = _io.open_file(path, os.O_RDWR)
    try:
        used = _io.write_runs(path, fd, memoryview(payload), nbytes, offsets, direct=True)
    finally:
        os.close(fd)
    expected = np.full(offsets[1] + nbytes + 100, FILL, np.uint8)
    expected[size:] = 0  # truncate() extended the file with zeros
    expected[offsets[0] : offsets[0] + nbytes] = payload[:nbytes]
    expected[offsets[1] : offsets[1] + nbytes] = payload[nbytes:]
    np.testing.assert_array_equal(np.fromfile(path, np.uint8), expected)
    has_whole_block = any(_io._aligned_body(o, nbytes)[1] for o in offsets)
    around_cache = _direct_accepted(tmp_path) or _io.F_NOCACHE is not None  # O_DIRECT (Linux) or F_NOCACHE (macOS)
    assert used == (has_whole_block and around_cache)


def test_direct_is_used_by_auto_for_long_runs_on_a_local_disk(tmp_path, monkeypatch):
    if not _direct_accepted(tmp_path):
        pytest.skip(f"{tmp_path} does not take O_DIRECT writes on this platform")
    monkeypatch.setattr(_io, "on_local_filesystem", lambda directory: True)
    calls = []
    real = _io._write_direct_body
    monkeypatch.setattr(_io, "_write_direct_body", lambda fd, data, offset: (calls.append(len(data)), real(fd, data, offset)))
    frames = np.random.default_rng(6).integers(0, 65535, (8, 512, 512), dtype=np.uint16)
    out = tmp_path / "m.isxd"
    xd.write_movie(da.from_array(frames, chunks=(4, 512, 512)), out, timing=xd.Timing(8), spacing=xd.Spacing(num_pixels=(512, 512)))
    assert sum(calls) == frames.nbytes  # both chunks start and end on block boundaries
    assert split_file(out)[0] == frames.tobytes()
    calls.clear()
    tiles = tmp_path / "t.isxd"  # runs of 512 bytes: never direct
    xd.write_movie(da.from_array(frames, chunks=(8, 512, 256)), tiles, timing=xd.Timing(8), spacing=xd.Spacing(num_pixels=(512, 512)))
    assert calls == [] and split_file(tiles)[0] == frames.tobytes()


def test_direct_falls_back_where_open_refuses_o_direct(tmp_path, monkeypatch):
    monkeypatch.setattr(_io, "O_DIRECT", getattr(os, "O_DIRECT", 0) or 0x4000)
    monkeypatch.setattr(_io, "F_NOCACHE", None)
    real_open = os.open

    def refusing_open(path, flags, *args):
        if flags & _io.O_DIRECT:
            raise OSError(errno.EINVAL, "Invalid argument")
        return real_open(path, flags, *args)

    monkeypatch.setattr(os, "open", refusing_open)
    path = _filled(tmp_path, 3 * 2**20)
    payload = np.arange(2**20, dtype=np.uint16)
    tg.IsxdTarget(path, ArrayLayout.contiguous(10, (2**20,), "<u2"), "direct")[:] = payload
    raw = np.fromfile(path, np.uint8)
    assert raw[10 : 10 + 2**21].view("<u2").tolist() == payload.tolist()
    assert (raw[:10] == FILL).all() and (raw[10 + 2**21 :] == FILL).all()
    assert str(tmp_path) in _io._DIRECT_REFUSED


def test_direct_falls_back_where_the_write_is_refused(tmp_path, monkeypatch):
    def refuse(fd, data, offset):
        raise OSError(errno.EINVAL, "Invalid argument")

    monkeypatch.setattr(_io, "_write_direct_body", refuse)
    monkeypatch.setattr(_io, "O_DIRECT", getattr(os, "O_DIRECT", 0))
    path = _filled(tmp_path, 2**21 + 8192)
    payload = np.random.default_rng(0).integers(0, 255, 2**21, dtype=np.uint8)
    fd = _io.open_file(path, os.O_RDWR)
    try:
        used = _io.write_runs(path, fd, memoryview(payload), 2**20, [100, 2**20 + 4000], direct=True)
    finally:
        os.close(fd)
    assert not used
    raw = np.fromfile(path, np.uint8)
    assert raw[100 : 100 + 2**20].tolist() == payload[: 2**20].tolist()
    assert raw[2**20 + 4000 : 2**21 + 4000].tolist() == payload[2**20 :].tolist()


def test_direct_on_tmpfs_falls_back_to_ordinary_writes():
    shm = "/dev/shm"
    if not (sys.platform.startswith("linux") and os.path.isdir(shm) and os.access(shm, os.W_OK)):
        pytest.skip("no writable /dev/shm (tmpfs) here")
    with open("/proc/mounts") as f:
        if _io.mounts_filesystem_type(f.read().splitlines(), shm) != "tmpfs":
            pytest.skip("/dev/shm is not a tmpfs here")
    path = os.path.join(shm, f"isx_dask-test-{os.getpid()}.bin")
    try:
        with open(path, "wb") as f:
            f.truncate(2**20 + 4096)
        payload = np.arange(2**19, dtype=np.uint16)
        tg.IsxdTarget(path, ArrayLayout.contiguous(4096, (2**19,), "<u2"), "direct")[:] = payload
        assert np.fromfile(path, "<u2")[2048:].tolist() == payload.tolist()
    finally:
        os.unlink(path)


def test_aligned_buffer_is_page_aligned_reused_and_per_thread():
    a = _io._aligned_buffer(3 * _io.DIRECT_ALIGN)
    address = np.frombuffer(a, np.uint8).ctypes.data
    assert address % _io.DIRECT_ALIGN == 0
    b = _io._aligned_buffer(_io.DIRECT_ALIGN)
    assert np.frombuffer(b, np.uint8).ctypes.data == address  # reused, not grown
    other = []
    t = threading.Thread(target=lambda: other.append(np.frombuffer(_io._aligned_buffer(_io.DIRECT_ALIGN), np.uint8).ctypes.data))
    t.start()
    t.join()
    assert other[0] != address and other[0] % _io.DIRECT_ALIGN == 0


# -- positional writes and reads -------------------------------------------------------------------
def test_positional_write_without_pwrite_handles_short_writes(tmp_path, monkeypatch):
    monkeypatch.setattr(_io, "PWRITE", None)
    real_write = os.write
    monkeypatch.setattr(os, "write", lambda fd, data: real_write(fd, bytes(data[:999])))
    path = _filled(tmp_path, 20000)
    payload = bytes(range(256)) * 40
    fd = _io.open_file(path, os.O_RDWR)
    try:
        _io.pwrite_all(fd, memoryview(payload), 1234)
    finally:
        os.close(fd)
    raw = open(path, "rb").read()
    assert raw == bytes([FILL]) * 1234 + payload + bytes([FILL]) * (20000 - 1234 - len(payload))


def test_pwrite_short_writes_are_completed(tmp_path, monkeypatch):
    real = os.pwrite if hasattr(os, "pwrite") else None
    if real is None:
        pytest.skip("no os.pwrite on this platform")
    monkeypatch.setattr(_io, "PWRITE", lambda fd, data, offset: real(fd, bytes(data[:777]), offset))
    path = _filled(tmp_path, 10000)
    payload = bytes(range(256)) * 20
    fd = _io.open_file(path, os.O_RDWR)
    try:
        _io.pwrite_all(fd, memoryview(payload), 10)
    finally:
        os.close(fd)
    assert open(path, "rb").read()[10 : 10 + len(payload)] == payload


def test_files_are_opened_in_binary_mode(tmp_path, monkeypatch):
    seen = []
    real_open = os.open
    monkeypatch.setattr(_io, "O_BINARY", 0x8000)  # Windows' value; harmless on POSIX
    monkeypatch.setattr(os, "open", lambda path, flags, *a: (seen.append(flags), real_open(path, flags & ~0x8000, *a))[1])
    os.close(_io.open_file(str(tmp_path / "x"), os.O_RDWR | os.O_CREAT))
    assert seen and all(flags & 0x8000 for flags in seen)


def test_read_into_matches_numpy_fromfile(tmp_path):
    data = np.random.default_rng(9).integers(0, 255, 100000, dtype=np.uint8)
    path = tmp_path / "r.bin"
    data.tofile(path)
    out = np.empty((300, 10), np.uint16)
    assert _io.read_into(str(path), 777, out) == out.nbytes
    np.testing.assert_array_equal(out.reshape(-1), np.fromfile(path, "<u2", count=3000, offset=777))
    short = np.zeros(100, np.uint8)
    assert _io.read_into(str(path), 99950, short) == 50
    np.testing.assert_array_equal(short[:50], data[99950:])


# -- durability ------------------------------------------------------------------------------------
def test_sync_falls_back_to_fsync_without_fdatasync(tmp_path, monkeypatch):
    calls = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (calls.append("fsync"), real_fsync(fd))[1])
    monkeypatch.setattr(_io, "FDATASYNC", lambda fd: calls.append("fdatasync"))
    fd = _io.open_file(str(tmp_path / "s"), os.O_RDWR | os.O_CREAT)
    try:
        _io.sync_data(fd)
        monkeypatch.setattr(_io, "FDATASYNC", None)
        _io.sync_data(fd)
    finally:
        os.close(fd)
    assert calls == ["fdatasync", "fsync"]


def test_full_fsync_is_preferred_and_falls_back(tmp_path, monkeypatch):
    fcntl = pytest.importorskip("fcntl")
    calls = []
    monkeypatch.setattr(_io, "F_FULLFSYNC", 51)
    monkeypatch.setattr(_io, "FDATASYNC", None)
    monkeypatch.setattr(fcntl, "fcntl", lambda fd, cmd, *a: calls.append(("fcntl", cmd)))
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (calls.append("fsync"), real_fsync(fd))[1])
    fd = _io.open_file(str(tmp_path / "s"), os.O_RDWR | os.O_CREAT)
    try:
        _io.sync_data(fd)
        _io.sync_file(fd)
        assert calls == [("fcntl", 51), ("fcntl", 51)]

        def refuse(fd, cmd, *a):
            raise OSError(errno.ENOTSUP, "not supported")

        monkeypatch.setattr(fcntl, "fcntl", refuse)
        calls.clear()
        _io.sync_data(fd)
        _io.sync_file(fd)
        assert calls == ["fsync", "fsync"]
    finally:
        os.close(fd)


def test_sync_directory_tolerates_directories_that_cannot_be_opened(tmp_path, monkeypatch):
    real_open = os.open

    def no_dirs(path, flags, *a):
        if os.path.isdir(path):
            raise PermissionError(errno.EACCES, "Permission denied")  # as on Windows
        return real_open(path, flags, *a)

    monkeypatch.setattr(os, "open", no_dirs)
    _io.sync_directory(str(tmp_path))  # no error
    xd.write_movie(np.ones((2, 3, 4), np.uint16), tmp_path / "m.isxd", timing=xd.Timing(2), spacing=xd.Spacing(num_pixels=(3, 4)))
    assert split_file(tmp_path / "m.isxd")[0] == np.ones((2, 3, 4), np.uint16).tobytes()


# -- reservation -----------------------------------------------------------------------------------
def _allocated(path) -> int:
    st = os.stat(path)
    if not hasattr(st, "st_blocks"):
        pytest.skip("this platform does not report allocated blocks")
    return st.st_blocks * 512


def test_reservation_fallbacks(tmp_path, monkeypatch):
    size = 8 * 2**20
    fd = _io.open_file(str(tmp_path / "a"), os.O_RDWR | os.O_CREAT)
    os.ftruncate(fd, size)
    how = _io.reserve_space(fd, size, "always")
    os.close(fd)
    assert how in ("fallocate", "posix_fallocate", "zeros")
    assert _allocated(tmp_path / "a") >= size
    _withdraw(monkeypatch, "fallocate")
    fd = _io.open_file(str(tmp_path / "b"), os.O_RDWR | os.O_CREAT)
    os.ftruncate(fd, size)
    assert _io.reserve_space(fd, size, "auto") == "none"
    assert _io.reserve_space(fd, size, "auto", str(tmp_path)) == "checked"
    assert _io.reserve_space(fd, size, "always") == "zeros"
    os.close(fd)
    assert _allocated(tmp_path / "b") >= size
    assert open(tmp_path / "b", "rb").read() == bytes(size)


def test_a_full_disk_fails_in_create_file_and_leaves_nothing(tmp_path, monkeypatch):
    def no_space(*args):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(_io, "fallocate", no_space)
    with pytest.raises(OSError, match="cannot reserve 100 bytes .* No space left") as info:
        _io.create_file(str(tmp_path / "p"), 100, "auto")
    assert info.value.errno == errno.ENOSPC and list(tmp_path.iterdir()) == []
    monkeypatch.setattr(_io, "fallocate", lambda fd, size: False)
    monkeypatch.setattr(_io, "POSIX_FALLOCATE", None)
    monkeypatch.setattr(_io, "_write_zeros", no_space)
    with pytest.raises(OSError, match="No space left"):
        _io.create_file(str(tmp_path / "p"), 100, "always")
    assert list(tmp_path.iterdir()) == []


def test_without_fallocate_a_full_disk_is_still_found_before_any_chunk(tmp_path, monkeypatch):
    import shutil
    from collections import namedtuple

    _withdraw(monkeypatch, "fallocate")
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda directory: usage(10**9, 10**9 - 1000, 1000))
    computed = []
    frames = da.ones((4, 30, 30), dtype=np.uint16, chunks=(1, 30, 30)).map_blocks(lambda b: (computed.append(1), b)[1])
    computed.clear()
    with pytest.raises(OSError, match="cannot reserve 7200 bytes .*No space left") as info:
        xd.write_movie(frames, tmp_path / "m.isxd", timing=xd.Timing(4), spacing=xd.Spacing(num_pixels=(30, 30)))
    assert info.value.errno == errno.ENOSPC and computed == [] and list(tmp_path.iterdir()) == []
    xd.write_movie(frames, tmp_path / "m.isxd", timing=xd.Timing(4), spacing=xd.Spacing(num_pixels=(30, 30)), reserve="never")
    assert split_file(tmp_path / "m.isxd")[0] == np.ones((4, 30, 30), np.uint16).tobytes()


# -- file systems ----------------------------------------------------------------------------------
MOUNTS = [
    "/dev/sda1 / ext4 rw,relatime 0 0",
    "server:/export /shared nfs4 rw,vers=4.2 0 0",
    "remote: /home/me/My\\040Drive fuse.rclone rw 0 0",
]


@pytest.mark.parametrize(
    ("directory", "expected"),
    [("/data", "ext4"), ("/shared/x", "nfs4"), ("/sharedx", "ext4"), ("/home/me/My Drive/y", "fuse.rclone")],
)
def test_filesystem_type_from_proc_mounts(directory, expected):
    assert _io.mounts_filesystem_type(MOUNTS, directory) == expected


def test_filesystem_detection_falls_back_to_proc_mounts_then_unknown(tmp_path, monkeypatch):
    if not os.path.exists("/proc/mounts"):
        pytest.skip("no /proc/mounts here")
    monkeypatch.setattr(_io, "MOUNTINFO", None)
    monkeypatch.setattr(_io, "MOUNTS", "/proc/mounts")
    assert _io.filesystem_type(str(tmp_path)) == _io.mounts_filesystem_type(open("/proc/mounts").read().splitlines(), str(tmp_path))
    assert _io.filesystem_type(str(tmp_path)) != ""
    monkeypatch.setattr(_io, "MOUNTS", str(tmp_path / "missing"))
    _io.on_local_filesystem.cache_clear()
    assert _io.filesystem_type(str(tmp_path)) == ""
    assert _io.on_local_filesystem(str(tmp_path)) is False  # unknown: treated as shared (page-safe writes)


def test_portable_switch_withdraws_every_platform_call(tmp_path):
    script = textwrap.dedent(
        """
        import sys
        import numpy as np
        from isx_dask import _io
        import isx_dask as xd
        assert _io.PWRITE is None and _io.FDATASYNC is None and _io.POSIX_FALLOCATE is None
        assert _io.O_DIRECT == 0 and not _io.LINUX_FALLOCATE and _io.MOUNTINFO is None and _io.MOUNTS is None
        frames = np.arange(4 * 5 * 6, dtype=np.uint16).reshape(4, 5, 6)
        xd.write_movie(frames, sys.argv[1], timing=xd.Timing(4), spacing=xd.Spacing(num_pixels=(5, 6)), reserve="always")
        """
    )
    out = tmp_path / "m.isxd"
    env = dict(os.environ, ISX_DASK_PORTABLE_IO="1")
    child = subprocess.run([sys.executable, "-c", script, str(out)], env=env, capture_output=True, timeout=120)
    assert child.returncode == 0, child.stderr.decode()
    assert split_file(out)[0] == np.arange(4 * 5 * 6, dtype=np.uint16).tobytes()


def test_macos_statfs_structure_has_the_size_of_apples_header():
    """``struct statfs`` with 64-bit inodes is 2168 bytes in <sys/mount.h>; a wrong layout would misread MNT_LOCAL."""
    import ctypes

    assert ctypes.sizeof(_io._StatfsDarwin) == 2168
    assert _io._StatfsDarwin.f_flags.offset == 64 and _io._StatfsDarwin.f_fstypename.offset == 72


# -- chunks already aligned in memory go around the page cache without a copy -------------------------
@pytest.mark.parametrize("phase", [0, 16, 512, 4095])
@pytest.mark.parametrize(("shape", "dtype"), [((3, 5), np.uint16), ((0,), np.float32), ((4096,), np.uint8)])
def test_aligned_empty_starts_at_the_phase(shape, dtype, phase):
    arrays = [_io.aligned_empty(shape, dtype, phase=phase) for _ in range(5)]
    for a in arrays:
        assert a.shape == shape and a.dtype == np.dtype(dtype) and a.flags.c_contiguous
        if a.size:
            assert a.ctypes.data % _io.DIRECT_ALIGN == phase % _io.DIRECT_ALIGN
            a[...] = 7  # owns writable memory of its full size
            assert a.nbytes == int(np.prod(shape)) * np.dtype(dtype).itemsize


@pytest.mark.parametrize(("phase", "copied"), [(0, False), (16, True)])
def test_direct_body_is_written_from_aligned_memory_without_a_copy(tmp_path, monkeypatch, phase, copied):
    if not _direct_accepted(tmp_path):
        pytest.skip(f"{tmp_path} does not take O_DIRECT writes on this platform")
    buffers = []
    real = _io._aligned_buffer
    monkeypatch.setattr(_io, "_aligned_buffer", lambda nbytes: (buffers.append(nbytes), real(nbytes))[1])
    payload = _io.aligned_empty((3 * 4096,), np.uint8, phase=phase)
    payload[...] = np.random.default_rng(phase).integers(0, 255, payload.shape, dtype=np.uint8)
    path = _filled(tmp_path, 5 * 4096)
    fd = _io.open_file(path, os.O_RDWR)
    try:
        assert _io.write_runs(path, fd, memoryview(payload), payload.nbytes, [4096], direct=True)
    finally:
        os.close(fd)
    expected = np.full(5 * 4096, FILL, np.uint8)
    expected[4096 : 4 * 4096] = payload
    np.testing.assert_array_equal(np.fromfile(path, np.uint8), expected)
    assert bool(buffers) == copied
