"""Benchmark: Miniscope folder -> .isxd throughput against decoding the AVIs alone, and peak RSS at two lengths.

Builds V4-like device folders (FFV1 grey AVIs of ``--per-file`` frames written
with PyAV, ``timeStamps.csv``, ``metaData.json`` and the recording's
``metaData.json``) and prints:

1. ``miniscope_to_isxd`` time vs decoding every frame of every AVI with PyAV
   alone (one thread, ``to_ndarray``): the ratio baseline / conversion
   (target >= 0.8; above 1 the conversion decodes on both cores);
2. vs the same lazy Dask frames stored into a target that drops the chunks,
   and what writing alone costs (``write_movie`` of zeros in the same chunks);
3. the peak RSS (VmHWM) of a fresh process converting the short and the long
   recording: it must not grow with the recording's length.

Every timing is the best of ``--repeats`` runs with files in the page cache;
conversions include the final fsync. Run:
``python tests/bench/bench_miniscope.py [--frames 200 400] [--size 320] [--per-file 100] [--chunk-mib 8] [--repeats 3]``.
Not collected by pytest.
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
from typing import Any

import numpy as np


class Discard:
    """A ``da.store`` target that drops every chunk (the cost of producing them only)."""

    def __init__(self, shape: tuple[int, ...], dtype: Any) -> None:
        self.shape, self.dtype, self.ndim = shape, np.dtype(dtype), len(shape)

    def __setitem__(self, key: Any, value: np.ndarray) -> None:
        pass


def best_of(repeats: int, fn: Any) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def make_folder(root: str, num: int, size: int, per_file: int) -> str:
    import av

    device = os.path.join(root, "Miniscope")
    os.makedirs(device)
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:size, 0:size]
    background = (60 + 40 * np.sin(yy / 17.0) * np.cos(xx / 23.0)).astype(np.int16)
    for k, first in enumerate(range(0, num, per_file)):
        with av.open(os.path.join(device, f"{k}.avi"), "w") as container:
            stream = container.add_stream("ffv1", rate=30)
            stream.width = stream.height = size
            stream.pix_fmt = "gray"
            for _ in range(first, min(first + per_file, num)):
                frame = np.clip(background + rng.integers(0, 24, (size, size)), 0, 255).astype(np.uint8)
                for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="gray")):
                    container.mux(packet)
            for packet in stream.encode():
                container.mux(packet)
    with open(os.path.join(device, "timeStamps.csv"), "w") as fh:
        fh.write("Frame Number,Time Stamp (ms),Buffer Index\n")
        fh.writelines(f"{i},{33 * i + i // 3},0\n" for i in range(num))
    with open(os.path.join(device, "metaData.json"), "w") as fh:
        json.dump({"deviceName": "Miniscope", "frameRate": "30FPS"}, fh)
    with open(os.path.join(root, "metaData.json"), "w") as fh:
        json.dump({"recordingStartTime": {"year": 2024, "month": 5, "day": 1, "hour": 15, "minute": 3, "second": 28,
                                          "msec": 250, "msecSinceEpoch": 1714575808250}}, fh)
    return device


def peak_rss_mib(folder: str, out: str, chunk_mib: int) -> float | None:
    """VmHWM of a fresh process that converts ``folder`` (Linux only; None elsewhere)."""
    if not os.path.exists("/proc/self/status"):
        return None
    code = (
        "import sys; from isx_dask.sources.miniscope import miniscope_to_isxd;"
        "miniscope_to_isxd(sys.argv[1], sys.argv[2], pixel_size=1, overwrite=True, compute_kwargs={'scheduler': 'threads'});"
        "print([l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1])"
    )
    env = {**os.environ, "DASK_ARRAY__CHUNK_SIZE": f"{chunk_mib}MiB"}
    done = subprocess.run([sys.executable, "-c", code, folder, out], capture_output=True, text=True, check=True, env=env)
    return int(done.stdout.strip()) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, nargs=2, default=[200, 400], help="short and long length (frames)")
    parser.add_argument("--size", type=int, default=320, help="frame rows = cols (default 320; V4 records 608)")
    parser.add_argument("--per-file", type=int, default=100, help="frames per AVI (default 100; V4 writes 1000)")
    parser.add_argument("--chunk-mib", type=int, default=8, help="dask array.chunk-size in MiB (default 8)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--dir", default=None)
    args = parser.parse_args()

    import av
    import dask
    import dask.array as da

    import isx_dask as xd
    from isx_dask.sources.miniscope import miniscope_to_isxd, read_miniscope

    directory = tempfile.mkdtemp(prefix="bench_miniscope_", dir=args.dir)
    out = os.path.join(directory, "out.isxd")
    try:
        folders = [make_folder(os.path.join(directory, f"r{n}"), n, args.size, args.per_file) for n in args.frames]
        rss = [peak_rss_mib(f, out, args.chunk_mib) for f in folders]
        folder = folders[1]
        avis = sorted((n for n in os.listdir(folder) if n.endswith(".avi")), key=lambda n: int(n[:-4]))
        mb = args.frames[1] * args.size * args.size / 1e6

        def pyav_alone() -> None:
            for name in avis:
                with av.open(os.path.join(folder, name)) as container:
                    for frame in container.decode(container.streams.video[0]):
                        frame.to_ndarray()

        def graph_alone() -> None:
            lazy = read_miniscope(folder, pixel_size=1).frames
            da.store(lazy, Discard(lazy.shape, lazy.dtype), lock=False)  # type: ignore[no-untyped-call]

        def convert() -> None:
            miniscope_to_isxd(folder, out, pixel_size=1, overwrite=True)

        def write_alone() -> None:
            lazy = read_miniscope(folder, pixel_size=1).frames
            zeros = da.zeros(lazy.shape, dtype=lazy.dtype, chunks=lazy.chunks)
            xd.write_movie(zeros, out, timing=xd.Timing(num_samples=lazy.shape[0]), spacing=xd.Spacing(num_pixels=lazy.shape[1:]), overwrite=True)

        with dask.config.set({"scheduler": "threads", "array.chunk-size": f"{args.chunk_mib}MiB"}):
            t_base = best_of(args.repeats, pyav_alone)
            t_graph = best_of(args.repeats, graph_alone)
            t_conv = best_of(args.repeats, convert)
            t_write = best_of(args.repeats, write_alone)
        print(f"FFV1 grey {args.size}x{args.size}, {args.per_file} frames per AVI, chunks of {args.chunk_mib} MiB, "
              f"best of {args.repeats}, threads on {os.cpu_count()} cores")
        print(f"{args.frames[1]} frames, {mb:.0f} MB of uint8 frames")
        print(f"  PyAV decode alone   {t_base:7.3f} s  {mb / t_base:8.1f} MB/s")
        print(f"  lazy frames alone   {t_graph:7.3f} s  {mb / t_graph:8.1f} MB/s")
        print(f"  write_movie alone   {t_write:7.3f} s  {mb / t_write:8.1f} MB/s  (zeros, same chunks: the write's share)")
        print(f"  miniscope_to_isxd   {t_conv:7.3f} s  {mb / t_conv:8.1f} MB/s")
        print(f"  ratio vs PyAV alone         {t_base / t_conv:5.2f}  (target >= 0.8)")
        print(f"  ratio vs lazy frames alone  {t_graph / t_conv:5.2f}")
        shown = ", ".join(f"{n} frames: {r:.0f} MiB" if r is not None else f"{n} frames: n/a" for n, r in zip(args.frames, rss))
        print(f"  peak RSS of a converting process: {shown}")
    finally:
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
