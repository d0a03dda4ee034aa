/* indexing.c — Tensor.__getitem__ / __setitem__.
 * Basic indices (ints, slices, None, Ellipsis) are walked here and give views, as in torch.
 * Anything else (tensors, lists, bools, numpy arrays) goes to the Python layer's advanced-indexing
 * path (mlx_compat/_indexing.py), which reuses this file's basic walk for the basic part. */
#include "core.h"
#include <math.h>
#include <string.h>

/* Note [Basic indexing walk]
 * torch applies an index tuple left to right on a running view: an int selects (dropping the dim),
 * a slice narrows, None inserts a size-1 dim, Ellipsis skips the dims not named by the rest. We do
 * the same with the view primitives of views.c, so every intermediate is a proper view of the base
 * and the final result has torch's strides and storage offset. */

static int is_basic_item(PyObject *o)
{
    return PySlice_Check(o) || o == Py_None || o == Py_Ellipsis || (PyLong_CheckExact(o));
}

/* Number of dims an index item consumes from the tensor. */
static int consumes(PyObject *o) { return (o == Py_None || o == Py_Ellipsis) ? 0 : 1; }

/* NEW: apply a tuple of basic items to t (Note [Basic indexing walk]). */
static PyObject *basic_walk(State *st, TensorObject *t, PyObject *items)
{
    if (tensor_ensure_sizes(st, t) < 0)
        return NULL;
    Py_ssize_t n = PyTuple_GET_SIZE(items);
    /* torch validates every item before counting them against the rank (a zero or negative step is a
     * ValueError even on a 0-dim tensor), and accepts several Ellipses: each skips the dims the other items
     * leave (Note [Basic indexing walk]). */
    int specified = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *o = PyTuple_GET_ITEM(items, i);
        specified += consumes(o);
        if (PySlice_Check(o)) {
            Py_ssize_t start, stop, step;
            if (PySlice_Unpack(o, &start, &stop, &step) < 0)
                return NULL;
            if (step <= 0) {
                PyErr_SetString(PyExc_ValueError, "step must be greater than zero");
                return NULL;
            }
        } else if (PyLong_CheckExact(o)) {
            Py_ssize_t idx = PyLong_AsSsize_t(o);
            if (idx == -1 && PyErr_Occurred()) {
                PyErr_Clear();
                PyErr_SetString(PyExc_ValueError, "Overflow when unpacking long long");
                return NULL;
            }
        }
    }
    if (specified > t->ndim) {
        PyErr_Format(PyExc_IndexError, "too many indices for tensor of dimension %d", t->ndim);
        return NULL;
    }
    PyObject *cur = view_alias(st, t);
    if (cur == NULL)
        return NULL;
    int dim = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *o = PyTuple_GET_ITEM(items, i), *next = NULL;
        TensorObject *c = (TensorObject *)cur;
        if (o == Py_Ellipsis) {
            dim += t->ndim - specified;
            continue;
        } else if (o == Py_None) {
            next = view_unsqueeze(st, c, dim);
            dim++;
        } else if (PySlice_Check(o)) {
            Py_ssize_t start, stop, step;
            if (PySlice_Unpack(o, &start, &stop, &step) < 0)
                goto error;
            if (step <= 0) {
                PyErr_SetString(PyExc_ValueError, "step must be greater than zero");
                goto error;
            }
            next = view_slice(st, c, dim, start, stop, step);
            dim++;
        } else {
            Py_ssize_t idx = PyLong_AsSsize_t(o);
            if (idx == -1 && PyErr_Occurred()) {
                PyErr_Clear();
                PyErr_SetString(PyExc_ValueError, "Overflow when unpacking long long");
                goto error;
            }
            Py_ssize_t size = c->sizes[dim];
            if (idx < -size || idx >= size) {
                PyErr_Format(PyExc_IndexError, "index %zd is out of bounds for dimension %d with size %zd", idx, dim, size);
                goto error;
            }
            next = view_select(st, c, dim, idx);
        }
        if (next == NULL)
            goto error;
        Py_SETREF(cur, next);
    }
    return cur;
error:
    Py_DECREF(cur);
    return NULL;
}

/* NEW: the index as a tuple of items, or NULL with no error if it holds a non-basic item. */
static PyObject *basic_items(PyObject *index)
{
    if (PyTuple_Check(index)) {
        Py_ssize_t n = PyTuple_GET_SIZE(index);
        for (Py_ssize_t i = 0; i < n; i++)
            if (!is_basic_item(PyTuple_GET_ITEM(index, i)))
                return NULL;
        return Py_NewRef(index);
    }
    if (!is_basic_item(index))
        return NULL;
    return PyTuple_Pack(1, index);
}

