/* nnmodule.c — the C side of nn.Module's per-forward work: the registered-name slot, the class-level descriptor
 * through which `self.conv1`, `self.weight`, `self.running_mean` reach a module's _parameters, _buffers and
 * _modules (Note [registered-name slots] in nn/modules/module.py says when one is installed and why the lookup
 * order stays torch's), and Module.__call__'s hook-free path (Note [Module call in C]).
 *
 * Note [Registered slots in C]
 * A forward reads its submodules and parameters through these slots: a ResNet-18 forward about 200 times. As a
 * Python descriptor each read cost ~230 ns on this CPU (the interpreter's call of a Python __get__, then
 * `obj.__dict__` and up to three dict.get calls), against ~40 ns for a plain instance attribute: some 7 % of
 * an eager inference forward's graph building. Here the same reads are C: the instance dict, then the three
 * dicts in __getattr__'s order. Exact dicts (what Module makes) are read directly; any other mapping a user put
 * there is asked with `in` and `[]`, as the Python descriptor did, so its own methods run. A name the instance
 * does not hold raises AttributeError(name), after which Python calls Module.__getattr__ (torch's message);
 * read on the class itself it raises the AttributeError torch's class gives.
 */
#include "core.h"
#include <structmember.h>

typedef struct {
    PyObject_HEAD
    PyObject *name; /* the attribute's name (str) */
} SlotObject;

/* NEW: the value of `name` in mapping `m` (BORROWED, not None), or NULL: with an exception set on error,
 * without one when m does not hold the name. */
static PyObject *slot_lookup(PyObject *m, PyObject *name)
{
    if (PyDict_CheckExact(m))
        return Py_XNewRef(PyDict_GetItemWithError(m, name));
    int has = PySequence_Contains(m, name); /* another mapping: its own __contains__ and __getitem__ */
    if (has <= 0)
        return NULL;
    return PyObject_GetItem(m, name);
}

/* tp_descr_get: NEW reference to the registered value, or NULL with AttributeError (Note [Registered slots
 * in C]). obj NULL: the read was on the class. */
static PyObject *slot_get(SlotObject *self, PyObject *obj, PyObject *owner)
{
    if (obj == NULL || obj == Py_None) {
        if (owner == NULL || owner == Py_None) { /* __get__(None) by hand: no class to name */
            PyErr_SetObject(PyExc_AttributeError, self->name);
            return NULL;
        }
        PyObject *oname = PyObject_GetAttrString(owner, "__name__");
        if (oname != NULL) {
            PyErr_Format(PyExc_AttributeError, "type object '%U' has no attribute '%U'", oname, self->name);
            Py_DECREF(oname);
        }
        return NULL;
    }
    State *st = (State *)PyType_GetModuleState(Py_TYPE(self));
    PyObject *result = NULL, *d = PyObject_GenericGetDict(obj, NULL);
    if (st == NULL || d == NULL)
        goto error;
    PyObject *keys[3] = {st->s_parameters, st->s_buffers, st->s_modules};
    for (int i = 0; i < 3 && result == NULL; i++) {
        PyObject *m = PyDict_GetItemWithError(d, keys[i]); /* BORROWED */
        if (m == NULL && PyErr_Occurred())
            goto error;
        if (m == NULL || m == Py_None)
            continue;
        Py_INCREF(m); /* a __contains__ of another mapping may run code that drops it from the dict */
        result = slot_lookup(m, self->name);
        Py_DECREF(m);
        if (result == NULL && PyErr_Occurred())
            goto error;
    }
    if (result == NULL)
        PyErr_SetObject(PyExc_AttributeError, self->name);
    Py_DECREF(d);
    return result;
error:
    Py_XDECREF(d);
    return NULL;
}

/* tp_new: RegisteredSlot(name). NEW. */
static PyObject *slot_new(PyTypeObject *tp, PyObject *args, PyObject *kwargs)
{
    PyObject *name;
    if (!PyArg_ParseTuple(args, "U:RegisteredSlot", &name))
        return NULL;
    if (kwargs != NULL && PyDict_GET_SIZE(kwargs) > 0) {
        PyErr_SetString(PyExc_TypeError, "RegisteredSlot() takes no keyword arguments");
        return NULL;
    }
    SlotObject *self = (SlotObject *)tp->tp_alloc(tp, 0);
    if (self == NULL)
        return NULL;
    self->name = Py_NewRef(name);
    return (PyObject *)self;
}

static int slot_traverse(SlotObject *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(self->name);
    return 0;
}

static int slot_clear(SlotObject *self)
{
    Py_CLEAR(self->name);
    return 0;
}

static void slot_dealloc(SlotObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    slot_clear(self);
    tp->tp_free((PyObject *)self);
    Py_DECREF(tp);
}

