"""Input checks shared by the writers: every one runs before a byte is written."""

from __future__ import annotations

import errno
import json
import math
import os
import warnings
from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from typing import Any, Sequence

import numpy as np

from ..layout import check_extra_properties
from ..layout.cell_set import CELL_STATUS_CODES as STATUS_CODES
from ..layout.cell_set import default_name
from ..metadata import Spacing, Timing

__all__ = [
    "CASTINGS",
    "DEFAULT_CASTING",
    "DefaultMetadataWarning",
    "MAX_NAME_NBYTES",
    "as_dask_array",
    "cast_array",
    "cast_exact",
    "check_casting",
    "check_float32_casting",
    "check_name",
    "check_names",
    "check_not_masked",
    "check_spacing",
    "check_status",
    "check_statuses",
    "check_timing",
    "check_utf8_json",
    "convert_in_memory",
    "float32_values",
    "inherit_metadata",
    "nan_at_invalid",
    "prepare_array",
    "warn_defaults",
    "require_spacing",
    "require_timing",
    "resolve_metadata_from",
]

#: The default ``casting``: any conversion whose values all survive (checked chunk by chunk).
DEFAULT_CASTING = "same_value"
#: Accepted ``casting`` values: numpy's rules by dtype, plus ``'same_value'`` (by value).
CASTINGS = ("same_value", "no", "equiv", "safe", "same_kind", "unsafe")


def as_dask_array(data: Any, name: str, ndim: int, axes: str) -> Any:
    """``data`` as a Dask array with known chunk sizes and ``ndim`` dimensions.

    NumPy (and other array-like) input is wrapped without copying, chunked
    along the first axis only, to dask's ``array.chunk-size`` (128 MiB unless
    configured otherwise with ``dask.config.set({"array.chunk-size": ...})``).
    """
    import dask.array as da

    check_not_masked(data, name)
    if not isinstance(data, da.Array):
        if not hasattr(data, "shape") or not hasattr(data, "dtype"):
            try:
                data = np.asarray(data)
            except ValueError as err:  # ragged nested lists
                msg = f"{name} must be a rectangular array {axes} of numbers: {err}"
                raise ValueError(msg) from None
        if np.dtype(data.dtype).kind == "O":
            msg = f"{name} has dtype object, which .isxd files cannot store; expected an array of real numbers"
            raise TypeError(msg)
        if len(data.shape) != ndim:
            msg = f"{name} must have {ndim} dimensions {axes}, got shape {tuple(data.shape)}"
            raise ValueError(msg)
        chunks: Any = {0: "auto", **{axis: -1 for axis in range(1, ndim)}} if all(data.shape) else -1
        return da.from_array(data, chunks=chunks, asarray=True)  # type: ignore[no-untyped-call]
    if data.ndim != ndim:
        msg = f"{name} must have {ndim} dimensions {axes}, got shape {data.shape}"
        raise ValueError(msg)
    if any(math.isnan(c) for c in data.shape) or any(math.isnan(c) for cs in data.chunks for c in cs):
        msg = (
            f"{name} has unknown (NaN) chunk sizes {data.chunks}; "
            f"call {name}.compute_chunk_sizes() (or pass lengths to to_dask_array) first"
        )
        raise ValueError(msg)
    return data


def check_not_masked(data: Any, name: str) -> None:
    """Refuse a NumPy masked array with masked entries: ``.isxd`` files hold no mask, and the values under it would be stored."""
    count = int(np.count_nonzero(data.mask)) if isinstance(data, np.ma.MaskedArray) else 0  # mask: nomask or bools
    if count:
        msg = (
            f"{name} is a masked array with {count} masked value(s); .isxd files hold no mask, so the values under it "
            f"would be stored: fill them first (e.g. {name}.filled(0), or {name}.filled(numpy.nan) for float traces)"
        )
        raise ValueError(msg)


def check_casting(casting: Any) -> str:
    """``casting`` if it is one of :data:`CASTINGS`, else ``ValueError`` naming the choices."""
    if not isinstance(casting, str) or casting not in CASTINGS:
        msg = f"casting must be one of {', '.join(repr(c) for c in CASTINGS)}, got {casting!r}"
        raise ValueError(msg)
    return casting


