"""Opening an ``.isxd`` file: find and parse its footer, and read byte ranges of its data section.

The footer is found from the file's last 8 bytes and read with a bounded read
(at most :data:`MAX_FOOTER_NBYTES`, stopping at the first NUL), so a crafted or
damaged file never makes the reader load the whole file. A reader records the
file's identity (device, inode, size, modification time) when it opens it, and
every later read checks, on a fresh open, that the path still holds that same
file: a lazy array opened before an ``overwrite=True`` raises
:class:`IsxdFileChangedError` rather than returning the new file's bytes.
"""

from __future__ import annotations

import math
import os
from typing import IO, Any, Iterator, NamedTuple

import numpy as np

from .._io import readinto_at
from ..layout import ArrayLayout, DataSetType, IsxdFormatError, decode_trailer, parse_footer_json
from ..layout.fields import parse_spacing_info, parse_timing_info
from ..metadata import Spacing, Timing

__all__ = [
    "MAX_FOOTER_NBYTES",
    "FileIdentity",
    "IsxdFile",
    "IsxdFileChangedError",
    "LayoutArray",
    "lazy_array",
    "read_array",
    "read_footer",
]

#: Default size of the chunks of lazy arrays, along their first axis.
READ_CHUNK_NBYTES = 64 * 2**20
#: Largest footer (JSON text) a reader accepts. Official footers are kilobytes; even a
#: cell set of a million cells stays far below this.
MAX_FOOTER_NBYTES = 256 * 2**20
#: Block size of the bounded footer read.
_FOOTER_BLOCK = 2**20
#: Most chunks a lazy array may have along its first axis (a footer claiming more is refused).
MAX_CHUNKS = 2**24


class IsxdFileChangedError(OSError):
    """The file a reader opened was replaced or modified after it was opened."""


class FileIdentity(NamedTuple):
    """What identifies the file a reader opened: device, inode, size and modification time."""

    dev: int
    ino: int
    size: int
    mtime_ns: int

    @classmethod
    def of(cls, st: os.stat_result) -> FileIdentity:
        return cls(int(st.st_dev), int(st.st_ino), int(st.st_size), int(st.st_mtime_ns))


def check_identity(path: str, f: IO[bytes], identity: FileIdentity | None) -> None:
    """Raise :class:`IsxdFileChangedError` if the open file ``f`` is not the file ``identity`` describes."""
    if identity is None:
        return
    now = FileIdentity.of(os.fstat(f.fileno()))
    if now != identity:
        what = "replaced by another file" if now[:2] != identity[:2] else "modified"
        msg = (
            f"{path!r} was {what} after it was opened for reading (opened: {identity.size} bytes, "
            f"mtime_ns {identity.mtime_ns}; now: {now.size} bytes, mtime_ns {now.mtime_ns}); "
            f"open it again to read the new file"
        )
        raise IsxdFileChangedError(msg)


def _read_footer_text(f: IO[bytes], path: str, start: int, json_size: int) -> bytes:
    """Read the JSON text from ``start``: at most ``json_size + 1`` bytes, stopping at the first NUL."""
    if json_size > MAX_FOOTER_NBYTES:
        msg = (
            f"{path!r}: the footer size field says {json_size} bytes of JSON, more than the "
            f"{MAX_FOOTER_NBYTES} bytes a reader accepts: not a committed .isxd file"
        )
        raise IsxdFormatError(msg)
    f.seek(start)
    parts: list[bytes] = []
    remaining = json_size + 1
    first = True
    while remaining > 0:
        block = f.read(min(_FOOTER_BLOCK, remaining))
        if not block:
            break
        if first:
            head = block.lstrip(b" \t\r\n")
            if head.startswith(b"\xef\xbb\xbf"):
                head = head[3:].lstrip(b" \t\r\n")
            if head[:1] not in (b"{", b""):
                msg = f"{path!r}: the footer does not start with a JSON object ('{{'): not a committed .isxd file"
                raise IsxdFormatError(msg)
            first = False
        nul = block.find(b"\x00")
        if nul >= 0:
            parts.append(block[:nul])
            break
        parts.append(block)
        remaining -= len(block)
    return b"".join(parts)


