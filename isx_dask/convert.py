"""Zarr <-> ``.isxd``: convert movies, images and cell sets both ways, chunk by chunk.

This module is the dispatch: it finds what a Zarr store holds (the ``isxd``
convention below, OME-Zarr, or a plain array), resolves the metadata, and
hands Dask arrays to the writers; the other way it reads an ``.isxd`` file
lazily and stores its arrays into a new Zarr group that appears only when
complete. OME-NGFF metadata lives in :mod:`isx_dask._ome`, compressor choices
in :mod:`isx_dask._codecs`.

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

Both zarr-python 2.18 (the one pip installs on Python 3.10: Zarr format 2
only) and zarr-python 3 (formats 2 and 3) are supported; the differences
between them live in :mod:`isx_dask._zarr`.

:func:`zarr_to_isxd` reads that convention, and also OME-Zarr (NGFF 0.4 and
0.5) images: the level-0 dataset, with the pixel size and the period taken
from its ``scale`` transformation and the top-left corner from its
``translation``.
"""

from __future__ import annotations

import dataclasses
import math
import os
import shutil
import uuid
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Literal, Mapping, overload

import numpy as np

from . import _io
from ._codecs import make_compressor, zarr_compressors
from ._ome import EXPLICIT_HINT, check_rational64, find_multiscales, ome_attrs, read_ome_image
from ._paths import check_parent, refuse_existing
from ._zarr import (
    create_array,
    is_zarr_group,
    is_zarr_node,
    local_root,
    node_attrs,
    open_group_for_write,
    open_node,
    read_into,
    resolve_zarr_format,
)
from .layout import ArrayLayout, DataSetType
from .layout.cell_set import CELL_STATUS_CODES
from .metadata import Duration, Spacing, Timing, to_rational
from .target import Reserve, WriteMethod, put_directory_in_place
from .writers._options import WriteOptions, check_bool, check_compute_kwargs, check_write_options, fill_doc
from .writers._validate import DEFAULT_CASTING

if TYPE_CHECKING:
    from dask.delayed import Delayed
    from typing_extensions import TypedDict, Unpack

    class _ZarrOptions(TypedDict, total=False):
        storage_options: Mapping[str, Any] | None
        overwrite: bool
        compute_kwargs: dict[str, Any] | None

    class _ZarrToIsxdOptions(_ZarrOptions, total=False):
        timing: Timing | None
        spacing: Spacing | None
        period: Any
        pixel_size: Any
        dtype: Any
        casting: str
        extra_properties: Any
        fsync: bool
        resume: bool
        reserve: Reserve
        write_method: WriteMethod

    class _IsxdToZarrOptions(_ZarrOptions, total=False):
        chunks: Any
        compressor: Any
        clevel: int | None
        zarr_format: int | None

__all__ = ["ATTRS_KEY", "check_source_target", "isxd_to_zarr", "make_compressor", "zarr_to_isxd"]

PathLike = str | os.PathLike[str]

#: Attribute key holding the ``.isxd`` footer (without ``producer``) in a Zarr group or array.
ATTRS_KEY = "isxd"

#: Default target size of one Zarr chunk, in bytes (uncompressed).
CHUNK_NBYTES = 16 * 2**20

#: How the command line says ``overwrite=True``, for the messages about an existing target.
_CLI_OVERWRITE = " (on the command line: --overwrite)"
_STATUS_NAMES = {code: name for name, code in CELL_STATUS_CODES.items()}


# -- source and target must differ -----------------------------------------------------------


def _local_location(location: Any) -> str | None:
    """The real local path of a path or a zarr object on a local store; None for URLs and other stores."""
    if isinstance(location, (str, os.PathLike)):
        text = os.fspath(location)
        if not isinstance(text, str):
            text = os.fsdecode(text)
        if text.startswith("file://"):
            text = text[len("file://"):]
        elif "://" in text:
            return None
        return os.path.normcase(os.path.realpath(text))
    root = local_root(location)
    return None if root is None else os.path.normcase(os.path.realpath(root))


