"""Zarr <-> ``.isxd``: convert movies and cell sets both ways, chunk by chunk.

Attribute convention
--------------------
A Zarr group (or array) written by :func:`isxd_to_zarr` carries the
``.isxd`` footer, without ``producer``, in its attributes under the key
``"isxd"``::

    {"isxd": {"type": 0, "timingInfo": {...}, "spacingInfo": {...},
              "extraProperties": ..., "dataType": 0, ...}}

exactly as the footer stores them, so that ``isxd -> zarr -> isxd`` gives the
same metadata back. Movies and images keep their frames in the array
``frames`` (``(num_samples, rows, cols)``, zeros at dropped, cropped and
blank frames); cell sets keep ``footprints`` (``(num_cells, rows, cols)``)
and ``traces`` (``(num_cells, num_samples)``), with names and statuses in the
footer's ``CellNames`` / ``CellStatuses``. Movie groups also carry OME-Zarr
``multiscales`` metadata (NGFF 0.4 for Zarr v2, 0.5 for Zarr v3) so that
OME-Zarr viewers open them.

:func:`zarr_to_isxd` reads that convention, and also OME-Zarr (NGFF 0.4 and
0.5) images: the level-0 dataset, with the pixel size and the period taken
from its ``scale`` transformation and the top-left corner from its
``translation``.
"""

from __future__ import annotations

import math
import os
import shutil
import uuid
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Literal, Mapping, cast

import numpy as np

from .layout import DataSetType
from .metadata import Duration, Spacing, Timing

if TYPE_CHECKING:
    from dask.delayed import Delayed

__all__ = ["ATTRS_KEY", "isxd_to_zarr", "make_compressor", "zarr_to_isxd"]

PathLike = str | os.PathLike[str]

#: Attribute key holding the ``.isxd`` footer (without ``producer``) in a Zarr group or array.
ATTRS_KEY = "isxd"

#: Default target size of one Zarr chunk, in bytes (uncompressed).
CHUNK_NBYTES = 16 * 2**20

_SPACE_UNITS_UM = {
    "angstrom": Fraction(1, 10_000),
    "picometer": Fraction(1, 1_000_000),
    "nanometer": Fraction(1, 1000),
    "micrometer": Fraction(1),
    "micron": Fraction(1),
    "millimeter": Fraction(1000),
    "centimeter": Fraction(10_000),
    "meter": Fraction(1_000_000),
}
_TIME_UNITS_S = {
    "nanosecond": Fraction(1, 10**9),
    "microsecond": Fraction(1, 10**6),
    "millisecond": Fraction(1, 1000),
    "second": Fraction(1),
    "minute": Fraction(60),
    "hour": Fraction(3600),
}
_STATUS_NAMES = {0: "accepted", 1: "undecided", 2: "rejected"}
_EXPLICIT_HINT = (
    "pass timing=isx_dask.Timing(...) and spacing=isx_dask.Spacing(...) explicitly "
    "(on the command line: --period and --pixel-size)"
)


# -- compressors -------------------------------------------------------------------------------


def make_compressor(name: str | None = "zstd", clevel: int = 5, *, dtype: Any = np.uint16, zarr_format: int = 3) -> Any:
    """A Blosc compressor for frames, as Zarr ``zarr_format`` takes it.

    Parameters
    ----------
    name : {'zstd', 'lz4', 'none'} or None, default 'zstd'
        Blosc codec; ``'none'`` or None for no compression.
    clevel : int, default 5
        Compression level, 0 to 9.
    dtype : numpy dtype, default numpy.uint16
        Pixel type: bit shuffle for 1- and 2-byte integers, byte shuffle otherwise.
    zarr_format : {2, 3}, default 3
        Zarr format the codec is for.

    Returns
    -------
    numcodecs.Blosc, zarr.codecs.BloscCodec or None

    Raises
    ------
    ValueError
        An unknown ``name``, ``clevel`` outside 0..9 or ``zarr_format`` not 2 or 3.
    """
    if zarr_format not in (2, 3):
        msg = f"zarr_format must be 2 or 3, got {zarr_format!r}"
        raise ValueError(msg)
    if name is None or name == "none":
        return None
    if name not in ("zstd", "lz4"):
        msg = f"compressor must be 'zstd', 'lz4' or 'none', got {name!r}"
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

    return BloscCodec(cname=cast(Any, name), clevel=int(clevel), shuffle="bitshuffle" if bit else "shuffle", typesize=dt.itemsize)


