// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-remap: a device-mapper target that keeps a disk with bad sectors usable
 * by moving failing blocks of a main device onto a spare device.
 *
 * I/O to normal blocks goes straight to main; I/O to remapped blocks goes to
 * their slot on the spare (bios are split at remapped block boundaries in
 * map). A bio that fails on main with an error saying the medium failed is
 * finished by a worker that may sleep:
 *  - a failed write is retried block by block; a block that still fails is
 *    moved to the spare (its other sectors read from main, those main reports
 *    unreadable zeroed), the remap is persisted, then the write completes
 *    without error;
 *  - a failed read is retried read_retries times per block; a block that
 *    still fails is returned as an error and recorded as pending, and the
 *    next write to it moves it to the spare.
 * Any other error (a full thin pool, a fenced node, a lost path...) is
 * returned unchanged: moving on it would burn the spare, or write what must
 * not be written. This file is the target (table, bio mapping, completion,
 * lifecycle, status, messages); the worker and the moves are in
 * dm-remap-move.c, the remap table on the spare in dm-remap-metadata.c.
 */
#include "dm-remap.h"
#include "dm-remap-compat.h"

#include <linux/module.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#define REMAP_DEFAULT_BLOCK_SECTORS 8
#define REMAP_DEFAULT_READ_RETRIES 3
#define REMAP_MAX_READ_RETRIES 16
#define REMAP_DEFAULT_FAILING_AFTER 1024

/* ---- writes in flight (see remap_begin_move() in dm-remap-move.c) ---- */

static void put_inflight(struct remap_c *rc, unsigned int epoch)
{
	if (atomic_dec_and_test(&rc->inflight[epoch]) &&
	    wq_has_sleeper(&rc->drain_wait))
		wake_up(&rc->drain_wait);
}

/*
 * Count a write about to be sent down in the current epoch. The recheck
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

static void drop_inflight(struct remap_c *rc, struct remap_io *io)
{
	if (io->counted) {
		io->counted = false;
		put_inflight(rc, io->epoch);
	}
}

/* ---- constructor / destructor ---- */

static int parse_features(struct dm_arg_set *as, struct remap_c *rc,
			  struct dm_target *ti)
{
	static const struct dm_arg _args[] = {
		{0, 8, "Invalid number of feature arguments"},
		{1, REMAP_MAX_BLOCK_SECTORS, "Invalid block_size"},
		{0, REMAP_MAX_READ_RETRIES, "Invalid read_retries"},
		{0, UINT_MAX, "Invalid failing_after"},
	};
	unsigned int argc, value;
	const char *name;
	int r;

	if (!as->argc)
		return 0;
	r = dm_read_arg_group(_args, as, &argc, &ti->error);
	if (r)
		return r;

