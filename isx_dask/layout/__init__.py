"""Byte layout of ``.isxd`` files: pure arithmetic and footer text, no file I/O.

Every ``.isxd`` file is a data section followed by a trailer::

    offset 0       data section, D bytes (layout depends on the data set type)
    offset D       JSON metadata, J bytes of UTF-8
    offset D+J     one NUL byte
    offset D+J+1   J as a little-endian uint64

This package holds that container (:func:`encode_trailer`, :func:`decode_trailer`),
the :class:`ArrayLayout` that says where an array lives inside the data section,
and one module per data set type with its offsets and footer keys. Writers,
incremental classes and readers all go through these functions, so there is one
source of truth for every byte offset.
"""

from __future__ import annotations

import enum
import json
import math
import struct
from dataclasses import dataclass
from typing import Any, Iterator

import numpy as np

__all__ = [
    "TRAILER_NBYTES",
    "ArrayLayout",
    "DataSetType",
    "IsxdFormatError",
    "PRODUCER",
    "check_extra_properties",
    "decode_trailer",
    "encode_footer_json",
    "encode_trailer",
    "parse_footer_json",
]

#: Bytes that follow the JSON text: one NUL and a uint64 length.
TRAILER_NBYTES = 9

#: ``producer`` written into every footer. Readers ignore it; it says who wrote the file.
PRODUCER: dict[str, Any] = {"name": "isx_dask", "version": [0, 1, 0]}


class IsxdFormatError(ValueError):
    """A file is not a committed ``.isxd`` file, or its footer is malformed."""


class DataSetType(enum.IntEnum):
    """The footer's ``type`` code."""

    MOVIE = 0
    CELL_SET = 1
    BEHAVIORAL_MOVIE = 2
    GPIO = 3
    IMAGE = 4
    EVENT_SET = 5
    METRICS = 6
    IMU = 7
    VESSEL_SET = 8


#: The integers the official reader's JSON parser holds exactly (int64 and uint64); it parses
#: any other integer as a double, so 2**64 reads back as 1.84467440737096e+19.
JSON_INT_MIN, JSON_INT_MAX = -(2**63), 2**64 - 1


def check_extra_properties(extra_properties: Any) -> Any:
    """Check that ``extra_properties`` can be stored as strict JSON, and return it.

    Raises
    ------
    ValueError
        If it holds NaN or infinity (the official reader rejects them), an
        integer outside ``-2**63 .. 2**64 - 1`` (the official reader would read
        it back as a rounded float; the message gives its key path), or cannot
        be serialised to JSON.
    """
    try:
        json.dumps(extra_properties, allow_nan=False)
    except ValueError as err:
        msg = f"extra_properties must hold only finite numbers (the official reader rejects NaN and Infinity): {err}"
        raise ValueError(msg) from None
    except TypeError as err:
        msg = f"extra_properties must be JSON-serialisable (dict, list, str, int, float, bool, None): {err}"
        raise ValueError(msg) from None
    _check_json_ints(extra_properties, "extra_properties")
    return extra_properties


def _check_json_ints(value: Any, name: str) -> None:
    """Refuse an integer the official reader would not read back exactly, naming its key path."""
    stack: list[tuple[str, Any]] = [(name, value)]
    while stack:
        where, item = stack.pop()
        if isinstance(item, dict):
            stack.extend((f"{where}[{key!r}]", sub) for key, sub in reversed(list(item.items())))
        elif isinstance(item, (list, tuple)):
            stack.extend((f"{where}[{k}]", sub) for k, sub in reversed(list(enumerate(item))))
        elif isinstance(item, int) and not isinstance(item, bool) and not JSON_INT_MIN <= item <= JSON_INT_MAX:
            text = str(item) if item.bit_length() <= 128 else f"an integer of {item.bit_length()} bits"
            msg = (
                f"{where} is {text}, outside the integers the official reader holds exactly "
                f"(-2**63 to 2**64 - 1, int64 and uint64): it would read it back as a rounded float; "
                f"store it as a string (or as a float, if rounding is acceptable)"
            )
            raise ValueError(msg)


