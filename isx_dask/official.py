"""Helpers that client code imports from the official ``isx`` namespace.

Scripts written for the official package call a few functions that are not about
writing data: the output-path helpers of ``isx.util`` (``make_output_file_path``,
``make_output_file_paths``, ``get_file_stem``, ``get_file_extension``), the flag
``isx._is_with_algos`` (read at import time by the official tests), and the flat,
human-readable dictionary that ``get_acquisition_info()`` builds from a file's raw
``extraProperties``. They behave as the official ones, with the differences listed
in each docstring (all of them cases where the official function hangs, or returns a
silently wrapped number).
"""

from __future__ import annotations

import math
import numbers
import os
from typing import Any, Callable, Iterable, Mapping, Union

__all__ = [
    "acquisition_info",
    "get_file_extension",
    "get_file_stem",
    "make_output_file_path",
    "make_output_file_paths",
]

#: The official package sets this when it is built with its processing algorithms
#: (``isx.preprocess``, ``isx.pca_ica``, ...). isx_dask has none of them.
_is_with_algos = False

PathText = Union[str, "os.PathLike[str]"]


# -- file names (isx.util) ---------------------------------------------------------------


def get_file_stem(in_file: PathText) -> str:
    """The file name without its directory and without every extension.

    ``get_file_stem('dir/rec.isxd')`` is ``'rec'``, ``get_file_stem('a/b.c.d')`` is ``'b'``,
    as ``isx.get_file_stem``. For a name that starts with a dot (``'.rec.isxd'``) the
    official function never returns; this one keeps the leading dots (``'.rec'``).

    Parameters
    ----------
    in_file : str or os.PathLike
        A file path.

    Returns
    -------
    str
        The stem.
    """
    name = os.path.basename(in_file)
    body = name.lstrip(".")
    return name[: len(name) - len(body)] + body.split(".", 1)[0]


def get_file_extension(in_file: PathText) -> str:
    """Every extension of the file name, from its first dot: ``'a/b.c.d'`` gives ``'.c.d'``.

    As ``isx.get_file_extension`` (a name that starts with a dot is all extension:
    ``'.rec.isxd'`` gives ``'.rec.isxd'``).

    Parameters
    ----------
    in_file : str or os.PathLike
        A file path.

    Returns
    -------
    str
        The extensions, with their leading dot.

    Raises
    ------
    ValueError
        If the file name has no dot (the official function raises ``ValueError:
        substring not found``).
    """
    name = os.path.basename(in_file)
    if "." not in name:
        msg = f"in_file {os.fspath(in_file)!r} has no extension; expected a file name with a '.'"
        raise ValueError(msg)
    return name[name.index(".") :]


def make_output_file_path(in_file: PathText, out_dir: PathText, suffix: str | None = None, ext: str = "isxd") -> str:
    """The path of an output file named after an input file, as ``isx.make_output_file_path``.

    Parameters
    ----------
    in_file : str or os.PathLike
        The input file; only its stem (:func:`get_file_stem`) is used.
    out_dir : str or os.PathLike
        The output directory.
    suffix : str, optional
        Appended to the stem after a ``'-'``; none when empty or None.
    ext : str, default 'isxd'
        The output extension, without the dot.

    Returns
    -------
    str
        ``out_dir/<stem>-<suffix>.<ext>`` (or ``out_dir/<stem>.<ext>``).

    Examples
    --------
    >>> make_output_file_path('in_dir/in_file.xml', 'out_dir', 'PP')  # doctest: +SKIP
    'out_dir/in_file-PP.isxd'
    """
    stem = get_file_stem(in_file)
    name = f"{stem}-{suffix}.{ext}" if suffix else f"{stem}.{ext}"
    return os.path.join(out_dir, name)


def make_output_file_paths(in_files: Iterable[PathText], out_dir: PathText, suffix: str | None, ext: str = "isxd") -> list[str]:
    """:func:`make_output_file_path` for each input file, as ``isx.make_output_file_paths``.

    Parameters
    ----------
    in_files : iterable of str or os.PathLike
        The input files.
    out_dir : str or os.PathLike
        The output directory.
    suffix : str or None
        Appended to each stem after a ``'-'``; none when empty or None (required, as
        in the official signature).
    ext : str, default 'isxd'
        The output extension, without the dot.

    Returns
    -------
    list of str
        One output path per input file, in order.
    """
    return [make_output_file_path(f, out_dir, suffix, ext=ext) for f in in_files]


# -- acquisition info ----------------------------------------------------------------------

_INT64_MIN, _UINT64_MAX = -(2**63), 2**64 - 1
_MISSING = object()


