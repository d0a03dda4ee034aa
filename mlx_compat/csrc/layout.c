/* layout.c — the channels-last memory-order hint of tensors (Note [Channels-last hint]) and their N...C source
 * arrays (Note [Channels-last source]): the binary and unary operators that compute in N...C space, the hint and
 * source their results carry, and the setter and readers the Python layer (nn/_layout.py) uses. */
#include "core.h"

/* Note [Channels-last hint]
 * A convolution returns the NC... view of an N...C array (Note [channels-last activations] in nn/_layout.py):
 * torch's layout as users see it, MLX's channels-last memory underneath. MLX 0.32 runs a binary op of two such
 * arrays (a ResNet residual add, `out += identity`) with its general strided loop and writes NC... memory (at
 * 2x64x56x56 on the CPU: 2.3 ms against 0.2 ms for the same add of NHWC arrays), and the next convolution then
 * copies that memory back to N...C. MLX never tells us an array's memory order (lazy arrays have none yet), so
 * the functions that make channels-last arrays say so: `mem_last` on a base tensor (set through
 * `_C._set_channels_last`, by nn/_layout.py's mark_tensor) means "its value is probably an NC... view of N...C
 * memory". When both operands of a binary operator carry it and have one shape (3 to LAYOUT_MAX_DIMS dims),
 * the operator transposes both to N...C (row-contiguous views again), applies the MLX op there and returns the
 * NC... view of the result, hinted in turn (layout_call2, layout_result_hint); a Python scalar or 0-dim operand
 * leaves the tensor operand's hint to the result (MLX keeps an array's layout against a scalar), and an
 * elementwise unary op copies its input's hint (dispatch.c's unary path), as a saved value's snapshot (autograd.c)
 * and a cast (`Tensor.to`) do: the same memory order (Note [Channels-last gradients] in nn/_layout.py). An
 * in-place write through the binary operators sets the target's hint to what its new value holds; other writes
 * leave the byte alone.
 * The hint is about memory order, never about values: transpose-op-transpose is the same op elementwise
 * whatever the memory holds, so a stale or missing hint costs time (one strided read), not correctness.
 * Views never carry it (the setter ignores them): their values are re-derived from their base and their
 * memory order is not the base's. */

/* Note [Channels-last source]
 * The hint says what memory holds; under mx.compile (and on a GPU) what counts is the graph. A convolution's
 * result is `transpose(y, from_last)` of its N...C array y, and the next channels-last consumer transposed it
 * back: two Transpose nodes per layer boundary, and MLX's compile cannot fuse an elementwise op across a
 * transpose, so a batch norm, its relu and a residual add ran as separate kernels around them (a compiled
 * ResNet-18 inference graph: 191 primitives, 102 of them transposes, against native MLX's 47). So a base tensor
 * may also carry its source: `last_src`, the N...C array y, valid while the tensor's `data` is still `last_of`,
 * the very array `transpose(y, from_last)` the source was recorded for (both held, so an identity comparison
 * cannot be fooled by a reused address; layout_source). Consumers that want N...C take y instead of transposing
 * the view back: the binary operators (layout_call2: two sourced or hinted operands of one shape, or a sourced
 * one against a Python scalar or 0-dim tensor), the elementwise unary ops (dispatch.c's unary path) and the
 * nn functions (convolution, batch norm, pooling: nn/_layout.py's `source`). Their results are again
 * `transpose(r, from_last)` with r as source (layout_from_last), so between two convolutions a network stays
 * N...C end to end and the NC... views are graph nodes nobody reads: mx.compile's graph holds only what the
 * outputs reach, and an eager evaluation computes only that too. Any write to the tensor replaces `data`
 * (tensor_write also drops the pair: it would keep the old value alive); the operators that wrote it set
 * the new pair (an in-place relu_ or `out += identity`, _commit of a sourced value). Like the hint it is about
 * how to compute, never what: transpose(op(y)) is op(transpose(y)) elementwise, the very values. Sources are
 * set where no gradient is recorded (nn/_layout.py), but an operator given one computes from it either way;
 * autograd records the same op on the same tensors. */

#define LAYOUT_MAX_DIMS 8

/* 1 when `a op b` runs in N...C space: two hinted bases of one device and one shape of 3 to
 * LAYOUT_MAX_DIMS dims; else 0. Never leaves an exception set. */
