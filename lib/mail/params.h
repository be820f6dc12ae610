/*
 * params - the configuration parameters and their values
 *
 * Every parameter is declared once, in params.def. From that table come
 * the typed fields of struct params, the definitions (name, type, default,
 * description, field offset) that postern-conf and mkman walk, and the
 * value parsers. params_load() reads main.cf and fills a struct params:
 * each value is expanded ($name, see main_cf.h) and parsed by its type.
 *
 * Value syntax by type (the reason for a refusal names the parameter):
 *   STR   any text without control characters other than tab;
 *   INT   a decimal number from 0 to PARAM_INT_MAX;
 *   BOOL  yes or no (also true or false), in any case;
 *   TIME  a number with an optional unit s, m, h, d or w (a bare number
 *         takes the unit of the default), at most PARAM_TIME_MAX seconds;
 *   SIZE  bytes, with an optional suffix k, m or g (1024, 1024^2, 1024^3);
 *   LIST  items separated by commas or whitespace (kept as text);
 *   MAPS  lookup tables "type:name" separated likewise; a name may be a
 *         braced text such as inline:{ a=b, c=d }.
 */
#ifndef POSTERN_PARAMS_H
#define POSTERN_PARAMS_H

#include <stdbool.h>
#include <stddef.h>

struct sbuf;
struct main_cf;

enum param_type {
	PARAM_STR,
	PARAM_INT,
	PARAM_BOOL,
	PARAM_TIME,
	PARAM_SIZE,
	PARAM_LIST,
	PARAM_MAPS
};

/* The C type of each parameter type's field. */
#define PARAM_CTYPE_STR		char *
#define PARAM_CTYPE_INT		long
#define PARAM_CTYPE_BOOL	bool
#define PARAM_CTYPE_TIME	long
#define PARAM_CTYPE_SIZE	unsigned long long
#define PARAM_CTYPE_LIST	char *
#define PARAM_CTYPE_MAPS	char *

#define PARAM_INT_MAX	2147483647L	/* largest INT value */
#define PARAM_TIME_MAX	2147483647L	/* largest TIME value, seconds */

/*
 * The effective values: text types hold the expanded value (owned by the
 * struct), TIME holds seconds and SIZE bytes.
 */
struct params {
#define PARAM(type, name, def, desc) PARAM_CTYPE_##type name;
#include "mail/params.def"
#undef PARAM
};

/* PARAM_ID_name indexes params_table[]. */
enum param_id {
#define PARAM(type, name, def, desc) PARAM_ID_##name,
#include "mail/params.def"
#undef PARAM
	PARAM_COUNT
};

struct param_def {
	const char *name;
	enum param_type type;
	const char *def;	/* default; NULL when computed at run time */
	const char *desc;	/* one line for postern.conf(5) */
	size_t offset;		/* of the field in struct params */
};

/* One parsed value; text is borrowed from the parsed string. */
union param_value {
	const char *text;	/* STR, LIST, MAPS */
	long number;		/* INT, TIME (seconds) */
	bool flag;		/* BOOL */
	unsigned long long size;	/* SIZE */
};

/* Every parameter, sorted by name, indexed by enum param_id. */
extern const struct param_def params_table[PARAM_COUNT];

/* The definition named name, or NULL when there is none. */
const struct param_def *params_find(const char *name);
/* The same for the name name[0..len), which need not end in a NUL. */
const struct param_def *params_find_len(const char *name, size_t len);
/* True when s holds a control character other than tab (refused). */
bool params_has_ctl(const char *s);
/* The type's name as the manual pages write it ("time", "size", ...). */
const char *params_type_name(enum param_type type);
/*
 * Parses value as def's type into *value_r: 0, or -1 with a reason such
 * as "parameter NAME: bad time value \"x\": ..." in why.
 */
int params_parse_value(const struct param_def *def, const char *value,
    union param_value *value_r, struct sbuf *why);
/* Parses value as def's type and stores it in p; as params_parse_value(). */
int params_set(struct params *p, const struct param_def *def,
    const char *value, struct sbuf *why);
/*
 * The computed default of def (whose def->def is NULL): myhostname from
 * the system (gethostname, then the canonical name from getaddrinfo when
 * unqualified, then NAME.localdomain), mydomain from the myhostname given
 * (everything after its first dot, else "localdomain"). Appends it to out.
 */
void params_compute(const struct param_def *def, const char *myhostname,
    struct sbuf *out);

/* Returns a struct params with every field zero. */
struct params *params_new(void);
/* Frees *p and its text values, sets *p to NULL; accepts NULL. */
void params_free(struct params **p);
/*
 * Fills p with the effective value of every parameter in cf (set there,
 * or the default), expanded and parsed: 0, or -1 with a reason naming
 * the file and line when the value came from one.
 */
int params_fill(struct params *p, struct main_cf *cf, struct sbuf *why);
/*
 * Reads config_dir/main.cf (a missing file means all defaults) and returns
 * the effective parameters, or NULL with a reason ("FILE, line N: ...").
 * Unknown parameter names are appended to warnings, one per line, for the
 * caller to log.
 */
struct params *params_load(const char *config_dir, struct sbuf *warnings,
    struct sbuf *why);

#endif