static PyMemberDef slot_members[] = {
    {"name", T_OBJECT, offsetof(SlotObject, name), READONLY, "the attribute's name"},
    {NULL},
};

/* Adds _C.RegisteredSlot to the module. 0 / -1. */
int nn_slot_type_init(PyObject *module)
{
    static PyType_Slot slots[] = {
        {Py_tp_doc, "The class-level descriptor of a registered parameter, buffer or submodule name "
                    "(Note [registered-name slots] in nn/modules/module.py)."},
        {Py_tp_new, slot_new},
        {Py_tp_descr_get, slot_get},
        {Py_tp_traverse, slot_traverse},
        {Py_tp_clear, slot_clear},
        {Py_tp_dealloc, slot_dealloc},
        {Py_tp_members, slot_members},
        {0, NULL},
    };
    static PyType_Spec spec = {"mlx_compat._C.RegisteredSlot", sizeof(SlotObject), 0,
                               Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_IMMUTABLETYPE, slots};
    PyObject *tp = PyType_FromModuleAndSpec(module, &spec, NULL);
    if (tp == NULL)
        return -1;
    int rc = PyModule_AddObjectRef(module, "RegisteredSlot", tp);
    Py_DECREF(tp);
    return rc;
}

/* Note [Module call in C]
 * Every submodule call of a forward (76 in a ResNet-18's) runs Module.__call__: with no hooks anywhere and the
 * module not compiled, it is `self.forward(*args, **kwargs)`. In Python that path cost ~340 ns per call over the
 * forward's own on this CPU (a frame, the packing and unpacking of *args and **kwargs, six dict reads, four global
 * reads, and `self._compiled_call_impl` through Module's __getattr__ hook); here ~100 ns, and an eager ResNet-18
 * inference forward builds its graph in 1.18x native MLX's time instead of 1.37x. Here Module.__call__ is a
 * _C.ModuleCall, a method descriptor (Py_TPFLAGS_METHOD_DESCRIPTOR: CPython calls it with `self` prepended, no bound
 * method made; read through an instance it binds like a function) whose call reads the instance dict's four hook
 * registries and `_compiled_call_impl` (the instance's, else its class's), the four global registries module.py
 * registered (_C._register_module_hooks; module.py mutates them and never rebinds them), and calls `self.forward`
 * with the arguments as they came. Anything else (a hook, a compiled module, a registry missing or replaced by a
 * non-dict) takes `self._wrapped_call_impl(*args, **kwargs)`, the Python path with hooks, which raises torch's
 * errors for a module whose __init__ never ran. */

typedef struct {
    PyObject_HEAD
    vectorcallfunc vectorcall;
} ModuleCallObject;

/* 1 when registry `r` (BORROWED, may be NULL) is an empty dict; 0 otherwise (absent, non-empty, or not a dict:
 * the Python path decides). */
static int empty_registry(PyObject *r)
{
    return r != NULL && PyDict_Check(r) && PyDict_GET_SIZE(r) == 0;
}

/* 1 when module `self` takes the hook-free path (Note [Module call in C]), 0 when not, -1 on error. */
static int module_call_plain(State *st, PyObject *self)
{
    if (st->nn_global_hooks == NULL)
        return 0;
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(st->nn_global_hooks); i++)
        if (!empty_registry(PyTuple_GET_ITEM(st->nn_global_hooks, i)))
            return 0;
    int plain = 1;
    PyObject *c = NULL, *d = PyObject_GenericGetDict(self, NULL);
    if (d == NULL) {
        PyErr_Clear(); /* no instance dict: the Python path raises what it raises */
        return 0;
    }
    for (int i = 0; plain && i < NN_HOOK_NAMES; i++) {
        PyObject *r = PyDict_GetItemWithError(d, st->nn_hook_names[i]); /* BORROWED */
        if (r == NULL && PyErr_Occurred())
            goto error;
        plain = empty_registry(r);
    }
    if (plain) {
        c = Py_XNewRef(PyDict_GetItemWithError(d, st->s_compiled_call_impl));
        if (c == NULL && PyErr_Occurred())
            goto error;
        /* not compiled on the instance: Module's class attribute (None), or a subclass's */
        if (c == NULL && (c = PyObject_GetAttr((PyObject *)Py_TYPE(self), st->s_compiled_call_impl)) == NULL)
            PyErr_Clear();
        plain = c == Py_None;
    }
    Py_XDECREF(c);
    Py_DECREF(d);
    return plain;
error:
    Py_XDECREF(c);
    Py_DECREF(d);
    return -1;
}