def check_source_target(source: Any, target: Any, *, source_arg: str = "source", target_arg: str = "path") -> None:
    """Refuse a conversion whose target is its source, lies inside it, or contains it.

    Writing there would replace or change the data being read (and an
    ``overwrite=True`` replacing a directory that holds the source would
    delete it). Checked before anything is opened for writing.

    Parameters
    ----------
    source : str, os.PathLike or zarr object
        What is read.
    target : str or os.PathLike
        What is written.
    source_arg, target_arg : str
        The argument names used in the message.

    Raises
    ------
    ValueError
        If the two are the same file or directory (also through links), or one contains the other.

    Examples
    --------
    >>> check_source_target("movie.isxd", "movie.isxd", source_arg="path", target_arg="target")
    Traceback (most recent call last):
    ...
    ValueError: target 'movie.isxd' is the source path 'movie.isxd' itself; choose another target
    """
    # "the source 'x'" (source_arg 'source'), "the source path 'x'", "the source SRC 'x'",
    # and "sources[0] 'x'": never "the source source".
    if source_arg == "source":
        noun = "the source"
    elif source_arg.lower().startswith("source"):
        noun = source_arg
    else:
        noun = f"the source {source_arg}"
    if isinstance(source, (str, os.PathLike)) and isinstance(target, (str, os.PathLike)):
        a, b = os.fspath(source), os.fspath(target)
        if "://" in str(a) and str(a).rstrip("/") == str(b).rstrip("/"):
            msg = f"{target_arg} {b!r} is {noun} {a!r} itself; choose another {target_arg}"
            raise ValueError(msg)
    src, dst = _local_location(source), _local_location(target)
    if src is None or dst is None:
        return
    shown_src = repr(os.fspath(source)) if isinstance(source, (str, os.PathLike)) else f"({src!r})"
    shown = f"{target_arg} {os.fspath(target)!r}"
    same = src == dst or (os.path.exists(src) and os.path.exists(dst) and os.path.samefile(src, dst))
    if same:
        msg = f"{shown} is {noun} {shown_src} itself; choose another {target_arg}"
        raise ValueError(msg)
    if dst.startswith(os.path.join(src, "")):
        msg = f"{shown} lies inside {noun} {shown_src}; choose a {target_arg} outside it"
        raise ValueError(msg)
    if src.startswith(os.path.join(dst, "")):
        msg = f"{shown} contains {noun} {shown_src}, which replacing it would delete; choose another {target_arg}"
        raise ValueError(msg)


# -- what a Zarr source holds ------------------------------------------------------------------


@dataclass(frozen=True)
class _ZarrSource:
    """What :func:`zarr_to_isxd` found in a Zarr store.

    ``footer`` is the ``isxd`` attribute (parsed only where it is needed, so
    that explicit metadata gets past a broken attribute); ``ome_timing`` /
    ``ome_spacing`` come from OME-Zarr multiscales.
    """

    name: str
    kind: Literal["movie", "cell_set"]
    arrays: dict[str, Any]
    footer: dict[str, Any] | None = None
    ome_timing: Timing | None = None
    ome_spacing: Spacing | None = None
    squeeze: tuple[int, ...] = ()
    single_image: bool = False


def _open_zarr(source: Any, storage_options: Mapping[str, Any] | None) -> Any:
    """A zarr Array or Group for ``source`` (object, path or URL), read-only."""
    if is_zarr_node(source):
        return source
    if not isinstance(source, (str, os.PathLike)):
        msg = f"source must be a zarr.Array, a zarr.Group, a path or a URL, got {type(source).__name__}"
        raise TypeError(msg)
    if storage_options is not None and not isinstance(storage_options, Mapping):
        msg = f"storage_options must be a dict of fsspec options, got {type(storage_options).__name__}"
        raise TypeError(msg)
    text = os.fspath(source)
    if "://" not in text and not os.path.exists(text):
        msg = f"source {text!r} does not exist"
        raise FileNotFoundError(msg)
    try:
        return open_node(text, storage_options)
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
    return node_attrs(node)


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
    except (KeyError, TypeError, ValueError, OverflowError) as err:
        reason = f"missing key {err.args[0]!r}" if isinstance(err, KeyError) else str(err)
        msg = f"{name}: attribute {ATTRS_KEY}.{key} is not valid ({reason}); fix it or {EXPLICIT_HINT}"
        raise ValueError(msg) from None


def _movie_source(array: Any, footer: dict[str, Any] | None, name: str) -> _ZarrSource:
    if footer is not None and footer.get("type") not in (DataSetType.MOVIE, DataSetType.IMAGE):
        msg = f"{name}: attribute {ATTRS_KEY}.type is {footer.get('type')!r}; expected 0 (movie), 4 (image) or 1 (cell set)"
        raise ValueError(msg)
    return _ZarrSource(name, "movie", {"frames": array}, footer=footer)


