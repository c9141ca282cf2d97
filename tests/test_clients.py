"""Client code written for the official ``isx`` package runs with ``import isx_dask as isx``.

Each test runs one usage pattern of real client code (modelled on the IDEAS
CaImAn and suite2p toolboxes and a Miniscope multi-file converter; the code
here is our own) twice on the same inputs: once with ``isx_dask`` and once
with the official package. Both files are then read by the official reader
and compared: pixels, traces, names, statuses, events, timing and spacing.
The conversion warnings the two packages emit on the way are compared too.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import isx_dask
from isx_dask.layout import IsxdFormatError
from isx_dask.readers._file import read_footer
from isx_dask.target import rewrite_footer

from conftest import GOLDEN_DIR

START_SECS = 1_700_000_000


def _timing(m: Any, num_samples: int, period: Any) -> Any:
    start = m.Time._from_secs_since_epoch(m.Duration.from_secs(START_SECS))
    return m.Timing(num_samples=num_samples, period=period, start=start)


def _converting(caught: list[warnings.WarningMessage]) -> list[str]:
    return [str(w.message) for w in caught if issubclass(w.category, UserWarning) and "Converting" in str(w.message)]


def _run(pattern: Any, m: Any, out: Path, *args: Any) -> list[str]:
    """Run ``pattern(m, out, *args)``; the official-style conversion warnings it emitted, in order."""
    out.mkdir()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pattern(m, out, *args)
    return _converting(caught)


# -- comparison in the official reader ----------------------------------------------------------
def _same_cell_sets(isx: Any, ours: Path, theirs: Path) -> None:
    a, b = isx.CellSet.read(str(ours)), isx.CellSet.read(str(theirs))
    assert a.num_cells == b.num_cells
    assert a.timing == b.timing
    assert a.spacing == b.spacing
    for i in range(a.num_cells):
        assert a.get_cell_name(i) == b.get_cell_name(i)
        assert a.get_cell_status(i) == b.get_cell_status(i)
        np.testing.assert_array_equal(a.get_cell_image_data(i), b.get_cell_image_data(i))
        np.testing.assert_array_equal(a.get_cell_trace_data(i), b.get_cell_trace_data(i))


def _same_event_sets(isx: Any, ours: Path, theirs: Path) -> None:
    a, b = isx.EventSet.read(str(ours)), isx.EventSet.read(str(theirs))
    assert a.num_cells == b.num_cells
    assert a.timing == b.timing
    for i in range(a.num_cells):
        assert a.get_cell_name(i) == b.get_cell_name(i)
        offs_a, amps_a = a.get_cell_data(i)
        offs_b, amps_b = b.get_cell_data(i)
        np.testing.assert_array_equal(offs_a, offs_b)
        np.testing.assert_array_equal(amps_a, amps_b)


def _same_movies(isx: Any, ours: Path, theirs: Path) -> None:
    a, b = isx.Movie.read(str(ours)), isx.Movie.read(str(theirs))
    assert a.timing == b.timing
    assert a.spacing == b.spacing
    assert a.data_type == b.data_type
    for i in range(a.timing.num_samples):
        np.testing.assert_array_equal(a.get_frame_data(i), b.get_frame_data(i))


# -- CaImAn-style conversion: flat footprints, float64 traces, statuses edited after reopening --------
def _caiman_inputs() -> dict[str, Any]:
    rng = np.random.default_rng(7)
    dims, num_cells, num_samples = (6, 5), 4, 30
    footprints = rng.random((dims[0] * dims[1], num_cells))  # CaImAn's A: one flat column per cell
    denoised = rng.normal(size=(num_cells, num_samples))  # C, float64
    spikes = np.where(rng.random((num_cells, num_samples)) > 0.8, rng.random((num_cells, num_samples)), 0.0)  # S
    spikes[2] = 0.0  # a cell without events
    return {"A": footprints, "C": denoised, "S": spikes, "dims": dims, "good": [0, 3]}


def _caiman_style(m: Any, out: Path, inp: dict[str, Any]) -> None:
    period = m.Duration.from_msecs(50)
    timing = _timing(m, inp["C"].shape[1], period)
    spacing = m.Spacing(num_pixels=inp["dims"])
    cell_set = m.CellSet.write(str(out / "cellset.isxd"), timing, spacing)
    for i in range(inp["A"].shape[1]):
        cell_set.set_cell_data(i, inp["A"][:, i], inp["C"][i], f"C{i}")
    cell_set.flush()
    assert cell_set.mode == "w"

    cell_set = m.CellSet.read(str(out / "cellset.isxd"), read_only=False)
    for i in range(cell_set.num_cells):
        cell_set.set_cell_status(i, "accepted" if i in inp["good"] else "rejected")
    names = [cell_set.get_cell_name(i) for i in range(cell_set.num_cells)]

    event_set = m.EventSet.write(str(out / "eventset.isxd"), timing, names)
    step = period.to_usecs()
    for i, row in enumerate(inp["S"]):
        where = np.argwhere(row > 0)  # (k, 1) sample indices
        event_set.set_cell_data(i, where * step, row[where[:, 0]])
    event_set.flush()


def test_caiman_style_conversion(isx: Any, tmp_path: Path) -> None:
    inp = _caiman_inputs()
    ours = _run(_caiman_style, isx_dask, tmp_path / "ours", inp)
    theirs = _run(_caiman_style, isx, tmp_path / "official", inp)
    assert ours == theirs
    assert "Converting from float64 to float32." in ours
    assert "Converting from int64 to uint64." in ours

    _same_cell_sets(isx, tmp_path / "ours/cellset.isxd", tmp_path / "official/cellset.isxd")
    _same_event_sets(isx, tmp_path / "ours/eventset.isxd", tmp_path / "official/eventset.isxd")
    # Independently of the official writer: footprints are the flat columns in C order, statuses as set.
    read = isx.CellSet.read(str(tmp_path / "ours/cellset.isxd"))
    for i in range(4):
        expected = inp["A"][:, i].astype(np.float32).reshape(inp["dims"])
        np.testing.assert_array_equal(read.get_cell_image_data(i), expected)
        assert read.get_cell_status(i) == ("accepted" if i in inp["good"] else "rejected")
    events = isx.EventSet.read(str(tmp_path / "ours/eventset.isxd"))
    offsets, _ = events.get_cell_data(1)
    np.testing.assert_array_equal(offsets, np.flatnonzero(inp["S"][1] > 0) * 50_000)


# -- suite2p-style conversion: statuses set on the set being written, no flush, read at once -----------
def _suite2p_inputs() -> dict[str, Any]:
    rng = np.random.default_rng(11)
    dims, num_cells, num_samples = (8, 9), 5, 24
    stat = []
    for k in range(num_cells):
        ypix = rng.integers(0, dims[0], size=6)
        xpix = rng.integers(0, dims[1], size=6)
        stat.append({"ypix": ypix, "xpix": xpix, "lam": rng.random(6).astype(np.float32)})
    fluorescence = rng.normal(size=(num_cells, num_samples)).astype(np.float32)  # F is float32
    spks = np.maximum(rng.normal(size=(num_cells, num_samples)), 0).astype(np.float32)
    iscell = np.array([[1, 0.9], [0, 0.2], [1, 0.7], [0, 0.1], [1, 0.8]])
    return {"stat": stat, "F": fluorescence, "spks": spks, "iscell": iscell, "dims": dims, "fs": 20.0}


def _suite2p_style(m: Any, out: Path, inp: dict[str, Any]) -> None:
    period = m.Duration._from_secs_float(1 / inp["fs"])
    timing = _timing(m, inp["F"].shape[1], period)
    spacing = m.Spacing(num_pixels=inp["dims"])
    path = str(out / "cellset.isxd")
    cell_set = m.CellSet.write(path, timing, spacing)
    for i, roi in enumerate(inp["stat"]):
        image = np.zeros(inp["dims"], dtype=np.float32)
        image[roi["ypix"], roi["xpix"]] = roi["lam"]
        cell_set.set_cell_data(i, image, inp["F"][i], f"C{i:02d}")
    for i in range(len(inp["stat"])):
        cell_set.set_cell_status(i, "accepted" if inp["iscell"][i, 0] else "rejected")
    # No flush(): set_cell_status has committed the file, so it can be read at once.
    reread = m.CellSet.read(path)
    names = [reread.get_cell_name(i) for i in range(reread.num_cells)]

    event_set = m.EventSet.write(str(out / "eventset.isxd"), timing, names)
    usecs = np.arange(inp["spks"].shape[1], dtype=np.uint64) * np.uint64(period.to_usecs())
    threshold = np.percentile(inp["spks"], 80)
    for i, row in enumerate(inp["spks"]):
        keep = row > threshold
        event_set.set_cell_data(i, usecs[keep], row[keep])
    event_set.flush()


def test_suite2p_style_conversion(isx: Any, tmp_path: Path) -> None:
    inp = _suite2p_inputs()
    ours = _run(_suite2p_style, isx_dask, tmp_path / "ours", inp)
    theirs = _run(_suite2p_style, isx, tmp_path / "official", inp)
    assert ours == theirs == []  # float32 and uint64 inputs: nothing to convert
    _same_cell_sets(isx, tmp_path / "ours/cellset.isxd", tmp_path / "official/cellset.isxd")
    _same_event_sets(isx, tmp_path / "ours/eventset.isxd", tmp_path / "official/eventset.isxd")
    read = isx.CellSet.read(str(tmp_path / "ours/cellset.isxd"))
    assert [read.get_cell_status(i) for i in range(5)] == ["accepted", "rejected", "accepted", "rejected", "accepted"]
    assert read.timing.period == isx.Duration.from_msecs(50)


def test_set_cell_status_before_every_cell_is_written_is_refused(tmp_path: Path) -> None:
    timing = isx_dask.Timing(num_samples=3, period=isx_dask.Duration.from_msecs(50))
    cell_set = isx_dask.CellSet.write(str(tmp_path / "c.isxd"), timing, isx_dask.Spacing(num_pixels=(2, 2)))
    cell_set.set_cell_data(0, np.ones((2, 2), np.float32), np.zeros(3, np.float32), "a")
    with pytest.raises(IndexError, match="cell 1 has not been written yet"):
        cell_set.set_cell_status(1, "accepted")
    cell_set.discard()
    assert not (tmp_path / "c.isxd").exists()


# -- statuses edited in place: one byte, or a new file renamed over the old one ---------------------------
def test_status_edit_changes_one_byte_in_place(isx: Any, tmp_path: Path) -> None:
    inp = _caiman_inputs()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _caiman_style(isx_dask, tmp_path, inp)
    before, inode = (tmp_path / "cellset.isxd").read_bytes(), os.stat(tmp_path / "cellset.isxd").st_ino
    isx_dask.CellSet.read(tmp_path / "cellset.isxd", read_only=False).set_cell_status(1, "accepted")
    after = (tmp_path / "cellset.isxd").read_bytes()
    assert len(after) == len(before)
    assert int(np.count_nonzero(np.frombuffer(after, np.uint8) != np.frombuffer(before, np.uint8))) == 1
    assert os.stat(tmp_path / "cellset.isxd").st_ino == inode
    assert isx.CellSet.read(str(tmp_path / "cellset.isxd")).get_cell_status(1) == "accepted"


def test_status_edit_of_an_official_file(isx: Any, golden: Any) -> None:
    path = golden("cellset.isxd")
    original = isx.CellSet.read(str(GOLDEN_DIR / "cellset.isxd"))
    cell_set = isx_dask.CellSet.read(path, read_only=False)
    new_status = "rejected" if original.get_cell_status(1) != "rejected" else "accepted"
    cell_set.set_cell_status(1, new_status)
    assert cell_set.get_cell_status(1) == new_status
    edited = isx.CellSet.read(str(path))
    assert edited.num_cells == original.num_cells
    assert edited.timing == original.timing and edited.spacing == original.spacing
    for i in range(original.num_cells):
        expected = new_status if i == 1 else original.get_cell_status(i)
        assert edited.get_cell_status(i) == expected
        assert edited.get_cell_name(i) == original.get_cell_name(i)
        np.testing.assert_array_equal(edited.get_cell_trace_data(i), original.get_cell_trace_data(i))
        np.testing.assert_array_equal(edited.get_cell_image_data(i), original.get_cell_image_data(i))
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]  # no temporary file left


# -- vessel sets: written, then statuses edited in place (read_only=False) or set while writing -------------
def _vessel_style(m: Any, out: Path, edit_after_reopen: bool) -> None:
    rng = np.random.default_rng(5)
    timing = _timing(m, 6, m.Duration.from_msecs(100))
    spacing = m.Spacing(num_pixels=(5, 6))
    path = str(out / "vessels.isxd")
    vessel_set = m.VesselSet.write(path, timing, spacing, "vessel diameter")
    projection = rng.random((5, 6)).astype(np.float32)
    for i in range(3):
        line = np.array([[i, 0], [i + 2, 4]], dtype=np.int64)
        vessel_set.set_vessel_diameter_data(i, projection, line, rng.random(6).astype(np.float32),
                                            rng.random(6).astype(np.float32), f"V{i}")
    if edit_after_reopen:
        vessel_set.flush()
        vessel_set = m.VesselSet.read(path, read_only=False)
    for i, status in enumerate(["accepted", "rejected", "undecided"]):
        vessel_set.set_vessel_status(i, status)


@pytest.mark.parametrize("edit_after_reopen", [True, False], ids=["read_only=False", "while-writing"])
def test_vessel_statuses_as_official(isx: Any, tmp_path: Path, edit_after_reopen: bool) -> None:
    _run(_vessel_style, isx_dask, tmp_path / "ours", edit_after_reopen)
    _run(_vessel_style, isx, tmp_path / "official", edit_after_reopen)
    a = isx.VesselSet.read(str(tmp_path / "ours/vessels.isxd"))
    b = isx.VesselSet.read(str(tmp_path / "official/vessels.isxd"))
    assert a.num_vessels == b.num_vessels == 3
    assert a.timing == b.timing and a.spacing == b.spacing
    for i in range(3):
        assert a.get_vessel_name(i) == b.get_vessel_name(i)
        assert a.get_vessel_status(i) == b.get_vessel_status(i)
        np.testing.assert_array_equal(a.get_vessel_line_data(i), b.get_vessel_line_data(i))
        np.testing.assert_array_equal(a.get_vessel_trace_data(i), b.get_vessel_trace_data(i))
        np.testing.assert_array_equal(a.get_vessel_image_data(i), b.get_vessel_image_data(i))
    assert [a.get_vessel_status(i) for i in range(3)] == ["accepted", "rejected", "undecided"]


def test_isxb_path_refused_with_the_official_message(tmp_path: Path) -> None:
    timing = isx_dask.Timing(num_samples=1, period=isx_dask.Duration.from_msecs(50))
    with pytest.raises(ValueError, match="Cannot write isxb movies"):
        isx_dask.Movie.write(str(tmp_path / "a.isxb"), timing, isx_dask.Spacing(num_pixels=(2, 2)), np.uint16)
    assert list(tmp_path.iterdir()) == []


# -- Miniscope-style multi-file loop ---------------------------------------------------------------
def _miniscope_inputs() -> list[np.ndarray]:
    rng = np.random.default_rng(3)
    return [rng.integers(0, 256, size=(n, 6, 8), dtype=np.uint8) for n in (4, 3, 5)]  # one array per AVI file


def _miniscope_running_index(m: Any, out: Path, videos: list[np.ndarray]) -> None:
    total = sum(len(v) for v in videos)
    timing = _timing(m, total, m.Duration.from_msecs(50))
    movie = m.Movie.write(str(out / "movie.isxd"), timing, m.Spacing(num_pixels=(6, 8)), np.uint16)
    index = 0
    for video in videos:
        for frame in video:
            movie.set_frame_data(index, frame)  # uint8 frames into a uint16 movie
            index += 1
    movie.flush()
    assert movie.mode == "w"


def _miniscope_index_per_file(m: Any, out: Path, videos: list[np.ndarray]) -> None:
    total = sum(len(v) for v in videos)
    timing = _timing(m, total, m.Duration.from_msecs(50))
    movie = m.Movie.write(str(out / "movie.isxd"), timing, m.Spacing(num_pixels=(6, 8)), np.uint16)
    try:
        for video in videos:
            for i, frame in enumerate(video):  # the bug: the index restarts in every file
                movie.set_frame_data(i, frame)
        movie.flush()
    except BaseException:
        if hasattr(movie, "discard"):
            movie.discard()
        raise


def test_miniscope_style_running_index(isx: Any, tmp_path: Path) -> None:
    videos = _miniscope_inputs()
    ours = _run(_miniscope_running_index, isx_dask, tmp_path / "ours", videos)
    theirs = _run(_miniscope_running_index, isx, tmp_path / "official", videos)
    assert ours == theirs == ["Converting from uint8 to uint16."] * 12
    _same_movies(isx, tmp_path / "ours/movie.isxd", tmp_path / "official/movie.isxd")
    read = isx.Movie.read(str(tmp_path / "ours/movie.isxd"))
    for k, frame in enumerate(np.concatenate(videos)):
        np.testing.assert_array_equal(read.get_frame_data(k), frame.astype(np.uint16))


def test_miniscope_style_index_restarted_per_file_is_refused(isx: Any, tmp_path: Path) -> None:
    videos = _miniscope_inputs()
    with pytest.raises(ValueError, match=r"frame 0 was already written.*index = offset \+ i"):
        _run(_miniscope_index_per_file, isx_dask, tmp_path / "ours", videos)
    assert not (tmp_path / "ours/movie.isxd").exists()
    assert os.listdir(tmp_path / "ours") == []
    # The official writer ignores the index and appends in call order, so the same script gives the
    # running-index file there: the difference the README documents.
    _run(_miniscope_index_per_file, isx, tmp_path / "official", videos)
    read = isx.Movie.read(str(tmp_path / "official/movie.isxd"))
    np.testing.assert_array_equal(read.get_frame_data(4), videos[1][0].astype(np.uint16))


# -- value-changing conversions stay refused -----------------------------------------------------------
def test_value_changing_conversion_refused_where_official_converts(isx: Any, tmp_path: Path) -> None:
    timing = isx_dask.Timing(num_samples=1, period=isx_dask.Duration.from_msecs(50))
    movie = isx_dask.Movie.write(str(tmp_path / "m.isxd"), timing, isx_dask.Spacing(num_pixels=(2, 2)), np.uint16)
    with pytest.raises(ValueError, match="frame"):
        movie.set_frame_data(0, np.full((2, 2), 70000.0))
    movie.discard()
    # The official writer wraps the value silently (with its conversion warning).
    off = isx.Movie.write(str(tmp_path / "o.isxd"), isx.Timing(num_samples=1), isx.Spacing(num_pixels=(2, 2)), np.uint16)
    with pytest.warns(UserWarning, match="Converting from float64 to uint16"):
        off.set_frame_data(0, np.full((2, 2), 70000.0))
    off.flush()
    assert int(isx.Movie.read(str(tmp_path / "o.isxd")).get_frame_data(0)[0, 0]) != 70000


# -- .mode, get_acquisition_info, str() ---------------------------------------------------------------
def _modes(m: Any, out: Path) -> list[str | None]:
    timing = _timing(m, 2, m.Duration.from_msecs(50))
    spacing = m.Spacing(num_pixels=(2, 3))
    seen = []
    movie = m.Movie.write(str(out / "m.isxd"), timing, spacing, np.float32)
    seen.append(movie.mode)
    for i in range(2):
        movie.set_frame_data(i, np.full((2, 3), i, np.float32))
    movie.flush()
    seen += [movie.mode, m.Movie.read(str(out / "m.isxd")).mode]
    cell_set = m.CellSet.write(str(out / "c.isxd"), timing, spacing)
    cell_set.set_cell_data(0, np.ones((2, 3), np.float32), np.zeros(2, np.float32), "a")
    cell_set.flush()
    seen += [cell_set.mode, m.CellSet.read(str(out / "c.isxd")).mode, m.CellSet.read(str(out / "c.isxd"), read_only=False).mode]
    image = m.Image.write(str(out / "i.isxd"), spacing, np.uint16, np.ones((2, 3), np.uint16))
    seen += [image.mode, m.Image.read(str(out / "i.isxd")).mode]
    events = m.EventSet.write(str(out / "e.isxd"), timing, ["a"])
    events.set_cell_data(0, np.array([0], np.uint64), np.array([1], np.float32))
    events.flush()
    seen += [events.mode, m.EventSet.read(str(out / "e.isxd")).mode]
    return seen


def test_mode_as_official(isx: Any, tmp_path: Path) -> None:
    (tmp_path / "ours").mkdir()
    (tmp_path / "official").mkdir()
    theirs = _modes(isx, tmp_path / "official")
    assert _modes(isx_dask, tmp_path / "ours") == theirs
    assert theirs == ["w", "w", "r", "w", "r", "w", "w", "r", "w", "r"]


@pytest.mark.parametrize(
    ("name", "cls"),
    [
        ("movie_u16.isxd", "Movie"),
        ("movie_u16_frameheaders.isxd", "Movie"),
        ("cellset.isxd", "CellSet"),
        ("eventset.isxd", "EventSet"),
        ("vesselset_rbc.isxd", "VesselSet"),
    ],
)
def test_get_acquisition_info_as_official(isx: Any, name: str, cls: str) -> None:
    path = str(GOLDEN_DIR / name)
    assert getattr(isx_dask, cls).read(path).get_acquisition_info() == getattr(isx, cls).read(path).get_acquisition_info()


_FULL_EXTRA = {
    "animal": {"description": "d", "dob": "2024-01-02", "id": "m1", "sex": "m", "species": "Mus", "weight": 24.5},
    "microscope": {"exp": 33, "focus": 410, "gain": 4, "led": {"exPower": 0.7, "ogPower": 0.0}, "serial": "S-9",
                   "type": "nVista3"},
    "name": "session 4",
    "personnel": {"name": "A. Researcher"},
    "producer": {"name": "IDAS", "version": "1.9.1", "versionBE": "1.9.1-rc2"},
    "idps": {"channel": "red", "efocus": 410},
    "processingInterface": {"recordingUUID": "GA-123"},
}


@pytest.mark.parametrize(
    "extra",
    [_FULL_EXTRA, {**_FULL_EXTRA, "microscope": {"focus": 500, "gain": 6.5, "type": "nVista3", "exp": 1}}, None, {}],
    ids=["full", "microscope-without-serial", "null", "empty"],
)
def test_get_acquisition_info_of_written_extra_properties(isx: Any, tmp_path: Path, extra: Any) -> None:
    timing = isx_dask.Timing(num_samples=2, period=isx_dask.Duration.from_msecs(50))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        isx_dask.write_movie(np.zeros((2, 2, 2), np.uint16), tmp_path / "m.isxd", timing=timing,
                             spacing=isx_dask.Spacing(num_pixels=(2, 2)), extra_properties=extra)
    try:
        expected = isx.Movie.read(str(tmp_path / "m.isxd")).get_acquisition_info()
    except Exception as err:  # noqa: BLE001 - the official package raises a bare Exception
        with pytest.raises(ValueError, match="serial"):
            isx_dask.Movie.read(str(tmp_path / "m.isxd")).get_acquisition_info()
        assert "serial" in str(err)
        return
    assert isx_dask.Movie.read(str(tmp_path / "m.isxd")).get_acquisition_info() == expected
    if extra == _FULL_EXTRA:
        assert expected["Microscope Serial Number"] == "S-9"  # the flattened, readable form


@pytest.mark.parametrize("cls", ["Movie", "Image", "CellSet", "EventSet", "VesselSet", "GpioSet"])
def test_str_of_unopened_objects_as_official(isx: Any, cls: str) -> None:
    ours = str(getattr(isx_dask, cls)())
    assert ours.rstrip() == str(getattr(isx, cls)()).rstrip()
    repr(getattr(isx_dask, cls)())


@pytest.mark.parametrize(
    ("name", "cls"),
    [("movie_u16.isxd", "Movie"), ("cellset.isxd", "CellSet"), ("eventset.isxd", "EventSet"),
     ("vesselset_diameter.isxd", "VesselSet"), ("image_f32.isxd", "Image")],
)
def test_str_of_read_objects_lists_the_official_fields(isx: Any, name: str, cls: str) -> None:
    path = str(GOLDEN_DIR / name)
    ours, theirs = str(getattr(isx_dask, cls).read(path)), str(getattr(isx, cls).read(path))
    keys = [line.split(":")[0] for line in ours.splitlines()]
    assert keys == [line.split(":")[0] for line in theirs.rstrip().splitlines()]
    # Timing text is the same; file_path is as given (the official one is absolute), spacing adds the pixel size.
    timing_line = [line for line in ours.splitlines() if "timing:" in line]
    assert timing_line == [line for line in theirs.splitlines() if "timing:" in line]


# -- frame headers: the official period and timestamp rules on read ----------------------------------------
def test_frame_header_movie_period_and_timestamps_as_official(isx: Any) -> None:
    path = str(GOLDEN_DIR / "movie_u16_frameheaders.isxd")
    ours, theirs = isx_dask.Movie.read(path), isx.Movie.read(path)
    assert ours.timing.period == isx_dask.Duration(149700, 3000000)
    assert ours.timing.period.secs_float == theirs.timing.period.secs_float
    assert str(ours.timing) == str(theirs.timing)
    assert isx_dask.open_isxd(path).timing.period == isx_dask.Duration(50, 1000)  # the footer's own period
    for i in range(theirs.timing.num_samples):
        assert ours.get_frame_timestamp(i) == theirs.get_frame_timestamp(i)
    with pytest.raises(IndexError):
        ours.get_frame_timestamp(theirs.timing.num_samples)


@pytest.mark.parametrize("producer", [None, {"version": "1.1.0"}, {"version": "1.1.1"}, {"version": "2.0.0-beta"}])
def test_frame_timestamp_availability_as_official(isx: Any, tmp_path: Path, producer: Any) -> None:
    path = tmp_path / "headers.isxd"
    path.write_bytes((GOLDEN_DIR / "movie_u16_frameheaders.isxd").read_bytes())
    metadata, data_size = read_footer(str(path))
    metadata["extraProperties"] = None if producer is None else {"producer": producer}
    rewrite_footer(str(path), metadata, data_size)

    ours, theirs = isx_dask.Movie.read(str(path)), isx.Movie.read(str(path))
    assert ours.timing.period.secs_float == theirs.timing.period.secs_float
    try:
        expected: Any = theirs.get_frame_timestamp(1)
    except Exception as err:  # noqa: BLE001 - the official package raises a bare Exception
        assert "No frame timestamps stored in movie." in str(err)
        with pytest.raises(IsxdFormatError, match="No frame timestamps stored in movie"):
            ours.get_frame_timestamp(1)
    else:
        assert ours.get_frame_timestamp(1) == expected


def test_movie_without_frame_headers_has_no_timestamps(isx: Any) -> None:
    path = str(GOLDEN_DIR / "movie_u16.isxd")
    with pytest.raises(Exception, match="No frame timestamps stored in movie"):
        isx.Movie.read(path).get_frame_timestamp(0)
    with pytest.raises(IsxdFormatError, match="No frame timestamps stored in movie"):
        isx_dask.Movie.read(path).get_frame_timestamp(0)
    assert isx_dask.Movie.read(path).timing == isx_dask.open_isxd(path).timing
