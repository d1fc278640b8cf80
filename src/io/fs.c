/* Files and folders: listing, glob, stat, mkdir -p, remove, rename, and
 * path strings. Everything sorted by byte order so results never depend on
 * the order the file system returns entries in. */
#include "fs.h"

#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void md_strlist_free(MdStrList *l)
{
    for (size_t i = 0; i < l->n; i++) free(l->items[i]);
    free(l->items);
    memset(l, 0, sizeof *l);
}

/* takes s (freed on failure) */
static int strlist_push(MdStrList *l, char *s)
{
    if (!s) return -1;
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 16;
        char **p = realloc(l->items, cap * sizeof *p);
        if (!p) {
            free(s);
            return -1;
        }
        l->items = p;
        l->cap = cap;
    }
    l->items[l->n++] = s;
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *concat3(const char *a, const char *sep, const char *b)
{
    size_t na = strlen(a), ns = strlen(sep), nb = strlen(b);
    char *s = malloc(na + ns + nb + 1);
    if (!s) return NULL;
    memcpy(s, a, na);
    memcpy(s + na, sep, ns);
    memcpy(s + na + ns, b, nb + 1);
    return s;
}

MdStatus md_fs_stat(const char *path, int nofollow, MdFsStat *st, MdError *err)
{
    struct stat sb;
    memset(st, 0, sizeof *st);
    if ((nofollow ? lstat(path, &sb) : stat(path, &sb)) != 0) {
        int e = errno;
        return md_error(err, MD_EIO, "%s: %s", path, strerror(e));
    }
    st->kind = S_ISREG(sb.st_mode) ? MD_FS_FILE : S_ISDIR(sb.st_mode) ? MD_FS_DIR
             : S_ISLNK(sb.st_mode) ? MD_FS_LINK : MD_FS_OTHER;
    st->size = (int64_t)sb.st_size;
    st->mtime = (double)sb.st_mtim.tv_sec + 1e-9 * (double)sb.st_mtim.tv_nsec;
    return MD_OK;
}

/* Appends the names in dir (prefixed by prefix) sorted; recurses into real folders. */
static MdStatus list_into(const char *dir, const char *prefix, int recursive, MdStrList *out, MdError *err)
{
    DIR *d = opendir(dir);
    if (!d) {
        int e = errno;
        return md_error(err, MD_EIO, "%s: cannot list the folder (%s)", dir, strerror(e));
    }
    MdStrList names = {0};
    struct dirent *de;
    MdStatus st = MD_OK;
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) continue;
        if (strlist_push(&names, strdup(de->d_name)) != 0) {
            st = md_error(err, MD_ENOMEM, "out of memory listing %s", dir);
            break;
        }
    }
    closedir(d);
    if (st == MD_OK && names.n > 1) qsort(names.items, names.n, sizeof *names.items, cmp_str);
    for (size_t i = 0; st == MD_OK && i < names.n; i++) {
        char *rel = prefix[0] ? concat3(prefix, "/", names.items[i]) : strdup(names.items[i]);
        if (!rel || strlist_push(out, strdup(rel)) != 0) {
            free(rel);
            st = md_error(err, MD_ENOMEM, "out of memory listing %s", dir);
            break;
        }
        if (recursive) {
            char *full = concat3(dir, "/", names.items[i]);
            struct stat sb;
            if (!full) st = md_error(err, MD_ENOMEM, "out of memory listing %s", dir);
            else if (lstat(full, &sb) == 0 && S_ISDIR(sb.st_mode)) st = list_into(full, rel, 1, out, err);
            free(full);
        }
        free(rel);
    }
    md_strlist_free(&names);
    return st;
}

MdStatus md_fs_list(const char *dir, int recursive, MdStrList *out, MdError *err)
{
    return list_into(dir, "", recursive, out, err);
}

static int has_magic(const char *s)
{
    return strpbrk(s, "*?[\\") != NULL;
}

/* The folders a "**" walk is inside, to stop at a symlink loop. */
typedef struct Chain {
    dev_t dev;
    ino_t ino;
    const struct Chain *up;
} Chain;

