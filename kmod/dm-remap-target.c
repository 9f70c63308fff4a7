// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-remap: a device-mapper target that keeps a disk with bad sectors usable
 * by moving failing blocks of a main device onto a spare device.
 *
 * I/O to normal blocks goes straight to main; I/O to remapped blocks goes to
 * their slot on the spare (bios are split at remapped block boundaries in
 * map). A failed I/O on main is finished by a worker that may sleep:
 *  - a failed write is retried block by block; a block that still fails is
 *    moved to the spare (its other sectors read from main, or zeroed when
 *    unreadable), the remap is persisted, then the write completes without
 *    error;
 *  - a failed read is retried read_retries times per block; a block that
 *    still fails is returned as an error and recorded as pending, and the
 *    next write to it moves it to the spare.
 * The remap table lives on the spare (dm-remap-metadata.c).
 */
#include "dm-remap.h"
#include "dm-remap-compat.h"

#include <linux/bio.h>
#include <linux/ioprio.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#define REMAP_DEFAULT_BLOCK_SECTORS 8
#define REMAP_MAX_BLOCK_SECTORS 128
#define REMAP_DEFAULT_READ_RETRIES 3
#define REMAP_MAX_READ_RETRIES 16
#define REMAP_BULK_BYTES (4 << 20)	/* data copied per proactive step */

/* Per-bio state, in the space DM reserves with ti->per_io_data_size. */
struct remap_io {
	struct bvec_iter iter;	/* as mapped: restored before the worker runs */
	sector_t sector;	/* first sector, relative to the target */
	u8 epoch;
	bool counted;		/* holds a reference in inflight[epoch] */
	bool to_main;
	bool finished;		/* worker called bio_endio: end_io is a no-op */
};

