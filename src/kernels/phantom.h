/* Synthetic test volumes: a chest CT phantom (int16 Hounsfield units) and
 * simple shapes (sphere, box) for specs. Pure C; no file I/O, no Lua.
 * The anatomy and its coordinates are documented in docs/api/phantom.md. */
#ifndef MD_PHANTOM_H
#define MD_PHANTOM_H

#include <stdint.h>

#include "../core/volume.h"

/* Values the chest phantom uses. Soft tissue, fat and heart get a
 * deterministic noise of at most +-MD_PH_NOISE; every other class is exact. */
enum {
    MD_PH_PAD = -2000,   /* outside the scanner's circular field of view */
    MD_PH_AIR = -1000,   /* outside air, airways, the inside of the table */
    MD_PH_LUNG = -850,
    MD_PH_FAT = -100,
    MD_PH_SOFT = 40,     /* muscle, mediastinum, abdomen */
    MD_PH_HEART = 45,    /* heart and aorta (blood) */
    MD_PH_VESSEL = 60,   /* lung vessels */
    MD_PH_NODULE = 25,   /* solid lung nodules */
    MD_PH_DISC = 80,     /* intervertebral discs */
    MD_PH_TABLE = 150,   /* patient table */
    MD_PH_BONE = 700,    /* spine, ribs, sternum */
    MD_PH_NOISE = 10
};

/* The reference frame: anatomy is laid out for a field of view of
 * 2 * MD_PH_REF_RADIUS mm in-plane and 2 * MD_PH_REF_HALFZ mm along z, then
 * scaled to the volume's actual extent. */
#define MD_PH_REF_RADIUS 179.2
#define MD_PH_REF_HALFZ 150.0

/* A lung nodule: centre and radius in reference millimetres (relative to
 * the centre voxel, LPS axes). */
typedef struct MdPhantomNodule {
    double x, y, z, r;
} MdPhantomNodule;

#define MD_PH_NNODULES 2
extern const MdPhantomNodule md_phantom_nodules[MD_PH_NNODULES];

/* Fills out (int16, 3-D, buffer allocated by the caller; borrowed) with the
 * chest phantom for out's dims and spacing. Voxel (nx/2, ny/2, nz/2)
 * (integer division, 0-based) is the centre; x runs to the patient's left,
 * y to the back, z to the head. The same seed gives the same volume on any
 * thread count. Errors: MD_EINVAL (dtype, ndim, spacing), MD_ECANCELLED. */
MdStatus md_phantom_chest(MdVolume *out, uint64_t seed, MdError *err) MD_MUST_CHECK;

/* Variants of the chest, for generated datasets. */
enum { MD_PH_TABLE_NONE = 0, MD_PH_TABLE_NARROW = 1, MD_PH_TABLE_SIDES = 2 };
typedef struct MdChestOpts {
    uint64_t seed;
    int table;        /* MD_PH_TABLE_*: none, a base inside the image, a base reaching both sides */
    int joined_lungs; /* the lungs touch in an anterior junction (one air component) */
    int open_dome;    /* the diaphragm rises across each lung from side to side, as in
                       * patients: no slice shows lung all around the dome */
} MdChestOpts;

/* md_phantom_chest with variants; truth (NULL, or uint8 of out's size,
 * borrowed) receives the lung mask: lung parenchyma with its vessels and
 * nodules, without airways, heart or bone. md_phantom_chest is this with
 * the table reaching the sides and separate lungs. */
MdStatus md_phantom_chest_ex(MdVolume *out, MdVolume *truth, const MdChestOpts *o, MdError *err) MD_MUST_CHECK;

/* Sets every voxel of out (any dtype, 2-D or 3-D; borrowed) whose centre
 * lies within radius_mm of center (0-based voxel coordinates, distances in
 * mm through out's spacing) to value, every other voxel to background. */
MdStatus md_phantom_sphere(MdVolume *out, const double center[3], double radius_mm, double value,
                           double background, MdError *err) MD_MUST_CHECK;

/* Sets the voxels with lo[a] <= index[a] <= hi[a] on every axis (0-based,
 * inclusive; clipped to the volume) to value, the rest to background. */
MdStatus md_phantom_box(MdVolume *out, const int64_t lo[3], const int64_t hi[3], double value,
                        double background, MdError *err) MD_MUST_CHECK;

#endif
