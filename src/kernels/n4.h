/* N4 bias-field correction (Tustison et al. 2010) as ITK's
 * N4BiasFieldCorrectionImageFilter computes it, run on a shrunk copy of the
 * image, with the final field evaluated at full resolution from the control
 * lattice (SimpleITK's GetLogBiasFieldAsImage mapping). Deterministic on any
 * thread count. The shrinking, the iteration loop and the full-resolution
 * output live here; the B-spline algebra in n4_bspline.c, the histogram
 * sharpening and Otsu's threshold in n4_hist.c. No Lua. */
#ifndef MD_N4_H
#define MD_N4_H

#include "../core/ctx.h"
#include "../core/volume.h"

#define MD_N4_MAX_LEVELS 16

typedef struct MdN4Opts {
    int shrink[3];    /* voxel factor per axis (>= 1) */
    int average;      /* shrink by averaging blocks (else keep every n-th voxel, as ITK) */
    int levels;       /* fitting levels: the lattice doubles between them */
    int iterations[MD_N4_MAX_LEVELS];
    double convergence;     /* a level stops when the field update's CV falls to this */
    int control_points[3];  /* initial lattice (> order on each axis) */
    int order;              /* B-spline order 0..3 */
    int bins;               /* histogram bins (>= 2) */
    double fwhm;            /* Gaussian FWHM of the bias, log-intensity units */
    double noise;           /* Wiener filter noise */
    int otsu;               /* mask = voxels above Otsu's threshold (200 bins) */
} MdN4Opts;

/* What a run did (for verbose output and specs). */
typedef struct MdN4Report {
    int shrunk[3];                 /* shrunk grid */
    size_t voxels;                 /* shrunk voxels used */
    double threshold;              /* Otsu's threshold when opts.otsu */
    int done[MD_N4_MAX_LEVELS];    /* iterations run per level */
    int lattice[MD_N4_MAX_LEVELS][3];
    double *trace;                 /* borrowed, NULL or sum(iterations) slots: each iteration's CV */
} MdN4Report;

/* Fills the defaults: shrink 1, 4 levels of 50 iterations, convergence
 * 0.001, 4 control points, order 3, 200 bins, fwhm 0.15, noise 0.01. */
void md_n4_defaults(MdN4Opts *o);

/* corrected = in / field and field = exp(log bias), both float32 volumes of
 * in's dims allocated by the caller. in: a 3-D volume of any dtype. mask:
 * NULL or uint8 (non-zero = used) on in's dims; weight: NULL or float32
 * confidence (> 0 = used, and the fit's point weight) on in's dims. The
 * log of voxels <= 0 is taken as the voxel itself, as ITK does. rep may be
 * NULL. Errors: bad options, a grid too small after shrinking (fewer than
 * 2 voxels on an axis), an empty mask (before or after shrinking),
 * cancel, memory. */
MdStatus md_n4(const MdVolume *in, const MdVolume *mask, const MdVolume *weight, const MdN4Opts *o,
               MdVolume *corrected, MdVolume *field, MdN4Report *rep, MdCtx *ctx) MD_MUST_CHECK;

#endif
