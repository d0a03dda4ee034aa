"""Shape ops (mlx_compat/_ops/shape.py) and the index_*/take/masked_*/scatter_reduce family (_ops/indexing.py)
against torch 2.13 on the same inputs: values, dtype, shape, strides where torch returns a view, error types, and
gradients (random cotangent, compared .grad)."""
import numpy as np
import pytest

from optest import B, GRAD, I, R, check_grad, mk, outcome
from helpers import assert_layout, assert_same, assert_same_outcome, mc, run_both, same_exc_type, src_id, torch


def _compare(rm, rt, stride):
    if isinstance(rt, torch.Size):
        assert isinstance(rm, mc.Size) and tuple(rm) == tuple(rt), f"{rm} != {rt}"
    elif isinstance(rt, torch.Tensor):
        assert isinstance(rm, mc.Tensor), f"expected a Tensor, got {type(rm)}"
        assert_same(rm, rt, check_stride=stride)
    elif isinstance(rt, (tuple, list)):
        assert type(rm) is type(rt), f"{type(rm)} != {type(rt)}"
        assert len(rm) == len(rt)
        for a, b in zip(rm, rt):
            _compare(a, b, stride)
    else:
        assert rm == rt


def check(fn, *arrays, stride=False):
    outcome(fn, arrays, lambda rm, rt: _compare(rm, rt, stride))


X = R(3, 4)
X3 = R(2, 3, 4, seed=1)
V = R(5, seed=2)

# ---------------------------------------------------------------- values, dtypes, layouts, errors

