"""Reading PyTorch's zip checkpoints (what ``torch.save(obj, path)`` writes) without torch and
without running any pickled code.

Such a file is a zip archive ``<name>/data.pkl`` (a pickle of the saved object), ``<name>/data/<key>``
(each storage's raw bytes) and a few small records (``byteorder``, ``version``). The pickle is read
by a small pickle machine written here, not by ``pickle``: it knows the opcodes that
``torch.save`` emits and admits only the globals such checkpoints need, namely the tensor rebuild
functions (``torch._utils._rebuild_tensor_v2``, ``_rebuild_parameter``, ...), the storage
types (``torch.FloatStorage``, ...), ``collections.OrderedDict``, ``torch.Size`` and
``_codecs.encode`` (how protocol 2 spells bytes). Each of them is a stand-in defined here, so
nothing from the file is ever imported or called; any other global (``os.system``,
``builtins.eval``, a model class) is refused with its name. This mirrors
``torch.load(weights_only=True)``.

Bounds: the pickle is at most 32 MiB, its stack at most 100,000 entries, its memo at most a
million, the objects it builds at most two million (about 150 MB of Python objects at worst; a
state dict needs about ten per tensor), nesting at most 100 levels, ints at most 1024 bytes. A
storage's declared element count must match its member's real size before anything is
allocated, and a tensor's size, stride and offset must stay inside its storage. Tensors that
share a storage in the file share memory after loading, as in PyTorch; a non-contiguous tensor
is a strided view.

Storages read: Float, Double, Half, BFloat16 (widened to float32: NumPy has no bfloat16, and the
widening is exact), Long, Int, Short, Char, Byte and Bool. Legacy (pre-1.6, non-zip) files and
TorchScript archives are refused with a message that says how to re-save them.
"""
from __future__ import annotations

import struct
from collections import OrderedDict

import numpy as np

from autograd_core.tensor import Tensor

from . import checkpoint_structure as cs
from .checkpoint_structure import Refused

MAX_PICKLE = 32 << 20
MAX_STACK = 100_000  # torch.save's pickles batch items by 1000: their stacks stay small
MAX_MEMO = 1_000_000
MAX_OBJECTS = 2_000_000
MAX_LONG_BYTES = 1024
MAX_KEY_DEPTH = 8
MAX_KEY_ITEMS = 1000  # a dict key's items, counted with repeats: hashing a tuple walks all of them

LEGACY_MAGIC = b"\x80\x02\x8a\nl\xfc\x9cF\xf9 j\xa8P\x19."  # pickle of torch's legacy magic number

_STORAGES = {
    "FloatStorage": np.dtype("f4"), "DoubleStorage": np.dtype("f8"), "HalfStorage": np.dtype("f2"),
    "BFloat16Storage": np.dtype("u2"), "LongStorage": np.dtype("i8"), "IntStorage": np.dtype("i4"),
    "ShortStorage": np.dtype("i2"), "CharStorage": np.dtype("i1"), "ByteStorage": np.dtype("u1"),
    "BoolStorage": np.dtype("u1"),
}


class _StorageType:
    __slots__ = ("name", "dtype")

    def __init__(self, name):
        self.name = name
        self.dtype = _STORAGES[name]


class _Storage:
    """One storage of the file, read into a 1-D array of its (native, widened) dtype."""

    __slots__ = ("key", "type", "array")

    def __init__(self, key, stype, array):
        self.key = key
        self.type = stype
        self.array = array


class _Callable:
    """An admitted global that REDUCE may call: a stand-in defined here, never the real one."""

    __slots__ = ("name", "fn")

    def __init__(self, name, fn):
        self.name = name
        self.fn = fn


def _is_int(x):
    return isinstance(x, int) and not isinstance(x, bool)


def _contiguous_strides(size):
    strides, acc = [], 1
    for s in reversed(size):
        strides.append(acc)
        acc *= s
    return tuple(reversed(strides))


