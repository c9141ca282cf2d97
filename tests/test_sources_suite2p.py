"""suite2p plane folders (made here with numpy, as suite2p saves them) to cell and event sets, read back with the official isx.

The helpers at the top are shared by the CaImAn, Minian and CNMF-E tests.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from conftest import assert_spacing_equal, assert_timing_equal
from dask.delayed import Delayed

import isx_dask as xd
from isx_dask.layout import IsxdFormatError
from isx_dask.sources.suite2p import suite2p_to_isxd

GOLDEN = Path(__file__).parent / "data" / "golden"


# -- shared helpers (independent numpy; no isx_dask code) ---------------------------------------
def official_offsets(exact_usecs: np.ndarray) -> np.ndarray:
    """Offsets as the official reader returns them: through doubles, ``uint64(double(us) / 1e6 * 1e6)``."""
    return (np.asarray(exact_usecs, dtype=np.float64) / 1e6 * 1e6).astype(np.uint64)


def expected_events(activity: np.ndarray, threshold: float, period: Fraction) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per cell: exact microsecond offsets (round half to even of ``i * period``) and float32 amplitudes of samples > threshold."""
    out = []
    for row in np.asarray(activity):
        index = np.flatnonzero(row > threshold)
        offsets = np.array([round(Fraction(int(i)) * period * 1_000_000) for i in index], dtype=np.uint64)
        out.append((offsets, row[index].astype(np.float32)))
    return out


def assert_results_read_back(isx, cell_path, footprints, traces, names, statuses, timing, spacing,
                             event_path=None, events=None) -> None:
    """The official reader gives exactly these footprints, traces, names, statuses, timing, spacing and events."""
    cs = isx.CellSet.read(str(cell_path))
    assert cs.num_cells == len(footprints)
    assert_timing_equal(timing, cs.timing)
    assert_spacing_equal(spacing, cs.spacing)
    for k in range(len(footprints)):
        np.testing.assert_array_equal(cs.get_cell_image_data(k), np.asarray(footprints[k], np.float32))
        np.testing.assert_array_equal(cs.get_cell_trace_data(k), np.asarray(traces[k], np.float32))
        assert cs.get_cell_name(k) == names[k]
        assert cs.get_cell_status(k) == statuses[k]
    if event_path is None:
        return
    es = isx.EventSet.read(str(event_path))
    assert es.num_cells == len(footprints)
    assert [es.get_cell_name(k) for k in range(es.num_cells)] == list(names)
    assert es.timing.num_samples == timing.num_samples
    ours = xd.open_isxd(event_path)
    for k, (offsets, amplitudes) in enumerate(events):
        got_offsets, got_amplitudes = es.get_cell_data(k)
        np.testing.assert_array_equal(got_offsets, official_offsets(offsets))
        np.testing.assert_array_equal(got_amplitudes, amplitudes)
        np.testing.assert_array_equal(ours.get_cell_data(k)[0], offsets)  # exact in the file


def default_names(n: int) -> list[str]:
    """The official default names, written out: C0..C9 for 10 cells, C00..C10 for 11."""
    width = len(str(n - 1))
    return ["C" + str(k).zfill(width) for k in range(n)]


# -- a suite2p plane folder ---------------------------------------------------------------------
ROWS, COLS, CELLS, FRAMES = 9, 13, 11, 40


def make_plane(root: Path, *, fs=30.0, iscell=True, seed=0, shape=(ROWS, COLS, CELLS, FRAMES), **ops_extra) -> dict:
    """A ``plane0`` folder as suite2p writes it; returns the arrays it holds and the dense footprints."""
    rng = np.random.default_rng(seed)
    ROWS, COLS, CELLS, FRAMES = shape  # noqa: N806
    plane = root / "suite2p" / "plane0"
    plane.mkdir(parents=True)
    stat, dense = [], np.zeros((CELLS, ROWS, COLS), np.float32)
    for k in range(CELLS):
        cy, cx = rng.integers(1, ROWS - 1), rng.integers(1, COLS - 1)
        ys, xs = np.mgrid[cy - 1 : cy + 2, cx - 1 : cx + 2]
        keep = rng.random(ys.shape) < 0.8
        ypix, xpix = ys[keep].astype(np.int32), xs[keep].astype(np.int32)
        lam = rng.random(len(ypix)).astype(np.float32)
        overlap = np.zeros(len(ypix), bool)
        stat.append({"ypix": ypix, "xpix": xpix, "lam": lam, "med": [cy, cx], "npix": len(ypix), "overlap": overlap})
        dense[k, ypix, xpix] = lam
    ops = {"Ly": ROWS, "Lx": COLS, "fs": fs, "neucoeff": 0.7, "nframes": FRAMES, "yrange": [0, ROWS], "xrange": [0, COLS], **ops_extra}
    if fs is None:
        del ops["fs"]
    F = (100 + 10 * rng.standard_normal((CELLS, FRAMES))).astype(np.float32)
    Fneu = (50 + 5 * rng.standard_normal((CELLS, FRAMES))).astype(np.float32)
    spks = np.where(rng.random((CELLS, FRAMES)) < 0.2, rng.random((CELLS, FRAMES)) * 5, 0).astype(np.float32)
    flags = (np.arange(CELLS) % 3 != 1).astype(np.float64)
    np.save(plane / "stat.npy", np.array(stat, dtype=object), allow_pickle=True)
    np.save(plane / "ops.npy", np.array(ops, dtype=object), allow_pickle=True)
    np.save(plane / "F.npy", F)
    np.save(plane / "Fneu.npy", Fneu)
    np.save(plane / "spks.npy", spks)
    if iscell:
        np.save(plane / "iscell.npy", np.stack([flags, rng.random(CELLS)], axis=1))
    statuses = ["accepted" if f else "rejected" for f in flags] if iscell else ["undecided"] * CELLS
    return {"dir": plane, "footprints": dense, "F": F, "Fneu": Fneu, "spks": spks, "statuses": statuses}


