/*
 * fanout.c - the PACKET_FANOUT group of capture --readers N.
 *
 * What a reader keeps between packets is per outer host pair: the GTP-U
 * tunnel records (keyed by the outer 5-tuple) and the table that joins IP
 * fragments to their first fragment. So the group spreads packets by the
 * outer IP addresses alone, symmetrically (src XOR dst), with a classic BPF
 * program (PACKET_FANOUT_CBPF): every packet of a tunnel and every fragment
 * of a datagram reach the same reader. The kernel's own HASH mode would not
 * do: it hashes the ports too, which fragments lack (a tunnel's fragmented
 * packets would reach another reader than the rest), and its DEFRAG flag
 * hands over reassembled datagrams, which would change what is counted.
 * Workers still get flows by the inner 5-tuple (the readers re-dispatch), so
 * one busy host pair loads one reader, never one worker. Packets that are
 * not IP, or carry a second VLAN tag, go to the first reader: still always
 * the same one.
 */
#include "capture/fanout.h"

#include <errno.h>
#include <linux/filter.h>
#include <linux/if_packet.h>
#include <sys/socket.h>

#include "core/mw.h"

#define LD_ANC(what)   BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (unsigned)(SKF_AD_OFF + (what)))
#define LD_IND(off)    BPF_STMT(BPF_LD | BPF_W | BPF_IND, (off))
#define ST(slot)       BPF_STMT(BPF_ST, (slot))
#define XOR_SLOT(slot) BPF_STMT(BPF_LDX | BPF_MEM, (slot)), BPF_STMT(BPF_ALU | BPF_XOR | BPF_X, 0)

/* Returns a symmetric hash of the IP addresses; the kernel takes it modulo the readers.
 * At fanout time a received packet's data starts at its network header (the first VLAN
 * tag already in the metadata); a sent one's at its Ethernet header: X holds the offset. */
static const struct sock_filter host_pair_hash[] = {
    /* 0 */ BPF_STMT(BPF_LDX | BPF_IMM, 0),
    /* 1 */ LD_ANC(SKF_AD_PKTTYPE),
    /* 2 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PACKET_OUTGOING, 0, 1),
    /* 3 */ BPF_STMT(BPF_LDX | BPF_IMM, 14),
    /* 4 */ LD_ANC(SKF_AD_PROTOCOL),
    /* 5 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x0800, 0, 6), /* else to 12 */
                                                               /* IPv4: addresses at 12 and 16 */
    /* 6 */ LD_IND(12),
    /* 7 */ ST(0),
    /* 8 */ LD_IND(16),
    /* 9 */ XOR_SLOT(0),
    /* 11 */ BPF_JUMP(BPF_JMP | BPF_JA, 30, 0, 0),               /* to 42 */
    /* 12 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x86dd, 0, 32), /* else to 45 */
    /* IPv6: addresses at 8..39, eight words folded into one */
    /* 13 */ LD_IND(8),
    /* 14 */ ST(0),
    /* 15 */ LD_IND(12),
    /* 16 */ ST(1),
    /* 17 */ LD_IND(16),
    /* 18 */ ST(2),
    /* 19 */ LD_IND(20),
    /* 20 */ ST(3),
    /* 21 */ LD_IND(24),
    /* 22 */ ST(4),
    /* 23 */ LD_IND(28),
    /* 24 */ ST(5),
    /* 25 */ LD_IND(32),
    /* 26 */ ST(6),
    /* 27 */ LD_IND(36),
    /* 28 */ XOR_SLOT(0),
    /* 30 */ XOR_SLOT(1),
    /* 32 */ XOR_SLOT(2),
    /* 34 */ XOR_SLOT(3),
    /* 36 */ XOR_SLOT(4),
    /* 38 */ XOR_SLOT(5),
    /* 40 */ XOR_SLOT(6),
    /* mix the bits (Fibonacci hashing) so "modulo readers" sees all of them */
    /* 42 */ BPF_STMT(BPF_ALU | BPF_MUL | BPF_K, 0x9e3779b1u),
    /* 43 */ BPF_STMT(BPF_ALU | BPF_RSH | BPF_K, 16),
    /* 44 */ BPF_STMT(BPF_RET | BPF_A, 0),
    /* not IP: the first reader */
    /* 45 */ BPF_STMT(BPF_RET | BPF_K, 0),
};

int mw__fanout_join(
        int fd, const char *iface, int *have_group, unsigned *group, char *errbuf, size_t errlen)
{
    struct sock_fprog prog = { .len = MW_ARRAY_LEN(host_pair_hash),
        .filter = (struct sock_filter *)host_pair_hash };
    int arg;
    socklen_t len = sizeof(arg);

    if (!*have_group)
        arg = (PACKET_FANOUT_FLAG_UNIQUEID | PACKET_FANOUT_CBPF) << 16;
    else
        arg = (int)((*group & 0xffffu) | ((unsigned)PACKET_FANOUT_CBPF << 16));
    if (fd < 0 || setsockopt(fd, SOL_PACKET, PACKET_FANOUT, &arg, sizeof(arg)) != 0) {
        mw_fmt_errno(errbuf, errlen, errno, "%s: cannot join a PACKET_FANOUT group", iface);
        return MW_EIO;
    }
    if (setsockopt(fd, SOL_PACKET, PACKET_FANOUT_DATA, &prog, sizeof(prog)) != 0) {
        mw_fmt_errno(errbuf, errlen, errno, "%s: cannot set the PACKET_FANOUT program", iface);
        return MW_EIO;
    }
    if (!*have_group) {
        if (getsockopt(fd, SOL_PACKET, PACKET_FANOUT, &arg, &len) != 0) {
            mw_fmt_errno(errbuf, errlen, errno, "%s: cannot read the PACKET_FANOUT group", iface);
            return MW_EIO;
        }
        *group = (unsigned)arg & 0xffffu;
        *have_group = 1;
    }
    return 0;
}
