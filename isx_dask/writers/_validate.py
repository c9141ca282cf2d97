"""Input checks shared by the writers: every one runs before a byte is written."""

from __future__ import annotations

import math
import os
from typing import Any

import numpy as np

from ..layout import check_extra_properties
from ..layout.cell_set import CELL_STATUS_CODES
from ..metadata import Spacing, Timing

__all__ = [
    "MAX_NAME_NBYTES",
    "as_dask_array",
    "cast_array",
    "check_name",
    "check_spacing",
    "check_status",
    "check_timing",
    "require_spacing",
    "require_timing",
    "resolve_metadata_from",
]

_TARGET_CHUNK_NBYTES = 64 * 2**20


def as_dask_array(data: Any, name: str, ndim: int, axes: str) -> Any:
    """``data`` as a Dask array with known chunk sizes and ``ndim`` dimensions.

    NumPy (and other array-like) input is wrapped without copying, in chunks of
    about 64 MiB along the first axis.
    """
    import dask.array as da

    if not isinstance(data, da.Array):
        if not hasattr(data, "shape") or not hasattr(data, "dtype"):
            data = np.asarray(data)
        if len(data.shape) != ndim:
            msg = f"{name} must have {ndim} dimensions {axes}, got shape {tuple(data.shape)}"
            raise ValueError(msg)
        per_item = max(1, math.prod(data.shape[1:]) * np.dtype(data.dtype).itemsize)
        step = max(1, _TARGET_CHUNK_NBYTES // per_item)
        chunks = (step,) + tuple(data.shape[1:])
        return da.from_array(data, chunks=chunks, asarray=True)  # type: ignore[no-untyped-call]
    if data.ndim != ndim:
        msg = f"{name} must have {ndim} dimensions {axes}, got shape {data.shape}"
        raise ValueError(msg)
    if any(math.isnan(c) for c in data.shape) or any(math.isnan(c) for cs in data.chunks for c in cs):
        msg = (
            f"{name} has unknown (NaN) chunk sizes {data.chunks}; "
            f"call {name}.compute_chunk_sizes() (or pass lengths to to_dask_array) first"
        )
        raise ValueError(msg)
    return data


def cast_array(data: Any, name: str, dtype: np.dtype[Any], casting: str) -> Any:
    """Cast ``data`` to ``dtype`` lazily, if numpy's ``casting`` rule allows it."""
    if data.dtype == dtype:
        return data
    if not np.can_cast(data.dtype, dtype, casting=casting):  # type: ignore[arg-type]
        msg = (
            f"{name} has dtype {data.dtype}, which cannot be cast to {dtype} under casting={casting!r} "
            f"without losing values; convert it yourself, or pass casting='unsafe' to let numpy's "
            f"astype wrap out-of-range values"
        )
        raise TypeError(msg)
    return data.astype(dtype, casting=casting)


#: Longest name, in UTF-8 bytes, that the official reader returns in full (its buffer is 256 bytes).
MAX_NAME_NBYTES = 255


def check_name(name: Any, label: str) -> str:
    """``name`` if it is a str the official reader gives back whole: at most 255 UTF-8 bytes, no NUL."""
    if not isinstance(name, str):
        msg = f"{label} must be a str, got {type(name).__name__} {name!r}"
        raise TypeError(msg)
    nbytes = len(name.encode("utf-8"))
    if nbytes > MAX_NAME_NBYTES:
        msg = f"{label} is {nbytes} UTF-8 bytes long; expected at most {MAX_NAME_NBYTES} (the official reader truncates longer names)"
        raise ValueError(msg)
    if "\x00" in name:
        msg = f"{label} {name!r} contains a NUL character, which the official reader would cut the name at"
        raise ValueError(msg)
    return name


def check_status(status: Any, label: str, *, allow_bool: bool = False) -> str:
    """A status string (``'accepted'``, ``'undecided'``, ``'rejected'``); with ``allow_bool``, True/False mean accepted/rejected."""
    if allow_bool and isinstance(status, (bool, np.bool_)):
        return "accepted" if status else "rejected"
    if isinstance(status, str) and status in CELL_STATUS_CODES:
        return status
    extra = " (or a bool: True accepted, False rejected)" if allow_bool else ""
    msg = f"{label} must be 'accepted', 'undecided' or 'rejected'{extra}, got {status!r}"
    raise ValueError(msg)


def require_timing(timing: Any) -> Timing:
    """``timing`` if it is a :class:`Timing`, else ``TypeError`` naming the argument."""
    if not isinstance(timing, Timing):
        msg = f"timing must be an isx_dask.Timing, got {type(timing).__name__}"
        raise TypeError(msg)
    return timing


def require_spacing(spacing: Any) -> Spacing:
    """``spacing`` if it is a :class:`Spacing`, else ``TypeError`` naming the argument."""
    if not isinstance(spacing, Spacing):
        msg = f"spacing must be an isx_dask.Spacing, got {type(spacing).__name__}"
        raise TypeError(msg)
    return spacing


def check_timing(timing: Timing | None, num_samples: int, name: str) -> Timing:
    """``timing``, defaulted to ``num_samples`` samples of 50 ms, and checked against the data."""
    if timing is None:
        return Timing(num_samples=num_samples)
    require_timing(timing)
    if timing.num_samples != num_samples:
        msg = f"{name} holds {num_samples} samples but timing.num_samples is {timing.num_samples}; they must be equal"
        raise ValueError(msg)
    return timing


def check_spacing(spacing: Spacing | None, frame_shape: tuple[int, int], name: str) -> Spacing:
    """``spacing``, defaulted to ``frame_shape``, and checked against the data."""
    if spacing is None:
        return Spacing(num_pixels=frame_shape)
    require_spacing(spacing)
    if spacing.num_pixels != tuple(frame_shape):
        msg = f"{name} frames are {tuple(frame_shape)} (rows, cols) but spacing.num_pixels is {spacing.num_pixels}"
        raise ValueError(msg)
    return spacing


def resolve_metadata_from(
    metadata_from: str | os.PathLike[str] | None,
    timing: Timing | None,
    spacing: Spacing | None,
    extra_properties: Any,
) -> tuple[Timing | None, Spacing | None, Any]:
    """Fill timing, spacing and extra properties that were not given from an existing ``.isxd`` file."""
    if metadata_from is not None:
        from ..readers import open_isxd

        source = open_isxd(metadata_from)
        if timing is None:
            timing = source.timing
        if spacing is None:
            spacing = source.spacing
        if extra_properties is None:
            extra_properties = source.extra_properties
    check_extra_properties(extra_properties)
    return timing, spacing, extra_properties
