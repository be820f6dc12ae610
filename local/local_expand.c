/*
 * local_expand - where one recipient's mail goes, and taking it there
 *
 * Errors: every failure is an outcome merged into the recipient's
 * (local_outcome.h); table and configuration failures defer, what the
 * address itself gets wrong bounces. Log lines only for what qmgr
 * cannot tell from the reply: an ignored .forward, a misrouted
 * recipient, a forward's new queue id.
 * Trust: recipients come from the queue file (checked by its reader);
 * alias values from the administrator; .forward and include files from
 * users, read only as their owners and only when safe. Nothing of a
 * user's is touched with more rights than that user's.
 */
#include "local_expand.h"

#include <pwd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "local_alias.h"
#include "local_item.h"
#include "local_loop.h"
#include "local_mailbox.h"
#include "local_outcome.h"
#include "local_pipe.h"
#include "local_requeue.h"
#include "local_userfile.h"
#include "mail/addr.h"
#include "mail/params.h"
#include "mail/queue_file.h"
#include "mail/resolve.h"
#include "util/msg.h"
#include "util/sbuf.h"
#include "util/strlist.h"
#include "util/strutil.h"
#include "util/xmalloc.h"

#define LOCAL_FORWARD_NAME	".forward"

/* The address a destination was reached through, for headers and env. */
struct local_target {
	const char *address;	/* local@domain */
	const char *local;	/* lower-cased local part */
	const char *domain;
	const char *ext;	/* "" when none */
};

/* Where an item list came from: the classes of allow_mail_to_*. */
enum local_source {
	LOCAL_SOURCE_ALIAS,
	LOCAL_SOURCE_FORWARD,
	LOCAL_SOURCE_INCLUDE
};

/* One recipient's expansion. */
struct local_expansion {
	struct local_message *m;
	const struct queue_rcpt *rcpt;
	struct local_outcome *all;
	struct strlist chain;	/* aliases and files being expanded */
	struct strlist done;	/* destinations delivered */
	struct strlist remote;	/* addresses to forward */
	size_t dest_count;
	bool stop;			/* a limit passed: go no further */
};

static void local_expand_address(struct local_expansion *x,
    const char *address, int depth);
static void local_expand_items(struct local_expansion *x,
    const struct local_items *items, enum local_source source,
    const struct local_ident *owner, const struct local_target *t,
    int depth);

static const char *
local_source_name(enum local_source source)
{
	switch (source) {
	case LOCAL_SOURCE_ALIAS:
		return "alias";
	case LOCAL_SOURCE_FORWARD:
		return "forward";
	case LOCAL_SOURCE_INCLUDE:
		return "include";
	}
	return "alias";
}

/* Records one destination's outcome in the recipient's. */
static void
local_expand_record(struct local_expansion *x,
    const struct local_outcome *part)
{
	local_outcome_merge(x->all, part);
}

