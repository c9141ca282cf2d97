"""Readers: open a committed ``.isxd`` file and get its metadata and lazy Dask arrays."""

from __future__ import annotations

import os

from ..layout import DataSetType
from ._file import IsxdFile, read_footer
from .movie import MovieFile
from .cell_set import CellSetFile
from .vessel_set import VesselSetFile
from .event_set import EventSetFile

__all__ = ["IsxdFile", "MovieFile", "open_isxd"]
__all__ += ["CellSetFile"]

#: Reader class per data set type; types without a dedicated reader open as IsxdFile.
READERS: dict[int, type[IsxdFile]] = {
    DataSetType.MOVIE: MovieFile,
    DataSetType.IMAGE: MovieFile,
}
READERS[DataSetType.CELL_SET] = CellSetFile
READERS[DataSetType.VESSEL_SET] = VesselSetFile
READERS[DataSetType.EVENT_SET] = EventSetFile
__all__ += ["EventSetFile"]
__all__ += ["VesselSetFile"]


def open_isxd(path: str | os.PathLike[str]) -> IsxdFile:
    """Open a committed ``.isxd`` file lazily, as the reader class of its type.

    Parameters
    ----------
    path : str or os.PathLike
        The file.

    Returns
    -------
    IsxdFile
        :class:`MovieFile` for movies and images; other types as they gain readers.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    IsxdFormatError
        If it is not a committed ``.isxd`` file.

    Examples
    --------
    >>> f = open_isxd("movie.isxd")  # doctest: +SKIP
    >>> f.frames.mean(axis=0).compute()  # doctest: +SKIP
    """
    metadata, _ = read_footer(path)
    cls = READERS.get(int(metadata["type"]), IsxdFile)
    return cls(path)
