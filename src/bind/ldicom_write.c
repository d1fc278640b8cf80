/* Binding of the DICOM series writer (io/dicom_write): v:write_dicom. */
#include <math.h>

#include "../io/dicom_write.h"
#include "lvolume.h"

void md_open_dicom_write(lua_State *L, int module);

/* opts[key]: one number for every slice, or a list of nz numbers; the
 * values go into a box left on the stack. Returns NULL when absent. */
static const double *per_slice(lua_State *L, const char *key, int64_t nz)
{
    int t = lua_getfield(L, 3, key);
    if (t == LUA_TNIL) {
        lua_pop(L, 1);
        return NULL;
    }
    double *d = lua_newuserdatauv(L, (size_t)nz * sizeof *d, 0);
    if (t == LUA_TNUMBER) {
        double x = lua_tonumber(L, -2);
        for (int64_t k = 0; k < nz; k++) d[k] = x;
    } else if (t == LUA_TTABLE && (int64_t)lua_rawlen(L, -2) == nz) {
        for (int64_t k = 0; k < nz; k++) {
            lua_rawgeti(L, -2, (lua_Integer)k + 1);
            int ok;
            d[k] = lua_tonumberx(L, -1, &ok);
            if (!ok) luaL_argerror(L, 3, lua_pushfstring(L, "%s[%d] must be a number", key, (int)k + 1));
            lua_pop(L, 1);
        }
    } else {
        luaL_argerror(L, 3, lua_pushfstring(L, "%s must be a number or a list of %d numbers (one per slice)", key,
                                            (int)nz));
    }
    lua_remove(L, -2); /* keep the box, drop the option */
    return d;
}

static int l_write_dicom(lua_State *L)
{
    static const char *const keys[] = {"patient_id", "patient_name", "description", "seed", "series_number",
                                       "slope", "intercept", "random_names", "shuffle_instances", NULL};
    MdVolume *v = md_lua_checkvolume(L, 1);
    const char *folder = luaL_checkstring(L, 2);
    md_lua_checkopts(L, 3, keys);
    if (lua_isnoneornil(L, 3)) {
        lua_settop(L, 2);
        lua_newtable(L);
    }
    luaL_checktype(L, 3, LUA_TTABLE);
    MdDicomWriteOpts o = {0};
    o.patient_id = md_lua_optstrfield(L, 3, "patient_id", NULL);
    o.patient_name = md_lua_optstrfield(L, 3, "patient_name", NULL);
    o.description = md_lua_optstrfield(L, 3, "description", NULL);
    double seed = md_lua_optnumfield(L, 3, "seed", 0);
    luaL_argcheck(L, seed >= 0 && seed == floor(seed) && seed < 9007199254740992.0, 3, "seed must be an integer >= 0");
    o.seed = (uint64_t)seed;
    double sn = md_lua_optnumfield(L, 3, "series_number", 1);
    luaL_argcheck(L, sn >= 1 && sn == floor(sn) && sn < 1e9, 3, "series_number must be a positive integer");
    o.series_number = (int)sn;
    o.random_names = md_lua_optboolfield(L, 3, "random_names", 0);
    o.shuffle_instances = md_lua_optboolfield(L, 3, "shuffle_instances", 0);
    o.slope = per_slice(L, "slope", v->dim[2]);
    o.intercept = per_slice(L, "intercept", v->dim[2]);
    int count = 0;
    MdError err;
    if (md_dicom_write_series(v, folder, &o, &count, &err) != MD_OK) return md_lua_raise(L, &err);
    lua_pushinteger(L, count);
    return 1;
}

static const MdLuaReg methods[] = {
    {"write_dicom", l_write_dicom,
     "v:write_dicom(folder [, {seed=0, slope=1, intercept=-1024, patient_id=, patient_name=,\n"
     "              description=, series_number=1, random_names=false,\n"
     "              shuffle_instances=false}]) -> count\n"
     "Writes v (3-D, or 2-D as one slice) as a DICOM CT series into folder\n"
     "(created when missing): one Part 10 file per slice, explicit VR little\n"
     "endian, signed 16-bit stored values, RescaleSlope/RescaleIntercept per\n"
     "slice (a number, or a list with one per slice), ImagePositionPatient,\n"
     "ImageOrientationPatient and PixelSpacing from v's LPS geometry. Every\n"
     "voxel must store exactly: (v - intercept) / slope an integer in int16's\n"
     "range (float volumes are rounded); otherwise an error names the slice.\n"
     "UIDs, random file names (random_names) and shuffled InstanceNumbers\n"
     "(shuffle_instances) derive from seed, so a call writes the same bytes\n"
     "every time. Files are IM00001.dcm... in slice order unless random_names.\n"
     "pydicom and dcm2niix read the series back to the same voxels and geometry.\n"
     "Example:\n"
     "  ct:write_dicom(\"out/series1\", {intercept=-1024, shuffle_instances=true, seed=3})"},
    {NULL, NULL, NULL}};

void md_open_dicom_write(lua_State *L, int module)
{
    md_push_methods(L, module);
    md_lua_register(L, methods);
    lua_pop(L, 1);
}
