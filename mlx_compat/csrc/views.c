/* views.c — the view ops on the hot path. Each computes torch's (shape, strides, storage_offset) for
 * the result relative to the root base, takes the value from the natural MLX op on the source's
 * value, and makes a view (Note [Tensor storage and views] in core.h). */
#include "core.h"
#include <string.h>

#define MAXD 64

typedef struct {
    int ndim;
    Py_ssize_t shape[MAXD], strides[MAXD];
    Py_ssize_t offset;
} Meta;

/* Wrap a negative dim; torch's IndexError when out of range (a 0-d tensor accepts -1 and 0). */
int normalize_dim(Py_ssize_t *dim, int ndim)
{
    int n = ndim > 0 ? ndim : 1;
    if (*dim < -n || *dim >= n) {
        PyErr_Format(PyExc_IndexError, "Dimension out of range (expected to be in range of [%d, %d], but got %zd)", -n,
                     n - 1, *dim);
        return -1;
    }
    if (*dim < 0)
        *dim += n;
    return 0;
}

static int load_meta(State *st, TensorObject *t, Meta *m)
{
    if (tensor_ensure_sizes(st, t) < 0)
        return -1;
    if (t->ndim > MAXD) {
        PyErr_Format(PyExc_RuntimeError, "tensors with more than %d dimensions are not supported", MAXD);
        return -1;
    }
    m->ndim = t->ndim;
    if (t->ndim) {
        memcpy(m->shape, t->sizes, sizeof(Py_ssize_t) * t->ndim);
        memcpy(m->strides, t->sizes + t->ndim, sizeof(Py_ssize_t) * t->ndim);
    }
    m->offset = t->offset;
    return 0;
}

/* NEW: the view from `arr` (STOLEN) and `m`. */
static PyObject *finish(State *st, TensorObject *t, PyObject *arr, Meta *m)
{
    return tensor_make_view(st, t, arr, m->ndim, m->shape, m->strides, m->offset);
}

#define AG(st, t) (GRAD_ENABLED(st) && ((t)->requires_grad || (t)->grad_fn != NULL))

/* Record view op `name` (whose derivative _autograd registered under that name) producing `out`
 * (STOLEN, returned) from t; `extra` (STOLEN, may be NULL when recording is off) is what the
 * derivative needs (input shape, dims, ...). */
static PyObject *record_view(State *st, TensorObject *t, PyObject *out, const char *name, PyObject *extra)
{
    if (out == NULL || !AG(st, t)) {
        Py_XDECREF(extra);
        return out;
    }
    if (extra == NULL) {
        Py_DECREF(out);
        return NULL;
    }
    PyObject *ins[1] = {(PyObject *)t}, *outs[1] = {out};
    int rc = autograd_record_named(st, name, ins, 1, NULL, 0, extra, outs, 1);
    Py_DECREF(extra);
    if (rc < 0) {
        Py_DECREF(out);
        return NULL;
    }
    return out;
}

/* NEW: f(t's value, shape) — an MLX reshape/broadcast_to of t to `shape`. */
static PyObject *call_with_shape(State *st, TensorObject *t, PyObject *f, const Py_ssize_t *shape_in, int n)
{
    PyObject *v = tensor_value(st, t);
    if (v == NULL)
        return NULL;
    PyObject *shape = mx_shape_arg(st, shape_in, n); /* Note [Reused shape tuples] (mxcall.c) */
    if (shape == NULL)
        return NULL;
    PyObject *arr = mx_call2(st, f, v, shape, t->device);
    Py_DECREF(shape);
    return arr;
}

/* NEW: t's shape as a tuple (sizes must be loaded). */
static PyObject *shape_of(TensorObject *t) { return ssize_tuple(t->sizes, t->ndim); }

/* Parses a size given as varargs ints or one sequence (tuple/list/Size) into out[]. -1 on error.
 * `is_dim`: the items are dims (permute), which changes torch's overflow error. */
static int parse_shape_ex(State *st, PyObject *const *args, Py_ssize_t nargs, Py_ssize_t *out, int *n,
                          const char *fname, int is_dim)
{
    /* A list's items are borrowed from a list that an item's __index__ may mutate: parse a tuple copy
     * (Note [Arguments before metadata]). */
    PyObject *held = NULL;
    int rc = -1;
    if (nargs == 1 && (PyTuple_Check(args[0]) || PyList_Check(args[0]))) {
        held = PySequence_Tuple(args[0]);
        if (held == NULL)
            return -1;
        nargs = PyTuple_GET_SIZE(held);
        args = &PyTuple_GET_ITEM(held, 0);
    }
    if (nargs > MAXD) {
        PyErr_Format(PyExc_RuntimeError, "%s(): tensors with more than %d dimensions are not supported", fname, MAXD);
        goto error;
    }
    for (Py_ssize_t i = 0; i < nargs; i++)
        if (int_arg(st, args[i], &out[i], is_dim, fname) < 0)
            goto error;
    *n = (int)nargs;
    rc = 0;
error:
    Py_XDECREF(held);
    return rc;
}

