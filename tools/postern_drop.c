/* postern_drop - placeholder until the program is written. */
#include <stdlib.h>

int
main(void)
{
	return EXIT_FAILURE;
}
