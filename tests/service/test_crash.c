/*
 * test_crash - a service that fails at every start, for the integration
 * test of master's crash throttling. Never installed.
 */
#include "mail/server.h"
#include "util/msg.h"

static void
crash_init(const struct params *p)
{
	msg_fatal("failing at start on purpose");
}

int
main(int argc, char **argv)
{
	static const struct server_def def = {
		.name = "test-crash",
		.kind = SERVER_SINGLE,
		.init = crash_init,
	};

	server_main(argc, argv, &def);
}
