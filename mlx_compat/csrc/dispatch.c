/* dispatch.c — the operator registry: primitive operators declared once from Python (`_C.Op(...)`), each
 * run by one C path, with its function, method and in-place variants generated from the declaration.
 *
 * Note [Operator registry]
 * A primitive operator is declared once, in the Python module of its family, by constructing `_C.Op`:
 *   name         torch's name ("exp"); the in-place variant is name + "_"
 *   kind         OP_UNARY (forward is an MLX callable of one array), OP_NARY (forward takes the input and the
 *                declared `params`, optional, third and keyword operands: Note [Operands of n-ary ops]) or
 *                OP_BINARY: either the operator of ops.c's
 *                BIN table named `binary` (with torch's `alpha=` / `rounding_mode=` keywords where declared;
 *                `a + b` runs the same operator), or a `forward` of two arrays run under that table's operand
 *                rules by ops.c's binary_forward (weak Python scalars, torch's promotion, devices, broadcasting
 *                errors) with the declaration's dtype rule and `refuse`, torch's dtype refusals (REFUSE_BOOL,
 *                REFUSE_COMPLEX, REFUSE_INTEGRAL, REFUSE_COMPLEX_RUNTIME, REFUSE_INT_ZERO_DIV in core.h); `other`
 *                is torch's name of the second argument ("exponent" for pow)
 *   forward      the MLX callable; forward64 the one for float64 (Note [MLX float64 precision] in _precise.py).
 *                Both are called with `stream=` when the tensor's device is not MLX's default (as mx_call
 *                does), so a Python-level forward must accept `stream=` and pass it on. forward_cpu (unary
 *                ops, optional) is the one for float32 inputs on the CPU device with at least cpu_math_min elements
 *                (Note [Shapeless CPU transcendentals] in _ops/cpu_math.py). `scalar`, when given,
 *                is the forward's second positional argument (relu is mx.maximum(x, 0) without a Python frame).
 *   promotion    the result-dtype rule, the one `ElementwiseTypePromotionKind` of core.h (ops.c's table uses
 *                it too), torch's ELEMENTWISE_TYPE_PROMOTION_KIND: DEFAULT keeps the (promoted) input dtype,
 *                INT_TO_FLOAT computes integral and bool inputs in the default float dtype, BOOL_TO_LONG
 *                computes bool inputs in int64 (square), COMPLEX_TO_FLOAT gives complex inputs their real
 *                dtype (abs; its in-place form refuses complex as torch's), ALWAYS_BOOL (comparisons: ops.c),
 *                DOUBLE: float64 whatever the operands (float_power: Note [Always-double results]).
 *   flags        OPF_COMPLEX: complex inputs allowed (else torch's NotImplementedError "<name>_cpu");
 *                OPF_INT_IDENTITY: integral inputs are returned unchanged (rounding ops);
 *                OPF_NO_BOOL: bool inputs raise `bool_error`, an (exception type, message) pair (relu's
 *                RuntimeError, the rounding ops' NotImplementedError); OPF_NO_OUT: no `out=` (torch.relu);
 *                OPF_EXACT_OUT: `out=` must have the result's dtype (torch's structured rounding kernels);
 *                OPF_NO_INPLACE_GRAD: the in-place form records a node whose backward raises torch's
 *                NotImplementedError (acosh_: its derivative needs the overwritten input);
 *                OPF_TENSOR_FIRST / OPF_TENSORS_ONLY: binary ops whose torch signature takes (Tensor, Tensor or
 *                Scalar) / (Tensor, Tensor) (comparisons / maximum), with torch's TypeErrors; OPF_NUMBERS:
 *                the function form also takes two numbers, as torch's does (torch.add(2, 3) is a 0-dim tensor).
 *   derivative   a Python callable written with the package's own ops, so it differentiates again under
 *                create_graph: unary derivative(grad, *saved), where `saves` says which of (self, result) it
 *                takes, in that order (torch's derivatives.yaml names); binary (with a forward)
 *                derivative(grad, self, other[, result]) -> (grad_self, grad_other), a Python-scalar operand
 *                passed as the number (its gradient None). None: the op records no node (its result is a
 *                constant of its input, e.g. rounding). Ops over ops.c's operators have their derivative
 *                declared beside them in Python too, registered under the operator's C names (`add_tt`,
 *                `add_ts`, `add_st`) by which both the registry's forms and the operators (`a + b`) record.
 *   refusals     torch's dtype refusals with torch's exception type and message (Note [Declared refusals]).
 *   node         the backward node's class name ("ExpBackward0"), so grad_fn names are torch's; a binary op
 *                with a forward may give torch's names for (Tensor, Tensor), (Tensor, Scalar), (Scalar, Tensor)
 *                operands ("XlogyBackward0", "XlogyBackward2", "XlogyBackward1"); an n-ary op its names for the
 *                number and the tensor overload ("ClampBackward1", "ClampBackward0").
 *   fallback     binary ops: fallback(input, other, inplace) for the argument forms the C path leaves to Python
 *                (div's rounding_mode='trunc').
 *   variants     VARIANT_METHOD | VARIANT_INPLACE: the registry sets `Tensor.<name>` (a method descriptor) and
 *                `Tensor.<name>_` (the in-place method) on the C type.
 * The constructed object is the function form (`torch.exp`); `.method` and `.inplace` are the other two
 * forms, the same C struct with another `variant`. Every form's vectorcall runs the one path:
 *   __torch_function__ check (Note [torch function check]: exact Tensors cost a pointer compare; subclasses
 *   and foreign objects go to overrides._dispatch with this very object as `func`) -> unwrap -> dtype rule ->
 *   MLX call with `stream=` from the tensor's device -> wrap (tensor_wrap) -> record (autograd_record, only
 *   when grad mode is on and the input requires grad; saved values are snapshots taken after recording, so a
 *   saved result refers to its own node weakly, Note [Autograd ownership]) -> `out=` / in-place write.
 * The in-place form computes out of place, checks torch's cast rule, then writes through the view machinery
 * (tensor_write) and rebases history (autograd_commit, Note [In-place history]) exactly as the C operators'
 * in-place path does, so views and bases see the write and leaf/version checks are the same.
 * Results are plain Tensors; a subclass's result type comes from __torch_function__ (torch's rule).
 * Every declared op is also kept in the registry dict `_C._op_registry()` (name -> function form).
 */
#include "core.h"
#include "structmember.h"
#include <string.h>
#include <limits.h>
#include <math.h>

enum { OP_UNARY = 0, OP_BINARY = 1, OP_NARY = 2 };
enum { OPF_COMPLEX = 1, OPF_INT_IDENTITY = 2, OPF_NO_BOOL = 4, OPF_ALPHA = 8, OPF_ROUNDING = 16, OPF_NO_OUT = 32,
       OPF_EXACT_OUT = 64, OPF_TENSOR_FIRST = 128, OPF_TENSORS_ONLY = 256,
       OPF_NUMBERS = 512, OPF_NO_INPLACE_GRAD = 1024, OPF_SAME_KIND = 2048, OPF_NEED_ONE = 4096,
       OPF_EXACT_OUT_NUMBERS = 8192 };
/* Note [Operands of n-ary ops]: what an OP_NARY parameter accepts (ARG_*) and its role in the dtype rule (ROLE_*). */
enum { ARG_TENSOR = 1, ARG_NUMBER = 2, ARG_NONE = 4, ARG_FORM = 8, ARG_KWONLY = 16 };
enum { ROLE_PROMOTE = 0, ROLE_SAME = 1, ROLE_SAME_OR_0DIM = 2, ROLE_MASK = 3, ROLE_VALUE = 4, ROLE_SCALAR = 5 };
/* The dtype classes a refusal names. */
enum { DTM_BOOL = 1, DTM_INTEGRAL = 2, DTM_FLOAT = 4, DTM_COMPLEX = 8, DTM_HALF = 16 }; /* DTM_HALF: float16, bfloat16 */
#define NARY_MAX 3 /* parameters after `input` */
enum { SAVE_SELF = 1, SAVE_RESULT = 2 };
enum { VAR_FUNCTION = 0, VAR_METHOD = 1, VAR_INPLACE = 2 };
#define VARIANT_FLAG(v) (1 << (v)) /* the `variants` argument: VARIANT_FLAG(VAR_METHOD) | VARIANT_FLAG(VAR_INPLACE) */

typedef struct OpObject {
    PyObject_HEAD
    vectorcallfunc vectorcall;
    State *st;             /* the module state (the type holds the module, so it outlives the op) */
    PyObject *name;        /* torch's name, str */
    PyObject *forward;     /* MLX callable (unary ops) or NULL */
    PyObject *forward64;   /* float64 callable (unary ops) or NULL */
    PyObject *forward_cpu; /* unary ops: the callable for large float32 inputs on the CPU device, or NULL (Note
                              [Shapeless CPU transcendentals] in _ops/cpu_math.py) */
    PyObject *scalar;      /* the forwards' second positional argument, or NULL */
    PyObject *derivative;  /* callable(grad, *saved) or NULL */
    PyObject *node_cls;    /* Node subclass of the backward node, or NULL */
    PyObject *backward;    /* the engine's callable backward(ctx, grads), bound to the function form; or NULL */
    PyObject *bool_error;  /* (exception type, message) for OPF_NO_BOOL, or NULL */
    PyObject *method;      /* function form only: the method form, or NULL */
    PyObject *inplace;     /* function form only: the in-place form, or NULL */
    PyObject *fallback;    /* binary ops: fallback(input, other, inplace) for the forms C leaves to Python, or NULL */
    PyObject *node_ts;     /* binary ops outside ops.c's table: node class for (Tensor, Scalar), or NULL (node_cls) */
    PyObject *node_st;     /* ... and for (Scalar, Tensor), or NULL (node_cls) */
    PyObject *other_name;  /* binary ops: torch's name of the second argument ("other", "exponent"), str */
    PyObject *module;      /* function-only ops: the module holding the function form (Note [Function-only ops]), or NULL */
    PyObject *qualname;    /* function-only ops: its attribute name there, or NULL */
    PyObject *weakreflist;
    int kind, promotion, flags, saves, variant;
    int refuse;             /* binary ops outside ops.c's table: REFUSE_* (core.h), torch's dtype refusals */
    int binop, binop_floor; /* binary ops: ops.c's operator index, and the one for rounding_mode='floor' */
    int is_sub;
    PyObject *refusals;     /* tuple of (dtype classes, exception type, message, form, operands), or NULL */
    int nparams, npos;      /* n-ary ops: parameters after `input`, and how many of them are positional */
    PyObject *pname[NARY_MAX];    /* ... their names (str) */
    PyObject *pdefault[NARY_MAX]; /* ... their defaults, NULL where required */
    int paccept[NARY_MAX], prole[NARY_MAX]; /* ... ARG_* and ROLE_* */
} OpObject;

/* ---------------------------------------------------------------- small helpers */

/* torch.can_cast: no complex -> real, float -> integral, non-bool -> bool. */
static int op_can_cast(int from, int to)
{
    if (dt_is_complex(from) && !dt_is_complex(to))
        return 0;
    if (dt_is_float(from) && dt_is_integral(to, 1))
        return 0;
    if (from != DT_BOOL && to == DT_BOOL)
        return 0;
    return 1;
}

static CORE_COLD int raise_cast_error(int from, int to)
{
    PyErr_Format(PyExc_RuntimeError, "result type %s can't be cast to the desired output type %s", dtype_name(from),
                 dtype_name(to));
    return -1;
}

static PyObject *form_name(OpObject *op);

/* Whether dtype code `d` is in the DTM_* classes `mask`. */
static int dtype_in_classes(int d, int mask)
{
    return ((mask & DTM_BOOL) && d == DT_BOOL) || ((mask & DTM_INTEGRAL) && dt_is_integral(d, 0)) ||
           ((mask & DTM_FLOAT) && dt_is_float(d)) || ((mask & DTM_COMPLEX) && (dt_is_complex(d) || d == DT_C128)) ||
           ((mask & DTM_HALF) && (d == DT_F16 || d == DT_BF16));
}

/* Note [Declared refusals]
 * A declaration's `refusals` states torch's dtype refusals with torch's own exception type and message, each a
 * tuple (classes, exception type, message, form, operands): the op raises when the tested dtype is in the
 * DTM_* `classes`. The tested dtype is the result's (operands == 0) or the promoted dtype of the operands
 * in the bit set `operands` (bit 0 the input, bit i the i-th parameter: addcdiv's integral tensor1/tensor2),
 * which must all be tensors for the refusal to apply (clamp refuses bool with two tensor bounds only); `form` limits it to the number form (0) or the tensor form (1) of an op whose node name
 * depends on it (clamp's "clamp_scalar_cpu"), -1 to both. "{dtype}" in the message becomes torch's ScalarType
 * name ('Long'), "{name}" the form's name ("frac_"). Checked before any computing. 0 / -1. */
static int check_refusals(OpObject *op, int result_dt, int form, PyObject *const *operands, int n)
{
    PyObject *n_ = NULL, *msg = NULL;
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(op->refusals); i++) {
        PyObject *r = PyTuple_GET_ITEM(op->refusals, i);
        int classes = (int)PyLong_AsLong(PyTuple_GET_ITEM(r, 0)), rform = (int)PyLong_AsLong(PyTuple_GET_ITEM(r, 3));
        long which = PyLong_AsLong(PyTuple_GET_ITEM(r, 4));
        if ((rform >= 0 && rform != form) || (which >> n) != 0) /* the other form, or operands this op lacks */
            continue;
        int d = result_dt;
        if (which != 0) {
            d = DT_NONE;
            for (int k = 0; k < n && (which >> k); k++) {
                if (!(which & (1L << k)))
                    continue;
                if (!is_tensor(op->st, operands[k])) { /* a refusal of tensor operands: all must be tensors */
                    d = DT_NONE;
                    break;
                }
                int dk = ((TensorObject *)operands[k])->dtype;
                d = d == DT_NONE ? dk : promote_types(d, dk);
            }
        }
        if (d == DT_NONE || !dtype_in_classes(d, classes))
            continue;
        if ((n_ = form_name(op)) == NULL)
            return -1;
        msg = PyObject_CallMethod(PyTuple_GET_ITEM(r, 2), "replace", "ss", "{dtype}",
                                  d == DT_C128 ? "ComplexDouble" : dtype_name(d));
        if (msg != NULL)
            Py_SETREF(msg, PyObject_CallMethod(msg, "replace", "sO", "{name}", n_));
        if (msg != NULL)
            PyErr_SetObject(PyTuple_GET_ITEM(r, 1), msg);
        Py_XDECREF(msg);
        Py_DECREF(n_);
        return -1;
    }
    return 0;
}

/* The display name of a form: "exp", or "exp_" for the in-place form. NEW. */
static PyObject *form_name(OpObject *op)
{
    if (op->variant == VAR_INPLACE)
        return PyUnicode_FromFormat("%U_", op->name);
    return Py_NewRef(op->name);
}

static int requires_grad_of(TensorObject *t) { return t->requires_grad || tensor_grad_fn(t) != NULL; }

