// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-remap: the persistent remap table kept on the spare device.
 *
 * On-disk layout (512-byte sectors, little-endian):
 *
 *   sector 0                 superblock, copy A
 *   sector 8                 superblock, copy B (another 4 KiB block)
 *   table_a .. +T            table copy A
 *   table_b .. +T            table copy B
 *   data_start ..            slots, one block each, slot n at
 *                            data_start + n * block_sectors
 *
 * Slots are handed out in order and never freed, so table entry n describes
 * slot n: table sector i holds the main block numbers of slots
 * i * 60 .. i * 60 + 59. Persisting a remap rewrites only the table sector
 * holding its slot (the spare's logical block holding it, on a spare with
 * 4 KiB sectors), in copy A (with a preflush, which also makes the data
 * already written to the slot durable) and then in copy B, each with FUA: one
 * copy is whole at any moment, and the n-th remap costs the same as the first.
 * A remap that fills its sector also writes the next one with no entries. An
 * append that fails is undone on both copies at a newer sequence number, so
 * the table never holds a remap the index does not.
 *
 * Every sector carries its own CRC32 and the sequence number of the update
 * that wrote it; the format id (random, chosen at format time) ties table
 * sectors to their superblock so leftovers of an earlier format are ignored.
 * On load the newer valid copy of each sector wins and a damaged copy is
 * rewritten from the other. The table is the run of full sectors from the
 * start plus the first sector that is not full: an update interrupted before
 * it was acknowledged may leave later sectors behind, which are ignored.
 */
#include "dm-remap.h"

#include <linux/crc32.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#define REMAP_SB_MAGIC 0x53504d52	/* "RMPS" */
#define REMAP_TS_MAGIC 0x54504d52	/* "RMPT" */
#define REMAP_FORMAT_VERSION 1
#define REMAP_SB_A 0
#define REMAP_SB_B 8
#define REMAP_TABLE_START 16
#define REMAP_CRC_SEED 0xd3e7a9c1
#define REMAP_LOAD_CHUNK 256		/* table sectors read per step */

struct remap_disk_sb {
	__le32 magic;
	__le32 crc;
	__le32 version;
	__le32 block_sectors;
	__le64 main_sectors;
	__le64 spare_sectors;
	__le64 format_id;
	__le64 table_sectors;
	__le64 table_a;
	__le64 table_b;
	__le64 data_start;
	__le64 nr_slots;
	__le64 seq;
	char main_id[REMAP_MAIN_ID_MAX + 1];
	u8 pad[360];
} __packed;

struct remap_disk_table {
	__le32 magic;
	__le32 crc;
	__le64 format_id;
	__le64 seq;
	__le32 index;
	__le32 count;
	__le64 blocks[REMAP_ENTRIES_PER_SECTOR];
} __packed;

static_assert(sizeof(struct remap_disk_sb) == SECTOR_SIZE);
static_assert(sizeof(struct remap_disk_table) == SECTOR_SIZE);

enum sector_kind { SECTOR_ZERO, SECTOR_VALID, SECTOR_BAD };

static u32 remap_crc(const void *sector)
{
	/* The crc field is the second word: checksum around it. */
	u32 crc = crc32_le(REMAP_CRC_SEED, sector, 4);
	static const u8 zero[4];

	crc = crc32_le(crc, zero, sizeof(zero));
	return crc32_le(crc, (const u8 *)sector + 8, SECTOR_SIZE - 8);
}

static bool sector_is_zero(const void *sector)
{
	return !memchr_inv(sector, 0, SECTOR_SIZE);
}

/* ---- layout ---- */

static sector_t layout_for(sector_t spare_sectors, sector_t block_sectors,
			   u64 nr_slots, struct remap_layout *l)
{
	sector_t align = max_t(sector_t, block_sectors, 8);

	l->table_sectors = DIV_ROUND_UP_ULL(nr_slots, REMAP_ENTRIES_PER_SECTOR);
	if (!l->table_sectors)
		l->table_sectors = 1;
	l->table_a = REMAP_TABLE_START;
	l->table_b = l->table_a + round_up(l->table_sectors, 8);
	l->data_start = round_up(l->table_b + l->table_sectors, align);
	l->nr_slots = nr_slots;
	return l->data_start + nr_slots * block_sectors;
}