VALUE_CASES = [
    # flips, roll, rot90
    (lambda T, x: T.fliplr(x), X), (lambda T, x: T.flipud(x), X3), (lambda T, x: x.fliplr(), X3),
    (lambda T, x: x.flipud(), V), (lambda T, x: T.fliplr(x), V), (lambda T, x: T.flipud(x), np.float32(1.0)),
    (lambda T, x: T.roll(x, 1), X), (lambda T, x: T.roll(x, -7), X), (lambda T, x: T.roll(x, 2, 1), X),
    (lambda T, x: T.roll(x, (1, -2), (0, 2)), X3), (lambda T, x: x.roll(5, -1), X3),
    (lambda T, x: T.roll(x, [1, 2]), X), (lambda T, x: T.roll(x, (1, 2), (0,)), X), (lambda T, x: T.roll(x, 1, 5), X),
    (lambda T, x: T.roll(x, 1), np.float32(3)), (lambda T, x: T.roll(x, 1, 0), np.float32(3)),
    (lambda T, x: T.roll(x, (), ()), X), (lambda T, x: T.roll(x, 3, 0), np.zeros((0, 2), np.float32)),
    (lambda T, x: T.roll(x, 1, 1), I(1, 2, 3).reshape(1, 3)), (lambda T, x: T.roll(x, T.tensor(1)), X),
    (lambda T, x: T.roll(x, T.tensor([1, 2]), (0, 1)), X),
    (lambda T, x: x.roll(1.5), X),
    (lambda T, x: T.rot90(x, 1.0), X),
    (lambda T, x: T.roll(x, 2 ** 70), X),
    (lambda T, x: T.rot90(x), X), (lambda T, x: T.rot90(x, 2), X), (lambda T, x: T.rot90(x, -1), X),
    (lambda T, x: T.rot90(x, 3, (2, 0)), X3), (lambda T, x: x.rot90(1, [1, 2]), X3), (lambda T, x: T.rot90(x, 0), X),
    (lambda T, x: T.rot90(x, 1, (0,)), X), (lambda T, x: T.rot90(x, 1, (0, 0)), X),
    (lambda T, x: T.rot90(x, 1, (0, -2)), X), (lambda T, x: T.rot90(x, 1, (0, 5)), X), (lambda T, x: T.rot90(x), V),
    # tile, repeat_interleave
    (lambda T, x: T.tile(x, (2,)), X), (lambda T, x: T.tile(x, (2, 1, 3)), X), (lambda T, x: x.tile(2, 2), X),
    (lambda T, x: x.tile((0, 1)), X), (lambda T, x: T.tile(x, ()), V), (lambda T, x: T.tile(x, 2), X),
    (lambda T, x: x.tile(2), X), (lambda T, x: x.tile(True), X), (lambda T, x: x.tile(0, True), X),
    (lambda T, x: x.tile(-1), X), (lambda T, x: T.tile(x, [2, 2 ** 40]), X), (lambda T, x: x.tile(2 ** 70), X),
    (lambda T, x: T.repeat_interleave(x, 2), X), (lambda T, x: T.repeat_interleave(x, 2, 1), X),
    (lambda T, x, r: T.repeat_interleave(x, r, 0), X, I(1, 0, 2)),
    (lambda T, x, r: x.repeat_interleave(r, dim=-1), X, I(2, 1, 1, 3)),
    (lambda T, x, r: T.repeat_interleave(x, r, 1), X, I(2)), (lambda T, x, r: T.repeat_interleave(x, r, 1), X, I(2)[0]),
    (lambda T, x, r: T.repeat_interleave(x, r, 0, output_size=3), X, I(1, 0, 2)),
    (lambda T, x, r: T.repeat_interleave(x, r, 0, output_size=4), X, I(1, 0, 2)),
    (lambda T, x, r: T.repeat_interleave(x, r, 0), X, I(1, -1, 2)),
    (lambda T, x, r: T.repeat_interleave(x, r, 0), X, I(1, 2)),
    (lambda T, x, r: T.repeat_interleave(x, r), X, I(1, 2)),
    (lambda T, x, r: T.repeat_interleave(x, r, 0), X, I(1, 2, 3).reshape(3, 1)),
    (lambda T, x, r: T.repeat_interleave(x, r, 0), X, np.ones(3, np.float32)),
    (lambda T, x: T.repeat_interleave(x, -1), X), (lambda T, x: T.repeat_interleave(x, 3), np.float32(5)),
    (lambda T, r: T.repeat_interleave(r), I(1, 0, 3)), (lambda T, r: T.repeat_interleave(r), I(1, 2).reshape(1, 2)),
    (lambda T, r: T.repeat_interleave(r), np.array([2, 1], np.int32)),
    # broadcasting
    (lambda T, x: T.broadcast_to(x, (2, 3, 4)), X), (lambda T, x: x.broadcast_to(3, -1), R(1, 4)),
    (lambda T, x: T.broadcast_to(x, (3, 5)), X), (lambda T, x: T.broadcast_to(x, (2,)), np.float32(1)),
    (lambda T: T.broadcast_shapes((2, 1), (3,)), ), (lambda T: T.broadcast_shapes(2, (3, 1)), ),
    (lambda T: T.broadcast_shapes((2, 1), (3, 2)), ), (lambda T: T.broadcast_shapes((-1,), (3,)), ),
    (lambda T: T.broadcast_shapes(), ), (lambda T: T.broadcast_shapes([1, 4], T.Size([5, 1])), ),
    (lambda T, x, y: T.broadcast_tensors(x, y), X, R(4)),
    (lambda T, x, y: T.broadcast_tensors(x, y), R(3, 1), R(2, 1, 4)),
    (lambda T, x, y: T.broadcast_tensors(x, y), X, R(5)), (lambda T: T.broadcast_tensors(), ),
    (lambda T, x, y: T.broadcast_tensors(x, y), X, I(1)),
    # meshgrid
    (lambda T, a, b: T.meshgrid(a, b, indexing="ij"), V, R(3)),
    (lambda T, a, b: T.meshgrid(a, b, indexing="xy"), V, R(3)),
    (lambda T, a, b, c: T.meshgrid(a, b, c, indexing="xy"), V, R(3), np.float32(2)),
    (lambda T, a, b: T.meshgrid([a, b], indexing="ij"), V, R(3)), (lambda T, a, b: T.meshgrid(a, b), V, R(3)),
    (lambda T, a: T.meshgrid(a, indexing="xy"), V), (lambda T, a, b: T.meshgrid(a, b, indexing="foo"), V, R(3)),
    (lambda T, a, b: T.meshgrid(a, b, indexing="ij"), V, I(1, 2)), (lambda T, a: T.meshgrid(a, indexing="ij"), X),
    (lambda T: T.meshgrid(indexing="ij"), ),
    # splitting
    (lambda T, x: T.tensor_split(x, 3), np.arange(7, dtype=np.float32)), (lambda T, x: T.tensor_split(x, 3, 1), X),
    (lambda T, x: T.tensor_split(x, [1, -1, 5], 1), X), (lambda T, x: T.tensor_split(x, (2, 1), 0), X),
    (lambda T, x: x.tensor_split([1, 2], dim=-1), X3), (lambda T, x: T.tensor_split(x, 5), X),
    (lambda T, x: T.tensor_split(x, 0), X), (lambda T, x: T.tensor_split(x, 2), np.float32(1)),
    (lambda T, x, i: T.tensor_split(x, i, 1), X, I(2)[0]), (lambda T, x, i: T.tensor_split(x, i, 1), X, I(1, 3)),
    (lambda T, x, i: T.tensor_split(x, i, 1), X, np.array([1.0], np.float32)),
    (lambda T, x, i: T.tensor_split(x, i, 1), X, I(1, 3).reshape(1, 2)),
    (lambda T, x: T.tensor_split(x, sections=2), X), (lambda T, x: T.tensor_split(x, indices=[1], dim=1), X),
    (lambda T, x: T.hsplit(x, 2), X), (lambda T, x: T.hsplit(x, [1, 3]), X), (lambda T, x: T.hsplit(x, 3), X),
    (lambda T, x: T.hsplit(x, 5), V), (lambda T, x: T.hsplit(x, 0), X), (lambda T, x: T.hsplit(x, 2), np.float32(1)),
    (lambda T, x: x.hsplit(1, 2), X), (lambda T, x: x.hsplit([1]), X), (lambda T, x: T.vsplit(x, 3), X),
    (lambda T, x: x.vsplit([1]), X3), (lambda T, x: T.vsplit(x, 2), V), (lambda T, x: T.vsplit(x, 2), X),
    (lambda T, x: T.dsplit(x, 2), X3), (lambda T, x: x.dsplit([1, 2]), X3), (lambda T, x: T.dsplit(x, 2), X),
    # stacking
    (lambda T, a, b: T.hstack([a, b]), X, R(3, 2)), (lambda T, a, b: T.hstack((a, b)), V, I(1, 2)),
    (lambda T, a, b: T.hstack([a, b]), np.float32(1), np.float32(2)), (lambda T: T.hstack([]), ),
    (lambda T, a, b: T.hstack([a, b]), X, R(2, 2)), (lambda T, a, b: T.vstack([a, b]), X, R(4)),
    (lambda T, a, b: T.vstack([a, b]), V, V), (lambda T, a, b: T.row_stack([a, b]), X, R(2, 4)),
    (lambda T, a, b: T.dstack([a, b]), X, X), (lambda T, a, b: T.dstack([a, b]), V, V),
    (lambda T, a, b: T.dstack([a, b]), np.float32(1), np.float32(2)),
    (lambda T, a, b, c: T.column_stack([a, b, c]), R(3), R(3, 2), I(7, 8, 9)),
    (lambda T, a, b: T.column_stack([a, b]), np.float32(1), np.float32(2)), (lambda T: T.column_stack([]), ),
    (lambda T, a: T.vstack(a), X), (lambda T: T.dstack([]), ),
    # atleast_*
    (lambda T, x: T.atleast_1d(x), np.float32(1)), (lambda T, x: T.atleast_1d(x), X), (lambda T, x: T.atleast_2d(x), V),
    (lambda T, x: T.atleast_2d(x), np.float32(1)), (lambda T, x: T.atleast_3d(x), V),
    (lambda T, x: T.atleast_3d(x), X),
    (lambda T, x: T.atleast_3d(x), np.float32(1)),
    (lambda T, x: T.atleast_3d(x), X3),
    (lambda T, x, y: T.atleast_2d(x, y), V, X), (lambda T, x, y: T.atleast_1d([x, y]), np.float32(1), V),
    (lambda T, x: T.atleast_3d((x,)), V), (lambda T: T.atleast_1d(), ), (lambda T: T.atleast_1d(3), ),
    (lambda T, x: T.atleast_3d(x[0]), X), (lambda T, x: T.atleast_2d(x.t()), X),
    # take, take_along_dim
    (lambda T, x, i: T.take(x, i), X, I(0, -1, 11, 3).reshape(2, 2)), (lambda T, x, i: x.take(i), X, I(5)[0]),
    (lambda T, x, i: T.take(x, i), X, I(12)), (lambda T, x, i: T.take(x, i), X, I(-13)),
    (lambda T, x, i: T.take(x, i), X, np.array([1], np.int32)), (lambda T, x, i: T.take(x, i), R(0), I(0)),
    (lambda T, x, i: T.take(x, i), R(0), I()), (lambda T, x, i: T.take(x, i), np.float32(4), I(0)[0]),
    (lambda T, x, i: T.take(x.t(), i), X, I(1, 2, 5)),
    (lambda T, x, i: T.take_along_dim(x, i, 1), X, I(0, 3, 2).reshape(3, 1)),
    (lambda T, x, i: T.take_along_dim(x, i, 0), X, I(0, 1, 2, 0).reshape(1, 4)),
    (lambda T, x, i: x.take_along_dim(i, dim=1), X, I(0, 2, 1, 1, 3).reshape(1, 5)),
    (lambda T, x, i: T.take_along_dim(x, i), X, I(11, 0, 4).reshape(3, 1)),
    (lambda T, x, i: T.take_along_dim(x.t(), i), X, I(0, 5)), (lambda T, x, i: T.take_along_dim(x, i), X, I(0, 12)),
    (lambda T, x, i: T.take_along_dim(x, i, 1), X, I(0, 1)),
    (lambda T, x, i: T.take_along_dim(x, i, 1), X, np.array([[0]], np.int32)),
    (lambda T, x, i: T.take_along_dim(x, i, 0), X, I(0, 1, 0, 1).reshape(2, 2)),
    (lambda T, x, i: T.take_along_dim(x, i, 1), R(2, 1, 3), np.zeros((1, 4, 1), np.int64)),
    (lambda T, x, i: T.take_along_dim(x, i, 1, out=T.empty(0)), X, I(3, 0, 1).reshape(3, 1)),
    # index_add / index_copy / index_fill
    (lambda T, x, i, s: T.index_add(x, 0, i, s), X, I(0, 2, 0), R(3, 4, seed=5)),
    (lambda T, x, i, s: x.index_add(1, i, s, alpha=2), X, I(3, 1), R(3, 2, seed=5)),
    (lambda T, x, i, s: T.index_add(x, -1, i, s), X, np.array([3, 1], np.int32), R(3, 2, seed=5)),
    (lambda T, x, i, s: T.index_add(x, 0, i, s), X, I(0, 3), R(2, 4)),
    (lambda T, x, i, s: T.index_add(x, 0, i, s), X, I(0, -1), R(2, 4)),
    (lambda T, x, i, s: T.index_add(x, 0, i, s), X, I(0, 1), R(2, 5)),
    (lambda T, x, i, s: T.index_add(x, 0, i, s), X, I(0, 1), R(3, 4)),
    (lambda T, x, i, s: T.index_add(x, 0, i, s.double()), X, I(0, 1), R(2, 4)),
    (lambda T, x, i, s: T.index_add(x, 0, i.float(), s), X, I(0, 1), R(2, 4)),
    (lambda T, x, i, s: T.index_add(x, 0, i.view(2, 1), s), X, I(0, 1), R(2, 4)),
    (lambda T, x, i, s: T.index_add(x, 0, i, s), np.float32(1), I(0, 0), R(2)),
    (lambda T, x, i, s: T.index_add(x, 0, i, s), np.float32(1), I(0)[0], np.float32(2)),
    (lambda T, x, i, s: T.index_add(x, 0, i, s), R(2), I(0), np.float32(2)),
    (lambda T, x, i, s: T.index_copy(x, 0, i, s), R(2), I(0), np.float32(2)),
    (lambda T, x, i, s: T.index_copy(x, 0, i, s), np.float32(1), I(0), R(1)),
    (lambda T, x, i, s: T.index_reduce(x, 0, i, s, "prod"), R(2), I(0), np.float32(2)),
    (lambda T, x, i, s: T.scatter_reduce(x, 0, i, s, "sum"), np.float32(1), I(0), R(1)),
    (lambda T, x, i, s: T.scatter_reduce(x, 0, i, s, "amin"), R(2), I(0)[0], np.float32(-5)),
    (lambda T, x, i, s: T.index_add(x, 1, i, s), I(1, 2, 3, 4).reshape(2, 2), I(1, 1), I(5, 6, 7, 8).reshape(2, 2)),
    (lambda T, x, i, s: T.index_add(x, 0, i, s, out=T.empty(0)), X, I(2), R(1, 4)),
    (lambda T, x, i, s: T.index_add(x, 0, i, s), R(3, 0), I(2, 0), R(2, 0)),
    (lambda T, x, i, s: T.index_copy(x, 1, i, s), R(0, 3), I(2, 0), R(0, 2)),
    (lambda T, x, i, s: T.index_add(x, 1, i, s), X, I(), R(3, 0)),
    (lambda T, x, i, s: T.index_copy(x, 1, i, s), X, I(0, 2), R(3, 2)),
    (lambda T, x, i, s: x.index_copy(0, i, s), X, I(2)[0], R(4)[None].reshape(1, 4)[0:1]),
    (lambda T, x, i, s: T.index_copy(x, 1, i.int(), s), X, I(0, 2), R(3, 2)),
    (lambda T, x, i, s: T.index_copy(x, 1, i, s), X, I(0, 4), R(3, 2)),
    (lambda T, x, i, s: T.index_copy(x, 1, i, s), X, I(0, -1), R(3, 2)),
    (lambda T, x, i, s: T.index_copy(x, 1, i, s.double()), X, I(0, 2), R(3, 2)),
    (lambda T, x, i, s: T.index_copy(x, 1, i, s), X, I(0, 2), R(3, 3)),
    (lambda T, x, i, s: T.index_copy(x, 1, i, s), X, I(0, 2), R(2, 2)),
    (lambda T, x, i, s: T.index_copy(x, 1, i.view(1, 2), s), X, I(0, 2), R(3, 2)),
    (lambda T, x, i, s: T.index_copy(x, 1, i, s, out=T.empty(3, 4)), X, I(0, 2), R(3, 2)),
    (lambda T, x, i: T.index_fill(x, 1, i, -1), X, I(0, 2)), (lambda T, x, i: x.index_fill(0, i, 2.5), X, I(-1)),
    (lambda T, x, i: T.index_fill(x, 1, i, -1), I(1, 2, 3, 4).reshape(2, 2), I(1)),
    (lambda T, x, i: T.index_fill(x, 1, i, 1.5), I(1, 2, 3, 4).reshape(2, 2), I(1)),
    (lambda T, x, i, v: T.index_fill(x, 1, i, v), X, I(0, 2), np.float32(7)),
    (lambda T, x, i, v: T.index_fill(x, 1, i, v), X, I(0, 2), R(1)),
    (lambda T, x, i: T.index_fill(x, 1, i.int(), 1), X, I(0)), (lambda T, x, i: T.index_fill(x, 1, i, 1), X, I(4)),
    (lambda T, x, i: T.index_fill(x, 1, i.view(1, 1), 1), X, I(0)),
    (lambda T, x, i: T.index_fill(x, 0, i, True), B(True, False, True), I(1)),
    (lambda T, x, i: T.index_fill(x, 0, i, 3.0), np.float32(1), I(0)),
    (lambda T, x, i: T.index_fill(x, 0, i, 1j), X, I(0)),
    (lambda T, x, i: T.index_fill(x, 0, i, 1j), X.astype(np.complex64), I(0)),
    # index_put
    (lambda T, x, i, j, v: T.index_put(x, (i, j), v, accumulate=True), X, I(0, 0, 2), I(1, 1, 3), R(3)),
    (lambda T, x, i, v: T.index_put(x, (i,), v), X, I(0, 2), R(4)),
    (lambda T, x, i, v: T.index_put(x, [i], v, True), X, I(0, 0, -1), np.float32(1)),
    (lambda T, x, i, v: x.index_put((i,), v), X, I(1, 3), R(2, 1)),
    (lambda T, x, v: T.index_put(x, (x > 0,), v), X, np.float32(9)),
    (lambda T, x, i, v: T.index_put(x, (i,), v), X, B(True, False, True), R(2, 4)),
    (lambda T, x, i, v: T.index_put(x, (i,), v), X, B(True, False, True), R(3, 4)),
    (lambda T, x, i, v: T.index_put(x, (i,), v), X, I(0, 3), np.float32(1)),
    (lambda T, x, i, v: T.index_put(x, (i,), v, True), X, I(0, 3), np.float32(1)),
    (lambda T, x, i, v: T.index_put(x, (i,), v.double()), X, I(0, 1), np.float32(1)),
    (lambda T, x, i, v: T.index_put(x, (i.float(),), v), X, I(0, 1), np.float32(1)),
    (lambda T, x, i, v: T.index_put(x, (i, i, i), v), X, I(0, 1), np.float32(1)),
    (lambda T, x, i, v: T.index_put(x, i, v), X, I(0, 1), np.float32(1)),
    (lambda T, x, i, v: T.index_put(x, (None, i), v), X, I(0, 1), np.float32(1)),
    (lambda T, x, i, v: T.index_put(x, (i,), v), X, I(0, 1), R(3)),
    (lambda T, x, i, v: T.index_put(x, (i,), v), X, I(0), R(1, 1, 4)),
    (lambda T, x, i, v: T.index_put(x, (i,), v), X, I(0, 1), R(2, 1)),
    (lambda T, x, i, v: T.index_put(x, (i,), v, True), I(1, 2, 3), I(0, 0, 2), I(10, 20, 30)),
    (lambda T, x, i, j, v: T.index_put(x, (i, j), v), X3, I(1, 0), I(2, 1), R(2, 4)),
    # masked_select / masked_scatter
    (lambda T, x: T.masked_select(x, x > 0), X), (lambda T, x, m: x.masked_select(m), X, B(True, False, False, True)),
    (lambda T, x, m: T.masked_select(x, m), R(3), B(True, False).reshape(2, 1)),
    (lambda T, x: T.masked_select(x, (x > 0).byte()), X), (lambda T, x, m: T.masked_select(x, m), X, B(True, False)),
    (lambda T, x: T.masked_select(x, x > 100), X),
    (lambda T, x: T.masked_select(x, x > 0, out=T.empty(0)), X),
    (lambda T, x, s: T.masked_scatter(x, x > 0, s), X, R(12, seed=3)),
    (lambda T, x, s: x.masked_scatter(x < 0, s), X, R(4, 4, seed=3)),
    (lambda T, x, s: T.masked_scatter(x, x > -100, s), X, R(3, seed=3)),
    (lambda T, x, s: T.masked_scatter(x, x > 0, s.double()), X, R(12, seed=3)),
    (lambda T, x, s: T.masked_scatter(x, (x > 0).byte(), s), X, R(12, seed=3)),
    (lambda T, x, m, s: T.masked_scatter(x, m, s), R(3), B(True, False).reshape(2, 1), R(3)),
    (lambda T, x, s: T.masked_scatter(x, x > 100, s), X, R(0)),
    (lambda T, x, s: T.masked_scatter(x, x > 0, s), I(1, -2, 3), I(7, 8, 9)),
    # combinations, cartesian_prod, block_diag
    (lambda T, x: T.combinations(x), I(1, 2, 3)), (lambda T, x: T.combinations(x, 0), I(1, 2, 3)),
    (lambda T, x: T.combinations(x, 1), I(1, 2, 3)), (lambda T, x: T.combinations(x, 4), I(1, 2, 3)),
    (lambda T, x: T.combinations(x, 2, True), I(1, 2, 3)),
    (lambda T, x: T.combinations(x, r=3, with_replacement=True), V),
    (lambda T, x: T.combinations(x, -1), I(1, 2, 3)),
    (lambda T, x: T.combinations(x), X),
    (lambda T, x: T.combinations(x), I()),
    (lambda T, a, b: T.cartesian_prod(a, b), I(1, 2), I(3, 4, 5)), (lambda T, a: T.cartesian_prod(a), I(1, 2)),
    (lambda T, a, b, c: T.cartesian_prod(a, b, c), V[:2], R(3), R(2, seed=4)), (lambda T, a: T.cartesian_prod(a), X),
    (lambda T, a, b: T.cartesian_prod(a, b), I(1, 2), R(1)), (lambda T: T.cartesian_prod(), ),
    (lambda T, a, b, c: T.block_diag(a, b, c), np.int64(1), R(2), np.ones((2, 2), np.int32)),
    (lambda T: T.block_diag(), ), (lambda T, a: T.block_diag(a), R(1, 1, 1)),
    (lambda T, a, b: T.block_diag(a, b), R(0, 2), R(2, 0)), (lambda T, a, b: T.block_diag(a, b), R(2), B(True)),
    (lambda T, a, b: T.block_diag(a, b), X, R(2, 3, seed=7)),
    # tril_indices / triu_indices
    (lambda T: T.tril_indices(3, 4, 1), ), (lambda T: T.triu_indices(3, 4, -1), ), (lambda T: T.tril_indices(0, 4), ),
    (lambda T: T.tril_indices(-1, 4), ),
    (lambda T: T.triu_indices(4, -1), ),
    (lambda T: T.tril_indices(3, 3, dtype=T.float), ),
    (lambda T: T.tril_indices(3, 3, dtype=T.int32), ), (lambda T: T.triu_indices(3, 3, 10), ),
    (lambda T: T.triu_indices(5, 2), ), (lambda T: T.tril_indices(2, 5, -4), ),
    # narrow_copy
    (lambda T, x: T.narrow_copy(x, 1, 1, 2), X), (lambda T, x: x.narrow_copy(1, -1, 1), X),
    (lambda T, x: T.narrow_copy(x, 1, 3, 2), X), (lambda T, x: T.narrow_copy(x, 0, T.tensor(1), 1), X),
    (lambda T, x: T.masked_select(x, T.tensor(True)), X),
    (lambda T, x: T.masked_select(x[0, 0], x > 0), X),
    (lambda T, x: T.narrow_copy(x, 0, 1, 2, out=T.empty(0)), X),
]


