/* mxcall.c — calling mlx.core: vectorcall with an optional stream= keyword, dtype casts. */
#include "core.h"
#include <string.h>

/* NEW: f(*args) on the stream of `device`; the keyword is only passed when `device` is not MLX's
 * default device (mx_device_is_default), so the common case is a plain positional vectorcall. */
PyObject *mx_call(State *st, PyObject *f, PyObject *const *args, Py_ssize_t nargs, int device)
{
    if (mx_device_is_default(st, device))
        return PyObject_Vectorcall(f, args, (size_t)nargs, NULL);
    PyObject *stack[8];
    if (nargs > 7) {
        PyErr_SetString(PyExc_SystemError, "mx_call: too many arguments");
        return NULL;
    }
    for (Py_ssize_t i = 0; i < nargs; i++)
        stack[i] = args[i];
    stack[nargs] = st->mx_device[device];
    return PyObject_Vectorcall(f, stack, (size_t)nargs, st->kw_stream);
}

PyObject *mx_call1(State *st, PyObject *f, PyObject *a, int device)
{
    PyObject *args[1] = {a};
    return mx_call(st, f, args, 1, device);
}

PyObject *mx_call2(State *st, PyObject *f, PyObject *a, PyObject *b, int device)
{
    PyObject *args[2] = {a, b};
    return mx_call(st, f, args, 2, device);
}

/* NEW: `arr` as dtype code `dt`; a new reference to arr itself when it already has that dtype
 * (the caller passes the dtype it knows, or DT_NONE to have it read). */
PyObject *mx_astype(State *st, PyObject *arr, int dt, int device)
{
    PyObject *args[2] = {arr, st->mx_dtype[dt]};
    if (mx_device_is_default(st, device))
        return PyObject_VectorcallMethod(st->s_astype, args, 2, NULL);
    PyObject *stack[3] = {arr, st->mx_dtype[dt], st->mx_device[device]};
    return PyObject_VectorcallMethod(st->s_astype, stack, 2, st->kw_stream);
}

/* NEW: a tuple of Python ints. */
PyObject *ssize_tuple(const Py_ssize_t *v, int n)
{
    PyObject *t = PyTuple_New(n);
    if (t == NULL)
        return NULL;
    for (int i = 0; i < n; i++) {
        PyObject *x = PyLong_FromSsize_t(v[i]);
        if (x == NULL) {
            Py_DECREF(t);
            return NULL;
        }
        PyTuple_SET_ITEM(t, i, x);
    }
    return t;
}

/* Note [Reused shape tuples]
 * A view or reshape hands MLX its new shape as a tuple, which MLX converts to its own vector at once and does
 * not keep: a tuple made and freed per call was a measurable part of `a.view(16)`. The state keeps one tuple
 * per length up to SHAPE_ARG_MAX and refills it in place when nothing else holds it (reference count 1: it
 * is the state's alone; CPython's zip reuses its result tuple by the same rule). Held elsewhere (a call into
 * MLX still in progress on this thread, an exception that kept it), a fresh tuple is made instead, so no one
 * ever sees a tuple change. Its items are ints, so it is never part of a cycle. */
PyObject *mx_shape_arg(State *st, const Py_ssize_t *v, int n)
{
    if (n < 1 || n > SHAPE_ARG_MAX)
        return ssize_tuple(v, n);
    PyObject *t = st->shape_args[n - 1];
    if (t == NULL || Py_REFCNT(t) != 1) {
        PyObject *fresh = ssize_tuple(v, n);
        if (fresh != NULL && t == NULL)
            st->shape_args[n - 1] = Py_NewRef(fresh);
        return fresh;
    }
    for (int i = 0; i < n; i++) {
        PyObject *old = PyTuple_GET_ITEM(t, i);
        /* the same size as last time (a loop's repeated view): keep the int; sizes past CPython's small-int
         * cache would otherwise cost an allocation each (the items are exact ints this function made) */
        if (PyLong_AsSsize_t(old) == v[i])
            continue;
        PyObject *x = PyLong_FromSsize_t(v[i]);
        if (x == NULL)
            return NULL;
        PyTuple_SET_ITEM(t, i, x);
        Py_DECREF(old);
    }
    return Py_NewRef(t);
}

