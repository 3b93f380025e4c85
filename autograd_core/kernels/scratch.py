"""A pool of reusable scratch buffers for the big temporaries of the kernels (im2col columns).

Why: glibc hands large freed blocks back to the OS, so a fresh multi-megabyte array is page-faulted
in again on first touch, every training step. For LeNet-5 that cost ~2000 page faults and a few ms
of system time per step, as much as the convolutions. Buffers taken here go back to the pool when
the op is done with them (or when the object that holds them, e.g. a node's ctx, is freed), and
the next step reuses them. At most ``MAX_IDLE_BYTES`` are kept idle.
"""
from __future__ import annotations

import threading
import weakref

import numpy as np

__all__ = ["take", "give", "give_when_freed", "clear", "prime_allocator", "MAX_IDLE_BYTES", "PRIME_BYTES"]

MAX_IDLE_BYTES = 256 << 20

_lock = threading.Lock()
_free = {}      # nbytes -> [uint8 buffers]
_idle = [0]


# glibc serves a block of at least its mmap threshold (128 KiB at start) with a fresh mmap, and gives
# the top of the heap back to the OS once more than twice that is free there. Both thresholds rise,
# once for the process, the first time a block that was mmapped is freed (mallopt(3), "dynamic mmap
# threshold"), up to 32 MiB. Until then every training step page-faults its activations in again:
# ~3000 faults and a third of a small GPT's step. PyTorch's steps avoid this in the same way.
PRIME_BYTES = (32 << 20) - (64 << 10)
_primed = [False]


def prime_allocator():
    """Allocate and free one ``PRIME_BYTES`` block, once per process (the engine calls it on the first
    backward), so that glibc keeps freed arrays of up to that size for reuse instead of unmapping them.
    Nothing else changes: no setting is made, and other allocators ignore it.

    >>> from autograd_core.kernels import scratch
    >>> scratch.prime_allocator()
    """
    if _primed[0]:
        return
    _primed[0] = True
    np.empty(PRIME_BYTES, np.uint8)     # uninitialized and never touched: no page is faulted in


def take(shape, dtype):
    """An uninitialized C-contiguous array of ``shape`` and ``dtype`` (from the pool when possible)."""
    dtype = np.dtype(dtype)
    n = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    buf = None
    with _lock:
        lst = _free.get(n)
        if lst:
            buf = lst.pop()
            _idle[0] -= n
    if buf is None:
        buf = np.empty(n, np.uint8)
    return buf.view(dtype).reshape(shape)


def _owner(arr):
    while isinstance(arr.base, np.ndarray):
        arr = arr.base
    return arr


def give(arr):
    """Return an array from ``take`` to the pool. The caller must hold no other reference into it."""
    buf = _owner(arr)
    n = buf.nbytes
    with _lock:
        if _idle[0] + n > MAX_IDLE_BYTES:
            return
        _free.setdefault(n, []).append(buf)
        _idle[0] += n


def give_when_freed(owner, arr):
    """Return ``arr`` to the pool once ``owner`` is garbage (e.g. a ctx freed after backward)."""
    weakref.finalize(owner, give, arr)


def clear():
    """Drop every idle buffer."""
    with _lock:
        _free.clear()
        _idle[0] = 0
