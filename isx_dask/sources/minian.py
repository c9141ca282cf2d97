"""Minian results (the ``A``, ``C`` and ``S`` Zarr datasets ``save_minian`` writes) to an Inscopix cell set and event set."""

from __future__ import annotations

import os
import warnings
from typing import TYPE_CHECKING, Any, Literal, Sequence, overload

import numpy as np

from ..layout import IsxdFormatError
from ..metadata import Spacing, Timing
from ._recording import PathLike, import_optional
from ._results import (
    check_outputs,
    check_threshold,
    events_from_dense,
    resolve_metadata,
    write_results,
)

if TYPE_CHECKING:
    from dask.delayed import Delayed
    from typing_extensions import Unpack

    from ._results import EventResultOptions

__all__ = ["minian_to_isxd"]

_SOURCE = "Minian"
_DIMS = {"A": ("unit_id", "height", "width"), "C": ("unit_id", "frame"), "S": ("unit_id", "frame")}


def _open_variable(xr: Any, root: str, name: str, required: bool) -> Any:
    """Variable ``name`` from ``root/<name>.zarr`` (save_minian's layout) or from the one store at ``root``."""
    what = {"A": "the footprints", "C": "the traces", "S": "the deconvolved activity, for events"}[name]
    separate = os.path.join(root, f"{name}.zarr")
    store = separate if os.path.isdir(separate) else root
    try:
        with warnings.catch_warnings():
            # A store without consolidated metadata opens all the same; the warning says only that.
            warnings.filterwarnings("ignore", message="Failed to open Zarr store with consolidated metadata", category=RuntimeWarning)
            ds = xr.open_zarr(store)
    except (OSError, ValueError, KeyError) as err:
        if not required:
            return None
        msg = f"{root!r} holds neither {name}.zarr nor a Zarr dataset with variable {name!r} ({what}): {err}"
        raise IsxdFormatError(msg) from err
    if name not in ds.data_vars:
        if not required:
            return None
        msg = f"{store!r} has no variable {name!r} ({what}); pass the folder save_minian wrote (with {name}.zarr) or a Zarr dataset holding {name}"
        raise IsxdFormatError(msg)
    var = ds[name]
    if set(var.dims) != set(_DIMS[name]):
        msg = f"{store!r}: {name} has dimensions {var.dims}; expected {_DIMS[name]} as Minian saves it"
        raise IsxdFormatError(msg)
    if var.dtype.kind not in "iuf":
        msg = f"{store!r}: {name} has dtype {var.dtype}; expected real numbers"
        raise IsxdFormatError(msg)
    return var.transpose(*_DIMS[name])


def _crop_offset(footprints: Any) -> tuple[int, int]:
    """Pixel index of the first row and column, from the ``height`` and ``width`` coordinates."""
    offset = []
    for dim in ("height", "width"):
        if dim not in footprints.coords:
            offset.append(0)
            continue
        values = np.asarray(footprints.coords[dim].values)
        steps_of_one = values.dtype.kind in "iuf" and np.all(values == np.round(values)) and np.all(np.diff(values) == 1)
        if not steps_of_one:
            msg = f"Minian's {dim} coordinates are not consecutive pixel indices ({values[:5].tolist()}...); pass spacing= for the footprints"
            raise IsxdFormatError(msg)
        offset.append(int(values[0]) if values.size else 0)
    return offset[0], offset[1]


@overload
def minian_to_isxd(
    minian_dir_or_zarr: PathLike, cell_set_path: PathLike, event_set_path: PathLike | None = ..., *,
    compute: Literal[False], **options: Unpack[EventResultOptions],
) -> Delayed: ...
@overload
def minian_to_isxd(
    minian_dir_or_zarr: PathLike, cell_set_path: PathLike, event_set_path: PathLike | None = ..., *,
    compute: Literal[True] = ..., **options: Unpack[EventResultOptions],
) -> None: ...