static int in_chain(const Chain *c, const struct stat *sb)
{
    for (; c; c = c->up)
        if (c->dev == sb->st_dev && c->ino == sb->st_ino) return 1;
    return 0;
}

/* Matches the components comps[i..n) below base (the path so far, "" for
 * relative patterns). "**" matches zero or more folders, entering
 * symlinked ones as Python's glob does, but never one it is already in. */
static MdStatus glob_walk(const char *base, char **comps, size_t i, size_t n, const Chain *chain, MdStrList *out,
                          MdError *err)
{
    const char *dir = base[0] ? base : ".";
    if (i == n) {
        if (base[0] && access(base, F_OK) == 0 && strlist_push(out, strdup(base)) != 0)
            return md_error(err, MD_ENOMEM, "out of memory in glob");
        return MD_OK;
    }
    const char *pat = comps[i];
    int last = i + 1 == n;
    if (!has_magic(pat)) {
        char *next = base[0] ? concat3(strcmp(base, "/") == 0 ? "" : base, "/", pat) : strdup(pat);
        if (!next) return md_error(err, MD_ENOMEM, "out of memory in glob");
        struct stat sb;
        MdStatus st = MD_OK;
        if (lstat(next, &sb) == 0 && (last || stat(next, &sb) == 0)) st = glob_walk(next, comps, i + 1, n, NULL, out, err);
        free(next);
        return st;
    }
    int globstar = strcmp(pat, "**") == 0;
    if (globstar && !last) {
        MdStatus st = glob_walk(base, comps, i + 1, n, NULL, out, err); /* zero folders */
        if (st != MD_OK) return st;
    } else if (globstar && !chain && base[0]) {
        /* a final "**" matches the folder itself, written "dir/" as Python does */
        if (strlist_push(out, strcmp(base, "/") == 0 ? strdup("/") : concat3(base, "/", "")) != 0)
            return md_error(err, MD_ENOMEM, "out of memory in glob");
    }
    DIR *d = opendir(dir);
    if (!d) return MD_OK; /* not a folder, or unreadable: no match, as glob(3) */
    MdStrList names = {0};
    struct dirent *de;
    MdStatus st = MD_OK;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.') {
            if (globstar || pat[0] != '.') continue;
            if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) continue;
        }
        if (!globstar && fnmatch(pat, de->d_name, FNM_PERIOD) != 0) continue;
        if (strlist_push(&names, strdup(de->d_name)) != 0) {
            st = md_error(err, MD_ENOMEM, "out of memory in glob");
            break;
        }
    }
    closedir(d);
    if (st == MD_OK && names.n > 1) qsort(names.items, names.n, sizeof *names.items, cmp_str);
    for (size_t k = 0; st == MD_OK && k < names.n; k++) {
        char *next = base[0] ? concat3(strcmp(base, "/") == 0 ? "" : base, "/", names.items[k]) : strdup(names.items[k]);
        if (!next) {
            st = md_error(err, MD_ENOMEM, "out of memory in glob");
            break;
        }
        struct stat sb;
        int isdir = stat(next, &sb) == 0 && S_ISDIR(sb.st_mode);
        if (globstar) {
            struct stat here;
            Chain top;
            if (!chain && stat(dir, &here) == 0) top = (Chain){here.st_dev, here.st_ino, NULL}, chain = &top;
            Chain link = {sb.st_dev, sb.st_ino, chain};
            if (last && strlist_push(out, strdup(next)) != 0) st = md_error(err, MD_ENOMEM, "out of memory in glob");
            else if (isdir && !in_chain(chain, &sb)) st = glob_walk(next, comps, i, n, &link, out, err); /* one more folder */
        } else if (last) {
            if (strlist_push(out, strdup(next)) != 0) st = md_error(err, MD_ENOMEM, "out of memory in glob");
        } else if (stat(next, &sb) == 0 && S_ISDIR(sb.st_mode)) {
            st = glob_walk(next, comps, i + 1, n, NULL, out, err);
        }
        free(next);
    }
    md_strlist_free(&names);
    return st;
}