/* Note [Small int arguments]
 * Sizes and dims are nearly always exact Python ints written in the call (x.view(4, 4)). They are read here
 * straight into C: exact ints that fit a C long, at most TENSOR_INLINE_DIMS of them (the inline sizes' rank), no
 * sequence, no __index__, no tensor. Anything else (a tuple or Size, a numpy integer, a 0-dim tensor, a bool,
 * an int past int64) returns 0 and takes parse_shape, which applies torch's parser rules and errors; nothing
 * here can fail, run Python code or set an exception. */

/* 1 with out[0..nargs) filled when every argument is a small exact int (Note [Small int arguments]), else 0. */
static int small_int_args(PyObject *const *args, Py_ssize_t nargs, Py_ssize_t *out)
{
    if (nargs > TENSOR_INLINE_DIMS)
        return 0;
    for (Py_ssize_t i = 0; i < nargs; i++) {
        if (!PyLong_CheckExact(args[i]))
            return 0;
        int overflow;
        long v = PyLong_AsLongAndOverflow(args[i], &overflow); /* cannot fail on an exact int */
        if (overflow)
            return 0;
        out[i] = (Py_ssize_t)v;
    }
    return 1;
}

static int parse_shape(State *st, PyObject *const *args, Py_ssize_t nargs, Py_ssize_t *out, int *n, const char *fname)
{
    return parse_shape_ex(st, args, nargs, out, n, fname, 0);
}

/* Resolve one -1 against numel; torch's RuntimeError for a bad shape. */
static int infer_size(Py_ssize_t *shape, int n, int64_t numel)
{
    int infer = -1;
    int64_t prod = 1;
    for (int i = 0; i < n; i++) {
        if (shape[i] == -1) {
            if (infer >= 0) {
                PyErr_SetString(PyExc_RuntimeError, "only one dimension can be inferred");
                return -1;
            }
            infer = i;
        } else if (shape[i] < 0) {
            PyErr_Format(PyExc_RuntimeError, "invalid shape dimension %zd", shape[i]);
            return -1;
        } else
            prod *= shape[i];
    }
    if (infer >= 0 && prod != 0 && numel % prod == 0) {
        shape[infer] = (Py_ssize_t)(numel / prod);
        return 0;
    }
    if (infer < 0 && prod == numel)
        return 0;
    PyObject *lst = PyList_New(n);
    if (lst) {
        for (int i = 0; i < n; i++)
            PyList_SET_ITEM(lst, i, PyLong_FromSsize_t(shape[i]));
        PyObject *s = PyObject_Str(lst);
        if (s) {
            PyErr_Format(PyExc_RuntimeError, "shape '%U' is invalid for input of size %lld", s, (long long)numel);
            Py_DECREF(s);
        }
        Py_DECREF(lst);
    }
    return -1;
}

/* torch's computeStride: strides for viewing (oldshape, oldstride) as newshape, or 0 when impossible. */
static int compute_stride(const Meta *old, const Py_ssize_t *newshape, int nn, Py_ssize_t *newstride)
{
    int64_t numel = 1;
    for (int i = 0; i < old->ndim; i++)
        numel *= old->shape[i];
    if (old->ndim == 0) {
        for (int i = 0; i < nn; i++)
            newstride[i] = 1;
        return 1;
    }
    if (numel == 0) {
        int same = old->ndim == nn;
        for (int i = 0; same && i < nn; i++)
            same = old->shape[i] == newshape[i];
        if (same) {
            memcpy(newstride, old->strides, sizeof(Py_ssize_t) * nn);
            return 1;
        }
        Py_ssize_t s = 1;
        for (int i = nn - 1; i >= 0; i--) {
            newstride[i] = s;
            s *= newshape[i] > 1 ? newshape[i] : 1;
        }
        return 1;
    }
    int view_d = nn - 1;
    int64_t chunk_base_stride = old->strides[old->ndim - 1];
    int64_t tensor_numel = 1, view_numel = 1;
    for (int tensor_d = old->ndim - 1; tensor_d >= 0; tensor_d--) {
        tensor_numel *= old->shape[tensor_d];
        if (tensor_d == 0 ||
            (old->shape[tensor_d - 1] != 1 && old->strides[tensor_d - 1] != tensor_numel * chunk_base_stride)) {
            while (view_d >= 0 && (view_numel < tensor_numel || newshape[view_d] == 1)) {
                newstride[view_d] = (Py_ssize_t)(view_numel * chunk_base_stride);
                view_numel *= newshape[view_d];
                view_d--;
            }
            if (view_numel != tensor_numel)
                return 0;
            if (tensor_d > 0) {
                chunk_base_stride = old->strides[tensor_d - 1];
                tensor_numel = 1;
                view_numel = 1;
            }
        }
    }
    return view_d == -1;
}

/* Note [Row-major view fast path]
 * A view or reshape of a tensor whose strides are exactly row-major for its shape (every base; most views) with
 * at least one element gets exactly row-major strides for the new shape from torch's computeStride (one chunk
 * with base stride 1: each new dim's stride is the product of the later new sizes, size-1 dims included), and
 * the view always succeeds. So view_reshape_impl then skips the general metadata copy and computeStride and
 * writes the row-major strides directly. The check is strict, stride for stride, size-1 dims included: a
 * "contiguous" tensor whose size-1 dims carry other strides (x[:, 0:1]) keeps the general path, where
 * computeStride carries those strides into the view. Empty tensors also keep it (computeStride's numel == 0
 * rule keeps the old strides for the same shape). */

