"""xarray access to ``.isxd`` files: ``xr.open_dataset(path, engine="isxd")`` and ``reader.to_xarray()``.

Needs the optional extra ``xarray`` (``pip install "isx_dask[xarray]"``); the rest
of the package never imports xarray.

* A movie or image becomes a Dataset with ``frames(time, y, x)``, read lazily
  through Dask, and a ``valid(time)`` coordinate (False at dropped, cropped and
  blank frames, which read as zeros).
* A cell set becomes a Dataset with ``footprints(cell, y, x)`` and
  ``traces(cell, time)`` (lazy, float32; traces are NaN at invalid samples),
  ``status(cell)`` (``'accepted'``, ``'undecided'``, ``'rejected'``), the cell
  names as the ``cell`` coordinate, and the same ``valid(time)`` coordinate.

Coordinates: ``time`` in seconds since the start of the recording
(``index * period``); ``y`` and ``x`` in microns at pixel centres,
``topLeft + (index + 0.5) * pixelSize``. ``attrs`` hold the footer's fields as
stored (JSON values) plus readable ones: ``start_time`` (ISO 8601, local wall
time as the official ``Time.to_datetime``), ``utc_offset_s``, ``period_s``,
``sampling_rate_hz`` and ``pixel_size_um``. Everything in ``attrs`` is
JSON-serialisable.
"""

from __future__ import annotations

import os
from typing import Any, Iterable

import numpy as np

from .metadata import Spacing, Timing

try:
    from xarray.backends import BackendEntrypoint
except ImportError:  # pragma: no cover - the optional extra is missing; the functions below say how to get it
    BackendEntrypoint = object  # type: ignore[misc,assignment]

__all__ = ["IsxdBackendEntrypoint", "cell_set_to_xarray", "footer_attrs", "movie_to_xarray", "open_isxd_dataset"]

#: Footer keys stored as variables or coordinates of a cell set Dataset, so left out of ``attrs``.
_CELL_SET_VARIABLE_KEYS = ("CellNames", "CellStatuses")


def _xarray() -> Any:
    try:
        import xarray
    except ImportError:
        msg = 'reading .isxd files as xarray objects needs xarray: pip install "isx_dask[xarray]"'
        raise ImportError(msg) from None
    return xarray


def time_seconds(timing: Timing) -> np.ndarray[Any, Any]:
    """Seconds since the start of each sample, ``index * period`` (float64)."""
    period = timing.period
    return np.arange(timing.num_samples, dtype=np.float64) * period.num / period.den


def pixel_centres_um(spacing: Spacing) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """``(y, x)`` microns of the pixel centres: ``topLeft + (index + 0.5) * pixelSize``."""
    (height, width), (top, left) = spacing.pixel_size, spacing.top_left
    rows, cols = spacing.num_pixels
    y = float(top) + (np.arange(rows, dtype=np.float64) + 0.5) * float(height)
    x = float(left) + (np.arange(cols, dtype=np.float64) + 0.5) * float(width)
    return y, x


def footer_attrs(reader: Any, skip: Iterable[str] = ()) -> dict[str, Any]:
    """The footer's fields (as stored, JSON values) plus readable timing and spacing, for ``attrs``."""
    skipped = set(skip)
    attrs: dict[str, Any] = {k: v for k, v in reader.metadata.items() if k not in skipped}
    attrs["isxd_type"] = reader.type.name.lower()
    attrs["isxd_path"] = os.path.abspath(reader.path)
    timing = reader.timing
    period = timing.period
    attrs["start_time"] = timing.start.to_datetime().isoformat()
    attrs["utc_offset_s"] = timing.start.utc_offset
    attrs["period_s"] = period.num / period.den
    attrs["sampling_rate_hz"] = period.den / period.num
    if "spacingInfo" in reader.metadata:
        height, width = reader.spacing.pixel_size
        attrs["pixel_size_um"] = [float(height), float(width)]
    return attrs


