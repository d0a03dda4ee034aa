/* ops.c — the per-op hot path for Python operators: unwrap operands, promote with torch's rules,
 * call the cached MLX function, wrap the result; in-place forms write back through the view machinery.
 * Also the hot reductions (sum, mean), the generic `_binary` entry the Python layer uses, and binary_forward,
 * which runs the registry's binary declarations outside the operator table under the same operand rules. */
#include "core.h"

typedef enum {
    BIN_ADD, BIN_SUB, BIN_MUL, BIN_DIV, BIN_FLOORDIV, BIN_MOD, BIN_POW, BIN_AND, BIN_OR, BIN_XOR,
    BIN_LSHIFT, BIN_RSHIFT, BIN_EQ, BIN_NE, BIN_LT, BIN_LE, BIN_GT, BIN_GE, BIN_MAXIMUM, BIN_MINIMUM, BIN_COUNT
} BinOp;

typedef struct {
    const char *name;      /* torch's name (for errors and _binary) */
    size_t func_offset;    /* offset of the cached mx callable in State */
    char result;           /* its ElementwiseTypePromotionKind (core.h): DEFAULT, INT_TO_FLOAT, ALWAYS_BOOL */
    char integral_only;    /* bitwise and shifts */
    char no_bool;          /* torch refuses bool operands */
    char no_complex;       /* ordering comparisons */
    const char *dunder;    /* Python's operator name without underscores, for __torch_function__ */
    char int_zero_div;     /* integral division by zero raises torch's ZeroDivisionError (//, %, fmod) */
    char no_integral;      /* torch refuses integral and bool operands (hypot, logaddexp) */
    char complex_runtime;  /* complex operands: RuntimeError "<name> not implemented for complex tensors." */
} BinInfo;

#define F(name) offsetof(State, f_##name)
static const BinInfo BIN[BIN_COUNT] = {
    [BIN_ADD] = {"add", F(add), PROMOTE_DEFAULT, 0, 0, 0, "add"},
    [BIN_SUB] = {"sub", F(subtract), PROMOTE_DEFAULT, 0, 1, 0, "sub"},
    [BIN_MUL] = {"mul", F(multiply), PROMOTE_DEFAULT, 0, 0, 0, "mul"},
    [BIN_DIV] = {"div", F(divide), PROMOTE_INT_TO_FLOAT, 0, 0, 0, "truediv"},
    [BIN_FLOORDIV] = {"floor_divide", F(floor_divide), PROMOTE_DEFAULT, 0, 1, 1, "floordiv", 1},
    [BIN_MOD] = {"remainder", F(remainder), PROMOTE_DEFAULT, 0, 1, 1, "mod", 1},
    [BIN_POW] = {"pow", F(power), PROMOTE_DEFAULT, 0, 1, 0, "pow"},
    [BIN_AND] = {"bitwise_and", F(bitwise_and), PROMOTE_DEFAULT, 1, 0, 0, "and"},
    [BIN_OR] = {"bitwise_or", F(bitwise_or), PROMOTE_DEFAULT, 1, 0, 0, "or"},
    [BIN_XOR] = {"bitwise_xor", F(bitwise_xor), PROMOTE_DEFAULT, 1, 0, 0, "xor"},
    [BIN_LSHIFT] = {"bitwise_left_shift", F(left_shift), PROMOTE_DEFAULT, 1, 1, 0, "lshift"},
    [BIN_RSHIFT] = {"bitwise_right_shift", F(right_shift), PROMOTE_DEFAULT, 1, 1, 0, "rshift"},
    [BIN_EQ] = {"eq", F(equal), PROMOTE_ALWAYS_BOOL, 0, 0, 0, "eq"},
    [BIN_NE] = {"ne", F(not_equal), PROMOTE_ALWAYS_BOOL, 0, 0, 0, "ne"},
    [BIN_LT] = {"lt", F(less), PROMOTE_ALWAYS_BOOL, 0, 0, 1, "lt"},
    [BIN_LE] = {"le", F(less_equal), PROMOTE_ALWAYS_BOOL, 0, 0, 1, "le"},
    [BIN_GT] = {"gt", F(greater), PROMOTE_ALWAYS_BOOL, 0, 0, 1, "gt"},
    [BIN_GE] = {"ge", F(greater_equal), PROMOTE_ALWAYS_BOOL, 0, 0, 1, "ge"},
    [BIN_MAXIMUM] = {"maximum", F(maximum), PROMOTE_DEFAULT, 0, 0, 1, NULL},
    [BIN_MINIMUM] = {"minimum", F(minimum), PROMOTE_DEFAULT, 0, 0, 1, NULL},
};
#undef F
_Static_assert(BIN_COUNT * 3 <= BINARY_BACKWARD_SLOTS, "State.binary_backward holds 3 operand kinds per operator");

static PyObject *bin_func(State *st, BinOp op) { return *(PyObject **)((char *)st + BIN[op].func_offset); }

/* torch.can_cast: no complex -> real, float -> integral, non-bool -> bool. */
static int can_cast(int from, int to)
{
    if (dt_is_complex(from) && !dt_is_complex(to))
        return 0;
    if (dt_is_float(from) && dt_is_integral(to, 1))
        return 0;
    if (from != DT_BOOL && to == DT_BOOL)
        return 0;
    return 1;
}

/* An operand: a Tensor, or a Python number taking part as a weak scalar. */
typedef struct {
    PyObject *obj;      /* BORROWED */
    TensorObject *t;    /* NULL for scalars */
    int dt;             /* tensor dtype, or scalar_dtype() */
} Operand;

static PyObject *numpy_scalar_number(PyObject *o);
static int numpy_operands(PyObject *x, PyObject *y, PyObject **nx, PyObject **ny);

/* 1 if recognised, 0 if not (NotImplemented), -1 on error. */
static int classify(State *st, PyObject *o, Operand *out)
{
    out->obj = o;
    out->t = NULL;
    if (is_tensor(st, o)) {
        out->t = (TensorObject *)o;
        out->dt = out->t->dtype;
        return 1;
    }
    out->dt = scalar_dtype(o);
    return out->dt >= 0;
}

/* Whether either operand is a tensor with the channels-last hint (Note [Channels-last hint], layout.c): without
 * one, layout_call2 is the plain MLX call and layout_result_hint is 0, so the operator path skips both. */
static inline int operands_hinted(const Operand *a, const Operand *b)
{
    return (a->t != NULL && a->t->mem_last) || (b->t != NULL && b->t->mem_last);
}

/* Common device of two operands (zero-dim CPU tensors may join GPU ones, as in torch). */
static int common_device(State *st, Operand *a, Operand *b, int *device)
{
    if (a->t && b->t && a->t->device != b->t->device) {
        if (tensor_ensure_sizes(st, a->t) < 0 || tensor_ensure_sizes(st, b->t) < 0)
            return -1;
        if (a->t->ndim == 0 && a->t->device == DEV_CPU)
            *device = b->t->device;
        else if (b->t->ndim == 0 && b->t->device == DEV_CPU)
            *device = a->t->device;
        else {
            PyErr_SetString(PyExc_RuntimeError,
                            "Expected all tensors to be on the same device, but found at least two devices, cpu and cuda:0!");
            return -1;
        }
        return 0;
    }
    *device = a->t ? a->t->device : b->t->device;
    return 0;
}

/* The dtype torch computes `a op b` in; -1 with torch's exception when it refuses. */
static int binary_result_type(State *st, Operand *a, Operand *b)
{
    if (a->t && b->t && a->dt == b->dt) { /* one dtype: torch's result type is it, whatever the ranks */
        if (tensor_ndim(st, a->t) < 0 || tensor_ndim(st, b->t) < 0) /* callers read the ranks */
            return -1;
        return a->dt;
    }
    ResultTypeState rs;
    result_type_init(&rs);
    Operand *ops[2] = {a, b};
    for (int i = 0; i < 2; i++) {
        if (ops[i]->t) {
            int nd = tensor_ndim(st, ops[i]->t);
            if (nd < 0)
                return -1;
            result_type_update(st, &rs, nd ? OP_TENSOR_DIM : OP_TENSOR_ZERO, ops[i]->dt);
        } else {
            result_type_update(st, &rs, OP_SCALAR, ops[i]->dt);
        }
    }
    int r = result_type_finish(&rs);
    if (r == DT_C128)
        return r; /* the caller decides: an error, or complex64 for in-place complex64 targets */
    if (r < 0) {
        int da = a->t ? a->dt : DT_NONE, db = b->t ? b->dt : DT_NONE;
        raise_promotion_error(da, db);
        return -1;
    }
    return r;
}

/* The dtype a PROMOTE_DOUBLE op computes in (Note [Always-double results] in dispatch.c), -1 on error. Like
 * binary_result_type it leaves the tensor operands' ranks known: callers set the result's rank from them. */
static int double_result_type(State *st, Operand *a, Operand *b)
{
    if ((a->t && tensor_ndim(st, a->t) < 0) || (b->t && tensor_ndim(st, b->t) < 0))
        return -1;
    return double_result_dtype(a->dt, b->dt);
}

/* torch's refusals for the op given the operand dtypes, as RuntimeError / TypeError. */
static int check_op_dtypes(const BinInfo *info, BinOp op, Operand *a, Operand *b, int r)
{
    if (r == DT_C128)
        r = DT_C64; /* same refusals as for complex64 */
    if ((info->integral_only && !dt_is_integral(r, 1)) || (info->no_integral && dt_is_integral(r, 1))) {
        PyErr_Format(PyExc_NotImplementedError, "\"%s_cpu\" not implemented for '%s'", info->name, dtype_name(r));
        return -1;
    }
    if (op == BIN_SUB && (a->dt == DT_BOOL || b->dt == DT_BOOL)) {
        int both = a->dt == DT_BOOL && b->dt == DT_BOOL;
        PyErr_SetString(PyExc_RuntimeError,
                        both ? "Subtraction, the `-` operator, with two bool tensors is not supported. Use the `^` or `logical_xor()` operator instead."
                             : "Subtraction, the `-` operator, with a bool tensor is not supported. If you are trying to invert a mask, use the `~` or `logical_not()` operator instead.");
        return -1;
    }
    /* torch's pow(Tensor, Scalar) copies the input for an exponent of 1, bool included */
    int pow_one = op == BIN_POW && b->t == NULL && (is_int_value(b->obj, 1) || b->obj == Py_True);
    if (info->no_bool && op != BIN_SUB && r == DT_BOOL && !pow_one) {
        PyErr_Format(PyExc_NotImplementedError, "\"%s_cpu\" not implemented for 'Bool'",
                     op == BIN_FLOORDIV ? "div_floor" : info->name); /* torch's kernel names */
        return -1;
    }
    if (info->complex_runtime && dt_is_complex(r)) {
        PyErr_Format(PyExc_RuntimeError, "%s not implemented for complex tensors.", info->name);
        return -1;
    }
    if (info->no_complex && dt_is_complex(r)) {
        PyErr_Format(PyExc_NotImplementedError, "\"%s_cpu\" not implemented for 'ComplexFloat'", info->name);
        return -1;
    }
    if (info->int_zero_div && dt_is_integral(r, 1)) {
        /* torch raises on integer division by a zero scalar */
        if (b->t == NULL && is_int_value(b->obj, 0)) {
            PyErr_SetString(PyExc_RuntimeError, "ZeroDivisionError");
            return -1;
        }
    }
    if (op == BIN_POW && dt_is_integral(r, 0) && b->t == NULL && PyLong_Check(b->obj) && !PyBool_Check(b->obj)) {
        long e = PyLong_AsLong(b->obj);
        if (e == -1 && PyErr_Occurred())
            PyErr_Clear();
        else if (e < 0) {
            PyErr_SetString(PyExc_RuntimeError, "Integers to negative integer powers are not allowed.");
            return -1;
        }
    }
    /* torch's pow(Tensor, Scalar) converts the exponent to the result's type, checked, where that type is integral
     * or a half type (float and double kernels take a double exponent): int32 ** 2**40 raises */
    if (op == BIN_POW && a->t != NULL && b->t == NULL && !dt_is_complex(r) && r != DT_F32 && r != DT_F64 &&
        scalar_overflows(b->obj, r)) {
        PyErr_Format(PyExc_RuntimeError, "value cannot be converted to type %s without overflow", scalar_ctype(r));
        return -1;
    }
    return 0;
}

/* A Python int v (BORROWED) as torch's argument parser reads a Number: int64, or past it the bits of a uint64;
 * what fits neither raises torch's OverflowError. 0 with *out set, or -1. */
