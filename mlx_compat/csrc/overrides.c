/* overrides.c — the C side of the __torch_function__ protocol: the check every public entry makes, the
 * wrapper type that makes it for Python-level functions and methods, the thread-local switches behind
 * DisableTorchFunction(Subclass) and TorchFunctionMode, and Tensor.as_subclass. The same wrapper runs
 * Python-level calls on their tensors' device where a GPU exists (Note [Device scope]). The protocol
 * itself (collecting overloaded arguments, calling their __torch_function__, Tensor's default) is
 * mlx_compat/overrides.py; which function gets which wrapper is decided in _device_scope.install.
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

#include <stdlib.h>
#include <string.h>

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
__attribute__((noinline)) int tf_needed(State *st, PyObject *const *args, Py_ssize_t n)
{
    if (tf_modes_active && !tf_all_disabled)
        return 1;
    for (Py_ssize_t i = 0; i < n; i++)
        if (obj_wants_tf(st, args[i], 0))
            return !tf_subclass_disabled && !tf_all_disabled;
    return 0;
}

/* A vectorcall's arguments (`n` positional ones in `args`, then one per name in `kwnames`) as a NEW tuple in *tup and
 * a NEW dict in *kw. 0 / -1; on -1 the caller still releases whichever of the two was made. */
static int vectorcall_as_tuple_dict(PyObject *const *args, Py_ssize_t n, PyObject *kwnames, PyObject **tup,
                                    PyObject **kw)
{
    if ((*tup = PyTuple_New(n)) == NULL)
        return -1;
    for (Py_ssize_t i = 0; i < n; i++)
        PyTuple_SET_ITEM(*tup, i, Py_NewRef(args[i]));
    if ((*kw = PyDict_New()) == NULL)
        return -1;
    for (Py_ssize_t i = 0; kwnames && i < PyTuple_GET_SIZE(kwnames); i++)
        if (PyDict_SetItem(*kw, PyTuple_GET_ITEM(kwnames, i), args[n + i]) < 0)
            return -1;
    return 0;
}

/* NEW: overrides._dispatch(func, args, kwargs) for a vectorcall-style argument list. */
CORE_COLD PyObject *tf_dispatch(State *st, PyObject *func, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    Py_ssize_t n = PyVectorcall_NARGS(nargsf);
    PyObject *tup = NULL, *kw = NULL, *r = NULL;
    if (st->py_tf_dispatch == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "mlx_compat: __torch_function__ dispatch is not registered");
        return NULL;
    }
    if (vectorcall_as_tuple_dict(args, n, kwnames, &tup, &kw) < 0)
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

/* ---------------------------------------------------------------- device scope */

/* Note [Device scope]
 * The C core passes `stream=` to every MLX call of a tensor whose device is not MLX's default device.
 * The Python modules call mlx.core directly (mlx_op forwards and their mx.vjp backwards, compositions,
 * creation), and an MLX call without `stream=` runs on MLX's default device: the GPU wherever one
 * exists. A CPU tensor's op would then run on the GPU, and any float64 step in it fails there
 * ("float64 is not supported on the GPU"): gradcheck's float64 on a Mac, torch.special's float64
 * kernels, matrix_exp's float64 chain.
 * So where a GPU exists (or MLX_COMPAT_DEVICE_SCOPE=1 asks for it on a machine without one: the tests
 * do), _device_scope.install gives every public Python-level function and Python Tensor method, once at
 * import, a scope kind in the same TorchFunctionWrapper that makes the __torch_function__ check (one C
 * wrapper per function, no Python frame of its own); after the check:
 *  - SCOPE_TENSORS: the outermost such call finds its first Tensor argument (a positional one, the
 *    first item of a list/tuple positional one, then keyword values) and, when that tensor's device is
 *    not the current one, runs inside mx.stream(device). It raises a thread-local depth while it runs,
 *    so calls nested in it (ops built from ops, metadata methods) inherit its stream without looking:
 *    one check per user-level call.
 *  - SCOPE_DEVICE_ARG (creation functions) always looks, nested or not: the `device=` argument, else a
 *    tensor argument's device (the *_like functions), else the CPU (torch's default device). A device
 *    argument that does not parse runs unscoped, so the function raises torch's error for it.
 *  - _C._scoped(code, fn, ...) runs one call on device `code` the same way: recorded backwards (the
 *    engine calls them later), mlx_op's forwards, the optimizer's per-parameter updates.
 * The current device is tracked here, not asked of MLX: a thread-local code while a stream this
 * machinery entered is open, else MLX's default device at import (the assumption mx_call makes too).
 * So the common case (a tensor on the current device, a nested call, scope inactive) costs a few
 * integer and pointer tests and no Python call; only a call whose device differs pays for entering
 * and leaving mx.stream. A `with mx.stream(...)` opened by user code around our calls is not seen, as
 * the C ops do not see it either. Device codes, not MLX devices, are compared: under Note [Fake GPU] a
 * 'cuda' tensor's call enters mx.stream(cpu) where a real GPU's would enter mx.stream(gpu), so the
 * machinery runs (and is tested) on any machine. Without a GPU or the variable no wrapper gets a scope.
 */