@pytest.mark.parametrize("case", VALUE_CASES, ids=[src_id(c[0]) for c in VALUE_CASES])
def test_values(case):
    check(case[0], *case[1:])


# reductions: every mode x include_self, float and integer
RED_X = R(3, 4, seed=11)
RED_S = np.round(R(4, 4, seed=12) * 2).astype(np.float32)  # rounded: ties for amax/amin


@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
@pytest.mark.parametrize("dtype", [np.float32, np.int64])
def test_scatter_reduce(reduce, include_self, dtype):
    x, s = RED_X.astype(dtype) if dtype is np.float32 else np.round(RED_X * 3).astype(dtype), RED_S.astype(dtype)
    idx = I(0, 2, 0, 1, 2, 2, 0, 1).reshape(2, 4)
    check(lambda T, x, i, s: T.scatter_reduce(x, 0, i, s, reduce, include_self=include_self), x, idx, s)
    check(lambda T, x, i, s: x.scatter_reduce(1, i, s, reduce, include_self=include_self), x,
          I(3, 3, 0, 1, 3, 3).reshape(2, 3), s)
    if reduce != "sum":
        check(lambda T, x, i, s: T.index_reduce(x, 0, i, s, reduce, include_self=include_self), x, I(0, 2, 0, 0), s)
        check(lambda T, x, i, s: x.index_reduce(1, i, s, reduce, include_self=include_self), x, I(3, 3, 1, 3),
              s[:3])


