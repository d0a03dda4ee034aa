"""torch.nn.utils.rnn: PackedSequence and the functions that pack, pad and unpad variable-length batches
(pack_padded_sequence, pad_packed_sequence, pad_sequence, unpad_sequence, pack_sequence, unpack_sequence,
invert_permutation).

Packing and padding are each one gather (`index_select`) over the flattened input with an index table computed
on the host from the lengths, so gradients flow through the package's own differentiable ops and a batch costs
a single graph node instead of one slice per time step. Padding gathers from the data with one extra row that
holds `padding_value` appended; the padded positions point at that row."""
from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

import numpy as np

import mlx_compat as torch
from mlx_compat import Tensor

__all__ = [
    "PackedSequence",
    "invert_permutation",
    "pack_padded_sequence",
    "pad_packed_sequence",
    "pad_sequence",
    "unpad_sequence",
    "pack_sequence",
    "unpack_sequence",
]


class PackedSequence_(NamedTuple):
    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None
    unsorted_indices: Tensor | None


def _bind(optional, fn):
    return None if optional is None else fn(optional)


class PackedSequence(PackedSequence_):
    """A packed batch of variable-length sequences: `data` holds the time steps' active rows one step after the
    other, `batch_sizes[t]` how many sequences are still running at step t; `sorted_indices` maps the packed order
    to the original batch and `unsorted_indices` back. Build one with pack_padded_sequence or pack_sequence."""

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        return super().__new__(cls, *_packed_sequence_init_args(data, batch_sizes, sorted_indices, unsorted_indices))

    def pin_memory(self):
        return type(self)(self.data.pin_memory(), self.batch_sizes,
                          _bind(self.sorted_indices, lambda t: t.pin_memory()),
                          _bind(self.unsorted_indices, lambda t: t.pin_memory()))

    def to(self, *args, **kwargs):
        """`data.to(...)`; the index tensors follow data's device (batch_sizes stays on the CPU)."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        non_blocking = kwargs.get("non_blocking", False)

        def call_to(t):
            return t.to(data.device, non_blocking=non_blocking)

        return type(self)(data, self.batch_sizes, _bind(self.sorted_indices, call_to),
                          _bind(self.unsorted_indices, call_to))

    def cuda(self, *args, **kwargs):
        if not args and "device" not in kwargs:
            kwargs["device"] = "cuda"
        return self.to(*args, **kwargs)

    def cpu(self, *args, **kwargs):
        kwargs["device"] = "cpu"
        return self.to(*args, **kwargs)

    def double(self):
        return self.to(dtype=torch.double)

    def float(self):
        return self.to(dtype=torch.float)

    def half(self):
        return self.to(dtype=torch.half)

    def long(self):
        return self.to(dtype=torch.long)

    def int(self):
        return self.to(dtype=torch.int)

    def short(self):
        return self.to(dtype=torch.short)

    def char(self):
        return self.to(dtype=torch.int8)

    def byte(self):
        return self.to(dtype=torch.uint8)

    @property
    def is_cuda(self):
        return self.data.is_cuda

    def is_pinned(self):
        return self.data.is_pinned()


def _packed_sequence_init_args(data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
    if unsorted_indices is None:
        unsorted_indices = invert_permutation(sorted_indices)
    if batch_sizes is not None:
        if batch_sizes.device.type != "cpu":
            raise ValueError(
                "batch_sizes should always be on CPU. Instances of PackedSequence should never be created "
                "manually. They should be instantiated by functions like pack_sequence and pack_padded_sequences in "
                "nn.utils.rnn. "
                "https://pytorch.org/docs/stable/nn.html#torch.nn.utils.rnn.pack_sequence")
        return data, batch_sizes, sorted_indices, unsorted_indices
    if not (isinstance(data, (list, tuple)) and len(data) == 2):
        raise AssertionError("Expected data to be a list or tuple of length 2")
    return data[0], data[1], sorted_indices, unsorted_indices


def _packed_sequence_init(data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
    return PackedSequence(*_packed_sequence_init_args(data, batch_sizes, sorted_indices, unsorted_indices))


def invert_permutation(permutation):
    """The inverse permutation (`out[permutation[i]] = i`), or None for None."""
    if permutation is None:
        return None
    out = torch.empty_like(permutation)
    out.scatter_(0, permutation, torch.arange(0, permutation.numel(), device=permutation.device))
    return out


def _host_ints(t):
    return np.asarray(t.detach().cpu().numpy() if isinstance(t, Tensor) else t, dtype=np.int64).reshape(-1)


def _index(idx, device):
    return torch.as_tensor(np.ascontiguousarray(idx, dtype=np.int64), device=device)


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """Pack a padded (T, B, *) batch (B, T, * with batch_first) of sequences with the given lengths."""
    if not isinstance(lengths, Tensor):
        lengths = torch.as_tensor(lengths, dtype=torch.int64, device="cpu")
    else:
        lengths = lengths.to(dtype=torch.int64)
    if enforce_sorted:
        sorted_indices = None
    else:
        lengths, sorted_indices = torch.sort(lengths, descending=True)
        sorted_indices = sorted_indices.to(input.device)
        input = input.index_select(0 if batch_first else 1, sorted_indices)
    data, batch_sizes = _pack_padded(input, lengths, batch_first)
    return _packed_sequence_init(data, batch_sizes, sorted_indices, None)


def _pack_padded(input, lengths, batch_first):
    if lengths.dim() != 1 or lengths.device.type != "cpu":
        raise RuntimeError("'lengths' argument should be a 1D CPU int64 tensor, but got "
                           f"{lengths.dim()}D {lengths.device.type} Long tensor")
    if input.dim() < 2:
        raise RuntimeError(f"pack_padded_sequence: expected input of at least 2 dimensions, got {input.dim()}")
    T, B = (input.shape[1], input.shape[0]) if batch_first else (input.shape[0], input.shape[1])
    lens = _host_ints(lengths)
    if lens.shape[0] != B:
        raise RuntimeError(f"Expected `len(lengths)` to be equal to batch_size, but got {lens.shape[0]} "
                           f"(batch_size={B})")
    if B == 0 or lens[-1] <= 0:
        raise RuntimeError("Length of all samples has to be greater than 0, but found an element in 'lengths' "
                           "that is <= 0")
    if np.any(lens[1:] > lens[:-1]):
        raise RuntimeError("`lengths` array must be sorted in decreasing order when `enforce_sorted` is True. "
                           "You can pass `enforce_sorted=False` to pack_padded_sequence and/or pack_sequence to "
                           "sidestep this requirement if you do not need ONNX exportability.")
    if lens[0] > T:
        raise RuntimeError(f"pack_padded_sequence: a length ({lens[0]}) exceeds the input's sequence length ({T})")
    steps = np.arange(lens[0])
    batch_sizes = (lens[None, :] > steps[:, None]).sum(1)
    # row (t, b) of the padded input, in packed order: t-major, the first batch_sizes[t] sequences of each step
    t_idx = np.repeat(steps, batch_sizes)
    b_idx = np.concatenate([np.arange(n) for n in batch_sizes])
    flat = b_idx * T + t_idx if batch_first else t_idx * B + b_idx
    rows = input.reshape((T * B,) + tuple(input.shape[2:]))
    data = rows.index_select(0, _index(flat, input.device))
    return data, torch.as_tensor(batch_sizes.astype(np.int64), device="cpu")


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """Inverse of pack_padded_sequence: (padded batch, lengths), in the original batch order."""
    bs = _host_ints(sequence.batch_sizes)
    max_seq_length = bs.shape[0]
    if total_length is not None:
        if total_length < max_seq_length:
            raise ValueError(
                "Expected total_length to be at least the length of the longest sequence in input, but got "
                f"total_length={total_length} and max sequence length being {max_seq_length}")
        max_seq_length = total_length
    data = sequence.data
    n, B = data.shape[0], int(bs[0]) if bs.shape[0] else 0
    offsets = np.concatenate([[0], np.cumsum(bs)[:-1]]).astype(np.int64)
    idx = np.full((max_seq_length, B), n, dtype=np.int64)  # n: the appended padding row
    for t, (off, k) in enumerate(zip(offsets, bs)):
        idx[t, :k] = off + np.arange(k)
    rest = tuple(data.shape[1:])
    pad_row = torch.full((1,) + rest, padding_value, dtype=data.dtype, device=data.device)
    padded = torch.cat([data, pad_row]).index_select(0, _index(idx.reshape(-1), data.device))
    padded = padded.view((max_seq_length, B) + rest)
    if batch_first:
        padded = padded.transpose(0, 1)
    lengths = torch.as_tensor((bs[None, :] > np.arange(B)[:, None]).sum(1).astype(np.int64), device="cpu")
    if sequence.unsorted_indices is not None:
        return padded.index_select(0 if batch_first else 1, sequence.unsorted_indices), \
            lengths[sequence.unsorted_indices.cpu()]
    return padded, lengths


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Stack variable-length (L_i, *) tensors into one (L_max, B, *) tensor ((B, L_max, *) with batch_first),
    padding each on the right (or left) with padding_value."""
    if not isinstance(sequences, Iterable):
        raise RuntimeError(
            f"pad_sequence: Expected iterable for input sequences, but got arg of type: {type(sequences)}")
    sequences = tuple(sequences)
    if padding_side not in ("left", "right"):
        raise RuntimeError(f"Expected padding_side to be one of left or right, but got {padding_side}.")
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    first = sequences[0]
    if first.dim() == 0:
        raise RuntimeError("pad_sequence: expected each sequence to have at least one dimension, got a 0-D tensor")
    rest = tuple(first.shape[1:])
    for s in sequences[1:]:
        if s.dim() == 0 or tuple(s.shape[1:]) != rest:
            raise RuntimeError(f"pad_sequence: every sequence must have the trailing dimensions {list(rest)} of the "
                               f"first one, got {list(s.shape)}")
    dtype, device = first.dtype, first.device
    lens = np.array([s.shape[0] for s in sequences], dtype=np.int64)
    B, L = len(sequences), int(lens.max())
    n = int(lens.sum())
    starts = np.concatenate([[0], np.cumsum(lens)[:-1]]).astype(np.int64)
    pos = np.arange(L)[None, :]
    shift = (L - lens)[:, None] if padding_side == "left" else np.zeros((B, 1), np.int64)
    src = pos - shift  # (B, L): position inside sequence b that lands at padded position l
    idx = np.where((src >= 0) & (src < lens[:, None]), starts[:, None] + src, n)
    if not batch_first:
        idx = idx.T
    pad_row = torch.full((1,) + rest, padding_value, dtype=dtype, device=device)
    parts = [s if s.dtype == dtype else s.to(dtype) for s in sequences]
    out = torch.cat(parts + [pad_row]).index_select(0, _index(idx.reshape(-1), device))
    return out.view(idx.shape + rest)


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """Split a padded batch back into a list of its sequences (each cut to its length). As in torch, a
    time-major `padded_sequences` is transposed in place first."""
    unpadded = []
    if not batch_first:
        padded_sequences.transpose_(0, 1)
    max_length = padded_sequences.shape[1]
    idx = torch.arange(max_length, device=lengths.device)
    for seq, length in zip(padded_sequences, lengths, strict=True):
        unpadded.append(seq[idx < length])
    return unpadded


def pack_sequence(sequences, enforce_sorted=True):
    """Pack a list of variable-length (L_i, *) tensors."""
    lengths = torch.as_tensor([v.size(0) for v in sequences])
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences):
    """Inverse of pack_sequence: the list of sequences, in their original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
