"""isxd -> NWB: convert small files, read the NWB back with pynwb, compare with the official isx reader."""

from __future__ import annotations

import datetime as dt
import inspect
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

import isx_dask as xd

pynwb = pytest.importorskip("pynwb", reason="the nwb extra (pynwb) is not installed")
from pynwb import NWBHDF5IO  # noqa: E402

from isx_dask import nwb as nwb_module  # noqa: E402
from isx_dask.nwb import isxd_to_nwb  # noqa: E402

START = xd.Time(xd.Duration(1_700_000_000_123, 1000), utc_offset=-28800)
PERIOD = xd.Duration(50, 1000)
SPACING = xd.Spacing(num_pixels=(6, 5), pixel_size=(Fraction(3, 2), Fraction(5, 2)), top_left=(Fraction(2), Fraction(1, 2)))
# invalid samples of every kind: dropped 3, cropped 6-7, blank 10
TIMING = xd.Timing(num_samples=12, period=PERIOD, start=START, dropped=[3], cropped=[(6, 7)], blank=[10])
VALID = np.array([0, 1, 2, 4, 5, 8, 9, 11])
NAMES = ["C0", "cell one", "C2"]
STATUSES = ["accepted", "rejected", "undecided"]
# exact offsets in us, including values the official reader returns 1 us low (249)
OFFSETS = [[0, 249, 100_000], [], [50_000, 500_001]]
AMPLITUDES = [[1.5, 2.25, 3.0], [], [0.125, 7.0]]


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".partial"))


def names_kw(names: list[str]) -> dict[str, list[str]]:
    """write_cell_set's keyword for cell names (being renamed names= -> cell_names=)."""
    key = "cell_names" if "cell_names" in inspect.signature(xd.write_cell_set).parameters else "names"
    return {key: names}


def official_secs(duration) -> Fraction:
    impl = duration._impl
    return Fraction(impl.num, impl.den)


@pytest.fixture
def session(tmp_path: Path) -> dict[str, Path]:
    """A movie, its cell set and its event set, written with isx_dask, all with TIMING."""
    rng = np.random.default_rng(7)
    paths = {k: tmp_path / f"{k}.isxd" for k in ("movie", "cells", "events")}
    xd.write_movie(rng.integers(0, 4096, (12, 6, 5), dtype=np.uint16), paths["movie"], timing=TIMING, spacing=SPACING)
    footprints = rng.random((3, 6, 5), dtype=np.float32)
    traces = rng.normal(size=(3, 12)).astype(np.float32)
    xd.write_cell_set(footprints, traces, paths["cells"], timing=TIMING, spacing=SPACING, statuses=STATUSES, **names_kw(NAMES))
    xd.write_event_set(OFFSETS, AMPLITUDES, paths["events"], timing=TIMING, cell_names=NAMES)
    return paths


def read_nwb(path: Path):
    io = NWBHDF5IO(str(path), "r")
    return io, io.read()


# -- movies ------------------------------------------------------------------------------------
def test_movie_with_invalid_frames_keeps_only_stored_frames_with_their_timestamps(isx, session, tmp_path):
    out = tmp_path / "movie.nwb"
    assert isxd_to_nwb(session["movie"], out) == str(out)
    official = isx.Movie.read(str(session["movie"]))
    io, nwb = read_nwb(out)
    with io:
        series = nwb.acquisition["OnePhotonSeries"]
        data = series.data[:]
        # NWB indexes images [t, x, y]: the transpose of each official (rows, cols) frame
        assert data.shape == (len(VALID), 5, 6)
        assert data.dtype == np.uint16
        for k, i in enumerate(VALID):
            np.testing.assert_array_equal(data[k].T, official.get_frame_data(int(i)))
        assert series.rate is None
        offsets = official.timing.get_offsets_since_start()
        mask = np.asarray(official.timing.get_valid_samples_mask(), dtype=bool)
        expected = np.array([float(official_secs(o)) for o in offsets])[mask]
        np.testing.assert_allclose(series.timestamps[:], expected, rtol=0, atol=1e-12)
        np.testing.assert_allclose(series.timestamps[:], VALID * 0.05, rtol=0, atol=1e-12)  # numpy, independently
        # session start: the official start as an aware datetime (its local wall time and UTC offset)
        start = nwb.session_start_time
        utc_offset = official.timing.start._impl.utc_offset
        assert start.utcoffset() == dt.timedelta(seconds=utc_offset)
        assert start.replace(tzinfo=None) == official.timing.start.to_datetime()
        assert start == dt.datetime(2023, 11, 14, 22, 13, 20, 123000, tzinfo=dt.timezone.utc)
        # pixel size and top-left corner, in metres, (x, y)
        plane = series.imaging_plane
        impl = official.spacing._impl
        assert plane.grid_spacing_unit == "meters" and plane.origin_coords_unit == "meters"
        np.testing.assert_allclose(
            plane.grid_spacing[:], [float(Fraction(impl.pixel_width.num, impl.pixel_width.den)) * 1e-6,
                                    float(Fraction(impl.pixel_height.num, impl.pixel_height.den)) * 1e-6], rtol=1e-6
        )
        np.testing.assert_allclose(plane.grid_spacing[:], [2.5e-6, 1.5e-6], rtol=1e-6)
        np.testing.assert_allclose(
            plane.origin_coords[:], [float(Fraction(impl.left.num, impl.left.den)) * 1e-6,
                                     float(Fraction(impl.top.num, impl.top.den)) * 1e-6], rtol=1e-6
        )
        assert list(series.dimension[:]) == [5, 6]
    assert leftovers(tmp_path) == []