enum { SCOPE_NONE = 0, SCOPE_TENSORS = 1, SCOPE_DEVICE_ARG = 2 };

static _Thread_local int scope_depth CORE_TLS;     /* open SCOPE_TENSORS calls on this thread */
static _Thread_local int scope_code CORE_TLS = -1; /* device of the innermost stream entered here, -1 for none */

typedef struct {
    PyObject *ctx; /* the entered mx.stream(...) context, or NULL */
    int prev_code; /* scope_code before it */
    int counted;   /* this call raised scope_depth */
} ScopeFrame;

#define SCOPE_FRAME_INIT {NULL, -1, 0}

/* The device code of the first Tensor among the positional arguments (or first items of list/tuple
 * ones), then the keyword values; -1 when there is none. Never raises. */
static int scope_device_of(State *st, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    PyTypeObject *tt = (PyTypeObject *)st->tensor_type;
    for (Py_ssize_t i = 0; i < nargs; i++) {
        PyObject *a = args[i];
        if (PyObject_TypeCheck(a, tt))
            return ((TensorObject *)a)->device;
        if ((PyTuple_Check(a) || PyList_Check(a)) && PySequence_Fast_GET_SIZE(a) > 0 &&
            PyObject_TypeCheck(PySequence_Fast_ITEMS(a)[0], tt))
            return ((TensorObject *)PySequence_Fast_ITEMS(a)[0])->device;
    }
    for (Py_ssize_t i = 0; kwnames != NULL && i < PyTuple_GET_SIZE(kwnames); i++)
        if (PyObject_TypeCheck(args[nargs + i], tt))
            return ((TensorObject *)args[nargs + i])->device;
    return -1;
}

/* A creation function's device: its `device=` argument, else a tensor argument's, else the CPU; -1
 * (no scope) for a device that does not parse. Never raises. */
static int scope_creation_device(State *st, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    PyObject *dev = NULL; /* borrowed */
    for (Py_ssize_t i = 0; kwnames != NULL && i < PyTuple_GET_SIZE(kwnames); i++) {
        PyObject *k = PyTuple_GET_ITEM(kwnames, i);
        if (k == st->s_device || PyUnicode_Compare(k, st->s_device) == 0)
            dev = args[nargs + i];
    }
    if (dev == NULL || dev == Py_None) {
        int code = scope_device_of(st, args, nargs, kwnames);
        return code < 0 ? DEV_CPU : code;
    }
    if (st->py_device_to_code == NULL)
        return -1;
    PyObject *c = PyObject_CallOneArg(st->py_device_to_code, dev);
    long code = c != NULL ? PyLong_AsLong(c) : -1;
    Py_XDECREF(c);
    if (code != DEV_CPU && code != DEV_GPU) {
        PyErr_Clear();
        return -1;
    }
    return (int)code;
}

/* Enter MLX's stream of device `code` into frame `f` unless it is the current device (or code < 0).
 * 0 / -1 with an exception. */
static int scope_enter(State *st, ScopeFrame *f, int code)
{
    int current = scope_code >= 0 ? scope_code : st->default_mx_device;
    if (code < 0 || code == current)
        return 0;
    PyObject *ctx = PyObject_CallOneArg(st->f_stream_ctx, st->mx_device[code]);
    if (ctx == NULL)
        return -1;
    PyObject *r = PyObject_VectorcallMethod(st->s_enter, &ctx, 1, NULL);
    if (r == NULL) {
        Py_DECREF(ctx);
        return -1;
    }
    Py_DECREF(r);
    f->ctx = ctx; /* the frame owns it */
    f->prev_code = scope_code;
    scope_code = code;
    return 0;
}

