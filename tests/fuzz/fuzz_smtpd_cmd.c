/*
 * fuzz_smtpd_cmd - SMTP command lines as smtpd receives them
 *
 * The first byte chooses the flags (the advertised extensions and
 * whether the transaction is SMTPUTF8); the rest is the line, CRLF
 * removed. A parsed command must hold only what its verb and the flags
 * allow; a refused line must get one of the documented replies, with
 * short printable text that smtpd can send as it is.
 */
#include "fuzz.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "mail/addr.h"
#include "smtpd_cmd.h"
#include "util/sbuf.h"

/* True when s is NULL or holds only bytes from lo to hi. */
static bool
fuzz_bytes_in(const char *s, unsigned char lo, unsigned char hi)
{
	if (s == NULL)
		return true;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < lo || *p > hi)
			return false;
	return true;
}

/* Aborts unless cmd is consistent with its verb and flags. */
static void
fuzz_check_cmd(const struct smtpd_cmd *cmd, int flags)
{
	bool path = cmd->verb == SMTPD_VERB_MAIL ||
	    cmd->verb == SMTPD_VERB_RCPT;

	if (cmd->verb == SMTPD_VERB_UNKNOWN || path != (cmd->path != NULL))
		abort();
	if (strcmp(smtpd_verb_name(cmd->verb), "UNKNOWN") == 0)
		abort();
	if (cmd->verb == SMTPD_VERB_RCPT && *cmd->path->local == '\0')
		abort();
	if ((cmd->helo.name != NULL) != (cmd->verb == SMTPD_VERB_HELO ||
	    cmd->verb == SMTPD_VERB_EHLO) ||
	    !fuzz_bytes_in(cmd->helo.name, 0x20, 0x7e))
		abort();
	if (cmd->mail.has_size && !(flags & SMTPD_CMD_EXT_SIZE))
		abort();
	if (cmd->mail.smtputf8 && !(flags & SMTPD_CMD_EXT_SMTPUTF8))
		abort();
	if (cmd->mail.body == SMTPD_BODY_BINARYMIME &&
	    !(flags & SMTPD_CMD_EXT_BINARYMIME))
		abort();
	if (cmd->mail.envid != NULL && (strlen(cmd->mail.envid) > 100 ||
	    !fuzz_bytes_in(cmd->mail.envid, 0x20, 0x7e)))
		abort();
	if (!fuzz_bytes_in(cmd->mail.auth, 0x21, 0x7e) ||
	    !fuzz_bytes_in(cmd->rcpt.orcpt, 0x20, 0xff) ||
	    !fuzz_bytes_in(cmd->auth.mech, 0x21, 0x7e) ||
	    !fuzz_bytes_in(cmd->auth.initial, 0x21, 0x7e))
		abort();
	if ((cmd->rcpt.notify & SMTPD_NOTIFY_NEVER) &&
	    cmd->rcpt.notify != SMTPD_NOTIFY_NEVER)
		abort();
	if ((cmd->rcpt.orcpt == NULL) != (cmd->rcpt.orcpt_type == NULL))
		abort();
	if ((cmd->mail.envid != NULL || cmd->rcpt.orcpt != NULL ||
	    cmd->rcpt.notify != 0 || cmd->mail.ret != SMTPD_RET_NONE) &&
	    !(flags & SMTPD_CMD_EXT_DSN))
		abort();
}

/* Aborts unless err is a reply smtpd can send. */
static void
fuzz_check_error(const struct smtpd_cmd_error *err)
{
	if (err->code != 500 && err->code != 501 && err->code != 553 &&
	    err->code != 555)
		abort();
	if (err->status == NULL || strlen(err->status) != 5 ||
	    err->status[0] != '5')
		abort();
	if (sbuf_len(err->text) == 0 || sbuf_len(err->text) > 100 ||
	    strlen(sbuf_str(err->text)) != sbuf_len(err->text) ||
	    !fuzz_bytes_in(sbuf_str(err->text), 0x20, 0x7e))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smtpd_cmd_error err = { .text = sbuf_new() };
	struct smtpd_cmd *cmd = NULL;
	int flags;

	if (size == 0)
		goto out;
	flags = data[0] & 0x7f;
	if (smtpd_cmd_parse((const char *)data + 1, size - 1, flags, &cmd,
	    &err) == 0)
		fuzz_check_cmd(cmd, flags);
	else if (cmd != NULL)
		abort();
	else
		fuzz_check_error(&err);
out:
	smtpd_cmd_free(&cmd);
	sbuf_free(&err.text);
	return 0;
}
