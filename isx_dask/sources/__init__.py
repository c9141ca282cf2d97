"""Sources: the field's other formats, read lazily and written as ``.isxd`` through the writers.

One module per source format. Each turns its files into Dask arrays plus
:class:`~isx_dask.Timing` / :class:`~isx_dask.Spacing` and hands them to the
bulk writers, so every conversion is out of core and goes through the one
store path. Optional readers (tifffile, PyAV, h5py, xarray) are imported only
when a converter that needs them is called.

Recordings to movies: :func:`tiff_to_isxd`, :func:`miniscope_to_isxd`,
:func:`caiman_mmap_to_isxd`, :func:`series_to_isxd`, :func:`deinterleave_movie`.
Analysis results to cell and event sets: :func:`suite2p_to_isxd`,
:func:`caiman_to_isxd`, :func:`minian_to_isxd`, :func:`cnmfe_to_isxd`.
"""

from .caiman import caiman_to_isxd
from .caiman_mmap import caiman_mmap_to_isxd
from .cnmfe import cnmfe_to_isxd
from .minian import minian_to_isxd
from .miniscope import miniscope_to_isxd
from .series import deinterleave_movie, series_to_isxd
from .suite2p import suite2p_to_isxd
from .tiff import tiff_to_isxd

__all__ = [
    "caiman_mmap_to_isxd",
    "caiman_to_isxd",
    "cnmfe_to_isxd",
    "deinterleave_movie",
    "minian_to_isxd",
    "miniscope_to_isxd",
    "series_to_isxd",
    "suite2p_to_isxd",
    "tiff_to_isxd",
]
