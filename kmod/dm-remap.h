/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dm-remap: shared definitions of the target (dm-remap-target.c) and of its
 * persistent remap table on the spare device (dm-remap-metadata.c).
 */
#ifndef DM_REMAP_H
#define DM_REMAP_H

#include <linux/device-mapper.h>
#include <linux/dm-io.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>

#define DM_MSG_PREFIX "remap"

#define REMAP_MAIN_ID_MAX 63

/* Entries held by one 512-byte table sector (see dm-remap-metadata.c). */
#define REMAP_ENTRIES_PER_SECTOR 60

/* Most remaps one proactive step persists at once (bounds the table write). */
#define REMAP_BATCH_MAX 1024

/* Where each piece of the metadata lives on the spare, in sectors. */
struct remap_layout {
	sector_t table_sectors;	/* table sectors per copy */
	sector_t table_a;	/* first table sector of copy A */
	sector_t table_b;	/* first table sector of copy B */
	sector_t data_start;	/* first sector of slot 0 */
	u64 nr_slots;		/* blocks the spare can hold */
};

/* What the constructor found on the spare, acted on in preresume. */
enum remap_meta_state {
	REMAP_META_LOADED,	/* valid metadata read, nothing to write */
	REMAP_META_NEEDS_REPAIR,	/* one copy was damaged */
	REMAP_META_BLANK,	/* all-zero spare: format it on first resume */
};

struct remap_registry_entry;

struct remap_c {
	struct dm_target *ti;
	struct dm_dev *main_dev;
	struct dm_dev *spare_dev;

	sector_t block_sectors;
	unsigned int block_shift;
	u64 nr_blocks;			/* main blocks covered by the target */
	unsigned int read_retries;
	char main_id[REMAP_MAIN_ID_MAX + 1];
	unsigned int nr_feature_args;
	char *feature_args;		/* as given, re-emitted by TABLE status */

	/* Persistent state, changed only under remap_lock. */
	struct remap_layout layout;
	u64 format_id;
	u64 seq;			/* newest sequence number on disk */
	u64 next_slot;			/* slots are handed out in order */
	void *tail;			/* image of the table sector being filled */
	void *meta_buf;			/* REMAP_BATCH_MAX entries worth of sectors */
	enum remap_meta_state meta_state;
	struct remap_registry_entry *reg;

	/*
	 * main block -> spare slot (xa_mk_value) and the set of pending blocks
	 * (read failed, not yet rewritten). Readers on the I/O path use RCU
	 * only; writers hold remap_lock (and the xarray's own lock).
	 */
	struct xarray remaps;
	struct xarray pending;
	u64 nr_pending;
	bool any_special;		/* remaps or pending exist: look them up */

	struct mutex remap_lock;	/* serialises every remap table change */
	void *block_buf;		/* one block, used under remap_lock */
	struct dm_io_client *io_client;

	/*
	 * A block being moved to the spare is "busy": new writes to it wait on
	 * busy_bios, and writes already sent to main are drained first (see
	 * remap_begin_move()). inflight[] counts writes sent to main, in two
	 * epochs so the drain only waits for writes issued before it started.
	 */
	spinlock_t lock;		/* protects busy_*, deferred */
	u64 busy_first;
	u64 busy_end;
	bool moving;
	struct bio_list busy_bios;
	unsigned int epoch;
	atomic_t inflight[2];
	wait_queue_head_t drain_wait;

	struct bio_list deferred;	/* bios the worker must finish */
	struct workqueue_struct *wq;
	struct work_struct worker;
	bool suspending;

	atomic64_t read_errors;
	atomic64_t write_errors;
	atomic64_t remap_failures;
	atomic64_t lost_sectors;
	bool spare_full;
	bool metadata_error;
};

int remap_sync_io(struct remap_c *rc, struct dm_dev *dev, blk_opf_t opf,
		  sector_t sector, sector_t count, void *buf);

/* dm-remap-metadata.c */
int remap_meta_load(struct remap_c *rc, bool allow_writes);
int remap_meta_format(struct remap_c *rc);
int remap_meta_append(struct remap_c *rc, u64 first_slot, const u64 *blocks,
		      unsigned int count);
int remap_registry_get(struct remap_c *rc);
void remap_registry_put(struct remap_c *rc);
bool remap_registry_sync(struct remap_c *rc);

#endif /* DM_REMAP_H */