REDUCE_ERRORS = [
    (lambda T, x, i, s: T.scatter_reduce(x, 1, i, s, "foo"), X, I(0, 0).reshape(1, 2), R(1, 2)),
    (lambda T, x, i, s: T.scatter_reduce(x, 1, i, s, "sum"), X, I(0, 4).reshape(1, 2), R(1, 2)),
    (lambda T, x, i, s: T.scatter_reduce(x, 1, i, s, "sum"), X, I(0, -1).reshape(1, 2), R(1, 2)),
    (lambda T, x, i, s: T.scatter_reduce(x, 1, i.int(), s, "amax"), X, I(0, 1).reshape(1, 2), R(1, 2)),
    (lambda T, x, i, s: T.scatter_reduce(x, 1, i, s.double(), "sum"), X, I(0, 1).reshape(1, 2), R(1, 2)),
    (lambda T, x, i, s: T.scatter_reduce(x, 1, i, s, "sum"), X, I(0, 1), R(1, 2)),
    (lambda T, x, i, s: T.scatter_reduce(x, 1, i, s, "sum"), X, I(0, 1, 2, 0, 1).reshape(1, 5), R(1, 3)),
    (lambda T, x, i, s: T.scatter_reduce(x, 1, i, s, "sum", out=T.empty(0)), X, I(0, 1).reshape(1, 2), R(1, 2)),
    (lambda T, x, i, s: T.index_reduce(x, 0, i, s, "sum"), X, I(0, 1), R(2, 4)),
    (lambda T, x, i, s: T.index_reduce(x, 0, i, s, "prod"), X, I(0, 3), R(2, 4)),
    (lambda T, x, i, s: T.index_reduce(x, 0, i, s, "prod"), X, I(0, -1), R(2, 4)),
    (lambda T, x, i, s: T.index_reduce(x, 0, i.int(), s, "mean"), X, I(0, 1), R(2, 4)),
    (lambda T, x, i, s: T.index_reduce(x, 0, i.float(), s, "mean"), X, I(0, 1), R(2, 4)),
    (lambda T, x, i, s: T.index_reduce(x, 0, i.view(1, 2), s, "mean"), X, I(0, 1), R(2, 4)),
    (lambda T, x, i, s: T.index_reduce(x, 0, i, s.double(), "mean"), X, I(0, 1), R(2, 4)),
    (lambda T, x, i, s: T.index_reduce(x, 0, i, s, "amin"), X, I(0, 1), R(2, 5)),
    (lambda T, x, i, s: T.index_reduce(x, 0, i, s, "amin"), X, I(0, 1, 1), R(2, 4)),
    (lambda T, x, i, s: T.index_reduce(x, 0, i, s, "amax", out=T.empty(0)), X, I(0, 1), R(2, 4)),
]


