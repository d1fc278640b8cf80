/* Synthetic volumes: the chest CT phantom and the sphere/box shapes.
 * The chest is drawn voxel by voxel from closed-form shapes laid out in a
 * reference frame (see phantom.h) and scaled to the volume's extent; each
 * slice is computed alone, so the result does not depend on the thread count.
 * No file I/O and no Lua here. */
#include "phantom.h"

#include <math.h>

#include "../core/par.h"
#include "../core/ctx.h"
#include "../core/rng.h"

#define PI 3.14159265358979323846

const MdPhantomNodule md_phantom_nodules[MD_PH_NNODULES] = {
    {-81.2, -26.6, 45.0, 8.0}, /* right lung, upper */
    {98.0, 29.4, -30.0, 5.0},  /* left lung, lower */
};

/* Body: an elliptic cylinder, its outer 7% fat. */
#define BODY_YC (-25.0)
#define BODY_A 165.0
#define BODY_B 115.0
#define FAT_RHO 0.93

/* Lung vessels run from the hilum (x mirrored for the left lung) to these ends. */
#define NVESSEL 10
static const double hilum[3] = {-40.0, -15.0, 5.0};
static const double vessel_end[NVESSEL][3] = {
    {-100.0, -60.0, 110.0}, {-85.0, 30.0, 90.0},  {-115.0, -10.0, -60.0}, {-80.0, 40.0, -70.0},
    {-70.0, -80.0, -20.0},  {-120.0, -40.0, 30.0}, {-60.0, -95.0, 40.0},   {-105.0, 20.0, 40.0},
    {-95.0, -50.0, -40.0},  {-60.0, 45.0, 20.0},
};

/* Voxel index -> reference millimetres. */
typedef struct Frame {
    int64_t nx, ny, nz, cx, cy, cz;
    double kx, ky, kz; /* reference mm per voxel step */
    double mm_per_ref; /* real mm per reference mm in-plane */
    double mm_per_refz;
    uint64_t seed;
    const MdChestOpts *opts;
    uint8_t *truth; /* NULL, or the lung mask being drawn alongside */
} Frame;

/* What one slice needs, precomputed from its z. */
typedef struct Slice {
    double z;
    double lung_scale; /* apex taper: 1 in the mid chest, 0 above the apices */
    int trachea, aorta, sternum, ribs, disc;
    int nbronchus;
    double bronchus[2][2];
    int nvessel; /* vessels crossing this slice (right-lung coordinates) */
    const double *vessel_a[NVESSEL];
    double vessel_d[NVESSEL][3], vessel_len2[NVESSEL];
} Slice;

/* Uniform integer noise in [-MD_PH_NOISE, MD_PH_NOISE] for voxel idx: a
 * pure function of (seed, idx) through rng.h's mixer, laid out as the
 * phantom always has been so that its voxel values stay the same. */
static int noise(uint64_t seed, uint64_t idx)
{
    const uint64_t key = md_rng_mix(seed + MD_RNG_GOLDEN);
    return (int)(md_rng_mix((key ^ idx) + MD_RNG_GOLDEN) % (2 * MD_PH_NOISE + 1)) - MD_PH_NOISE;
}

static double frac(double x) { return x - floor(x); }

static void add_vessel(Slice *s, const double *a, const double *b)
{
    double r = 3.0;
    if (s->z < fmin(a[2], b[2]) - r || s->z > fmax(a[2], b[2]) + r) return;
    int n = s->nvessel++;
    s->vessel_a[n] = a;
    s->vessel_len2[n] = 0;
    for (int c = 0; c < 3; c++) {
        s->vessel_d[n][c] = b[c] - a[c];
        s->vessel_len2[n] += s->vessel_d[n][c] * s->vessel_d[n][c];
    }
}

static void slice_setup(Slice *s, double z)
{
    s->z = z;
    s->lung_scale = z <= 70.0 ? 1.0 : z >= 130.0 ? 0.0 : sqrt(1.0 - (z - 70.0) * (z - 70.0) / 3600.0);
    s->trachea = z > 40.0;
    s->aorta = z < 70.0;
    s->sternum = z > -70.0 && z < 90.0;
    s->ribs = z > -110.0 && z < 125.0;
    s->disc = frac((z + 150.0) / 30.0) < 0.15;
    /* main bronchi: from the carina (0,-5,40) to (+-45,-10,-5) */
    s->nbronchus = 0;
    if (z <= 40.0 && z >= -5.0) {
        double t = (40.0 - z) / 45.0;
        for (int side = -1; side <= 1; side += 2) {
            s->bronchus[s->nbronchus][0] = side * 45.0 * t;
            s->bronchus[s->nbronchus][1] = -5.0 - 5.0 * t;
            s->nbronchus++;
        }
    }
    s->nvessel = 0;
    for (int v = 0; v < NVESSEL; v++) add_vessel(s, hilum, vessel_end[v]);
}

