// SPDX-License-Identifier: GPL-2.0-only
/*
 * dm-remap: the synchronous I/O of the worker, the remap message and the
 * metadata code, done with the target's own bios so the block layer's status
 * reaches the caller. dm_io() folds every failure into one error bit, but the
 * error policy must tell a medium error (move the block) from a full thin
 * pool, a fenced node or a vanished path (return the error as it is).
 */
#include "dm-remap.h"

#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/vmalloc.h>

/* Callers wait for one bio at a time: a small pool guarantees progress. */
#define REMAP_IO_POOL 4

/* Bytes per bio: whole pages, so each bio stays a multiple of any logical block. */
#define REMAP_IO_CHUNK ((BIO_MAX_VECS - 1) * PAGE_SIZE)

int remap_io_init(struct remap_c *rc)
{
	return bioset_init(&rc->bios, REMAP_IO_POOL, 0, BIOSET_NEED_BVECS);
}

void remap_io_exit(struct remap_c *rc)
{
	bioset_exit(&rc->bios);
}

static struct page *buf_page(void *p)
{
	return is_vmalloc_addr(p) ? vmalloc_to_page(p) : virt_to_page(p);
}

/* One bio of at most REMAP_IO_CHUNK bytes; returns its status. */
static blk_status_t sync_bio(struct remap_c *rc, struct dm_dev *dev,
			     blk_opf_t opf, sector_t sector, void *buf,
			     size_t len)
{
	unsigned short nr = DIV_ROUND_UP(offset_in_page(buf) + len, PAGE_SIZE);
	struct bio *bio = bio_alloc_bioset(dev->bdev, nr, opf, GFP_NOIO, &rc->bios);
	blk_status_t status;
	size_t done = 0;

	bio->bi_iter.bi_sector = sector;
	while (done < len) {
		void *p = buf + done;
		unsigned int n = min_t(size_t, PAGE_SIZE - offset_in_page(p), len - done);

		__bio_add_page(bio, buf_page(p), n, offset_in_page(p));
		done += n;
	}
	submit_bio_wait(bio);
	status = bio->bi_status;
	bio_put(bio);
	return status;
}

/**
 * remap_sync_io - read or write sectors of a device and wait for the result.
 * @rc: the target (its bio_set serves the allocation).
 * @dev: main or spare.
 * @opf: REQ_OP_READ or REQ_OP_WRITE, with REQ_PREFLUSH / REQ_FUA if wanted.
 * @sector: first sector on @dev.
 * @count: sectors; @sector and @count must be multiples of @dev's logical
 *	block size.
 * @buf: kmalloc or vmalloc memory, aligned to 512 bytes.
 *
 * Never sleeps on memory reclaim that needs I/O (GFP_NOIO from a bio_set), so
 * it is safe on the error path of a device the kernel may be swapping to. A
 * transfer larger than one bio is split; only the first bio carries
 * REQ_PREFLUSH, and the rest is not tried once a bio fails.
 *
 * Return: BLK_STS_OK, or the status of the bio that failed.
 */
blk_status_t remap_sync_io(struct remap_c *rc, struct dm_dev *dev,
			   blk_opf_t opf, sector_t sector, sector_t count,
			   void *buf)
{
	bool vmapped = is_vmalloc_addr(buf), is_write = op_is_write(opf);
	size_t total = (size_t)count << SECTOR_SHIFT, done = 0;
	blk_status_t status = BLK_STS_OK;

	if (vmapped && is_write)
		flush_kernel_vmap_range(buf, total);
	while (done < total && !status) {
		size_t len = min_t(size_t, REMAP_IO_CHUNK, total - done);

		status = sync_bio(rc, dev, opf, sector + (done >> SECTOR_SHIFT),
				  buf + done, len);
		done += len;
		opf &= ~REQ_PREFLUSH;
	}
	if (vmapped && !is_write)
		invalidate_kernel_vmap_range(buf, total);
	return status;
}