	while (argc) {
		name = dm_shift_arg(as);
		argc--;
		if (!strcasecmp(name, "block_size") && argc) {
			if (rc->given_block_size) {
				ti->error = "Feature block_size duplicated";
				return -EINVAL;
			}
			rc->given_block_size = true;
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
			if (rc->given_read_retries) {
				ti->error = "Feature read_retries duplicated";
				return -EINVAL;
			}
			rc->given_read_retries = true;
			r = dm_read_arg(_args + 2, as, &value, &ti->error);
			if (r)
				return r;
			rc->read_retries = value;
			argc--;
		} else if (!strcasecmp(name, "failing_after") && argc) {
			if (rc->given_failing_after) {
				ti->error = "Feature failing_after duplicated";
				return -EINVAL;
			}
			rc->given_failing_after = true;
			r = dm_read_arg(_args + 3, as, &value, &ti->error);
			if (r)
				return r;
			rc->failing_after = value;
			argc--;
		} else if (!strcasecmp(name, "main_id") && argc) {
			const char *id = dm_shift_arg(as);

			if (rc->main_id[0]) {
				ti->error = "Feature main_id duplicated";
				return -EINVAL;
			}
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
	return 0;
}

static void remap_dtr(struct dm_target *ti)
{
	struct remap_c *rc = ti->private;

	/* Drains queued work; no work waits on this device's own I/O. */
	if (rc->wq)
		destroy_workqueue(rc->wq);
	remap_registry_put(rc);
	remap_index_destroy(&rc->index);
	xa_destroy(&rc->pending);
	remap_io_exit(rc);
	kvfree(rc->rollback_buf);
	kvfree(rc->meta_buf);
	kfree(rc->tail);
	kfree(rc->probe_buf);
	kvfree(rc->block_buf);
	if (rc->spare_dev)
		dm_put_device(ti, rc->spare_dev);
	if (rc->main_dev)
		dm_put_device(ti, rc->main_dev);
	kfree(rc);
}

/* Check the devices' logical block sizes against the block size. */
static int check_units(struct remap_c *rc, struct dm_target *ti)
{
	unsigned int main_lbs = bdev_logical_block_size(rc->main_dev->bdev);
	unsigned int spare_lbs = bdev_logical_block_size(rc->spare_dev->bdev);
	unsigned int block_bytes = rc->block_sectors << SECTOR_SHIFT;

	if (main_lbs > block_bytes) {
		ti->error = "Main's logical block size exceeds block_size";
		return -EINVAL;
	}
	if (spare_lbs > block_bytes) {
		ti->error = "Spare's logical block size exceeds block_size";
		return -EINVAL;
	}
	if (spare_lbs > REMAP_MAX_UNIT_SECTORS << SECTOR_SHIFT) {
		ti->error = "Spare's logical block size exceeds 4096 bytes";
		return -EINVAL;
	}
	rc->main_unit = main_lbs >> SECTOR_SHIFT;
	rc->spare_unit = spare_lbs >> SECTOR_SHIFT;
	return 0;
}

/*
 * Construct a remap mapping:
 *   <main_dev> <spare_dev> [<#feature_args> [block_size <sectors>]
 *                          [read_retries <n>] [main_id <string>]
 *                          [failing_after <blocks>]]
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
	rc->failing_after = REMAP_DEFAULT_FAILING_AFTER;
	remap_index_init(&rc->index);
	xa_init(&rc->pending);
	mutex_init(&rc->remap_lock);
	spin_lock_init(&rc->lock);
	bio_list_init(&rc->busy_bios);
	bio_list_init(&rc->deferred);
	init_waitqueue_head(&rc->drain_wait);
	INIT_WORK(&rc->worker, remap_worker);
	INIT_LIST_HEAD(&rc->reg_node);

	as.argc = argc - 2;
	as.argv = argv + 2;
	r = parse_features(&as, rc, ti);
	if (r)
		goto bad;
	r = -EINVAL;
	if (as.argc) {
		ti->error = "Unexpected words after the feature arguments";
		goto bad;
	}
	rc->block_shift = ilog2(rc->block_sectors);
	if (ti->len & (rc->block_sectors - 1)) {
		ti->error = "Target length is not a multiple of block_size";
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
	r = check_units(rc, ti);
	if (r)
		goto bad;

	r = -ENOMEM;
	ti->error = "Cannot allocate memory";
	rc->block_buf = kvmalloc(rc->block_sectors << SECTOR_SHIFT, GFP_KERNEL);
	rc->probe_buf = kmalloc(rc->main_unit << SECTOR_SHIFT, GFP_KERNEL);
	rc->tail = kzalloc(rc->spare_unit << SECTOR_SHIFT, GFP_KERNEL);
	rc->meta_buf = kvmalloc(remap_meta_buf_bytes(), GFP_KERNEL);
	rc->rollback_buf = kvmalloc(remap_meta_buf_bytes(), GFP_KERNEL);
	if (!rc->block_buf || !rc->probe_buf || !rc->tail || !rc->meta_buf ||
	    !rc->rollback_buf)
		goto bad;
	r = remap_io_init(rc);
	if (r)
		goto bad;
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
	/* Flushes must reach the spare even when main has no write cache. */
	ti->flush_supported = true;
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
	u64 found = remap_index_next(&rc->index, block + 1, last);
	unsigned long idx;

	if (is_write && READ_ONCE(rc->nr_pending)) {
		idx = block + 1;
		if (xa_find(&rc->pending, &idx, last, XA_PRESENT) && idx < found)
			found = idx;
	}
	return found;
}

/* Hand a bio (already cut to one block) to the worker. */
static int map_to_worker(struct remap_c *rc, struct bio *bio,
			 struct remap_io *io, sector_t sector)
{
	/* The worker may drain writes (remap_begin_move): never wait on itself. */
	drop_inflight(rc, io);
	io->iter = bio->bi_iter;
	io->sector = sector;
	remap_defer_bio(rc, bio);
	return DM_MAPIO_SUBMITTED;
}

static int remap_map(struct dm_target *ti, struct bio *bio)
{
	struct remap_c *rc = ti->private;
	struct remap_io *io = dm_per_bio_data(bio, sizeof(struct remap_io));
	bool is_write = bio_op(bio) == REQ_OP_WRITE;
	sector_t sector, offset;
	u64 block, last, next, run;
	s64 slot;

	io->counted = false;
	io->finished = false;
	io->route = ROUTE_OTHER;

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
		slot = remap_index_lookup_run(&rc->index, block, &run);
		if (slot >= 0) {
			/* As far as the following blocks sit on the following slots. */
			if (last - block >= run)
				dm_accept_partial_bio(bio, block_start(rc, block + run) - sector);
			offset = sector - block_start(rc, block);
			/* A spare with larger logical blocks: the worker reads around. */
			if (unlikely(rc->spare_unit > rc->main_unit) &&
			    ((offset | bio_sectors(bio)) & (rc->spare_unit - 1)))
				return map_to_worker(rc, bio, io, sector);
			/* Writes stay counted: a partial slot rewrite drains them. */
			io->route = ROUTE_SPARE;
			bio_set_dev(bio, rc->spare_dev->bdev);
			bio->bi_iter.bi_sector = slot_sector(rc, slot) + offset;
			return DM_MAPIO_REMAPPED;
		}
		if (is_write && pending_kind(rc, block)) {
			/* The disk's own rule: rewriting an unreadable block moves it. */
			if (last > block)
				dm_accept_partial_bio(bio, block_start(rc, block + 1) - sector);
			return map_to_worker(rc, bio, io, sector);
		}
		next = next_special(rc, block, last, is_write);
		if (next <= last)
			dm_accept_partial_bio(bio, block_start(rc, next) - sector);
	}

