"""``nn.save`` / ``nn.load``: weights in safetensors (the default), npz, and PyTorch's zip checkpoints.

``nn.save`` writes safetensors through the ``safetensors`` package, or, for a ``.npz`` path or
``format="npz"``, the npz format (an ``.npz`` of arrays plus a JSON key map). Both rebuild the
exact nested object: model state dicts, optimizer state dicts in PyTorch's format
(``{'state': {0: {...}}, 'param_groups': [...]}``) and any nest of dicts, lists, tuples, Tensors,
numpy arrays and scalars, ints, floats, bools, strings and None. Nothing is ever pickled.
Writes are atomic: a temporary file in the same directory is written, flushed, fsynced and
renamed over the target, so an interrupted save leaves the previous file intact.

``nn.load`` recognises a file by its content, not its name, and reads:

- safetensors, including files from ``safetensors.torch.save_file`` and
  ``safetensors.numpy.save_file`` (bfloat16 is widened to float32; see ``checkpoint_safetensors``);
- PyTorch zip checkpoints (``torch.save(model.state_dict(), "model.pt")``) without importing
  torch and without running pickled code (see ``checkpoint_torch``);
- the npz format of ``nn.save``.

Every refusal (truncated, corrupted, foreign or hostile file) is a ValueError that names the
file. Every declared size is checked against the bytes really present before anything is
allocated, so tensors take what the file holds; the key map and a PyTorch pickle are bounded
too (see ``checkpoint_structure`` and ``checkpoint_torch``).
"""
from __future__ import annotations

import io
import os
import struct
import tempfile
import warnings
import zipfile
from typing import IO, Any, Union

from . import checkpoint_npz, checkpoint_safetensors, checkpoint_torch
from .checkpoint_structure import Refused
from .checkpoint_zip import ZipMembers

__all__ = ["save", "load"]

_PathOrFile = Union[str, "os.PathLike[str]", IO[bytes]]

_FORMATS = ("safetensors", "npz")


def _format_for(path, format):
    if format is not None:
        if format not in _FORMATS:
            raise ValueError(f"nn.save: format must be one of {_FORMATS}, got {format!r}")
        return format
    if path is None:
        return "safetensors"
    ext = os.path.splitext(os.fspath(path))[1].lower()
    if ext == ".npz":
        return "npz"
    if ext in (".pt", ".pth"):
        # a ported script's torch.save(model.state_dict(), "model.pt") must run: the file is safetensors
        # under that name (nn.load reads it by its content), and the warning says what PyTorch needs
        warnings.warn(f"nn.save: {os.fspath(path)!r} has PyTorch's pickle extension, but nn.save writes no pickles: "
                      "the file is safetensors (nn.load reads it; in PyTorch read it with "
                      "safetensors.torch.load_file, not torch.load). Pass format='safetensors' to say so and "
                      "silence this warning", UserWarning, stacklevel=3)
    return "safetensors"


def save(obj: Any, path: _PathOrFile, format: str | None = None) -> None:
    """Save ``obj`` (a state dict, an optimizer state dict, or any nest of the supported types) to ``path``.

    The format is safetensors unless ``path`` ends in ``.npz`` or ``format="npz"`` is given; a
    ``.pt``/``.pth`` name (a PyTorch script's ``torch.save(model.state_dict(), "model.pt")``) gets
    safetensors too, with a warning that PyTorch reads it with ``safetensors.torch.load_file``, not
    ``torch.load`` (nn.save writes no pickles). Tensors are stored under their
    dotted path (``"0.weight"``), so ``safetensors.torch.load_file(path)`` gives PyTorch a state
    dict; non-tensor entries (an optimizer's step count, hyper-parameters) and the exact nesting
    go into the safetensors metadata. ``path`` is used as given. The write is atomic: the old
    file, if any, stays intact until the new one is complete on disk. A writable binary file
    object is also accepted (then nothing is atomic).

    >>> import io, nn
    >>> buf = io.BytesIO()
    >>> nn.save({"w": nn.Parameter(nn.Linear(2, 1).weight.detach())}, buf)
    >>> _ = buf.seek(0); sorted(nn.load(buf))
    ['w']
    """
    fmt = _format_for(None if hasattr(path, "write") else path, format)
    if hasattr(path, "write"):
        (checkpoint_npz if fmt == "npz" else checkpoint_safetensors).write(obj, path)
        return
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(dir=directory, prefix="." + os.path.basename(path) + ".", suffix=".tmp")
    except OSError as e:
        raise _cannot_write(e, path, directory) from e
    try:
        if fmt == "npz":
            with os.fdopen(fd, "wb") as f:
                checkpoint_npz.write(obj, f)
                f.flush()
                os.fsync(f.fileno())
        else:
            os.close(fd)
            checkpoint_safetensors.write_path(obj, tmp)
            with open(tmp, "rb") as f:
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_dir(directory)


def _cannot_write(e, path, directory):
    # the temporary file's name in the OSError would only puzzle: say which target failed and why
    if isinstance(e, FileNotFoundError) or not os.path.isdir(directory):
        why = f"the folder {directory!r} does not exist (create it first: os.makedirs(folder, exist_ok=True))"
    elif isinstance(e, PermissionError):
        why = f"the folder {directory!r} is not writable (save elsewhere, or make it writable)"
    else:
        why = f"no file can be created in {directory!r} ({e.strerror or e})"
    return type(e)(e.errno, f"nn.save: can't write {path!r}: {why}")


def _fsync_dir(directory):
    # make the rename itself durable; not every platform can open a directory
    try:
        dfd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dfd)
    except OSError:
        pass
    finally:
        os.close(dfd)


