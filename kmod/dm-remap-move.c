// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-remap: finishing the bios that need sleeping I/O, and moving blocks of
 * main to the spare. Runs in the device's worker (bios that failed on main,
 * writes to pending blocks, parts of slots smaller than the spare's logical
 * block) and in the remap message (proactive moves), always under
 * remap_lock: one move at a time per device.
 */
#include "dm-remap.h"

#include <linux/bitmap.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#define REMAP_BULK_BYTES (4 << 20)	/* data copied per proactive step */

/* ---- main's health: a failing streak, and whether main answers at all ---- */

/* A block of main failed for good. Caller holds remap_lock. */
static void note_main_failure(struct remap_c *rc, u64 block)
{
	int streak;

	if (atomic_read(&rc->fail_streak) && block == rc->last_failed_block)
		return;
	rc->last_failed_block = block;
	streak = atomic_inc_return(&rc->fail_streak);
	if (rc->failing_after && streak >= rc->failing_after && !rc->failing) {
		WRITE_ONCE(rc->failing, true);
		DMERR("%s: %d blocks failed, none succeeded between: main failing, no more moves",
		      rc->main_dev->name, streak);
	}
}

/*
 * Does main return data anywhere but `block`? A few reads of one logical
 * block each, near and far. A main that fails them all is unreachable (a
 * pulled cable, an offline path), not bad where `block` is.
 */
static bool main_answers(struct remap_c *rc, u64 block)
{
	u64 places[] = { block - 1, block + 1, 0, rc->nr_blocks / 2, rc->nr_blocks - 1 };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(places); i++) {
		if (places[i] >= rc->nr_blocks || places[i] == block)
			continue;
		if (!remap_sync_io(rc, rc->main_dev, REQ_OP_READ,
				   block_start(rc, places[i]), rc->main_unit,
				   rc->probe_buf)) {
			note_main_success(rc);
			return true;
		}
	}
	return false;
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

/*
 * Mark blocks [first, end) busy and wait until no write sent down before
 * that is still in flight: the worker then reads (main, or a slot it
 * rewrites in part) knowing no older write can land after its read, and
 * newer writes wait on busy_bios.
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
 * Read sectors [from, to) of `block` from main into block_buf: in one read,
 * or when that fails with a medium error, one logical block of main at a
 * time. Sets *answered when main returned any data; marks in `bad` the
 * logical blocks it reports unreadable. Any other error ends the attempt.
 */
static blk_status_t read_from_main(struct remap_c *rc, u64 block,
				   unsigned int from, unsigned int to,
				   unsigned long *bad, bool *answered)
{
	sector_t base = block_start(rc, block);
	blk_status_t status;
	unsigned int s;

	if (from >= to)
		return BLK_STS_OK;
	status = remap_sync_io(rc, rc->main_dev, REQ_OP_READ, base + from,
			       to - from, rc->block_buf + (from << SECTOR_SHIFT));
	if (!status) {
		*answered = true;
		return BLK_STS_OK;
	}
	if (!remap_medium_error(status))
		return status;
	for (s = from; s < to; s += rc->main_unit) {
		status = remap_sync_io(rc, rc->main_dev, REQ_OP_READ, base + s,
				       rc->main_unit,
				       rc->block_buf + (s << SECTOR_SHIFT));
		if (!status)
			*answered = true;
		else if (remap_medium_error(status))
			__set_bit(s, bad);
		else
			return status;
	}
	return BLK_STS_OK;
}

/*
 * Complete block_buf for `block` around sectors [from, to), which the caller
 * filled: the rest is read from main. Sectors main reports unreadable are
 * zeroed (their content is lost already), but only while main answers: when
 * nothing of the block can be read and no read elsewhere succeeds either,
 * main is unreachable rather than bad, and the move is refused (zeroing
 * would destroy data main still holds). Caller holds remap_lock.
 */