/* The largest slot count whose table and slots fit in the spare. */
static int compute_layout(sector_t spare_sectors, sector_t block_sectors,
			  struct remap_layout *l)
{
	/* Past REMAP_INDEX_MAX_SLOT the index cannot hold a slot: leave the rest unused. */
	u64 lo = 0, hi = min_t(u64, spare_sectors / block_sectors,
			       REMAP_INDEX_MAX_SLOT + 1);

	while (lo < hi) {
		u64 mid = lo + (hi - lo + 1) / 2;

		if (layout_for(spare_sectors, block_sectors, mid, l) <= spare_sectors)
			lo = mid;
		else
			hi = mid - 1;
	}
	layout_for(spare_sectors, block_sectors, lo, l);
	return lo ? 0 : -ENOSPC;
}

/* ---- spare I/O in whole logical blocks ---- */

static int spare_io(struct remap_c *rc, blk_opf_t opf, sector_t sector,
		    sector_t count, void *buf)
{
	return blk_status_to_errno(remap_sync_io(rc, rc->spare_dev, opf, sector,
						 count, buf));
}

/*
 * Read sectors [start, start + n) of one copy (n a multiple of the spare's
 * logical block). When the read fails, each logical block is read alone: one
 * unreadable sector must not make its neighbours count as damaged. What
 * cannot be read is filled with 0xff, which never passes as a valid sector.
 */
static void read_copy(struct remap_c *rc, sector_t start, unsigned int n,
		      void *buf)
{
	unsigned int unit = rc->spare_unit, s;

	if (!spare_io(rc, REQ_OP_READ, start, n, buf))
		return;
	for (s = 0; s < n; s += unit)
		if (spare_io(rc, REQ_OP_READ, start + s, unit, buf + s * SECTOR_SIZE))
			memset(buf + s * SECTOR_SIZE, 0xff, unit * SECTOR_SIZE);
}

/* ---- superblock ---- */

static enum sector_kind check_sb(const struct remap_disk_sb *sb)
{
	if (sector_is_zero(sb))
		return SECTOR_ZERO;
	if (le32_to_cpu(sb->magic) != REMAP_SB_MAGIC ||
	    le32_to_cpu(sb->crc) != remap_crc(sb))
		return SECTOR_BAD;
	return SECTOR_VALID;
}

static void fill_sb(struct remap_c *rc, struct remap_disk_sb *sb)
{
	memset(sb, 0, sizeof(*sb));
	sb->magic = cpu_to_le32(REMAP_SB_MAGIC);
	sb->version = cpu_to_le32(REMAP_FORMAT_VERSION);
	sb->block_sectors = cpu_to_le32(rc->block_sectors);
	sb->main_sectors = cpu_to_le64(rc->ti->len);
	sb->spare_sectors = cpu_to_le64(bdev_nr_sectors(rc->spare_dev->bdev));
	sb->format_id = cpu_to_le64(rc->format_id);
	sb->table_sectors = cpu_to_le64(rc->layout.table_sectors);
	sb->table_a = cpu_to_le64(rc->layout.table_a);
	sb->table_b = cpu_to_le64(rc->layout.table_b);
	sb->data_start = cpu_to_le64(rc->layout.data_start);
	sb->nr_slots = cpu_to_le64(rc->layout.nr_slots);
	sb->seq = cpu_to_le64(rc->seq);
	strscpy(sb->main_id, rc->main_id, sizeof(sb->main_id));
	sb->crc = cpu_to_le32(remap_crc(sb));
}

/* Write superblock image `sb` to both copies, A first. */
static int write_sb_copies(struct remap_c *rc, const struct remap_disk_sb *sb)
{
	unsigned int unit = rc->spare_unit;
	void *buf = rc->meta_buf;
	int r;

	memset(buf, 0, unit * SECTOR_SIZE);
	memcpy(buf, sb, SECTOR_SIZE);
	r = spare_io(rc, REQ_OP_WRITE | REQ_PREFLUSH | REQ_FUA, REMAP_SB_A, unit, buf);
	if (!r)
		r = spare_io(rc, REQ_OP_WRITE | REQ_FUA, REMAP_SB_B, unit, buf);
	return r;
}