@pytest.mark.parametrize("case", REDUCE_ERRORS, ids=[src_id(c[0]) for c in REDUCE_ERRORS])
def test_reduce_checks(case):
    check(case[0], *case[1:])


# ---------------------------------------------------------------- views: strides and aliasing


VIEW_CASES = [
    lambda T, x: T.broadcast_to(x[:, :1], (2, 3, 4)), lambda T, x: T.broadcast_tensors(x, x[0])[1],
    lambda T, x: T.meshgrid(x[0], x[1], indexing="xy")[0],
    lambda T, x: T.meshgrid(x[0], x[1], x[2, 0], indexing="xy")[2],
    lambda T, x: T.meshgrid(x[0], x[:, 1], indexing="ij")[1], lambda T, x: T.tensor_split(x, 3, 1)[1],
    lambda T, x: T.tensor_split(x, [1, -1, 5], 1)[3], lambda T, x: T.tensor_split(x, (2, 1), 0)[1],
    lambda T, x: T.hsplit(x, [1, 3])[1], lambda T, x: T.vsplit(x, [1])[1], lambda T, x: T.atleast_1d(x[0, 0]),
    lambda T, x: T.atleast_2d(x[:, 1]), lambda T, x: T.atleast_3d(x[:, 1]), lambda T, x: T.atleast_3d(x.t()),
    lambda T, x: T.atleast_3d(x[1, 1]),
]


