/* NumPy .npy: versions 1-3, both byte orders, C and Fortran order. A volume
 * is written as shape (nz, ny, nx) in C order (SimpleITK's GetArrayFromImage
 * layout); reading reverses the axes back so x is fastest. */
#ifndef MD_NPY_H
#define MD_NPY_H

#include "atomicfile.h"
#include "ioopts.h"

MdStatus md_npy_read(const char *path, const MdReadOpts *opts, MdVolume *out, MdMeta *meta,
                     MdError *err) MD_MUST_CHECK;
MdStatus md_npy_write(const char *path, const MdVolume *v, const MdWriteOpts *opts,
                      MdError *err) MD_MUST_CHECK;
/* Writes n volumes of equal dtype and shape as one (N, nz, ny, nx) array. */
MdStatus md_npy_write_stack(const char *path, const MdVolume *const *vols, size_t n,
                            MdError *err) MD_MUST_CHECK;

/* Writes the .npy magic, version and header dict for an array of dtype and
 * numpy shape shape[0..n) (slowest axis first), C order, as np.save does;
 * *data_at (may be NULL) receives the offset of the first data byte. */
MdStatus md_npy_write_header(MdAtomicFile *f, MdDtype dtype, const int64_t *shape, int n,
                             size_t *data_at, MdError *err) MD_MUST_CHECK;

#endif
