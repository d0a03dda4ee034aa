/* reduce.c — C fast paths of reductions along dims: max/min(dim) -> (values, indices), amax/amin,
 * argmax/argmin, and softmax/log_softmax (function and method forms). Note [Fast paths fall back] in
 * fastpath.c; the reference implementations and the derivatives ("max_dim", "min_dim", "amax", "amin",
 * "softmax", "log_softmax") are declared in Python beside them. */
#include "core.h"

/* The input of a fast reduction: a Tensor with at least one dim and known sizes, not complex, `dim`
 * wrapped into range (and with elements when `nonempty`). 1 when the fast path takes it, else 0. */
static int reduce_input(State *st, PyObject *o, Py_ssize_t *dim, int nonempty)
{
    if (o == NULL || !is_tensor(st, o))
        return 0;
    TensorObject *t = (TensorObject *)o;
    int nd = tensor_ndim(st, t);
    if (nd <= 0 || tensor_ensure_sizes(st, t) < 0 || dt_is_complex(t->dtype)) {
        PyErr_Clear();
        return 0;
    }
    if (*dim < -nd || *dim >= nd)
        return 0;
    if (*dim < 0)
        *dim += nd;
    return !nonempty || tensor_numel(t) != 0; /* MLX refuses arg-reductions of empty arrays */
}

/* ---------------------------------------------------------------- softmax, log_softmax */

static const char *const SOFTMAX_NAMES[] = {"input", "dim", "_stacklevel", "dtype", NULL};
static const char *const SOFTMAX_METHOD_NAMES[] = {"self", "dim", "dtype", NULL};

/* NEW: softmax (log = 0) or log_softmax (log = 1) of `o` along `dim`, computed in dtype code `to` (DT_NONE: o's
 * own), or NULL with an exception (a fall back when *fallback is set). The fast path takes float32 (and, for
 * softmax, float16/bfloat16, accumulated in float32 by precise=) with at least one element; float64 keeps the
 * reference's exact-rounding path (Note [direct activations]). A cast to `to` is taken only when no gradient is
 * recorded: with one, torch's graph has the cast's own node (ToCopyBackward0), which the reference records. */
static PyObject *softmax_impl(State *st, PyObject *o, PyObject *dim_arg, int to, int log, int *fallback)
{
    Py_ssize_t dim;
    PyObject *axis = NULL, *arr = NULL, *lse = NULL, *res = NULL, *v = NULL;
    *fallback = 1;
    if (!fast_dim(dim_arg, &dim) || !reduce_input(st, o, &dim, 0))
        return NULL;
    TensorObject *t = (TensorObject *)o;
    int dt = to == DT_NONE ? t->dtype : to;
    int64_t numel = tensor_numel(t); /* sizes known (reduce_input): also the result's exact size */
    if (!(dt == DT_F32 || (!log && (dt == DT_F16 || dt == DT_BF16))) || numel == 0 ||
        (dt != t->dtype && autograd_needed(st, &o, 1)))
        return NULL; /* half-precision log_softmax: the reference's float32 computation */
    if ((v = tensor_value(st, t)) == NULL || (axis = PyLong_FromSsize_t(dim)) == NULL)
        goto error;
    v = dt == t->dtype ? Py_NewRef(v) : mx_astype(st, v, dt, t->device);
    if (v == NULL)
        goto error;
    FastState *f = st->fast;
    if (dt == DT_F32 && t->device == DEV_CPU && numel >= st->cpu_math_min) { /* Note [Shapeless CPU transcendentals] */
        arr = mx_call2(st, log ? f->cpu_log_softmax : f->cpu_softmax, v, axis, t->device);
    } else if (!log && dt == DT_F32) { /* precise= only changes half-precision inputs (float32 accumulation) */
        arr = mx_call2(st, f->f_softmax, v, axis, t->device);
    } else if (!log) {
        PyObject *call[4] = {v, axis, Py_True};
        arr = fast_mx_call_kw(st, f->f_softmax, call, 2, f->kw_precise, f->kw_precise_stream, t->device);
    } else {
        PyObject *call[4] = {v, axis, Py_True};
        lse = fast_mx_call_kw(st, f->f_logsumexp, call, 2, f->kw_keepdims, f->kw_keepdims_stream, t->device);
        arr = lse == NULL ? NULL : mx_call2(st, st->f_subtract, v, lse, t->device);
    }
    if (arr == NULL)
        goto error;
    *fallback = 0;
    res = tensor_wrap_result_steal(st, arr, dt, t->device, numel); /* Note [Result size check] */
    if (res == NULL)
        goto error;
    ((TensorObject *)res)->ndim = t->ndim;
    if (fast_record(st, log ? "log_softmax" : "softmax", &o, 1, &res, 1, axis, &res, 1) < 0)
        Py_CLEAR(res);
error: /* also the way out when done: res is the result or NULL */
    Py_XDECREF(v);
    Py_XDECREF(axis);
    Py_XDECREF(lse);
    return res;
}