MdStatus md_fs_glob(const char *pattern, MdStrList *out, MdError *err)
{
    char *copy = strdup(pattern);
    char **comps = calloc(strlen(pattern) + 1, sizeof *comps);
    if (!copy || !comps) {
        free(copy);
        free(comps);
        return md_error(err, MD_ENOMEM, "out of memory in glob");
    }
    size_t n = 0;
    for (char *tok = strtok(copy, "/"); tok; tok = strtok(NULL, "/"))
        if (!(n > 0 && strcmp(tok, "**") == 0 && strcmp(comps[n - 1], "**") == 0)) comps[n++] = tok;
    size_t first = out->n;
    MdStatus st = n ? glob_walk(pattern[0] == '/' ? "/" : "", comps, 0, n, NULL, out, err) : MD_OK;
    if (st == MD_OK && out->n > first) {
        /* a pattern with two globstars may reach a path twice: sort, drop repeats */
        qsort(out->items + first, out->n - first, sizeof *out->items, cmp_str);
        size_t w = first;
        for (size_t r = first; r < out->n; r++) {
            if (w > first && strcmp(out->items[w - 1], out->items[r]) == 0) free(out->items[r]);
            else out->items[w++] = out->items[r];
        }
        out->n = w;
    }
    free(comps);
    free(copy);
    return st;
}