int torch_int_number(PyObject *v, long long *out)
{
    int overflow = 0;
    long long x = PyLong_AsLongLongAndOverflow(v, &overflow);
    if (overflow) {
        unsigned long long u = PyLong_AsUnsignedLongLong(v);
        if (u == (unsigned long long)-1 && PyErr_Occurred()) {
            PyErr_Clear();
            PyErr_SetString(PyExc_OverflowError, overflow < 0 ? "can't convert negative int to unsigned"
                                                              : "int too big to convert");
            return -1;
        }
        x = (long long)u;
    } else if (x == -1 && PyErr_Occurred())
        return -1;
    *out = x;
    return 0;
}

/* NEW: a Python int scalar wrapped into dtype dt's range as torch's C cast does (-2 as uint8 is 254). */
static PyObject *wrap_int_scalar(PyObject *v, int dt)
{
    static const int bits[DT_COUNT] = {[DT_U8] = 8, [DT_U16] = 16, [DT_U32] = 32, [DT_U64] = 64,
                                       [DT_I8] = 8, [DT_I16] = 16, [DT_I32] = 32, [DT_I64] = 64};
    long long x;
    if (torch_int_number(v, &x) < 0)
        return NULL;
    int n = bits[dt];
    if (n == 64 || n == 0)
        return dt == DT_U64 ? PyLong_FromUnsignedLongLong((unsigned long long)x) : PyLong_FromLongLong(x);
    unsigned long long mask = (1ULL << n) - 1, u = (unsigned long long)x & mask;
    int is_unsigned = dt >= DT_U8 && dt <= DT_U64;
    if (!is_unsigned && (u >> (n - 1)))
        return PyLong_FromLongLong((long long)u - (long long)(1ULL << n));
    return PyLong_FromUnsignedLongLong(u);
}

/* NEW: the operand as an MLX argument in dtype `dt` (tensors are cast; scalars stay weak Python numbers). */
static PyObject *operand_value(State *st, Operand *o, int dt, int device)
{
    if (o->t == NULL) {
        if (dt_is_integral(dt, 0) && PyLong_Check(o->obj) && !PyBool_Check(o->obj))
            return wrap_int_scalar(o->obj, dt);
        if (PyLong_Check(o->obj) && !PyBool_Check(o->obj)) {
            /* an int past int64 (MLX's bad_cast): torch takes it as uint64 into a floating result */
            int overflow = 0;
            PyLong_AsLongLongAndOverflow(o->obj, &overflow);
            if (overflow) {
                PyObject *w = wrap_int_scalar(o->obj, DT_U64);
                if (w == NULL)
                    return NULL;
                Py_SETREF(w, PyNumber_Float(w));
                return w;
            }
        }
        return Py_NewRef(o->obj);
    }
    if (tensor_check_mx_extent(st, o->t) < 0) /* Note [32-bit element counts] (tensor.c) */
        return NULL;
    PyObject *v = tensor_value(st, o->t);
    if (v == NULL)
        return NULL;
    if (o->dt == dt)
        return Py_NewRef(v);
    return mx_astype(st, v, dt, device);
}

/* Replace MLX's broadcasting ValueError with torch's RuntimeError naming the first mismatched dim. */
/* Whether tensors x and y (sizes known) do not broadcast; if so, sets torch's RuntimeError for the rightmost
 * mismatched dimension. 1 / 0. */
static int set_broadcast_mismatch(TensorObject *x, TensorObject *y)
{
    int n = x->ndim > y->ndim ? x->ndim : y->ndim;
    for (int i = n - 1; i >= 0; i--) {
        int ix = i - (n - x->ndim), iy = i - (n - y->ndim);
        Py_ssize_t sx = ix >= 0 ? x->sizes[ix] : 1, sy = iy >= 0 ? y->sizes[iy] : 1;
        if (sx != sy && sx != 1 && sy != 1) {
            PyErr_Format(PyExc_RuntimeError,
                         "The size of tensor a (%zd) must match the size of tensor b (%zd) at non-singleton dimension %d",
                         sx, sy, i);
            return 1;
        }
    }
    return 0;
}

static CORE_COLD void raise_broadcast_error(State *st, Operand *a, Operand *b)
{
    if (!PyErr_ExceptionMatches(PyExc_ValueError) || a->t == NULL || b->t == NULL)
        return;
    TensorObject *x = a->t, *y = b->t;
    /* Reading a lazy tensor's shape calls into MLX, which must not run with an exception pending:
     * hold MLX's error aside meanwhile and put it back when no torch message replaces it. */
    PyObject *et, *ev, *tb;
    PyErr_Fetch(&et, &ev, &tb);
    if (tensor_ensure_sizes(st, x) < 0 || tensor_ensure_sizes(st, y) < 0) {
        Py_XDECREF(et);
        Py_XDECREF(ev);
        Py_XDECREF(tb);
        return;
    }
    if (set_broadcast_mismatch(x, y)) {
        Py_XDECREF(et);
        Py_XDECREF(ev);
        Py_XDECREF(tb);
        return;
    }
    PyErr_Restore(et, ev, tb);
}

/* check_op_dtypes refused a dtype the kernel lacks (NotImplementedError, pending): torch's iterator checks the
 * operands' shapes and an in-place result's dtype before it looks for a kernel, so a mismatched shape or an
 * uncastable in-place result takes the error's place, as torch's RuntimeError. `r`: the result dtype. */
static CORE_COLD void refusal_in_torch_order(State *st, const BinInfo *info, Operand *a, Operand *b, int r,
                                             int inplace)
{
    if (!PyErr_ExceptionMatches(PyExc_NotImplementedError))
        return;
    PyObject *et, *ev, *tb;
    PyErr_Fetch(&et, &ev, &tb);
    if (a->t != NULL && b->t != NULL) {
        TensorObject *x = a->t, *y = b->t;
        if (tensor_ensure_sizes(st, x) < 0 || tensor_ensure_sizes(st, y) < 0)
            goto keep;
        if (set_broadcast_mismatch(x, y))
            goto replaced;
    }
    if (info->result == PROMOTE_ALWAYS_BOOL) /* a comparison's result is bool, which casts into anything */
        r = DT_BOOL;
    if (inplace && a->t != NULL && r >= 0 && !can_cast(r, a->t->dtype)) {
        PyErr_Format(PyExc_RuntimeError, "result type %s can't be cast to the desired output type %s",
                     dtype_name(r == DT_C128 ? DT_C64 : r), dtype_name(a->t->dtype));
        goto replaced;
    }
    PyErr_Restore(et, ev, tb);
    return;
keep:
    PyErr_Clear(); /* a shape that cannot be read: the kernel's refusal stands */
    PyErr_Restore(et, ev, tb);
    return;
replaced:
    Py_XDECREF(et);
    Py_XDECREF(ev);
    Py_XDECREF(tb);
}

/* Note [Integer powers with negative exponents]: torch computes an integral base to a negative integral
 * exponent taken from a tensor as 1 for base 1, -1 or 1 for base -1 by the exponent's parity, and 0 otherwise
 * (a negative Python int exponent raises instead: check_op_dtypes); MLX's integer power gives 0 for them all.
 * NEW: `res` (STOLEN, va ** vb in dtype `dt`) with those elements replaced, or NULL. */
static __attribute__((noinline)) PyObject *pow_negative_exponents(State *st, PyObject *res, PyObject *va, PyObject *vb, int dt, int device)
{
    PyObject *zero = PyLong_FromLong(0), *one = PyLong_FromLong(1), *m1 = PyLong_FromLong(-1), *two = PyLong_FromLong(2);
    PyObject *neg = NULL, *is1 = NULL, *ism1 = NULL, *rem = NULL, *odd = NULL, *sgn = NULL, *fix = NULL, *fix2 = NULL;
    PyObject *r = NULL, *out = NULL;
    if (zero == NULL || one == NULL || m1 == NULL || two == NULL)
        goto error;
    if ((neg = mx_call2(st, st->f_less, vb, zero, device)) == NULL ||
        (is1 = mx_call2(st, st->f_equal, va, one, device)) == NULL ||
        (ism1 = mx_call2(st, st->f_equal, va, m1, device)) == NULL ||
        (rem = mx_call2(st, st->f_remainder, vb, two, device)) == NULL ||
        (odd = mx_call2(st, st->f_not_equal, rem, zero, device)) == NULL)
        goto error;
    PyObject *a1[3] = {odd, m1, one};
    if ((sgn = mx_call(st, st->f_where, a1, 3, device)) == NULL)
        goto error;
    PyObject *a2[3] = {ism1, sgn, zero};
    if ((fix = mx_call(st, st->f_where, a2, 3, device)) == NULL)
        goto error;
    PyObject *a3[3] = {is1, one, fix};
    if ((fix2 = mx_call(st, st->f_where, a3, 3, device)) == NULL)
        goto error;
    PyObject *a4[3] = {neg, fix2, res};
    if ((r = mx_call(st, st->f_where, a4, 3, device)) == NULL)
        goto error;
    out = mx_astype(st, r, dt, device);
error:
    Py_XDECREF(zero);
    Py_XDECREF(one);
    Py_XDECREF(m1);
    Py_XDECREF(two);
    Py_XDECREF(neg);
    Py_XDECREF(is1);
    Py_XDECREF(ism1);
    Py_XDECREF(rem);
    Py_XDECREF(odd);
    Py_XDECREF(sgn);
    Py_XDECREF(fix);
    Py_XDECREF(fix2);
    Py_XDECREF(r);
    Py_DECREF(res);
    return out;
}

/* Note [Integer division traps]
 * A CPU's integer division traps (SIGFPE, the process dies) on a zero divisor and on the most negative value
 * divided by -1, and MLX's integer floor_divide, remainder and fmod divide without looking. torch raises on a
 * zero divisor (check_int_zero_div, eagerly; while MLX traces, the values are not read: Note [No evaluation
 * while tracing]) and wraps INT_MIN // -1 to INT_MIN, % -1 and fmod by -1 to 0. So a signed integer division
 * divides by 1 where the divisor is 0 or -1 (x % 1 and fmod(x, 1) are the 0 that -1 gives) and negates the
 * quotient where it was -1 (-x wraps as torch's); a traced zero divisor then gives x // 1 rather than a dead
 * process. A Python scalar divisor is known: -1 takes the same route without the selects, any other none. */

/* NEW: the divisor to use instead of vb (BORROWED; b its operand) in a signed integer division, or a new
 * reference to vb when no change is needed; *neg_mask: NEW bool array where the divisor was -1 (or Py_True for
 * a scalar -1), NULL where none can be. Note [Integer division traps]. */
static __attribute__((noinline)) PyObject *int_division_divisor(State *st, Operand *b, PyObject *vb, int device,
                                                                PyObject **neg_mask)
{
    PyObject *zero = NULL, *m1 = NULL, *one = NULL, *is0 = NULL, *ism1 = NULL, *bad = NULL, *out = NULL;
    *neg_mask = NULL;
    if (b->t == NULL) {
        if (!is_int_value(b->obj, -1))
            return Py_NewRef(vb);
        *neg_mask = Py_NewRef(Py_True);
        return PyLong_FromLong(1);
    }
    if ((zero = PyLong_FromLong(0)) == NULL || (m1 = PyLong_FromLong(-1)) == NULL || (one = PyLong_FromLong(1)) == NULL)
        goto error;
    if ((is0 = mx_call2(st, st->f_equal, vb, zero, device)) == NULL ||
        (ism1 = mx_call2(st, st->f_equal, vb, m1, device)) == NULL ||
        (bad = mx_call2(st, st->f_bitwise_or, is0, ism1, device)) == NULL)
        goto error;
    PyObject *args[3] = {bad, one, vb};
    if ((out = mx_call(st, st->f_where, args, 3, device)) == NULL)
        goto error;
    *neg_mask = Py_NewRef(ism1);
error:
    Py_XDECREF(zero);
    Py_XDECREF(m1);
    Py_XDECREF(one);
    Py_XDECREF(is0);
    Py_XDECREF(ism1);
    Py_XDECREF(bad);
    return out;
}

/* NEW: res (STOLEN, a quotient by the divisor of int_division_divisor) negated where neg_mask (BORROWED) is set;
 * Note [Integer division traps]. */