def test_a_default_1970_start_time_is_not_silent(tmp_path):
    xd.write_movie(np.ones((2, 3, 4), np.uint16), tmp_path / "m.isxd", timing=xd.Timing(num_samples=2, start=xd.Time()),
                   spacing=xd.Spacing(num_pixels=(3, 4)))
    with pytest.warns(UserWarning, match="session_start_time="):
        isxd_to_nwb(tmp_path / "m.isxd", tmp_path / "m.nwb")
    with NWBHDF5IO(str(tmp_path / "m.nwb"), "r") as io:
        assert io.read().session_start_time == dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


def test_regular_movie_gets_rate_and_starting_time(isx, tmp_path):
    frames = np.random.default_rng(1).random((7, 4, 3), dtype=np.float32)
    timing = xd.Timing(num_samples=7, period=xd.Duration(1, 30), start=START)
    xd.write_movie(frames, tmp_path / "m.isxd", timing=timing, spacing=xd.Spacing(num_pixels=(4, 3), pixel_size=2))
    isxd_to_nwb(tmp_path / "m.isxd", tmp_path / "m.nwb")
    official = isx.Movie.read(str(tmp_path / "m.isxd"))
    io, nwb = read_nwb(tmp_path / "m.nwb")
    with io:
        series = nwb.acquisition["OnePhotonSeries"]
        assert series.timestamps is None
        assert series.rate == pytest.approx(1 / float(official_secs(official.timing.period)), rel=1e-15)
        assert series.rate == pytest.approx(30.0, rel=1e-15)
        assert series.starting_time == 0.0
        data = series.data[:]
        for i in range(7):
            np.testing.assert_array_equal(data[i].T, official.get_frame_data(i))
        np.testing.assert_allclose(series.imaging_plane.grid_spacing[:], [2e-6, 2e-6], rtol=1e-6)


def test_movie_is_streamed_block_by_block(session, tmp_path, monkeypatch):
    """Each write step computes one Dask block of the reader's frames, never the whole movie."""
    frame_nbytes = 6 * 5 * 2
    # the reader's blocks, made 2 frames long so that this tiny movie has several
    frames_property = xd.MovieFile.frames
    monkeypatch.setattr(xd.MovieFile, "frames", property(lambda self: frames_property.fget(self).rechunk((2, -1, -1))))
    cls = nwb_module._dask_iterator_class()
    seen: list[tuple[slice, ...]] = []
    original = cls.__next__

    def spy(self):
        chunk = original(self)
        seen.append(chunk.selection)
        assert chunk.data.nbytes <= 2 * frame_nbytes
        return chunk

    monkeypatch.setattr(cls, "__next__", spy)
    isxd_to_nwb(session["movie"], tmp_path / "m.nwb")
    # stored runs 0-2, 4-5, 8-9, 11 cut by the 2-frame blocks: 0-1, 2, 4-5, 8-9, 11
    assert [s[0] for s in seen] == [slice(0, 2), slice(2, 3), slice(3, 5), slice(5, 7), slice(7, 8)]
    with NWBHDF5IO(str(tmp_path / "m.nwb"), "r") as io:
        stored = io.read().acquisition["OnePhotonSeries"].data
        assert stored.chunks == (2, 5, 6)
        expected = xd.open_isxd(session["movie"]).frames.compute()[VALID]
        np.testing.assert_array_equal(stored[:], expected.transpose(0, 2, 1))