def minian_to_isxd(
    minian_dir_or_zarr: PathLike,
    cell_set_path: PathLike,
    event_set_path: PathLike | None = None,
    *,
    timing: Timing | None = None,
    spacing: Spacing | None = None,
    extra_properties: Any = None,
    metadata_from: PathLike | None = None,
    frame_rate: Any = None,
    cell_names: Sequence[str] | None = None,
    statuses: Any = None,
    event_threshold: float = 0.0,
    overwrite: bool = False,
    compute: bool = True,
    fsync: bool = True,
    compute_kwargs: dict[str, Any] | None = None,
) -> Delayed | None:
    """Convert Minian's results to an ``.isxd`` cell set and, optionally, an event set.

    Reads the footprints ``A`` (``unit_id`` x ``height`` x ``width``), the
    traces ``C`` (``unit_id`` x ``frame``) and, for events, ``S``, lazily
    with xarray and Dask: from the folder ``save_minian`` writes (one
    ``A.zarr``, ``C.zarr``, ``S.zarr`` store per variable) or from one Zarr
    dataset holding them. The ``height`` and ``width`` coordinates are the
    pixel indices of the frame the footprints were cut from: their first
    values move the cell set's top-left corner, so the footprints of a cropped
    analysis stay where they were in the movie.

    Minian saves no frame rate: pass ``frame_rate``, ``metadata_from`` or ``timing``.

    Parameters
    ----------
    minian_dir_or_zarr : str or os.PathLike
        Minian's output folder, or a Zarr dataset with variables ``A``, ``C`` (and ``S``).
    cell_set_path : str or os.PathLike
        Output cell set, ending in ``.isxd``.
    event_set_path : str or os.PathLike, optional
        Output event set from ``S``; none is written if omitted.
    timing : Timing, optional
        Timing of the traces; overrides ``metadata_from`` and ``frame_rate``.
    spacing : Spacing, optional
        Footprint spacing (``num_pixels`` the footprints' ``(height, width)``),
        used as given; otherwise the pixel size of ``metadata_from`` (or
        3 microns) with the top-left corner moved to the crop.
    extra_properties : JSON-serialisable, optional
        The footer's ``extraProperties``; defaults to those of ``metadata_from``.
    metadata_from : str or os.PathLike, optional
        The ``.isxd`` movie Minian analysed: timing (start included), pixel
        size, top-left corner and extra properties. The cropped footprints must
        lie inside its frames.
    frame_rate, cell_names
        As in :func:`isx_dask.sources.suite2p.suite2p_to_isxd`.
    statuses : sequence, str or bool, optional
        Minian keeps no accept/reject labels: defaults to ``'undecided'``.
    event_threshold, overwrite, compute, fsync, compute_kwargs
        As in :func:`isx_dask.sources.suite2p.suite2p_to_isxd`, with ``S`` for ``spks``.

    Returns
    -------
    None or dask.delayed.Delayed
        ``None`` if ``compute`` is True.

    Raises
    ------
    FileNotFoundError
        ``minian_dir_or_zarr`` does not exist.
    IsxdFormatError
        No ``A`` (footprints) or ``C``, dimensions other than Minian's, or
        ``unit_id`` that differ between ``A``, ``C`` and ``S``.
    ValueError, TypeError, FileExistsError
        As in :func:`isx_dask.sources.suite2p.suite2p_to_isxd`; in particular no
        frame rate given.
    ImportError
        xarray or zarr is missing (``pip install "isx_dask[xarray]"``).

    See Also
    --------
    isx_dask.write_cell_set, isx_dask.write_event_set_dense

    Examples
    --------
    >>> minian_to_isxd("minian_output", "cells.isxd", "events.isxd", frame_rate=20)  # doctest: +SKIP
    """
    xr = import_optional("xarray", "xarray", "Reading Minian results")
    import_optional("zarr", "xarray", "Reading Minian results")
    import dask.array as da

    root = os.fspath(minian_dir_or_zarr)
    if not os.path.isdir(root):
        msg = f"minian_dir_or_zarr {root!r} does not exist; pass Minian's output folder (with A.zarr, C.zarr, S.zarr) or a Zarr dataset"
        raise FileNotFoundError(msg)
    threshold = check_threshold(event_threshold)
    check_outputs(cell_set_path, event_set_path, overwrite)
    footprints = _open_variable(xr, root, "A", True)
    traces = _open_variable(xr, root, "C", True)
    activity = _open_variable(xr, root, "S", True) if event_set_path is not None else None
    units = np.asarray(footprints.coords["unit_id"].values) if "unit_id" in footprints.coords else np.arange(footprints.shape[0])
    for name, var in (("C", traces), ("S", activity)):
        if var is None:
            continue
        other = np.asarray(var.coords["unit_id"].values) if "unit_id" in var.coords else np.arange(var.shape[0])
        if other.shape != units.shape or not np.array_equal(other, units):
            msg = f"{root!r}: {name} has unit_id {other[:10].tolist()} but A has {units[:10].tolist()}; they must list the same units in the same order"
            raise IsxdFormatError(msg)
    if activity is not None and activity.shape != traces.shape:
        msg = f"{root!r}: S has shape {activity.shape} but C has {traces.shape}; they must match"
        raise IsxdFormatError(msg)
    frame_shape = (int(footprints.shape[1]), int(footprints.shape[2]))
    num_samples = int(traces.shape[1])
    timing, spacing, extra_properties = resolve_metadata(
        _SOURCE, num_samples=num_samples, frame_shape=frame_shape, timing=timing, spacing=spacing,
        extra_properties=extra_properties, metadata_from=metadata_from, frame_rate=frame_rate,
        crop_offset=(0, 0) if spacing is not None else _crop_offset(footprints),
    )
    cells = footprints.data
    cells = cells.rechunk(da.core.normalize_chunks(("auto", -1, -1), cells.shape, dtype=np.float32))  # type: ignore[no-untyped-call]
    events = None if activity is None else events_from_dense(activity.data, threshold, timing)
    return write_results(
        cells, traces.data, cell_set_path, event_set_path, events, timing=timing, spacing=spacing,
        extra_properties=extra_properties, cell_names=cell_names, statuses=statuses,
        overwrite=overwrite, compute=compute, fsync=fsync, compute_kwargs=compute_kwargs,
    )
