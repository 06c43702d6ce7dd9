/*
 * roles.c - names for the plane, role and initiator enums of roles.h.
 *
 * The names do two jobs: the HDF5 writer stores them in /meta lookup tables
 * so that a researcher reads "management" instead of 3, and the site
 * inventory uses the role names as its YAML keys ("ems", "oam_peer"), so a
 * role is spelled the same in the config file and in the results. Tables are
 * indexed by enum value; out-of-range values get "?" rather than a crash
 * because the values come back from files written by other versions.
 */
#include "classify/roles.h"

#include "core/mw.h"

static const char *const plane_names[MW_PLANE_COUNT] = {
    [MW_PLANE_UNKNOWN] = "unknown",
    [MW_PLANE_USER] = "user",
    [MW_PLANE_CONTROL] = "control",
    [MW_PLANE_MANAGEMENT] = "management",
    [MW_PLANE_SYNC] = "sync",
    [MW_PLANE_TRANSPORT] = "transport",
};

static const char *const role_names[MW_ROLE_COUNT] = {
    [MW_ROLE_UNKNOWN] = "unknown",
    [MW_ROLE_BASE_STATION] = "base_station",
    [MW_ROLE_EMS] = "ems",
    [MW_ROLE_NMS] = "nms",
    [MW_ROLE_OSS] = "oss",
    [MW_ROLE_SEGW] = "segw",
    [MW_ROLE_MME] = "mme",
    [MW_ROLE_AMF] = "amf",
    [MW_ROLE_SGW] = "sgw",
    [MW_ROLE_UPF] = "upf",
    [MW_ROLE_SMF] = "smf",
    [MW_ROLE_NTP] = "ntp",
    [MW_ROLE_PTP] = "ptp",
    [MW_ROLE_DNS] = "dns",
    [MW_ROLE_SYSLOG] = "syslog",
    [MW_ROLE_OAM_PEER] = "oam_peer",
};

static const char *const initiator_names[MW_INIT_COUNT] = {
    [MW_INIT_UNKNOWN] = "unknown",
    [MW_INIT_BASE_STATION] = "base_station",
    [MW_INIT_PEER] = "peer",
};

const char *mw_plane_name(unsigned plane)
{
    return plane < MW_ARRAY_LEN(plane_names) ? plane_names[plane] : "?";
}

const char *mw_role_name(unsigned role)
{
    return role < MW_ARRAY_LEN(role_names) ? role_names[role] : "?";
}

const char *mw_initiator_name(unsigned initiator)
{
    return initiator < MW_ARRAY_LEN(initiator_names) ? initiator_names[initiator] : "?";
}
