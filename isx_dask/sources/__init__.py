"""Sources: the field's other formats, read lazily and written as ``.isxd`` through the writers.

One module per source format (TIFF stacks, UCLA Miniscope folders, CaImAn,
suite2p, Minian, CNMF-E). Each turns its files into Dask arrays plus
:class:`~isx_dask.Timing` / :class:`~isx_dask.Spacing` and hands them to the
bulk writers, so every conversion is out of core and goes through the one
store path.
"""
