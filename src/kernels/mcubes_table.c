/* The marching-cubes case tables, derived at first use from the cube's
 * geometry rather than typed in: for each of the 256 corner cases the
 * crossing points on each face are paired into oriented segments (with a
 * rule for ambiguous faces), the segments are chained into loops, and each
 * loop is cut into a fan of triangles. */
#include "mcubes_table.h"

#include <pthread.h>

/* Edge e joins corners edge_corner[e][0] < edge_corner[e][1]; edges 0-3 run
 * along x, 4-7 along y, 8-11 along z. */
const int md_mc_edge_corner[12][2] = {{0, 1}, {2, 3}, {4, 5}, {6, 7}, {0, 2}, {1, 3},
                                      {4, 6}, {5, 7}, {0, 4}, {1, 5}, {2, 6}, {3, 7}};

static MdMcTable table;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static int edge_of(int a, int b)
{
    for (int e = 0; e < 12; e++)
        if ((md_mc_edge_corner[e][0] == a && md_mc_edge_corner[e][1] == b) ||
            (md_mc_edge_corner[e][0] == b && md_mc_edge_corner[e][1] == a))
            return e;
    return -1;
}

static void corner_pos(int c, double p[3])
{
    p[0] = c & 1;
    p[1] = c >> 1 & 1;
    p[2] = c >> 2 & 1;
}

static void edge_mid(int e, double p[3])
{
    double a[3], b[3];
    corner_pos(md_mc_edge_corner[e][0], a);
    corner_pos(md_mc_edge_corner[e][1], b);
    for (int i = 0; i < 3; i++) p[i] = 0.5 * (a[i] + b[i]);
}

/* Adds the segment between edges e1 and e2 of a face with outward normal n,
 * directed so that the inside corner `in` lies on its left seen from
 * outside the cube: next[from] = to. */
static void add_segment(int *next, int e1, int e2, const double n[3], int in)
{
    double p1[3], p2[3], c[3], d[3], left[3];
    edge_mid(e1, p1);
    edge_mid(e2, p2);
    corner_pos(in, c);
    for (int i = 0; i < 3; i++) d[i] = p2[i] - p1[i];
    left[0] = n[1] * d[2] - n[2] * d[1];
    left[1] = n[2] * d[0] - n[0] * d[2];
    left[2] = n[0] * d[1] - n[1] * d[0];
    double s = 0;
    for (int i = 0; i < 3; i++) s += left[i] * (c[i] - p1[i]);
    if (s > 0)
        next[e1] = e2;
    else
        next[e2] = e1;
}

/* The triangles of case c; separate_inside says how ambiguous faces pair. */
static void build_case(int c, int separate_inside, MdMcCase *out)
{
    int next[12];
    for (int e = 0; e < 12; e++) next[e] = -1;
    for (int axis = 0; axis < 3; axis++) {
        int u = axis == 0 ? 1 : 0, v = axis == 2 ? 1 : 2;
        for (int side = 0; side < 2; side++) {
            double n[3] = {0, 0, 0};
            n[axis] = side ? 1 : -1;
            int q[4]; /* the face's corners in cyclic order */
            q[0] = side << axis;
            q[1] = q[0] | 1 << u;
            q[2] = q[0] | 1 << u | 1 << v;
            q[3] = q[0] | 1 << v;
            int in[4], ncross = 0;
            for (int k = 0; k < 4; k++) in[k] = c >> q[k] & 1;
            for (int k = 0; k < 4; k++) ncross += in[k] != in[(k + 1) % 4];
            if (ncross == 2) {
                int es[2], m = 0, inside = -1;
                for (int k = 0; k < 4; k++) {
                    if (in[k] != in[(k + 1) % 4]) es[m++] = edge_of(q[k], q[(k + 1) % 4]);
                    if (in[k]) inside = q[k];
                }
                add_segment(next, es[0], es[1], n, inside);
            } else if (ncross == 4) {
                /* each separated corner k is cut off by the segment joining
                 * its two edges; the inside lies beyond it or around it */
                for (int k = 0; k < 4; k++) {
                    if (in[k] != separate_inside) continue;
                    int e1 = edge_of(q[(k + 3) % 4], q[k]), e2 = edge_of(q[k], q[(k + 1) % 4]);
                    int inside = in[k] ? q[k] : q[(k + 1) % 4];
                    add_segment(next, e1, e2, n, inside);
                }
            }
        }
    }
    out->ntri = 0;
    int seen[12] = {0};
    for (int e0 = 0; e0 < 12; e0++) {
        if (next[e0] < 0 || seen[e0]) continue;
        int loop[12], k = 0;
        for (int e = e0; !seen[e]; e = next[e]) {
            seen[e] = 1;
            loop[k++] = e;
        }
        /* the loop runs with the inside on its left: its right-hand normal
         * points into the object, so the fan is emitted reversed */
        for (int i = 1; i + 1 < k; i++) {
            unsigned char *t = out->tri[out->ntri++];
            t[0] = (unsigned char)loop[0];
            t[1] = (unsigned char)loop[i + 1];
            t[2] = (unsigned char)loop[i];
        }
    }
}

static void build_all(void)
{
    for (int c = 0; c < 256; c++) build_case(c, 1, &table.cases[c]);
}

const MdMcTable *md_mc_table(void)
{
    pthread_once(&once, build_all);
    return &table;
}