@pytest.mark.parametrize("fn", VIEW_CASES, ids=[src_id(f) for f in VIEW_CASES])
def test_view_layout(fn):
    xt = torch.from_numpy(X.copy())
    xm = mc.from_numpy(X.copy())
    rt, rm = fn(torch, xt), fn(mc, xm)
    assert_same(rm, rt)
    assert_layout(rm, rt)
    # a write through the base is seen by the view (it aliases), as in torch
    xt.add_(1)
    xm.add_(1)
    assert_same(rm, rt)


def test_views_alias_and_copies_do_not():
    x = mc.zeros(3, 4)
    b = mc.broadcast_to(x[0], (2, 4))
    parts = mc.tensor_split(x, 2, 1)
    g = mc.meshgrid(x[0], x[:, 0], indexing="ij")
    r = mc.roll(x, 1)
    t = mc.take_along_dim(x, mc.zeros(3, 1, dtype=mc.int64), 1)
    n = mc.narrow_copy(x, 0, 0, 2)
    x.fill_(2)
    assert b.sum().item() == 16 and parts[1].sum().item() == 12 and g[0].sum().item() == 24
    assert r.sum().item() == 0 and t.sum().item() == 0 and n.sum().item() == 0


def test_identity_returns():
    """torch returns the input itself where nothing changes (atleast_*d of enough dims, one-tensor cartesian_prod)."""
    x = mc.zeros(3, 4)
    v = mc.zeros(3)
    assert mc.atleast_1d(x) is x and mc.atleast_2d(x) is x and mc.cartesian_prod(v) is v


def test_meshgrid_warns_without_indexing():
    a = mc.arange(3)
    with pytest.warns(UserWarning):
        mc.meshgrid(a, a)


# ---------------------------------------------------------------- in-place variants


INPLACE = [
    (lambda T, x, i, s: x.index_add_(0, i, s, alpha=-1), X, I(0, 2, 0), R(3, 4, seed=5)),
    (lambda T, x, i, s: x.index_copy_(1, i, s), X, I(3, 0), R(3, 2, seed=5)),
    (lambda T, x, i: x.index_fill_(1, i, 0.5), X, I(1, -1)),
    (lambda T, x, i, v: x.index_put_((i,), v, accumulate=True), X, I(0, 0), R(4)),
    (lambda T, x, i, v: x.index_put_((i,), v), X, I(2, 0), R(4)),
    (lambda T, x, i, s: x.index_reduce_(0, i, s, "amax", include_self=False), X, I(0, 2, 0), R(3, 4, seed=5)),
    (lambda T, x, i, s: x.scatter_reduce_(1, i, s, "mean"), X, I(0, 0, 1, 2, 2, 2).reshape(3, 2), R(3, 2)),
    (lambda T, x, s: x.masked_scatter_(x > 0, s), X, R(12, seed=3)),
    (lambda T, x, s: x.masked_scatter_(T.tensor([True, False, True, False]), s), X, R(12, seed=3)),
    (lambda T, x, s: x.masked_scatter_(T.ones(2, 1, 4, dtype=T.bool), s), X, R(12, seed=3)),
    # through a view: the base sees the write
    (lambda T, x, i, s: (x[1:].index_add_(1, i, s), x)[1], X, I(0, 0), R(2, 2)),
    (lambda T, x, s: (x.t().masked_scatter_(x.t() > 0, s), x)[1], X, R(12, seed=3)),
]


@pytest.mark.parametrize("case", INPLACE, ids=[src_id(c[0]) for c in INPLACE])
def test_inplace(case):
    check(case[0], *case[1:])


def test_inplace_returns_self_and_bumps_version():
    x = mc.zeros(3)
    v = x._version
    assert x.index_fill_(0, mc.tensor([1]), 2.0) is x
    assert x._version > v and x.tolist() == [0.0, 2.0, 0.0]


def test_inplace_on_leaf_requiring_grad_raises():
    x = mc.zeros(3, requires_grad=True)
    xt = torch.zeros(3, requires_grad=True)
    from helpers import assert_raises_same

    assert_raises_same(lambda: xt.index_fill_(0, torch.tensor([1]), 2.0),
                       lambda: x.index_fill_(0, mc.tensor([1]), 2.0))


# ---------------------------------------------------------------- gradients


S_TIES = np.array([[1.0, 2.0, 2.0, 0.0], [2.0, 0.0, 3.0, 0.0], [1.0, 2.0, -1.0, 0.0]], np.float32)
X_TIES = np.array([[1.0, 0.0, 2.0, 0.5], [0.0, 1.0, 3.0, 0.0], [1.0, 2.0, -1.0, 2.0]], np.float32)

