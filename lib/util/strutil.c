/*
 * strutil - small string helpers for configuration and table text
 *
 * Errors: str_to_long() returns -1; nothing here logs.
 * Trust: input may be hostile; every function stops at the NUL.
 */
#include "util/strutil.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

char *
str_trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		end--;
	*end = '\0';
	return s;
}

char *
str_lower(char *s)
{
	for (char *p = s; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return s;
}

char *
str_token(char **cursor, const char *delims)
{
	char *start = *cursor + strspn(*cursor, delims);
	char *end;

	if (*start == '\0') {
		*cursor = start;
		return NULL;
	}
	end = start + strcspn(start, delims);
	if (*end != '\0')
		*end++ = '\0';
	*cursor = end;
	return start;
}

int
str_to_long(const char *s, long *value_r)
{
	char *end;
	long v;

	if (*s == '\0' || isspace((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	*value_r = v;
	return 0;
}

bool
str_has_ctl(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return true;
	return false;
}

bool
str_starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}