def read_footer_from(f: IO[bytes], path: str) -> tuple[dict[str, Any], int, FileIdentity]:
    """The footer, data section size and identity of the open file ``f``."""
    st = os.fstat(f.fileno())
    size = st.st_size
    if size < 8:
        msg = f"{path!r} is {size} bytes: too short to be a committed .isxd file"
        raise IsxdFormatError(msg)
    f.seek(size - 8)
    try:
        data_size, json_size = decode_trailer(size, f.read(8))
    except IsxdFormatError as err:
        msg = f"{path!r}: {err}"
        raise IsxdFormatError(msg) from None
    text = _read_footer_text(f, path, data_size, json_size)
    try:
        metadata = parse_footer_json(text)
    except IsxdFormatError as err:
        msg = f"{path!r}: {err}"
        raise IsxdFormatError(msg) from None
    return metadata, data_size, FileIdentity.of(st)


def read_footer(path: str | os.PathLike[str]) -> tuple[dict[str, Any], int]:
    """The footer of a committed ``.isxd`` file and the size of its data section.

    Reads at most :data:`MAX_FOOTER_NBYTES` bytes, whatever the file holds.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    IsxdFormatError
        If the file has no valid footer (not committed, truncated, not ``.isxd``).
    """
    path = os.fspath(path)
    with open(path, "rb") as f:
        metadata, data_size, _ = read_footer_from(f, path)
    return metadata, data_size


def item_index(index: Any, n: int, item: str, owner: str) -> int:
    """``index`` (negative counts from the end) as a position in ``[0, n)``.

    Raises ``TypeError`` (``"<item> must be an integer"``) for anything but an
    integer, ``IndexError`` (``"<item> <index> is out of range; the <owner>=<n>"``)
    outside ``[-n, n)``.
    """
    if isinstance(index, (bool, np.bool_)) or not isinstance(index, (int, np.integer)):
        msg = f"{item} must be an integer, got {index!r}"
        raise TypeError(msg)
    if not -n <= index < n:
        msg = f"{item} {index} is out of range; the {owner}={n}"
        raise IndexError(msg)
    return int(index) % n


def read_array(
    path: str,
    layout: ArrayLayout,
    region: tuple[slice, ...],
    identity: FileIdentity | None = None,
    *,
    file: IO[bytes] | None = None,
    out: np.ndarray[Any, Any] | None = None,
) -> np.ndarray[Any, Any]:
    """Read ``region`` of an array stored at ``layout`` in ``path`` (positional reads, no mapping).

    With ``identity``, the file is checked to be the one the reader opened. With
    ``file`` (an open binary file of ``path``, already checked), that file is read
    and no new one is opened. With ``out`` (a C-contiguous array of the region's
    shape and the layout's dtype), the bytes are read into it.

    Raises
    ------
    IsxdFileChangedError
        If ``identity`` is given and the path now holds another or a modified file.
    IsxdFormatError
        If the file ends before the region does.
    """
    bounds = layout.normalize_region(region)
    counts = tuple(b - a for a, b in bounds)
    if out is None:
        out = np.empty(counts, dtype=np.dtype(layout.dtype))
    elif out.shape != counts or out.dtype != np.dtype(layout.dtype) or not out.flags.c_contiguous:
        msg = f"out must be a C-contiguous {np.dtype(layout.dtype)} array of shape {counts}, got {out.dtype} {out.shape}"
        raise ValueError(msg)
    num_runs, run_nbytes, offsets = layout.byte_runs(region)
    if num_runs == 0:
        return out
    buf = out.reshape(-1).data.cast("B")
    if file is None:
        with open(path, "rb", buffering=0) as f:
            check_identity(path, f, identity)
            _read_runs(f, path, buf, run_nbytes, offsets)
    else:
        _read_runs(file, path, buf, run_nbytes, offsets)
    return out