def _read_any(f, size):
    head = f.read(16)
    f.seek(0)
    if not head:
        raise Refused("the file is empty")
    # first: a safetensors length can begin like a zip or a pickle ("PK\x03\x04", 0x80 0x02), while no zip,
    # pickle or .npy file has both a "{" at byte 8 and a first 8 bytes that read as a length that fits
    if checkpoint_safetensors.looks_like(head) and struct.unpack("<Q", head[:8])[0] <= size - 8:
        return checkpoint_safetensors.read(f, size)
    if head[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        members = ZipMembers(f, size)
        if checkpoint_npz.looks_like(members):
            return checkpoint_npz.read(members)
        if checkpoint_torch.looks_like(members):
            return checkpoint_torch.read(members)
        if members.names and all(n.endswith(".npy") for n in members.names):
            raise Refused(f"it has no {checkpoint_npz.META!r} entry (an .npz file not written by nn.save?)")
        raise Refused("it is a zip archive but neither a PyTorch checkpoint nor an nn.save .npz")
    if head.startswith(checkpoint_torch.LEGACY_MAGIC):
        raise Refused("it is a legacy (pre-1.6, non-zip) PyTorch checkpoint, which nn.load does not read; "
                      "re-save it with a recent PyTorch: torch.save(torch.load(path, weights_only=True), path)")
    if head[:1] == b"\x80" and len(head) > 1 and head[1] <= 5:
        raise Refused("it is a pickle file; nn.load never unpickles arbitrary files (it reads safetensors, "
                      "PyTorch zip checkpoints and nn.save .npz files)")
    if head[:6] == b"\x93NUMPY":
        raise Refused("it is a single .npy array, not a checkpoint")
    if checkpoint_safetensors.looks_like(head):
        return checkpoint_safetensors.read(f, size)
    raise Refused("it is not in a format nn.load reads (safetensors, a PyTorch zip checkpoint, or an nn.save "
                  ".npz)")


def load(f: _PathOrFile, map_location: Any = None, *, weights_only: bool = True, mmap: bool | None = None) -> Any:
    """Load a checkpoint: safetensors, a PyTorch zip checkpoint (``.pt``/``.pth``/``.bin``) or an
    nn.save ``.npz``, told apart by content, not by name. ``f`` is a path or a seekable binary
    file object.

    What comes back:

    - from a file ``nn.save`` wrote (either format): the saved object itself. Dicts come back
      as dicts (an OrderedDict state dict as a plain dict, in the same order), tuples as tuples,
      numpy arrays as arrays, Tensors as Tensors and Parameters as Parameters (with their
      ``requires_grad``), numpy scalars as numpy scalars, Python values as themselves;
    - from other safetensors files: a dict of name -> Tensor;
    - from a PyTorch checkpoint: the pickled object with OrderedDicts, lists, tuples and
      primitives as they were, ``torch.Tensor`` as Tensor and ``nn.Parameter`` as Parameter.
      Tensors that shared a storage share memory.

    Dtypes: float16/32/64, int8/16/32/64, uint8 (and uint16/32/64 in safetensors) and bool keep
    their dtype; bfloat16 is widened to float32 (exact; NumPy has no bfloat16). Other dtypes
    (complex, float8, quantized) are refused.

    ``map_location`` may be None or ``"cpu"`` (there is no other device); ``weights_only`` must
    stay True: nothing in a file is ever executed, as with ``torch.load(weights_only=True)``.
    ``mmap=True`` is accepted for a path, as PyTorch's (a file object with it is refused as there);
    the tensors are read into memory all the same, so the result equals a load without it.

    A missing file raises FileNotFoundError; a truncated, corrupted, foreign or hostile file
    raises a ValueError that names it, and nothing is allocated beyond what the file holds.

    >>> import io, nn
    >>> buf = io.BytesIO(); nn.save({"step": 3, "lr": 0.1}, buf); _ = buf.seek(0)
    >>> nn.load(buf)
    {'step': 3, 'lr': 0.1}
    """
    if map_location not in (None, "cpu") and str(map_location) != "cpu":
        raise ValueError(f"nn.load: map_location={map_location!r}: only 'cpu' exists here")
    if weights_only is not True:
        raise ValueError("nn.load: weights_only=False is not supported; nn.load never runs code from a file")
    if hasattr(f, "read"):
        if mmap:
            raise ValueError("nn.load: f must be a file path in order to use the mmap argument (got a file object)")
        name = repr(getattr(f, "name", None) or "<file object>")
        return _load_file(f, name)
    name = repr(os.fspath(f))
    if not os.path.exists(f):
        raise FileNotFoundError(f"nn.load: no such file: {name}")
    with open(f, "rb") as fh:
        return _load_file(fh, name)


def _load_file(f, name):
    try:
        seekable = f.seekable()
        start = f.tell() if seekable else 0
        if not seekable or start:
            f = io.BytesIO(f.read())  # a pipe, or a file positioned after other data
        size = f.seek(0, os.SEEK_END)
        f.seek(0)
        return _read_any(f, size)
    except Refused as e:
        raise ValueError(f"nn.load: {name} is not a valid checkpoint: {e}") from None
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, zipfile.LargeZipFile, struct.error, KeyError,
            IndexError, TypeError, OverflowError, RecursionError, UnicodeError, NotImplementedError) as e:
        msg = str(e)[:300] or type(e).__name__
        raise ValueError(f"nn.load: {name} is not a valid checkpoint (truncated, corrupted or not a checkpoint): "
                         f"{type(e).__name__}: {msg}") from None
