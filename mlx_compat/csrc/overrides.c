/* overrides.c — the C side of the __torch_function__ protocol: the check every public entry makes, the
 * wrapper type that makes it for Python-level functions and methods, the thread-local switches behind
 * DisableTorchFunction(Subclass) and TorchFunctionMode, and Tensor.as_subclass. The protocol itself
 * (collecting overloaded arguments, calling their __torch_function__, Tensor's default) is
 * mlx_compat/overrides.py.
 *
 * Note [torch function check]
 * Every public function and method (Python-level ones through a TorchFunctionWrapper installed at import,
 * operators, indexing and unary dunders in C) asks `tf_needed` before doing anything: does some argument
 * (positional, keyword, or an item of a tuple/list argument) have a type other than exactly Tensor that
 * defines a __torch_function__ other than torch._C._disabled_torch_function_impl, or is a
 * TorchFunctionMode active? For plain Tensors, Python scalars, None, slices and Ellipsis the answer comes
 * from a type-pointer comparison, so the check costs a few nanoseconds per argument; only other types
 * look `__torch_function__` up (CPython's type attribute cache). When the answer is yes, the call goes to
 * overrides._dispatch(public_api, args, kwargs) instead, which runs torch's handle_torch_function.
 * DisableTorchFunctionSubclass (Tensor.__torch_function__'s default runs the op under it) makes subclass
 * arguments count as plain ones; DisableTorchFunction also ignores modes.
 */
#include "core.h"
#include "structmember.h"

_Thread_local int tf_subclass_disabled;
_Thread_local int tf_all_disabled;
_Thread_local int tf_modes_active;

/* Whether type `tp` asks for dispatch (0/1): a __torch_function__ that is not the disabled one. */
static int type_wants_tf(State *st, PyTypeObject *tp)
{
    PyObject *f = _PyType_Lookup(tp, st->s_torch_function); /* borrowed, never raises */
    return f != NULL && f != st->disabled_tf;
}

static inline int trivial_type(State *st, PyTypeObject *tp)
{
    return tp == (PyTypeObject *)st->tensor_type || tp == &PyLong_Type || tp == &PyFloat_Type || tp == &PyBool_Type ||
           tp == Py_TYPE(Py_None) || tp == &PySlice_Type || tp == Py_TYPE(Py_Ellipsis) || tp == &PyUnicode_Type;
}

static int obj_wants_tf(State *st, PyObject *o, int depth)
{
    PyTypeObject *tp = Py_TYPE(o);
    if (trivial_type(st, tp))
        return 0;
    if (tp == &PyTuple_Type || tp == &PyList_Type) {
        if (depth > 0)
            return 0;
        PyObject **items = PySequence_Fast_ITEMS(o);
        for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(o); i++)
            if (obj_wants_tf(st, items[i], depth + 1))
                return 1;
        return 0;
    }
    return type_wants_tf(st, tp);
}

/* Note [torch function check]: whether the call with these arguments must go through __torch_function__. */
int tf_needed(State *st, PyObject *const *args, Py_ssize_t n)
{
    if (tf_modes_active && !tf_all_disabled)
        return 1;
    for (Py_ssize_t i = 0; i < n; i++)
        if (obj_wants_tf(st, args[i], 0))
            return !tf_subclass_disabled && !tf_all_disabled;
    return 0;
}

/* NEW: overrides._dispatch(func, args, kwargs) for a vectorcall-style argument list. */
PyObject *tf_dispatch(State *st, PyObject *func, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    Py_ssize_t n = PyVectorcall_NARGS(nargsf);
    PyObject *tup = NULL, *kw = NULL, *r = NULL;
    if (st->py_tf_dispatch == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "mlx_compat: __torch_function__ dispatch is not registered");
        return NULL;
    }
    tup = PyTuple_New(n);
    if (tup == NULL)
        goto error;
    for (Py_ssize_t i = 0; i < n; i++)
        PyTuple_SET_ITEM(tup, i, Py_NewRef(args[i]));
    kw = PyDict_New();
    if (kw == NULL)
        goto error;
    for (Py_ssize_t i = 0; kwnames && i < PyTuple_GET_SIZE(kwnames); i++)
        if (PyDict_SetItem(kw, PyTuple_GET_ITEM(kwnames, i), args[n + i]) < 0)
            goto error;
    r = PyObject_CallFunctionObjArgs(st->py_tf_dispatch, func, tup, kw, NULL);
