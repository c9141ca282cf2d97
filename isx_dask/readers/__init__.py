"""Readers: open a committed ``.isxd`` file and get its metadata and lazy Dask arrays."""

from __future__ import annotations

import os

from ..layout import DataSetType, IsxdFormatError
from ._file import IsxdFile, IsxdFileChangedError, read_footer
from .cell_set import CellSetFile
from .event_set import EventSetFile
from .gpio import GpioSetFile
from .movie import MovieFile
from .vessel_set import VesselSetFile

__all__ = [
    "CellSetFile",
    "EventSetFile",
    "GpioSetFile",
    "IsxdFile",
    "IsxdFileChangedError",
    "MovieFile",
    "VesselSetFile",
    "open_isxd",
]

#: Reader class per data set type; other types open as a plain IsxdFile (footer and metadata only).
READERS: dict[int, type[IsxdFile]] = {
    DataSetType.MOVIE: MovieFile,
    DataSetType.IMAGE: MovieFile,
    DataSetType.CELL_SET: CellSetFile,
    DataSetType.EVENT_SET: EventSetFile,
    DataSetType.VESSEL_SET: VesselSetFile,
    DataSetType.GPIO: GpioSetFile,
    DataSetType.IMU: GpioSetFile,
}


def open_isxd(path: str | os.PathLike[str]) -> IsxdFile:
    """Open a committed ``.isxd`` file lazily, as the reader class of its type.

    Parameters
    ----------
    path : str or os.PathLike
        The file.

    Returns
    -------
    IsxdFile
        :class:`MovieFile` for movies and images, :class:`CellSetFile`, :class:`EventSetFile`,
        :class:`VesselSetFile`, :class:`GpioSetFile` (GPIO and IMU sets); any other type
        (behavioral movies, metrics) as a plain :class:`IsxdFile`.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    IsxdFormatError
        If it is not a committed ``.isxd`` file, its ``type`` code is not a data
        set type of the format, or its footer is malformed.

    Examples
    --------
    >>> f = open_isxd("movie.isxd")  # doctest: +SKIP
    >>> f.frames.mean(axis=0).compute()  # doctest: +SKIP
    """
    metadata, _ = read_footer(path)
    code = metadata["type"]
    if code not in set(DataSetType):
        known = ", ".join(f"{t.value} ({t.name.lower()})" for t in DataSetType)
        msg = f"{os.fspath(path)!r}: footer type {code!r} is not an .isxd data set type; expected one of {known}"
        raise IsxdFormatError(msg)
    cls = READERS.get(int(code), IsxdFile)
    return cls(path)