/* Close frame `f` after the call. STEALS `r` (the call's result, or NULL with its exception set) and
 * returns it, or NULL when leaving the stream failed. */
static inline PyObject *scope_leave(State *st, ScopeFrame *f, PyObject *r)
{
    if (f->counted)
        scope_depth--;
    if (f->ctx == NULL)
        return r;
    scope_code = f->prev_code;
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyObject *x = PyObject_VectorcallMethod(st->s_exit, &f->ctx, 1, NULL);
    if (x == NULL && r != NULL)
        Py_CLEAR(r); /* leaving failed: its error replaces the result */
    else if (x == NULL)
        PyErr_WriteUnraisable(f->ctx); /* the call's own error wins */
    Py_XDECREF(x);
    Py_CLEAR(f->ctx);
    if (type != NULL)
        PyErr_Restore(type, value, tb); /* steals */
    return r;
}

/* Open frame `f` for a call of a wrapper of scope kind `kind` (Note [Device scope]). 0 / -1; on -1 the
 * frame must still be closed. */
static inline int scope_begin(State *st, ScopeFrame *f, int kind, PyObject *const *args, size_t nargsf,
                              PyObject *kwnames)
{
    if (kind == SCOPE_NONE || !st->scope_active)
        return 0;
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    if (kind == SCOPE_TENSORS) {
        if (scope_depth > 0)
            return 0; /* nested: inherits the outer call's stream */
        f->counted = 1;
        scope_depth++;
        return scope_enter(st, f, scope_device_of(st, args, nargs, kwnames));
    }
    return scope_enter(st, f, scope_creation_device(st, args, nargs, kwnames));
}

/* NEW (None): _register_device_scope(to_code): mlx_compat._device.to_code, for creation functions' `device=`
 * (Note [Device scope]). */
PyObject *mod_register_device_scope(PyObject *m, PyObject *to_code)
{
    Py_XSETREF(state_of_module(m)->py_device_to_code, Py_NewRef(to_code));
    Py_RETURN_NONE;
}

/* NEW: _scoped(code, fn, *args, **kwargs): fn(*args, **kwargs) on MLX's stream of device `code` (None:
 * as is) when device scope is active (Note [Device scope]); no depth is raised, nested calls look. */
PyObject *mod_scoped(PyObject *m, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    State *st = state_of_module(m);
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    if (nargs < 2) {
        PyErr_SetString(PyExc_TypeError, "_scoped(code, fn, *args, **kwargs)");
        return NULL;
    }
    ScopeFrame f = SCOPE_FRAME_INIT;
    int code = -1;
    if (args[0] != Py_None && st->scope_active) {
        long c = PyLong_AsLong(args[0]);
        if (c == -1 && PyErr_Occurred())
            return NULL;
        if (c != DEV_CPU && c != DEV_GPU) {
            PyErr_SetString(PyExc_ValueError, "_scoped: bad device code");
            return NULL;
        }
        code = (int)c;
    }
    if (scope_enter(st, &f, code) < 0)
        return NULL;
    PyObject *r = PyObject_Vectorcall(args[1], args + 2, (size_t)(nargs - 2), kwnames);
    return scope_leave(st, &f, r);
}

/* NEW: _device_scope_state() -> (depth, code): this thread's open SCOPE_TENSORS calls and the device code
 * of the innermost stream entered (-1: none), for tests of Note [Device scope]. */
PyObject *mod_device_scope_state(PyObject *m, PyObject *noargs)
{
    return Py_BuildValue("(ii)", scope_depth, scope_code);
}

/* NEW: _device_of(args, kwargs=None): the device code of the first Tensor among args (or first items of
 * list/tuple ones), then kwargs' values; None when there is none. */
