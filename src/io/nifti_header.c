/* NIfTI-1/2 header decoding and encoding, the datatype table, and the
 * affine choice. The byte offsets below are those of nifti1.h / nifti2.h.
 * The affine rules copy nibabel's behaviour (nifti1.py get_best_affine,
 * get_qform, quaternions.py, analyze.py get_base_affine), including the fixes
 * nibabel applies to a header when it loads it. */
#include "nifti_header.h"

#include "../core/geom.h"

#include <math.h>
#include <string.h>

/* ---- byte access ------------------------------------------------------ */

static uint16_t rd16(const unsigned char *p, int sw)
{
    uint16_t x;
    memcpy(&x, p, 2);
    return sw ? (uint16_t)((x >> 8) | (x << 8)) : x;
}

static uint32_t rd32(const unsigned char *p, int sw)
{
    uint32_t x;
    memcpy(&x, p, 4);
    return sw ? __builtin_bswap32(x) : x;
}

static uint64_t rd64(const unsigned char *p, int sw)
{
    uint64_t x;
    memcpy(&x, p, 8);
    return sw ? __builtin_bswap64(x) : x;
}

static double rdf32(const unsigned char *p, int sw)
{
    uint32_t u = rd32(p, sw);
    float f;
    memcpy(&f, &u, 4);
    return (double)f;
}

static double rdf64(const unsigned char *p, int sw)
{
    uint64_t u = rd64(p, sw);
    double d;
    memcpy(&d, &u, 8);
    return d;
}

static void wr16(unsigned char *p, int x)
{
    int16_t v = (int16_t)x;
    memcpy(p, &v, 2);
}
static void wr32(unsigned char *p, int32_t x) { memcpy(p, &x, 4); }
static void wr64(unsigned char *p, int64_t x) { memcpy(p, &x, 8); }
static void wrf32(unsigned char *p, double x)
{
    float f = (float)x;
    memcpy(p, &f, 4);
}
static void wrf64(unsigned char *p, double x) { memcpy(p, &x, 8); }

/* ---- datatypes -------------------------------------------------------- */

static const struct {
    int code;
    size_t size;
    const char *name;
    int dtype; /* MdDtype, or -1 when medula cannot hold it */
} types[] = {
    {2, 1, "uint8", MD_UINT8},        {256, 1, "int8", MD_INT8},
    {512, 2, "uint16", MD_UINT16},    {4, 2, "int16", MD_INT16},
    {768, 4, "uint32", MD_UINT32},    {8, 4, "int32", MD_INT32},
    {16, 4, "float32", MD_FLOAT32},   {64, 8, "float64", MD_FLOAT64},
    {1024, 8, "int64", MD_FLOAT64},   {1280, 8, "uint64", MD_FLOAT64},
    {1, 0, "binary (1 bit)", -1},     {32, 8, "complex64", -1},
    {128, 3, "RGB24", -1},            {1536, 16, "float128", -1},
    {1792, 16, "complex128", -1},     {2048, 32, "complex256", -1},
    {2304, 4, "RGBA32", -1},
};
#define NTYPES (sizeof types / sizeof types[0])

size_t md_nifti_type_size(int datatype)
{
    for (size_t i = 0; i < NTYPES; i++)
        if (types[i].code == datatype) return types[i].dtype < 0 ? 0 : types[i].size;
    return 0;
}

const char *md_nifti_type_name(int datatype)
{
    for (size_t i = 0; i < NTYPES; i++)
        if (types[i].code == datatype) return types[i].name;
    return "unknown";
}

MdStatus md_nifti_type_to_dtype(int datatype, MdDtype *out, MdError *err)
{
    for (size_t i = 0; i < NTYPES; i++) {
        if (types[i].code != datatype) continue;
        if (types[i].dtype < 0)
            return md_error(err, MD_EUNSUPPORTED,
                            "datatype %d (%s) is not supported (medula reads scalar integer "
                            "and float voxels)",
                            datatype, types[i].name);
        *out = (MdDtype)types[i].dtype;
        return MD_OK;
    }
    return md_error(err, MD_EFORMAT, "unknown datatype code %d in the header", datatype);
}