/* Note [Always-double results]
 * torch.float_power computes `input.to(dtype).pow(exponent.to(dtype))` with dtype float64, or complex128 where
 * either operand is complex, whatever the operands' own dtypes: no promotion between them (a uint64 exponent
 * joins a float32 base), and a Python scalar exponent is taken at double precision. The declared dtype rule
 * PROMOTE_DOUBLE (binary ops with a forward) is that rule: ops.c's binary_forward casts tensor operands to
 * float64 and calls forward64 (MLX's float64 power is accurate on the CPU). What torch checks before computing
 * comes with it, with torch's RuntimeErrors: the in-place form's `self` and `out=` must already have the result
 * dtype ("the base given to float_power_ has dtype Float but the operation's result requires dtype Double"),
 * checked before the leaf and autograd checks, as torch's composite does. Where MLX cannot hold the result the
 * op raises a TypeError instead of computing something else: complex128 (MLX has complex64 only; the README's
 * rule for complex128) and float64 on a GPU device (design rule 4: MLX's GPU backends have no float64, the
 * same refusal as `.to(torch.float64)` of a GPU tensor). The derivative sees the operands as given (a float32
 * base stays float32) and computes in float64 itself; the engine casts each gradient back to its input's
 * dtype, which is what torch's ToCopyBackward0 does after its PowBackward node. */

/* Note [Always-double results]: the dtype code a PROMOTE_DOUBLE op computes in for operand dtypes da, db. */
int double_result_dtype(int da, int db) { return dt_is_complex(da) || dt_is_complex(db) ? DT_C128 : DT_F64; }

/* Note [Always-double results]: 0 where MLX can hold op `name`'s result of dtype r on `device`, else -1 with the
 * TypeError (complex128; float64 on a GPU). */
int double_result_supported(const char *name, int r, int device)
{
    if (r == DT_C128) {
        PyErr_Format(PyExc_TypeError, "%s: complex128 is not supported by MLX (mlx_compat has complex64 only)", name);
        return -1;
    }
    if (device == DEV_GPU) {
        PyErr_Format(PyExc_TypeError, "%s computes in float64, which MLX's GPU backends don't support. Please use "
                                      "pow in float32, or compute %s on the CPU.", name, name);
        return -1;
    }
    return 0;
}

/* The dtype a binary operand stands for: a Tensor's, a Python number's (scalar_dtype), DT_NONE otherwise. */
static int operand_dtype(State *st, PyObject *o)
{
    return is_tensor(st, o) ? ((TensorObject *)o)->dtype : scalar_dtype(o);
}

/* Note [Always-double results]: torch's check, before computing, that the in-place form's self (`inplace`) or
 * `out` (BORROWED, may be NULL) already has the result dtype of a PROMOTE_DOUBLE op over x and y (BORROWED).
 * Operands that are no numbers are left to the operand check (torch's TypeError comes first). 0 / -1. */
static int check_double_target(OpObject *op, PyObject *x, PyObject *y, PyObject *out, int inplace)
{
    State *st = op->st;
    int dx = operand_dtype(st, x), dy = operand_dtype(st, y);
    if (dx == DT_NONE || dy == DT_NONE)
        return 0;
    int r = double_result_dtype(dx, dy);
    PyObject *target = inplace ? x : out;
    if (target == NULL || !is_tensor(st, target) || ((TensorObject *)target)->dtype == r)
        return 0;
    PyErr_Format(PyExc_RuntimeError, "the %s given to %U%s has dtype %s but the operation's result requires dtype %s",
                 inplace ? "base" : "output", op->name, inplace ? "_" : "", dtype_name(((TensorObject *)target)->dtype),
                 r == DT_C128 ? "ComplexDouble" : dtype_name(r));
    return -1;
}

/* ---------------------------------------------------------------- argument parsing */

/* The parsed arguments of any form. All BORROWED; NULL where not given. */
typedef struct {
    PyObject *input, *other, *alpha, *rounding_mode, *out;
} OpArgs;

/* Parse a vectorcall argument list by the form's signature:
 *   unary function  (input, *, out=None)             unary method/in-place  (self)
 *   binary function (input, other, *, [alpha=1 | rounding_mode=None], out=None)
 *   binary method/in-place (self, other, *, [alpha=1 | rounding_mode=None])
 * torch's TypeErrors for extra positionals and unknown keywords. 0 / -1. */
static int parse_args(OpObject *op, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames, OpArgs *a)
{
    memset(a, 0, sizeof *a);
    int is_fn = op->variant == VAR_FUNCTION;
    int npos = (op->kind == OP_BINARY ? 2 : 1);
    PyObject **slots[2] = {&a->input, &a->other};
    if (nargs > npos) {
        PyObject *n = form_name(op);
        if (n == NULL)
            return -1;
        if (is_fn)
            PyErr_Format(PyExc_TypeError, "%U() takes %d positional argument%s but %zd were given", n, npos,
                         npos == 1 ? "" : "s", nargs);
        else
            PyErr_Format(PyExc_TypeError, "%U() takes %d positional argument%s but %zd were given", n, npos - 1,
                         npos - 1 == 1 ? "" : "s", nargs - 1);
        Py_DECREF(n);
        return -1;
    }
    for (Py_ssize_t i = 0; i < nargs; i++)
        *slots[i] = args[i];
    Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
    for (Py_ssize_t i = 0; i < nkw; i++) {
        PyObject *k = PyTuple_GET_ITEM(kwnames, i), *v = args[nargs + i];
        PyObject **slot = NULL;
        if (is_fn && PyUnicode_CompareWithASCIIString(k, "input") == 0)
            slot = &a->input;
        else if (op->kind == OP_BINARY && PyUnicode_Compare(k, op->other_name) == 0)
            slot = &a->other;
        else if ((op->flags & OPF_ALPHA) && PyUnicode_CompareWithASCIIString(k, "alpha") == 0)
            slot = &a->alpha;
        else if ((op->flags & OPF_ROUNDING) && PyUnicode_CompareWithASCIIString(k, "rounding_mode") == 0)
            slot = &a->rounding_mode;
        else if (is_fn && !(op->flags & OPF_NO_OUT) && PyUnicode_CompareWithASCIIString(k, "out") == 0)
            slot = &a->out;
        if (slot == NULL || *slot != NULL) {
            PyObject *n = form_name(op);
            if (n == NULL)
                return -1;
            if (slot == NULL && !is_fn && op->kind == OP_UNARY)
                PyErr_Format(PyExc_TypeError, "Tensor.%U() takes no keyword arguments", n);
            else if (slot == NULL)
                PyErr_Format(PyExc_TypeError, "%U() got an unexpected keyword argument '%U'", n, k);
            else
                PyErr_Format(PyExc_TypeError, "%U() got multiple values for argument '%U'", n, k);
            Py_DECREF(n);
            return -1;
        }
        *slot = v;
    }
    if (a->input == NULL || (op->kind == OP_BINARY && a->other == NULL)) {
        PyObject *n = form_name(op);
        if (n == NULL)
            return -1;
        if (a->input == NULL)
            PyErr_Format(PyExc_TypeError, "%U() missing required argument '%s'", n, is_fn ? "input" : "self");
        else
            PyErr_Format(PyExc_TypeError, "%U() missing required argument '%U'", n, op->other_name);
        Py_DECREF(n);
        return -1;
    }
    if (a->out == Py_None)
        a->out = NULL;
    return 0;
}

/* Raise torch's TypeError for a non-Tensor `self` / `input`. Returns -1. */
static CORE_COLD int raise_not_tensor(OpObject *op, PyObject *o)
{
    PyObject *n = form_name(op);
    if (n == NULL)
        return -1;
    if (op->variant == VAR_FUNCTION)
        PyErr_Format(PyExc_TypeError, "%U(): argument 'input' (position 1) must be Tensor, not %.100s", n,
                     Py_TYPE(o)->tp_name);
    else
        PyErr_Format(PyExc_TypeError, "descriptor '%U' for 'Tensor' objects doesn't apply to a '%.100s' object", n,
                     Py_TYPE(o)->tp_name);
    Py_DECREF(n);
    return -1;
}

/* ---------------------------------------------------------------- unary: forward and record */

static PyObject *unary_forward_cast(OpObject *op, TensorObject *t, PyObject *v, int *out_dt);

/* Whether t has at least st->cpu_math_min elements (Note [Shapeless CPU transcendentals] in _ops/cpu_math.py):
 * its size bound rules out the small ones without reading a shape. */
static int cpu_math_takes(State *st, TensorObject *t)
{
    if (tensor_numel_bound(t) < st->cpu_math_min)
        return 0;
    if (tensor_ensure_sizes(st, t) < 0) {
        PyErr_Clear(); /* the forward's own call reports a broken value */
        return 0;
    }
    return tensor_numel(t) >= st->cpu_math_min;
}

/* NEW: the mx.array of op(t) and its dtype code in *out_dt (the dtype rule applied). *last: the result's N...C
 * source (NEW) when t has one (Note [Channels-last source] in layout.c), else NULL. */
static inline PyObject *unary_forward(OpObject *op, TensorObject *t, int *out_dt, PyObject **last)
{
    State *st = op->st;
    int d = t->dtype;
    PyObject *v = tensor_value(st, t);
    if (v == NULL)
        return NULL;
    if (op->refusals != NULL && check_refusals(op, d, 0, (PyObject **)&t, 1) < 0) /* Note [Declared refusals] */
        return NULL;
    if (CORE_LIKELY(dt_is_float(d))) { /* the common case: every declared forward keeps a floating dtype */
        *out_dt = d;
        PyObject *src = layout_source(t); /* elementwise: op(transpose(y)) is transpose(op(y)) */
        PyObject *args[2] = {src != NULL ? src : v, op->scalar};
        PyObject *f = d == DT_F64 ? op->forward64 : op->forward;
        if (op->forward_cpu != NULL && d == DT_F32 && t->device == DEV_CPU && cpu_math_takes(st, t))
            f = op->forward_cpu; /* Note [Shapeless CPU transcendentals] (_ops/cpu_math.py) */
        PyObject *r = mx_call(st, f, args, op->scalar ? 2 : 1, t->device);
        return src == NULL || r == NULL ? r : layout_from_last(st, r, t->ndim, t->device, last);
    }
    return unary_forward_cast(op, t, v, out_dt);
}

/* unary_forward for a non-floating input `v` (BORROWED, t's value): the dtype rule's casts around the forward.
 * NEW. */
static __attribute__((noinline)) PyObject *unary_forward_cast(OpObject *op, TensorObject *t, PyObject *v,
                                                              int *out_dt)
{
    State *st = op->st;
    int d = t->dtype;
    PyObject *x = NULL, *r = NULL, *cast;
    if (d == DT_BOOL && (op->flags & OPF_NO_BOOL)) {
        PyErr_SetObject(PyTuple_GET_ITEM(op->bool_error, 0), PyTuple_GET_ITEM(op->bool_error, 1));
        return NULL;
    }
    if (dt_is_complex(d) && !(op->flags & OPF_COMPLEX)) {
        PyErr_Format(PyExc_NotImplementedError, "\"%U_cpu\" not implemented for 'ComplexFloat'", op->name);
        return NULL;
    }
    int cd = (op->promotion == PROMOTE_INT_TO_FLOAT && !dt_is_complex(d)) ? st->default_dtype
             : (op->promotion == PROMOTE_BOOL_TO_LONG && d == DT_BOOL) ? DT_I64 : d;
    x = cd == d ? Py_NewRef(v) : mx_astype(st, v, cd, t->device);
    if (x == NULL)
        return NULL;
    if ((op->flags & OPF_INT_IDENTITY) && dt_is_integral(cd, 1))
        r = Py_NewRef(x);
    else {
        PyObject *args[2] = {x, op->scalar};
        r = mx_call(st, cd == DT_F64 ? op->forward64 : op->forward, args, op->scalar ? 2 : 1, t->device);
    }
    Py_DECREF(x);
    if (r == NULL)
        return NULL;
    /* COMPLEX_TO_FLOAT (abs): a complex input gives its real dtype */
    int rd = op->promotion == PROMOTE_COMPLEX_TO_FLOAT && dt_is_complex(cd) ? DT_F32 : cd;
    cast = mx_astype(st, r, rd, t->device);
    Py_DECREF(r);
    *out_dt = rd;
    return cast;
}

/* Record `res` = op(input) on the tape when grad mode is on and input requires grad: the node's ctx holds
 * snapshots of what the derivative takes, taken after recording (a saved result refers to its own node
 * weakly: Note [Autograd ownership] in autograd.c). 0 / -1. */
static int unary_record(OpObject *op, TensorObject *input, PyObject *res)
{
    State *st = op->st;
    if (op->derivative == NULL || !GRAD_ENABLED(st) || !requires_grad_of(input))
        return 0;
    PyObject *ins[1] = {(PyObject *)input}, *outs[1] = {res};
    PyObject *node = autograd_record(st, op->node_cls, op->backward, NULL, ins, 1, outs, 1, op->saves != 0);
    if (node == NULL)
        return -1;
    if (node == Py_None) {
        Py_DECREF(node);
        return 0;
    }
    int n = (op->saves & SAVE_SELF ? 1 : 0) + (op->saves & SAVE_RESULT ? 1 : 0), i = 0;
    PyObject *ctx = PyTuple_New(n);
    if (ctx == NULL)
        goto error;
    if (op->saves & SAVE_SELF) { /* Note [Saved inputs by value] (autograd.c) */
        PyObject *s = saved_input(st, node, i, 0, (PyObject *)input);
        if (s == NULL)
            goto error;
        PyTuple_SET_ITEM(ctx, i++, s);
    }
    if (op->saves & SAVE_RESULT) {
        PyObject *s = saved_snapshot(st, res, node);
        if (s == NULL)
            goto error;
        PyTuple_SET_ITEM(ctx, i++, s);
    }
    Py_XSETREF(((NodeObject *)node)->ctx, ctx);
    Py_DECREF(node);
    return 0;
error:
    Py_XDECREF(ctx);
    Py_DECREF(node);
    return -1;
}

/* The engine's backward of a declared op (bound to the function form): backward(ctx, grads) ->
 * (derivative(grads[0], *ctx),) for a unary op; a binary op's derivative returns its (grad_input,
 * grad_other) pair itself. NEW. */
static PyObject *op_backward(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    OpObject *op = (OpObject *)self;
    if (nargs != 2 || !PyTuple_Check(args[1]) || PyTuple_GET_SIZE(args[1]) < 1) {
        PyErr_SetString(PyExc_TypeError, "backward(ctx, grads)");
        return NULL;
    }
    PyObject *ctx = args[0], *stack[3 + NARY_MAX];
    Py_ssize_t n = 1;
    stack[0] = PyTuple_GET_ITEM(args[1], 0);
    if (PyTuple_Check(ctx))
        for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(ctx) && n < 3 + NARY_MAX; i++)
            stack[n++] = PyTuple_GET_ITEM(ctx, i);
    PyObject *g = PyObject_Vectorcall(op->derivative, stack, (size_t)n, NULL);
    if (g == NULL)
        return NULL;
    if (op->kind == OP_NARY) {
        if (PyTuple_Check(g) && PyTuple_GET_SIZE(g) == 1 + op->nparams)
            return g;
        Py_DECREF(g);
        PyErr_Format(PyExc_TypeError, "the derivative of %U must return one gradient per operand", op->name);
        return NULL;
    }
    if (op->kind == OP_BINARY) {
        if (PyTuple_Check(g) && PyTuple_GET_SIZE(g) == 2)
            return g;
        Py_DECREF(g);
        PyErr_Format(PyExc_TypeError, "the derivative of %U must return a (grad_input, grad_other) pair", op->name);
        return NULL;
    }
    PyObject *r = PyTuple_Pack(1, g);
    Py_DECREF(g);
    return r;
}

