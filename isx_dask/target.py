"""The write target: a preallocated temporary file that chunks are written into, then committed.

The life of every write:

1. :func:`check_output_path` refuses bad paths before anything is created.
2. :func:`preallocate` creates ``.<name>.<uuid>.partial`` beside the target,
   sizes it to the data section and reserves its blocks where the file system
   can do so cheaply (so a full disk fails here, before any chunk is computed).
3. :class:`IsxdTarget` objects (one per array in the data section) receive
   chunks. Each write opens the file, puts the chunk's bytes at their place
   (see *How bytes reach the disk*) and closes it again, so nothing stays
   open or mapped and resident memory does not grow with the file. Writes are
   positional, so a retried chunk (a worker that died and was restarted)
   writes the same bytes to the same place again.
4. :func:`finish_write` runs one delayed :func:`commit` after every write: it
   cuts the file to the data section, appends the footer, flushes data and
   footer to disk, and only then links or renames the file into place. A crash
   anywhere before that leaves nothing at the path.

:func:`store_then_commit` strings these together for the writers with public
``dask.array.store`` (regions, no lock, fresh keys for every call); every
writer gets resumable writes (``resume=True``) and space reservation from it.

How bytes reach the disk
------------------------
The private module ``isx_dask._io`` makes every system call. ``write_method``
chooses per chunk:

- ``'direct'``: the whole 4096-byte blocks of each contiguous run are written
  around the page cache (Linux ``O_DIRECT`` through one reused page-aligned
  buffer per thread; macOS ``F_NOCACHE``), the partial blocks at its edges with
  ordinary positional writes. A write then runs at the disk's speed whether
  memory is cold or warm, and does not evict the user's cached data. Where the
  file system refuses (``EINVAL``: tmpfs...) it falls back to ``'pwrite'``.
- ``'pwrite'``: positional writes of whole runs (``lseek`` + ``write`` on a
  descriptor of its own where ``os.pwrite`` is missing, as on Windows).
- ``'mmap'``: a memory-mapped window of the chunk's bytes (only on a local
  file system: a window writes back whole pages).
- ``'auto'`` (default): ``'direct'`` for runs of at least 64 KiB on a local
  file system; for chunks made of many short runs (tiles of frames) a mapped
  window on a local file system, and on a network or cluster file system
  (NFS, Lustre, GPFS, CIFS, FUSE, ...) or where the type cannot be told only
  when every page of the window belongs to the chunk; ``'pwrite'`` otherwise.

Resumable writes and regions
----------------------------
With ``resume=True`` the temporary file has a name derived from the path,
``.<name>.partial``, and a sidecar directory ``.<name>.partial.d/`` holds
``state.json`` (data size, array layouts and the footer) and one empty marker
file per finished chunk, made only after that chunk's bytes were written (and,
with ``fsync``, flushed). Running the same write again stores only the chunks
without a marker; a write with another footer or layout is refused. The same
sidecar backs the template-and-regions API of :mod:`isx_dask.regions`. The
state lives in ``isx_dask._resume``.

Clusters
--------
Every worker must see the output directory under the same path (a shared file
system mounted at the same place); the client must see it too, since it
creates the temporary file and reads the markers. Positional writes of whole
runs never touch bytes of another chunk; mapped windows and ``'direct'`` are
used automatically only where that stays true. Only pass
``write_method='mmap'`` on a local file system. Build the source arrays lazily
on the workers (``da.from_zarr``, ``map_blocks`` over files...): a NumPy array
passed to a writer is wrapped into the task graph and travels through the
scheduler.

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

import bisect
import contextlib
import os
import shutil
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Sequence

import numpy as np

from . import _io
from ._io import Reserve
from ._resume import (
    PartialState,
    create_partial,
    done_dir,
    done_markers,
    open_partial,
    partial_path,
    record_region,
    region_name,
    remove_partial,
    sidecar_path,
    touch,
    written_regions,
)
from .layout import ArrayLayout, encode_trailer

if TYPE_CHECKING:
    import dask.array as da
    from dask.delayed import Delayed

__all__ = [
    "IsxdTarget",
    "PartialState",
    "Reserve",
    "WriteMethod",
    "check_footer",
    "check_output_path",
    "check_reserve",
    "check_write_method",
    "commit",
    "commit_partial",
    "create_partial",
    "finish_write",
    "open_partial",
    "partial_path",
    "preallocate",
    "put_in_place",
    "record_region",
    "remove_partial",
    "rewrite_footer",
    "sidecar_path",
    "store_region",
    "store_then_commit",
    "written_regions",
]

WriteMethod = Literal["auto", "direct", "pwrite", "mmap"]
_WRITE_METHODS = ("auto", "direct", "pwrite", "mmap")

# A chunk made of many short runs (a tile of a frame, say) may be written through
# one mapped window instead of one system call per run, if its pages are its own.
_MIN_PWRITE_RUN_NBYTES = 64 * 1024
_MAX_PWRITE_RUNS = 256
# Runs at least this long go around the page cache with write_method='auto'.
_MIN_DIRECT_RUN_NBYTES = 64 * 1024


def check_output_path(path: str | os.PathLike[str], overwrite: bool) -> str:
    """Check that ``path`` can receive a new ``.isxd`` file; return it as a string.

    Raises
    ------
    TypeError
        If ``path`` is not a ``str`` or ``os.PathLike``.
    ValueError
        If the name does not end in ``.isxd`` (the official reader opens nothing else), or holds a NUL.
    FileNotFoundError
        If the parent directory does not exist.
    FileExistsError
        If ``path`` exists and ``overwrite`` is False.
    IsADirectoryError
        If ``path`` is a directory.
    """
    if not isinstance(path, (str, bytes, os.PathLike)):
        msg = f"path must be a str or os.PathLike naming an '.isxd' file, got {type(path).__name__}"
        raise TypeError(msg)
    path = os.fspath(path)
    if not isinstance(path, str):
        path = os.fsdecode(path)
    if "\x00" in path:
        msg = f"path {path!r} holds a NUL character, which no file name can hold"
        raise ValueError(msg)
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


def check_reserve(reserve: Any) -> Reserve:
    """``reserve`` as one of 'auto', 'always', 'never' (True and False map to 'always' and 'never'), else ``ValueError``."""
    if reserve is True:
        return "always"
    if reserve is False:
        return "never"
    if reserve in ("auto", "always", "never"):
        return reserve  # type: ignore[no-any-return]
    msg = f"reserve must be one of 'auto', 'always', 'never' (or a bool), got {reserve!r}"
    raise ValueError(msg)


def check_write_method(write_method: Any) -> WriteMethod:
    """``write_method`` if it is one of 'auto', 'direct', 'pwrite', 'mmap', else ``ValueError``."""
    if isinstance(write_method, str) and write_method in _WRITE_METHODS:
        return write_method  # type: ignore[return-value]
    msg = f"write_method must be one of {', '.join(repr(m) for m in _WRITE_METHODS)}, got {write_method!r}"
    raise ValueError(msg)


def check_footer(metadata: dict[str, Any]) -> bytes:
    """The trailer bytes of ``metadata``, or ``ValueError`` now, before anything is created or computed.

    A footer that cannot be encoded (a lone surrogate in a name or in
    ``extra_properties``, NaN) would otherwise fail only at the commit, after
    every chunk was written, and a resumable write could never commit.
    """
    try:
        return encode_trailer(metadata)
    except (UnicodeEncodeError, ValueError, TypeError) as err:
        msg = f"the footer cannot be stored as strict UTF-8 JSON (check names and extra_properties): {err}"
        raise ValueError(msg) from None


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
        which is a cheap metadata update where the file system supports it, and
        elsewhere checks that the disk has that much free space; ``'always'`` also falls back to
        ``posix_fallocate`` and then to writing zeros, which is slow on large
        files where the file system has no support; ``'never'`` leaves a
        sparse file.
    partial : str, optional
        The temporary file's name; a fresh ``.<name>.<uuid>.partial`` by default.

    Raises
    ------
    ValueError
        If ``reserve`` is unknown, or no file can hold ``data_size`` bytes.
    OSError
        ``ENOSPC`` if the disk cannot hold ``data_size`` bytes (nothing is left behind).
    """
    reserve = check_reserve(reserve)
    if partial is None:
        directory, name = os.path.split(os.path.abspath(path))
        partial = os.path.join(directory, f".{name}.{uuid.uuid4().hex}.partial")
    _io.create_file(partial, data_size, reserve)
    return partial


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
    method : {'auto', 'direct', 'pwrite', 'mmap'}, default 'auto'
        How bytes reach the file (see the module's *How bytes reach the disk*).
    record : str, optional
        Prefix of a marker file made after each chunk is written (its name is the
        prefix followed by the chunk's region); used by resumable writes.
    sync : bool, default False
        Flush each chunk's bytes to disk before its marker is made.
    token : str, optional
        Distinguishes this target in Dask keys; fresh for every target by default,
        since writes have side effects and a scheduler must never hand back a
        result kept from an earlier attempt.
    """

    path: str
    layout: ArrayLayout
    method: WriteMethod = "auto"
    record: str | None = None
    sync: bool = False
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

    def _choose(self, num_runs: int, run_nbytes: int, offsets: list[int] | None) -> WriteMethod:
        """The method for one chunk of ``num_runs`` runs of ``run_nbytes`` at ``offsets`` (listed only when needed)."""
        if self.method != "auto":
            return self.method
        local = _io.on_local_filesystem(os.path.dirname(os.path.realpath(self.path)))
        if num_runs > _MAX_PWRITE_RUNS and run_nbytes < _MIN_PWRITE_RUN_NBYTES:
            # Only windows made of whole pages of this chunk: on a shared file
            # system a page written back from another host would clobber bytes.
            if local:
                return "mmap"
            page = _io.DIRECT_ALIGN
            if offsets is not None and run_nbytes % page == 0 and all(o % page == 0 for o in offsets):
                return "mmap"
            return "pwrite"
        if run_nbytes >= _MIN_DIRECT_RUN_NBYTES and local and _io.direct_supported():
            return "direct"
        return "pwrite"

    def __setitem__(self, region: Any, value: Any) -> None:
        if not isinstance(region, tuple):
            region = (region,)
        region = region + (slice(None),) * (self.ndim - len(region))
        num_runs, run_nbytes, offsets = self.layout.byte_runs(region)
        fd = _io.open_file(self.path, os.O_RDWR)
        try:
            if num_runs:
                data = np.ascontiguousarray(value, dtype=self.dtype)
                if data.nbytes != num_runs * run_nbytes:
                    msg = f"chunk of shape {np.shape(value)} does not fill region {region!r} of an array of shape {self.shape}"
                    raise ValueError(msg)
                many_short = num_runs > _MAX_PWRITE_RUNS and run_nbytes < _MIN_PWRITE_RUN_NBYTES
                listed = list(offsets) if self.method == "auto" and many_short else None
                method = self._choose(num_runs, run_nbytes, listed)
                if method == "mmap":
                    self._write_mapped(fd, region, data)
                else:
                    buf = data.reshape(-1).data.cast("B")
                    _io.write_runs(self.path, fd, buf, run_nbytes, offsets if listed is None else listed, direct=method == "direct")
            if self.record is not None:
                if self.sync:
                    _io.sync_data(fd)
                touch(self.record + region_name(self.layout.normalize_region(region)))
        finally:
            os.close(fd)

    def _write_mapped(self, fd: int, region: tuple[slice, ...], data: np.ndarray[Any, Any]) -> None:
        counts = tuple(b - a for a, b in self.layout.normalize_region(region))
        first, last = self.layout.byte_span(region)
        _io.write_mapped(fd, first, last, counts, self.dtype, self.layout.strides, data)


# -- commit ---------------------------------------------------------------------------------
def commit(
    partial: str,
    path: str,
    metadata: dict[str, Any],
    data_size: int,
    *,
    overwrite: bool,
    fsync: bool = True,
    keep_partial: bool = False,
) -> str:
    """Append the footer to ``partial`` and move it to ``path``.

    The data section is cut to ``data_size`` bytes first, so a reused
    temporary file never carries stale bytes. With ``fsync`` the data and the
    footer reach the disk before the file gets its name, and the directory
    entry after. ``overwrite=True`` replaces an existing file by a rename, so
    readers that have it open keep the old file. With ``overwrite=False`` the
    file is put in place with a hard link, which fails if another writer got
    there first; on a file system without hard links the name is first created
    exclusively (``O_EXCL``: exactly one writer wins it), then the file renamed
    over it. The other writer's file is never touched. A sidecar directory of
    ``partial`` is removed once the file is in place.

    Parameters
    ----------
    keep_partial : bool, default False
        On a lost race, keep ``partial`` (without its footer, so it never looks
        like a finished file) and say where it is, instead of removing it.

    Returns
    -------
    str
        ``path``.

    Raises
    ------
    FileExistsError
        If ``overwrite`` is False and ``path`` appeared meanwhile.
    """
    trailer = encode_trailer(metadata)
    with open(partial, "r+b") as f:
        f.truncate(data_size)
        f.seek(data_size)
        f.write(trailer)
        f.flush()
        if fsync:
            _io.sync_file(f.fileno())
    if not put_in_place(partial, path, overwrite=overwrite):
        if keep_partial:
            with open(partial, "r+b") as f:
                f.truncate(data_size)
            msg = (
                f"path {path!r} was created by someone else while this file was being written; nothing was "
                f"replaced, and the finished data is kept in {partial!r} (remove or move the file at the path and "
                f"commit again, or discard it)"
            )
        else:
            remove_partial(partial)
            msg = f"path {path!r} was created by someone else while this file was being written; nothing was replaced"
        raise FileExistsError(msg)
    if fsync:
        _io.sync_directory(os.path.dirname(os.path.abspath(path)))
    shutil.rmtree(sidecar_path(partial), ignore_errors=True)
    return path


def put_in_place(partial: str, path: str, *, overwrite: bool) -> bool:
    """Give the finished file ``partial`` the name ``path``; False if ``overwrite`` is False and the name is taken.

    ``overwrite=True`` renames over an existing file (readers that have it open
    keep the old one). Otherwise a hard link takes the name only if nothing has
    it; on a file system without hard links the name is first created
    exclusively (``O_EXCL``: exactly one writer wins it), then the file renamed
    over it. The other writer's file is never touched.
    """
    if overwrite:
        os.replace(partial, path)
        return True
    try:
        os.link(partial, path)
    except FileExistsError:
        return False
    except OSError:  # a file system without hard links: win the name exclusively, then rename over it
        try:
            os.close(_io.open_file(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL))
        except FileExistsError:
            return False
        try:
            os.replace(partial, path)
        except BaseException:
            os.unlink(path)
            raise
        return True
    os.unlink(partial)
    return True


def put_directory_in_place(partial: str, path: str, *, overwrite: bool) -> bool:
    """Give the finished directory ``partial`` (a Zarr group) the name ``path``; False if ``overwrite`` is False and the name is taken.

    Without ``overwrite``, the name is first created exclusively (``mkdir``:
    exactly one writer wins it), then the directory renamed over that empty
    one. With ``overwrite``, whatever has the name is first renamed aside,
    put back if the final rename fails, and removed only once the new
    directory is in place: a failure never loses it.
    """
    if not overwrite:
        try:
            os.mkdir(path)
        except FileExistsError:
            return False
        try:
            _io.rename_over_empty_directory(partial, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.rmdir(path)
            raise
        return True
    if not os.path.lexists(path):
        os.rename(partial, path)
        return True
    directory, name = os.path.split(os.path.abspath(path))
    old = os.path.join(directory, f".{name}.{uuid.uuid4().hex}.old")
    os.rename(path, old)
    try:
        os.rename(partial, path)
    except BaseException:
        os.rename(old, path)
        raise
    if os.path.isdir(old) and not os.path.islink(old):
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.remove(old)
    return True


def rewrite_footer(path: str, metadata: dict[str, Any], data_size: int) -> None:
    """Replace the footer of the committed file at ``path``, so that a crash never leaves a damaged file.

    ``data_size`` comes from the bounded footer read of the reader. Where the
    new trailer has the old one's length and the bytes that differ lie within
    one 512-byte sector (a status changed: one digit), only those bytes are
    written in place and flushed: a sector is written whole or not at all, so
    the file holds the old footer or the new one. Any other change goes into a
    copy of the file, which is then committed over it (:func:`commit`).
    """
    trailer = encode_trailer(metadata)
    with open(path, "rb") as f:
        f.seek(data_size)
        old = f.read(len(trailer) + 1)
    if old == trailer:
        return
    if len(old) == len(trailer):
        differ = [k for k, (a, b) in enumerate(zip(old, trailer)) if a != b]
        first, last = differ[0], differ[-1]
        if (data_size + first) // ATOMIC_WRITE_NBYTES == (data_size + last) // ATOMIC_WRITE_NBYTES:
            with open(path, "r+b") as f:
                f.seek(data_size + first)
                f.write(trailer[first : last + 1])
                f.flush()
                _io.sync_file(f.fileno())
            return
    directory, name = os.path.split(os.path.abspath(path))
    partial = os.path.join(directory, f".{name}.{uuid.uuid4().hex}.partial")
    try:
        shutil.copyfile(path, partial)
        commit(partial, path, metadata, data_size, overwrite=True)
    except BaseException:
        remove_partial(partial)
        raise


#: Bytes that one write lands on the device as a whole (a disk sector): a change within one is never torn.
ATOMIC_WRITE_NBYTES = 512


def commit_partial(path: str, *, fsync: bool = True) -> str:
    """Commit the temporary file of a region template at ``path`` (callers check coverage first).

    On a lost race the template is kept, and the error says where.
    """
    partial, state = open_partial(path)
    return commit(partial, path, state.metadata, state.data_size, overwrite=state.overwrite, fsync=fsync, keep_partial=True)


def _commit_after(
    partial: str, path: str, metadata: dict[str, Any], data_size: int, overwrite: bool, fsync: bool, keep_partial: bool, _written: Any
) -> str:
    return commit(partial, path, metadata, data_size, overwrite=overwrite, fsync=fsync, keep_partial=keep_partial)


# -- storing dask arrays --------------------------------------------------------------------
@dataclass(frozen=True)
class _Gathered:
    """Destination of ``source.blocks[[i, j, ...], ...]``: puts each gathered chunk at its place in ``target``.

    ``gathered`` holds where each chunk starts along axis 0 of the gathered
    array, ``original`` where it starts in the whole array, and ``corner`` where
    the selection starts along the other axes.
    """

    target: IsxdTarget
    gathered: tuple[int, ...]
    original: tuple[int, ...]
    corner: tuple[int, ...]
    shape: tuple[int, ...]

    @property
    def dtype(self) -> np.dtype[Any]:
        return self.target.dtype

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __setitem__(self, key: tuple[slice, ...], value: Any) -> None:
        first = int(key[0].start or 0)
        k = bisect.bisect_right(self.gathered, first) - 1
        start = self.original[k] + first - self.gathered[k]
        stop = start + int(key[0].stop) - first
        rest = tuple(slice(c + int(s.start or 0), c + int(s.stop)) for c, s in zip(self.corner, key[1:]))
        self.target[(slice(start, stop),) + rest] = value


def _pending(source: da.Array, target: IsxdTarget, skip: set[str]) -> list[tuple[da.Array, _Gathered]]:
    """The chunks of ``source`` without a marker in ``skip``, gathered with public ``source.blocks[...]``.

    One gathered array per combination of block indices along the axes after
    the first, so the graph stays small whatever the pattern of finished chunks.
    """
    prefix = os.path.basename(target.record or "")
    starts = [np.concatenate([[0], np.cumsum(c)]).astype(int).tolist() for c in source.chunks]
    pending: dict[tuple[int, ...], list[int]] = {}
    for index in np.ndindex(*source.numblocks):
        region = tuple(slice(s[i], s[i + 1]) for s, i in zip(starts, index))
        if prefix + region_name(target.layout.normalize_region(region)) not in skip:
            pending.setdefault(tuple(index[1:]), []).append(index[0])
    out = []
    for rest, firsts in pending.items():
        gathered = source.blocks[(firsts,) + tuple(slice(r, r + 1) for r in rest)]
        sizes = [starts[0][i + 1] - starts[0][i] for i in firsts]
        sink = _Gathered(
            target,
            tuple(int(v) for v in np.concatenate([[0], np.cumsum(sizes)[:-1]])),
            tuple(starts[0][i] for i in firsts),
            tuple(starts[axis + 1][r] for axis, r in enumerate(rest)),
            tuple(gathered.shape),
        )
        out.append((gathered, sink))
    return out


# Optimising (fusing each chunk's computation with its write) costs time that grows
# with the number of stored collections; past this many, the scheduler places tasks.
_MAX_OPTIMIZED = 32


def _stores(
    pairs: Sequence[tuple[da.Array, IsxdTarget]],
    skip: set[str] | None = None,
) -> list[Any]:
    """Lazy ``dask.array.store`` of every chunk of each pair whose marker is not in ``skip``.

    With ``skip``, only the pending chunks are stored, gathered with
    ``x.blocks[...]`` and each written at its own region. The result is
    optimised so that a chunk is computed in the task that writes it.
    """
    import dask
    import dask.array as da

    sources: list[da.Array] = []
    targets: list[Any] = []
    for source, target in pairs:
        if source.size == 0:
            continue
        if not skip or target.record is None:
            sources.append(source)
            targets.append(target)
            continue
        for gathered, sink in _pending(source, target, skip):
            sources.append(gathered)
            targets.append(sink)
    if not sources:
        return []
    # Chunks own disjoint bytes of the file, so they need no lock. Every target
    # carries a fresh token, so the keys are new for every call.
    stored = da.store(sources, targets, lock=False, compute=False)
    collections = list(stored) if isinstance(stored, (tuple, list)) else [stored]
    if len(collections) > _MAX_OPTIMIZED:
        return collections
    return list(dask.optimize(*collections))  # type: ignore[attr-defined, no-untyped-call]


#: Threads per core of the threaded scheduler when the user has not chosen: every
#: chunk is computed and then waits for the disk in the same thread, so with one
#: thread per core a core idles while its chunk is written.
THREADS_PER_CORE = 2


def write_compute_kwargs(compute_kwargs: dict[str, Any] | None) -> dict[str, Any]:
    """``compute_kwargs`` for a write: ``THREADS_PER_CORE`` threads per core where the threaded scheduler runs with its default count.

    That is where neither ``compute_kwargs`` nor the Dask configuration names
    another scheduler (a ``distributed.Client`` names itself there), a number
    of workers or a pool, so every explicit choice is kept.
    """
    import dask

    kwargs = dict(compute_kwargs or {})
    scheduler = kwargs.get("scheduler", dask.config.get("scheduler", None))
    threaded = scheduler in (None, "threads", "threading") and dask.config.get("get", None) is None
    counted = {"num_workers", "pool"} & set(kwargs) or any(dask.config.get(key, None) is not None for key in ("num_workers", "pool"))
    if threaded and not counted:
        kwargs.update(scheduler="threads", num_workers=THREADS_PER_CORE * (os.cpu_count() or 1))
    return kwargs


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
        Keep the temporary file when the computation fails or the race for the
        path is lost (resumable writes); otherwise it is removed.

    Returns
    -------
    None or dask.delayed.Delayed
        ``None`` when ``compute`` is True.

    Raises
    ------
    ValueError
        If the footer cannot be encoded (checked before anything is computed).
    """
    import dask

    def commit_after(written: Any) -> Delayed:
        return dask.delayed(_commit_after, pure=False)(  # type: ignore[attr-defined,no-any-return]
            partial, path, metadata, data_size, overwrite, fsync, keep_partial, written
        )

    try:
        check_footer(metadata)
        if not compute:
            return commit_after(list(writes))
        # The writes are computed as a graph of their own first: behind a single
        # commit task, Dask's ordering computes inputs shared by several chunks
        # (a block of traces cut into several chunks of records) far ahead of
        # the chunks that use them, and memory grows with the file. The commit
        # then runs where the writes ran (a worker, under dask.distributed).
        kwargs = write_compute_kwargs(compute_kwargs)
        if writes:
            dask.compute(*writes, **kwargs)  # type: ignore[attr-defined,no-untyped-call]
        commit_after(None).compute(**kwargs)  # type: ignore[no-untyped-call]
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
    reserve = check_reserve(reserve)
    write_method = check_write_method(write_method)
    _io.check_file_size(data_size)
    check_footer(metadata)
    skip: set[str] | None = None
    if resume:
        state = PartialState("resume", data_size, metadata, tuple(layout for _, layout in arrays))
        partial, reused = create_partial(path, state, reserve=reserve)
        skip = done_markers(partial) if reused else None
        markers = done_dir(partial)
        targets = [
            IsxdTarget(partial, layout, write_method, os.path.join(markers, f"a{i}_"), fsync)
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
    recorded.compute(**write_compute_kwargs(compute_kwargs))  # type: ignore[no-untyped-call]
    return None