def encode_footer_json(metadata: dict[str, Any]) -> bytes:
    """The footer JSON text: the official writer's keys and order, without its indentation.

    The official ``set_cell_status``/``set_vessel_status`` rewrite the footer
    in place, indented, from the start of the old one, and never shorten the
    file: a footer longer than their rewrite would leave stray bytes after the
    new size field, and the file would no longer open. Their indented text is
    longer than this compact one for every footer (each value gains a line
    break and at least four spaces, more than a float loses to their 15
    significant digits), so files written here stay readable after an
    official status edit.
    """
    text = json.dumps(metadata, separators=(",", ":"), sort_keys=True, ensure_ascii=False, allow_nan=False)
    return text.encode("utf-8")


def encode_trailer(metadata: dict[str, Any]) -> bytes:
    """JSON text, NUL and uint64 length: the bytes appended after the data section."""
    text = encode_footer_json(metadata)
    return text + b"\x00" + struct.pack("<Q", len(text))


def decode_trailer(file_size: int, last8: bytes) -> tuple[int, int]:
    """Locate the JSON footer from the file size and the file's last 8 bytes.

    Returns
    -------
    data_size, json_size : int
        ``D`` (where the JSON starts) and ``J`` (its length in bytes).

    Raises
    ------
    IsxdFormatError
        If the size field does not fit in the file (not committed, or truncated).
    """
    if file_size < 8 or len(last8) != 8:
        msg = f"file is {file_size} bytes: too short to hold an .isxd footer (not committed?)"
        raise IsxdFormatError(msg)
    (json_size,) = struct.unpack("<Q", last8)
    data_size = file_size - json_size - TRAILER_NBYTES
    if data_size < 0:
        msg = f"footer size field says {json_size} bytes, more than the file holds ({file_size} bytes): not a committed .isxd file"
        raise IsxdFormatError(msg)
    return data_size, json_size


def _refuse_constant(name: str) -> Any:
    msg = f"footer JSON holds {name}, which the official reader rejects"
    raise IsxdFormatError(msg)


def parse_footer_json(text: bytes) -> dict[str, Any]:
    """Parse footer bytes (up to the first NUL, as the official reader does).

    Raises
    ------
    IsxdFormatError
        If the text is not UTF-8 JSON, holds ``NaN``/``Infinity`` (the official
        reader rejects them), nests too deeply, holds an integer too long to
        convert, or is not an object with a ``type`` key.
    """
    text = text.split(b"\x00", 1)[0]
    try:
        metadata = json.loads(text.decode("utf-8-sig"), parse_constant=_refuse_constant)
    except IsxdFormatError:
        raise
    except RecursionError:
        msg = "footer JSON nests too deeply to be an .isxd footer"
        raise IsxdFormatError(msg) from None
    except (UnicodeDecodeError, ValueError) as err:  # JSONDecodeError, too-long integers
        msg = f"footer is not valid JSON: {err}"
        raise IsxdFormatError(msg) from None
    if not isinstance(metadata, dict) or "type" not in metadata:
        msg = "footer JSON has no 'type' key: not an .isxd file"
        raise IsxdFormatError(msg)
    kind = metadata["type"]
    if isinstance(kind, float) and kind.is_integer():  # the official reader truncates numbers
        kind = metadata["type"] = int(kind)
    if isinstance(kind, bool) or not isinstance(kind, int) or not 0 <= kind <= 2**63 - 1:
        msg = f"footer key 'type' must be a data set type code (an integer), got {kind!r:.80}"
        raise IsxdFormatError(msg)
    return metadata


