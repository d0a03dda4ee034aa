/* fastpath.c — what the C fast paths of Python-level operators share (shape.c: cat/stack, pointwise.c:
 * where, reduce.c: max/min/amax/amin/argmax/argmin and softmax/log_softmax, mxcall.c: Tensor.item): their state (cached mlx.core
 * callables, the Python reference implementations they fall back to), the fallback call, keyword-argument
 * parsing, MLX calls with keywords, and recording with saved outputs.
 *
 * Note [Fast paths fall back]
 * A fast path handles the common, valid argument forms of an operator entirely in C (unwrap -> promote ->
 * stream -> MLX -> wrap -> record, with the core's helpers). Everything else — an unusual argument form
 * (out=, dtype=, named dims, mixed devices or dtypes where a cast would be recorded), any input the
 * operator refuses, and any error MLX raises on the way — goes, with the caller's arguments unchanged, to
 * the operator's Python implementation, registered with `_C._register_fallback(name, fn)`. That function
 * stays the reference: it makes every check and raises torch's exception types, so a fast path never
 * raises an argument error itself and cannot disagree with it about what is an error. A fast path runs
 * nothing observable before it decides (no recording, no writes), so falling back late is safe.
 * The __torch_function__ check (Note [torch function check]) is made by the TorchFunctionWrapper that
 * the public names get at import, before the fast path runs.
 */
#include "core.h"
#include <string.h>

/* BORROWED: the fast-path state (allocated at module init). */
static inline FastState *fs(State *st) { return st->fast; }

static PyMethodDef fast_tensor_methods[];

