/* placeholder: dict_db is being written */
#include "util/dict_drivers.h"
#include "util/sbuf.h"
struct dict *dict_db_open(const char *type, const char *name, int flags, struct sbuf *why)
{ (void)type; (void)name; (void)flags; sbuf_set(why, "dict_db: not built yet"); return NULL; }
int dict_db_build(const char *type, const char *name, int flags, dict_warn_fn warn, void *ctx, struct sbuf *why)
{ (void)type; (void)name; (void)flags; (void)warn; (void)ctx; sbuf_set(why, "dict_db: not built yet"); return -1; }