def _is_exact_by_dtype(src: np.dtype[Any], dst: np.dtype[Any]) -> bool:
    """Whether every value of ``src`` is a value of ``dst`` (no per-value check needed)."""
    if src == dst or src.kind == "b":
        return True
    if dst.kind == "f" and src.kind == "f":
        return src.itemsize <= dst.itemsize
    if dst.kind == "f" and src.kind in "iu":
        return src.itemsize * 8 <= np.finfo(dst).nmant + 1  # every integer fits the mantissa
    return bool(np.can_cast(src, dst, casting="safe"))


def changed_values(values: np.ndarray[Any, Any], dtype: np.dtype[Any]) -> np.ndarray[Any, Any]:
    """Mask of the ``values`` that ``astype(dtype)`` would change (NaN and infinities count as kept in floats).

    Float to float32 counts as kept when the value is within float32's range
    (it is rounded to float32's precision); a finite value beyond it would
    become infinite and counts as changed.
    """
    if dtype.kind == "f":
        with np.errstate(over="ignore", invalid="ignore"):
            if values.dtype.kind == "f":
                converted = values.astype(dtype)
                overflowed: np.ndarray[Any, Any] = np.isinf(converted) & np.isfinite(values)  # Any before numpy 2.5's stubs
                return overflowed
            converted = values.astype(dtype)
            if values.dtype.kind not in "iu":
                return converted.astype(values.dtype) != values  # type: ignore[no-any-return]
            # Casting a float outside the integer range back is undefined (it wraps on x86, saturates on
            # ARM, where 2**63 - 1 would come back unchanged): out-of-range results count as changed.
            source = np.iinfo(values.dtype)
            inside = (converted >= source.min) & (converted < float(source.max) + 1)  # bounds are powers of two
            back = np.where(inside, converted, 0).astype(values.dtype)
            return ~inside | (back != values)  # type: ignore[no-any-return]
    info = np.iinfo(dtype)
    if values.dtype.kind == "f":
        with np.errstate(invalid="ignore"):
            bad = ~np.isfinite(values) | (values < info.min) | (values > info.max)
            return bad | (np.floor(values) != values)  # type: ignore[no-any-return]
    if values.dtype.kind in "iu":
        big = values.astype(np.int64) if values.dtype.kind == "i" else values
        if values.dtype.kind == "u":
            return big > info.max
        return (big < info.min) | (big > info.max)
    return np.zeros(values.shape, dtype=bool)


def _value_error(
    values: np.ndarray[Any, Any], bad: np.ndarray[Any, Any], name: str, dtype: np.dtype[Any], offset: tuple[int, ...] | None = None
) -> ValueError:
    """The error for the values of ``values`` marked ``bad``; ``offset``: where ``values`` (a chunk) starts in ``name``."""
    local = tuple(int(i) for i in np.argwhere(bad)[0])
    where = local if offset is None else tuple(start + i for start, i in zip(offset, local))
    count = int(np.count_nonzero(bad))
    scope = "" if offset is None else f" in the chunk starting at index {offset}"
    msg = (
        f"{name} holds {count} value(s){scope} that {dtype} cannot hold exactly (e.g. {values[local]!r} at index "
        f"{where}); convert them yourself (e.g. numpy.clip, numpy.round), or pass casting='unsafe' to let numpy's "
        f"astype change them"
    )
    return ValueError(msg)


def cast_exact(values: np.ndarray[Any, Any], dtype: np.dtype[Any], name: str, offset: tuple[int, ...] | None = None) -> np.ndarray[Any, Any]:
    """``values`` as ``dtype``, or ``ValueError`` naming ``name`` if any value would change.

    ``offset`` is where ``values`` starts in ``name`` when it is one chunk of
    it, so that the message gives the index in the whole array.
    """
    values = np.asarray(values)
    if values.dtype == dtype:
        return values
    if not _is_exact_by_dtype(values.dtype, dtype):
        bad = changed_values(values, dtype)
        if bad.any():
            raise _value_error(values, bad, name, dtype, offset)
    with np.errstate(over="ignore", invalid="ignore"):
        return values.astype(dtype)


def _cast_chunk(values: np.ndarray[Any, Any], dtype: np.dtype[Any], name: str, block_info: Any = None) -> np.ndarray[Any, Any]:
    """:func:`cast_exact` of one Dask chunk, with the chunk's place in the array for the message."""
    location = (block_info or {}).get(0, {}).get("array-location")
    offset = None if location is None else tuple(int(start) for start, _ in location)
    return cast_exact(values, dtype, name, offset)