error:
    Py_XDECREF(tup);
    Py_XDECREF(kw);
    return r;
}

/* NEW: dispatch `Tensor.<dunder>` (looked up on the Tensor type) with positional `args`. */
PyObject *tf_dispatch_dunder(State *st, const char *dunder, PyObject *const *args, Py_ssize_t n)
{
    PyObject *func = PyObject_GetAttrString(st->tensor_type, dunder);
    if (func == NULL)
        return NULL;
    PyObject *r = tf_dispatch(st, func, args, (size_t)n, NULL);
    Py_DECREF(func);
    return r;
}

/* NEW: the Tensor property `name` read on `self` through __torch_function__ (torch hands over
 * `Tensor.<name>.__get__`) when self asks for it; NULL without an exception when it does not. */
PyObject *tf_dispatch_getter(State *st, PyObject *self, const char *name)
{
    if (!(tf_modes_active || Py_TYPE(self) != (PyTypeObject *)st->tensor_type) || !tf_needed(st, &self, 1))
        return NULL;
    PyObject *descr = PyDict_GetItemString(((PyTypeObject *)st->tensor_type)->tp_dict, name); /* borrowed */
    if (descr == NULL) {
        PyErr_Format(PyExc_AttributeError, "Tensor has no property %s", name);
        return NULL;
    }
    PyObject *func = PyObject_GetAttrString(descr, "__get__");
    if (func == NULL)
        return NULL;
    PyObject *r = tf_dispatch(st, func, &self, 1, NULL);
    Py_DECREF(func);
    return r;
}

/* ---------------------------------------------------------------- the wrapper type */

typedef struct {
    PyObject_HEAD
    PyObject *fn;          /* the wrapped function or method descriptor */
    PyObject *module;      /* our module (keeps `st` alive) */
    State *st;
    vectorcallfunc vectorcall;
    PyObject *dict;
    PyObject *weakreflist;
} TFWrapper;

/* Note [Argument error hook] (mlx_compat/_argcheck.py): with the wrapped function's exception set, let the
 * registered hook replace it by the exception torch raises for these arguments (a TypeError when no signature
 * accepts them, ...). Returns nothing; on return an exception is set (the original, or the hook's replacement
 * chained to it). */
static void tfw_arg_error(TFWrapper *w, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    PyObject *type, *value, *tb, *tup = NULL, *kw = NULL, *r = NULL;
    Py_ssize_t n = PyVectorcall_NARGS(nargsf);
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    if (value == NULL || !PyErr_GivenExceptionMatches(type, PyExc_Exception))
        goto error; /* restores the original (KeyboardInterrupt, SystemExit, ...) */
    if (tb != NULL)
        PyException_SetTraceback(value, tb);
    tup = PyTuple_New(n);
    if (tup == NULL)
        goto error;
    for (Py_ssize_t i = 0; i < n; i++)
        PyTuple_SET_ITEM(tup, i, Py_NewRef(args[i]));
    kw = PyDict_New();
    if (kw == NULL)
        goto error;
    for (Py_ssize_t i = 0; kwnames && i < PyTuple_GET_SIZE(kwnames); i++)
        if (PyDict_SetItem(kw, PyTuple_GET_ITEM(kwnames, i), args[n + i]) < 0)
            goto error;
    r = PyObject_CallFunctionObjArgs(w->st->py_arg_error_hook, (PyObject *)w, tup, kw, value, NULL);
    if (r == NULL) {
        /* the replacement: keep it, drop the original (it is the replacement's __cause__) */
        Py_XDECREF(type);
        Py_XDECREF(value);
        Py_XDECREF(tb);
        type = value = tb = NULL;
    }
error:
    if (type != NULL) {
        PyErr_Clear(); /* a failure while calling the hook must not hide the function's own error */
        PyErr_Restore(type, value, tb);
    }
    Py_XDECREF(r);
    Py_XDECREF(tup);
    Py_XDECREF(kw);
}

static PyObject *tfw_vectorcall(TFWrapper *w, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    Py_ssize_t n = PyVectorcall_NARGS(nargsf) + (kwnames ? PyTuple_GET_SIZE(kwnames) : 0);
    thread_pin(w->st); /* Note [Threads]: before the function makes any MLX node */
    if (tf_needed(w->st, args, n))
        return tf_dispatch(w->st, (PyObject *)w, args, nargsf, kwnames);
    PyObject *r = PyObject_Vectorcall(w->fn, args, nargsf, kwnames);
    if (r == NULL && w->st->py_arg_error_hook != NULL)
        tfw_arg_error(w, args, nargsf, kwnames);
    return r;
}

