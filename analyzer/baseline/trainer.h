/*
 * trainer.h - learns a model from flow records (one thread: the sink's).
 */
#ifndef MW_TRAINER_H
#define MW_TRAINER_H

#include "baseline/features.h"
#include "baseline/model.h"
#include "core/memcap.h"
#include "classify/inventory.h"
#include "flow/flow_record.h"

/* How late a record may arrive after its window and still count in it. */
#define MW_WINDOW_LATENESS_US (2LL * 3600 * 1000000)

typedef struct mw_trainer mw_trainer_t;

/* model and inv are borrowed and must outlive the trainer. */
mw_trainer_t *mw_trainer_create(
        mw_model_t *model, const mw_inventory_t *inv, mw_proto_name_fn name, void *name_ctx);
void mw_trainer_record(mw_trainer_t *t, const mw_flow_record_t *rec);
/*
 * No record that ends before watermark_us can still come (every producer is
 * past it): folds the windows older than watermark - MW_WINDOW_LATENESS_US.
 * Optional: without it, windows fold at mw_trainer_finish().
 */
void mw_trainer_advance(mw_trainer_t *t, int64_t watermark_us);
/* Folds every open window into the model. */
void mw_trainer_finish(mw_trainer_t *t);
/* The windows' and hour counts' parts of the memory cap, and what they shed (added to out). */
void mw_trainer_set_memcap(mw_trainer_t *t, const mw_memcap_t *cap);
void mw_trainer_shed(const mw_trainer_t *t, mw_shed_t *out);
uint64_t mw_trainer_records(const mw_trainer_t *t);
void mw_trainer_destroy(mw_trainer_t *t); /* NULL-safe */

#endif
