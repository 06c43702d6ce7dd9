/*
 * ndpi_compat.h - every difference between nDPI versions that mastwatch
 * meets, in one place. Debian 12 ships nDPI 4.2; later releases changed
 * these calls (NDPI_API_VERSION is a date stamp in Debian's build, so we
 * branch on NDPI_MAJOR/NDPI_MINOR):
 *   4.6  ndpi_detection_process_packet() takes an ndpi_flow_input_info
 *   4.10 ndpi_init_detection_module() takes a global context;
 *        ndpi_detection_giveup() lost its enable_guess argument
 *   4.12 protocol ids moved under ndpi_protocol.proto
 *   5.0  ndpi_set_protocol_detection_bitmask2() is gone (all on by default)
 * Included only by classify_ndpi.c and ndpi_module.c.
 */
#ifndef MW_NDPI_COMPAT_H
#define MW_NDPI_COMPAT_H

#include <ndpi_api.h>

#define MW_NDPI_AT_LEAST(maj, min)                                                                 \
    (NDPI_MAJOR > (maj) || (NDPI_MAJOR == (maj) && NDPI_MINOR >= (min)))

static inline struct ndpi_detection_module_struct *mw_ndpi_module_new(void)
{
    struct ndpi_detection_module_struct *m;
#if MW_NDPI_AT_LEAST(4, 10)
    m = ndpi_init_detection_module(NULL);
#else
    m = ndpi_init_detection_module(ndpi_no_prefs);
#endif
    if (m == NULL)
        return NULL;
#if !MW_NDPI_AT_LEAST(5, 0)
    {
        NDPI_PROTOCOL_BITMASK all;
        NDPI_BITMASK_SET_ALL(all);
        ndpi_set_protocol_detection_bitmask2(m, &all);
    }
#endif
    ndpi_finalize_initialization(m);
    return m;
}

static inline ndpi_protocol mw_ndpi_process(struct ndpi_detection_module_struct *m,
        struct ndpi_flow_struct *flow, const unsigned char *pkt, unsigned short len, uint64_t ts_ms)
{
#if MW_NDPI_AT_LEAST(4, 6)
    return ndpi_detection_process_packet(m, flow, pkt, len, ts_ms, NULL);
#else
    return ndpi_detection_process_packet(m, flow, pkt, len, ts_ms);
#endif
}

static inline ndpi_protocol mw_ndpi_giveup(
        struct ndpi_detection_module_struct *m, struct ndpi_flow_struct *flow)
{
    uint8_t guessed = 0;
#if MW_NDPI_AT_LEAST(4, 10)
    return ndpi_detection_giveup(m, flow, &guessed);
#else
    return ndpi_detection_giveup(m, flow, 1, &guessed);
#endif
}

static inline int mw_ndpi_extra_possible(
        struct ndpi_detection_module_struct *m, struct ndpi_flow_struct *flow)
{
#if MW_NDPI_AT_LEAST(5, 0)
    (void)m;
    return flow->extra_packets_func != NULL;
#elif MW_NDPI_AT_LEAST(4, 6)
    return ndpi_extra_dissection_possible(m, flow);
#else
    /* nDPI 4.2/4.4 say "possible" for flows it has finished with: with fail_with_unknown
     * set every later call returns at once, and once a named flow's extra function is gone
     * with check_extra_packets set it only tracks TCP sequence numbers - changing no label,
     * risk or name (ndpi_detection_process_packet) - while the flow's state stays held */
    if (flow->fail_with_unknown || (flow->extra_packets_func == NULL && flow->check_extra_packets))
        return 0;
    return ndpi_extra_dissection_possible(m, flow);
#endif
}

#if MW_NDPI_AT_LEAST(4, 12)
#define MW_NDPI_MASTER(p) ((p).proto.master_protocol)
#define MW_NDPI_APP(p)    ((p).proto.app_protocol)
#else
#define MW_NDPI_MASTER(p) ((p).master_protocol)
#define MW_NDPI_APP(p)    ((p).app_protocol)
#endif

#endif