static int tfw_traverse(TFWrapper *w, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(w));
    Py_VISIT(w->fn);
    Py_VISIT(w->module);
    Py_VISIT(w->dict);
    return 0;
}

static int tfw_clear(TFWrapper *w)
{
    Py_CLEAR(w->fn);
    Py_CLEAR(w->module);
    Py_CLEAR(w->dict);
    return 0;
}

static void tfw_dealloc(TFWrapper *w)
{
    PyTypeObject *tp = Py_TYPE(w);
    PyObject_GC_UnTrack(w);
    if (w->weakreflist != NULL)
        PyObject_ClearWeakRefs((PyObject *)w);
    tfw_clear(w);
    tp->tp_free((PyObject *)w);
    Py_DECREF(tp);
}

/* As a class attribute it binds like a function (Tensor.add(t, 1) and t.add(1) both work). */
static PyObject *tfw_descr_get(PyObject *self, PyObject *obj, PyObject *type)
{
    if (obj == NULL || obj == Py_None)
        return Py_NewRef(self);
    return PyMethod_New(self, obj);
}

/* Attributes the wrapper lacks come from the wrapped function (__name__, __doc__, __signature__, ...). */
static PyObject *tfw_getattro(TFWrapper *w, PyObject *name)
{
    PyObject *r = PyObject_GenericGetAttr((PyObject *)w, name);
    if (r != NULL || !PyErr_ExceptionMatches(PyExc_AttributeError))
        return r;
    PyErr_Clear();
    return PyObject_GetAttr(w->fn, name);
}

static PyObject *tfw_get_delegated(TFWrapper *w, void *name) { return PyObject_GetAttrString(w->fn, (const char *)name); }
static PyObject *tfw_get_wrapped(TFWrapper *w, void *c) { return Py_NewRef(w->fn); }

static PyObject *tfw_repr(TFWrapper *w) { return PyObject_Repr(w->fn); }

/* Pickled by reference, as the function it stands for (it replaced it in its module). */
static PyObject *tfw_reduce(TFWrapper *w, PyObject *noargs) { return PyObject_GetAttrString(w->fn, "__qualname__"); }

static PyGetSetDef tfw_getset[] = {
    {"__wrapped__", (getter)tfw_get_wrapped, NULL, NULL, NULL},
    {"__doc__", (getter)tfw_get_delegated, NULL, NULL, "__doc__"},
    {"__name__", (getter)tfw_get_delegated, NULL, NULL, "__name__"},
    {"__qualname__", (getter)tfw_get_delegated, NULL, NULL, "__qualname__"},
    {"__module__", (getter)tfw_get_delegated, NULL, NULL, "__module__"},
    {"__dict__", PyObject_GenericGetDict, PyObject_GenericSetDict, NULL, NULL},
    {NULL}};

static PyMethodDef tfw_methods[] = {{"__reduce__", (PyCFunction)tfw_reduce, METH_NOARGS, NULL}, {NULL}};

static PyMemberDef tfw_members[] = {
    {"__vectorcalloffset__", T_PYSSIZET, offsetof(TFWrapper, vectorcall), READONLY},
    {"__dictoffset__", T_PYSSIZET, offsetof(TFWrapper, dict), READONLY},
    {"__weaklistoffset__", T_PYSSIZET, offsetof(TFWrapper, weakreflist), READONLY},
    {NULL}};

int tf_wrapper_type_init(PyObject *module, State *st)
{
    PyType_Slot slots[] = {
        {Py_tp_doc, "A public function or method that honours __torch_function__ (Note [torch function check])."},
        {Py_tp_dealloc, tfw_dealloc},
        {Py_tp_traverse, tfw_traverse},
        {Py_tp_clear, tfw_clear},
        {Py_tp_call, PyVectorcall_Call},
        {Py_tp_descr_get, tfw_descr_get},
        {Py_tp_getattro, tfw_getattro},
        {Py_tp_repr, tfw_repr},
        {Py_tp_getset, tfw_getset},
        {Py_tp_methods, tfw_methods},
        {Py_tp_members, tfw_members},
        {0, NULL}};
    PyType_Spec spec = {
        .name = "mlx_compat._C.TorchFunctionWrapper",
        .basicsize = sizeof(TFWrapper),
        .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL | Py_TPFLAGS_METHOD_DESCRIPTOR,
        .slots = slots,
    };
    PyObject *tp = PyType_FromModuleAndSpec(module, &spec, NULL);
    if (tp == NULL)
        return -1;
    st->tf_wrapper_type = tp;
    return PyModule_AddObjectRef(module, "TorchFunctionWrapper", tp);
}

