"""isx_dask: chunked, out-of-core writing of Inscopix ``.isxd`` files from NumPy and Dask.

The data path, one module per stage::

    metadata  ->  layout  ->  target  ->  writers  ->  readers  ->  convert  ->  cli
    Timing,       byte        preallocated  write_movie,  open_isxd,   Zarr <->     isx-dask
    Spacing       offsets,    file, chunk   Movie, ...    lazy Dask    .isxd
                  footer      windows,                     arrays
                              commit

Every file is written into a temporary sibling of its path, chunk by chunk
with ``dask.array.store``; the JSON footer is appended only once every chunk
has finished, and the file is then renamed into place.
"""

from .layout import DataSetType, IsxdFormatError
from .metadata import Duration, Spacing, Time, Timing
from .readers import IsxdFile, MovieFile, open_isxd
from .writers import Image, Movie, write_image, write_movie
from .writers import CellSet, write_cell_set
from .readers import CellSetFile
from .writers import VesselSet, write_vessel_set
from .readers import VesselSetFile
from .writers import EventSet, write_event_set, write_event_set_dense
from .readers import EventSetFile

__version__ = "0.1.0"

__all__ = [
    "DataSetType",
    "Duration",
    "Image",
    "IsxdFile",
    "IsxdFormatError",
    "Movie",
    "MovieFile",
    "Spacing",
    "Time",
    "Timing",
    "__version__",
    "open_isxd",
    "write_image",
    "write_movie",
]
__all__ += ["CellSet", "CellSetFile", "write_cell_set"]
__all__ += ["VesselSet", "VesselSetFile", "write_vessel_set"]
__all__ += ["EventSet", "EventSetFile", "write_event_set", "write_event_set_dense"]
from .convert import isxd_to_zarr, zarr_to_isxd
__all__ += ["isxd_to_zarr", "zarr_to_isxd"]
