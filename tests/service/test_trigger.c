/*
 * test_trigger - a trigger service for the integration tests of master's
 * wake-up timers: appends each wake-up byte it receives, one per line, to
 * queue_directory/private/triggers.log (private/ belongs to the mail
 * owner in system and single-user instances alike). Never installed.
 */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "mail/params.h"
#include "mail/server.h"
#include "util/msg.h"
#include "util/safe_file.h"
#include "util/sbuf.h"

static void
trigger_record(int command)
{
	struct sbuf *path = sbuf_new();
	char line[2] = {(char)command, '\n'};
	int fd;

	sbuf_printf(path, "%s/private/triggers.log", server_params()->queue_directory);
	fd = open(sbuf_str(path), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
	    0644);
	if (fd < 0 || safe_write_all(fd, line, sizeof(line)) < 0)
		msg_fatal("append %s: %m", sbuf_str(path));
	close(fd);
	sbuf_free(&path);
}

int
main(int argc, char **argv)
{
	static const struct server_def def = {
		.name = "test-trigger",
		.kind = SERVER_TRIGGER,
		.trigger = trigger_record,
	};

	server_main(argc, argv, &def);
}
