/*
 * test_echo - a service for the integration tests of master and the
 * daemon skeleton: echoes lines and reports who it runs as
 *
 * Commands, one per line: "whoami" → "uid=U gid=G pid=P service=S",
 * "sleep N" → waits N seconds (at most 60) then "slept", "quit" → "bye"
 * and close; anything else is echoed back. Lines are capped at 1000 bytes.
 * Never installed; tests/integration runs it through master.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mail/server.h"
#include "util/sbuf.h"
#include "util/stream.h"
#include "util/strutil.h"

#define ECHO_LINE_MAX 1000

static void
echo_serve(struct server_client *c)
{
	struct sbuf *line = sbuf_new();
	long secs;

	stream_set_timeout(c->stream, 60 * 1000);
	stream_printf(c->stream, "hello %s from %s\r\n", c->service, c->addr);
	while (stream_read_line(c->stream, line, ECHO_LINE_MAX) == LINE_OK) {
		const char *cmd = sbuf_str(line);

		if (strcmp(cmd, "quit") == 0) {
			stream_puts(c->stream, "bye\r\n");
			break;
		} else if (strcmp(cmd, "whoami") == 0) {
			stream_printf(c->stream, "uid=%d gid=%d pid=%d "
			    "service=%s\r\n", (int)getuid(), (int)getgid(),
			    (int)getpid(), c->service);
		} else if (str_starts(cmd, "sleep ") &&
		    str_to_long(cmd + 6, &secs) == 0 && secs >= 0 &&
		    secs <= 60) {
			sleep((unsigned)secs);
			stream_puts(c->stream, "slept\r\n");
		} else {
			stream_printf(c->stream, "%s\r\n", cmd);
		}
		if (stream_flush(c->stream) < 0)
			break;
	}
	stream_flush(c->stream);
	sbuf_free(&line);
}

int
main(int argc, char **argv)
{
	static const struct server_def def = {
		.name = "test-echo",
		.kind = SERVER_SINGLE,
		.serve = echo_serve,
	};

	server_main(argc, argv, &def);
}