/* The call: args[0] is the module. NEW reference to what its forward (or the hook path) returns. */
static PyObject *module_call_vectorcall(PyObject *callable, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    if (nargs < 1) {
        PyErr_SetString(PyExc_TypeError, "Module.__call__ needs the module");
        return NULL;
    }
    State *st = (State *)PyType_GetModuleState(Py_TYPE(callable));
    PyObject *self = args[0], *result = NULL;
    int plain = st == NULL ? 0 : module_call_plain(st, self);
    if (plain < 0)
        return NULL;
    PyObject *fn = plain ? PyObject_GetAttr(self, st->s_forward) : PyObject_GetAttrString(self, "_wrapped_call_impl");
    if (fn == NULL)
        return NULL;
    /* the onward call skips `self` and keeps the caller's PY_VECTORCALL_ARGUMENTS_OFFSET, as CPython's
     * PyObject_VectorcallMethod does: its args[-1] is our args[0] */
    result = PyObject_Vectorcall(fn, args + 1, (size_t)(nargs - 1) | (nargsf & PY_VECTORCALL_ARGUMENTS_OFFSET),
                                 kwnames);
    Py_DECREF(fn);
    return result;
}

/* tp_descr_get: read through an instance, a bound method (as a function's would be); through the class, the
 * descriptor itself. NEW. */
static PyObject *module_call_get(PyObject *self, PyObject *obj, PyObject *owner)
{
    if (obj == NULL || obj == Py_None)
        return Py_NewRef(self);
    return PyMethod_New(self, obj);
}

/* tp_new: ModuleCall(). NEW. */
static PyObject *module_call_new(PyTypeObject *tp, PyObject *args, PyObject *kwargs)
{
    if (PyTuple_GET_SIZE(args) != 0 || (kwargs != NULL && PyDict_GET_SIZE(kwargs) != 0)) {
        PyErr_SetString(PyExc_TypeError, "ModuleCall() takes no arguments");
        return NULL;
    }
    ModuleCallObject *self = (ModuleCallObject *)tp->tp_alloc(tp, 0);
    if (self != NULL)
        self->vectorcall = module_call_vectorcall;
    return (PyObject *)self;
}

static void module_call_dealloc(PyObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    tp->tp_free(self);
    Py_DECREF(tp);
}

static PyMemberDef module_call_members[] = {
    {"__vectorcalloffset__", T_PYSSIZET, offsetof(ModuleCallObject, vectorcall), READONLY},
    {NULL},
};

/* What introspection reads of Module.__call__: torch's (its __call__ is the function _wrapped_call_impl) name and
 * signature (self, *args, **kwargs), so that inspect.signature(module) is torch's `(*args, **kwargs)`. NEW
 * references to str. */
static PyObject *module_call_name(PyObject *self, void *c) { return PyUnicode_FromString("_wrapped_call_impl"); }
static PyObject *module_call_qualname(PyObject *self, void *c) { return PyUnicode_FromString("Module._wrapped_call_impl"); }
static PyObject *module_call_signature(PyObject *self, void *c)
{
    return PyUnicode_FromString("(self, *args, **kwargs)");
}

static PyGetSetDef module_call_getset[] = {
    {"__name__", module_call_name, NULL, NULL, NULL},
    {"__qualname__", module_call_qualname, NULL, NULL, NULL},
    {"__text_signature__", module_call_signature, NULL, NULL, NULL},
    {NULL},
};

/* _C._register_module_hooks(tuple): the global hook registries of nn/modules/module.py (dicts it mutates and
 * never rebinds), read by every Module call (Note [Module call in C]). NEW reference to None. */
PyObject *mod_register_module_hooks(PyObject *m, PyObject *hooks)
{
    State *st = state_of_module(m);
    if (!PyTuple_Check(hooks)) {
        PyErr_SetString(PyExc_TypeError, "_register_module_hooks(tuple of dicts)");
        return NULL;
    }
    Py_XSETREF(st->nn_global_hooks, Py_NewRef(hooks));
    Py_RETURN_NONE;
}

/* Adds _C.ModuleCall to the module. 0 / -1. */
int nn_module_call_type_init(PyObject *module)
{
    static PyType_Slot slots[] = {
        {Py_tp_doc, "nn.Module.__call__'s hook-free path in C (Note [Module call in C])."},
        {Py_tp_new, module_call_new},
        {Py_tp_call, PyVectorcall_Call},
        {Py_tp_descr_get, module_call_get},
        {Py_tp_dealloc, module_call_dealloc},
        {Py_tp_members, module_call_members},
        {Py_tp_getset, module_call_getset},
        {0, NULL},
    };
    static PyType_Spec spec = {"mlx_compat._C.ModuleCall", sizeof(ModuleCallObject), 0,
                               Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE | Py_TPFLAGS_HAVE_VECTORCALL |
                                   Py_TPFLAGS_METHOD_DESCRIPTOR,
                               slots};
    PyObject *tp = PyType_FromModuleAndSpec(module, &spec, NULL);
    if (tp == NULL)
        return -1;
    int rc = PyModule_AddObjectRef(module, "ModuleCall", tp);
    Py_DECREF(tp);
    return rc;
}