/* The vessel test for one lung side: side = -1 right (as tabulated), +1 left (mirrored). */
static int in_vessel(const Slice *s, double x, double y, int side)
{
    double px = side < 0 ? x : -x; /* mirror the left lung onto the right */
    for (int n = 0; n < s->nvessel; n++) {
        const double *a = s->vessel_a[n], *d = s->vessel_d[n];
        double t = ((px - a[0]) * d[0] + (y - a[1]) * d[1] + (s->z - a[2]) * d[2]) / s->vessel_len2[n];
        t = t < 0 ? 0 : t > 1 ? 1 : t;
        double ex = a[0] + t * d[0] - px, ey = a[1] + t * d[1] - y, ez = a[2] + t * d[2] - s->z;
        double r = 3.0 - 1.5 * t;
        if (ex * ex + ey * ey + ez * ez <= r * r) return 1;
    }
    return 0;
}

static int in_nodule(const Frame *f, const Slice *s, double x, double y)
{
    for (int n = 0; n < MD_PH_NNODULES; n++) {
        const MdPhantomNodule *q = &md_phantom_nodules[n];
        double dx = (x - q->x) * f->mm_per_ref, dy = (y - q->y) * f->mm_per_ref;
        double dz = (s->z - q->z) * f->mm_per_refz, r = q->r * f->mm_per_ref;
        if (dx * dx + dy * dy + dz * dz <= r * r) return 1;
    }
    return 0;
}

static int in_lung(const Slice *s, double x, double y, int joined, int open_dome, int *side)
{
    if (s->lung_scale <= 0) return 0;
    *side = x < 0 ? -1 : 1;
    double ex = (x - *side * 75.0) / (50.0 * s->lung_scale), ey = (y + 25.0) / (80.0 * s->lung_scale);
    double r2 = ex * ex + ey * ey;
    /* above the diaphragm dome; an open dome rises across the whole lung in y,
     * so no axial slice shows lung all around it */
    double dome = open_dome ? ex * ex : r2;
    if (r2 < 1.0 && s->z > -120.0 + 80.0 * (1.0 - dome)) return 1;
    /* joined lungs: an anterior junction in front of the heart, mid chest */
    return joined && fabs(x) <= 42.0 && y >= -80.0 && y <= -68.0 && s->z > 20.0 && s->z < 60.0;
}

static int in_bone(const Slice *s, double x, double y, double rho2)
{
    double d2 = x * x + (y - 35.0) * (y - 35.0); /* vertebral body */
    if (d2 <= 18.0 * 18.0) return s->disc ? 2 : 1;
    d2 = x * x + (y - 62.0) * (y - 62.0); /* posterior arch around the canal */
    if (d2 >= 8.0 * 8.0 && d2 <= 13.0 * 13.0) return 1;
    if (s->sternum && (x / 16.0) * (x / 16.0) + ((y + 117.0) / 7.0) * ((y + 117.0) / 7.0) <= 1.0) return 1;
    if (s->ribs && rho2 >= 0.80 * 0.80 && rho2 <= 0.86 * 0.86) {
        double th = atan2(fabs(x), y - BODY_YC) / PI; /* 0 at the spine, 1 at the sternum */
        if (th >= 0.12 && th <= 0.8 && frac((s->z + 40.0 * th) / 25.0) < 0.36) return 1;
    }
    return 0;
}

static int in_table(double x, double y, int table)
{
    if (table == MD_PH_TABLE_NONE) return 0;
    if (y >= 128.0 && y <= 140.0) /* base: across the whole image, or narrower */
        return table == MD_PH_TABLE_SIDES || fabs(x) <= 140.0;
    double ax = fabs(x), top = 92.0 - 20.0 * (ax / 115.0) * (ax / 115.0);
    if (ax <= 115.0 && y >= top && y <= top + 5.0) return 1;   /* curved top */
    return ax >= 60.0 && ax <= 68.0 && y > top && y < 128.0;   /* supports */
}

