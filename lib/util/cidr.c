/* cidr - placeholder until the network list matcher is written. */
#include "util/cidr.h"
