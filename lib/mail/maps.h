/*
 * maps - a list of lookup tables searched in order
 *
 * The value of alias_maps, virtual_alias_maps, transport_maps and their
 * kin: "type:name" table specs separated by commas and/or whitespace,
 * where braces group, so "inline:{a=b, c=d}, static:x" is two tables.
 * A lookup asks each table in turn and the first that finds the key
 * wins. A table that fails stops the search: a later table's answer
 * could be wrong where the failed one would have answered, so the error
 * is returned instead, naming the table. An empty list is valid and
 * finds nothing.
 */
#ifndef POSTERN_MAPS_H
#define POSTERN_MAPS_H

#include <stdbool.h>
#include <stddef.h>

#include "util/dict.h"

struct sbuf;
struct maps;

/*
 * Splits a list into its specs, separated by commas and whitespace
 * outside braces: 0 with a malloc'ed array of *count_r malloc'ed strings
 * in *specs_r (free with maps_split_free(); NULL when empty), or -1 with
 * a reason quoting the list when braces do not balance.
 */
int maps_split(const char *list, char ***specs_r, size_t *count_r,
    struct sbuf *why);
/* Frees what maps_split() returned and sets *specs to NULL. */
void maps_split_free(char ***specs, size_t count);

/*
 * Opens every table of the list with the DICT_FLAG_* flags; NULL with a
 * reason (naming the table that failed to open).
 */
struct maps *maps_open(const char *list, int flags, struct sbuf *why);
/*
 * Looks key up in each table in order. DICT_FOUND with the value in
 * value_r (replaced) from the first table that has it; DICT_NOTFOUND
 * when none has; DICT_ERROR as soon as a table fails, with a reason
 * naming that table, and no later table asked.
 */
enum dict_status maps_find(struct maps *m, const char *key,
    struct sbuf *value_r, struct sbuf *why);
/* Closes every table, frees *m and sets it to NULL; accepts NULL. */
void maps_free(struct maps **m);
/* True when a table's file changed since open (dict_changed()); NULL: no. */
bool maps_changed(const struct maps *m);

#endif
