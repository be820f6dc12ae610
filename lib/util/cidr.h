/* cidr - placeholder until the network list matcher is written. */
#ifndef POSTERN_CIDR_H
#define POSTERN_CIDR_H
#endif