/* 1 when t's loaded strides are exactly row-major for its shape and it has elements, else 0. */
static int row_major_nonempty(TensorObject *t)
{
    Py_ssize_t expect = 1;
    const Py_ssize_t *shape = t->sizes, *strides = t->sizes + t->ndim;
    for (int i = t->ndim - 1; i >= 0; i--) {
        if (strides[i] != expect || shape[i] == 0)
            return 0;
        expect *= shape[i];
    }
    return 1;
}

/* NEW: view/reshape to `shape` (already parsed). allow_copy: reshape semantics. */
PyObject *view_reshape_impl(State *st, TensorObject *t, const Py_ssize_t *shape_in, int n, int allow_copy)
{
    if (tensor_ensure_sizes(st, t) < 0)
        return NULL;
    if (t->ndim > 0 && n <= TENSOR_INLINE_DIMS && row_major_nonempty(t)) { /* Note [Row-major view fast path] */
        Py_ssize_t shape[TENSOR_INLINE_DIMS], strides[TENSOR_INLINE_DIMS];
        memcpy(shape, shape_in, sizeof(Py_ssize_t) * n);
        if (infer_size(shape, n, tensor_numel(t)) < 0)
            return NULL;
        Py_ssize_t s = 1;
        for (int i = n - 1; i >= 0; i--) {
            strides[i] = s;
            s *= shape[i];
        }
        PyObject *arr = call_with_shape(st, t, st->f_reshape, shape, n);
        PyObject *out = tensor_make_view(st, t, arr, n, shape, strides, t->offset);
        return record_view(st, t, out, "ViewBackward0", out != NULL && AG(st, t) ? shape_of(t) : NULL);
    }
    Meta m, r;
    if (load_meta(st, t, &m) < 0)
        return NULL;
    memcpy(r.shape, shape_in, sizeof(Py_ssize_t) * n);
    r.ndim = n;
    r.offset = m.offset;
    if (infer_size(r.shape, n, tensor_numel(t)) < 0)
        return NULL;
    PyObject *arr = call_with_shape(st, t, st->f_reshape, r.shape, n);
    if (arr == NULL)
        return NULL;
    if (!compute_stride(&m, r.shape, n, r.strides)) {
        if (allow_copy)
            return record_view(st, t, tensor_wrap_result_steal(st, arr, t->dtype, t->device, tensor_numel(t)),
                               "UnsafeViewBackward0",
                               AG(st, t) ? shape_of(t) : NULL);
        Py_DECREF(arr);
        PyErr_SetString(PyExc_RuntimeError, "view size is not compatible with input tensor's size and stride (at least one "
                                             "dimension spans across two contiguous subspaces). Use .reshape(...) instead.");
        return NULL;
    }
    return record_view(st, t, finish(st, t, arr, &r), "ViewBackward0", AG(st, t) ? shape_of(t) : NULL);
}

/* NEW: a view of t with t's own metadata (x[...], x.view_as(x), detach-style aliases). */
PyObject *view_alias(State *st, TensorObject *t)
{
    Meta m;
    if (load_meta(st, t, &m) < 0)
        return NULL;
    PyObject *v = tensor_value(st, t);
    if (v == NULL)
        return NULL;
    return record_view(st, t, finish(st, t, Py_NewRef(v), &m), "AliasBackward0", AG(st, t) ? Py_NewRef(Py_None) : NULL);
}

static PyObject *m_alias(TensorObject *t, PyObject *noargs) { return view_alias(state_of_type(Py_TYPE(t)), t); }

/* _bit_view(bits): NEW view of t with t's metadata whose value is t's conjugated (VIEW_CONJ, torch._conj,
 * ConjBackward0) or negated (VIEW_NEG, torch._neg_view, NegViewBackward0): t's bits toggled (Note [Conjugate
 * views] in core.h). The callers check torch's dtype conditions (conj: complex only). */
static PyObject *m_bit_view(TensorObject *t, PyObject *bits_obj)
{
    State *st = state_of_type(Py_TYPE(t));
    long bits = PyLong_AsLong(bits_obj);
    if (bits == -1 && PyErr_Occurred())
        return NULL;
    if (bits != VIEW_CONJ && bits != VIEW_NEG) {
        PyErr_SetString(PyExc_ValueError, "_bit_view: bits must be VIEW_CONJ or VIEW_NEG");
        return NULL;
    }
    if (bits == VIEW_CONJ && !dt_is_complex(t->dtype)) {
        PyErr_SetString(PyExc_RuntimeError, "_bit_view: a conjugate view needs a complex tensor");
        return NULL;
    }
    Meta m;
    if (load_meta(st, t, &m) < 0)
        return NULL;
    PyObject *v = tensor_value(st, t);
    if (v == NULL)
        return NULL;
    PyObject *arr = view_bits_apply(st, v, (int)bits, t->device);
    /* inherits t's bits, then toggles them, so not a view of the whole base's value (Note [Views that are their base]) */
    TensorObject *r = (TensorObject *)tensor_make_view_exact(st, t, arr, m.ndim, m.shape, m.strides, m.offset);
    if (r == NULL)
        return NULL;
    r->view_bits ^= (char)bits;
    return record_view(st, t, (PyObject *)r, bits == VIEW_CONJ ? "ConjBackward0" : "NegViewBackward0",
                       AG(st, t) ? Py_NewRef(Py_None) : NULL);
}

