"""``torch.distributed`` for one process: the names scripts import and test, with no process group.

This engine runs one process on the CPU, so there is no backend to start. Scripts written for both
single- and multi-process training import these names at the top and test them before using them
(``ddp = int(os.environ.get('RANK', -1)) != -1``, ``if dist.is_available() and dist.is_initialized():``);
those checks work here as in a PyTorch process where no group was started:

* ``is_available()``, ``is_initialized()``, ``is_torchelastic_launched()`` and the backend checks
  (``is_nccl_available()``, ...) are False;
* ``init_process_group`` (and ``new_group``) raise a RuntimeError that says to run the script as one
  process (leave ``RANK`` / ``WORLD_SIZE`` unset, do not launch it with ``torchrun``);
* the functions that need a group (``get_rank``, ``get_world_size``, ``barrier``, ``all_reduce``,
  ``broadcast``, ...) raise PyTorch's ValueError for a group that was never started, and
  ``destroy_process_group`` its AssertionError.

    >>> import autograd_core as ag
    >>> ag.distributed.is_available(), ag.distributed.is_initialized()
    (False, False)
    >>> ag.distributed.get_rank()  # doctest: +ELLIPSIS
    Traceback (most recent call last):
        ...
    ValueError: Default process group has not been initialized, please make sure to call init_process_group. ...
"""
from __future__ import annotations

import enum

__all__ = ["is_available", "is_initialized", "is_torchelastic_launched", "is_nccl_available", "is_gloo_available",
           "is_mpi_available", "is_ucc_available", "is_xccl_available", "init_process_group",
           "destroy_process_group", "new_group", "get_rank", "get_world_size", "get_backend", "barrier",
           "all_reduce", "reduce", "broadcast", "all_gather", "all_gather_into_tensor", "all_gather_object",
           "gather", "scatter", "reduce_scatter", "reduce_scatter_tensor", "send", "recv", "isend", "irecv",
           "broadcast_object_list", "monitored_barrier", "ReduceOp", "Backend", "GroupMember", "group"]

_ONE_PROCESS = ("this engine runs one process on the CPU and has no torch.distributed backend: run the script as "
                "a single process (leave RANK / WORLD_SIZE unset and start it with python, not torchrun), or "
                "guard the call with `if dist.is_initialized():`")


def is_available():
    """False: there is no distributed backend here (one process on the CPU)."""
    return False


def is_initialized():
    """False: no process group is ever started here."""
    return False


def is_torchelastic_launched():
    """False: a script here is never started by ``torchrun``'s elastic agent."""
    return False


def is_nccl_available():
    """False: no NCCL (no GPU)."""
    return False


def is_gloo_available():
    """False: no Gloo backend."""
    return False


def is_mpi_available():
    """False: no MPI backend."""
    return False


def is_ucc_available():
    """False: no UCC backend."""
    return False


def is_xccl_available():
    """False: no XCCL backend."""
    return False


def init_process_group(backend=None, init_method=None, timeout=None, world_size=-1, rank=-1, store=None,
                       group_name="", pg_options=None, device_id=None):
    """Refused with a RuntimeError that says to run the script as one process."""
    raise RuntimeError(f"torch.distributed.init_process_group(backend={backend!r}): {_ONE_PROCESS}")


def new_group(*args, **kwargs):
    """Refused with a RuntimeError that says to run the script as one process."""
    raise RuntimeError(f"torch.distributed.new_group: {_ONE_PROCESS}")


def destroy_process_group(group=None):
    """PyTorch's AssertionError for a group that was never started."""
    raise AssertionError("Process group cannot be None (torch.distributed.destroy_process_group: no process group "
                         "was started; " + _ONE_PROCESS + ")")


def _needs_group(name):
    def fn(*args, **kwargs):
        raise ValueError("Default process group has not been initialized, please make sure to call "
                         f"init_process_group. (torch.distributed.{name}: {_ONE_PROCESS})")
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"PyTorch's ValueError for ``{name}`` without a process group (none can be started here)."
    return fn


get_rank = _needs_group("get_rank")
get_world_size = _needs_group("get_world_size")
get_backend = _needs_group("get_backend")
barrier = _needs_group("barrier")
monitored_barrier = _needs_group("monitored_barrier")
all_reduce = _needs_group("all_reduce")
reduce = _needs_group("reduce")
broadcast = _needs_group("broadcast")
broadcast_object_list = _needs_group("broadcast_object_list")
all_gather = _needs_group("all_gather")
all_gather_into_tensor = _needs_group("all_gather_into_tensor")
all_gather_object = _needs_group("all_gather_object")
gather = _needs_group("gather")
scatter = _needs_group("scatter")
reduce_scatter = _needs_group("reduce_scatter")
reduce_scatter_tensor = _needs_group("reduce_scatter_tensor")
send = _needs_group("send")
recv = _needs_group("recv")
isend = _needs_group("isend")
irecv = _needs_group("irecv")


class ReduceOp(enum.Enum):
    """The reduction names of ``torch.distributed.ReduceOp`` (``dist.ReduceOp.SUM`` in a call's arguments)."""
    SUM = "sum"
    AVG = "avg"
    PRODUCT = "product"
    MIN = "min"
    MAX = "max"
    BAND = "band"
    BOR = "bor"
    BXOR = "bxor"
    PREMUL_SUM = "premul_sum"


class Backend(str):
    """``torch.distributed.Backend``: a backend name, lower-cased (``Backend('NCCL') == 'nccl'``)."""
    GLOO = "gloo"
    NCCL = "nccl"
    MPI = "mpi"
    UCC = "ucc"
    UNDEFINED = "undefined"

    def __new__(cls, name):
        return str.__new__(cls, str(name).lower())


class GroupMember:
    """``torch.distributed.GroupMember``: ``WORLD`` is None, as before a group is started."""
    WORLD = None
    NON_GROUP_MEMBER = -100


group = GroupMember
