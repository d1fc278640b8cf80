/* Byte-moving geometry: boxes (crop and pad in one), flips and axis
 * permutations, slices, stacks, and the bounding box of non-zero voxels.
 * Every function that makes a volume has a companion that sets its header
 * so that world positions stay put (the origin is the world position of
 * the voxel that lands at index 0; direction columns follow their axes).
 * Elements are copied whole, so values never change. No Lua here;
 * indices are 0-based. Frames (the 4th axis) are carried along. */
#ifndef MD_CROPAD_H
#define MD_CROPAD_H

#include <stdint.h>

#include "../core/volume.h"

typedef enum {
    MD_PAD_CONSTANT,  /* value */
    MD_PAD_EDGE,      /* a a | a b c d | d d   (numpy 'edge') */
    MD_PAD_REFLECT,   /* c b | a b c d | c b   (numpy 'reflect') */
    MD_PAD_SYMMETRIC, /* b a | a b c d | d c   (numpy 'symmetric') */
    MD_PAD_WRAP,      /* c d | a b c d | a b   (numpy 'wrap') */
    MD_PAD_COUNT
} MdPadMode;

/* The pad mode named s ("constant", "edge", "reflect", "symmetric",
 * "wrap"), or -1. */
int md_pad_mode_from_name(const char *s);

/* Header of the box of spatial size size[] whose index 0 is input index
 * lo[] (may be negative or reach past the far edge). */
void md_cropad_box_header(const MdVolume *in, const int64_t lo[3], const int64_t size[3],
                          MdVolume *out);
/* Fills out (header from md_cropad_box_header, allocated) from in; voxels
 * outside in follow mode (value rounded and saturated to the dtype). */
MdStatus md_cropad_box(const MdVolume *in, const int64_t lo[3], MdPadMode mode, double value,
                       MdVolume *out, MdError *err) MD_MUST_CHECK;

/* Output axis k is input axis order[k], reversed when flip[k] (spatial
 * axes; a 2-D volume uses order[0..1] and order[2] = 2). */
MdStatus md_cropad_reorder_header(const MdVolume *in, const int order[3], const int flip[3],
                                  MdVolume *out, MdError *err) MD_MUST_CHECK;
void md_cropad_reorder(const MdVolume *in, const int order[3], const int flip[3], MdVolume *out);

/* The axes order and flips that give in the orientation code (three
 * letters, one of L/R, P/A, S/I each: the world direction each axis points
 * towards). Errors: a malformed code; a 2-D volume asked to move its
 * third axis. */
MdStatus md_cropad_reorient_plan(const MdVolume *in, const char *code, int order[3], int flip[3],
                                 MdError *err) MD_MUST_CHECK;

/* Slice index of axis (0-based; axis 3 = a frame of a 4-D volume): a
 * volume with one axis less whose geometry places it where it was; the
 * removed spatial axis becomes the third (its direction and spacing kept),
 * so stacking slices back rebuilds the volume's geometry. */
MdStatus md_cropad_slice_header(const MdVolume *in, int axis, int64_t index, MdVolume *out,
                                MdError *err) MD_MUST_CHECK;
void md_cropad_slice(const MdVolume *in, int axis, int64_t index, MdVolume *out);

/* Stacks n volumes (same dtype and shape, 2-D or 3-D) along a new last
 * axis: header (geometry of the first) then the copy. */
MdStatus md_cropad_stack_header(const MdVolume *const *list, int n, MdVolume *out,
                                MdError *err) MD_MUST_CHECK;
void md_cropad_stack(const MdVolume *const *list, int n, MdVolume *out);

/* Smallest box holding the voxels != 0 (any frame): lo, hi inclusive.
 * Returns 1, or 0 when there is none, or -1 when out of memory. */
int md_cropad_nonzero_box(const MdVolume *v, int64_t lo[3], int64_t hi[3]);

#endif