def check_dtype_cast(source: np.dtype[Any], dtype: np.dtype[Any], name: str, casting: str) -> None:
    """Refuse, by dtype alone, ``name`` of dtype ``source`` that cannot become ``dtype`` under ``casting``.

    ``TypeError`` for data that are not real numbers, or a dtype that numpy's
    rule ``casting`` (``'no'`` ... ``'unsafe'``, as :func:`numpy.can_cast`)
    does not allow. ``'same_value'`` allows every real dtype: the values are
    checked instead (:func:`cast_exact`).
    """
    if source.kind not in "biuf":
        msg = f"{name} has dtype {source}, which cannot be stored as {dtype}; expected real numbers"
        raise TypeError(msg)
    if casting != "same_value" and not np.can_cast(source, dtype, casting=casting):  # type: ignore[arg-type]
        msg = (
            f"{name} has dtype {source}, which cannot be cast to {dtype} under casting={casting!r}; "
            f"use casting='same_value' (the default: converts when no value changes) or 'unsafe' "
            f"(numpy's astype, which wraps, truncates and rounds values)"
        )
        raise TypeError(msg)


def cast_array(data: Any, name: str, dtype: np.dtype[Any], casting: str) -> Any:
    """Cast the Dask array ``data`` to ``dtype`` lazily, under ``casting``.

    ``'same_value'`` converts any real dtype and checks, chunk by chunk as it
    is written, that no value changes (a ``ValueError`` naming ``name``
    otherwise, and nothing is committed); numpy's rules (``'no'`` ...
    ``'unsafe'``) decide by dtype alone, as in :func:`numpy.can_cast`.
    """
    casting = check_casting(casting)
    if data.dtype == dtype:
        return data
    check_dtype_cast(data.dtype, dtype, name, casting)
    if casting == "same_value":
        if _is_exact_by_dtype(data.dtype, dtype):
            return data.astype(dtype)
        return data.map_blocks(_cast_chunk, dtype, name, dtype=dtype)
    return data.astype(dtype, casting=casting)


_FLOAT32 = np.dtype(np.float32)


def check_float32_casting(dtype: Any, name: str, casting: str) -> str:
    """``casting`` checked, after refusing by dtype alone ``name`` of ``dtype`` that cannot become float32 (:func:`check_dtype_cast`)."""
    casting = check_casting(casting)
    check_dtype_cast(np.dtype(dtype), _FLOAT32, name, casting)
    return casting


def float32_values(values: np.ndarray[Any, Any], name: str, casting: str, offset: tuple[int, ...] | None = None) -> np.ndarray[Any, Any]:
    """Real ``values`` as float32, refusing under ``'same_value'`` an integer that float32 would round.

    Integers that float32 cannot hold give the ``ValueError`` of
    :func:`cast_exact`, naming ``name`` and the index (``offset``: where
    ``values``, a chunk, starts in ``name``). Floats are rounded to float32's
    precision, as everywhere in the package; the caller decides about floats
    beyond float32's range. Call :func:`check_float32_casting` first.
    """
    values = np.asarray(values)
    if casting == "same_value" and values.dtype.kind in "iu":
        return cast_exact(values, _FLOAT32, name, offset)
    with np.errstate(over="ignore", invalid="ignore"):
        return values.astype(_FLOAT32, copy=False)


def prepare_array(data: Any, name: str, ndim: int, axes: str, dtype: np.dtype[Any], casting: str) -> Any:
    """``data`` as a Dask array of ``dtype``: shape and chunks checked, cast under ``casting``.

    In-memory (NumPy) input is checked value by value here, before anything
    is written; Dask input is checked chunk by chunk as it is computed.
    """
    casting = check_casting(casting)
    in_memory = isinstance(data, np.ndarray)
    array = cast_array(as_dask_array(data, name, ndim, axes), name, dtype, casting)
    if in_memory and casting == "same_value" and data.dtype != dtype and not _is_exact_by_dtype(data.dtype, dtype):
        bad = changed_values(data, dtype)
        if bad.any():
            raise _value_error(data, bad, name, dtype)
    return array