static __attribute__((noinline)) PyObject *int_division_negate(State *st, PyObject *res, PyObject *neg_mask, int device)
{
    PyObject *neg = mx_call1(st, st->f_negative, res, device), *out = NULL;
    if (neg != NULL && neg_mask == Py_True)
        out = Py_NewRef(neg);
    else if (neg != NULL) {
        PyObject *args[3] = {neg_mask, neg, res};
        out = mx_call(st, st->f_where, args, 3, device);
    }
    Py_XDECREF(neg);
    Py_DECREF(res);
    return out;
}

/* Note [Floating floor division]
 * torch's floor_divide of floating values is not floor(a / b): it takes the quotient of a less its remainder,
 * (a - fmod(a, b)) / b, a value within rounding of an integer, and rounds that to the integer (c10's
 * div_floor_floating), as Python's float // does. floor(a / b) rounds the true quotient first: 7.0 // 0.1 is 69 in
 * torch and Python (0.1 is slightly above a tenth) but floor(70.0) = 70 from MLX's floor_divide. The same steps here
 * with MLX's remainder (the one with the divisor's sign, so no adjustment by one is needed): div = (a - r) / b,
 * floor(div) raised by one where div's fraction passes one half, a zero with the sign of a / b where div is 0,
 * and a / b for a zero divisor (IEEE's infinities and NaN). An infinite divisor of a finite a is torch's case
 * apart: fmod(a, ±inf) is a, so the quotient is -1 where a is nonzero and of the other sign, else a / b (a
 * signed zero); MLX's remainder there is a + b, an infinity, and would give NaN. float32 and float64 give torch's
 * bits. Half types compute each step in their type and a large quotient can still differ by a spacing or two of
 * the type (42 of 2,324 bfloat16 cases; a float32 computation rounded once differed in 52). */

/* NEW: torch's floor division of floating MLX arrays va and vb (BORROWED); Note [Floating floor division]. */
static __attribute__((noinline)) PyObject *float_floor_divide(State *st, PyObject *va, PyObject *vb, int device)
{
    PyObject *zero = NULL, *half = NULL, *r = NULL, *num = NULL, *div = NULL, *fl = NULL, *frac = NULL, *up = NULL;
    PyObject *rounded = NULL, *q = NULL, *signed0 = NULL, *is0 = NULL, *nonzero = NULL, *b0 = NULL, *out = NULL;
    PyObject *inf = NULL, *m1 = NULL, *absb = NULL, *binf = NULL, *aa = NULL, *afin = NULL, *infcase = NULL;
    PyObject *ab = NULL, *opposite = NULL, *infres = NULL, *finite = NULL;
    if ((zero = PyLong_FromLong(0)) == NULL || (half = PyFloat_FromDouble(0.5)) == NULL ||
        (inf = PyFloat_FromDouble(Py_HUGE_VAL)) == NULL || (m1 = PyLong_FromLong(-1)) == NULL)
        goto error;
    if ((r = mx_call2(st, st->f_remainder, va, vb, device)) == NULL ||
        (num = mx_call2(st, st->f_subtract, va, r, device)) == NULL ||
        (div = mx_call2(st, st->f_divide, num, vb, device)) == NULL ||
        (fl = mx_call1(st, st->f_floor, div, device)) == NULL ||
        (frac = mx_call2(st, st->f_subtract, div, fl, device)) == NULL ||
        (up = mx_call2(st, st->f_greater, frac, half, device)) == NULL ||
        (rounded = mx_call2(st, st->f_add, fl, up, device)) == NULL ||
        (q = mx_call2(st, st->f_divide, va, vb, device)) == NULL ||
        (signed0 = mx_call2(st, st->f_multiply, q, zero, device)) == NULL ||
        (is0 = mx_call2(st, st->f_equal, div, zero, device)) == NULL ||
        (b0 = mx_call2(st, st->f_equal, vb, zero, device)) == NULL)
        goto error;
    PyObject *a1[3] = {is0, signed0, rounded};
    if ((nonzero = mx_call(st, st->f_where, a1, 3, device)) == NULL)
        goto error;
    if ((absb = mx_call1(st, st->f_abs, vb, device)) == NULL ||
        (binf = mx_call2(st, st->f_equal, absb, inf, device)) == NULL ||
        (aa = mx_call2(st, st->f_subtract, va, va, device)) == NULL || /* 0 for a finite a, NaN otherwise */
        (afin = mx_call2(st, st->f_equal, aa, zero, device)) == NULL ||
        (infcase = mx_call2(st, st->f_bitwise_and, binf, afin, device)) == NULL ||
        (ab = mx_call2(st, st->f_multiply, va, vb, device)) == NULL ||
        (opposite = mx_call2(st, st->f_less, ab, zero, device)) == NULL)
        goto error;
    PyObject *a3[3] = {opposite, m1, q};
    if ((infres = mx_call(st, st->f_where, a3, 3, device)) == NULL)
        goto error;
    PyObject *a4[3] = {infcase, infres, nonzero};
    if ((finite = mx_call(st, st->f_where, a4, 3, device)) == NULL)
        goto error;
    PyObject *a2[3] = {b0, q, finite};
    out = mx_call(st, st->f_where, a2, 3, device);
error:
    Py_XDECREF(zero);
    Py_XDECREF(half);
    Py_XDECREF(r);
    Py_XDECREF(num);
    Py_XDECREF(div);
    Py_XDECREF(fl);
    Py_XDECREF(frac);
    Py_XDECREF(up);
    Py_XDECREF(rounded);
    Py_XDECREF(q);
    Py_XDECREF(signed0);
    Py_XDECREF(is0);
    Py_XDECREF(nonzero);
    Py_XDECREF(b0);
    Py_XDECREF(inf);
    Py_XDECREF(m1);
    Py_XDECREF(absb);
    Py_XDECREF(binf);
    Py_XDECREF(aa);
    Py_XDECREF(afin);
    Py_XDECREF(infcase);
    Py_XDECREF(ab);
    Py_XDECREF(opposite);
    Py_XDECREF(infres);
    Py_XDECREF(finite);
    return out;
}

/* Note [Shifts past the width]
 * C leaves a shift by a negative count or by the type's width or more undefined, and MLX shifts without looking
 * (x86 masks the count: 1 << 64 gave 1, 1 << -1 gave INT64_MIN). torch's kernels define them: a left shift by a
 * negative count or by the width or more is 0; a right shift by a negative count or by at least the width
 * (signed: the width - 1) is the shift by the width - 1, the sign's fill, for a signed type and 0 for an unsigned
 * one. So such counts are replaced by 0 before MLX shifts, and the result by those values after. */

/* NEW: va << vb or va >> vb (BORROWED; b the count's operand) for integer dtype dt, torch's results for counts
 * outside [0, width) (Note [Shifts past the width]). */
static __attribute__((noinline)) PyObject *int_shift(State *st, BinOp op, PyObject *func, PyObject *va, PyObject *vb,
                                                    Operand *b, int dt, int device)
{
    int is_signed = dt >= DT_I8 && dt <= DT_I64, bits = dt_itemsize(dt) * 8;
    long limit = op == BIN_LSHIFT ? bits : bits - is_signed;
    PyObject *zero = NULL, *lim = NULL, *fillc = NULL, *neg = NULL, *big = NULL, *bad = NULL, *safe = NULL;
    PyObject *shifted = NULL, *fill = NULL, *out = NULL;
    if (b->t == NULL) { /* a Python count: known here */
        int overflow = 0;
        long v = PyLong_Check(b->obj) ? PyLong_AsLongAndOverflow(b->obj, &overflow) : 0;
        if (v == -1 && PyErr_Occurred())
            return NULL;
        if (!overflow && v >= 0 && v < limit)
            return mx_call2(st, func, va, vb, device);
    }
    if ((zero = PyLong_FromLong(0)) == NULL || (lim = PyLong_FromLong(limit)) == NULL ||
        (fillc = PyLong_FromLong(bits - 1)) == NULL)
        goto error;
    if ((neg = mx_call2(st, st->f_less, vb, zero, device)) == NULL ||
        (big = mx_call2(st, st->f_greater_equal, vb, lim, device)) == NULL ||
        (bad = mx_call2(st, st->f_bitwise_or, neg, big, device)) == NULL)
        goto error;
    PyObject *a1[3] = {bad, zero, vb};
    if ((safe = mx_call(st, st->f_where, a1, 3, device)) == NULL ||
        (shifted = mx_call2(st, func, va, safe, device)) == NULL)
        goto error;
    if (op == BIN_RSHIFT && is_signed)
        fill = mx_call2(st, st->f_right_shift, va, fillc, device);
    else
        fill = mx_call2(st, st->f_multiply, va, zero, device);
    if (fill == NULL)
        goto error;
    PyObject *a2[3] = {bad, fill, shifted};
    out = mx_call(st, st->f_where, a2, 3, device);
    if (out != NULL)
        Py_SETREF(out, mx_astype(st, out, dt, device));
error:
    Py_XDECREF(zero);
    Py_XDECREF(lim);
    Py_XDECREF(fillc);
    Py_XDECREF(neg);
    Py_XDECREF(big);
    Py_XDECREF(bad);
    Py_XDECREF(safe);
    Py_XDECREF(shifted);
    Py_XDECREF(fill);
    return out;
}

/* The dtype to compute in where torch's promotion gives complex128 (float64 with complex64), which MLX lacks:
 * an in-place complex64 target keeps complex64 anyway, and comparisons only need the values, so complex64
 * serves there; otherwise -1 with a clear refusal. */
static __attribute__((noinline)) int complex128_result(const BinInfo *info, Operand *a, int inplace)
{
    if (inplace && a->t && !dt_is_complex(a->t->dtype)) {
        PyErr_Format(PyExc_RuntimeError, "result type ComplexDouble can't be cast to the desired output type %s",
                     dtype_name(a->t->dtype));
        return -1;
    }
    if (!(inplace && a->t && a->t->dtype == DT_C64) && info->result != PROMOTE_ALWAYS_BOOL) {
        PyErr_SetString(PyExc_TypeError, "complex128 is not supported by MLX (the result of combining float64 and complex64)");
        return -1;
    }
    return DT_C64;
}

/* torch raises on integer division by zero: 0 when divisor `d` has no zero, else -1 with RuntimeError. This
 * reads the divisor's values, except while MLX traces them (Note [No evaluation while tracing] in mxcall.c). */
static __attribute__((noinline)) int check_int_zero_div(State *st, TensorObject *d, int device)
{
    PyObject *v = tensor_value(st, d), *z = NULL, *anyz = NULL, *item = NULL;
    int bad = -1;
    if (v != NULL && (z = PyLong_FromLong(0)) != NULL) {
        PyObject *eq = mx_call2(st, st->f_equal, v, z, device);
        if (eq != NULL) {
            anyz = PyObject_CallMethod(eq, "any", NULL);
            Py_DECREF(eq);
        }
        if (anyz != NULL && (item = mx_item_or_tracing(st, anyz)) != NULL)
            bad = item == Py_None ? 0 : PyObject_IsTrue(item);
    }
    Py_XDECREF(z);
    Py_XDECREF(anyz);
    Py_XDECREF(item);
    if (bad != 0) {
        if (bad > 0)
            PyErr_SetString(PyExc_RuntimeError, "ZeroDivisionError");
        return -1;
    }
    return 0;
}

/* Note [Powers by small exponents]
 * torch's pow(Tensor, Scalar) does not call pow for the common exponents of a floating tensor: 2 is base * base,
 * 3 base * base * base, -2 1 / (base * base) (its pow_tensor_scalar_optimized_kernel) and -1 the reciprocal.
 * MLX's CPU power calls libm's powf per element (x ** 2 on 256 x 4096: 11.3 ms, mx.square 0.38, torch 0.42), so
 * the same cases here take the same operations: the values are torch's, bit for bit (checked for float32, float64,
 * bfloat16 and float16 with zeros, infinities and NaN). 0.5 and -0.5 stay powers: torch's are powf, not sqrt
 * (pow(-inf, 0.5) is inf, and the roundings differ from its sqrt). A half type's 3 and -2 keep MLX's power too:
 * MLX would round x * x to the half type before the next operation, where torch computes the chain in float32 and
 * rounds once. */

/* The case of Note [Powers by small exponents] for exponent operand b and computation dtype `compute`: 0 for
 * none, else the exponent 2, 3, -2 or -1. */
