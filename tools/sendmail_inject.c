/*
 * sendmail_inject - address forms, header fixes and submission
 *
 * Errors: a <sysexits.h> status with a reason. Trust: the message and the
 * addresses are the caller's; each address goes through addr_parse() and
 * every envelope field is checked again by postern-drop and pickup.
 */
#include "sendmail_inject.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "mail/drop_file.h"
#include "mail/addr.h"
#include "mail/params.h"
#include "sendmail_msg.h"
#include "sendmail_submit.h"
#include "util/sbuf.h"
#include "util/strlist.h"

#define INJECT_DATE_MAX	64

int
inject_address(const struct inject *in, const char *text, bool null_ok,
    struct sbuf *internal, struct sbuf *why)
{
	struct addr *a;
	int flags = ADDR_FLAG_BARE | ADDR_FLAG_LOCAL_ONLY | ADDR_FLAG_SMTPUTF8;

	if (null_ok && *text == '\0') {
		sbuf_reset(internal);
		return 0;
	}
	if (null_ok)
		flags |= ADDR_FLAG_NULL;
	if (addr_parse(text, strlen(text), flags, &a, why) < 0)
		return -1;
	if (*a->local == '\0')
		sbuf_reset(internal);
	else
		sbuf_setf(internal, "%s@%s", a->local, a->domain != NULL ?
		    a->domain : in->p->myorigin);
	addr_free(&a);
	if (!drop_text_ok(sbuf_str(internal))) {
		sbuf_set(why, "address too long");
		return -1;
	}
	return 0;
}

/* The value of a new From: field for the sender (internal form). */
static void
inject_from(const struct inject *in, const char *sender, struct sbuf *out)
{
	const char *at = strrchr(sender, '@');
	struct sbuf *quoted = sbuf_new();
	char *local;

	local = strndup(sender, at != NULL ? (size_t)(at - sender) :
	    strlen(sender));
	if (local == NULL || addr_quote(local, at != NULL ? at + 1 : NULL,
	    quoted) < 0)
		sbuf_set(quoted, sender);
	free(local);
	sbuf_reset(out);
	if (in->fullname != NULL && *in->fullname != '\0') {
		sbuf_catc(out, '"');
		for (const char *p = in->fullname; *p != '\0'; p++) {
			if (*p == '"' || *p == '\\')
				sbuf_catc(out, '\\');
			sbuf_catc(out, *p);
		}
		sbuf_printf(out, "\" <%s>", sbuf_str(quoted));
	} else
		sbuf_cat(out, sbuf_str(quoted));
	sbuf_free(&quoted);
}

/* The values of new Date: and Message-ID: fields. */
static void
inject_date_id(const struct inject *in, struct sbuf *date, struct sbuf *id)
{
	char buf[INJECT_DATE_MAX];
	time_t now = time(NULL);
	unsigned long long rnd = 0;
	struct tm tm;

	localtime_r(&now, &tm);
	if (strftime(buf, sizeof(buf), "%a, %d %b %Y %H:%M:%S %z", &tm) == 0)
		buf[0] = '\0';
	sbuf_set(date, buf);
	if (getrandom(&rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		rnd = (unsigned long long)now ^ (unsigned long long)getpid();
	if (strftime(buf, sizeof(buf), "%Y%m%d%H%M%S", &tm) == 0)
		buf[0] = '\0';
	sbuf_setf(id, "<%s.%ld.%016llx@%s>", buf, (long)getpid(), rnd,
	    in->p->myhostname);
}

int
inject_message(const struct inject *in, const char *sender, bool extract,
    struct strlist *rcpts, const struct sbuf *msg, struct sbuf *why)
{
	struct drop_envelope env = { .uid = -1 };
	struct sbuf *from = sbuf_new(), *date = sbuf_new(), *id = sbuf_new();
	struct sbuf *fixed = sbuf_new(), *addr = sbuf_new();
	struct message_fix fix;
	struct strlist seen = { 0 };
	int status = EX_OK;

	if (sender == NULL)
		sender = in->login;
	inject_from(in, *sender != '\0' ? sender : in->login, from);
	inject_date_id(in, date, id);
	fix.from = sbuf_str(from);
	fix.date = sbuf_str(date);
	fix.message_id = sbuf_str(id);
	if (message_fix(msg, &fix, fixed, extract ? rcpts : NULL, why) < 0) {
		status = EX_DATAERR;
		goto out;
	}
	env.sender = (char *)sender;
	env.notify = in->notify;
	env.ret = in->ret;
	for (size_t i = 0; i < rcpts->count; i++) {
		if (inject_address(in, rcpts->items[i], false, addr, why) < 0) {
			char *reason = sbuf_steal(why);

			sbuf_setf(why, "bad recipient address \"%s\": %s",
			    rcpts->items[i], reason);
			free(reason);
			status = EX_DATAERR;
			goto out;
		}
		if (!strlist_add_unique(&seen, sbuf_str(addr)))
			continue;
		if (seen.count > DROP_RCPT_MAX) {
			sbuf_setf(why, "more than %d recipients",
			    DROP_RCPT_MAX);
			status = EX_DATAERR;
			goto out;
		}
	}
	if (seen.count == 0) {
		sbuf_set(why, extract ? "no recipient addresses found in the "
		    "message header" : "no recipients given");
		status = EX_USAGE;
		goto out;
	}
	env.rcpts = seen.items;
	env.rcpt_count = seen.count;
	status = submit_message(in->p->command_directory, in->config_dir,
	    &env, fixed);
	if (status != EX_OK)
		sbuf_set(why, "");
out:
	strlist_free(&seen);
	sbuf_free(&from);
	sbuf_free(&date);
	sbuf_free(&id);
	sbuf_free(&fixed);
	sbuf_free(&addr);
	return status;
}
