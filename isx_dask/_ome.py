"""OME-NGFF (OME-Zarr 0.4 and 0.5) metadata: read axes, units, scale and translation; write multiscales.

One job: map between the ``multiscales`` attribute of an OME-Zarr image and
the :class:`~isx_dask.Timing` / :class:`~isx_dask.Spacing` of an ``.isxd``
movie. NGFF 0.4 (Zarr v2) keeps ``multiscales`` at the top level of the group
attributes, NGFF 0.5 (Zarr v3) under ``ome``. Only the level-0 dataset is
read; axes other than ``t``, ``y`` and ``x`` must be singletons.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Mapping

from ._units import NGFF_MICRONS_PER, NGFF_SECONDS_PER
from .metadata import Duration, Spacing, Timing

__all__ = [
    "EXPLICIT_HINT",
    "INT64_MAX",
    "OmeImage",
    "SPACE_UNITS_UM",
    "TIME_UNITS_S",
    "check_rational64",
    "find_multiscales",
    "ome_attrs",
    "read_ome_image",
]

#: Largest numerator or denominator a footer rational holds (the official core reads int64).
INT64_MAX = 2**63 - 1

#: What to do when the metadata in a Zarr store cannot be used.
EXPLICIT_HINT = (
    "pass timing=isx_dask.Timing(...) and spacing=isx_dask.Spacing(...) explicitly "
    "(on the command line: --period and --pixel-size)"
)

#: NGFF space units, in micrometres.
SPACE_UNITS_UM = NGFF_MICRONS_PER

#: NGFF time units, in seconds.
TIME_UNITS_S = NGFF_SECONDS_PER

_TYX = ("t", "y", "x")


@dataclass(frozen=True)
class OmeImage:
    """The level-0 array of an OME-Zarr image and what its metadata says.

    Attributes
    ----------
    array : zarr.Array
        The level-0 dataset.
    timing : Timing or None
        From the ``t`` axis (None for a ``(y, x)`` image).
    spacing : Spacing
        Pixel size and top-left corner from the ``y`` and ``x`` axes.
    squeeze : tuple of int
        Singleton axes other than ``t``, ``y``, ``x`` to drop.
    """

    array: Any
    timing: Timing | None
    spacing: Spacing
    squeeze: tuple[int, ...]


def check_rational64(value: Fraction, what: str, hint: str) -> Fraction:
    """``value`` if its numerator and denominator fit a signed 64-bit integer, else ``ValueError``.

    The official reader stores footer rationals as int64: a larger one reads
    back as a different number, so it is refused, never written.
    """
    if abs(value.numerator) > INT64_MAX or value.denominator > INT64_MAX:
        msg = (f"{what} is {float(value):.6g}, whose exact ratio {value.numerator}/{value.denominator} does not fit "
               f"the footer's 64-bit integers (at most {INT64_MAX}); {hint}")
        raise ValueError(msg)
    return value


def find_multiscales(attrs: Mapping[str, Any]) -> Any:
    """OME-Zarr multiscales metadata (NGFF 0.4 at the top level, 0.5 under ``ome``), or None."""
    if "multiscales" in attrs:
        return attrs["multiscales"]
    ome = attrs.get("ome")
    if isinstance(ome, Mapping) and "multiscales" in ome:
        return ome["multiscales"]
    return None


def _number(value: Any, where: str) -> float:
    """``value`` as a finite float, or ``ValueError`` naming ``where``."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if isinstance(value, bool) or not math.isfinite(number):
        msg = f"{where} holds {value!r}; expected a finite number; {EXPLICIT_HINT}"
        raise ValueError(msg)
    return number


