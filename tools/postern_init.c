/*
 * postern_init - "postern init": a complete instance in one directory
 *
 * Writes main.cf and master.cf for an instance on loopback ports, makes
 * its queue tree (postern_setup.c), a self-signed certificate with the
 * OpenSSL 3 API, and a users file with one mailbox user whose password
 * is hashed with yescrypt (libcrypt's crypt_r()).
 *
 * Errors: each step logs its failure once with msg_error() and
 * init_instance() returns an exit status; files already written are left
 * for the next attempt to overwrite, main.cf (which marks a finished
 * instance) being written last.
 * Trust: the options are the caller's and are checked (port range,
 * domain syntax, a directory name that fits main.cf and the users file);
 * POSTERN_DAEMON_DIR is only recorded in main.cf, never executed here.
 * Secrets (the password, the private key's PEM text) are wiped before
 * their memory is freed.
 */
#include "postern_init.h"

#include <crypt.h>
#include <errno.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "mail/main_cf.h"
#include "mail/params.h"
#include "postern_setup.h"
#include "util/msg.h"
#include "util/safe_file.h"
#include "util/sbuf.h"
#include "util/strutil.h"
#include "util/xmalloc.h"

#define INIT_DAEMON_ENV		"POSTERN_DAEMON_DIR"
#define INIT_HIGHEST_PORT	993	/* the largest offset in the table */
#define INIT_DOMAIN_MAX		240	/* so that mail.DOMAIN fits 253 */
#define INIT_PASSWORD_MAX	1024	/* bytes of a --password */
#define INIT_PASSWORD_LEN	16	/* characters of a made-up password */
#define INIT_CERT_DAYS		3650
#define INIT_DEMO_USER		"demo"
#define INIT_USERS_FILE		"users"
#define INIT_VMAILBOX_FILE	"vmailbox"	/* virtual_mailbox_maps */
#define INIT_ALIASES_FILE	"aliases"	/* alias_maps */
#define INIT_OVERRIDES_MAX	3
#define INIT_SMTP_BUSY	\
	"service_busy_reply=421 4.3.2 $myhostname Error: all server processes busy"

/* One service of master.cf, written when its program exists. */
struct init_service {
	const char *label;	/* for the summary */
	int port;		/* inet: offset from the port base; unix: 0,
				 * and the socket is named after the program */
	const char *fields;	/* type private unpriv chroot wakeup maxproc */
	const char *program;
	/* "-o" overrides; the service is left out while one of these names
	 * no known parameter (its program does not support it yet). */
	const char *overrides[INIT_OVERRIDES_MAX + 1];
};

static const struct init_service init_services[] = {
	{ "smtp", 25, "inet  n       -       n       -       -",
	    "smtpd", { INIT_SMTP_BUSY, NULL } },
	{ "submission", 587, "inet  n       -       n       -       -",
	    "smtpd", { "smtpd_tls_security_level=encrypt",
	    "smtpd_sasl_auth_enable=yes", INIT_SMTP_BUSY, NULL } },
	{ "smtps", 465, "inet  n       -       n       -       -",
	    "smtpd", { "smtpd_tls_wrappermode=yes",
	    "smtpd_sasl_auth_enable=yes", INIT_SMTP_BUSY, NULL } },
	{ "pop3", 110, "inet  n       -       n       -       -",
	    "pop3d", { NULL } },
	{ "pop3s", 995, "inet  n       -       n       -       -",
	    "pop3d", { "pop3d_tls_wrappermode=yes", NULL } },
	{ "imap", 143, "inet  n       -       n       -       -",
	    "imapd", { NULL } },
	{ "imaps", INIT_HIGHEST_PORT,
	    "inet  n       -       n       -       -",
	    "imapd", { "imapd_tls_wrappermode=yes", NULL } },
	{ "pickup", 0, "unix  n       -       n       60      1",
	    "pickup", { NULL } },
	{ "qmgr", 0, "unix  n       -       n       300     1",
	    "qmgr", { NULL } },
	{ "local", 0, "unix  -       n       n       -       -",
	    "local", { NULL } },
	{ "smtp", 0, "unix  -       -       n       -       -",
	    "smtp", { NULL } },
	{ "auth", 0, "unix  -       -       n       -       -",
	    "auth", { NULL } },
	{ "bounce", 0, "unix  -       -       n       -       0",
	    "bounce", { NULL } },
	{ "anvil", 0, "unix  -       -       n       -       1",
	    "anvil", { NULL } },
};

