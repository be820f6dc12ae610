/*
 * deliver_agent - the delivery agent's side of a qmgr connection
 *
 * local and smtp serve each qmgr connection the same way: read one
 * request frame (deliver_req.h) within ipc_timeout, decode it, let the
 * agent deliver, send the reply. A peer that breaks the protocol is
 * logged and dropped; qmgr defers what it did not get an answer for.
 */
#ifndef POSTERN_DELIVER_AGENT_H
#define POSTERN_DELIVER_AGENT_H

struct deliver_reply;
struct deliver_request;
struct server_client;

/* Fills reply, which has a result slot per recipient of req. */
typedef void (*deliver_agent_fn)(const struct deliver_request *req,
    struct deliver_reply *reply);

/* Serves one qmgr connection: the serve() of a SERVER_SINGLE agent. */
void deliver_agent_serve(struct server_client *client,
    deliver_agent_fn deliver);

#endif
