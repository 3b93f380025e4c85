"""Variable-length sequences, as ``torch.nn.utils.rnn`` (reachable as ``nn.utils.rnn``):
``pad_sequence``, ``unpad_sequence``, ``PackedSequence``, ``pack_padded_sequence``,
``pad_packed_sequence``, ``pack_sequence``, ``unpack_sequence``. ``RNN``, ``LSTM`` and ``GRU`` take a
``PackedSequence`` as input: each sequence stops at its own length (its final state is the state at its
last element) and the output is packed the same way. Everything is built from taped ops, so gradients
flow through packing and padding.

    >>> import autograd_core as ag, nn
    >>> from nn.utils.rnn import pack_padded_sequence, pad_packed_sequence
    >>> packed = pack_padded_sequence(ag.ones(3, 2, 4), [3, 1])
    >>> packed.batch_sizes, pad_packed_sequence(packed)[1]
    (tensor([2, 1, 1]), tensor([3, 1]))
"""
from __future__ import annotations

from collections import namedtuple
from typing import Any, Sequence

import numpy as np

import autograd_core as ag
from autograd_core.tensor import Tensor

__all__ = ["PackedSequence", "pad_sequence", "unpad_sequence", "pack_padded_sequence", "pad_packed_sequence",
           "pack_sequence", "unpack_sequence"]


class PackedSequence(namedtuple("PackedSequence", ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])):
    """Sequences of different lengths packed time step by time step: ``data`` (sum of lengths, *) holds
    step 0 of every sequence (longest first), then step 1 of those that have one, ...; ``batch_sizes[t]``
    is how many sequences have a step t; ``sorted_indices`` / ``unsorted_indices`` map between the
    caller's order and the longest-first order (None when the input was already sorted).

    >>> import autograd_core as ag
    >>> from nn.utils.rnn import pack_sequence
    >>> p = pack_sequence([ag.tensor([1.0, 2.0]), ag.tensor([3.0])])
    >>> p.data, p.batch_sizes
    (tensor([1., 3., 2.]), tensor([2, 1]))
    """

    def to(self, *args: Any, **kwargs: Any) -> PackedSequence:
        """The same sequences with ``data`` converted by ``Tensor.to``.

        >>> import autograd_core as ag
        >>> from nn.utils.rnn import pack_sequence
        >>> pack_sequence([ag.ones(2)]).to(ag.float64).data.dtype
        dtype('float64')
        """
        return type(self)(self.data.to(*args, **kwargs), self.batch_sizes, self.sorted_indices,
                          self.unsorted_indices)

    @property
    def is_cuda(self) -> bool:
        """False: there is no GPU here."""
        return False


def _lengths(lengths: Any) -> np.ndarray:
    a = lengths._data if isinstance(lengths, Tensor) else np.asarray(lengths)
    a = np.asarray(a, dtype=np.int64).reshape(-1)
    if a.size and a.min() <= 0:
        raise ValueError(f"pack_padded_sequence: every length must be positive, got {a.tolist()}")
    return a


def pad_sequence(sequences: Sequence[Tensor], batch_first: bool = False, padding_value: float = 0.0,
                 padding_side: str = "right") -> Tensor:
    """Stack tensors (L_i, *) of different lengths into (L_max, B, *) (or (B, L_max, *) with ``batch_first``),
    filling with ``padding_value`` on the right (or on the left).

    >>> import autograd_core as ag
    >>> from nn.utils.rnn import pad_sequence
    >>> pad_sequence([ag.tensor([1, 2, 3]), ag.tensor([4])], batch_first=True)
    tensor([[1, 2, 3],
            [4, 0, 0]])
    """
    seqs = [s if isinstance(s, Tensor) else ag.tensor(s) for s in sequences]
    if not seqs:
        raise ValueError("pad_sequence: got no sequences")
    if padding_side not in ("right", "left"):
        raise ValueError(f"pad_sequence: padding_side must be 'right' or 'left', got {padding_side!r}")
    n = max(s.shape[0] for s in seqs)
    padded = []
    for s in seqs:
        extra = n - s.shape[0]
        widths = ((0, extra) if padding_side == "right" else (extra, 0),) + ((0, 0),) * (s.ndim - 1)
        padded.append(ag.pad(s, widths, value=padding_value) if extra else s)
    return ag.stack(padded, 0 if batch_first else 1)


def unpad_sequence(padded_sequences: Tensor, lengths: Any, batch_first: bool = False) -> list[Tensor]:
    """The list of sequences (L_i, *) of a padded batch, cut to their ``lengths``.

    >>> import autograd_core as ag
    >>> from nn.utils.rnn import unpad_sequence
    >>> [s.tolist() for s in unpad_sequence(ag.tensor([[1, 2], [3, 0]]), [2, 1], batch_first=True)]
    [[1, 2], [3]]
    """
    x = padded_sequences if batch_first else padded_sequences.swapaxes(0, 1)
    return [x[i, :int(n)] for i, n in enumerate(_lengths(lengths))]