static PyMethodDef op_backward_def = {"backward", (PyCFunction)(void (*)(void))op_backward, METH_FASTCALL, NULL};

/* The in-place form's backward where torch has no in-place derivative (OPF_NO_INPLACE_GRAD: acosh_, whose
 * formula needs the overwritten input): torch records the op and raises when the backward reaches it. */
static PyObject *op_inplace_refused(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    PyErr_Format(PyExc_NotImplementedError, "the derivative for 'inplace version of %U' is not implemented.",
                 ((OpObject *)self)->name);
    return NULL;
}

static PyMethodDef op_inplace_refused_def = {"backward", (PyCFunction)(void (*)(void))op_inplace_refused, METH_FASTCALL,
                                             NULL};

/* ---------------------------------------------------------------- out= and in-place writes */

/* The write of an in-place form or of out= (Note [In-place history] in autograd.c): `cast` (BORROWED, the new value in t's
 * dtype) is written into t through the view machinery, then t's history is rebased on `result` (BORROWED: the
 * recorded out-of-place result, or NULL when nothing was recorded). An op with no derivative (a rounding op) on a
 * tensor with history makes it a constant, as torch's zero derivative does: autograd_commit decides from the
 * source it is given. `record`: whether a node was recorded for this write. 0 / -1. */
static int write_through(State *st, TensorObject *t, PyObject *cast, PyObject *result, int record)
{
    PyObject *base_snap = NULL, *src = NULL;
    int rc = -1;
    if (t->base && GRAD_ENABLED(st) && (record || t->base->grad_fn || t->grad_fn) &&
        (base_snap = saved_snapshot(st, (PyObject *)t->base, NULL)) == NULL)
        goto error;
    if (tensor_write(st, t, cast) < 0)
        goto error;
    if (result == NULL && !(GRAD_ENABLED(st) && (t->grad_fn || (t->base && t->base->grad_fn)))) {
        rc = 0;
        goto error; /* nothing to rebase */
    }
    src = result != NULL ? Py_NewRef(result) : tensor_wrap(st, cast, t->dtype, t->device);
    if (src == NULL)
        goto error;
    rc = autograd_commit(st, t, src, base_snap);
error:
    Py_XDECREF(src);
    Py_XDECREF(base_snap);
    return rc;
}

/* Write `res` (a fresh result Tensor) into `out` as torch's out= does: torch's cast rule, no autograd through
 * out= (torch's RuntimeError when an argument requires grad), a resize (with torch's warning when `out` had
 * elements) when the shapes differ. `any_rg`: some input requires grad. NEW reference to out, or NULL. */
static PyObject *write_out(OpObject *op, PyObject *out, TensorObject *res, int any_rg)
{
    State *st = op->st;
    PyObject *v = NULL, *shape = NULL;
    if (!is_tensor(st, out)) {
        PyErr_Format(PyExc_TypeError, "%U(): argument 'out' must be Tensor, not %.100s", op->name,
                     Py_TYPE(out)->tp_name);
        return NULL;
    }
    TensorObject *o = (TensorObject *)out;
    if (GRAD_ENABLED(st) && (any_rg || requires_grad_of(o))) {
        PyErr_Format(PyExc_RuntimeError,
                     "%U(): functions with out=... arguments don't support automatic differentiation, but one of "
                     "the arguments requires grad.", op->name);
        return NULL;
    }
    if ((op->flags & OPF_EXACT_OUT) && res->dtype != o->dtype) {
        PyErr_Format(PyExc_RuntimeError, "Found dtype %s but expected %s", dtype_name(o->dtype), dtype_name(res->dtype));
        return NULL;
    }
    if (!op_can_cast(res->dtype, o->dtype)) {
        raise_cast_error(res->dtype, o->dtype);
        return NULL;
    }
    if (tensor_ensure_sizes(st, o) < 0 || tensor_ensure_sizes(st, res) < 0)
        return NULL;
    int same = o->ndim == res->ndim;
    for (int i = 0; same && i < o->ndim; i++)
        same = o->sizes[i] == res->sizes[i];
    PyObject *rv = tensor_value(st, res);
    if (rv == NULL)
        return NULL;
    v = mx_astype(st, rv, o->dtype, o->device);
    if (v == NULL)
        return NULL;
    if (!same) {
        /* torch resizes out (warning when it held elements); a resized tensor is a fresh storage */
        if (tensor_numel(o) != 0) {
            PyObject *have = ssize_tuple(o->sizes, o->ndim), *want = ssize_tuple(res->sizes, res->ndim);
            PyObject *hl = have ? PySequence_List(have) : NULL, *wl = want ? PySequence_List(want) : NULL;
            int rc = hl && wl ? PyErr_WarnFormat(
                PyExc_UserWarning, 1,
                "An output with one or more elements was resized since it had shape %R, which does not match the "
                "required output shape %R. This behavior is deprecated, and in a future PyTorch release outputs will "
                "not be resized unless they have zero elements. You can explicitly reuse an out tensor t by resizing "
                "it, inplace, to zero elements with t.resize_(0).", hl, wl) : -1;
            Py_XDECREF(have);
            Py_XDECREF(want);
            Py_XDECREF(hl);
            Py_XDECREF(wl);
            if (rc < 0)
                goto error;
        }
        PyObject *r = PyObject_CallMethod(out, "_set_data", "O", v);
        if (r == NULL)
            goto error;
        Py_DECREF(r);
        Py_DECREF(v);
        return Py_NewRef(out);
    }
    if (tensor_check_inplace(st, o) < 0)
        goto error;
    if (write_through(st, o, v, (PyObject *)res, 0) < 0)
        goto error;
    Py_DECREF(v);
    return Py_NewRef(out);
error:
    Py_XDECREF(v);
    Py_XDECREF(shape);
    return NULL;
}

/* ---------------------------------------------------------------- the unary path */

/* The in-place form of a unary op on `t` (Note [In-place history] in autograd.c): computed out of place,
 * recorded, then written through. NEW reference to t, or NULL. */
static __attribute__((noinline)) PyObject *unary_call_inplace(OpObject *op, TensorObject *t)
{
    State *st = op->st;
    if (tensor_check_inplace(st, t) < 0)
        return NULL;
    if (op->promotion == PROMOTE_COMPLEX_TO_FLOAT && dt_is_complex(t->dtype)) {
        PyErr_Format(PyExc_RuntimeError, "In-place %U is not supported for complex tensors.", op->name);
        return NULL;
    }
    int dt;
    PyObject *last = NULL, *arr = unary_forward(op, t, &dt, &last), *result = NULL, *cast = NULL;
    if (arr == NULL)
        return NULL;
    if (dt != t->dtype && !op_can_cast(dt, t->dtype)) {
        Py_XDECREF(last);
        Py_DECREF(arr);
        raise_cast_error(dt, t->dtype);
        return NULL;
    }
    cast = dt == t->dtype ? arr : mx_astype(st, arr, t->dtype, t->device);
    if (cast != arr) {
        Py_DECREF(arr);
        Py_CLEAR(last); /* the source of arr, not of cast */
    }
    if (cast == NULL)
        return NULL;
    int record = op->derivative != NULL && GRAD_ENABLED(st) && requires_grad_of(t);
    if (record) {
        result = tensor_wrap(st, cast, t->dtype, t->device);
        if (result == NULL || unary_record(op, t, result) < 0)
            goto error;
        ((TensorObject *)result)->ndim = t->ndim;
    }
    int rc = write_through(st, t, cast, result, record);
    if (rc == 0)
        layout_set_source(t, Py_XNewRef(last), cast); /* Note [Channels-last source] (layout.c) */
    Py_DECREF(cast);
    Py_XDECREF(result);
    Py_XDECREF(last);
    return rc < 0 ? NULL : Py_NewRef((PyObject *)t);
error:
    Py_DECREF(cast);
    Py_XDECREF(result);
    Py_XDECREF(last);
    return NULL;
}

static PyObject *unary_call(OpObject *op, OpArgs *a)
{
    State *st = op->st;
    if (!is_tensor(st, a->input)) {
        raise_not_tensor(op, a->input);
        return NULL;
    }
    TensorObject *t = (TensorObject *)a->input;
    if (op->variant == VAR_INPLACE)
        return unary_call_inplace(op, t);
    int dt;
    PyObject *last = NULL, *arr = unary_forward(op, t, &dt, &last);
    if (arr == NULL)
        return NULL;
    /* elementwise: no larger than the input (Note [Result size check] in tensor.c) */
    TensorObject *res = (TensorObject *)tensor_wrap_result_steal(st, arr, dt, t->device, tensor_numel_bound(t));
    if (res == NULL) {
        Py_XDECREF(last);
        return NULL;
    }
    res->ndim = t->ndim; /* elementwise: the rank is known, so no shape read later */
    res->mem_last = t->mem_last; /* elementwise: MLX keeps the memory order (Note [Channels-last hint], layout.c) */
    layout_set_source(res, last, res->data); /* Note [Channels-last source] (layout.c) */
    if (tensor_set_depth(st, res, t->lazy_depth) < 0) { /* Note [Bounded lazy graphs] (tensor.c) */
        Py_DECREF(res);
        return NULL;
    }
    if (a->out != NULL) {
        PyObject *o = write_out(op, a->out, res, GRAD_ENABLED(st) && requires_grad_of(t));
        Py_DECREF(res);
        return o;
    }
    if (unary_record(op, t, (PyObject *)res) < 0) {
        Py_DECREF(res);
        return NULL;
    }
    return (PyObject *)res;
}

/* ---------------------------------------------------------------- the binary path */

/* NEW: `b` scaled by alpha in the dtype torch computes `a op alpha*b` in (so alpha never promotes), or a new
 * reference to b itself when alpha is absent or 1. torch's errors for float/complex alphas of integral/real
 * results, and for non-number alphas. */
static PyObject *scale_by_alpha(OpObject *op, PyObject *a, PyObject *b, PyObject *alpha, int inplace)
{
    State *st = op->st;
    if (alpha == NULL)
        return Py_NewRef(b);
    if (!(PyLong_Check(alpha) || PyFloat_Check(alpha) || PyComplex_Check(alpha))) {
        PyErr_Format(PyExc_TypeError, "%U(): argument 'alpha' must be Number, not %.100s", op->name,
                     Py_TYPE(alpha)->tp_name);
        return NULL;
    }
    if (PyLong_Check(alpha) && !PyBool_Check(alpha) && is_int_value(alpha, 1))
        return Py_NewRef(b);
    int bt = is_tensor(st, b), at = is_tensor(st, a);
    int da = at ? ((TensorObject *)a)->dtype : scalar_dtype(a), db = bt ? ((TensorObject *)b)->dtype : scalar_dtype(b);
    if (op->is_sub && (da == DT_BOOL || db == DT_BOOL))
        return Py_NewRef(b); /* the operator path raises torch's bool-subtraction error */
    if ((!at && da < 0) || (!bt && db < 0))
        return Py_NewRef(b); /* not a number: the operator path raises torch's TypeError */
    ResultTypeState rs;
    result_type_init(&rs);
    PyObject *ops[2] = {a, b};
    int ds[2] = {da, db};
    for (int i = 0; i < 2; i++) {
        if (is_tensor(st, ops[i])) {
            int nd = tensor_ndim(st, (TensorObject *)ops[i]);
            if (nd < 0)
                return NULL;
            result_type_update(st, &rs, nd ? OP_TENSOR_DIM : OP_TENSOR_ZERO, ds[i]);
        } else {
            result_type_update(st, &rs, OP_SCALAR, ds[i]);
        }
    }
    int rt = result_type_finish(&rs);
    if (rt == DT_C128 && !inplace)
        return Py_NewRef(b); /* the operator path raises: MLX has no complex128 */
    if (rt == DT_C128)
        rt = DT_C64; /* an in-place complex64 target computes in complex64 (as the operator path does) */
    if (rt < 0)
        return Py_NewRef(b); /* the operator path raises torch's promotion error */
    if (PyFloat_Check(alpha) && !(dt_is_float(rt) || dt_is_complex(rt))) {
        PyErr_SetString(PyExc_RuntimeError, "For integral input tensors, argument alpha must not be a floating point number.");
        return NULL;
    }
    if (PyComplex_Check(alpha) && !dt_is_complex(rt)) {
        PyErr_SetString(PyExc_RuntimeError, "For non-complex input tensors, argument alpha must not be a complex number.");
        return NULL;
    }
    if (PyBool_Check(alpha) && rt != DT_BOOL) {
        PyErr_SetString(PyExc_RuntimeError, "Boolean alpha only supported for Boolean results.");
        return NULL;
    }
    if (rt == DT_BOOL) {
        int truth = PyObject_IsTrue(alpha);
        if (truth < 0)
            return NULL;
        if (bt)
            return truth ? Py_NewRef(b) : binary_op_at(st, binary_op_index("bitwise_and"), b, Py_False, 0);
        int bv = PyObject_IsTrue(b);
        if (bv < 0)
            return NULL;
        return PyBool_FromLong(bv && truth);
    }
    if (bt) {
        PyObject *bc = NULL;
        if (db == rt)
            bc = Py_NewRef(b);
        else if ((bc = PyObject_CallMethod(b, "to", "O", dtype_of_code(st, rt))) == NULL) /* records ToCopyBackward0 */
            return NULL;
        PyObject *r = binary_op_at(st, binary_op_index("mul"), bc, alpha, 0);
        Py_DECREF(bc);
        return r;
    }
    return PyNumber_Multiply(b, alpha);
}

/* NEW: a Python number as a 0-dim Tensor in the dtype torch gives it (int64, the default float dtype, complex64,
 * bool); NULL without an exception when `o` is no number. */
static PyObject *scalar_as_tensor(State *st, PyObject *o)
{
    int dt = PyBool_Check(o) ? DT_BOOL : PyLong_Check(o) ? DT_I64 : PyFloat_Check(o) ? st->default_dtype
           : PyComplex_Check(o) ? DT_C64 : DT_NONE;
    if (dt == DT_NONE)
        return NULL;
    PyObject *args[2] = {o, st->mx_dtype[dt]};
    PyObject *arr = PyObject_Vectorcall(st->f_array, args, 2, NULL);
    if (arr == NULL)
        return NULL;
    return tensor_wrap_steal(st, arr, dt, DEV_CPU);
}

static PyObject *binary_apply(OpObject *op, OpArgs *a, int binop, int inplace);
static PyObject *generic_binary_apply(OpObject *op, OpArgs *a, int inplace);

/* Which Python objects count as numbers (torch's Number). */
static int is_number(PyObject *o) { return PyLong_Check(o) || PyFloat_Check(o) || PyComplex_Check(o); }

/* torch's argument parser refuses a Python int Number that fits neither int64 nor uint64 (torch_int_number, ops.c)
 * before the op looks at anything else. 0, or -1 with that OverflowError; v (BORROWED) may be anything. */
static int check_int_number(PyObject *v)
{
    long long ignored;
    return PyLong_Check(v) ? torch_int_number(v, &ignored) : 0;
}

/* Note [numpy scalars as Numbers]: torch's parser takes numpy's scalar types (np.int64, np.float32, np.bool_,
 * np.complex64, ...) wherever it takes a Number, as the Python number their item() gives, except np.bool_,
 * which it reads as a double (bool tensor + np.bool_(True) is float32 in torch). Returns a NEW
 * reference to that Python number when v (BORROWED) is such a scalar, else NULL without an error (and NULL with
 * one only if item() itself failed). */