static int pow_small_exponent(Operand *b, int compute)
{
    if (b->t != NULL || !dt_is_float(compute) || !(PyFloat_CheckExact(b->obj) || PyLong_CheckExact(b->obj)))
        return 0;
    double e = PyFloat_CheckExact(b->obj) ? PyFloat_AS_DOUBLE(b->obj) : PyLong_AsDouble(b->obj);
    if (e == -1.0 && PyErr_Occurred()) {
        PyErr_Clear();
        return 0;
    }
    int half = compute == DT_F16 || compute == DT_BF16;
    return e == 2.0 ? 2 : e == 3.0 && !half ? 3 : e == -2.0 && !half ? -2 : e == -1.0 ? -1 : 0;
}

/* NEW: va ** e for a case `k` of pow_small_exponent (va BORROWED). */
static PyObject *pow_small(State *st, int k, PyObject *va, int device)
{
    if (k == -1)
        return mx_call1(st, st->f_reciprocal, va, device);
    PyObject *sq = mx_call2(st, st->f_multiply, va, va, device), *r = NULL;
    if (sq == NULL || k == 2)
        return sq;
    r = k == 3 ? mx_call2(st, st->f_multiply, sq, va, device) : mx_call1(st, st->f_reciprocal, sq, device);
    Py_DECREF(sq);
    return r;
}

/* NEW: the mx.array result of `a op b` (computed in *out_dt), before wrapping: `info` holds the operator's
 * dtype rule and refusals, `func` (BORROWED) its MLX callable, `func64` (BORROWED, may be NULL) the one for
 * float64; `op` is BIN_COUNT for a registry-declared operator outside the table (binary_forward). last: NULL,
 * or where the result's N...C source goes (NEW, or NULL: Note [Channels-last source] in layout.c). */
static PyObject *binary_compute_info(State *st, const BinInfo *info, BinOp op, PyObject *func, PyObject *func64,
                                     Operand *a, Operand *b, int *out_dt, int *device, int inplace, PyObject **last)
{
    /* Note [Always-double results] (dispatch.c): float_power computes in float64 whatever the operands */
    int r = info->result == PROMOTE_DOUBLE ? double_result_type(st, a, b) : binary_result_type(st, a, b);
    if (r < 0 && r != DT_C128)
        return NULL;
    if (check_op_dtypes(info, op, a, b, r) < 0) {
        refusal_in_torch_order(st, info, a, b, r, inplace);
        return NULL;
    }
    if (common_device(st, a, b, device) < 0)
        return NULL;
    if (info->result == PROMOTE_DOUBLE && double_result_supported(info->name, r, *device) < 0)
        return NULL;
    if (r == DT_C128 && (r = complex128_result(info, a, inplace)) < 0)
        return NULL;
    if (info->int_zero_div && dt_is_integral(r, 1) && b->t != NULL && check_int_zero_div(st, b->t, *device) < 0)
        return NULL;
    int compute = r;
    if (info->result == PROMOTE_INT_TO_FLOAT && dt_is_integral(r, 1))
        compute = st->default_dtype;
    PyObject *va = operand_value(st, a, compute, *device);
    if (va == NULL)
        return NULL;
    PyObject *vb = operand_value(st, b, compute, *device);
    if (vb == NULL) {
        Py_DECREF(va);
        return NULL;
    }
    PyObject *neg_mask = NULL; /* Note [Integer division traps] */
    if (info->int_zero_div && compute >= DT_I8 && compute <= DT_I64) {
        Py_SETREF(vb, int_division_divisor(st, b, vb, *device, &neg_mask));
        if (vb == NULL) {
            Py_DECREF(va);
            return NULL;
        }
    }
    /* Note [Channels-last hint] (layout.c): two channels-last operands are combined in N...C space (neither
     * hinted, the common case: the plain call, which is what layout_call2 makes then) */
    PyObject *f = compute == DT_F64 && func64 != NULL ? func64 : func;
    int small = op == BIN_POW && !operands_hinted(a, b) ? pow_small_exponent(b, compute) : 0;
    PyObject *res = (op == BIN_LSHIFT || op == BIN_RSHIFT) && dt_is_integral(compute, 0)
                        ? int_shift(st, op, f, va, vb, b, compute, *device) /* Note [Shifts past the width] */
                    : op == BIN_FLOORDIV && dt_is_float(compute)
                        ? float_floor_divide(st, va, vb, *device) /* Note [Floating floor division] */
                    : small != 0 ? pow_small(st, small, va, *device) /* Note [Powers by small exponents] */
                    : operands_hinted(a, b) ? layout_call2(st, f, va, vb, a->t, b->t, *device, compute, last)
                                            : mx_call2(st, f, va, vb, *device);
    if (res != NULL && op == BIN_POW && (compute == DT_I8 || compute == DT_I16 || compute == DT_I32 || compute == DT_I64) &&
        b->t != NULL) {
        res = pow_negative_exponents(st, res, va, vb, compute, *device);
        if (last != NULL) /* another array than layout_call2's NC... view */
            Py_CLEAR(*last);
    }
    if (res != NULL && neg_mask != NULL && op == BIN_FLOORDIV) {
        res = int_division_negate(st, res, neg_mask, *device);
        if (last != NULL) /* another array than layout_call2's NC... view */
            Py_CLEAR(*last);
    }
    Py_XDECREF(neg_mask);
    Py_DECREF(va);
    Py_DECREF(vb);
    if (res == NULL)
        raise_broadcast_error(st, a, b);
    *out_dt = info->result == PROMOTE_ALWAYS_BOOL ? DT_BOOL : compute;
    if (res != NULL && op == BIN_COUNT) /* a declared Python forward may return another dtype (mx.where of a scalar) */
        Py_SETREF(res, mx_astype(st, res, *out_dt, *device));
    return res;
}

/* NEW: the mx.array result of `a op b` for an operator of the table. */
static PyObject *binary_compute(State *st, BinOp op, Operand *a, Operand *b, int *out_dt, int *device, int inplace,
                                PyObject **last)
{
    return binary_compute_info(st, &BIN[op], op, bin_func(st, op), NULL, a, b, out_dt, device, inplace, last);
}

/* The registry's binary operators outside the table (dispatch.c, Note [Operator registry]): forward(x, y)
 * computed with the table's operand rules (weak Python scalars, torch's promotion, devices, broadcasting
 * errors) and the declaration's dtype rule and refusals. NEW mx.array (its dtype in *out_dt, the device in
 * *device), NotImplemented (new) when an operand is no number or Tensor, NULL on error. */
PyObject *binary_forward(State *st, const BinaryForward *f, PyObject *x, PyObject *y, int inplace, int *out_dt,
                         int *device)
{
    Operand a, b;
    int ca = classify(st, x, &a), cb = classify(st, y, &b);
    if (ca <= 0 || cb <= 0) {
        PyObject *nx, *ny; /* Note [NumPy scalar operands] */
        int np = numpy_operands(x, y, &nx, &ny);
        if (np <= 0)
            return np < 0 ? NULL : Py_NewRef(Py_NotImplemented);
        PyObject *r = binary_forward(st, f, nx, ny, inplace, out_dt, device);
        Py_DECREF(nx);
        Py_DECREF(ny);
        return r;
    }
    BinInfo info = {f->name, 0, (char)f->promotion, 0, (char)((f->refuse & REFUSE_BOOL) != 0),
                    (char)((f->refuse & REFUSE_COMPLEX) != 0), NULL, (char)((f->refuse & REFUSE_INT_ZERO_DIV) != 0),
                    (char)((f->refuse & REFUSE_INTEGRAL) != 0), (char)((f->refuse & REFUSE_COMPLEX_RUNTIME) != 0)};
    return binary_compute_info(st, &info, BIN_COUNT, f->forward, f->forward64, &a, &b, out_dt, device, inplace,
                               NULL);
}

/* Whether `tp` is our Tensor type or a subclass of it, whatever dunders the subclass overrides (its own
 * __add__ replaces nb_add in its slots, but its base chain still reaches ours). */
static int is_tensor_type(PyTypeObject *tp)
{
    for (; tp != NULL; tp = tp->tp_base)
        if (tp->tp_as_number && tp->tp_as_number->nb_add == tensor_as_number_impl.nb_add)
            return 1;
    return 0;
}

/* BORROWED: the module state reached from whichever of x, y is a Tensor; NULL (no exception) if neither. */
static State *operands_state(PyObject *x, PyObject *y)
{
    PyTypeObject *tp = is_tensor_type(Py_TYPE(x)) ? Py_TYPE(x) : is_tensor_type(Py_TYPE(y)) ? Py_TYPE(y) : NULL;
    State *st = tp ? state_of_type(tp) : NULL;
    if (st == NULL)
        PyErr_Clear();
    return st;
}

/* The Tensor attribute torch hands to __torch_function__ for an operator: its forward, reflected and
 * in-place forms (`s + 1` is Tensor.add(s, 1), `1 - s` is Tensor.__rsub__(s, 1), `s += 1` is add_). */
typedef struct { const char *dunder, *fwd, *rev, *inplace; } TFNames;
static const TFNames TF_NAMES[] = {
    {"add", "add", "add", "add_"}, {"sub", "sub", "__rsub__", "sub_"}, {"mul", "mul", "mul", "mul_"},
    {"truediv", "div", "__rdiv__", "div_"}, {"floordiv", "__floordiv__", "__rfloordiv__", "__ifloordiv__"},
    {"mod", "remainder", "__rmod__", "remainder_"}, {"pow", "pow", "__rpow__", "pow_"},
    {"and", "__and__", "bitwise_and", "__iand__"}, {"or", "__or__", "bitwise_or", "__ior__"},
    {"xor", "__xor__", "bitwise_xor", "__ixor__"}, {"lshift", "__lshift__", "__rlshift__", "__ilshift__"},
    {"rshift", "__rshift__", "__rrshift__", "__irshift__"}, {"matmul", "matmul", "__rmatmul__", "matmul"},
    {"eq", "__eq__", "__eq__", NULL}, {"ne", "ne", "ne", NULL}, {"lt", "lt", "gt", NULL}, {"le", "le", "ge", NULL},
    {"gt", "gt", "lt", NULL}, {"ge", "ge", "le", NULL}, {NULL, NULL, NULL, NULL}};

/* binary_torch_function's full check and dispatch, for operands other than exact Tensors and Python numbers or
 * while a mode is active. NEW, or NULL without an exception when nothing asks for __torch_function__. */
static __attribute__((noinline)) PyObject *binary_torch_function_slow(State *st, PyObject *x, PyObject *y,
                                                                      const char *dunder, int inplace)
{
    PyObject *args[2] = {x, y};
    if (!tf_needed(st, args, 2))
        return NULL;
    const TFNames *n = TF_NAMES;
    while (n->dunder != NULL && strcmp(n->dunder, dunder) != 0)
        n++;
    int fwd = is_tensor(st, x);
    const char *name = n->dunder == NULL ? dunder : inplace && n->inplace ? n->inplace : fwd ? n->fwd : n->rev;
    PyObject *dargs[2] = {fwd ? x : y, fwd ? y : x};
    PyObject *r = tf_dispatch_dunder(st, name, dargs, 2);
    return r != NULL ? r : (PyErr_Occurred() ? NULL : Py_NewRef(Py_NotImplemented));
}

/* NEW: `x op y` / `y rop x` sent to __torch_function__ when an operand asks for it, as the Tensor method
 * torch names (Note [torch function check]); NULL without an exception when it does not. Exact Tensors and
 * Python numbers are answered inline; the rest out of line (Note [Cold error paths] in core.h). */
static inline PyObject *binary_torch_function(State *st, PyObject *x, PyObject *y, const char *dunder, int inplace)
{
    if (dunder == NULL || !TF_MAYBE2(st, x, y))
        return NULL;
    return binary_torch_function_slow(st, x, y, dunder, inplace);
}

/* The registered derivative name of a binary op by operand kinds, "<name>_<x><y>" ("mul_ts"), into key[size]
 * (snprintf costs a measurable part of a recorded op). */
static void derivative_key(char *key, size_t size, const char *name, char x, char y)
{
    size_t n = strlen(name);
    if (n + 4 > size)
        n = size - 4;
    memcpy(key, name, n);
    key[n] = '_';
    key[n + 1] = x;
    key[n + 2] = y;
    key[n + 3] = '\0';
}

/* BORROWED: the registered derivative entry of operator `op` for operand kinds x, y ('t' or 's'), cached in
 * the state (Note [Backward entry cache]); NULL with RuntimeError when none is registered. */