	io->iter = bio->bi_iter;
	io->sector = sector;
	io->route = ROUTE_MAIN;
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
	/* Decided from what map did: a blk-mq device ends a bio fully advanced. */
	if (io->route == ROUTE_OTHER)
		return DM_ENDIO_DONE;
	if (!*error) {
		if (io->route == ROUTE_MAIN)
			note_main_success(rc);
		return DM_ENDIO_DONE;
	}

	if (bio_op(bio) == REQ_OP_WRITE)
		atomic64_inc(&rc->write_errors);
	else
		atomic64_inc(&rc->read_errors);
	if (io->route == ROUTE_SPARE)
		return DM_ENDIO_DONE;	/* the spare itself failed: report it */
	if (!remap_medium_error(*error)) {
		atomic64_inc(&rc->other_errors);
		return DM_ENDIO_DONE;
	}

	/* Completion advanced the iterator: the worker needs it as mapped. */
	bio->bi_iter = io->iter;
	remap_defer_bio(rc, bio);
	return DM_ENDIO_INCOMPLETE;
}

/* ---- lifecycle ---- */

static void remap_presuspend(struct dm_target *ti)
{
	struct remap_c *rc = ti->private;

	/*
	 * Refuse new proactive work and make a running step stop at its next
	 * block; no lock, so a suspend never waits for a step. Bios already
	 * deferred still complete.
	 */
	WRITE_ONCE(rc->live, false);
}