def _cell_set_source(members: Mapping[str, Any], footer: dict[str, Any], name: str) -> _ZarrSource:
    for key, rank in (("footprints", 3), ("traces", 2)):
        if key not in members:
            msg = f"{name}: a cell set group needs an array {key!r}; it has {sorted(members)}"
            raise ValueError(msg)
        if members[key].ndim != rank:
            msg = f"{name}: array {key!r} has shape {tuple(members[key].shape)}; expected {rank} dimensions"
            raise ValueError(msg)
    return _ZarrSource(name, "cell_set", {k: members[k] for k in ("footprints", "traces")}, footer=footer)


def _group_source(group: Any, footer: dict[str, Any] | None, attrs: Mapping[str, Any], name: str) -> _ZarrSource:
    members = dict(group.arrays())
    if footer is not None and footer.get("type") == DataSetType.CELL_SET:
        return _cell_set_source(members, footer, name)
    if footer is not None and "frames" in members:
        return _movie_source(members["frames"], footer, name)
    multiscales = find_multiscales(attrs)
    if multiscales is not None:
        ome = read_ome_image(multiscales, group, name)
        return _ZarrSource(name, "movie", {"frames": ome.array}, ome_timing=ome.timing, ome_spacing=ome.spacing,
                           squeeze=ome.squeeze, single_image=ome.timing is None)
    if len(members) == 1:
        array = next(iter(members.values()))
        return _movie_source(array, footer if footer is not None else _footer_attrs(_attrs(array), name), name)
    msg = (f"{name} is a group with arrays {sorted(members) or 'none'}; expected an 'isxd' group with a "
           f"'frames' array, OME-Zarr multiscales, or exactly one array; pass the array itself")
    raise ValueError(msg)


def _read_source(node: Any, name: str) -> _ZarrSource:
    """What ``node`` holds, checked: a movie (or image) or a cell set."""
    attrs = _attrs(node)
    footer = _footer_attrs(attrs, name)
    if is_zarr_group(node):
        found = _group_source(node, footer, attrs, name)
    else:
        found = _movie_source(node, footer, name)
    for key, array in found.arrays.items():
        kind = np.dtype(array.dtype).kind
        if kind not in "biuf":
            msg = (f"{name}: array {key!r} has dtype {array.dtype}, which holds no numbers; "
                   f"expected integer or floating-point values (an .isxd file stores uint16, float32 or uint8)")
            raise TypeError(msg)
    return found


# -- metadata: attributes, then explicit arguments -----------------------------------------------


def _as_fraction(value: Any, arg: str) -> Fraction:
    """A positive rational from a number, Fraction, Duration or text such as '1/20', that fits the footer."""
    if isinstance(value, Duration):
        value = value.to_fraction()
    if isinstance(value, (float, np.floating)):
        # The float rule of Duration: the simplest rational that is the same float, never rounded to 0;
        # NaN, infinities and values beyond 64-bit rationals are refused naming ``arg``.
        value = to_rational(float(value), arg)
    try:
        if isinstance(value, bool) or not isinstance(value, (int, Fraction, str, np.integer)):
            raise TypeError
        frac = Fraction(value if isinstance(value, (str, Fraction)) else int(value))
    except (TypeError, ValueError, ZeroDivisionError, OverflowError):
        msg = f"{arg} must be a positive number, Fraction or Duration, got {value!r}"
        raise ValueError(msg) from None
    if frac <= 0:
        msg = f"{arg} must be > 0, got {value!r}"
        raise ValueError(msg)
    return check_rational64(frac, arg, f"pass {arg} as a Fraction with fewer digits")


def _with_period(timing: Timing, period: Any) -> Timing:
    frac = _as_fraction(period, "period")
    return dataclasses.replace(timing, period=Duration(frac.numerator, frac.denominator))


def _with_pixel_size(spacing: Spacing, pixel_size: Any) -> Spacing:
    sizes = pixel_size if isinstance(pixel_size, (tuple, list)) else (pixel_size, pixel_size)
    if len(sizes) != 2:
        msg = f"pixel_size must be one number or (height, width) in um, got {pixel_size!r}"
        raise ValueError(msg)
    height, width = (_as_fraction(s, "pixel_size") for s in sizes)
    return dataclasses.replace(spacing, pixel_size=(height, width))