def _overlapping(size, stride):
    """Whether two indices of a strided view can land on one element (stride 0, or interleaving)."""
    extent = 0
    for s, t in sorted(((s, t) for s, t in zip(size, stride) if s > 1), key=lambda p: p[1]):
        if t <= extent:
            return True
        extent += (s - 1) * t
    return False


def _view(storage, offset, size, stride, what):
    if not _is_int(offset) or not 0 <= offset <= cs.MAX_DIM:
        raise Refused(f"{what} has a malformed storage offset {cs.brief(offset, 40)}")
    size = cs.check_shape(size, what)
    if (not isinstance(stride, (tuple, list)) or len(stride) != len(size)
            or not all(_is_int(t) and 0 <= t <= cs.MAX_DIM for t in stride)):
        raise Refused(f"{what} has a malformed stride {cs.brief(stride)} for size {size}")
    base = storage.array
    n = cs.element_count(size)
    if n == 0:
        return np.empty(size, base.dtype)
    last = offset + sum((s - 1) * t for s, t in zip(size, stride))
    if last >= base.size:
        raise Refused(f"{what} (size {size}, stride {tuple(stride)}, offset {offset}) reaches element {last} of "
                      f"a storage of {base.size}")
    if n > base.size:
        raise Refused(f"{what} declares {n} elements over a storage of {base.size} (an expanded view; save "
                      "t.contiguous() instead)")
    if tuple(stride) == _contiguous_strides(size):
        return base[offset:offset + n].reshape(size)
    item = base.itemsize
    return np.lib.stride_tricks.as_strided(base[offset:], size, [t * item for t in stride],
                                           writeable=not _overlapping(size, stride))


def _empty_hooks(hooks, what):
    if hooks is not None and not (isinstance(hooks, dict) and not hooks):
        raise Refused(f"{what} carries backward hooks (a weights checkpoint has none)")


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad=False, backward_hooks=None,
                       metadata=None):
    what = "a tensor"
    if not isinstance(storage, _Storage):
        raise Refused(f"{what} is rebuilt from a {type(storage).__name__}, not a storage")
    what = f"a tensor on storage {storage.key!r}"
    if not isinstance(requires_grad, bool):
        raise Refused(f"{what} has a non-bool requires_grad")
    _empty_hooks(backward_hooks, what)
    if metadata is not None and not (isinstance(metadata, dict) and not metadata):
        raise Refused(f"{what} carries tensor metadata that nn.load does not read")
    arr = _view(storage, storage_offset, size, stride, what)
    return cs.make_tensor(arr, requires_grad, False, what)


def _rebuild_tensor(storage, storage_offset, size, stride):
    return _rebuild_tensor_v2(storage, storage_offset, size, stride)


def _rebuild_parameter(data, requires_grad, backward_hooks, state=None):
    if not isinstance(data, Tensor) or not isinstance(requires_grad, bool):
        raise Refused("a Parameter is rebuilt from something that is not a tensor")
    _empty_hooks(backward_hooks, "a Parameter")
    if state is not None and not (isinstance(state, (dict, tuple)) and not any(state)):
        raise Refused("a Parameter carries extra attributes that nn.load does not read")
    return cs.make_tensor(data._data, requires_grad, True, "a Parameter")


def _rebuild_parameter_with_state(data, requires_grad, backward_hooks, state):
    return _rebuild_parameter(data, requires_grad, backward_hooks, state)


def _ordered_dict(*args):
    if args:
        raise Refused("collections.OrderedDict is called with arguments (torch.save writes none)")
    return OrderedDict()


def _size(dims=()):
    if not isinstance(dims, tuple) or not all(_is_int(d) for d in dims):
        raise Refused("torch.Size is called with something other than a tuple of ints")
    return dims


def _encode(text, encoding="utf-8"):
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise Refused("_codecs.encode is called with something other than (str, 'latin1')")
    return text.encode("latin1")


_ADMITTED = {
    ("collections", "OrderedDict"): _ordered_dict,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
    ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter_with_state,
    ("torch", "Size"): _size,
    ("_codecs", "encode"): _encode,
}