/* _tf_wrap(fn) -> a TorchFunctionWrapper around fn (NEW). */
PyObject *mod_tf_wrap(PyObject *m, PyObject *fn)
{
    State *st = state_of_module(m);
    if (!PyCallable_Check(fn)) {
        PyErr_SetString(PyExc_TypeError, "_tf_wrap expects a callable");
        return NULL;
    }
    PyTypeObject *tp = (PyTypeObject *)st->tf_wrapper_type;
    TFWrapper *w = (TFWrapper *)tp->tp_alloc(tp, 0);
    if (w == NULL)
        return NULL;
    w->fn = Py_NewRef(fn);
    w->module = Py_NewRef(m);
    w->st = st;
    w->vectorcall = (vectorcallfunc)tfw_vectorcall;
    return (PyObject *)w;
}

/* _register_torch_function(dispatch, disabled_impl): overrides._dispatch and the disabled marker. */
PyObject *mod_register_torch_function(PyObject *m, PyObject *args)
{
    State *st = state_of_module(m);
    PyObject *dispatch;
    if (!PyArg_ParseTuple(args, "O", &dispatch))
        return NULL;
    Py_XSETREF(st->py_tf_dispatch, Py_NewRef(dispatch));
    Py_RETURN_NONE;
}

/* _set_arg_error_hook(fn): Note [Argument error hook]; None unregisters it. Returns None (NEW). */
PyObject *mod_set_arg_error_hook(PyObject *m, PyObject *hook)
{
    State *st = state_of_module(m);
    Py_XSETREF(st->py_arg_error_hook, hook == Py_None ? NULL : Py_NewRef(hook));
    Py_RETURN_NONE;
}

/* _disabled_torch_function_impl(func, types, args=(), kwargs=None): what torch's Parameter sets as its
 * __torch_function__ to opt out: it just calls func (with subclass dispatch off). */
PyObject *mod_disabled_tf_impl(PyObject *m, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs < 2 || nargs > 4) {
        PyErr_SetString(PyExc_TypeError, "_disabled_torch_function_impl(func, types, args=(), kwargs=None)");
        return NULL;
    }
    PyObject *fargs = nargs > 2 ? args[2] : NULL, *fkw = nargs > 3 && args[3] != Py_None ? args[3] : NULL, *tup;
    tup = fargs ? PySequence_Tuple(fargs) : PyTuple_New(0);
    if (tup == NULL)
        return NULL;
    int prev = tf_subclass_disabled;
    tf_subclass_disabled = 1;
    PyObject *r = PyObject_Call(args[0], tup, fkw);
    tf_subclass_disabled = prev;
    Py_DECREF(tup);
    return r;
}

/* _torch_function_state(subclass_disabled, all_disabled, modes_active) -> the previous triple; -1 keeps
 * a field. DisableTorchFunction(Subclass) and TorchFunctionMode's stack use it. */
PyObject *mod_torch_function_state(PyObject *m, PyObject *args)
{
    int sub = -1, all = -1, modes = -1;
    if (!PyArg_ParseTuple(args, "|iii", &sub, &all, &modes))
        return NULL;
    PyObject *prev = Py_BuildValue("(iii)", tf_subclass_disabled, tf_all_disabled, tf_modes_active);
    if (sub >= 0)
        tf_subclass_disabled = sub;
    if (all >= 0)
        tf_all_disabled = all;
    if (modes >= 0)
        tf_modes_active = modes;
    return prev;
}

/* _has_torch_function(args tuple) -> bool: Note [torch function check] on these arguments. */
PyObject *mod_has_torch_function(PyObject *m, PyObject *args)
{
    State *st = state_of_module(m);
    PyObject *seq = PySequence_Fast(args, "has_torch_function expects a sequence");
    if (seq == NULL)
        return NULL;
    int r = tf_needed(st, PySequence_Fast_ITEMS(seq), PySequence_Fast_GET_SIZE(seq));
    Py_DECREF(seq);
    return PyBool_FromLong(r);
}
