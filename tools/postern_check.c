/*
 * postern_check - "postern check": is an instance fit to run?
 *
 * Reads main.cf and master.cf, looks at the programs, tables and queue
 * directories they name, and logs each finding once. Nothing is changed.
 *
 * Errors: what would stop the mail system (a syntax error, a missing
 * program or queue directory) is logged with msg_error() and makes the
 * result EX_CONFIG; what only needs attention (an unknown parameter, a
 * stale table, a wrong owner or mode) is logged with msg_warn().
 * Trust: main.cf and master.cf are the administrator's; the files they
 * name are only examined with stat().
 */
#include "postern_check.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include "mail/maps.h"
#include "mail/master_cf.h"
#include "mail/params.h"
#include "postern_setup.h"
#include "util/dict.h"
#include "util/msg.h"
#include "util/sbuf.h"
#include "util/strutil.h"
#include "util/xmalloc.h"

/* The indexed files already reported on, so each is named once. */
struct check_seen {
	char **paths;
	size_t count;
};

/* Logs each line of text as a warning. */
static void
check_warn_lines(struct sbuf *text)
{
	char *cursor = text->data, *line;

	while ((line = str_token(&cursor, "\n")) != NULL)
		msg_warn("%s", line);
}

/* Counts the services whose program cannot be run. */
static int
check_programs(const struct params *p, const struct master_cf *mc)
{
	struct sbuf *path = sbuf_new();
	int errors = 0;

	for (size_t i = 0; i < mc->count; i++) {
		const struct master_service *s = &mc->services[i];

		sbuf_setf(path, "%s/%s", p->daemon_directory, s->argv[0]);
		if (access(sbuf_str(path), X_OK) == 0)
			continue;
		msg_error("%s, line %d: service %s/%s: cannot run %s: %m",
		    mc->path, s->lineno, s->name, master_type_name(s->type),
		    sbuf_str(path));
		errors++;
	}
	sbuf_free(&path);
	return errors;
}

/* True when a was modified after b. */
static bool
check_newer(const struct stat *a, const struct stat *b)
{
	if (a->st_mtim.tv_sec != b->st_mtim.tv_sec)
		return a->st_mtim.tv_sec > b->st_mtim.tv_sec;
	return a->st_mtim.tv_nsec > b->st_mtim.tv_nsec;
}

/* Warns when the table spec of parameter def is older than its source. */
static void
check_table(const struct param_def *def, const char *spec,
    struct check_seen *seen)
{
	bool alias = def == &params_table[PARAM_ID_alias_maps] ||
	    def == &params_table[PARAM_ID_alias_database];
	char *source = NULL, *indexed = dict_indexed_path(spec, &source);
	struct stat src, idx;

	if (indexed == NULL)
		return;
	for (size_t i = 0; i < seen->count; i++) {
		if (strcmp(seen->paths[i], indexed) == 0) {
			free(indexed);
			free(source);
			return;
		}
	}
	seen->paths = xreallocarray(seen->paths, seen->count + 1,
	    sizeof(*seen->paths));
	seen->paths[seen->count++] = indexed;
	if (stat(source, &src) < 0) {
		if (errno != ENOENT)
			msg_warn("%s: table source %s: %m", def->name, source);
	} else if (stat(indexed, &idx) < 0) {
		if (errno == ENOENT)
			msg_warn("%s does not exist but its source %s does: "
			    "run postern-map %s%s", indexed, source,
			    alias ? "-a " : "", spec);
		else
			msg_warn("%s: table %s: %m", def->name, indexed);
	} else if (check_newer(&src, &idx)) {
		msg_warn("%s is older than its source %s: run postern-map "
		    "%s%s", indexed, source, alias ? "-a " : "", spec);
	}
	free(source);
}

