"""Reading data stored as a pickle (CIFAR-10's python version) from a file that may be hostile.

``load(path)`` returns the pickled dicts, lists, tuples, strings, bytes and numbers, with each NumPy
array as an ``ArrayStub`` (its declared shape, dtype and raw bytes, not yet trusted); ``to_array``
checks a stub and makes the array. Guarantees, for any file:

* **no code runs.** Only these globals resolve: NumPy's array and dtype reconstructors, ``numpy.ndarray``,
  ``_codecs.encode`` (latin-1 text to bytes), ``bytes`` and ``bytearray``, and every one is replaced by
  a stand-in that only records its arguments, so no NumPy code sees untrusted state. Any other
  global is refused, naming the file and the global; so are persistent ids, the extension registry
  and the old class-instantiating opcodes;
* **bounded memory and time.** Before anything is built, a first pass over the opcodes checks every
  length the file declares against the bytes that are really there (CPython's unpickler allocates a
  declared length before reading it), the memo indices, the nesting depth (``MAX_DEPTH``) and the
  size of every dict key and set item (``MAX_KEY_ITEMS``, counted with repeats: hashing a tuple that
  holds one tuple many times over, through the memo, takes time exponential in the file's size); the
  unpickler then reads from memory, so nothing it allocates can outgrow a small multiple of the file;
* **every refusal is a ValueError** whose message starts with the file's path.
"""
from __future__ import annotations

import io
import pickle
import pickletools
import re

import numpy as np

from .checkpoint_structure import brief

__all__ = ["load", "to_array", "ArrayStub", "MAX_DEPTH"]

MAX_DEPTH = 32  # containers nested deeper than this are refused (real data files nest 4-5 deep)
MAX_KEY_ITEMS = 1000  # a dict key or set item holds at most this many objects, counted with repeats
_MEMO_SLACK = 1024  # memo indices may run at most this far ahead of the number of memo writes

_REFUSED_OPS = {
    "PERSID": "persistent ids", "BINPERSID": "persistent ids", "EXT1": "the extension registry",
    "EXT2": "the extension registry", "EXT4": "the extension registry", "INST": "class instantiation",
    "OBJ": "class instantiation", "NEXT_BUFFER": "out-of-band buffers", "READONLY_BUFFER": "out-of-band buffers",
}
_SCALAR_OPS = {
    "INT", "BININT", "BININT1", "BININT2", "LONG", "LONG1", "LONG4", "STRING", "BINSTRING", "SHORT_BINSTRING",
    "BINBYTES", "SHORT_BINBYTES", "BINBYTES8", "BYTEARRAY8", "UNICODE", "SHORT_BINUNICODE", "BINUNICODE",
    "BINUNICODE8", "FLOAT", "BINFLOAT", "NONE", "NEWTRUE", "NEWFALSE", "GLOBAL",
}
_EMPTY_OPS = {"EMPTY_LIST", "EMPTY_DICT", "EMPTY_TUPLE", "EMPTY_SET"}
_FROM_MARK_OPS = {"LIST", "TUPLE", "DICT", "FROZENSET"}
_ADD_FROM_MARK_OPS = {"APPENDS", "SETITEMS", "ADDITEMS"}
_PUT_OPS = {"PUT", "BINPUT", "LONG_BINPUT", "MEMOIZE"}
_GET_OPS = {"GET", "BINGET", "LONG_BINGET"}
_MARK = object()
_SIZE_CAP = 1 << 62  # object counts saturate here: they grow exponentially with shared tuples


def _refuse(path, what):
    return ValueError(f"{path}: {what}; refusing to load it")


def _refuse_global(path, module, name):
    return _refuse(path, f"refers to {module}.{name}, which a data file never contains (only NumPy arrays, "
                         "dicts, lists, strings, bytes and numbers are allowed)")


# -- stand-ins for the allowed globals -------------------------------------------------------------
class _NdarrayClass:
    """What ``numpy.ndarray`` resolves to: a token for ``_reconstruct``'s first argument."""