/* Refuse a spare that belongs to another main device or configuration. */
static int check_identity(struct remap_c *rc, const struct remap_disk_sb *sb)
{
	struct dm_target *ti = rc->ti;
	sector_t spare_now = bdev_nr_sectors(rc->spare_dev->bdev);
	struct remap_layout *l = &rc->layout;

	if (le32_to_cpu(sb->version) != REMAP_FORMAT_VERSION) {
		ti->error = "Spare metadata has an unknown format version";
		return -EINVAL;
	}
	if (le64_to_cpu(sb->main_sectors) != ti->len) {
		ti->error = "Spare belongs to a main device of another size";
		return -EINVAL;
	}
	if (le32_to_cpu(sb->block_sectors) != rc->block_sectors) {
		ti->error = "Spare was formatted with another block_size";
		return -EINVAL;
	}
	if (strncmp(sb->main_id, rc->main_id, sizeof(sb->main_id))) {
		ti->error = "Spare belongs to another main_id";
		return -EINVAL;
	}
	if (le64_to_cpu(sb->spare_sectors) > spare_now) {
		ti->error = "Spare device is smaller than when it was formatted";
		return -EINVAL;
	}
	l->table_sectors = le64_to_cpu(sb->table_sectors);
	l->table_a = le64_to_cpu(sb->table_a);
	l->table_b = le64_to_cpu(sb->table_b);
	l->data_start = le64_to_cpu(sb->data_start);
	l->nr_slots = le64_to_cpu(sb->nr_slots);
	if (l->table_a != REMAP_TABLE_START ||
	    l->table_b < l->table_a + round_up(l->table_sectors, 8) ||
	    l->table_b % REMAP_MAX_UNIT_SECTORS ||
	    l->data_start < l->table_b + round_up(l->table_sectors, 8) ||
	    l->data_start % max_t(sector_t, rc->block_sectors, 8) ||
	    l->table_sectors * REMAP_ENTRIES_PER_SECTOR < l->nr_slots ||
	    l->nr_slots > REMAP_INDEX_MAX_SLOT + 1 ||
	    l->data_start + l->nr_slots * rc->block_sectors > spare_now) {
		ti->error = "Spare metadata layout is inconsistent";
		return -EINVAL;
	}
	rc->format_id = le64_to_cpu(sb->format_id);
	return 0;
}

/* Table sector 0 at `where` holds no remap (of any format). */
static bool table_start_empty(struct remap_c *rc, sector_t where, void *buf)
{
	const struct remap_disk_table *t = buf;

	if (spare_io(rc, REQ_OP_READ, where, rc->spare_unit, buf))
		return false;
	if (sector_is_zero(t))
		return true;
	return le32_to_cpu(t->magic) == REMAP_TS_MAGIC &&
	       le32_to_cpu(t->crc) == remap_crc(t) && !t->index && !t->count;
}

/*
 * One superblock is ours but torn (magic intact, checksum wrong) and the
 * other was never written: a first format cut short by a power failure.
 * Formatting again is safe only when no remap can have been persisted, so
 * table sector 0 of both copies (where a format with today's geometry put
 * them) must hold no entry.
 */
static bool torn_first_format(struct remap_c *rc, const struct remap_disk_sb *a,
			      enum sector_kind ka, const struct remap_disk_sb *b,
			      enum sector_kind kb, void *scratch)
{
	const struct remap_disk_sb *torn;
	struct remap_layout l;

	if (ka == SECTOR_BAD && kb == SECTOR_ZERO)
		torn = a;
	else if (ka == SECTOR_ZERO && kb == SECTOR_BAD)
		torn = b;
	else
		return false;
	if (le32_to_cpu(torn->magic) != REMAP_SB_MAGIC)
		return false;
	if (compute_layout(bdev_nr_sectors(rc->spare_dev->bdev),
			   rc->block_sectors, &l))
		return false;
	return table_start_empty(rc, l.table_a, scratch) &&
	       table_start_empty(rc, l.table_b, scratch);
}

/*
 * Read both superblocks into buf. Returns 1 for a blank spare, 0 when a
 * valid superblock was adopted (*good points at it in buf; *repair is set
 * when a copy must be rewritten from it).
 */