/* Parse an int argument as torch's argument parser does: bools and floats are TypeError, a 0-dim
 * integer tensor counts as its value, numpy integers through __index__. An int beyond int64 is
 * TypeError for sizes (is_dim = 0) and ValueError for dims (is_dim = 1), as torch reports them.
 * 0 / -1 with the exception set. */
int int_arg(State *st, PyObject *o, Py_ssize_t *out, int is_dim, const char *fname)
{
    if (PyLong_CheckExact(o)) { /* the common case */
        int overflow = 0;
        long long v = PyLong_AsLongLongAndOverflow(o, &overflow);
        if (!overflow) {
            *out = (Py_ssize_t)v;
            return 0;
        }
        PyErr_Format(is_dim ? PyExc_ValueError : PyExc_TypeError,
                     "%s(): argument failed to unpack the object with error \"Overflow when unpacking long\"", fname);
        return -1;
    }
    if (PyBool_Check(o) || PyFloat_Check(o) || o == Py_None || PyComplex_Check(o) || PyUnicode_Check(o)) {
        PyErr_Format(PyExc_TypeError, "%s(): argument must be int, not %.100s", fname, Py_TYPE(o)->tp_name);
        return -1;
    }
    if (is_tensor(st, o)) {
        TensorObject *t = (TensorObject *)o;
        if (!dt_is_integral(t->dtype, 0) || tensor_ndim(st, t) != 0) {
            PyErr_Format(PyExc_TypeError, "%s(): argument must be int, not Tensor", fname);
            return -1;
        }
        PyObject *v = tensor_value(st, t), *item = NULL;
        if (v != NULL) {
            Py_INCREF(v); /* held across MLX's evaluation, which runs with the GIL released */
            eval_lock_acquire(st); /* Note [Threads] */
            item = PyObject_CallMethod(v, "item", NULL);
            eval_lock_release(st);
            Py_DECREF(v);
        }
        if (item == NULL)
            return -1;
        int rc = int_arg(st, item, out, is_dim, fname);
        Py_DECREF(item);
        return rc;
    }
    if (!PyLong_Check(o) && !PyIndex_Check(o)) {
        PyErr_Format(PyExc_TypeError, "%s(): argument must be int, not %.100s", fname, Py_TYPE(o)->tp_name);
        return -1;
    }
    PyObject *idx = PyNumber_Index(o);
    if (idx == NULL)
        return -1;
    int overflow = 0;
    long long v = PyLong_AsLongLongAndOverflow(idx, &overflow);
    Py_DECREF(idx);
    if (overflow) {
        PyErr_Format(is_dim ? PyExc_ValueError : PyExc_TypeError,
                     "%s(): argument failed to unpack the object with error \"Overflow when unpacking long\"", fname);
        return -1;
    }
    if (v == -1 && PyErr_Occurred())
        return -1;
    *out = (Py_ssize_t)v;
    return 0;
}

/* 1 if o is a Python int (not bool) equal to `value`, else 0; never leaves an exception set. */
int is_int_value(PyObject *o, long value)
{
    if (!PyLong_Check(o) || PyBool_Check(o))
        return 0;
    int overflow = 0;
    long long v = PyLong_AsLongLongAndOverflow(o, &overflow);
    if (v == -1 && PyErr_Occurred()) {
        PyErr_Clear();
        return 0;
    }
    return !overflow && v == value;
}

/* Note [No evaluation while tracing]
 * A few ops read values to raise torch's eager errors: integer `//` and `%` by a tensor (division by zero),
 * index bounds (index_select, gather, scatter). Under mx.compile and mx.vmap the arrays are tracers without
 * values and MLX refuses to evaluate them ("[eval] Attempting to eval an array during function
 * transformations ..."): that refusal is how we know we are being traced, soundly (MLX decides, per array)
 * and at no cost on the eager path (the check evaluates there anyway; only the failing path is new). Such a
 * check is then skipped and the op stays a pure graph node: torch's data-dependent checks are runtime checks
 * that a compiled graph cannot make either. mx.vjp / mx.grad / mx.jvp run the function on real values and
 * allow evaluation, so there the check runs as in eager mode. All value checks go through
 * `mx_item_or_tracing` (C) / `_C._item_or_none` (Python). What truly needs values (item, tolist, bool, int,
 * float, numpy, advanced and boolean-mask indexing, so also ops whose result shape depends on values) cannot
 * be traced: there MLX's refusal becomes a RuntimeError naming the data-dependent operation, the kind of
 * error torch raises for those under tracing (`tracing_error_as_data_dependent`, _tensor._reads_values). */