/* Note [Sequence index as tuple]
 * torch (treatSequenceAsTuple, numpy's old rule) reads an index that is a sequence other than a tuple, a
 * tensor or an ndarray, shorter than 32 and holding a tensor, a sequence, a slice, Ellipsis or None, as the
 * tuple of its items: x[[0, None]] is x[0, None], x[[Ellipsis]] is x[...], x[[[0], [1]]] is x[[0], [1]].
 * Any other sequence (x[[0, 1]], x[range(2)]) is one advanced index. */

/* NEW: `index` as torch reads it (a tuple of its items, or itself); NULL with an exception. Items are owned
 * while they are inspected: a sequence's __getitem__ may run Python code. */
static PyObject *sequence_index_as_tuple(State *st, PyObject *index)
{
    if (PyTuple_Check(index) || is_tensor(st, index) || !PySequence_Check(index) ||
        strcmp(Py_TYPE(index)->tp_name, "numpy.ndarray") == 0)
        return Py_NewRef(index);
    Py_ssize_t n = PySequence_Size(index);
    if (n < 0) {
        PyErr_Clear();
        return Py_NewRef(index);
    }
    if (n >= 32)
        return Py_NewRef(index);
    int as_tuple = 0;
    for (Py_ssize_t i = 0; i < n && !as_tuple; i++) {
        PyObject *o = PySequence_GetItem(index, i);
        if (o == NULL) {
            PyErr_Clear();
            return Py_NewRef(index);
        }
        as_tuple = is_tensor(st, o) || PySequence_Check(o) || PySlice_Check(o) || o == Py_Ellipsis || o == Py_None;
        Py_DECREF(o);
    }
    return as_tuple ? PySequence_Tuple(index) : Py_NewRef(index);
}

/* NEW: t[index]. A single int on dim 0 goes straight to view_select (the hot case). */
PyObject *tensor_getitem(PyObject *self, PyObject *index)
{
    State *st = state_of_type(Py_TYPE(self));
    TensorObject *t = (TensorObject *)self;
    if (st == NULL)
        return NULL;
    if (!PyLong_CheckExact(index) || TF_MAYBE2(st, self, self)) { /* Note [torch function check] */
        PyObject *args[2] = {self, index};
        if (tf_needed(st, args, 2))
            return tf_dispatch_dunder(st, "__getitem__", args, 2);
    }
    if (PyLong_CheckExact(index)) {
        if (tensor_ensure_sizes(st, t) < 0)
            return NULL;
        Py_ssize_t idx = PyLong_AsSsize_t(index);
        if (idx == -1 && PyErr_Occurred()) {
            PyErr_Clear();
            PyErr_SetString(PyExc_ValueError, "Overflow when unpacking long long");
            return NULL;
        }
        if (t->ndim == 0) {
            PyErr_SetString(PyExc_IndexError, "invalid index of a 0-dim tensor. Use `tensor.item()` in Python or "
                                              "`tensor.item<T>()` in C++ to convert a 0-dim tensor to a number");
            return NULL;
        }
        return view_select(st, t, 0, idx);
    }
    PyObject *seq = sequence_index_as_tuple(st, index); /* Note [Sequence index as tuple] */
    if (seq == NULL)
        return NULL;
    PyObject *r, *items = basic_items(seq);
    if (items == NULL) {
        r = PyObject_CallFunctionObjArgs(st->py_getitem, self, seq, NULL);
        Py_DECREF(seq);
        return r != NULL ? r : tracing_error_as_data_dependent("advanced indexing");
    }
    Py_DECREF(seq);
    r = basic_walk(st, t, items);
    Py_DECREF(items);
    return r;
}

/* Note [Scalar assignment check]
 * torch converts a Python number written into a tensor (t[i] = v, fill_, copy of a scalar) to the tensor's
 * dtype with c10's checked_convert, so nothing wraps silently: an int beyond int64 is a ValueError ("Overflow
 * when unpacking long long"); a complex with a nonzero imaginary part into a real dtype, a non-finite or
 * out-of-range float into an integer dtype, or a finite float beyond float32's range into float32/complex64 is
 * a RuntimeError ("value cannot be converted to type X without overflow"). inf and nan pass into floating
 * dtypes; float16/bfloat16 convert through double (only a complex fails); unsigned dtypes take [-max, max]
 * (a negative wraps, as in torch); bool takes anything. Accepted are Python bool/int/float/complex (and their
 * subclasses: np.float64, np.complex128) and numpy integers; anything else (np.float32, np.bool_, objects with
 * __index__/__float__) is torch's TypeError. torch checks the value before it looks at the index
 * (tensor_setitem), so the same order holds here. */

