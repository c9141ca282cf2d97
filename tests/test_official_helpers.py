"""Helpers that client code imports from the official ``isx`` namespace, compared with the official package.

The acquisition-info cases write a small movie (or cell set, event set) whose
``extraProperties`` is the case, read it with the official reader's
``get_acquisition_info()``, and compare with ``acquisition_info`` of the same value.
"""

from __future__ import annotations

import inspect
import json
import os
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
import pytest

from isx_dask import Duration, Spacing, Time, Timing, open_isxd, write_cell_set, write_event_set, write_movie
from isx_dask.official import (
    _is_with_algos,
    acquisition_info,
    get_file_extension,
    get_file_stem,
    make_output_file_path,
    make_output_file_paths,
)

GOLDEN = Path(__file__).parent / "data" / "golden"

# -- file-name helpers -------------------------------------------------------------------------------

NAMES = ["in_dir/in_file.xml", "rec.isxd", "a.b/c.d.e", "dir/x.tar.gz", "/abs/path/movie-PP.isxd", "n.", "a..b"]


@pytest.mark.parametrize("name", ["make_output_file_path", "make_output_file_paths", "get_file_stem", "get_file_extension"])
def test_signatures_are_the_official_ones(isx, name):
    ours, theirs = inspect.signature(globals()[name]), inspect.signature(getattr(isx, name))
    assert [(p.name, p.kind, p.default) for p in ours.parameters.values()] == [
        (p.name, p.kind, p.default) for p in theirs.parameters.values()
    ]


@pytest.mark.parametrize("path", NAMES)
def test_stem_and_extension_as_the_official(isx, path):
    assert get_file_stem(path) == isx.get_file_stem(path)
    assert get_file_extension(path) == isx.get_file_extension(path)
    assert get_file_stem(PurePosixPath(path)) == isx.get_file_stem(PurePosixPath(path))


@pytest.mark.parametrize("suffix", [None, "", "PP", "PP-DFF"])
@pytest.mark.parametrize("ext", ["isxd", "tif"])
def test_output_paths_as_the_official(isx, suffix, ext):
    for path in NAMES:
        assert make_output_file_path(path, "out_dir", suffix, ext=ext) == isx.make_output_file_path(path, "out_dir", suffix, ext=ext)
    out = Path("some") / "out"
    assert make_output_file_paths(NAMES, out, suffix, ext) == isx.make_output_file_paths(NAMES, out, suffix, ext)
    assert make_output_file_path("x/rec.isxd", "o", "PP") == os.path.join("o", "rec-PP.isxd")


def test_no_extension_is_a_value_error_as_the_official(isx):
    with pytest.raises(ValueError):
        isx.get_file_extension("dir/noext")
    with pytest.raises(ValueError, match="in_file 'dir/noext' has no extension"):
        get_file_extension("dir/noext")


def test_leading_dot_names_return(isx):
    # The official get_file_stem loops forever on these (os.path.splitext keeps a leading dot); not called here.
    assert get_file_stem("dir/.rec.isxd") == ".rec"
    assert get_file_stem("..x") == "..x"
    assert get_file_extension(".rec.isxd") == isx.get_file_extension(".rec.isxd") == ".rec.isxd"
    assert make_output_file_path(".rec.isxd", "o", "PP") == os.path.join("o", ".rec-PP.isxd")


def test_is_with_algos_is_false(isx):
    assert _is_with_algos is False
    assert isinstance(isx._is_with_algos, (bool, int))  # the official flag exists under the same name


# -- acquisition info ---------------------------------------------------------------------------------

ANIMAL = {"sex": "m", "dob": "2018, early foggy morning", "id": "Algernon XII", "species": "Mus musculus",
          "weight": 100500, "description": "Lorem ipsum"}