static PyObject *binary_backward_entry(State *st, BinOp op, char x, char y)
{
    PyObject **slot = &st->binary_backward[(int)op * 3 + (x == 't' ? (y == 't' ? 0 : 1) : 2)];
    if (*slot == NULL) {
        char key[64];
        derivative_key(key, sizeof key, BIN[op].name, x, y);
        *slot = autograd_backward_entry(st, key);
    }
    return *slot;
}

/* Note [NumPy scalar operands]
 * torch's argument parser takes a NumPy scalar where it takes a Python number (THPUtils_checkScalar): a
 * np.integer as an int, a np.floating as a float, np.complex128 (a Python complex subclass) as a complex, and
 * np.bool_ and np.complex64, which are neither Python bools nor complexes, as floats (numpy's own conversion,
 * with its ComplexWarning for complex64); all take part as weak scalars. Without this, `x * np.int64(2)` fell
 * to NumPy's reflected operator, which made a NumPy array of the tensor. Operands are only looked at here when
 * they are neither Tensors nor Python numbers, so the common path never pays for it, and no NumPy scalar can
 * exist unless numpy was imported: the types come from sys.modules, never importing numpy. */

/* NEW: the Python number torch reads NumPy scalar `o` (BORROWED) as; NULL without an exception when `o` is no
 * NumPy numeric scalar, NULL with one on error. */
static PyObject *numpy_scalar_number(PyObject *o)
{
    static const char *const kinds[] = {"integer", "floating", "bool_", "complexfloating"};
    PyObject *np = NULL, *cls = NULL, *r = NULL;
    if (strncmp(Py_TYPE(o)->tp_name, "numpy.", 6) != 0)
        return NULL; /* NumPy's scalar types are all named "numpy.<name>" */
    PyObject *name = PyUnicode_FromString("numpy");
    if (name == NULL)
        return NULL;
    np = PyImport_GetModule(name); /* NEW, or NULL without exception when numpy is not imported */
    Py_DECREF(name);
    if (np == NULL)
        return NULL;
    for (int k = 0; k < 4; k++) {
        cls = PyObject_GetAttrString(np, kinds[k]);
        if (cls == NULL)
            goto error;
        int is = PyObject_IsInstance(o, cls);
        Py_CLEAR(cls);
        if (is < 0)
            goto error;
        if (is) {
            r = k == 0 ? PyNumber_Index(o) : k == 3 && PyComplex_Check(o) ? Py_NewRef(o) : PyNumber_Float(o);
            break;
        }
    }
error:
    Py_XDECREF(cls);
    Py_DECREF(np);
    return r;
}

/* Whether either operand is a NumPy scalar: fills nx/ny (NEW, or a new reference to the operand itself when it
 * is none) and returns 1; 0 when neither is (no exception); -1 on error. */
static __attribute__((noinline)) int numpy_operands(PyObject *x, PyObject *y, PyObject **nx, PyObject **ny)
{
    *nx = *ny = NULL;
    PyObject *cx = numpy_scalar_number(x);
    if (cx == NULL && PyErr_Occurred())
        return -1;
    PyObject *cy = numpy_scalar_number(y);
    if (cy == NULL && PyErr_Occurred()) {
        Py_XDECREF(cx);
        return -1;
    }
    if (cx == NULL && cy == NULL)
        return 0;
    *nx = cx ? cx : Py_NewRef(x);
    *ny = cy ? cy : Py_NewRef(y);
    return 1;
}

/* NEW: `a op b` as a Tensor, or NotImplemented when an operand is foreign. `tf_checked`: the caller has made
 * the __torch_function__ check for these operands (the registry's entry, Note [torch function check]). */
static PyObject *binary_st(State *st, PyObject *x, PyObject *y, BinOp op, int tf_checked)
{
    if (!tf_checked) {
        PyObject *handled = binary_torch_function(st, x, y, BIN[op].dunder, 0);
        if (handled != NULL || PyErr_Occurred())
            return handled;
    }
    Operand a, b;
    int ca = classify(st, x, &a), cb = classify(st, y, &b);
    if (ca <= 0 || cb <= 0) {
        PyObject *nx, *ny; /* Note [NumPy scalar operands] */
        int np = numpy_operands(x, y, &nx, &ny);
        if (np <= 0)
            return np < 0 ? NULL : Py_NewRef(Py_NotImplemented);
        PyObject *r = binary_st(st, nx, ny, op, 1);
        Py_DECREF(nx);
        Py_DECREF(ny);
        return r;
    }
    int dt, device;
    PyObject *last = NULL; /* Note [Channels-last source] (layout.c) */
    PyObject *res = binary_compute(st, op, &a, &b, &dt, &device, 0, &last);
    /* Note [Result size check] (tensor.c): broadcasting bounds the result by its operands */
    int64_t bound = numel_bound_broadcast(a.t ? tensor_numel_bound(a.t) : 1, b.t ? tensor_numel_bound(b.t) : 1);
    TensorObject *r = (TensorObject *)tensor_wrap_result_steal(st, res, dt, device, bound);
    if (r == NULL) {
        Py_XDECREF(last);
        return NULL;
    }
    /* broadcasting: the result has the larger rank (known, so no shape read later) */
    r->ndim = (a.t && a.t->ndim > (b.t ? b.t->ndim : 0)) ? a.t->ndim : (b.t ? b.t->ndim : 0);
    r->mem_last = operands_hinted(&a, &b) ? layout_result_hint(st, a.t, b.t) : 0; /* Note [Channels-last hint] */
    layout_set_source(r, last, res);
    int da = a.t ? a.t->lazy_depth : 0, db = b.t ? b.t->lazy_depth : 0;
    if (tensor_set_depth(st, r, da > db ? da : db) < 0) { /* Note [Bounded lazy graphs] (tensor.c) */
        Py_DECREF(r);
        return NULL;
    }
    if (BIN[op].result != PROMOTE_ALWAYS_BOOL && !BIN[op].integral_only && GRAD_ENABLED(st)) {
        PyObject *ins[2] = {x, y}, *outs[1] = {(PyObject *)r};
        if (autograd_needed(st, ins, 2)) {
            /* the derivative is registered per operand kinds ("sub_st"), as torch names its nodes */
            PyObject *entry = binary_backward_entry(st, op, a.t ? 't' : 's', b.t ? 't' : 's');
            /* a reflected op (2 - x) has its tensor as torch's first input: edges (x, None); the "_st"
             * derivatives return their gradients in that order */
            PyObject *edges[2] = {a.t ? x : y, a.t ? y : x};
            if (entry == NULL || autograd_record_entry(st, entry, edges, 2, ins, 2, NULL, outs, 1) < 0) {
                Py_DECREF(r);
                return NULL;
            }
        }
    }
    return (PyObject *)r;
}

/* NEW: `a op b` as a Tensor, or NotImplemented when neither is ours / an operand is foreign. */
static PyObject *binary(PyObject *x, PyObject *y, BinOp op)
{
    State *st = operands_state(x, y);
    if (st == NULL)
        Py_RETURN_NOTIMPLEMENTED;
    return binary_st(st, x, y, op, 0);
}

/* In-place `a op= b`: compute, cast back to a's dtype (if torch allows), check the shape, write. NEW (x) or
 * NotImplemented; `tf_checked` as binary_st's. */
static PyObject *binary_inplace_st(State *st, PyObject *x, PyObject *y, BinOp op, int tf_checked)
{
    if (!tf_checked) {
        PyObject *handled = binary_torch_function(st, x, y, BIN[op].dunder, 1);
        if (handled != NULL || PyErr_Occurred())
            return handled;
    }
    Operand a, b;
    if (classify(st, x, &a) <= 0 || a.t == NULL)
        Py_RETURN_NOTIMPLEMENTED;
    if (classify(st, y, &b) <= 0) {
        PyObject *ny = numpy_scalar_number(y); /* Note [NumPy scalar operands] */
        if (ny == NULL)
            return PyErr_Occurred() ? NULL : Py_NewRef(Py_NotImplemented);
        PyObject *r = binary_inplace_st(st, x, ny, op, 1);
        Py_DECREF(ny);
        return r;
    }
    TensorObject *t = a.t;
    PyObject *res = NULL, *shape = NULL, *cast = NULL, *result = NULL, *base_snap = NULL, *last = NULL;
    if (tensor_check_inplace(st, t) < 0)
        return NULL;
    int dt, device;
    res = binary_compute(st, op, &a, &b, &dt, &device, 1, &last);
    if (res == NULL)
        return NULL;
    if (!can_cast(dt, t->dtype)) {
        PyErr_Format(PyExc_RuntimeError, "result type %s can't be cast to the desired output type %s", dtype_name(dt),
                     dtype_name(t->dtype));
        goto error;
    }
    if (tensor_ensure_sizes(st, t) < 0)
        goto error;
    /* the result has t's shape when the other operand broadcasts into it (a scalar, or a tensor whose sizes
     * align with t's or are 1): then no shape read of the result is needed */
    int fits = b.t == NULL || b.t->ndim == 0;
    if (!fits && b.t->ndim > 0 && b.t->ndim <= t->ndim && tensor_ensure_sizes(st, b.t) == 0) {
        fits = 1;
        for (int i = 0; fits && i < b.t->ndim; i++) {
            Py_ssize_t sb = b.t->sizes[i], sa = t->sizes[t->ndim - b.t->ndim + i];
            fits = sb == sa || sb == 1;
        }
    }
    if (PyErr_Occurred())
        goto error;
    int same = fits;
    if (!fits) {
        shape = PyObject_GetAttr(res, st->s_shape);
        if (shape == NULL)
            goto error;
        same = PyTuple_GET_SIZE(shape) == t->ndim;
        for (int i = 0; same && i < t->ndim; i++)
            same = PyLong_AsSsize_t(PyTuple_GET_ITEM(shape, i)) == t->sizes[i];
    }
    if (!same) {
        PyObject *mine = ssize_tuple(t->sizes, t->ndim);
        if (mine) {
            PyErr_Format(PyExc_RuntimeError, "output with shape %R doesn't match the broadcast shape %R", mine, shape);
            Py_DECREF(mine);
        }
        goto error;
    }
    cast = dt == t->dtype ? Py_NewRef(res) : mx_astype(st, res, t->dtype, t->device);
    if (cast == NULL)
        goto error;
    if (GRAD_ENABLED(st) && BIN[op].result != PROMOTE_ALWAYS_BOOL && !BIN[op].integral_only) {
        PyObject *ins[2] = {x, y};
        if (autograd_needed(st, ins, 2)) {
            /* Note [In-place history]: record the op on an out-of-place result, then commit it */
            /* of t's shape: its size is t's (Note [Result size check]) */
            result = tensor_wrap_result_steal(st, Py_NewRef(cast), t->dtype, t->device, tensor_numel_bound(t));
            if (result == NULL)
                goto error;
            PyObject *outs[1] = {result};
            PyObject *entry = binary_backward_entry(st, op, 't', b.t ? 't' : 's');
            if (entry == NULL || autograd_record_entry(st, entry, ins, 2, ins, 2, NULL, outs, 1) < 0)
                goto error;
            if (t->base && (base_snap = saved_snapshot(st, (PyObject *)t->base, NULL)) == NULL)
                goto error;
        }
    }
    if (tensor_write(st, t, cast) < 0)
        goto error;
    t->mem_last = operands_hinted(&a, &b) ? layout_result_hint(st, a.t, b.t) : 0; /* Note [Channels-last hint] */
    if (cast == res) /* Note [Channels-last source] (layout.c): t's data is now res itself */
        layout_set_source(t, Py_XNewRef(last), res);
    if (result != NULL && autograd_commit(st, t, result, base_snap) < 0)
        goto error;
    Py_DECREF(res);
    Py_XDECREF(shape);
    Py_DECREF(cast);
    Py_XDECREF(result);
    Py_XDECREF(base_snap);
    Py_XDECREF(last);
    return Py_NewRef(x);
error:
    Py_XDECREF(last);
    Py_XDECREF(res);
    Py_XDECREF(shape);
    Py_XDECREF(cast);
    Py_XDECREF(result);
    Py_XDECREF(base_snap);
    return NULL;
}

static PyObject *binary_inplace(PyObject *x, PyObject *y, BinOp op)
{
    State *st = operands_state(x, y);
    if (st == NULL)
        Py_RETURN_NOTIMPLEMENTED;
    return binary_inplace_st(st, x, y, op, 0);
}

#define BINARY_SLOTS(NAME, OP)                                                            \
    static PyObject *nb_##NAME(PyObject *a, PyObject *b) { return binary(a, b, OP); }      \
    static PyObject *nb_i##NAME(PyObject *a, PyObject *b) { return binary_inplace(a, b, OP); }