def _compressors(compressor: Any, dtype: np.dtype[Any], zarr_format: int) -> Any:
    """The ``compressors`` argument of ``zarr.create_array`` for a user's ``compressor``."""
    if compressor is None:
        return [make_compressor("zstd", 5, dtype=dtype, zarr_format=zarr_format)]
    if isinstance(compressor, str):
        codec = make_compressor(compressor, 5, dtype=dtype, zarr_format=zarr_format)
        return [] if codec is None else [codec]
    if compressor is False:
        return []
    from numcodecs.abc import Codec  # type: ignore[import-untyped]

    if zarr_format == 3 and isinstance(compressor, Codec):
        import numcodecs.zarr3  # type: ignore[import-untyped]

        config = compressor.get_config()
        codec_id = config.pop("id")
        wrapper = next((c for c in vars(numcodecs.zarr3).values()
                        if isinstance(c, type) and getattr(c, "codec_name", None) == f"numcodecs.{codec_id}"), None)
        if codec_id == "blosc":
            from zarr.codecs import BloscCodec

            shuffle = {0: "noshuffle", 1: "shuffle", 2: "bitshuffle", -1: "shuffle"}[int(config.get("shuffle", 1))]
            return [BloscCodec(cname=config["cname"], clevel=config["clevel"], shuffle=cast(Any, shuffle), typesize=dtype.itemsize)]
        if codec_id == "zstd":
            from zarr.codecs import ZstdCodec

            return [ZstdCodec(level=config.get("level", 0))]
        if wrapper is None:
            msg = f"compressor {compressor!r} has no Zarr v3 codec; pass a zarr.codecs codec or zarr_format=2"
            raise TypeError(msg)
        return [wrapper(**config)]
    return [compressor]


# -- opening Zarr ------------------------------------------------------------------------------


def _open_zarr(source: Any, storage_options: Mapping[str, Any] | None) -> Any:
    """A zarr Array or Group for ``source`` (object, path or URL), read-only."""
    import zarr

    if isinstance(source, (zarr.Array, zarr.Group)):
        return source
    if not isinstance(source, (str, os.PathLike)):
        msg = f"source must be a zarr.Array, a zarr.Group, a path or a URL, got {type(source).__name__}"
        raise TypeError(msg)
    text = os.fspath(source)
    if "://" not in text and not os.path.exists(text):
        msg = f"source {text!r} does not exist"
        raise FileNotFoundError(msg)
    try:
        return zarr.open(text, mode="r", storage_options=dict(storage_options) if storage_options else None)
    except FileNotFoundError:
        msg = f"source {text!r} does not exist or holds no Zarr array or group"
        raise FileNotFoundError(msg) from None
    except (ValueError, TypeError, KeyError) as err:
        msg = f"source {text!r} could not be opened as Zarr: {err}"
        raise ValueError(msg) from None
    except OSError as err:
        msg = f"source {text!r} could not be reached: {err}"
        raise OSError(msg) from None


def _attrs(node: Any) -> dict[str, Any]:
    return dict(node.attrs.asdict()) if hasattr(node.attrs, "asdict") else dict(node.attrs)


def _multiscales(attrs: Mapping[str, Any]) -> Any:
    """OME-Zarr multiscales metadata (NGFF 0.4 at the top level, 0.5 under ``ome``), or None."""
    if "multiscales" in attrs:
        return attrs["multiscales"]
    ome = attrs.get("ome")
    if isinstance(ome, Mapping) and "multiscales" in ome:
        return ome["multiscales"]
    return None


def _scale_and_translation(transforms: Any, ndim: int, where: str) -> tuple[list[float], list[float]]:
    scale, translation = [1.0] * ndim, [0.0] * ndim
    for t in transforms or []:
        kind = t.get("type") if isinstance(t, Mapping) else None
        if kind == "identity":
            continue
        values = t.get(kind) if kind in ("scale", "translation") else None
        if values is None or len(values) != ndim:
            msg = (f"{where} coordinateTransformations entry {t!r} is not a 'scale' or 'translation' "
                   f"with {ndim} values (a 'path' to a file is not supported); {_EXPLICIT_HINT}")
            raise ValueError(msg)
        if kind == "scale":
            scale = [a * float(b) for a, b in zip(scale, values)]
        else:
            translation = [a + float(b) for a, b in zip(translation, values)]
    return scale, translation


