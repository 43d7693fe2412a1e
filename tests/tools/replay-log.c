// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The crash test's replayer of a dm-log-writes log (the kernel's
 * Documentation/admin-guide/device-mapper/log-writes.rst): the log holds
 * every write to a device in the order it became durable, each FLUSH and
 * FUA marked, so that applying its first N entries to a copy of the device
 * as it was when logging began gives the device as a power cut after entry
 * N could have left it.
 *
 *   replay-log LOG list                   one line per entry:
 *                                         INDEX FLAGS SECTOR SECTORS [MARK]
 *   replay-log LOG replay DEV FIRST LAST  apply entries FIRST..LAST to DEV
 *
 * FLAGS: F flush, U FUA, D discard, M mark, - none.  Indexes start at 1.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LOG_MAGIC 0x6a736677736872ULL
#define LOG_VERSION 1
#define F_FLUSH (1u << 0)
#define F_FUA (1u << 1)
#define F_DISCARD (1u << 2)
#define F_MARK (1u << 3)
#define MAX_SECTORSIZE 4096u

struct log {
	int fd;
	uint32_t sectorsize;
	uint64_t entries;
	uint64_t next;      /* byte offset of the next entry */
	uint64_t index;     /* 1-based index of the next entry */
};

struct entry {
	uint64_t sector, sectors, flags, data_len;
	char mark[64];
	uint64_t data;      /* byte offset of its data in the log */
};

static int die(const char *what)
{
	fprintf(stderr, "replay-log: %s: %s\n", what, errno ? strerror(errno) : "bad log");
	exit(1);
}

static uint64_t le64_at(const unsigned char *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return le64toh(v);
}

static void log_open(struct log *l, const char *path)
{
	unsigned char b[MAX_SECTORSIZE];
	uint32_t ss;

	l->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (l->fd < 0)
		die(path);
	errno = 0;
	if (pread(l->fd, b, 32, 0) != 32 || le64_at(b) != LOG_MAGIC ||
	    le64_at(b + 8) != LOG_VERSION)
		die("no dm-log-writes super block");
	memcpy(&ss, b + 24, sizeof(ss));
	l->sectorsize = le32toh(ss);
	if (l->sectorsize < 512 || l->sectorsize > MAX_SECTORSIZE ||
	    (l->sectorsize & (l->sectorsize - 1)))
		die("the log's sector size");
	l->entries = le64_at(b + 16);
	l->next = l->sectorsize;
	l->index = 1;
}

/* The next entry, or 0 at the end. */
static int log_next(struct log *l, struct entry *e)
{
	unsigned char b[MAX_SECTORSIZE];
	size_t n;

	if (l->index > l->entries)
		return 0;
	errno = 0;
	if (pread(l->fd, b, l->sectorsize, (off_t)l->next) != (ssize_t)l->sectorsize)
		die("cannot read an entry");
	e->sector = le64_at(b);
	e->sectors = le64_at(b + 8);
	e->flags = le64_at(b + 16);
	e->data_len = le64_at(b + 24);
	e->mark[0] = '\0';
	if (e->flags & F_MARK) {
		n = e->data_len < sizeof(e->mark) - 1 ? e->data_len : sizeof(e->mark) - 1;
		memcpy(e->mark, b + 32, n);
		e->mark[n] = '\0';
	}
	e->data = l->next + l->sectorsize;
	l->next = e->data;
	if (!(e->flags & (F_DISCARD | F_MARK)))
		l->next += e->sectors * l->sectorsize;
	l->index++;
	return 1;
}

static void apply(const struct log *l, const struct entry *e, int dev)
{
	static unsigned char buf[1 << 20];
	uint64_t left = e->sectors * l->sectorsize, done = 0, n;

	if (e->flags & F_MARK)
		return;
	if (e->flags & F_DISCARD)
		memset(buf, 0, sizeof(buf));
	while (done < left) {
		n = left - done < sizeof(buf) ? left - done : sizeof(buf);
		errno = 0;
		if (!(e->flags & F_DISCARD) &&
		    pread(l->fd, buf, n, (off_t)(e->data + done)) != (ssize_t)n)
			die("cannot read an entry's data");
		if (pwrite(dev, buf, n, (off_t)(e->sector * l->sectorsize + done)) !=
		    (ssize_t)n)
			die("cannot write the replay device");
		done += n;
	}
}

int main(int argc, char *argv[])
{
	struct log l;
	struct entry e;
	uint64_t first, last, i;
	int dev;

	if (argc == 3 && strcmp(argv[2], "list") == 0) {
		log_open(&l, argv[1]);
		for (i = 1; log_next(&l, &e); i++)
			printf("%" PRIu64 " %s%s%s%s%s %" PRIu64 " %" PRIu64 "%s%s\n", i,
			       e.flags & F_FLUSH ? "F" : "", e.flags & F_FUA ? "U" : "",
			       e.flags & F_DISCARD ? "D" : "", e.flags & F_MARK ? "M" : "",
			       e.flags & (F_FLUSH | F_FUA | F_DISCARD | F_MARK) ? "" : "-",
			       e.sector, e.sectors, e.mark[0] ? " " : "", e.mark);
		return 0;
	}
	if (argc != 6 || strcmp(argv[2], "replay") != 0) {
		fprintf(stderr, "usage: replay-log LOG list\n"
				"       replay-log LOG replay DEV FIRST LAST\n");
		return 2;
	}
	log_open(&l, argv[1]);
	first = strtoull(argv[4], NULL, 10);
	last = strtoull(argv[5], NULL, 10);
	dev = open(argv[3], O_WRONLY | O_CLOEXEC);
	if (dev < 0)
		die(argv[3]);
	for (i = 1; i <= last && log_next(&l, &e); i++)
		if (i >= first)
			apply(&l, &e, dev);
	errno = 0;
	if (i <= last)
		die("the log ends before the last entry asked for");
	if (fsync(dev) < 0 || close(dev) < 0)
		die("cannot sync the replay device");
	return 0;
}