/* The dtype= argument of softmax: 1 with *to set (DT_NONE for absent/None), 0 when the fast path does not take it. */
static int softmax_dtype(State *st, PyObject *o, int *to)
{
    *to = DT_NONE;
    if (o == NULL || o == Py_None)
        return 1;
    if (!is_dtype_object(st, o))
        return 0;
    *to = dtype_code_of(st, o);
    return *to >= 0;
}

/* NEW: softmax/log_softmax(input, dim, _stacklevel=3, dtype=None): torch.softmax(input, dim, dtype) and F.softmax
 * share it (a dtype in the third place is dtype, as the reference reads it). */
static PyObject *softmax_fn(PyObject *m, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames, int log)
{
    State *st = state_of_module(m);
    PyObject *a[4], *r = NULL;
    int fallback = 1, to;
    if (fast_bind(args, nargs, kwnames, SOFTMAX_NAMES, 4, a) && (a[2] == NULL || PyLong_CheckExact(a[2]) ||
                                                                 (a[3] == NULL && is_dtype_object(st, a[2]))) &&
        softmax_dtype(st, a[2] != NULL && !PyLong_CheckExact(a[2]) ? a[2] : a[3], &to))
        r = softmax_impl(st, a[0], a[1], to, log, &fallback);
    if (r == NULL && fallback)
        return fast_fallback(st, log ? "log_softmax" : "softmax", args, (size_t)nargs, kwnames);
    return r;
}

/* NEW: Tensor.softmax/log_softmax(dim, dtype=None), self first. */
static PyObject *softmax_method(PyObject *m, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames, int log)
{
    State *st = state_of_module(m);
    PyObject *a[3], *r = NULL;
    int fallback = 1, to;
    if (fast_bind(args, nargs, kwnames, SOFTMAX_METHOD_NAMES, 3, a) && softmax_dtype(st, a[2], &to))
        r = softmax_impl(st, a[0], a[1], to, log, &fallback);
    if (r == NULL && fallback)
        return fast_fallback(st, log ? "Tensor.log_softmax" : "Tensor.softmax", args, (size_t)nargs, kwnames);
    return r;
}

FAST_SIG(fast_softmax) { return softmax_fn(m, args, nargs, kwnames, 0); }
FAST_SIG(fast_log_softmax) { return softmax_fn(m, args, nargs, kwnames, 1); }
FAST_SIG(fast_softmax_method) { return softmax_method(m, args, nargs, kwnames, 0); }
FAST_SIG(fast_log_softmax_method) { return softmax_method(m, args, nargs, kwnames, 1); }

/* ---------------------------------------------------------------- max/min(dim), argmax/argmin */

static const char *const DIM_REDUCE_NAMES[] = {"input", "dim", "keepdim", "out", NULL};

/* NEW: mx.<f>(v, axis, keepdims) on `device`. */
static PyObject *mx_reduce(State *st, PyObject *f, PyObject *v, PyObject *axis, int keepdim, int device)
{
    PyObject *call[3] = {v, axis, keepdim ? Py_True : Py_False};
    return mx_call(st, f, call, 3, device);
}

/* NEW: (values, indices) of max (largest = 1) or min along an int dim, or NULL with an exception (a fall
 * back when *fallback is set). */
