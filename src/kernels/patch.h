/* Patch grids over 2-D and 3-D volumes: where the patches are (three
 * placement modes), copying patches out (one, a stack, or an arbitrary box
 * with padding), and drawing random training patches with foreground
 * oversampling. Merging patches back lives in patch_merge.h. No Lua here;
 * indices are 0-based. */
#ifndef MD_PATCH_H
#define MD_PATCH_H

#include <stdint.h>

#include "../core/volume.h"

/* A patch voxel's share of core/par.h's unit of work: copying or merging
 * one patch stays on one thread below 64 x 65536 = 4 Mi voxels (160^3 is
 * above, 128^3 below): per-patch work is a few milliseconds, and waking a
 * thread team for each patch of a sliding window costs more than it saves.
 * Whole stacks are split across threads. */
#define MD_PATCH_CHEAP 64.0

typedef enum {
    MD_PATCH_COVER, /* every voxel covered: the last patch ends flush with the far edge */
    MD_PATCH_PAD,   /* starts at multiples of the stride; the far edge is padded */
    MD_PATCH_DROP   /* the classic recipe: starts = range(0, size - patch + 1, stride) */
} MdPatchMode;

/* Where the patches of a volume lie. Axes beyond ndim have size, patch,
 * stride and count 1. Patch n (0-based) is at axis indices (ix, iy, iz)
 * with n = (iz * count[1] + iy) * count[0] + ix: x fastest, the order of
 * the classic nested loop "for z: for y: for x". */
typedef struct MdPatchGrid {
    int ndim;          /* spatial axes: 2 or 3 */
    MdPatchMode mode;
    int64_t size[3];   /* the volume */
    int64_t patch[3];
    int64_t stride[3];
    int64_t count[3];  /* patches along each axis */
} MdPatchGrid;

/* Fills g. stride[a] is patch - overlap. Errors: sizes < 1, a stride
 * larger than the patch in cover/pad mode (voxels between patches would be
 * lost), a patch larger than the volume in drop mode, too many patches. */
MdStatus md_patch_grid_init(MdPatchGrid *g, int ndim, const int64_t size[3],
                            const int64_t patch[3], const int64_t stride[3], MdPatchMode mode,
                            MdError *err) MD_MUST_CHECK;

/* Number of patches. */
size_t md_patch_count(const MdPatchGrid *g);

/* Start of the i-th patch along axis a (0-based; may be past the volume's
 * far edge minus the patch in pad mode, never negative). */
int64_t md_patch_axis_start(const MdPatchGrid *g, int a, int64_t i);

/* Start (0-based, per axis) of patch n < md_patch_count(g). */
void md_patch_start(const MdPatchGrid *g, size_t n, int64_t start[3]);

/* Voxels of the volume that no patch covers (drop mode loses the far
 * remainders; cover and pad modes return 0). */
size_t md_patch_uncovered(const MdPatchGrid *g);

/* mask (borrowed, uint8, the grid's volume shape): 1 where some patch
 * covers the voxel, 0 elsewhere. */
MdStatus md_patch_coverage(const MdPatchGrid *g, MdVolume *mask, MdError *err) MD_MUST_CHECK;

/* Channels of v laid out for the spatial extent ext (the grid's volume or
 * its patch): a 3-D grid takes (x, y, z) or (x, y, z, C); a 2-D grid takes
 * (x, y), (x, y, 1) or (x, y, 1, C). Writes *channels; errors name what
 * (e.g. "patch 3"). */
MdStatus md_patch_layout(const MdPatchGrid *g, const MdVolume *v, const int64_t ext[3],
                         const char *what, int64_t *channels, MdError *err) MD_MUST_CHECK;

/* Copies the box of extent ext starting at start (0-based, may reach
 * outside src) into dst (borrowed; extent ext, src's channels and dtype,
 * packed x fastest then y, z, channel). Voxels outside src become pad
 * (rounded and saturated to the dtype). Parallel over rows. */
MdStatus md_patch_copy_box(const MdVolume *src, const int64_t start[3], const int64_t ext[3],
                           double pad, void *dst, MdError *err) MD_MUST_CHECK;

/* Patch n of src into dst (borrowed, allocated by the caller with the
 * patch's extent, src's channels and dtype). */
MdStatus md_patch_extract(const MdVolume *src, const MdPatchGrid *g, size_t n, double pad,
                          MdVolume *dst, MdError *err) MD_MUST_CHECK;

/* Patches first .. first+count-1 of the single-channel src into stack
 * (borrowed): (px, py, count) for a 2-D grid, (px, py, pz, count) for 3-D,
 * src's dtype. Parallel over all rows of all patches. */
MdStatus md_patch_extract_stack(const MdVolume *src, const MdPatchGrid *g, size_t first,
                                size_t count, double pad, MdVolume *stack,
                                MdError *err) MD_MUST_CHECK;

/* Random training boxes, nnU-Net style: sample k (0-based) of n is forced
 * to hold foreground when k >= round(n * (1 - fg_fraction)). A forced
 * sample picks a class uniformly among the positive label values present
 * (or among classes[0..nclasses) when given), then a voxel of that class
 * uniformly, and centres the box on it; other samples start uniformly at
 * random. A patch longer than the volume is centred with padding on both
 * sides. Starts are clamped so that the box never leaves the volume more
 * than that padding needs. Same seed, same boxes, on any machine.
 * label: integer dtype, the grid's spatial shape (ndim = g->ndim).
 * starts: n*3 values out; is_fg: n flags out (1 when the box was centred on
 * a foreground voxel; 0 also when no foreground exists). */
typedef struct MdPatchSampleOpts {
    int ndim;
    int64_t patch[3];
    size_t n;
    double fg_fraction;
    uint64_t seed;
    const int64_t *classes; /* borrowed, may be NULL */
    size_t nclasses;
} MdPatchSampleOpts;

MdStatus md_patch_sample(const MdVolume *label, const MdPatchSampleOpts *o, int64_t *starts,
                         uint8_t *is_fg, MdError *err) MD_MUST_CHECK;

/* The same sampling when there is no label: every box uniform at random. */
void md_patch_sample_uniform(const int64_t size[3], const MdPatchSampleOpts *o, int64_t *starts);

#endif