/* Inside the body: tissue classes in increasing priority. */
static int body_value(const Frame *f, const Slice *s, double x, double y, double rho2, uint64_t idx,
                      int *lung)
{
    int v = (rho2 >= FAT_RHO * FAT_RHO ? MD_PH_FAT : MD_PH_SOFT) + noise(f->seed, idx);
    int side;
    *lung = in_lung(s, x, y, f->opts->joined_lungs, f->opts->open_dome, &side);
    if (*lung) {
        v = MD_PH_LUNG;
        if (in_vessel(s, x, y, side)) v = MD_PH_VESSEL;
        if (in_nodule(f, s, x, y)) v = MD_PH_NODULE;
    }
    double hz = (s->z + 40.0) / 70.0, hx = (x - 15.0) / 55.0, hy = (y + 50.0) / 45.0;
    if (hx * hx + hy * hy + hz * hz < 1.0) v = MD_PH_HEART + noise(f->seed, idx);
    if (s->aorta && (x - 22.0) * (x - 22.0) + (y - 10.0) * (y - 10.0) <= 144.0)
        v = MD_PH_HEART + noise(f->seed, idx);
    if (s->trachea && x * x + (y + 5.0) * (y + 5.0) <= 81.0) v = MD_PH_AIR;
    for (int b = 0; b < s->nbronchus; b++) {
        double dx = x - s->bronchus[b][0], dy = y - s->bronchus[b][1];
        if (dx * dx + dy * dy <= 36.0) v = MD_PH_AIR;
    }
    int bone = in_bone(s, x, y, rho2);
    if (bone) v = bone == 2 ? MD_PH_DISC : MD_PH_BONE;
    *lung = *lung && (v == MD_PH_LUNG || v == MD_PH_VESSEL || v == MD_PH_NODULE);
    return v;
}

static void chest_slice(const Frame *f, int64_t k, int16_t *out, uint8_t *truth)
{
    Slice s;
    slice_setup(&s, (double)(k - f->cz) * f->kz);
    double r2max = MD_PH_REF_RADIUS * MD_PH_REF_RADIUS;
    for (int64_t j = 0; j < f->ny; j++) {
        double y = (double)(j - f->cy) * f->ky;
        int16_t *row = out + j * f->nx;
        for (int64_t i = 0; i < f->nx; i++) {
            double x = (double)(i - f->cx) * f->kx;
            double ex = x / BODY_A, ey = (y - BODY_YC) / BODY_B, rho2 = ex * ex + ey * ey;
            int v, lung = 0;
            if (rho2 < 1.0)
                v = body_value(f, &s, x, y, rho2, (uint64_t)((k * f->ny + j) * f->nx + i), &lung);
            else if (in_table(x, y, f->opts->table))
                v = MD_PH_TABLE;
            else
                v = x * x + y * y > r2max ? MD_PH_PAD : MD_PH_AIR;
            row[i] = (int16_t)v;
            if (truth) truth[j * f->nx + i] = (uint8_t)lung;
        }
    }
}

static MdStatus check_spacing(const MdVolume *v, MdError *err)
{
    for (int a = 0; a < 3; a++)
        if (!(v->spacing[a] > 0) || !isfinite(v->spacing[a]))
            return md_error(err, MD_EINVAL, "spacing must be > 0 (got %g on axis %d)", v->spacing[a], a + 1);
    return MD_OK;
}

MdStatus md_phantom_chest(MdVolume *out, uint64_t seed, MdError *err)
{
    MdChestOpts o = {.seed = seed, .table = MD_PH_TABLE_SIDES, .joined_lungs = 0};
    return md_phantom_chest_ex(out, NULL, &o, err);
}