NVOKE = {  # the groups an nVoke 2 / nVista 3 acquisition records
    "animal": ANIMAL,
    "microscope": {"focus": 500, "gain": 1, "led": {"exPower": 0.7, "ogPower": 5.0}, "serial": 11094105,
                   "type": "NVoke2", "exp": 17, "fps": {"num": 20, "den": 1}},
    "name": "Session 20181120-182836",
    "personnel": {"name": 'John James "Jimmy" O\'Grady'},
    "probe": {"diameter": 0.5, "flip": "none", "length": 8.4, "pitch": 2, "rotation": 0, "type": "Straight Lens"},
    "producer": {"name": "IDAS", "version": "1.2.0", "versionBE": "1.2.0-abc123"},
    "idps": {"efocus": 700, "channel": "green", "interpolatedFrames": [4, 9]},
    "processingInterface": {"recordingUUID": "GA-12345"},
}
NVISTA3_DUAL = {
    "animal": ANIMAL,
    "microscope": {"focus": 0, "gain": 7, "led": {"exPower": 0.123456789012345678, "ogPower": 0.0, "exPower2": 1.0},
                   "serial": "unknown", "type": "nVista3", "exp": 33, "dualColor": {"enabled": True, "mode": "ALT"},
                   "customMetadata": {"Zeta": 1.5, "alpha": [0.1, 2.0], "Animal ID": "overridden"}},
    "idps": {"cellset": {"method": "cnmfe", "units": "dF over noise"}, "mc_padding": False},
}

CASES: list[Any] = [
    None, {}, {"unrelated": {"x": 1}}, NVOKE, NVISTA3_DUAL,
    {"microscope": {**NVISTA3_DUAL["microscope"], "dualColor": {"enabled": False}}},
    {"microscope": {k: v for k, v in NVOKE["microscope"].items() if k != "led"}},  # LED keys skipped
    {"producer": {"versionBE": ""}}, {"producer": {"versionBE": "-x"}}, {"producer": {"versionBE": "2.0--1"}},
    {"idps": {"vesselset": {"type": "red blood cell velocity", "units": "mm/s", "timeIncrement": 2, "timeWindow": 0.1,
                            "invalidWindows": [3, -1], "clippedVessels": "[1]"}}},
    {"idps": {"vesselset": 5}}, {"idps": 3}, {"processingInterface": 5}, {"idps": {"efocus": 500.0}},
    {"name": 123456789012345678901234567890, "personnel": {"name": 18446744073709551615}},
    {"name": -9223372036854775809}, {"name": 1e300}, {"name": -0.0, "personnel": {"name": 1.0000000000000002}},
    {"name": "é名", "microscope": {**NVOKE["microscope"], "customMetadata": {"é": 1, "Z": 2, "a": 3, "_": 4}}},
    # refused by both
    [], "text", {"microscope": "abc"}, {"microscope": None}, {"animal": {"sex": "m"}}, {"animal": None},
    {"producer": {"versionBE": 5}}, {"idps": {"efocus": "5"}}, {"idps": {"mc_padding": 1}}, {"idps": {"channel": 5}},
    {"idps": {"cellset": {"method": 5}}}, {"idps": {"vesselset": {"clippedVessels": 3}}},
    {"idps": {"vesselset": {"timeIncrement": "2"}}}, {"idps": {"interpolatedFrames": "1"}},
    {"processingInterface": {"recordingUUID": 5}},
    {"microscope": {**NVISTA3_DUAL["microscope"], "led": {"exPower": 1, "ogPower": 2}}},  # no exPower2
    {"microscope": {**NVOKE["microscope"], "customMetadata": [1]}},
    {"microscope": {**NVOKE["microscope"], "dualColor": {"enabled": 1}}},
]


def _official_info(isx: Any, path: Path, kind: str = "Movie") -> Any:
    try:
        return getattr(isx, kind).read(str(path)).get_acquisition_info()
    except Exception as err:  # the official package raises a bare Exception from its C library
        return ("raised", str(err).splitlines()[-1])


def _same(ours: Any, theirs: Any) -> bool:
    """Equal values, key order and types (1 is not 1.0), recursively."""
    return json.dumps(ours) == json.dumps(theirs) and repr(ours) == repr(theirs)