int remap_sync_io(struct remap_c *rc, struct dm_dev *dev, blk_opf_t opf,
		  sector_t sector, sector_t count, void *buf)
{
	struct dm_io_region where = {
		.bdev = dev->bdev,
		.sector = sector,
		.count = count,
	};
	struct dm_io_request req = {
		.bi_opf = opf,
		.notify.fn = NULL,
		.client = rc->io_client,
	};
	unsigned long error_bits = 0;

	if (is_vmalloc_addr(buf)) {
		req.mem.type = DM_IO_VMA;
		req.mem.ptr.vma = buf;
	} else {
		req.mem.type = DM_IO_KMEM;
		req.mem.ptr.addr = buf;
	}
	return dm_io(&req, 1, &where, &error_bits, IOPRIO_DEFAULT);
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
static s64 lookup_slot(struct remap_c *rc, u64 block)
{
	void *entry = xa_load(&rc->remaps, block);

	return entry ? (s64)xa_to_value(entry) : -1;
}

static bool is_pending(struct remap_c *rc, u64 block)
{
	return READ_ONCE(rc->nr_pending) && xa_load(&rc->pending, block);
}

/* ---- copying between bios and buffers ---- */

static void copy_bio_data(struct bio *bio, unsigned int offset, void *buf,
			  unsigned int len, bool to_bio)
{
	struct bvec_iter iter = bio->bi_iter;
	struct bio_vec bv;

	bio_advance_iter(bio, &iter, offset);
	while (len) {
		bv = bio_iter_iovec(bio, iter);
		bv.bv_len = min(bv.bv_len, len);
		if (to_bio)
			memcpy_to_bvec(&bv, buf);
		else
			memcpy_from_bvec(buf, &bv);
		buf += bv.bv_len;
		len -= bv.bv_len;
		bio_advance_iter_single(bio, &iter, bv.bv_len);
	}
}

/* ---- moving blocks: keeping writes to main out of the way ---- */

static void put_inflight(struct remap_c *rc, unsigned int epoch)
{
	if (atomic_dec_and_test(&rc->inflight[epoch]) &&
	    wq_has_sleeper(&rc->drain_wait))
		wake_up(&rc->drain_wait);
}

/*
 * Count a write about to be sent to main in the current epoch. The recheck
 * pairs with the flip in remap_begin_move(): a write either counts in the
 * epoch the mover drains, or sees the new epoch (and with it `moving`).
 */
static void get_inflight(struct remap_c *rc, struct remap_io *io)
{
	unsigned int e;

	for (;;) {
		e = READ_ONCE(rc->epoch);
		atomic_inc(&rc->inflight[e]);
		/* Count before re-reading epoch and moving: pairs with remap_begin_move(). */
		smp_mb__after_atomic();
		if (READ_ONCE(rc->epoch) == e)
			break;
		put_inflight(rc, e);
	}
	io->epoch = e;
	io->counted = true;
}

/*
 * Mark blocks [first, end) busy and wait until no write sent to main before
 * that is still in flight: the mover then reads main knowing no older write
 * can land after its read, and newer writes wait on busy_bios.
 */
static void remap_begin_move(struct remap_c *rc, u64 first, u64 end)
{
	unsigned int old;

	spin_lock_irq(&rc->lock);
	rc->busy_first = first;
	rc->busy_end = end;
	WRITE_ONCE(rc->moving, true);
	spin_unlock_irq(&rc->lock);

	/* moving before the flip: a write counted in the new epoch sees it. */
	smp_mb();
	old = rc->epoch;
	WRITE_ONCE(rc->epoch, old ^ 1);
	/* The flip before reading the old count: pairs with get_inflight(). */
	smp_mb();
	wait_event(rc->drain_wait, !atomic_read(&rc->inflight[old]));
}

static void remap_end_move(struct remap_c *rc)
{
	bool requeue;

	spin_lock_irq(&rc->lock);
	WRITE_ONCE(rc->moving, false);
	rc->busy_first = 0;
	rc->busy_end = 0;
	requeue = !bio_list_empty(&rc->busy_bios);
	bio_list_merge(&rc->deferred, &rc->busy_bios);
	bio_list_init(&rc->busy_bios);
	spin_unlock_irq(&rc->lock);
	if (requeue)
		queue_work(rc->wq, &rc->worker);
}

/*
 * Fill sectors [from, to) of block_buf from main; zero what cannot be read.
 * The retry goes one logical block of main at a time (a 4Kn disk refuses
 * smaller reads); from and to are aligned to it, as every bio is.
 */
static void read_rest_of_block(struct remap_c *rc, u64 block, unsigned int from,
			       unsigned int to)
{
	unsigned int step = bdev_logical_block_size(rc->main_dev->bdev) >> SECTOR_SHIFT;
	sector_t base = block_start(rc, block);
	unsigned int s;

	if (from >= to)
		return;
	if (!remap_sync_io(rc, rc->main_dev, REQ_OP_READ, base + from, to - from,
			   rc->block_buf + from * SECTOR_SIZE))
		return;
	for (s = from; s < to; s += step) {
		void *dst = rc->block_buf + s * SECTOR_SIZE;

		if (remap_sync_io(rc, rc->main_dev, REQ_OP_READ, base + s, step, dst)) {
			memset(dst, 0, step * SECTOR_SIZE);
			atomic64_add(step, &rc->lost_sectors);
			DMWARN("%s: sector %llu unreadable while moving block %llu: zeroed",
			       rc->main_dev->name, (unsigned long long)(base + s),
			       block);
		}
	}
}

static void release_index(struct remap_c *rc, u64 first_block,
			  unsigned int count)
{
	unsigned int i;

	for (i = 0; i < count; i++)
		xa_release(&rc->remaps, first_block + i);
}

/*
 * Reserve the index entries of blocks about to be remapped, before their
 * remap is persisted: a remap on the spare must always be in the index, so
 * installing it afterwards must not need memory. Reserved entries read as
 * absent. Caller holds remap_lock.
 */
static int reserve_index(struct remap_c *rc, u64 first_block,
			 unsigned int count)
{
	unsigned int i;
	int r;

	for (i = 0; i < count; i++) {
		r = xa_reserve(&rc->remaps, first_block + i, GFP_NOIO);
		if (r) {
			release_index(rc, first_block, i);
			atomic64_add(count, &rc->remap_failures);
			DMERR_LIMIT("remap index allocation failed for block %llu",
				    first_block + i);
			return r;
		}
	}
	return 0;
}

/* Install remaps whose index entries reserve_index() reserved. */
static void install_remaps(struct remap_c *rc, u64 first_block, u64 first_slot,
			   unsigned int count)
{
	unsigned int i;

	WRITE_ONCE(rc->any_special, true);
	/* The flag before the entries: pairs with smp_rmb() in remap_map(). */
	smp_wmb();
	for (i = 0; i < count; i++) {
		u64 block = first_block + i;

		if (xa_err(xa_store(&rc->remaps, block,
				    xa_mk_value(first_slot + i), GFP_NOIO)))
			DMERR("remap index allocation failed for block %llu", block);
		if (rc->nr_pending && xa_erase(&rc->pending, block))
			WRITE_ONCE(rc->nr_pending, rc->nr_pending - 1);
	}
}

/* Persist, or record why not. Caller holds remap_lock. */
static int persist_remaps(struct remap_c *rc, const u64 *blocks,
			  unsigned int count)
{
	int r = remap_meta_append(rc, rc->next_slot, blocks, count);

	WRITE_ONCE(rc->metadata_error, r != 0);
	if (r) {
		atomic64_add(count, &rc->remap_failures);
		DMERR("%s: metadata write failed (%d): block %llu not remapped",
		      rc->spare_dev->name, r, blocks[0]);
	}
	return r;
}

static bool reserve_slots(struct remap_c *rc, unsigned int count)
{
	if (rc->next_slot + count <= rc->layout.nr_slots)
		return true;
	WRITE_ONCE(rc->spare_full, true);
	atomic64_add(count, &rc->remap_failures);
	DMERR_LIMIT("%s: spare full: cannot remap", rc->spare_dev->name);
	return false;
}

/*
 * Move one block to the spare, with sectors [from, to) of it taken from
 * `data` (what a write brought) and the rest read from main. Caller holds
 * remap_lock.
 */
static int move_block(struct remap_c *rc, u64 block, unsigned int from,
		      unsigned int to, const void *data)
{
	u64 slot = rc->next_slot;
	int r;

	if (!reserve_slots(rc, 1))
		return -ENOSPC;
	r = reserve_index(rc, block, 1);
	if (r)
		return r;
	remap_begin_move(rc, block, block + 1);
	read_rest_of_block(rc, block, 0, from);
	read_rest_of_block(rc, block, to, rc->block_sectors);
	if (data != rc->block_buf + from * SECTOR_SIZE)
		memcpy(rc->block_buf + from * SECTOR_SIZE, data,
		       (to - from) * SECTOR_SIZE);

	/* No FUA: the metadata write's preflush makes the slot durable first. */
	r = remap_sync_io(rc, rc->spare_dev, REQ_OP_WRITE, slot_sector(rc, slot),
			  rc->block_sectors, rc->block_buf);
	if (r) {
		atomic64_inc(&rc->remap_failures);
		DMERR("%s: writing slot %llu failed (%d)", rc->spare_dev->name,
		      slot, r);
	} else {
		r = persist_remaps(rc, &block, 1);
	}
	if (!r) {
		install_remaps(rc, block, slot, 1);
		DMINFO("%s: block %llu remapped to spare slot %llu",
		       rc->main_dev->name, block, slot);
	} else {
		release_index(rc, block, 1);
	}
	remap_end_move(rc);
	return r;
}

/* ---- the worker: finishing bios that need sleeping I/O ---- */

static int write_part(struct remap_c *rc, struct bio *bio, u64 block,
		      unsigned int from, unsigned int to, unsigned int offset)
{
	blk_opf_t fua = bio->bi_opf & REQ_FUA;
	void *buf = rc->block_buf + from * SECTOR_SIZE;
	s64 slot;

	copy_bio_data(bio, offset, buf, (to - from) * SECTOR_SIZE, false);
	slot = lookup_slot(rc, block);
	if (slot >= 0)
		return remap_sync_io(rc, rc->spare_dev, REQ_OP_WRITE | fua,
				     slot_sector(rc, slot) + from, to - from, buf);
	if (!is_pending(rc, block) &&
	    !remap_sync_io(rc, rc->main_dev, REQ_OP_WRITE | fua,
			   block_start(rc, block) + from, to - from, buf))
		return 0;
	/* move_block() reuses block_buf: keep the data at its place in it. */
	return move_block(rc, block, from, to, buf);
}

static int read_part(struct remap_c *rc, struct bio *bio, u64 block,
		     unsigned int from, unsigned int to, unsigned int offset)
{
	unsigned int attempts = max(rc->read_retries, 1U), i;
	void *buf = rc->block_buf;
	s64 slot = lookup_slot(rc, block);
	int r = 0;

	if (slot >= 0) {
		r = remap_sync_io(rc, rc->spare_dev, REQ_OP_READ,
				  slot_sector(rc, slot) + from, to - from, buf);
	} else {
		for (i = 0; i < attempts; i++) {
			r = remap_sync_io(rc, rc->main_dev, REQ_OP_READ,
					  block_start(rc, block) + from,
					  to - from, buf);
			if (!r)
				break;
		}
		if (r && !xa_load(&rc->pending, block)) {
			WRITE_ONCE(rc->any_special, true);
			if (!xa_err(xa_store(&rc->pending, block, xa_mk_value(0),
					     GFP_NOIO)))
				WRITE_ONCE(rc->nr_pending, rc->nr_pending + 1);
			DMWARN("%s: block %llu unreadable after %u attempts: pending",
			       rc->main_dev->name, block, attempts);
		}
	}
	if (!r)
		copy_bio_data(bio, offset, buf, (to - from) * SECTOR_SIZE, true);
	return r;
}

/* Finish a bio one block at a time with synchronous I/O. */
static void finish_bio(struct remap_c *rc, struct bio *bio)
{
	struct remap_io *io = dm_per_bio_data(bio, sizeof(struct remap_io));
	bool is_write = bio_op(bio) == REQ_OP_WRITE;
	sector_t sector = io->sector, end = sector + bio_sectors(bio);
	blk_status_t status = BLK_STS_OK;
	unsigned int offset = 0;

	mutex_lock(&rc->remap_lock);
	while (sector < end) {
		u64 block = block_of(rc, sector);
		unsigned int from = sector - block_start(rc, block);
		unsigned int to = min_t(sector_t, rc->block_sectors,
					end - block_start(rc, block));
		int r;

		if (is_write)
			r = write_part(rc, bio, block, from, to, offset);
		else
			r = read_part(rc, bio, block, from, to, offset);
		if (r)
			status = BLK_STS_IOERR;
		offset += (to - from) * SECTOR_SIZE;
		sector += to - from;
	}
	mutex_unlock(&rc->remap_lock);

	io->finished = true;
	bio->bi_status = status;
	bio_endio(bio);
}

static void remap_worker(struct work_struct *work)
{
	struct remap_c *rc = container_of(work, struct remap_c, worker);
	struct bio_list bios;
	struct bio *bio;

	spin_lock_irq(&rc->lock);
	bios = rc->deferred;
	bio_list_init(&rc->deferred);
	spin_unlock_irq(&rc->lock);

	while ((bio = bio_list_pop(&bios)))
		finish_bio(rc, bio);
}

static void defer_bio(struct remap_c *rc, struct bio *bio)
{
	unsigned long flags;

	spin_lock_irqsave(&rc->lock, flags);
	bio_list_add(&rc->deferred, bio);
	spin_unlock_irqrestore(&rc->lock, flags);
	queue_work(rc->wq, &rc->worker);
}

/* ---- constructor / destructor ---- */

static int parse_features(struct dm_arg_set *as, struct remap_c *rc,
			  struct dm_target *ti)
{
	static const struct dm_arg _args[] = {
		{0, 6, "Invalid number of feature arguments"},
		{1, REMAP_MAX_BLOCK_SECTORS, "Invalid block_size"},
		{0, REMAP_MAX_READ_RETRIES, "Invalid read_retries"},
	};
	bool seen_bs = false, seen_rr = false, seen_id = false;
	unsigned int argc, value, i;
	size_t len = 0;
	const char *name;
	char **given;
	int r;

	if (!as->argc)
		return 0;
	r = dm_read_arg_group(_args, as, &argc, &ti->error);
	if (r)
		return r;
	given = as->argv;
	rc->nr_feature_args = argc;

	while (argc) {
		name = dm_shift_arg(as);
		argc--;
		if (!strcasecmp(name, "block_size") && argc) {
			if (seen_bs) {
				ti->error = "Feature block_size duplicated";
				return -EINVAL;
			}
			seen_bs = true;
			r = dm_read_arg(_args + 1, as, &value, &ti->error);
			if (r)
				return r;
			if (!is_power_of_2(value)) {
				ti->error = "block_size must be a power of two";
				return -EINVAL;
			}
			rc->block_sectors = value;
			argc--;
		} else if (!strcasecmp(name, "read_retries") && argc) {
			if (seen_rr) {
				ti->error = "Feature read_retries duplicated";
				return -EINVAL;
			}
			seen_rr = true;
			r = dm_read_arg(_args + 2, as, &value, &ti->error);
			if (r)
				return r;
			rc->read_retries = value;
			argc--;
		} else if (!strcasecmp(name, "main_id") && argc) {
			const char *id = dm_shift_arg(as);

			if (seen_id) {
				ti->error = "Feature main_id duplicated";
				return -EINVAL;
			}
			seen_id = true;
			if (!*id || strlen(id) > REMAP_MAIN_ID_MAX) {
				ti->error = "main_id must be 1 to 63 characters";
				return -EINVAL;
			}
			strscpy(rc->main_id, id, sizeof(rc->main_id));
			argc--;
		} else {
			ti->error = "Unrecognised feature requested";
			return -EINVAL;
		}
	}

	/* Keep the feature words as given, so TABLE status re-emits them. */
	for (i = 0; i < rc->nr_feature_args; i++)
		len += strlen(given[i]) + 1;
	rc->feature_args = kzalloc(len, GFP_KERNEL);
	if (!rc->feature_args) {
		ti->error = "Cannot allocate memory";
		return -ENOMEM;
	}
	for (i = 0; i < rc->nr_feature_args; i++) {
		if (i)
			strcat(rc->feature_args, " ");
		strcat(rc->feature_args, given[i]);
	}
	return 0;
}

static void remap_dtr(struct dm_target *ti)
{
	struct remap_c *rc = ti->private;

	/* Drains queued work; no work waits on this device's own I/O. */
	if (rc->wq)
		destroy_workqueue(rc->wq);
	remap_registry_put(rc);
	xa_destroy(&rc->remaps);
	xa_destroy(&rc->pending);
	if (rc->io_client)
		dm_io_client_destroy(rc->io_client);
	kvfree(rc->meta_buf);
	kfree(rc->tail);
	kvfree(rc->block_buf);
	kfree(rc->feature_args);
	if (rc->spare_dev)
		dm_put_device(ti, rc->spare_dev);
	if (rc->main_dev)
		dm_put_device(ti, rc->main_dev);
	kfree(rc);
}

/*
 * Construct a remap mapping:
 *   <main_dev> <spare_dev> [<#feature_args> [block_size <sectors>]
 *                          [read_retries <n>] [main_id <string>]]
 *
 * Only reads the spare: a blank spare is formatted, and a damaged metadata
 * copy repaired, in preresume, once DM has accepted the whole table.
 */
static int remap_ctr(struct dm_target *ti, unsigned int argc, char **argv)
{
	struct dm_arg_set as;
	struct remap_c *rc;
	int r;

	if (argc < 2) {
		ti->error = "Invalid argument count";
		return -EINVAL;
	}
	rc = kzalloc(sizeof(*rc), GFP_KERNEL);
	if (!rc) {
		ti->error = "Cannot allocate context";
		return -ENOMEM;
	}
	ti->private = rc;
	rc->ti = ti;
	rc->block_sectors = REMAP_DEFAULT_BLOCK_SECTORS;
	rc->read_retries = REMAP_DEFAULT_READ_RETRIES;
	xa_init(&rc->remaps);
	xa_init(&rc->pending);
	mutex_init(&rc->remap_lock);
	spin_lock_init(&rc->lock);
	bio_list_init(&rc->busy_bios);
	bio_list_init(&rc->deferred);
	init_waitqueue_head(&rc->drain_wait);
	INIT_WORK(&rc->worker, remap_worker);

	as.argc = argc - 2;
	as.argv = argv + 2;
	r = parse_features(&as, rc, ti);
	if (r)
		goto bad;
	rc->block_shift = ilog2(rc->block_sectors);
	if (ti->len & (rc->block_sectors - 1)) {
		ti->error = "Target length is not a multiple of block_size";
		r = -EINVAL;
		goto bad;
	}
	rc->nr_blocks = ti->len >> rc->block_shift;

	r = dm_get_device(ti, argv[0], remap_table_mode(ti), &rc->main_dev);
	if (r) {
		ti->error = "Main device lookup failed";
		goto bad;
	}
	r = dm_get_device(ti, argv[1], remap_table_mode(ti), &rc->spare_dev);
	if (r) {
		ti->error = "Spare device lookup failed";
		goto bad;
	}
	r = -EINVAL;
	if (rc->main_dev->bdev == rc->spare_dev->bdev) {
		ti->error = "Main and spare must be different devices";
		goto bad;
	}
	if (bdev_nr_sectors(rc->main_dev->bdev) < ti->len) {
		ti->error = "Main device is smaller than the target";
		goto bad;
	}
	if (bdev_logical_block_size(rc->spare_dev->bdev) != SECTOR_SIZE ||
	    bdev_logical_block_size(rc->main_dev->bdev) > rc->block_sectors << SECTOR_SHIFT) {
		ti->error = "Device logical block size not supported";
		goto bad;
	}

	r = -ENOMEM;
	ti->error = "Cannot allocate memory";
	rc->block_buf = kvmalloc(rc->block_sectors << SECTOR_SHIFT, GFP_KERNEL);
	rc->tail = kzalloc(SECTOR_SIZE, GFP_KERNEL);
	rc->meta_buf = kvmalloc((REMAP_BATCH_MAX / REMAP_ENTRIES_PER_SECTOR + 2) *
				SECTOR_SIZE, GFP_KERNEL);
	if (!rc->block_buf || !rc->tail || !rc->meta_buf)
		goto bad;
	rc->io_client = dm_io_client_create();
	if (IS_ERR(rc->io_client)) {
		r = PTR_ERR(rc->io_client);
		rc->io_client = NULL;
		goto bad;
	}
	rc->wq = alloc_ordered_workqueue("dm-remap-%s", WQ_MEM_RECLAIM,
					 rc->spare_dev->name);
	if (!rc->wq)
		goto bad;

	r = remap_registry_get(rc);
	if (r)
		goto bad;
	r = remap_meta_load(rc, false);
	if (r)
		goto bad;
	if (rc->meta_state == REMAP_META_LOADED)
		remap_registry_sync(rc);
	rc->any_special = rc->next_slot > 0;

	ti->num_flush_bios = 2;
	ti->num_discard_bios = 1;
	ti->per_io_data_size = sizeof(struct remap_io);
	return 0;

bad:
	remap_dtr(ti);
	return r;
}

/* ---- the I/O path ---- */

/*
 * If a write touches the blocks being moved, send the part before them now
 * (returns false) or park it until the move ends, one block at a time
 * (returns true).
 */
static bool park_if_busy(struct remap_c *rc, struct bio *bio,
			 struct remap_io *io, sector_t sector)
{
	u64 first = block_of(rc, sector);
	u64 last = block_of(rc, sector + bio_sectors(bio) - 1);
	unsigned long flags;

	spin_lock_irqsave(&rc->lock, flags);
	if (!rc->moving || first >= rc->busy_end || last < rc->busy_first) {
		spin_unlock_irqrestore(&rc->lock, flags);
		return false;
	}
	if (first < rc->busy_first) {
		spin_unlock_irqrestore(&rc->lock, flags);
		dm_accept_partial_bio(bio, block_start(rc, rc->busy_first) - sector);
		return false;
	}
	if (last > first)
		dm_accept_partial_bio(bio, block_start(rc, first + 1) - sector);
	io->iter = bio->bi_iter;
	io->sector = sector;
	bio_list_add(&rc->busy_bios, bio);
	spin_unlock_irqrestore(&rc->lock, flags);
	return true;
}

/* The first block after `block` (up to `last`) that needs special routing. */
static u64 next_special(struct remap_c *rc, u64 block, u64 last, bool is_write)
{
	unsigned long idx = block + 1, found = last + 1;

	if (xa_find(&rc->remaps, &idx, last, XA_PRESENT))
		found = idx;
	if (is_write && READ_ONCE(rc->nr_pending)) {
		idx = block + 1;
		if (xa_find(&rc->pending, &idx, last, XA_PRESENT) && idx < found)
			found = idx;
	}
	return found;
}

static void drop_inflight(struct remap_c *rc, struct remap_io *io)
{
	if (io->counted) {
		io->counted = false;
		put_inflight(rc, io->epoch);
	}
}

static int remap_map(struct dm_target *ti, struct bio *bio)
{
	struct remap_c *rc = ti->private;
	struct remap_io *io = dm_per_bio_data(bio, sizeof(struct remap_io));
	bool is_write = bio_op(bio) == REQ_OP_WRITE;
	sector_t sector;
	u64 block, last, next;
	s64 slot;

	io->counted = false;
	io->to_main = false;
	io->finished = false;

	if (unlikely(!bio_sectors(bio))) {
		/* Empty flush: one copy per device (num_flush_bios = 2). */
		bio_set_dev(bio, dm_bio_get_target_bio_nr(bio) ?
			    rc->spare_dev->bdev : rc->main_dev->bdev);
		return DM_MAPIO_REMAPPED;
	}
	sector = dm_target_offset(ti, bio->bi_iter.bi_sector);
	if (unlikely(bio_op(bio) == REQ_OP_DISCARD)) {
		/* Discards go to main only; slots of remapped blocks keep their data. */
		bio_set_dev(bio, rc->main_dev->bdev);
		bio->bi_iter.bi_sector = sector;
		return DM_MAPIO_REMAPPED;
	}
	if (unlikely(!is_write && bio_op(bio) != REQ_OP_READ))
		return DM_MAPIO_KILL;

	/*
	 * A write is counted before it looks anything up: a move that starts
	 * later drains it, and one that ended earlier installed its remap
	 * before clearing `moving`, so the lookups below see it.
	 */
	if (is_write) {
		get_inflight(rc, io);
		if (unlikely(READ_ONCE(rc->moving)) &&
		    park_if_busy(rc, bio, io, sector)) {
			drop_inflight(rc, io);
			return DM_MAPIO_SUBMITTED;
		}
		/* moving (cleared after a move installed its remaps) before the lookups. */
		smp_rmb();
	}

	if (unlikely(READ_ONCE(rc->any_special))) {
		/* The flag before the entries: pairs with install_remaps(). */
		smp_rmb();
		block = block_of(rc, sector);
		last = block_of(rc, sector + bio_sectors(bio) - 1);
		slot = lookup_slot(rc, block);
		if (slot >= 0) {
			drop_inflight(rc, io);
			if (last > block)
				dm_accept_partial_bio(bio, block_start(rc, block + 1) - sector);
			bio_set_dev(bio, rc->spare_dev->bdev);
			bio->bi_iter.bi_sector = slot_sector(rc, slot) +
						 (sector - block_start(rc, block));
			return DM_MAPIO_REMAPPED;
		}
		if (is_write && is_pending(rc, block)) {
			/* The disk's own rule: rewriting an unreadable block moves it. */
			drop_inflight(rc, io);
			if (last > block)
				dm_accept_partial_bio(bio, block_start(rc, block + 1) - sector);
			io->iter = bio->bi_iter;
			io->sector = sector;
			defer_bio(rc, bio);
			return DM_MAPIO_SUBMITTED;
		}
		next = next_special(rc, block, last, is_write);
		if (next <= last)
			dm_accept_partial_bio(bio, block_start(rc, next) - sector);
	}

	io->iter = bio->bi_iter;
	io->sector = sector;
	io->to_main = true;
	bio_set_dev(bio, rc->main_dev->bdev);
	bio->bi_iter.bi_sector = sector;
	return DM_MAPIO_REMAPPED;
}

static int remap_end_io(struct dm_target *ti, struct bio *bio,
			blk_status_t *error)
{
	struct remap_c *rc = ti->private;
	struct remap_io *io = dm_per_bio_data(bio, sizeof(struct remap_io));

	if (io->finished)
		return DM_ENDIO_DONE;
	drop_inflight(rc, io);
	if (!*error || !bio_sectors(bio))
		return DM_ENDIO_DONE;
	if (*error == BLK_STS_NOTSUPP || *error == BLK_STS_AGAIN ||
	    bio_op(bio) == REQ_OP_DISCARD)
		return DM_ENDIO_DONE;

	if (bio_op(bio) == REQ_OP_WRITE)
		atomic64_inc(&rc->write_errors);
	else
		atomic64_inc(&rc->read_errors);
	if (!io->to_main)
		return DM_ENDIO_DONE;	/* the spare itself failed: report it */

	/* Completion advanced the iterator: the worker needs it as mapped. */
	bio->bi_iter = io->iter;
	defer_bio(rc, bio);
	return DM_ENDIO_INCOMPLETE;
}

/* ---- lifecycle ---- */

static void remap_presuspend(struct dm_target *ti)
{
	struct remap_c *rc = ti->private;

	/* Refuse new proactive work; bios already deferred still complete. */
	mutex_lock(&rc->remap_lock);
	WRITE_ONCE(rc->suspending, true);
	mutex_unlock(&rc->remap_lock);
}

static void remap_postsuspend(struct dm_target *ti)
{
	struct remap_c *rc = ti->private;

	flush_workqueue(rc->wq);
}

/*
 * Runs once the table is accepted and, on a reload, after the old instance
 * was suspended: the moment to format a blank spare, repair a damaged copy,
 * or re-read a table the old instance extended after our constructor ran.
 */
static int remap_preresume(struct dm_target *ti)
{
	struct remap_c *rc = ti->private;
	int r = 0;

	mutex_lock(&rc->remap_lock);
	/* A blank spare another instance formatted since counts as newer too. */
	if (remap_registry_sync(rc) || rc->meta_state == REMAP_META_NEEDS_REPAIR) {
		r = remap_meta_load(rc, true);
		if (r)
			DMERR("%s: reloading metadata failed: %s",
			      rc->spare_dev->name, ti->error);
	}
	if (!r && rc->meta_state == REMAP_META_BLANK) {
		r = remap_meta_format(rc);
		if (r)
			DMERR("%s: formatting the spare failed (%d)",
			      rc->spare_dev->name, r);
	}
	if (!r) {
		remap_registry_sync(rc);
		WRITE_ONCE(rc->any_special, rc->next_slot || rc->nr_pending);
	}
	mutex_unlock(&rc->remap_lock);
	return r;
}

static void remap_resume(struct dm_target *ti)
{
	struct remap_c *rc = ti->private;

	WRITE_ONCE(rc->suspending, false);
}

/* ---- status and messages ---- */

static const char *health_of(struct remap_c *rc)
{
	if (READ_ONCE(rc->metadata_error))
		return "metadata_error";
	if (READ_ONCE(rc->spare_full))
		return "spare_full";
	if (READ_ONCE(rc->next_slot) || READ_ONCE(rc->nr_pending))
		return "degraded";
	return "ok";
}

static void remap_status(struct dm_target *ti, status_type_t type,
			 unsigned int status_flags, char *result,
			 unsigned int maxlen)
{
	struct remap_c *rc = ti->private;
	unsigned int sz = 0;

	switch (type) {
	case STATUSTYPE_INFO:
		DMEMIT("health=%s remapped=%llu pending=%llu spare_used=%llu spare_total=%llu",
		       health_of(rc), READ_ONCE(rc->next_slot),
		       READ_ONCE(rc->nr_pending), READ_ONCE(rc->next_slot),
		       rc->layout.nr_slots);
		DMEMIT(" read_errors=%lld write_errors=%lld remap_failures=%lld metadata_seq=%llu",
		       atomic64_read(&rc->read_errors),
		       atomic64_read(&rc->write_errors),
		       atomic64_read(&rc->remap_failures), READ_ONCE(rc->seq));
		DMEMIT(" block_size=%llu lost_sectors=%lld",
		       (unsigned long long)rc->block_sectors,
		       atomic64_read(&rc->lost_sectors));
		break;
	case STATUSTYPE_TABLE:
		DMEMIT("%s %s", rc->main_dev->name, rc->spare_dev->name);
		if (rc->nr_feature_args)
			DMEMIT(" %u %s", rc->nr_feature_args, rc->feature_args);
		break;
	case STATUSTYPE_IMA:
		DMEMIT_TARGET_NAME_VERSION(ti->type);
		DMEMIT(",main_device_name=%s,spare_device_name=%s,block_size=%llu,read_retries=%u;",
		       rc->main_dev->name, rc->spare_dev->name,
		       (unsigned long long)rc->block_sectors, rc->read_retries);
		break;
	}
}

static int parse_range(unsigned int argc, char **argv, u64 limit, u64 *first,
		       u64 *count, u64 default_count)
{
	*first = 0;
	*count = default_count;
	if (argc > 1 && kstrtou64(argv[1], 10, first))
		return -EINVAL;
	if (argc > 2 && kstrtou64(argv[2], 10, count))
		return -EINVAL;
	/* A zero count would wrap the inclusive range end used by the listings. */
	if (argc > 3 || *first >= limit || !*count)
		return -EINVAL;
	*count = min(*count, limit - *first);
	return 0;
}

/*
 * Copy blocks [first, first + count) to the spare while main can still be
 * read, then remap them; already remapped blocks are skipped. Works in steps
 * of contiguous runs so each step is one read, one write and one table update.
 */
static int remap_proactive(struct remap_c *rc, u64 first, u64 count)
{
	unsigned int max_run = min_t(u64, REMAP_BATCH_MAX,
				     REMAP_BULK_BYTES >> (rc->block_shift + SECTOR_SHIFT));
	u64 block = first, end = first + count, *blocks;
	void *data;
	int r = 0;

	data = kvmalloc(REMAP_BULK_BYTES, GFP_KERNEL);
	blocks = kvmalloc_array(max_run, sizeof(*blocks), GFP_KERNEL);
	if (!data || !blocks) {
		r = -ENOMEM;
		goto out;
	}
	while (block < end && !r) {
		unsigned int run = 0, i;
		sector_t sectors;
		u64 slot;

		mutex_lock(&rc->remap_lock);
		if (rc->suspending) {
			r = -EBUSY;
			goto unlock;
		}
		while (block < end && lookup_slot(rc, block) >= 0)
			block++;
		while (block + run < end && run < max_run &&
		       lookup_slot(rc, block + run) < 0)
			run++;
		if (!run)
			goto unlock;
		if (!reserve_slots(rc, run)) {
			r = -ENOSPC;
			goto unlock;
		}
		r = reserve_index(rc, block, run);
		if (r)
			goto unlock;
		slot = rc->next_slot;
		sectors = (sector_t)run << rc->block_shift;
		remap_begin_move(rc, block, block + run);
		if (remap_sync_io(rc, rc->main_dev, REQ_OP_READ,
				  block_start(rc, block), sectors, data)) {
			/* Some of it is unreadable: salvage block by block. */
			for (i = 0; i < run; i++) {
				read_rest_of_block(rc, block + i, 0, rc->block_sectors);
				memcpy(data + (i << (rc->block_shift + SECTOR_SHIFT)),
				       rc->block_buf, rc->block_sectors << SECTOR_SHIFT);
			}
		}
		r = remap_sync_io(rc, rc->spare_dev, REQ_OP_WRITE,
				  slot_sector(rc, slot), sectors, data);
		if (r) {
			atomic64_add(run, &rc->remap_failures);
		} else {
			for (i = 0; i < run; i++)
				blocks[i] = block + i;
			r = persist_remaps(rc, blocks, run);
		}
		if (!r)
			install_remaps(rc, block, slot, run);
		else
			release_index(rc, block, run);
		remap_end_move(rc);
		block += run;
unlock:
		mutex_unlock(&rc->remap_lock);
		cond_resched();
	}
out:
	kvfree(blocks);
	kvfree(data);
	return r;
}

static int remap_message(struct dm_target *ti, unsigned int argc, char **argv,
			 char *result, unsigned int maxlen)
{
	struct remap_c *rc = ti->private;
	unsigned int sz = 0;
	u64 first, count;
	unsigned long idx;
	void *entry;

	if (!argc)
		return -EINVAL;

	if (!strcasecmp(argv[0], "list_remaps") || !strcasecmp(argv[0], "list_pending")) {
		struct xarray *xa = !strcasecmp(argv[0], "list_remaps") ?
				    &rc->remaps : &rc->pending;

		if (parse_range(argc, argv, rc->nr_blocks, &first, &count, U64_MAX)) {
			DMERR("Invalid %s arguments", argv[0]);
			return -EINVAL;
		}
		rcu_read_lock();
		xa_for_each_range(xa, idx, entry, first, first + count - 1) {
			if (xa == &rc->remaps)
				DMEMIT("%lu %lu\n", idx, xa_to_value(entry));
			else
				DMEMIT("%lu\n", idx);
			/* A full buffer: DM flags it and dmsetup retries larger. */
			if (sz >= maxlen)
				break;
		}
		rcu_read_unlock();
		return 1;
	}
	if (!strcasecmp(argv[0], "remap")) {
		int r;

		if (argc < 2 || parse_range(argc, argv, rc->nr_blocks, &first, &count, 1)) {
			DMERR("Invalid remap arguments");
			return -EINVAL;
		}
		r = remap_proactive(rc, first, count);
		if (r)
			DMERR("%s: proactive remap stopped (%d)", rc->main_dev->name, r);
		return r;
	}
	if (!strcasecmp(argv[0], "clear_stats") && argc == 1) {
		atomic64_set(&rc->read_errors, 0);
		atomic64_set(&rc->write_errors, 0);
		atomic64_set(&rc->remap_failures, 0);
		atomic64_set(&rc->lost_sectors, 0);
		WRITE_ONCE(rc->metadata_error, false);
		return 0;
	}
	DMERR("Unrecognised message received: %s", argv[0]);
	return -EINVAL;
}

static int remap_iterate_devices(struct dm_target *ti,
				 iterate_devices_callout_fn fn, void *data)
{
	struct remap_c *rc = ti->private;
	int r;

	r = fn(ti, rc->main_dev, 0, ti->len, data);
	if (r)
		return r;
	/* The spare with its own length: ti->len may exceed it. */
	return fn(ti, rc->spare_dev, 0, bdev_nr_sectors(rc->spare_dev->bdev), data);
}

static void remap_io_hints(struct dm_target *ti, struct queue_limits *limits)
{
	struct remap_c *rc = ti->private;

	/* Smaller writes to a failing block cost a read-modify-write. */
	remap_limits_raise_io_min(limits, rc->block_sectors << SECTOR_SHIFT);
}

static struct target_type remap_target = {
	.name = "remap",
	.version = {1, 0, 0},
	.module = THIS_MODULE,
	.ctr = remap_ctr,
	.dtr = remap_dtr,
	.map = remap_map,
	.end_io = remap_end_io,
	.presuspend = remap_presuspend,
	.postsuspend = remap_postsuspend,
	.preresume = remap_preresume,
	.resume = remap_resume,
	.status = remap_status,
	.message = remap_message,
	.iterate_devices = remap_iterate_devices,
	.io_hints = remap_io_hints,
};

static int __init dm_remap_init(void)
{
	int r = dm_register_target(&remap_target);

	if (r < 0)
		DMERR("register failed %d", r);
	return r;
}

static void __exit dm_remap_exit(void)
{
	dm_unregister_target(&remap_target);
}

module_init(dm_remap_init);
module_exit(dm_remap_exit);

MODULE_DESCRIPTION(DM_NAME " target remapping bad blocks of a disk onto a spare device");
MODULE_LICENSE("GPL");
