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
 * holding its slot, in copy A (with a preflush, which also makes the data
 * already written to the slot durable) and then in copy B, each with FUA: one
 * copy is whole at any moment, and the n-th remap costs the same as the first.
 * A remap that fills its sector also writes the next one with no entries.
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
	u64 lo = 0, hi = spare_sectors / block_sectors;

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
	if (l->table_a < REMAP_TABLE_START ||
	    l->table_b < l->table_a + l->table_sectors ||
	    l->data_start < l->table_b + l->table_sectors ||
	    l->table_sectors * REMAP_ENTRIES_PER_SECTOR < l->nr_slots ||
	    l->data_start + l->nr_slots * rc->block_sectors > spare_now) {
		ti->error = "Spare metadata layout is inconsistent";
		return -EINVAL;
	}
	rc->format_id = le64_to_cpu(sb->format_id);
	return 0;
}

/*
 * Read both superblocks. Returns 1 for a blank spare, 0 when a valid
 * superblock was adopted (*repair set when the other copy must be rewritten).
 */
static int load_sb(struct remap_c *rc, void *buf, bool *repair)
{
	struct remap_disk_sb *a = buf, *b = buf + SECTOR_SIZE, *good;
	enum sector_kind ka, kb;
	int r;

	r = remap_sync_io(rc, rc->spare_dev, REQ_OP_READ, REMAP_SB_A, 1, a);
	if (r)
		ka = SECTOR_BAD;
	else
		ka = check_sb(a);
	r = remap_sync_io(rc, rc->spare_dev, REQ_OP_READ, REMAP_SB_B, 1, b);
	if (r)
		kb = SECTOR_BAD;
	else
		kb = check_sb(b);

	if (ka == SECTOR_ZERO && kb == SECTOR_ZERO)
		return 1;
	if (ka != SECTOR_VALID && kb != SECTOR_VALID) {
		rc->ti->error = "Both metadata superblocks on the spare are corrupt or foreign";
		DMERR("%s: both superblocks corrupt: refusing to use the spare",
		      rc->spare_dev->name);
		return -EILSEQ;
	}
	if (ka == SECTOR_VALID && kb == SECTOR_VALID) {
		good = le64_to_cpu(b->seq) > le64_to_cpu(a->seq) ? b : a;
		*repair = memcmp(a, b, SECTOR_SIZE) != 0;
	} else {
		good = ka == SECTOR_VALID ? a : b;
		*repair = true;
		DMWARN("%s: superblock copy %c damaged, repairing from copy %c",
		       rc->spare_dev->name, ka == SECTOR_VALID ? 'B' : 'A',
		       ka == SECTOR_VALID ? 'A' : 'B');
	}
	r = check_identity(rc, good);
	if (r)
		return r;
	rc->seq = le64_to_cpu(good->seq);
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

static int adopt_entries(struct remap_c *rc, const struct remap_disk_table *t,
			 u64 index)
{
	unsigned int j, count = le32_to_cpu(t->count);

	for (j = 0; j < count; j++) {
		u64 block = le64_to_cpu(t->blocks[j]);
		u64 slot = index * REMAP_ENTRIES_PER_SECTOR + j;
		int r;

		if (block >= rc->nr_blocks || slot >= rc->layout.nr_slots) {
			rc->ti->error = "Spare metadata names a block outside the device";
			return -EILSEQ;
		}
		r = xa_insert(&rc->remaps, block, xa_mk_value(slot), GFP_KERNEL);
		if (r == -EBUSY) {
			rc->ti->error = "Spare metadata remaps one block twice";
			return -EILSEQ;
		}
		if (r) {
			rc->ti->error = "Cannot allocate the remap index";
			return r;
		}
	}
	return 0;
}

/* Rewrite table sectors [first, first + n) of one copy from the merged image. */
static int repair_range(struct remap_c *rc, sector_t copy_start, u64 first,
			unsigned int n, void *merged, u64 merged_first)
{
	if (!n)
		return 0;
	return remap_sync_io(rc, rc->spare_dev, REQ_OP_WRITE | REQ_FUA,
			     copy_start + first, n,
			     merged + (first - merged_first) * SECTOR_SIZE);
}

/*
 * Walk the table chunk by chunk, adopting the newer valid copy of each sector
 * into `a` (the merged image) and rewriting damaged copies when allowed.
 */
static int load_table(struct remap_c *rc, void *a, void *b, bool allow_writes,
		      bool *repair)
{
	struct remap_layout *l = &rc->layout;
	u64 index = 0;
	int r;

	rc->next_slot = 0;
	while (index < l->table_sectors) {
		unsigned int n = min_t(u64, REMAP_LOAD_CHUNK, l->table_sectors - index);
		u64 bad_a_first = U64_MAX, bad_a_last = 0;
		u64 bad_b_first = U64_MAX, bad_b_last = 0;
		bool done = false;
		unsigned int i;

		r = remap_sync_io(rc, rc->spare_dev, REQ_OP_READ, l->table_a + index, n, a);
		if (r)
			memset(a, 0xff, n * SECTOR_SIZE);	/* unreadable: treat as damaged */
		r = remap_sync_io(rc, rc->spare_dev, REQ_OP_READ, l->table_b + index, n, b);
		if (r)
			memset(b, 0xff, n * SECTOR_SIZE);

		for (i = 0; i < n && !done; i++) {
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
			r = adopt_entries(rc, ta, idx);
			if (r)
				return r;
			rc->seq = max_t(u64, rc->seq, le64_to_cpu(ta->seq));
			rc->next_slot = idx * REMAP_ENTRIES_PER_SECTOR + le32_to_cpu(ta->count);
			if (le32_to_cpu(ta->count) < REMAP_ENTRIES_PER_SECTOR)
				done = true;
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
		if (allow_writes && bad_a_first != U64_MAX) {
			r = repair_range(rc, l->table_a, bad_a_first,
					 bad_a_last - bad_a_first + 1, a, index);
			if (r)
				return r;
		}
		if (allow_writes && bad_b_first != U64_MAX) {
			r = repair_range(rc, l->table_b, bad_b_first,
					 bad_b_last - bad_b_first + 1, a, index);
			if (r)
				return r;
		}
		if (done || i < n)
			break;
		index += n;
	}

	/* Keep the image of the sector the next remap lands in. */
	index = rc->next_slot / REMAP_ENTRIES_PER_SECTOR;
	memset(rc->tail, 0, SECTOR_SIZE);
	if (rc->next_slot % REMAP_ENTRIES_PER_SECTOR) {
		r = remap_sync_io(rc, rc->spare_dev, REQ_OP_READ, l->table_a + index, 1, a);
		if (!r && check_table(rc, a, index) == SECTOR_VALID &&
		    le32_to_cpu(((struct remap_disk_table *)a)->count) ==
		    rc->next_slot % REMAP_ENTRIES_PER_SECTOR)
			memcpy(rc->tail, a, SECTOR_SIZE);
		else
			r = remap_sync_io(rc, rc->spare_dev, REQ_OP_READ,
					  l->table_b + index, 1, rc->tail);
		if (r)
			return r;
	}
	return 0;
}

/**
 * remap_meta_load - read the remap table from the spare into rc->remaps.
 * @rc: the target; its devices, block size and length are set.
 * @allow_writes: repair a damaged copy now (false in the constructor, whose
 *	table may still be rejected; preresume reloads with writes allowed).
 *
 * Sets rc->meta_state. Returns 0 or a negative errno with ti->error set.
 */
int remap_meta_load(struct remap_c *rc, bool allow_writes)
{
	void *a, *b;
	bool repair = false;
	int r;

	a = kvmalloc(2 * REMAP_LOAD_CHUNK * SECTOR_SIZE, GFP_KERNEL);
	if (!a) {
		rc->ti->error = "Cannot allocate the metadata read buffer";
		return -ENOMEM;
	}
	b = a + REMAP_LOAD_CHUNK * SECTOR_SIZE;

	xa_destroy(&rc->remaps);
	rc->seq = 0;
	rc->next_slot = 0;
	r = load_sb(rc, a, &repair);
	if (r == 1) {
		rc->meta_state = REMAP_META_BLANK;
		r = compute_layout(bdev_nr_sectors(rc->spare_dev->bdev),
				   rc->block_sectors, &rc->layout);
		if (r)
			rc->ti->error = "Spare device too small for one block";
		goto out;
	}
	if (r)
		goto out;
	if (repair && allow_writes) {
		struct remap_disk_sb *sb = a;

		r = remap_sync_io(rc, rc->spare_dev, REQ_OP_READ, REMAP_SB_A, 1, sb);
		if (r || check_sb(sb) != SECTOR_VALID)
			r = remap_sync_io(rc, rc->spare_dev, REQ_OP_READ, REMAP_SB_B, 1, sb);
		if (!r)
			r = remap_sync_io(rc, rc->spare_dev, REQ_OP_WRITE | REQ_FUA,
					  REMAP_SB_A, 1, sb);
		if (!r)
			r = remap_sync_io(rc, rc->spare_dev, REQ_OP_WRITE | REQ_FUA,
					  REMAP_SB_B, 1, sb);
		if (r) {
			rc->ti->error = "Cannot repair the metadata superblock";
			goto out;
		}
	}
	r = load_table(rc, a, b, allow_writes, &repair);
	if (r) {
		xa_destroy(&rc->remaps);
		goto out;
	}
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
 * and only when remap_meta_load() found both superblocks all-zero.
 */
int remap_meta_format(struct remap_c *rc)
{
	void *buf = rc->meta_buf;
	int r;

	rc->format_id = get_random_u64();
	rc->seq = 1;
	rc->next_slot = 0;
	memset(rc->tail, 0, SECTOR_SIZE);
	fill_sb(rc, buf);
	r = remap_sync_io(rc, rc->spare_dev, REQ_OP_WRITE | REQ_PREFLUSH | REQ_FUA,
			  REMAP_SB_A, 1, buf);
	if (!r)
		r = remap_sync_io(rc, rc->spare_dev, REQ_OP_WRITE | REQ_FUA,
				  REMAP_SB_B, 1, buf);
	if (r)
		return r;
	rc->meta_state = REMAP_META_LOADED;
	DMINFO("%s: formatted spare: %llu slots of %llu sectors",
	       rc->spare_dev->name, rc->layout.nr_slots,
	       (unsigned long long)rc->block_sectors);
	return 0;
}

/**
 * remap_meta_append - persist slots [first_slot, first_slot + count).
 * @rc: the target.
 * @first_slot: the first new slot, always rc->next_slot.
 * @blocks: the main block each new slot replaces.
 * @count: number of new slots, at most REMAP_BATCH_MAX.
 *
 * Caller holds remap_lock, has already written the slots' data and
 * first_slot == rc->next_slot. On success the remaps are durable in both
 * copies; on failure nothing in memory changed.
 */
int remap_meta_append(struct remap_c *rc, u64 first_slot, const u64 *blocks,
		      unsigned int count)
{
	u64 first = first_slot / REMAP_ENTRIES_PER_SECTOR;
	u64 last = (first_slot + count - 1) / REMAP_ENTRIES_PER_SECTOR;
	unsigned int n = last - first + 1, i, done = 0;
	u64 seq = rc->seq + 1;
	struct remap_disk_table *t;
	int r;

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

	memcpy(rc->meta_buf, rc->tail, SECTOR_SIZE);
	memset(rc->meta_buf + SECTOR_SIZE, 0, (n - 1) * SECTOR_SIZE);
	for (i = 0; i < n; i++) {
		unsigned int j = i ? 0 : first_slot % REMAP_ENTRIES_PER_SECTOR;

		t = rc->meta_buf + i * SECTOR_SIZE;
		for (; j < REMAP_ENTRIES_PER_SECTOR && done < count; j++)
			t->blocks[j] = cpu_to_le64(blocks[done++]);
		seal_table(rc, t, first + i, j, seq);
	}

	r = remap_sync_io(rc, rc->spare_dev, REQ_OP_WRITE | REQ_PREFLUSH | REQ_FUA,
			  rc->layout.table_a + first, n, rc->meta_buf);
	if (!r)
		r = remap_sync_io(rc, rc->spare_dev, REQ_OP_WRITE | REQ_FUA,
				  rc->layout.table_b + first, n, rc->meta_buf);
	if (r)
		return r;

	rc->seq = seq;
	rc->next_slot += count;
	remap_registry_sync(rc);
	t = rc->meta_buf + (n - 1) * SECTOR_SIZE;
	if (le32_to_cpu(t->count) < REMAP_ENTRIES_PER_SECTOR)
		memcpy(rc->tail, t, SECTOR_SIZE);
	else
		memset(rc->tail, 0, SECTOR_SIZE);
	return 0;
}

/* ---- which mapped device holds which spare ---- */

/*
 * One entry per spare in use. A table reload builds the new instance while
 * the old one still runs on the same spare: the entry lets the new instance
 * see (in preresume) that the old one persisted remaps after the new one read
 * the table, and refuses a second mapped device on the same spare.
 */
struct remap_registry_entry {
	struct list_head list;
	dev_t spare;
	struct mapped_device *md;
	u64 seq;
	unsigned int users;
};

static LIST_HEAD(remap_registry);
static DEFINE_MUTEX(remap_registry_lock);

int remap_registry_get(struct remap_c *rc)
{
	struct mapped_device *md = dm_table_get_md(rc->ti->table);
	dev_t spare = rc->spare_dev->bdev->bd_dev;
	struct remap_registry_entry *e;

	mutex_lock(&remap_registry_lock);
	list_for_each_entry(e, &remap_registry, list) {
		if (e->spare != spare)
			continue;
		if (e->md != md) {
			mutex_unlock(&remap_registry_lock);
			rc->ti->error = "Spare device is in use by another device";
			return -EBUSY;
		}
		e->users++;
		rc->reg = e;
		mutex_unlock(&remap_registry_lock);
		return 0;
	}
	e = kzalloc(sizeof(*e), GFP_KERNEL);
	if (!e) {
		mutex_unlock(&remap_registry_lock);
		rc->ti->error = "Cannot allocate the registry entry";
		return -ENOMEM;
	}
	e->spare = spare;
	e->md = md;
	e->users = 1;
	list_add(&e->list, &remap_registry);
	rc->reg = e;
	mutex_unlock(&remap_registry_lock);
	return 0;
}

void remap_registry_put(struct remap_c *rc)
{
	struct remap_registry_entry *e = rc->reg;

	if (!e)
		return;
	mutex_lock(&remap_registry_lock);
	if (rc->seq > e->seq)
		e->seq = rc->seq;
	if (!--e->users) {
		list_del(&e->list);
		kfree(e);
	}
	mutex_unlock(&remap_registry_lock);
	rc->reg = NULL;
}

/*
 * Publish our newest sequence number, unless another instance on the same
 * spare has persisted a later one: then return true (our table is stale).
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