static PyObject *numpy_scalar_number(PyObject *v)
{
    const char *name = Py_TYPE(v)->tp_name;
    if (strncmp(name, "numpy.", 6) != 0 || strcmp(name, "numpy.ndarray") == 0 || Py_TYPE(v)->tp_as_number == NULL)
        return NULL;
    PyObject *item = PyObject_CallMethod(v, "item", NULL);
    if (item == NULL)
        return NULL;
    if (PyBool_Check(item)) /* np.bool_ is neither a Python bool nor a numpy integer to torch: a double */
        Py_SETREF(item, PyFloat_FromDouble(item == Py_True ? 1.0 : 0.0));
    else if (!(PyLong_Check(item) || PyFloat_Check(item) || PyComplex_Check(item)))
        Py_CLEAR(item);
    return item;
}
static CORE_COLD PyObject *raise_bad_operand(OpObject *op, OpArgs *a);

static PyObject *binary_call(OpObject *op, OpArgs *a)
{
    State *st = op->st;
    int inplace = op->variant == VAR_INPLACE, binop = op->binop;
    if (op->variant != VAR_FUNCTION && !is_tensor(st, a->input)) {
        raise_not_tensor(op, a->input);
        return NULL;
    }
    if ((op->flags & OPF_TENSORS_ONLY) && !(is_tensor(st, a->input) && is_tensor(st, a->other))) {
        int first = !is_tensor(st, a->input);
        PyErr_Format(PyExc_TypeError, "%U(): argument '%s' (position %d) must be Tensor, not %.100s", op->name,
                     first ? "input" : PyUnicode_AsUTF8(op->other_name), first ? 1 : 2,
                     _PyType_Name(Py_TYPE(first ? a->input : a->other)));
        return NULL;
    }
    if ((op->flags & OPF_TENSOR_FIRST) && !is_tensor(st, a->input)) {
        PyErr_Format(PyExc_TypeError,
                     "%U() received an invalid combination of arguments - got (%.100s, %.100s), but expected one of: "
                     "(Tensor input, Tensor other)", op->name, _PyType_Name(Py_TYPE(a->input)),
                     _PyType_Name(Py_TYPE(a->other)));
        return NULL;
    }
    if (a->rounding_mode != NULL && a->rounding_mode != Py_None) {
        const char *m = PyUnicode_Check(a->rounding_mode) ? PyUnicode_AsUTF8(a->rounding_mode) : NULL;
        if (m != NULL && strcmp(m, "floor") == 0)
            binop = op->binop_floor;
        else if (m != NULL && strcmp(m, "trunc") == 0)
            binop = -1;
        else {
            if (!PyUnicode_Check(a->rounding_mode))
                PyErr_Format(PyExc_TypeError, "%U(): argument 'rounding_mode' must be str or None, not %.100s",
                             op->name, Py_TYPE(a->rounding_mode)->tp_name);
            else if (m != NULL)
                PyErr_Format(PyExc_RuntimeError,
                             "div expected rounding_mode to be one of None, 'trunc', or 'floor' but found '%s'", m);
            return NULL;
        }
    }
    PyObject *scalar_input = NULL, *r;
    if (!is_tensor(st, a->input) && !is_tensor(st, a->other)) {
        /* torch.add(2, 3): the first number as a 0-dim tensor, as torch's parser does */
        if ((op->flags & OPF_NUMBERS) && (scalar_input = scalar_as_tensor(st, a->input)) == NULL && PyErr_Occurred())
            return NULL;
        if (scalar_input == NULL) {
            PyErr_Format(PyExc_TypeError,
                         "%U() received an invalid combination of arguments - got (%.100s, %.100s), but expected one "
                         "of: (Tensor input, Tensor other)", op->name, _PyType_Name(Py_TYPE(a->input)),
                         _PyType_Name(Py_TYPE(a->other)));
            return NULL;
        }
        a->input = scalar_input;
    }
    r = binary_apply(op, a, binop, inplace);
    Py_XDECREF(scalar_input);
    return r;
}

/* NEW: the binary form's result once its arguments are checked: alpha scaling, the operator (or the
 * declaration's fallback for rounding_mode='trunc', binop < 0), torch's TypeErrors for non-numbers, out=. */
static PyObject *binary_apply(OpObject *op, OpArgs *a, int binop, int inplace)
{
    State *st = op->st;
    if (op->forward != NULL)
        return generic_binary_apply(op, a, inplace);
    PyObject *other = scale_by_alpha(op, a->input, a->other, a->alpha, inplace), *res;
    if (other == NULL)
        return NULL;
    if (binop < 0 && op->fallback == NULL) {
        PyErr_Format(PyExc_RuntimeError, "%U: rounding_mode='trunc' needs the declaration's fallback", op->name);
        Py_DECREF(other);
        return NULL;
    }
    if (binop < 0) /* div(rounding_mode='trunc'): the declaration's Python form (torch's trunc of the quotient) */
        res = PyObject_CallFunctionObjArgs(op->fallback, a->input, other, inplace ? Py_True : Py_False, NULL);
    else
        res = binary_op_checked(st, binop, a->input, other, inplace); /* op_vectorcall made the check */
    Py_DECREF(other);
    if (res == NULL)
        return NULL;
    if (res == Py_NotImplemented) {
        Py_DECREF(res);
        return raise_bad_operand(op, a);
    }
    if (a->out != NULL) {
        int rg = GRAD_ENABLED(st) && ((is_tensor(st, a->input) && requires_grad_of((TensorObject *)a->input)) ||
                                      (is_tensor(st, a->other) && requires_grad_of((TensorObject *)a->other)));
        if (rg) {
            /* the result recorded a node: torch refuses out= before computing; same outcome */
            Py_DECREF(res);
            PyErr_Format(PyExc_RuntimeError,
                         "%U(): functions with out=... arguments don't support automatic differentiation, but one "
                         "of the arguments requires grad.", op->name);
            return NULL;
        }
        PyObject *o = write_out(op, a->out, (TensorObject *)res, 0);
        Py_DECREF(res);
        return o;
    }
    return res;
}

/* ---------------------------------------------------------------- binary ops outside ops.c's table */

/* Record `res` = op(x, y) for a declared binary op with a derivative: a node of the class torch names for
 * the operand kinds (node_cls for two tensors, node_ts / node_st where one operand is a Python scalar),
 * edges to (x, y), ctx = snapshots of (self, other[, result]) taken after recording (Note [Autograd
 * ownership] in autograd.c). 0 / -1. */
static int binary_record(OpObject *op, PyObject *x, PyObject *y, PyObject *res)
{
    State *st = op->st;
    PyObject *ins[2] = {x, y}, *outs[1] = {res}, *ctx = NULL;
    if (op->derivative == NULL || !autograd_needed(st, ins, 2))
        return 0;
    PyObject *cls = !is_tensor(st, y) && op->node_ts ? op->node_ts : !is_tensor(st, x) && op->node_st ? op->node_st
                                                                                                   : op->node_cls;
    PyObject *node = autograd_record(st, cls, op->backward, NULL, ins, 2, outs, 1, 1);
    if (node == NULL)
        return -1;
    if (node == Py_None) {
        Py_DECREF(node);
        return 0;
    }
    Py_ssize_t n = op->saves & SAVE_RESULT ? 3 : 2;
    if ((ctx = PyTuple_New(n)) == NULL)
        goto error;
    PyObject *saved[3] = {x, y, res};
    for (Py_ssize_t i = 0; i < n; i++) { /* x, y: inputs 0, 1, by value (Note [Saved inputs by value] in autograd.c) */
        PyObject *snap = saved_input(st, node, i, i < 2 ? i : -1, saved[i]);
        if (snap == NULL)
            goto error;
        PyTuple_SET_ITEM(ctx, i, snap);
    }
    Py_XSETREF(((NodeObject *)node)->ctx, ctx);
    Py_DECREF(node);
    return 0;
error:
    Py_XDECREF(ctx);
    Py_DECREF(node);
    return -1;
}

/* The in-place form's write of `arr` (STOLEN: the mx.array of op(t, other) in dtype `dt`) into `t`: torch's cast
 * and broadcast-shape rules, the record on an out-of-place result, then the write through the view machinery
 * and the history rebase (Note [In-place history] in autograd.c), as ops.c's in-place operators do. NEW
 * reference to t, or NULL. */
static PyObject *binary_write_inplace(OpObject *op, TensorObject *t, PyObject *other, PyObject *arr, int dt)
{
    State *st = op->st;
    PyObject *shape = NULL, *cast = NULL, *result = NULL;
    if (dt != t->dtype && !op_can_cast(dt, t->dtype)) {
        raise_cast_error(dt, t->dtype);
        goto error;
    }
    if ((shape = PyObject_GetAttr(arr, st->s_shape)) == NULL || tensor_ensure_sizes(st, t) < 0)
        goto error;
    int same = PyTuple_GET_SIZE(shape) == t->ndim;
    for (int i = 0; same && i < t->ndim; i++)
        same = PyLong_AsSsize_t(PyTuple_GET_ITEM(shape, i)) == t->sizes[i];
    if (!same) {
        PyObject *mine = ssize_tuple(t->sizes, t->ndim);
        if (mine != NULL) {
            PyErr_Format(PyExc_RuntimeError, "output with shape %R doesn't match the broadcast shape %R", mine, shape);
            Py_DECREF(mine);
        }
        goto error;
    }
    if ((cast = dt == t->dtype ? Py_NewRef(arr) : mx_astype(st, arr, t->dtype, t->device)) == NULL)
        goto error;
    PyObject *ins[2] = {(PyObject *)t, other};
    int record = op->derivative != NULL && autograd_needed(st, ins, 2);
    if (record) {
        if ((result = tensor_wrap(st, cast, t->dtype, t->device)) == NULL)
            goto error;
        ((TensorObject *)result)->ndim = t->ndim;
        if (binary_record(op, (PyObject *)t, other, result) < 0)
            goto error;
    }
    if (write_through(st, t, cast, result, record) < 0)
        goto error;
    Py_DECREF(arr);
    Py_DECREF(shape);
    Py_DECREF(cast);
    Py_XDECREF(result);
    return Py_NewRef((PyObject *)t);
error:
    Py_DECREF(arr);
    Py_XDECREF(shape);
    Py_XDECREF(cast);
    Py_XDECREF(result);
    return NULL;
}

/* NEW: a declared binary op outside ops.c's table (a `forward` instead of an operator name): ops.c's
 * binary_forward (operand rules, promotion, the dtype rule and refusals), then the in-place write, out= or
 * the record. */
static PyObject *generic_binary_apply(OpObject *op, OpArgs *a, int inplace)
{
    State *st = op->st;
    /* torch's kernel names drop aten's "special_" (Note [Function-only ops]) */
    BinaryForward f = {PyUnicode_AsUTF8(op->qualname ? op->qualname : op->name), op->promotion, op->refuse,
                       op->forward, op->forward64};
    int dt, device;
    if (f.name == NULL)
        return NULL;
    if (check_int_number(a->other) < 0 || check_int_number(a->input) < 0)
        return NULL;
    if (op->promotion == PROMOTE_DOUBLE && check_double_target(op, a->input, a->other, a->out, inplace) < 0)
        return NULL;
    if (inplace && tensor_check_inplace(st, (TensorObject *)a->input) < 0)
        return NULL;
    PyObject *arr = binary_forward(st, &f, a->input, a->other, inplace, &dt, &device);
    if (arr == NULL)
        return NULL;
    if (arr == Py_NotImplemented) {
        Py_DECREF(arr);
        return raise_bad_operand(op, a);
    }
    if (inplace)
        return binary_write_inplace(op, (TensorObject *)a->input, a->other, arr, dt);
    TensorObject *res = (TensorObject *)tensor_wrap_steal(st, arr, dt, device);
    if (res == NULL)
        return NULL;
    int nx = is_tensor(st, a->input) ? ((TensorObject *)a->input)->ndim : 0;
    int ny = is_tensor(st, a->other) ? ((TensorObject *)a->other)->ndim : 0;
    res->ndim = nx > ny ? nx : ny; /* broadcasting: the larger rank (known, so no shape read later) */
    int dx = is_tensor(st, a->input) ? ((TensorObject *)a->input)->lazy_depth : 0;
    int dy = is_tensor(st, a->other) ? ((TensorObject *)a->other)->lazy_depth : 0;
    if (tensor_set_depth(st, res, dx > dy ? dx : dy) < 0) { /* Note [Bounded lazy graphs] (tensor.c) */
        Py_DECREF(res);
        return NULL;
    }
    if (a->out != NULL) {
        PyObject *ins[2] = {a->input, a->other};
        PyObject *o = write_out(op, a->out, res, autograd_needed(st, ins, 2));
        Py_DECREF(res);
        return o;
    }
    if (binary_record(op, a->input, a->other, (PyObject *)res) < 0) {
        Py_DECREF(res);
        return NULL;
    }
    return (PyObject *)res;
}

/* torch's TypeError for an operand that is neither a Tensor nor a number. Returns NULL. */
static CORE_COLD PyObject *raise_bad_operand(OpObject *op, OpArgs *a)
{
    State *st = op->st;
    PyObject *bad = is_tensor(st, a->input) ? a->other : a->input;
    PyObject *n = form_name(op);
    if (n == NULL)
        return NULL;
    if (is_tensor(st, a->input))
        PyErr_Format(PyExc_TypeError, "%U(): argument '%U' (position 2) must be Tensor, not %.100s", n,
                     op->other_name, Py_TYPE(bad)->tp_name);
    else
        PyErr_Format(PyExc_TypeError, "%U(): argument 'input' (position 1) must be Tensor, not %.100s", n,
                     Py_TYPE(bad)->tp_name);
    Py_DECREF(n);
    return NULL;
}

/* ---------------------------------------------------------------- n-ary ops (clamp, masked_fill, lerp, addcmul) */

/* Note [Operands of n-ary ops]
 * An OP_NARY declaration lists its parameters after `input` as (name, ARG_* accepts, ROLE_* role[, default]):
 * accepts says what the argument may be (ARG_TENSOR, ARG_NUMBER, ARG_NONE) and ARG_KWONLY puts it after `*`;
 * a Tensor in an ARG_FORM parameter selects torch's tensor overload (its node name, e.g. ClampBackward0
 * against ClampBackward1 for numbers, LerpBackward1 against LerpBackward0). The role is its part in the dtype
 * rule: ROLE_PROMOTE operands join torch's result type with the input (Python numbers weakly: clamp's
 * bounds, addcmul's tensors); ROLE_SAME tensors must have the input's dtype (lerp's `end`), ROLE_SAME_OR_0DIM
 * too unless 0-dim (lerp's `weight`); ROLE_MASK is a bool tensor passed as it is (masked_fill's mask);
 * ROLE_VALUE a number or 0-dim tensor (masked_fill's value), ROLE_SCALAR a number (addcmul's `value=`), both
 * cast to the result dtype without promoting it. Numbers reach the forward as 0-dim arrays of the result
 * dtype (as the Python int or float itself where the result is floating or complex: MLX keeps the array's
 * dtype for such weak scalars), None as None, tensors as their values in the result dtype (masks as they are); the forward runs
 * under the tensors' common device with `stream=` as the other kinds. OPF_SAME_KIND: the ARG_FORM arguments
 * given are all tensors or all numbers (torch's overloads; 0-dim tensors needing no gradient may join numbers, as
 * torch's Number overload takes them); OPF_NEED_ONE: not all optional ones are None. Python ints past int64
 * raise torch's OverflowError; a ROLE_VALUE / ROLE_SCALAR / weight number that overflows the result dtype raises
 * torch's RuntimeError (scalar_overflows). OPF_EXACT_OUT_NUMBERS: `out=` must have the result's dtype in the
 * number form (torch's structured clamp(Tensor, Scalar) kernels), not in the tensor form.
 * The derivative is derivative(grad, input, *params[, result]) -> one gradient (or None) per operand, the
 * operands as given (tensors as snapshots, numbers as numbers). */


