/*
 * main_cf - main.cf: parameter settings, $name expansion, in-place edits
 *
 * main.cf holds logical lines "name = value" (textfile.h: '#' comments,
 * indented continuation lines). Names are letters, digits and '_'; a name
 * set twice keeps its last value, as in Postfix. Values are kept as
 * written, with the line they came from, and expanded on use:
 *
 *   $name, ${name}, $(name)   the value of name (empty when undefined)
 *   ${name?text}              text when name's value is not empty
 *   ${name:text}              text when name's value is empty
 *   $$                        a literal '$'
 *
 * The value of a name is its main.cf setting, else the parameter's
 * default; text inside ${name?text} is expanded too. Loops ($a -> $b ->
 * $a), nesting deeper than MAIN_CF_DEPTH_MAX and expanded values longer
 * than MAIN_CF_VALUE_MAX are errors.
 */
#ifndef POSTERN_MAIN_CF_H
#define POSTERN_MAIN_CF_H

#include <stdbool.h>
#include <stddef.h>

struct sbuf;
struct main_cf;

#define MAIN_CF_DEPTH_MAX	64		/* nested expansions */
#define MAIN_CF_VALUE_MAX	(1024 * 1024)	/* bytes of an expanded value */
#define MAIN_CF_EXPAND_MAX	(16 * 1024 * 1024) /* bytes cached in all */

struct main_cf_entry {
	char *name;
	char *value;		/* as written, trimmed */
	int lineno;		/* first line in main.cf; 0: main_cf_set() */
};

/*
 * Reads config_dir/main.cf; a missing file gives an empty configuration.
 * The directory becomes the value of config_directory unless main.cf sets
 * it. NULL with "FILE, line N: ..." in why on a syntax error.
 */
struct main_cf *main_cf_load(const char *config_dir, struct sbuf *why);
/* The same over text in memory, reported as file "name". */
struct main_cf *main_cf_parse(const char *data, size_t len, const char *name,
    struct sbuf *why);
/* Frees *cf and sets it to NULL; accepts NULL. */
void main_cf_free(struct main_cf **cf);

/* The file name given to main_cf_load() or main_cf_parse(). */
const char *main_cf_path(const struct main_cf *cf);
/* The number of names set, and the i-th setting in name order. */
size_t main_cf_count(const struct main_cf *cf);
const struct main_cf_entry *main_cf_entry_at(const struct main_cf *cf,
    size_t i);
/* The setting of name, or NULL when main.cf does not set it. */
const struct main_cf_entry *main_cf_lookup(const struct main_cf *cf,
    const char *name);
/*
 * Sets name to value (a command-line or master.cf "-o" override), as if it
 * were the last line of main.cf; 0, or -1 with a reason for a bad name or a
 * value with control characters.
 */
int main_cf_set(struct main_cf *cf, const char *name, const char *value,
    struct sbuf *why);

/*
 * The effective unexpanded value of name: its setting, else its default
 * (a computed default computed, which expands myhostname for mydomain).
 * Sets *value_r (borrowed until the next change of cf) or to NULL when
 * name is neither set nor a parameter; 0, or -1 with a reason.
 */
int main_cf_raw(struct main_cf *cf, const char *name, const char **value_r,
    struct sbuf *why);
/*
 * Appends name's expanded effective value to out (nothing for an
 * undefined name); 0, or -1 with a reason naming the file and line of the
 * offending setting, e.g. "main.cf, line 3: parameter a: expansion loop:
 * $a -> $b -> $a".
 */
int main_cf_value(struct main_cf *cf, const char *name, struct sbuf *out,
    struct sbuf *why);
/* Expands text (not a setting) into out; as main_cf_value(). */
int main_cf_expand(struct main_cf *cf, const char *text, struct sbuf *out,
    struct sbuf *why);
/* Appends "FILE, line N: " for a name set in main.cf, else nothing. */
void main_cf_where(const struct main_cf *cf, const char *name,
    struct sbuf *out);
/* True when another setting's value refers to name ($name, ${name...}). */
bool main_cf_referenced(const struct main_cf *cf, const char *name);
/*
 * Appends one line per setting whose name is neither a parameter nor
 * referred to by another setting or by the text also (such as the -o
 * values of master.cf; NULL for none): "FILE, line N: unknown parameter
 * NAME".
 */
void main_cf_unknown(const struct main_cf *cf, const char *also,
    struct sbuf *warnings);

/* One change for main_cf_edit(): set name to value, or remove it (NULL). */
struct main_cf_edit {
	const char *name;
	const char *value;
};

enum main_cf_edit_status {
	MAIN_CF_EDIT_OK,
	MAIN_CF_EDIT_BAD_VALUE,	/* bad name, or value bad for its type */
	MAIN_CF_EDIT_UNKNOWN,	/* no parameter, and not referenced */
	MAIN_CF_EDIT_BAD_FILE,	/* main.cf unreadable, or bad syntax */
	MAIN_CF_EDIT_WRITE	/* the new main.cf could not be written */
};

/*
 * Rewrites the text of a main.cf with the edits applied: the first
 * logical line setting an edited name (its continuation lines included) is
 * replaced where it stands by "name = value", later ones are dropped;
 * names not found are appended at the end; removed names lose every
 * logical line. Comments, blank lines and other lines are kept byte for
 * byte. A later edit of the same name overrides an earlier one. 0, or -1
 * with a reason for a bad name or a value with control characters.
 */
int main_cf_edit_text(const char *data, size_t len,
    const struct main_cf_edit *edits, size_t count, struct sbuf *out,
    struct sbuf *why);
/*
 * Applies the edits to config_dir/main.cf (creating it, mode 0644, when
 * missing) after checking that the result parses, that each set name is a
 * parameter or referenced by another setting, and that each set value
 * expands and parses as its parameter's type; then replaces the file
 * atomically, keeping its mode. On any error the file is unchanged.
 */
enum main_cf_edit_status main_cf_edit(const char *config_dir,
    const struct main_cf_edit *edits, size_t count, struct sbuf *why);

#endif