def _small_movie(path: Path, extra: Any) -> None:
    """A small movie whose footer holds ``extra`` as written by ``json.dumps``, beyond what our writer accepts (ints over 64 bits)."""
    write_movie(np.zeros((2, 3, 4), np.uint16), path, timing=Timing(num_samples=2, period=Duration(1, 20)),
                spacing=Spacing(num_pixels=(3, 4)), extra_properties="PLACEHOLDER")
    data = path.read_bytes()
    size = int.from_bytes(data[-8:], "little")
    start = len(data) - size - 9
    text = data[start:start + size].replace(b'"PLACEHOLDER"', json.dumps(extra).encode(), 1)
    path.write_bytes(data[:start] + text + b"\0" + len(text).to_bytes(8, "little"))


@pytest.mark.parametrize("case", range(len(CASES)))
def test_acquisition_info_is_the_official_dict(isx, tmp_path, case):
    extra = CASES[case]
    path = tmp_path / "m.isxd"
    _small_movie(path, extra)
    theirs = _official_info(isx, path)
    if isinstance(theirs, tuple):
        with pytest.raises(ValueError, match="extra"):
            acquisition_info(extra)
    else:
        ours = acquisition_info(open_isxd(path).extra_properties)
        assert _same(ours, theirs), (ours, theirs)
        assert _same(acquisition_info(extra), theirs)


def test_acquisition_info_of_an_nvoke_movie_reads_as_expected():
    info = acquisition_info(NVOKE)
    assert info is not None
    assert info["Acquisition SW Version"] == "1.2.0"
    assert info["Microscope OG LED Power (mw/mm^2)"] == 5 and isinstance(info["Microscope OG LED Power (mw/mm^2)"], int)
    assert info["Interpolated Samples"] == "4 9 "
    assert list(info) == sorted(info)


@pytest.mark.parametrize("name", sorted(p.name for p in GOLDEN.glob("*.isxd")))
def test_acquisition_info_of_golden_files(isx, name):
    path = GOLDEN / name
    kind = {"cellset": "CellSet", "eventset": "EventSet", "vesselset": "VesselSet"}.get(name.split("_")[0].split(".")[0], "Movie")
    theirs = _official_info(isx, path, kind)
    assert not isinstance(theirs, tuple), theirs
    assert _same(acquisition_info(open_isxd(path).extra_properties), theirs)


def test_acquisition_info_of_cell_and_event_sets(isx, tmp_path):
    timing = Timing(num_samples=5, period=Duration(1, 20), start=Time(Duration(1700000000, 1)))
    cells = tmp_path / "cells.isxd"
    write_cell_set(np.ones((1, 3, 4), np.float32), np.ones((1, 5), np.float32), cells, timing=timing,
                   spacing=Spacing(num_pixels=(3, 4)), extra_properties=NVISTA3_DUAL)
    events = tmp_path / "events.isxd"
    write_event_set([np.array([0, 100], np.uint64)], [np.array([1.0, 2.0], np.float32)], events, timing=timing,
                    cell_names=["C0"], extra_properties=NVOKE)
    for path, kind, extra in ((cells, "CellSet", NVISTA3_DUAL), (events, "EventSet", NVOKE)):
        theirs = _official_info(isx, path, kind)
        assert _same(acquisition_info(extra), theirs), (kind, theirs)


@pytest.mark.parametrize(("value", "wrapped"), [(-5, 65531), (70000, 4464), (500.7, 500)])
def test_efocus_the_official_reader_wraps_is_refused(isx, tmp_path, value, wrapped):
    path = tmp_path / "m.isxd"
    _small_movie(path, {"idps": {"efocus": value}})
    assert _official_info(isx, path) == {"efocus": wrapped}
    with pytest.raises(ValueError, match="idps.efocus"):
        acquisition_info({"idps": {"efocus": value}})


@pytest.mark.parametrize("extra", [{"idps": {"interpolatedFrames": [1, -2]}}, {"idps": {"interpolatedFrames": [1.5]}},
                                   {"idps": {"vesselset": {"invalidWindows": [2**31]}}}, {"name": float("nan")},
                                   {"name": 10**400}])
def test_numbers_the_official_reader_would_change_are_refused(extra):
    with pytest.raises(ValueError, match="extraProperties|extra"):
        acquisition_info(extra)
