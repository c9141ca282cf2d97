"""isx_dask: chunked, out-of-core writing of Inscopix ``.isxd`` files from NumPy and Dask.

The data path, one module per stage::

    metadata -> layout -> _io, target -> writers -> readers -> convert, sources, nwb -> cli
    Timing,     byte      OS I/O; the    write_*,   open_isxd,  Zarr, TIFF,         isx-dask
    Spacing     offsets,  temporary      Movie,     lazy Dask   Miniscope, suite2p,
                footers   file, one      CellSet..  arrays,     CaImAn, Minian,
                          store path,               xarray      CNMF-E <-> .isxd;
                          commit                                NWB export

Every file is written into a temporary sibling of its path, chunk by chunk
through ``dask``; the JSON footer is appended only once every chunk
has finished, and the file is then renamed into place.
"""

from .convert import check_source_target, isxd_to_zarr, zarr_to_isxd
from .layout import DataSetType, IsxdFormatError
from .metadata import Duration, Spacing, Time, Timing
from .nwb import isxd_to_nwb
from .official import (
    _is_with_algos,
    acquisition_info,
    get_file_extension,
    get_file_stem,
    make_output_file_path,
    make_output_file_paths,
)
from .readers import CellSetFile, EventSetFile, IsxdFile, MovieFile, VesselSetFile, open_isxd
from .readers._file import IsxdFileChangedError
from .readers.gpio import GpioSetFile
from .regions import commit_movie, create_movie, discard_movie, missing_movie_frames, write_movie_region
from .sources import (
    caiman_mmap_to_isxd,
    caiman_to_isxd,
    cnmfe_to_isxd,
    deinterleave_movie,
    minian_to_isxd,
    miniscope_to_isxd,
    series_to_isxd,
    suite2p_to_isxd,
    tiff_to_isxd,
)
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
from .writers._validate import DefaultMetadataWarning
from .writers.gpio import GpioSet, write_gpio_set, write_imu_set

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
    "write_gpio_set",
    "write_imu_set",
    "Movie",
    "Image",
    "CellSet",
    "EventSet",
    "VesselSet",
    "GpioSet",
    "DefaultMetadataWarning",
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
    "GpioSetFile",
    # conversion: Zarr both ways, the field's formats in, NWB out
    "isxd_to_zarr",
    "zarr_to_isxd",
    "tiff_to_isxd",
    "miniscope_to_isxd",
    "caiman_mmap_to_isxd",
    "series_to_isxd",
    "deinterleave_movie",
    "suite2p_to_isxd",
    "caiman_to_isxd",
    "minian_to_isxd",
    "cnmfe_to_isxd",
    "isxd_to_nwb",
    "check_source_target",
    # helpers of the official package that client code imports
    "acquisition_info",
    "get_file_extension",
    "get_file_stem",
    "make_output_file_path",
    "make_output_file_paths",
    # errors and codes
    "DataSetType",
    "IsxdFormatError",
    "IsxdFileChangedError",
    "__version__",
]
