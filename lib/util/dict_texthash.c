/* placeholder: dict_texthash is being written */
#include "util/dict_drivers.h"
#include "util/sbuf.h"
struct dict *dict_texthash_open(const char *type, const char *name, int flags, struct sbuf *why)
{ (void)type; (void)name; (void)flags; sbuf_set(why, "dict_texthash: not built yet"); return NULL; }