static PyObject *m_is_conj(TensorObject *t, PyObject *noargs) { return PyBool_FromLong(t->view_bits & VIEW_CONJ); }

static PyObject *m_is_neg(TensorObject *t, PyObject *noargs) { return PyBool_FromLong(t->view_bits & VIEW_NEG); }

static PyObject *m_view(TensorObject *t, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    State *st = state_of_type(Py_TYPE(t));
    Py_ssize_t shape[MAXD];
    int n;
    if (kwnames && PyTuple_GET_SIZE(kwnames)) {
        if (nargs == 0 && PyTuple_GET_SIZE(kwnames) == 1 &&
            (PyUnicode_CompareWithASCIIString(PyTuple_GET_ITEM(kwnames, 0), "size") == 0 ||
             PyUnicode_CompareWithASCIIString(PyTuple_GET_ITEM(kwnames, 0), "dtype") == 0)) {
            nargs = 1;
        } else {
            PyErr_SetString(PyExc_TypeError, "view() received an invalid combination of arguments");
            return NULL;
        }
    }
    if (nargs == 0) {
        PyErr_SetString(PyExc_TypeError, "view() received an invalid combination of arguments - got (), but expected "
                                         "one of:\n * (torch.dtype dtype)\n * (tuple of ints size)\n");
        return NULL;
    }
    if (small_int_args(args, nargs, shape)) /* Note [Small int arguments] */
        return view_reshape_impl(st, t, shape, (int)nargs, 0);
    if (nargs == 1 && !PyLong_CheckExact(args[0]) && is_dtype_object(st, args[0])) {
        /* view(dtype): the Python layer handles it */
        return PyObject_CallMethod((PyObject *)t, "_view_dtype", "O", args[0]);
    }
    if (parse_shape(st, args, nargs, shape, &n, "view") < 0)
        return NULL;
    return view_reshape_impl(st, t, shape, n, 0);
}

static PyObject *m_reshape(TensorObject *t, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    State *st = state_of_type(Py_TYPE(t));
    Py_ssize_t shape[MAXD];
    int n;
    if (kwnames && PyTuple_GET_SIZE(kwnames)) {
        if (nargs == 0 && PyTuple_GET_SIZE(kwnames) == 1 &&
            PyUnicode_CompareWithASCIIString(PyTuple_GET_ITEM(kwnames, 0), "shape") == 0)
            nargs = 1;
        else {
            PyErr_SetString(PyExc_TypeError, "reshape() received an invalid combination of arguments");
            return NULL;
        }
    }
    if (nargs == 0) {
        PyErr_SetString(PyExc_TypeError, "reshape() missing 1 required positional arguments: \"shape\"");
        return NULL;
    }
    if (small_int_args(args, nargs, shape)) /* Note [Small int arguments] */
        return view_reshape_impl(st, t, shape, (int)nargs, 1);
    if (parse_shape(st, args, nargs, shape, &n, "reshape") < 0)
        return NULL;
    return view_reshape_impl(st, t, shape, n, 1);
}

/* Note [Self-checking C entries] (overrides.c): view and reshape check __torch_function__ themselves, unwrapped */
TF_CHECKED_ENTRY(checked_view, m_view, "view", 1, TensorObject *)
TF_CHECKED_ENTRY(checked_reshape, m_reshape, "reshape", 1, TensorObject *)

/* NEW: permute by `perm` (validated). */
static PyObject *permute_impl(State *st, TensorObject *t, const Py_ssize_t *perm, int n, const char *name)
{
    Meta m, r;
    if (load_meta(st, t, &m) < 0)
        return NULL;
    r.ndim = m.ndim;
    r.offset = m.offset;
    for (int i = 0; i < n; i++) {
        r.shape[i] = m.shape[perm[i]];
        r.strides[i] = m.strides[perm[i]];
    }
    PyObject *v = tensor_value(st, t);
    if (v == NULL)
        return NULL;
    int reversed = 1;
    for (int i = 0; i < n; i++)
        reversed &= perm[i] == n - 1 - i;
    PyObject *out;
    if (reversed && mx_device_is_default(st, t->device)) /* t(), .T: MLX's own property is cheapest */
        out = finish(st, t, PyObject_GetAttr(v, st->s_T), &r);
    else {
        PyObject *axes = ssize_tuple(perm, n);
        if (axes == NULL)
            return NULL;
        PyObject *arr = mx_call2(st, st->f_transpose, v, axes, t->device);
        Py_DECREF(axes);
        out = finish(st, t, arr, &r);
    }
    return record_view(st, t, out, name, AG(st, t) ? ssize_tuple(perm, n) : NULL);
}

static PyObject *m_transpose(TensorObject *t, PyObject *const *args, Py_ssize_t nargs)
{
    State *st = state_of_type(Py_TYPE(t));
    if (tensor_ensure_sizes(st, t) < 0)
        return NULL;
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "transpose() received an invalid combination of arguments - expected (int dim0, int dim1)");
        return NULL;
    }
    Py_ssize_t d0, d1, perm[MAXD];
    /* Note [Arguments before metadata] */
    if (int_arg(st, args[0], &d0, 1, "transpose") < 0 || int_arg(st, args[1], &d1, 1, "transpose") < 0 ||
        tensor_ensure_sizes(st, t) < 0 || normalize_dim(&d0, t->ndim) < 0 || normalize_dim(&d1, t->ndim) < 0)
        return NULL;
    int n = t->ndim;
    for (int i = 0; i < n; i++)
        perm[i] = i;
    if (n) {
        perm[d0] = d1;
        perm[d1] = d0;
    }
    return permute_impl(st, t, perm, n, "TransposeBackward0");
}