/* Parse an n-ary form's arguments into vals[0] (input) .. vals[nparams] (BORROWED; defaults filled in) and
 * *out. 0 / -1 with torch's TypeErrors. */
static int nary_parse(OpObject *op, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames, PyObject **vals,
                      PyObject **out)
{
    int is_fn = op->variant == VAR_FUNCTION, npos = 1 + op->npos;
    PyObject *n = NULL;
    *out = NULL;
    for (int i = 0; i <= op->nparams; i++)
        vals[i] = NULL;
    if (nargs > npos) {
        if ((n = form_name(op)) != NULL)
            PyErr_Format(PyExc_TypeError, "%U() takes %d positional argument%s but %zd were given", n,
                         npos - !is_fn, npos - !is_fn == 1 ? "" : "s", nargs - !is_fn);
        goto error;
    }
    for (Py_ssize_t i = 0; i < nargs; i++)
        vals[i] = args[i];
    Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
    for (Py_ssize_t i = 0; i < nkw; i++) {
        PyObject *k = PyTuple_GET_ITEM(kwnames, i), **slot = NULL;
        if (is_fn && PyUnicode_CompareWithASCIIString(k, "input") == 0)
            slot = &vals[0];
        else if (is_fn && !(op->flags & OPF_NO_OUT) && PyUnicode_CompareWithASCIIString(k, "out") == 0)
            slot = out;
        for (int j = 0; slot == NULL && j < op->nparams; j++)
            if (PyUnicode_Compare(k, op->pname[j]) == 0)
                slot = &vals[1 + j];
        if (slot == NULL || *slot != NULL) {
            if ((n = form_name(op)) != NULL)
                PyErr_Format(PyExc_TypeError, slot == NULL ? "%U() got an unexpected keyword argument '%U'"
                                                           : "%U() got multiple values for argument '%U'", n, k);
            goto error;
        }
        *slot = args[nargs + i];
    }
    for (int i = 0; i <= op->nparams; i++) {
        if (vals[i] != NULL)
            continue;
        if (i > 0 && op->pdefault[i - 1] != NULL) {
            vals[i] = op->pdefault[i - 1];
            continue;
        }
        if ((n = form_name(op)) != NULL && i == 0)
            PyErr_Format(PyExc_TypeError, "%U() missing required argument '%s'", n, is_fn ? "input" : "self");
        else if (n != NULL)
            PyErr_Format(PyExc_TypeError, "%U() missing required argument '%U'", n, op->pname[i - 1]);
        goto error;
    }
    if (*out == Py_None)
        *out = NULL;
    return 0;
error:
    Py_XDECREF(n);
    return -1;
}

/* torch's TypeError for an argument list that matches none of the op's overloads. Returns -1. */
static int nary_invalid_combination(OpObject *op, PyObject **vals)
{
    PyObject *n = form_name(op), *got = PyUnicode_FromString("");
    for (int i = 0; got != NULL && i <= op->nparams; i++)
        Py_SETREF(got, PyUnicode_FromFormat("%U%s%s", got, i ? ", " : "", _PyType_Name(Py_TYPE(vals[i]))));
    if (n != NULL && got != NULL)
        PyErr_Format(PyExc_TypeError, "%U() received an invalid combination of arguments - got (%U)", n, got);
    Py_XDECREF(n);
    Py_XDECREF(got);
    return -1;
}

/* Check the arguments against the declaration (Note [Operands of n-ary ops]): kinds, torch's overload rules and
 * the roles' dtype and rank rules; *form: 1 where a tensor fills an ARG_FORM parameter. 0 / -1. */
static int nary_check(OpObject *op, PyObject **vals, int *form)
{
    State *st = op->st;
    int tensors = 0, numbers = 0, given = 0, optional = 0, wide = 0;
    *form = 0;
    for (int i = 0; i < op->nparams; i++) {
        PyObject *v = vals[1 + i];
        int acc = op->paccept[i], t = is_tensor(st, v);
        if (!((t && (acc & ARG_TENSOR)) || (is_number(v) && (acc & ARG_NUMBER)) || (v == Py_None && (acc & ARG_NONE)))) {
            if ((acc & ARG_TENSOR) && (acc & ARG_NUMBER))
                return nary_invalid_combination(op, vals);
            PyObject *n = form_name(op);
            if (n != NULL && (acc & ARG_KWONLY))
                PyErr_Format(PyExc_TypeError, "%U(): argument '%U' must be %s, not %.100s", n, op->pname[i],
                             acc & ARG_TENSOR ? "Tensor" : "Number", _PyType_Name(Py_TYPE(v)));
            else if (n != NULL)
                PyErr_Format(PyExc_TypeError, "%U(): argument '%U' (position %d) must be %s, not %.100s", n,
                             op->pname[i], i + 2, acc & ARG_TENSOR ? "Tensor" : "Number", _PyType_Name(Py_TYPE(v)));
            Py_XDECREF(n);
            return -1;
        }
        if (check_int_number(v) < 0)
            return -1;
        if (acc & ARG_NONE)
            optional++, given += v != Py_None;
        if (acc & ARG_FORM) {
            tensors += t;
            numbers += is_number(v);
            if (t && (tensor_ndim(st, (TensorObject *)v) != 0 || requires_grad_of((TensorObject *)v)))
                wide++;
        }
        if (!t)
            continue;
        TensorObject *x = (TensorObject *)v, *in = (TensorObject *)vals[0];
        int role = op->prole[i], nd = 0;
        if ((role == ROLE_VALUE || role == ROLE_SAME_OR_0DIM) && (nd = tensor_ndim(st, x)) < 0)
            return -1;
        if (role == ROLE_MASK && x->dtype != DT_BOOL) {
            PyErr_Format(PyExc_RuntimeError, "%U_ only supports boolean masks, but got mask with dtype %s", op->name,
                         typemeta_name(x->dtype));
            return -1;
        }
        if (role == ROLE_VALUE && nd != 0) {
            PyErr_Format(PyExc_RuntimeError, "%U_ only supports a 0-dimensional value tensor, but got tensor with %d "
                         "dimension(s).", op->name, nd);
            return -1;
        }
        if ((role == ROLE_SAME || (role == ROLE_SAME_OR_0DIM && nd != 0)) && x->dtype != in->dtype) {
            PyErr_Format(PyExc_RuntimeError, "expected dtype %s for `%U` but got dtype %s", typemeta_name(in->dtype),
                         op->pname[i], typemeta_name(x->dtype));
            return -1;
        }
    }
    /* torch's Number overload also takes 0-dim tensors that need no gradient (clamp(x, 0, tensor(3))) */
    if ((op->flags & OPF_SAME_KIND) && tensors && numbers) {
        if (wide)
            return nary_invalid_combination(op, vals);
        tensors = 0;
    }
    if ((op->flags & OPF_NEED_ONE) && optional && !given) {
        PyErr_Format(PyExc_RuntimeError, "torch.%U: At least one of '%U' or '%U' must not be None", op->name,
                     op->pname[0], op->pname[op->nparams > 1 ? 1 : 0]);
        return -1;
    }
    *form = tensors > 0;
    return 0;
}

/* The dtype torch computes the op in: the result type of the input and the ROLE_PROMOTE operands, then the
 * declaration's promotion kind; -1 with torch's exception. */
static int nary_result_type(OpObject *op, PyObject **vals)
{
    State *st = op->st;
    ResultTypeState rs;
    result_type_init(&rs);
    for (int i = 0; i <= op->nparams; i++) {
        PyObject *v = vals[i];
        if (i > 0 && (op->prole[i - 1] != ROLE_PROMOTE || v == Py_None))
            continue;
        if (is_tensor(st, v)) {
            int nd = tensor_ndim(st, (TensorObject *)v);
            if (nd < 0)
                return -1;
            result_type_update(st, &rs, nd ? OP_TENSOR_DIM : OP_TENSOR_ZERO, ((TensorObject *)v)->dtype);
        } else {
            result_type_update(st, &rs, OP_SCALAR, scalar_dtype(v));
        }
    }
    int rt = result_type_finish(&rs);
    if (rt == DT_C128 || rt < 0) {
        if (rt == DT_C128)
            PyErr_SetString(PyExc_TypeError, "complex128 is not supported by MLX (promotion of float64 and complex64)");
        else
            PyErr_SetString(PyExc_RuntimeError, "Promotion for uint16, uint32, uint64 types is not supported");
        return -1;
    }
    if (op->promotion == PROMOTE_INT_TO_FLOAT && dt_is_integral(rt, 1))
        rt = st->default_dtype;
    return rt;
}

/* The common device of the tensor operands (0-dim CPU tensors join others, as in torch), and the broadcast
 * shape of them all into shape[*ndim] (torch's RuntimeError where they do not broadcast). 0 / -1. */
static int nary_device_shape(OpObject *op, PyObject **vals, int *device, Py_ssize_t *shape, int *ndim)
{
    State *st = op->st;
    int nd = 0, dev = -1, cpu_dims = 0;
    for (int i = 0; i <= op->nparams; i++) {
        if (!is_tensor(st, vals[i]))
            continue;
        TensorObject *t = (TensorObject *)vals[i];
        if (tensor_ensure_sizes(st, t) < 0)
            return -1;
        if (t->ndim > 64) {
            PyErr_SetString(PyExc_RuntimeError, "too many dimensions");
            return -1;
        }
        if (t->device != DEV_CPU)
            dev = t->device;
        else if (t->ndim > 0)
            cpu_dims = 1;
        Py_ssize_t old[64];
        int on = nd;
        memcpy(old, shape, sizeof(Py_ssize_t) * (size_t)nd);
        nd = t->ndim > nd ? t->ndim : nd;
        for (int k = 0; k < nd; k++) {
            int ia = k - (nd - on), ib = k - (nd - t->ndim);
            Py_ssize_t a = ia >= 0 ? old[ia] : 1, b = ib >= 0 ? t->sizes[ib] : 1;
            if (a != b && a != 1 && b != 1) {
                PyErr_Format(PyExc_RuntimeError, "The size of tensor a (%zd) must match the size of tensor b (%zd) at "
                             "non-singleton dimension %d", a, b, k);
                return -1;
            }
            shape[k] = a == 1 ? b : a;
        }
    }
    if (dev >= 0 && cpu_dims) {
        PyErr_SetString(PyExc_RuntimeError,
                        "Expected all tensors to be on the same device, but found at least two devices, cpu and cuda:0!");
        return -1;
    }
    *device = dev >= 0 ? dev : DEV_CPU;
    *ndim = nd;
    return 0;
}

/* BORROWED C string: the C type torch's scalar conversion errors name for dtype code `dt` ("int64_t"). */
const char *scalar_ctype(int dt)
{
    static const char *names[DT_COUNT] = {"bool", "uint8_t", "uint16_t", "uint32_t", "uint64_t", "int8_t", "int16_t",
                                          "int", "int64_t", "c10::Half", "float", "double", "c10::BFloat16",
                                          "c10::complex<float>"};
    return dt >= 0 && dt < DT_COUNT ? names[dt] : "Undefined";
}

/* Whether the Python number `v` overflows dtype `dt` as torch's checked scalar conversion sees it (c10's
 * overflows): out of the type's range (a negative int may wrap into an unsigned type down to -max), a
 * non-zero imaginary part into a real type, NaN or inf into an integral one; inf and NaN fit floating types. */
int scalar_overflows(PyObject *v, int dt)
{
    static const double fmax[DT_COUNT] = {[DT_F16] = 65504.0, [DT_BF16] = 3.3895313892515355e38,
                                          [DT_F32] = 3.4028234663852886e38, [DT_F64] = 1.7976931348623157e308};
    static const long long lo[DT_COUNT] = {[DT_U8] = 0, [DT_I8] = -128, [DT_I16] = -32768, [DT_I32] = -2147483648LL,
                                           [DT_I64] = LLONG_MIN};
    static const long long hi[DT_COUNT] = {[DT_U8] = 255, [DT_U16] = 65535, [DT_U32] = 4294967295LL,
                                           [DT_U64] = LLONG_MAX, [DT_I8] = 127, [DT_I16] = 32767,
                                           [DT_I32] = 2147483647LL, [DT_I64] = LLONG_MAX};
    if (dt == DT_BOOL || dt_is_complex(dt) || PyBool_Check(v) || dt < 0 || dt >= DT_COUNT)
        return 0;
    int is_unsigned = dt >= DT_U8 && dt <= DT_U64;
    if (PyLong_Check(v)) {
        int overflow = 0;
        long long x = PyLong_AsLongLongAndOverflow(v, &overflow);
        if (dt_is_float(dt)) {
            double d = overflow ? PyLong_AsDouble(v) : (double)x;
            if (d == -1.0 && PyErr_Occurred()) { /* past double's range */
                PyErr_Clear();
                return 1;
            }
            return d < -fmax[dt] || d > fmax[dt];
        }
        if (overflow)
            return !(overflow > 0 && dt == DT_U64);
        if (is_unsigned)
            return x > hi[dt] || (x < 0 && -(x + 1) >= hi[dt]);
        return x < lo[dt] || x > hi[dt];
    }
    double re;
    if (PyComplex_Check(v)) {
        if (PyComplex_ImagAsDouble(v) != 0.0)
            return 1;
        re = PyComplex_RealAsDouble(v);
    } else {
        re = PyFloat_AsDouble(v);
    }
    if (dt_is_float(dt))
        return !isinf(re) && !isnan(re) && (re < -fmax[dt] || re > fmax[dt]);
    if (isnan(re) || isinf(re))
        return 1;
    return re < (double)lo[dt] || re > (double)hi[dt];
}