def test_plane_folder_to_cell_set_and_event_set(tmp_path, isx):
    src = make_plane(tmp_path)
    cells, events = tmp_path / "cells.isxd", tmp_path / "events.isxd"
    suite2p_to_isxd(src["dir"], cells, events)
    timing = xd.Timing(num_samples=FRAMES, period=xd.Duration(1, 30))  # exact 1/30 s, not 33 ms
    spacing = xd.Spacing(num_pixels=(ROWS, COLS))
    assert_results_read_back(
        isx, cells, src["footprints"], src["F"], default_names(CELLS), src["statuses"], timing, spacing,
        events, expected_events(src["spks"], 0.0, Fraction(1, 30)),
    )
    assert default_names(CELLS)[:2] == ["C00", "C01"]


def test_neuropil_threshold_and_names(tmp_path, isx):
    src = make_plane(tmp_path, fs=15.258789, iscell=False, neucoeff=0.6)
    cells, events = tmp_path / "cells.isxd", tmp_path / "events.isxd"
    names = [f"roi{k}" for k in range(CELLS)]
    suite2p_to_isxd(src["dir"], cells, events, subtract_neuropil=True, event_threshold=2.5, cell_names=names)
    period = Fraction(1_000_000, 15_258_789)
    timing = xd.Timing(num_samples=FRAMES, period=xd.Duration(1_000_000, 15_258_789))
    assert_results_read_back(
        isx, cells, src["footprints"], src["F"] - np.float32(0.6) * src["Fneu"], names, ["undecided"] * CELLS, timing,
        xd.Spacing(num_pixels=(ROWS, COLS)), events, expected_events(src["spks"], 2.5, period),
    )


def test_processes_scheduler_reads_files_inside_the_workers(tmp_path, isx):
    """The graph holds paths and each chunk's sparse pixels, never arrays or open files: it runs in other processes."""
    src = make_plane(tmp_path)
    cells = tmp_path / "cells.isxd"
    suite2p_to_isxd(src["dir"], cells, subtract_neuropil=0.5, compute_kwargs={"scheduler": "processes", "num_workers": 1})
    assert_results_read_back(
        isx, cells, src["footprints"], src["F"] - np.float32(0.5) * src["Fneu"], default_names(CELLS), src["statuses"],
        xd.Timing(num_samples=FRAMES, period=xd.Duration(1, 30)), xd.Spacing(num_pixels=(ROWS, COLS)),
    )


def test_metadata_from_movie_gives_start_pixel_size_and_extra_properties(tmp_path, isx):
    movie = GOLDEN / "movie_u16.isxd"  # 12 frames of 5 x 7, started 2023-11-14 at .123 s
    src = make_plane(tmp_path, fs=None, shape=(5, 7, CELLS, 12))
    out = tmp_path / "cells.isxd"
    suite2p_to_isxd(src["dir"], out, metadata_from=movie, extra_properties={"lab": "x"})
    official_movie = isx.Movie.read(str(movie))
    cs = isx.CellSet.read(str(out))
    assert cs.timing.start._impl.secs_since_epoch.num * 1000 == 1700000000123 * cs.timing.start._impl.secs_since_epoch.den
    assert cs.timing.period == official_movie.timing.period and cs.timing.num_samples == 12
    assert cs.spacing.num_pixels == official_movie.spacing.num_pixels
    assert xd.open_isxd(out).extra_properties == {"lab": "x"}
    np.testing.assert_array_equal(cs.get_cell_image_data(3), src["footprints"][3])


def test_compute_false_writes_both_files_only_when_computed(tmp_path, isx):
    src = make_plane(tmp_path)
    cells, events = tmp_path / "cells.isxd", tmp_path / "events.isxd"
    job = suite2p_to_isxd(src["dir"], cells, events, frame_rate=20, compute=False)
    assert isinstance(job, Delayed)
    assert not cells.exists() and not events.exists()
    job.compute()
    assert isx.CellSet.read(str(cells)).timing.period._impl.den == 20
    assert isx.EventSet.read(str(events)).num_cells == CELLS


