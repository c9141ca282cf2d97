"""Inscopix CNMF-E results (the ``<movie>_output.h5`` file of ``inscopix-cnmfe``) to an Inscopix cell set."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Literal, Sequence, overload

import numpy as np

from ..layout import IsxdFormatError
from ..metadata import Spacing, Timing
from ._recording import PathLike, import_optional
from ._results import H5Array, check_outputs, lazy_traces, resolve_metadata, write_results

if TYPE_CHECKING:
    from dask.delayed import Delayed
    from typing_extensions import Unpack

    from ._results import ResultOptions

__all__ = ["cnmfe_to_isxd"]

_SOURCE = "Inscopix CNMF-E"


def _dataset(f: Any, name: str, path: str, what: str, ndim: int) -> Any:
    import h5py  # type: ignore[import-untyped]

    node = f.get(name)
    if not isinstance(node, h5py.Dataset):
        msg = f"{path} has no dataset {name!r} ({what}); is it the .h5 output of Inscopix CNMF-E (output_filetype=1)?"
        raise IsxdFormatError(msg)
    if node.ndim != ndim or node.dtype.kind not in "iuf":
        msg = f"{path}: {name} has shape {node.shape} and dtype {node.dtype}; expected {ndim} dimensions of real numbers"
        raise IsxdFormatError(msg)
    return node


@overload
def cnmfe_to_isxd(
    h5_path: PathLike, cell_set_path: PathLike, *, compute: Literal[False], **options: Unpack[ResultOptions],
) -> Delayed: ...
@overload
def cnmfe_to_isxd(
    h5_path: PathLike, cell_set_path: PathLike, *, compute: Literal[True] = ..., **options: Unpack[ResultOptions],
) -> None: ...


def cnmfe_to_isxd(
    h5_path: PathLike,
    cell_set_path: PathLike,
    *,
    timing: Timing | None = None,
    spacing: Spacing | None = None,
    extra_properties: Any = None,
    metadata_from: PathLike | None = None,
    frame_rate: Any = None,
    cell_names: Sequence[str] | None = None,
    statuses: Any = None,
    overwrite: bool = False,
    compute: bool = True,
    fsync: bool = True,
    compute_kwargs: dict[str, Any] | None = None,
) -> Delayed | None:
    """Convert the HDF5 output of Inscopix CNMF-E (``inscopix-cnmfe``) to an ``.isxd`` cell set.

    The file holds two float32 datasets that Armadillo wrote from column-major
    memory: ``traces``, shape ``(cells, frames)``, and ``footprints``, which
    h5py sees with shape ``(cells, cols, rows)`` (each footprint transposed:
    ``footprints[k].T`` is cell ``k``'s ``(rows, cols)`` image). Both are read
    chunk by chunk of cells inside the Dask tasks.

    CNMF-E saves no frame rate: pass ``frame_rate``, ``metadata_from`` (the
    movie it ran on, exported to TIFF) or ``timing``. There are no events.

    Parameters
    ----------
    h5_path : str or os.PathLike
        The ``<movie>_output.h5`` file (``output_filetype=1``).
    cell_set_path : str or os.PathLike
        Output cell set, ending in ``.isxd``.
    timing, spacing, extra_properties, metadata_from, frame_rate, cell_names
        As in :func:`isx_dask.sources.suite2p.suite2p_to_isxd`; the frame size is
        that of the footprints.
    statuses : sequence, str or bool, optional
        CNMF-E keeps no accept/reject labels: defaults to ``'undecided'``.
    overwrite, compute, fsync, compute_kwargs
        As in :func:`isx_dask.sources.suite2p.suite2p_to_isxd`.

    Returns
    -------
    None or dask.delayed.Delayed
        ``None`` if ``compute`` is True.

    Raises
    ------
    FileNotFoundError
        ``h5_path`` does not exist.
    IsxdFormatError
        No ``footprints`` or ``traces`` dataset, or cell counts that differ.
    ValueError, TypeError, FileExistsError
        As in :func:`isx_dask.sources.suite2p.suite2p_to_isxd`; in particular no
        frame rate given.
    ImportError
        h5py is missing (``pip install "isx_dask[hdf5]"``).

    See Also
    --------
    isx_dask.write_cell_set

    Examples
    --------
    >>> cnmfe_to_isxd("movie_output.h5", "cells.isxd", metadata_from="movie.isxd")  # doctest: +SKIP
    """
    h5py = import_optional("h5py", "hdf5", "Reading Inscopix CNMF-E results")
    import dask.array as da

    path = os.fspath(h5_path)
    if not os.path.isfile(path):
        msg = f"h5_path {path!r} does not exist; pass the <movie>_output.h5 file Inscopix CNMF-E wrote"
        raise FileNotFoundError(msg)
    check_outputs(cell_set_path, None, overwrite)
    try:
        f = h5py.File(path, "r")
    except OSError as err:
        msg = f"{path} is not an HDF5 file h5py can open: {err}"
        raise IsxdFormatError(msg) from err
    with f:
        stored = _dataset(f, "footprints", path, "the spatial footprints, cells x cols x rows", 3)
        trace_set = _dataset(f, "traces", path, "the temporal traces, cells x frames", 2)
        footprints_h5 = H5Array(path, "footprints", stored.shape, stored.dtype)
        traces_h5 = H5Array(path, "traces", trace_set.shape, trace_set.dtype)
    num_cells, cols, rows = footprints_h5.shape
    if traces_h5.shape[0] != num_cells:
        msg = f"{path}: footprints hold {num_cells} cells but traces hold {traces_h5.shape[0]}; they must be equal"
        raise IsxdFormatError(msg)
    frame_shape = (rows, cols)
    timing, spacing, extra_properties = resolve_metadata(
        _SOURCE, num_samples=traces_h5.shape[1], frame_shape=frame_shape, timing=timing, spacing=spacing,
        extra_properties=extra_properties, metadata_from=metadata_from, frame_rate=frame_rate,
    )
    chunks = da.core.normalize_chunks(("auto", -1, -1), footprints_h5.shape, dtype=np.float32)  # type: ignore[no-untyped-call]
    stored_cells = da.from_array(footprints_h5, chunks=chunks, asarray=True, fancy=False)  # type: ignore[no-untyped-call]
    footprints = stored_cells.transpose(0, 2, 1)
    return write_results(
        footprints, lazy_traces(traces_h5, "cnmfe-traces", footprints.chunks[0]), cell_set_path, None, None, timing=timing, spacing=spacing,
        extra_properties=extra_properties, cell_names=cell_names, statuses=statuses,
        overwrite=overwrite, compute=compute, fsync=fsync, compute_kwargs=compute_kwargs,
    )