/* NEW: operand `v` as the forward's argument (Note [Operands of n-ary ops]), or NULL with torch's exception. */
static PyObject *nary_value(OpObject *op, PyObject *v, int role, int rt, int device)
{
    State *st = op->st;
    if (v == Py_None)
        return Py_NewRef(v);
    if (is_tensor(st, v)) {
        TensorObject *t = (TensorObject *)v;
        PyObject *x = tensor_value(st, t);
        if (x == NULL)
            return NULL;
        return role == ROLE_MASK || t->dtype == rt ? Py_NewRef(x) : mx_astype(st, x, rt, device);
    }
    int check = role == ROLE_SAME_OR_0DIM && (rt == DT_F16 || rt == DT_BF16) ? DT_F32 : rt; /* lerp: opmath */
    /* every Python number is converted to the type it is used in, a promoted one too (clamp's bounds, where's
     * branches: torch's checked_convert to the result type) */
    if (scalar_overflows(v, check)) {
        PyErr_Format(PyExc_RuntimeError, "value cannot be converted to type %s without overflow", scalar_ctype(check));
        return NULL;
    }
    int overflow = 0;
    if ((dt_is_float(rt) || dt_is_complex(rt)) && (PyFloat_CheckExact(v) || PyLong_CheckExact(v)) &&
        (PyFloat_CheckExact(v) || (PyLong_AsLongLongAndOverflow(v, &overflow), !overflow)))
        return Py_NewRef(v); /* a weak Python number keeps a floating result's dtype in MLX: no array to make */
    if (PyLong_Check(v) && (PyLong_AsLongLongAndOverflow(v, &overflow), overflow)) {
        /* a uint64 past int64 (nary_check let it through) reaches MLX as a float */
        PyObject *f = PyNumber_Float(v), *r = NULL;
        if (f != NULL) {
            PyObject *args[2] = {f, st->mx_dtype[rt]};
            r = PyObject_Vectorcall(st->f_array, args, 2, NULL);
            Py_DECREF(f);
        }
        return r;
    }
    PyObject *args[2] = {v, st->mx_dtype[rt]};
    return PyObject_Vectorcall(st->f_array, args, 2, NULL);
}

/* Record `res` = op(operands) (vals[0..nparams]) when grad mode is on and a tensor operand requires grad: the
 * node torch names for the form, edges to every operand, ctx = snapshots of the operands (numbers as they
 * are) and, where the derivative takes it, of the result, taken after recording (Note [Autograd ownership]
 * in autograd.c). 0 / -1. */
static int nary_record(OpObject *op, PyObject **vals, int form, PyObject *res)
{
    State *st = op->st;
    int n = 1 + op->nparams;
    PyObject *outs[1] = {res}, *ctx = NULL;
    if (op->derivative == NULL || !GRAD_ENABLED(st) || !autograd_needed(st, vals, n))
        return 0;
    PyObject *cls = form && op->node_ts ? op->node_ts : op->node_cls;
    PyObject *node = autograd_record(st, cls, op->backward, NULL, vals, n, outs, 1, 1);
    if (node == NULL)
        return -1;
    if (node == Py_None) {
        Py_DECREF(node);
        return 0;
    }
    Py_ssize_t nctx = n + (op->saves & SAVE_RESULT ? 1 : 0);
    if ((ctx = PyTuple_New(nctx)) == NULL)
        goto error;
    for (Py_ssize_t i = 0; i < nctx; i++) {
        PyObject *snap = saved_snapshot(st, i < n ? vals[i] : res, node);
        if (snap == NULL)
            goto error;
        PyTuple_SET_ITEM(ctx, i, snap);
    }
    Py_XSETREF(((NodeObject *)node)->ctx, ctx);
    Py_DECREF(node);
    return 0;
error:
    Py_XDECREF(ctx);
    Py_DECREF(node);
    return -1;
}

/* NEW: an n-ary form's result (the input itself for the in-place form), or NULL. */
static PyObject *nary_call(OpObject *op, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    State *st = op->st;
    PyObject *vals[1 + NARY_MAX], *xs[1 + NARY_MAX] = {NULL}, *out, *arr = NULL, *result = NULL, *cast = NULL;
    Py_ssize_t shape[64];
    int form, device, ndim, rt, inplace = op->variant == VAR_INPLACE, n = 1 + op->nparams;
    if (nary_parse(op, args, nargs, kwnames, vals, &out) < 0)
        return NULL;
    if (!is_tensor(st, vals[0])) {
        raise_not_tensor(op, vals[0]);
        return NULL;
    }
    TensorObject *t = (TensorObject *)vals[0];
    if (inplace && tensor_check_inplace(st, t) < 0)
        return NULL;
    if (nary_check(op, vals, &form) < 0 || (rt = nary_result_type(op, vals)) < 0 ||
        (op->refusals && check_refusals(op, rt, form, vals, n) < 0) ||
        nary_device_shape(op, vals, &device, shape, &ndim) < 0)
        return NULL;
    if (inplace && rt != t->dtype && !op_can_cast(rt, t->dtype)) {
        if ((op->flags & OPF_EXACT_OUT_NUMBERS) && !form) /* the structured number kernels name the C++ type */
            PyErr_Format(PyExc_RuntimeError, "result type %s can't be cast to the desired output type %s",
                         dtype_name(rt), typemeta_name(t->dtype));
        else
            raise_cast_error(rt, t->dtype);
        return NULL;
    }
    if (inplace) {
        int same = ndim == t->ndim;
        for (int i = 0; same && i < ndim; i++)
            same = shape[i] == t->sizes[i];
        if (!same) {
            PyObject *mine = ssize_tuple(t->sizes, t->ndim), *want = ssize_tuple(shape, ndim);
            PyObject *ml = mine ? PySequence_List(mine) : NULL, *wl = want ? PySequence_List(want) : NULL;
            if (ml != NULL && wl != NULL)
                PyErr_Format(PyExc_RuntimeError, "output with shape %R doesn't match the broadcast shape %R", ml, wl);
            Py_XDECREF(mine);
            Py_XDECREF(want);
            Py_XDECREF(ml);
            Py_XDECREF(wl);
            return NULL;
        }
    }
    for (int i = 0; i < n; i++)
        if ((xs[i] = nary_value(op, vals[i], i ? op->prole[i - 1] : ROLE_PROMOTE, rt, device)) == NULL)
            goto error;
    arr = mx_call(st, rt == DT_F64 ? op->forward64 : op->forward, xs, n, device);
    if (arr == NULL)
        goto error;
    int depth = 0;
    for (int i = 0; i < n; i++)
        if (is_tensor(st, vals[i]) && ((TensorObject *)vals[i])->lazy_depth > depth)
            depth = ((TensorObject *)vals[i])->lazy_depth;
    if (inplace) {
        /* Note [In-place history] (autograd.c): computed out of place, recorded, then written through */
        int record = op->derivative != NULL && GRAD_ENABLED(st) && autograd_needed(st, vals, n);
        if ((cast = mx_astype(st, arr, t->dtype, t->device)) == NULL)
            goto error;
        if (record && ((result = tensor_wrap(st, cast, t->dtype, t->device)) == NULL ||
                       (((TensorObject *)result)->ndim = t->ndim, nary_record(op, vals, form, result) < 0))) {
            Py_CLEAR(result);
            goto error;
        }
        Py_XSETREF(result, write_through(st, t, cast, result, record) < 0 ? NULL : Py_NewRef(vals[0]));
        goto error;
    }
    TensorObject *res = (TensorObject *)tensor_wrap_steal(st, arr, rt, device);
    arr = NULL;
    if ((result = (PyObject *)res) == NULL)
        goto error;
    res->ndim = ndim; /* the broadcast rank (known, so no shape read later) */
    if (tensor_set_depth(st, res, depth) < 0) { /* Note [Bounded lazy graphs] (tensor.c) */
        Py_CLEAR(result);
        goto error;
    }
    if (out != NULL && (op->flags & OPF_EXACT_OUT_NUMBERS) && !form && is_tensor(st, out) &&
        ((TensorObject *)out)->dtype != rt) { /* torch's structured number overloads (clamp(x, 0, 1)) */
        PyErr_Format(PyExc_RuntimeError, "Found dtype %s but expected %s", dtype_name(((TensorObject *)out)->dtype),
                     dtype_name(rt));
        Py_CLEAR(result);
    } else if (out != NULL) {
        Py_SETREF(result, write_out(op, out, res, GRAD_ENABLED(st) && autograd_needed(st, vals, n)));
    } else if (nary_record(op, vals, form, result) < 0) {
        Py_CLEAR(result);
    }
error: /* also the way out when done: result is the result or NULL */
    for (int i = 0; i < n; i++)
        Py_XDECREF(xs[i]);
    Py_XDECREF(arr);
    Py_XDECREF(cast);
    return result;
}

/* ---------------------------------------------------------------- the one entry of every form */

static PyObject *op_vectorcall(PyObject *self, PyObject *const *args, size_t nargsf, PyObject *kwnames);

/* op_vectorcall's general case: __torch_function__ check, numpy scalars, parse, then the kind's path. NEW. */
static __attribute__((noinline)) PyObject *op_vectorcall_general(PyObject *self, PyObject *const *args,
                                                                 size_t nargsf, PyObject *kwnames)
{
    OpObject *op = (OpObject *)self;
    State *st = op->st;
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf), nall = nargs + (kwnames ? PyTuple_GET_SIZE(kwnames) : 0);
    /* Note [torch function check] (overrides.c): exact Tensors and numbers never look further */
    int maybe = tf_modes_active;
    for (Py_ssize_t i = 0; !maybe && i < nall; i++)
        maybe = Py_TYPE(args[i]) != (PyTypeObject *)st->tensor_type;
    if (maybe && tf_needed(st, args, nall))
        return tf_dispatch(st, self, args, nargsf, kwnames);
    if (maybe && nall <= 16) { /* Note [numpy scalars as Numbers] */
        PyObject *conv[16];
        int any = 0;
        for (Py_ssize_t i = 0; i < nall; i++) {
            conv[i] = numpy_scalar_number(args[i]);
            if (conv[i] == NULL && PyErr_Occurred()) {
                while (--i >= 0)
                    Py_XDECREF(conv[i]);
                return NULL;
            }
            any |= conv[i] != NULL;
        }
        if (any) {
            PyObject *result;
            for (Py_ssize_t i = 0; i < nall; i++)
                if (conv[i] == NULL)
                    conv[i] = Py_NewRef(args[i]);
            result = op_vectorcall(self, conv, (size_t)nargs, kwnames);
            for (Py_ssize_t i = 0; i < nall; i++)
                Py_DECREF(conv[i]);
            return result;
        }
    }
    if (op->kind == OP_NARY)
        return nary_call(op, args, nargs, kwnames);
    OpArgs a;
    if (parse_args(op, args, nargs, kwnames, &a) < 0)
        return NULL;
    return op->kind == OP_UNARY ? unary_call(op, &a) : binary_call(op, &a);
}

/* Note [Operator fast entry]
 * Every form's vectorcall. The common call (`torch.exp(t)`, `torch.add(a, b)`: its operands positional, each
 * exactly a Tensor, no TorchFunctionMode) goes straight to its kind's path (a binary operator of ops.c's table
 * straight to the operator path `a + b` takes, past binary_call's checks that two Tensors always pass): Note
 * [torch function check] then has nothing to look at, no numpy scalar can be among the operands (Note [numpy
 * scalars as Numbers]) and parse_args would only copy them, so the result is the general path's. Everything else — keywords, a
 * number or any other object among the operands, n-ary ops, a wrong argument count — takes
 * op_vectorcall_general, kept out of line so that this entry stays a few cache lines (Note [Cold error
 * paths] in core.h). NEW. */
static PyObject *op_vectorcall(PyObject *self, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    OpObject *op = (OpObject *)self;
    State *st = op->st;
    thread_pin(st); /* Note [Threads]: the operator path below no longer fetches the state (binary_op_checked) */
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    PyTypeObject *tt = (PyTypeObject *)st->tensor_type;
    if (CORE_LIKELY(kwnames == NULL && nargs > 0 && !tf_modes_active && Py_TYPE(args[0]) == tt)) {
        if (op->kind == OP_UNARY && nargs == 1) {
            OpArgs a = {args[0], NULL, NULL, NULL, NULL};
            return unary_call(op, &a);
        }
        if (op->kind == OP_BINARY && nargs == 2 && Py_TYPE(args[1]) == tt) {
            OpArgs a = {args[0], args[1], NULL, NULL, NULL};
            if (op->forward != NULL || op->binop < 0)
                return binary_call(op, &a);
            /* an operator of ops.c's table on two Tensors: binary_call's checks all pass (both are tensors, no
             * rounding_mode, alpha or out=) and binary_apply would only hand them on */
            PyObject *r = binary_op_checked(st, op->binop, args[0], args[1], op->variant == VAR_INPLACE);
            if (r == Py_NotImplemented) {
                Py_DECREF(r);
                return raise_bad_operand(op, &a);
            }
            return r;
        }
    }
    return op_vectorcall_general(self, args, nargsf, kwnames);
}

/* ---------------------------------------------------------------- the Op types */

static int op_traverse(OpObject *op, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(op));
    Py_VISIT(op->name);
    Py_VISIT(op->forward);
    Py_VISIT(op->forward64);
    Py_VISIT(op->forward_cpu);
    Py_VISIT(op->scalar);
    Py_VISIT(op->derivative);
    Py_VISIT(op->node_cls);
    Py_VISIT(op->backward);
    Py_VISIT(op->bool_error);
    Py_VISIT(op->method);
    Py_VISIT(op->inplace);
    Py_VISIT(op->fallback);
    Py_VISIT(op->node_ts);
    Py_VISIT(op->node_st);
    Py_VISIT(op->other_name);
    Py_VISIT(op->module);
    Py_VISIT(op->qualname);
    Py_VISIT(op->refusals);
    for (int i = 0; i < NARY_MAX; i++) {
        Py_VISIT(op->pname[i]);
        Py_VISIT(op->pdefault[i]);
    }
    return 0;
}

static int op_clear(OpObject *op)
{
    Py_CLEAR(op->name);
    Py_CLEAR(op->forward);
    Py_CLEAR(op->forward64);
    Py_CLEAR(op->forward_cpu);
    Py_CLEAR(op->scalar);
    Py_CLEAR(op->derivative);
    Py_CLEAR(op->node_cls);
    Py_CLEAR(op->backward);
    Py_CLEAR(op->bool_error);
    Py_CLEAR(op->method);
    Py_CLEAR(op->inplace);
    Py_CLEAR(op->fallback);
    Py_CLEAR(op->node_ts);
    Py_CLEAR(op->node_st);
    Py_CLEAR(op->other_name);
    Py_CLEAR(op->module);
    Py_CLEAR(op->qualname);
    Py_CLEAR(op->refusals);
    for (int i = 0; i < NARY_MAX; i++) {
        Py_CLEAR(op->pname[i]);
        Py_CLEAR(op->pdefault[i]);
    }
    return 0;
}

static void op_dealloc(OpObject *op)
{
    PyTypeObject *tp = Py_TYPE(op);
    PyObject_GC_UnTrack(op);
    if (op->weakreflist != NULL)
        PyObject_ClearWeakRefs((PyObject *)op);
    op_clear(op);
    tp->tp_free((PyObject *)op);
    Py_DECREF(tp);
}

/* Function forms do not bind (a builtin function stored on a class stays a plain function), but having
 * __get__ makes inspect read their __text_signature__ as it does for builtins. NEW. */
static PyObject *op_fn_descr_get(PyObject *self, PyObject *obj, PyObject *type) { return Py_NewRef(self); }

/* Method forms bind like a method descriptor (Py_TPFLAGS_METHOD_DESCRIPTOR lets `t.exp()` skip the bound
 * object). NEW. */
static PyObject *op_descr_get(PyObject *self, PyObject *obj, PyObject *type)
{
    if (obj == NULL || obj == Py_None)
        return Py_NewRef(self);
    return PyMethod_New(self, obj);
}

static PyObject *op_repr(OpObject *op)
{
    PyObject *n = form_name(op), *r;
    if (n == NULL)
        return NULL;
    r = op->variant == VAR_FUNCTION ? PyUnicode_FromFormat("<built-in function %U>", n)
                                    : PyUnicode_FromFormat("<method '%U' of 'Tensor' objects>", n);
    Py_DECREF(n);
    return r;
}