def _find_global(module, name):
    if (module, name) in _ADMITTED:
        return _Callable(f"{module}.{name}", _ADMITTED[(module, name)])
    if module == "torch" and name in _STORAGES:
        return _StorageType(name)
    if module in ("torch", "torch.storage") and name.endswith("Storage"):
        raise Refused(f"its pickle holds a {module}.{name[:60]}, a storage type nn.load does not read (it reads "
                      f"{', '.join(_STORAGES)})")
    raise Refused(f"its pickle refers to the global {module[:100]}.{name[:100]}, which nn.load does not admit "
                  "(a weights checkpoint needs only tensor rebuild functions, storages, OrderedDict and "
                  "primitive types; nothing in the file is executed)")


_OPNAMES = {
    0x28: "MARK", 0x2e: "STOP", 0x30: "POP", 0x31: "POP_MARK", 0x32: "DUP", 0x46: "FLOAT", 0x49: "INT",
    0x4a: "BININT", 0x4b: "BININT1", 0x4c: "LONG", 0x4d: "BININT2", 0x4e: "NONE", 0x50: "PERSID",
    0x51: "BINPERSID", 0x52: "REDUCE", 0x53: "STRING", 0x54: "BINSTRING", 0x55: "SHORT_BINSTRING",
    0x56: "UNICODE", 0x58: "BINUNICODE", 0x61: "APPEND", 0x62: "BUILD", 0x63: "GLOBAL", 0x64: "DICT",
    0x7d: "EMPTY_DICT", 0x65: "APPENDS", 0x67: "GET", 0x68: "BINGET", 0x69: "INST", 0x6a: "LONG_BINGET",
    0x6c: "LIST", 0x5d: "EMPTY_LIST", 0x6f: "OBJ", 0x70: "PUT", 0x71: "BINPUT", 0x72: "LONG_BINPUT",
    0x73: "SETITEM", 0x74: "TUPLE", 0x29: "EMPTY_TUPLE", 0x75: "SETITEMS", 0x47: "BINFLOAT", 0x80: "PROTO",
    0x81: "NEWOBJ", 0x82: "EXT1", 0x83: "EXT2", 0x84: "EXT4", 0x85: "TUPLE1", 0x86: "TUPLE2", 0x87: "TUPLE3",
    0x88: "NEWTRUE", 0x89: "NEWFALSE", 0x8a: "LONG1", 0x8b: "LONG4", 0x42: "BINBYTES", 0x43: "SHORT_BINBYTES",
    0x8c: "SHORT_BINUNICODE", 0x8d: "BINUNICODE8", 0x8e: "BINBYTES8", 0x8f: "EMPTY_SET", 0x90: "ADDITEMS",
    0x91: "FROZENSET", 0x92: "NEWOBJ_EX", 0x93: "STACK_GLOBAL", 0x94: "MEMOIZE", 0x95: "FRAME",
    0x96: "BYTEARRAY8", 0x97: "NEXT_BUFFER", 0x98: "READONLY_BUFFER",
}

_MARK = object()


def _check_key(k):
    """Dict keys are hashed: only hashable primitives and shallow tuples of them are admitted, with at
    most ``MAX_KEY_ITEMS`` items counted with repeats (hashing a tuple that holds one tuple many times
    over, through the memo, would take time exponential in the pickle's size)."""
    todo, count = [(k, 0)], 1
    while todo:
        x, depth = todo.pop()
        if isinstance(x, tuple) and depth < MAX_KEY_DEPTH:
            count += len(x)
            if count > MAX_KEY_ITEMS:
                raise Refused(f"its pickle uses a dict key of more than {MAX_KEY_ITEMS} items")
            todo.extend((y, depth + 1) for y in x)
        elif not (x is None or isinstance(x, (str, bytes, int, float))):
            raise Refused(f"its pickle uses a {type(x).__name__} as a dict key")