static PyObject *m_t(TensorObject *t, PyObject *noargs)
{
    State *st = state_of_type(Py_TYPE(t));
    if (tensor_ensure_sizes(st, t) < 0)
        return NULL;
    if (t->ndim > 2) {
        PyErr_Format(PyExc_RuntimeError, "t() expects a tensor with <= 2 dimensions, but self is %dD", t->ndim);
        return NULL;
    }
    Py_ssize_t perm[2] = {1, 0};
    if (t->ndim < 2)
        perm[0] = 0;
    return permute_impl(st, t, perm, t->ndim, "TBackward0");
}

static PyObject *m_permute(TensorObject *t, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    State *st = state_of_type(Py_TYPE(t));
    if (tensor_ensure_sizes(st, t) < 0)
        return NULL;
    Py_ssize_t dims[MAXD];
    int n;
    if (kwnames && PyTuple_GET_SIZE(kwnames))
        nargs = 1;
    if (parse_shape_ex(st, args, nargs, dims, &n, "permute", 1) < 0 || tensor_ensure_sizes(st, t) < 0)
        return NULL; /* sizes re-read: Note [Arguments before metadata] */
    if (n != t->ndim) {
        PyErr_Format(PyExc_RuntimeError,
                     "permute(sparse_coo): number of dimensions in the tensor input does not match the length of the "
                     "desired ordering of dimensions i.e. input.dim() = %d is not equal to len(dims) = %d",
                     t->ndim, n);
        return NULL;
    }
    unsigned long long seen = 0;
    for (int i = 0; i < n; i++) {
        if (normalize_dim(&dims[i], n) < 0)
            return NULL;
        if (seen & (1ULL << dims[i])) {
            PyErr_SetString(PyExc_RuntimeError, "permute(): duplicate dims are not allowed.");
            return NULL;
        }
        seen |= 1ULL << dims[i];
    }
    return permute_impl(st, t, dims, n, "PermuteBackward0");
}

/* NEW: unsqueeze at a normalised position in [0, ndim]. */
PyObject *view_unsqueeze(State *st, TensorObject *t, int d)
{
    Meta m, r;
    if (load_meta(st, t, &m) < 0)
        return NULL;
    if (m.ndim + 1 > MAXD) {
        PyErr_Format(PyExc_RuntimeError, "unsqueeze(): tensors with more than %d dimensions are not supported", MAXD);
        return NULL;
    }
    r.ndim = m.ndim + 1;
    r.offset = m.offset;
    for (int i = 0, j = 0; i < r.ndim; i++) {
        if (i == d) {
            r.shape[i] = 1;
            r.strides[i] = d >= m.ndim ? 1 : m.shape[d] * m.strides[d];
        } else {
            r.shape[i] = m.shape[j];
            r.strides[i] = m.strides[j];
            j++;
        }
    }
    PyObject *v = tensor_value(st, t);
    if (v == NULL)
        return NULL;
    PyObject *ax = PyLong_FromLong(d);
    if (ax == NULL)
        return NULL;
    PyObject *arr = mx_call2(st, st->f_expand_dims, v, ax, t->device);
    Py_DECREF(ax);
    return record_view(st, t, finish(st, t, arr, &r), "UnsqueezeBackward0", AG(st, t) ? Py_BuildValue("(i)", d) : NULL);
}

static PyObject *m_unsqueeze(TensorObject *t, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    State *st = state_of_type(Py_TYPE(t));
    if (tensor_ensure_sizes(st, t) < 0)
        return NULL;
    if (nargs + (kwnames ? PyTuple_GET_SIZE(kwnames) : 0) != 1) {
        PyErr_SetString(PyExc_TypeError, "unsqueeze() missing required argument 'dim' (pos 1)");
        return NULL;
    }
    Py_ssize_t d;
    /* Note [Arguments before metadata] */
    if (int_arg(st, args[0], &d, 1, "unsqueeze") < 0 || tensor_ensure_sizes(st, t) < 0 || normalize_dim(&d, t->ndim + 1) < 0)
        return NULL;
    return view_unsqueeze(st, t, (int)d);
}