def test_hdf5_chunks_tile_the_blocks():
    assert nwb_module._hdf5_chunk_shape((128, 512, 512), 2) == (16, 512, 512)  # 8 MiB, 8 per block
    assert nwb_module._hdf5_chunk_shape((100_000, 167), 4) == (12_500, 167)
    assert nwb_module._hdf5_chunk_shape((3, 5, 6), 4) == (3, 5, 6)
    assert nwb_module._hdf5_chunk_shape((1, 4096, 4096), 4) == (1, 1024, 2048)  # a frame larger than a chunk


# -- cell sets ---------------------------------------------------------------------------------
def assert_cells_match(segmentation, traces, official):
    """Each ROI's mask (stored transposed), trace column and status equal the official cell set's."""
    for k in range(official.num_cells):
        np.testing.assert_array_equal(segmentation["image_mask"][k].T, official.get_cell_image_data(k))
        np.testing.assert_array_equal(traces[:, k], official.get_cell_trace_data(k))  # NaN == NaN here
        assert segmentation["status"][k] == official.get_cell_status(k)


def test_cell_set_masks_traces_statuses(isx, session, tmp_path):
    isxd_to_nwb(session["cells"], tmp_path / "c.nwb")
    official = isx.CellSet.read(str(session["cells"]))
    io, nwb = read_nwb(tmp_path / "c.nwb")
    with io:
        ophys = nwb.processing["ophys"]
        segmentation = ophys["ImageSegmentation"]["PlaneSegmentation"]
        series = ophys["Fluorescence"]["RoiResponseSeries"]
        masks = segmentation["image_mask"].data[:]
        traces = series.data[:]
        assert masks.dtype == np.float32 and traces.dtype == np.float32
        assert masks.shape == (3, 5, 6) and traces.shape == (12, 3)
        assert_cells_match(segmentation, traces, official)
        for k in range(official.num_cells):
            assert segmentation["cell_name"][k] == official.get_cell_name(k)
        assert np.isnan(traces[[3, 6, 7, 10]]).all() and not np.isnan(traces[VALID]).any()
        assert list(segmentation["status"][:]) == STATUSES
        assert list(series.rois.data[:]) == [0, 1, 2]
        assert series.rois.table is segmentation
        assert series.rate == pytest.approx(1 / float(official_secs(official.timing.period)), rel=1e-15)
        assert series.starting_time == 0.0
        assert segmentation.imaging_plane.grid_spacing[0] == pytest.approx(2.5e-6, rel=1e-6)


@pytest.mark.filterwarnings("ignore:the inputs' start time is 1970")
def test_golden_cell_sets_including_an_empty_one(isx, golden, tmp_path):
    for name in ("cellset_dropped.isxd", "cellset_empty.isxd"):
        src = golden(name)
        out = tmp_path / (name + ".nwb")
        isxd_to_nwb(src, out)
        official = isx.CellSet.read(str(src))
        with NWBHDF5IO(str(out), "r") as io:
            ophys = io.read().processing["ophys"]
            segmentation = ophys["ImageSegmentation"]["PlaneSegmentation"]
            traces = ophys["Fluorescence"]["RoiResponseSeries"].data[:]
            assert len(segmentation) == official.num_cells
            assert_cells_match(segmentation, traces, official)


