"""How bytes reach a file: the one module of the package that makes data I/O calls to the system.

Everything else (the write target, the commit, resumable writes) asks this
module to open, write, flush, reserve or probe, so every platform difference
lives here, each with a fallback that runs where the call is missing:

============================  ===============================  ======================================
job                           preferred call                   fallbacks, in order
============================  ===============================  ======================================
positional write              ``os.pwrite``                    ``lseek`` + ``write`` on a descriptor
                                                               opened for that one call (Windows)
write around the page cache   Linux ``O_DIRECT`` through a     macOS ``F_NOCACHE``; ordinary
(``direct``)                  page-aligned per-thread buffer   positional writes (``EINVAL``, tmpfs)
write many short runs         a memory-mapped window           positional writes
flush data                    macOS ``F_FULLFSYNC``            ``os.fdatasync``, ``os.fsync``
reserve space                 Linux ``fallocate(2)``           ``posix_fallocate``, zeros; or a
                                                               check of the free space
file-system type              ``/proc/self/mountinfo``         ``/proc/mounts``, macOS ``statfs``,
                                                               Windows ``GetDriveTypeW``, unknown
binary files                  ``O_BINARY`` (Windows)           (POSIX has no text mode)
============================  ===============================  ======================================

``direct`` writes bypass the page cache: the bytes go from one reused,
page-aligned buffer per thread straight to the disk, so a write runs at the
disk's speed whatever the state of the cache and does not evict the user's
other cached data. Only the whole aligned blocks that one contiguous run owns
are written that way; the partial blocks at the run's edges (which may share a
block with a neighbouring chunk) are written with ordinary positional writes,
so no block is ever written both ways by two chunks and no lock is needed.

Setting the environment variable ``ISX_DASK_PORTABLE_IO=1`` before the package
is imported withdraws ``os.pwrite``, ``os.fdatasync``, ``os.posix_fallocate``,
``O_DIRECT``, Linux ``fallocate`` and ``/proc``, so that the fallbacks run (the
test suite runs once more that way). Tests may also set the module attributes
``PWRITE``, ``FDATASYNC``, ``POSIX_FALLOCATE``, ``O_DIRECT``, ``F_NOCACHE``,
``F_FULLFSYNC`` and ``MOUNTINFO`` to ``None``/0 one at a time.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import functools
import math
import mmap
import os
import shutil
import sys
import threading
from typing import IO, Any, Callable, Iterable, Literal, Sequence

import numpy as np

__all__ = [
    "DIRECT_ALIGN",
    "PORTABLE_ENV",
    "Reserve",
    "aligned_empty",
    "check_file_size",
    "create_file",
    "direct_supported",
    "filesystem_type",
    "on_local_filesystem",
    "open_file",
    "pwrite_all",
    "read_into",
    "readinto_at",
    "rename_over_empty_directory",
    "reserve_space",
    "sync_data",
    "sync_directory",
    "sync_file",
    "write_mapped",
    "write_runs",
]

Reserve = Literal["auto", "always", "never"]

#: Environment variable that withdraws the platform-specific calls (for tests).
PORTABLE_ENV = "ISX_DASK_PORTABLE_IO"
_PORTABLE = os.environ.get(PORTABLE_ENV, "").strip() not in ("", "0")

# -- what the platform offers (module attributes, so that tests can withdraw them) ----------
PWRITE: Callable[[int, Any, int], int] | None = None if _PORTABLE else getattr(os, "pwrite", None)
FDATASYNC: Callable[[int], None] | None = None if _PORTABLE else getattr(os, "fdatasync", None)
POSIX_FALLOCATE: Callable[[int, int, int], None] | None = None if _PORTABLE else getattr(os, "posix_fallocate", None)
O_DIRECT: int = 0 if _PORTABLE else int(getattr(os, "O_DIRECT", 0))
O_BINARY: int = int(getattr(os, "O_BINARY", 0))
_O_CLOEXEC: int = int(getattr(os, "O_CLOEXEC", 0))
MOUNTINFO: str | None = None if _PORTABLE else "/proc/self/mountinfo"
MOUNTS: str | None = None if _PORTABLE else "/proc/mounts"
LINUX_FALLOCATE: bool = not _PORTABLE and sys.platform.startswith("linux")

if sys.platform == "darwin":  # pragma: no cover - macOS only
    import fcntl

    F_NOCACHE: int | None = int(getattr(fcntl, "F_NOCACHE", 48))
    F_FULLFSYNC: int | None = int(getattr(fcntl, "F_FULLFSYNC", 51))
else:
    F_NOCACHE = None
    F_FULLFSYNC = None

#: Alignment of ``O_DIRECT`` transfers (buffer address, file offset and length): a
#: whole number of pages and of 4096-byte blocks, so an edge block written through
#: the page cache never shares a page with a block written around it.
DIRECT_ALIGN = max(4096, mmap.PAGESIZE)
#: Size of the per-thread aligned buffer that ``direct`` writes go through.
DIRECT_BUFFER_NBYTES = 16 * 2**20
_ZEROS_NBYTES = 2**20


def open_file(path: str, flags: int, mode: int = 0o666) -> int:
    """``os.open`` in binary mode (Windows would otherwise translate bytes), not inherited by children."""
    return os.open(path, flags | O_BINARY | _O_CLOEXEC, mode)


# -- positional writes and reads -------------------------------------------------------------
def pwrite_all(fd: int, data: memoryview, offset: int) -> None:
    """Write all of ``data`` at byte ``offset`` of ``fd``.

    Uses ``os.pwrite`` where it exists; elsewhere (Windows) ``lseek`` and
    ``write``, which is safe because every caller owns its descriptor (it is
    opened for one chunk and closed again), so no other thread moves its offset.
    """
    if PWRITE is not None:
        while data:
            written = PWRITE(fd, data, offset)
            data = data[written:]
            offset += written
        return
    os.lseek(fd, offset, os.SEEK_SET)
    while data:
        written = os.write(fd, data)
        data = data[written:]


def readinto_at(f: IO[bytes], buf: memoryview, offset: int) -> int:
    """Fill ``buf`` from byte ``offset`` of the unbuffered file ``f``; the bytes read (fewer only at the end of the file).

    Each ``readinto`` of an unbuffered (``buffering=0``) file is one ``read``
    straight into ``buf``, as fast as ``numpy.fromfile`` and portable.
    """
    f.seek(offset)
    got = 0
    while got < len(buf):
        n = f.readinto(buf[got:])  # type: ignore[attr-defined]
        if not n:
            break
        got += n
    return got


def read_into(path: str, offset: int, out: np.ndarray[Any, Any] | memoryview) -> int:
    """Fill ``out`` (a C-contiguous array or writable buffer) from byte ``offset`` of ``path``; the bytes read."""
    buf = out.cast("B") if isinstance(out, memoryview) else out.reshape(-1).data.cast("B")
    with open(path, "rb", buffering=0) as f:
        return readinto_at(f, buf, offset)


def rename_over_empty_directory(source: str, target: str) -> None:
    """Rename the directory ``source`` to ``target``, an empty directory it replaces.

    POSIX replaces an empty directory in one step; where ``rename`` refuses an
    existing target (Windows), the empty one is removed first.
    """
    try:
        os.rename(source, target)
    except (FileExistsError, PermissionError):
        if not os.path.isdir(target) or os.listdir(target):
            raise
        os.rmdir(target)
        os.rename(source, target)


# -- durability ------------------------------------------------------------------------------
def sync_data(fd: int) -> None:
    """Flush the data of ``fd`` (and the size needed to read it back) to the disk.

    macOS ``F_FULLFSYNC`` (its ``fsync`` leaves data in the drive's cache), else
    ``os.fdatasync``, else ``os.fsync`` (macOS without the fcntl, Windows).
    """
    if F_FULLFSYNC is not None:
        try:
            import fcntl

            fcntl.fcntl(fd, F_FULLFSYNC)
            return
        except OSError:  # pragma: no cover - file systems without it (network mounts)
            pass
    if FDATASYNC is not None:
        FDATASYNC(fd)
    else:
        os.fsync(fd)


def sync_file(fd: int) -> None:
    """Flush the data and metadata of ``fd`` to the disk (``F_FULLFSYNC`` on macOS, else ``os.fsync``)."""
    if F_FULLFSYNC is not None:
        try:
            import fcntl

            fcntl.fcntl(fd, F_FULLFSYNC)
            return
        except OSError:  # pragma: no cover - file systems without it
            pass
    os.fsync(fd)


def sync_directory(directory: str) -> None:
    """Flush a directory entry to the disk where directories can be opened (not on Windows)."""
    try:
        fd = os.open(directory, os.O_RDONLY | _O_CLOEXEC)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# -- space reservation -----------------------------------------------------------------------
@functools.lru_cache(maxsize=1)
def _libc_fallocate() -> Any:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        func = ctypes.CDLL(name, use_errno=True).fallocate64
    except (OSError, AttributeError):
        return None
    func.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int64, ctypes.c_int64]
    func.restype = ctypes.c_int
    return func


def fallocate(fd: int, size: int) -> bool:
    """Reserve ``size`` bytes with Linux ``fallocate(2)``; False where the call or the file system lacks it.

    Unlike ``posix_fallocate`` it is never emulated by writing zeros, so it is
    either cheap (a metadata update) or refused.
    """
    if not LINUX_FALLOCATE:
        return False
    func = _libc_fallocate()
    if func is None:
        return False
    if func(fd, 0, 0, size) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL, errno.ENODEV):
        return False
    raise OSError(err, os.strerror(err))


def _write_zeros(fd: int, size: int) -> None:
    zeros = memoryview(bytes(min(_ZEROS_NBYTES, size)))
    for start in range(0, size, len(zeros)):
        pwrite_all(fd, zeros[: min(len(zeros), size - start)], start)


def _check_free_space(directory: str, size: int) -> None:
    """``ENOSPC`` now if the file system of ``directory`` has fewer than ``size`` bytes free (a best effort)."""
    try:
        free = shutil.disk_usage(directory).free
    except OSError:
        return
    if free < size:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def reserve_space(fd: int, size: int, reserve: Reserve, directory: str | None = None) -> str:
    """Reserve the first ``size`` bytes of the new, empty-but-sized file ``fd``; return how it was done.

    ``'auto'``: Linux ``fallocate`` where the file system supports it, else
    a check of the free space of ``directory`` (``'checked'``; other writers may
    still fill the disk meanwhile). ``'always'``: ``fallocate``, else
    ``posix_fallocate``, else writing zeros (slow on large files, but a full
    disk is found here); ``'never'``: nothing.

    Raises
    ------
    OSError
        ``ENOSPC`` (or another error of the call) if the space cannot be reserved.
    """
    if size == 0 or reserve == "never":
        return "none"
    if fallocate(fd, size):
        return "fallocate"
    if reserve == "auto":
        if directory is None:
            return "none"
        _check_free_space(directory, size)
        return "checked"
    if POSIX_FALLOCATE is not None:
        try:
            POSIX_FALLOCATE(fd, 0, size)
            return "posix_fallocate"
        except OSError as err:
            if err.errno not in (errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL, errno.ENODEV):
                raise
    _write_zeros(fd, size)
    return "zeros"


#: Largest file offset the system calls take (a signed 64-bit ``off_t``).
MAX_FILE_NBYTES = 2**63 - 1


def check_file_size(size: int) -> None:
    """``ValueError`` if no file can hold ``size`` bytes (before anything is created)."""
    if size > MAX_FILE_NBYTES:
        msg = (
            f"the data section would be {size} bytes, more than a file can hold ({MAX_FILE_NBYTES} bytes); "
            "check the number of samples (timing.num_samples) and the frame size (spacing.num_pixels)"
        )
        raise ValueError(msg)


def create_file(partial: str, size: int, reserve: Reserve) -> None:
    """Create ``partial`` (it must not exist), sized to ``size`` bytes, with its space reserved.

    On failure nothing is left behind.

    Raises
    ------
    ValueError
        If no file can hold ``size`` bytes.
    FileExistsError
        If ``partial`` exists.
    OSError
        With the errno of the failed call (``ENOSPC``...) and a message naming ``partial``.
    """
    check_file_size(size)
    fd = open_file(partial, os.O_RDWR | os.O_CREAT | os.O_EXCL)
    try:
        os.ftruncate(fd, size)
        reserve_space(fd, size, reserve, os.path.dirname(os.path.abspath(partial)))
    except BaseException as err:
        os.close(fd)
        try:
            os.unlink(partial)
        except FileNotFoundError:
            pass
        if isinstance(err, OSError) and not isinstance(err, FileExistsError):
            why = os.strerror(err.errno) if err.errno else str(err)
            msg = f"cannot reserve {size} bytes for {partial!r}: {why}"
            raise OSError(err.errno, msg) from None
        raise
    os.close(fd)


# -- file systems ----------------------------------------------------------------------------
# File systems whose clients cache pages separately (a page written back from one
# host can overwrite bytes another host wrote in the same page).
SHARED_FS_TYPES = frozenset({
    "nfs", "nfs4", "cifs", "smb3", "smbfs", "lustre", "gpfs", "beegfs", "ceph", "glusterfs",
    "9p", "afs", "ocfs2", "gfs2", "pvfs2", "orangefs", "panfs", "wekafs", "virtiofs",
    "afpfs", "webdav", "smb",
})


def mountinfo_filesystem_type(mountinfo: Sequence[str], directory: str) -> str:
    """Type of the file system holding ``directory``, from lines of ``/proc/self/mountinfo`` ('' if none)."""
    best, fstype = "", ""
    for line in mountinfo:
        fields = line.split(" - ", 1)
        if len(fields) != 2 or len(fields[0].split()) < 5:
            continue
        mount_point = fields[0].split()[4].replace("\\040", " ")
        inside = directory == mount_point or directory.startswith(mount_point.rstrip("/") + "/")
        if inside and len(mount_point) >= len(best):
            best, fstype = mount_point, fields[1].split()[0]
    return fstype


def mounts_filesystem_type(mounts: Sequence[str], directory: str) -> str:
    """Type of the file system holding ``directory``, from lines of ``/proc/mounts`` ('' if none)."""
    best, fstype = "", ""
    for line in mounts:
        fields = line.split()
        if len(fields) < 3:
            continue
        mount_point = fields[1].replace("\\040", " ")
        inside = directory == mount_point or directory.startswith(mount_point.rstrip("/") + "/")
        if inside and len(mount_point) >= len(best):
            best, fstype = mount_point, fields[2]
    return fstype


def _read_lines(name: str | None) -> list[str] | None:
    if name is None:
        return None
    try:
        with open(name, encoding="utf-8", errors="replace") as f:
            return f.read().splitlines()
    except OSError:
        return None


class _StatfsDarwin(ctypes.Structure):  # struct statfs of 64-bit macOS (_DARWIN_FEATURE_64_BIT_INODE)
    _fields_ = [
        ("f_bsize", ctypes.c_uint32), ("f_iosize", ctypes.c_int32), ("f_blocks", ctypes.c_uint64),
        ("f_bfree", ctypes.c_uint64), ("f_bavail", ctypes.c_uint64), ("f_files", ctypes.c_uint64),
        ("f_ffree", ctypes.c_uint64), ("f_fsid", ctypes.c_int32 * 2), ("f_owner", ctypes.c_uint32),
        ("f_type", ctypes.c_uint32), ("f_flags", ctypes.c_uint32), ("f_fssubtype", ctypes.c_uint32),
        ("f_fstypename", ctypes.c_char * 16), ("f_mntonname", ctypes.c_char * 1024),
        ("f_mntfromname", ctypes.c_char * 1024), ("f_flags_ext", ctypes.c_uint32), ("f_reserved", ctypes.c_uint32 * 7),
    ]


_MNT_LOCAL = 0x00001000


def _darwin_statfs(directory: str) -> tuple[str, bool] | None:  # pragma: no cover - macOS only
    """(type name, whether the mount is local) from macOS ``statfs``, or None."""
    if sys.platform != "darwin":
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        func = libc["statfs$INODE64"] if hasattr(libc, "statfs$INODE64") else libc.statfs
        buf = _StatfsDarwin()
        if func(os.fsencode(directory), ctypes.byref(buf)) != 0:
            return None
        return buf.f_fstypename.decode("ascii", "replace"), bool(buf.f_flags & _MNT_LOCAL)
    except (OSError, AttributeError, TypeError):
        return None


def _windows_drive_is_local(directory: str) -> bool | None:  # pragma: no cover - Windows only
    if sys.platform != "win32":
        return None
    try:
        root = os.path.splitdrive(os.path.abspath(directory))[0] + "\\"
        kind = ctypes.windll.kernel32.GetDriveTypeW(ctypes.c_wchar_p(root))
    except (OSError, AttributeError):
        return None
    return bool(kind in (2, 3, 6))  # removable, fixed, RAM disk; 4 is a network drive


def filesystem_type(directory: str) -> str:
    """Type name of the file system holding ``directory`` ('' where it cannot be told)."""
    lines = _read_lines(MOUNTINFO)
    if lines is not None:
        found = mountinfo_filesystem_type(lines, directory)
        if found:
            return found
    lines = _read_lines(MOUNTS)
    if lines is not None:
        found = mounts_filesystem_type(lines, directory)
        if found:
            return found
    darwin = _darwin_statfs(directory)
    return darwin[0] if darwin else ""


@functools.lru_cache(maxsize=64)
def on_local_filesystem(directory: str) -> bool:
    """Whether ``directory`` is on a file system with one page cache (not a network, cluster or FUSE mount).

    Linux: the type from ``/proc``; macOS: the ``MNT_LOCAL`` flag of ``statfs``;
    Windows: the drive type. Answers False wherever it cannot tell.
    """
    darwin = _darwin_statfs(directory)
    if darwin is not None:  # pragma: no cover - macOS only
        return darwin[1] and not darwin[0].startswith(("fuse", "osxfuse", "macfuse"))
    fstype = filesystem_type(directory)
    if fstype:
        return fstype not in SHARED_FS_TYPES and not fstype.startswith("fuse")
    windows = _windows_drive_is_local(directory)
    return bool(windows)


# -- direct writes ---------------------------------------------------------------------------
_local = threading.local()
# Directories where O_DIRECT was refused (EINVAL: tmpfs, some FUSE mounts...).
_DIRECT_REFUSED: set[str] = set()


def direct_supported() -> bool:
    """Whether this platform has a way to write around the page cache (``O_DIRECT`` or ``F_NOCACHE``)."""
    return bool(O_DIRECT) or F_NOCACHE is not None


def _aligned_buffer(nbytes: int) -> memoryview:
    """This thread's page-aligned buffer, at least ``nbytes`` long (grown once, then reused)."""
    buf: mmap.mmap | None = getattr(_local, "buffer", None)
    if buf is None or len(buf) < nbytes:
        if buf is not None:
            try:
                buf.close()
            except BufferError:  # a view of it is still alive somewhere: let it be collected
                pass
        buf = mmap.mmap(-1, nbytes)  # anonymous maps start on a page boundary
        _local.buffer = buf
    return memoryview(buf)[:nbytes]


def _open_direct(path: str) -> int | None:
    """A descriptor that writes around the page cache, or None where none can be had for ``path``."""
    directory = os.path.dirname(path)
    if directory in _DIRECT_REFUSED:
        return None
    if O_DIRECT:
        try:
            return open_file(path, os.O_WRONLY | O_DIRECT)
        except OSError as err:
            if err.errno != errno.EINVAL:
                raise
            _DIRECT_REFUSED.add(directory)
            return None
    if F_NOCACHE is not None:  # pragma: no cover - macOS only
        import fcntl

        fd = open_file(path, os.O_WRONLY)
        try:
            fcntl.fcntl(fd, F_NOCACHE, 1)
        except OSError:
            os.close(fd)
            _DIRECT_REFUSED.add(directory)
            return None
        return fd
    return None


def _aligned_body(offset: int, nbytes: int) -> tuple[int, int]:
    """The whole aligned blocks inside ``[offset, offset + nbytes)``: (first byte, length; 0 if none)."""
    start = -(-offset // DIRECT_ALIGN) * DIRECT_ALIGN
    stop = (offset + nbytes) // DIRECT_ALIGN * DIRECT_ALIGN
    return start, max(0, stop - start)


def direct_nbytes(run_nbytes: int, offsets: Iterable[int]) -> int:
    """Bytes of runs of ``run_nbytes`` at ``offsets`` that lie in whole aligned blocks."""
    return sum(_aligned_body(offset, run_nbytes)[1] for offset in offsets)


def aligned_empty(shape: tuple[int, ...], dtype: Any, *, phase: int = 0) -> np.ndarray[Any, Any]:
    """An uninitialised C-contiguous array whose first byte lies ``phase`` bytes past a ``DIRECT_ALIGN`` boundary.

    Chunks read into such arrays, with ``phase`` the position of their first
    byte in the file modulo ``DIRECT_ALIGN``, go around the page cache
    without being copied into the aligned buffer first (see :func:`write_runs`).
    """
    dt = np.dtype(dtype)
    nbytes = math.prod(shape) * dt.itemsize
    raw = np.empty(nbytes + DIRECT_ALIGN, dtype=np.uint8)
    start = (phase - raw.ctypes.data) % DIRECT_ALIGN
    out: np.ndarray[Any, Any] = raw[start : start + nbytes].view(dt).reshape(shape)
    return out


def _is_aligned(data: memoryview) -> bool:
    return bool(np.frombuffer(data, dtype=np.uint8).ctypes.data % DIRECT_ALIGN == 0)


def _write_direct_body(fd: int, data: memoryview, offset: int) -> None:
    """Write the aligned ``data`` at aligned ``offset``: straight from ``data`` where its memory is aligned too, else through this thread's aligned buffer."""
    step = min(DIRECT_BUFFER_NBYTES, len(data))
    if O_DIRECT and _is_aligned(data):
        pwrite_all(fd, data, offset)
    elif O_DIRECT:
        buf = _aligned_buffer(step)
        # NumPy copies without holding the GIL (a memoryview slice assignment holds
        # it), so other threads decode or compute their chunks meanwhile.
        source = np.frombuffer(data, dtype=np.uint8)
        target = np.frombuffer(buf, dtype=np.uint8)
        for start in range(0, len(data), step):
            n = min(step, len(data) - start)
            np.copyto(target[:n], source[start : start + n])
            pwrite_all(fd, buf[:n], offset + start)
        del source, target
    else:  # pragma: no cover - F_NOCACHE needs no alignment
        pwrite_all(fd, data, offset)


def write_runs(path: str, fd: int, data: memoryview, run_nbytes: int, offsets: Iterable[int], *, direct: bool) -> bool:
    """Write ``data`` as consecutive runs of ``run_nbytes`` bytes at ``offsets`` of the file ``fd`` (opened on ``path``).

    With ``direct``, the whole aligned blocks of each run go around the page
    cache and the partial blocks at its edges through ``fd``; where the system
    or the file system refuses (``EINVAL``: tmpfs...), everything goes through
    ``fd``. Returns whether any byte was written around the page cache.
    """
    dfd = _open_direct(path) if direct else None
    if dfd is None:
        for k, offset in enumerate(offsets):
            pwrite_all(fd, data[k * run_nbytes : (k + 1) * run_nbytes], offset)
        return False
    used = False
    try:
        for k, offset in enumerate(offsets):
            run = data[k * run_nbytes : (k + 1) * run_nbytes]
            start, length = _aligned_body(offset, run_nbytes)
            if length == 0:
                pwrite_all(fd, run, offset)
                continue
            head, tail = start - offset, start - offset + length
            if head:
                pwrite_all(fd, run[:head], offset)
            if tail < run_nbytes:
                pwrite_all(fd, run[tail:], offset + tail)
            body = run[head:tail]
            if dfd is not None:
                try:
                    _write_direct_body(dfd, body, start)
                    used = True
                    continue
                except OSError as err:
                    if err.errno != errno.EINVAL:
                        raise
                    _DIRECT_REFUSED.add(os.path.dirname(path))
                    os.close(dfd)
                    dfd = None
            pwrite_all(fd, body, start)
    finally:
        if dfd is not None:
            os.close(dfd)
    return used


# -- mapped windows --------------------------------------------------------------------------
def write_mapped(
    fd: int, first: int, last: int, shape: tuple[int, ...], dtype: np.dtype[Any], strides: tuple[int, ...], data: np.ndarray[Any, Any]
) -> None:
    """Put ``data`` (of ``shape``) at byte ``first`` of ``fd`` with ``strides``, through a mapped window up to ``last``.

    The window is unmapped again before returning, so nothing stays resident.
    """
    start = first - first % mmap.ALLOCATIONGRANULARITY
    window = mmap.mmap(fd, last - start, access=mmap.ACCESS_WRITE, offset=start)
    try:
        view: np.ndarray[Any, Any] = np.ndarray(shape, dtype, buffer=window, offset=first - start, strides=strides)
        view[...] = data
        del view
    finally:
        window.close()