static const char *checked_type_name(int dt)
{
    switch (dt) {
    case DT_F32: return "float";
    case DT_F64: case DT_F16: case DT_BF16: return "double";
    case DT_I64: return "int64_t";
    case DT_I32: return "int";
    case DT_I16: return "int16_t";
    case DT_I8: return "int8_t";
    case DT_U8: return "uint8_t";
    case DT_U16: return "uint16_t";
    case DT_U32: return "uint32_t";
    case DT_U64: return "uint64_t";
    case DT_C64: return "c10::complex<float>";
    default: return "bool";
    }
}

/* Whether a real value v overflows integer dtype dt (c10's rule; unsigned: |v| <= max). */
static int int_range_overflows(int dt, double v)
{
    double lo, hi;
    switch (dt) {
    case DT_I8: lo = -128.0; hi = 127.0; break;
    case DT_I16: lo = -32768.0; hi = 32767.0; break;
    case DT_I32: lo = -2147483648.0; hi = 2147483647.0; break;
    case DT_I64: lo = -9223372036854775808.0; hi = 9223372036854775807.0; break;
    case DT_U8: hi = 255.0; lo = -hi; break;
    case DT_U16: hi = 65535.0; lo = -hi; break;
    case DT_U32: hi = 4294967295.0; lo = -hi; break;
    default: hi = 18446744073709551615.0; lo = -9223372036854775808.0; break;
    }
    return !(v >= lo && v <= hi); /* nan overflows */
}

static int is_numpy_integer(PyObject *o)
{
    PyTypeObject *tp = Py_TYPE(o);
    return strncmp(tp->tp_name, "numpy.", 6) == 0 && tp->tp_as_number != NULL && tp->tp_as_number->nb_index != NULL &&
           !PyBool_Check(o) && strcmp(tp->tp_name, "numpy.bool") != 0 && strcmp(tp->tp_name, "numpy.bool_") != 0;
}

/* NEW: `value` (a tensor: returned as is) checked for writing into a tensor of dtype dt as Note [Scalar
 * assignment check] says, as a plain Python bool/int/float/complex; NULL with torch's exception otherwise. */
PyObject *scalar_for_assign(State *st, PyObject *value, int dt)
{
    if (is_tensor(st, value))
        return Py_NewRef(value);
    if (PyBool_Check(value))
        return Py_NewRef(value);
    if (PyLong_Check(value) || is_numpy_integer(value)) {
        PyObject *i = PyNumber_Index(value);
        if (i == NULL)
            return NULL;
        int overflow = 0;
        long long v = PyLong_AsLongLongAndOverflow(i, &overflow);
        if (v == -1 && PyErr_Occurred())
            goto error_i;
        if (overflow) {
            PyErr_SetString(PyExc_ValueError, "Overflow when unpacking long long");
            goto error_i;
        }
        if (dt_is_integral(dt, 0) && dt != DT_I64 && int_range_overflows(dt, (double)v))
            goto overflow_i;
        if (PyLong_CheckExact(i))
            return i;
        Py_SETREF(i, PyLong_FromLongLong(v));
        return i;
    overflow_i:
        PyErr_Format(PyExc_RuntimeError, "value cannot be converted to type %s without overflow", checked_type_name(dt));
    error_i:
        Py_DECREF(i);
        return NULL;
    }
    double re, im = 0.0;
    if (PyFloat_Check(value)) {
        re = PyFloat_AS_DOUBLE(value);
    } else if (PyComplex_Check(value)) {
        re = PyComplex_RealAsDouble(value);
        im = PyComplex_ImagAsDouble(value);
    } else {
        PyErr_Format(PyExc_TypeError, "can't assign a %.100s to a torch.%sTensor", Py_TYPE(value)->tp_name,
                     dtype_name(dt));
        return NULL;
    }
    int bad = 0;
    if (dt == DT_BOOL)
        return PyBool_FromLong(re != 0.0 || im != 0.0);
    else if (im != 0.0 && !dt_is_complex(dt))
        bad = 1;
    else if (dt_is_integral(dt, 0))
        bad = int_range_overflows(dt, re);
    else if (dt == DT_F32 || dt == DT_C64)
        bad = (isfinite(re) && fabs(re) > 3.4028234663852886e+38) || (isfinite(im) && fabs(im) > 3.4028234663852886e+38);
    if (bad) {
        PyErr_Format(PyExc_RuntimeError, "value cannot be converted to type %s without overflow", checked_type_name(dt));
        return NULL;
    }
    if (PyComplex_Check(value))
        return dt_is_complex(dt) || dt == DT_BOOL ? PyComplex_FromDoubles(re, im) : PyFloat_FromDouble(re);
    return PyFloat_FromDouble(re);
}