static int load_sb(struct remap_c *rc, void *buf, bool *repair,
		   const struct remap_disk_sb **good)
{
	const size_t slot = REMAP_MAX_UNIT_SECTORS * SECTOR_SIZE;
	struct remap_disk_sb *a = buf, *b = buf + slot;
	unsigned int unit = rc->spare_unit;
	enum sector_kind ka, kb;
	int r;

	if (spare_io(rc, REQ_OP_READ, REMAP_SB_A, unit, a))
		memset(a, 0xff, SECTOR_SIZE);
	ka = check_sb(a);
	if (spare_io(rc, REQ_OP_READ, REMAP_SB_B, unit, b))
		memset(b, 0xff, SECTOR_SIZE);
	kb = check_sb(b);

	if (ka == SECTOR_ZERO && kb == SECTOR_ZERO)
		return 1;
	if (torn_first_format(rc, a, ka, b, kb, buf + 2 * slot)) {
		DMWARN("%s: a first format was interrupted: formatting again",
		       rc->spare_dev->name);
		return 1;
	}
	if (ka != SECTOR_VALID && kb != SECTOR_VALID) {
		rc->ti->error = "Both metadata superblocks on the spare are corrupt or foreign";
		DMERR("%s: both superblocks corrupt: refusing to use the spare",
		      rc->spare_dev->name);
		return -EILSEQ;
	}
	if (ka == SECTOR_VALID && kb == SECTOR_VALID) {
		*good = le64_to_cpu(b->seq) > le64_to_cpu(a->seq) ? b : a;
		*repair = memcmp(a, b, SECTOR_SIZE) != 0;
	} else {
		*good = ka == SECTOR_VALID ? a : b;
		*repair = true;
		DMWARN("%s: superblock copy %c damaged, repairing from copy %c",
		       rc->spare_dev->name, ka == SECTOR_VALID ? 'B' : 'A',
		       ka == SECTOR_VALID ? 'A' : 'B');
	}
	r = check_identity(rc, *good);
	if (r)
		return r;
	rc->seq = le64_to_cpu((*good)->seq);
	return 0;
}

/* ---- table sectors ---- */

static enum sector_kind check_table(struct remap_c *rc,
				    const struct remap_disk_table *t, u64 index)
{
	if (sector_is_zero(t))
		return SECTOR_ZERO;
	if (le32_to_cpu(t->magic) != REMAP_TS_MAGIC ||
	    le32_to_cpu(t->crc) != remap_crc(t))
		return SECTOR_BAD;
	/* A whole sector of an earlier format of this spare: never written here. */
	if (le64_to_cpu(t->format_id) != rc->format_id)
		return SECTOR_ZERO;
	if (le32_to_cpu(t->index) != index ||
	    le32_to_cpu(t->count) > REMAP_ENTRIES_PER_SECTOR)
		return SECTOR_BAD;
	return SECTOR_VALID;
}

static void seal_table(struct remap_c *rc, struct remap_disk_table *t,
		       u64 index, unsigned int count, u64 seq)
{
	t->magic = cpu_to_le32(REMAP_TS_MAGIC);
	t->format_id = cpu_to_le64(rc->format_id);
	t->seq = cpu_to_le64(seq);
	t->index = cpu_to_le32(index);
	t->count = cpu_to_le32(count);
	t->crc = cpu_to_le32(remap_crc(t));
}

/* Hand a table sector's entries to the loader (a block twice is found at its end). */
static int adopt_entries(struct remap_c *rc, struct remap_index_loader *ld,
			 const struct remap_disk_table *t, u64 index)
{
	unsigned int j, count = le32_to_cpu(t->count);

	for (j = 0; j < count; j++) {
		u64 block = le64_to_cpu(t->blocks[j]);
		u64 slot = index * REMAP_ENTRIES_PER_SECTOR + j;

		if (block >= rc->nr_blocks || slot >= rc->layout.nr_slots) {
			rc->ti->error = "Spare metadata names a block outside the device";
			return -EILSEQ;
		}
		if (remap_index_load_add(ld, block, slot)) {
			rc->ti->error = "Cannot allocate the remap index";
			return -ENOMEM;
		}
	}
	return 0;
}

/*
 * Rewrite table sectors [first, last] of one copy from the merged image of
 * the chunk starting at chunk_first, widened to whole logical blocks. Best
 * effort: the table was read whole from the other copy, so a copy that
 * cannot be rewritten costs redundancy, not data; it is reported in the
 * health (metadata_error) and tried again on the next load.
 */