PyObject *mod_device_of(PyObject *m, PyObject *const *args, Py_ssize_t nargs)
{
    State *st = state_of_module(m);
    PyObject *seq = NULL, *r = NULL;
    if (nargs < 1 || nargs > 2 || (nargs == 2 && args[1] != Py_None && !PyDict_Check(args[1]))) {
        PyErr_SetString(PyExc_TypeError, "_device_of(args, kwargs=None)");
        return NULL;
    }
    seq = PySequence_Fast(args[0], "_device_of: args must be a sequence");
    if (seq == NULL)
        goto error;
    int code = scope_device_of(st, PySequence_Fast_ITEMS(seq), PySequence_Fast_GET_SIZE(seq), NULL);
    if (code < 0 && nargs == 2 && args[1] != Py_None) {
        PyObject *k, *v; /* borrowed */
        Py_ssize_t pos = 0;
        while (code < 0 && PyDict_Next(args[1], &pos, &k, &v))
            if (PyObject_TypeCheck(v, (PyTypeObject *)st->tensor_type))
                code = ((TensorObject *)v)->device;
    }
    r = code < 0 ? Py_NewRef(Py_None) : PyLong_FromLong(code);
error:
    Py_XDECREF(seq);
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
    int check;             /* makes Note [torch function check] (else only a device scope) */
    int scope;             /* SCOPE_* (Note [Device scope]) */
    int direct;            /* DIRECT_*: Note [Direct call of C functions] */
    void *cfunc;           /* the C function of a DIRECT_* fn */
    PyObject *cself;       /* DIRECT_FUNCTION: fn's module (BORROWED: fn holds it, and the wrapper holds fn) */
    PyTypeObject *ctype;   /* DIRECT_METHOD: the type whose instances the method takes (BORROWED, held by fn) */
} TFWrapper;

/* Note [Direct call of C functions]
 * Most wrapped functions are C: the fast paths' module functions (cat, where, softmax, ...) and the Tensor type's
 * own methods (view, ...), with METH_FASTCALL | METH_KEYWORDS. Calling them through PyObject_Vectorcall goes
 * through the builtin's or the method descriptor's vectorcall, which checks the arguments and calls the C
 * function. The wrapper notes the C function when it is made and calls it itself: a builtin with its module as
 * self; a method descriptor with the first argument as self after the check the descriptor would make (there is
 * one, and it is an instance of the method's type), else through the descriptor, which raises torch's error.
 * The result is checked by the interpreter's call of the wrapper itself. */
enum { DIRECT_NONE = 0, DIRECT_FUNCTION = 1, DIRECT_METHOD = 2 };
typedef PyObject *(*FastKeywordsFn)(PyObject *, PyObject *const *, Py_ssize_t, PyObject *);
#define CALL_FLAGS (METH_VARARGS | METH_FASTCALL | METH_NOARGS | METH_O | METH_KEYWORDS | METH_METHOD)

/* Fill w's direct-call fields from its fn (Note [Direct call of C functions]). */
static void tfw_set_direct(TFWrapper *w)
{
    PyObject *fn = w->fn;
    w->direct = DIRECT_NONE;
    if (PyCFunction_CheckExact(fn) && (PyCFunction_GET_FLAGS(fn) & CALL_FLAGS) == (METH_FASTCALL | METH_KEYWORDS)) {
        w->direct = DIRECT_FUNCTION;
        w->cfunc = (void *)PyCFunction_GET_FUNCTION(fn);
        w->cself = PyCFunction_GET_SELF(fn);
    } else if (Py_IS_TYPE(fn, &PyMethodDescr_Type)) {
        PyMethodDescrObject *d = (PyMethodDescrObject *)fn;
        if ((d->d_method->ml_flags & CALL_FLAGS) == (METH_FASTCALL | METH_KEYWORDS)) {
            w->direct = DIRECT_METHOD;
            w->cfunc = (void *)d->d_method->ml_meth;
            w->ctype = PyDescr_TYPE(d);
        }
    }
}

/* NEW: w's function called with these arguments (Note [Direct call of C functions]). */
static inline PyObject *tfw_call(TFWrapper *w, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    if (w->direct == DIRECT_FUNCTION)
        return ((FastKeywordsFn)w->cfunc)(w->cself, args, nargs, kwnames);
    if (w->direct == DIRECT_METHOD && nargs >= 1 && PyObject_TypeCheck(args[0], w->ctype))
        return ((FastKeywordsFn)w->cfunc)(args[0], args + 1, nargs - 1, kwnames);
    return PyObject_Vectorcall(w->fn, args, nargsf, kwnames);
}