@dataclass(frozen=True)
class ArrayLayout:
    """Where an n-dimensional array lives inside the data section.

    Element ``idx`` of the array sits at byte ``offset + sum(idx[i] * strides[i])``.
    Strides may leave gaps (for example the footprints of a cell set, which
    alternate with traces), but two elements never share a byte.

    Parameters
    ----------
    offset : int
        Byte offset of element ``(0, ..., 0)`` in the file.
    shape : tuple of int
        Array shape.
    dtype : str
        NumPy dtype string, explicitly little-endian (``'<u2'``, ``'<f4'``, ``'|u1'``).
    strides : tuple of int
        Byte strides, all >= 0.
    """

    offset: int
    shape: tuple[int, ...]
    dtype: str
    strides: tuple[int, ...]

    @classmethod
    def contiguous(cls, offset: int, shape: tuple[int, ...], dtype: str | np.dtype[Any]) -> ArrayLayout:
        """A C-contiguous array starting at ``offset``."""
        dt = np.dtype(dtype)
        strides = []
        step = dt.itemsize
        for n in reversed(shape):
            strides.append(step)
            step *= n
        return cls(int(offset), tuple(int(n) for n in shape), dt.str, tuple(reversed(strides)))

    @property
    def itemsize(self) -> int:
        return np.dtype(self.dtype).itemsize

    @property
    def nbytes(self) -> int:
        """Bytes of data the array holds (not counting gaps)."""
        return math.prod(self.shape) * self.itemsize

    @property
    def end(self) -> int:
        """One past the last byte the array touches (``offset`` when empty)."""
        if math.prod(self.shape) == 0:
            return self.offset
        return self.offset + sum((n - 1) * s for n, s in zip(self.shape, self.strides)) + self.itemsize

    def normalize_region(self, region: tuple[slice, ...]) -> tuple[tuple[int, int], ...]:
        """``(start, stop)`` per axis for a tuple of unit-step slices."""
        if len(region) != len(self.shape):
            msg = f"region {region!r} has {len(region)} axes, the array has {len(self.shape)}"
            raise IndexError(msg)
        bounds = []
        for sl, n in zip(region, self.shape):
            if not isinstance(sl, slice):
                msg = f"regions must be slices, got {sl!r}"
                raise IndexError(msg)
            start, stop, step = sl.indices(n)
            if step != 1:
                msg = f"regions must have unit step, got {sl!r}"
                raise IndexError(msg)
            bounds.append((start, max(start, stop)))
        return tuple(bounds)

    def byte_span(self, region: tuple[slice, ...]) -> tuple[int, int]:
        """First byte and one past the last byte a non-empty region touches (gaps included)."""
        bounds = self.normalize_region(region)
        first = self.offset + sum(a * s for (a, _), s in zip(bounds, self.strides))
        last = first + sum((b - a - 1) * s for (a, b), s in zip(bounds, self.strides)) + self.itemsize
        return first, last

    def byte_runs(self, region: tuple[slice, ...]) -> tuple[int, int, Iterator[int]]:
        """Split a region into runs of contiguous bytes in the file.

        Returns
        -------
        num_runs, run_nbytes, offsets
            How many runs there are, the length of each in bytes, and an iterator
            over their file offsets in C order of the region. The region's
            elements, in C order, fill the runs one after another.
        """
        bounds = self.normalize_region(region)
        counts = [b - a for a, b in bounds]
        base = self.offset + sum(a * s for (a, _), s in zip(bounds, self.strides))
        if 0 in counts:
            return 0, 0, iter(())
        # Fold trailing axes into one run while they are contiguous in the file.
        run = self.itemsize
        axis = len(counts)
        while axis > 0 and self.strides[axis - 1] == run:
            axis -= 1
            run *= counts[axis]
            if counts[axis] != self.shape[axis]:
                break
        outer_counts = counts[:axis]
        outer_strides = self.strides[:axis]
        num_runs = math.prod(outer_counts)

        def offsets() -> Iterator[int]:
            for idx in np.ndindex(*outer_counts):
                yield base + sum(i * s for i, s in zip(idx, outer_strides))

        return num_runs, run, offsets()