static PyObject *op_get_name(OpObject *op, void *c) { return form_name(op); }

static PyObject *op_get_qualname(OpObject *op, void *c)
{
    if (op->qualname != NULL) /* Note [Function-only ops] */
        return Py_NewRef(op->qualname);
    return op->variant == VAR_FUNCTION ? Py_NewRef(op->name)
                                       : PyUnicode_FromFormat("Tensor.%U%s", op->name, op->variant == VAR_INPLACE ? "_" : "");
}

static PyObject *op_get_module(OpObject *op, void *c)
{
    if (op->variant != VAR_FUNCTION)
        Py_RETURN_NONE;
    if (op->module != NULL) /* Note [Function-only ops] */
        return Py_NewRef(op->module);
    return PyUnicode_FromString("mlx_compat");
}

/* The torch signature of the form, as inspect reads builtins' __text_signature__. NEW. */
static PyObject *op_get_text_signature(OpObject *op, void *c)
{
    if (op->kind == OP_NARY) {
        PyObject *sig = PyUnicode_FromString(op->variant == VAR_FUNCTION ? "(input" : "($self");
        int star = 0;
        for (int i = 0; sig != NULL && i < op->nparams; i++) {
            int kw = (op->paccept[i] & ARG_KWONLY) != 0;
            Py_SETREF(sig, PyUnicode_FromFormat(op->pdefault[i] ? "%U%s, %U=%R" : "%U%s, %U", sig,
                                                kw && !star ? ", *" : "", op->pname[i], op->pdefault[i]));
            star |= kw;
        }
        if (sig != NULL && op->variant == VAR_FUNCTION && !(op->flags & OPF_NO_OUT))
            Py_SETREF(sig, PyUnicode_FromFormat("%U%s, out=None)", sig, star ? "" : ", *"));
        else if (sig != NULL)
            Py_SETREF(sig, PyUnicode_FromFormat("%U)", sig));
        return sig;
    }
    const char *extra = op->flags & OPF_ALPHA ? ", alpha=1" : op->flags & OPF_ROUNDING ? ", rounding_mode=None" : "";
    int bin = op->kind == OP_BINARY;
    const char *other = bin ? PyUnicode_AsUTF8(op->other_name) : "";
    if (other == NULL)
        return NULL;
    if (op->variant == VAR_FUNCTION && (op->flags & OPF_NO_OUT))
        return PyUnicode_FromFormat("(input%s%s)", bin ? ", " : "", other);
    if (op->variant == VAR_FUNCTION)
        return PyUnicode_FromFormat("(input%s%s, *%s, out=None)", bin ? ", " : "", other, extra);
    if (bin)
        return PyUnicode_FromFormat("($self, %s, /%s%s)", other, *extra ? ", *" : "", extra);
    return PyUnicode_FromString("($self, /)");
}

static PyObject *op_get_doc(OpObject *op, void *c)
{
    PyObject *n = form_name(op), *sig = op_get_text_signature(op, NULL), *r = NULL;
    if (n != NULL && sig != NULL)
        r = PyUnicode_FromFormat("%U%U -> Tensor\n\nThe registered operator `%U` (Note [Operator registry]).", n, sig,
                                 op->name);
    Py_XDECREF(n);
    Py_XDECREF(sig);
    return r;
}

static PyObject *get_or_none(PyObject *o) { return Py_NewRef(o ? o : Py_None); }
static PyObject *op_get_method(OpObject *op, void *c) { return get_or_none(op->method); }
static PyObject *op_get_inplace(OpObject *op, void *c) { return get_or_none(op->inplace); }
static PyObject *op_get_forward(OpObject *op, void *c) { return get_or_none(op->forward); }
static PyObject *op_get_forward64(OpObject *op, void *c) { return get_or_none(op->forward64); }
static PyObject *op_get_forward_cpu(OpObject *op, void *c) { return get_or_none(op->forward_cpu); }
static PyObject *op_get_derivative(OpObject *op, void *c) { return get_or_none(op->derivative); }
static PyObject *op_get_node(OpObject *op, void *c)
{
    return op->node_cls ? PyObject_GetAttrString(op->node_cls, "__name__") : Py_NewRef(Py_None);
}
static PyObject *op_get_promotion(OpObject *op, void *c) { return PyLong_FromLong(op->promotion); }
static PyObject *op_get_flags(OpObject *op, void *c) { return PyLong_FromLong(op->flags); }
static PyObject *op_get_saves(OpObject *op, void *c) { return PyLong_FromLong(op->saves); }
static PyObject *op_get_variant(OpObject *op, void *c) { return PyLong_FromLong(op->variant); }
static PyObject *op_get_kind(OpObject *op, void *c) { return PyLong_FromLong(op->kind); }

/* pickle: the function form by its name in mlx_compat, a method form as getattr(Tensor, name). NEW. */
static PyObject *op_reduce(OpObject *op, PyObject *noargs)
{
    if (op->variant == VAR_FUNCTION) /* pickle finds it as __module__.<this> (Note [Function-only ops]) */
        return Py_NewRef(op->qualname ? op->qualname : op->name);
    PyObject *n = form_name(op), *builtins = n ? PyEval_GetBuiltins() : NULL, *r = NULL;
    PyObject *getattr = builtins ? PyDict_GetItemString(builtins, "getattr") : NULL; /* borrowed */
    if (getattr != NULL)
        r = Py_BuildValue("(O(OO))", getattr, op->st->tensor_type, n);
    else if (n != NULL && !PyErr_Occurred())
        PyErr_SetString(PyExc_RuntimeError, "no builtins.getattr");
    Py_XDECREF(n);
    return r;
}

/* NEW bool: True, the flag overrides.get_overridable_functions reads on TorchFunctionWrapper too. */
static PyObject *op_get_checks_torch_function(OpObject *op, void *c) { Py_RETURN_TRUE; }

static PyGetSetDef op_getset[] = {
    {"__name__", (getter)op_get_name, NULL, NULL, NULL},
    {"__qualname__", (getter)op_get_qualname, NULL, NULL, NULL},
    {"__module__", (getter)op_get_module, NULL, NULL, NULL},
    {"__text_signature__", (getter)op_get_text_signature, NULL, NULL, NULL},
    {"__doc__", (getter)op_get_doc, NULL, NULL, NULL},
    {"method", (getter)op_get_method, NULL, "The method form (Tensor.<name>), or None.", NULL},
    {"inplace", (getter)op_get_inplace, NULL, "The in-place form (Tensor.<name>_), or None.", NULL},
    {"forward", (getter)op_get_forward, NULL, NULL, NULL},
    {"forward64", (getter)op_get_forward64, NULL, NULL, NULL},
    {"forward_cpu", (getter)op_get_forward_cpu, NULL, NULL, NULL},
    {"derivative", (getter)op_get_derivative, NULL, NULL, NULL},
    {"node", (getter)op_get_node, NULL, "The backward node's name.", NULL},
    {"promotion", (getter)op_get_promotion, NULL, "The ElementwiseTypePromotionKind value.", NULL},
    {"flags", (getter)op_get_flags, NULL, NULL, NULL},
    {"saves", (getter)op_get_saves, NULL, "SAVE_SELF | SAVE_RESULT: what the derivative takes.", NULL},
    {"variant", (getter)op_get_variant, NULL, "VAR_FUNCTION, VAR_METHOD or VAR_INPLACE.", NULL},
    {"kind", (getter)op_get_kind, NULL, "OP_UNARY or OP_BINARY.", NULL},
    {"_checks_torch_function", (getter)op_get_checks_torch_function, NULL,
     "True: every form checks __torch_function__ itself (Note [torch function check]), as the C wrapper's flag says.",
     NULL},
    {NULL}};

static PyMethodDef op_methods[] = {
    {"__reduce__", (PyCFunction)op_reduce, METH_NOARGS, NULL},
    {NULL}};

static PyMemberDef op_members[] = {
    {"__vectorcalloffset__", T_PYSSIZET, offsetof(OpObject, vectorcall), READONLY},
    {"__weaklistoffset__", T_PYSSIZET, offsetof(OpObject, weakreflist), READONLY},
    {NULL}};

/* NEW: a fresh form of type `tp` sharing the declaration `decl`'s fields (BORROWED), as `variant`. */
static OpObject *op_form(PyTypeObject *tp, OpObject *decl, int variant)
{
    OpObject *f = (OpObject *)tp->tp_alloc(tp, 0);
    if (f == NULL)
        return NULL;
    f->vectorcall = op_vectorcall;
    f->st = decl->st;
    f->name = Py_XNewRef(decl->name);
    f->forward = Py_XNewRef(decl->forward);
    f->forward64 = Py_XNewRef(decl->forward64);
    f->forward_cpu = Py_XNewRef(decl->forward_cpu);
    f->scalar = Py_XNewRef(decl->scalar);
    f->derivative = Py_XNewRef(decl->derivative);
    f->node_cls = Py_XNewRef(decl->node_cls);
    f->backward = Py_XNewRef(decl->backward);
    f->bool_error = Py_XNewRef(decl->bool_error);
    f->fallback = Py_XNewRef(decl->fallback);
    f->node_ts = Py_XNewRef(decl->node_ts);
    f->node_st = Py_XNewRef(decl->node_st);
    f->other_name = Py_XNewRef(decl->other_name);
    f->refuse = decl->refuse;
    f->kind = decl->kind;
    f->promotion = decl->promotion;
    f->flags = decl->flags;
    f->saves = decl->saves;
    f->binop = decl->binop;
    f->binop_floor = decl->binop_floor;
    f->is_sub = decl->is_sub;
    f->refusals = Py_XNewRef(decl->refusals);
    f->nparams = decl->nparams;
    f->npos = decl->npos;
    for (int i = 0; i < NARY_MAX; i++) {
        f->pname[i] = Py_XNewRef(decl->pname[i]);
        f->pdefault[i] = Py_XNewRef(decl->pdefault[i]);
        f->paccept[i] = decl->paccept[i];
        f->prole[i] = decl->prole[i];
    }
    f->variant = variant;
    return f;
}

/* Validate an n-ary declaration's `params` (Note [Operands of n-ary ops]): 1..NARY_MAX tuples (name, accepts,
 * role[, default]), keyword-only ones last. 0 / -1 with TypeError. */
static int check_nary_declaration(int kind, PyObject *forward, PyObject *params)
{
    if (kind != OP_NARY)
        return params == Py_None ? 0 : (PyErr_SetString(PyExc_TypeError, "Op: params are for n-ary ops"), -1);
    int ok = PyCallable_Check(forward) && PyTuple_Check(params) && PyTuple_GET_SIZE(params) >= 1 &&
             PyTuple_GET_SIZE(params) <= NARY_MAX, kwonly = 0;
    for (Py_ssize_t i = 0; ok && i < PyTuple_GET_SIZE(params); i++) {
        PyObject *p = PyTuple_GET_ITEM(params, i);
        ok = PyTuple_Check(p) && (PyTuple_GET_SIZE(p) == 3 || PyTuple_GET_SIZE(p) == 4) &&
             PyUnicode_Check(PyTuple_GET_ITEM(p, 0)) && PyLong_Check(PyTuple_GET_ITEM(p, 1)) &&
             PyLong_Check(PyTuple_GET_ITEM(p, 2));
        if (!ok)
            break;
        long acc = PyLong_AsLong(PyTuple_GET_ITEM(p, 1)), role = PyLong_AsLong(PyTuple_GET_ITEM(p, 2));
        ok = (acc & (ARG_TENSOR | ARG_NUMBER)) && role >= ROLE_PROMOTE && role <= ROLE_SCALAR &&
             !(kwonly && !(acc & ARG_KWONLY));
        kwonly |= (acc & ARG_KWONLY) != 0;
    }
    if (!ok)
        PyErr_SetString(PyExc_TypeError, "Op: an n-ary op needs a callable forward and params, 1 to 3 tuples (name, "
                                         "accepts, role[, default]) with keyword-only ones last");
    return ok ? 0 : -1;
}

/* Validate `refusals` (Note [Declared refusals]): None, or a tuple of (classes, exception type, message, form,
 * operands). 0 / -1 with TypeError. */
static int check_refusals_declaration(PyObject *refusals)
{
    int ok = refusals == Py_None || PyTuple_Check(refusals);
    for (Py_ssize_t i = 0; ok && refusals != Py_None && i < PyTuple_GET_SIZE(refusals); i++) {
        PyObject *r = PyTuple_GET_ITEM(refusals, i);
        ok = PyTuple_Check(r) && PyTuple_GET_SIZE(r) == 5 && PyLong_Check(PyTuple_GET_ITEM(r, 0)) &&
             PyExceptionClass_Check(PyTuple_GET_ITEM(r, 1)) && PyUnicode_Check(PyTuple_GET_ITEM(r, 2)) &&
             PyLong_Check(PyTuple_GET_ITEM(r, 3)) && PyLong_Check(PyTuple_GET_ITEM(r, 4));
    }
    if (!ok)
        PyErr_SetString(PyExc_TypeError, "Op: refusals is a tuple of (dtype classes, exception type, message, form, "
                                         "operands)");
    return ok ? 0 : -1;
}

/* Note [Function-only ops]
 * torch.special's own operators (entr, erfcx, i0e, the Bessel functions, xlog1py, zeta, the orthogonal
 * polynomials, ...) have no torch.<name> function and no Tensor method: torch.special.entr is all there is, and
 * its name is aten's ("special_entr", which torch's argument errors print). Such an op is declared with
 * variants=0 (no method forms) and module=/qualname= (the module holding the function form and its attribute
 * name there, "mlx_compat.special" and "entr"): `name` stays aten's, for messages and the registry's key,
 * while __module__/__qualname__ and pickling name the one place the function lives. The module itself binds
 * the returned function form; the registry makes no alias anywhere. */
/* Op(name, *, kind=OP_UNARY, forward=None, forward64=None, scalar=None, promotion=DEFAULT, flags=0, derivative=None,
 *    saves=0, node=None, binary=None, bool_error=None, fallback=None, variants=0, refuse=0, other="other",
 *    params=None, refusals=None, module=None, qualname=None, forward_cpu=None): declare
 * an operator (Note [Operator registry]); returns its function form, sets the method forms on Tensor, and
 * registers it. `node` is a name, or for a binary op with a forward the names for (Tensor, Tensor), (Tensor,
 * Scalar) and (Scalar, Tensor) operands (the last two default to the first). */
