/*
 * master_busy - inet services at their process limit
 *
 * While an inet service has maxproc processes and none is available, new
 * clients wait in the kernel's listen queue. master_spawn.c then watches
 * the listeners for master_busy_listener(): the first client waiting
 * starts the busy clock, which looks at the listen queues every
 * service_busy_delay seconds (at least one) for as long as clients wait.
 * At each look the connections that were queued at the previous look and
 * that no process has taken since (the queue is first in, first out)
 * have waited at least service_busy_delay. If every process is still
 * busy then, and service_busy_reply is set, master accepts exactly those,
 * writes the reply line without blocking, and closes them; it never
 * reads from them. Otherwise they go on waiting. A process that becomes
 * available takes the oldest client first, so nobody is refused while a
 * process is idle.
 *
 * When clients have waited that long with every process busy, master
 * warns, each warning at most once per MASTER_BUSY_LOG_INTERVAL per
 * service (later events are counted and logged when the interval ends,
 * or when the service stops):
 *
 *   service NAME: process limit N reached: clients wait in the listen
 *   queue; consider raising the process limit in master.cf
 *   service NAME: K connections refused: all N processes busy; raise the
 *   process limit in master.cf
 */
#ifndef POSTERN_MASTER_BUSY_H
#define POSTERN_MASTER_BUSY_H

#include <stdbool.h>

struct event_loop;
struct master_serv;

#define MASTER_BUSY_LOG_INTERVAL	60	/* seconds between warnings */

/* True when serv is at its process limit with no process available. */
bool master_busy_full(const struct master_serv *serv);
/*
 * The MASTER_WATCH_BUSY callback: a client waits while serv is full;
 * starts the busy clock.
 */
void master_busy_listener(struct event_loop *loop, int fd,
    unsigned int ready, void *ctx);
/*
 * Stops the busy clock of a service going out of service and logs the
 * warnings still counted.
 */
void master_busy_stop(struct master_serv *serv);

#endif