static PyObject *extreme_impl(State *st, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames, int largest,
                              int *fallback)
{
    PyObject *a[4], *axis = NULL, *vals = NULL, *idx = NULL, *values = NULL, *indices = NULL, *res = NULL;
    PyObject *extra = NULL;
    Py_ssize_t dim;
    int keepdim;
    FastState *f = st->fast;
    *fallback = 1;
    if (!fast_bind(args, nargs, kwnames, DIM_REDUCE_NAMES, 3, a) || (a[3] != NULL && a[3] != Py_None) ||
        !fast_dim(a[1], &dim) || !fast_bool(a[2], &keepdim) || !reduce_input(st, a[0], &dim, 1) ||
        (largest ? f->rt_max : f->rt_min) == NULL)
        return NULL;
    TensorObject *t = (TensorObject *)a[0];
    PyObject *v = tensor_value(st, t);
    if (v == NULL || (axis = PyLong_FromSsize_t(dim)) == NULL)
        goto error;
    vals = mx_reduce(st, largest ? f->f_max : f->f_min, v, axis, keepdim, t->device);
    idx = vals == NULL ? NULL : mx_reduce(st, largest ? f->f_argmax : f->f_argmin, v, axis, keepdim, t->device);
    if (idx == NULL)
        goto error;
    *fallback = 0;
    values = tensor_wrap_result_steal(st, vals, t->dtype, t->device, tensor_reduce_bound(t)); /* Note [Result size check] */
    vals = NULL;
    /* MLX's uint32 indices become torch's int64 on their first read (Note [Deferred cast] in tensor.c) */
    indices = tensor_wrap_result_steal(st, idx, DT_I64, t->device, tensor_reduce_bound(t));
    idx = NULL;
    if (values == NULL || indices == NULL)
        goto error;
    ((TensorObject *)indices)->cast_on_read = 1;
    ((TensorObject *)values)->ndim = ((TensorObject *)indices)->ndim = keepdim ? t->ndim : t->ndim - 1;
    if (autograd_needed(st, a, 1)) {
        PyObject *shape = tensor_size_obj(st, t);
        if (shape == NULL || (extra = Py_BuildValue("(nON)", dim, keepdim ? Py_True : Py_False, shape)) == NULL ||
            fast_record(st, largest ? "max_dim" : "min_dim", a, 1, &indices, 1, extra, &values, 1) < 0)
            goto error;
    }
    res = fast_pair(largest ? f->rt_max : f->rt_min, values, indices);
    values = indices = NULL;
error: /* also the way out when done: res is the result or NULL */
    Py_XDECREF(axis);
    Py_XDECREF(vals);
    Py_XDECREF(idx);
    Py_XDECREF(values);
    Py_XDECREF(indices);
    Py_XDECREF(extra);
    return res;
}

/* NEW: max/min(input, dim, keepdim=False, *, out=None); Tensor.max/min share it. */
static PyObject *extreme(PyObject *m, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames, int largest)
{
    State *st = state_of_module(m);
    int fallback;
    PyObject *r = extreme_impl(st, args, nargs, kwnames, largest, &fallback);
    if (r == NULL && fallback)
        return fast_fallback(st, largest ? "max" : "min", args, (size_t)nargs, kwnames);
    return r;
}

FAST_SIG(fast_max) { return extreme(m, args, nargs, kwnames, 1); }
FAST_SIG(fast_min) { return extreme(m, args, nargs, kwnames, 0); }

/* NEW: argmax/argmin(input, dim=None, keepdim=False): the fast path takes an int dim. */
static PyObject *arg_extreme(PyObject *m, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames, int largest)
{
    State *st = state_of_module(m);
    PyObject *a[4], *axis = NULL, *idx = NULL, *res = NULL;
    Py_ssize_t dim;
    int keepdim;
    if (!fast_bind(args, nargs, kwnames, DIM_REDUCE_NAMES, 3, a) || a[3] != NULL || !fast_dim(a[1], &dim) ||
        !fast_bool(a[2], &keepdim) || !reduce_input(st, a[0], &dim, 1))
        goto fallback;
    TensorObject *t = (TensorObject *)a[0];
    if (t->dtype == DT_BOOL) /* torch refuses bool input: the reference raises */
        goto fallback;
    PyObject *v = tensor_value(st, t);
    if (v == NULL || (axis = PyLong_FromSsize_t(dim)) == NULL)
        goto fallback;
    idx = mx_reduce(st, largest ? st->fast->f_argmax : st->fast->f_argmin, v, axis, keepdim, t->device);
    Py_DECREF(axis);
    if (idx == NULL)
        goto fallback;
    res = tensor_wrap_result_steal(st, mx_astype(st, idx, DT_I64, t->device), DT_I64, t->device,
                                   tensor_reduce_bound(t)); /* Note [Result size check] */
    Py_DECREF(idx);
    if (res != NULL)
        ((TensorObject *)res)->ndim = keepdim ? t->ndim : t->ndim - 1;
    return res;
fallback: /* Note [Fast paths fall back] */
    return fast_fallback(st, largest ? "argmax" : "argmin", args, (size_t)nargs, kwnames);
}

FAST_SIG(fast_argmax) { return arg_extreme(m, args, nargs, kwnames, 1); }
FAST_SIG(fast_argmin) { return arg_extreme(m, args, nargs, kwnames, 0); }