# -- event sets --------------------------------------------------------------------------------
def test_event_set_becomes_an_events_table(isx, session, tmp_path):
    isxd_to_nwb(session["events"], tmp_path / "e.nwb")
    official = isx.EventSet.read(str(session["events"]))
    io, nwb = read_nwb(tmp_path / "e.nwb")
    with io:
        events = nwb.events["events"]
        times = events["timestamp"].data[:]
        amplitudes = events["amplitude"].data[:]
        cells = events["cell"].data[:]
        assert events["timestamp"].resolution == 1e-6
        assert np.all(np.diff(times) >= 0)
        assert amplitudes.dtype == np.float32
        cell_table = events["cell"].table
        assert cell_table.name == "events_cells"
        assert list(cell_table["cell_name"][:]) == [official.get_cell_name(k) for k in range(official.num_cells)]
        for k in range(official.num_cells):
            mine = cells == k
            off_us, amps = official.get_cell_data(k)
            # the official reader returns some offsets 1 us low (double rounding); the written values are exact
            np.testing.assert_allclose(times[mine], np.asarray(off_us, dtype=np.float64) / 1e6, rtol=0, atol=1.01e-6)
            np.testing.assert_allclose(times[mine], np.array(OFFSETS[k], dtype=np.float64) / 1e6, rtol=0, atol=1e-12)
            np.testing.assert_array_equal(amplitudes[mine], amps)
            np.testing.assert_array_equal(amplitudes[mine], np.array(AMPLITUDES[k], dtype=np.float32))
        assert len(times) == sum(len(o) for o in OFFSETS)


def test_event_set_cell_by_cell_gives_the_same_table(session, tmp_path, monkeypatch):
    """The one-pass read and the per-cell read (used where the reader has no get_all_cell_data) agree."""
    isxd_to_nwb(session["events"], tmp_path / "a.nwb")
    monkeypatch.delattr(xd.EventSetFile, "get_all_cell_data", raising=False)
    isxd_to_nwb(session["events"], tmp_path / "b.nwb")
    tables = []
    for name in ("a.nwb", "b.nwb"):
        with NWBHDF5IO(str(tmp_path / name), "r") as io:
            events = io.read().events["events"]
            tables.append([events[c].data[:] for c in ("timestamp", "amplitude", "cell")])
    for a, b in zip(*tables):
        np.testing.assert_array_equal(a, b)
    assert len(tables[0][0]) == 5


@pytest.mark.filterwarnings("ignore:the inputs' start time is 1970")
def test_golden_event_set(isx, golden, tmp_path):
    src = golden("eventset_unordered.isxd")
    isxd_to_nwb(src, tmp_path / "e.nwb")
    official = isx.EventSet.read(str(src))
    with NWBHDF5IO(str(tmp_path / "e.nwb"), "r") as io:
        events = io.read().events["events"]
        cells = events["cell"].data[:]
        for k in range(official.num_cells):
            off_us, amps = official.get_cell_data(k)
            np.testing.assert_allclose(events["timestamp"].data[:][cells == k], np.asarray(off_us) / 1e6, atol=1.01e-6, rtol=0)
            np.testing.assert_array_equal(events["amplitude"].data[:][cells == k], amps)


# -- one session, several files ----------------------------------------------------------------
def test_movie_cells_and_events_of_one_session_in_one_file(isx, session, tmp_path):
    later = xd.Timing(num_samples=12, period=PERIOD, start=xd.Time(xd.Duration(1_700_000_002_123, 1000), utc_offset=-28800))
    xd.write_event_set(OFFSETS, AMPLITUDES, tmp_path / "later.isxd", timing=later, cell_names=["x", "y", "z"])
    out = tmp_path / "session.nwb"
    isxd_to_nwb(
        [session["events"], session["movie"], session["cells"], tmp_path / "later.isxd"],
        out,
        session_description="one session",
        identifier="session-1",
        indicator="GCaMP6f",
        location="CA1",
        excitation_lambda=455.0,
    )
    assert pynwb.validate(path=str(out)) == []  # the NWB schema validator finds nothing
    io, nwb = read_nwb(out)
    with io:
        assert nwb.session_description == "one session" and nwb.identifier == "session-1"
        assert nwb.session_start_time.replace(tzinfo=None) == isx.Movie.read(str(session["movie"])).timing.start.to_datetime()
        movie = nwb.acquisition["OnePhotonSeries"]
        segmentation = nwb.processing["ophys"]["ImageSegmentation"]["PlaneSegmentation"]
        # one imaging plane shared by the movie and the cell set (same pixel grid)
        assert len(nwb.imaging_planes) == 1
        assert segmentation.imaging_plane is movie.imaging_plane
        plane = movie.imaging_plane
        assert (plane.indicator, plane.location, plane.excitation_lambda) == ("GCaMP6f", "CA1", 455.0)
        # the events of the cell set's cells refer to its PlaneSegmentation rows
        events = nwb.events["events"]
        assert events["cell"].table is segmentation
        later_events = nwb.events["events_2"]
        assert later_events["cell"].table.name == "events_2_cells"
        # an input starting 2 s later: its times are 2 s later from the session start
        np.testing.assert_allclose(
            np.sort(later_events["timestamp"].data[:]), np.sort(events["timestamp"].data[:]) + 2.0, rtol=0, atol=1e-9
        )