def acquisition_info(extra_properties: Any) -> dict[str, Any] | None:
    """The official ``get_acquisition_info()`` dictionary for a file's raw ``extraProperties``.

    The official readers flatten the acquisition metadata that Inscopix software
    records (``extraProperties``) into human-readable keys; this does the same from
    the parsed JSON value, so that ``get_acquisition_info()`` gives the official
    result for every file. Known groups and the keys they give:

    ============================================  ================================================
    ``extraProperties``                            key
    ============================================  ================================================
    ``animal.{sex,dob,id,species,weight,          ``Animal Sex``, ``Animal Date of Birth``,
    description}``                                ``Animal ID``, ``Animal Species``,
                                                  ``Animal Weight``, ``Animal Description``
    ``microscope.{focus,gain,serial,type,exp}``   ``Microscope Focus``, ``Microscope Gain``,
                                                  ``Microscope Serial Number``,
                                                  ``Microscope Type``, ``Exposure Time (ms)``
    ``microscope.led.{exPower,ogPower}``          ``Microscope EX LED Power (mw/mm^2)``,
                                                  ``Microscope OG LED Power (mw/mm^2)`` (with
                                                  ``microscope.dualColor``: ``EX LED 1`` /
                                                  ``EX LED 2``, the second from ``exPower2``
                                                  when ``dualColor.enabled``)
    ``microscope.customMetadata.*``               copied under their own keys
    ``name``, ``personnel.name``                  ``Session Name``, ``Experimenter Name``
    ``probe.{diameter,flip,length,pitch,          ``Probe Diameter (mm)``, ``Probe Flip``,
    rotation,type}``                              ``Probe Length (mm)``, ``Probe Pitch``,
                                                  ``Probe Rotation (degrees)``, ``Probe Type``
    ``producer.versionBE`` (before the first -)   ``Acquisition SW Version``
    ``idps.efocus``, ``idps.channel``             ``efocus``, ``channel``
    ``idps.interpolatedFrames``                   ``Interpolated Samples`` (``'1 2 3 '``)
    ``idps.mc_padding``                           ``Motion correction padding``
    ``idps.cellset.{method,units}``               ``Cell Identification Method``, ``Trace Units``
    ``idps.vesselset.*``                          ``Vessel Set Type``, ``Trace Units``,
                                                  ``Time Increment (s)``, ``Time Window (s)``,
                                                  ``Windows with Invalid Frame Error`` and the
                                                  three ``Vessels with ... Error`` keys
                                                  (``'{}'`` when absent)
    ``processingInterface.recordingUUID``         ``Recording UUID``
    ============================================  ================================================

    Keys are in the official (byte-wise sorted) order, and numbers come out as the
    official JSON printer gives them: floats to 15 significant digits, and a float
    with an integral value as an int (``100.0`` gives ``100``, ``0.0`` stays ``0.0``).

    Parameters
    ----------
    extra_properties : JSON value
        The parsed ``extraProperties`` of a file (a dict, or None).

    Returns
    -------
    dict or None
        None when ``extra_properties`` is None or holds none of the groups above, as
        the official function.

    Raises
    ------
    ValueError
        Where the official function raises: ``extra_properties`` is not an object or
        null; a group is present but lacks one of its keys (once ``animal`` is there,
        all six of its keys are required; ``microscope`` needs ``focus``, ``gain``,
        ``serial``, ``type``, ``exp``); a value has the wrong type (``versionBE``,
        ``channel`` ... must be strings, ``mc_padding`` a bool). Also, where the
        official function silently wraps or truncates a number, for ``idps.efocus``
        outside 0..65535 or not a whole number (the official package shows -5 as
        65531 and 500.7 as 500), ``idps.interpolatedFrames`` entries that are not
        whole numbers >= 0, and ``idps.vesselset.invalidWindows`` entries that are not
        32-bit whole numbers; and for non-finite numbers, which the official reader
        cannot read from a file.
    """
    if extra_properties is None:
        return None
    if not isinstance(extra_properties, Mapping):
        hint = "; pass the parsed JSON (json.loads(text)), not its text" if isinstance(extra_properties, str) else ""
        msg = f"extra_properties must be a JSON object (dict) or None, got {type(extra_properties).__name__}{hint}"
        raise ValueError(msg)
    info: dict[str, Any] = {}
    _animal(extra_properties, info)
    _microscope(extra_properties, info)
    if "name" in extra_properties:
        info["Session Name"] = extra_properties["name"]
    if "personnel" in extra_properties:
        info["Experimenter Name"] = _at(extra_properties["personnel"], "name", "personnel")
    _probe(extra_properties, info)
    if "producer" in extra_properties:
        version = _string(_at(extra_properties["producer"], "versionBE", "producer"), "producer.versionBE")
        info["Acquisition SW Version"] = version.split("-", 1)[0]
    _idps(extra_properties.get("idps", _MISSING), info)
    interface = extra_properties.get("processingInterface", _MISSING)
    if isinstance(interface, Mapping) and "recordingUUID" in interface:
        info["Recording UUID"] = _string(interface["recordingUUID"], "processingInterface.recordingUUID")
    if not info:
        return None
    return _as_printed(info, "extraProperties")  # type: ignore[no-any-return]