def convert_in_memory(value: Any, dtype: np.dtype[Any], name: str, shape: tuple[int, ...] | None = None) -> np.ndarray[Any, Any]:
    """One in-memory array (a frame, a footprint, a trace) as ``dtype``, as the official ``set_*_data`` take it.

    Like the official package, a conversion emits ``UserWarning('Converting
    from <dtype> to <dtype>.')``; unlike it, a conversion that would change a
    value is refused. A flat array of ``prod(shape)`` values is reshaped, as
    the official writer takes it.

    Raises
    ------
    TypeError
        If ``value`` is not a NumPy array of real numbers.
    ValueError
        If a value would change, or the shape is not ``shape``.
    """
    if not isinstance(value, np.ndarray):
        msg = f"{name} must be a numpy.ndarray, got {type(value).__name__}"
        raise TypeError(msg)
    check_not_masked(value, name)
    if value.dtype.kind not in "biuf":
        msg = f"{name} has dtype {value.dtype}, which cannot be stored as {dtype}; expected real numbers"
        raise TypeError(msg)
    if shape is not None and value.shape != shape:
        if value.ndim == 1 and value.size == math.prod(shape) and len(shape) > 1:
            value = value.reshape(shape)
        else:
            msg = f"{name} has shape {value.shape}, expected {shape}"
            raise ValueError(msg)
    if value.dtype != dtype:
        converted = cast_exact(value, dtype, name)
        warnings.warn(f"Converting from {value.dtype} to {dtype}.", UserWarning, stacklevel=3)
        return converted
    return np.asarray(value)


def nan_at_invalid(traces: Any, timing: Timing) -> Any:
    """Traces (samples along the last axis) with NaN at dropped, cropped and blank samples, as the official writer stores them.

    Dask arrays stay lazy; NumPy arrays are converted at once.
    """
    if timing.num_valid_samples == timing.num_samples:
        return traces  # no mask of num_samples entries when every sample is valid
    valid = timing.get_valid_samples_mask()
    if isinstance(traces, np.ndarray):
        return np.where(valid, traces, np.float32(np.nan)).astype(traces.dtype)
    import dask.array as da

    return da.where(valid, traces, np.float32(np.nan))


#: Longest name, in UTF-8 bytes, that the official reader returns in full (its buffer is 256 bytes).
MAX_NAME_NBYTES = 255


def check_name(name: Any, label: str) -> str:
    """``name`` if it is a str the official reader gives back whole: at most 255 UTF-8 bytes, no NUL."""
    if not isinstance(name, str):
        msg = f"{label} must be a str, got {type(name).__name__} {name!r}"
        raise TypeError(msg)
    try:
        nbytes = len(name.encode("utf-8"))
    except UnicodeEncodeError as err:
        msg = f"{label} {name!r} is not valid Unicode text ({err.reason} at index {err.start}); expected a str that encodes as UTF-8"
        raise ValueError(msg) from None
    if nbytes > MAX_NAME_NBYTES:
        msg = f"{label} is {nbytes} UTF-8 bytes long; expected at most {MAX_NAME_NBYTES} (the official reader truncates longer names)"
        raise ValueError(msg)
    if "\x00" in name:
        msg = f"{label} {name!r} contains a NUL character, which the official reader would cut the name at"
        raise ValueError(msg)
    return name


def check_status(status: Any, label: str, *, allow_bool: bool = False) -> str:
    """A status string (``'accepted'``, ``'undecided'``, ``'rejected'``); with ``allow_bool``, True/False mean accepted/rejected."""
    if allow_bool and isinstance(status, (bool, np.bool_)):
        return "accepted" if status else "rejected"
    if isinstance(status, str) and status in STATUS_CODES:
        return status
    extra = " (or a bool: True accepted, False rejected)" if allow_bool else ""
    msg = f"{label} must be 'accepted', 'undecided' or 'rejected'{extra}, got {status!r}"
    raise ValueError(msg)


def check_statuses(statuses: Any, count: int, *, label: str = "statuses", item: str = "cell") -> list[str]:
    """One checked status per item: ``None`` is all undecided; one value, or booleans, apply as in :func:`check_status`."""
    if statuses is None:
        return ["undecided"] * count
    if isinstance(statuses, (str, bool, np.bool_)):
        return [check_status(statuses, label, allow_bool=True)] * count
    if isinstance(statuses, (AbstractSet, Mapping)) or not hasattr(statuses, "__len__"):
        msg = f"{label} must be a sequence of statuses or booleans, one per {item}, got {type(statuses).__name__} {statuses!r}"
        raise TypeError(msg)
    if len(statuses) != count:
        msg = f"{label} has {len(statuses)} entries but there are {count} {item}s; expected one status per {item}"
        raise ValueError(msg)
    return [check_status(s, f"{label}[{k}]", allow_bool=True) for k, s in enumerate(statuses)]


