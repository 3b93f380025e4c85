"""Tensors in shared memory, for several processes training one model (Hogwild), as PyTorch's
``share_memory_()``.

``t.share_memory_()`` moves ``t``'s values into a memory-mapped file (under ``/dev/shm`` where there
is one) and keeps the tensor itself: the optimizers update parameters in place, so every process
that holds the tensor sees the others' updates.

* Processes started with ``fork`` inherit the mapping.
* Processes started with ``spawn`` or ``forkserver`` get the tensor by pickling, and a shared tensor
  pickles as the file's name: the receiver maps the same memory. (PyTorch also moves any tensor put
  on a ``torch.multiprocessing`` queue into shared memory; here only tensors already shared travel by
  reference, the others are copied.)
* The process that shared the tensor removes the file when the tensor's values are freed, or when it
  exits. A process killed outright leaves its files behind, as PyTorch's ``file_system`` strategy does.

A tensor that is a view of another is shared through its base: ``share_memory_()`` it first.
"""
from __future__ import annotations

import itertools
import mmap
import os
import secrets
import tempfile
import weakref

import numpy as np

__all__ = ["share_array", "shared_file", "rebuild_shared", "reduce_args"]

_counter = itertools.count()
_roots: dict[int, tuple[weakref.ref, str]] = {}      # id(root array) -> (weakref to it, file path)


def _folder():
    return "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else tempfile.gettempdir()


def _unlink(path, owner, key):
    _roots.pop(key, None)
    if os.getpid() == owner:          # a forked child never removes its parent's file
        try:
            os.unlink(path)
        except OSError:
            pass


def _map(path, nbytes, create):
    flags = os.O_RDWR | (os.O_CREAT | os.O_EXCL if create else 0)
    fd = os.open(path, flags, 0o600)
    try:
        if create:
            os.ftruncate(fd, max(nbytes, 1))
        return mmap.mmap(fd, max(nbytes, 1), mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
    finally:
        os.close(fd)


def _root(arr):
    """The array that holds the mapping ``arr`` is a view of, if it is one of ours."""
    a = arr
    while isinstance(a, np.ndarray):
        hit = _roots.get(id(a))
        if hit is not None and hit[0]() is a:
            return a, hit[1]
        a = a.base
    return None, None


def shared_file(arr):
    """The file behind ``arr`` if it lies in memory shared by ``share_array``, else None."""
    return _root(arr)[1]


def share_array(arr):
    """A C-contiguous copy of ``arr`` in a new shared mapping (``arr`` itself if it already is in one)."""
    if shared_file(arr) is not None:
        return arr
    path = os.path.join(_folder(), f"autograd_core_{os.getpid()}_{next(_counter)}_{secrets.token_hex(4)}")
    try:
        mm = _map(path, arr.nbytes, create=True)
    except OSError as e:
        raise RuntimeError(f"share_memory_: could not create shared memory for a tensor of shape {arr.shape} "
                           f"({arr.nbytes} bytes) in {os.path.dirname(path)} ({e}); free space there or "
                           f"set TMPDIR to a writable folder") from e
    root = np.frombuffer(mm, dtype=np.uint8, count=arr.nbytes)
    _roots[id(root)] = (weakref.ref(root), path)
    weakref.finalize(root, _unlink, path, os.getpid(), id(root))
    out = root.view(arr.dtype).reshape(arr.shape)
    out[...] = arr
    return out


def rebuild_shared(path, dtype, shape, strides, offset, nbytes):
    """The array another process shared as ``path`` (the pickled form of a shared tensor's values)."""
    try:
        mm = _map(path, nbytes, create=False)
    except OSError as e:
        raise RuntimeError(f"a shared tensor's memory ({path}) is gone: the process that shared it has freed "
                           f"the tensor or exited ({e}); keep it alive while other processes use it") from e
    root = np.frombuffer(mm, dtype=np.uint8, count=nbytes)
    _roots[id(root)] = (weakref.ref(root), path)
    weakref.finalize(root, _roots.pop, id(root), None)
    return np.ndarray(shape, np.dtype(dtype), buffer=root, offset=offset, strides=strides)


def reduce_args(arr):
    """What ``rebuild_shared`` needs to map ``arr`` in another process, or None if it is not shared."""
    root, path = _root(arr)
    if root is None:
        return None
    offset = arr.__array_interface__["data"][0] - root.__array_interface__["data"][0]
    return path, arr.dtype.str, arr.shape, arr.strides, offset, root.nbytes
