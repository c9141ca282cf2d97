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

The methods alternate (rotating order, ``--repeats`` rounds, medians; files
warm in the page cache, or ``--state cold``); conversions include the final
fsync. Run:
``python tests/bench/bench_miniscope.py [--frames 200 400] [--size 320] [--per-file 100] [--chunk-mib 8] [--repeats 3]``.
Not collected by pytest.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _baseline import PEAK_RSS, alternate, peak_rss_of_child, remove, report  # noqa: E402

_CHILD = PEAK_RSS + r"""
import sys
from isx_dask.sources.miniscope import miniscope_to_isxd
miniscope_to_isxd(sys.argv[1], sys.argv[2], pixel_size=1, overwrite=True, compute_kwargs={"scheduler": "threads"})
print(_peak_rss())
"""


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


def _nothing(block: np.ndarray) -> np.ndarray:
    return np.zeros((1, 1, 1), np.uint8)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, nargs=2, default=[200, 400], help="short and long length (frames)")
    parser.add_argument("--size", type=int, default=320, help="frame rows = cols (default 320; V4 records 608)")
    parser.add_argument("--per-file", type=int, default=100, help="frames per AVI (default 100; V4 writes 1000)")
    parser.add_argument("--chunk-mib", type=int, default=8, help="dask array.chunk-size in MiB (default 8)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--state", default="warm", choices=["cold", "warm"])
    parser.add_argument("--pause", type=float, default=0.5, help="seconds of rest before every timed run")
    parser.add_argument("--dir", default=None)
    args = parser.parse_args()

    import av
    import dask
    import dask.array as da

    import isx_dask as xd
    from isx_dask.sources.miniscope import miniscope_to_isxd, read_miniscope

    os.environ["DASK_ARRAY__CHUNK_SIZE"] = f"{args.chunk_mib}MiB"  # for the child processes
    directory = tempfile.mkdtemp(prefix="bench_miniscope_", dir=args.dir)
    out = os.path.join(directory, "out.isxd")
    print(f"FFV1 grey {args.size}x{args.size}, {args.per_file} frames per AVI, lengths {args.frames}, "
          f"chunks of {args.chunk_mib} MiB, {args.state} cache, threads on {os.cpu_count()} cores")
    try:
        folders = [make_folder(os.path.join(directory, f"r{n}"), n, args.size, args.per_file) for n in args.frames]
        folder, num = folders[1], args.frames[1]
        avis = sorted((n for n in os.listdir(folder) if n.endswith(".avi")), key=lambda n: int(n[:-4]))
        files = [os.path.join(f, n) for f in folders for n in os.listdir(f)]

        def pyav_alone() -> None:
            for name in avis:
                with av.open(os.path.join(folder, name)) as container:
                    for frame in container.decode(container.streams.video[0]):
                        frame.to_ndarray()

        def lazy_frames_alone() -> None:
            lazy = read_miniscope(folder, pixel_size=1).frames
            lazy.map_blocks(_nothing, chunks=(1, 1, 1), dtype=np.uint8).compute()

        def write_movie_of_zeros() -> None:
            lazy = read_miniscope(folder, pixel_size=1).frames
            zeros = da.zeros(lazy.shape, dtype=lazy.dtype, chunks=lazy.chunks)
            xd.write_movie(zeros, out, timing=xd.Timing(num_samples=lazy.shape[0]),
                           spacing=xd.Spacing(num_pixels=lazy.shape[1:]), overwrite=True)

        def convert() -> None:
            miniscope_to_isxd(folder, out, pixel_size=1, overwrite=True)

        methods = {"PyAV decode alone": pyav_alone, "lazy frames alone": lazy_frames_alone,
                   "write_movie of zeros": write_movie_of_zeros, "miniscope_to_isxd": convert}
        with dask.config.set({"scheduler": "threads", "array.chunk-size": f"{args.chunk_mib}MiB"}):
            times = alternate(methods, args.repeats, args.state, args.pause, lambda: remove(out), [*files, out])
        report(f"{num} frames of uint8", num * args.size * args.size, times, "PyAV decode alone", {"miniscope_to_isxd": 0.8})
        peaks = []
        for n, path in zip(args.frames, folders):
            peak, _, elapsed = peak_rss_of_child(_CHILD, [path, out])
            remove(out)
            peaks.append(peak)
            print(f"    peak RSS converting {n} frames: {peak / 2**20:6.0f} MiB  ({elapsed:.1f} s)")
        print(f"    ratio long/short peak: {peaks[1] / peaks[0]:.2f} (target: about 1, whatever the length)")
    finally:
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