class _Machine:
    """Runs the restricted pickle ``data``; ``load_storage(stype, key, numel)`` returns a ``_Storage``."""

    def __init__(self, data, load_storage):
        self.data = data
        self.pos = 0
        self.load_storage = load_storage
        self.objects = 0

    def _take(self, n):
        p = self.pos
        if n < 0 or p + n > len(self.data):
            raise Refused(f"its pickle declares {n} bytes at offset {p} but has {len(self.data) - p} left "
                          "(truncated or malformed)")
        self.pos = p + n
        return self.data[p:p + n]

    def _u(self, fmt):
        size = struct.calcsize(fmt)
        return struct.unpack(fmt, self._take(size))[0]

    def _line(self):
        end = self.data.find(b"\n", self.pos, self.pos + 256)
        if end < 0:
            raise Refused("its pickle has a malformed GLOBAL")
        text = self.data[self.pos:end]
        self.pos = end + 1
        return text.decode("utf-8", "strict")

    def _new(self):
        self.objects += 1
        if self.objects > MAX_OBJECTS:
            raise Refused(f"its pickle builds more than {MAX_OBJECTS} objects")

    def run(self):
        stack, marks, memo = [], [], {}
        push = stack.append

        def pop_mark():
            if not marks:
                raise Refused("its pickle is malformed (no MARK)")
            m = marks.pop()
            items = stack[m:]
            del stack[m:]
            return items

        def top(n=1):
            if len(stack) - (marks[-1] if marks else 0) < n:
                raise Refused("its pickle is malformed (stack underflow)")
            return stack[-n]

        while True:
            if self.pos >= len(self.data):
                raise Refused("its pickle ends without STOP (truncated?)")
            op = self.data[self.pos]
            self.pos += 1
            if op == 0x80:  # PROTO
                if self._take(1)[0] > 5:
                    raise Refused("its pickle uses an unknown protocol")
            elif op == 0x95:  # FRAME: just a length hint
                self._take(8)
            elif op == 0x2e:  # STOP
                if len(stack) != 1 or marks:
                    raise Refused("its pickle is malformed (stack at STOP)")
                return stack[0]
            elif op == 0x28:  # MARK
                marks.append(len(stack))
            elif op == 0x29:  # EMPTY_TUPLE
                push(())
            elif op == 0x5d:  # EMPTY_LIST
                self._new()
                push([])
            elif op == 0x7d:  # EMPTY_DICT
                self._new()
                push({})
            elif op == 0x4e:
                push(None)
            elif op == 0x88:
                push(True)
            elif op == 0x89:
                push(False)
            elif op == 0x4b:  # BININT1
                push(self._take(1)[0])
            elif op == 0x4d:
                push(self._u("<H"))
            elif op == 0x4a:
                push(self._u("<i"))
            elif op in (0x8a, 0x8b):  # LONG1, LONG4
                n = self._take(1)[0] if op == 0x8a else self._u("<i")
                if n > MAX_LONG_BYTES or n < 0:
                    raise Refused(f"its pickle holds an integer of {n} bytes (at most {MAX_LONG_BYTES} are read)")
                push(int.from_bytes(self._take(n), "little", signed=True))
            elif op == 0x47:  # BINFLOAT
                push(self._u(">d"))
            elif op in (0x58, 0x8c, 0x8d):  # BINUNICODE, SHORT_BINUNICODE, BINUNICODE8
                n = self._u({0x58: "<I", 0x8c: "<B", 0x8d: "<Q"}[op])
                self._new()
                push(self._take(n).decode("utf-8", "surrogatepass"))
            elif op in (0x42, 0x43, 0x8e):  # BINBYTES, SHORT_BINBYTES, BINBYTES8
                n = self._u({0x42: "<I", 0x43: "<B", 0x8e: "<Q"}[op])
                self._new()
                push(bytes(self._take(n)))
            elif op in (0x85, 0x86, 0x87):  # TUPLE1..3
                n = op - 0x84
                top(n)
                t = tuple(stack[-n:])
                del stack[-n:]
                self._new()
                push(t)
            elif op == 0x74:  # TUPLE
                t = tuple(pop_mark())
                self._new()
                push(t)
            elif op == 0x63:  # GLOBAL
                module = self._line()
                name = self._line()
                push(_find_global(module, name))
            elif op == 0x93:  # STACK_GLOBAL
                top(2)
                name = stack.pop()
                module = stack.pop()
                if not isinstance(module, str) or not isinstance(name, str):
                    raise Refused("its pickle has a malformed STACK_GLOBAL")
                push(_find_global(module, name))
            elif op in (0x71, 0x72, 0x94):  # BINPUT, LONG_BINPUT, MEMOIZE
                idx = self._take(1)[0] if op == 0x71 else self._u("<I") if op == 0x72 else len(memo)
                top()
                if len(memo) >= MAX_MEMO and idx not in memo:
                    raise Refused(f"its pickle memoizes more than {MAX_MEMO} objects")
                memo[idx] = stack[-1]
            elif op in (0x68, 0x6a):  # BINGET, LONG_BINGET
                idx = self._take(1)[0] if op == 0x68 else self._u("<I")
                if idx not in memo:
                    raise Refused(f"its pickle refers to memo entry {idx}, which was never stored")
                push(memo[idx])
            elif op == 0x51:  # BINPERSID
                top()
                push(self._persistent(stack.pop()))
            elif op == 0x52:  # REDUCE
                top(2)
                args = stack.pop()
                fn = stack.pop()
                if not isinstance(fn, _Callable):
                    raise Refused(f"its pickle calls a {type(fn).__name__} (only admitted rebuild functions may "
                                  "be called)")
                if not isinstance(args, tuple):
                    raise Refused(f"its pickle calls {fn.name} with malformed arguments")
                try:
                    result = fn.fn(*args)
                except TypeError:
                    raise Refused(f"its pickle calls {fn.name} with {len(args)} arguments of the wrong kind") \
                        from None
                self._new()
                push(result)
            elif op == 0x62:  # BUILD
                top(2)
                state = stack.pop()
                inst = stack[-1]
                if not (type(inst) is OrderedDict and isinstance(state, dict) and set(state) <= {"_metadata"}
                        and isinstance(state.get("_metadata", {}), dict)):
                    raise Refused(f"its pickle sets the state of a {type(inst).__name__} (only an OrderedDict's "
                                  "_metadata is admitted)")
                if state:
                    inst._metadata = state["_metadata"]
            elif op in (0x61, 0x65):  # APPEND, APPENDS
                if op == 0x61:
                    top(2)
                    items = [stack.pop()]
                else:
                    items = pop_mark()
                target = top()
                if type(target) is not list:
                    raise Refused(f"its pickle appends to a {type(target).__name__}")
                target.extend(items)
            elif op in (0x73, 0x75):  # SETITEM, SETITEMS
                if op == 0x73:
                    top(3)
                    items = stack[-2:]
                    del stack[-2:]
                else:
                    items = pop_mark()
                    if len(items) % 2:
                        raise Refused("its pickle is malformed (SETITEMS with an odd count)")
                target = top()
                if type(target) not in (dict, OrderedDict):
                    raise Refused(f"its pickle sets items of a {type(target).__name__}")
                for i in range(0, len(items), 2):
                    _check_key(items[i])
                    target[items[i]] = items[i + 1]
            elif op == 0x30:  # POP
                top()
                stack.pop()
            elif op == 0x31:  # POP_MARK
                pop_mark()
            elif op == 0x32:  # DUP
                push(top())
            else:
                name = _OPNAMES.get(op, f"0x{op:02x}")
                raise Refused(f"its pickle uses the opcode {name}, which a PyTorch weights checkpoint never "
                              "holds")
            if len(stack) > MAX_STACK or len(marks) > MAX_STACK:
                raise Refused(f"its pickle's stack grows beyond {MAX_STACK} entries")

    def _persistent(self, pid):
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"):
            raise Refused(f"its pickle has a persistent id that is not a storage record ({cs.brief(pid)})")
        _, stype, key, location, numel = pid
        if not isinstance(stype, _StorageType) or not isinstance(key, str) or not isinstance(location, str) \
                or not _is_int(numel) or numel < 0:
            raise Refused(f"its pickle has a malformed storage record ({cs.brief(pid)})")
        return self.load_storage(stype, key, numel)