/* Note [Argument error hook] (mlx_compat/_argcheck.py): with the wrapped function's exception set, let the
 * registered hook replace it by the exception torch raises for these arguments (a TypeError when no signature
 * accepts them, ...). Returns nothing; on return an exception is set (the original, or the hook's replacement
 * chained to it). */
static CORE_COLD void arg_error_hook(State *st, PyObject *func, PyObject *const *args, size_t nargsf,
                                     PyObject *kwnames)
{
    PyObject *type, *value, *tb, *tup = NULL, *kw = NULL, *r = NULL;
    Py_ssize_t n = PyVectorcall_NARGS(nargsf);
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    if (value == NULL || !PyErr_GivenExceptionMatches(type, PyExc_Exception))
        goto error; /* restores the original (KeyboardInterrupt, SystemExit, ...) */
    if (tb != NULL)
        PyException_SetTraceback(value, tb);
    if (vectorcall_as_tuple_dict(args, n, kwnames, &tup, &kw) < 0)
        goto error;
    r = PyObject_CallFunctionObjArgs(st->py_arg_error_hook, func, tup, kw, value, NULL);
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

/* arg_error_hook for wrapper `w`'s function: the hook is handed the wrapper, the public object. */
static CORE_COLD void tfw_arg_error(TFWrapper *w, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    arg_error_hook(w->st, (PyObject *)w, args, nargsf, kwnames);
}

/* Whether every item of list or tuple `o` is exactly a Tensor (1/0): the common sequence argument (cat's,
 * stack's), answered with one type comparison per item. */
static inline int plain_tensor_items(PyTypeObject *tt, PyObject *o)
{
    PyObject **items = PySequence_Fast_ITEMS(o);
    for (Py_ssize_t i = 0, k = PySequence_Fast_GET_SIZE(o); i < k; i++)
        if (Py_TYPE(items[i]) != tt)
            return 0;
    return 1;
}

/* Note [torch function check] on the wrapper's path: 0 when every argument is exactly a Tensor, an int, a
 * float, or a list or tuple of exact Tensors, and no mode is active (one type comparison per argument or
 * item, nothing looked up or built); else the full check. */
static inline int tfw_needed(State *st, PyObject *const *args, Py_ssize_t n)
{
    PyTypeObject *tt = (PyTypeObject *)st->tensor_type;
    if (tf_modes_active)
        return tf_needed(st, args, n);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyTypeObject *tp = Py_TYPE(args[i]);
        if (tp != tt && tp != &PyLong_Type && tp != &PyFloat_Type &&
            !((tp == &PyList_Type || tp == &PyTuple_Type) && plain_tensor_items(tt, args[i])))
            return tf_needed(st, args + i, n - i);
    }
    return 0;
}

/* tfw_vectorcall once the check is made, for a wrapper with a device scope while scope is active (Note [Device
 * scope]). NEW. */
static __attribute__((noinline)) PyObject *tfw_vectorcall_scoped(TFWrapper *w, PyObject *const *args, size_t nargsf,
                                                                 PyObject *kwnames)
{
    ScopeFrame f = SCOPE_FRAME_INIT;
    if (scope_begin(w->st, &f, w->scope, args, nargsf, kwnames) < 0)
        return scope_leave(w->st, &f, NULL);
    PyObject *r = tfw_call(w, args, nargsf, kwnames);
    if (r == NULL && w->st->py_arg_error_hook != NULL) /* Note [Argument error hook] */
        tfw_arg_error(w, args, nargsf, kwnames);
    return scope_leave(w->st, &f, r);
}

/* The wrapper's call: Note [torch function check], then the function, in its device scope where it has one
 * (out of line, Note [Cold error paths] in core.h). NEW. */
static PyObject *tfw_vectorcall(TFWrapper *w, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    State *st = w->st;
    Py_ssize_t n = PyVectorcall_NARGS(nargsf) + (kwnames ? PyTuple_GET_SIZE(kwnames) : 0);
    thread_pin(st); /* Note [Threads]: before the function makes any MLX node */
    if (w->check && tfw_needed(st, args, n))
        return tf_dispatch(st, (PyObject *)w, args, nargsf, kwnames);
    if (CORE_UNLIKELY(w->scope != SCOPE_NONE && st->scope_active))
        return tfw_vectorcall_scoped(w, args, nargsf, kwnames);
    PyObject *r = tfw_call(w, args, nargsf, kwnames);
    if (CORE_UNLIKELY(r == NULL) && st->py_arg_error_hook != NULL) /* Note [Argument error hook] */
        tfw_arg_error(w, args, nargsf, kwnames);
    return r;
}

