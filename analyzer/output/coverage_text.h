/*
 * coverage_text.h - the coverage of a detection run as text (stderr).
 */
#ifndef MW_COVERAGE_TEXT_H
#define MW_COVERAGE_TEXT_H

#include <stddef.h>
#include <stdio.h>

#include "classify/inventory.h"
#include "detect/anomaly.h"

/* Prints the stations by status and the capture-health counts; returns how many were scored. */
int mw_coverage_print(
        FILE *out, const mw_inventory_t *inv, const mw_coverage_record_t *rows, size_t n);

#endif
