/*
 * fanout.h - several packet sockets of one interface in a PACKET_FANOUT
 * group (capture --readers N), spread by host pair (capture/ only).
 */
#ifndef MW_FANOUT_H
#define MW_FANOUT_H

#include <stddef.h>

/*
 * Joins socket fd to the group *group when *have_group, else to a new group:
 * the kernel picks an id no other process uses, *group is set to it and
 * *have_group to 1. 0 is an id like any other (the first the kernel hands
 * out after boot). 0, or MW_EIO with the reason.
 */
int mw__fanout_join(
        int fd, const char *iface, int *have_group, unsigned *group, char *errbuf, size_t errlen);

#endif