/* Note [Self-checking C entries]
 * A TorchFunctionWrapper around a C function or method (Note [Direct call of C functions]) costs more than its own
 * few dozen instructions: CPython 3.11 specializes calls of exactly a builtin function or a method descriptor
 * (PRECALL_BUILTIN_FAST_WITH_KEYWORDS, PRECALL_METHOD_DESCRIPTOR_FAST_WITH_KEYWORDS: the C function called
 * straight from the bytecode), while any other callable, the wrapper, takes the interpreter's generic call, whose
 * code is hot nowhere else. Measured with callgrind on `a.view(16)`: the wrapper's call took 156 instructions and
 * 48 instruction-cache misses more per call than the bare method descriptor's (215 against 167 misses per call).
 * So the hottest C entries (SELF_CHECKING_METHODS, SELF_CHECKING_FUNCTIONS) stay unwrapped and make the
 * wrapper's work themselves: their method tables point at a trampoline (TF_CHECKED_METHOD / TF_CHECKED_FUNCTION
 * in core.h) that pins the thread (Note [Threads]), makes Note [torch function check] over self and the
 * arguments (tf_entry_plain: a type comparison per argument, the full check from the first other one, as
 * tfw_needed), hands a call that may need the protocol to tf_entry_dispatch, which passes the public object as
 * `func` (the method descriptor in the Tensor type's dict, the function in the module: the objects the user
 * calls, as the wrapper was), and on an error runs Note [Argument error hook] with that object. So their
 * behaviour is the wrapper's; overrides.install leaves them unwrapped (`_C._self_checking()` lists them) and
 * counts them overridable. C entries have no device scope (Note [Device scope] scopes Python functions only),
 * so the wrapper did nothing else for them. */
static const char *const SELF_CHECKING_METHODS[] = {"view", "reshape", "softmax", "log_softmax", "max", "min",
                                                     "amax", "amin", "argmax", "argmin", "item", NULL};
static const char *const SELF_CHECKING_FUNCTIONS[] = {"cat", "stack", "where", "softmax", "log_softmax", "max", "min",
                                                       "amax", "amin", "argmax", "argmin", "linear", NULL};

int tf_entry_plain(State *st, PyObject *self, PyObject *const *args, Py_ssize_t n)
{
    PyTypeObject *tt = (PyTypeObject *)st->tensor_type;
    if (tf_modes_active || (self != NULL && Py_TYPE(self) != tt && tf_needed(st, &self, 1)))
        return 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyTypeObject *tp = Py_TYPE(args[i]);
        if (tp != tt && tp != &PyLong_Type && tp != &PyFloat_Type &&
            !((tp == &PyList_Type || tp == &PyTuple_Type) && plain_tensor_items(tt, args[i])))
            /* the rest as the full check sees it: None, or a Parameter (whose __torch_function__ is torch's
             * disabled one), needs no dispatch (F.linear's weight and bias) */
            return !tf_needed(st, args + i, n - i);
    }
    return 1;
}

/* NEW: the public object of a self-checking entry: the Tensor type's method descriptor `name` (is_method), else
 * the function `name` of `owner`, the module (Note [Self-checking C entries]). */
static PyObject *entry_public(State *st, PyObject *owner, const char *name, int is_method)
{
    if (!is_method)
        return PyObject_GetAttrString(owner, name);
    PyObject *d = PyDict_GetItemString(((PyTypeObject *)st->tensor_type)->tp_dict, name); /* borrowed */
    if (d == NULL && !PyErr_Occurred())
        PyErr_Format(PyExc_AttributeError, "Tensor has no method %s", name);
    return Py_XNewRef(d);
}

/* The full argument vector of an entry's call (self first for a method) in *full, from `small` (room for 8) or
 * PyMem; *n_full its positional count. 0 / -1. */