/* Whether the pending exception is MLX's refusal to evaluate a tracer; clears it if so. */
int mx_clear_tracing_error(void)
{
    if (!PyErr_ExceptionMatches(PyExc_ValueError))
        return 0;
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyObject *msg = value ? PyObject_Str(value) : NULL;
    const char *m = msg ? PyUnicode_AsUTF8(msg) : NULL;
    int tracing = m != NULL && strstr(m, "during function transformations") != NULL;
    Py_XDECREF(msg);
    PyErr_Clear();
    if (tracing) {
        Py_XDECREF(type);
        Py_XDECREF(value);
        Py_XDECREF(tb);
        return 1;
    }
    PyErr_Restore(type, value, tb); /* steals */
    return 0;
}

/* NEW: arr.item() (arr BORROWED), Py_None (new) while MLX traces it (Note [No evaluation while tracing]),
 * NULL on other errors. */
PyObject *mx_item_or_tracing(State *st, PyObject *arr)
{
    Py_INCREF(arr); /* held across MLX's evaluation, which runs with the GIL released */
    eval_lock_acquire(st); /* Note [Threads] */
    PyObject *r = PyObject_CallMethodNoArgs(arr, st->s_item);
    eval_lock_release(st);
    Py_DECREF(arr);
    if (r == NULL && mx_clear_tracing_error())
        Py_RETURN_NONE;
    return r;
}

/* _item_or_none(array) -> array.item(), or None while MLX traces it (Note [No evaluation while tracing]). */
PyObject *mod_item_or_none(PyObject *m, PyObject *arr) { return mx_item_or_tracing(state_of_module(m), arr); }

/* Tensor.item()'s fast path (Note [Fast paths fall back]): the value of a one-element tensor as a Python scalar,
 * read by its array's own item() under the evaluation lock (Note [Threads]), as _tensor.py's reference reads it.
 * A loop's `loss.item()` after each step is where it counts: through the reference's Python layers (the method
 * wrappers, the element-count check, _C._eval, then item()), run right after the step's evaluation had evicted
 * their code from the caches, the read took 12.7-15.3 us of the thread's time on this CPU against 3.7-4.5 us for
 * the array's own item(); this path takes 4.5-5.8 (bench/bench_value_reads.py). Arguments, another element count,
 * and any error (MLX's refusal while a function is traced among them) go to the reference, which raises torch's
 * exceptions.
 * Returns NEW, or NULL with an exception. */
FAST_SIG(fast_item_method)
{
    State *st = state_of_module(m);
    PyObject *r = NULL;
    if (nargs == 1 && kwnames == NULL && is_tensor(st, args[0])) {
        TensorObject *t = (TensorObject *)args[0];
        PyObject *v;
        if (tensor_ensure_sizes(st, t) == 0 && tensor_numel(t) == 1 && tensor_check_mx_extent(st, t) == 0 &&
            (v = tensor_value(st, t)) != NULL) {
            Py_INCREF(v); /* held across MLX's evaluation, which runs with the GIL released */
            eval_lock_acquire(st);
            r = PyObject_CallMethodNoArgs(v, st->s_item);
            eval_lock_release(st);
            Py_DECREF(v);
        }
    }
    if (r == NULL)
        return fast_fallback(st, "Tensor.item", args, (size_t)nargs, kwnames);
    return r;
}

/* If the pending exception is MLX's refusal to evaluate a tracer, replace it with torch's kind of error
 * for a data-dependent operation under tracing (a RuntimeError naming `what`). Returns NULL always, so
 * callers can `return tracing_error_as_data_dependent(...)` on their failure path. */
PyObject *tracing_error_as_data_dependent(const char *what)
{
    if (PyErr_Occurred() && mx_clear_tracing_error())
        PyErr_Format(PyExc_RuntimeError,
                     "Could not read a tensor's value in %s while MLX traces the function (mx.compile / mx.vmap): "
                     "its result depends on the values (a data-dependent operation), which a traced graph cannot "
                     "contain.", what);
    return NULL;
}
