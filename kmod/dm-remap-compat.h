/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Differences between the kernels dm-remap is built for (Debian 6.1 and 6.12).
 * Keep every version test in this file so the target code reads the same on
 * both.
 */
#ifndef DM_REMAP_COMPAT_H
#define DM_REMAP_COMPAT_H

#include <linux/version.h>
#include <linux/blkdev.h>

/*
 * The mode dm_get_device() takes changed type (fmode_t to blk_mode_t, 6.5);
 * the table's own mode has the right type on every version.
 */
#define remap_table_mode(ti) dm_table_get_mode((ti)->table)

/* blk_limits_io_min() was removed (6.11): raise the field directly. */
static inline void remap_limits_raise_io_min(struct queue_limits *limits,
					     unsigned int bytes)
{
	if (limits->io_min < bytes)
		limits->io_min = bytes;
}

#endif /* DM_REMAP_COMPAT_H */
