/*
 * fanout.h - several packet sockets of one interface in a PACKET_FANOUT
 * group (capture --readers N), spread by host pair (capture/ only).
 */
#ifndef MW_FANOUT_H
#define MW_FANOUT_H

#include <stddef.h>

/*
 * Joins socket fd to the group *group, or to a new group when *group is 0
 * (the kernel picks an id no other process uses; *group is set to it).
 * 0, or MW_EIO with the reason.
 */
int mw__fanout_join(int fd, const char *iface, unsigned *group, char *errbuf, size_t errlen);

#endif