def _ome_metadata(multiscales: Any, group: Any, name: str) -> tuple[Any, Timing | None, Spacing | None, list[int]]:
    """Level-0 array, timing, spacing and the axes to squeeze, from OME-Zarr multiscales."""
    if not isinstance(multiscales, list) or not multiscales or not isinstance(multiscales[0], Mapping):
        msg = f"{name}: attribute 'multiscales' must be a non-empty list of objects (OME-Zarr), got {multiscales!r}"
        raise ValueError(msg)
    ms = multiscales[0]
    try:
        dataset = ms["datasets"][0]
        path = dataset["path"]
    except (KeyError, IndexError, TypeError):
        msg = f"{name}: OME-Zarr multiscales has no datasets[0].path; expected the path of the level-0 array"
        raise ValueError(msg) from None
    try:
        array = group[path]
    except KeyError:
        msg = f"{name}: OME-Zarr level-0 dataset {path!r} is not in the group"
        raise ValueError(msg) from None
    axes = ms.get("axes")
    if axes is None:
        msg = f"{name}: OME-Zarr multiscales has no 'axes'; {_EXPLICIT_HINT}"
        raise ValueError(msg)
    names = [str(a.get("name")) if isinstance(a, Mapping) else str(a) for a in axes]
    if len(names) != array.ndim:
        msg = f"{name}: OME-Zarr axes {names} do not match the {array.ndim} dimensions of dataset {path!r}"
        raise ValueError(msg)
    squeeze = []
    for k, axis in enumerate(names):
        if axis not in ("t", "y", "x"):
            if array.shape[k] == 1:
                squeeze.append(k)
                continue
            msg = (f"{name}: OME-Zarr axes ({', '.join(names)}) cannot map to (t, y, x): axis {axis!r} has "
                   f"{array.shape[k]} elements (only singleton axes other than t, y, x can be dropped); "
                   f"select one {axis} with isx_dask.write_movie(dask.array.from_zarr(array)[...], path, "
                   f"timing=..., spacing=...), passing timing= and spacing= explicitly")
            raise ValueError(msg)
    kept = [a for k, a in enumerate(names) if k not in squeeze]
    if kept not in (["t", "y", "x"], ["y", "x"]):
        msg = (f"{name}: OME-Zarr axes ({', '.join(names)}) cannot map to (t, y, x); expected t, y and x in that order "
               f"(other axes must be singletons); pass an array with axes (t, y, x) and {_EXPLICIT_HINT}")
        raise ValueError(msg)
    scale, translation = _scale_and_translation(ms.get("coordinateTransformations"), len(names), f"{name}: multiscales")
    s0, t0 = _scale_and_translation(dataset.get("coordinateTransformations"), len(names), f"{name}: datasets[0]")
    scale = [a * b for a, b in zip(scale, s0)]
    translation = [a * s + b for a, s, b in zip(translation, s0, t0)]
    axis_info = {a.get("name"): a for a in axes if isinstance(a, Mapping)}

    def unit_factor(axis: str, table: dict[str, Fraction], default: str) -> Fraction:
        unit = axis_info.get(axis, {}).get("unit", default) or default
        if unit not in table:
            msg = (f"{name}: OME-Zarr axis {axis!r} has unit {unit!r}; expected one of {', '.join(table)}; "
                   f"{_EXPLICIT_HINT}")
            raise ValueError(msg)
        return table[unit]

    def rational(value: float, factor: Fraction) -> Fraction:
        return Fraction(value).limit_denominator(10**9) * factor

    iy, ix = names.index("y"), names.index("x")
    fy, fx = unit_factor("y", _SPACE_UNITS_UM, "micrometer"), unit_factor("x", _SPACE_UNITS_UM, "micrometer")
    pixel_size = (rational(scale[iy], fy), rational(scale[ix], fx))
    if pixel_size[0] <= 0 or pixel_size[1] <= 0:
        msg = f"{name}: OME-Zarr scale gives pixel size {pixel_size} um; expected > 0; {_EXPLICIT_HINT}"
        raise ValueError(msg)
    spacing = Spacing(num_pixels=(array.shape[iy], array.shape[ix]), pixel_size=pixel_size,
                      top_left=(rational(translation[iy], fy), rational(translation[ix], fx)))
    timing = None
    if "t" in names:
        it = names.index("t")
        period = rational(scale[it], unit_factor("t", _TIME_UNITS_S, "second"))
        if period <= 0:
            msg = f"{name}: OME-Zarr scale gives a period of {float(period)} s for axis 't'; expected > 0; {_EXPLICIT_HINT}"
            raise ValueError(msg)
        timing = Timing(num_samples=array.shape[it], period=Duration(period.numerator, period.denominator))
    return array, timing, spacing, squeeze