MdStatus md_phantom_chest_ex(MdVolume *out, MdVolume *truth, const MdChestOpts *o, MdError *err)
{
    const uint64_t seed = o->seed;
    if (out->dtype != MD_INT16 || out->ndim != 3)
        return md_error(err, MD_EINVAL, "chest phantom needs a 3-D int16 volume (got %d-D %s)", out->ndim,
                        md_dtype_name(out->dtype));
    if (truth && (truth->dtype != MD_UINT8 || md_volume_count(truth) != md_volume_count(out)))
        return md_error(err, MD_EINVAL, "chest phantom: the truth mask must be uint8 of the volume's size");
    MdStatus st = check_spacing(out, err);
    if (st != MD_OK) return st;
    Frame f = {.nx = out->dim[0], .ny = out->dim[1], .nz = out->dim[2], .seed = seed, .opts = o};
    f.cx = f.nx / 2, f.cy = f.ny / 2, f.cz = f.nz / 2;
    double half_xy = fmin((double)f.nx * out->spacing[0], (double)f.ny * out->spacing[1]) / 2.0;
    double half_z = (double)f.nz * out->spacing[2] / 2.0;
    f.mm_per_ref = half_xy / MD_PH_REF_RADIUS;
    f.mm_per_refz = half_z / MD_PH_REF_HALFZ;
    f.kx = out->spacing[0] / f.mm_per_ref;
    f.ky = out->spacing[1] / f.mm_per_ref;
    f.kz = out->spacing[2] / f.mm_per_refz;
    int16_t *data = md_volume_data(out);
    size_t plane = (size_t)f.nx * (size_t)f.ny;
    int fail = MD_OK;
#pragma omp parallel for schedule(static) if (md_par_worth((double)(plane * (size_t)f.nz)))
    for (int64_t k = 0; k < f.nz; k++) {
        if (md_par_poll_cancel(&fail)) continue;
        chest_slice(&f, k, data + (size_t)k * plane,
                    truth ? (uint8_t *)md_volume_data(truth) + (size_t)k * plane : NULL);
    }
    return md_par_status(fail, "chest phantom", err);
}

static MdStatus check_shape(const MdVolume *v, MdError *err)
{
    if (v->ndim < 2 || v->ndim > 3)
        return md_error(err, MD_EINVAL, "shape must be 2-D or 3-D (got %d-D)", v->ndim);
    return MD_OK;
}

MdStatus md_phantom_sphere(MdVolume *out, const double center[3], double radius_mm, double value,
                           double background, MdError *err)
{
    MdStatus st = check_shape(out, err);
    if (st == MD_OK) st = check_spacing(out, err);
    if (st != MD_OK) return st;
    if (!(radius_mm >= 0) || !isfinite(radius_mm))
        return md_error(err, MD_EINVAL, "radius must be >= 0 mm (got %g)", radius_mm);
    double fg = md_saturate(value, out->dtype), bg = md_saturate(background, out->dtype);
    const int64_t nx = out->dim[0], ny = out->dim[1], nz = out->dim[2];
    const double *sp = out->spacing;
    void *data = md_volume_data(out);
#pragma omp parallel for schedule(static) if (md_par_worth((double)(nx * ny * nz)))
    for (int64_t k = 0; k < nz; k++) {
        double dz = ((double)k - center[2]) * sp[2];
        for (int64_t j = 0; j < ny; j++) {
            double dy = ((double)j - center[1]) * sp[1];
            size_t base = (size_t)((k * ny + j) * nx);
            for (int64_t i = 0; i < nx; i++) {
                double dx = ((double)i - center[0]) * sp[0];
                md_store(data, out->dtype, base + (size_t)i,
                         dx * dx + dy * dy + dz * dz <= radius_mm * radius_mm ? fg : bg);
            }
        }
    }
    return MD_OK;
}

MdStatus md_phantom_box(MdVolume *out, const int64_t lo[3], const int64_t hi[3], double value,
                        double background, MdError *err)
{
    MdStatus st = check_shape(out, err);
    if (st != MD_OK) return st;
    double fg = md_saturate(value, out->dtype), bg = md_saturate(background, out->dtype);
    const int64_t nx = out->dim[0], ny = out->dim[1], nz = out->dim[2];
    void *data = md_volume_data(out);
#pragma omp parallel for schedule(static) if (md_par_worth((double)(nx * ny * nz)))
    for (int64_t k = 0; k < nz; k++) {
        int zin = k >= lo[2] && k <= hi[2];
        for (int64_t j = 0; j < ny; j++) {
            int yin = zin && j >= lo[1] && j <= hi[1];
            size_t base = (size_t)((k * ny + j) * nx);
            for (int64_t i = 0; i < nx; i++)
                md_store(data, out->dtype, base + (size_t)i, yin && i >= lo[0] && i <= hi[0] ? fg : bg);
        }
    }
    return MD_OK;
}
