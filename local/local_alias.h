/*
 * local_alias - alias_maps lookups that know who owns each table
 *
 * The tables of alias_maps are searched as resolve_lookup() searches
 * them without a domain ("user+ext" in every table, then "user"), but
 * table by table, so the answer comes with the owner of the table that
 * gave it: commands and files an alias names run as that owner (never
 * as root: see local_expand.h). The owner is that of the file the table
 * is read from (texthash: and pcre: the file itself, db:, btree: and
 * cdb: the compiled file); a table without a file (inline:, static:)
 * belongs to root, as main.cf does.
 */
#ifndef POSTERN_LOCAL_ALIAS_H
#define POSTERN_LOCAL_ALIAS_H

#include <sys/types.h>

#include "util/dict.h"

struct sbuf;
struct local_aliases;

/* Opens every table of list; NULL with a reason naming the table. */
struct local_aliases *local_aliases_open(const char *list, struct sbuf *why);
/* Closes the tables, frees *a and sets it to NULL; accepts NULL. */
void local_aliases_free(struct local_aliases **a);
/* True when a table's file changed since open (see dict_changed()). */
bool local_aliases_changed(const struct local_aliases *a);

/*
 * Looks up the lower-cased local part local, then user (when it differs:
 * local without its extension). DICT_FOUND with the value, the key that
 * matched in key_r and the table owner in *owner_r; DICT_NOTFOUND; or
 * DICT_ERROR with a reason naming the table (no later table asked).
 */
enum dict_status local_aliases_find(struct local_aliases *a,
    const char *local, const char *user, struct sbuf *value,
    struct sbuf *key_r, uid_t *owner_r, struct sbuf *why);

#endif
