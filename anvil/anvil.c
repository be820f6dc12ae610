/* anvil - placeholder until the daemon is written. */
#include <stdlib.h>

int
main(void)
{
	return EXIT_FAILURE;
}