static blk_status_t assemble_block(struct remap_c *rc, u64 block,
				   unsigned int from, unsigned int to)
{
	DECLARE_BITMAP(bad, REMAP_MAX_BLOCK_SECTORS);
	sector_t base = block_start(rc, block);
	bool answered = false;
	blk_status_t status;
	unsigned int s;

	bitmap_zero(bad, REMAP_MAX_BLOCK_SECTORS);
	status = read_from_main(rc, block, 0, from, bad, &answered);
	if (!status)
		status = read_from_main(rc, block, to, rc->block_sectors, bad,
					&answered);
	if (status)
		return status;
	if (bitmap_empty(bad, REMAP_MAX_BLOCK_SECTORS))
		return BLK_STS_OK;
	if (answered) {
		note_main_success(rc);
	} else if (!main_answers(rc, block)) {
		DMERR_LIMIT("%s: main does not answer: block %llu not moved",
			    rc->main_dev->name, block);
		return BLK_STS_IOERR;
	}
	for_each_set_bit(s, bad, REMAP_MAX_BLOCK_SECTORS) {
		memset(rc->block_buf + (s << SECTOR_SHIFT), 0,
		       rc->main_unit << SECTOR_SHIFT);
		atomic64_add(rc->main_unit, &rc->lost_sectors);
		DMWARN_LIMIT("%s: sector %llu unreadable while moving block %llu: zeroed",
			     rc->main_dev->name, (unsigned long long)(base + s),
			     block);
	}
	return BLK_STS_OK;
}

/* ---- the index and the pending set ---- */

static void release_index(struct remap_c *rc, struct remap_index_update *up,
			  u64 first_block, unsigned int count)
{
	unsigned int i;

	remap_index_cancel(up);
	for (i = 0; i < count; i++)
		xa_release(&rc->pending, first_block + i);
}

/*
 * Set aside the memory blocks about to be remapped need, before their remap
 * is persisted: a remap on the spare must always be in the index, and a
 * block a failed append leaves in doubt must always be in the pending set,
 * so neither may need memory afterwards. Reserved pending entries read as
 * absent. Caller holds remap_lock, and changes the index in no other way
 * until install_remaps() or release_index().
 */
static int reserve_index(struct remap_c *rc, struct remap_index_update *up,
			 u64 first_block, unsigned int count)
{
	unsigned int i = 0;
	int r;

	r = remap_index_prepare(&rc->index, up, count);
	for (; !r && i < count; i++)
		r = xa_reserve(&rc->pending, first_block + i, GFP_NOIO);
	if (r) {
		release_index(rc, up, first_block, i);
		atomic64_add(count, &rc->remap_failures);
		DMERR_LIMIT("remap index allocation failed for block %llu",
			    first_block);
	}
	return r;
}

/* Set a block's pending kind; kinds only escalate. Caller holds remap_lock. */
static void set_pending(struct remap_c *rc, u64 block, unsigned long kind)
{
	unsigned long old = pending_kind(rc, block);

	if (old >= kind)
		return;
	WRITE_ONCE(rc->any_special, true);
	if (xa_err(xa_store(&rc->pending, block, xa_mk_value(kind), GFP_NOIO)))
		return;
	if (!old)
		WRITE_ONCE(rc->nr_pending, rc->nr_pending + 1);
	if (kind == REMAP_IN_DOUBT)
		rc->nr_in_doubt++;
}

static void clear_pending(struct remap_c *rc, u64 block)
{
	void *entry = xa_erase(&rc->pending, block);

	if (!entry)
		return;
	WRITE_ONCE(rc->nr_pending, rc->nr_pending - 1);
	if (xa_to_value(entry) == REMAP_IN_DOUBT)
		rc->nr_in_doubt--;
}

/* Install remaps whose memory reserve_index() set aside: cannot fail. */
static void install_remaps(struct remap_c *rc, struct remap_index_update *up,
			   u64 first_block, u64 first_slot, unsigned int count)
{
	unsigned int i;

	WRITE_ONCE(rc->any_special, true);
	/* The flag before the entries: pairs with smp_rmb() in remap_map(). */
	smp_wmb();
	remap_index_commit(&rc->index, up, first_block, first_slot, count);
	for (i = 0; i < count; i++) {
		clear_pending(rc, first_block + i);
		xa_release(&rc->pending, first_block + i);
	}
}

