"""Which MLX arrays behind torch-layout (N, C, *spatial) tensors hold their values channels-last in memory, so
that the convolution, batch-norm and pooling functions can work on them without a layout change.

Note [channels-last activations]
Users see torch's NC... layouts; MLX's convolutions are N...C. A convolution therefore computes an N...C array
and returns `mx.transpose(y, perm_out)`, an NC... view of N...C memory: the tensor is contiguous as torch
reports it (its strides are ours, Note [Tensor storage and views]), only MLX's physical layout differs. What MLX
does with such a permuted-but-dense array decides the cost of the layers between two convolutions:
- unary ops and binary ops against a scalar keep its layout (relu stays channels-last),
- binary ops against a broadcast (1, C, 1, 1) operand, binary ops of two such arrays and `mx.compile`'s fused
  kernels with several inputs run MLX's general strided loop and write NC... memory, reading the input across
  its strides (a batch-norm on a convolution's output took 2.6x native MLX's time this way on the CPU), after
  which the next convolution copies its input back to N...C;
- `mx.transpose(x, perm_in)` of such an array is row-contiguous again, so a convolution or a channels-last
  elementwise op reads it at no cost.
So the functions here mark the tensors they return channels-last (`mark_tensor`: the tensor's own hint, Note
[Channels-last hint] in csrc/layout.c, which the C core's binary operators also read, to combine two
channels-last tensors in N...C space, and which their results and unary results carry on), and a batch norm
asked to normalise a hinted tensor computes in N...C space, with its per-channel operands on the last axis, and
returns the NC... view of an N...C result (hinted again). Where a gradient is recorded, only on a GPU (Note
[Channels-last gradients]): on the CPU the cotangents a backward pass hands the batch norm were mostly
row-major, and an N...C-space backward read them across their strides at every step (a ResNet-50 32 px training
step took 2.2x native MLX's process time that way, 1.13x with the cotangent copied row-contiguous first, and
0.95x with training batch norms in NC... space, the forward then reading the convolution's output strided,
once). A tensor without the hint (any other producer, a view) takes the NC... path, which is the fast one for
row-major memory: the hint is about memory order, never about values, so a stale or missing one costs time, not
correctness. The 1x1 convolution's product returns row-major memory, unhinted, except on a hinted input where no
gradient is recorded or on a GPU (Note [convolutions as products]). Until 2026-12 the arrays were also marked
in a weak registry keyed by the array (`mark`): a weak reference and its callback per convolution, batch norm
and pooling result, some 30 us of an eager ResNet-18 forward's 0.65 ms of graph building, for what the tensor's
hint already says.
Where no gradient is recorded, `mark_tensor` also records the N...C array itself (Note [Channels-last source]
in csrc/layout.c), and the convolution, batch norm and pooling functions read a tensor's `source` instead of
transposing its NC... value back: a compiled inference graph then has no transpose between two layers, and its
batch norms, relus and residual adds fuse into one kernel as native MLX's do.

Note [Channels-last gradients]
On a GPU a training step keeps the activations between convolutions in N...C memory both ways, as native MLX's
NHWC networks do. There a kernel that reads an NC... view of N...C memory in NC... order (MLX's general strided
loops: a binary op against a broadcast (1, C, 1, 1) operand or of two permuted operands, a copy into another
layout) makes uncoalesced loads. The eager ResNet-18 and ResNet-50 training steps on the H200 took 1.17x and
1.21x native MLX's time while running fewer kernels; bench/train_graph_layout.py counted 191 kernels of
ResNet-18's step and 475 of ResNet-50's reading permuted memory out of order, native 41 and 107. The pieces:
- a recorded convolution's input gradient is the NC... view of the N...C array MLX's convolution backward gives,
  and is marked with the hint (mlx_op's `grad_last`); so are a channels-last max pool's and a global average
  pool's (the broadcast of the mean's gradient);
- on a hinted input, a recorded 1x1 convolution is the product of the input's rows, as the inference one is
  (Note [convolutions as products]), so a ResNet's downsampling branch and its residual adds stay N...C; its
  backward is written out (`_rows_grads`, as the patch product's): the weight's gradient row-major (O, C), where
  mx.vjp left a transposed product that reshaping copied, and the input's a hinted NC... view of N...C memory;
- saved values (Note [Saved values are snapshots] in csrc/autograd.c) keep their tensor's hint, and so does a
  cast (`Tensor.to` keeps MLX's memory order): relu's backward (torch's threshold_backward, a select) runs in
  N...C space when its saved result and its cotangent are both hinted, as binary operators of two hinted
  tensors do (Note [Channels-last hint] in csrc/layout.c) and the gradient sums of a residual connection add
  theirs;
- a training batch norm of a hinted input computes its statistics on the last axis of the N...C array (column
  reductions, as native's) and returns the hinted NC... view of an N...C result; given a hinted cotangent its
  backward works in N...C space too and returns a hinted gradient (`_batch_norm_train_backward`); a cotangent
  without the hint takes the NC... backward.
With all of them every batch norm of a ResNet-18 step takes the N...C path both ways under the fake GPU (Note
[Fake GPU]), and the counts fall to 45 and 111: what is left is mostly convolution weights read transposed, as
native's convolutions read theirs. GPU only: on the CPU the N...C statistics sum in another order (each column of the
N...C array a serial sum over N * positions, where the NC... path sums rows of positions in SIMD lanes), and an
ill-conditioned stack of train-mode batch norms (tests/vision/test_models.py's one-block Bottleneck ResNet)
amplified that: conv1's gradient came 2.2e-3 from torch's float64 one, where torch's float32 is 1.4e-5 away.
The CPU's strided loops cost less, too: forced on the CPU, an isolated 8x64x56x56 batch norm's forward and
backward took 8-11 ms instead of 30-34 ms, but the eager ResNet-18 step 183-195 ms against 189-210 ms (its
convolutions' time), and the rows form of a recorded 1x1 convolution was measured slower there before.
The max pools' gradients are the exception, marked on the CPU too: a pool takes its N...C path only for a hinted
input (a convolution's or relu's output; a CPU batch norm's output carries no hint), so the backward that reads
its gradient reads it in the order of its own saved values: relu's select runs in N...C space instead of a
strided loop over one permuted operand, and the convolution's vjp takes the N...C cotangent without a copy. The
values are the same but for a convolution bias's gradient, a sum over N...C memory in another order (within
float32 rounding). The Fashion-MNIST example's SGD step on this CPU: 50.4-52.7 -> 46.0-46.3 ms at batch 128,
27.6 -> 25.0 ms at batch 64.

Note [cached channels-last weights]
MLX's convolution wants O...I weights; torch's are OI... . `mx.transpose(w, perm)` is a view, which the
convolution copies to row-major at every call (1 ms of an 8.5 ms 3x3 256-channel convolution at batch 2 on
this CPU). Where no gradient is recorded (inference), `weight_last` keeps that copy per weight array: the
key is the array object itself, which is immutable, so an entry is right exactly as long as the weight tensor
still holds that array; any write to the weight (an optimizer step, load_state_dict, `weight.mul_`) gives the
tensor a new array and so a new entry, and an entry goes when its source array is freed. The copy is lazy: the
first call's evaluation computes it, later calls read it; it costs one more copy of each convolution weight
in memory while inference runs. Under mx.compile the weights are tracers, fresh per trace: there the copy is a
derived input of the compiled graph (Note [Derived inputs] in _compile.py), computed outside it by the same cache,
so a compiled inference call copies no weight either.
"""
from __future__ import annotations