#define INIT_SERVICE_COUNT (sizeof(init_services) / sizeof(init_services[0]))

/* What the steps of one init share. */
struct init {
	const char *dir;	/* the instance directory */
	char *domain;		/* lower-cased */
	const char *daemon_dir;
	long port_base;
	bool system;		/* run by root: system mode */
	char *owner;		/* mail_owner */
	struct setup_ids ids;
	struct setup_perm mail;	/* owner of mail/ and its mailboxes */
	struct setup_perm auth;	/* owner of the users file */
	struct params *params;
	struct sbuf *services;	/* summary of master.cf */
};

/* True for a DNS name: labels of letters, digits and inner hyphens. */
static bool
init_domain_ok(const char *d)
{
	size_t len = strlen(d), label = 0;

	if (len == 0 || len > INIT_DOMAIN_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)d[i];

		if (ch == '.') {
			if (label == 0 || d[i - 1] == '-')
				return false;
			label = 0;
		} else if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' &&
		    ch <= 'Z') || (ch >= '0' && ch <= '9') || (ch == '-' &&
		    label > 0)) {
			if (++label > 63)
				return false;
		} else {
			return false;
		}
	}
	return label > 0 && d[len - 1] != '-';
}

/* Checks the options; 0, or EX_USAGE (logged). */
static int
init_check_opts(const char *dir, const struct init_opts *o)
{
	if (o->port_base < 0 || o->port_base > 65535 - INIT_HIGHEST_PORT) {
		msg_error("--port-base %ld: the ports from %ld+25 to %ld+%d "
		    "must lie within 1-65535, so it must be 0 to %d",
		    o->port_base, o->port_base, o->port_base,
		    INIT_HIGHEST_PORT, 65535 - INIT_HIGHEST_PORT);
		return EX_USAGE;
	}
	if (!init_domain_ok(o->domain)) {
		msg_error("--domain \"%s\": not a domain name", o->domain);
		return EX_USAGE;
	}
	if (o->password != NULL && (*o->password == '\0' ||
	    strlen(o->password) > INIT_PASSWORD_MAX ||
	    str_has_ctl(o->password))) {
		msg_error("--password: expected 1 to %d characters without "
		    "control characters", INIT_PASSWORD_MAX);
		return EX_USAGE;
	}
	if (*dir != '/' || str_has_ctl(dir) || strchr(dir, ':') != NULL) {
		msg_error("%s: the instance directory must be an absolute "
		    "path without ':' or control characters", dir);
		return EX_USAGE;
	}
	return 0;
}

/* Appends "name = value" to out, with '$' in value escaped. */
static void
init_setting(struct sbuf *out, const char *name, const char *value)
{
	sbuf_printf(out, "%s = ", name);
	for (const char *s = value; *s; s++) {
		if (*s == '$')
			sbuf_catc(out, '$');
		sbuf_catc(out, *s);
	}
	sbuf_catc(out, '\n');
}

/* Appends "name = DIR/sub" to out. */
static void
init_path_setting(struct sbuf *out, const struct init *in, const char *name,
    const char *sub)
{
	struct sbuf *path = sbuf_new();

	sbuf_printf(path, "%s/%s", in->dir, sub);
	init_setting(out, name, sbuf_str(path));
	sbuf_free(&path);
}