def check_names(
    names: Any, count: int, *, prefix: str, label: str, unique: bool = False, default: str = "core"
) -> list[str]:
    """One checked name per item, with the official default names.

    Parameters
    ----------
    names : sequence of str or None, or None
        The names given; ``None`` (all of them, or one entry) takes the
        default, ``''`` the official core's default (:func:`default_name`).
    count : int
        Number of items.
    prefix : str
        ``'C'`` for cells, ``'V'`` for vessels.
    label : str
        The argument's name, for messages.
    unique : bool, default False
        Refuse repeated names (event sets look events up by name).
    default : {'core', 'index'}, default 'core'
        What ``None`` gives: the core's zero-padded name, or ``prefix`` and
        the bare index (the official Python ``set_*_data(..., name=None)``).
    """
    if names is None:
        names = [None] * count
    elif isinstance(names, (str, bytes, AbstractSet, Mapping)) or not hasattr(names, "__len__"):
        msg = f"{label} must be a sequence of str (a list or tuple, in item order), one per item, got {type(names).__name__} {names!r}"
        raise TypeError(msg)
    item = {"C": "cell", "V": "vessel"}.get(prefix, "item")
    if len(names) != count:
        msg = f"{label} has {len(names)} names but the data has {count} {item}s; expected one name per {item}"
        raise ValueError(msg)
    out = []
    for k, name in enumerate(names):
        if name is None:
            name = default_name(prefix, k, count) if default == "core" else f"{prefix}{k}"
        elif isinstance(name, str) and name == "":
            name = default_name(prefix, k, count)
        out.append(check_name(name, f"{label}[{k}]"))
    if unique and len(set(out)) != len(out):
        seen: set[str] = set()
        dupes = sorted({n for n in out if n in seen or seen.add(n)})  # type: ignore[func-returns-value]
        msg = f"{label} must be unique (the official reader looks items up by name); repeated: {dupes!r}"
        raise ValueError(msg)
    return out


def require_timing(timing: Any) -> Timing:
    """``timing`` if it is a :class:`Timing`, else ``TypeError`` naming the argument."""
    if not isinstance(timing, Timing):
        msg = f"timing must be an isx_dask.Timing, got {type(timing).__name__}"
        raise TypeError(msg)
    return timing


def require_spacing(spacing: Any) -> Spacing:
    """``spacing`` if it is a :class:`Spacing`, else ``TypeError`` naming the argument."""
    if not isinstance(spacing, Spacing):
        msg = f"spacing must be an isx_dask.Spacing, got {type(spacing).__name__}"
        raise TypeError(msg)
    return spacing


class DefaultMetadataWarning(UserWarning):
    """A writer used default timing or spacing because none was given (20 Hz, 3 µm pixels, epoch start)."""


def check_timing(timing: Timing | None, num_samples: int, name: str) -> Timing:
    """``timing``, checked against the data (``num_samples`` samples of 50 ms from the epoch if None)."""
    if timing is None:
        return Timing(num_samples=num_samples)
    require_timing(timing)
    if timing.num_samples != num_samples:
        msg = f"{name} holds {num_samples} samples but timing.num_samples is {timing.num_samples}; they must be equal"
        raise ValueError(msg)
    return timing


def check_spacing(spacing: Spacing | None, frame_shape: tuple[int, int], name: str) -> Spacing:
    """``spacing``, checked against the data (the frame shape with 3-micron pixels if None)."""
    if spacing is None:
        return Spacing(num_pixels=frame_shape)
    require_spacing(spacing)
    if spacing.num_pixels != tuple(frame_shape):
        msg = (
            f"{name} has {tuple(frame_shape)} (rows, cols) pixels per frame but spacing.num_pixels is "
            f"{spacing.num_pixels}; they must be equal"
        )
        raise ValueError(msg)
    return spacing


def warn_defaults(*, timing_given: bool, spacing_given: bool) -> None:
    """Say which metadata a writer defaulted because it was not given.

    A file written without timing or spacing gets the official defaults
    (50 ms samples from 1970-01-01; 3-micron pixels), which later read as if
    measured, so the writer says so (:class:`DefaultMetadataWarning`). The file
    itself stays byte-identical to the official writer's with the same
    defaults (nothing is added to its footer).
    """
    defaulted = []
    if not timing_given:
        defaulted.append("timing (a 50 ms period, start 1970-01-01 00:00:00 UTC)")
    if not spacing_given:
        defaulted.append("spacing (3 um pixels)")
    if defaulted:
        warnings.warn(
            f"no {' and no '.join(d.split(' ')[0] for d in defaulted)} given, so the file gets the official default "
            f"{' and '.join(defaulted)}; pass timing=/spacing= (or metadata_from=) to store the real values",
            DefaultMetadataWarning,
            stacklevel=3,
        )


