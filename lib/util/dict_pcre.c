/* placeholder: dict_pcre is being written */
#include "util/dict_drivers.h"
#include "util/sbuf.h"
struct dict *dict_pcre_open(const char *type, const char *name, int flags, struct sbuf *why)
{ (void)type; (void)name; (void)flags; sbuf_set(why, "dict_pcre: not built yet"); return NULL; }