/* The text of the instance's main.cf. */
static void
init_main_cf(const struct init *in, struct sbuf *out)
{
	struct sbuf *host = sbuf_new();

	sbuf_printf(out,
	    "# main.cf - a %s Postern instance, written by \"postern init\".\n"
	    "# See postern.conf(5) for every parameter; \"postern-conf -n\" "
	    "shows\n# what this file sets.\n",
	    in->system ? "system-mode" : "single-user");
	init_setting(out, "config_directory", in->dir);
	init_path_setting(out, in, "queue_directory", "queue");
	init_setting(out, "daemon_directory", in->daemon_dir);
	init_setting(out, "command_directory", DEF_COMMAND_DIR);
	init_setting(out, "mail_owner", in->owner);
	sbuf_printf(host, "mail.%s", in->domain);
	init_setting(out, "myhostname", sbuf_str(host));
	init_setting(out, "mydomain", in->domain);
	sbuf_cat(out, "mydestination = $myhostname, localhost.$mydomain, "
	    "localhost\n");
	init_setting(out, "inet_interfaces", "loopback-only");
	init_setting(out, "mynetworks", "127.0.0.0/8 [::1]/128");
	init_setting(out, "home_mailbox", "Maildir/");
	init_path_setting(out, in, "virtual_mailbox_base", "mail");
	sbuf_cat(out, "virtual_mailbox_domains = $mydomain\n");
	sbuf_printf(out, "virtual_mailbox_maps = texthash:%s/%s\n", in->dir,
	    INIT_VMAILBOX_FILE);
	init_setting(out, "virtual_mailbox_owner", in->system ?
	    params_table[PARAM_ID_virtual_mailbox_owner].def : in->owner);
	sbuf_printf(out, "alias_maps = texthash:%s/%s\n", in->dir,
	    INIT_ALIASES_FILE);
	/* What newaliases and postern check look at: this table, not the
	 * host's /etc/aliases. */
	sbuf_cat(out, "alias_database = $alias_maps\n");
	init_path_setting(out, in, "smtpd_tls_cert_file", "tls/cert.pem");
	init_path_setting(out, in, "smtpd_tls_key_file", "tls/key.pem");
	sbuf_free(&host);
}

/* The parameters main.cf text gives; NULL with a reason. */
static struct params *
init_params(const struct init *in, const struct sbuf *text, struct sbuf *why)
{
	struct sbuf *name = sbuf_new();
	struct params *p = params_new();
	struct main_cf *cf;

	sbuf_printf(name, "%s/%s", in->dir, SETUP_MAIN_CF);
	cf = main_cf_parse(sbuf_str(text), sbuf_len(text), sbuf_str(name), why);
	if (cf == NULL || params_fill(p, cf, why) < 0)
		params_free(&p);
	main_cf_free(&cf);
	sbuf_free(&name);
	return p;
}

/* True when every override of s names a known parameter. */
static bool
init_overrides_known(const struct init_service *s)
{
	for (size_t i = 0; s->overrides[i] != NULL; i++) {
		const char *eq = strchr(s->overrides[i], '=');
		char *name = xstrndup(s->overrides[i],
		    (size_t)(eq - s->overrides[i]));
		bool known = params_find(name) != NULL;

		free(name);
		if (!known)
			return false;
	}
	return true;
}

/*
 * The text of master.cf: the header, then each service whose program is
 * in daemon_directory; their names go to in->services.
 */
static void
init_master_cf(struct init *in, struct sbuf *out)
{
	struct sbuf *path = sbuf_new(), *name = sbuf_new();

	setup_master_cf_header(out);
	for (size_t i = 0; i < INIT_SERVICE_COUNT; i++) {
		const struct init_service *s = &init_services[i];

		sbuf_setf(path, "%s/%s", in->daemon_dir, s->program);
		if (access(sbuf_str(path), X_OK) < 0 ||
		    !init_overrides_known(s))
			continue;
		sbuf_reset(name);
		if (s->port != 0)
			sbuf_printf(name, "127.0.0.1:%ld",
			    in->port_base + s->port);
		else
			sbuf_cat(name, s->program);
		sbuf_printf(out, "%-16s %s       %s\n", sbuf_str(name),
		    s->fields, s->program);
		for (size_t j = 0; s->overrides[j] != NULL; j++) {
			/* A value with spaces is one field only in braces. */
			if (strchr(s->overrides[j], ' ') != NULL)
				sbuf_printf(out, "  -o { %s }\n",
				    s->overrides[j]);
			else
				sbuf_printf(out, "  -o %s\n", s->overrides[j]);
		}
		sbuf_printf(in->services, "%s%s (%s)",
		    sbuf_len(in->services) > 0 ? ", " : "", s->label,
		    sbuf_str(name));
	}
	sbuf_free(&path);
	sbuf_free(&name);
}

