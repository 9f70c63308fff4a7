/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dm-remap: shared definitions of the target (dm-remap-target.c), of its
 * worker and block moves (dm-remap-move.c), of its persistent remap table on
 * the spare device (dm-remap-metadata.c) and of the synchronous I/O they do
 * (dm-remap-io.c).
 */
#ifndef DM_REMAP_H
#define DM_REMAP_H

#include <linux/bio.h>
#include <linux/device-mapper.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>

#include "dm-remap-index.h"

#define DM_MSG_PREFIX "remap"

#define REMAP_MAIN_ID_MAX 63

/* Entries held by one 512-byte table sector (see dm-remap-metadata.c). */
#define REMAP_ENTRIES_PER_SECTOR 60

/* Most remaps one proactive step persists at once (bounds the table write). */
#define REMAP_BATCH_MAX 1024

/* Largest logical block of a spare: the superblock copies sit 8 sectors apart. */
#define REMAP_MAX_UNIT_SECTORS 8

/* Where each piece of the metadata lives on the spare, in sectors. */
struct remap_layout {
	sector_t table_sectors;	/* table sectors per copy */
	sector_t table_a;	/* first table sector of copy A */
	sector_t table_b;	/* first table sector of copy B */
	sector_t data_start;	/* first sector of slot 0 */
	u64 nr_slots;		/* blocks the spare can hold */
};

/* What is known of the metadata on the spare. */
enum remap_meta_state {
	REMAP_META_UNLOADED,	/* never read, or the last read failed */
	REMAP_META_LOADED,	/* valid metadata read, nothing to write */
	REMAP_META_NEEDS_REPAIR,	/* one copy was damaged */
	REMAP_META_BLANK,	/* all-zero spare: format it on first resume */
};

/* Pending-set values: why a block not on the spare is routed to the worker. */
enum remap_pending_kind {
	REMAP_UNREADABLE = 1,	/* a read failed: the next write moves it */
	REMAP_IN_DOUBT = 2,	/* a failed append may have persisted its remap */
};

struct remap_registry_entry;

struct remap_c {
	struct dm_target *ti;
	struct dm_dev *main_dev;
	struct dm_dev *spare_dev;

	/* Table arguments. */
	sector_t block_sectors;
	unsigned int block_shift;
	u64 nr_blocks;			/* main blocks covered by the target */
	unsigned int read_retries;
	unsigned int failing_after;	/* 0: never declare main failing */
	char main_id[REMAP_MAIN_ID_MAX + 1];
	bool given_block_size, given_read_retries, given_failing_after;

	/* Logical block sizes, in sectors: the smallest I/O each device takes. */
	unsigned int main_unit;
	unsigned int spare_unit;

	/* Persistent state, changed only under remap_lock. */
	struct remap_layout layout;
	u64 format_id;
	u64 seq;			/* newest sequence number written or tried */
	u64 next_slot;			/* slots are handed out in order */
	void *tail;			/* image of the metadata unit being filled */
	void *meta_buf;			/* an append's table sectors, whole units */
	void *rollback_buf;		/* what an append undoes if it fails */
	enum remap_meta_state meta_state;
	struct remap_registry_entry *reg;
	struct list_head reg_node;	/* in reg->users */

	/*
	 * main block -> spare slot (dm-remap-index.c) and the pending set (an
	 * xarray of enum remap_pending_kind values). Readers on the I/O path
	 * use RCU only; writers hold remap_lock.
	 */
	struct remap_index index;
	struct xarray pending;
	u64 nr_pending;
	u64 nr_in_doubt;
	bool any_special;		/* remaps or pending exist: look them up */

	struct mutex remap_lock;	/* serialises every remap table change */
	void *block_buf;		/* one block, used under remap_lock */
	void *probe_buf;		/* one logical block of main, same */
	struct bio_set bios;		/* the worker's and metadata's own bios */

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
	bool live;			/* resumed and not suspending */

	/*
	 * Distinct main blocks that failed with no successful I/O on main in
	 * between; at failing_after, main is declared failing (latched until
	 * clear_stats or a reload) and no more blocks are moved automatically.
	 */
	atomic_t fail_streak;
	u64 last_failed_block;
	bool failing;