BINARY_SLOTS(add, BIN_ADD)
BINARY_SLOTS(sub, BIN_SUB)
BINARY_SLOTS(mul, BIN_MUL)
BINARY_SLOTS(div, BIN_DIV)
BINARY_SLOTS(floordiv, BIN_FLOORDIV)
BINARY_SLOTS(mod, BIN_MOD)
BINARY_SLOTS(and, BIN_AND)
BINARY_SLOTS(or, BIN_OR)
BINARY_SLOTS(xor, BIN_XOR)
BINARY_SLOTS(lshift, BIN_LSHIFT)
BINARY_SLOTS(rshift, BIN_RSHIFT)

static PyObject *nb_pow(PyObject *a, PyObject *b, PyObject *mod)
{
    if (mod != Py_None)
        Py_RETURN_NOTIMPLEMENTED;
    return binary(a, b, BIN_POW);
}
static PyObject *nb_ipow(PyObject *a, PyObject *b, PyObject *mod)
{
    if (mod != Py_None)
        Py_RETURN_NOTIMPLEMENTED;
    return binary_inplace(a, b, BIN_POW);
}

PyObject *tensor_richcompare(PyObject *a, PyObject *b, int cmp)
{
    static const BinOp ops[6] = {[Py_LT] = BIN_LT, [Py_LE] = BIN_LE, [Py_EQ] = BIN_EQ,
                                 [Py_NE] = BIN_NE, [Py_GT] = BIN_GT, [Py_GE] = BIN_GE};
    return binary(a, b, ops[cmp]);
}

/* ---------------------------------------------------------------- matmul */

/* The name torch's CPU kernel reports for a matmul of these ranks (torch's matmul: dot, mv, mm, or bmm, folding
 * a batched left operand into mv / mm), for its NotImplementedError on bool and wide unsigned operands. */
static const char *matmul_kernel_name(int da, int db)
{
    if (da == 1 && db == 1)
        return "dot";
    if (db == 1 && da >= 2)
        return "addmv_impl_cpu";
    if (db == 2 && da >= 1)
        return "addmm_impl_cpu_";
    return "bmm";
}

/* NEW: the exact integer product of MLX arrays va and vb (Note [Exact integer products] in _ops/linalg.py),
 * through the Python implementation registered as "matmul.integer" (fn(a, b, k) -> array). */
static PyObject *matmul_integer(State *st, PyObject *va, PyObject *vb, Py_ssize_t k)
{
    PyObject *kk = PyLong_FromSsize_t(k);
    if (kk == NULL)
        return NULL;
    PyObject *args[3] = {va, vb, kk};
    PyObject *r = fast_fallback(st, "matmul.integer", args, 3, NULL);
    Py_DECREF(kk);
    return r;
}

/* Whether 2-D t's strides are column-major (torch's test in mm_mat1_backward: stride (1, size(0))); a base
 * without strides is row-major. Note [Gradient layout of a product] (_ops/linalg.py). */
static int matrix_is_colmajor(TensorObject *t)
{
    if (t->ndim != 2 || t->sizes == NULL)
        return 0;
    Py_ssize_t *strides = tensor_strides(t);
    return strides[0] == 1 && strides[1] == t->sizes[0];
}

/* NEW: torch.matmul(a, b): both tensors, same dtype, at least 1-D. Integer operands are multiplied exactly
 * (matmul_integer); bool and unsigned types wider than 8 bits raise torch's NotImplementedError. */
static PyObject *matmul_impl(State *st, TensorObject *a, TensorObject *b)
{
    if (tensor_ensure_sizes(st, a) < 0 || tensor_ensure_sizes(st, b) < 0)
        return NULL;
    if (a->ndim == 0 || b->ndim == 0) {
        PyErr_Format(PyExc_RuntimeError, "both arguments to matmul need to be at least 1D, but they are %dD and %dD",
                     a->ndim, b->ndim);
        return NULL;
    }
    if (a->dtype != b->dtype) {
        PyErr_Format(PyExc_RuntimeError, "expected m1 and m2 to have the same dtype, but got: %s != %s",
                     dtype_name(a->dtype) , dtype_name(b->dtype));
        return NULL;
    }
    Py_ssize_t ka = a->sizes[a->ndim - 1], kb = b->ndim == 1 ? b->sizes[0] : b->sizes[b->ndim - 2];
    if (ka != kb) {
        if (a->ndim <= 2 && b->ndim <= 2 && a->ndim == 2 && b->ndim == 2)
            PyErr_Format(PyExc_RuntimeError,
                         "mat1 and mat2 shapes cannot be multiplied (%zdx%zd and %zdx%zd)", a->sizes[0], ka, kb,
                         b->sizes[1]);
        else
            PyErr_Format(PyExc_RuntimeError, "Expected size for first two dimensions of batch2 tensor to be: [%zd] but got: [%zd].", ka, kb);
        return NULL;
    }
    Operand oa = {(PyObject *)a, a, a->dtype}, ob = {(PyObject *)b, b, b->dtype};
    int device;
    if (common_device(st, &oa, &ob, &device) < 0)
        return NULL;
    int dt = a->dtype, compute = dt, integer = !dt_is_float(dt) && !dt_is_complex(dt);
    if (dt == DT_BOOL || dt == DT_U16 || dt == DT_U32 || dt == DT_U64) {
        PyErr_Format(PyExc_NotImplementedError, "\"%s\" not implemented for '%s'",
                     matmul_kernel_name(a->ndim, b->ndim), dtype_name(dt));
        return NULL;
    }
    if (!integer && device == DEV_CPU && (dt == DT_BF16 || dt == DT_F16))
        compute = DT_F32; /* Note [Half-type products on the CPU] (_ops/linalg.py): float32, rounded once */
    PyObject *va = operand_value(st, &oa, compute, device), *vb = NULL, *r = NULL;
    if (va == NULL)
        return NULL;
    vb = operand_value(st, &ob, compute, device);
    if (vb == NULL)
        goto done;
    r = integer ? matmul_integer(st, va, vb, ka) : mx_call2(st, st->f_matmul, va, vb, device);
    if (r != NULL && compute != dt)
        Py_SETREF(r, mx_astype(st, r, dt, device));
done:
    Py_XDECREF(va);
    Py_XDECREF(vb);
    /* Note [Result size check]: the result is at most a's dims but the contracted one times b's likewise */
    int64_t bound = 1;
    for (int i = 0; i < a->ndim; i++)
        if (i != a->ndim - 1 && bound >= 0)
            bound = a->sizes[i] > ((int64_t)1 << 30) || bound > ((int64_t)1 << 30) ? -1 : bound * a->sizes[i];
    for (int i = 0; i < b->ndim; i++)
        if (i != (b->ndim == 1 ? 0 : b->ndim - 2) && bound >= 0)
            bound = b->sizes[i] > ((int64_t)1 << 30) || bound > ((int64_t)1 << 30) ? -1 : bound * b->sizes[i];
    PyObject *out = tensor_wrap_result_steal(st, r, dt, device, bound);
    int depth = a->lazy_depth > b->lazy_depth ? a->lazy_depth : b->lazy_depth;
    if (out != NULL && tensor_set_depth(st, (TensorObject *)out, depth) < 0) /* Note [Bounded lazy graphs] */
        Py_CLEAR(out);
    if (out != NULL && GRAD_ENABLED(st)) {
        PyObject *ins[2] = {(PyObject *)a, (PyObject *)b}, *outs[1] = {out};
        const char *key = !autograd_needed(st, ins, 2)          ? NULL
                          : a->ndim == 1 && b->ndim == 1 ? "matmul_dot"
                          : a->ndim == 2 && b->ndim == 2 ? "matmul_mm"
                          : a->ndim <= 2 && b->ndim <= 2 ? "matmul_mv"
                          : a->ndim == 3 && b->ndim == 3 ? "matmul_bmm3" : "matmul_bmm";
        /* matmul_mm's extra: which operands are column-major (bit 0: a, bit 1: b), so the backward computes
         * their gradients in the layout of Note [Gradient layout of a product] (_ops/linalg.py) */
        PyObject *layout = NULL;
        if (key != NULL && a->ndim == 2 && b->ndim == 2
            && (layout = PyLong_FromLong(matrix_is_colmajor(a) | matrix_is_colmajor(b) << 1)) == NULL)
            Py_CLEAR(out);
        else if (key != NULL && autograd_record_named(st, key, ins, 2, ins, 2, layout, outs, 1) < 0)
            Py_CLEAR(out);
        Py_XDECREF(layout);
    }
    return out;
}

static PyObject *nb_matmul(PyObject *x, PyObject *y)
{
    State *st = operands_state(x, y);
    if (st == NULL)
        Py_RETURN_NOTIMPLEMENTED;
    PyObject *handled = binary_torch_function(st, x, y, "matmul", 0);
    if (handled != NULL || PyErr_Occurred())
        return handled;
    if (!is_tensor(st, x) || !is_tensor(st, y))
        Py_RETURN_NOTIMPLEMENTED;
    return matmul_impl(st, (TensorObject *)x, (TensorObject *)y);
}

static PyObject *nb_imatmul(PyObject *x, PyObject *y)
{
    State *tst = operands_state(x, y);
    PyObject *handled = tst ? binary_torch_function(tst, x, y, "matmul", 1) : NULL;
    if (handled != NULL || PyErr_Occurred())
        return handled;
    PyObject *r = nb_matmul(x, y);
    if (r == NULL || r == Py_NotImplemented)
        return r;
    State *st = state_of_type(Py_TYPE(x));
    PyObject *w = PyObject_CallMethod(x, "copy_", "O", r);
    Py_DECREF(r);
    (void)st;
    return w;
}

/* ---------------------------------------------------------------- linear */

/* Note [linear in C]
 * nn.functional.linear (every nn.Linear's forward) is a C fast path (Note [Fast paths fall back] in fastpath.c)
 * for calls that record no gradient: eager inference, evaluation loops, generation. The Python `linear` of
 * nn/functional.py (Note [linear fast path]) stays the reference and takes every other call: a graph to record, a
 * 1-D input, a non-contiguous input of more than 2 dims, mixed dtypes or devices, an empty inner size, float64
 * off the CPU. The values and result kinds are the reference's no-graph branch's: a 2-D input gives
 * addmm(bias, input, weight.T) (matmul(input, weight.T) without a bias); a contiguous N-D input the 2-D product
 * of its rows, which with a bias is viewed back (a view of the 2-D result, as torch's _flatten_nd_linear returns)
 * and without one reshaped into a fresh tensor (torch's matmul: _unsafe_view); half types on the CPU are float32
 * products rounded once (Note [Half-type products on the CPU] in _ops/linalg.py). In Python such a call took
 * ~47k instructions (argument checks, shape tuples, attribute reads) against ~21k for an mlx.nn.Linear call. */
static const char *const LINEAR_NAMES[] = {"input", "weight", "bias", NULL};

/* Replaces the NEW reference *arr by its MLX reshape to `shape` (n dims): 0, or -1 with *arr NULL. */
static int reshape_value(State *st, PyObject **arr, const Py_ssize_t *shape, int n, int device)
{
    PyObject *shp = mx_shape_arg(st, shape, n); /* NEW */
    if (shp == NULL) {
        Py_CLEAR(*arr);
        return -1;
    }
    Py_SETREF(*arr, mx_call2(st, st->f_reshape, *arr, shp, device));
    Py_DECREF(shp);
    return *arr == NULL ? -1 : 0;
}

/* NEW: linear(input, weight, bias) for the calls of Note [linear in C], or NULL: with an exception an error,
 * without one a call the reference takes. */