int fast_init(PyObject *m, State *st)
{
    FastState *f = PyMem_Calloc(1, sizeof(FastState));
    if (f == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    st->fast = f;
    st->cpu_math_min = INT64_MAX;
    if ((f->fallbacks = PyDict_New()) == NULL)
        return -1;
#define X(name)                                                       \
    if ((f->f_##name = PyObject_GetAttrString(st->mx, #name)) == NULL) \
        return -1;
    FAST_MX_FUNCS(X)
#undef X
    if ((f->kw_precise = Py_BuildValue("(s)", "precise")) == NULL ||
        (f->kw_precise_stream = Py_BuildValue("(ss)", "precise", "stream")) == NULL ||
        (f->kw_keepdims = Py_BuildValue("(s)", "keepdims")) == NULL ||
        (f->kw_keepdims_stream = Py_BuildValue("(ss)", "keepdims", "stream")) == NULL)
        return -1;
    if (PyModule_AddFunctions(m, fast_methods) < 0)
        return -1;
    /* the methods' fast paths are method descriptors of the Tensor type (named and pickled as its methods) */
    for (PyMethodDef *d = fast_tensor_methods; d->ml_name != NULL; d++) {
        PyObject *descr = PyDescr_NewMethod((PyTypeObject *)st->tensor_type, d);
        int rc = descr == NULL ? -1 : PyObject_SetAttrString(st->tensor_type, d->ml_name, descr);
        Py_XDECREF(descr);
        if (rc < 0)
            return -1;
    }
    return 0;
}

int fast_traverse(State *st, visitproc visit, void *arg)
{
    FastState *f = st->fast;
    if (f == NULL)
        return 0;
    Py_VISIT(f->fallbacks);
    Py_VISIT(f->rt_max);
    Py_VISIT(f->rt_min);
    Py_VISIT(f->cpu_softmax);
    Py_VISIT(f->cpu_log_softmax);
    Py_VISIT(f->cpu_where);
    Py_VISIT(f->cpu_sum);
#define X(name) Py_VISIT(f->f_##name);
    FAST_MX_FUNCS(X)
#undef X
    return 0;
}

void fast_clear(State *st)
{
    FastState *f = st->fast;
    if (f == NULL)
        return;
    Py_CLEAR(f->fallbacks);
    Py_CLEAR(f->rt_max);
    Py_CLEAR(f->rt_min);
    Py_CLEAR(f->cpu_softmax);
    Py_CLEAR(f->cpu_log_softmax);
    Py_CLEAR(f->cpu_where);
    Py_CLEAR(f->cpu_sum);
#define X(name) Py_CLEAR(f->f_##name);
    FAST_MX_FUNCS(X)
#undef X
    Py_CLEAR(f->kw_precise);
    Py_CLEAR(f->kw_precise_stream);
    Py_CLEAR(f->kw_keepdims);
    Py_CLEAR(f->kw_keepdims_stream);
}

void fast_free(State *st)
{
    fast_clear(st);
    PyMem_Free(st->fast);
    st->fast = NULL;
}

/* NEW: the registered Python implementation `name` called with the caller's arguments (Note [Fast paths
 * fall back]). Any exception a fast path set before deciding to fall back is cleared first. */
PyObject *fast_fallback(State *st, const char *name, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    PyErr_Clear();
    PyObject *fn = PyDict_GetItemString(fs(st)->fallbacks, name); /* borrowed */
    if (fn == NULL) {
        PyErr_Format(PyExc_RuntimeError, "mlx_compat: no Python implementation registered for '%s'", name);
        return NULL;
    }
    Py_INCREF(fn); /* the call may replace the registry entry */
    PyObject *r = PyObject_Vectorcall(fn, args, nargsf, kwnames);
    Py_DECREF(fn);
    return r;
}

/* Bind a vectorcall argument list to `names` (a NULL-terminated list of parameter names, the first
 * `npos` of which may be positional): out[i] is the BORROWED argument for names[i], or NULL when absent.
 * Returns 1 when bound, 0 when the form is not one the fast path takes (too many positionals, an unknown
 * or repeated keyword): the caller then falls back. Never raises. */
int fast_bind(PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames, const char *const *names, int npos,
              PyObject **out)
{
    int n = 0;
    while (names[n] != NULL)
        n++;
    for (int i = 0; i < n; i++)
        out[i] = NULL;
    if (nargs > npos)
        return 0;
    for (Py_ssize_t i = 0; i < nargs; i++)
        out[i] = args[i];
    Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
    for (Py_ssize_t k = 0; k < nkw; k++) {
        PyObject *key = PyTuple_GET_ITEM(kwnames, k);
        int found = 0;
        for (int i = 0; i < n; i++) {
            if (PyUnicode_CompareWithASCIIString(key, names[i]) == 0) {
                if (out[i] != NULL)
                    return 0;
                out[i] = args[nargs + k];
                found = 1;
                break;
            }
        }
        if (!found)
            return 0;
    }
    return 1;
}

/* A dim argument the fast path takes: an exact Python int (not bool). 1 with *out set, else 0. */
int fast_dim(PyObject *o, Py_ssize_t *out)
{
    if (o == NULL || !PyLong_CheckExact(o))
        return 0;
    int overflow = 0;
    long long v = PyLong_AsLongLongAndOverflow(o, &overflow);
    if (overflow || (v == -1 && PyErr_Occurred())) {
        PyErr_Clear();
        return 0;
    }
    *out = (Py_ssize_t)v;
    return 1;
}

/* A keepdim argument the fast path takes: absent (False), True or False. 1 with *out set, else 0. */
int fast_bool(PyObject *o, int *out)
{
    if (o == NULL || o == Py_False) {
        *out = 0;
        return 1;
    }
    if (o == Py_True) {
        *out = 1;
        return 1;
    }
    return 0;
}

/* NEW: f(*args, <kw values>) on `device`'s stream: `args` holds nargs positionals followed by the values of
 * the keywords `kw` (a tuple of names), and must have room for one more slot, where the stream goes when
 * `device` is not MLX's default (`kw_stream` is then `kw` + ("stream",)). */
PyObject *fast_mx_call_kw(State *st, PyObject *f, PyObject **args, Py_ssize_t nargs, PyObject *kw,
                          PyObject *kw_stream, int device)
{
    if (mx_device_is_default(st, device))
        return PyObject_Vectorcall(f, args, (size_t)nargs, kw);
    args[nargs + PyTuple_GET_SIZE(kw)] = st->mx_device[device];
    return PyObject_Vectorcall(f, args, (size_t)nargs, kw_stream);
}

/* Record the node registered as `name` (_C._register_backward) over `inputs`, with
 * ctx = [snapshots of saved..., extra] taken after recording, so an output of this very node saved in
 * ctx refers to the node weakly (Note [Autograd ownership] in autograd.c) and the graph is freed by
 * refcount. Does nothing unless grad mode is on and an input requires grad. 0 / -1. */
int fast_record(State *st, const char *name, PyObject *const *inputs, Py_ssize_t n_in, PyObject *const *saved,
                Py_ssize_t n_saved, PyObject *extra, PyObject *const *outputs, Py_ssize_t n_out)
{
    if (!autograd_needed(st, inputs, n_in))
        return 0;
    PyObject *ctx = NULL, *node = NULL;
    PyObject *entry = PyDict_GetItemString(st->backward_fns, name); /* borrowed (cls, fn, saves) */
    if (entry == NULL) {
        PyErr_Format(PyExc_RuntimeError, "mlx_compat: no derivative registered for '%s'", name);
        return -1;
    }
    ctx = PyList_New(n_saved + 1);
    if (ctx == NULL)
        goto error;
    for (Py_ssize_t i = 0; i < n_saved; i++)
        PyList_SET_ITEM(ctx, i, Py_NewRef(Py_None));
    PyList_SET_ITEM(ctx, n_saved, Py_NewRef(extra ? extra : Py_None));
    node = autograd_record(st, PyTuple_GET_ITEM(entry, 0), PyTuple_GET_ITEM(entry, 1), ctx, inputs, n_in, outputs,
                           n_out, PyObject_IsTrue(PyTuple_GET_ITEM(entry, 2)));
    if (node == NULL)
        goto error;
    for (Py_ssize_t i = 0; i < n_saved; i++) {
        PyObject *s = saved_snapshot(st, saved[i], node == Py_None ? NULL : node);
        if (s == NULL)
            goto error;
        if (PyList_SetItem(ctx, i, s) < 0) /* steals s */
            goto error;
    }
    Py_DECREF(node);
    Py_DECREF(ctx);
    return 0;
error:
    Py_XDECREF(node);
    Py_XDECREF(ctx);
    return -1;
}

/* NEW: a (values, indices) named tuple of class `type` (a tuple subclass from return_types). Steals a, b. */
PyObject *fast_pair(PyObject *type, PyObject *a, PyObject *b)
{
    PyObject *r = NULL;
    if (a == NULL || b == NULL)
        goto error;
    r = ((PyTypeObject *)type)->tp_alloc((PyTypeObject *)type, 2);
    if (r == NULL)
        goto error;
    PyTuple_SET_ITEM(r, 0, a);
    PyTuple_SET_ITEM(r, 1, b);
    return r;
error:
    Py_XDECREF(a);
    Py_XDECREF(b);
    return NULL;
}

/* _register_fallback(name, fn) -> None (NEW): the Python implementation fast path `name` falls back to. */
static PyObject *mod_register_fallback(PyObject *m, PyObject *args)
{
    State *st = state_of_module(m);
    PyObject *name, *fn;
    if (!PyArg_ParseTuple(args, "UO", &name, &fn))
        return NULL;
    if (!PyCallable_Check(fn)) {
        PyErr_SetString(PyExc_TypeError, "_register_fallback: fn must be callable");
        return NULL;
    }
    if (PyDict_SetItem(fs(st)->fallbacks, name, fn) < 0)
        return NULL;
    Py_RETURN_NONE;
}

/* _register_cpu_math(min_elements, softmax, log_softmax, where, sum) -> None (NEW): Note [Shapeless CPU
 * transcendentals] (_ops/cpu_math.py): from min_elements elements on, float32 tensors on the CPU device take the
 * registry's forward_cpu callables and these softmax(x, axis, stream=) / log_softmax(...) instead of MLX's
 * functions, 4-byte selects where(c, a, b, stream=) (Note [Selects in CPU kernels]) and whole sums and means
 * sum(x, keepdims, mean, stream=) (Note [Whole sums on the CPU]). */
static PyObject *mod_register_cpu_math(PyObject *m, PyObject *args)
{
    State *st = state_of_module(m);
    long long min_elements;
    PyObject *sm, *lsm, *wh, *sum;
    if (!PyArg_ParseTuple(args, "LOOOO", &min_elements, &sm, &lsm, &wh, &sum))
        return NULL;
    if (min_elements < 1 || !PyCallable_Check(sm) || !PyCallable_Check(lsm) || !PyCallable_Check(wh) ||
        !PyCallable_Check(sum)) {
        PyErr_SetString(PyExc_TypeError, "_register_cpu_math: a positive count and four callables");
        return NULL;
    }
    Py_XSETREF(fs(st)->cpu_sum, Py_NewRef(sum));
    Py_XSETREF(fs(st)->cpu_softmax, Py_NewRef(sm));
    Py_XSETREF(fs(st)->cpu_log_softmax, Py_NewRef(lsm));
    Py_XSETREF(fs(st)->cpu_where, Py_NewRef(wh));
    st->cpu_math_min = (int64_t)min_elements;
    Py_RETURN_NONE;
}

/* _register_return_types(max, min) -> None (NEW): the named tuples max/min(dim) return. */
static PyObject *mod_register_return_types(PyObject *m, PyObject *args)
{
    State *st = state_of_module(m);
    PyObject *mx_, *mn;
    if (!PyArg_ParseTuple(args, "OO", &mx_, &mn))
        return NULL;
    if (!PyType_Check(mx_) || !PyType_IsSubtype((PyTypeObject *)mx_, &PyTuple_Type) || !PyType_Check(mn) ||
        !PyType_IsSubtype((PyTypeObject *)mn, &PyTuple_Type)) {
        PyErr_SetString(PyExc_TypeError, "_register_return_types: expected tuple subclasses");
        return NULL;
    }
    Py_XSETREF(fs(st)->rt_max, Py_NewRef(mx_));
    Py_XSETREF(fs(st)->rt_min, Py_NewRef(mn));
    Py_RETURN_NONE;
}

#define FASTCALL(fn) (PyCFunction)(void (*)(void))(fn), METH_FASTCALL | METH_KEYWORDS

/* Note [Self-checking C entries] (overrides.c): the public functions and methods below check __torch_function__
 * themselves, unwrapped */
TF_CHECKED_ENTRY(checked_cat, fast_cat, "cat", 0, PyObject *)
TF_CHECKED_ENTRY(checked_stack, fast_stack, "stack", 0, PyObject *)
TF_CHECKED_ENTRY(checked_where, fast_where, "where", 0, PyObject *)
TF_CHECKED_ENTRY(checked_linear, fast_linear, "linear", 0, PyObject *)
TF_CHECKED_ENTRY(checked_softmax, fast_softmax, "softmax", 0, PyObject *)
TF_CHECKED_ENTRY(checked_log_softmax, fast_log_softmax, "log_softmax", 0, PyObject *)
TF_CHECKED_ENTRY(checked_max, fast_max, "max", 0, PyObject *)
TF_CHECKED_ENTRY(checked_min, fast_min, "min", 0, PyObject *)
TF_CHECKED_ENTRY(checked_amax, fast_amax, "amax", 0, PyObject *)
TF_CHECKED_ENTRY(checked_amin, fast_amin, "amin", 0, PyObject *)
TF_CHECKED_ENTRY(checked_argmax, fast_argmax, "argmax", 0, PyObject *)
TF_CHECKED_ENTRY(checked_argmin, fast_argmin, "argmin", 0, PyObject *)

PyMethodDef fast_methods[] = {
    {"_register_fallback", mod_register_fallback, METH_VARARGS,
     "Register the Python implementation a C fast path falls back to (Note [Fast paths fall back])."},
    {"_register_return_types", mod_register_return_types, METH_VARARGS, NULL},
    {"_register_cpu_math", mod_register_cpu_math, METH_VARARGS,
     "Register the large float32 CPU forwards (Note [Shapeless CPU transcendentals] in _ops/cpu_math.py)."},
    {"cat", FASTCALL(checked_cat), "cat($module, tensors, dim=0, *, out=None)\n--\n\nThe C fast path of torch.cat."},
    {"linear", FASTCALL(checked_linear), "linear($module, input, weight, bias=None)\n--\n\n"
     "The C fast path of nn.functional.linear (Note [linear in C], ops.c)."},
    {"stack", FASTCALL(checked_stack), "stack($module, tensors, dim=0, *, out=None)\n--\n\n"
     "The C fast path of torch.stack."},
    {"_set_channels_last", FASTCALL(fast_set_channels_last), NULL},
    {"_is_channels_last", FASTCALL(fast_is_channels_last), NULL},
    {"_channels_last_source", FASTCALL(fast_channels_last_source), NULL},
    {"where", FASTCALL(checked_where), "where($module, condition, input=None, other=None, *, out=None)\n--\n\n"
     "The C fast path of torch.where."},
    {"softmax", FASTCALL(checked_softmax), "softmax($module, input, dim=None, _stacklevel=3, dtype=None)\n--\n\n"
     "The C fast path of F.softmax."},
    {"log_softmax", FASTCALL(checked_log_softmax), "log_softmax($module, input, dim=None, _stacklevel=3, dtype=None)\n--\n\n"
     "The C fast path of F.log_softmax."},
    {"max", FASTCALL(checked_max), "max($module, input, dim=None, keepdim=False, *, out=None)\n--\n\n"
     "The C fast path of torch.max."},
    {"min", FASTCALL(checked_min), "min($module, input, dim=None, keepdim=False, *, out=None)\n--\n\n"
     "The C fast path of torch.min."},
    {"amax", FASTCALL(checked_amax), "amax($module, input, dim=(), keepdim=False, *, out=None)\n--\n\n"
     "The C fast path of torch.amax."},
    {"amin", FASTCALL(checked_amin), "amin($module, input, dim=(), keepdim=False, *, out=None)\n--\n\n"
     "The C fast path of torch.amin."},
    {"argmax", FASTCALL(checked_argmax), "argmax($module, input, dim=None, keepdim=False)\n--\n\n"
     "The C fast path of torch.argmax."},
    {"argmin", FASTCALL(checked_argmin), "argmin($module, input, dim=None, keepdim=False)\n--\n\n"
     "The C fast path of torch.argmin."},
    {NULL}};

/* NEW: fn(module, (self, *args), kwnames): a method call handed to the function form of its fast path. */
static PyObject *method_call(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames,
                             PyObject *(*fn)(PyObject *, PyObject *const *, Py_ssize_t, PyObject *))
{
    PyObject *m = PyType_GetModuleByDef(Py_TYPE(self), &mlx_compat_module); /* borrowed */
    if (m == NULL)
        return NULL;
    Py_ssize_t n = nargs + (kwnames ? PyTuple_GET_SIZE(kwnames) : 0);
    PyObject *small[8], **stack = small, *r;
    if (n + 1 > 8 && (stack = PyMem_Malloc(sizeof(PyObject *) * (n + 1))) == NULL)
        return PyErr_NoMemory();
    stack[0] = self;
    for (Py_ssize_t i = 0; i < n; i++)
        stack[i + 1] = args[i];
    r = fn(m, stack, nargs + 1, kwnames);
    if (stack != small)
        PyMem_Free(stack);
    return r;
}

#define METHOD(name, fn)                                                                                     \
    static PyObject *name(PyObject *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames) \
    {                                                                                                      \
        return method_call(self, args, nargs, kwnames, fn);                                                \
    }
METHOD(m_softmax, fast_softmax_method)
METHOD(m_log_softmax, fast_log_softmax_method)
METHOD(m_max, fast_max)
METHOD(m_min, fast_min)
METHOD(m_amax, fast_amax)
METHOD(m_amin, fast_amin)
METHOD(m_argmax, fast_argmax)
METHOD(m_argmin, fast_argmin)
METHOD(m_item, fast_item_method)
#undef METHOD
TF_CHECKED_ENTRY(checked_m_softmax, m_softmax, "softmax", 1, PyObject *)
TF_CHECKED_ENTRY(checked_m_log_softmax, m_log_softmax, "log_softmax", 1, PyObject *)
TF_CHECKED_ENTRY(checked_m_max, m_max, "max", 1, PyObject *)
TF_CHECKED_ENTRY(checked_m_min, m_min, "min", 1, PyObject *)
TF_CHECKED_ENTRY(checked_m_amax, m_amax, "amax", 1, PyObject *)
TF_CHECKED_ENTRY(checked_m_amin, m_amin, "amin", 1, PyObject *)
TF_CHECKED_ENTRY(checked_m_argmax, m_argmax, "argmax", 1, PyObject *)
TF_CHECKED_ENTRY(checked_m_argmin, m_argmin, "argmin", 1, PyObject *)
TF_CHECKED_ENTRY(checked_m_item, m_item, "item", 1, PyObject *)

static PyMethodDef fast_tensor_methods[] = {
    {"softmax", FASTCALL(checked_m_softmax), "softmax($self, dim, dtype=None)\n--\n\n"},
    {"log_softmax", FASTCALL(checked_m_log_softmax), "log_softmax($self, dim, dtype=None)\n--\n\n"},
    {"max", FASTCALL(checked_m_max), "max($self, dim=None, keepdim=False)\n--\n\n"},
    {"min", FASTCALL(checked_m_min), "min($self, dim=None, keepdim=False)\n--\n\n"},
    {"amax", FASTCALL(checked_m_amax), "amax($self, dim=(), keepdim=False)\n--\n\n"},
    {"amin", FASTCALL(checked_m_amin), "amin($self, dim=(), keepdim=False)\n--\n\n"},
    {"argmax", FASTCALL(checked_m_argmax), "argmax($self, dim=None, keepdim=False)\n--\n\n"},
    {"argmin", FASTCALL(checked_m_argmin), "argmin($self, dim=None, keepdim=False)\n--\n\n"},
    {"item", FASTCALL(checked_m_item), "item($self)\n--\n\nThe value of a one-element tensor as a Python number."},
    {NULL}};