static PyObject *m_squeeze(TensorObject *t, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    State *st = state_of_type(Py_TYPE(t));
    Meta m, r;
    char drop[MAXD] = {0};
    PyObject *dim = nargs ? args[0] : (kwnames && PyTuple_GET_SIZE(kwnames) ? args[0] : NULL);
    Py_ssize_t dims[MAXD];
    int n = 0;
    /* the dims are parsed before t's metadata is loaded: Note [Arguments before metadata] (m_select) */
    if (dim != NULL && dim != Py_None) {
        if (!PyTuple_Check(dim) && !PyList_Check(dim)) {
            if (int_arg(st, dim, &dims[0], 1, "squeeze") < 0)
                return NULL;
            n = 1;
        } else if (parse_shape_ex(st, &dim, 1, dims, &n, "squeeze", 1) < 0)
            return NULL;
    }
    if (load_meta(st, t, &m) < 0)
        return NULL;
    if (dim == NULL || dim == Py_None) {
        for (int i = 0; i < m.ndim; i++)
            drop[i] = m.shape[i] == 1;
    } else {
        for (int i = 0; i < n; i++)
            for (int j = 0; j < i; j++)
                if (dims[i] == dims[j] || (dims[i] < 0 ? dims[i] + m.ndim : dims[i]) == (dims[j] < 0 ? dims[j] + m.ndim : dims[j])) {
                    PyErr_Format(PyExc_RuntimeError, "dim %zd appears multiple times in the list of dims", dims[i]);
                    return NULL;
                }
        for (int i = 0; i < n; i++) {
            if (normalize_dim(&dims[i], m.ndim) < 0)
                return NULL;
            if (m.ndim && m.shape[dims[i]] == 1)
                drop[dims[i]] = 1;
        }
    }
    r.ndim = 0;
    r.offset = m.offset;
    PyObject *axes = PyList_New(0);
    if (axes == NULL)
        return NULL;
    for (int i = 0; i < m.ndim; i++) {
        if (drop[i]) {
            PyObject *x = PyLong_FromLong(i);
            if (x == NULL || PyList_Append(axes, x) < 0) {
                Py_XDECREF(x);
                Py_DECREF(axes);
                return NULL;
            }
            Py_DECREF(x);
        } else {
            r.shape[r.ndim] = m.shape[i];
            r.strides[r.ndim] = m.strides[i];
            r.ndim++;
        }
    }
    PyObject *v = tensor_value(st, t);
    if (v == NULL) {
        Py_DECREF(axes);
        return NULL;
    }
    PyObject *arr = PyList_GET_SIZE(axes) ? mx_call2(st, st->f_squeeze, v, axes, t->device) : Py_NewRef(v);
    Py_DECREF(axes);
    const char *name = (dim == NULL || dim == Py_None) ? "SqueezeBackward0"
                       : (PyTuple_Check(dim) || PyList_Check(dim)) ? "SqueezeBackward2" : "SqueezeBackward1";
    return record_view(st, t, finish(st, t, arr, &r), name, AG(st, t) ? Py_BuildValue("(N)", shape_of(t)) : NULL);
}

/* NEW: expand to `sizes` (torch's rules: new leading dims, -1 keeps, size-1 dims broadcast with stride 0). */
static PyObject *expand_impl(State *st, TensorObject *t, const Py_ssize_t *sizes, int n)
{
    Meta m, r;
    if (load_meta(st, t, &m) < 0)
        return NULL;
    if (n < m.ndim) {
        PyErr_Format(PyExc_RuntimeError,
                     "expand(torch.FloatTensor{...}, size=[...]): the number of sizes provided (%d) must be greater or "
                     "equal to the number of dimensions in the tensor (%d)",
                     n, m.ndim);
        return NULL;
    }
    r.ndim = n;
    r.offset = m.offset;
    for (int i = n - 1; i >= 0; i--) {
        int j = i - (n - m.ndim);
        Py_ssize_t want = sizes[i];
        if (j < 0) {
            if (want < 0) {
                PyErr_Format(PyExc_RuntimeError,
                             "The expanded size of the tensor (%zd) isn't allowed in a leading, non-existing dimension %d",
                             want, i);
                return NULL;
            }
            r.shape[i] = want;
            r.strides[i] = 0;
        } else if (want == -1 || want == m.shape[j]) {
            r.shape[i] = m.shape[j];
            r.strides[i] = m.strides[j];
        } else if (m.shape[j] == 1 && want >= 0) {
            r.shape[i] = want;
            r.strides[i] = 0;
        } else {
            PyErr_Format(PyExc_RuntimeError,
                         "The expanded size of the tensor (%zd) must match the existing size (%zd) at non-singleton "
                         "dimension %d.",
                         want, m.shape[j], i);
            return NULL;
        }
    }
    PyObject *arr = call_with_shape(st, t, st->f_broadcast_to, r.shape, n);
    return record_view(st, t, finish(st, t, arr, &r), "ExpandBackward0", AG(st, t) ? Py_BuildValue("(N)", shape_of(t)) : NULL);
}

static PyObject *m_expand(TensorObject *t, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    State *st = state_of_type(Py_TYPE(t));
    Py_ssize_t sizes[MAXD];
    int n;
    Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
    for (Py_ssize_t i = 0; i < nkw; i++)
        if (PyUnicode_CompareWithASCIIString(PyTuple_GET_ITEM(kwnames, i), "implicit") == 0)
            continue; /* ignored, as in torch's Python API */
        else if (PyUnicode_CompareWithASCIIString(PyTuple_GET_ITEM(kwnames, i), "size") == 0 && nargs == 0)
            nargs = 1;
    if (parse_shape(st, args, nargs, sizes, &n, "expand") < 0)
        return NULL;
    return expand_impl(st, t, sizes, n);
}