def _is_ome_image(spacing: Spacing | None, timing: Timing | None, footer: Any) -> bool:
    """Whether a 2-D array came from OME-Zarr (y, x) metadata, and so is one image."""
    return spacing is not None and timing is None and footer is None


def _footer_attrs(attrs: Mapping[str, Any], name: str) -> dict[str, Any] | None:
    footer = attrs.get(ATTRS_KEY)
    if footer is None:
        return None
    if not isinstance(footer, Mapping):
        msg = f"{name}: attribute {ATTRS_KEY!r} must be an object holding the .isxd footer, got {footer!r}"
        raise ValueError(msg)
    return dict(footer)


def _parse_attr(parse: Any, footer: Mapping[str, Any], key: str, name: str) -> Any:
    try:
        return parse(footer[key])
    except (KeyError, TypeError, ValueError) as err:
        reason = f"missing key {err.args[0]!r}" if isinstance(err, KeyError) else str(err)
        msg = f"{name}: attribute {ATTRS_KEY}.{key} is not valid ({reason}); fix it or {_EXPLICIT_HINT}"
        raise ValueError(msg) from None


# -- Zarr -> isxd ------------------------------------------------------------------------------


def zarr_to_isxd(
    source: Any,
    path: PathLike,
    *,
    timing: Timing | None = None,
    spacing: Spacing | None = None,
    dtype: Any = None,
    extra_properties: Any = None,
    storage_options: Mapping[str, Any] | None = None,
    overwrite: bool = False,
    compute: bool = True,
    **compute_kwargs: Any,
) -> Delayed | None:
    """Convert a Zarr movie (or cell set) to an ``.isxd`` file, chunk by chunk.

    Parameters
    ----------
    source : zarr.Array, zarr.Group, str or os.PathLike
        A Zarr v2 or v3 array or group, or its local path or fsspec URL. A
        group is read as, in this order: the ``isxd`` convention of
        :func:`isxd_to_zarr` (array ``frames``, or ``footprints`` and
        ``traces`` for a cell set); OME-Zarr multiscales (level 0); its only
        array. A ``(num_samples, rows, cols)`` array is a movie.
    path : str or os.PathLike
        Output ``.isxd`` file.
    timing : Timing, optional
        Overrides the timing from the attributes. Without either, 50 ms
        samples starting at the epoch.
    spacing : Spacing, optional
        Overrides the spacing from the attributes. Without either, 3-micron pixels.
    dtype : {numpy.uint16, numpy.float32, numpy.uint8}, optional
        Pixel type to store when the array's dtype is not one of these.
    extra_properties : JSON-serialisable, optional
        Overrides ``extraProperties`` from the attributes.
    storage_options : dict, optional
        Passed to fsspec when ``source`` is a URL.
    overwrite : bool, default False
        Replace an existing ``path`` once the new file is complete.
    compute : bool, default True
        If False, return a :class:`dask.delayed.Delayed` that writes the file.
    **compute_kwargs
        Passed to ``dask.compute`` (for example ``scheduler='processes'``).

    Returns
    -------
    None or dask.delayed.Delayed
        ``None`` if ``compute`` is True.

    Raises
    ------
    FileNotFoundError
        ``source`` does not exist, or the parent directory of ``path`` does not.
    FileExistsError
        ``path`` exists and ``overwrite`` is False.
    OSError
        ``source`` is a URL that cannot be reached.
    ValueError
        Wrong rank, OME-Zarr axes that do not map to ``(t, y, x)``, or
        attributes that are malformed or contradict the array (the message
        names the attribute and how to pass the value explicitly).
    TypeError
        A dtype that ``.isxd`` cannot store (pass ``dtype=``).

    Examples
    --------
    >>> zarr_to_isxd("recording.ome.zarr", "recording.isxd")  # doctest: +SKIP
    """
    import dask.array as da
    import zarr

    from .target import check_output_path
    from .writers import write_movie

    node = _open_zarr(source, storage_options)
    name = "Zarr source" if hasattr(source, "attrs") else f"Zarr source {os.fspath(source)!r}"
    attrs = _attrs(node)
    footer = _footer_attrs(attrs, name)
    squeeze: list[int] = []
    attr_timing: Timing | None = None
    attr_spacing: Spacing | None = None
    if isinstance(node, zarr.Group):
        members = {k: v for k, v in node.arrays()}
        if footer is not None and footer.get("type") == DataSetType.CELL_SET:
            return _zarr_cell_set_to_isxd(node, members, footer, path, name, timing=timing, spacing=spacing,
                                          extra_properties=extra_properties, overwrite=overwrite,
                                          compute=compute, **compute_kwargs)
        multiscales = _multiscales(attrs)
        if footer is not None and "frames" in members:
            array = members["frames"]
        elif multiscales is not None:
            array, attr_timing, attr_spacing, squeeze = _ome_metadata(multiscales, node, name)
        elif len(members) == 1:
            array = next(iter(members.values()))
        else:
            msg = (f"{name} is a group with arrays {sorted(members) or 'none'}; expected an 'isxd' group with a "
                   f"'frames' array, OME-Zarr multiscales, or exactly one array; pass the array itself")
            raise ValueError(msg)
        footer = footer if footer is not None else _footer_attrs(_attrs(array), name)
    else:
        array = node
    if footer is not None:
        kind = footer.get("type")
        if kind not in (DataSetType.MOVIE, DataSetType.IMAGE):
            msg = f"{name}: attribute {ATTRS_KEY}.type is {kind!r}; expected 0 (movie), 4 (image) or 1 (cell set)"
            raise ValueError(msg)
        if timing is None:
            attr_timing = _parse_attr(Timing.from_dict, footer, "timingInfo", name)
        if spacing is None:
            attr_spacing = _parse_attr(Spacing.from_dict, footer, "spacingInfo", name)
        if extra_properties is None:
            extra_properties = footer.get("extraProperties")
    ndim = array.ndim - len(squeeze)
    single_image = ndim == 2 and _is_ome_image(attr_spacing, attr_timing, footer)
    if ndim != 3 and not single_image:
        msg = (f"{name}: array has shape {tuple(array.shape)} ({array.ndim} dimensions); expected 3 dimensions "
               f"(num_samples, rows, cols) for a movie")
        raise ValueError(msg)
    if dtype is None and np.dtype(array.dtype).kind + str(np.dtype(array.dtype).itemsize) not in ("u2", "f4", "u1"):
        msg = (f"{name}: array has dtype {array.dtype}, which .isxd movies cannot store (uint16, float32 or uint8); "
               f"pass dtype=numpy.float32 or dtype=numpy.uint16 (on the command line: --dtype)")
        raise TypeError(msg)
    frames = da.from_zarr(array)  # type: ignore[no-untyped-call]
    if squeeze:
        frames = frames.squeeze(axis=tuple(squeeze))
    if frames.ndim == 2:
        frames = frames[None]
        attr_timing = Timing(num_samples=1)
    timing = timing if timing is not None else attr_timing
    spacing = spacing if spacing is not None else attr_spacing
    if timing is not None and timing.num_samples != frames.shape[0]:
        where = "timing" if timing is not attr_timing else f"attribute {ATTRS_KEY}.timingInfo.numTimes"
        msg = (f"{name}: {where} has {timing.num_samples} samples but the array has {frames.shape[0]} frames; "
               f"{_EXPLICIT_HINT}")
        raise ValueError(msg)
    if spacing is not None and tuple(spacing.num_pixels) != tuple(frames.shape[1:]):
        where = "spacing" if spacing is not attr_spacing else f"attribute {ATTRS_KEY}.spacingInfo.numPixels"
        msg = (f"{name}: {where} is {tuple(spacing.num_pixels)} (rows, cols) but the frames are "
               f"{tuple(frames.shape[1:])}; {_EXPLICIT_HINT}")
        raise ValueError(msg)
    check_output_path(path, overwrite)
    result: Delayed | None = write_movie(
        frames, path, timing=timing, spacing=spacing, dtype=dtype, casting="unsafe" if dtype is not None else "same_kind",
        extra_properties=extra_properties, overwrite=overwrite, compute=compute, **compute_kwargs,
    )
    return result