/*
 * A successful append rewrote, in both copies, the table sector that a
 * failed one may have left a remap in: every block in doubt is decided (not
 * remapped). Caller holds remap_lock.
 */
static void clear_in_doubt(struct remap_c *rc)
{
	unsigned long block;
	void *entry;

	xa_for_each(&rc->pending, block, entry)
		if (xa_to_value(entry) == REMAP_IN_DOUBT)
			clear_pending(rc, block);
}

/*
 * Persist remaps of blocks [first_block, first_block + count), whose data is
 * already in slots next_slot.. , or record why not. Caller holds remap_lock.
 */
static int persist_remaps(struct remap_c *rc, u64 first_block, u64 *blocks,
			  unsigned int count)
{
	bool in_doubt = false;
	unsigned int i;
	int r;

	for (i = 0; i < count; i++)
		blocks[i] = first_block + i;
	r = remap_meta_append(rc, rc->next_slot, blocks, count, &in_doubt);
	WRITE_ONCE(rc->metadata_error, r != 0);
	if (!r) {
		if (rc->nr_in_doubt)
			clear_in_doubt(rc);
		return 0;
	}
	atomic64_add(count, &rc->remap_failures);
	DMERR_LIMIT("%s: metadata write failed (%d): block %llu not remapped%s",
		    rc->spare_dev->name, r, first_block,
		    in_doubt ? ", the table may hold it: writes to it fail until an update" : "");
	if (in_doubt)
		for (i = 0; i < count; i++)
			set_pending(rc, first_block + i, REMAP_IN_DOUBT);
	return r;
}

/* Free slots, or mark the spare full when there are none. */
static u64 free_slots(struct remap_c *rc)
{
	u64 free = rc->layout.nr_slots - rc->next_slot;

	if (!free) {
		WRITE_ONCE(rc->spare_full, true);
		DMERR_LIMIT("%s: spare full: cannot remap", rc->spare_dev->name);
	}
	return free;
}

/*
 * Move one block to the spare, with sectors [from, to) of it already in
 * block_buf (what a write brought) and the rest read from main. Caller holds
 * remap_lock. Returns 0 once the remap is durable.
 */
static int move_block(struct remap_c *rc, u64 block, unsigned int from,
		      unsigned int to)
{
	struct remap_index_update up;
	u64 slot = rc->next_slot;
	blk_status_t status;
	int r;

	if (!free_slots(rc)) {
		atomic64_inc(&rc->remap_failures);
		return -ENOSPC;
	}
	r = reserve_index(rc, &up, block, 1);
	if (r)
		return r;
	remap_begin_move(rc, block, block + 1);
	status = assemble_block(rc, block, from, to);
	if (status) {
		r = blk_status_to_errno(status);
		atomic64_inc(&rc->remap_failures);
	} else {
		/* No FUA: the metadata write's preflush makes the slot durable first. */
		status = remap_sync_io(rc, rc->spare_dev, REQ_OP_WRITE,
				       slot_sector(rc, slot), rc->block_sectors,
				       rc->block_buf);
		if (status) {
			r = blk_status_to_errno(status);
			atomic64_inc(&rc->remap_failures);
			DMERR_LIMIT("%s: writing slot %llu failed (%d)",
				    rc->spare_dev->name, slot, r);
		} else {
			r = persist_remaps(rc, block, &block, 1);
		}
	}
	if (!r) {
		install_remaps(rc, &up, block, slot, 1);
		DMINFO_LIMIT("%s: block %llu remapped to spare slot %llu",
			     rc->main_dev->name, block, slot);
	} else {
		release_index(rc, &up, block, 1);
	}
	remap_end_move(rc);
	return r;
}

/* ---- the worker: finishing bios that need sleeping I/O ---- */

/*
 * Sectors [from, to) of a remapped block on its slot. The spare takes whole
 * logical blocks only: a part smaller than one (a 512-byte write to a spare
 * with 4 KiB sectors) is read around and rewritten whole, with the block
 * busy so no other write to it lands in between.
 */