/* Tensor._scalar_for_assign(value): scalar_for_assign for the Python advanced-indexing path. NEW. */
PyObject *m_scalar_for_assign(PyObject *self, PyObject *value)
{
    State *st = state_of_type(Py_TYPE(self));
    return scalar_for_assign(st, value, ((TensorObject *)self)->dtype);
}

/* NEW: `v` (an mx.array, BORROWED) without the leading size-1 dims that exceed rank `ndim`: torch's
 * t[index] = value drops them before copying (slicePrefix1sSize), so x[0] = ones(1, 3) writes a row. */
static PyObject *strip_leading_ones(State *st, PyObject *v, int ndim, int device)
{
    PyObject *shape = PyObject_GetAttr(v, st->s_shape), *rest = NULL, *r = NULL;
    if (shape == NULL || !PyTuple_Check(shape))
        goto error;
    Py_ssize_t n = PyTuple_GET_SIZE(shape), k = 0;
    while (n - k > ndim && is_int_value(PyTuple_GET_ITEM(shape, k), 1))
        k++;
    if (k == 0) {
        Py_DECREF(shape);
        return Py_NewRef(v);
    }
    rest = PyTuple_GetSlice(shape, k, n);
    if (rest != NULL)
        r = mx_call2(st, st->f_reshape, v, rest, device);
error:
    Py_XDECREF(shape);
    Py_XDECREF(rest);
    return r;
}

/* Assign `value` (Tensor or Python number, BORROWED) into the whole of `dst`, broadcasting and
 * casting as torch's copy_ does; write-through for views. strip: drop the value's extra leading size-1
 * dims first, as t[index] = value does. 0 / -1. */
static int assign_impl(State *st, TensorObject *dst, PyObject *value, int check_overlap, int strip)
{
    PyObject *v = NULL, *cast = NULL, *shape = NULL, *b = NULL;
    int rc = -1;
    if (tensor_check_inplace_ex(st, dst, check_overlap) < 0 || tensor_ensure_sizes(st, dst) < 0)
        return -1;
    if (is_tensor(st, value)) {
        v = tensor_value(st, (TensorObject *)value);
        Py_XINCREF(v);
    } else {
        PyObject *s = scalar_for_assign(st, value, dst->dtype); /* Note [Scalar assignment check] */
        if (s == NULL)
            return -1;
        PyObject *args[2] = {s, st->mx_dtype[dst->dtype]};
        v = PyObject_Vectorcall(st->f_array, args, 2, NULL);
        Py_DECREF(s);
    }
    if (v == NULL)
        goto error;
    if (strip && is_tensor(st, value)) {
        PyObject *sv = strip_leading_ones(st, v, dst->ndim, dst->device);
        Py_SETREF(v, sv);
        if (v == NULL)
            goto error;
    }
    cast = mx_astype(st, v, dst->dtype, dst->device);
    if (cast == NULL)
        goto error;
    shape = ssize_tuple(dst->sizes, dst->ndim);
    if (shape == NULL)
        goto error;
    b = mx_call2(st, st->f_broadcast_to, cast, shape, dst->device);
    if (b == NULL) {
        if (PyErr_ExceptionMatches(PyExc_ValueError)) {
            PyErr_Clear(); /* before calling into MLX again: no call runs with an exception pending */
            PyObject *vs = PyObject_GetAttr(cast, st->s_shape);
            PyErr_Clear();
            PyErr_Format(PyExc_RuntimeError, "shape mismatch: value tensor of shape %R cannot be broadcast to indexing result of shape %R",
                         vs ? vs : Py_None, shape);
            Py_XDECREF(vs);
        }
        goto error;
    }
    rc = tensor_write(st, dst, b);
error:
    Py_XDECREF(v);
    Py_XDECREF(cast);
    Py_XDECREF(shape);
    Py_XDECREF(b);
    return rc;
}