static PyObject *linear_impl(State *st, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    PyObject *a[3], *vx = NULL, *vw = NULL, *vb = NULL, *wt = NULL, *arr = NULL, *res = NULL, *out = NULL;
    if (!fast_bind(args, nargs, kwnames, LINEAR_NAMES, 3, a) || a[0] == NULL || a[1] == NULL ||
        !is_tensor(st, a[0]) || !is_tensor(st, a[1]))
        return NULL;
    PyObject *bias = a[2] == Py_None ? NULL : a[2];
    if (bias != NULL && !is_tensor(st, bias))
        return NULL;
    PyObject *ins[3] = {a[0], a[1], bias};
    if (autograd_needed(st, ins, bias != NULL ? 3 : 2))
        return NULL;
    TensorObject *x = (TensorObject *)a[0], *w = (TensorObject *)a[1], *b = (TensorObject *)bias;
    if (tensor_ensure_sizes(st, x) < 0 || tensor_ensure_sizes(st, w) < 0 ||
        (b != NULL && tensor_ensure_sizes(st, b) < 0))
        return NULL;
    int nd = x->ndim, dt = x->dtype, device = x->device;
    if (nd < 2 || nd > TENSOR_INLINE_DIMS || w->ndim != 2 || w->dtype != dt || w->device != device)
        return NULL;
    if (!(dt == DT_F32 || dt == DT_F16 || dt == DT_BF16 || (dt == DT_F64 && device == DEV_CPU)))
        return NULL;
    Py_ssize_t k = x->sizes[nd - 1], o = w->sizes[0];
    if (k == 0 || w->sizes[1] != k || (nd > 2 && !tensor_is_contiguous(x)))
        return NULL;
    if (b != NULL && (b->ndim != 1 || b->sizes[0] != o || b->dtype != dt || b->device != device))
        return NULL;
    Py_ssize_t rows = 1, shape[TENSOR_INLINE_DIMS];
    for (int i = 0; i < nd - 1; i++) {
        rows *= x->sizes[i];
        shape[i] = x->sizes[i];
    }
    shape[nd - 1] = o;
    /* Note [Half-type products on the CPU]: float32 operands, the product rounded once */
    int compute = device == DEV_CPU && (dt == DT_F16 || dt == DT_BF16) ? DT_F32 : dt;
    Operand ox = {a[0], x, dt}, ow = {a[1], w, dt}, ob = {bias, b, dt};
    if ((vx = operand_value(st, &ox, compute, device)) == NULL ||
        (vw = operand_value(st, &ow, compute, device)) == NULL ||
        (b != NULL && (vb = operand_value(st, &ob, compute, device)) == NULL))
        goto error;
    Py_ssize_t flat[2] = {rows, k};
    if (nd > 2 && reshape_value(st, &vx, flat, 2, device) < 0)
        goto error;
    if ((wt = mx_call1(st, st->f_transpose, vw, device)) == NULL)
        goto error;
    if (b != NULL) {
        PyObject *call[3] = {vb, vx, wt};
        arr = mx_call(st, st->fast->f_addmm, call, 3, device);
    } else
        arr = mx_call2(st, st->f_matmul, vx, wt, device);
    if (arr != NULL && compute != dt)
        Py_SETREF(arr, mx_astype(st, arr, dt, device));
    if (arr == NULL)
        goto error;
    int depth = x->lazy_depth > w->lazy_depth ? x->lazy_depth : w->lazy_depth;
    if (b != NULL && b->lazy_depth > depth)
        depth = b->lazy_depth;
    int64_t bound = rows <= ((int64_t)1 << 30) && o <= ((int64_t)1 << 30) ? (int64_t)rows * o : -1;
    if (nd > 2 && b == NULL && reshape_value(st, &arr, shape, nd, device) < 0) /* torch's matmul: a fresh tensor */
        goto error;
    res = tensor_wrap_result_steal(st, arr, dt, device, bound); /* steals arr */
    arr = NULL;
    if (res == NULL || tensor_set_depth(st, (TensorObject *)res, depth) < 0) /* Note [Bounded lazy graphs] */
        goto error;
    if (nd > 2 && b != NULL) { /* torch's _flatten_nd_linear: a view of the 2-D result */
        out = view_reshape_impl(st, (TensorObject *)res, shape, nd, 0);
        Py_CLEAR(res);
    } else {
        out = res;
        res = NULL;
    }
error: /* also the way out when done */
    Py_XDECREF(vx);
    Py_XDECREF(vw);
    Py_XDECREF(vb);
    Py_XDECREF(wt);
    Py_XDECREF(arr);
    Py_XDECREF(res);
    return out;
}

/* linear(input, weight, bias=None) — NEW reference; Note [linear in C]. */
FAST_SIG(fast_linear)
{
    State *st = state_of_module(m);
    PyObject *r = linear_impl(st, args, nargs, kwnames);
    if (r == NULL) /* any error on the way (MLX's among them) is the reference's to raise */
        return fast_fallback(st, "linear", args, (size_t)nargs, kwnames);
    return r;
}

/* ---------------------------------------------------------------- unary */

/* NEW: Tensor.<dunder>(x) through __torch_function__ when x asks for it; NULL without exception if not. */
static PyObject *unary_torch_function(PyObject *x, const char *dunder)
{
    State *st = state_of_type(Py_TYPE(x));
    if (st == NULL)
        return NULL;
    if (!(tf_modes_active || Py_TYPE(x) != (PyTypeObject *)st->tensor_type) || !tf_needed(st, &x, 1))
        return NULL;
    return tf_dispatch_dunder(st, dunder, &x, 1);
}
#define UNARY_TORCH_FUNCTION(x, dunder)                          \
    do {                                                         \
        PyObject *handled_ = unary_torch_function(x, dunder);    \
        if (handled_ != NULL || PyErr_Occurred())                \
            return handled_;                                     \
    } while (0)

static PyObject *unary(PyObject *x, size_t func_offset, const char *bool_error, int integral_only)
{
    State *st = state_of_type(Py_TYPE(x));
    if (st == NULL)
        return NULL;
    TensorObject *t = (TensorObject *)x;
    if (bool_error && t->dtype == DT_BOOL) {
        PyErr_SetString(PyExc_RuntimeError, bool_error);
        return NULL;
    }
    if (integral_only && !dt_is_integral(t->dtype, 1)) {
        PyErr_Format(PyExc_TypeError, "ufunc 'bitwise_not' not supported for the input types (%s)", dtype_name(t->dtype));
        return NULL;
    }
    if (tensor_check_mx_extent(st, t) < 0) /* Note [32-bit element counts] (tensor.c) */
        return NULL;
    PyObject *v = tensor_value(st, t);
    if (v == NULL)
        return NULL;
    PyObject *f = *(PyObject **)((char *)st + func_offset);
    if (integral_only && t->dtype == DT_BOOL)
        f = st->f_logical_not;
    /* elementwise: no larger than its input (Note [Result size check]) */
    PyObject *out = tensor_wrap_result_steal(st, mx_call1(st, f, v, t->device), t->dtype, t->device,
                                             tensor_numel_bound(t));
    if (out != NULL && tensor_set_depth(st, (TensorObject *)out, t->lazy_depth) < 0) /* Note [Bounded lazy graphs] */
        Py_CLEAR(out);
    if (out != NULL && !integral_only && GRAD_ENABLED(st)) {
        PyObject *ins[1] = {x}, *outs[1] = {out};
        if (autograd_record_named(st, func_offset == offsetof(State, f_negative) ? "neg" : "abs", ins, 1, ins, 1,
                                  NULL, outs, 1) < 0)
            Py_CLEAR(out);
    }
    return out;
}

static PyObject *nb_neg(PyObject *x)
{
    UNARY_TORCH_FUNCTION(x, "neg");
    return unary(x, offsetof(State, f_negative),
                 "Negation, the `-` operator, on a bool tensor is not supported. If you are trying to invert a mask, "
                 "use the `~` or `logical_not()` operator instead.", 0);
}
static PyObject *nb_abs(PyObject *x)
{
    UNARY_TORCH_FUNCTION(x, "abs");
    TensorObject *t = (TensorObject *)x;
    if (t->dtype == DT_C64) {
        State *st = state_of_type(Py_TYPE(x));
        PyObject *v = tensor_value(st, t);
        if (v == NULL)
            return NULL;
        PyObject *out = tensor_wrap_steal(st, mx_call1(st, st->f_abs, v, t->device), DT_F32, t->device);
        if (out != NULL && GRAD_ENABLED(st)) { /* |z|' = sgn(z), the same AbsBackward0 as real inputs */
            PyObject *ins[1] = {x}, *outs[1] = {out};
            if (autograd_record_named(st, "abs", ins, 1, ins, 1, NULL, outs, 1) < 0)
                Py_CLEAR(out);
        }
        return out;
    }
    if (t->dtype == DT_BOOL)
        return Py_NewRef(x);
    return unary(x, offsetof(State, f_abs), NULL, 0);
}
static PyObject *nb_invert(PyObject *x)
{
    UNARY_TORCH_FUNCTION(x, "__invert__");
    return unary(x, offsetof(State, f_bitwise_invert), NULL, 1);
}
static PyObject *nb_pos(PyObject *x)
{
    UNARY_TORCH_FUNCTION(x, "positive");
    if (((TensorObject *)x)->dtype == DT_BOOL) {
        PyErr_SetString(PyExc_RuntimeError, "The `+` operator, on a bool tensor is not supported.");
        return NULL;
    }
    return Py_NewRef(x);
}

PyNumberMethods tensor_as_number_impl = {
    .nb_add = nb_add, .nb_subtract = nb_sub, .nb_multiply = nb_mul, .nb_true_divide = nb_div,
    .nb_floor_divide = nb_floordiv, .nb_remainder = nb_mod, .nb_power = nb_pow, .nb_and = nb_and, .nb_or = nb_or,
    .nb_xor = nb_xor, .nb_lshift = nb_lshift, .nb_rshift = nb_rshift, .nb_matrix_multiply = nb_matmul,
    .nb_inplace_add = nb_iadd, .nb_inplace_subtract = nb_isub, .nb_inplace_multiply = nb_imul,
    .nb_inplace_true_divide = nb_idiv, .nb_inplace_floor_divide = nb_ifloordiv, .nb_inplace_remainder = nb_imod,
    .nb_inplace_power = nb_ipow, .nb_inplace_and = nb_iand, .nb_inplace_or = nb_ior, .nb_inplace_xor = nb_ixor,
    .nb_inplace_lshift = nb_ilshift, .nb_inplace_rshift = nb_irshift, .nb_inplace_matrix_multiply = nb_imatmul,
    .nb_negative = nb_neg, .nb_positive = nb_pos, .nb_absolute = nb_abs, .nb_invert = nb_invert,
};

/* ---------------------------------------------------------------- generic entry for Python */

static int binop_from_name(PyObject *name)
{
    for (int i = 0; i < BIN_COUNT; i++)
        if (PyUnicode_CompareWithASCIIString(name, BIN[i].name) == 0)
            return i;
    PyErr_Format(PyExc_ValueError, "unknown binary op %R", name);
    return -1;
}

/* The registry's entry to the operator table (dispatch.c): index of `name`, -1 with ValueError. */
int binary_op_index(const char *name)
{
    for (int i = 0; i < BIN_COUNT; i++)
        if (strcmp(name, BIN[i].name) == 0)
            return i;
    PyErr_Format(PyExc_ValueError, "unknown binary op '%s'", name);
    return -1;
}

/* NEW: `a op b` through the operator path (in place into `a` when `inplace`), or NotImplemented (new). */
PyObject *binary_op_at(State *st, int op, PyObject *a, PyObject *b, int inplace)
{
    if (op < 0 || op >= BIN_COUNT) {
        PyErr_SetString(PyExc_SystemError, "binary_op_at: bad operator index");
        return NULL;
    }
    if (inplace && !is_tensor(st, a))
        Py_RETURN_NOTIMPLEMENTED;
    return inplace ? binary_inplace(a, b, (BinOp)op) : binary(a, b, (BinOp)op);
}

/* NEW: binary_op_at for a caller that has made the __torch_function__ check on a and b itself (the registry's
 * op_vectorcall, Note [torch function check]): the operator path without finding the state again or
 * repeating the check. */
PyObject *binary_op_checked(State *st, int op, PyObject *a, PyObject *b, int inplace)
{
    if (op < 0 || op >= BIN_COUNT) {
        PyErr_SetString(PyExc_SystemError, "binary_op_checked: bad operator index");
        return NULL;
    }
    if (inplace && !is_tensor(st, a))
        Py_RETURN_NOTIMPLEMENTED;
    return inplace ? binary_inplace_st(st, a, b, (BinOp)op, 1) : binary_st(st, a, b, (BinOp)op, 1);
}

/* Tensor._binary(name, a, b, inplace=False) (static): the operator path for the Python layer's
 * functions and methods (torch.add, Tensor.mul_, ...). Raises TypeError for non-number operands. */