static blk_status_t write_slot(struct remap_c *rc, struct bio *bio, u64 block,
			       s64 slot, unsigned int from, unsigned int to,
			       unsigned int offset)
{
	unsigned int a_from = round_down(from, rc->spare_unit);
	unsigned int a_to = round_up(to, rc->spare_unit);
	void *buf = rc->block_buf + (a_from << SECTOR_SHIFT);
	sector_t where = slot_sector(rc, slot) + a_from;
	bool partial = a_from != from || a_to != to;
	blk_status_t status = BLK_STS_OK;

	if (partial) {
		remap_begin_move(rc, block, block + 1);
		status = remap_sync_io(rc, rc->spare_dev, REQ_OP_READ, where,
				       a_to - a_from, buf);
	}
	if (!status) {
		copy_bio_data(bio, offset, rc->block_buf + (from << SECTOR_SHIFT),
			      (to - from) << SECTOR_SHIFT, false);
		status = remap_sync_io(rc, rc->spare_dev,
				       REQ_OP_WRITE | (bio->bi_opf & REQ_FUA),
				       where, a_to - a_from, buf);
	}
	if (partial)
		remap_end_move(rc);
	return status;
}

static blk_status_t write_part(struct remap_c *rc, struct bio *bio, u64 block,
			       unsigned int from, unsigned int to,
			       unsigned int offset)
{
	void *buf = rc->block_buf + (from << SECTOR_SHIFT);
	blk_status_t status = BLK_STS_IOERR;
	unsigned long kind;
	s64 slot;

	slot = lookup_slot(rc, block);
	if (slot >= 0)
		return write_slot(rc, bio, block, slot, from, to, offset);
	kind = pending_kind(rc, block);
	if (kind == REMAP_IN_DOUBT) {
		DMERR_LIMIT("%s: block %llu is in doubt after a failed table update: write refused",
			    rc->main_dev->name, block);
		return BLK_STS_IOERR;
	}
	copy_bio_data(bio, offset, buf, (to - from) << SECTOR_SHIFT, false);
	/* A pending block is moved at once (the disk's own rule), unless moves stopped. */
	if (kind != REMAP_UNREADABLE || READ_ONCE(rc->failing)) {
		status = remap_sync_io(rc, rc->main_dev,
				       REQ_OP_WRITE | (bio->bi_opf & REQ_FUA),
				       block_start(rc, block) + from, to - from, buf);
		if (!status) {
			note_main_success(rc);
			if (kind)
				clear_pending(rc, block);
			return BLK_STS_OK;
		}
		if (!remap_medium_error(status))
			return status;
		note_main_failure(rc, block);
		if (READ_ONCE(rc->failing))
			return status;
	}
	return move_block(rc, block, from, to) ? status : BLK_STS_OK;
}

static blk_status_t read_part(struct remap_c *rc, struct bio *bio, u64 block,
			      unsigned int from, unsigned int to,
			      unsigned int offset)
{
	unsigned int attempts = max(rc->read_retries, 1U), i;
	s64 slot = lookup_slot(rc, block);
	blk_status_t status = BLK_STS_OK;

	if (slot >= 0) {
		unsigned int a_from = round_down(from, rc->spare_unit);
		unsigned int a_to = round_up(to, rc->spare_unit);

		status = remap_sync_io(rc, rc->spare_dev, REQ_OP_READ,
				       slot_sector(rc, slot) + a_from, a_to - a_from,
				       rc->block_buf + (a_from << SECTOR_SHIFT));
	} else {
		for (i = 0; i < attempts; i++) {
			status = remap_sync_io(rc, rc->main_dev, REQ_OP_READ,
					       block_start(rc, block) + from, to - from,
					       rc->block_buf + (from << SECTOR_SHIFT));
			if (!status || !remap_medium_error(status))
				break;
		}
		if (!status) {
			note_main_success(rc);
		} else if (remap_medium_error(status)) {
			note_main_failure(rc, block);
			if (!pending_kind(rc, block))
				DMWARN_LIMIT("%s: block %llu unreadable after %u attempts: pending",
					     rc->main_dev->name, block, attempts);
			set_pending(rc, block, REMAP_UNREADABLE);
		}
	}
	if (!status)
		copy_bio_data(bio, offset, rc->block_buf + (from << SECTOR_SHIFT),
			      (to - from) << SECTOR_SHIFT, true);
	return status;
}