def _check_result(obj):
    """Refuse cycles, nesting deeper than ``MAX_DEPTH`` and leftover machine objects (a bare storage
    or function); shared sub-objects are checked once."""
    done = set()
    active = set()

    def walk(x, depth):
        if isinstance(x, (str, bytes, int, float, Tensor)) or x is None:
            return
        if isinstance(x, (_Storage, _StorageType, _Callable)):
            what = x.name if isinstance(x, _Callable) else "a storage"
            raise Refused(f"its pickle returns {what} itself, not a tensor")
        if id(x) in done:
            return
        if id(x) in active:
            raise Refused("its object refers to itself (a cycle)")
        if depth >= cs.MAX_DEPTH:
            raise Refused(f"its object is nested more than {cs.MAX_DEPTH} levels deep")
        active.add(id(x))
        if isinstance(x, dict):
            for v in x.values():
                walk(v, depth + 1)
            if hasattr(x, "_metadata"):
                walk(x._metadata, depth + 1)
        else:  # list or tuple: nothing else can be built
            for v in x:
                walk(v, depth + 1)
        active.discard(id(x))
        done.add(id(x))

    walk(obj, 0)
    return obj


def looks_like(members):
    return _pickle_name(members) is not None


def _pickle_name(members):
    names = [n for n in members.names if n == "data.pkl" or (n.endswith("/data.pkl") and n.count("/") == 1)]
    return names[0] if len(names) == 1 else None


