/*
 * master_reload - SIGHUP: read main.cf and master.cf again
 *
 * A reload keeps running services whose name, type and endpoints are
 * unchanged, with their listening sockets, so clients waiting in the
 * backlog and open connections are not disturbed; a changed entry with
 * the same endpoints is applied to the service in place, and a kept inet
 * service takes its busy reply and delay from the new main.cf and
 * entry. Every process of a kept service gets SIGTERM (it finishes its
 * current client) so that new processes start with the new main.cf.
 * Services that are gone or listen elsewhere now are retired; new ones
 * get their sockets. A configuration that does not parse is logged and
 * the old one kept.
 */
#ifndef POSTERN_MASTER_RELOAD_H
#define POSTERN_MASTER_RELOAD_H

struct sbuf;
struct params;
struct master_cf;
struct master_env;

/*
 * Reads config_dir/main.cf and master.cf into *p_r and *mc_r, logging a
 * warning for each unknown parameter: 0, or -1 with a reason
 * ("FILE, line N: ...") and nothing returned.
 */
int master_reload_read(const char *config_dir, struct params **p_r,
    struct master_cf **mc_r, struct sbuf *why);
/* Reloads the configuration of env->config_dir; logs what happens. */
void master_reload(struct master_env *env);

#endif
