/* placeholder: dict_cdb is being written */
#include "util/dict_drivers.h"
#include "util/sbuf.h"
struct dict *dict_cdb_open(const char *type, const char *name, int flags, struct sbuf *why)
{ (void)type; (void)name; (void)flags; sbuf_set(why, "dict_cdb: not built yet"); return NULL; }
int dict_cdb_build(const char *type, const char *name, int flags, dict_warn_fn warn, void *ctx, struct sbuf *why)
{ (void)type; (void)name; (void)flags; (void)warn; (void)ctx; sbuf_set(why, "dict_cdb: not built yet"); return -1; }
