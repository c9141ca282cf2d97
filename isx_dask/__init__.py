"""isx_dask: chunked, out-of-core writing of Inscopix ``.isxd`` files from NumPy and Dask.

The data path, one module per stage::

    metadata  ->  layout  ->  target  ->  writers  ->  readers  ->  convert  ->  cli
    Timing,       byte        preallocated  write_movie,  open_isxd,   Zarr <->     isx-dask
    Spacing       offsets,    file, chunk   Movie, ...    lazy Dask    .isxd
                  footer      windows,                     arrays
                              commit

Every file is written into a temporary sibling of its path, chunk by chunk
through ``dask``; the JSON footer is appended only once every chunk
has finished, and the file is then renamed into place.
"""

from .convert import isxd_to_zarr, zarr_to_isxd
from .layout import DataSetType, IsxdFormatError
from .metadata import Duration, Spacing, Time, Timing
from .readers import CellSetFile, EventSetFile, IsxdFile, MovieFile, VesselSetFile, open_isxd
from .regions import commit_movie, create_movie, discard_movie, missing_movie_frames, write_movie_region
from .writers import (
    CellSet,
    EventSet,
    Image,
    Movie,
    VesselSet,
    write_cell_set,
    write_event_set,
    write_event_set_dense,
    write_image,
    write_movie,
    write_vessel_set,
)

__version__ = "0.1.0"

__all__ = [
    # metadata
    "Duration",
    "Spacing",
    "Time",
    "Timing",
    # writers: bulk (NumPy / Dask) and incremental (the official isx API)
    "write_movie",
    "write_image",
    "write_cell_set",
    "write_event_set",
    "write_event_set_dense",
    "write_vessel_set",
    "Movie",
    "Image",
    "CellSet",
    "EventSet",
    "VesselSet",
    # independent region writes, then one commit
    "create_movie",
    "write_movie_region",
    "missing_movie_frames",
    "commit_movie",
    "discard_movie",
    # readers
    "open_isxd",
    "IsxdFile",
    "MovieFile",
    "CellSetFile",
    "EventSetFile",
    "VesselSetFile",
    # conversion
    "isxd_to_zarr",
    "zarr_to_isxd",
    # errors and codes
    "DataSetType",
    "IsxdFormatError",
    "__version__",
]