def test_missing_frame_rate_and_bad_inputs_are_clear_errors(tmp_path):
    src = make_plane(tmp_path, fs=None)
    out = tmp_path / "cells.isxd"
    with pytest.raises(ValueError, match="frame_rate="):
        suite2p_to_isxd(src["dir"], out)
    with pytest.raises(TypeError, match="frame_rate or timing"):
        suite2p_to_isxd(src["dir"], out, frame_rate=10, timing=xd.Timing(num_samples=FRAMES))
    with pytest.raises(ValueError, match="num_samples=40"):
        suite2p_to_isxd(src["dir"], out, timing=xd.Timing(num_samples=FRAMES + 1))
    with pytest.raises(ValueError, match="metadata_from"):
        suite2p_to_isxd(src["dir"], out, metadata_from=GOLDEN / "movie_u16.isxd")
    with pytest.raises(ValueError, match="event_threshold"):
        suite2p_to_isxd(src["dir"], out, frame_rate=10, event_threshold=-1)
    with pytest.raises(FileNotFoundError, match="plane_dir"):
        suite2p_to_isxd(tmp_path / "nowhere", out, frame_rate=10)
    (src["dir"] / "spks.npy").unlink()
    with pytest.raises(FileNotFoundError, match="spks"):
        suite2p_to_isxd(src["dir"], out, tmp_path / "events.isxd", frame_rate=10)
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["suite2p"]


def test_roi_outside_the_frame_is_a_format_error(tmp_path):
    src = make_plane(tmp_path)
    stat = np.load(src["dir"] / "stat.npy", allow_pickle=True)
    stat[2]["xpix"] = stat[2]["xpix"] + COLS
    np.save(src["dir"] / "stat.npy", stat, allow_pickle=True)
    with pytest.raises(IsxdFormatError, match="ROI 2"):
        suite2p_to_isxd(src["dir"], tmp_path / "cells.isxd")


def test_existing_output_is_refused_before_writing(tmp_path):
    src = make_plane(tmp_path)
    events = tmp_path / "events.isxd"
    events.write_bytes(b"keep")
    with pytest.raises(FileExistsError, match="overwrite"):
        suite2p_to_isxd(src["dir"], tmp_path / "cells.isxd", events)
    assert not (tmp_path / "cells.isxd").exists() and events.read_bytes() == b"keep"


def test_documented_parameters_match_the_signatures():
    import inspect

    from test_docs import _documented_parameters

    from isx_dask.sources.caiman import caiman_to_isxd
    from isx_dask.sources.cnmfe import cnmfe_to_isxd
    from isx_dask.sources.minian import minian_to_isxd

    for func in (suite2p_to_isxd, caiman_to_isxd, minian_to_isxd, cnmfe_to_isxd):
        assert _documented_parameters(inspect.getdoc(func)) == list(inspect.signature(func).parameters), func.__name__


def test_invalid_samples_of_the_movie_are_nan_traces_and_never_events(tmp_path, isx):
    movie = GOLDEN / "movie_u16_dropped.isxd"  # 16 frames of 5 x 7: dropped 3 and 9, cropped 5-6, blank 12
    src = make_plane(tmp_path, shape=(5, 7, CELLS, 16))
    src["spks"][:, [3, 5, 6, 9, 12]] = 7.0  # deconvolved activity where the movie has no frame
    np.save(src["dir"] / "spks.npy", src["spks"])
    cells, events = tmp_path / "cells.isxd", tmp_path / "events.isxd"
    suite2p_to_isxd(src["dir"], cells, events, metadata_from=movie)
    timing = xd.open_isxd(movie).timing
    assert timing.dropped == (3, 9) and timing.cropped == ((5, 6),) and timing.blank == (12,)
    invalid = [3, 5, 6, 9, 12]
    traces = src["F"].copy()
    traces[:, invalid] = np.nan
    spikes = src["spks"].copy()
    spikes[:, invalid] = 0
    assert_results_read_back(
        isx, cells, src["footprints"], traces, default_names(CELLS), src["statuses"], timing, xd.open_isxd(movie).spacing,
        events, expected_events(spikes, 0.0, Fraction(1, 20)),
    )


@pytest.mark.parametrize(("num_cells", "frame_shape", "num_samples"), [(4000, (512, 512), 3000), (7, (4, 5), 10), (1, (2048, 2048), 10), (0, (4, 4), 3)])
def test_footprints_and_traces_share_chunks_of_about_32_mib_of_records(num_cells, frame_shape, num_samples):
    from isx_dask.sources._results import cell_chunks

    counts = cell_chunks(num_cells, frame_shape, num_samples)
    record = 4 * (frame_shape[0] * frame_shape[1] + num_samples)
    assert sum(counts) == num_cells and all(c >= 1 for c in counts)
    assert all(c * record <= max(32 * 2**20, record) for c in counts)
    assert all(c * record > 16 * 2**20 for c in counts[:-1])  # not needlessly small