static void remap_presuspend_undo(struct dm_target *ti)
{
	struct remap_c *rc = ti->private;

	WRITE_ONCE(rc->live, true);
}

static void remap_postsuspend(struct dm_target *ti)
{
	struct remap_c *rc = ti->private;

	flush_workqueue(rc->wq);
	/* A proactive step still running stops at its next block: wait for that. */
	mutex_lock(&rc->remap_lock);
	mutex_unlock(&rc->remap_lock);
}

/*
 * Runs once the table is accepted and, on a reload, after the old instance
 * was suspended: the moment to format a blank spare, repair a damaged copy,
 * re-read a table the old instance extended after our constructor ran, or
 * read again a table whose last read failed. It fails until the table is
 * loaded: a device never comes up with remapped blocks reading main.
 */
static int remap_preresume(struct dm_target *ti)
{
	struct remap_c *rc = ti->private;
	int r = 0;

	mutex_lock(&rc->remap_lock);
	/* A blank spare another instance formatted since counts as newer too. */
	if (remap_registry_sync(rc) || rc->meta_state == REMAP_META_UNLOADED ||
	    rc->meta_state == REMAP_META_NEEDS_REPAIR) {
		r = remap_meta_load(rc, true);
		if (r)
			DMERR("%s: reading the metadata failed: %s",
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

	WRITE_ONCE(rc->live, true);
}

/* ---- status and messages ---- */

static const char *health_of(struct remap_c *rc)
{
	if (READ_ONCE(rc->metadata_error))
		return "metadata_error";
	if (READ_ONCE(rc->failing))
		return "failing";
	if (READ_ONCE(rc->spare_full))
		return "spare_full";
	if (READ_ONCE(rc->next_slot) || READ_ONCE(rc->nr_pending))
		return "degraded";
	return "ok";
}

/* TABLE status: the features that were given, in one fixed order. */
static void emit_features(struct remap_c *rc, char *result, unsigned int maxlen,
			  unsigned int *szp)
{
	unsigned int nr = 2 * (rc->given_block_size + rc->given_read_retries +
			       rc->given_failing_after + !!rc->main_id[0]);
	unsigned int sz = *szp;

	if (!nr)
		return;
	DMEMIT(" %u", nr);
	if (rc->given_block_size)
		DMEMIT(" block_size %llu", (unsigned long long)rc->block_sectors);
	if (rc->given_read_retries)
		DMEMIT(" read_retries %u", rc->read_retries);
	if (rc->main_id[0])
		DMEMIT(" main_id %s", rc->main_id);
	if (rc->given_failing_after)
		DMEMIT(" failing_after %u", rc->failing_after);
	*szp = sz;
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
		DMEMIT(" block_size=%llu lost_sectors=%lld other_errors=%lld",
		       (unsigned long long)rc->block_sectors,
		       atomic64_read(&rc->lost_sectors),
		       atomic64_read(&rc->other_errors));
		break;
	case STATUSTYPE_TABLE:
		DMEMIT("%s %s", rc->main_dev->name, rc->spare_dev->name);
		emit_features(rc, result, maxlen, &sz);
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

/* Reply "<block> <slot>" per remap in [first, last]; a full buffer stops it. */
static void list_remaps(struct remap_c *rc, u64 first, u64 last, char *result,
			unsigned int maxlen)
{
	struct remap_index_iter it;
	unsigned int sz = 0;
	u64 block, slot;

	rcu_read_lock();
	remap_index_iter_start(&rc->index, &it, first, last);
	/* A full buffer: DM flags it and dmsetup retries larger. */
	while (sz < maxlen && remap_index_iter_next(&it, &block, &slot))
		DMEMIT("%llu %llu\n", block, slot);
	rcu_read_unlock();
}

/* Reply one pending block per line in [first, last]. */
static void list_pending(struct remap_c *rc, u64 first, u64 last, char *result,
			 unsigned int maxlen)
{
	unsigned int sz = 0;
	unsigned long idx;
	void *entry;

	rcu_read_lock();
	xa_for_each_range(&rc->pending, idx, entry, first, last) {
		DMEMIT("%lu\n", idx);
		if (sz >= maxlen)
			break;
	}
	rcu_read_unlock();
}

static int remap_message(struct dm_target *ti, unsigned int argc, char **argv,
			 char *result, unsigned int maxlen)
{
	struct remap_c *rc = ti->private;
	u64 first, count;

	if (!argc)
		return -EINVAL;

	if (!strcasecmp(argv[0], "list_remaps") || !strcasecmp(argv[0], "list_pending")) {
		if (parse_range(argc, argv, rc->nr_blocks, &first, &count, U64_MAX)) {
			DMERR("Invalid %s arguments", argv[0]);
			return -EINVAL;
		}
		if (!strcasecmp(argv[0], "list_remaps"))
			list_remaps(rc, first, first + count - 1, result, maxlen);
		else
			list_pending(rc, first, first + count - 1, result, maxlen);
		return 1;
	}
	if (!strcasecmp(argv[0], "remap")) {
		int r;

		if (argc < 2 || parse_range(argc, argv, rc->nr_blocks, &first, &count, 1)) {
			DMERR("Invalid remap arguments");
			return -EINVAL;
		}
		/* Only a resumed instance knows the table is current (preresume read it). */
		if (!READ_ONCE(rc->live))
			return -EBUSY;
		r = remap_proactive(rc, first, count);
		if (r)
			DMERR("%s: proactive remap stopped (%d)", rc->main_dev->name, r);
		return r;
	}
	if (!strcasecmp(argv[0], "clear_stats") && argc == 1) {
		atomic64_set(&rc->read_errors, 0);
		atomic64_set(&rc->write_errors, 0);
		atomic64_set(&rc->other_errors, 0);
		atomic64_set(&rc->remap_failures, 0);
		atomic64_set(&rc->lost_sectors, 0);
		atomic_set(&rc->fail_streak, 0);
		WRITE_ONCE(rc->failing, false);
		WRITE_ONCE(rc->metadata_error, false);
		return 0;
	}
	DMERR("Unrecognised message received: %s", argv[0]);
	return -EINVAL;
}

/*
 * Only main: the mapped device shows main's limits (rotational, discard,
 * alignment). The spare's would leak into it otherwise: an HDD spare made an
 * SSD device rotational, a spare without discard hid main's. The spare's own
 * needs are met by the target: flush_supported sends flushes to it, and I/O
 * smaller than its logical block goes through the worker.
 */
static int remap_iterate_devices(struct dm_target *ti,
				 iterate_devices_callout_fn fn, void *data)
{
	struct remap_c *rc = ti->private;

	return fn(ti, rc->main_dev, 0, ti->len, data);
}

static void remap_io_hints(struct dm_target *ti, struct queue_limits *limits)
{
	struct remap_c *rc = ti->private;

	/* Smaller writes to a failing block cost a read-modify-write. */
	remap_limits_raise_io_min(limits, rc->block_sectors << SECTOR_SHIFT);
}

static struct target_type remap_target = {
	.name = "remap",
	.version = {1, 1, 0},
	.module = THIS_MODULE,
	.ctr = remap_ctr,
	.dtr = remap_dtr,
	.map = remap_map,
	.end_io = remap_end_io,
	.presuspend = remap_presuspend,
	.presuspend_undo = remap_presuspend_undo,
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
