"""Benchmark: ``isxd_to_nwb`` streams a movie: peak memory and throughput, against same-run baselines.

Writes a lazily generated uint16 movie (512 x 512 frames, ``--mb`` megabytes of
frames, a few dropped frames so the timestamps path is taken) with
``write_movie``, then, each in a fresh subprocess so that peak memory is the
conversion's own:

1. baseline: only reading every frame of the ``.isxd`` with Dask
   (``open_isxd(path).frames.max()``, chunk by chunk);
2. ``isxd_to_nwb(path, out.nwb)``;
3. ``isxd_to_nwb`` of a movie half as long, to show that memory does not grow with the size.

Prints each one's wall time, MB/s of frames and peak resident memory (VmHWM on
Linux, ``ru_maxrss`` elsewhere) and its resident memory once the imports are done, the conversion's time as a ratio of the read
baseline, its peak memory as a ratio of the movie size and minus the
baseline's, and checks that the NWB holds the stored frames.

Run: ``python tests/bench/bench_nwb.py [--dir DIR] [--mb 400]``. Not collected by pytest.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROWS, COLS = 512, 512

CHILD = r"""
import json, os, sys, time
path, out, mode = sys.argv[1:4]


def status(key):
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    import resource
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss if sys.platform == "darwin" else rss * 1024


import isx_dask
from isx_dask.nwb import isxd_to_nwb
import pynwb  # imported before the clock starts, in both modes, so that both pay the same imports
imported = status("VmRSS")
start = time.perf_counter()
if mode == "read":
    total = isx_dask.open_isxd(path).frames.max().compute()
else:
    isxd_to_nwb(path, out)
elapsed = time.perf_counter() - start
print(json.dumps({"seconds": elapsed, "peak_bytes": status("VmHWM"), "imported_bytes": imported}))
"""


def run(mode: str, path: str, out: str) -> dict[str, float]:
    done = subprocess.run([sys.executable, "-c", CHILD, path, out, mode], check=True, capture_output=True, text=True)
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", default=None, help="working directory (default: a new temporary one)")
    parser.add_argument("--mb", type=float, default=400.0, help="movie size in MB of frames (default 400)")
    args = parser.parse_args()

    import dask.array as da
    import numpy as np

    import isx_dask as xd

    frame_nbytes = ROWS * COLS * 2
    num_samples = max(8, int(args.mb * 1e6 // frame_nbytes))
    dropped = [3, num_samples // 2]
    workdir = args.dir or tempfile.mkdtemp(prefix="bench_nwb_")
    os.makedirs(workdir, exist_ok=True)
    path, out = os.path.join(workdir, "movie.isxd"), os.path.join(workdir, "movie.nwb")
    try:
        t = np.arange(num_samples, dtype=np.uint32)[:, None, None]
        y = np.arange(ROWS, dtype=np.uint32)[None, :, None]
        frames = (da.from_array(t, chunks=(64, 1, 1)) * 7 + da.from_array(y, chunks=(1, ROWS, 1)) * 3 + np.arange(COLS, dtype=np.uint32)) % 4096
        frames = frames.astype(np.uint16).rechunk((64, ROWS, COLS))
        timing = xd.Timing(num_samples=num_samples, period=xd.Duration(50, 1000), dropped=dropped)
        spacing = xd.Spacing(num_pixels=(ROWS, COLS), pixel_size=2)
        xd.write_movie(frames, path, timing=timing, spacing=spacing, fsync=False)
        stored_nbytes = (num_samples - len(dropped)) * frame_nbytes
        print(f"movie: {num_samples} frames of {ROWS} x {COLS} uint16, {len(dropped)} dropped, "
              f"{stored_nbytes / 1e6:.0f} MB of stored frames ({os.path.getsize(path) / 1e6:.0f} MB file)")

        half = os.path.join(workdir, "half.isxd")
        half_timing = xd.Timing(num_samples=num_samples // 2, period=timing.period, dropped=[3])
        xd.write_movie(frames[: num_samples // 2], half, timing=half_timing, spacing=spacing, fsync=False)
        half_conv = run("nwb", half, os.path.join(workdir, "half.nwb"))
        read = run("read", path, out)
        start = time.perf_counter()
        conv = run("nwb", path, out)
        wall = time.perf_counter() - start
        for label, r in (("read only (baseline)", read), ("isxd_to_nwb", conv)):
            print(f"{label:>22}: {r['seconds']:7.2f} s  {stored_nbytes / 1e6 / r['seconds']:7.0f} MB/s  "
                  f"peak RSS {r['peak_bytes'] / 2**20:7.0f} MiB ({r['imported_bytes'] / 2**20:.0f} MiB after imports)")
        print(f"isxd_to_nwb / read time: {conv['seconds'] / read['seconds']:.2f}x (process wall {wall:.1f} s)")
        grown = conv["peak_bytes"] - conv["imported_bytes"]
        half_grown = half_conv["peak_bytes"] - half_conv["imported_bytes"]
        print(f"isxd_to_nwb memory growth after imports: {half_grown / 2**20:.0f} MiB for half the movie, "
              f"{grown / 2**20:.0f} MiB for all of it (ratio {grown / half_grown:.2f}; 2.00 would mean it grows with size)")
        print(f"isxd_to_nwb peak RSS / movie size: {conv['peak_bytes'] / stored_nbytes:.3f}; growth after imports "
              f"{grown / 2**20:.0f} MiB = {grown / stored_nbytes:.3f} of the movie; "
              f"above the read baseline's peak: {(conv['peak_bytes'] - read['peak_bytes']) / 2**20:.0f} MiB")

        from pynwb import NWBHDF5IO

        with NWBHDF5IO(out, "r") as io:
            series = io.read().acquisition["OnePhotonSeries"]
            assert series.data.shape == (num_samples - len(dropped), COLS, ROWS), series.data.shape
            k = num_samples // 2
            sample = int(np.flatnonzero(timing.get_valid_samples_mask())[k])
            expected = frames[sample].compute().T
            assert (series.data[k] == expected).all()
        print(f"NWB file: {os.path.getsize(out) / 1e6:.0f} MB, frames checked")
    finally:
        if args.dir is None:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