class _DtypeStub:
    __slots__ = ("spec", "state")

    def __init__(self, spec):
        self.spec = spec
        self.state = None

    def __setstate__(self, state):
        self.state = state


class ArrayStub:
    """A pickled NumPy array as the file declares it: ``state`` is what ``ndarray.__setstate__`` would
    get (``(version, shape, dtype, is_fortran, raw)``), or ``frombuffer`` holds ``(raw, dtype, shape, order)``."""

    __slots__ = ("state", "frombuffer")

    def __init__(self, frombuffer=None):
        self.state = None
        self.frombuffer = frombuffer

    def __setstate__(self, state):
        self.state = state


def _reconstruct(cls, shape, typecode):
    if cls is not _NdarrayClass:
        raise pickle.UnpicklingError("_reconstruct is only allowed for numpy.ndarray")
    return ArrayStub()


def _frombuffer(buf, dtype, shape, order):
    return ArrayStub(frombuffer=(buf, dtype, shape, order))


def _dtype(spec, align=False, copy=False):
    return _DtypeStub(spec)


def _latin1_encode(obj, encoding="latin1"):
    # how pickles of protocol <= 2 written by Python 3 carry bytes: _codecs.encode(str, 'latin1')
    if not isinstance(obj, str) or encoding not in ("latin1", "latin-1"):
        raise pickle.UnpicklingError("_codecs.encode is only allowed for latin-1 text")
    return obj.encode("latin1")


def _bytes_like(kind):
    def make(*args):
        if not args:
            return kind()
        if len(args) == 1 and isinstance(args[0], (bytes, bytearray)):
            return kind(args[0])
        raise pickle.UnpicklingError(f"{kind.__name__}() is only allowed with no argument or with bytes")
    return make


_ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy.core.numeric", "_frombuffer"): _frombuffer,
    ("numpy._core.numeric", "_frombuffer"): _frombuffer,
    ("numpy", "ndarray"): _NdarrayClass,
    ("numpy", "dtype"): _dtype,
    ("_codecs", "encode"): _latin1_encode,
    ("codecs", "encode"): _latin1_encode,
}
for _mod in ("builtins", "__builtin__"):
    _ALLOWED[(_mod, "bytes")] = _bytes_like(bytes)
    _ALLOWED[(_mod, "bytearray")] = _bytes_like(bytearray)


class _Unpickler(pickle.Unpickler):
    def __init__(self, file, path):
        super().__init__(file, encoding="bytes")
        self.path = path

    def find_class(self, module, name):
        obj = _ALLOWED.get((module, name))
        if obj is None:
            raise _refuse_global(self.path, module, name)
        return obj

    def persistent_load(self, pid):
        raise _refuse(self.path, "uses persistent ids")