/*
 * Finish a bio one block at a time with synchronous I/O. A bio that failed
 * on main is redone whole from the iterator saved in map: a request-based
 * device advances the bio before ending it, fully or past a good prefix, and
 * nothing says how far the good part went. Redoing the good part rewrites
 * the same data or rereads it, which is harmless.
 */
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
		blk_status_t r;

		if (is_write)
			r = write_part(rc, bio, block, from, to, offset);
		else
			r = read_part(rc, bio, block, from, to, offset);
		if (r && !status)
			status = r;
		offset += (to - from) << SECTOR_SHIFT;
		sector += to - from;
	}
	mutex_unlock(&rc->remap_lock);

	io->finished = true;
	bio->bi_status = status;
	bio_endio(bio);
}

void remap_worker(struct work_struct *work)
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

void remap_defer_bio(struct remap_c *rc, struct bio *bio)
{
	unsigned long flags;

	spin_lock_irqsave(&rc->lock, flags);
	bio_list_add(&rc->deferred, bio);
	spin_unlock_irqrestore(&rc->lock, flags);
	queue_work(rc->wq, &rc->worker);
}

/*
 * Read blocks [block, block + run) of main into `data` for a proactive step:
 * one read, or block by block when it fails. Checks between blocks that the
 * device is not being suspended (a salvage read can take a SCSI timeout per
 * sector). Caller holds remap_lock and made the blocks busy.
 */
static int read_run(struct remap_c *rc, u64 block, unsigned int run, void *data)
{
	size_t block_bytes = rc->block_sectors << SECTOR_SHIFT;
	blk_status_t status;
	unsigned int i;

	status = remap_sync_io(rc, rc->main_dev, REQ_OP_READ, block_start(rc, block),
			       (sector_t)run << rc->block_shift, data);
	if (!status) {
		note_main_success(rc);
		return 0;
	}
	if (!remap_medium_error(status))
		return blk_status_to_errno(status);
	for (i = 0; i < run; i++) {
		if (!READ_ONCE(rc->live))
			return -EBUSY;
		status = assemble_block(rc, block + i, 0, 0);
		if (status)
			return blk_status_to_errno(status);
		memcpy(data + i * block_bytes, rc->block_buf, block_bytes);
	}
	return 0;
}

/*
 * Copy blocks [first, first + count) to the spare while main can still be
 * read, then remap them; already remapped blocks are skipped. Works in steps
 * of contiguous runs so each step is one read, one write and one table
 * update; a run is cut to the slots left, so what fits moves before ENOSPC.
 */
int remap_proactive(struct remap_c *rc, u64 first, u64 count)
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
		struct remap_index_update up;
		unsigned int run = 0;
		u64 slot, free;

		mutex_lock(&rc->remap_lock);
		if (!READ_ONCE(rc->live)) {
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
		free = free_slots(rc);
		if (!free) {
			atomic64_add(run, &rc->remap_failures);
			r = -ENOSPC;
			goto unlock;
		}
		run = min_t(u64, run, free);
		r = reserve_index(rc, &up, block, run);
		if (r)
			goto unlock;
		slot = rc->next_slot;
		remap_begin_move(rc, block, block + run);
		r = read_run(rc, block, run, data);
		if (!r) {
			r = blk_status_to_errno(remap_sync_io(rc, rc->spare_dev,
							      REQ_OP_WRITE,
							      slot_sector(rc, slot),
							      (sector_t)run << rc->block_shift,
							      data));
			if (r)
				atomic64_add(run, &rc->remap_failures);
			else
				r = persist_remaps(rc, block, blocks, run);
		}
		if (!r)
			install_remaps(rc, &up, block, slot, run);
		else
			release_index(rc, &up, block, run);
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

