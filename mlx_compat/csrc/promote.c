/* promote.c — torch's type promotion: promote_types' table and result_type's three-tier rule
 * (dimensioned tensors > zero-dim tensors > Python scalars, compared by category). */
#include "core.h"

/* torch.promote_types over MLX's dtype codes, generated from torch 2.13 itself.
 * -1: torch refuses the pair; DT_C128: torch gives complex128, which MLX lacks. */
static const signed char PROMOTE[DT_COUNT][DT_COUNT] = {
    {0, 1, -1, -1, -1, 5, 6, 7, 8, 9, 10, 11, 12, 13},        /* bool */
    {1, 1, -1, -1, -1, 6, 6, 7, 8, 9, 10, 11, 12, 13},        /* uint8 */
    {-1, -1, 2, -1, -1, -1, -1, -1, -1, 9, 10, 11, 12, -1},   /* uint16 */
    {-1, -1, -1, 3, -1, -1, -1, -1, -1, 9, 10, 11, 12, -1},   /* uint32 */
    {-1, -1, -1, -1, 4, -1, -1, -1, -1, 9, 10, 11, 12, -1},   /* uint64 */
    {5, 6, -1, -1, -1, 5, 6, 7, 8, 9, 10, 11, 12, 13},        /* int8 */
    {6, 6, -1, -1, -1, 6, 6, 7, 8, 9, 10, 11, 12, 13},        /* int16 */
    {7, 7, -1, -1, -1, 7, 7, 7, 8, 9, 10, 11, 12, 13},        /* int32 */
    {8, 8, -1, -1, -1, 8, 8, 8, 8, 9, 10, 11, 12, 13},        /* int64 */
    {9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 10, 11, 10, 13},           /* float16 */
    {10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 11, 10, 13}, /* float32 */
    {11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, 11, -2}, /* float64 */
    {12, 12, 12, 12, 12, 12, 12, 12, 12, 10, 10, 11, 12, 13}, /* bfloat16 */
    {13, 13, -1, -1, -1, 13, 13, 13, 13, 13, 13, -2, 13, 13}, /* complex64 */
};

static const char *SCALAR_TYPE_NAMES[DT_COUNT] = {"Bool", "Byte", "UInt16", "UInt32", "UInt64", "Char", "Short", "Int",
                                                  "Long", "Half", "Float", "Double", "BFloat16", "ComplexFloat"};

const char *dtype_name(int code) { return code >= 0 && code < DT_COUNT ? SCALAR_TYPE_NAMES[code] : "Undefined"; }

int promote_types(int a, int b)
{
    if (a == DT_NONE)
        return b;
    if (b == DT_NONE)
        return a;
    if (a == DT_C128 || b == DT_C128)
        return DT_C128;
    return PROMOTE[a][b];
}

int raise_promotion_error(int a, int b)
{
    if (promote_types(a, b) == DT_C128)
        PyErr_SetString(PyExc_TypeError, "complex128 is not supported by MLX (promotion of float64 and complex64)");
    else
        PyErr_Format(PyExc_RuntimeError, "Promotion for uint16, uint32, uint64 types is not supported, attempted to promote %s and %s",
                     dtype_name(a), dtype_name(b));
    return -1;
}

void result_type_init(ResultTypeState *s) { s->dim = s->zero = s->wrapped = DT_NONE; }

/* A Python scalar takes part as bool, int64, the default float dtype or its complex counterpart. */
void result_type_update(State *st, ResultTypeState *s, int kind, int dt)
{
    if (kind == OP_SCALAR) {
        if (dt_is_float(dt))
            dt = st->default_dtype;
        else if (dt_is_complex(dt))
            dt = st->default_dtype == DT_F64 ? DT_C128 : DT_C64;
        s->wrapped = promote_types(s->wrapped, dt);
    } else if (kind == OP_TENSOR_ZERO) {
        s->zero = promote_types(s->zero, dt);
    } else {
        s->dim = promote_types(s->dim, dt);
    }
}

static int to_complex(int dt) { return dt == DT_F64 ? DT_C128 : DT_C64; }
static int is_cplx(int dt) { return dt == DT_C64 || dt == DT_C128; }

/* torch's combine_categories: the higher tier wins unless the lower one is of a higher category. */
static int combine_categories(int higher, int lower)
{
    if (higher == DT_NONE)
        return lower;
    if (is_cplx(higher))
        return higher;
    if (lower != DT_NONE && is_cplx(lower))
        return dt_is_float(higher) ? to_complex(higher) : lower;
    if (dt_is_float(higher))
        return higher;
    if (higher == DT_BOOL || (lower != DT_NONE && dt_is_float(lower)))
        return promote_types(higher, lower);
    return higher;
}

int result_type_finish(ResultTypeState *s)
{
    return combine_categories(s->dim, combine_categories(s->zero, s->wrapped));
}

/* The dtype code a Python scalar contributes: bool, int64, float32 (meaning "a float"), complex64
 * (meaning "a complex"); -1 (no exception) when o is not a Python number. */
int scalar_dtype(PyObject *o)
{
    if (PyBool_Check(o))
        return DT_BOOL;
    if (PyLong_Check(o))
        return DT_I64;
    if (PyFloat_Check(o))
        return DT_F32;
    if (PyComplex_Check(o))
        return DT_C64;
    return -1;
}