# -- the first pass: lengths, memo and nesting, without building anything ---------------------------
def _prescan(buf, path):
    """Walk the opcodes of ``buf``: refuse what a data file never needs, declared lengths beyond the end
    of the file, runaway memo indices, nesting deeper than ``MAX_DEPTH`` and dict keys or set items of
    more than ``MAX_KEY_ITEMS`` objects. Returns nothing."""
    f = io.BytesIO(buf)  # BytesIO.read(n) returns what is there: a huge declared n allocates nothing
    stack, memo, puts = [], {}, 0  # an entry is (depth, objects counted with repeats)

    def pop():
        if not stack or stack[-1] is _MARK:
            raise ValueError("stack underflow")
        return stack.pop()

    def pop_to_mark():
        for i in range(len(stack) - 1, -1, -1):
            if stack[i] is _MARK:
                items = stack[i + 1:]
                del stack[i:]
                return items
        raise ValueError("no MARK on the stack")

    def push(depth, size=1):
        if depth > MAX_DEPTH:
            raise _refuse(path, f"nests containers more than {MAX_DEPTH} deep")
        stack.append((depth, min(size, _SIZE_CAP)))

    def holding(items):
        """The entry of a new object holding ``items``."""
        return 1 + max((d for d, _ in items), default=0), 1 + sum(n for _, n in items)

    def grow_top(items):
        if not stack or stack[-1] is _MARK:
            raise ValueError("stack underflow")
        d, n = stack.pop()
        hd, hn = holding(items)
        push(max(d, hd), n + hn - 1)

    def hashed(items):
        for _, n in items:
            if n > MAX_KEY_ITEMS:
                raise _refuse(path, f"uses a dict key or set item of more than {MAX_KEY_ITEMS} objects")

    end = None
    try:
        for op, arg, pos in pickletools.genops(f):
            name = op.name
            if name in _REFUSED_OPS:
                raise _refuse(path, f"uses {_REFUSED_OPS[name]} (pickle opcode {name} at byte {pos})")
            if name == "GLOBAL":
                module, _, qual = arg.partition(" ")
                if (module, qual) not in _ALLOWED:
                    raise _refuse_global(path, module, qual)
            if name in _SCALAR_OPS:
                push(0)
            elif name in _EMPTY_OPS:
                push(1)
            elif name == "MARK":
                stack.append(_MARK)
            elif name in _FROM_MARK_OPS:
                items = pop_to_mark()
                if name == "FROZENSET":
                    hashed(items)
                elif name == "DICT":
                    hashed(items[0::2])
                push(*holding(items))
            elif name in _ADD_FROM_MARK_OPS:
                items = pop_to_mark()
                if name == "SETITEMS":
                    hashed(items[0::2])
                elif name == "ADDITEMS":
                    hashed(items)
                grow_top(items)
            elif name == "APPEND":
                grow_top([pop()])
            elif name == "SETITEM":
                v, k = pop(), pop()
                hashed([k])
                grow_top([k, v])
            elif name in ("TUPLE1", "TUPLE2", "TUPLE3"):
                push(*holding([pop() for _ in range(int(name[-1]))]))
            elif name == "POP":
                if stack and stack[-1] is _MARK:
                    stack.pop()
                else:
                    pop()
            elif name == "POP_MARK":
                pop_to_mark()
            elif name == "DUP":
                push(*(stack[-1] if stack and stack[-1] is not _MARK else pop()))
            elif name in _PUT_OPS:
                key = len(memo) if name == "MEMOIZE" else arg
                if key > puts + _MEMO_SLACK:
                    raise _refuse(path, f"writes memo entry {key} after only {puts} memo writes")
                puts += 1
                memo[key] = stack[-1] if stack and stack[-1] is not _MARK else pop()
            elif name in _GET_OPS:
                if arg not in memo:
                    raise ValueError(f"memo entry {arg} is read before it is written")
                push(*memo[arg])
            elif name == "STACK_GLOBAL":
                pop(), pop()
                push(0)
            elif name == "REDUCE":
                push(*holding([pop(), pop()]))
            elif name == "NEWOBJ":
                push(*holding([pop(), pop()]))
            elif name == "NEWOBJ_EX":
                push(*holding([pop(), pop(), pop()]))
            elif name == "BUILD":
                grow_top([pop()])
            elif name == "FRAME":
                if arg > len(buf) - f.tell():
                    raise ValueError(f"a frame of {arg} bytes at byte {pos} runs past the end of the file "
                                     f"({len(buf) - f.tell()} bytes remain)")
            elif name == "STOP":
                end = f.tell()
                break
            elif name != "PROTO":
                raise _refuse(path, f"uses pickle opcode {name} (at byte {pos}), which a data file never needs")
    except ValueError as e:
        if str(e).startswith(str(path)):
            raise
        raise ValueError(f"{path}: truncated or corrupted pickle ({e})") from None
    if end is None:
        raise ValueError(f"{path}: truncated pickle: it ends before its STOP opcode")
    if end != len(buf):
        raise ValueError(f"{path}: {len(buf) - end} bytes of unexpected data after the end of the pickle")