/* Checks every table of every MAPS parameter; counts malformed lists. */
static int
check_tables(const struct params *p)
{
	struct check_seen seen = { NULL, 0 };
	struct sbuf *why = sbuf_new();
	int errors = 0;

	for (size_t i = 0; i < PARAM_COUNT; i++) {
		const struct param_def *def = &params_table[i];
		const char *value;
		char **specs;
		size_t count;

		if (def->type != PARAM_MAPS)
			continue;
		value = *(char *const *)((const char *)p + def->offset);
		if (value == NULL || *value == '\0')
			continue;
		if (maps_split(value, &specs, &count, why) < 0) {
			msg_error("%s: %s", def->name, sbuf_str(why));
			errors++;
			continue;
		}
		for (size_t j = 0; j < count; j++)
			check_table(def, specs[j], &seen);
		maps_split_free(&specs, count);
	}
	for (size_t i = 0; i < seen.count; i++)
		free(seen.paths[i]);
	free(seen.paths);
	sbuf_free(&why);
	return errors;
}

/*
 * Checks one queue directory against perm; counts it as an error when it
 * is missing or no directory.
 */
static int
check_queue_dir(const char *path, const struct setup_perm *perm,
    const struct setup_ids *ids)
{
	struct sbuf *had, *want;
	struct stat st;
	mode_t mode;

	if (lstat(path, &st) < 0) {
		if (errno != ENOENT)
			msg_error("%s: %m", path);
		else if (ids->single)
			msg_error("%s does not exist: create it with mkdir "
			    "-m %04o", path, (unsigned)perm->mode);
		else
			msg_error("%s does not exist: run postern setup", path);
		return 1;
	}
	if (!S_ISDIR(st.st_mode)) {
		msg_error("%s is not a directory", path);
		return 1;
	}
	mode = st.st_mode & 07777;
	if (st.st_uid == perm->uid && st.st_gid == perm->gid &&
	    mode == perm->mode)
		return 0;
	had = sbuf_new();
	want = sbuf_new();
	setup_owner_text(st.st_uid, st.st_gid, had);
	setup_owner_text(perm->uid, perm->gid, want);
	msg_warn("%s has owner %s mode %04o, expected %s mode %04o: %s", path,
	    sbuf_str(had), (unsigned)mode, sbuf_str(want),
	    (unsigned)perm->mode, ids->single ?
	    "fix it with chown and chmod" : "run postern setup");
	sbuf_free(&had);
	sbuf_free(&want);
	return 0;
}

/* Checks the queue tree; counts what is missing. */
static int
check_queue(const struct params *p)
{
	struct sbuf *why = sbuf_new(), *path = sbuf_new();
	struct setup_perm perm;
	struct setup_ids ids;
	int errors = 0;

	if (setup_instance_ids(p, &ids, why) < 0) {
		msg_error("%s: run postern setup", sbuf_str(why));
		errors++;
	} else {
		for (size_t i = 0; setup_queue_dir(p->queue_directory, i,
		    &ids, path, &perm); i++)
			errors += check_queue_dir(sbuf_str(path), &perm, &ids);
	}
	sbuf_free(&path);
	sbuf_free(&why);
	return errors;
}

int
check_instance(const char *config_dir)
{
	struct sbuf *why = sbuf_new(), *warnings = sbuf_new();
	struct master_cf *mc;
	struct params *p;
	int errors = 0;

	p = params_load(config_dir, warnings, why);
	check_warn_lines(warnings);
	if (p == NULL) {
		msg_error("%s", sbuf_str(why));
		sbuf_free(&why);
		sbuf_free(&warnings);
		return EX_CONFIG;
	}
	mc = master_cf_load(config_dir, p->default_process_limit, why);
	if (mc == NULL) {
		msg_error("%s", sbuf_str(why));
		errors++;
	} else {
		errors += check_programs(p, mc);
	}
	errors += check_tables(p);
	errors += check_queue(p);
	master_cf_free(&mc);
	params_free(&p);
	sbuf_free(&why);
	sbuf_free(&warnings);
	return errors > 0 ? EX_CONFIG : EX_OK;
}
