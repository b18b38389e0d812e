"""Give the memory of closed connections back to the operating system (glibc only).

CPython's TLS transport allocates a 256 KiB read buffer per connection. glibc serves the first
such blocks with ``mmap`` but then raises its mmap threshold above their size (the "dynamic
threshold"), so later ones come from the heap, whose free space between live blocks is never
returned: after a burst of connections (e.g. a flood of half-open ones) RSS stays high. Pinning
the threshold at glibc's default keeps these buffers in ``mmap`` and each is unmapped when its
connection closes. Elsewhere (musl, macOS) this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

log = logging.getLogger(__name__)

_M_MMAP_THRESHOLD = -3
_THRESHOLD = 128 * 1024
_done = False


def pin_mmap_threshold() -> bool:
    """Fix glibc's mmap threshold at 128 KiB (once per process); False where not glibc."""
    global _done  # process-wide allocator setting: once is enough
    if _done:
        return True
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    _done = bool(mallopt(_M_MMAP_THRESHOLD, _THRESHOLD))
    if not _done:
        log.debug("mallopt(M_MMAP_THRESHOLD) refused; closed connections may keep RSS")
    return _done