GRAD_CASES = [
    (lambda T, x: T.fliplr(x), X), (lambda T, x: x.flipud(), X3), (lambda T, x: T.roll(x, -5), X),
    (lambda T, x: T.roll(x, (1, 2), (0, -1)), X3), (lambda T, x: T.rot90(x, 1, (1, 2)), X3),
    (lambda T, x: T.rot90(x, 2), X), (lambda T, x: T.rot90(x, 3), X), (lambda T, x: T.tile(x, (2, 1, 2)), X),
    (lambda T, x: T.repeat_interleave(x, 3), X), (lambda T, x, r: x.repeat_interleave(r, 1), X, I(0, 2, 1, 3)),
    (lambda T, x: T.broadcast_to(x, (2, 3, 4)), X), (lambda T, x, y: T.broadcast_tensors(x, y), X, R(3, 1)),
    (lambda T, a, b: T.meshgrid(a, b, indexing="xy"), V, R(3)), (lambda T, x: T.tensor_split(x, [1, 3], 1), X),
    (lambda T, x: T.hsplit(x, 2), X), (lambda T, x: T.dsplit(x, [1]), X3),
    (lambda T, a, b: T.hstack([a, b]), V, R(2)), (lambda T, a, b: T.vstack([a, b]), X, R(4)),
    (lambda T, a, b: T.dstack([a, b]), X, X), (lambda T, a, b: T.column_stack([a, b]), R(3), X),
    (lambda T, x: T.atleast_3d(x), V), (lambda T, x, i: T.take(x, i), X, I(0, -1, 3, 3)),
    (lambda T, x, i: T.take_along_dim(x, i, 1), X, I(0, 3, 3, 1).reshape(1, 4)),
    (lambda T, x, i: T.take_along_dim(x, i), X, I(0, 3, 3, 1)),
    (lambda T, x, i, s: T.index_add(x, 0, i, s, alpha=3), X, I(0, 2, 0), R(3, 4, seed=5)),
    (lambda T, x, i, s: T.index_copy(x, 1, i, s), X, I(2, 0), R(3, 2, seed=5)),
    (lambda T, x, i: T.index_fill(x, 1, i, 2.0), X, I(2, 0)),
    (lambda T, x, i, v: T.index_fill(x, 1, i, v), X, I(2, 0), np.float32(3)),
    (lambda T, x, i, j, v: T.index_put(x, (i, j), v, accumulate=True), X, I(0, 0, 2), I(1, 1, 3), R(3)),
    (lambda T, x, i, v: T.index_put(x, (i,), v), X, I(2, 0), R(4)),
    (lambda T, x, v: T.index_put(x, (x > 0,), v), X, np.float32(2)),
    (lambda T, x: T.masked_select(x, x > 0), X),
    (lambda T, x, m: T.masked_select(x, m), R(3), B(True, False).reshape(2, 1)),
    (lambda T, x, s: T.masked_scatter(x, x > 0, s), X, R(14, seed=3)),
    (lambda T, x, m, s: T.masked_scatter(x, m, s), R(3), B(True, False).reshape(2, 1), R(4)),
    (lambda T, x: T.combinations(x, 2), V), (lambda T, x: T.combinations(x, 3, True), V[:3]),
    (lambda T, a, b: T.cartesian_prod(a, b), V, R(3)),
    (lambda T, a, b, c: T.block_diag(a, b, c), X, R(2), np.float32(3)),
    (lambda T, x: T.narrow_copy(x, 1, 1, 2), X),
    # empty inputs / results (MLX cannot scatter into zero-size arrays: these must not reach it)
    (lambda T, x, i, s: T.index_add(x, 0, i, s), R(3, 0), I(2, 0), R(2, 0)),
    (lambda T, x, i, s: T.index_copy(x, 1, i, s), R(0, 3), I(2, 0), R(0, 2)),
    (lambda T, x, i, v: T.index_put(x, (i,), v, True), R(0, 3), I(), np.float32(1)),
    (lambda T, x, i, s: T.scatter_reduce(x, 1, i, s, "amax"), R(0, 3), np.zeros((0, 2), np.int64), R(0, 2)),
    (lambda T, x, i, s: T.index_reduce(x, 1, i, s, "prod"), R(0, 3), I(1), R(0, 1)),
    (lambda T, x, i: T.take(x, i), R(0, 3), I()), (lambda T, x, i: T.take(x, i), X, I()),
    (lambda T, x: T.masked_select(x, x > 0), R(0, 3)), (lambda T, x: T.masked_select(x, x > 100), X),
    (lambda T, x, s: T.masked_scatter(x, x > 0, s), R(0, 3), R(2)),
    (lambda T, x: T.repeat_interleave(x, 2, 0), R(0, 3)), (lambda T, x, r: T.repeat_interleave(x, r, 0), X, I(0, 0, 0)),
    (lambda T, x: T.combinations(x), R(0)), (lambda T, x: T.combinations(x, 3), R(2)),
    (lambda T, x: T.roll(x, 1, 1), R(0, 3)), (lambda T, x: T.rot90(x), R(0, 3)), (lambda T, x: T.fliplr(x), R(0, 3)),
    (lambda T, a, b: T.block_diag(a, b), R(0, 2), R(2, 0)), (lambda T, x: T.narrow_copy(x, 1, 1, 0), X),
    (lambda T, x, i: T.take_along_dim(x, i, 1), R(0, 3), np.zeros((0, 2), np.int64)),
    (lambda T, x, i: T.index_fill(x, 1, i, 2.0), R(0, 3), I(1)),
    (lambda T, x, i, s: x.clone().index_add_(0, i, s), X, I(0, 2, 0), R(3, 4, seed=5)),
    (lambda T, x, s: (x * 1).masked_scatter_(x > 0, s), X, R(14, seed=3)),
    (lambda T, x, i: (lambda y: (y[1:].index_fill_(1, i, 0.0), y)[1])(x * 2), X, I(0, 3)),
    (lambda T, x, i, s: (lambda y: (y.t().index_put_((i,), s, True), y)[1])(x * 2), X, I(1, 1), R(3)),
    (lambda T, x, i, s: (lambda y: (y[:, 1:].scatter_reduce_(0, i, s, "amax"), y)[1])(x * 2), X,
     I(0, 2, 2, 1, 1, 1).reshape(2, 3), R(2, 3)),
]


@pytest.mark.parametrize("case", GRAD_CASES, ids=[src_id(c[0]) for c in GRAD_CASES])
def test_grad(case):
    check_grad(case[0], *case[1:])