/* ---------------------------------------------------------------- amax/amin */

#define MAXDIMS 64

/* The dims of amax/amin: an int or a non-empty tuple/list of distinct ints, wrapped into range, as a NEW
 * tuple in *axes. 1 when the fast path takes them, else 0 (never raises). */
static int amax_dims(State *st, PyObject *o, int nd, PyObject **axes)
{
    Py_ssize_t ds[MAXDIMS];
    Py_ssize_t k = 0;
    if (o == NULL)
        return 0; /* the full reduction: the reference */
    if (PyLong_CheckExact(o)) {
        if (!fast_dim(o, &ds[0]))
            return 0;
        k = 1;
    } else if (PyTuple_CheckExact(o) || PyList_CheckExact(o)) {
        k = PySequence_Fast_GET_SIZE(o);
        if (k == 0 || k > MAXDIMS)
            return 0;
        for (Py_ssize_t i = 0; i < k; i++)
            if (!fast_dim(PySequence_Fast_ITEMS(o)[i], &ds[i]))
                return 0;
    } else {
        return 0;
    }
    for (Py_ssize_t i = 0; i < k; i++) {
        if (ds[i] < -nd || ds[i] >= nd)
            return 0;
        if (ds[i] < 0)
            ds[i] += nd;
        for (Py_ssize_t j = 0; j < i; j++)
            if (ds[j] == ds[i])
                return 0;
    }
    *axes = ssize_tuple(ds, (int)k);
    if (*axes == NULL) {
        PyErr_Clear();
        return 0;
    }
    return 1;
}

/* NEW: amax (largest = 1) or amin, or NULL with an exception (a fall back when *fallback is set). The fast
 * path takes a non-empty real tensor with at least one dim and explicit dims. */
static PyObject *amax_impl(State *st, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames, int largest,
                           int *fallback)
{
    PyObject *a[4], *axes = NULL, *arr = NULL, *res = NULL, *extra = NULL;
    int keepdim;
    *fallback = 1;
    if (!fast_bind(args, nargs, kwnames, DIM_REDUCE_NAMES, 3, a) || (a[3] != NULL && a[3] != Py_None) ||
        a[0] == NULL || !is_tensor(st, a[0]) || !fast_bool(a[2], &keepdim))
        return NULL;
    TensorObject *t = (TensorObject *)a[0];
    int nd = tensor_ndim(st, t);
    if (nd <= 0 || tensor_ensure_sizes(st, t) < 0 || dt_is_complex(t->dtype) || tensor_numel(t) == 0) {
        PyErr_Clear();
        return NULL;
    }
    if (!amax_dims(st, a[1], nd, &axes))
        return NULL;
    PyObject *v = tensor_value(st, t);
    if (v == NULL)
        goto error;
    arr = mx_reduce(st, largest ? st->fast->f_max : st->fast->f_min, v, axes, keepdim, t->device);
    if (arr == NULL)
        goto error;
    *fallback = 0;
    res = tensor_wrap_result_steal(st, arr, t->dtype, t->device, tensor_reduce_bound(t)); /* Note [Result size check] */
    if (res == NULL)
        goto error;
    ((TensorObject *)res)->ndim = keepdim ? nd : nd - (int)PyTuple_GET_SIZE(axes);
    if (autograd_needed(st, a, 1)) {
        PyObject *saved[2] = {a[0], res};
        if ((extra = Py_BuildValue("(OO)", axes, keepdim ? Py_True : Py_False)) == NULL ||
            fast_record(st, largest ? "amax" : "amin", a, 1, saved, 2, extra, &res, 1) < 0)
            Py_CLEAR(res);
    }
error: /* also the way out when done: res is the result or NULL */
    Py_XDECREF(axes);
    Py_XDECREF(extra);
    return res;
}

/* NEW: amax/amin(input, dim=(), keepdim=False, *, out=None) */
static PyObject *amax_amin(PyObject *m, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames, int largest)
{
    State *st = state_of_module(m);
    int fallback;
    PyObject *r = amax_impl(st, args, nargs, kwnames, largest, &fallback);
    if (r == NULL && fallback)
        return fast_fallback(st, largest ? "amax" : "amin", args, (size_t)nargs, kwnames);
    return r;
}

FAST_SIG(fast_amax) { return amax_amin(m, args, nargs, kwnames, 1); }
FAST_SIG(fast_amin) { return amax_amin(m, args, nargs, kwnames, 0); }
