/*
 * normal_traffic.h - the background a healthy site produces: user-plane
 * GTP-U tunnels with subscriber flows following a day/night curve, the
 * S1AP/NGAP/X2AP/XnAP associations, GTP-C echo, and the management and sync
 * planes (SNMP polls, syslog, NTP, PTP, NETCONF and SSH from the EMS, PM
 * uploads every 15 minutes, HTTPS to the EMS, DNS, and the weekly software
 * download in the maintenance window).
 */
#ifndef MW_SG_NORMAL_TRAFFIC_H
#define MW_SG_NORMAL_TRAFFIC_H

#include <stdint.h>

#include "sg.h"

typedef struct mw_normal mw_normal_t;

mw_normal_t *mw_normal_create(mw_sg_t *sg);
void mw_normal_destroy(mw_normal_t *n);
/* Generates every normal session starting in [t0_s, t1_s). */
void mw_normal_slice(mw_normal_t *n, uint64_t t0_s, uint64_t t1_s);
/* The subscriber activity curve, 0..1, for an hour of day (fractional). */
double mw_normal_diurnal(double hour);

#endif