import builtins
import functools
import weakref

import mlx.core as mx

from .. import _C, _compile

__all__ = ["mark_tensor", "is_channels_last_tensor", "source", "to_last", "from_last",
           "weight_last", "cached_form"]

_weights = {}  # id(weight array) -> (weakref to it, perm, its row-major O...I copy)
_forms = {}  # (id of the first source array, key) -> (weakrefs to them all, the form computed from them)


def mark_tensor(t, last=None):
    """Sets tensor t's channels-last hint (Note [Channels-last hint] in csrc/layout.c); returns t.
    last: the N...C array whose NC... transpose t's value is (Note [Channels-last source]), or None."""
    return _C._set_channels_last(t, True, last)


def source(t):
    """Tensor t's N...C array (its value is that array's NC... transpose, Note [Channels-last source]), or None."""
    return _C._channels_last_source(t)


def is_channels_last_tensor(t):
    """Whether tensor t carries the channels-last hint (Note [channels-last activations])."""
    return _C._is_channels_last(t)


def to_last(nd):
    """The permutation (N, C, *S) -> (N, *S, C) for nd spatial dims."""
    return (0,) + tuple(range(2, nd + 2)) + (1,)


def from_last(nd):
    """The permutation (N, *S, C) -> (N, C, *S) for nd spatial dims."""
    return (0, nd + 1) + tuple(range(1, nd + 1))