MdStatus md_fs_mkdir(const char *path, MdError *err)
{
    if (!path[0]) return md_error(err, MD_EINVAL, "empty folder name");
    char *p = strdup(path);
    if (!p) return md_error(err, MD_ENOMEM, "out of memory");
    MdStatus st = MD_OK;
    for (char *s = p + 1;; s++) {
        if (*s == '/' || *s == 0) {
            char c = *s;
            *s = 0;
            struct stat sb;
            if (mkdir(p, 0777) != 0 && errno != EEXIST) {
                int e = errno;
                st = md_error(err, MD_EIO, "%s: cannot create the folder %s (%s)", path, p, strerror(e));
            } else if (stat(p, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
                st = md_error(err, MD_EIO, "%s: cannot create the folder (%s exists and is not a folder)", path, p);
            }
            *s = c;
            if (st != MD_OK || c == 0) break;
        }
    }
    free(p);
    return st;
}

static MdStatus remove_tree(const char *path, MdError *err)
{
    struct stat sb;
    if (lstat(path, &sb) != 0) return md_error(err, MD_EIO, "%s: %s", path, strerror(errno));
    if (S_ISDIR(sb.st_mode)) {
        MdStrList names = {0};
        MdStatus st = list_into(path, "", 0, &names, err);
        for (size_t i = 0; st == MD_OK && i < names.n; i++) {
            char *full = concat3(path, "/", names.items[i]);
            st = full ? remove_tree(full, err) : md_error(err, MD_ENOMEM, "out of memory");
            free(full);
        }
        md_strlist_free(&names);
        if (st != MD_OK) return st;
        if (rmdir(path) != 0) return md_error(err, MD_EIO, "%s: cannot remove (%s)", path, strerror(errno));
        return MD_OK;
    }
    if (unlink(path) != 0) return md_error(err, MD_EIO, "%s: cannot remove (%s)", path, strerror(errno));
    return MD_OK;
}

MdStatus md_fs_remove(const char *path, int recursive, int missing_ok, MdError *err)
{
    struct stat sb;
    if (lstat(path, &sb) != 0) {
        int e = errno;
        if (e == ENOENT && missing_ok) return MD_OK;
        return md_error(err, MD_EIO, "%s: cannot remove (%s)", path, strerror(e));
    }
    if (S_ISDIR(sb.st_mode)) {
        if (recursive) return remove_tree(path, err);
        if (rmdir(path) != 0) {
            int e = errno;
            return md_error(err, MD_EIO, "%s: cannot remove the folder (%s)", path, strerror(e));
        }
        return MD_OK;
    }
    if (unlink(path) != 0) {
        int e = errno;
        return md_error(err, MD_EIO, "%s: cannot remove (%s)", path, strerror(e));
    }
    return MD_OK;
}

MdStatus md_fs_rename(const char *from, const char *to, MdError *err)
{
    if (rename(from, to) != 0) {
        int e = errno;
        return md_error(err, MD_EIO, "cannot rename %s to %s (%s)", from, to, strerror(e));
    }
    return MD_OK;
}

char *md_fs_join(const char *const *parts, size_t n)
{
    size_t total = 1;
    for (size_t i = 0; i < n; i++) total += strlen(parts[i]) + 1;
    char *s = malloc(total);
    if (!s) return NULL;
    size_t len = 0;
    s[0] = 0;
    for (size_t i = 0; i < n; i++) {
        const char *p = parts[i];
        if (p[0] == '/') len = 0; /* an absolute part restarts, as os.path.join */
        else if (len > 0 && s[len - 1] != '/' && p[0]) s[len++] = '/';
        size_t m = strlen(p);
        memcpy(s + len, p, m + 1);
        len += m;
    }
    s[len] = 0;
    return s;
}

/* The start and length of the last component, ignoring trailing slashes. */
static void last_component(const char *path, size_t *start, size_t *len)
{
    size_t end = strlen(path);
    while (end > 1 && path[end - 1] == '/') end--;
    size_t b = end;
    while (b > 0 && path[b - 1] != '/') b--;
    *start = b;
    *len = end - b;
}

char *md_fs_basename(const char *path)
{
    size_t b, n;
    last_component(path, &b, &n);
    if (n == 1 && path[b] == '/') return strdup("/");
    return strndup(path + b, n);
}

char *md_fs_dirname(const char *path)
{
    size_t b, n;
    last_component(path, &b, &n);
    if (b == 0) return strdup(path[0] == '/' ? "/" : ".");
    while (b > 1 && path[b - 1] == '/') b--;
    return strndup(path, b);
}

/* Second suffixes that make a compound extension with the one before them. */
static const char *const compressions[] = {".gz", ".bz2", ".xz", ".zst", NULL};

char *md_fs_extension(const char *path)
{
    char *base = md_fs_basename(path);
    if (!base) return NULL;
    const char *name = base;
    while (*name == '.') name++; /* ".bashrc" has no extension */
    const char *dot = strrchr(name, '.');
    char *ext = strdup(dot ? dot : "");
    if (dot && ext) {
        for (int i = 0; compressions[i]; i++) {
            if (strcmp(dot, compressions[i]) != 0) continue;
            const char *prev = dot;
            while (prev > name && prev[-1] != '.') prev--;
            if (prev > name + 1) { /* "a.nii.gz": ".nii" + ".gz" */
                free(ext);
                ext = strdup(prev - 1);
            }
            break;
        }
    }
    free(base);
    return ext;
}

char *md_fs_stem(const char *path)
{
    char *base = md_fs_basename(path), *ext = md_fs_extension(path);
    char *stem = NULL;
    if (base && ext) stem = strndup(base, strlen(base) - strlen(ext));
    free(base);
    free(ext);
    return stem;
}

char *md_fs_absolute(const char *path, MdError *err)
{
    char cwd[PATH_MAX];
    const char *parts[2] = {cwd, path};
    if (path[0] != '/' && !getcwd(cwd, sizeof cwd)) {
        md_error(err, MD_EIO, "cannot read the working folder (%s)", strerror(errno));
        return NULL;
    }
    char *joined = path[0] == '/' ? strdup(path) : md_fs_join(parts, 2);
    if (!joined) {
        md_error(err, MD_ENOMEM, "out of memory");
        return NULL;
    }
    /* fold "." and ".." components in place */
    char *out = joined;
    size_t w = 0;
    for (char *r = joined; *r;) {
        while (*r == '/') r++;
        char *e = r;
        while (*e && *e != '/') e++;
        size_t m = (size_t)(e - r);
        if (m == 0 || (m == 1 && r[0] == '.')) {
        } else if (m == 2 && r[0] == '.' && r[1] == '.') {
            while (w > 0 && out[w - 1] != '/') w--;
            if (w > 0) w--;
        } else {
            out[w++] = '/';
            memmove(out + w, r, m);
            w += m;
        }
        r = e;
    }
    if (w == 0) out[w++] = '/';
    out[w] = 0;
    return out;
}
