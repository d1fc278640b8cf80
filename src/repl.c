/* The interactive loop, behaving as lua 5.4's: "return <line>" tried first,
 * results printed with print, lines continued while the chunk ends in
 * "<eof>". Line editing, history (~/.medula_history) and tab completion come
 * from libedit's readline API when stdin is a terminal; otherwise (or when
 * built with -DMD_NO_LIBEDIT) lines are read with fgets. Completion of
 * globals, fields (a.b.c), Volume methods and fields is also exposed to Lua
 * as "vol.repl".complete for the specs. Running a chunk is main.c's job. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>

#ifndef MD_NO_LIBEDIT
#include <editline/readline.h>
#endif

#include "bind/lutil.h"
#include "host.h"
#include "repl.h"

#define PROMPT1 "medula> "
#define PROMPT2 ">> "
#define HISTORY_FILE ".medula_history"
#define HISTORY_MAX 1000
#define CHUNKNAME "=stdin"
#define INTERRUPTED (-2) /* load_line: Ctrl-C at the prompt */

/* ---- completion --------------------------------------------------------- */

/* Read-only fields served by the Volume's __index function (not in the
 * methods table). */
static const char *const volume_fields[] = {"shape", "dtype", "ndim", "spacing", "origin",
                                            "direction", "tstep", "meta", NULL};

static const char *const keywords[] = {"and", "break", "do", "else", "elseif", "end", "false",
                                       "for", "function", "goto", "if", "in", "local", "nil",
                                       "not", "or", "repeat", "return", "then", "true", "until",
                                       "while", NULL};

static int is_ident(const char *s, size_t n)
{
    if (n == 0 || (s[0] >= '0' && s[0] <= '9')) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!(c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
            return 0;
    }
    return 1;
}

static int is_volume(lua_State *L, int idx)
{
    return luaL_testudata(L, idx, MD_VOLUME_MT) != NULL;
}

