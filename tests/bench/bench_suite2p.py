"""Benchmark: peak memory of suite2p_to_isxd does not grow with the number of ROIs.

For each ROI count (default 500 and 2,000 ROIs of a 512 x 512 frame, 3,000
frames) the parent makes a suite2p ``plane0/`` folder with numpy (``stat.npy``
with about 150 pixels per ROI, ``ops.npy``, ``F.npy``, ``Fneu.npy``,
``spks.npy``, ``iscell.npy``); a child process then converts it to a cell set
and an event set and prints its peak resident memory (VmHWM on Linux,
``ru_maxrss`` elsewhere) and the same figure measured just before the
conversion (after importing dask and isx_dask and loading ``stat.npy``), as the baseline of
the same run. The dense footprints alone are 1 GiB per 1,000 ROIs.

Prints one line per size and the ratio peak(largest) / peak(smallest).

Run: ``python tests/bench/bench_suite2p.py [--dir DIR] [--rois 500 2000] [--frames 3000]``.
Not collected by pytest.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

LY, LX = 512, 512

_CHILD = r"""
import os, sys, time

def peak_bytes():
    try:
        with open("/proc/self/status") as f:
            status = dict(line.split(":", 1) for line in f)
        return int(status["VmHWM"].split()[0]) * 1024
    except OSError:
        import resource
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak if sys.platform == "darwin" else peak * 1024

import dask.array, dask.delayed, numpy as np
from isx_dask.sources.suite2p import suite2p_to_isxd
plane, cells, events = sys.argv[1:4]
np.load(os.path.join(plane, "stat.npy"), allow_pickle=True)  # what the conversion also holds: the ROI pixel lists
before = peak_bytes()
start = time.perf_counter()
suite2p_to_isxd(plane, cells, events, fsync=False, compute_kwargs={"scheduler": "threads", "num_workers": 2})
elapsed = time.perf_counter() - start
print(before, peak_bytes(), os.path.getsize(cells) + os.path.getsize(events), elapsed)
"""


def make_plane(plane: Path, num_rois: int, num_frames: int, seed: int = 0) -> None:
    """A suite2p plane folder of ``num_rois`` disc-shaped ROIs (radius 7) in a 512 x 512 frame."""
    rng = np.random.default_rng(seed)
    plane.mkdir(parents=True)
    ys, xs = np.mgrid[-7:8, -7:8]
    disc = ys**2 + xs**2 <= 49
    stat = []
    for _ in range(num_rois):
        cy, cx = rng.integers(8, LY - 8), rng.integers(8, LX - 8)
        ypix, xpix = (ys[disc] + cy).astype(np.int32), (xs[disc] + cx).astype(np.int32)
        lam = rng.random(len(ypix)).astype(np.float32)
        stat.append({"ypix": ypix, "xpix": xpix, "lam": lam, "med": [cy, cx], "npix": len(ypix), "overlap": np.zeros(len(ypix), bool)})
    np.save(plane / "stat.npy", np.array(stat, dtype=object), allow_pickle=True)
    ops = {"Ly": LY, "Lx": LX, "fs": 30.0, "neucoeff": 0.7, "nframes": num_frames}
    np.save(plane / "ops.npy", np.array(ops, dtype=object), allow_pickle=True)
    for name in ("F", "Fneu"):
        np.save(plane / f"{name}.npy", rng.standard_normal((num_rois, num_frames), dtype=np.float32))
    spks = rng.random((num_rois, num_frames), dtype=np.float32)
    np.save(plane / "spks.npy", np.where(spks > 0.98, spks, 0).astype(np.float32))
    np.save(plane / "iscell.npy", np.stack([rng.random(num_rois) < 0.8, rng.random(num_rois)], axis=1).astype(np.float64))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", default=None, help="directory for the folders and outputs (default: a temp dir under the cwd)")
    parser.add_argument("--rois", type=int, nargs="+", default=[500, 2000])
    parser.add_argument("--frames", type=int, default=3000)
    args = parser.parse_args()
    directory = Path(args.dir or tempfile.mkdtemp(prefix="bench_suite2p_", dir=os.getcwd()))
    directory.mkdir(parents=True, exist_ok=True)
    print(f"suite2p_to_isxd, {LY}x{LX} frames, {args.frames} frames, threads scheduler with 2 workers, no fsync")
    peaks = []
    for n in args.rois:
        work = directory / f"rois_{n}"
        make_plane(work / "plane0", n, args.frames)
        cells, events = work / "cells.isxd", work / "events.isxd"
        res = subprocess.run([sys.executable, "-c", _CHILD, str(work / "plane0"), str(cells), str(events)],
                             capture_output=True, text=True, check=False)
        if res.returncode != 0:
            print(res.stderr)
            raise SystemExit(res.returncode)
        before, peak, size, elapsed = res.stdout.split()
        peaks.append(int(peak))
        dense = n * LY * LX * 4
        print(f"  {n:5d} ROIs: outputs {int(size) / 1e9:5.2f} GB (dense footprints {dense / 2**30:4.2f} GiB); "
              f"peak RSS {int(peak) / 2**20:6.0f} MiB, before converting {int(before) / 2**20:5.0f} MiB; {float(elapsed):.1f} s")
        shutil.rmtree(work)
    print(f"  ratio peak({args.rois[-1]} ROIs) / peak({args.rois[0]} ROIs): {peaks[-1] / peaks[0]:.2f}  "
          f"(ROI count ratio {args.rois[-1] / args.rois[0]:.0f})")
    if args.dir is None and not any(directory.iterdir()):
        directory.rmdir()


if __name__ == "__main__":
    main()
