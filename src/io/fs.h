/* Files and folders for scripts and the case runner: listing (sorted),
 * glob with '**', stat, mkdir -p, remove (optionally a whole tree), rename,
 * and path helpers that know compound extensions such as ".nii.gz".
 * Plain POSIX; no Lua. Paths are byte strings, sorted by byte order. */
#ifndef MD_FS_H
#define MD_FS_H

#include <stddef.h>
#include <stdint.h>

#include "../core/err.h"

/* A growable list of strings; md_strlist_free releases it and its items. */
typedef struct MdStrList {
    char **items;
    size_t n, cap;
} MdStrList;

void md_strlist_free(MdStrList *l);

typedef enum { MD_FS_NONE = 0, MD_FS_FILE, MD_FS_DIR, MD_FS_LINK, MD_FS_OTHER } MdFsKind;

typedef struct MdFsStat {
    MdFsKind kind; /* of the path itself when nofollow, else of its target */
    int64_t size;  /* bytes */
    double mtime;  /* seconds since the epoch, with the nanoseconds */
} MdFsStat;

/* Fills st; MD_EIO naming the reason when path cannot be examined
 * (st->kind is MD_FS_NONE when it does not exist). */
MdStatus md_fs_stat(const char *path, int nofollow, MdFsStat *st, MdError *err) MD_MUST_CHECK;

/* Appends the entries of dir (names relative to dir; with recursive, those
 * of every sub-folder too as "sub/name", symlinked folders not followed),
 * sorted by byte order, to out (new strings). */
MdStatus md_fs_list(const char *dir, int recursive, MdStrList *out, MdError *err) MD_MUST_CHECK;

/* Appends the paths matching pattern, sorted: each component is an
 * fnmatch pattern (a leading '.' matched only by a literal '.'), and a
 * component "**" matches zero or more folders (symlinked ones entered, as
 * Python's glob does, except one the walk is already inside). */
MdStatus md_fs_glob(const char *pattern, MdStrList *out, MdError *err) MD_MUST_CHECK;

/* Creates path and its missing parents (mode 0777 & ~umask); fine when it
 * already is a folder, MD_EIO when it or a parent is something else. */
MdStatus md_fs_mkdir(const char *path, MdError *err) MD_MUST_CHECK;

/* Removes a file, a symlink or an empty folder; with recursive, a folder
 * and everything under it (symlinks are removed, never followed). A path
 * that does not exist is not an error when missing_ok. */
MdStatus md_fs_remove(const char *path, int recursive, int missing_ok, MdError *err) MD_MUST_CHECK;

/* rename(2): atomic within one file system, replaces a file at to. */
MdStatus md_fs_rename(const char *from, const char *to, MdError *err) MD_MUST_CHECK;

/* Path helpers on strings (no file access). Each returns a new string, or
 * NULL when out of memory.
 *   join("a", "b/")        -> "a/b/"   (an absolute part restarts the path)
 *   basename("a/b.nii.gz") -> "b.nii.gz"      dirname("a/b") -> "a"
 *   extension("b.nii.gz")  -> ".nii.gz"       stem("a/b.nii.gz") -> "b" */
char *md_fs_join(const char *const *parts, size_t n);
char *md_fs_basename(const char *path);
char *md_fs_dirname(const char *path);
char *md_fs_extension(const char *path);
char *md_fs_stem(const char *path);

/* The absolute form of path (the folder need not exist: "." and ".."
 * are folded lexically after joining to the working folder). New string. */
char *md_fs_absolute(const char *path, MdError *err);

#endif