def test_session_start_time_argument(session, tmp_path):
    start = dt.datetime(2023, 11, 14, 22, 13, 19, tzinfo=dt.timezone.utc)  # 1.123 s before the movie
    isxd_to_nwb(session["movie"], tmp_path / "m.nwb", session_start_time=start)
    with NWBHDF5IO(str(tmp_path / "m.nwb"), "r") as io:
        nwb = io.read()
        assert nwb.session_start_time == start
        np.testing.assert_allclose(nwb.acquisition["OnePhotonSeries"].timestamps[:], VALID * 0.05 + 1.123, rtol=0, atol=1e-9)
    with pytest.raises(ValueError, match="session_start_time must be timezone-aware"):
        isxd_to_nwb(session["movie"], tmp_path / "n.nwb", session_start_time=start.replace(tzinfo=None))
    with pytest.raises(ValueError, match="session_start_time .* is after the start of an input"):
        isxd_to_nwb(session["movie"], tmp_path / "n.nwb", session_start_time=start + dt.timedelta(seconds=2))
    assert not (tmp_path / "n.nwb").exists()


# -- refusals ----------------------------------------------------------------------------------
def test_existing_file_is_refused_before_anything_is_written(session, tmp_path, monkeypatch):
    out = tmp_path / "o.nwb"
    out.write_bytes(b"precious")

    def no_open(path):
        raise AssertionError("an input was opened although the output exists")

    monkeypatch.setattr(nwb_module, "open_isxd", no_open)
    with pytest.raises(FileExistsError, match="overwrite=True"):
        isxd_to_nwb(session["movie"], out)
    assert out.read_bytes() == b"precious"
    assert leftovers(tmp_path) == []


def test_overwrite_replaces_and_a_failed_write_keeps_the_old_file(session, tmp_path):
    out = tmp_path / "o.nwb"
    out.write_bytes(b"precious")
    with pytest.raises(Exception):  # noqa: B017 - the scheduler's own error
        isxd_to_nwb(session["movie"], out, overwrite=True, compute_kwargs={"scheduler": "no-such-scheduler"})
    assert out.read_bytes() == b"precious"
    assert leftovers(tmp_path) == []
    isxd_to_nwb(session["movie"], out, overwrite=True)
    with NWBHDF5IO(str(out), "r") as io:
        assert io.read().acquisition["OnePhotonSeries"].data.shape == (len(VALID), 5, 6)


@pytest.mark.parametrize(
    ("name", "kind"),
    [("vesselset_diameter.isxd", "vessel set"), ("vesselset_rbc.isxd", "vessel set")],
)
def test_unsupported_types_are_refused(golden, session, tmp_path, name, kind):
    src = golden(name)
    with pytest.raises(NotImplementedError, match=kind):
        isxd_to_nwb([session["movie"], src], tmp_path / "o.nwb")
    assert list(tmp_path.glob("o.nwb*")) == []


def test_images_become_grayscale_images(isx, golden, session, tmp_path):
    sources = [golden("image_u16.isxd"), golden("image_f32.isxd")]
    isxd_to_nwb([session["movie"], *sources], tmp_path / "i.nwb")
    with NWBHDF5IO(str(tmp_path / "i.nwb"), "r") as io:
        images = io.read().processing["ophys"]["Images"]
        for src in sources:
            official = isx.Image.read(str(src))
            image = images[src.stem]
            assert image.data.dtype == official.get_data().dtype
            np.testing.assert_array_equal(image.data[:].T, official.get_data())
            impl = official.spacing._impl
            assert image.resolution == pytest.approx(1e4 / float(Fraction(impl.pixel_width.num, impl.pixel_width.den)))
            assert image.resolution == pytest.approx(1e4 / 3)  # the golden images have 3 um pixels