static int entry_args(PyObject *self, int is_method, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames,
                      PyObject **small, PyObject ***full, Py_ssize_t *n_full)
{
    Py_ssize_t n = nargs + (kwnames ? PyTuple_GET_SIZE(kwnames) : 0) + (is_method ? 1 : 0);
    *full = small;
    if (n > 8 && (*full = PyMem_Malloc(sizeof(PyObject *) * (size_t)n)) == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    Py_ssize_t k = 0;
    if (is_method)
        (*full)[k++] = self;
    for (Py_ssize_t i = 0; k < n; i++)
        (*full)[k++] = args[i];
    *n_full = nargs + (is_method ? 1 : 0);
    return 0;
}

CORE_COLD PyObject *tf_entry_dispatch(State *st, PyObject *self, const char *name, int is_method,
                                      PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    PyObject *small[8], **full, *func = NULL, *r = NULL;
    Py_ssize_t n_full;
    if (entry_args(self, is_method, args, nargs, kwnames, small, &full, &n_full) < 0)
        return NULL;
    int needed = tf_needed(st, full, n_full + (kwnames ? PyTuple_GET_SIZE(kwnames) : 0));
    if (needed && (func = entry_public(st, self, name, is_method)) != NULL)
        r = tf_dispatch(st, func, full, (size_t)n_full, kwnames);
    Py_XDECREF(func);
    if (full != small)
        PyMem_Free(full);
    return r;
}

CORE_COLD void tf_entry_arg_error(State *st, PyObject *self, const char *name, int is_method, PyObject *const *args,
                                  Py_ssize_t nargs, PyObject *kwnames)
{
    PyObject *small[8], **full, *func, *type, *value, *tb;
    Py_ssize_t n_full;
    PyErr_Fetch(&type, &value, &tb);
    if (entry_args(self, is_method, args, nargs, kwnames, small, &full, &n_full) < 0) {
        PyErr_Clear();
        PyErr_Restore(type, value, tb);
        return;
    }
    func = entry_public(st, self, name, is_method);
    if (func == NULL)
        PyErr_Clear();
    PyErr_Restore(type, value, tb);
    if (func != NULL)
        arg_error_hook(st, func, full, (size_t)n_full, kwnames);
    Py_XDECREF(func);
    if (full != small)
        PyMem_Free(full);
}

/* _self_checking() -> tuple of the self-checking entries' public objects (Note [Self-checking C entries]): the
 * Tensor methods, then the module's functions. NEW. */
PyObject *mod_self_checking(PyObject *m, PyObject *noargs)
{
    State *st = state_of_module(m);
    PyObject *out = PyList_New(0), *o = NULL;
    if (out == NULL)
        return NULL;
    for (int k = 0; k < 2; k++)
        for (const char *const *name = k == 0 ? SELF_CHECKING_METHODS : SELF_CHECKING_FUNCTIONS; *name; name++) {
            if ((o = entry_public(st, m, *name, k == 0)) == NULL || PyList_Append(out, o) < 0)
                goto error;
            Py_CLEAR(o);
        }
    Py_SETREF(out, PyList_AsTuple(out));
    return out;
error:
    Py_XDECREF(o);
    Py_DECREF(out);
    return NULL;
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
    w->direct = DIRECT_NONE; /* its pointers are fn's */
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
/* NEW: the wrapper's scope kind and flags (Note [Device scope]). */
static PyObject *tfw_get_scope(TFWrapper *w, void *c) { return PyLong_FromLong(w->scope); }
static PyObject *tfw_get_scoped(TFWrapper *w, void *c) { return PyBool_FromLong(w->scope != SCOPE_NONE); }
static PyObject *tfw_get_check(TFWrapper *w, void *c) { return PyBool_FromLong(w->check); }

static PyObject *tfw_repr(TFWrapper *w) { return PyObject_Repr(w->fn); }

/* Pickled by reference, as the function it stands for (it replaced it in its module). */
static PyObject *tfw_reduce(TFWrapper *w, PyObject *noargs) { return PyObject_GetAttrString(w->fn, "__qualname__"); }

static PyGetSetDef tfw_getset[] = {
    {"__wrapped__", (getter)tfw_get_wrapped, NULL, NULL, NULL},
    {"_device_scope", (getter)tfw_get_scope, NULL, "0: none, 1: its tensors' device, 2: its device argument's", NULL},
    {"_device_scoped", (getter)tfw_get_scoped, NULL, "Whether calls run on their device (Note [Device scope])", NULL},
    {"_checks_torch_function", (getter)tfw_get_check, NULL, "Whether calls honour __torch_function__", NULL},
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
        /* Note [Specialized method loads]
         * CPython 3.11's LOAD_METHOD specializes `t.view(...)` (the method taken from the inline cache, no
         * attribute lookup per call) only when the descriptor's type is immutable as well as a method descriptor
         * (specialize.c's analyze_descriptor: a mutable descriptor type could gain a __set__), so the wrapper and
         * the registry's method forms (_C.OpMethod, dispatch.c) carry Py_TPFLAGS_IMMUTABLETYPE. 3.11 also wants
         * the instance's __dict__ to exist (LOAD_METHOD_WITH_DICT checks its keys; a type with tp_dictoffset and
         * no dict yet is not specialized, SPEC_FAIL_NO_DICT, and takes the generic lookup, _PyObject_GetMethod,
         * ~85 instructions): the Tensors the core makes have an empty one from birth for that (Note [Kept
         * instance dicts] in tensor.c). */
        .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL | Py_TPFLAGS_METHOD_DESCRIPTOR |
                 Py_TPFLAGS_IMMUTABLETYPE,
        .slots = slots,
    };
    PyObject *tp = PyType_FromModuleAndSpec(module, &spec, NULL);
    if (tp == NULL)
        return -1;
    st->tf_wrapper_type = tp;
    /* Note [Device scope]: on where a GPU exists, or where MLX_COMPAT_DEVICE_SCOPE=1 asks for it */
    const char *force = getenv("MLX_COMPAT_DEVICE_SCOPE");
    st->scope_active = st->gpu_available || (force != NULL && strcmp(force, "1") == 0);
    if ((st->f_stream_ctx = PyObject_GetAttrString(st->mx, "stream")) == NULL ||
        (st->s_device = PyUnicode_InternFromString("device")) == NULL ||
        (st->s_enter = PyUnicode_InternFromString("__enter__")) == NULL ||
        (st->s_exit = PyUnicode_InternFromString("__exit__")) == NULL)
        return -1;
    if (PyModule_AddIntConstant(module, "DEVICE_SCOPE", st->scope_active) < 0)
        return -1;
    return PyModule_AddObjectRef(module, "TorchFunctionWrapper", tp);
}

/* NEW: _tf_wrap(fn, scope=0, check=True) -> a TorchFunctionWrapper around fn that makes Note [torch
 * function check] when `check` and runs on a device of scope kind `scope` (Note [Device scope]). */
PyObject *mod_tf_wrap(PyObject *m, PyObject *const *args, Py_ssize_t nargs)
{
    State *st = state_of_module(m);
    long scope = SCOPE_NONE;
    int check = 1;
    if (nargs < 1 || nargs > 3) {
        PyErr_SetString(PyExc_TypeError, "_tf_wrap(fn, scope=0, check=True)");
        return NULL;
    }
    if (!PyCallable_Check(args[0])) {
        PyErr_SetString(PyExc_TypeError, "_tf_wrap expects a callable");
        return NULL;
    }
    if (nargs > 1 && (scope = PyLong_AsLong(args[1])) == -1 && PyErr_Occurred())
        return NULL;
    if (scope != SCOPE_NONE && scope != SCOPE_TENSORS && scope != SCOPE_DEVICE_ARG) {
        PyErr_SetString(PyExc_ValueError, "_tf_wrap: scope must be 0, 1 or 2");
        return NULL;
    }
    if (nargs > 2 && (check = PyObject_IsTrue(args[2])) < 0)
        return NULL;
    PyTypeObject *tp = (PyTypeObject *)st->tf_wrapper_type;
    TFWrapper *w = (TFWrapper *)tp->tp_alloc(tp, 0);
    if (w == NULL)
        return NULL;
    w->fn = Py_NewRef(args[0]);
    w->module = Py_NewRef(m);
    w->st = st;
    w->vectorcall = (vectorcallfunc)tfw_vectorcall;
    w->check = check;
    w->scope = (int)scope;
    tfw_set_direct(w);
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