def read(members):
    """The object in the PyTorch zip checkpoint whose members are ``members`` (a ``ZipMembers``)."""
    pkl = _pickle_name(members)
    if pkl is None:
        raise Refused("its zip archive has no single <name>/data.pkl (not a PyTorch checkpoint)")
    prefix = pkl[: -len("data.pkl")]
    if prefix + "constants.pkl" in members.names or any(n.startswith(prefix + "code/") for n in members.names):
        raise Refused("it is a TorchScript archive (torch.jit.save); save model.state_dict() with torch.save, or "
                      "with safetensors, instead")
    members.refuse_compressed()
    order = "<"
    if prefix + "byteorder" in members.names:
        bo = members.read_bytes(prefix + "byteorder", 16)
        if bo not in (b"little", b"big"):
            raise Refused(f"its byteorder record is {bo[:16]!r}")
        order = "<" if bo == b"little" else ">"
    storages = {}

    def load_storage(stype, key, numel):
        if key in storages:
            st = storages[key]
            if st.type.name != stype.name:
                raise Refused(f"its storage {key!r} is declared as both {st.type.name} and {stype.name}")
            if st.array.size != numel:
                raise Refused(f"its storage {key!r} is declared with {st.array.size} and {numel} elements")
            return st
        name = f"{prefix}data/{key}"
        if name not in members.names:
            raise Refused(f"its pickle refers to storage {key[:60]!r}, which the archive does not contain")
        dt = stype.dtype.newbyteorder(order)
        size = members.member_size(name)
        if numel * dt.itemsize != size:
            raise Refused(f"its storage {key!r} declares {numel} elements of {stype.name} ({numel * dt.itemsize} "
                          f"bytes) but its member holds {size} bytes")
        buf = np.empty(size, np.uint8)
        members.read_into(name, buf)
        arr = buf.view(dt)
        if stype.name == "BFloat16Storage":
            arr = (arr.astype(np.uint32) << 16).view(np.float32)
        elif stype.name == "BoolStorage":
            arr = arr != 0
        elif not dt.isnative:
            arr = arr.astype(dt.newbyteorder("="))
        st = _Storage(key, stype, arr)
        storages[key] = st
        return st

    data = members.read_bytes(pkl, MAX_PICKLE)
    return _check_result(_Machine(data, load_storage).run())