int tensor_assign(State *st, TensorObject *dst, PyObject *value, int check_overlap)
{
    return assign_impl(st, dst, value, check_overlap, 0);
}

/* t[index] = value (value NULL: deletion, which torch refuses). 0 / -1. */
int tensor_setitem(PyObject *self, PyObject *index, PyObject *value)
{
    State *st = state_of_type(Py_TYPE(self));
    if (st == NULL)
        return -1;
    if (value == NULL) {
        PyErr_SetString(PyExc_TypeError, "Tensor does not support item deletion");
        return -1;
    }
    PyObject *args[3] = {self, index, value};
    if (tf_needed(st, args, 3)) { /* Note [torch function check] */
        PyObject *r = tf_dispatch_dunder(st, "__setitem__", args, 3);
        Py_XDECREF(r);
        return r == NULL ? -1 : 0;
    }
    /* torch checks the value before the index (Note [Scalar assignment check]) */
    PyObject *checked = scalar_for_assign(st, value, ((TensorObject *)self)->dtype);
    if (checked == NULL)
        return -1;
    value = checked; /* owned from here */
    PyObject *seq = sequence_index_as_tuple(st, index); /* Note [Sequence index as tuple] */
    if (seq == NULL) {
        Py_DECREF(checked);
        return -1;
    }
    PyObject *items = basic_items(seq);
    if (items == NULL) {
        PyObject *r = PyErr_Occurred() ? NULL : PyObject_CallFunctionObjArgs(st->py_setitem, self, seq, value, NULL);
        Py_DECREF(seq);
        Py_DECREF(checked);
        if (r == NULL)
            tracing_error_as_data_dependent("advanced index assignment");
        if (r == NULL)
            return -1;
        Py_DECREF(r);
        return 0;
    }
    Py_DECREF(seq);
    PyObject *view = basic_walk(st, (TensorObject *)self, items);
    Py_DECREF(items);
    if (view == NULL) {
        Py_DECREF(checked);
        return -1;
    }
    TensorObject *tv = (TensorObject *)view, *owner = tv->base ? tv->base : tv;
    int value_rg = is_tensor(st, value) && (((TensorObject *)value)->requires_grad || ((TensorObject *)value)->grad_fn);
    if (GRAD_ENABLED(st) && (value_rg || owner->grad_fn != NULL)) {
        /* differentiable assignment: copy_/fill_ record and rebase history (Note [In-place history]) */
        PyObject *r = PyObject_CallMethod(view, is_tensor(st, value) ? "copy_" : "fill_", "O", value);
        Py_DECREF(view);
        Py_DECREF(checked);
        if (r == NULL)
            return -1;
        Py_DECREF(r);
        return 0;
    }
    int rc = assign_impl(st, (TensorObject *)view, value, 1, 1);
    Py_DECREF(view);
    Py_DECREF(checked);
    return rc;
}

/* Tensor._basic_getitem(index): the basic walk alone (for the Python advanced path). */
PyObject *m_basic_getitem(PyObject *self, PyObject *index)
{
    State *st = state_of_type(Py_TYPE(self));
    PyObject *items = PyTuple_Check(index) ? Py_NewRef(index) : PyTuple_Pack(1, index);
    if (items == NULL)
        return NULL;
    PyObject *r = basic_walk(st, (TensorObject *)self, items);
    Py_DECREF(items);
    return r;
}

/* Tensor._assign(value): copy value into self with broadcasting and casting; returns self. */
PyObject *m_assign(PyObject *self, PyObject *value)
{
    State *st = state_of_type(Py_TYPE(self));
    if (tensor_assign(st, (TensorObject *)self, value, 1) < 0)
        return NULL;
    return Py_NewRef(self);
}

/* Tensor._fill(value): like _assign, but allowed on expanded views (every element gets one value). */
PyObject *m_fill(PyObject *self, PyObject *value)
{
    State *st = state_of_type(Py_TYPE(self));
    if (tensor_assign(st, (TensorObject *)self, value, 0) < 0) {
        /* fill_ parses its value as a Scalar argument, whose int overflow torch reports as OverflowError */
        if (PyLong_Check(value) && PyErr_ExceptionMatches(PyExc_ValueError)) {
            PyErr_Clear();
            PyErr_SetString(PyExc_OverflowError, "int too big to convert");
        }
        return NULL;
    }
    return Py_NewRef(self);
}
