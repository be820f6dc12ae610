/*
 * master_reload - SIGHUP: read main.cf and master.cf again
 *
 * Reads the new configuration completely before touching anything, then
 * matches each running service with the new entry of the same name and
 * type: the same endpoints keep the service and its sockets (a changed
 * entry is applied in place), anything else retires it. Retired services
 * close their listeners before new ones bind, so an address can move
 * from one service to another.
 * Errors: a configuration that does not parse is logged and the old one
 * kept; a new service whose address does not resolve or bind is logged
 * and skipped (the next reload tries again).
 * Trust: main.cf and master.cf are the administrator's, checked by their
 * parsers.
 */
#include "master_reload.h"

#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "mail/master_cf.h"
#include "mail/params.h"
#include "master_service.h"
#include "master_spawn.h"
#include "util/msg.h"
#include "util/sbuf.h"
#include "util/strutil.h"
#include "util/xmalloc.h"

int
master_reload_read(const char *config_dir, struct params **p_r,
    struct master_cf **mc_r, struct sbuf *why)
{
	struct sbuf *warnings = sbuf_new();
	struct params *p;
	struct master_cf *mc = NULL;
	char *cursor, *line;

	if ((p = params_load(config_dir, warnings, why)) != NULL &&
	    (mc = master_cf_load(config_dir, p->default_process_limit,
	    why)) == NULL)
		params_free(&p);
	cursor = warnings->data;
	while (p != NULL && (line = str_token(&cursor, "\n")) != NULL)
		msg_warn("%s", line);
	sbuf_free(&warnings);
	if (p == NULL)
		return -1;
	*p_r = p;
	*mc_r = mc;
	return 0;
}

/* The plan of the new service named like old, or -1. */
static int
master_reload_match(const struct master_serv *old,
    struct master_serv *const *plans, size_t count)
{
	for (size_t i = 0; i < count; i++)
		if (plans[i] != NULL && plans[i]->cf.type == old->cf.type &&
		    strcmp(plans[i]->cf.name, old->cf.name) == 0)
			return (int)i;
	return -1;
}

/*
 * Keeps or retires each service of old_list against the plans; a kept
 * service replaces its plan (kept[i] set).
 */
static void
master_reload_match_all(struct master_serv *old_list,
    struct master_serv **plans, bool *kept, size_t count)
{
	struct master_serv *old, *next;

	for (old = old_list; old != NULL; old = next) {
		int i = master_reload_match(old, plans, count);
		enum master_diff diff = MASTER_DIFFERENT;

		next = old->next;
		old->next = NULL;
		if (i >= 0)
			diff = master_service_diff(old, plans[i]);
		switch (diff) {
		case MASTER_DIFFERENT:
			msg_info("service %s (%s): stopped", old->cf.name,
			    master_type_name(old->cf.type));
			master_spawn_retire(old);
			continue;
		case MASTER_SAME_SOCKETS:
			msg_info("service %s (%s): changed", old->cf.name,
			    master_type_name(old->cf.type));
			master_service_take_cf(old, plans[i]);
			master_spawn_reconfigure(old);
			break;
		case MASTER_SAME:
			break;
		}
		master_service_take_settings(old, plans[i]);
		master_spawn_renew(old);
		master_service_free(&plans[i]);
		plans[i] = old;
		kept[i] = true;
	}
}

void
master_reload(struct master_env *env)
{
	struct sbuf *why = sbuf_new();
	struct master_serv **plans, **tail;
	struct params *p;
	struct master_cf *mc;
	bool *kept;

	if (env->stopping)
		goto done;
	if (master_reload_read(env->config_dir, &p, &mc, why) < 0) {
		msg_error("%s; keeping the old configuration", sbuf_str(why));
		goto done;
	}
	plans = xcalloc(mc->count + 1, sizeof(*plans));
	kept = xcalloc(mc->count + 1, sizeof(*kept));
	for (size_t i = 0; i < mc->count; i++)
		if ((plans[i] = master_service_new(env, &mc->services[i], p,
		    why)) == NULL)
			msg_error("%s; service skipped", sbuf_str(why));
	master_reload_match_all(env->live, plans, kept, mc->count);
	env->live = NULL;
	params_free(&env->params);
	env->params = p;

	tail = &env->live;
	for (size_t i = 0; i < mc->count; i++) {
		if (plans[i] == NULL)
			continue;
		if (!kept[i]) {
			if (master_service_open(plans[i], why) < 0) {
				msg_error("%s; service skipped",
				    sbuf_str(why));
				master_service_free(&plans[i]);
				continue;
			}
			master_spawn_attach(plans[i]);
			msg_info("service %s (%s): started",
			    plans[i]->cf.name,
			    master_type_name(plans[i]->cf.type));
		}
		*tail = plans[i];
		tail = &plans[i]->next;
	}
	free(plans);
	free(kept);
	master_cf_free(&mc);
	msg_info("reload -- version %s, configuration %s", PACKAGE_VERSION,
	    env->config_dir);
done:
	sbuf_free(&why);
}