/* Appends OpenSSL's queued errors to why, after what. */
static int
init_ssl_line(const char *str, size_t len, void *u)
{
	struct sbuf *why = u;

	while (len > 0 && str[len - 1] == '\n')
		len--;
	sbuf_cat(why, ": ");
	sbuf_catn(why, str, len);
	return 1;
}

static void
init_ssl_error(struct sbuf *why, const char *what)
{
	sbuf_set(why, what);
	ERR_print_errors_cb(init_ssl_line, why);
}

/* Adds the extension nid with the configuration text value to x. */
static int
init_cert_ext(X509 *x, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	if ((ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value)) == NULL)
		return 0;
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok;
}

/* A self-signed server certificate for the domain, signed by key. */
static X509 *
init_cert_make(const struct init *in, EVP_PKEY *key, struct sbuf *why)
{
	struct sbuf *cn = sbuf_new(), *san = sbuf_new();
	X509 *x = X509_new();
	BIGNUM *serial = BN_new();
	X509_NAME *name;
	bool ok;

	sbuf_printf(cn, "mail.%s", in->domain);
	sbuf_printf(san, "DNS:%s, DNS:mail.%s, DNS:localhost", in->domain,
	    in->domain);
	ok = x != NULL && serial != NULL &&
	    X509_set_version(x, X509_VERSION_3) &&
	    BN_rand(serial, 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) &&
	    BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(x)) != NULL &&
	    X509_gmtime_adj(X509_getm_notBefore(x), 0) != NULL &&
	    X509_time_adj_ex(X509_getm_notAfter(x), INIT_CERT_DAYS, 0,
	    NULL) != NULL &&
	    X509_set_pubkey(x, key) &&
	    (name = X509_get_subject_name(x)) != NULL &&
	    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)sbuf_str(cn), -1, -1, 0) &&
	    X509_set_issuer_name(x, name) &&
	    init_cert_ext(x, NID_basic_constraints, "critical, CA:FALSE") &&
	    init_cert_ext(x, NID_key_usage, "critical, digitalSignature") &&
	    init_cert_ext(x, NID_ext_key_usage, "serverAuth") &&
	    init_cert_ext(x, NID_subject_key_identifier, "hash") &&
	    init_cert_ext(x, NID_subject_alt_name, sbuf_str(san)) &&
	    X509_sign(x, key, EVP_sha256()) > 0;
	if (!ok) {
		init_ssl_error(why, "make the certificate");
		X509_free(x);
		x = NULL;
	}
	BN_free(serial);
	sbuf_free(&cn);
	sbuf_free(&san);
	return x;
}

/* Writes the PEM text in bio to path with mode, then wipes it. */
static int
init_write_bio(BIO *bio, const char *path, mode_t mode, struct sbuf *why)
{
	char *data;
	long len = BIO_get_mem_data(bio, &data);
	int ret;

	if (len <= 0) {
		sbuf_setf(why, "%s: nothing to write", path);
		return -1;
	}
	ret = safe_file_write(path, data, (size_t)len, mode, why);
	OPENSSL_cleanse(data, (size_t)len);
	return ret;
}

/* Gives the key file to the group of mail_owner, owner root. */
static int
init_key_group(const struct init *in, struct sbuf *why)
{
	const char *path = in->params->smtpd_tls_key_file;

	if (chown(path, in->ids.root_uid, in->ids.owner_gid) < 0) {
		sbuf_setf(why, "change owner of %s: %m", path);
		return -1;
	}
	return 0;
}

/*
 * Makes DIR/tls/cert.pem (0644) and its key DIR/tls/key.pem (0640, group
 * of mail_owner: smtpd runs as mail_owner from its first instruction).
 */