def pack_padded_sequence(input: Tensor, lengths: Any, batch_first: bool = False,  # noqa: A002
                         enforce_sorted: bool = True) -> PackedSequence:
    """Pack a padded batch (L, B, *) (or (B, L, *) with ``batch_first``) whose sequence i has ``lengths[i]``
    steps. With ``enforce_sorted`` the lengths must be decreasing; otherwise they are sorted here and the
    order is kept in ``sorted_indices``.

    >>> import autograd_core as ag
    >>> from nn.utils.rnn import pack_padded_sequence
    >>> pack_padded_sequence(ag.tensor([[1, 2], [3, 0]]), [2, 1], batch_first=True).data
    tensor([1, 3, 2])
    """
    x: Any = input if isinstance(input, Tensor) else ag.tensor(input)
    if batch_first:
        x = x.swapaxes(0, 1)
    lens = _lengths(lengths)
    if len(lens) != x.shape[1]:
        raise ValueError(f"pack_padded_sequence: {len(lens)} lengths for a batch of {x.shape[1]} sequences")
    if lens.max() > x.shape[0]:
        raise ValueError(f"pack_padded_sequence: a length {int(lens.max())} exceeds the {x.shape[0]} padded steps")
    if enforce_sorted:
        if np.any(np.diff(lens) > 0):
            raise RuntimeError("pack_padded_sequence: `lengths` array must be sorted in decreasing order when "
                               "`enforce_sorted` is True. You can pass `enforce_sorted=False` to "
                               "pack_padded_sequence and/or pack_sequence to sidestep this requirement if you do "
                               "not need ONNX exportability.")
        order = np.arange(len(lens))
        sorted_indices = unsorted_indices = None
    else:
        order = np.argsort(-lens, kind="stable")
        sorted_indices = ag.tensor(order.astype(np.int64))
        unsorted_indices = ag.tensor(np.argsort(order).astype(np.int64))
    sl = lens[order]
    batch_sizes = np.array([(sl > t).sum() for t in range(int(sl[0]))], dtype=np.int64)
    t_idx = np.concatenate([np.full(b, t) for t, b in enumerate(batch_sizes)])
    b_idx = np.concatenate([order[:b] for b in batch_sizes])
    data = x[t_idx, b_idx]
    return PackedSequence(data, ag.tensor(batch_sizes), sorted_indices, unsorted_indices)


def _positions(seq: PackedSequence) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(time index, batch index in the caller's order, lengths in the caller's order) of each row of ``data``."""
    bs = seq.batch_sizes._data if isinstance(seq.batch_sizes, Tensor) else np.asarray(seq.batch_sizes)
    order = (seq.sorted_indices._data if isinstance(seq.sorted_indices, Tensor) else
             np.arange(int(bs[0])) if seq.sorted_indices is None else np.asarray(seq.sorted_indices))
    t_idx = np.concatenate([np.full(int(b), t) for t, b in enumerate(bs)])
    b_idx = np.concatenate([order[:int(b)] for b in bs])
    lens = np.zeros(int(bs[0]), np.int64)
    np.add.at(lens, b_idx, 1)
    return t_idx, b_idx, lens


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False, padding_value: float = 0.0,
                        total_length: int | None = None) -> tuple[Tensor, Tensor]:
    """The inverse of ``pack_padded_sequence``: (padded batch (L, B, *) or (B, L, *), lengths), in the
    original order of the sequences.

    >>> import autograd_core as ag
    >>> from nn.utils.rnn import pack_sequence, pad_packed_sequence
    >>> pad_packed_sequence(pack_sequence([ag.tensor([1, 2]), ag.tensor([3])]), batch_first=True)
    (tensor([[1, 2],
            [3, 0]]), tensor([2, 1]))
    """
    t_idx, b_idx, lens = _positions(sequence)
    data = sequence.data
    n = int(lens.max())
    if total_length is not None:
        if total_length < n:
            raise ValueError(f"pad_packed_sequence: total_length {total_length} is shorter than the longest "
                             f"sequence ({n})")
        n = total_length
    shape = (n, len(lens)) + tuple(data.shape[1:])
    base = ag.full(shape, padding_value, dtype=data.dtype) if padding_value else ag.zeros(*shape, dtype=data.dtype)
    out: Any = ag.index_put(base, (ag.tensor(t_idx), ag.tensor(b_idx)), data)
    if batch_first:
        out = out.swapaxes(0, 1)
    return out, ag.tensor(lens)


def pack_sequence(sequences: Sequence[Tensor], enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of sequences (L_i, *) (``pad_sequence`` then ``pack_padded_sequence``).

    >>> import autograd_core as ag
    >>> from nn.utils.rnn import pack_sequence
    >>> pack_sequence([ag.tensor([1]), ag.tensor([2, 3])], enforce_sorted=False).data
    tensor([2, 1, 3])
    """
    lens = [int(s.shape[0]) for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lens, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences: PackedSequence) -> list[Tensor]:
    """The list of sequences of a ``PackedSequence``, in the original order.

    >>> import autograd_core as ag
    >>> from nn.utils.rnn import pack_sequence, unpack_sequence
    >>> [s.tolist() for s in unpack_sequence(pack_sequence([ag.tensor([1, 2]), ag.tensor([3])]))]
    [[1, 2], [3]]
    """
    padded, lens = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lens, batch_first=True)