def _zarr_cell_set_to_isxd(group: Any, members: Mapping[str, Any], footer: Mapping[str, Any], path: PathLike,
                           name: str, *, timing: Timing | None, spacing: Spacing | None, extra_properties: Any,
                           overwrite: bool, compute: bool, **compute_kwargs: Any) -> Delayed | None:
    import dask.array as da

    from .writers import write_cell_set

    for key, rank in (("footprints", 3), ("traces", 2)):
        if key not in members:
            msg = f"{name}: a cell set group needs an array {key!r}; it has {sorted(members)}"
            raise ValueError(msg)
        if members[key].ndim != rank:
            msg = f"{name}: array {key!r} has shape {tuple(members[key].shape)}; expected {rank} dimensions"
            raise ValueError(msg)
    timing = timing if timing is not None else _parse_attr(Timing.from_dict, footer, "timingInfo", name)
    spacing = spacing if spacing is not None else _parse_attr(Spacing.from_dict, footer, "spacingInfo", name)
    names = footer.get("CellNames")
    codes = footer.get("CellStatuses")
    try:
        statuses = None if codes is None else [_STATUS_NAMES[int(c)] for c in codes]
    except (KeyError, TypeError, ValueError):
        msg = f"{name}: attribute {ATTRS_KEY}.CellStatuses must hold 0 (accepted), 1 (undecided) or 2 (rejected), got {codes!r}"
        raise ValueError(msg) from None
    if extra_properties is None:
        extra_properties = footer.get("extraProperties")
    footprints: Any = da.from_zarr(members["footprints"])  # type: ignore[no-untyped-call]
    traces: Any = da.from_zarr(members["traces"])  # type: ignore[no-untyped-call]
    writer: Any = write_cell_set
    result: Delayed | None = writer(footprints, traces, path, timing=timing, spacing=spacing, names=names,
                                    statuses=statuses, extra_properties=extra_properties, overwrite=overwrite,
                                    compute=compute, **compute_kwargs)
    return result


