/* nnslots.c — the C side of nn.Module attribute reads: the registered-name slot, the class-level descriptor
 * through which `self.conv1`, `self.weight`, `self.running_mean` reach a module's _parameters, _buffers and
 * _modules (Note [registered-name slots] in nn/modules/module.py says when one is installed and why the lookup
 * order stays torch's).
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
        PyObject *oname = owner != NULL ? PyObject_GetAttrString(owner, "__name__") : NULL;
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
    for (int i = 0; i < 3; i++) {
        PyObject *m = PyDict_GetItemWithError(d, keys[i]); /* BORROWED */
        if (m == NULL && PyErr_Occurred())
            goto error;
        if (m == NULL || m == Py_None)
            continue;
        Py_INCREF(m); /* a __contains__ of another mapping may run code that drops it from the dict */
        result = slot_lookup(m, self->name);
        Py_DECREF(m);
        if (result != NULL || PyErr_Occurred())
            goto error; /* found, or failed */
    }
    PyErr_SetObject(PyExc_AttributeError, self->name);
error:
    Py_XDECREF(d);
    return result;
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
