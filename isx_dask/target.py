"""The write target: a preallocated temporary file that chunks are written into, then committed.

The life of every write:

1. :func:`check_output_path` refuses bad paths before anything is created.
2. :func:`preallocate` creates ``.<name>.<uuid>.partial`` beside the target and
   sizes it to the data section.
3. :class:`IsxdTarget` objects (one per array in the data section) receive
   chunks from ``dask.array.store``. Each write opens the file, puts the
   chunk's bytes at their place (``pwrite``, or a memory-mapped window of just
   those bytes) and closes it again, so nothing stays mapped and resident
   memory does not grow with the file.
4. :func:`commit` appends the footer once every chunk has finished and
   renames the file into place atomically.

:func:`store_then_commit` strings these together for the writers.
"""

from __future__ import annotations

import mmap
import os
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Sequence

import numpy as np

from .layout import ArrayLayout, encode_trailer

if TYPE_CHECKING:
    import dask.array as da
    from dask.delayed import Delayed

__all__ = [
    "IsxdTarget",
    "check_output_path",
    "commit",
    "preallocate",
    "remove_partial",
    "store_then_commit",
]

WriteMethod = Literal["auto", "pwrite", "mmap"]

# A chunk made of many short runs (a tile of a frame, say) is written through one
# mapped window instead of one system call per run.
_MIN_PWRITE_RUN_NBYTES = 64 * 1024
_MAX_PWRITE_RUNS = 256


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


def preallocate(path: str, data_size: int) -> str:
    """Create a temporary sibling of ``path`` sized to ``data_size`` bytes; return its name."""
    directory, name = os.path.split(os.path.abspath(path))
    partial = os.path.join(directory, f".{name}.{uuid.uuid4().hex}.partial")
    fd = os.open(partial, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        os.ftruncate(fd, data_size)
    except BaseException:
        os.close(fd)
        remove_partial(partial)
        raise
    os.close(fd)
    return partial


def remove_partial(partial: str) -> None:
    """Remove a temporary file if it is still there."""
    try:
        os.unlink(partial)
    except FileNotFoundError:
        pass


def _pwrite_all(fd: int, data: memoryview, offset: int) -> None:
    while data:
        written = os.pwrite(fd, data, offset)
        data = data[written:]
        offset += written


@dataclass(frozen=True)
class IsxdTarget:
    """One array of an ``.isxd`` data section, as a destination for ``dask.array.store``.

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
        memory-mapped window of the chunk's bytes. ``'auto'`` uses ``pwrite``
        unless a chunk is made of many short runs.
    """

    path: str
    layout: ArrayLayout
    method: WriteMethod = "auto"

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
        if num_runs == 0:
            return
        data = np.ascontiguousarray(value, dtype=self.dtype)
        if data.nbytes != num_runs * run_nbytes:
            msg = f"chunk of shape {np.shape(value)} does not fill region {region!r} of an array of shape {self.shape}"
            raise ValueError(msg)
        use_pwrite = self.method == "pwrite" or (
            self.method == "auto" and (num_runs <= _MAX_PWRITE_RUNS or run_nbytes >= _MIN_PWRITE_RUN_NBYTES)
        )
        fd = os.open(self.path, os.O_RDWR)
        try:
            if use_pwrite:
                buf = memoryview(data.reshape(-1)).cast("B")
                for k, offset in enumerate(offsets):
                    _pwrite_all(fd, buf[k * run_nbytes : (k + 1) * run_nbytes], offset)
            else:
                self._write_mapped(fd, region, data)
        finally:
            os.close(fd)

    def _write_mapped(self, fd: int, region: tuple[slice, ...], data: np.ndarray) -> None:
        bounds = self.layout.normalize_region(region)
        counts = tuple(b - a for a, b in bounds)
        first = self.layout.offset + sum(a * s for (a, _), s in zip(bounds, self.layout.strides))
        last = first + sum((n - 1) * s for n, s in zip(counts, self.layout.strides)) + self.dtype.itemsize
        start = first - first % mmap.ALLOCATIONGRANULARITY
        window = mmap.mmap(fd, last - start, access=mmap.ACCESS_WRITE, offset=start)
        try:
            view = np.ndarray(counts, self.dtype, buffer=window, offset=first - start, strides=self.layout.strides)
            view[...] = data
            del view
        finally:
            window.close()


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
    temporary file never carries stale bytes. With ``overwrite=False`` the file
    is put in place with a hard link, which fails if another writer got there
    first; the other writer's file is left as it is.

    Returns
    -------
    str
        ``path``.
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


def _commit_after(_stored: Any, *args: Any, **kwargs: Any) -> str:
    return commit(*args, **kwargs)


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
    **compute_kwargs: Any,
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
        Run now, or return one ``Delayed`` whose completion means the file is committed.
    fsync : bool, default True
        Flush the data and footer to disk before the rename.
    write_method : {'auto', 'pwrite', 'mmap'}
        See :class:`IsxdTarget`.
    **compute_kwargs
        Passed to ``compute`` (``scheduler=...``, ``num_workers=...``).

    Returns
    -------
    None or dask.delayed.Delayed
        ``None`` when ``compute`` is True.
    """
    import dask
    import dask.array as da

    for array, layout in arrays:
        if tuple(array.shape) != layout.shape:
            msg = f"array of shape {array.shape} does not fit its place in the file, of shape {layout.shape}"
            raise ValueError(msg)
    partial = preallocate(path, data_size)
    try:
        targets = [IsxdTarget(partial, layout, write_method) for _, layout in arrays]
        sources = [array for array, _ in arrays]
        # Chunks own disjoint bytes of the file, so they need no lock.
        stored = da.store(sources, targets, lock=False, compute=False) if sources else None
        committed = dask.delayed(_commit_after, pure=False)(
            stored, partial, path, metadata, data_size, overwrite=overwrite, fsync=fsync
        )
    except BaseException:
        remove_partial(partial)
        raise
    if not compute:
        return committed  # type: ignore[no-any-return]
    try:
        committed.compute(**compute_kwargs)
    except BaseException:
        remove_partial(partial)
        raise
    return None