static int layout_pair(State *st, TensorObject *a, TensorObject *b)
{
    if (a == NULL || b == NULL || !a->mem_last || !b->mem_last || a->base != NULL || b->base != NULL ||
        a->device != b->device)
        return 0;
    if (tensor_ensure_sizes(st, a) < 0 || tensor_ensure_sizes(st, b) < 0) {
        PyErr_Clear(); /* the operator's own path reports it */
        return 0;
    }
    if (a->ndim != b->ndim || a->ndim < 3 || a->ndim > LAYOUT_MAX_DIMS)
        return 0;
    for (int i = 0; i < a->ndim; i++)
        if (a->sizes[i] != b->sizes[i])
            return 0;
    return 1;
}

/* NEW: the permutation (N, C, *S) -> (N, *S, C) of n dims (to_last) or its inverse, as a tuple. */
static PyObject *layout_perm(int n, int to_last)
{
    PyObject *p = PyTuple_New(n);
    if (p == NULL)
        return NULL;
    for (int i = 0; i < n; i++) {
        /* to_last: 0, 2, ..., n-1, 1; from_last: 0, n-1, 1, ..., n-2 */
        long v = i == 0 ? 0 : to_last ? (i == n - 1 ? 1 : i + 1) : (i == 1 ? n - 1 : i - 1);
        PyObject *o = PyLong_FromLong(v);
        if (o == NULL) {
            Py_DECREF(p);
            return NULL;
        }
        PyTuple_SET_ITEM(p, i, o);
    }
    return p;
}

/* NEW: the NC... view `transpose(r, from_last)` of the N...C array r (STOLEN) of ndim dims; *last (when not
 * NULL) gets r (NEW) as the result's source (Note [Channels-last source]). NULL on error (r released). */
PyObject *layout_from_last(State *st, PyObject *r, int ndim, int device, PyObject **last)
{
    PyObject *pout = layout_perm(ndim, 0), *res = NULL;
    if (pout != NULL) {
        res = mx_call2(st, st->f_transpose, r, pout, device);
        Py_DECREF(pout);
    }
    if (res != NULL && last != NULL)
        *last = Py_NewRef(r);
    Py_DECREF(r);
    return res;
}

/* BORROWED: operand t's source when it can stand for its value in a computation in dtype `compute`, else NULL. */
static PyObject *operand_source(TensorObject *t, int compute)
{
    return t != NULL && t->dtype == compute ? layout_source(t) : NULL;
}

/* NEW: the operand's value in N...C space: its source, else the transpose of v (BORROWED) by pin. */
static PyObject *operand_last(State *st, TensorObject *t, PyObject *v, PyObject *pin, int compute, int device)
{
    PyObject *src = operand_source(t, compute);
    return src != NULL ? Py_NewRef(src) : mx_call2(st, st->f_transpose, v, pin, device);
}

/* NEW: f(va, vb), computed in N...C space when layout_pair holds (Note [Channels-last hint]) or when one operand
 * has a source and the other is a Python scalar or 0-dim (Note [Channels-last source]), else as it is. va, vb
 * BORROWED: the operands' MLX values in dtype `compute` (or Python scalars); a, b: the operands' tensors, NULL
 * for a Python scalar. last: NULL, or where the N...C result goes (NEW) when the result is its NC... view, else
 * NULL. */
PyObject *layout_call2(State *st, PyObject *f, PyObject *va, PyObject *vb, TensorObject *a, TensorObject *b,
                       int device, int compute, PyObject **last)
{
    if (last != NULL)
        *last = NULL;
    int nd;
    PyObject *pin = NULL, *ta = NULL, *tb = NULL, *r = NULL;
    if (layout_pair(st, a, b)) {
        nd = a->ndim;
        if ((operand_source(a, compute) == NULL || operand_source(b, compute) == NULL) &&
            (pin = layout_perm(nd, 1)) == NULL)
            return NULL;
        if ((ta = operand_last(st, a, va, pin, compute, device)) == NULL ||
            (tb = operand_last(st, b, vb, pin, compute, device)) == NULL)
            goto error;
    } else if ((b == NULL || b->ndim == 0) && operand_source(a, compute) != NULL) {
        nd = a->ndim;
        ta = Py_NewRef(a->last_src);
        tb = Py_NewRef(vb);
    } else if ((a == NULL || a->ndim == 0) && operand_source(b, compute) != NULL) {
        nd = b->ndim;
        ta = Py_NewRef(va);
        tb = Py_NewRef(b->last_src);
    } else
        return mx_call2(st, f, va, vb, device);
    r = mx_call2(st, f, ta, tb, device);
error:
    Py_XDECREF(pin);
    Py_XDECREF(ta);
    Py_XDECREF(tb);
    return r == NULL ? NULL : layout_from_last(st, r, nd, device, last);
}

