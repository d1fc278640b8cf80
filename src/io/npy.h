/* NumPy .npy: versions 1-3, both byte orders, C and Fortran order. A volume
 * is written as shape (nz, ny, nx) in C order (SimpleITK's GetArrayFromImage
 * layout); reading reverses the axes back so x is fastest. */
#ifndef MD_NPY_H
#define MD_NPY_H

#include "formats.h"

MdStatus md_npy_read(const char *path, const MdReadOpts *opts, MdVolume *out, MdMeta *meta,
                     MdError *err) MD_MUST_CHECK;
MdStatus md_npy_write(const char *path, const MdVolume *v, const MdWriteOpts *opts,
                      MdError *err) MD_MUST_CHECK;
/* Writes n volumes of equal dtype and shape as one (N, nz, ny, nx) array. */
MdStatus md_npy_write_stack(const char *path, const MdVolume *const *vols, size_t n,
                            MdError *err) MD_MUST_CHECK;

#endif