int md_nifti_type_from_dtype(MdDtype t)
{
    for (size_t i = 0; i < NTYPES; i++)
        if (types[i].dtype == (int)t && types[i].code < 1024) return types[i].code;
    return 0;
}

/* ---- decoding --------------------------------------------------------- */

static void copy_str(char *dst, const unsigned char *src, size_t n)
{
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static void decode_v1(const unsigned char *b, int sw, MdNiftiHeader *h)
{
    for (int i = 0; i < 8; i++) {
        h->dim[i] = (int16_t)rd16(b + 40 + 2 * i, sw);
        h->pixdim[i] = rdf32(b + 76 + 4 * i, sw);
    }
    h->intent_code = (int16_t)rd16(b + 68, sw);
    h->datatype = (int16_t)rd16(b + 70, sw);
    double off = rdf32(b + 108, sw);
    /* -1 marks an offset no file can have; the checks below reject it. */
    h->vox_offset = (isfinite(off) && off >= 0 && off < 9e15) ? (int64_t)off : -1;
    h->scl_slope = rdf32(b + 112, sw);
    h->scl_inter = rdf32(b + 116, sw);
    h->xyzt_units = b[123];
    copy_str(h->descrip, b + 148, 80);
    h->qform_code = (int16_t)rd16(b + 252, sw);
    h->sform_code = (int16_t)rd16(b + 254, sw);
    for (int i = 0; i < 3; i++) {
        h->quatern[i] = rdf32(b + 256 + 4 * i, sw);
        h->qoffset[i] = rdf32(b + 268 + 4 * i, sw);
    }
    for (int i = 0; i < 12; i++) h->srow[i] = rdf32(b + 280 + 4 * i, sw);
    copy_str(h->intent_name, b + 328, 16);
}

static void decode_v2(const unsigned char *b, int sw, MdNiftiHeader *h)
{
    h->datatype = (int16_t)rd16(b + 12, sw);
    for (int i = 0; i < 8; i++) {
        h->dim[i] = (int64_t)rd64(b + 16 + 8 * i, sw);
        h->pixdim[i] = rdf64(b + 104 + 8 * i, sw);
    }
    h->vox_offset = (int64_t)rd64(b + 168, sw);
    h->scl_slope = rdf64(b + 176, sw);
    h->scl_inter = rdf64(b + 184, sw);
    copy_str(h->descrip, b + 240, 80);
    h->qform_code = (int32_t)rd32(b + 344, sw);
    h->sform_code = (int32_t)rd32(b + 348, sw);
    for (int i = 0; i < 3; i++) {
        h->quatern[i] = rdf64(b + 352 + 8 * i, sw);
        h->qoffset[i] = rdf64(b + 376 + 8 * i, sw);
    }
    for (int i = 0; i < 12; i++) h->srow[i] = rdf64(b + 400 + 8 * i, sw);
    h->xyzt_units = (int32_t)rd32(b + 500, sw);
    h->intent_code = (int32_t)rd32(b + 504, sw);
    copy_str(h->intent_name, b + 508, 16);
}

static MdStatus check_magic(const MdNiftiHeader *h, const unsigned char *m, int pair,
                            MdError *err)
{
    char v = (char)('0' + h->version);
    if (pair && m[0] == 'n' && m[1] == 'i' && m[2] == v && m[3] == 0) return MD_OK;
    if (pair && m[0] == 'n' && m[1] == '+' && m[2] == v && m[3] == 0)
        return md_error(err, MD_EFORMAT,
                        "the header says its voxels follow it in one file (magic \"n+%d\"), "
                        "not in a separate .img: name the .nii file instead",
                        h->version);
    if (m[0] == 'n' && m[1] == '+' && m[2] == v && m[3] == 0) {
        if (h->version == 2 && memcmp(m + 4, "\r\n\032\n", 4) != 0)
            return md_error(err, MD_EFORMAT,
                            "NIfTI-2 magic is damaged after \"n+2\" (the file went through a "
                            "text-mode transfer?)");
        return MD_OK;
    }
    if (m[0] == 'n' && m[1] == 'i' && m[2] == v && m[3] == 0)
        return md_error(err, MD_EUNSUPPORTED,
                        "this is a NIfTI-%d header/image pair (magic \"ni%d\"): the voxels are in "
                        "a separate .img file; read it by its .hdr or .img name",
                        h->version, h->version);
    if (h->version == 1 && !m[0] && !m[1] && !m[2] && !m[3])
        return md_error(err, MD_EUNSUPPORTED,
                        "no NIfTI magic (\"n+1\"): an ANALYZE 7.5 header, which medula does not "
                        "read");
    char shown[5];
    for (int i = 0; i < 4; i++) shown[i] = (m[i] >= 32 && m[i] < 127) ? (char)m[i] : '.';
    shown[4] = '\0';
    return md_error(err, MD_EFORMAT, "bad NIfTI-%d magic: expected \"n+%d\", found \"%s\"",
                    h->version, h->version, shown);
}

static MdStatus check_dims(const MdNiftiHeader *h, MdError *err)
{
    int64_t nd = h->dim[0];
    if (nd < 1 || nd > 7)
        return md_error(err, MD_EFORMAT, "dim[0] must be 1 to 7 (got %lld)", (long long)nd);
    for (int i = 1; i <= nd; i++) {
        if (h->dim[i] < 1)
            return md_error(err, MD_EFORMAT, "dim[%d] must be >= 1 (got %lld)", i,
                            (long long)h->dim[i]);
        if (i > 4 && h->dim[i] != 1)
            return md_error(err, MD_EUNSUPPORTED,
                            "%lld-D data is not supported (dim[%d] = %lld; medula reads up to 4 "
                            "axes, extra axes must have size 1)",
                            (long long)nd, i, (long long)h->dim[i]);
    }
    return MD_OK;
}

static MdStatus decode(const unsigned char *b, size_t n, int pair, MdNiftiHeader *h,
                       MdError *err);

MdStatus md_nifti_header_decode(const unsigned char *b, size_t n, MdNiftiHeader *h,
                                MdError *err)
{
    return decode(b, n, 0, h, err);
}

MdStatus md_nifti_header_decode_pair(const unsigned char *b, size_t n, MdNiftiHeader *h,
                                     MdError *err)
{
    return decode(b, n, 1, h, err);
}

static MdStatus decode(const unsigned char *b, size_t n, int pair, MdNiftiHeader *h,
                       MdError *err)
{
    memset(h, 0, sizeof *h);
    if (n < 4)
        return md_error(err, MD_EFORMAT, "file has %zu bytes, too short for a NIfTI header", n);
    uint32_t s = rd32(b, 0), ss = rd32(b, 1);
    if (s == MD_NIFTI1_SIZE || ss == MD_NIFTI1_SIZE) {
        h->version = 1;
        h->swapped = s != MD_NIFTI1_SIZE;
    } else if (s == MD_NIFTI2_SIZE || ss == MD_NIFTI2_SIZE) {
        h->version = 2;
        h->swapped = s != MD_NIFTI2_SIZE;
    } else {
        return md_error(err, MD_EFORMAT,
                        "not a NIfTI file: the first 4 bytes (sizeof_hdr) hold %u, expected 348 "
                        "(NIfTI-1) or 540 (NIfTI-2) in either byte order",
                        s);
    }
    h->hdr_size = h->version == 1 ? MD_NIFTI1_SIZE : MD_NIFTI2_SIZE;
    if (n < (size_t)h->hdr_size)
        return md_error(err, MD_EFORMAT,
                        "header is truncated: a NIfTI-%d header needs %d bytes, found %zu",
                        h->version, h->hdr_size, n);
    if (h->version == 1)
        decode_v1(b, h->swapped, h);
    else
        decode_v2(b, h->swapped, h);
    MdStatus st = check_magic(h, h->version == 1 ? b + 344 : b + 4, pair, err);
    if (st != MD_OK) return st;
    if ((st = check_dims(h, err)) != MD_OK) return st;
    if (pair) {
        if (h->vox_offset < 0)
            return md_error(err, MD_EFORMAT, "vox_offset must be >= 0 (got %lld)",
                            (long long)h->vox_offset);
        return MD_OK;
    }
    /* vox_offset 0 means "right after the header" for old writers; nibabel
     * itself refuses any other offset inside the header. */
    if (h->vox_offset == 0) h->vox_offset = h->hdr_size + 4;
    if (h->vox_offset < h->hdr_size) {
        double raw = h->version == 1 ? rdf32(b + 108, h->swapped) : (double)h->vox_offset;
        return md_error(err, MD_EFORMAT,
                        "vox_offset must be at least %d (the header size), found %.15g",
                        h->hdr_size, raw);
    }
    return MD_OK;
}

/* ---- encoding --------------------------------------------------------- */

void md_nifti_header_set_pair_magic(const MdNiftiHeader *h, unsigned char *b)
{
    if (h->version == 1)
        memcpy(b + 344, "ni1", 4);
    else
        memcpy(b + 4, "ni2", 3);
}

static void encode_v1(const MdNiftiHeader *h, unsigned char *b)
{
    wr32(b, MD_NIFTI1_SIZE);
    b[39] = 0; /* dim_info */
    for (int i = 0; i < 8; i++) {
        wr16(b + 40 + 2 * i, (int)h->dim[i]);
        wrf32(b + 76 + 4 * i, h->pixdim[i]);
    }
    wr16(b + 68, h->intent_code);
    wr16(b + 70, h->datatype);
    wr16(b + 72, (int)(md_nifti_type_size(h->datatype) * 8));
    wrf32(b + 108, (double)h->vox_offset);
    wrf32(b + 112, h->scl_slope);
    wrf32(b + 116, h->scl_inter);
    b[123] = (unsigned char)h->xyzt_units;
    memcpy(b + 148, h->descrip, strnlen(h->descrip, 79));
    wr16(b + 252, h->qform_code);
    wr16(b + 254, h->sform_code);
    for (int i = 0; i < 3; i++) {
        wrf32(b + 256 + 4 * i, h->quatern[i]);
        wrf32(b + 268 + 4 * i, h->qoffset[i]);
    }
    for (int i = 0; i < 12; i++) wrf32(b + 280 + 4 * i, h->srow[i]);
    memcpy(b + 328, h->intent_name, strnlen(h->intent_name, 15));
    memcpy(b + 344, "n+1", 4);
}

static void encode_v2(const MdNiftiHeader *h, unsigned char *b)
{
    wr32(b, MD_NIFTI2_SIZE);
    memcpy(b + 4, "n+2\0\r\n\032\n", 8);
    wr16(b + 12, h->datatype);
    wr16(b + 14, (int)(md_nifti_type_size(h->datatype) * 8));
    for (int i = 0; i < 8; i++) {
        wr64(b + 16 + 8 * i, h->dim[i]);
        wrf64(b + 104 + 8 * i, h->pixdim[i]);
    }
    wr64(b + 168, h->vox_offset);
    wrf64(b + 176, h->scl_slope);
    wrf64(b + 184, h->scl_inter);
    memcpy(b + 240, h->descrip, strnlen(h->descrip, 79));
    wr32(b + 344, h->qform_code);
    wr32(b + 348, h->sform_code);
    for (int i = 0; i < 3; i++) {
        wrf64(b + 352 + 8 * i, h->quatern[i]);
        wrf64(b + 376 + 8 * i, h->qoffset[i]);
    }
    for (int i = 0; i < 12; i++) wrf64(b + 400 + 8 * i, h->srow[i]);
    wr32(b + 500, h->xyzt_units);
    wr32(b + 504, h->intent_code);
    memcpy(b + 508, h->intent_name, strnlen(h->intent_name, 15));
}

void md_nifti_header_encode(const MdNiftiHeader *h, unsigned char *b)
{
    memset(b, 0, (size_t)h->hdr_size + 4);
    if (h->version == 2)
        encode_v2(h, b);
    else
        encode_v1(h, b);
}

/* ---- affines ---------------------------------------------------------- */

/* pixdim[1..3] after nibabel's load-time fixes: absolute values, 0 -> 1. */
static void fixed_zooms(const MdNiftiHeader *h, double z[3])
{
    for (int i = 0; i < 3; i++) {
        double p = fabs(h->pixdim[i + 1]);
        z[i] = (p == 0 || !isfinite(p)) ? 1.0 : p;
    }
}

/* Codes outside 0..5 are reset to 0 by nibabel when it loads a header. */
static int valid_code(int c) { return c >= 0 && c <= 5 ? c : 0; }

void md_nifti_qform_affine(const MdNiftiHeader *h, double A[16])
{
    /* nibabel fills w in long double (quaternions.fillpositive) and builds the
     * matrix in that precision before storing float64; we do the same. */
    long double x = h->quatern[0], y = h->quatern[1], z = h->quatern[2];
    long double w2 = 1.0L - (x * x + y * y + z * z);
    long double w = w2 > 0 ? sqrtl(w2) : 0.0L; /* nibabel raises below -3 eps; we clamp */
    long double nq = w * w + x * x + y * y + z * z;
    long double R[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1};
    if (nq >= (long double)2.220446049250313e-16) {
        long double s = 2.0L / nq, X = x * s, Y = y * s, Z = z * s;
        long double wX = w * X, wY = w * Y, wZ = w * Z, xX = x * X, xY = x * Y, xZ = x * Z;
        long double yY = y * Y, yZ = y * Z, zZ = z * Z;
        long double M[9] = {1.0L - (yY + zZ), xY - wZ,           xZ + wY,
                            xY + wZ,          1.0L - (xX + zZ), yZ - wX,
                            xZ - wY,          yZ + wX,           1.0L - (xX + yY)};
        memcpy(R, M, sizeof R);
    }
    double zoom[3];
    fixed_zooms(h, zoom);
    /* qfac is pixdim[0]; anything but -1 counts as 1 (nibabel resets it). */
    if (h->pixdim[0] == -1.0) zoom[2] = -zoom[2];
    memset(A, 0, 16 * sizeof *A);
    for (int r = 0; r < 3; r++) {
        for (int c = 0; c < 3; c++) A[r * 4 + c] = (double)(R[r * 3 + c] * (long double)zoom[c]);
        A[r * 4 + 3] = h->qoffset[r];
    }
    A[15] = 1;
}

void md_nifti_base_affine(const MdNiftiHeader *h, double A[16])
{
    /* analyze.py get_base_affine: diag(-zx, zy, zz), centred on the volume;
     * axes beyond dim[0] count as size 1, zoom 1. */
    double zoom[3];
    fixed_zooms(h, zoom);
    memset(A, 0, 16 * sizeof *A);
    for (int i = 0; i < 3; i++) {
        int used = i < h->dim[0];
        double n = used ? (double)h->dim[i + 1] : 1.0;
        double zz = used ? zoom[i] : 1.0;
        if (i == 0) zz = -zz;
        A[i * 4 + i] = zz;
        A[i * 4 + 3] = -((n - 1) / 2.0) * zz;
    }
    A[15] = 1;
}

void md_nifti_header_affine(const MdNiftiHeader *h, double A[16], const char **source)
{
    if (valid_code(h->sform_code) != 0) {
        memset(A, 0, 16 * sizeof *A);
        memcpy(A, h->srow, 12 * sizeof *A);
        A[15] = 1;
        *source = "sform";
    } else if (valid_code(h->qform_code) != 0) {
        md_nifti_qform_affine(h, A);
        *source = "qform";
    } else {
        md_nifti_base_affine(h, A);
        *source = "pixdim";
    }
}

/* Rotation matrix (row-major, proper) -> unit quaternion with w >= 0. */
static void mat_to_quat(const double R[9], double q[4])
{
    double w, x, y, z, tr = R[0] + R[4] + R[8];
    if (tr > 0) {
        double s = sqrt(tr + 1.0) * 2;
        w = s / 4, x = (R[7] - R[5]) / s, y = (R[2] - R[6]) / s, z = (R[3] - R[1]) / s;
    } else if (R[0] > R[4] && R[0] > R[8]) {
        double s = sqrt(1.0 + R[0] - R[4] - R[8]) * 2;
        w = (R[7] - R[5]) / s, x = s / 4, y = (R[1] + R[3]) / s, z = (R[2] + R[6]) / s;
    } else if (R[4] > R[8]) {
        double s = sqrt(1.0 + R[4] - R[0] - R[8]) * 2;
        w = (R[2] - R[6]) / s, x = (R[1] + R[3]) / s, y = s / 4, z = (R[5] + R[7]) / s;
    } else {
        double s = sqrt(1.0 + R[8] - R[0] - R[4]) * 2;
        w = (R[3] - R[1]) / s, x = (R[2] + R[6]) / s, y = (R[5] + R[7]) / s, z = s / 4;
    }
    double n = sqrt(w * w + x * x + y * y + z * z);
    if (w < 0) n = -n; /* the header stores b, c, d only; readers take w >= 0 */
    q[0] = w / n, q[1] = x / n, q[2] = y / n, q[3] = z / n;
}

void md_nifti_header_set_geometry(MdNiftiHeader *h, const MdVolume *v)
{
    double A[16];
    md_geom_affine_ras(v, A);
    for (int i = 0; i < 12; i++) h->srow[i] = A[i];
    h->sform_code = 1;
    for (int i = 0; i < 3; i++) {
        h->pixdim[i + 1] = v->spacing[i];
        h->qoffset[i] = A[i * 4 + 3];
    }
    /* RAS direction: LPS with rows 0 and 1 negated. */
    double R[9];
    for (int r = 0; r < 3; r++)
        for (int c = 0; c < 3; c++) R[r * 3 + c] = (r < 2 ? -1 : 1) * v->direction[r * 3 + c];
    double worst = 0;
    for (int a = 0; a < 3; a++)
        for (int b = a + 1; b < 3; b++) {
            double d = R[a] * R[b] + R[3 + a] * R[3 + b] + R[6 + a] * R[6 + b];
            if (fabs(d) > worst) worst = fabs(d);
        }
    h->pixdim[0] = 1;
    h->qform_code = 0;
    memset(h->quatern, 0, sizeof h->quatern);
    /* A quaternion describes a rotation only: a sheared direction matrix
     * (dot products of columns beyond float32 noise) gets the sform alone. */
    if (worst > 1e-5) return;
    double det = R[0] * (R[4] * R[8] - R[5] * R[7]) - R[1] * (R[3] * R[8] - R[5] * R[6]) +
                 R[2] * (R[3] * R[7] - R[4] * R[6]);
    if (det < 0) { /* improper: qfac -1 flips the third axis, as nibabel's set_qform */
        h->pixdim[0] = -1;
        for (int r = 0; r < 3; r++) R[r * 3 + 2] = -R[r * 3 + 2];
    }
    double q[4];
    mat_to_quat(R, q);
    for (int i = 0; i < 3; i++) h->quatern[i] = q[i + 1];
    h->qform_code = 1;
}