/* Pushes the Volume methods table (vol.Volume), or nil. Stack: +1. */
static void push_volume_methods(lua_State *L)
{
    static const char *const mods[] = {"vol", "vol.core"};
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
    for (int i = 0; i < 2; i++) {
        if (lua_getfield(L, -1, mods[i]) == LUA_TTABLE) {
            if (lua_getfield(L, -1, "Volume") == LUA_TTABLE) {
                lua_replace(L, -3);
                lua_pop(L, 1);
                return;
            }
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    lua_pushnil(L);
}

static int getfield_protected(lua_State *L)
{
    lua_gettable(L, 1);
    return 1;
}

/* [obj, key] -> [obj[key]] without running code, except a Volume's own
 * __index (which has no side effects). Follows __index tables. */
static void index_quietly(lua_State *L)
{
    for (int depth = 0; depth < 8; depth++) {
        if (lua_type(L, -2) == LUA_TTABLE) {
            lua_pushvalue(L, -1);
            if (lua_rawget(L, -3) != LUA_TNIL) {
                lua_replace(L, -3);
                lua_pop(L, 1);
                return;
            }
            lua_pop(L, 1);
        } else if (is_volume(L, -2)) {
            lua_pushcfunction(L, getfield_protected);
            lua_insert(L, -3);
            if (lua_pcall(L, 2, 1, 0) != LUA_OK) {
                lua_pop(L, 1);
                lua_pushnil(L);
            }
            return;
        }
        if (!lua_getmetatable(L, -2)) break;
        lua_pushliteral(L, "__index");
        if (lua_rawget(L, -2) != LUA_TTABLE) {
            lua_pop(L, 2);
            break;
        }
        lua_remove(L, -2);
        lua_replace(L, -3);
    }
    lua_pop(L, 2);
    lua_pushnil(L);
}

/* Adds to the set at index set the identifier keys of the table at index
 * tab starting with prefix (functions only when methods is set). */
static void add_table_keys(lua_State *L, int set, int tab, const char *prefix, int methods)
{
    size_t plen = strlen(prefix);
    lua_pushnil(L);
    while (lua_next(L, tab)) {
        size_t n;
        if (lua_type(L, -2) == LUA_TSTRING && (!methods || lua_type(L, -1) == LUA_TFUNCTION)) {
            const char *k = lua_tolstring(L, -2, &n);
            if (is_ident(k, n) && strncmp(k, prefix, plen) == 0) {
                lua_pushvalue(L, -2);
                lua_pushboolean(L, 1);
                lua_rawset(L, set);
            }
        }
        lua_pop(L, 1);
    }
}

static void add_names(lua_State *L, int set, const char *const *names, const char *prefix)
{
    for (; *names; names++)
        if (strncmp(*names, prefix, strlen(prefix)) == 0) {
            lua_pushboolean(L, 1);
            lua_setfield(L, set, *names);
        }
}

/* Adds the keys of the value on top (popped) matching prefix to set. */
static void add_keys(lua_State *L, int set, const char *prefix, int methods)
{
    for (int depth = 0; depth < 8; depth++) {
        int obj = lua_gettop(L);
        if (lua_type(L, obj) == LUA_TTABLE) add_table_keys(L, set, obj, prefix, methods);
        if (is_volume(L, obj)) {
            push_volume_methods(L);
            if (lua_type(L, -1) == LUA_TTABLE) add_table_keys(L, set, lua_gettop(L), prefix, methods);
            lua_pop(L, 1);
            if (!methods) add_names(L, set, volume_fields, prefix);
            break;
        }
        if (!lua_getmetatable(L, obj)) break;
        lua_pushliteral(L, "__index");
        if (lua_rawget(L, -2) != LUA_TTABLE) break;
        lua_replace(L, obj);
        lua_settop(L, obj);
    }
    lua_settop(L, set);
}

static int cmp_strings(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* complete(text): pushes the sorted list of completions of text, each the
 * whole text with its last word completed: "vol.re" -> {"vol.read"}. */
static int l_complete(lua_State *L)
{
    size_t len;
    const char *text = luaL_checklstring(L, 1, &len);
    const char *dot = strrchr(text, '.'), *colon = strrchr(text, ':');
    const char *sep = dot > colon ? dot : colon;
    size_t head = sep ? (size_t)(sep - text) + 1 : 0;
    lua_settop(L, 1);
    lua_newtable(L); /* 2: set of names */
    if (sep == NULL) {
        lua_pushglobaltable(L);
        add_keys(L, 2, text, 0);
        add_names(L, 2, keywords, text);
    } else if (memchr(text, ':', head - 1) == NULL) { /* ':' may only be the last separator */
        lua_pushglobaltable(L);
        for (size_t i = 0; i < head - 1 && !lua_isnil(L, -1);) {
            size_t j = i;
            while (j < head - 1 && text[j] != '.') j++;
            if (!is_ident(text + i, j - i)) {
                lua_pop(L, 1);
                lua_pushnil(L);
                break;
            }
            lua_pushlstring(L, text + i, j - i);
            index_quietly(L);
            i = j + 1;
        }
        add_keys(L, 2, sep + 1, *sep == ':');
    }
    lua_Integer n = 0;
    for (lua_pushnil(L); lua_next(L, 2); lua_pop(L, 1)) n++;
    const char **names = lua_newuserdatauv(L, sizeof *names * (size_t)(n + 1), 0); /* 3 */
    n = 0;
    for (lua_pushnil(L); lua_next(L, 2); lua_pop(L, 1)) names[n++] = lua_tostring(L, -2);
    qsort(names, (size_t)n, sizeof *names, cmp_strings);
    lua_createtable(L, (int)n, 0);
    for (lua_Integer i = 0; i < n; i++) {
        lua_pushlstring(L, text, head);
        lua_pushstring(L, names[i]);
        lua_concat(L, 2);
        lua_rawseti(L, -2, i + 1);
    }
    return 1;
}

int md_repl_open(lua_State *L)
{
    static const luaL_Reg f[] = {{"complete", l_complete}, {NULL, NULL}};
    luaL_newlib(L, f);
    return 1;
}

/* ---- line input ---------------------------------------------------------- */

static lua_State *repl_L; /* for the completion callback */
static int use_editline;

#ifndef MD_NO_LIBEDIT
static char history_path[4096];
static char **matches;     /* the current completions (malloc'd strings) */
static size_t match_next;  /* next one the generator hands out */

static void free_matches(void)
{
    if (matches) {
        for (size_t i = 0; matches[i]; i++) free(matches[i]);
        free(matches);
    }
    matches = NULL;
}

/* Computes the completions of text in the Lua state (never raising). */
static void compute_matches(const char *text)
{
    lua_State *L = repl_L;
    int top = lua_gettop(L);
    free_matches();
    lua_pushcfunction(L, l_complete);
    lua_pushstring(L, text);
    if (lua_pcall(L, 1, 1, 0) == LUA_OK) {
        size_t n = (size_t)lua_rawlen(L, -1);
        matches = calloc(n + 1, sizeof *matches);
        for (size_t i = 0; matches && i < n; i++) {
            lua_rawgeti(L, -1, (lua_Integer)i + 1);
            matches[i] = strdup(lua_tostring(L, -1));
            lua_pop(L, 1);
            if (matches[i] == NULL) break;
        }
    }
    lua_settop(L, top);
}

static char *generator(const char *text, int state)
{
    if (state == 0) {
        compute_matches(text);
        match_next = 0;
    }
    if (matches == NULL || matches[match_next] == NULL) return NULL;
    return strdup(matches[match_next++]);
}

static char **attempt_completion(const char *text, int start, int end)
{
    (void)start;
    (void)end;
    rl_attempted_completion_over = 1; /* no file name completion as a fallback */
    return rl_completion_matches(text, generator);
}

static void set_history_path(void)
{
    const char *home = getenv("HOME");
    history_path[0] = '\0';
    if (home && home[0]) snprintf(history_path, sizeof history_path, "%s/%s", home, HISTORY_FILE);
}

static void editline_init(void)
{
    static char breaks[] = " \t\n\"\\'`@$><=;|&{(+-*/%^~#,[])";
    rl_readline_name = "medula";
    rl_basic_word_break_characters = breaks;
    rl_completer_word_break_characters = breaks;
    rl_attempted_completion_function = attempt_completion;
    rl_completion_append_character = '\0';
    using_history();
    stifle_history(HISTORY_MAX);
    if (history_path[0]) read_history(history_path); /* a missing file is fine */
}
#endif

/* Ctrl-C at the prompt drops the line being typed and gives a new prompt
 * (as Python's REPL does) instead of ending the session. */
static volatile sig_atomic_t prompt_interrupted;

static void on_prompt_sigint(int sig)
{
    (void)sig;
    prompt_interrupted = 1;
}

static void catch_prompt_sigint(int on)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on ? on_prompt_sigint : SIG_IGN; /* the call's handler comes next */
    sa.sa_flags = 0; /* no SA_RESTART: the read returns, the line is dropped */
    sigaction(SIGINT, &sa, NULL);
}

static char *read_line_raw(const char *prompt)
{
#ifndef MD_NO_LIBEDIT
    if (use_editline) {
        fflush(stdout);
        return readline(prompt);
    }
#endif
    fputs(prompt, stdout);
    fflush(stdout);
    size_t cap = 256, len = 0;
    char *line = malloc(cap);
    while (line && fgets(line + len, (int)(cap - len), stdin)) {
        len += strlen(line + len);
        if (len > 0 && line[len - 1] == '\n') {
            line[len - 1] = '\0';
            return line;
        }
        if (len + 1 == cap) {
            char *bigger = realloc(line, cap *= 2);
            if (bigger == NULL) break;
            line = bigger;
        }
    }
    if (line && len > 0 && !prompt_interrupted) return line; /* a last line without newline */
    free(line);
    if (prompt_interrupted && errno == EINTR) clearerr(stdin);
    return NULL;
}

/* A line without its newline (malloc'd), or NULL at end of input; sets
 * prompt_interrupted when Ctrl-C dropped the line. */
static char *read_line(const char *prompt)
{
    prompt_interrupted = 0;
    catch_prompt_sigint(1);
    char *line = read_line_raw(prompt);
    catch_prompt_sigint(0);
    if (prompt_interrupted) {
        free(line);
        fputs("\n", stdout);
        return NULL;
    }
    return line;
}

static void save_line(const char *line)
{
#ifndef MD_NO_LIBEDIT
    if (use_editline && line[0]) {
        add_history(line);
        if (history_path[0]) write_history(history_path); /* failures are not worth a message */
    }
#else
    (void)line;
#endif
}

/* ---- the loop ------------------------------------------------------------ */

/* Pushes the prompt: _PROMPT / _PROMPT2 when set, as lua does. Stack: +1. */
static const char *push_prompt(lua_State *L, int first)
{
    if (lua_getglobal(L, first ? "_PROMPT" : "_PROMPT2") == LUA_TNIL) {
        lua_pop(L, 1);
        return lua_pushstring(L, first ? PROMPT1 : PROMPT2);
    }
    const char *p = luaL_tolstring(L, -1, NULL);
    lua_remove(L, -2);
    return p;
}

/* Reads a line and pushes it (a first line "=x" becomes "return x").
 * Returns 0 at end of input, pushing nothing. */
static int push_line(lua_State *L, int first)
{
    char *line = read_line(push_prompt(L, first));
    lua_pop(L, 1);
    if (line == NULL) return 0;
    if (first && line[0] == '=')
        lua_pushfstring(L, "return %s", line + 1);
    else
        lua_pushstring(L, line);
    free(line);
    return 1;
}

/* [line] -> [line, chunk] when "return <line>" compiles, else [line]. */
static int add_return(lua_State *L)
{
    const char *line = lua_tostring(L, -1);
    const char *retline = lua_pushfstring(L, "return %s;", line);
    int status = luaL_loadbuffer(L, retline, strlen(retline), CHUNKNAME);
    if (status == LUA_OK) {
        lua_remove(L, -2);
        save_line(line);
    } else {
        lua_pop(L, 2);
    }
    return status;
}

/* A syntax error at end of input means the chunk goes on (pops the message). */
static int incomplete(lua_State *L, int status)
{
    size_t len;
    const char *msg;
    if (status != LUA_ERRSYNTAX) return 0;
    msg = lua_tolstring(L, -1, &len);
    if (len < 5 || strcmp(msg + len - 5, "<eof>") != 0) return 0;
    lua_pop(L, 1);
    return 1;
}

/* [line] -> [line, chunk or message]: adds lines while incomplete. */
static int multiline(lua_State *L, int base)
{
    for (;;) {
        size_t len;
        const char *chunk = lua_tolstring(L, base + 1, &len);
        int status = luaL_loadbuffer(L, chunk, len, CHUNKNAME);
        if (incomplete(L, status)) {
            if (push_line(L, 0)) {
                lua_pushliteral(L, "\n");
                lua_insert(L, -2);
                lua_concat(L, 3);
                continue;
            }
            if (prompt_interrupted) return INTERRUPTED;
            /* input ended inside the chunk: load it again for the message */
            status = luaL_loadbuffer(L, chunk, len, CHUNKNAME);
        }
        save_line(chunk);
        return status;
    }
}

/* Reads one statement or expression and leaves its compiled chunk (or an
 * error message) just above base. Returns -1 at end of input, INTERRUPTED
 * (nothing left above base) when Ctrl-C dropped the input. */
static int load_line(lua_State *L, int base)
{
    lua_settop(L, base);
    if (!push_line(L, 1)) return prompt_interrupted ? INTERRUPTED : -1;
    int status = add_return(L);
    if (status != LUA_OK) status = multiline(L, base);
    if (status == INTERRUPTED) {
        lua_settop(L, base);
        return status;
    }
    lua_remove(L, base + 1);
    return status;
}

/* Replaces each table above base by its text from vol.pretty (shape,
 * stats and other result tables read as values, not addresses). A failing
 * pretty leaves the value for print as it is. */
static void format_tables(lua_State *L, int base)
{
    int top = lua_gettop(L);
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
    if (lua_getfield(L, -1, "vol") != LUA_TTABLE || lua_getfield(L, -1, "pretty") != LUA_TFUNCTION) {
        lua_settop(L, top);
        return;
    }
    int pretty = lua_gettop(L);
    for (int i = base + 1; i <= top; i++) {
        if (lua_type(L, i) != LUA_TTABLE) continue;
        lua_pushvalue(L, pretty);
        lua_pushvalue(L, i);
        if (lua_pcall(L, 1, 1, 0) == LUA_OK && lua_type(L, -1) == LUA_TSTRING)
            lua_replace(L, i);
        else
            lua_pop(L, 1);
    }
    lua_settop(L, top);
}

/* Prints the values above base with the global print. */
static void print_results(lua_State *L, int base)
{
    int n = lua_gettop(L) - base;
    if (n <= 0) return;
    luaL_checkstack(L, LUA_MINSTACK, "too many results to print");
    format_tables(L, base);
    lua_getglobal(L, "print");
    lua_insert(L, base + 1);
    if (lua_pcall(L, n, 0, 0) != LUA_OK) {
        fprintf(stderr, "error calling 'print' (%s)\n", lua_tostring(L, -1));
        fflush(stderr);
    }
}

void md_repl_run(lua_State *L)
{
    int base = lua_gettop(L);
    int status;
    repl_L = L;
    use_editline = 0;
#ifndef MD_NO_LIBEDIT
    if (isatty(STDIN_FILENO)) {
        use_editline = 1;
        set_history_path();
        editline_init();
    }
#endif
    if (isatty(STDIN_FILENO)) printf("Type help() for the vol API, Ctrl-D to quit.\n");
    md_host_set_interactive(1);
    while ((status = load_line(L, base)) != -1) {
        if (status == INTERRUPTED) continue;
        if (status == LUA_OK) status = md_host_docall(L, 0, LUA_MULTRET);
        if (status == LUA_OK) {
            print_results(L, base);
        } else {
            const char *msg = lua_tostring(L, -1);
            fprintf(stderr, "%s\n", msg ? msg : "(error object is not a string)");
            fflush(stderr);
        }
        fflush(stdout);
    }
    md_host_set_interactive(0);
    lua_settop(L, base);
    fputs("\n", stdout);
    fflush(stdout);
#ifndef MD_NO_LIBEDIT
    free_matches();
#endif
}
