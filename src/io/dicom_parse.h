/* DICOM Part 10 element walker: turns the bytes of one file into a flat,
 * file-ordered list of elements (sequences and items included, as a tree
 * through parent indices), in any of the uncompressed transfer syntaxes
 * (explicit/implicit VR little endian, explicit VR big endian, deflated).
 * It interprets no attribute beyond the transfer syntax and decodes no pixel:
 * dicom_pixels.c and dicom_series.c do that. Every length is checked against
 * the buffer; nothing here reads outside it. */
#ifndef MD_DICOM_PARSE_H
#define MD_DICOM_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "../core/err.h"

#define MD_DCM_UNDEF 0xFFFFFFFFu
#define MD_DCM_TAG(g, e) (((uint32_t)(g) << 16) | (uint32_t)(e))
#define MD_DCM_PIXEL_DATA MD_DCM_TAG(0x7FE0, 0x0010)
#define MD_DCM_ITEM MD_DCM_TAG(0xFFFE, 0xE000)

typedef struct MdDcmElem {
    uint32_t tag;
    char vr[3];     /* as written, or from the dictionary ("UN" when unknown) */
    uint8_t big;    /* value is big endian */
    uint32_t len;   /* value length, MD_DCM_UNDEF for undefined */
    size_t off;     /* offset of the value in MdDcm.data */
    int32_t parent; /* index of the enclosing item (or sequence, for items); -1 at top level */
    int32_t end;    /* index one past this element's last descendant */
} MdDcmElem;

typedef struct MdDcm {
    const uint8_t *data; /* borrowed from the caller, or == owned */
    size_t size;
    uint8_t *owned; /* new: the inflated dataset of a deflated file */
    int big, explicit_vr, deflated;
    int has_preamble; /* 128 bytes + "DICM" */
    int gzipped;      /* the file was gzip-wrapped: data is its inflated content */
    int complete;     /* 0: parsing reached the end of a prefix; read the whole file */
    char ts[68];      /* transfer syntax UID ("" when there is no meta group) */
    MdDcmElem *el;    /* new */
    size_t n, cap;
    int32_t pixel;    /* top-level Pixel Data element, -1 when absent */
    size_t file_size; /* bytes in the file (md_dcm_load*; 0 after md_dcm_parse alone) */
} MdDcm;

/* 1 when the first n bytes look like DICOM: "DICM" at 128, or a plausible
 * first element of group 0002 or 0008 without a preamble. */
int md_dcm_sniff(const uint8_t *p, size_t n);

/* Parses data[0..size) (borrowed: it must outlive d unless the dataset was
 * inflated). When prefix is nonzero the bytes are only the start of the file:
 * running out of bytes sets d->complete = 0 instead of failing, and the
 * caller parses the whole file again. Parsing stops at the top-level Pixel
 * Data element (elements after it are ignored). On failure d is freed. */
MdStatus md_dcm_parse(MdDcm *d, const uint8_t *data, size_t size, int prefix,
                      MdError *err) MD_MUST_CHECK;
void md_dcm_free(MdDcm *d);

/* Reads the file at path and parses it: only its first 16 KiB when
 * header_only (more when the header is longer), else all of it. A
 * gzip-wrapped file (a .dcm.gz) is inflated whole first. *buf is new:
 * free it after md_dcm_free(d). Messages do not name the file. */
MdStatus md_dcm_load(const char *path, int header_only, MdDcm *d, uint8_t **buf,
                     MdError *err) MD_MUST_CHECK;
/* The same into *buf of *cap bytes (grown with realloc; the caller frees it
 * once, after many files). */
MdStatus md_dcm_load_into(const char *path, int header_only, MdDcm *d, uint8_t **buf, size_t *cap,
                          MdError *err) MD_MUST_CHECK;

/* Index of the child of parent (-1: top level) with tag, or -1. */
int32_t md_dcm_find(const MdDcm *d, int32_t parent, uint32_t tag);
/* Index of item n (0-based) of sequence element seq, or -1. */
int32_t md_dcm_item(const MdDcm *d, int32_t seq, int n);
/* Number of items of sequence element seq. */
int md_dcm_nitems(const MdDcm *d, int32_t seq);
/* Finds a path of nested tags below parent: seq tag, its first item, ... */
int32_t md_dcm_find_in_first_item(const MdDcm *d, int32_t parent, uint32_t seq, uint32_t tag);

/* The value of element i as text: trailing spaces/NULs trimmed, numbers of
 * binary VRs formatted, backslash-separated; "" when i < 0. Returns buf. */
const char *md_dcm_text(const MdDcm *d, int32_t i, char *buf, size_t cap);
/* Up to max numbers of element i (DS/IS strings or binary numeric VRs).
 * Returns how many were found (0 when absent, empty or unparsable). */
int md_dcm_numbers(const MdDcm *d, int32_t i, double *out, int max);
/* One number of the child of parent with tag, or def. */
double md_dcm_num(const MdDcm *d, int32_t parent, uint32_t tag, double def);
/* The text of the child of parent with tag into buf (cap bytes). */
const char *md_dcm_str(const MdDcm *d, int32_t parent, uint32_t tag, char *buf, size_t cap);

/* Keyword and VR of a tag from the built-in dictionary (NULL when unknown). */
const char *md_dcm_keyword(uint32_t tag, const char **vr);
/* The tag of a keyword, or 0. */
uint32_t md_dcm_tag_of(const char *keyword);
/* The dictionary entry i (for listing all known keywords): 0 past the end. */
uint32_t md_dcm_dict_tag(size_t i);

#endif