def inherit_metadata(
    metadata_from: str | os.PathLike[str] | None,
    timing: Timing | None,
    spacing: Spacing | None,
    extra_properties: Any,
    cell_names: Sequence[str | None] | None = None,
) -> tuple[Timing | None, Spacing | None, Any, Sequence[str | None] | None]:
    """Fill what was not given from an existing ``.isxd`` file: timing, spacing, extra properties, cell names.

    Cell names come from a cell set or event set only. The extra properties
    are checked to be strict JSON either way.
    """
    if metadata_from is not None:
        from ..layout import IsxdFormatError
        from ..readers import open_isxd

        try:
            source = open_isxd(metadata_from)
        except FileNotFoundError as err:
            msg = f"metadata_from {os.fspath(metadata_from)!r} does not exist; expected an .isxd file to take metadata from"
            raise FileNotFoundError(errno.ENOENT, msg, os.fspath(metadata_from)) from err
        except IsxdFormatError as err:
            msg = f"metadata_from {os.fspath(metadata_from)!r} is not a readable .isxd file: {err}"
            raise IsxdFormatError(msg) from err
        timing = source.timing if timing is None else timing
        spacing = source.spacing if spacing is None else spacing
        extra_properties = source.extra_properties if extra_properties is None else extra_properties
        if cell_names is None:
            found = getattr(source, "names", None)
            found = getattr(source, "cell_names", None) if found is None else found
            cell_names = None if found is None else list(found)
    try:
        check_extra_properties(extra_properties)
    except RecursionError:
        msg = (
            "extra_properties is nested too deeply to be stored as JSON (Python's recursion limit was reached); "
            "expected a few levels of dicts and lists, as acquisition metadata has"
        )
        raise ValueError(msg) from None
    check_utf8_json(extra_properties, "extra_properties")
    check_json_keys(extra_properties, "extra_properties")
    return timing, spacing, extra_properties, cell_names


def check_json_keys(value: Any, name: str) -> None:
    """Refuse dict keys that are not ``str``: JSON would store ``{1: 'x'}`` as ``{"1": "x"}``, a different value when read back."""
    stack: list[tuple[str, Any]] = [(name, value)]
    while stack:
        where, item = stack.pop()
        if isinstance(item, dict):
            for key, sub in item.items():
                if not isinstance(key, str):
                    stored = next(iter(json.loads(json.dumps({key: 0}))))
                    msg = (
                        f"{where} has the key {key!r} ({type(key).__name__}); expected str keys only: JSON stores it as "
                        f"{stored!r}, which reads back as a different value"
                    )
                    raise ValueError(msg)
                stack.append((f"{where}[{key!r}]", sub))
        elif isinstance(item, (list, tuple)):
            stack.extend((f"{where}[{k}]", sub) for k, sub in enumerate(item))


def check_utf8_json(value: Any, name: str) -> None:
    """Refuse JSON text that cannot be encoded as UTF-8 (lone surrogates in a key or string) before any byte is written.

    ``json.dumps`` escapes lone surrogates as ``\\udXXX`` by default, but the
    footer is written as UTF-8 text (``ensure_ascii=False``, as the official
    writer does), which cannot hold them; found only at commit, the error
    would come after every chunk was written.
    """
    try:
        json.dumps(value, ensure_ascii=False, allow_nan=False).encode("utf-8")
    except UnicodeEncodeError as err:
        bad = err.object[err.start : err.end] if isinstance(err.object, str) else ""
        msg = (
            f"{name} holds text that is not valid Unicode ({err.reason}: {bad!r}); expected str keys and values "
            f"that encode as UTF-8 (the footer is UTF-8 JSON)"
        )
        raise ValueError(msg) from None


def resolve_metadata_from(
    metadata_from: str | os.PathLike[str] | None,
    timing: Timing | None,
    spacing: Spacing | None,
    extra_properties: Any,
) -> tuple[Timing | None, Spacing | None, Any]:
    """Timing, spacing and extra properties of :func:`inherit_metadata` (for movies and regions)."""
    return inherit_metadata(metadata_from, timing, spacing, extra_properties)[:3]