def _at(group: Any, key: str, path: str) -> Any:
    """``group[key]``, where the official reader requires both the object and the key."""
    if not isinstance(group, Mapping):
        shown = "null" if group is None else type(group).__name__
        msg = f"extraProperties.{path} must be an object with a {key!r} key for acquisition info, got {shown}"
        raise ValueError(msg)
    if key not in group:
        msg = (
            f"extraProperties.{path} has no {key!r} key; the official get_acquisition_info requires it "
            f"once {path!r} is present"
        )
        raise ValueError(msg)
    return group[key]


def _string(value: Any, path: str) -> str:
    if not isinstance(value, str):
        msg = f"extraProperties.{path} must be a string, got {value!r}"
        raise ValueError(msg)
    return value


def _whole(value: Any, path: str, low: int, high: int) -> int:
    """A whole number in ``[low, high]`` (an integral float is accepted), or raise naming ``path``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        msg = f"extraProperties.{path} must be a number, got {value!r}"
        raise ValueError(msg)
    number = int(value) if isinstance(value, numbers.Integral) else float(value)
    if isinstance(number, float) and not number.is_integer():
        msg = f"extraProperties.{path} must be a whole number, got {value!r} (the official reader truncates it)"
        raise ValueError(msg)
    if not low <= number <= high:
        msg = f"extraProperties.{path} must be between {low} and {high}, got {value!r} (the official reader wraps it)"
        raise ValueError(msg)
    return int(number)


def _animal(extra: Mapping[str, Any], info: dict[str, Any]) -> None:
    if "animal" not in extra:
        return
    animal = extra["animal"]
    for key, label in (("sex", "Sex"), ("dob", "Date of Birth"), ("id", "ID"), ("species", "Species"),
                       ("weight", "Weight"), ("description", "Description")):
        info[f"Animal {label}"] = _at(animal, key, "animal")


def _microscope(extra: Mapping[str, Any], info: dict[str, Any]) -> None:
    scope = extra.get("microscope", _MISSING)
    # The official reader looks up microscope.dualColor first, on any microscope value but null.
    if scope is not _MISSING and scope is not None and not isinstance(scope, Mapping):
        msg = f"extraProperties.microscope must be an object, got {type(scope).__name__}"
        raise ValueError(msg)
    if scope is _MISSING:
        return
    multicolor = isinstance(scope, Mapping) and scope.get("dualColor") is not None
    info["Microscope Focus"] = _at(scope, "focus", "microscope")
    info["Microscope Gain"] = _at(scope, "gain", "microscope")
    assert isinstance(scope, Mapping)  # _at raised otherwise
    if "led" in scope:  # the official reader skips the LED keys (with a failed-assertion message) without it
        led = scope["led"]
        first = _at(led, "exPower", "microscope.led")
        second = _at(led, "ogPower", "microscope.led")
        if multicolor:
            enabled = _at(scope["dualColor"], "enabled", "microscope.dualColor")
            if not isinstance(enabled, bool):
                msg = f"extraProperties.microscope.dualColor.enabled must be true or false, got {enabled!r}"
                raise ValueError(msg)
            if enabled:
                second = _at(led, "exPower2", "microscope.led")
        names = ("EX LED 1", "EX LED 2") if multicolor else ("EX LED", "OG LED")
        info[f"Microscope {names[0]} Power (mw/mm^2)"] = first
        info[f"Microscope {names[1]} Power (mw/mm^2)"] = second
    info["Microscope Serial Number"] = _at(scope, "serial", "microscope")
    info["Microscope Type"] = _at(scope, "type", "microscope")
    info["Exposure Time (ms)"] = _at(scope, "exp", "microscope")
    custom = scope.get("customMetadata")
    if custom is not None:
        if not isinstance(custom, Mapping):
            msg = f"extraProperties.microscope.customMetadata must be an object, got {type(custom).__name__}"
            raise ValueError(msg)
        info.update(custom)


def _probe(extra: Mapping[str, Any], info: dict[str, Any]) -> None:
    if "probe" not in extra:
        return
    probe = extra["probe"]
    for key, label in (("diameter", "Diameter (mm)"), ("flip", "Flip"), ("length", "Length (mm)"),
                       ("pitch", "Pitch"), ("rotation", "Rotation (degrees)"), ("type", "Type")):
        info[f"Probe {label}"] = _at(probe, key, "probe")


def _idps(idps: Any, info: dict[str, Any]) -> None:
    if not isinstance(idps, Mapping):  # the official reader finds nothing inside a non-object
        return
    if "efocus" in idps:
        info["efocus"] = _whole(idps["efocus"], "idps.efocus", 0, 65535)
    if "channel" in idps:
        info["channel"] = _string(idps["channel"], "idps.channel")
    if "interpolatedFrames" in idps:
        info["Interpolated Samples"] = _spaced(idps["interpolatedFrames"], "idps.interpolatedFrames", 0, _UINT64_MAX)
    if "mc_padding" in idps:
        padding = idps["mc_padding"]
        if not isinstance(padding, bool):
            msg = f"extraProperties.idps.mc_padding must be true or false, got {padding!r}"
            raise ValueError(msg)
        info["Motion correction padding"] = padding
    cellset = idps.get("cellset")
    if isinstance(cellset, Mapping):
        if "method" in cellset:
            info["Cell Identification Method"] = _string(cellset["method"], "idps.cellset.method")
        if "units" in cellset:
            info["Trace Units"] = _string(cellset["units"], "idps.cellset.units")
    if "vesselset" in idps:
        _vesselset(idps["vesselset"], info)


def _vesselset(vessels: Any, info: dict[str, Any]) -> None:
    found = vessels if isinstance(vessels, Mapping) else {}
    path = "idps.vesselset"
    if "type" in found:
        info["Vessel Set Type"] = _string(found["type"], f"{path}.type")
    if "units" in found:
        info["Trace Units"] = _string(found["units"], f"{path}.units")
    for key, label in (("timeIncrement", "Time Increment (s)"), ("timeWindow", "Time Window (s)")):
        if key in found:
            value = found[key]
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                msg = f"extraProperties.{path}.{key} must be a number, got {value!r}"
                raise ValueError(msg)
            info[label] = float(value)
    if "invalidWindows" in found:
        info["Windows with Invalid Frame Error"] = _spaced(found["invalidWindows"], f"{path}.invalidWindows",
                                                          -(2**31), 2**31 - 1)
    for key, label in (("clippedVessels", "Clipping Error"), ("noSignificantVessels", "No Significant Pixels Error"),
                       ("directionChangedVessels", "Direction Change Error")):
        info[f"Vessels with {label}"] = _string(found[key], f"{path}.{key}") if key in found else "{}"


def _spaced(values: Any, path: str, low: int, high: int) -> str:
    """Whole numbers, each followed by a space, as the official reader prints index lists."""
    if not isinstance(values, list):
        msg = f"extraProperties.{path} must be an array of whole numbers, got {values!r}"
        raise ValueError(msg)
    return "".join(f"{_whole(v, f'{path}[{i}]', low, high)} " for i, v in enumerate(values))


def _as_printed(value: Any, path: str) -> Any:
    """A JSON value as the official reader's JSON printer and Python's parser give it back."""
    if isinstance(value, Mapping):
        keys = sorted(value, key=lambda k: str(k).encode("utf-8", "surrogatepass"))
        return {k: _as_printed(value[k], f"{path}.{k}") for k in keys}
    if isinstance(value, (list, tuple)):
        return [_as_printed(v, f"{path}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, numbers.Integral):
        number = int(value)
        if _INT64_MIN <= number <= _UINT64_MAX:
            return number
        return _printed_float(_to_float(number, path), path)  # beyond 64 bits the official parser keeps a double
    if isinstance(value, numbers.Real):
        return _printed_float(float(value), path)
    msg = f"{path} holds {value!r}, which is not a JSON value"
    raise ValueError(msg)


def _to_float(value: int, path: str) -> float:
    try:
        return float(value)
    except OverflowError:
        digits = len(str(abs(value)))
        msg = f"{path} is an integer of {digits} digits, beyond the range of a double; the official reader cannot read it"
        raise ValueError(msg) from None


def _printed_float(value: float, path: str) -> int | float:
    """``value`` printed with 15 significant digits (``%g``) and parsed back; zero stays a float."""
    if not math.isfinite(value):
        msg = f"{path} = {value!r} is not a finite number; the official reader cannot read it from a file"
        raise ValueError(msg)
    if value == 0:
        return value
    text = f"{value:.15g}"
    parse: Callable[[str], int | float] = float if any(c in text for c in ".en") else int
    return parse(text)
