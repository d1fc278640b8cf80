/* Element-wise arithmetic, comparisons, logic, conversion and selection.
 * The results are defined by a double path: each value converted to double,
 * the operation done in double, integer outputs rounded half away from zero
 * and saturated at the type's range, NaN -> 0. Typed fast paths give the same
 * bits wherever they apply (see arith_impl.h). The output volume is allocated by the caller with the output
 * dtype and the same voxel count; it may be the same volume as an input
 * (in-place operations). */
#ifndef MD_ARITH_H
#define MD_ARITH_H

#include "../core/volume.h"

typedef enum {
    MD_OP_ADD, MD_OP_SUB, MD_OP_MUL, MD_OP_DIV, MD_OP_MIN, MD_OP_MAX, MD_OP_POW,
    /* comparisons: uint8 0/1 output */
    MD_OP_GT, MD_OP_LT, MD_OP_GE, MD_OP_LE, MD_OP_EQ, MD_OP_NE,
    /* logic on "non-zero": uint8 0/1 output */
    MD_OP_AND, MD_OP_OR, MD_OP_XOR
} MdBinaryOp;

typedef enum {
    MD_UN_COPY,    /* astype: convert with rounding mode p1 (MdRounding) */
    MD_UN_ABS, MD_UN_NEG,
    MD_UN_NOT,     /* uint8: 1 where zero */
    MD_UN_CLAMP,   /* min(max(x, p1), p2) */
    MD_UN_BETWEEN, /* uint8: p1 <= x <= p2 */
    MD_UN_FILL,    /* every voxel = p1 */
    MD_UN_SQRT, MD_UN_EXP, MD_UN_LOG
} MdUnaryOp;

#include "../core/rows.h" /* MdRounding */

/* An operand: a volume, or (vol == NULL) a scalar. */
typedef struct MdOperand {
    const MdVolume *vol;
    double scalar;
} MdOperand;

/* out = a op b. Volumes must have out's voxel count. */
MdStatus md_arith_binary(MdOperand a, MdOperand b, MdBinaryOp op, MdVolume *out,
                         MdError *err) MD_MUST_CHECK;
/* out = op(a). */
MdStatus md_arith_unary(const MdVolume *a, MdUnaryOp op, double p1, double p2, MdVolume *out,
                        MdError *err) MD_MUST_CHECK;
/* out = mask != 0 ? a : b. */
MdStatus md_arith_where(const MdVolume *mask, MdOperand a, MdOperand b, MdVolume *out,
                        MdError *err) MD_MUST_CHECK;

/* The dtype numpy-like promotion gives for a op b (b_dtype < 0: a scalar,
 * integral when b_integral). Division always gives a float type. */
MdDtype md_arith_result_dtype(MdDtype a, int b_dtype, int b_integral, MdBinaryOp op);

/* on != 0: every element-wise kernel takes the plain double path (each block
 * converted to double and back), which defines the results; the fast paths
 * are checked against it. Process-wide, for specs and benchmarks. */
void md_arith_use_reference(int on);

/* md_stats moved to stats.h; included here for code that found it here. */
#include "stats.h"

#endif