/* NEW: select `index` along normalised `dim`. */
PyObject *view_select(State *st, TensorObject *t, int dim, Py_ssize_t index)
{
    Meta m, r;
    if (load_meta(st, t, &m) < 0)
        return NULL;
    if (m.ndim == 0) {
        PyErr_SetString(PyExc_IndexError, "select() cannot be applied to a 0-dim tensor.");
        return NULL;
    }
    Py_ssize_t size = m.shape[dim];
    if (index < -size || index >= size) {
        PyErr_Format(PyExc_IndexError, "index %zd is out of bounds for dimension %d with size %zd", index, dim, size);
        return NULL;
    }
    if (index < 0)
        index += size;
    r.ndim = m.ndim - 1;
    r.offset = m.offset + index * m.strides[dim];
    for (int i = 0, j = 0; i < m.ndim; i++)
        if (i != dim) {
            r.shape[j] = m.shape[i];
            r.strides[j] = m.strides[i];
            j++;
        }
    PyObject *v = tensor_value(st, t);
    if (v == NULL)
        return NULL;
    PyObject *idx = PyLong_FromSsize_t(index), *key = NULL, *arr = NULL;
    if (idx == NULL)
        return NULL;
    if (dim == 0) {
        key = idx;
    } else {
        key = PyTuple_New(dim + 1);
        if (key == NULL) {
            Py_DECREF(idx);
            return NULL;
        }
        for (int i = 0; i < dim; i++) {
            PyObject *all = PySlice_New(NULL, NULL, NULL);
            if (all == NULL) {
                Py_DECREF(key);
                Py_DECREF(idx);
                return NULL;
            }
            PyTuple_SET_ITEM(key, i, all);
        }
        PyTuple_SET_ITEM(key, dim, idx);
    }
    arr = PyObject_GetItem(v, key);
    Py_DECREF(key);
    return record_view(st, t, finish(st, t, arr, &r), "SelectBackward0",
                       AG(st, t) ? Py_BuildValue("(Nin)", shape_of(t), dim, index) : NULL);
}

/* NEW: slice [start:stop:step] along normalised `dim`, bounds clamped as Python does (step > 0). */
PyObject *view_slice(State *st, TensorObject *t, int dim, Py_ssize_t start, Py_ssize_t stop, Py_ssize_t step)
{
    Meta m, r;
    if (load_meta(st, t, &m) < 0)
        return NULL;
    Py_ssize_t size = m.shape[dim];
    Py_ssize_t len = PySlice_AdjustIndices(size, &start, &stop, step);
    r = m;
    r.shape[dim] = len;
    r.strides[dim] = m.strides[dim] * step;
    r.offset = m.offset + start * m.strides[dim];
    PyObject *v = tensor_value(st, t);
    if (v == NULL)
        return NULL;
    PyObject *key = PyTuple_New(dim + 1);
    if (key == NULL)
        return NULL;
    for (int i = 0; i <= dim; i++) {
        PyObject *s;
        if (i < dim)
            s = PySlice_New(NULL, NULL, NULL);
        else {
            PyObject *a = PyLong_FromSsize_t(start), *b = PyLong_FromSsize_t(stop), *c = PyLong_FromSsize_t(step);
            s = (a && b && c) ? PySlice_New(a, b, c) : NULL;
            Py_XDECREF(a);
            Py_XDECREF(b);
            Py_XDECREF(c);
        }
        if (s == NULL) {
            Py_DECREF(key);
            return NULL;
        }
        PyTuple_SET_ITEM(key, i, s);
    }
    PyObject *arr = PyObject_GetItem(v, key);
    Py_DECREF(key);
    return record_view(st, t, finish(st, t, arr, &r), "SliceBackward0",
                       AG(st, t) ? Py_BuildValue("(Ninnn)", shape_of(t), dim, start, stop, step) : NULL);
}

static PyObject *m_select(TensorObject *t, PyObject *const *args, Py_ssize_t nargs)
{
    State *st = state_of_type(Py_TYPE(t));
    if (tensor_ensure_sizes(st, t) < 0)
        return NULL;
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "select() received an invalid combination of arguments - expected (int dim, int index)");
        return NULL;
    }
    /* Note [Arguments before metadata]: an argument's __index__ may run Python that replaces t's
     * storage (x.data = ...), so every int is parsed before t's sizes are read, and they are read afresh. */
    Py_ssize_t d, index;
    if (int_arg(st, args[0], &d, 1, "select") < 0 || int_arg(st, args[1], &index, 0, "select") < 0)
        return NULL;
    if (tensor_ensure_sizes(st, t) < 0)
        return NULL;
    if (t->ndim == 0) {
        PyErr_SetString(PyExc_IndexError, "select() cannot be applied to a 0-dim tensor.");
        return NULL;
    }
    if (normalize_dim(&d, t->ndim) < 0)
        return NULL;
    Py_ssize_t size = t->sizes[d];
    if (index < -size || index >= size) {
        PyObject *shape = ssize_tuple(t->sizes, t->ndim);
        PyErr_Format(PyExc_IndexError, "select(): index %zd out of range for tensor of size %R at dimension %zd", index,
                     shape, d);
        Py_XDECREF(shape);
        return NULL;
    }
    return view_select(st, t, (int)d, index);
}

