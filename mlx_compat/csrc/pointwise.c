/* pointwise.c — the C fast path of torch.where(condition, input, other) with tensors and Python scalars
 * (Note [Fast paths fall back] in fastpath.c; the reference implementation and the derivative "where" are
 * declared in Python beside it). */
#include "core.h"

static const char *const WHERE_NAMES[] = {"condition", "input", "other", "out", NULL};

/* An operand of where: a Tensor on `device` or a Python bool/int/float. Fills the result-type state.
 * 1 when the fast path takes it, else 0. */
static int where_operand(State *st, PyObject *o, ResultTypeState *rs, int device)
{
    if (is_tensor(st, o)) {
        TensorObject *t = (TensorObject *)o;
        int nd = tensor_ndim(st, t);
        if (nd < 0) {
            PyErr_Clear();
            return 0;
        }
        if (t->device != device)
            return 0; /* the reference applies torch's device rule */
        result_type_update(st, rs, nd ? OP_TENSOR_DIM : OP_TENSOR_ZERO, t->dtype);
        return 1;
    }
    if (!PyFloat_CheckExact(o) && !PyLong_CheckExact(o) && !PyBool_Check(o))
        return 0;
    int dt = scalar_dtype(o);
    if (dt < 0) {
        PyErr_Clear();
        return 0;
    }
    result_type_update(st, rs, OP_SCALAR, dt);
    return 1;
}

/* NEW: the MLX operand for `o`: a tensor's value cast to `rt`, or the Python scalar itself. */
static PyObject *where_value(State *st, PyObject *o, int rt, int device)
{
    if (!is_tensor(st, o))
        return Py_NewRef(o);
    TensorObject *t = (TensorObject *)o;
    PyObject *v = tensor_value(st, t);
    if (v == NULL)
        return NULL;
    return t->dtype == rt ? Py_NewRef(v) : mx_astype(st, v, rt, device);
}

/* NEW: (shape, dtype) of a tensor operand that needs a gradient, else None: what the derivative needs to
 * reduce and cast the gradient back (the operand's value itself is not kept alive). */
static PyObject *grad_target(State *st, PyObject *o)
{
    if (!is_tensor(st, o) || !autograd_needed(st, &o, 1))
        return Py_NewRef(Py_None);
    TensorObject *t = (TensorObject *)o;
    PyObject *shape = tensor_size_obj(st, t);
    if (shape == NULL)
        return NULL;
    PyObject *r = Py_BuildValue("(NO)", shape, dtype_of_code(st, t->dtype));
    return r;
}

/* NEW: the result of where, or NULL with an exception (a fall back when *fallback is set). The fast path
 * takes a bool condition tensor and tensor or bool/int/float operands, all tensors on one device, with
 * torch's result type. */
static PyObject *where_impl(State *st, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames, int *fallback)
{
    PyObject *a[4], *x = NULL, *y = NULL, *arr = NULL, *res = NULL, *extra = NULL, *tx = NULL, *ty = NULL;
    ResultTypeState rs;
    *fallback = 1;
    if (!fast_bind(args, nargs, kwnames, WHERE_NAMES, 3, a) || a[0] == NULL || a[1] == NULL || a[2] == NULL ||
        (a[3] != NULL && a[3] != Py_None) || !is_tensor(st, a[0]))
        return NULL;
    TensorObject *cond = (TensorObject *)a[0];
    int device = cond->device;
    if (cond->dtype != DT_BOOL)
        return NULL;
    int rt;
    if (Py_TYPE(a[1]) == Py_TYPE(a[2]) && is_tensor(st, a[1]) && ((TensorObject *)a[1])->dtype == ((TensorObject *)a[2])->dtype) {
        /* two tensors of one dtype: the result type is theirs, whatever their ranks */
        if (((TensorObject *)a[1])->device != device || ((TensorObject *)a[2])->device != device)
            return NULL; /* the reference applies torch's device rule */
        rt = ((TensorObject *)a[1])->dtype;
    } else {
        result_type_init(&rs);
        if (!where_operand(st, a[1], &rs, device) || !where_operand(st, a[2], &rs, device))
            return NULL;
        rt = result_type_finish(&rs);
        if (rt < 0 || rt >= DT_COUNT)
            return NULL;
    }
    for (int i = 1; i < 3; i++) /* a number torch's conversion refuses, or wraps into an unsigned type: the reference */
        if (!is_tensor(st, a[i]) && (scalar_overflows(a[i], rt) ||
                                     (rt >= DT_U8 && rt <= DT_U64 && PyLong_Check(a[i]) && _PyLong_Sign(a[i]) < 0)))
            return NULL;
    PyObject *cv = tensor_value(st, cond);
    if (cv == NULL || (x = where_value(st, a[1], rt, device)) == NULL || (y = where_value(st, a[2], rt, device)) == NULL)
        goto error;
    PyObject *call[3] = {cv, x, y};
    /* Note [Result size check] (tensor.c): broadcasting bounds the result by its operands (a scalar counts 1); the
     * largest operand's count is at most the result's (or the result is empty) */
    int64_t bound = tensor_numel_bound(cond), largest = bound;
    for (int i = 1; i < 3; i++) {
        int64_t n = is_tensor(st, a[i]) ? tensor_numel_bound((TensorObject *)a[i]) : 1;
        bound = numel_bound_broadcast(bound, n);
        largest = n > largest ? n : largest;
    }
    if (device == DEV_CPU && (rt == DT_F32 || rt == DT_I32) && largest >= st->cpu_math_min &&
        st->fast->cpu_where != NULL) { /* Note [Selects in CPU kernels] (_ops/cpu_math.py): by the bits */
        arr = mx_call(st, st->fast->cpu_where, call, 3, device);
        if (arr == Py_None) /* not operands it selects: MLX's */
            Py_CLEAR(arr);
        else if (arr == NULL)
            PyErr_Clear(); /* MLX's select raises what the reference turns into torch's error */
    }
    if (arr == NULL)
        arr = mx_call(st, st->f_where, call, 3, device);
    if (arr == NULL)
        goto error; /* e.g. shapes that do not broadcast: the reference raises torch's error */
    *fallback = 0;
    if (!is_tensor(st, a[1]) || !is_tensor(st, a[2])) /* a Python scalar may have weakly changed the type */
        Py_SETREF(arr, mx_astype(st, arr, rt, device));
    res = tensor_wrap_result_steal(st, arr, rt, device, bound);
    PyObject *ins[2] = {a[1], a[2]};
    if (res != NULL && autograd_needed(st, ins, 2)) {
        if ((tx = grad_target(st, a[1])) == NULL || (ty = grad_target(st, a[2])) == NULL ||
            (extra = PyTuple_Pack(2, tx, ty)) == NULL || fast_record(st, "where", ins, 2, a, 1, extra, &res, 1) < 0)
            Py_CLEAR(res);
    }
error: /* also the way out when done: res is the result or NULL */
    Py_XDECREF(x);
    Py_XDECREF(y);
    Py_XDECREF(tx);
    Py_XDECREF(ty);
    Py_XDECREF(extra);
    return res;
}

/* where(condition, input, other, *, out=None) — NEW reference. */
FAST_SIG(fast_where)
{
    State *st = state_of_module(m);
    int fallback;
    PyObject *r = where_impl(st, args, nargs, kwnames, &fallback);
    if (r == NULL && fallback)
        return fast_fallback(st, "where", args, (size_t)nargs, kwnames);
    return r;
}