def _transforms(transforms: Any, ndim: int, where: str) -> tuple[list[float], list[float]]:
    """Total ``(scale, translation)`` of a list of NGFF coordinate transformations."""
    scale, translation = [1.0] * ndim, [0.0] * ndim
    if transforms is not None and not isinstance(transforms, list):
        msg = f"{where} coordinateTransformations must be a list, got {transforms!r}; {EXPLICIT_HINT}"
        raise ValueError(msg)
    for t in transforms or []:
        kind = t.get("type") if isinstance(t, Mapping) else None
        if kind == "identity":
            continue
        values = t.get(kind) if kind in ("scale", "translation") else None
        if not isinstance(values, list) or len(values) != ndim:
            msg = (f"{where} coordinateTransformations entry {t!r} is not a 'scale' or 'translation' "
                   f"with {ndim} values (a 'path' to a file is not supported); {EXPLICIT_HINT}")
            raise ValueError(msg)
        numbers = [_number(v, f"{where} {kind}") for v in values]
        if kind == "scale":
            scale = [a * b for a, b in zip(scale, numbers)]
        else:
            translation = [a + b for a, b in zip(translation, numbers)]
    return scale, translation


def _level0(multiscales: Any, group: Any, name: str) -> tuple[Mapping[str, Any], Mapping[str, Any], Any]:
    """The first multiscale, its level-0 dataset entry and array."""
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
    if not hasattr(array, "dtype"):
        msg = f"{name}: OME-Zarr level-0 dataset {path!r} is a group; expected an array"
        raise ValueError(msg)
    return ms, dataset, array


def _axis_names(ms: Mapping[str, Any], array: Any, name: str) -> list[str]:
    axes = ms.get("axes")
    if not isinstance(axes, list):
        msg = f"{name}: OME-Zarr multiscales has no list of 'axes'; {EXPLICIT_HINT}"
        raise ValueError(msg)
    names = [str(a.get("name")) if isinstance(a, Mapping) else str(a) for a in axes]
    if len(names) != array.ndim:
        msg = f"{name}: OME-Zarr axes {names} do not match the {array.ndim} dimensions of the level-0 dataset"
        raise ValueError(msg)
    return names


def _squeezed_axes(names: list[str], shape: tuple[int, ...], name: str) -> tuple[int, ...]:
    """Axes other than t, y, x (each must be a singleton), after checking t, y, x come in that order."""
    squeeze = []
    for k, axis in enumerate(names):
        if axis in _TYX:
            continue
        if shape[k] != 1:
            msg = (f"{name}: OME-Zarr axes ({', '.join(names)}) cannot map to (t, y, x): axis {axis!r} has "
                   f"{shape[k]} elements (only singleton axes other than t, y, x can be dropped); "
                   f"select one {axis} with isx_dask.write_movie(dask.array.from_zarr(array)[...], path, "
                   f"timing=..., spacing=...), passing timing= and spacing= explicitly")
            raise ValueError(msg)
        squeeze.append(k)
    kept = [a for k, a in enumerate(names) if k not in squeeze]
    if kept not in (["t", "y", "x"], ["y", "x"]):
        msg = (f"{name}: OME-Zarr axes ({', '.join(names)}) cannot map to (t, y, x); expected t, y and x in that order "
               f"(other axes must be singletons); pass an array with axes (t, y, x) and {EXPLICIT_HINT}")
        raise ValueError(msg)
    return tuple(squeeze)


def _unit_factor(axes: Any, axis: str, table: Mapping[str, Fraction], default: str, name: str) -> Fraction:
    info = next((a for a in axes if isinstance(a, Mapping) and a.get("name") == axis), {})
    unit = info.get("unit") or default
    if unit not in table:
        msg = f"{name}: OME-Zarr axis {axis!r} has unit {unit!r}; expected one of {', '.join(table)}; {EXPLICIT_HINT}"
        raise ValueError(msg)
    return table[unit]


def _rational(value: float, factor: Fraction, what: str) -> Fraction:
    """A float from the metadata times a unit factor, as a rational that fits the footer."""
    return check_rational64(Fraction(value).limit_denominator(10**9) * factor, what, EXPLICIT_HINT)