static PyObject *m_binary(PyObject *type, PyObject *const *args, Py_ssize_t nargs)
{
    State *st = state_of_type((PyTypeObject *)type);
    if (st == NULL)
        return NULL;
    if (nargs < 3 || nargs > 4) {
        PyErr_SetString(PyExc_TypeError, "_binary(name, a, b, inplace=False)");
        return NULL;
    }
    int op = binop_from_name(args[0]);
    if (op < 0)
        return NULL;
    int inplace = nargs == 4 && PyObject_IsTrue(args[3]);
    PyObject *r;
    if (inplace) {
        if (!is_tensor(st, args[1])) {
            PyErr_SetString(PyExc_TypeError, "in-place operation needs a Tensor as its first operand");
            return NULL;
        }
        r = binary_inplace(args[1], args[2], (BinOp)op);
    } else {
        r = binary(args[1], args[2], (BinOp)op);
    }
    if (r == Py_NotImplemented) {
        Py_DECREF(r);
        PyObject *bad = is_tensor(st, args[1]) ? args[2] : args[1];
        PyErr_Format(PyExc_TypeError, "%s(): argument 'other' must be Tensor or Number, not %.100s", BIN[op].name,
                     Py_TYPE(bad)->tp_name);
        return NULL;
    }
    return r;
}

static PyObject *m_matmul(PyObject *self, PyObject *other)
{
    State *st = state_of_type(Py_TYPE(self));
    if (!is_tensor(st, other)) {
        PyErr_Format(PyExc_TypeError, "matmul(): argument 'other' (position 1) must be Tensor, not %.100s",
                     Py_TYPE(other)->tp_name);
        return NULL;
    }
    return matmul_impl(st, (TensorObject *)self, (TensorObject *)other);
}

/* ---------------------------------------------------------------- sum / mean */

/* Parses (dim=None, keepdim=False, *, dtype=None) into an MLX axis argument (NEW ref or NULL for all). */
static int parse_reduce_args(State *st, TensorObject *t, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames,
                             const char *fname, PyObject **axis, int *keepdim, int *dtype, int *dim_given)
{
    PyObject *dim = NULL, *kd = NULL, *dt = NULL;
    *axis = NULL;
    *keepdim = 0;
    *dtype = -1;
    if (nargs > 2) {
        PyErr_Format(PyExc_TypeError, "%s() received an invalid combination of arguments", fname);
        return -1;
    }
    if (nargs >= 1)
        dim = args[0];
    if (nargs >= 2)
        kd = args[1];
    Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
    for (Py_ssize_t i = 0; i < nkw; i++) {
        PyObject *k = PyTuple_GET_ITEM(kwnames, i), *v = args[nargs + i];
        if (PyUnicode_CompareWithASCIIString(k, "dim") == 0 || PyUnicode_CompareWithASCIIString(k, "axis") == 0)
            dim = v;
        else if (PyUnicode_CompareWithASCIIString(k, "keepdim") == 0)
            kd = v;
        else if (PyUnicode_CompareWithASCIIString(k, "dtype") == 0)
            dt = v;
        else {
            PyErr_Format(PyExc_TypeError, "%s() got an unexpected keyword argument '%U'", fname, k);
            return -1;
        }
    }
    if (dim != NULL && dt == NULL && is_dtype_object(st, dim)) {
        /* x.sum(torch.float64): the dtype overload */
        dt = dim;
        dim = NULL;
    }
    *dim_given = dim != NULL; /* dim=None included: torch's dim overload (SumBackward1, MeanBackward1) */
    if (kd != NULL) {
        if (!PyBool_Check(kd)) {
            PyErr_Format(PyExc_TypeError, "%s(): argument 'keepdim' must be bool, not %.100s", fname, Py_TYPE(kd)->tp_name);
            return -1;
        }
        *keepdim = kd == Py_True;
    }
    if (dt != NULL && dt != Py_None) {
        *dtype = dtype_code_of(st, dt);
        if (*dtype < 0)
            return -1;
    }
    if (tensor_ensure_sizes(st, t) < 0)
        return -1;
    if (dim == NULL || dim == Py_None)
        return 0;
    int nd = t->ndim ? t->ndim : 1;
    if (PyLong_Check(dim)) {
        Py_ssize_t d = PyLong_AsSsize_t(dim);
        if (d == -1 && PyErr_Occurred()) {
            PyErr_Clear();
            PyErr_SetString(PyExc_ValueError, "Overflow when unpacking long long");
            return -1;
        }
        if (normalize_dim(&d, nd) < 0)
            return -1;
        if (t->ndim == 0)
            return 0;
        *axis = PyLong_FromSsize_t(d);
        return *axis ? 0 : -1;
    }
    if (PyTuple_Check(dim) || PyList_Check(dim)) {
        Py_ssize_t n = PySequence_Size(dim);
        if (n == 0)
            return 0;
        PyObject *lst = PyList_New(n);
        if (lst == NULL)
            return -1;
        unsigned long long seen = 0;
        for (Py_ssize_t i = 0; i < n; i++) {
            PyObject *item = PySequence_GetItem(dim, i);
            if (item == NULL || !PyLong_Check(item)) {
                if (item)
                    PyErr_Format(PyExc_TypeError, "%s(): argument 'dim' must be tuple of ints", fname);
                Py_XDECREF(item);
                Py_DECREF(lst);
                return -1;
            }
            Py_ssize_t d = PyLong_AsSsize_t(item);
            Py_DECREF(item);
            if (d == -1 && PyErr_Occurred()) {
                PyErr_Clear();
                PyErr_Format(PyExc_TypeError,
                             "%s(): argument 'dim' failed to unpack the object at pos 1 with error \"Overflow when unpacking long long\"",
                             fname);
                Py_DECREF(lst);
                return -1;
            }
            if (normalize_dim(&d, nd) < 0) {
                Py_DECREF(lst);
                return -1;
            }
            if (d < 64 && (seen & (1ULL << d))) {
                PyErr_Format(PyExc_RuntimeError, "dim %zd appears multiple times in the list of dims", d);
                Py_DECREF(lst);
                return -1;
            }
            seen |= d < 64 ? 1ULL << d : 0;
            PyList_SET_ITEM(lst, i, PyLong_FromSsize_t(d));
        }
        if (t->ndim == 0) {
            Py_DECREF(lst);
            return 0;
        }
        *axis = lst;
        return 0;
    }
    PyErr_Format(PyExc_TypeError, "%s(): argument 'dim' must be tuple of ints, not %.100s", fname, Py_TYPE(dim)->tp_name);
    return -1;
}

/* NEW: sum or mean with torch's dtype rules (integral sums accumulate in int64; mean needs float). */
static PyObject *reduce_impl(TensorObject *t, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames, int is_mean)
{
    State *st = state_of_type(Py_TYPE(t));
    PyObject *axis = NULL, *v = NULL, *r = NULL;
    int keepdim, dtype, dim_given;
    const char *fname = is_mean ? "mean" : "sum";
    if (parse_reduce_args(st, t, args, nargs, kwnames, fname, &axis, &keepdim, &dtype, &dim_given) < 0)
        return NULL;
    int out = dtype >= 0 ? dtype : t->dtype;
    if (dtype < 0 && !is_mean && dt_is_integral(t->dtype, 1))
        out = DT_I64;
    if (is_mean && !(dt_is_float(out) || dt_is_complex(out))) {
        PyErr_Format(PyExc_RuntimeError,
                     "mean(): could not infer output dtype. %s dtype must be either a floating point or complex dtype. Got: %s",
                     dtype >= 0 ? "Optional" : "Input", dtype_name(out));
        goto error;
    }
    if (tensor_check_mx_extent(st, t) < 0) /* Note [32-bit element counts] (tensor.c) */
        goto error;
    v = tensor_value(st, t);
    if (v == NULL)
        goto error;
    v = out == t->dtype ? Py_NewRef(v) : mx_astype(st, v, out, t->device);
    if (v == NULL)
        goto error;
    if (tensor_numel(t) == 0) {
        /* Note [Empty reductions] (_ops_reduce.py): MLX 0.32's CPU backend can hang evaluating ops on a
         * reduction over a zero-size axis, so build the result (0 for sum, nan for mean) directly. */
        Py_ssize_t shape[64];
        int n = 0;
        for (int i = 0; i < t->ndim && i < 64; i++) {
            int reduced = axis == NULL;
            if (axis != NULL) {
                if (PyLong_Check(axis))
                    reduced = PyLong_AsLong(axis) == i;
                else
                    for (Py_ssize_t k = 0; k < PyList_GET_SIZE(axis); k++)
                        reduced |= PyLong_AsLong(PyList_GET_ITEM(axis, k)) == i;
            }
            if (!reduced)
                shape[n++] = t->sizes[i];
            else if (keepdim)
                shape[n++] = 1;
        }
        PyObject *shp = ssize_tuple(shape, n), *fill = PyFloat_FromDouble(is_mean ? Py_NAN : 0.0);
        if (shp != NULL && fill != NULL) {
            PyObject *fargs[2] = {shp, fill};
            PyObject *full = mx_call(st, st->f_full, fargs, 2, t->device);
            r = full ? mx_astype(st, full, out, t->device) : NULL;
            Py_XDECREF(full);
        }
        Py_XDECREF(shp);
        Py_XDECREF(fill);
    } else {
        PyObject *stack[5] = {v, axis ? axis : Py_None, keepdim ? Py_True : Py_False};
        PyObject *f = is_mean ? st->f_mean : st->f_sum;
        if (out == DT_F32 && t->dtype == DT_F32 && t->device == DEV_CPU && tensor_numel(t) >= st->cpu_math_min &&
            st->fast->cpu_sum != NULL) {
            /* Note [Whole sums on the CPU] (_ops/cpu_math.py): whole or along the last dim, in columns */
            PyObject *call[4] = {v, axis ? axis : Py_None, keepdim ? Py_True : Py_False, is_mean ? Py_True : Py_False};
            r = mx_call(st, st->fast->cpu_sum, call, 4, t->device);
            if (r == Py_None) /* a reduction it leaves to MLX */
                Py_CLEAR(r);
            else if (r == NULL)
                goto error;
        }
        if (r == NULL)
            r = mx_device_is_default(st, t->device) ? PyObject_Vectorcall(f, stack, 3, NULL)
                                                    : mx_call(st, f, stack, 3, t->device);
        /* MLX sums bool and 8/16-bit integers into int32 (uint32); a sum asked in such a type wraps to it, as
         * torch's accumulates in it */
        if (r != NULL && (out == DT_BOOL || out == DT_U8 || out == DT_U16 || out == DT_I8 || out == DT_I16))
            Py_SETREF(r, mx_astype(st, r, out, t->device));
    }
    PyObject *res = tensor_wrap_result_steal(st, r, out, t->device, tensor_reduce_bound(t)); /* Note [Result size check] */
    r = NULL;
    if (res != NULL && GRAD_ENABLED(st)) {
        PyObject *ins[1] = {(PyObject *)t}, *outs[1] = {res};
        if (autograd_needed(st, ins, 1)) {
            PyObject *shape = ssize_tuple(t->sizes, t->ndim);
            PyObject *extra = shape ? Py_BuildValue("(OOOO)", axis ? axis : Py_None, keepdim ? Py_True : Py_False, shape,
                                                    dtype_of_code(st, t->dtype)) : NULL;
            Py_XDECREF(shape);
            int by_dim = axis != NULL || dim_given;
            const char *key = is_mean ? (by_dim ? "mean_dim" : "mean") : (by_dim ? "sum_dim" : "sum");
            if (extra == NULL || autograd_record_named(st, key, ins, 1, NULL, 0, extra, outs, 1) < 0)
                Py_CLEAR(res);
            Py_XDECREF(extra);
        }
    }
    Py_XDECREF(axis);
    Py_XDECREF(v);
    return res;
error:
    Py_XDECREF(axis);
    Py_XDECREF(v);
    return tensor_wrap_steal(st, r, out, t->device);
}

static PyObject *m_sum(TensorObject *t, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    return reduce_impl(t, args, nargs, kwnames, 0);
}
static PyObject *m_mean(TensorObject *t, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames)
{
    return reduce_impl(t, args, nargs, kwnames, 1);
}

PyMethodDef tensor_op_methods[] = {
    {"_binary", (PyCFunction)(void (*)(void))m_binary, METH_FASTCALL | METH_CLASS, NULL},
    {"matmul", (PyCFunction)m_matmul, METH_O, NULL},
    {"sum", (PyCFunction)(void (*)(void))m_sum, METH_FASTCALL | METH_KEYWORDS, NULL},
    {"mean", (PyCFunction)(void (*)(void))m_mean, METH_FASTCALL | METH_KEYWORDS, NULL},
    {NULL}};