def _forget_weight(ref, key):
    entry = _weights.get(key)
    if entry is not None and entry[0] is ref:
        del _weights[key]


def weight_last(w, perm):
    """mx.contiguous(mx.transpose(w, perm)), made once per weight array (Note [cached channels-last weights]);
    inside a compiled call, an input of the graph computed (and cached) outside it (Note [Derived inputs])."""
    return _compile.derived_input((w,), ("weight_last", perm), functools.partial(_weight_last, perm=perm))


def _weight_last(w, perm):
    key = id(w)
    entry = _weights.get(key)
    if entry is not None and entry[0]() is w and entry[1] == perm:
        return entry[2]
    wl = mx.contiguous(mx.transpose(w, perm))
    _weights[key] = (weakref.ref(w, lambda r, key=key: _forget_weight(r, key)), perm, wl)
    return wl


def cached_form(arrays, key, fn, n=None):
    """fn(*arrays), made once per tuple of source arrays and key (hashable, naming everything else fn depends on),
    as weight_last's copies are (Note [cached channels-last weights]: the arrays are immutable, so the entry is
    right while they live); inside a compiled call, an input of the graph computed outside it (Note [Derived
    inputs]). n: fn returns a tuple of n arrays, and so does this (inside a compiled call, n inputs)."""
    if type(arrays) is not tuple:
        arrays = tuple(arrays)
    if _compile._TRACE is None:
        return _cached(arrays, key, fn)
    if n is None:
        return _compile.derived_input(arrays, key, functools.partial(_cached_form, key=key, fn=fn))
    return tuple(_compile.derived_input(arrays, (key, i), functools.partial(_cached_item, i=i, key=key, fn=fn))
                 for i in builtins.range(n))


def _cached_item(*arrays, i, key, fn):
    return _cached_form(*arrays, key=key, fn=fn)[i]


def _forget_form(ref, k):
    entry = _forms.get(k)
    if entry is not None and builtins.any(r is ref for r in entry[0]):
        del _forms[k]


def _cached_form(*arrays, key, fn):
    return _cached(arrays, key, fn)


def _cached(arrays, key, fn):
    """cached_form's table: fn(*arrays) for the tuple `arrays`, from _forms while every source array lives. An
    entry is found by its first array's id and the key, then checked against every array (two tuples of arrays
    that share their first array and key replace each other's entry: recomputed, never wrong)."""
    k = (id(arrays[0]), key)
    entry = _forms.get(k)
    if entry is not None:
        refs = entry[0]
        if len(refs) == len(arrays):
            for r, a in zip(refs, arrays):  # a plain loop: a generator under all() took a third of a hit's time
                if r() is not a:
                    break
            else:
                return entry[1]
    v = fn(*arrays)
    _forms[k] = (tuple(weakref.ref(a, lambda r, k=k: _forget_form(r, k)) for a in arrays), v)
    return v