@pytest.mark.parametrize("reduce", ["sum", "prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
def test_reduce_grad(reduce, include_self):
    idx = I(0, 2, 0, 1, 2, 2, 0, 1).reshape(2, 4)
    check_grad(lambda T, x, i, s: T.scatter_reduce(x, 0, i, s, reduce, include_self=include_self), X_TIES, idx,
               S_TIES[:2])
    check_grad(lambda T, x, i, s: T.scatter_reduce(x, 1, i, s, reduce, include_self=include_self), X_TIES,
               I(3, 3, 0, 1, 3, 3, 0, 0, 0).reshape(3, 3), S_TIES[:, :3])
    if reduce != "sum":
        check_grad(lambda T, x, i, s: T.index_reduce(x, 0, i, s, reduce, include_self=include_self), X_TIES,
                   I(0, 2, 0), S_TIES)
        check_grad(lambda T, x, i, s: T.index_reduce(x, 1, i, s, reduce, include_self=include_self), X_TIES,
                   I(3, 3, 1, 3), S_TIES)


def test_higher_order():
    """create_graph through mlx_op-defined ops and the hand-written amax backward."""
    for fn in (lambda T, x: T.roll(x, 1, 0) * x, lambda T, x: T.take(x, T.tensor([0, 0, 5])) ** 2,
               lambda T, x: T.scatter_reduce(x ** 2, 1, T.tensor([[0, 0], [1, 1], [2, 0]]), x[:, :2] ** 3, "amax"),
               lambda T, x: T.index_add(x, 0, T.tensor([1, 1]), x[:2] ** 2) ** 2,
               lambda T, x: T.scatter_reduce(x, 1, T.tensor([[0, 0], [1, 1], [2, 2]]), x[:, 1:3] * 2, "prod"),
               lambda T, x: T.index_reduce(x, 0, T.tensor([1, 1, 0]), x ** 2, "prod", include_self=False),
               lambda T, x: T.scatter_reduce(x, 0, T.tensor([[0, 1, 1, 0]]), x[:1] ** 2, "mean") ** 2):
        g = {}
        for lib in (torch, mc):
            x = mk(lib, X).requires_grad_(True)
            (gx,) = lib.autograd.grad(fn(lib, x).sum(), x, create_graph=True)
            (ggx,) = lib.autograd.grad((gx * mk(lib, R(3, 4, seed=9))).sum(), x)
            g[lib] = ggx
        assert_same(g[mc], g[torch], **GRAD)


# ---------------------------------------------------------------- dtypes and out=

DTYPE_OPS = [
    lambda T, x: T.fliplr(x), lambda T, x: T.roll(x, 2, 1), lambda T, x: T.rot90(x, 1), lambda T, x: T.tile(x, (2, 1)),
    lambda T, x: T.repeat_interleave(x, 2, 0), lambda T, x: T.take(x, T.tensor([0, 5, -1])),
    lambda T, x: T.masked_select(x, T.tensor([True, False, True])),
    lambda T, x: T.masked_scatter(x, T.tensor([True, False, True]), x.flip(0)),
    lambda T, x: T.index_fill(x, 1, T.tensor([0]), 1), lambda T, x: T.index_put(x, (T.tensor([1, 0]),), x[0]),
    lambda T, x: T.index_copy(x, 0, T.tensor([1, 0]), x), lambda T, x: T.combinations(x[0]),
    lambda T, x: T.block_diag(x, x[0]),
    lambda T, x: T.hstack([x, x]),
    lambda T, x: T.take_along_dim(x, T.tensor([[2], [0]]), 1),
    lambda T, x: T.index_add(x, 1, T.tensor([0, 0]), x[:, :2]),
    lambda T, x: T.scatter_reduce(x, 1, T.tensor([[0, 0], [2, 2]]), x[:, 1:], "sum"),
    lambda T, x: T.scatter_reduce(x, 1, T.tensor([[0, 0], [2, 2]]), x[:, 1:], "mean", include_self=False),
    lambda T, x: T.scatter_reduce(x, 1, T.tensor([[0, 0], [2, 2]]), x[:, 1:], "amax"),
    lambda T, x: T.scatter_reduce(x, 1, T.tensor([[0, 0], [2, 2]]), x[:, 1:], "prod", include_self=False),
    lambda T, x: T.index_reduce(x, 1, T.tensor([0, 0]), x[:, :2], "amin", include_self=False),
    lambda T, x: T.index_reduce(x, 0, T.tensor([1, 1]), x, "mean"),
    lambda T, x: T.rot90(x, 3), lambda T, x: T.roll(x, (1, -1), (0, 1)), lambda T, x: T.narrow_copy(x, 1, 1, 2),
]
DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16", "float32", "float64", "complex64"]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("fn", DTYPE_OPS, ids=[src_id(f) for f in DTYPE_OPS])
def test_dtypes(fn, dtype):
    base = (R(2, 3, seed=21) * 4).round()
    t = torch.from_numpy(base.copy()).to(getattr(torch, dtype))
    from helpers import to_mc

    m = to_mc(t)
    (rt, et), (rm, em) = run_both(lambda: fn(torch, t), lambda: fn(mc, m))
    if et is not None:
        assert em is not None and same_exc_type(em, et), f"ours {em!r}; torch raised {et!r}"
        return
    assert em is None, f"ours raised {em!r}; torch returned"
    _compare(rm, rt, False)


OUT_CASES = [
    (lambda T, a, b: T.hstack([a, b], out=T.empty(0)), X, R(3, 2)),
    (lambda T, a, b: T.vstack([a, b], out=T.empty(0)), X, R(4)),
    (lambda T, a, b: T.dstack([a, b], out=T.empty(0)), X, X),
    (lambda T, a, b: T.column_stack([a, b], out=T.empty(3, 5)), R(3), X),
    (lambda T, a, b: T.row_stack((a, b), out=T.empty(0)), V, V),
    (lambda T, x, i: T.take(x, i, out=T.empty(0)), X, I(1, 2)),
    (lambda T, x, i, s: T.index_reduce(x, 0, i, s, "mean", out=T.empty(3, 4)), X, I(0, 0), R(2, 4)),
    (lambda T, x, i, s: T.scatter_reduce(x, 1, i, s, "prod", out=T.empty(0)), X, I(0, 0).reshape(1, 2), R(1, 2)),
    (lambda T, x: T.masked_select(x, x > 0, out=T.empty(0, dtype=T.float64)), X),
    (lambda T, x, i: T.take(x, i, out=T.empty(0, dtype=T.float64)), X, I(1, 2)),
    (lambda T, x, i: T.take_along_dim(x, i, out=T.empty(0, dtype=T.float64)), X, I(1, 2)),
    (lambda T, x: T.narrow_copy(x, 0, 0, 1, out=T.empty(0, dtype=T.float64)), X),
    (lambda T, x, i, s: T.index_add(x, 0, i, s, out=T.empty(0, dtype=T.float64)), X, I(0, 0), R(2, 4)),
    (lambda T, a, b: T.hstack([a, b], out=T.empty(0, dtype=T.float64)), X, R(3, 2)),
]


@pytest.mark.parametrize("case", OUT_CASES, ids=[src_id(c[0]) for c in OUT_CASES])
def test_out(case):
    check(case[0], *case[1:])


def test_out_is_returned():
    o = mc.empty(0)
    assert mc.take(mc.arange(4.0), mc.tensor([1]), out=o) is o and o.tolist() == [1.0]


def test_take_along_dim_wraps_negative_indices_with_dim():
    x = np.arange(10.0, dtype=np.float32).reshape(2, 5)
    idx = np.array([[-1], [-5]])
    t = torch.take_along_dim(torch.from_numpy(x), torch.from_numpy(idx), 1)
    m = mc.take_along_dim(mc.from_numpy(x.copy()), mc.from_numpy(idx.copy()), 1)
    assert_same(m, t)


@pytest.mark.parametrize("dims", [0, -1, [], [0], (0, 0), 1], ids=str)
def test_flip_zero_dim(dims):
    # a 0-d tensor's only dim (0 or -1) flips nothing; a repeated or out-of-range dim raises as torch
    assert_same_outcome(lambda: torch.tensor(5.0).flip(dims), lambda: mc.tensor(5.0).flip(dims))