	atomic64_t read_errors;
	atomic64_t write_errors;
	atomic64_t other_errors;
	atomic64_t remap_failures;
	atomic64_t lost_sectors;
	bool spare_full;
	bool metadata_error;
};

/* Largest block_size, in sectors (a bitmap per block is kept on the stack). */
#define REMAP_MAX_BLOCK_SECTORS 128

/* Where map sent a bio; end_io decides from this, never from the bio. */
enum remap_route {
	ROUTE_OTHER,	/* empty flush or discard: errors are returned as they are */
	ROUTE_MAIN,
	ROUTE_SPARE,
};

/* Per-bio state, in the space DM reserves with ti->per_io_data_size. */
struct remap_io {
	struct bvec_iter iter;	/* as mapped: restored before the worker runs */
	sector_t sector;	/* first sector, relative to the target */
	u8 epoch;
	u8 route;
	bool counted;		/* holds a reference in inflight[epoch] */
	bool finished;		/* worker called bio_endio: end_io is a no-op */
};

/*
 * The statuses that say the medium failed: only these start a move. SCSI
 * reports an unrecovered read as BLK_STS_MEDIUM and a failed write, after its
 * retries, as BLK_STS_IOERR; NVMe, virtio and the device-mapper error paths
 * use BLK_STS_IOERR. Everything else (NOSPC from a thin pool, a reservation
 * conflict, OFFLINE, TRANSPORT, TIMEOUT, NOTSUPP, AGAIN, PROTECTION...) is
 * about something other than the sector, and is returned unchanged.
 */
static inline bool remap_medium_error(blk_status_t status)
{
	return status == BLK_STS_IOERR || status == BLK_STS_MEDIUM;
}

static inline u64 block_of(struct remap_c *rc, sector_t sector)
{
	return sector >> rc->block_shift;
}

static inline sector_t block_start(struct remap_c *rc, u64 block)
{
	return (sector_t)block << rc->block_shift;
}

static inline sector_t slot_sector(struct remap_c *rc, u64 slot)
{
	return rc->layout.data_start + ((sector_t)slot << rc->block_shift);
}

/* Slot of a remapped block, or -1. RCU only: safe on the I/O path. */
static inline s64 lookup_slot(struct remap_c *rc, u64 block)
{
	return remap_index_lookup(&rc->index, block);
}

/* The block's enum remap_pending_kind, or 0. RCU only. */
static inline unsigned long pending_kind(struct remap_c *rc, u64 block)
{
	void *entry;

	if (!READ_ONCE(rc->nr_pending))
		return 0;
	entry = xa_load(&rc->pending, block);
	return entry ? xa_to_value(entry) : 0;
}

/* Any success on main ends a failing streak (one read when there is none). */
static inline void note_main_success(struct remap_c *rc)
{
	if (unlikely(atomic_read(&rc->fail_streak)))
		atomic_set(&rc->fail_streak, 0);
}

/* dm-remap-move.c */
void remap_worker(struct work_struct *work);
void remap_defer_bio(struct remap_c *rc, struct bio *bio);
int remap_proactive(struct remap_c *rc, u64 first, u64 count);

/* dm-remap-io.c */
int remap_io_init(struct remap_c *rc);
void remap_io_exit(struct remap_c *rc);
blk_status_t remap_sync_io(struct remap_c *rc, struct dm_dev *dev,
			   blk_opf_t opf, sector_t sector, sector_t count,
			   void *buf);

/* dm-remap-metadata.c */
int remap_meta_load(struct remap_c *rc, bool allow_writes);
int remap_meta_format(struct remap_c *rc);
int remap_meta_append(struct remap_c *rc, u64 first_slot, const u64 *blocks,
		      unsigned int count, bool *in_doubt);
size_t remap_meta_buf_bytes(void);
int remap_registry_get(struct remap_c *rc);
void remap_registry_put(struct remap_c *rc);
bool remap_registry_sync(struct remap_c *rc);

#endif /* DM_REMAP_H */