def _read_runs(f: IO[bytes], path: str, buf: memoryview, run_nbytes: int, offsets: Iterator[int]) -> None:
    for k, offset in enumerate(offsets):
        part = buf[k * run_nbytes : (k + 1) * run_nbytes]
        if readinto_at(f, part, offset) != run_nbytes:
            msg = f"{path!r} ends before byte {offset + run_nbytes}: the data section is truncated"
            raise IsxdFormatError(msg)


class LayoutArray:
    """Array-like view of one :class:`ArrayLayout` of a file, reading only what is asked for.

    Picklable (path, layout and file identity only), for ``dask.array.from_array``.
    """

    def __init__(self, path: str, layout: ArrayLayout, identity: FileIdentity | None = None) -> None:
        self.path = path
        self.layout = layout
        self.identity = identity
        self.shape = layout.shape
        self.dtype = np.dtype(layout.dtype)
        self.ndim = len(layout.shape)

    def __getitem__(self, key: Any) -> np.ndarray[Any, Any]:
        if not isinstance(key, tuple):
            key = (key,)
        key = key + (slice(None),) * (self.ndim - len(key))
        return read_array(self.path, self.layout, key, self.identity)


def default_chunks(shape: tuple[int, ...], itemsize: int) -> tuple[int, ...]:
    """About 64 MiB along the first axis, whole along the others.

    Raises
    ------
    IsxdFormatError
        If that gives more than :data:`MAX_CHUNKS` chunks (a footer claiming an absurd length).
    """
    if not shape:
        return ()
    per_item = max(1, math.prod(shape[1:]) * itemsize)
    first = max(1, READ_CHUNK_NBYTES // per_item)
    if -(-shape[0] // first) > MAX_CHUNKS:
        msg = f"the footer claims {shape[0]} items along the first axis: too many to chunk ({MAX_CHUNKS} chunks at most)"
        raise IsxdFormatError(msg)
    return (first, *shape[1:])


def lazy_array(
    path: str, layout: ArrayLayout, name: str, chunks: Any = None, identity: FileIdentity | None = None
) -> Any:
    """A Dask array reading ``layout`` from ``path`` on demand.

    ``chunks`` defaults to about 64 MiB along the first axis, whole along the others.
    """
    import dask.array as da
    from dask.base import tokenize

    if chunks is None:
        chunks = default_chunks(layout.shape, np.dtype(layout.dtype).itemsize)
    if identity is None:
        identity = FileIdentity.of(os.stat(path))
    token = f"isxd-{name}-" + tokenize(path, identity, layout, chunks)
    meta = np.empty((0,) * len(layout.shape), dtype=np.dtype(layout.dtype))
    return da.from_array(  # type: ignore[no-untyped-call]
        LayoutArray(path, layout, identity), chunks=chunks, name=token, meta=meta, asarray=False, fancy=False
    )


def describe_period(timing: Timing) -> str:
    """``'0.05 s (20 Hz)'``."""
    secs = timing.period.secs_float
    return f"{secs:g} s ({1 / secs:g} Hz)" if secs > 0 else f"{secs:g} s"


def describe_pixel_size(spacing: Spacing) -> str:
    """``'3 x 3 µm'`` (height x width)."""
    height, width = spacing.pixel_size
    return f"{float(height):g} x {float(width):g} µm"


class IsxdFile:
    """A committed ``.isxd`` file of any type: its footer and generic metadata.

    Use :func:`isx_dask.open_isxd`, which returns the subclass for the file's type.
    A reader holds no open file between reads; :meth:`close` (or the end of a
    ``with`` block) marks it closed, after which its reading methods raise
    ``ValueError``. Lazy arrays made before keep working while the file is unchanged.

    Attributes
    ----------
    path : str
        The file.
    metadata : dict
        The footer JSON, as stored.
    data_size : int
        Bytes of the data section.
    identity : FileIdentity
        Device, inode, size and modification time of the file when it was opened.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        self._closed = False
        with open(self.path, "rb") as f:
            self.metadata, self.data_size, self.identity = read_footer_from(f, self.path)
        if self.metadata["type"] not in set(DataSetType):
            msg = f"{self.path!r}: footer type {self.metadata['type']!r} is not an .isxd data set type (0 to 8)"
            raise IsxdFormatError(msg)
        try:
            self._timing: Timing | None = None
            self._check()
        except IsxdFormatError as err:
            text = str(err)
            if not text.startswith(repr(self.path)):
                text = f"{self.path!r}: {text}"
            raise IsxdFormatError(text) from None

    def _check(self) -> None:
        """Subclasses check their footer here."""

    # -- life cycle ---------------------------------------------------------------------
    def close(self) -> None:
        """Mark the reader closed; its reading methods then raise ``ValueError``."""
        self._closed = True

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed

    def __enter__(self) -> IsxdFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _require_open(self) -> None:
        if self._closed:
            msg = f"I/O operation on a closed reader of {self.path!r}; open the file again"
            raise ValueError(msg)

    def _read(self, layout: ArrayLayout, region: tuple[slice, ...] | None = None) -> np.ndarray[Any, Any]:
        """Read ``region`` (default: all) of ``layout``, checking the reader is open and the file unchanged."""
        self._require_open()
        if region is None:
            region = (slice(None),) * len(layout.shape)
        return read_array(self.path, layout, region, self.identity)

    def _lazy(self, layout: ArrayLayout, name: str, chunks: Any = None) -> Any:
        """A lazy Dask array of ``layout`` that checks the file is unchanged at every read."""
        self._require_open()
        return lazy_array(self.path, layout, name, chunks, self.identity)

    def check_unchanged(self) -> None:
        """Raise :class:`IsxdFileChangedError` if the path no longer holds the file that was opened."""
        with open(self.path, "rb") as f:
            check_identity(self.path, f, self.identity)

    # -- metadata -------------------------------------------------------------------------
    @property
    def type(self) -> DataSetType:
        """The data set type recorded in the footer."""
        return DataSetType(int(self.metadata["type"]))

    @property
    def timing(self) -> Timing:
        """Timing from the footer's ``timingInfo`` (invalid-index ranges kept as ranges)."""
        if self._timing is None:
            if "timingInfo" not in self.metadata:
                msg = f"{self.path!r} has no timingInfo"
                raise IsxdFormatError(msg)
            self._timing = parse_timing_info(self.metadata["timingInfo"])
        return self._timing

    @property
    def spacing(self) -> Spacing:
        """Spacing from the footer's ``spacingInfo``."""
        if "spacingInfo" not in self.metadata:
            msg = f"{self.path!r} has no spacingInfo"
            raise IsxdFormatError(msg)
        return parse_spacing_info(self.metadata["spacingInfo"])

    @property
    def valid(self) -> np.ndarray[Any, Any]:
        """Boolean mask over samples: False at dropped, cropped and blank samples.

        Built from the footer's index lists and ranges with NumPy (one byte per sample).
        """
        timing = self.timing
        mask = np.ones(timing.num_samples, dtype=bool)
        mask[np.asarray(timing.dropped, dtype=np.int64)] = False
        mask[np.asarray(timing.blank, dtype=np.int64)] = False
        for first, last in timing.cropped:
            mask[first : last + 1] = False
        return mask

    @property
    def extra_properties(self) -> Any:
        """The footer's ``extraProperties`` (acquisition metadata), or None."""
        return self.metadata.get("extraProperties")

    @property
    def file_size(self) -> int:
        """Size of the whole file in bytes when it was opened."""
        return self.identity.size

    def _repr_fields(self) -> list[str]:
        return [f"type={self.type.name}"]

    def __repr__(self) -> str:
        fields = [repr(self.path), *self._repr_fields()]
        if self._closed:
            fields.append("closed")
        return f"{type(self).__name__}({', '.join(fields)})"