static void repair_range(struct remap_c *rc, char copy, sector_t copy_start,
			 u64 first, u64 last, void *merged, u64 chunk_first)
{
	unsigned int unit = rc->spare_unit;
	u64 from = round_down(first, unit), to = round_up(last + 1, unit);
	int r;

	r = spare_io(rc, REQ_OP_WRITE | REQ_FUA, copy_start + from, to - from,
		     merged + (from - chunk_first) * SECTOR_SIZE);
	if (r) {
		WRITE_ONCE(rc->metadata_error, true);
		DMERR("%s: repairing copy %c, table sectors %llu..%llu, failed (%d)",
		      rc->spare_dev->name, copy, first, last, r);
	}
}

/*
 * Walk the table chunk by chunk, adopting the newer valid copy of each sector
 * into `a` (the merged image), rewriting damaged copies when allowed, and
 * keeping the image of the logical block the next remap lands in.
 */
static int load_table(struct remap_c *rc, struct remap_index_loader *ld,
		      void *a, void *b, bool allow_writes, bool *repair)
{
	struct remap_layout *l = &rc->layout;
	unsigned int unit = rc->spare_unit;
	bool ended = false;
	u64 index = 0;
	int r;

	rc->next_slot = 0;
	memset(rc->tail, 0, unit * SECTOR_SIZE);
	while (index < l->table_sectors && !ended) {
		unsigned int n = min_t(u64, REMAP_LOAD_CHUNK, l->table_sectors - index);
		u64 bad_a_first = U64_MAX, bad_a_last = 0;
		u64 bad_b_first = U64_MAX, bad_b_last = 0;
		bool tail_adopted = false;
		unsigned int i;

		read_copy(rc, l->table_a + index, round_up(n, unit), a);
		read_copy(rc, l->table_b + index, round_up(n, unit), b);

		for (i = 0; i < n && !ended; i++) {
			struct remap_disk_table *ta = a + i * SECTOR_SIZE;
			struct remap_disk_table *tb = b + i * SECTOR_SIZE;
			u64 idx = index + i;
			enum sector_kind ka = check_table(rc, ta, idx);
			enum sector_kind kb = check_table(rc, tb, idx);
			struct remap_disk_table *good;
			bool fix_a = false, fix_b = false;

			if (ka != SECTOR_VALID && kb != SECTOR_VALID) {
				if (ka == SECTOR_BAD && kb == SECTOR_BAD) {
					rc->ti->error = "Both metadata copies are corrupt";
					DMERR("%s: table sector %llu corrupt in both copies",
					      rc->spare_dev->name, idx);
					return -EILSEQ;
				}
				/*
				 * One copy torn, the other never written: an update
				 * that was never acknowledged. The table ends here.
				 */
				ended = true;
				break;
			}
			if (ka == SECTOR_VALID && kb == SECTOR_VALID) {
				if (le64_to_cpu(tb->seq) > le64_to_cpu(ta->seq)) {
					good = tb;
					fix_a = true;
				} else {
					good = ta;
					fix_b = memcmp(ta, tb, SECTOR_SIZE) != 0;
				}
			} else if (ka == SECTOR_VALID) {
				good = ta;
				fix_b = true;
			} else {
				good = tb;
				fix_a = true;
			}
			if (good != ta)
				memcpy(ta, good, SECTOR_SIZE);
			if (fix_a) {
				bad_a_first = min(bad_a_first, idx);
				bad_a_last = idx;
			}
			if (fix_b) {
				bad_b_first = min(bad_b_first, idx);
				bad_b_last = idx;
			}
			r = adopt_entries(rc, ld, ta, idx);
			if (r)
				return r;
			rc->seq = max_t(u64, rc->seq, le64_to_cpu(ta->seq));
			rc->next_slot = idx * REMAP_ENTRIES_PER_SECTOR + le32_to_cpu(ta->count);
			if (le32_to_cpu(ta->count) < REMAP_ENTRIES_PER_SECTOR) {
				tail_adopted = true;
				ended = true;
			}
		}

		if (bad_a_first != U64_MAX || bad_b_first != U64_MAX) {
			*repair = true;
			DMWARN("%s: metadata copy %s damaged in table sectors %llu..%llu, %s",
			       rc->spare_dev->name,
			       bad_a_first != U64_MAX ? "A" : "B",
			       min(bad_a_first, bad_b_first),
			       max(bad_a_first != U64_MAX ? bad_a_last : 0,
				   bad_b_first != U64_MAX ? bad_b_last : 0),
			       allow_writes ? "repairing" : "will repair on resume");
		}
		if (allow_writes && bad_a_first != U64_MAX)
			repair_range(rc, 'A', l->table_a, bad_a_first, bad_a_last, a, index);
		if (allow_writes && bad_b_first != U64_MAX)
			repair_range(rc, 'B', l->table_b, bad_b_first, bad_b_last, a, index);
		if (ended) {
			/* The tail sector's logical block: full sectors, then the tail. */
			u64 tail = rc->next_slot / REMAP_ENTRIES_PER_SECTOR;
			u64 first = round_down(tail, unit);

			memcpy(rc->tail, a + (first - index) * SECTOR_SIZE,
			       (tail - first + tail_adopted) * SECTOR_SIZE);
		}
		index += n;
	}
	return 0;
}