def _coords(timing: Timing, spacing: Spacing | None, valid: np.ndarray[Any, Any]) -> dict[str, Any]:
    coords: dict[str, Any] = {
        "time": ("time", time_seconds(timing), {"units": "s", "long_name": "time since the start of the recording"}),
        "valid": ("time", valid, {"long_name": "False at dropped, cropped and blank samples"}),
    }
    if spacing is not None:
        y, x = pixel_centres_um(spacing)
        coords["y"] = ("y", y, {"units": "um", "long_name": "pixel centre, from spacingInfo.topLeft and pixelSize"})
        coords["x"] = ("x", x, {"units": "um", "long_name": "pixel centre, from spacingInfo.topLeft and pixelSize"})
    return coords


def movie_to_xarray(reader: Any, *, chunks: Any = None) -> Any:
    """A :class:`~isx_dask.MovieFile` as an ``xarray.Dataset`` with lazy ``frames(time, y, x)``."""
    xr = _xarray()
    frames = reader.to_dask(chunks)
    data_vars = {"frames": (("time", "y", "x"), frames, {"long_name": "pixel values (zeros at invalid frames)"})}
    coords = _coords(reader.timing, reader.layout.spacing, reader.valid)
    return xr.Dataset(data_vars, coords=coords, attrs=footer_attrs(reader))


def cell_set_to_xarray(reader: Any, *, chunks: Any = None) -> Any:
    """A :class:`~isx_dask.CellSetFile` as an ``xarray.Dataset`` of footprints, traces and statuses."""
    xr = _xarray()
    data_vars = {
        "footprints": (("cell", "y", "x"), reader.footprints_to_dask(chunks), {"long_name": "cell footprint images"}),
        "traces": (("cell", "time"), reader.traces_to_dask(chunks), {"long_name": "cell traces (NaN at invalid samples)"}),
        "status": (("cell",), np.asarray(reader.statuses, dtype=str), {"long_name": "accepted, undecided or rejected"}),
    }
    coords = _coords(reader.timing, reader.layout.spacing, reader.valid)
    coords["cell"] = ("cell", np.asarray(reader.names, dtype=str), {"long_name": "cell names"})
    return xr.Dataset(data_vars, coords=coords, attrs=footer_attrs(reader, _CELL_SET_VARIABLE_KEYS))


def open_isxd_dataset(
    path: str | os.PathLike[str], *, chunks: Any = None, drop_variables: Iterable[str] | None = None
) -> Any:
    """Open a movie, image or cell set as an ``xarray.Dataset`` (see the module docstring).

    Raises
    ------
    ValueError
        If the file is another data set type (event sets, vessel sets, GPIO are not
        gridded data; read them with :func:`isx_dask.open_isxd`).
    """
    from .readers import CellSetFile, MovieFile, open_isxd

    reader = open_isxd(path)
    if isinstance(reader, MovieFile):
        ds = movie_to_xarray(reader, chunks=chunks)
    elif isinstance(reader, CellSetFile):
        ds = cell_set_to_xarray(reader, chunks=chunks)
    else:
        msg = (
            f"{os.fspath(path)!r} is a {reader.type.name.lower()} file; the isxd xarray engine opens movies, "
            f"images and cell sets (read other types with isx_dask.open_isxd)"
        )
        raise ValueError(msg)
    if drop_variables:
        ds = ds.drop_vars(list(drop_variables), errors="ignore")
    return ds


class IsxdBackendEntrypoint(BackendEntrypoint):
    """xarray backend: ``xr.open_dataset("movie.isxd", engine="isxd")``.

    Variables are lazy Dask arrays whatever ``chunks`` xarray is given; pass
    ``chunks=`` to xarray to rechunk.
    """

    description = "Open Inscopix .isxd movies, images and cell sets lazily (isx_dask)"
    open_dataset_parameters = ("filename_or_obj", "drop_variables")

    def open_dataset(
        self, filename_or_obj: Any, *, drop_variables: Iterable[str] | None = None
    ) -> Any:
        if not isinstance(filename_or_obj, (str, os.PathLike)):
            msg = f"the isxd engine opens files by path, got {type(filename_or_obj).__name__}"
            raise TypeError(msg)
        return open_isxd_dataset(filename_or_obj, drop_variables=drop_variables)

    def guess_can_open(self, filename_or_obj: Any) -> bool:
        if not isinstance(filename_or_obj, (str, os.PathLike)):
            return False
        return os.fspath(filename_or_obj).lower().endswith(".isxd")