# -- isxd -> Zarr ------------------------------------------------------------------------------


def _ome_attrs(footer: Mapping[str, Any], zarr_format: int) -> dict[str, Any]:
    """OME-Zarr multiscales metadata for a ``frames`` array of ``(t, y, x)``."""
    timing = Timing.from_dict(footer["timingInfo"])
    spacing = Spacing.from_dict(footer["spacingInfo"])
    version = "0.4" if zarr_format == 2 else "0.5"
    multiscales = [{
        **({"version": version} if zarr_format == 2 else {}),
        "name": "frames",
        "axes": [
            {"name": "t", "type": "time", "unit": "second"},
            {"name": "y", "type": "space", "unit": "micrometer"},
            {"name": "x", "type": "space", "unit": "micrometer"},
        ],
        "datasets": [{
            "path": "frames",
            "coordinateTransformations": [
                {"type": "scale", "scale": [timing.period.secs_float, float(spacing.pixel_size[0]), float(spacing.pixel_size[1])]},
                {"type": "translation", "translation": [0.0, float(spacing.top_left[0]), float(spacing.top_left[1])]},
            ],
        }],
    }]
    if zarr_format == 2:
        return {"multiscales": multiscales}
    return {"ome": {"version": version, "multiscales": multiscales}}


def _check_target(target: Any, overwrite: bool, storage_options: Mapping[str, Any] | None) -> str | None:
    """The local path of ``target`` (None for a URL), after checking it can be written."""
    if not isinstance(target, (str, os.PathLike)):
        msg = f"target must be a path or a URL, got {type(target).__name__}"
        raise TypeError(msg)
    text = os.fspath(target)
    if "://" in text:
        import fsspec  # type: ignore[import-untyped]

        fs, root = fsspec.core.url_to_fs(text, **dict(storage_options or {}))
        if fs.exists(root) and not overwrite:
            msg = f"target {text!r} exists; pass overwrite=True (on the command line: --overwrite) to replace it"
            raise FileExistsError(msg)
        return None
    parent = os.path.dirname(os.path.abspath(text))
    if not os.path.isdir(parent):
        msg = f"the directory of target {text!r} does not exist: {parent!r}"
        raise FileNotFoundError(msg)
    if os.path.lexists(text) and not overwrite:
        msg = f"target {text!r} exists; pass overwrite=True (on the command line: --overwrite) to replace it"
        raise FileExistsError(msg)
    return text