/**
 * remap_meta_load - read the remap table from the spare into rc->index.
 * @rc: the target; its devices, block size and length are set.
 * @allow_writes: repair a damaged copy now (false in the constructor, whose
 *	table may still be rejected; preresume reloads with writes allowed).
 *
 * Sets rc->meta_state; on failure it stays REMAP_META_UNLOADED, and the
 * index is empty, so preresume refuses to resume until a read succeeds.
 * Returns 0 or a negative errno with ti->error set.
 */
int remap_meta_load(struct remap_c *rc, bool allow_writes)
{
	const struct remap_disk_sb *good = NULL;
	struct remap_index_loader ld;
	bool repair = false;
	void *a, *b;
	int r;

	rc->meta_state = REMAP_META_UNLOADED;
	a = kvmalloc(2 * REMAP_LOAD_CHUNK * SECTOR_SIZE, GFP_KERNEL);
	if (!a) {
		rc->ti->error = "Cannot allocate the metadata read buffer";
		return -ENOMEM;
	}
	b = a + REMAP_LOAD_CHUNK * SECTOR_SIZE;

	remap_index_destroy(&rc->index);
	rc->seq = 0;
	rc->next_slot = 0;
	r = load_sb(rc, a, &repair, &good);
	if (r == 1) {
		r = compute_layout(bdev_nr_sectors(rc->spare_dev->bdev),
				   rc->block_sectors, &rc->layout);
		if (r)
			rc->ti->error = "Spare device too small for one block";
		else
			rc->meta_state = REMAP_META_BLANK;
		goto out;
	}
	if (r)
		goto out;
	if (repair && allow_writes && write_sb_copies(rc, good)) {
		/* As for the table: redundancy is lost, not data (see repair_range()). */
		WRITE_ONCE(rc->metadata_error, true);
		DMERR("%s: repairing the superblock failed", rc->spare_dev->name);
	}
	remap_index_load_begin(&ld);
	r = load_table(rc, &ld, a, b, allow_writes, &repair);
	if (r) {
		remap_index_load_abort(&ld);
		goto out;
	}
	r = remap_index_load_end(&rc->index, &ld);
	if (r == -EILSEQ) {
		rc->ti->error = "Spare metadata remaps one block twice";
		DMERR("%s: block %llu remapped twice in the table",
		      rc->spare_dev->name, ld.duplicate);
	} else if (r) {
		rc->ti->error = "Cannot allocate the remap index";
	}
	if (r)
		goto out;
	rc->meta_state = repair && !allow_writes ? REMAP_META_NEEDS_REPAIR
						 : REMAP_META_LOADED;
out:
	kvfree(a);
	return r;
}

/**
 * remap_meta_format - write fresh metadata on a blank spare.
 * @rc: the target, whose layout remap_meta_load() computed.
 *
 * Only ever called from preresume, once the table is known to be accepted,
 * and only when remap_meta_load() found the spare blank. Table sector 0 is
 * written first, empty, in both copies: whatever an earlier use of the spare
 * left there is then never read as a table, and a power cut before the
 * superblocks are written leaves a spare that still reads as blank.
 */
int remap_meta_format(struct remap_c *rc)
{
	unsigned int unit = rc->spare_unit;
	struct remap_disk_sb sb;
	int r;

	rc->format_id = get_random_u64();
	rc->seq = 1;
	rc->next_slot = 0;
	memset(rc->tail, 0, unit * SECTOR_SIZE);
	seal_table(rc, rc->tail, 0, 0, rc->seq);
	r = spare_io(rc, REQ_OP_WRITE | REQ_FUA, rc->layout.table_a, unit, rc->tail);
	if (!r)
		r = spare_io(rc, REQ_OP_WRITE | REQ_FUA, rc->layout.table_b, unit,
			     rc->tail);
	if (!r) {
		fill_sb(rc, &sb);
		r = write_sb_copies(rc, &sb);
	}
	if (r)
		return r;
	rc->meta_state = REMAP_META_LOADED;
	DMINFO("%s: formatted spare: %llu slots of %llu sectors",
	       rc->spare_dev->name, rc->layout.nr_slots,
	       (unsigned long long)rc->block_sectors);
	return 0;
}