def read_ome_image(multiscales: Any, group: Any, name: str) -> OmeImage:
    """Level-0 array, timing, spacing and the axes to squeeze, from OME-Zarr ``multiscales``.

    Raises
    ------
    ValueError
        Malformed multiscales; axes that cannot map to ``(t, y, x)``; an
        unknown unit; a non-finite, non-positive or out-of-range (beyond 64-bit
        rationals) scale. The message names ``name`` and the attribute.
    """
    ms, dataset, array = _level0(multiscales, group, name)
    names = _axis_names(ms, array, name)
    squeeze = _squeezed_axes(names, tuple(array.shape), name)
    scale, translation = _transforms(ms.get("coordinateTransformations"), len(names), f"{name}: multiscales")
    s0, t0 = _transforms(dataset.get("coordinateTransformations"), len(names), f"{name}: datasets[0]")
    scale = [a * b for a, b in zip(scale, s0)]
    translation = [a * s + b for a, s, b in zip(translation, s0, t0)]
    axes = ms["axes"]
    iy, ix = names.index("y"), names.index("x")
    fy = _unit_factor(axes, "y", SPACE_UNITS_UM, "micrometer", name)
    fx = _unit_factor(axes, "x", SPACE_UNITS_UM, "micrometer", name)
    where = f"{name}: OME-Zarr scale of axis"
    pixel_size = (_rational(scale[iy], fy, f"{where} 'y' (pixel height, um)"),
                  _rational(scale[ix], fx, f"{where} 'x' (pixel width, um)"))
    if pixel_size[0] <= 0 or pixel_size[1] <= 0:
        msg = f"{name}: OME-Zarr scale gives pixel size {tuple(map(float, pixel_size))} um; expected > 0; {EXPLICIT_HINT}"
        raise ValueError(msg)
    where = f"{name}: OME-Zarr translation of axis"
    top_left = (_rational(translation[iy], fy, f"{where} 'y' (top, um)"),
                _rational(translation[ix], fx, f"{where} 'x' (left, um)"))
    spacing = Spacing(num_pixels=(array.shape[iy], array.shape[ix]), pixel_size=pixel_size, top_left=top_left)
    timing = None
    if "t" in names:
        it = names.index("t")
        factor = _unit_factor(axes, "t", TIME_UNITS_S, "second", name)
        period = _rational(scale[it], factor, f"{name}: OME-Zarr scale of axis 't' (period, s)")
        if period <= 0:
            msg = f"{name}: OME-Zarr scale gives a period of {float(period)} s for axis 't'; expected > 0; {EXPLICIT_HINT}"
            raise ValueError(msg)
        timing = Timing(num_samples=array.shape[it], period=Duration(period.numerator, period.denominator))
    return OmeImage(array, timing, spacing, squeeze)


def ome_attrs(timing: Timing, spacing: Spacing, zarr_format: int, path: str = "frames") -> dict[str, Any]:
    """OME-Zarr multiscales attributes for one ``(t, y, x)`` array at ``path`` (NGFF 0.4 for Zarr v2, 0.5 for v3)."""
    version = "0.4" if zarr_format == 2 else "0.5"
    scale = [timing.period.secs_float, float(spacing.pixel_size[0]), float(spacing.pixel_size[1])]
    translation = [0.0, float(spacing.top_left[0]), float(spacing.top_left[1])]
    multiscales = [{
        **({"version": version} if zarr_format == 2 else {}),
        "name": path,
        "axes": [
            {"name": "t", "type": "time", "unit": "second"},
            {"name": "y", "type": "space", "unit": "micrometer"},
            {"name": "x", "type": "space", "unit": "micrometer"},
        ],
        "datasets": [{
            "path": path,
            "coordinateTransformations": [
                {"type": "scale", "scale": scale},
                {"type": "translation", "translation": translation},
            ],
        }],
    }]
    if zarr_format == 2:
        return {"multiscales": multiscales}
    return {"ome": {"version": version, "multiscales": multiscales}}
