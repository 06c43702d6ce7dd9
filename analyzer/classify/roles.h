/*
 * roles.h - the enums that the site inventory and plane assignment give a
 * flow. Their names are written to the /meta lookup tables by the writer, so
 * values may be appended but never renumbered.
 */
#ifndef MW_ROLES_H
#define MW_ROLES_H

enum mw_plane {
    MW_PLANE_UNKNOWN = 0,
    MW_PLANE_USER,
    MW_PLANE_CONTROL,
    MW_PLANE_MANAGEMENT,
    MW_PLANE_SYNC,
    MW_PLANE_TRANSPORT,
    MW_PLANE_COUNT
};

enum mw_role {
    MW_ROLE_UNKNOWN = 0, /* address not in the inventory */
    MW_ROLE_BASE_STATION,
    MW_ROLE_EMS,
    MW_ROLE_NMS,
    MW_ROLE_OSS,
    MW_ROLE_SEGW,
    MW_ROLE_MME,
    MW_ROLE_AMF,
    MW_ROLE_SGW,
    MW_ROLE_UPF,
    MW_ROLE_SMF,
    MW_ROLE_NTP,
    MW_ROLE_PTP,
    MW_ROLE_DNS,
    MW_ROLE_SYSLOG,
    MW_ROLE_OAM_PEER, /* other allowed OAM peers */
    MW_ROLE_COUNT
};

enum mw_initiator {
    MW_INIT_UNKNOWN = 0, /* neither or both sides are base stations */
    MW_INIT_BASE_STATION,
    MW_INIT_PEER,
    MW_INIT_COUNT
};

const char *mw_plane_name(unsigned plane);
const char *mw_role_name(unsigned role);
const char *mw_initiator_name(unsigned initiator);

#endif