def _default_chunks(shape: tuple[int, ...], itemsize: int) -> tuple[int, ...]:
    per_row = max(1, math.prod(shape[1:]) * itemsize)
    return (max(1, min(shape[0], CHUNK_NBYTES // per_row)), *shape[1:])


def _check_chunks(chunks: Any, shape: tuple[int, ...], itemsize: int, name: str) -> tuple[int, ...]:
    if chunks is None:
        return _default_chunks(shape, itemsize) if shape[0] else (1, *shape[1:])
    if isinstance(chunks, (int, np.integer)) and not isinstance(chunks, bool):
        chunks = (int(chunks), *shape[1:])
    chunks = tuple(chunks)
    if len(chunks) != len(shape) or not all(isinstance(c, (int, np.integer)) and not isinstance(c, bool) and c > 0 for c in chunks):
        msg = f"chunks must be a positive int (along {name}) or {len(shape)} positive ints, got {chunks!r}"
        raise ValueError(msg)
    return tuple(min(int(c), max(1, s)) for c, s in zip(chunks, shape))


def _finish(_: Any, partial: str | None, target: str | None) -> None:
    if partial is None or target is None:
        return
    if os.path.lexists(target):
        old = f"{target}.old-{uuid.uuid4().hex[:8]}"
        os.rename(target, old)
        os.rename(partial, target)
        shutil.rmtree(old, ignore_errors=True) if os.path.isdir(old) else os.remove(old)
    else:
        os.rename(partial, target)


def isxd_to_zarr(
    path: PathLike,
    target: PathLike,
    *,
    chunks: Any = None,
    compressor: Any = None,
    zarr_format: int = 3,
    overwrite: bool = False,
    compute: bool = True,
    storage_options: Mapping[str, Any] | None = None,
    **compute_kwargs: Any,
) -> Delayed | None:
    """Convert an ``.isxd`` movie, image or cell set to a Zarr group, chunk by chunk.

    The footer (all but ``producer``) is stored in the group's attributes under
    ``"isxd"``, so :func:`zarr_to_isxd` gives back a file whose data section is
    byte-identical. Movies get an array ``frames`` with every time index
    (zeros at dropped, cropped and blank frames) and OME-Zarr metadata; cell
    sets get ``footprints`` and ``traces``.

    Parameters
    ----------
    path : str or os.PathLike
        The ``.isxd`` file.
    target : str or os.PathLike
        Zarr group to create: a local path or an fsspec URL.
    chunks : int or tuple of int, optional
        Zarr chunks: an int is the number of frames (or cells) per chunk.
        Defaults to about 16 MiB per chunk, whole frames.
    compressor : str, numcodecs codec or zarr codec, optional
        ``'zstd'``, ``'lz4'``, ``'none'`` or a codec (see :func:`make_compressor`).
        Defaults to Blosc zstd level 5 with bit shuffle for uint16 frames.
    zarr_format : {2, 3}, default 3
        Zarr format to write.
    overwrite : bool, default False
        Replace an existing ``target`` (a local one only once the new group is complete).
    compute : bool, default True
        If False, return a :class:`dask.delayed.Delayed` that writes the group.
    storage_options : dict, optional
        Passed to fsspec when ``target`` is a URL.
    **compute_kwargs
        Passed to ``dask.compute``.

    Returns
    -------
    None or dask.delayed.Delayed
        ``None`` if ``compute`` is True.

    Raises
    ------
    FileNotFoundError
        ``path`` or the parent directory of ``target`` does not exist.
    FileExistsError
        ``target`` exists and ``overwrite`` is False.
    IsxdFormatError
        ``path`` is not a committed ``.isxd`` file.
    NotImplementedError
        Types other than movie, image and cell set.
    ValueError
        Bad ``chunks``, ``compressor`` or ``zarr_format``.

    Examples
    --------
    >>> isxd_to_zarr("movie.isxd", "movie.zarr")  # doctest: +SKIP
    """
    import dask.array as da
    import zarr
    from dask.base import compute as dask_compute
    from dask.delayed import delayed

    from .readers import open_isxd

    if zarr_format not in (2, 3):
        msg = f"zarr_format must be 2 or 3, got {zarr_format!r}"
        raise ValueError(msg)
    source = open_isxd(path)
    footer = {k: v for k, v in source.metadata.items() if k != "producer"}
    kind = source.type
    if kind in (DataSetType.MOVIE, DataSetType.IMAGE):
        if source.has_frame_header_footer:  # type: ignore[attr-defined]
            msg = (f"{os.fspath(path)!r} stores sensor frame headers and footers, which Zarr conversion does not keep; "
                   f"convert the frames with isx_dask.write_movie(open_isxd(path).frames, ...) if they are not needed")
            raise NotImplementedError(msg)
        shape = source.shape  # type: ignore[attr-defined]
        dtype = source.dtype  # type: ignore[attr-defined]
        zchunks = _check_chunks(chunks, shape, dtype.itemsize, "time")
        arrays = {"frames": (source.to_dask(chunks=zchunks), zchunks)}  # type: ignore[attr-defined]
        extra_attrs = _ome_attrs(footer, zarr_format)
    elif kind == DataSetType.CELL_SET:
        n = source.num_cells  # type: ignore[attr-defined]
        fshape = (n, *source.layout.footprint_shape)  # type: ignore[attr-defined]
        tshape = (n, source.timing.num_samples)
        fchunks = _check_chunks(chunks, fshape, 4, "cells")
        tchunks = _check_chunks(fchunks[0], tshape, 4, "cells")
        arrays = {
            "footprints": (source.footprints_to_dask(chunks=fchunks), fchunks),  # type: ignore[attr-defined]
            "traces": (source.traces_to_dask(chunks=tchunks), tchunks),  # type: ignore[attr-defined]
        }
        extra_attrs = {}
    else:
        msg = f"converting {kind.name} files to Zarr is not supported; only movies, images and cell sets are"
        raise NotImplementedError(msg)
    for data, _ in arrays.values():
        _compressors(compressor, data.dtype, zarr_format)
    local = _check_target(target, overwrite, storage_options)
    store_path = local if local is None else f"{local}.partial-{uuid.uuid4().hex[:8]}"
    fmt = cast(Literal[2, 3], zarr_format)
    group = zarr.open_group(store_path if local is not None else os.fspath(target), mode="w", zarr_format=fmt,
                            storage_options=None if local is not None else dict(storage_options or {}) or None)
    try:
        group.attrs.update({ATTRS_KEY: footer, **extra_attrs})
        sources: list[Any] = []
        targets: list[Any] = []
        for key, (data, zchunks) in arrays.items():
            names: Any = ("t", "y", "x") if key == "frames" and zarr_format == 3 else None
            out = group.create_array(key, shape=data.shape, dtype=data.dtype, chunks=zchunks,
                                     compressors=_compressors(compressor, data.dtype, zarr_format),
                                     fill_value=0, dimension_names=names)
            sources.append(data)
            targets.append(out)
        stored = da.store(sources, targets, lock=False, compute=False)
    except BaseException:
        if local is not None:
            shutil.rmtree(store_path, ignore_errors=True)  # type: ignore[arg-type]
        raise
    done: Delayed = delayed(_finish)(stored, store_path, local)
    if not compute:
        return done
    try:
        dask_compute(done, **compute_kwargs)  # type: ignore[no-untyped-call]
    except BaseException:
        if local is not None:
            shutil.rmtree(store_path, ignore_errors=True)  # type: ignore[arg-type]
        raise
    return None
