"""The data policy switches shared by image and table loading (the README's "Data" section)."""
from __future__ import annotations

import os
import socket

_MODES = ("auto", "real", "standin")


def data_mode() -> str:
    """``COURSE_DATA``: "real" (stand-ins are an error), "standin" (force them) or "auto"."""
    mode = os.environ.get("COURSE_DATA", "auto").strip().lower() or "auto"
    if mode == "stand-in":
        mode = "standin"
    if mode not in _MODES:
        raise ValueError(f"COURSE_DATA={mode!r} is not understood: use real, standin or leave it unset.")
    return mode


def network_reachable(host: str, port: int = 443, timeout: float = 3.0) -> bool:
    """A quick TCP probe so that an offline machine never waits long on a download.

    ``COURSE_OFFLINE=1`` skips the probe altogether.
    """
    if os.environ.get("COURSE_OFFLINE", "").strip() in ("1", "true", "yes"):
        return False
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False
