/* layout.c — the channels-last memory-order hint of tensors (Note [Channels-last hint]): the binary operators
 * that compute in N...C space when both operands carry it, the hint their results carry, and the setter and
 * reader the Python layer (nn/_layout.py) uses. */
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
 * elementwise unary op copies its input's hint (dispatch.c's unary path). An in-place write through the
 * binary operators sets the target's hint to what its new value holds; other writes leave the byte alone.
 * The hint is about memory order, never about values: transpose-op-transpose is the same op elementwise
 * whatever the memory holds, so a stale or missing hint costs time (one strided read), not correctness.
 * Views never carry it (the setter ignores them): their values are re-derived from their base and their
 * memory order is not the base's. */

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

/* NEW: f(va, vb), computed in N...C space when layout_pair holds (Note [Channels-last hint]), else as it is.
 * va, vb BORROWED: the operands' MLX values (or Python scalars); a, b: the operands' tensors, NULL for a Python
 * scalar. */
PyObject *layout_call2(State *st, PyObject *f, PyObject *va, PyObject *vb, TensorObject *a, TensorObject *b,
                       int device)
{
    if (!layout_pair(st, a, b))
        return mx_call2(st, f, va, vb, device);
    PyObject *pin = NULL, *pout = NULL, *ta = NULL, *tb = NULL, *r = NULL, *res = NULL;
    if ((pin = layout_perm(a->ndim, 1)) == NULL || (pout = layout_perm(a->ndim, 0)) == NULL ||
        (ta = mx_call2(st, st->f_transpose, va, pin, device)) == NULL ||
        (tb = mx_call2(st, st->f_transpose, vb, pin, device)) == NULL || (r = mx_call2(st, f, ta, tb, device)) == NULL)
        goto error;
    res = mx_call2(st, st->f_transpose, r, pout, device);
error: /* also the way out when done: res is the result or NULL */
    Py_XDECREF(pin);
    Py_XDECREF(pout);
    Py_XDECREF(ta);
    Py_XDECREF(tb);
    Py_XDECREF(r);
    return res;
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

/* _C._set_channels_last(tensor, flag=True): sets or clears the hint of a base tensor (views are left
 * alone, Note [Channels-last hint]). NEW reference to None. */
FAST_SIG(fast_set_channels_last)
{
    State *st = state_of_module(m);
    if (kwnames != NULL || nargs < 1 || nargs > 2 || !is_tensor(st, args[0])) {
        PyErr_SetString(PyExc_TypeError, "_set_channels_last(tensor, flag=True)");
        return NULL;
    }
    int flag = 1;
    if (nargs == 2 && (flag = PyObject_IsTrue(args[1])) < 0)
        return NULL;
    TensorObject *t = (TensorObject *)args[0];
    if (t->base == NULL)
        t->mem_last = (char)flag;
    Py_RETURN_NONE;
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
