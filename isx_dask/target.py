"""The write target: a preallocated temporary file that chunks are written into, then committed.

The life of every write:

1. :func:`check_output_path` refuses bad paths before anything is created.
2. :func:`preallocate` creates ``.<name>.<uuid>.partial`` beside the target,
   sizes it to the data section and reserves its blocks where the file system
   can do so cheaply (so a full disk fails here, before any chunk is computed).
3. :class:`IsxdTarget` objects (one per array in the data section) receive
   chunks. Each write opens the file, puts the chunk's bytes at their place
   (``pwrite`` of whole runs, or a memory-mapped window of whole pages) and
   closes it again, so nothing stays mapped and resident memory does not grow
   with the file. Writes are positional, so a retried chunk (a worker that died
   and was restarted) writes the same bytes to the same place again.
4. :func:`commit` cuts the file to the data section, appends the footer, flushes
   data and footer to disk, and only then links or renames the file into place.
   A crash anywhere before that leaves nothing at the path.

:func:`store_then_commit` strings these together for the writers; every writer
gets resumable writes (``resume=True``) and space reservation from it.

Resumable writes and regions
----------------------------
With ``resume=True`` the temporary file has a name derived from the path,
``.<name>.partial``, and a sidecar directory ``.<name>.partial.d/`` holds
``state.json`` (data size, array layouts and the footer) and one empty marker
file per finished chunk, made only after that chunk's bytes were written (and,
with ``fsync``, flushed). Running the same write again skips the chunks that
have a marker; a write with another footer or layout is refused. The same
sidecar backs the template-and-regions API of :mod:`isx_dask.regions`.

Clusters
--------
Every worker must see the output directory under the same path (a shared file
system mounted at the same place); the client must see it too, since it
creates the temporary file and reads the markers. Chunks are written with
``pwrite`` of whole runs of bytes, which never touches bytes of another chunk.
Memory-mapped windows write back whole pages. For chunks made of many short
runs (tiles of frames), ``write_method='auto'`` maps a window when the file is
on a local file system (one page cache, so neighbouring chunks cannot clobber
each other; about 3x faster than ``pwrite`` there), and on a network or
cluster file system (NFS, Lustre, GPFS, CIFS, FUSE, ...) or where the type
cannot be told only when every page of the window belongs to the chunk, so two
hosts never write the same page. Only pass ``write_method='mmap'`` on a local
file system. Build the source arrays lazily on the workers
(``da.from_zarr``, ``map_blocks`` over files...): a NumPy array passed to a
writer is wrapped into the task graph and travels through the scheduler.

What is left behind
-------------------
A write that fails or is interrupted (an exception, ``KeyboardInterrupt``, a full
disk, a lost race for the path) removes its temporary file, except with
``resume=True``, where the file and its sidecar are kept to be resumed. A
process that is killed outright (``SIGKILL``, ``SIGTERM``, a machine that goes
down) cannot clean up: it leaves a hidden ``.<name>.<uuid>.partial`` (without
a footer, so no reader takes it for a data set) that may be deleted by hand,
or, with ``resume=True``, a ``.<name>.partial`` that the next run reuses. Two
resumable writes of the same path must not run at the same time.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import functools
import json
import mmap
import os
import shutil
import uuid
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Sequence

import numpy as np

from .layout import ArrayLayout, encode_trailer

if TYPE_CHECKING:
    import dask.array as da
    from dask.delayed import Delayed

__all__ = [
    "IsxdTarget",
    "PartialState",
    "check_output_path",
    "commit",
    "finish_write",
    "commit_partial",
    "create_partial",
    "open_partial",
    "partial_path",
    "preallocate",
    "record_region",
    "remove_partial",
    "sidecar_path",
    "store_then_commit",
    "store_region",
    "written_regions",
]

WriteMethod = Literal["auto", "pwrite", "mmap"]
Reserve = Literal["auto", "always", "never"]

# A chunk made of many short runs (a tile of a frame, say) may be written through
# one mapped window instead of one system call per run, if its pages are its own.
_MIN_PWRITE_RUN_NBYTES = 64 * 1024
_MAX_PWRITE_RUNS = 256
_PAGE = mmap.PAGESIZE

# File systems whose clients cache pages separately (a page written back from one
# host can overwrite bytes another host wrote in the same page).
_SHARED_FS_TYPES = frozenset({
    "nfs", "nfs4", "cifs", "smb3", "smbfs", "lustre", "gpfs", "beegfs", "ceph", "glusterfs",
    "9p", "afs", "ocfs2", "gfs2", "pvfs2", "orangefs", "panfs", "wekafs", "virtiofs",
})


def _filesystem_type(mountinfo: Sequence[str], directory: str) -> str:
    """Type of the file system holding ``directory``, from the lines of ``/proc/self/mountinfo`` ('' if none)."""
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


@functools.lru_cache(maxsize=64)
def _on_local_filesystem(directory: str) -> bool:
    """Whether ``directory`` is on a file system that has one page cache (not a network or FUSE mount).

    Reads ``/proc/self/mountinfo`` (Linux); anywhere it cannot tell, it answers False.
    """
    try:
        with open("/proc/self/mountinfo", encoding="utf-8", errors="replace") as f:
            fstype = _filesystem_type(f.read().splitlines(), directory)
    except OSError:
        return False
    return bool(fstype) and fstype not in _SHARED_FS_TYPES and not fstype.startswith("fuse")

_STATE_FORMAT = "isx_dask-partial"
_STATE_VERSION = 1


def check_output_path(path: str | os.PathLike[str], overwrite: bool) -> str:
    """Check that ``path`` can receive a new ``.isxd`` file; return it as a string.

    Raises
    ------
    ValueError
        If the name does not end in ``.isxd`` (the official reader opens nothing else).
    FileNotFoundError
        If the parent directory does not exist.
    FileExistsError
        If ``path`` exists and ``overwrite`` is False.
    IsADirectoryError
        If ``path`` is a directory.
    """
    path = os.fspath(path)
    if not isinstance(path, str):
        path = os.fsdecode(path)
    if not path.lower().endswith(".isxd"):
        msg = f"path {path!r} must end with '.isxd': the official isx reader opens no other extension"
        raise ValueError(msg)
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        msg = f"path {path!r}: parent directory {parent!r} does not exist; create it first"
        raise FileNotFoundError(msg)
    if os.path.isdir(path):
        msg = f"path {path!r} is a directory; expected a file name ending in '.isxd'"
        raise IsADirectoryError(msg)
    if os.path.lexists(path) and not overwrite:
        msg = f"path {path!r} already exists; pass overwrite=True to replace it"
        raise FileExistsError(msg)
    return path


# -- space reservation ----------------------------------------------------------------------
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


def _fallocate(fd: int, size: int) -> bool:
    """Reserve ``size`` bytes with Linux ``fallocate(2)``; False where unsupported.

    Unlike ``posix_fallocate``, the system call is never emulated by writing
    zeros, so it is either cheap (a metadata update) or refused.
    """
    func = _libc_fallocate()
    if func is None:
        return False
    if func(fd, 0, 0, size) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL, errno.ENODEV):
        return False
    raise OSError(err, os.strerror(err))


def _reserve(fd: int, size: int, reserve: Reserve, partial: str) -> None:
    if size == 0 or reserve == "never":
        return
    try:
        if reserve == "always":
            os.posix_fallocate(fd, 0, size)
        else:
            _fallocate(fd, size)
    except OSError as err:
        msg = f"cannot reserve {size} bytes for {partial!r}: {os.strerror(err.errno) if err.errno else err}"
        raise OSError(err.errno, msg) from None


def _check_reserve(reserve: Any) -> Reserve:
    if reserve is True:
        return "always"
    if reserve is False:
        return "never"
    if reserve in ("auto", "always", "never"):
        return reserve  # type: ignore[no-any-return]
    msg = f"reserve must be 'auto', 'always' or 'never', got {reserve!r}"
    raise ValueError(msg)


def preallocate(path: str, data_size: int, *, reserve: Reserve = "auto", partial: str | None = None) -> str:
    """Create a temporary sibling of ``path`` sized to ``data_size`` bytes; return its name.

    Parameters
    ----------
    path : str
        The final path.
    data_size : int
        Size of the data section.
    reserve : {'auto', 'always', 'never'}, default 'auto'
        Reserve the disk blocks up front, so that a full disk fails here rather
        than in the middle of the write. ``'auto'`` uses Linux ``fallocate``,
        which is a cheap metadata update where the file system supports it and
        is skipped where it does not; ``'always'`` uses ``posix_fallocate``,
        which C libraries emulate by writing to every block where the file
        system has no support (slow on large files); ``'never'`` leaves a
        sparse file.
    partial : str, optional
        The temporary file's name; a fresh ``.<name>.<uuid>.partial`` by default.

    Raises
    ------
    OSError
        ``ENOSPC`` if the disk cannot hold ``data_size`` bytes (nothing is left behind).
    """
    reserve = _check_reserve(reserve)
    if partial is None:
        directory, name = os.path.split(os.path.abspath(path))
        partial = os.path.join(directory, f".{name}.{uuid.uuid4().hex}.partial")
    fd = os.open(partial, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        os.ftruncate(fd, data_size)
        _reserve(fd, data_size, reserve, partial)
    except BaseException:
        os.close(fd)
        remove_partial(partial)
        raise
    os.close(fd)
    return partial


def partial_path(path: str | os.PathLike[str]) -> str:
    """The deterministic temporary file of a resumable write or a region template: ``.<name>.partial``."""
    directory, name = os.path.split(os.path.abspath(os.fspath(path)))
    return os.path.join(directory, f".{name}.partial")


def sidecar_path(partial: str) -> str:
    """The directory beside ``partial`` that records its state and finished chunks."""
    return partial + ".d"


def remove_partial(partial: str) -> None:
    """Remove a temporary file, and its sidecar directory, if they are still there."""
    try:
        os.unlink(partial)
    except FileNotFoundError:
        pass
    shutil.rmtree(sidecar_path(partial), ignore_errors=True)


def _pwrite_all(fd: int, data: memoryview, offset: int) -> None:
    while data:
        written = os.pwrite(fd, data, offset)
        data = data[written:]
        offset += written


def region_name(region: tuple[tuple[int, int], ...], prefix: str = "") -> str:
    """Marker name of a region given as ``(start, stop)`` per axis, e.g. ``'a0_0-10_0-64_0-80'``."""
    return prefix + "_".join(f"{a}-{b}" for a, b in region)


def _touch(marker: str) -> None:
    os.close(os.open(marker, os.O_WRONLY | os.O_CREAT, 0o666))


@dataclass(frozen=True)
class IsxdTarget:
    """One array of an ``.isxd`` data section, as a destination for chunk writes.

    It is a recipe, not an open file: it pickles to a few hundred bytes and can
    be used from threads, processes and ``dask.distributed`` workers on any host
    that sees ``path``. Regions written by different chunks never share a byte,
    so no lock is needed.

    Parameters
    ----------
    path : str
        The preallocated file to write into.
    layout : ArrayLayout
        Where the array lives in that file.
    method : {'auto', 'pwrite', 'mmap'}, default 'auto'
        How bytes reach the file: positional writes of contiguous runs, or a
        memory-mapped window of the chunk's bytes. ``'auto'`` uses ``pwrite``,
        except for a chunk of many short runs whose window holds only whole
        pages of its own (never a page shared with another chunk).
    record : str, optional
        Prefix of a marker file made after each chunk is written (its name is the
        prefix followed by the chunk's region); used by resumable writes.
    sync : bool, default False
        Flush each chunk's bytes to disk before its marker is made.
    """

    path: str
    layout: ArrayLayout
    method: WriteMethod = "auto"
    record: str | None = None
    sync: bool = False
    # Writes have side effects: a fresh token per target makes Dask keys new for every
    # call, so a scheduler never hands back a result kept from an earlier attempt.
    token: str = field(default_factory=lambda: uuid.uuid4().hex, repr=False, compare=False)

    @property
    def shape(self) -> tuple[int, ...]:
        return self.layout.shape

    @property
    def dtype(self) -> np.dtype[Any]:
        return np.dtype(self.layout.dtype)

    @property
    def ndim(self) -> int:
        return len(self.layout.shape)

    def __setitem__(self, region: Any, value: Any) -> None:
        if not isinstance(region, tuple):
            region = (region,)
        region = region + (slice(None),) * (self.ndim - len(region))
        num_runs, run_nbytes, offsets = self.layout.byte_runs(region)
        fd = os.open(self.path, os.O_RDWR)
        try:
            if num_runs:
                data = np.ascontiguousarray(value, dtype=self.dtype)
                if data.nbytes != num_runs * run_nbytes:
                    msg = f"chunk of shape {np.shape(value)} does not fill region {region!r} of an array of shape {self.shape}"
                    raise ValueError(msg)
                offsets_list = None
                use_mmap = self.method == "mmap"
                if self.method == "auto" and num_runs > _MAX_PWRITE_RUNS and run_nbytes < _MIN_PWRITE_RUN_NBYTES:
                    # Only windows made of whole pages of this chunk: on a shared file
                    # system a page written back from another host would clobber bytes.
                    if _on_local_filesystem(os.path.dirname(os.path.realpath(self.path))):
                        use_mmap = True
                    else:
                        offsets_list = list(offsets)
                        use_mmap = run_nbytes % _PAGE == 0 and all(o % _PAGE == 0 for o in offsets_list)
                if use_mmap:
                    self._write_mapped(fd, region, data)
                else:
                    buf = data.reshape(-1).data.cast("B")
                    for k, offset in enumerate(offsets if offsets_list is None else offsets_list):
                        _pwrite_all(fd, buf[k * run_nbytes : (k + 1) * run_nbytes], offset)
            if self.record is not None:
                if self.sync:
                    os.fdatasync(fd)
                _touch(self.record + region_name(self.layout.normalize_region(region)))
        finally:
            os.close(fd)

    def _write_mapped(self, fd: int, region: tuple[slice, ...], data: np.ndarray) -> None:
        counts = tuple(b - a for a, b in self.layout.normalize_region(region))
        first, last = self.layout.byte_span(region)
        start = first - first % mmap.ALLOCATIONGRANULARITY
        window = mmap.mmap(fd, last - start, access=mmap.ACCESS_WRITE, offset=start)
        try:
            view = np.ndarray(counts, self.dtype, buffer=window, offset=first - start, strides=self.layout.strides)
            view[...] = data
            del view
        finally:
            window.close()


# -- commit ---------------------------------------------------------------------------------
def commit(
    partial: str,
    path: str,
    metadata: dict[str, Any],
    data_size: int,
    *,
    overwrite: bool,
    fsync: bool = True,
) -> str:
    """Append the footer to ``partial`` and move it to ``path``.

    The data section is cut to ``data_size`` bytes first, so a reused
    temporary file never carries stale bytes. With ``fsync`` the data and the
    footer reach the disk before the file gets its name, and the directory
    entry after. With ``overwrite=False`` the file is put in place with a hard
    link, which fails if another writer got there first; the other writer's
    file is left as it is. A sidecar directory of ``partial`` is removed once
    the file is in place.

    Returns
    -------
    str
        ``path``.

    Raises
    ------
    FileExistsError
        If ``overwrite`` is False and ``path`` appeared meanwhile (``partial`` is removed).
    """
    trailer = encode_trailer(metadata)
    with open(partial, "r+b") as f:
        f.truncate(data_size)
        f.seek(data_size)
        f.write(trailer)
        f.flush()
        if fsync:
            os.fsync(f.fileno())
    if overwrite:
        os.replace(partial, path)
    else:
        try:
            os.link(partial, path)
        except FileExistsError:
            remove_partial(partial)
            msg = f"path {path!r} was created by someone else while this file was being written; nothing was replaced"
            raise FileExistsError(msg) from None
        except OSError:  # a file system without hard links
            if os.path.lexists(path):
                remove_partial(partial)
                msg = f"path {path!r} was created by someone else while this file was being written"
                raise FileExistsError(msg) from None
            os.replace(partial, path)
        else:
            os.unlink(partial)
    if fsync:
        _fsync_directory(os.path.dirname(os.path.abspath(path)))
    shutil.rmtree(sidecar_path(partial), ignore_errors=True)
    return path


def _fsync_directory(directory: str) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _commit_after(partial: str, path: str, metadata: dict[str, Any], data_size: int, overwrite: bool, fsync: bool, _written: Any) -> str:
    return commit(partial, path, metadata, data_size, overwrite=overwrite, fsync=fsync)


# -- sidecar state --------------------------------------------------------------------------
@dataclass(frozen=True)
class PartialState:
    """What a resumable write or a region template was started with, as kept in ``state.json``.

    Parameters
    ----------
    kind : {'resume', 'regions'}
        Which API made it.
    data_size : int
        Size of the data section.
    metadata : dict
        The footer.
    arrays : tuple of ArrayLayout
        Where each array lives.
    overwrite : bool
        Whether the commit may replace an existing file (regions only; a
        resumable write takes it from the call).
    """

    kind: str
    data_size: int
    metadata: dict[str, Any]
    arrays: tuple[ArrayLayout, ...]
    overwrite: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "format": _STATE_FORMAT,
            "version": _STATE_VERSION,
            "kind": self.kind,
            "data_size": self.data_size,
            "metadata": self.metadata,
            "arrays": [asdict(layout) for layout in self.arrays],
            "overwrite": self.overwrite,
        }

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> PartialState:
        if obj.get("format") != _STATE_FORMAT or obj.get("version") != _STATE_VERSION:
            msg = f"not an isx_dask partial-file state (format {obj.get('format')!r}, version {obj.get('version')!r})"
            raise ValueError(msg)
        arrays = tuple(
            ArrayLayout(a["offset"], tuple(a["shape"]), a["dtype"], tuple(a["strides"])) for a in obj["arrays"]
        )
        return cls(obj["kind"], obj["data_size"], obj["metadata"], arrays, bool(obj.get("overwrite", False)))


def _same_state(a: PartialState, b: PartialState) -> str | None:
    """None if ``a`` and ``b`` describe the same file, else what differs."""
    ja = json.loads(json.dumps(a.to_json()))
    jb = json.loads(json.dumps(b.to_json()))
    ma, mb = ja["metadata"], jb["metadata"]
    for key in sorted(set(ma) | set(mb)):
        if key != "producer" and ma.get(key) != mb.get(key):
            return f"footer key {key!r}"
    names = {"kind": "API (write_movie(resume=True) or create_movie)", "data_size": "data size",
             "arrays": "layout of the data section", "overwrite": "overwrite flag"}
    for key, name in names.items():
        if ja[key] != jb[key]:
            return name
    return None


def _write_state(sidecar: str, state: PartialState) -> None:
    tmp = os.path.join(sidecar, f"state.json.{uuid.uuid4().hex}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(state.to_json(), f, allow_nan=False)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, os.path.join(sidecar, "state.json"))


def _read_state(sidecar: str) -> PartialState | None:
    try:
        with open(os.path.join(sidecar, "state.json"), encoding="utf-8") as f:
            return PartialState.from_json(json.load(f))
    except (FileNotFoundError, ValueError, KeyError, TypeError):
        return None


def create_partial(path: str, state: PartialState, *, reserve: Reserve = "auto") -> tuple[str, bool]:
    """Create the deterministic temporary file of ``path`` with its sidecar, or find it again.

    A temporary file whose recorded state equals ``state`` is reused as it is
    (with its finished chunks); one without a state, or without its data file,
    is started afresh.

    Returns
    -------
    partial : str
        The temporary file.
    reused : bool
        Whether an existing one was found.

    Raises
    ------
    ValueError
        If a temporary file for ``path`` exists with another footer or layout.
    OSError
        If the space cannot be reserved.
    """
    partial = partial_path(path)
    sidecar = sidecar_path(partial)
    found = _read_state(sidecar)
    if found is not None and os.path.exists(partial):
        differs = _same_state(found, state)
        if differs is None:
            return partial, True
        msg = (
            f"an unfinished write of {path!r} ({partial!r}) was started with a different {differs}; "
            f"it cannot be continued with these arguments. Remove it with isx_dask.target.remove_partial({partial!r}) "
            f"to start again"
        )
        raise ValueError(msg)
    remove_partial(partial)
    os.makedirs(os.path.join(sidecar, "done"))
    try:
        _write_state(sidecar, state)
        preallocate(path, state.data_size, reserve=reserve, partial=partial)
    except BaseException:
        remove_partial(partial)
        raise
    return partial, False


def open_partial(path: str | os.PathLike[str]) -> tuple[str, PartialState]:
    """The temporary file of ``path`` and its recorded state.

    Raises
    ------
    FileNotFoundError
        If there is no unfinished file for ``path``.
    """
    partial = partial_path(path)
    state = _read_state(sidecar_path(partial))
    if state is None or not os.path.exists(partial):
        msg = f"no unfinished file for {os.fspath(path)!r} (expected {partial!r} and its state); create it first"
        raise FileNotFoundError(msg)
    return partial, state


def done_markers(partial: str) -> set[str]:
    """Names of the markers of finished chunks and regions of ``partial``."""
    try:
        return set(os.listdir(os.path.join(sidecar_path(partial), "done")))
    except FileNotFoundError:
        return set()


def record_region(partial: str, name: str, *, fsync: bool = True) -> None:
    """Record that region ``name`` of ``partial`` is written, after flushing its bytes if ``fsync``."""
    if fsync:
        fd = os.open(partial, os.O_RDWR)
        try:
            os.fdatasync(fd)
        finally:
            os.close(fd)
    _touch(os.path.join(sidecar_path(partial), "done", name))


def written_regions(partial: str, prefix: str) -> list[tuple[tuple[int, int], ...]]:
    """Regions recorded under ``prefix``, as ``(start, stop)`` per axis."""
    regions = []
    for name in done_markers(partial):
        if name.startswith(prefix):
            regions.append(tuple(tuple(int(v) for v in part.split("-")) for part in name[len(prefix) :].split("_")))
    return regions  # type: ignore[return-value]


def commit_partial(path: str, *, fsync: bool = True) -> str:
    """Commit the temporary file of a region template at ``path`` (callers check coverage first)."""
    partial, state = open_partial(path)
    return commit(partial, path, state.metadata, state.data_size, overwrite=state.overwrite, fsync=fsync)


# -- storing dask arrays --------------------------------------------------------------------
def _stores(
    pairs: Sequence[tuple[da.Array, IsxdTarget]],
    skip: set[str] | None = None,
) -> list[Any]:
    """Lazy ``dask.array.store`` of every chunk of each pair whose marker is not in ``skip``.

    With ``skip``, only the pending chunks are stored, each as ``x.blocks[i]``
    with its region. The result is optimised so that a chunk is computed in the
    task that writes it.
    """
    import dask
    import dask.array as da

    sources: list[da.Array] = []
    targets: list[IsxdTarget] = []
    regions: list[tuple[slice, ...] | None] = []
    for source, target in pairs:
        if source.size == 0:
            continue
        if not skip or target.record is None:
            sources.append(source)
            targets.append(target)
            regions.append(None)
            continue
        prefix = os.path.basename(target.record)
        starts = [np.concatenate([[0], np.cumsum(c)]).astype(int).tolist() for c in source.chunks]
        for index in np.ndindex(*source.numblocks):
            region = tuple(slice(s[i], s[i + 1]) for s, i in zip(starts, index))
            if prefix + region_name(target.layout.normalize_region(region)) in skip:
                continue
            sources.append(source.blocks[index])
            targets.append(target)
            regions.append(region)
    if not sources:
        return []
    # Chunks own disjoint bytes of the file, so they need no lock. Every target
    # carries a fresh token, so the keys are new for every call.
    stored = da.store(sources, targets, regions=regions, lock=False, compute=False)  # type: ignore[arg-type]
    collections = list(stored) if isinstance(stored, (tuple, list)) else [stored]
    return list(dask.optimize(*collections))


def finish_write(
    partial: str,
    path: str,
    metadata: dict[str, Any],
    data_size: int,
    writes: Sequence[Any],
    *,
    overwrite: bool,
    fsync: bool,
    compute: bool,
    compute_kwargs: dict[str, Any] | None,
    keep_partial: bool = False,
) -> Delayed | None:
    """Commit ``partial`` to ``path`` once every write in ``writes`` has run: the one commit path.

    Parameters
    ----------
    partial : str
        The temporary file the writes go into.
    path : str
        Final path.
    metadata : dict
        The footer.
    data_size : int
        Size of the data section.
    writes : sequence of dask.delayed.Delayed or dask collections
        The writes the commit waits for.
    overwrite : bool
        Whether an existing file at ``path`` may be replaced.
    fsync : bool
        Flush data and footer to disk before the rename.
    compute : bool
        Run now, or return the ``Delayed`` commit.
    compute_kwargs : dict, optional
        Passed to ``compute`` (``{"scheduler": "threads"}``...).
    keep_partial : bool, default False
        Keep the temporary file when the computation fails (resumable writes).

    Returns
    -------
    None or dask.delayed.Delayed
        ``None`` when ``compute`` is True.
    """
    import dask

    try:
        committed: Delayed = dask.delayed(_commit_after, pure=False)(  # type: ignore[attr-defined]
            partial, path, metadata, data_size, overwrite, fsync, list(writes)
        )
    except BaseException:
        if not keep_partial:
            remove_partial(partial)
        raise
    if not compute:
        return committed
    try:
        committed.compute(**(compute_kwargs or {}))  # type: ignore[no-untyped-call]
    except BaseException:
        if not keep_partial:
            remove_partial(partial)
        raise
    return None


def store_then_commit(
    arrays: Sequence[tuple[da.Array, ArrayLayout]],
    path: str,
    data_size: int,
    metadata: dict[str, Any],
    *,
    overwrite: bool,
    compute: bool = True,
    fsync: bool = True,
    write_method: WriteMethod = "auto",
    resume: bool = False,
    reserve: Reserve = "auto",
    compute_kwargs: dict[str, Any] | None = None,
) -> Delayed | None:
    """Write Dask arrays into their places in a new file, then commit its footer.

    Parameters
    ----------
    arrays : sequence of (dask.array.Array, ArrayLayout)
        Each array and where it goes. Shapes must match the layouts.
    path : str
        Final path (already checked with :func:`check_output_path`).
    data_size : int
        Size of the data section.
    metadata : dict
        The footer.
    overwrite : bool
        Whether an existing file at ``path`` may be replaced at commit.
    compute : bool, default True
        Run now, or return one ``Delayed`` whose completion means the file is
        committed (it composes with ``distributed.Client.compute``).
    fsync : bool, default True
        Flush the data and footer to disk before the rename (and, with
        ``resume``, each chunk before its marker).
    write_method : {'auto', 'direct', 'pwrite', 'mmap'}
        See :class:`IsxdTarget`.
    resume : bool, default False
        Write into ``.<name>.partial`` and record each finished chunk, so that an
        interrupted write run again with the same arguments writes only the
        missing chunks. The temporary file is kept when the write fails.
    reserve : {'auto', 'always', 'never'}, default 'auto'
        Reserve disk space up front (see :func:`preallocate`).
    compute_kwargs : dict, optional
        Passed to ``compute`` (``{"scheduler": "threads", "num_workers": 2}``).

    Returns
    -------
    None or dask.delayed.Delayed
        ``None`` when ``compute`` is True.

    Raises
    ------
    ValueError
        If an array does not fit its layout, or ``resume`` finds an unfinished
        write with a different footer or layout.
    OSError
        ``ENOSPC`` if the space cannot be reserved.
    """
    for array, layout in arrays:
        if tuple(array.shape) != layout.shape:
            msg = f"array of shape {array.shape} does not fit its place in the file, of shape {layout.shape}"
            raise ValueError(msg)
    reserve = _check_reserve(reserve)
    skip: set[str] | None = None
    if resume:
        state = PartialState("resume", data_size, metadata, tuple(layout for _, layout in arrays))
        partial, reused = create_partial(path, state, reserve=reserve)
        skip = done_markers(partial) if reused else None
        done_dir = os.path.join(sidecar_path(partial), "done")
        targets = [
            IsxdTarget(partial, layout, write_method, os.path.join(done_dir, f"a{i}_"), fsync)
            for i, (_, layout) in enumerate(arrays)
        ]
    else:
        partial = preallocate(path, data_size, reserve=reserve)
        targets = [IsxdTarget(partial, layout, write_method) for _, layout in arrays]
    try:
        # With resume, only the chunks without a done marker are computed and written.
        writes = _stores([(array, target) for (array, _), target in zip(arrays, targets)], skip)
    except BaseException:
        if not resume:
            remove_partial(partial)
        raise
    return finish_write(
        partial, path, metadata, data_size, writes, overwrite=overwrite, fsync=fsync,
        compute=compute, compute_kwargs=compute_kwargs, keep_partial=resume,
    )


def _record_after(partial: str, name: str, fsync: bool, _stored: Any) -> str:
    record_region(partial, name, fsync=fsync)
    return name


def store_region(
    pairs: Sequence[tuple[da.Array, IsxdTarget]],
    partial: str,
    name: str,
    *,
    compute: bool = True,
    fsync: bool = True,
    compute_kwargs: dict[str, Any] | None = None,
) -> Delayed | None:
    """Write arrays into an existing temporary file, then record region ``name`` as written.

    The marker is made only after every chunk has been written (and flushed, with ``fsync``).

    Parameters
    ----------
    pairs : sequence of (dask.array.Array, IsxdTarget)
        Each array and the target it fills entirely.
    partial : str
        The temporary file.
    name : str
        Marker name of the region.
    compute : bool, default True
        Run now, or return the ``Delayed``.
    fsync : bool, default True
        Flush the region's bytes before the marker is made.
    compute_kwargs : dict, optional
        Passed to ``compute``.

    Returns
    -------
    None or dask.delayed.Delayed
        ``None`` when ``compute`` is True.
    """
    import dask

    recorded: Delayed = dask.delayed(_record_after, pure=False)(partial, name, fsync, _stores(pairs))  # type: ignore[attr-defined]
    if not compute:
        return recorded
    recorded.compute(**(compute_kwargs or {}))  # type: ignore[no-untyped-call]
    return None