static PyObject *m_narrow(TensorObject *t, PyObject *const *args, Py_ssize_t nargs)
{
    State *st = state_of_type(Py_TYPE(t));
    if (tensor_ensure_sizes(st, t) < 0)
        return NULL;
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "narrow() received an invalid combination of arguments - expected (int dim, int start, int length)");
        return NULL;
    }
    if (t->ndim == 0) {
        PyErr_SetString(PyExc_RuntimeError, "narrow() cannot be applied to a 0-dim tensor.");
        return NULL;
    }
    Py_ssize_t d, start, length; /* Note [Arguments before metadata] */
    if (int_arg(st, args[0], &d, 1, "narrow") < 0 || int_arg(st, args[1], &start, 0, "narrow") < 0 ||
        int_arg(st, args[2], &length, 0, "narrow") < 0)
        return NULL;
    if (tensor_ensure_sizes(st, t) < 0)
        return NULL;
    if (t->ndim == 0) {
        PyErr_SetString(PyExc_RuntimeError, "narrow() cannot be applied to a 0-dim tensor.");
        return NULL;
    }
    if (normalize_dim(&d, t->ndim) < 0)
        return NULL;
    Py_ssize_t size = t->sizes[d];
    if (start < -size || start > size) {
        PyErr_Format(PyExc_IndexError, "start out of range (expected to be in range of [%zd, %zd], but got %zd)", -size,
                     size, start);
        return NULL;
    }
    if (start < 0)
        start += size;
    if (length < 0 || start > size - length) {
        PyErr_Format(PyExc_RuntimeError, "start (%zd) + length (%zd) exceeds dimension size (%zd).", start, length, size);
        return NULL;
    }
    return view_slice(st, t, (int)d, start, start + length, 1);
}

static PyObject *get_T(TensorObject *t, void *c)
{
    State *st = state_of_type(Py_TYPE(t));
    PyObject *handled = tf_dispatch_getter(st, (PyObject *)t, "T"); /* Note [torch function check] */
    if (handled != NULL || PyErr_Occurred())
        return handled;
    if (tensor_ensure_sizes(st, t) < 0)
        return NULL;
    Py_ssize_t perm[MAXD];
    for (int i = 0; i < t->ndim; i++)
        perm[i] = t->ndim - 1 - i;
    return permute_impl(st, t, perm, t->ndim, "PermuteBackward0");
}

static PyObject *get_mT(TensorObject *t, void *c)
{
    State *st = state_of_type(Py_TYPE(t));
    PyObject *handled = tf_dispatch_getter(st, (PyObject *)t, "mT"); /* Note [torch function check] */
    if (handled != NULL || PyErr_Occurred())
        return handled;
    if (tensor_ensure_sizes(st, t) < 0)
        return NULL;
    if (t->ndim < 2) {
        PyErr_SetString(PyExc_RuntimeError, "tensor.mT is only supported on matrices or batches of matrices. Got 1-D tensor.");
        return NULL;
    }
    Py_ssize_t perm[MAXD];
    for (int i = 0; i < t->ndim; i++)
        perm[i] = i;
    perm[t->ndim - 1] = t->ndim - 2;
    perm[t->ndim - 2] = t->ndim - 1;
    return permute_impl(st, t, perm, t->ndim, "TransposeBackward0");
}

PyMethodDef tensor_view_methods[] = {
    {"view", (PyCFunction)(void (*)(void))checked_view, METH_FASTCALL | METH_KEYWORDS, NULL},
    {"reshape", (PyCFunction)(void (*)(void))checked_reshape, METH_FASTCALL | METH_KEYWORDS, NULL},
    {"transpose", (PyCFunction)(void (*)(void))m_transpose, METH_FASTCALL, NULL},
    {"swapaxes", (PyCFunction)(void (*)(void))m_transpose, METH_FASTCALL, NULL},
    {"swapdims", (PyCFunction)(void (*)(void))m_transpose, METH_FASTCALL, NULL},
    {"t", (PyCFunction)m_t, METH_NOARGS, NULL},
    {"permute", (PyCFunction)(void (*)(void))m_permute, METH_FASTCALL | METH_KEYWORDS, NULL},
    {"unsqueeze", (PyCFunction)(void (*)(void))m_unsqueeze, METH_FASTCALL | METH_KEYWORDS, NULL},
    {"squeeze", (PyCFunction)(void (*)(void))m_squeeze, METH_FASTCALL | METH_KEYWORDS, NULL},
    {"expand", (PyCFunction)(void (*)(void))m_expand, METH_FASTCALL | METH_KEYWORDS, NULL},
    {"select", (PyCFunction)(void (*)(void))m_select, METH_FASTCALL, NULL},
    {"narrow", (PyCFunction)(void (*)(void))m_narrow, METH_FASTCALL, NULL},
    {"_alias", (PyCFunction)m_alias, METH_NOARGS, NULL},
    {"_bit_view", (PyCFunction)m_bit_view, METH_O, NULL},
    {"is_conj", (PyCFunction)m_is_conj, METH_NOARGS, NULL},
    {"is_neg", (PyCFunction)m_is_neg, METH_NOARGS, NULL},
    {NULL}};

/* T and mT are properties; exported for tensor.c's getset via this table. */
PyGetSetDef tensor_view_getset[] = {
    {"T", (getter)get_T, NULL, NULL, NULL},
    {"mT", (getter)get_mT, NULL, NULL, NULL},
    {NULL}};
