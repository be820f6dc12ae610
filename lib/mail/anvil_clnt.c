/* anvil_clnt - placeholder until the anvil client is written. */
#include "mail/anvil_clnt.h"