static int
init_cert(const struct init *in, struct sbuf *why)
{
	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	BIO *cert_bio = BIO_new(BIO_s_mem()), *key_bio = BIO_new(BIO_s_mem());
	X509 *x = NULL;
	int ret = -1;

	if (key == NULL || cert_bio == NULL || key_bio == NULL) {
		init_ssl_error(why, "make the key");
		goto out;
	}
	if ((x = init_cert_make(in, key, why)) == NULL)
		goto out;
	if (!PEM_write_bio_X509(cert_bio, x) || !PEM_write_bio_PrivateKey(
	    key_bio, key, NULL, NULL, 0, NULL, NULL)) {
		init_ssl_error(why, "write the certificate");
		goto out;
	}
	if (init_write_bio(key_bio, in->params->smtpd_tls_key_file, 0640,
	    why) == 0 && init_key_group(in, why) == 0 &&
	    init_write_bio(cert_bio,
	    in->params->smtpd_tls_cert_file, 0644, why) == 0)
		ret = 0;
out:
	X509_free(x);
	EVP_PKEY_free(key);
	BIO_free(cert_bio);
	BIO_free(key_bio);
	return ret;
}

/* Appends a random password of INIT_PASSWORD_LEN characters to out. */
static int
init_random_password(struct sbuf *out, struct sbuf *why)
{
	static const char alphabet[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	unsigned char bytes[INIT_PASSWORD_LEN];
	size_t got = 0;
	ssize_t n;

	while (got < sizeof(bytes)) {
		if ((n = getrandom(bytes + got, sizeof(bytes) - got, 0)) < 0) {
			if (errno == EINTR)
				continue;
			sbuf_setf(why, "getrandom: %m");
			return -1;
		}
		got += (size_t)n;
	}
	for (size_t i = 0; i < sizeof(bytes); i++)
		sbuf_catc(out, alphabet[bytes[i] & 63]);
	OPENSSL_cleanse(bytes, sizeof(bytes));
	return 0;
}

/* Appends the yescrypt hash of password to out. */
static int
init_hash(const char *password, struct sbuf *out, struct sbuf *why)
{
	struct crypt_data *cd = xcalloc(1, sizeof(*cd));
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	const char *hash;
	int ret = -1;

	if (crypt_gensalt_rn("$y$", 0, NULL, 0, salt, sizeof(salt)) == NULL)
		sbuf_setf(why, "make a password salt: %m");
	else if ((hash = crypt_r(password, salt, cd)) == NULL || *hash == '*')
		sbuf_setf(why, "hash the password: %m");
	else
		ret = sbuf_cat(out, hash);
	OPENSSL_cleanse(cd, sizeof(*cd));
	free(cd);
	return ret;
}

/* Writes DIR/users, mode 0600, owned by in->auth. */
static int
init_users(const struct init *in, const char *password, struct sbuf *why)
{
	struct sbuf *path = sbuf_new(), *line = sbuf_new();
	struct atomic_file *af;
	int ret = -1;

	sbuf_printf(path, "%s/%s", in->dir, INIT_USERS_FILE);
	sbuf_printf(line, "%s@%s:{CRYPT}", INIT_DEMO_USER, in->domain);
	if (init_hash(password, line, why) < 0)
		goto out;
	sbuf_printf(line, ":%lu:%lu::%s/%s/%s::\n",
	    (unsigned long)in->mail.uid, (unsigned long)in->mail.gid,
	    in->params->virtual_mailbox_base, in->domain, INIT_DEMO_USER);
	if ((af = atomic_file_open(sbuf_str(path), 0600, why)) == NULL)
		goto out;
	if (fchown(af->fd, in->auth.uid, in->auth.gid) < 0) {
		sbuf_setf(why, "change owner of %s: %m", af->tmp_path);
		atomic_file_abort(&af);
		goto out;
	}
	if (safe_write_all(af->fd, sbuf_str(line), sbuf_len(line)) < 0) {
		sbuf_setf(why, "write %s: %m", af->tmp_path);
		atomic_file_abort(&af);
		goto out;
	}
	ret = atomic_file_commit(&af, why);
out:
	sbuf_free(&path);
	sbuf_free(&line);
	return ret;
}

/* Writes DIR/name with text, mode 0644. */
static int
init_file(const struct init *in, const char *name, const struct sbuf *text,
    struct sbuf *why)
{
	struct sbuf *path = sbuf_new();
	int ret;

	sbuf_printf(path, "%s/%s", in->dir, name);
	ret = safe_file_write(sbuf_str(path), sbuf_str(text), sbuf_len(text),
	    0644, why);
	sbuf_free(&path);
	return ret;
}

/* Sets in->owner: the caller's name, or in system mode the default. */
static int
init_owner(struct init *in, struct sbuf *why)
{
	struct passwd *pw;

	if (in->system) {
		in->owner = xstrdup(params_table[PARAM_ID_mail_owner].def);
		return 0;
	}
	errno = 0;
	if ((pw = getpwuid(getuid())) == NULL) {
		sbuf_setf(why, "look up uid %lu: %s", (unsigned long)getuid(),
		    errno != 0 ? strerror(errno) : "no such user");
		return -1;
	}
	in->owner = xstrdup(pw->pw_name);
	return 0;
}

/*
 * Settles who owns what: in system mode creates the users and groups
 * and looks them up, else takes the caller's ids. 0, or -1 with a reason.
 */
static int
init_ids(struct init *in, struct setup_report *rep, struct sbuf *why)
{
	if (!in->system) {
		setup_single_ids(getuid(), getgid(), &in->ids);
		in->mail.uid = in->auth.uid = getuid();
		in->mail.gid = in->auth.gid = getgid();
		return 0;
	}
	if (setup_users(in->params, rep, why) < 0 ||
	    setup_system_ids(in->params, &in->ids, why) < 0 ||
	    setup_user_ids(SETUP_VMAIL_USER, &in->mail.uid, &in->mail.gid,
	    why) < 0 ||
	    setup_user_ids(SETUP_AUTH_USER, &in->auth.uid, &in->auth.gid,
	    why) < 0)
		return -1;
	return 0;
}

/* The directories: the queue tree, mail/ and tls/. */
static int
init_dirs(const struct init *in, struct setup_report *rep, struct sbuf *why)
{
	struct setup_perm mail = in->mail, tls = {
		in->ids.root_uid, in->ids.root_gid, 0755
	};
	struct sbuf *path = sbuf_new();
	int ret = -1;

	mail.mode = 0700;
	sbuf_printf(path, "%s/%s", in->params->virtual_mailbox_base,
	    in->domain);
	if (setup_queue(in->params, &in->ids, rep, why) == 0 &&
	    setup_dir(in->params->virtual_mailbox_base, &mail, rep,
	    why) == 0 && setup_dir(sbuf_str(path), &mail, rep, why) == 0) {
		sbuf_setf(path, "%s/tls", in->dir);
		if (setup_dir(sbuf_str(path), &tls, rep, why) == 0)
			ret = 0;
	}
	sbuf_free(&path);
	return ret;
}

/* Makes every file; main.cf last. */
static int
init_files(struct init *in, const struct sbuf *main_cf, const char *password,
    struct sbuf *why)
{
	struct sbuf *master_cf = sbuf_new(), *vmailbox = sbuf_new();
	struct sbuf *aliases = sbuf_new();
	int ret = -1;

	init_master_cf(in, master_cf);
	sbuf_printf(vmailbox, "# virtual_mailbox_maps: address, then the "
	    "mailbox under\n# virtual_mailbox_base (a trailing / means "
	    "Maildir).\n%s@%s\t%s/%s/\n", INIT_DEMO_USER, in->domain,
	    in->domain, INIT_DEMO_USER);
	sbuf_printf(aliases, "# alias_maps: see aliases(5).\n"
	    "postmaster: %s@%s\nMAILER-DAEMON: postmaster\n"
	    "abuse: postmaster\n", INIT_DEMO_USER, in->domain);
	if (init_cert(in, why) == 0 && init_users(in, password, why) == 0 &&
	    init_file(in, INIT_VMAILBOX_FILE, vmailbox, why) == 0 &&
	    init_file(in, INIT_ALIASES_FILE, aliases, why) == 0 &&
	    init_file(in, SETUP_MASTER_CF, master_cf, why) == 0 &&
	    init_file(in, SETUP_MAIN_CF, main_cf, why) == 0)
		ret = 0;
	sbuf_free(&master_cf);
	sbuf_free(&vmailbox);
	sbuf_free(&aliases);
	return ret;
}

/* Tells what was made and how to start it. */
static void
init_summary(const struct init *in, const char *made_up)
{
	msg_info("created a %s Postern instance in %s (mail owner %s)",
	    in->system ? "system-mode" : "single-user", in->dir, in->owner);
	if (sbuf_len(in->services) > 0)
		msg_info("services: %s", sbuf_str(in->services));
	else
		msg_info("no services yet: %s holds none of their programs",
		    in->daemon_dir);
	msg_info("mailbox user %s@%s; TLS certificate %s",
	    INIT_DEMO_USER, in->domain, in->params->smtpd_tls_cert_file);
	if (made_up != NULL)
		printf("%s@%s password: %s\n", INIT_DEMO_USER, in->domain,
		    made_up);
	msg_info("start it with: postern -c %s start", in->dir);
}

int
init_instance(const char *config_dir, const struct init_opts *opts)
{
	struct setup_report rep = { 0, false };
	struct sbuf *why = sbuf_new(), *main_cf = sbuf_new();
	struct sbuf *secret = sbuf_new(), *path = sbuf_new();
	struct init in = { .dir = config_dir, .port_base = opts->port_base };
	const char *password = opts->password;
	struct stat st;
	int status;

	in.services = sbuf_new();
	in.system = geteuid() == 0;
	if ((status = init_check_opts(config_dir, opts)) != 0)
		goto out;
	in.domain = str_lower(xstrdup(opts->domain));
	in.daemon_dir = getenv(INIT_DAEMON_ENV);
	if (in.daemon_dir == NULL || *in.daemon_dir == '\0')
		in.daemon_dir = DEF_DAEMON_DIR;
	if (*in.daemon_dir != '/' || str_has_ctl(in.daemon_dir)) {
		msg_error("%s=%s: not an absolute path", INIT_DAEMON_ENV,
		    in.daemon_dir);
		status = EX_USAGE;
		goto out;
	}
	sbuf_printf(path, "%s/%s", config_dir, SETUP_MAIN_CF);
	if (lstat(sbuf_str(path), &st) == 0) {
		msg_error("%s already holds an instance", config_dir);
		status = EX_CANTCREAT;
		goto out;
	}
	if (errno != ENOENT) {
		msg_error("%s: %m", sbuf_str(path));
		status = EX_CANTCREAT;
		goto out;
	}
	if (mkdir(config_dir, 0755) < 0 && errno != EEXIST) {
		msg_error("create directory %s: %m", config_dir);
		status = EX_CANTCREAT;
		goto out;
	}
	if (init_owner(&in, why) < 0) {
		msg_error("%s", sbuf_str(why));
		status = EX_NOUSER;
		goto out;
	}
	init_main_cf(&in, main_cf);
	if ((in.params = init_params(&in, main_cf, why)) == NULL) {
		msg_error("%s", sbuf_str(why));
		status = EX_SOFTWARE;
		goto out;
	}
	rep.verbose = true;	/* users and groups made in system mode */
	if (init_ids(&in, &rep, why) < 0) {
		msg_error("%s", sbuf_str(why));
		status = EX_NOUSER;
		goto out;
	}
	rep.verbose = false;
	if (password == NULL) {
		if (init_random_password(secret, why) < 0) {
			msg_error("%s", sbuf_str(why));
			status = EX_OSERR;
			goto out;
		}
		password = sbuf_str(secret);
	}
	if (init_dirs(&in, &rep, why) < 0 ||
	    init_files(&in, main_cf, password, why) < 0) {
		msg_error("%s", sbuf_str(why));
		status = EX_CANTCREAT;
		goto out;
	}
	init_summary(&in, opts->password == NULL ? password : NULL);
	status = EX_OK;
out:
	OPENSSL_cleanse(secret->data, sbuf_len(secret));
	params_free(&in.params);
	free(in.domain);
	free(in.owner);
	sbuf_free(&in.services);
	sbuf_free(&secret);
	sbuf_free(&path);
	sbuf_free(&main_cf);
	sbuf_free(&why);
	return status;
}