def test_images_with_non_square_pixels_are_refused(tmp_path):
    xd.write_image(np.ones((4, 3), np.uint16), tmp_path / "i.isxd", spacing=xd.Spacing(num_pixels=(4, 3), pixel_size=(2, 3)))
    with pytest.raises(NotImplementedError, match="non-square pixels"):
        isxd_to_nwb(tmp_path / "i.isxd", tmp_path / "o.nwb")
    assert list(tmp_path.glob("o.nwb*")) == []


def test_frame_headers_are_refused_unless_dropped(isx, golden, tmp_path):
    src = golden("movie_u16_frameheaders.isxd")
    with pytest.raises(ValueError, match="frame_headers='drop'"):
        isxd_to_nwb(src, tmp_path / "o.nwb")
    assert list(tmp_path.glob("o.nwb*")) == []
    isxd_to_nwb(src, tmp_path / "o.nwb", frame_headers="drop")
    official = isx.Movie.read(str(src))
    with NWBHDF5IO(str(tmp_path / "o.nwb"), "r") as io:
        data = io.read().acquisition["OnePhotonSeries"].data[:]
        for i in range(official.timing.num_samples):
            np.testing.assert_array_equal(data[i].T, official.get_frame_data(i))


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"overwrite": 1}, TypeError, "overwrite"),
        ({"fsync": "yes"}, TypeError, "fsync"),
        ({"frame_headers": "keep"}, ValueError, "frame_headers"),
        ({"compression": "zstd"}, ValueError, "compression"),
        ({"identifier": ""}, ValueError, "identifier"),
        ({"session_description": 3}, TypeError, "session_description"),
        ({"compute_kwargs": ["threads"]}, TypeError, "compute_kwargs"),
        ({"excitation_lambda": "455"}, TypeError, "excitation_lambda"),
    ],
)
def test_bad_arguments(session, tmp_path, kwargs, error, match):
    with pytest.raises(error, match=match):
        isxd_to_nwb(session["movie"], tmp_path / "o.nwb", **kwargs)
    assert list(tmp_path.glob("o.nwb*")) == []


def test_bad_paths(session, tmp_path):
    with pytest.raises(ValueError, match="empty"):
        isxd_to_nwb([], tmp_path / "o.nwb")
    with pytest.raises(ValueError, match="more than once"):
        isxd_to_nwb([session["movie"], session["movie"]], tmp_path / "o.nwb")
    with pytest.raises(ValueError, match="is also an input"):
        isxd_to_nwb(session["movie"], session["movie"], overwrite=True)
    with pytest.raises(FileNotFoundError, match="parent directory"):
        isxd_to_nwb(session["movie"], tmp_path / "no" / "o.nwb")
    with pytest.raises(FileNotFoundError):
        isxd_to_nwb(tmp_path / "missing.isxd", tmp_path / "o.nwb")
    assert list(tmp_path.glob("o.nwb*")) == []


def test_missing_pynwb_names_the_extra(session, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pynwb", None)
    with pytest.raises(ImportError, match=r"isx_dask\[nwb\]"):
        isxd_to_nwb(session["movie"], tmp_path / "o.nwb")
    assert list(tmp_path.glob("o.nwb*")) == []


def test_compression_is_lossless(session, tmp_path):
    isxd_to_nwb(session["cells"], tmp_path / "c.nwb", compression="gzip")
    with NWBHDF5IO(str(tmp_path / "c.nwb"), "r") as io:
        series = io.read().processing["ophys"]["Fluorescence"]["RoiResponseSeries"]
        assert series.data.compression == "gzip"
        np.testing.assert_array_equal(series.data[:], xd.open_isxd(session["cells"]).traces.compute().T)


@pytest.mark.parametrize("name", ["o.isxd", "o.h5", "o.nwb.h5", "session", "o.nwb.partial"])
def test_output_path_must_end_with_nwb(session, tmp_path, name):
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(ValueError, match=rf"^nwb_path '.*{name}' must end with '\.nwb', the extension of NWB files"):
        isxd_to_nwb(session["movie"], out / name)
    assert list(out.iterdir()) == []


def test_output_path_ending_in_upper_case_nwb_is_accepted(session, tmp_path):
    out = tmp_path / "SESSION.NWB"
    isxd_to_nwb(session["movie"], out)
    with NWBHDF5IO(str(out), "r") as io:
        assert len(io.read().acquisition) == 1
