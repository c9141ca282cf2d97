"""Compressor choices for the Zarr arrays that :func:`isx_dask.isxd_to_zarr` writes.

One job: turn what a user passes as ``compressor`` (a name, a numcodecs codec,
a ``zarr.codecs`` codec, ``False`` or None) into the ``compressors`` list that
:func:`isx_dask._zarr.create_array` takes for Zarr v2 or v3. Zarr format 2
codecs are numcodecs codecs (under zarr-python 2 and 3); format 3 codecs are
``zarr.codecs`` ones, which exist only in zarr-python 3.
"""

from __future__ import annotations

from typing import Any, cast

import numpy as np

from ._zarr import check_zarr_format, resolve_zarr_format

__all__ = ["COMPRESSOR_NAMES", "DEFAULT_CLEVEL", "check_zarr_format", "make_compressor", "zarr_compressors"]

#: Names accepted by :func:`make_compressor` (Blosc codecs, or none).
COMPRESSOR_NAMES = ("zstd", "lz4", "none")

#: Compression level used when only a name is given.
DEFAULT_CLEVEL = 5

#: numcodecs Blosc ``shuffle`` codes and their Zarr v3 names.
_SHUFFLE_NAMES = {0: "noshuffle", 1: "shuffle", 2: "bitshuffle", -1: "shuffle"}


def make_compressor(
    name: str | None = "zstd", clevel: int = DEFAULT_CLEVEL, *, dtype: Any = np.uint16, zarr_format: int | None = None
) -> Any:
    """A Blosc compressor for frames, as Zarr ``zarr_format`` takes it.

    Parameters
    ----------
    name : {'zstd', 'lz4', 'none'} or None, default 'zstd'
        Blosc codec; ``'none'`` or None for no compression.
    clevel : int, default 5
        Compression level, 0 to 9.
    dtype : numpy dtype, default numpy.uint16
        Pixel type: bit shuffle for 1- and 2-byte integers, byte shuffle otherwise.
    zarr_format : {2, 3}, optional
        Zarr format the codec is for. Defaults to the format
        :func:`isx_dask.isxd_to_zarr` writes by default: 3 under zarr-python 3,
        2 under zarr-python 2 (Python 3.10), which has no format 3 codecs.

    Returns
    -------
    numcodecs.Blosc, zarr.codecs.BloscCodec or None

    Raises
    ------
    ValueError
        An unknown ``name``, ``clevel`` outside 0..9, ``zarr_format`` not 2 or
        3, or 3 under zarr-python 2.

    Examples
    --------
    >>> make_compressor("lz4", 3, zarr_format=2)
    Blosc(cname='lz4', clevel=3, shuffle=BITSHUFFLE, blocksize=0)
    """
    zarr_format = resolve_zarr_format(zarr_format)
    if name is None or name == "none":
        return None
    if name not in COMPRESSOR_NAMES:
        msg = f"compressor must be one of {', '.join(map(repr, COMPRESSOR_NAMES))}, got {name!r}"
        raise ValueError(msg)
    if isinstance(clevel, bool) or not isinstance(clevel, (int, np.integer)) or not 0 <= clevel <= 9:
        msg = f"clevel must be an integer from 0 to 9, got {clevel!r}"
        raise ValueError(msg)
    dt = np.dtype(dtype)
    bit = dt.kind in "iu" and dt.itemsize <= 2
    if zarr_format == 2:
        from numcodecs import Blosc  # type: ignore[import-untyped]

        return Blosc(cname=name, clevel=int(clevel), shuffle=Blosc.BITSHUFFLE if bit else Blosc.SHUFFLE)
    from zarr.codecs import BloscCodec

    shuffle = "bitshuffle" if bit else "shuffle"
    return BloscCodec(cname=cast(Any, name), clevel=int(clevel), shuffle=cast(Any, shuffle), typesize=dt.itemsize)


def _v3_from_numcodecs(codec: Any, dtype: np.dtype[Any]) -> Any:
    """The Zarr v3 codec for a numcodecs codec (Blosc and Zstd natively, others through numcodecs.zarr3)."""
    config = codec.get_config()
    codec_id = config.pop("id")
    if codec_id == "blosc":
        from zarr.codecs import BloscCodec

        shuffle = _SHUFFLE_NAMES[int(config.get("shuffle", 1))]
        return BloscCodec(cname=config["cname"], clevel=config["clevel"], shuffle=cast(Any, shuffle), typesize=dtype.itemsize)
    if codec_id == "zstd":
        from zarr.codecs import ZstdCodec

        return ZstdCodec(level=config.get("level", 0))
    import numcodecs.zarr3  # type: ignore[import-untyped]

    wrapper = next(
        (c for c in vars(numcodecs.zarr3).values()
         if isinstance(c, type) and getattr(c, "codec_name", None) == f"numcodecs.{codec_id}"),
        None,
    )
    if wrapper is None:
        msg = f"compressor {codec!r} has no Zarr v3 codec; pass a zarr.codecs codec or zarr_format=2"
        raise TypeError(msg)
    return wrapper(**config)


def zarr_compressors(compressor: Any, clevel: int | None, dtype: np.dtype[Any], zarr_format: int) -> list[Any]:
    """The ``compressors`` argument of ``zarr.create_array`` for a user's ``compressor`` and ``clevel``.

    ``compressor`` is None (Blosc zstd), a name of :data:`COMPRESSOR_NAMES`,
    ``False`` (no compression) or a codec object; ``clevel`` applies to a name only.

    Raises
    ------
    ValueError
        An unknown name or a ``clevel`` outside 0..9, or ``clevel`` given with a codec object.
    TypeError
        A numcodecs codec with no Zarr v3 equivalent, or for Zarr format 2 a
        compressor that is not a numcodecs codec.
    """
    if compressor is None or isinstance(compressor, str):
        level = DEFAULT_CLEVEL if clevel is None else clevel
        codec = make_compressor(compressor or "zstd", level, dtype=dtype, zarr_format=zarr_format)
        return [] if codec is None else [codec]
    if clevel is not None:
        msg = f"clevel applies to a compressor name ({', '.join(COMPRESSOR_NAMES)}); got clevel={clevel!r} with the codec {compressor!r}"
        raise ValueError(msg)
    if compressor is False:
        return []
    from numcodecs.abc import Codec  # type: ignore[import-untyped]

    if zarr_format == 3 and isinstance(compressor, Codec):
        return [_v3_from_numcodecs(compressor, dtype)]
    if zarr_format == 2 and not isinstance(compressor, Codec):
        msg = (f"compressor for zarr_format=2 must be a name ({', '.join(COMPRESSOR_NAMES)}), False or a numcodecs "
               f"codec such as numcodecs.Blosc(); got {compressor!r}")
        raise TypeError(msg)
    return [compressor]
