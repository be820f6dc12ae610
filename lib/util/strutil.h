/*
 * strutil - small string helpers for configuration and table text
 *
 * ASCII only: these work on configuration syntax, never on message text.
 */
#ifndef POSTERN_STRUTIL_H
#define POSTERN_STRUTIL_H

#include <stdbool.h>
#include <stddef.h>

/* Strips leading and trailing whitespace in place; returns the new start. */
char *str_trim(char *s);
/* Lower-cases ASCII letters in place; returns s. */
char *str_lower(char *s);
/*
 * Returns the next token of *cursor separated by any of delims, NUL-
 * terminating it in place and advancing *cursor; NULL when none is left.
 */
char *str_token(char **cursor, const char *delims);
/* Parses a whole decimal integer; 0 on success, -1 on junk or overflow. */
int str_to_long(const char *s, long *value_r);
/* True when s contains a byte below 0x20 or 0x7f. */
bool str_has_ctl(const char *s);
/* True when s starts with prefix. */
bool str_starts(const char *s, const char *prefix);

/* Separators of list-valued parameters: commas and whitespace. */
#define STR_LIST_DELIMS ", \t\r\n"

#endif