/* Sets base t's source to `last` (STOLEN; NULL: none) when t's `data` is `of` (BORROWED, held by the caller:
 * the NC... view of last), with the hint (Note [Channels-last source]); else it only releases `last`. */
void layout_set_source(TensorObject *t, PyObject *last, PyObject *of)
{
    if (last == NULL || t->base != NULL || t->data != of || of == NULL) {
        Py_XDECREF(last);
        return;
    }
    Py_XSETREF(t->last_src, last);
    Py_XSETREF(t->last_of, Py_NewRef(t->data));
    t->mem_last = 1;
}

/* After `s`'s value was written into base t as it is (_commit): t takes s's source when its data is now s's. */
void layout_copy_source(TensorObject *t, TensorObject *s)
{
    PyObject *src = layout_source(s);
    if (src != NULL && t->base == NULL && t->data == s->data && t->ndim == s->ndim)
        layout_set_source(t, Py_NewRef(src), s->data);
}

/* The hint of `a op b`'s result (Note [Channels-last hint]); a or b NULL for a Python scalar. Never raises. */
char layout_result_hint(State *st, TensorObject *a, TensorObject *b)
{
    if (layout_pair(st, a, b))
        return 1;
    int za = a == NULL || a->ndim == 0, zb = b == NULL || b->ndim == 0;
    if (a != NULL && zb)
        return a->mem_last;
    if (b != NULL && za)
        return b->mem_last;
    return 0;
}

/* _C._set_channels_last(tensor, flag=True, source=None): sets or clears the hint of a base tensor (views are
 * left alone, Note [Channels-last hint]); `source`, an mx.array: the N...C array whose NC... transpose the
 * tensor's value is (Note [Channels-last source]; the caller vouches for it). Clearing drops the source.
 * NEW reference to the tensor. */
FAST_SIG(fast_set_channels_last)
{
    State *st = state_of_module(m);
    if (kwnames != NULL || nargs < 1 || nargs > 3 || !is_tensor(st, args[0])) {
        PyErr_SetString(PyExc_TypeError, "_set_channels_last(tensor, flag=True, source=None)");
        return NULL;
    }
    int flag = 1;
    if (nargs >= 2 && (flag = PyObject_IsTrue(args[1])) < 0)
        return NULL;
    TensorObject *t = (TensorObject *)args[0];
    if (t->base != NULL)
        return Py_NewRef((PyObject *)t);
    t->mem_last = (char)flag;
    if (!flag)
        layout_forget(t);
    else if (nargs == 3 && args[2] != Py_None) {
        if (tensor_ensure_sizes(st, t) < 0)
            return NULL;
        layout_set_source(t, Py_NewRef(args[2]), t->data);
    }
    return Py_NewRef((PyObject *)t);
}

/* _C._channels_last_source(tensor): the tensor's N...C source array (Note [Channels-last source]) or None. NEW. */
FAST_SIG(fast_channels_last_source)
{
    State *st = state_of_module(m);
    if (kwnames != NULL || nargs != 1 || !is_tensor(st, args[0])) {
        PyErr_SetString(PyExc_TypeError, "_channels_last_source(tensor)");
        return NULL;
    }
    PyObject *src = layout_source((TensorObject *)args[0]);
    return Py_NewRef(src != NULL ? src : Py_None);
}

/* _C._is_channels_last(tensor): whether the tensor carries the hint. NEW reference to a bool. */
FAST_SIG(fast_is_channels_last)
{
    State *st = state_of_module(m);
    if (kwnames != NULL || nargs != 1 || !is_tensor(st, args[0])) {
        PyErr_SetString(PyExc_TypeError, "_is_channels_last(tensor)");
        return NULL;
    }
    return PyBool_FromLong(((TensorObject *)args[0])->mem_last);
}