def _resolve_timing(found: _ZarrSource, timing: Timing | None, period: Any, num_samples: int) -> Timing | None:
    """Explicit ``timing``, else the attributes', with ``period`` replacing only the period.

    None when nothing gives a timing: the writer then uses its default and says so.
    """
    if timing is not None and period is not None:
        msg = "pass either timing= or period= (the period replaces only that field of the source's timing), not both"
        raise ValueError(msg)
    where = "timing"
    if timing is None and found.footer is not None:
        timing = _parse_attr(Timing.from_dict, found.footer, "timingInfo", found.name)
        where = f"attribute {ATTRS_KEY}.timingInfo.numTimes"
    elif timing is None:
        timing = Timing(num_samples=1) if found.single_image else found.ome_timing
    if timing is None and period is not None:
        timing = Timing(num_samples=num_samples)
    if timing is None:
        return None
    if period is not None:
        timing = _with_period(timing, period)
    if timing.num_samples != num_samples:
        msg = f"{found.name}: {where} has {timing.num_samples} samples but the array has {num_samples}; {EXPLICIT_HINT}"
        raise ValueError(msg)
    return timing


def _resolve_spacing(found: _ZarrSource, spacing: Spacing | None, pixel_size: Any, shape: tuple[int, int]) -> Spacing | None:
    """Explicit ``spacing``, else the attributes', with ``pixel_size`` replacing only the pixel size.

    None when nothing gives a spacing: the writer then uses its default and says so.
    """
    if spacing is not None and pixel_size is not None:
        msg = "pass either spacing= or pixel_size= (which replaces only that field of the source's spacing), not both"
        raise ValueError(msg)
    where = "spacing"
    if spacing is None and found.footer is not None:
        spacing = _parse_attr(Spacing.from_dict, found.footer, "spacingInfo", found.name)
        where = f"attribute {ATTRS_KEY}.spacingInfo.numPixels"
    elif spacing is None:
        spacing = found.ome_spacing
    if spacing is None and pixel_size is not None:
        spacing = Spacing(num_pixels=shape)
    if spacing is None:
        return None
    if pixel_size is not None:
        spacing = _with_pixel_size(spacing, pixel_size)
    if tuple(spacing.num_pixels) != tuple(shape):
        msg = (f"{found.name}: {where} is {tuple(spacing.num_pixels)} (rows, cols) but the frames are "
               f"{tuple(shape)}; {EXPLICIT_HINT}")
        raise ValueError(msg)
    return spacing


def _check_movie_dtype(found: _ZarrSource, dtype: Any) -> None:
    """An array dtype that ``.isxd`` cannot store needs an explicit ``dtype=``."""
    array_dtype = np.dtype(found.arrays["frames"].dtype)
    if dtype is None and (array_dtype.kind, array_dtype.itemsize) not in (("u", 2), ("f", 4), ("u", 1)):
        msg = (f"{found.name}: array has dtype {array_dtype}, which .isxd movies cannot store (uint16, float32 or uint8); "
               f"pass dtype=numpy.float32 or dtype=numpy.uint16 (on the command line: --dtype); values are checked "
               f"to survive the cast unless casting='unsafe'")
        raise TypeError(msg)


class _AlignedReads:
    """A Zarr array whose chunks are read into memory aligned as their bytes will lie in the ``.isxd`` file.

    A movie's frames lie back to back from byte 0 of the data section (every
    frame stored), as a C-contiguous array of the Zarr array's shape: its
    :class:`ArrayLayout` gives where each chunk starts. A chunk read into an
    array aligned the same way is written around the page cache straight
    from that array, not copied into an aligned buffer first (see
    :func:`isx_dask._io.aligned_empty`).
    """

    def __init__(self, array: Any) -> None:
        self.array = array
        self.shape = tuple(array.shape)
        self.dtype = np.dtype(array.dtype)
        self.ndim = len(self.shape)
        self.layout = ArrayLayout.contiguous(0, self.shape, self.dtype)

    def __getitem__(self, region: tuple[slice, ...]) -> np.ndarray[Any, Any]:
        bounds = self.layout.normalize_region(region)
        phase = self.layout.byte_span(region)[0] % _io.DIRECT_ALIGN
        out = _io.aligned_empty(tuple(b - a for a, b in bounds), self.dtype, phase=phase)
        read_into(self.array, tuple(slice(a, b) for a, b in bounds), out)
        return out


def _movie_frames(found: _ZarrSource) -> Any:
    """The frames as a ``(num_samples, rows, cols)`` Dask array, in the Zarr array's chunks."""
    import dask.array as da

    array = found.arrays["frames"]
    ndim = array.ndim - len(found.squeeze)
    if ndim != 3 and not (ndim == 2 and found.single_image):
        msg = (f"{found.name}: array has shape {tuple(array.shape)} ({array.ndim} dimensions); expected 3 dimensions "
               f"(num_samples, rows, cols) for a movie")
        raise ValueError(msg)
    # Fresh keys: the store may change between conversions, and a scheduler must never reuse old chunks.
    name = f"zarr-frames-{uuid.uuid4().hex}"
    frames = da.from_array(  # type: ignore[no-untyped-call]
        _AlignedReads(array), chunks=tuple(array.chunks), name=name, asarray=False, fancy=False,
        meta=np.empty((0,) * array.ndim, dtype=array.dtype),
    )
    if found.squeeze:
        frames = frames.squeeze(axis=found.squeeze)
    return frames[None] if frames.ndim == 2 else frames