/* Table sectors one append writes at most, widened to logical blocks. */
#define REMAP_APPEND_SECTORS (REMAP_BATCH_MAX / REMAP_ENTRIES_PER_SECTOR + 3 + \
			      2 * REMAP_MAX_UNIT_SECTORS)

size_t remap_meta_buf_bytes(void)
{
	return REMAP_APPEND_SECTORS * SECTOR_SIZE;
}

/*
 * Undo a failed append of sectors [start, start + n) (whole logical blocks;
 * the tail sector is `tail`): write them back as they were, with the tail
 * sector sealed anew at a later sequence number, so it wins over whatever of
 * the failed write reached either copy (a zero sector would not: a valid copy
 * always beats it). Returns true when neither copy could be written: the
 * table may then hold the failed remap.
 */
static bool roll_back(struct remap_c *rc, u64 start, unsigned int n, u64 tail)
{
	struct remap_disk_table *t;
	void *buf = rc->rollback_buf;
	int ra, rb;

	memset(buf, 0, n * SECTOR_SIZE);
	memcpy(buf, rc->tail, rc->spare_unit * SECTOR_SIZE);
	t = buf + (tail - start) * SECTOR_SIZE;
	seal_table(rc, t, tail, le32_to_cpu(t->count), ++rc->seq);
	ra = spare_io(rc, REQ_OP_WRITE | REQ_FUA, rc->layout.table_a + start, n, buf);
	rb = spare_io(rc, REQ_OP_WRITE | REQ_FUA, rc->layout.table_b + start, n, buf);
	if (ra || rb)
		DMERR("%s: undoing a failed table update: copy A %d, copy B %d",
		      rc->spare_dev->name, ra, rb);
	return ra && rb;
}

/**
 * remap_meta_append - persist slots [first_slot, first_slot + count).
 * @rc: the target.
 * @first_slot: the first new slot, always rc->next_slot.
 * @blocks: the main block each new slot replaces.
 * @count: number of new slots, at most REMAP_BATCH_MAX.
 * @in_doubt: set when the append failed and could not be undone either: the
 *	table on the spare may or may not hold these remaps until the next
 *	append succeeds.
 *
 * Caller holds remap_lock, has already written the slots' data and
 * first_slot == rc->next_slot. On success the remaps are durable in both
 * copies. On failure the remaps are not made, and the append is undone on
 * the spare (see roll_back()) so the table and the index agree. Every try
 * takes a new sequence number: two different contents of a table sector
 * never share one.
 */
int remap_meta_append(struct remap_c *rc, u64 first_slot, const u64 *blocks,
		      unsigned int count, bool *in_doubt)
{
	unsigned int unit = rc->spare_unit;
	u64 first = first_slot / REMAP_ENTRIES_PER_SECTOR;
	u64 last = (first_slot + count - 1) / REMAP_ENTRIES_PER_SECTOR;
	unsigned int n = last - first + 1, i, done = 0, nr;
	u64 start = round_down(first, unit), tail, seq;
	void *buf = rc->meta_buf;
	struct remap_disk_table *t;
	int r;

	*in_doubt = false;
	if (WARN_ON(first_slot != rc->next_slot || !count ||
		    count > REMAP_BATCH_MAX))
		return -EINVAL;
	/*
	 * A batch that fills its last sector also writes the next one, empty:
	 * the table then always ends in a sector that is not full, so a sector
	 * a failed append left in one copy is never read as part of it.
	 */
	if (!((first_slot + count) % REMAP_ENTRIES_PER_SECTOR) &&
	    last + 1 < rc->layout.table_sectors)
		n++;
	nr = round_up(first + n, unit) - start;

	/* The logical block holding the tail sector, as on disk, then zeros. */
	memset(buf, 0, nr * SECTOR_SIZE);
	memcpy(buf, rc->tail, unit * SECTOR_SIZE);
	seq = ++rc->seq;
	for (i = 0; i < n; i++) {
		unsigned int j = i ? 0 : first_slot % REMAP_ENTRIES_PER_SECTOR;

		t = buf + (first - start + i) * SECTOR_SIZE;
		for (; j < REMAP_ENTRIES_PER_SECTOR && done < count; j++)
			t->blocks[j] = cpu_to_le64(blocks[done++]);
		seal_table(rc, t, first + i, j, seq);
	}

	r = spare_io(rc, REQ_OP_WRITE | REQ_PREFLUSH | REQ_FUA,
		     rc->layout.table_a + start, nr, buf);
	if (!r)
		r = spare_io(rc, REQ_OP_WRITE | REQ_FUA,
			     rc->layout.table_b + start, nr, buf);
	if (r) {
		*in_doubt = roll_back(rc, start, nr, first);
		remap_registry_sync(rc);
		return r;
	}

	rc->next_slot += count;
	remap_registry_sync(rc);
	tail = rc->next_slot / REMAP_ENTRIES_PER_SECTOR;
	memset(rc->tail, 0, unit * SECTOR_SIZE);
	if (tail < rc->layout.table_sectors)
		memcpy(rc->tail, buf + (round_down(tail, unit) - start) * SECTOR_SIZE,
		       unit * SECTOR_SIZE);
	return 0;
}