def load(path):
    """Unpickle ``path`` under the rules in the module docstring; NumPy arrays come back as ``ArrayStub``."""
    with open(path, "rb") as fh:
        buf = fh.read()
    if buf[:2] == b"\x1f\x8b":
        raise ValueError(f"{path}: is gzip-compressed; a pickled data file is stored uncompressed (gunzip it first)")
    _prescan(buf, path)
    try:
        return _Unpickler(io.BytesIO(buf), path).load()
    except ValueError as e:
        if str(e).startswith(str(path)):
            raise
        raise ValueError(f"{path}: corrupted pickle ({type(e).__name__}: {e})") from None
    except (pickle.UnpicklingError, EOFError, TypeError, AttributeError, IndexError, KeyError, MemoryError,
            RecursionError, OverflowError, UnicodeDecodeError) as e:
        raise ValueError(f"{path}: corrupted pickle ({type(e).__name__}: {e})") from None


# -- stubs to arrays ------------------------------------------------------------------------------
_DTYPE_SPEC = re.compile(r"[|<>=]?[biuf][1248]")


def _text(x):
    if isinstance(x, bytes):
        return x.decode("ascii", "replace")
    return x if isinstance(x, str) else None


def _dtype_of(stub, path, what):
    if not isinstance(stub, _DtypeStub):
        raise ValueError(f"{path}: {what}: the array's dtype is not a NumPy dtype ({type(stub).__name__})")
    spec = _text(stub.spec)
    if spec is None or not _DTYPE_SPEC.fullmatch(spec):
        raise ValueError(f"{path}: {what}: dtype {brief(stub.spec)} is not a plain boolean, integer or float "
                         "dtype")
    dt = np.dtype(spec)
    order = _text(stub.state[1]) if isinstance(stub.state, tuple) and len(stub.state) > 1 else None
    if order in ("<", ">") and dt.itemsize > 1:
        dt = dt.newbyteorder(order)
    return dt


def _shape_of(shape, path, what):
    if not isinstance(shape, tuple) or len(shape) > 32 or not all(type(d) is int and 0 <= d < 2 ** 63 for d in shape):
        # the repr is bounded: the tuple may hold one tuple many times over (through the memo)
        raise ValueError(f"{path}: {what}: the array's shape {brief(shape)} is not a tuple of non-negative "
                         "ints below 2**63")
    return shape


def to_array(obj, path, what="data"):
    """The NumPy array an ``ArrayStub`` declares, after checking that its dtype is a plain numeric one
    and that its raw bytes are exactly ``prod(shape) * itemsize`` long. The array is a read-only view
    of the pickle's bytes (no copy). Anything else raises a ValueError naming ``path`` and ``what``."""
    if not isinstance(obj, ArrayStub):
        raise ValueError(f"{path}: {what}: expected a NumPy array, got {type(obj).__name__}")
    if obj.frombuffer is not None:
        raw, dt, shape, order = obj.frombuffer
        fortran = _text(order) == "F"
    else:
        st = obj.state
        if not isinstance(st, tuple) or len(st) not in (4, 5):
            raise ValueError(f"{path}: {what}: malformed array state")
        _, shape, dt, fortran, raw = st if len(st) == 5 else (1,) + st
    dt = _dtype_of(dt, path, what)
    shape = _shape_of(shape, path, what)
    if not isinstance(raw, (bytes, bytearray)):
        raise ValueError(f"{path}: {what}: the array's data is a {type(raw).__name__}, not bytes")
    n = dt.itemsize
    for d in shape:
        n *= d
    if n != len(raw):
        raise ValueError(f"{path}: {what}: the array declares shape {shape} of {dt} ({n} bytes) but holds "
                         f"{len(raw)} bytes")
    return np.frombuffer(raw, dt).reshape(shape, order="F" if fortran else "C")
