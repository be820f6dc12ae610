/* resolve - being written. */
#include "mail/resolve.h"
