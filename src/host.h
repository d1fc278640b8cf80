/* What the host's files (main.c, repl.c, hostlib.c) share: the version,
 * running a chunk under the traceback handler and the SIGINT hook, and the
 * preloaded host modules. Nothing here is visible to the binding. */
#ifndef MD_HOST_H
#define MD_HOST_H

#include <stddef.h>
#include <stdint.h>

#include <lua.h>

#define MD_VERSION "0.1.0"

/* Calls the function below narg arguments on the stack, like lua_pcall,
 * with a traceback message handler and Ctrl-C turned into a Lua error (and
 * the kernels' cancel flag). Returns the lua_pcall status. */
int md_host_docall(lua_State *L, int narg, int nres);

/* Interactive mode (the REPL): Ctrl-C during a call interrupts that call
 * every time, instead of lua's "a second Ctrl-C ends the program". */
void md_host_set_interactive(int on);

/* The progress bar on stderr (drawn only when it is a terminal): draws
 * label's bar at done of total (done == total ends its line). */
void md_host_bar(const char *label, uint64_t done, uint64_t total);
/* Ends the line of a bar left open (an interrupted call). */
void md_host_bar_end(void);
/* Makes md_host_bar the sink of the kernels' progress reports. */
void md_host_bar_install(void);

/* Writes "medula X.Y.Z (Lua ...)" on stdout. */
void md_host_print_version(void);

/* Adds the preloaded modules (vol.core, vol.docstore, vol.term, vol.repl)
 * and prepends the bundled Lua folder to package.path. Stack: unchanged. */
void md_host_openlibs(lua_State *L);

/* Writes into out the bundled folder sub ("lua" or "scripts"): the first of
 * <bindir>/../share/medula/<sub> and <bindir>/../<sub> that exists, where
 * bindir is the folder of the running binary (symlinks resolved). Returns 0
 * when neither exists. */
int md_host_bundle_dir(const char *sub, char *out, size_t n);

/* Prints the bundled scripts with the first comment line of each. Returns
 * 0 when the scripts folder is missing. */
int md_host_list_scripts(void);

#endif