static PyObject *op_new(PyTypeObject *tp, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"name", "kind", "forward", "forward64", "scalar", "promotion", "flags", "derivative", "saves",
                             "node", "binary", "bool_error", "fallback", "variants", "refuse", "other", "params",
                             "refusals", "module", "qualname", "forward_cpu", NULL};
    PyObject *name, *forward = Py_None, *forward64 = Py_None, *scalar = NULL, *derivative = Py_None, *node = Py_None;
    PyObject *binary = Py_None, *bool_error = Py_None, *fallback = Py_None, *other = NULL, *params = Py_None;
    PyObject *refusals = Py_None, *module = NULL, *qualname = NULL, *forward_cpu = Py_None;
    int kind = OP_UNARY, promotion = PROMOTE_DEFAULT, flags = 0, saves = 0, variants = 0, refuse = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "U|$iOOOiiOiOOOOiiUOOUUO", kwlist, &name, &kind, &forward, &forward64,
                                     &scalar, &promotion, &flags, &derivative, &saves, &node, &binary, &bool_error,
                                     &fallback, &variants, &refuse, &other, &params, &refusals, &module, &qualname,
                                     &forward_cpu))
        return NULL;
    if (forward_cpu != Py_None && (kind != OP_UNARY || scalar != NULL || !PyCallable_Check(forward_cpu))) {
        PyErr_SetString(PyExc_TypeError, "Op: forward_cpu is a callable of a unary op without a scalar");
        return NULL;
    }
    if ((module == NULL) != (qualname == NULL) || (module != NULL && variants != 0)) {
        PyErr_SetString(PyExc_TypeError, "Op: a function-only op gives module= and qualname= together, and no "
                                         "variants (Note [Function-only ops])");
        return NULL;
    }
    State *st = state_of_module(PyType_GetModule(tp));
    if (st == NULL)
        return NULL;
    if (kind != OP_UNARY && kind != OP_BINARY && kind != OP_NARY) {
        PyErr_Format(PyExc_ValueError, "Op: unknown kind %d", kind);
        return NULL;
    }
    if (check_nary_declaration(kind, forward, params) < 0 || check_refusals_declaration(refusals) < 0)
        return NULL;
    /* a binary op with a forward may always compute in float64 (Note [Always-double results]) */
    int double_ok = kind == OP_BINARY && binary == Py_None && forward != Py_None;
    if (promotion < PROMOTE_DEFAULT || promotion > PROMOTE_DOUBLE ||
        (kind != OP_UNARY && promotion != PROMOTE_DEFAULT && promotion != PROMOTE_INT_TO_FLOAT &&
         !(promotion == PROMOTE_DOUBLE && double_ok)) ||
        (kind == OP_UNARY && (promotion == PROMOTE_ALWAYS_BOOL || promotion == PROMOTE_DOUBLE))) {
        PyErr_Format(PyExc_ValueError, "Op: unknown promotion kind %d", promotion);
        return NULL;
    }
    if (kind == OP_UNARY && !PyCallable_Check(forward)) {
        PyErr_SetString(PyExc_TypeError, "Op: a unary op needs a callable forward");
        return NULL;
    }
    /* a binary op outside ops.c's table, or an n-ary op */
    int generic = (kind == OP_BINARY && binary == Py_None && forward != Py_None) || kind == OP_NARY;
    if (generic && !PyCallable_Check(forward)) {
        PyErr_SetString(PyExc_TypeError, "Op: a binary op's forward must be callable");
        return NULL;
    }
    int node_ok = PyUnicode_Check(node);
    if (generic && PyTuple_Check(node) && PyTuple_GET_SIZE(node) >= 1 && PyTuple_GET_SIZE(node) <= 3) {
        node_ok = 1;
        for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(node); i++)
            node_ok &= PyUnicode_Check(PyTuple_GET_ITEM(node, i));
    }
    if (forward64 != Py_None && !PyCallable_Check(forward64)) {
        PyErr_SetString(PyExc_TypeError, "Op: forward64 must be callable");
        return NULL;
    }
    if (derivative != Py_None && (!PyCallable_Check(derivative) || !node_ok || (kind != OP_UNARY && !generic))) {
        PyErr_SetString(PyExc_TypeError, "Op: a derivative needs a callable, a node name, and a unary op or a "
                                         "binary op with a forward");
        return NULL;
    }
    if ((flags & OPF_NO_BOOL) &&
        !(PyTuple_Check(bool_error) && PyTuple_GET_SIZE(bool_error) == 2 && PyExceptionClass_Check(PyTuple_GET_ITEM(bool_error, 0)) &&
          PyUnicode_Check(PyTuple_GET_ITEM(bool_error, 1)))) {
        PyErr_SetString(PyExc_TypeError, "Op: OPF_NO_BOOL needs bool_error, an (exception type, message) pair");
        return NULL;
    }
    if (saves & ~(SAVE_SELF | SAVE_RESULT)) {
        PyErr_SetString(PyExc_ValueError, "Op: saves is SAVE_SELF | SAVE_RESULT");
        return NULL;
    }
    OpObject *op = NULL, *m = NULL, *ip = NULL;
    PyObject *inplace_name = NULL;
    op = (OpObject *)tp->tp_alloc(tp, 0);
    if (op == NULL)
        return NULL;
    op->vectorcall = op_vectorcall;
    op->st = st;
    op->name = Py_NewRef(name);
    op->kind = kind;
    op->promotion = promotion;
    op->flags = flags;
    op->saves = saves;
    op->variant = VAR_FUNCTION;
    op->binop = op->binop_floor = -1;
    op->refuse = refuse;
    op->module = Py_XNewRef(module);
    op->qualname = Py_XNewRef(qualname);
    if (refusals != Py_None)
        op->refusals = Py_NewRef(refusals);
    if (kind == OP_NARY) {
        op->nparams = (int)PyTuple_GET_SIZE(params);
        for (int i = 0; i < op->nparams; i++) {
            PyObject *p = PyTuple_GET_ITEM(params, i);
            op->pname[i] = Py_NewRef(PyTuple_GET_ITEM(p, 0));
            op->paccept[i] = (int)PyLong_AsLong(PyTuple_GET_ITEM(p, 1));
            op->prole[i] = (int)PyLong_AsLong(PyTuple_GET_ITEM(p, 2));
            op->pdefault[i] = PyTuple_GET_SIZE(p) > 3 ? Py_NewRef(PyTuple_GET_ITEM(p, 3)) : NULL;
            op->npos += !(op->paccept[i] & ARG_KWONLY);
        }
    }
    if (kind == OP_BINARY && (op->other_name = other ? Py_NewRef(other) : PyUnicode_FromString("other")) == NULL)
        goto error;
    if (kind == OP_UNARY || generic) {
        op->forward = Py_NewRef(forward);
        op->forward64 = Py_NewRef(forward64 != Py_None ? forward64 : forward);
        op->forward_cpu = forward_cpu != Py_None ? Py_NewRef(forward_cpu) : NULL;
        op->scalar = Py_XNewRef(scalar);
    } else {
        if (!PyUnicode_Check(binary) || (op->binop = binary_op_index(PyUnicode_AsUTF8(binary))) < 0) {
            if (!PyErr_Occurred())
                PyErr_SetString(PyExc_TypeError, "Op: a binary op names its operator (binary='add', ...)");
            goto error;
        }
        op->is_sub = strcmp(PyUnicode_AsUTF8(binary), "sub") == 0;
        if ((flags & OPF_ROUNDING) && (op->binop_floor = binary_op_index("floor_divide")) < 0)
            goto error;
        if (fallback != Py_None)
            op->fallback = Py_NewRef(fallback);
    }
    if (bool_error != Py_None)
        op->bool_error = Py_NewRef(bool_error);
    if (derivative != Py_None) {
        op->derivative = Py_NewRef(derivative);
        PyObject *names[3] = {node, NULL, NULL}, **slots[3] = {&op->node_cls, &op->node_ts, &op->node_st};
        if (PyTuple_Check(node))
            for (Py_ssize_t i = 0; i < 3; i++)
                names[i] = i < PyTuple_GET_SIZE(node) ? PyTuple_GET_ITEM(node, i) : NULL;
        for (int i = 0; i < 3; i++) {
            if (names[i] == NULL)
                continue;
            PyObject *cls = node_class(st, names[i]); /* borrowed */
            if (cls == NULL)
                goto error;
            *slots[i] = Py_NewRef(cls);
        }
        op->backward = PyCFunction_NewEx(&op_backward_def, (PyObject *)op, NULL);
        if (op->backward == NULL)
            goto error;
    }
    PyTypeObject *mtp = (PyTypeObject *)st->op_method_type;
    if (variants & VARIANT_FLAG(VAR_METHOD)) {
        if ((m = op_form(mtp, op, VAR_METHOD)) == NULL)
            goto error;
        if (PyObject_SetAttr(st->tensor_type, name, (PyObject *)m) < 0)
            goto error;
        op->method = (PyObject *)m;
        m = NULL;
    }
    if (variants & VARIANT_FLAG(VAR_INPLACE)) {
        if ((ip = op_form(mtp, op, VAR_INPLACE)) == NULL)
            goto error;
        if ((flags & OPF_NO_INPLACE_GRAD) && ip->backward != NULL) {
            Py_SETREF(ip->backward, PyCFunction_NewEx(&op_inplace_refused_def, (PyObject *)op, NULL));
            if (ip->backward == NULL)
                goto error;
        }
        if ((inplace_name = PyUnicode_FromFormat("%U_", name)) == NULL ||
            PyObject_SetAttr(st->tensor_type, inplace_name, (PyObject *)ip) < 0)
            goto error;
        op->inplace = (PyObject *)ip;
        ip = NULL;
    }
    if (PyDict_SetItem(st->op_registry, name, (PyObject *)op) < 0)
        goto error;
    Py_XDECREF(inplace_name);
    return (PyObject *)op;
error:
    Py_XDECREF(inplace_name);
    Py_XDECREF(m);
    Py_XDECREF(ip);
    Py_XDECREF(op);
    return NULL;
}

/* _op_registry() -> a new dict: name -> function form of every declared operator. */
PyObject *mod_op_registry(PyObject *m, PyObject *noargs) { return PyDict_Copy(state_of_module(m)->op_registry); }

/* Create the Op (function form, the declaration's constructor) and OpMethod (method forms) types, export
 * them and the declaration constants on the module. 0 / -1. */
int op_types_init(PyObject *module, State *st)
{
    PyType_Slot fn_slots[] = {
        {Py_tp_new, op_new},
        {Py_tp_descr_get, op_fn_descr_get},
        {Py_tp_dealloc, op_dealloc},
        {Py_tp_traverse, op_traverse},
        {Py_tp_clear, op_clear},
        {Py_tp_repr, op_repr},
        {Py_tp_call, PyVectorcall_Call},
        {Py_tp_getset, op_getset},
        {Py_tp_methods, op_methods},
        {Py_tp_members, op_members},
        {0, NULL}};
    PyType_Spec fn_spec = {
        .name = "mlx_compat._C.Op",
        .basicsize = sizeof(OpObject),
        .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL,
        .slots = fn_slots,
    };
    PyType_Slot m_slots[] = {
        {Py_tp_dealloc, op_dealloc},
        {Py_tp_traverse, op_traverse},
        {Py_tp_clear, op_clear},
        {Py_tp_repr, op_repr},
        {Py_tp_call, PyVectorcall_Call},
        {Py_tp_descr_get, op_descr_get},
        {Py_tp_getset, op_getset},
        {Py_tp_methods, op_methods},
        {Py_tp_members, op_members},
        {0, NULL}};
    PyType_Spec m_spec = {
        .name = "mlx_compat._C.OpMethod",
        .basicsize = sizeof(OpObject),
        /* immutable: Note [Specialized method loads] (overrides.c) */
        .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL | Py_TPFLAGS_METHOD_DESCRIPTOR |
                 Py_TPFLAGS_DISALLOW_INSTANTIATION | Py_TPFLAGS_IMMUTABLETYPE,
        .slots = m_slots,
    };
    st->op_type = PyType_FromModuleAndSpec(module, &fn_spec, NULL);
    if (st->op_type == NULL || PyModule_AddObjectRef(module, "Op", st->op_type) < 0)
        return -1;
    st->op_method_type = PyType_FromModuleAndSpec(module, &m_spec, NULL);
    if (st->op_method_type == NULL || PyModule_AddObjectRef(module, "OpMethod", st->op_method_type) < 0)
        return -1;
    st->op_registry = PyDict_New();
    if (st->op_registry == NULL)
        return -1;
    struct { const char *name; int value; } consts[] = {
        {"PROMOTE_DEFAULT", PROMOTE_DEFAULT}, {"PROMOTE_INT_TO_FLOAT", PROMOTE_INT_TO_FLOAT},
        {"PROMOTE_BOOL_TO_LONG", PROMOTE_BOOL_TO_LONG}, {"PROMOTE_ALWAYS_BOOL", PROMOTE_ALWAYS_BOOL},
        {"PROMOTE_COMPLEX_TO_FLOAT", PROMOTE_COMPLEX_TO_FLOAT}, {"PROMOTE_DOUBLE", PROMOTE_DOUBLE},
        {"REFUSE_BOOL", REFUSE_BOOL},
        {"REFUSE_COMPLEX", REFUSE_COMPLEX}, {"REFUSE_INTEGRAL", REFUSE_INTEGRAL},
        {"REFUSE_COMPLEX_RUNTIME", REFUSE_COMPLEX_RUNTIME}, {"REFUSE_INT_ZERO_DIV", REFUSE_INT_ZERO_DIV},
        {"OPF_NO_OUT", OPF_NO_OUT}, {"OPF_EXACT_OUT", OPF_EXACT_OUT}, {"OPF_NO_INPLACE_GRAD", OPF_NO_INPLACE_GRAD},
        {"OPF_TENSOR_FIRST", OPF_TENSOR_FIRST}, {"OPF_TENSORS_ONLY", OPF_TENSORS_ONLY}, {"OPF_NUMBERS", OPF_NUMBERS},
        {"OP_UNARY", OP_UNARY}, {"OP_BINARY", OP_BINARY}, {"OP_NARY", OP_NARY},
        {"OPF_SAME_KIND", OPF_SAME_KIND}, {"OPF_NEED_ONE", OPF_NEED_ONE}, {"OPF_EXACT_OUT_NUMBERS", OPF_EXACT_OUT_NUMBERS},
        {"ARG_TENSOR", ARG_TENSOR}, {"ARG_NUMBER", ARG_NUMBER}, {"ARG_NONE", ARG_NONE}, {"ARG_FORM", ARG_FORM},
        {"ARG_KWONLY", ARG_KWONLY}, {"ROLE_PROMOTE", ROLE_PROMOTE}, {"ROLE_SAME", ROLE_SAME},
        {"ROLE_SAME_OR_0DIM", ROLE_SAME_OR_0DIM}, {"ROLE_MASK", ROLE_MASK}, {"ROLE_VALUE", ROLE_VALUE},
        {"ROLE_SCALAR", ROLE_SCALAR}, {"DTM_BOOL", DTM_BOOL}, {"DTM_INTEGRAL", DTM_INTEGRAL},
        {"DTM_FLOAT", DTM_FLOAT}, {"DTM_COMPLEX", DTM_COMPLEX}, {"DTM_HALF", DTM_HALF},
        {"OPF_COMPLEX", OPF_COMPLEX}, {"OPF_INT_IDENTITY", OPF_INT_IDENTITY}, {"OPF_NO_BOOL", OPF_NO_BOOL},
        {"OPF_ALPHA", OPF_ALPHA}, {"OPF_ROUNDING", OPF_ROUNDING},
        {"SAVE_SELF", SAVE_SELF}, {"SAVE_RESULT", SAVE_RESULT},
        {"VAR_FUNCTION", VAR_FUNCTION}, {"VAR_METHOD", VAR_METHOD}, {"VAR_INPLACE", VAR_INPLACE},
        {"VARIANT_METHOD", VARIANT_FLAG(VAR_METHOD)}, {"VARIANT_INPLACE", VARIANT_FLAG(VAR_INPLACE)},
        {NULL, 0}};
    for (int i = 0; consts[i].name != NULL; i++)
        if (PyModule_AddIntConstant(module, consts[i].name, consts[i].value) < 0)
            return -1;
    return 0;
}