# -- Zarr -> isxd ------------------------------------------------------------------------------


@overload
def zarr_to_isxd(source: Any, path: PathLike, *, compute: Literal[False], **options: Unpack[_ZarrToIsxdOptions]) -> Delayed: ...
@overload
def zarr_to_isxd(source: Any, path: PathLike, *, compute: Literal[True] = ..., **options: Unpack[_ZarrToIsxdOptions]) -> None: ...
@overload
def zarr_to_isxd(source: Any, path: PathLike, *, compute: bool, **options: Unpack[_ZarrToIsxdOptions]) -> Delayed | None: ...


@fill_doc
def zarr_to_isxd(
    source: Any,
    path: PathLike,
    *,
    timing: Timing | None = None,
    spacing: Spacing | None = None,
    period: Any = None,
    pixel_size: Any = None,
    dtype: Any = None,
    casting: str = DEFAULT_CASTING,
    extra_properties: Any = None,
    storage_options: Mapping[str, Any] | None = None,
    overwrite: bool = False,
    compute: bool = True,
    fsync: bool = True,
    resume: bool = False,
    reserve: Reserve = "auto",
    write_method: WriteMethod = "auto",
    compute_kwargs: dict[str, Any] | None = None,
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
        Output ``.isxd`` file; must not be, lie inside, or contain ``source``.
    timing : Timing, optional
        Replaces the timing from the attributes. Without either, the writer's
        default (50 ms samples from the epoch) is used, and the writer says so.
    spacing : Spacing, optional
        Replaces the spacing from the attributes. Without either, the
        writer's default (3-micron pixels), which it says.
    period : Duration, Fraction, float or str, optional
        Sample period in seconds replacing only that field of the source's
        timing (dropped, cropped and blank frames and the start are kept).
        Not together with ``timing``.
    pixel_size : number or (height, width), optional
        Pixel size in microns replacing only that field of the source's
        spacing. Not together with ``spacing``.
    dtype : {numpy.uint16, numpy.float32, numpy.uint8}, optional
        Pixel type to store when the array's dtype is not one of these.
    casting : str, default 'same_value'
        As in :func:`isx_dask.write_movie`: by default any cast to ``dtype``
        is allowed only if every value survives it (checked chunk by chunk);
        ``'unsafe'`` lets numpy's ``astype`` change values.
    extra_properties : JSON-serialisable, optional
        Replaces ``extraProperties`` from the attributes.
    storage_options : dict, optional
        Passed to fsspec when ``source`` is a URL.
    {options}

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
        Wrong rank; OME-Zarr axes that do not map to ``(t, y, x)``; attributes
        that are malformed, contradict the array or do not fit the footer's
        64-bit rationals (the message names the attribute and how to pass the
        value explicitly); ``path`` that is or contains ``source``; an unknown
        scheduler in ``compute_kwargs``.
    TypeError
        A dtype that ``.isxd`` cannot store (pass ``dtype=``), or an array of
        strings or objects.

    See Also
    --------
    isxd_to_zarr : the other direction.
    isx_dask.write_movie : the writer it uses.

    Examples
    --------
    >>> zarr_to_isxd("recording.ome.zarr", "recording.isxd")  # doctest: +SKIP
    >>> zarr_to_isxd("raw.zarr", "raw.isxd", period="1/20", pixel_size=2.5)  # doctest: +SKIP
    """
    compute_kwargs = check_compute_kwargs(compute_kwargs)
    check_source_target(source, path)
    node = _open_zarr(source, storage_options)
    check_source_target(node, path)
    name = "Zarr source" if hasattr(source, "attrs") else f"Zarr source {os.fspath(source)!r}"
    found = _read_source(node, name)
    options = check_write_options(overwrite, compute, fsync, resume, reserve, write_method, compute_kwargs)
    if found.kind == "cell_set":
        return _write_cell_set(found, path, timing=timing, spacing=spacing, period=period, pixel_size=pixel_size,
                               casting=casting, extra_properties=extra_properties, options=options)
    _check_movie_dtype(found, dtype)
    frames = _movie_frames(found)
    timing = _resolve_timing(found, timing, period, frames.shape[0])
    spacing = _resolve_spacing(found, spacing, pixel_size, frames.shape[1:])
    return _write_movie(found, frames, path, timing=timing, spacing=spacing, dtype=dtype, casting=casting,
                        extra_properties=extra_properties, options=options)


def _write_movie(found: _ZarrSource, frames: Any, path: PathLike, *, timing: Timing | None, spacing: Spacing | None, dtype: Any,
                 casting: str, extra_properties: Any, options: WriteOptions) -> Delayed | None:
    from .writers import write_movie

    if extra_properties is None and found.footer is not None:
        extra_properties = found.footer.get("extraProperties")
    result: Delayed | None = write_movie(
        frames, path, timing=timing, spacing=spacing, dtype=dtype, casting=casting, extra_properties=extra_properties,
        overwrite=options.overwrite, compute=options.compute, fsync=options.fsync, resume=options.resume,
        reserve=options.reserve, write_method=options.write_method, compute_kwargs=options.compute_kwargs,
    )
    return result


def _cell_statuses(footer: Mapping[str, Any], name: str) -> list[str] | None:
    codes = footer.get("CellStatuses")
    try:
        return None if codes is None else [_STATUS_NAMES[c if type(c) is int else None] for c in codes]  # type: ignore[index]
    except (KeyError, TypeError):
        msg = f"{name}: attribute {ATTRS_KEY}.CellStatuses must hold 0 (accepted), 1 (undecided) or 2 (rejected), got {codes!r}"
        raise ValueError(msg) from None


def _write_cell_set(found: _ZarrSource, path: PathLike, *, timing: Timing | None, spacing: Spacing | None,
                    period: Any, pixel_size: Any, casting: str, extra_properties: Any, options: WriteOptions) -> Delayed | None:
    import dask.array as da

    from .writers import write_cell_set

    footer = found.footer or {}
    footprints: Any = da.from_zarr(found.arrays["footprints"])  # type: ignore[no-untyped-call]
    traces: Any = da.from_zarr(found.arrays["traces"])  # type: ignore[no-untyped-call]
    timing = _resolve_timing(found, timing, period, traces.shape[1])
    spacing = _resolve_spacing(found, spacing, pixel_size, footprints.shape[1:])
    if extra_properties is None:
        extra_properties = footer.get("extraProperties")
    result: Delayed | None = write_cell_set(
        footprints, traces, path, timing=timing, spacing=spacing, cell_names=footer.get("CellNames"),
        statuses=_cell_statuses(footer, found.name), casting=casting, extra_properties=extra_properties,
        overwrite=options.overwrite, compute=options.compute, fsync=options.fsync, resume=options.resume,
        reserve=options.reserve, write_method=options.write_method, compute_kwargs=options.compute_kwargs,
    )
    return result


# -- isxd -> Zarr ------------------------------------------------------------------------------


def _check_target(target: Any, overwrite: bool, storage_options: Mapping[str, Any] | None) -> str | None:
    """The local path of ``target`` (None for a URL), after checking it can be written."""
    if not isinstance(target, (str, os.PathLike)):
        msg = f"target must be a path or a URL, got {type(target).__name__}"
        raise TypeError(msg)
    text = os.fspath(target)
    if "://" in text:
        import fsspec  # type: ignore[import-untyped]

        fs, root = fsspec.core.url_to_fs(text, **dict(storage_options or {}))
        refuse_existing(text, "target", overwrite, fs.exists(root), _CLI_OVERWRITE)
        return None
    check_parent(text, "target")
    refuse_existing(text, "target", overwrite, os.path.lexists(text), _CLI_OVERWRITE)
    return text


def _default_chunks(shape: tuple[int, ...], itemsize: int) -> tuple[int, ...]:
    per_row = max(1, math.prod(shape[1:]) * itemsize)
    return (max(1, min(shape[0], CHUNK_NBYTES // per_row)), *shape[1:])


def _check_chunks(chunks: Any, shape: tuple[int, ...], itemsize: int, name: str) -> tuple[int, ...]:
    if chunks is None:
        return _default_chunks(shape, itemsize) if shape[0] else (1, *shape[1:])
    if isinstance(chunks, (int, np.integer)) and not isinstance(chunks, bool):
        chunks = (int(chunks), *shape[1:])
    if not isinstance(chunks, (tuple, list)):
        msg = f"chunks must be a positive int (along {name}) or {len(shape)} positive ints, got {chunks!r}"
        raise ValueError(msg)
    chunks = tuple(chunks)
    if len(chunks) != len(shape) or not all(isinstance(c, (int, np.integer)) and not isinstance(c, bool) and c > 0 for c in chunks):
        msg = f"chunks must be a positive int (along {name}) or {len(shape)} positive ints, got {chunks!r}"
        raise ValueError(msg)
    return tuple(min(int(c), max(1, s)) for c, s in zip(chunks, shape))


def _movie_arrays(source: Any, chunks: Any, path: PathLike) -> dict[str, tuple[Any, tuple[int, ...]]]:
    if source.has_frame_header_footer:
        msg = (f"{os.fspath(path)!r} stores sensor frame headers and footers, which Zarr conversion does not keep; "
               f"convert the frames with isx_dask.write_movie(open_isxd(path).frames, ...) if they are not needed")
        raise NotImplementedError(msg)
    zchunks = _check_chunks(chunks, source.shape, source.dtype.itemsize, "time")
    return {"frames": (source.to_dask(chunks=zchunks), zchunks)}


def _cell_set_arrays(source: Any, chunks: Any) -> dict[str, tuple[Any, tuple[int, ...]]]:
    n = source.num_cells
    fchunks = _check_chunks(chunks, (n, *source.layout.footprint_shape), 4, "cells")
    tchunks = _check_chunks(fchunks[0], (n, source.timing.num_samples), 4, "cells")
    return {
        "footprints": (source.footprints_to_dask(chunks=fchunks), fchunks),
        "traces": (source.traces_to_dask(chunks=tchunks), tchunks),
    }


def _zarr_contents(path: PathLike, chunks: Any, zarr_format: int) -> tuple[dict[str, Any], dict[str, tuple[Any, tuple[int, ...]]]]:
    """Group attributes and ``{name: (dask array, zarr chunks)}`` for the ``.isxd`` file at ``path``."""
    from .readers import open_isxd

    source: Any = open_isxd(path)
    footer = {k: v for k, v in source.metadata.items() if k != "producer"}
    if source.type in (DataSetType.MOVIE, DataSetType.IMAGE):
        return {ATTRS_KEY: footer, **ome_attrs(source.timing, source.spacing, zarr_format)}, _movie_arrays(source, chunks, path)
    if source.type == DataSetType.CELL_SET:
        return {ATTRS_KEY: footer}, _cell_set_arrays(source, chunks)
    msg = f"converting {source.type.name} files to Zarr is not supported; only movies, images and cell sets are"
    raise NotImplementedError(msg)


def _finish(_: Any, partial: str | None, target: str | None, overwrite: bool) -> None:
    """Move a complete local group into place (the old target, if any, is removed only afterwards)."""
    if partial is None or target is None:
        return
    if not put_directory_in_place(partial, target, overwrite=overwrite):
        shutil.rmtree(partial, ignore_errors=True)
        msg = f"target {target!r} was created by someone else while the group was being written; nothing was replaced"
        raise FileExistsError(msg)


def _store_group(target: PathLike, local: str | None, attrs: dict[str, Any], arrays: Mapping[str, tuple[Any, tuple[int, ...]]],
                 compressors: Mapping[str, list[Any]], zarr_format: int,
                 storage_options: Mapping[str, Any] | None, overwrite: bool) -> tuple[Delayed, str | None]:
    """Create the group (in a hidden ``.partial`` sibling for a local target); the delayed store-then-move and that sibling."""
    import dask.array as da
    from dask.delayed import delayed

    store_path = None
    if local is not None:
        directory, name = os.path.split(os.path.abspath(local))
        store_path = os.path.join(directory, f".{name}.{uuid.uuid4().hex}.partial")
    group = open_group_for_write(store_path if store_path is not None else os.fspath(target), zarr_format,
                                 None if local is not None else storage_options)
    try:
        group.attrs.update(attrs)
        sources: list[Any] = []
        targets: list[Any] = []
        for key, (data, zchunks) in arrays.items():
            out = create_array(group, key, shape=data.shape, dtype=data.dtype, chunks=zchunks, compressors=compressors[key],
                               dimension_names=("t", "y", "x") if key == "frames" else None)
            sources.append(data)
            targets.append(out)
        # Chunks of the Zarr arrays are the Dask chunks, so no two tasks share a chunk: no lock needed.
        stored = da.store(sources, targets, lock=False, compute=False)
    except BaseException:
        if store_path is not None:
            shutil.rmtree(store_path, ignore_errors=True)
        raise
    done: Delayed = delayed(_finish, pure=False)(stored, store_path, local, overwrite)
    return done, store_path


@overload
def isxd_to_zarr(path: PathLike, target: PathLike, *, compute: Literal[False], **options: Unpack[_IsxdToZarrOptions]) -> Delayed: ...
@overload
def isxd_to_zarr(path: PathLike, target: PathLike, *, compute: Literal[True] = ..., **options: Unpack[_IsxdToZarrOptions]) -> None: ...
@overload
def isxd_to_zarr(path: PathLike, target: PathLike, *, compute: bool, **options: Unpack[_IsxdToZarrOptions]) -> Delayed | None: ...


def isxd_to_zarr(
    path: PathLike,
    target: PathLike,
    *,
    chunks: Any = None,
    compressor: Any = None,
    clevel: int | None = None,
    zarr_format: int | None = None,
    storage_options: Mapping[str, Any] | None = None,
    overwrite: bool = False,
    compute: bool = True,
    compute_kwargs: dict[str, Any] | None = None,
) -> Delayed | None:
    """Convert an ``.isxd`` movie, image or cell set to a Zarr group, chunk by chunk.

    The footer (all but ``producer``) is stored in the group's attributes under
    ``"isxd"``, so :func:`zarr_to_isxd` gives back a file whose data section is
    byte-identical. Movies get an array ``frames`` with every time index
    (zeros at dropped, cropped and blank frames) and OME-Zarr metadata; cell
    sets get ``footprints`` and ``traces``. A local group is written into a
    ``.partial-<id>`` sibling and renamed into place when complete.

    Parameters
    ----------
    path : str or os.PathLike
        The ``.isxd`` file.
    target : str or os.PathLike
        Zarr group to create: a local path or an fsspec URL; must not be,
        lie inside, or contain ``path``.
    chunks : int or tuple of int, optional
        Zarr chunks: an int is the number of frames (or cells) per chunk.
        Defaults to about 16 MiB per chunk, whole frames.
    compressor : str, numcodecs codec or zarr codec, optional
        ``'zstd'``, ``'lz4'``, ``'none'``, False (none) or a codec (see
        :func:`make_compressor`). Defaults to Blosc zstd with bit shuffle for
        uint16 frames.
    clevel : int, optional
        Compression level 0..9 for a compressor given by name (default 5).
    zarr_format : {2, 3}, optional
        Zarr format to write. Defaults to 3 under zarr-python 3 and to 2 under
        zarr-python 2 (what pip installs on Python 3.10, where zarr-python 3
        is not available): format 2 is the newest that version writes, and
        both formats keep the same arrays and ``isxd`` attributes (format 2
        gets NGFF 0.4 metadata instead of 0.5, and no dimension names), so
        ``zarr_to_isxd`` gives back the same file from either. Passing
        ``zarr_format=3`` under zarr-python 2 is refused, not downgraded.
    storage_options : dict, optional
        Passed to fsspec when ``target`` is a URL.
    overwrite : bool, default False
        Replace an existing ``target`` (a local one only once the new group is
        complete; a URL target is cleared when the group is created).
    compute : bool, default True
        If False, return a :class:`dask.delayed.Delayed` that writes the group.
    compute_kwargs : dict, optional
        As in :func:`zarr_to_isxd`.

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
        Bad ``chunks``, ``compressor``, ``clevel``, ``zarr_format`` (also
        ``zarr_format=3`` when the installed zarr-python is 2.x, which needs
        zarr>=3 and so Python>=3.11) or scheduler; ``target`` that is, lies
        inside, or contains ``path``.
    TypeError
        A ``compressor`` codec that the Zarr format cannot take.

    See Also
    --------
    zarr_to_isxd : the other direction.

    Examples
    --------
    >>> isxd_to_zarr("movie.isxd", "movie.zarr", compressor="lz4", clevel=3)  # doctest: +SKIP
    """
    from dask.base import compute as dask_compute

    zarr_format = resolve_zarr_format(zarr_format)
    compute_kwargs = check_compute_kwargs(compute_kwargs)
    overwrite = check_bool(overwrite, "overwrite")
    check_source_target(path, target, source_arg="path", target_arg="target")
    attrs, arrays = _zarr_contents(path, chunks, zarr_format)
    compressors = {key: zarr_compressors(compressor, clevel, data.dtype, zarr_format) for key, (data, _) in arrays.items()}
    local = _check_target(target, overwrite, storage_options)
    done, partial = _store_group(target, local, attrs, arrays, compressors, zarr_format, storage_options, overwrite)
    if not compute:
        return done
    try:
        dask_compute(done, **(compute_kwargs or {}))  # type: ignore[no-untyped-call]
    except BaseException:
        if partial is not None:
            shutil.rmtree(partial, ignore_errors=True)
        raise
    return None