/* Records an outcome made here. */
static void
local_expand_fail(struct local_expansion *x, enum deliver_status status,
    const char *dsn, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
local_expand_fail(struct local_expansion *x, enum deliver_status status,
    const char *dsn, const char *fmt, ...)
{
	struct local_outcome part;
	struct sbuf *text = sbuf_new();
	va_list ap;

	va_start(ap, fmt);
	sbuf_vprintf(text, fmt, ap);
	va_end(ap);
	local_outcome_init(&part);
	local_outcome_set(&part, status, dsn, "%s", sbuf_str(text));
	local_expand_record(x, &part);
	local_outcome_clear(&part);
	sbuf_free(&text);
}

/*
 * Counts a destination named key: false (and nothing to do) when it was
 * delivered already in this expansion or a limit passed.
 */
static bool
local_expand_new_dest(struct local_expansion *x, const char *key)
{
	if (x->stop || strlist_has(&x->done, key))
		return false;
	if (++x->dest_count > LOCAL_EXPAND_MAX) {
		local_expand_fail(x, DELIVER_BOUNCED, "5.4.6",
		    "expansion of %s has more than %d destinations",
		    x->rcpt->address, LOCAL_EXPAND_MAX);
		x->stop = true;
		return false;
	}
	strlist_push(&x->done, key);
	return true;
}

bool
local_expand_allowed(const char *allowed, const char *source)
{
	char *copy = xstrdup(allowed), *cursor = copy, *tok;
	bool yes = false;

	while (!yes && (tok = str_token(&cursor, STR_LIST_DELIMS)) != NULL)
		if (*tok != '\0' && strcasecmp(tok, source) == 0)
			yes = true;
	free(copy);
	return yes;
}

int
local_expand_vpath_check(const char *value, struct sbuf *why)
{
	const char *p = value;

	if (*value == '\0' || *value == '/') {
		sbuf_setf(why, "\"%s\" is not a relative path", value);
		return -1;
	}
	if (str_has_ctl(value)) {
		sbuf_set(why, "a control character in the path");
		return -1;
	}
	while (*p != '\0') {
		size_t len = strcspn(p, "/");

		if ((len == 1 && p[0] == '.') ||
		    (len == 2 && p[0] == '.' && p[1] == '.') ||
		    (len == 0 && p[1] != '\0')) {
			sbuf_setf(why, "\"%s\" has an empty, \".\" or \"..\" "
			    "component", value);
			return -1;
		}
		p += len;
		if (*p == '/')
			p++;
	}
	return 0;
}

/*
 * Whom an item from an owner runs as: the owner, but never root; in a
 * single-user instance the invoking user. 0 with *as_r filled, or -1 with
 * a reason.
 */
static int
local_expand_runner(struct local_message *m, uid_t owner,
    struct local_ident *as_r, struct sbuf *why)
{
	struct passwd *pw;

	if (m->single_user) {
		local_ident_copy(as_r, &m->self);
		return 0;
	}
	pw = owner != 0 ? getpwuid(owner) : getpwnam(m->p->default_privs);
	if (pw == NULL) {
		sbuf_setf(why, "no password entry for %s", owner != 0 ?
		    "the owner" : m->p->default_privs);
		return -1;
	}
	if (pw->pw_uid == 0) {
		sbuf_set(why, "refusing to run as root");
		return -1;
	}
	local_ident_from_pw(as_r, pw);
	return 0;
}

/* Delivers into a mailbox or file at path as as. */
static void
local_expand_write(struct local_expansion *x, enum local_mailbox_kind kind,
    const char *path, const struct local_ident *as,
    const struct local_target *t)
{
	struct local_message *m = x->m;
	struct local_outcome part;
	struct sbuf *prefix = sbuf_new();
	struct local_mailbox_req req = {
		.kind = kind,
		.path = path,
		.as = as,
		.qf = m->qf,
		.size_limit = m->p->mailbox_size_limit,
	};

	local_prefix_headers(m->qf->env.sender, t->address, prefix);
	req.prefix = sbuf_str(prefix);
	local_outcome_init(&part);
	local_mailbox_deliver(&req, &part);
	local_expand_record(x, &part);
	local_outcome_clear(&part);
	sbuf_free(&prefix);
}

/* A user's own mailbox. */
static void
local_expand_mailbox(struct local_expansion *x, const struct local_ident *u,
    const struct local_target *t)
{
	const struct params *p = x->m->p;
	struct sbuf *path = sbuf_new(), *why = sbuf_new(), *key = sbuf_new();

	sbuf_printf(key, "mailbox:%s", u->name);
	if (!local_expand_new_dest(x, sbuf_str(key)))
		goto done;
	if (*p->home_mailbox != '\0') {
		sbuf_printf(path, "%s%s%s", u->home,
		    strcmp(u->home, "/") == 0 ? "" : "/", p->home_mailbox);
	} else {
		sbuf_printf(path, "%s/%s", p->mail_spool_directory, u->name);
		if (!x->m->single_user &&
		    local_mailbox_precreate(sbuf_str(path), u, why) < 0) {
			local_expand_fail(x, DELIVER_DEFERRED, "4.2.0",
			    "cannot create mailbox: %s", sbuf_str(why));
			goto done;
		}
	}
	local_expand_write(x, LOCAL_MAILBOX_MAILBOX, sbuf_str(path), u, t);
done:
	sbuf_free(&path);
	sbuf_free(&why);
	sbuf_free(&key);
}

/* The work of a command delivery in its child. */
static void
local_expand_command_child(void *ctx, struct local_outcome *out,
    struct sbuf *payload)
{
	(void)payload;
	local_pipe_run(ctx, out);
}

/* "|command", run as as. */
static void
local_expand_command(struct local_expansion *x, const char *command,
    const struct local_ident *as, const struct local_target *t)
{
	struct local_message *m = x->m;
	const struct queue_file *qf = m->qf;
	struct local_content content = { m->qf, 0 };
	struct sbuf *prefix = sbuf_new(), *key = sbuf_new();
	struct sbuf *payload;
	struct local_outcome part;
	struct local_pipe_vars vars = {
		.user = as,
		.sender = qf->env.sender,
		.recipient = t->address,
		.local = t->local,
		.domain = t->domain,
		.extension = t->ext,
		.original_recipient = x->rcpt->address,
		.queue_id = m->queue_id,
		.client_address = qf->env.client_addr,
		.client_hostname = qf->env.client_name,
		.client_helo = qf->env.helo,
	};
	struct local_pipe_req req = {
		.command = command,
		.cwd = as->home,
		.read_fn = local_content_read,
		.read_ctx = &content,
		.time_limit = m->p->command_time_limit,
	};
	char **env;

	sbuf_printf(key, "command:%lu:%s", (unsigned long)as->uid, command);
	if (!local_expand_new_dest(x, sbuf_str(key))) {
		sbuf_free(&prefix);
		sbuf_free(&key);
		return;
	}
	env = local_pipe_env(&vars);
	local_prefix_headers(qf->env.sender, t->address, prefix);
	req.env = env;
	req.prefix = sbuf_str(prefix);
	payload = sbuf_new();
	local_outcome_init(&part);
	local_child_run(as, (int)(m->p->command_time_limit * 1000) + 60000,
	    local_expand_command_child, &req, &part, payload);
	local_expand_record(x, &part);
	local_outcome_clear(&part);
	local_pipe_env_free(&env);
	sbuf_free(&payload);
	sbuf_free(&prefix);
	sbuf_free(&key);
}

/* ":include:path", read as as; its items run as as too. */
static void
local_expand_include(struct local_expansion *x, const char *path,
    const struct local_ident *as, const struct local_target *t, int depth)
{
	struct sbuf *key = sbuf_new(), *text = sbuf_new(), *why = sbuf_new();
	struct local_items items = { NULL, 0 };

	sbuf_printf(key, "include:%s", path);
	if (strlist_has(&x->chain, sbuf_str(key))) {
		local_expand_fail(x, DELIVER_BOUNCED, "5.4.6",
		    "mail forwarding loop: %s includes itself", path);
		goto done;
	}
	switch (local_userfile_read(path, as, text, why)) {
	case LOCAL_USERFILE_FOUND:
		break;
	case LOCAL_USERFILE_ABSENT:
		local_expand_fail(x, DELIVER_DEFERRED, "4.3.0",
		    "include file %s does not exist", path);
		goto done;
	case LOCAL_USERFILE_UNSAFE:
		local_expand_fail(x, DELIVER_DEFERRED, "4.3.0",
		    "include file not used: %s", sbuf_str(why));
		goto done;
	case LOCAL_USERFILE_ERROR:
		local_expand_fail(x, DELIVER_DEFERRED, "4.3.0", "%s",
		    sbuf_str(why));
		goto done;
	}
	if (local_items_parse(sbuf_str(text), &items, why) < 0 ||
	    items.count == 0) {
		local_expand_fail(x, DELIVER_DEFERRED, "4.3.5",
		    "include file %s: %s", path, items.count == 0 &&
		    sbuf_len(why) == 0 ? "no destinations" : sbuf_str(why));
		goto done;
	}
	strlist_push(&x->chain, sbuf_str(key));
	local_expand_items(x, &items, LOCAL_SOURCE_INCLUDE, as, t, depth + 1);
	strlist_pop(&x->chain);
done:
	local_items_free(&items);
	sbuf_free(&key);
	sbuf_free(&text);
	sbuf_free(&why);
}

/* "/file" or "/dir/", written as as. */
static void
local_expand_file(struct local_expansion *x, const char *path,
    const struct local_ident *as, const struct local_target *t)
{
	struct sbuf *key = sbuf_new();

	sbuf_printf(key, "file:%s", path);
	if (local_expand_new_dest(x, sbuf_str(key)))
		local_expand_write(x, LOCAL_MAILBOX_FILE, path, as, t);
	sbuf_free(&key);
}

/* The "\user" item: the mailbox, without aliases or .forward. */
static void
local_expand_self(struct local_expansion *x, const char *user,
    const struct local_target *t)
{
	struct local_ident u = { 0 };
	struct passwd *pw = getpwnam(user);
	struct sbuf *address = sbuf_new();
	struct local_target self = { NULL, user, t->domain, "" };

	if (pw == NULL) {
		local_expand_fail(x, DELIVER_BOUNCED, "5.1.1",
		    "unknown user: \"%s\"", user);
		sbuf_free(&address);
		return;
	}
	sbuf_printf(address, "%s@%s", user, t->domain);
	self.address = sbuf_str(address);
	local_ident_from_pw(&u, pw);
	local_expand_mailbox(x, &u, &self);
	local_ident_clear(&u);
	sbuf_free(&address);
}

/* One item of a list from source, owned by owner. */
static void
local_expand_item(struct local_expansion *x, const struct local_item *item,
    enum local_source source, const struct local_ident *owner,
    const struct local_target *t, int depth)
{
	const struct params *p = x->m->p;
	const char *allowed;

	switch (item->kind) {
	case LOCAL_ITEM_ADDRESS:
		local_expand_address(x, item->value, depth);
		return;
	case LOCAL_ITEM_SELF:
		local_expand_self(x, item->value, t);
		return;
	case LOCAL_ITEM_INCLUDE:
		local_expand_include(x, item->value, owner, t, depth);
		return;
	case LOCAL_ITEM_COMMAND:
	case LOCAL_ITEM_FILE:
		break;
	}
	allowed = item->kind == LOCAL_ITEM_COMMAND ?
	    p->allow_mail_to_commands : p->allow_mail_to_files;
	if (!local_expand_allowed(allowed, local_source_name(source))) {
		local_expand_fail(x, DELIVER_BOUNCED, "5.7.1",
		    "mail to %s is restricted in %s items: %s",
		    local_item_kind_name(item->kind),
		    local_source_name(source), item->value);
		return;
	}
	if (item->kind == LOCAL_ITEM_COMMAND)
		local_expand_command(x, item->value, owner, t);
	else
		local_expand_file(x, item->value, owner, t);
}

static void
local_expand_items(struct local_expansion *x, const struct local_items *items,
    enum local_source source, const struct local_ident *owner,
    const struct local_target *t, int depth)
{
	if (depth > LOCAL_EXPAND_DEPTH) {
		local_expand_fail(x, DELIVER_BOUNCED, "5.4.6",
		    "aliases and forwards of %s nest deeper than %d",
		    x->rcpt->address, LOCAL_EXPAND_DEPTH);
		x->stop = true;
		return;
	}
	for (size_t i = 0; i < items->count && !x->stop; i++)
		local_expand_item(x, &items->items[i], source, owner, t,
		    depth);
}

/*
 * Whether key (an alias or a .forward) may be expanded now: 1 yes, 0 no
 * because it names the alias or user being expanded (use the mailbox),
 * -1 no because it is a loop (recorded).
 */
static int
local_expand_enter(struct local_expansion *x, const char *key)
{
	if (!strlist_has(&x->chain, key))
		return 1;
	if (strcmp(x->chain.items[x->chain.count - 1], key) == 0)
		return 0;
	local_expand_fail(x, DELIVER_BOUNCED, "5.4.6",
	    "mail forwarding loop through %s", key);
	return -1;
}

/*
 * The alias of t, if any: 1 expanded (or failed, recorded), 0 none or
 * not to be used now.
 */
static int
local_expand_alias(struct local_expansion *x, const char *user,
    const struct local_target *t, int depth)
{
	struct local_message *m = x->m;
	struct sbuf *value = sbuf_new(), *key = sbuf_new(), *why = sbuf_new();
	struct sbuf *chain_key = sbuf_new();
	struct local_items items = { NULL, 0 };
	struct local_ident owner = { 0 };
	uid_t owner_uid = 0;
	int ret = 1, enter;

	switch (local_aliases_find(m->aliases, t->local, user, value, key,
	    &owner_uid, why)) {
	case DICT_NOTFOUND:
		ret = 0;
		goto done;
	case DICT_ERROR:
		local_expand_fail(x, DELIVER_DEFERRED, "4.3.0",
		    "alias lookup: %s", sbuf_str(why));
		goto done;
	case DICT_FOUND:
		break;
	}
	sbuf_printf(chain_key, "alias %s", sbuf_str(key));
	if ((enter = local_expand_enter(x, sbuf_str(chain_key))) <= 0) {
		ret = enter < 0 ? 1 : 0;
		goto done;
	}
	if (local_items_parse(sbuf_str(value), &items, why) < 0 ||
	    items.count == 0) {
		local_expand_fail(x, DELIVER_DEFERRED, "4.3.5",
		    "alias %s: %s", sbuf_str(key), items.count == 0 &&
		    sbuf_len(why) == 0 ? "no destinations" : sbuf_str(why));
		goto done;
	}
	if (local_expand_runner(m, owner_uid, &owner, why) < 0) {
		local_expand_fail(x, DELIVER_DEFERRED, "4.3.5",
		    "alias %s: %s", sbuf_str(key), sbuf_str(why));
		goto done;
	}
	strlist_push(&x->chain, sbuf_str(chain_key));
	local_expand_items(x, &items, LOCAL_SOURCE_ALIAS, &owner, t,
	    depth + 1);
	strlist_pop(&x->chain);
done:
	local_ident_clear(&owner);
	local_items_free(&items);
	sbuf_free(&value);
	sbuf_free(&key);
	sbuf_free(&why);
	sbuf_free(&chain_key);
	return ret;
}

/*
 * The ~/.forward of u, if any: 1 expanded (or failed, recorded), 0 none
 * or not to be used.
 */
static int
local_expand_forward(struct local_expansion *x, const struct local_ident *u,
    const struct local_target *t, int depth)
{
	struct sbuf *path = sbuf_new(), *text = sbuf_new(), *why = sbuf_new();
	struct sbuf *chain_key = sbuf_new();
	struct local_items items = { NULL, 0 };
	int ret = 1, enter;

	sbuf_printf(chain_key, "forward %s", u->name);
	if ((enter = local_expand_enter(x, sbuf_str(chain_key))) <= 0) {
		ret = enter < 0 ? 1 : 0;
		goto done;
	}
	sbuf_printf(path, "%s%s" LOCAL_FORWARD_NAME, u->home,
	    strcmp(u->home, "/") == 0 ? "" : "/");
	switch (local_userfile_read(sbuf_str(path), u, text, why)) {
	case LOCAL_USERFILE_FOUND:
		break;
	case LOCAL_USERFILE_ABSENT:
		ret = 0;
		goto done;
	case LOCAL_USERFILE_UNSAFE:
		msg_warn("%s: to=<%s>: ignoring %s", x->m->queue_id,
		    x->rcpt->address, sbuf_str(why));
		ret = 0;
		goto done;
	case LOCAL_USERFILE_ERROR:
		local_expand_fail(x, DELIVER_DEFERRED, "4.3.0", "%s",
		    sbuf_str(why));
		goto done;
	}
	if (local_items_parse(sbuf_str(text), &items, why) < 0) {
		local_expand_fail(x, DELIVER_DEFERRED, "4.3.5", "%s: %s",
		    sbuf_str(path), sbuf_str(why));
		goto done;
	}
	if (items.count == 0) {
		ret = 0;
		goto done;
	}
	strlist_push(&x->chain, sbuf_str(chain_key));
	local_expand_items(x, &items, LOCAL_SOURCE_FORWARD, u, t, depth + 1);
	strlist_pop(&x->chain);
done:
	local_items_free(&items);
	sbuf_free(&path);
	sbuf_free(&text);
	sbuf_free(&why);
	sbuf_free(&chain_key);
	return ret;
}

/* A local part in a LOCAL domain (domain: the address's, or myorigin). */
static void
local_expand_local(struct local_expansion *x, const char *local,
    const char *domain, int depth)
{
	struct local_message *m = x->m;
	struct sbuf *lower = sbuf_new(), *user = sbuf_new(), *ext = sbuf_new();
	struct sbuf *address = sbuf_new();
	struct local_ident u = { 0 };
	struct local_target t;
	struct passwd *pw;

	sbuf_set(lower, local);
	str_lower(lower->data);
	resolve_split_ext(sbuf_str(lower), m->p->recipient_delimiter, user,
	    ext);
	sbuf_printf(address, "%s@%s", sbuf_str(lower), domain);
	t.address = sbuf_str(address);
	t.local = sbuf_str(lower);
	t.domain = domain;
	t.ext = sbuf_str(ext);
	if (local_expand_alias(x, sbuf_str(user), &t, depth) != 0)
		goto done;
	if ((pw = getpwnam(sbuf_str(user))) == NULL) {
		local_expand_fail(x, DELIVER_BOUNCED, "5.1.1",
		    "unknown user: \"%s\"", sbuf_str(user));
		goto done;
	}
	local_ident_from_pw(&u, pw);
	if (m->single_user && u.uid != m->self.uid) {
		local_expand_fail(x, DELIVER_DEFERRED, "4.3.0",
		    "a single-user instance cannot deliver as %s", u.name);
		goto done;
	}
	if (local_expand_forward(x, &u, &t, depth) != 0)
		goto done;
	local_expand_mailbox(x, &u, &t);
done:
	local_ident_clear(&u);
	sbuf_free(&lower);
	sbuf_free(&user);
	sbuf_free(&ext);
	sbuf_free(&address);
}

/* An address in a VIRTUAL domain. */
static void
local_expand_virtual(struct local_expansion *x, const char *address)
{
	struct local_message *m = x->m;
	const struct params *p = m->p;
	struct sbuf *value = sbuf_new(), *why = sbuf_new();
	struct sbuf *path = sbuf_new(), *key = sbuf_new();
	struct local_ident owner = { 0 };
	struct local_target t = { address, NULL, NULL, "" };
	struct passwd *pw;

	switch (resolve_lookup(m->resolver, "virtual_mailbox_maps", address,
	    true, value, why)) {
	case RESOLVE_OK:
		break;
	case RESOLVE_NOTFOUND:
		local_expand_fail(x, DELIVER_BOUNCED, "5.1.1",
		    "unknown user: \"%s\"", address);
		goto done;
	case RESOLVE_ERROR:
		local_expand_fail(x, DELIVER_DEFERRED, "4.3.0",
		    "virtual mailbox lookup: %s", sbuf_str(why));
		goto done;
	}
	if (*p->virtual_mailbox_base != '/' ||
	    local_expand_vpath_check(sbuf_str(value), why) < 0) {
		local_expand_fail(x, DELIVER_DEFERRED, "4.3.5",
		    "bad virtual mailbox for %s: %s", address,
		    *p->virtual_mailbox_base != '/' ?
		    "virtual_mailbox_base is not an absolute path" :
		    sbuf_str(why));
		goto done;
	}
	sbuf_printf(path, "%s/%s", p->virtual_mailbox_base, sbuf_str(value));
	if (m->single_user) {
		local_ident_copy(&owner, &m->self);
	} else if ((pw = getpwnam(p->virtual_mailbox_owner)) == NULL ||
	    pw->pw_uid == 0) {
		local_expand_fail(x, DELIVER_DEFERRED, "4.3.5",
		    "virtual_mailbox_owner %s: %s", p->virtual_mailbox_owner,
		    pw == NULL ? "no such user" : "must not be root");
		goto done;
	} else {
		local_ident_from_pw(&owner, pw);
	}
	sbuf_printf(key, "virtual:%s", sbuf_str(path));
	if (local_expand_new_dest(x, sbuf_str(key)))
		local_expand_write(x, LOCAL_MAILBOX_MAILBOX, sbuf_str(path),
		    &owner, &t);
done:
	local_ident_clear(&owner);
	sbuf_free(&value);
	sbuf_free(&why);
	sbuf_free(&path);
	sbuf_free(&key);
}

static void
local_expand_address(struct local_expansion *x, const char *address,
    int depth)
{
	struct local_message *m = x->m;
	const char *at = addr_split_internal(address);
	struct sbuf *local = sbuf_new(), *why = sbuf_new();
	enum resolve_status st;
	enum resolve_class class;

	if (x->stop)
		goto done;
	if (depth > LOCAL_EXPAND_DEPTH) {
		local_expand_fail(x, DELIVER_BOUNCED, "5.4.6",
		    "aliases and forwards of %s nest deeper than %d",
		    x->rcpt->address, LOCAL_EXPAND_DEPTH);
		x->stop = true;
		goto done;
	}
	class = resolve_domain_class(m->resolver, at != NULL ? at + 1 : NULL,
	    &st, why);
	if (st == RESOLVE_ERROR) {
		local_expand_fail(x, DELIVER_DEFERRED, "4.3.0",
		    "domain lookup: %s", sbuf_str(why));
		goto done;
	}
	if (at != NULL)
		sbuf_catn(local, address, (size_t)(at - address));
	else
		sbuf_set(local, address);
	switch (class) {
	case RESOLVE_LOCAL:
		local_expand_local(x, sbuf_str(local), at != NULL ? at + 1 :
		    m->p->myorigin, depth);
		break;
	case RESOLVE_VIRTUAL:
		local_expand_virtual(x, address);
		break;
	case RESOLVE_RELAY:
	case RESOLVE_DEFAULT:
		if (depth == 0) {
			msg_warn("%s: to=<%s>: not a local or virtual domain: "
			    "misrouted to local", m->queue_id, address);
			local_expand_fail(x, DELIVER_DEFERRED, "4.3.5",
			    "%s is not in a local or virtual domain",
			    address);
		} else {
			sbuf_setf(local, "remote:%s", address);
			if (local_expand_new_dest(x, sbuf_str(local)))
				strlist_push(&x->remote, address);
		}
		break;
	}
done:
	sbuf_free(&local);
	sbuf_free(&why);
}

/* Queues the collected remote addresses as one new message. */
static void
local_expand_remote(struct local_expansion *x)
{
	struct local_message *m = x->m;
	struct local_ident owner = { 0 };
	struct local_outcome part;
	struct sbuf *id = sbuf_new();
	struct passwd *pw;
	struct local_requeue_req req = {
		.queue_dir = m->p->queue_directory,
		.qf = m->qf,
		.orig = x->rcpt,
		.addrs = x->remote.items,
		.count = x->remote.count,
		.timeout_ms = LOCAL_STEP_TIMEOUT_MS,
	};

	if (m->single_user) {
		local_ident_copy(&owner, &m->self);
	} else if ((pw = getpwnam(m->p->mail_owner)) == NULL) {
		local_expand_fail(x, DELIVER_DEFERRED, "4.3.5",
		    "mail_owner %s: no such user", m->p->mail_owner);
		goto done;
	} else {
		local_ident_from_pw(&owner, pw);
	}
	req.as = &owner;
	local_outcome_init(&part);
	local_requeue(&req, &part, id);
	if (part.status == DELIVER_SENT)
		msg_info("%s: to=<%s>: forwarded as %s", m->queue_id,
		    x->rcpt->address, sbuf_str(id));
	local_expand_record(x, &part);
	local_outcome_clear(&part);
done:
	local_ident_clear(&owner);
	sbuf_free(&id);
}

void
local_expand_recipient(struct local_message *m, size_t index,
    struct local_outcome *out)
{
	struct local_expansion x = {
		.m = m,
		.rcpt = &m->qf->rcpts[index],
		.all = out,
	};

	if (local_loop_seen(m->delivered_to, x.rcpt->address)) {
		local_outcome_set(out, DELIVER_BOUNCED, "5.4.6",
		    "mail forwarding loop for %s", x.rcpt->address);
		return;
	}
	local_expand_address(&x, x.rcpt->address, 0);
	if (x.remote.count > 0 && !x.stop)
		local_expand_remote(&x);
	if (!out->set)
		local_outcome_set(out, DELIVER_SENT, "2.0.0",
		    "delivered to every destination already");
	strlist_free(&x.chain);
	strlist_free(&x.done);
	strlist_free(&x.remote);
}