/* ---- which mapped device holds which spare ---- */

/*
 * One entry per spare in use. A table reload builds the new instance while
 * the old one still runs on the same spare: the entry lets the new instance
 * see (in preresume) that the old one persisted remaps after the new one read
 * the table, and refuses a second mapped device on the same spare, and a
 * second target of the same table on it.
 */
struct remap_registry_entry {
	struct list_head list;
	dev_t spare;
	struct mapped_device *md;
	u64 seq;
	struct list_head users;		/* remap_c.reg_node of each instance */
};

static LIST_HEAD(remap_registry);
static DEFINE_MUTEX(remap_registry_lock);

static int join_entry(struct remap_c *rc, struct remap_registry_entry *e,
		      struct mapped_device *md)
{
	struct remap_c *other;

	if (e->md != md) {
		rc->ti->error = "Spare device is in use by another device";
		return -EBUSY;
	}
	list_for_each_entry(other, &e->users, reg_node) {
		if (other->ti->table == rc->ti->table) {
			rc->ti->error = "Spare device is used twice in one table";
			return -EBUSY;
		}
	}
	list_add(&rc->reg_node, &e->users);
	rc->reg = e;
	return 0;
}

int remap_registry_get(struct remap_c *rc)
{
	struct mapped_device *md = dm_table_get_md(rc->ti->table);
	dev_t spare = rc->spare_dev->bdev->bd_dev;
	struct remap_registry_entry *e;
	int r;

	mutex_lock(&remap_registry_lock);
	list_for_each_entry(e, &remap_registry, list) {
		if (e->spare == spare) {
			r = join_entry(rc, e, md);
			mutex_unlock(&remap_registry_lock);
			return r;
		}
	}
	e = kzalloc(sizeof(*e), GFP_KERNEL);
	if (!e) {
		mutex_unlock(&remap_registry_lock);
		rc->ti->error = "Cannot allocate the registry entry";
		return -ENOMEM;
	}
	e->spare = spare;
	e->md = md;
	INIT_LIST_HEAD(&e->users);
	list_add(&e->list, &remap_registry);
	r = join_entry(rc, e, md);
	mutex_unlock(&remap_registry_lock);
	return r;
}

void remap_registry_put(struct remap_c *rc)
{
	struct remap_registry_entry *e = rc->reg;

	if (!e)
		return;
	mutex_lock(&remap_registry_lock);
	if (rc->seq > e->seq)
		e->seq = rc->seq;
	list_del(&rc->reg_node);
	if (list_empty(&e->users)) {
		list_del(&e->list);
		kfree(e);
	}
	mutex_unlock(&remap_registry_lock);
	rc->reg = NULL;
}

/*
 * Publish our newest sequence number, unless another instance on the same
 * spare has written a later one: then return true (our table is stale).
 */
bool remap_registry_sync(struct remap_c *rc)
{
	bool newer;

	mutex_lock(&remap_registry_lock);
	newer = rc->reg->seq > rc->seq;
	if (!newer)
		rc->reg->seq = rc->seq;
	mutex_unlock(&remap_registry_lock);
	return newer;
}
