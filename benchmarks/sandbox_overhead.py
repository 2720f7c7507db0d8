"""What the grading sandbox costs per submission: a kernel started, used and shut down.

    python -m benchmarks.sandbox_overhead [--rounds 5]

Each round starts a kernel with the sandbox kernel spec over IPC (as `make autograde` does)
and a plain ``python3`` kernel over TCP, in turn (so that the machine's load drifts alike on
both), runs ``import utils, torch`` in it and shuts it down; prints the seconds of each.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from jupyter_client import KernelManager

from scripts import sandbox

CELL = "import utils, torch"


def kernel_cycle(sandboxed: bool) -> float:
    """Seconds to start a kernel, run CELL and shut the kernel down."""
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-kernel-") as runtime, tempfile.TemporaryDirectory() as work:
        if sandboxed:  # the runtime folder must hold the connection file alone
            manager = KernelManager(kernel_name=sandbox.KERNEL_NAME, transport="ipc", ip=f"{runtime}/kernel",
                                    connection_file=f"{runtime}/kernel.json")
        else:
            manager = KernelManager(kernel_name="python3")
        manager.start_kernel(cwd=work)
        client = manager.client()
        client.start_channels()
        client.wait_for_ready(timeout=120)
        reply = client.execute_interactive(CELL, timeout=120)
        client.stop_channels()
        manager.shutdown_kernel()
        if reply["content"]["status"] != "ok":
            raise RuntimeError(f"{CELL!r} failed in the {'sandboxed' if sandboxed else 'plain'} kernel: {reply}")
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    sandbox.check()
    seconds = {True: [], False: []}
    with tempfile.TemporaryDirectory(prefix="bench-kernelspec-") as specs:
        sandbox.write_kernelspec(Path(specs), sandbox.Limits())
        os.environ["JUPYTER_PATH"] = os.pathsep.join(filter(None, [specs, os.environ.get("JUPYTER_PATH")]))
        for _ in range(args.rounds):
            for sandboxed in (False, True):
                seconds[sandboxed].append(kernel_cycle(sandboxed))
    for sandboxed, values in seconds.items():
        print(f"{'sandboxed' if sandboxed else 'plain':>9}: " + " ".join(f"{v:.2f}" for v in values)
              + f"  median {statistics.median(values):.2f} s")
    print(f"sandbox cost per kernel: {statistics.median(seconds[True]) - statistics.median(seconds[False]):+.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
