/* Case tables for marching cubes, built once on first use (thread-safe). */
#ifndef MD_MCUBES_TABLE_H
#define MD_MCUBES_TABLE_H

#define MD_MC_MAXTRI 12

typedef struct MdMcCase {
    int ntri;
    unsigned char tri[MD_MC_MAXTRI][3]; /* edge numbers, outward winding */
} MdMcCase;

typedef struct MdMcTable {
    MdMcCase cases[256];
} MdMcTable;

extern const int md_mc_edge_corner[12][2];

/* The table (ambiguous faces keep the inside corners apart). */
const MdMcTable *md_mc_table(void);

#endif
