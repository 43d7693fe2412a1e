/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* librosnap internals: shared between lib/ files and the unit tests only. */
#ifndef ROSNAP_INTERNAL_H
#define ROSNAP_INTERNAL_H

#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <syslog.h>

#include "librosnap.h"

#define _public_ __attribute__((visibility("default")))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _cleanup_(f) __attribute__((cleanup(f)))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define SECTOR_SIZE 512u
#define ZRAM_BLOCK_SIZE 4096u
#define DEFAULT_CHUNK_BYTES 4096u
#define MIN_CHUNK_BYTES 512u
#define MAX_CHUNK_BYTES ((uint64_t)1 << 20)
/* A persistent store needs a header chunk, a metadata chunk and data. */
#define MIN_COW_BYTES ((uint64_t)1 << 20)

#define UUID_PREFIX "ROSNAP-"
#define COW_SUFFIX "-cow"
#define COW_NEW_SUFFIX "-cow.new"
#define MERGE_SUFFIX "-cow.merge"
#define RUN_DIR "/run/rosnap"

struct kmod_ctx;
struct udev;

struct rosnap_ctx {
	int refcount;
	rosnap_log_fn log_fn;
	void *log_data;
	int log_priority;
	/* Prefix for /sys, /proc and /dev paths: "" except in unit tests. */
	char root[PATH_MAX];
	struct kmod_ctx *kmod;
	struct udev *udev;        /* blkdev.c's, made on first use */
	int lock_fd;
	int lock_depth;
	sigset_t saved_sigmask;   /* while the lock is held, signals wait */
	/* While a device may be suspended, messages wait here (see log_hold). */
	int held;
	char held_msgs[8][1024];
	int held_prio[8];
	int nheld;
};

/* ctx.c */
void rosnap_log(struct rosnap_ctx *ctx, int priority, const char *fmt, ...)
	_printf_(3, 4);
#define log_err(ctx, ...) rosnap_log(ctx, LOG_ERR, __VA_ARGS__)
#define log_warn(ctx, ...) rosnap_log(ctx, LOG_WARNING, __VA_ARGS__)
#define log_notice(ctx, ...) rosnap_log(ctx, LOG_NOTICE, __VA_ARGS__)
#define log_info(ctx, ...) rosnap_log(ctx, LOG_INFO, __VA_ARGS__)
#define log_dbg(ctx, ...) rosnap_log(ctx, LOG_DEBUG, __VA_ARGS__)
/*
 * Hold messages while a device that may hold a filesystem is suspended:
 * the application may write them to a file on that frozen filesystem and
 * block forever.  log_release() delivers them.
 */
void log_hold(struct rosnap_ctx *ctx);
void log_release(struct rosnap_ctx *ctx);
/* Unit tests only: read /sys, /proc, /dev below ROOT. */
int ctx_set_root(struct rosnap_ctx *ctx, const char *root);
/*
 * Test builds only (make FAULT_INJECTION=1): fail with -EIO at the point
 * named by $ROSNAP_TEST_FAIL_AT (or, while it exists, in the file named
 * by $ROSNAP_TEST_FAIL_AT_FILE), so tests can prove every rollback path.
 */
#ifdef ROSNAP_FAULT_INJECTION
int fault_inject(struct rosnap_ctx *ctx, const char *point);
/*
 * Test builds only: when $ROSNAP_TEST_PAUSE_AT is "WHAT:STEP", write this
 * process's id to $ROSNAP_TEST_PAUSE_FILE and wait there until a test
 * removes the file (after sending it a signal, say).
 */
void test_pause(struct rosnap_ctx *ctx, const char *what, const char *step);
/*
 * Test builds only: $ROSNAP_TEST_NO_LOCK=1 takes no lock, so that the
 * concurrency test can prove it would notice the lock missing.
 */
bool test_no_lock(void);
#else
static inline int fault_inject(struct rosnap_ctx *ctx, const char *point)
{
	(void)ctx;
	(void)point;
	return 0;
}
static inline void test_pause(struct rosnap_ctx *ctx, const char *what,
			      const char *step)
{
	(void)ctx;
	(void)what;
	(void)step;
}
static inline bool test_no_lock(void)
{
	return false;
}
#endif

/* path.c: every file access below /sys, /proc and /dev goes through here */
int path_build(struct rosnap_ctx *ctx, char *buf, size_t len,
	       const char *fmt, ...) _printf_(4, 5);
int path_open(struct rosnap_ctx *ctx, int flags, const char *fmt, ...)
	_printf_(3, 4);
int path_read(struct rosnap_ctx *ctx, char *buf, size_t len,
	      const char *fmt, ...) _printf_(4, 5);
int path_read_u64(struct rosnap_ctx *ctx, uint64_t *val,
		  const char *fmt, ...) _printf_(3, 4);
int path_write(struct rosnap_ctx *ctx, const char *val,
	       const char *fmt, ...) _printf_(3, 4);
bool path_exists(struct rosnap_ctx *ctx, const char *fmt, ...) _printf_(2, 3);
/* Strict unsigned decimal, whole string (one trailing newline allowed). */
int parse_u64(const char *s, uint64_t *val);

/* name.c: a zram compression algorithm's name: [a-z0-9-]{1,31} */
bool algorithm_name_ok(const char *s);

/* size.c */
int ram_percent(struct rosnap_ctx *ctx, unsigned percent, uint64_t *bytes);
int meminfo_parse(const char *text, const char *key, uint64_t *bytes);

/* uuid.c: "ROSNAP-<role>-<16 hex>[-ro][-loop][-unprotect][-n<sectors>]" */
enum uuid_role { UUID_SNAP, UUID_COW, UUID_RECOVER, UUID_ORIGIN };
#define UUID_F_ORIGIN_RO 0x1u   /* origin was read-only before rosnap */
#define UUID_F_LOOP 0x2u        /* rosnap attached the origin's loop device */
#define UUID_F_UNPROTECT 0x4u   /* merge source: leave unprotected after */
#define UUID_F_DISK 0x8u        /* store layer: a store on disk (store.c) */
#define UUID_ID_LEN 16
struct rosnap_uuid {
	enum uuid_role role;
	char id[UUID_ID_LEN + 1];
	unsigned flags;
	uint64_t merge_total;   /* merge source: sectors to merge at start */
};
int uuid_format(const struct rosnap_uuid *u, char *buf, size_t len);
int uuid_parse(const char *s, struct rosnap_uuid *u);
int uuid_new(struct rosnap_uuid *u, enum uuid_role role, unsigned flags);
bool uuid_is_rosnap(const char *s);

/* table.c: device-mapper table and status strings (pure) */
#define SNAP_F_DISCARD_ZEROES_COW 0x1u
#define SNAP_F_DISCARD_PASSDOWN 0x2u
struct snap_table {
	dev_t origin;
	dev_t cow;
	bool persistent;
	bool overflow;
	uint32_t chunk_sectors;
	unsigned features;
};
/*
 * The kernel's own memory for a chunk in a snapshot's store: one struct
 * dm_exception (a hash link and two chunk numbers) from its slab cache,
 * drivers/md/dm-exception-store.h.  Exact for scattered chunks; a run of
 * consecutive ones shares an entry (dm-snap.c), which status cannot see,
 * so this is the most it costs.  make bench measures both.
 */
#define DM_EXCEPTION_BYTES 32

/* zram's compression when none is asked for, if the kernel offers it. */
#define ZRAM_DEFAULT_ALGORITHM "zstd"

struct snap_status {
	bool invalid;
	bool overflow;
	bool merge_failed;
	uint64_t allocated;	/* sectors, metadata included */
	uint64_t total;
	uint64_t metadata;
};
int snapshot_table(char *buf, size_t len, const struct snap_table *t);
int snapshot_table_parse(const char *params, struct snap_table *t);
int snapshot_status_parse(const char *params, struct snap_status *st);
/*
 * How a snapshot-merge stands.  "Invalid" and "Merge failed" carry no
 * counts: they must never read as "nothing left", i.e. done.
 */
enum merge_verdict { MERGE_RUNNING, MERGE_DONE, MERGE_FAILED, MERGE_INVALID };
enum merge_verdict merge_verdict(const struct snap_status *st,
				 uint64_t *left_bytes);
int linear_table(char *buf, size_t len, dev_t dev, uint64_t offset);
int linear_table_parse(const char *params, dev_t *dev, uint64_t *offset);
int devnum_parse(const char *s, dev_t *dev);

/* dm.c: the only file that talks to libdevmapper */
struct dm_target {
	uint64_t start;
	uint64_t length;
	char type[32];
	char *params;
};
struct dm_info_ex {
	dev_t devnum;
	int open_count;
	bool suspended;
	bool live_table;
	bool inactive_table;
	uint32_t event_nr;
	uint32_t target_count;
	char name[128];
	char uuid[129];
};
/* How udev should treat a device, and how to create it. */
enum dm_visibility {
	DM_PUBLIC = 0,
	DM_HIDDEN = 0x1,     /* not probed, mounted, or linked by UUID */
	DM_READONLY = 0x2,   /* create: a read-only table */
};
int dm_init(struct rosnap_ctx *ctx);
bool dm_udev_running(struct rosnap_ctx *ctx);
/* -ENXIO when no such device. */
int dm_info(struct rosnap_ctx *ctx, const char *name, struct dm_info_ex *info);
int dm_info_devnum(struct rosnap_ctx *ctx, dev_t dev, struct dm_info_ex *info);
int dm_create(struct rosnap_ctx *ctx, const char *name, const char *uuid,
	      const struct dm_target *targets, unsigned count,
	      enum dm_visibility vis, dev_t *devnum);
int dm_reload(struct rosnap_ctx *ctx, const char *name,
	      const struct dm_target *targets, unsigned count);
/* nolockfs: don't freeze a filesystem (for a layer under a snapshot). */
int dm_suspend(struct rosnap_ctx *ctx, const char *name, bool nolockfs);
int dm_resume(struct rosnap_ctx *ctx, const char *name, enum dm_visibility vis);
/* Drops an inactive table loaded by dm_reload(). */
int dm_clear(struct rosnap_ctx *ctx, const char *name);
int dm_remove(struct rosnap_ctx *ctx, const char *name);
/* Wait for a device's event counter to pass event_nr (or a signal). */
int dm_wait_event(struct rosnap_ctx *ctx, const char *name, uint32_t event_nr);
int dm_rename(struct rosnap_ctx *ctx, const char *name, const char *newname,
	      enum dm_visibility vis);
/* Live table; free with dm_targets_free(). Returns the count. */
int dm_table(struct rosnap_ctx *ctx, const char *name,
	     struct dm_target **targets);
/* Status of a single-target device into buf; type receives its type. */
int dm_status(struct rosnap_ctx *ctx, const char *name, char *type,
	      size_t type_len, char *buf, size_t len);
/* The same for a device's table line (one target only). */
int dm_table_line(struct rosnap_ctx *ctx, const char *name, char *type,
		  size_t type_len, char *buf, size_t len);
void dm_targets_free(struct dm_target *targets, int count);
/* Names of all dm devices whose UUID starts with prefix. */
int dm_list_uuid(struct rosnap_ctx *ctx, const char *prefix,
		 char ***names);
void strv_free(char **v);
int dm_target_version(struct rosnap_ctx *ctx, const char *target,
		      uint32_t version[3]);
/*
 * Features a new snapshot table gets: discard_zeroes_cow where the target
 * has it (1.16), so that a discard (fstrim) zeroes the store's chunks and
 * zram gives their memory back.  Never discard_passdown_origin: that
 * would write the origin.
 */
unsigned snapshot_features(struct rosnap_ctx *ctx);

/* blkdev.c: block device nodes and ioctls */
int blkdev_kname(struct rosnap_ctx *ctx, dev_t dev, char *kname, size_t len);
int blkdev_devnum(struct rosnap_ctx *ctx, const char *kname, dev_t *dev);
/* The attribute ATTR of block device kname ("loop/backing_file"), one
 * line without its newline; -ENODEV: no such device, -ENOENT: no such
 * attribute. */
int blkdev_attr(struct rosnap_ctx *ctx, const char *kname, const char *attr,
		char *buf, size_t len);
/* Write VALUE to that attribute ("disksize"): 0 or the write's -errno. */
int blkdev_set_attr(struct rosnap_ctx *ctx, const char *kname,
		    const char *attr, const char *value);
/* Every block device whose kernel name matches glob (NULL: any), or only
 * the partitions of disk parent: fn(kname, dev, data) until it returns
 * non-zero, which is returned; 0 if it never did; -errno if the devices
 * could not be listed. */
int blkdev_each(struct rosnap_ctx *ctx, const char *glob, const char *parent,
		int (*fn)(const char *kname, dev_t dev, void *data), void *data);
/* The context's libudev handle (made on first use; NULL: no memory), and
 * freed (rosnap_unref). */
struct udev *blkdev_udev(struct rosnap_ctx *ctx);
void blkdev_release(struct rosnap_ctx *ctx);
/* Open /dev/KNAME after checking it is the expected device. */
int blkdev_open(struct rosnap_ctx *ctx, dev_t dev, int flags);
int blkdev_get_ro(int fd, bool *ro);
int blkdev_set_ro(int fd, bool ro);
int blkdev_size(int fd, uint64_t *bytes);
int blkdev_lbs(int fd, unsigned *bytes);
int blkdev_zero(int fd, uint64_t offset, uint64_t len);
/* Number of entries in /sys/class/block/KNAME/holders, or -errno. */
int blkdev_holders(struct rosnap_ctx *ctx, const char *kname,
		   char *first, size_t len);
/* The one device kname stands on (a crypt device's); -ENODEV if not one. */
int blkdev_slave(struct rosnap_ctx *ctx, const char *kname, char *slave,
		 size_t len);
/*
 * The devices KNAME is built on, itself included: its whole disk if a
 * partition, what its slaves/ lead to, and for a loop device the disk that
 * holds its backing file.  Returns the count; names[] gets up to max
 * kernel names.
 */
int blkdev_stack(struct rosnap_ctx *ctx, const char *kname, char names[][32],
		 int max);
/* The kernel name of the whole disk of a partition (itself otherwise). */
int blkdev_whole_disk(struct rosnap_ctx *ctx, const char *kname,
		      char *disk, size_t len);

/* mounts.c */
struct mount_hit {
	char target[PATH_MAX];
	bool read_only;
};
/* Find a mount of any of devs; 1 found, 0 none. */
int mount_find(struct rosnap_ctx *ctx, const dev_t *devs, unsigned n,
	       struct mount_hit *hit);
/* The block device behind a filesystem's st_dev (btrfs: from mountinfo). */
int mount_block_device(struct rosnap_ctx *ctx, dev_t st_dev, dev_t *dev);

/* module.c */
struct kmod_need {
	const char *module;    /* "dm_snapshot" */
	const char *config;    /* "CONFIG_DM_SNAPSHOT" */
	const char *options;   /* module options, or NULL */
};
extern const struct kmod_need KMOD_DM_SNAPSHOT, KMOD_ZRAM, KMOD_BRD, KMOD_LOOP,
	KMOD_DM_CRYPT;
int module_ensure(struct rosnap_ctx *ctx, const struct kmod_need *need);
/* module_ensure() without a message: why it failed goes into WHY. */
int module_try(struct rosnap_ctx *ctx, const struct kmod_need *need, char *why,
	       size_t len);
bool module_loaded(struct rosnap_ctx *ctx, const char *module);
int module_unload(struct rosnap_ctx *ctx, const char *module);

/* zram.c */
struct zram_mm_stat {
	uint64_t orig_data_size;
	uint64_t compr_data_size;
	uint64_t mem_used_total;
};
int zram_create(struct rosnap_ctx *ctx, uint64_t bytes, const char *algo,
		unsigned *id);
int zram_destroy(struct rosnap_ctx *ctx, unsigned id);
int zram_mm_stat(struct rosnap_ctx *ctx, unsigned id, struct zram_mm_stat *st);
int zram_mm_stat_parse(const char *text, struct zram_mm_stat *st);
/* Current algorithm into cur (may be NULL); 1 if name is offered. */
int zram_algorithms_parse(const char *text, const char *name, char *cur,
			  size_t len);
int zram_algorithm(struct rosnap_ctx *ctx, unsigned id, char *buf, size_t len);

/* brd.c */
int brd_create(struct rosnap_ctx *ctx, uint64_t bytes, unsigned *index);
int brd_release(struct rosnap_ctx *ctx, unsigned index);
int brd_pages(struct rosnap_ctx *ctx, unsigned index, uint64_t *pages);

/* loop.c */
int loop_attach(struct rosnap_ctx *ctx, const char *file, bool read_only,
		uint64_t offset, dev_t *dev, int *fd);
/* The same for a file open as ffd (named file in messages). */
int loop_attach_fd(struct rosnap_ctx *ctx, int ffd, const char *file,
		   bool read_only, uint64_t offset, dev_t *dev, int *fd);
/* The st_dev and st_ino of the file behind loop device kname. */
int loop_backing_id(struct rosnap_ctx *ctx, const char *kname, dev_t *dev,
		    ino_t *ino);
int loop_backing_file(struct rosnap_ctx *ctx, const char *kname, char *buf,
		      size_t len);
/* Wait (briefly) for an autoclear loop device to go away. */
int loop_wait_detached(struct rosnap_ctx *ctx, const char *kname);

/* origin.c */
struct origin {
	char path[PATH_MAX];  /* block device */
	char file[PATH_MAX];  /* disk image behind a loop we attached, or "" */
	char kname[64];
	dev_t devnum;
	int fd;               /* open for BLKROSET; keeps our loop alive */
	uint64_t size;
	unsigned lbs;
	bool was_ro;
	bool loop;            /* we attached it */
	bool ro_set;          /* we set BLKROSET */
	char fstype[32];
	char fsuuid[64];
	char ptuuid[64];      /* the partition table it holds */
	char partuuid[64];    /* the partition it is */
	unsigned fs_block_size;
	bool has_ptable;
};
int origin_open(struct rosnap_ctx *ctx, const char *spec, struct origin *o);
/* The device LABEL=, UUID=, PARTUUID= or PARTLABEL= names (malloc'd), or NULL. */
char *blkid_resolve(const char *tag);
/*
 * What a device or file holds: 1 and its filesystem or partition table
 * type in TYPE, 0 if blkid finds nothing, or a negative errno (logged).
 */
int probe_contents(struct rosnap_ctx *ctx, const char *path, int fd,
		   char *type, size_t len);
/* 1 if a loop device (its name into loopname) reads the file img. */
int image_in_loop(struct rosnap_ctx *ctx, const struct stat *img,
		  char *loopname, size_t len);
/* Where the partitions of dev start (bytes), up to max; their count. */
int part_starts(struct rosnap_ctx *ctx, dev_t dev, uint64_t *starts,
		unsigned max);
/* What a journal or a store recorded of its origin ("" where none). */
struct origin_id {
	uint64_t size;
	const char *uuid, *ptuuid, *partuuid;
};
/*
 * What tells o from the origin recorded (whose: "the journal's origin"),
 * as a clause into buf ("its filesystem UUID is X, ..."), or NULL.
 */
const char *origin_differs(const struct origin *o, const struct origin_id *id,
			   const char *whose, char *buf, size_t len);
/* An origin already in use by a rosnap device: no "is it free" checks. */
int origin_open_devnum(struct rosnap_ctx *ctx, dev_t dev, struct origin *o);
int origin_protect(struct rosnap_ctx *ctx, struct origin *o);
void origin_close(struct rosnap_ctx *ctx, struct origin *o, bool restore_ro);
/* Does the origin need a logical block size below zram's 4096? */
enum small_blocks { SMALL_NO, SMALL_NEEDED, SMALL_UNKNOWN };
enum small_blocks origin_small_blocks(const struct origin *o, char *why,
				      size_t len);

/* cow.c: the copy-on-write store, a hidden dm-linear over RAM devices */
#define COW_MAX_PARTS 32
struct cow_part {
	dev_t dev;
	char kname[32];
	unsigned id;          /* zram id, brd index, loop number */
	uint64_t offset;      /* sectors into the part */
	uint64_t bytes;
};
struct cow {
	enum rosnap_backend backend;
	char name[128];
	char uuid[129];
	struct rosnap_uuid id;
	dev_t devnum;
	uint64_t bytes;
	unsigned nparts;
	struct cow_part part[COW_MAX_PARTS];
	bool have_dm;
	/* A fresh store on disk: the kernel header it zeroed, put back by
	 * cow_destroy() unless cow_keep_fresh() says it is in use. */
	void *undo_head;
	size_t undo_bytes;
};
int cow_create(struct rosnap_ctx *ctx, const char *name,
	       enum rosnap_backend backend, uint64_t bytes, const char *algo,
	       struct cow *cow);
/* A second layer over the same RAM devices (a merge reads from it). */
int cow_alias(struct rosnap_ctx *ctx, const char *name, const struct cow *src,
	      const struct rosnap_uuid *u, struct cow *cow);
/*
 * A layer over a journal (backend FILE) or a store on disk (DISK): a loop
 * device or a block device, from offset (sectors).
 */
int cow_create_on(struct rosnap_ctx *ctx, const char *name,
		  enum rosnap_backend backend, dev_t dev, uint64_t offset,
		  uint64_t bytes, const struct rosnap_uuid *u, struct cow *cow);
/*
 * The journal a layer reads (a merge from a journal), or the store on disk
 * it maps: its path, and what it is: a file (st_dev, st_ino) or a block
 * device (st_rdev).  -ENOENT for a layer over RAM.
 */
struct journal_ref {
	char path[PATH_MAX];
	bool blkdev;
	dev_t dev;
	ino_t ino;
	const char *crypt;        /* a store's encryption ("random", "luks2") */
};
int cow_journal(struct rosnap_ctx *ctx, const struct cow *cow,
		struct journal_ref *ref);
/* Whether a store's key dies with its crypt device (a random key). */
bool store_key_random(const struct journal_ref *ref);
/* Remove the layer, and its RAM devices unless another layer holds them. */
int cow_destroy(struct rosnap_ctx *ctx, struct cow *cow);
int cow_rename(struct rosnap_ctx *ctx, struct cow *cow, const char *name);
/* Add a RAM device of bytes to a live store (suspended without a freeze). */
int cow_grow(struct rosnap_ctx *ctx, struct cow *cow, uint64_t bytes);
/* Free a RAM device (zramN, ramN) if no device holds it, and say so. */
void cow_free_unheld(struct rosnap_ctx *ctx, const char *kname);
/* Free the RAM devices a killed command made and no table took. */
void cow_tidy(struct rosnap_ctx *ctx);
/* Undo a create killed before its device existed (under the lock). */
void create_tidy(struct rosnap_ctx *ctx);
/* The fresh store is live: what it replaced is gone for good. */
void cow_keep_fresh(struct cow *cow);
/* Make a fresh store like an existing one: same backend, size, algorithm. */
int cow_create_like(struct rosnap_ctx *ctx, const char *name,
		    const struct cow *model, struct cow *cow);
/* Reconstruct from the name of an existing cow layer. */
int cow_load(struct rosnap_ctx *ctx, const char *name, struct cow *cow);
unsigned cow_block_size(enum rosnap_backend backend);
/* Memory the store really uses, and the data it holds before compression. */
int cow_ram_used(struct rosnap_ctx *ctx, const struct cow *cow,
		 uint64_t *ram, uint64_t *data, bool *exact);

/* recover.c: 1 if the journal at path records root as its origin, 0 if
 * another, or -errno. */
int journal_is_of(struct rosnap_ctx *ctx, const char *path, const char *root);

/* field.c: fields of rosnap's on-disk headers, little-endian */
void field_put32(unsigned char *p, uint32_t v);
void field_put64(unsigned char *p, uint64_t v);
uint32_t field_get32(const unsigned char *p);
uint64_t field_get64(const unsigned char *p);
/* CRC32 (zlib's) of the first len bytes. */
uint32_t field_crc(const unsigned char *buf, size_t len);
/* A string into a zero-padded field of size bytes; -ENAMETOOLONG. */
int field_put_str(unsigned char *dst, size_t size, const char *s);
/* A field must end within its size and hold printable ASCII; -EINVAL. */
int field_get_str(char *dst, const unsigned char *src, size_t size);

/* siphash.c: SipHash-2-4 of len bytes under a 16-byte key */
uint64_t siphash24(const unsigned char key[16], const void *data, size_t len);

/* journal.c: the copy of a COW that a power-loss-safe merge reads from */
#define JOURNAL_HEADER_BYTES 4096u
#define JOURNAL_VERSION 2u
enum journal_state { JOURNAL_COPYING = 1, JOURNAL_MERGING = 2 };
#define JOURNAL_F_UNPROTECT 0x1u
struct journal_header {
	uint32_t version;
	uint32_t state;
	uint64_t data_bytes;      /* bytes of COW after the header */
	uint32_t chunk_sectors;
	uint32_t flags;
	uint64_t origin_size;
	uint64_t created;         /* seconds since the epoch */
	char origin_uuid[64];     /* the origin's filesystem UUID, or "" */
	char origin_path[128];    /* where the origin was, a hint */
	char name[128];           /* the rosnap device merged */
	char origin_ptuuid[64];   /* its partition table's UUID, or "" (v2) */
	char origin_partuuid[64]; /* its partition's UUID, or "" (v2) */
};
int journal_encode(const struct journal_header *h, unsigned char *buf);
/* Does path start with a journal's magic?  Quiet: false on any error. */
bool journal_has_magic(const char *path);
/* Verify and decode; *why names what is wrong. */
int journal_decode(const unsigned char *buf, struct journal_header *h,
		   const char **why);
/* Check the kernel's persistent-store header at the start of the COW. */
int cow_header_check(const unsigned char *buf, uint32_t chunk_sectors,
		     const char **why);
struct journal {
	char path[PATH_MAX];
	int fd;
	bool blkdev;              /* a block device rather than a file */
	uint64_t size;            /* room after the header, bytes */
	uint64_t data_at;         /* where in fd the copy goes */
	struct journal_header h;
	/* The copy made while live (journal_precopy), block by block. */
	uint64_t *sums;           /* keyed hash of each block written */
	uint64_t nsums, copied;   /* blocks, and bytes they cover */
	unsigned char key[16];
	/* Allocated by the live copy: the frozen one allocates nothing. */
	char *buf;                /* one block, aligned for O_DIRECT */
	char *zero;               /* a zeroed chunk */
};
/*
 * Is path (a file, new or not, or a block device) a fit place for
 * WHAT ("journal", "store"): on a disk, not in RAM, not on the origin,
 * nor on top (the device being merged; 0: none)?  Logs why not.
 */
int place_check(struct rosnap_ctx *ctx, const char *what, const char *path,
		dev_t origin, dev_t top, const char *name);
/* fsync() the directory that holds path (a file just made or renamed). */
int fsync_parent(const char *path);
/* place_check(), and a journal file must not exist yet (-EEXIST). */
int journal_check_place(struct rosnap_ctx *ctx, const char *path,
			dev_t origin, dev_t top, const char *name);
/*
 * Create a journal (state "copying") with room for want bytes after the
 * header: a sparse file of that size, or as much of a block device as it
 * has (j->size).
 */
int journal_create(struct rosnap_ctx *ctx, const char *path,
		   const struct journal_header *h, uint64_t want,
		   struct journal *j);
/*
 * A first copy of bytes of store from src, made while the device runs:
 * what journal_fill then finds unchanged it does not write again.
 * progress (may be NULL) is told as it goes; non-zero: -ECANCELED.
 */
int journal_precopy(struct rosnap_ctx *ctx, struct journal *j, int src,
		    uint64_t bytes, rosnap_progress_fn progress, void *userdata);
/*
 * Copy bytes of store from src (only the blocks that differ from the
 * first copy, if one was made), then a zeroed chunk that ends the store,
 * and sync.  *written (may be NULL) gets the bytes written.
 */
int journal_fill(struct rosnap_ctx *ctx, struct journal *j, int src,
		 uint64_t bytes, uint64_t *written);
int journal_set_state(struct rosnap_ctx *ctx, struct journal *j,
		      enum journal_state state);
/*
 * Copy the live store of d into j (past its page cache): with written
 * NULL, the first copy while d runs (progress may be NULL); otherwise,
 * d suspended, the rest (j->h.data_bytes: how much the store holds).
 */
int journal_copy_store(struct rosnap_ctx *ctx, const struct rosnap_device *d,
		       struct journal *j, rosnap_progress_fn progress,
		       void *userdata, uint64_t *written);
int journal_open(struct rosnap_ctx *ctx, const char *path, struct journal *j);
/* Delete a file journal, or wipe the header of a block device. */
int journal_remove(struct rosnap_ctx *ctx, struct journal *j);
void journal_close(struct journal *j);

/* transition.c: every change of a live device's table */
struct transition {
	const char *what;              /* "merge-start": names pause points */
	const char *name;              /* the dm device suspended */
	const struct dm_target *table; /* loaded before the suspend, or NULL */
	unsigned count;
	bool nolockfs;                 /* a layer: no filesystem to freeze */
	enum dm_visibility vis;
	/* Runs while suspended; a table it loads must be its last step. */
	int (*frozen)(struct rosnap_ctx *ctx, void *data);
	void *data;
};
/*
 * Suspend, run the frozen step, resume into the new table; on failure,
 * back to the old one.  The caller holds the lock (signals wait).
 */
int transition_run(struct rosnap_ctx *ctx, const struct transition *t);
/*
 * With the lock just taken: resume what a killed command left suspended,
 * put every device's layers and origin flag in order, finish merges that
 * nobody finished.
 */
void transition_tidy(struct rosnap_ctx *ctx);
/* A top device's table of TYPE: "snapshot", "snapshot-merge" or "linear". */
int top_table(struct rosnap_ctx *ctx, const struct rosnap_device *d,
	      const char *type, dev_t cow, uint32_t chunk_bytes,
	      struct dm_target *t, char *params, size_t len);
/* Load it into the inactive slot. */
int reload_top(struct rosnap_ctx *ctx, const struct rosnap_device *d,
	       const char *type, dev_t cow, uint32_t chunk_bytes);
/*
 * Around a suspend that may hold the root filesystem: nothing may page in,
 * and messages are held until the end (log_hold).
 */
void memory_lock(struct rosnap_ctx *ctx);
void memory_unlock(struct rosnap_ctx *ctx);

/* merge.c */
/* Protect a merged device again with a fresh store (or unprotect it). */
int merge_finish(struct rosnap_ctx *ctx, struct rosnap_device *d);
/* Load snapshot-merge again over a device's own store (a cut retry). */
int merge_rearm(struct rosnap_ctx *ctx, const struct rosnap_device *d);
/*
 * Remove the journal ref names (a file, or a block device's header) if
 * it is still what ref says; -ESTALE, and left alone, if it is not.
 */
int merge_journal_remove(struct rosnap_ctx *ctx, const struct journal_ref *ref);
/*
 * Poll a snapshot-merge device until its store is merged.  total: bytes
 * to merge at the start, for the progress callback.  Returns 0 when
 * merged, 1 when the device is no longer merging, 2 when the callback
 * stopped the wait, or -errno (-EIO: the kernel's merge failed).
 */
int wait_merged(struct rosnap_ctx *ctx, const char *name, uint64_t total,
		rosnap_progress_fn progress, void *userdata);

/* boot.c */
struct rosnap_boot {
	struct rosnap_ctx *ctx;
	int enabled;               /* -1 unsaid, 0 off, 1 on */
	bool cmdline_off;          /* rosnap=off on the kernel command line */
	int problems;
	char name[ROSNAP_NAME_MAX + 1];
	char ram[32];
	enum rosnap_backend backend;
	char compression[32];
	uint32_t chunk_bytes;    /* from profile=, or 0 */
	enum rosnap_fallback fallback;
	char journal[256];
	char store[256];         /* a store on disk for the root, or "" */
	char restore[256];       /* a saved RAM store to start from, or "" */
	char save[256];          /* where shutdown saves the RAM store, or "" */
	char key[256];           /* a LUKS2 key file (boot.conf only), or "" */
	bool notice;             /* the login notice of a protected root */
	bool reset;              /* rosnap.reset: start the store afresh */
	char root[512];          /* as long as a parameter may be here */
	unsigned warn, critical;
	uint64_t min_free, grow_by, grow_max;
	char exec[256];
	char newroot[PATH_MAX];
};

/* What to do with the root: the order of precedence of the settings. */
enum boot_decision { BOOT_DISK, BOOT_FALLBACK, BOOT_PROTECT };
enum boot_decision boot_decide(const struct rosnap_boot *boot);

/* systemd's escaping of a path for a unit name ("dev-vda1"). */
int unit_path_escape(const char *path, char *buf, size_t len);
/* root= (UUID=, LABEL=, /dev/...) as a device path. */
int boot_root_path(const char *spec, char *buf, size_t len);

/*
 * lock.c: one lock for every operation that changes devices.  While it
 * is held, catchable signals are blocked: they arrive once it is let go.
 * Taking it first repairs what a killed command left (transition_tidy).
 */
int lock_acquire(struct rosnap_ctx *ctx);
void lock_release(struct rosnap_ctx *ctx);
/*
 * For commands that only read (status, list, the monitor): repair what a
 * killed command left if the lock is free now; never wait for it.
 */
void lock_tidy(struct rosnap_ctx *ctx);
/*
 * Records of work under way, RUN_DIR/PREFIXKEY, one line of TEXT each,
 * for the next command to finish or undo what a killed one left.
 * records_take() passes each under PREFIX to FN (the text "" if it cannot
 * be read), then removes it.
 */
int record_write(struct rosnap_ctx *ctx, const char *prefix, const char *key,
		 const char *text);
void record_remove(struct rosnap_ctx *ctx, const char *prefix, const char *key);
/* Its text into BUF ("" if none): a regular file, never followed or waited on. */
void record_read(struct rosnap_ctx *ctx, const char *prefix, const char *key,
		 char *buf, size_t len);
void records_take(struct rosnap_ctx *ctx, const char *prefix,
		  void (*fn)(struct rosnap_ctx *ctx, const char *key,
			     const char *text));
/* Held (shared) by whoever waits to finish a merge; fd or -errno. */
int merge_waiter_lock(struct rosnap_ctx *ctx, const char *name);
/* Let go of it (fd < 0: nothing); the last one out removes the file. */
void merge_waiter_unlock(struct rosnap_ctx *ctx, const char *name, int fd);
/* Is somebody waiting to finish NAME's merge? */
bool merge_has_waiter(struct rosnap_ctx *ctx, const char *name);

/* store.c: a store on disk, a header of rosnap's own before the kernel's */
#define STORE_HEADER_BYTES 4096u
#define STORE_VERSION 1
#define STORE_FP_PARTS 16
enum store_state {
	STORE_ATTACHED = 1,
	STORE_DETACHED = 2,
	STORE_MERGING = 3,
	STORE_SAVED = 4,          /* a copy of a RAM store (rosnap save) */
};
/* The store's area is encrypted with a random key nobody kept. */
#define STORE_F_RANDOM_KEY 0x1u
/* ... or with LUKS2, its header in the STORE_LUKS2_BYTES after rosnap's. */
#define STORE_F_LUKS2 0x2u
#define STORE_F_ENCRYPTED (STORE_F_RANDOM_KEY | STORE_F_LUKS2)
#define STORE_F_KNOWN STORE_F_ENCRYPTED
#define STORE_LUKS2_BYTES (UINT64_C(1) << 20)
struct store_header {
	uint32_t version;
	uint32_t state;
	uint64_t store_bytes;     /* the kernel's area, after the header */
	uint32_t chunk_sectors;
	uint32_t flags;           /* STORE_F_* */
	uint64_t origin_size;
	uint64_t created, changed;  /* seconds since 1970 */
	unsigned char key[16];    /* the fingerprint's SipHash key */
	uint64_t fp[2];           /* the origin's first MiB; samples of the rest */
	uint64_t saved_bytes;     /* saved: how much of the store was copied */
	char origin_uuid[64];
	char origin_ptuuid[64];
	char origin_partuuid[64];
	char origin_path[128];
	char name[128];
};
struct store {
	char path[PATH_MAX];
	int fd;                   /* the file or the device */
	bool blkdev;
	bool created_file;        /* this command made the file */
	bool wrote;               /* this command wrote its header */
	bool fresh;               /* made by this command: no changes yet */
	const char *key_file;     /* the key of a LUKS2 store */
	dev_t dev;                /* the block device */
	uint64_t size;            /* of the file or device */
	struct store_header h;
	/* What the fingerprint needs, made before a device is suspended. */
	unsigned char *fpbuf;
	uint64_t fpparts[STORE_FP_PARTS]; /* where the origin's partitions start */
	unsigned nfpparts;
};
const char *store_state_name(enum store_state state);
bool store_has_magic(const unsigned char *buf);
int store_encode(const struct store_header *h, unsigned char *buf);
int store_decode(const unsigned char *buf, struct store_header *h,
		 const char **why);
/*
 * The origin's fingerprint under the store's key, read past the page
 * cache.  store_fingerprint_prepare() makes what it needs (a buffer, the
 * origin's partitions), so that a suspended device waits on no allocation.
 */
int store_fingerprint_prepare(struct rosnap_ctx *ctx, struct store *s,
			      dev_t origin);
int store_fingerprint(struct rosnap_ctx *ctx, struct store *s, dev_t origin,
		      uint64_t fp[2]);
/*
 * For create --store: check the place, make the file (bytes > 0) or take
 * an existing one (refusing a store, a journal or data unless overwrite),
 * and fill in the header for o.  Writes nothing yet but an old store's
 * kernel header.  store_unmake() undoes it.
 */
int store_make(struct rosnap_ctx *ctx, const char *path, uint64_t bytes,
	       bool overwrite, const struct origin *o, uint32_t chunk,
	       const char *name, struct store *s);
/* Record o's size and UUIDs, as they are now, in the header. */
void store_set_identity(struct store *s, const struct origin *o);
/* Remove the file store_make() made, or wipe the header it wrote. */
void store_unmake(struct rosnap_ctx *ctx, struct store *s);
/* Open an existing store and check its header. */
int store_open(struct rosnap_ctx *ctx, const char *path, struct store *s);
/*
 * The store of a merging device, ready for its header to be written with
 * the device suspended: the origin's identity as merged, the fingerprint's
 * buffer and partitions.
 */
int store_prepare_merged(struct rosnap_ctx *ctx, const struct rosnap_device *d,
			 struct store *s);
/* The store of a device on disk (-ENOENT for a RAM store). */
int store_of(struct rosnap_ctx *ctx, const struct rosnap_device *d,
	     struct store *s);
void store_close(struct store *s);
int store_write_header(struct rosnap_ctx *ctx, struct store *s);
/* Set the state and write the header; but for "merging", take the
 * origin's fingerprint first (it must be read-only or closed). */
int store_set_state(struct rosnap_ctx *ctx, struct store *s,
		    enum store_state state, dev_t origin);
/* Mark it detached, with the origin's identity and fingerprint now. */
int store_detach(struct rosnap_ctx *ctx, struct store *s, dev_t origin);
/* Zero the header: the store no longer holds changes of anything. */
int store_wipe(struct rosnap_ctx *ctx, struct store *s);
/* Attach checks: the origin's size and UUIDs; its fingerprint; the
 * kernel's own header.  force turns a mismatch into a warning. */
int store_check_identity(struct rosnap_ctx *ctx, const struct store *s,
			 const struct origin *o, bool force);
int store_check_fingerprint(struct rosnap_ctx *ctx, struct store *s,
			    const struct origin *o, bool force);
int store_kernel_check(struct rosnap_ctx *ctx, const struct store *s);
/* Whether key_file fits s (LUKS2 needs one, the others none), and can be
 * read: s keeps it for its crypt device. */
int store_use_key(struct rosnap_ctx *ctx, struct store *s, const char *key_file);
/* Where the kernel's store starts: after rosnap's header (and LUKS2's). */
uint64_t store_area_at(const struct store_header *h);
/* Encrypt a store store_make() made (STORE_F_*; the LUKS2 key's file,
 * checked by the caller): its area shrinks by LUKS2's header. */
int store_encrypt(struct rosnap_ctx *ctx, struct store *s, uint32_t flags,
		  const char *key_file);
/*
 * The store's area as a block device: the store's (a loop device over a
 * file), or its crypt device NAME.crypt if it is encrypted (opened with
 * s->key_file).  store_area_close() removes what store_area_open() made
 * (once nothing else holds it).
 */
struct store_area {
	dev_t dev;
	uint64_t at;              /* where the area starts on dev, bytes */
	int lfd;                  /* the loop device over a file, or -1 */
	char crypt[160];          /* the crypt device, or "" */
};
int store_area_open(struct rosnap_ctx *ctx, struct store *s, const char *name,
		    struct store_area *a);
void store_area_close(struct rosnap_ctx *ctx, struct store_area *a);
/* The layer NAME over the store's area. */
int store_layer(struct rosnap_ctx *ctx, struct store *s, const char *name,
		const struct rosnap_uuid *u, struct cow *cow);

/* crypt.c: dm-crypt under a store's layer, through libcryptsetup */
#define CRYPT_SUFFIX ".crypt"
/* The crypt device NAME over dev from offset (sectors), bytes long,
 * keyed with a random key that nothing keeps; its device number. */
int encrypt_open_random(struct rosnap_ctx *ctx, dev_t dev, uint64_t offset,
		      uint64_t bytes, const char *name, dev_t *out);
/*
 * LUKS2 with its header in the store (fd) at header_at, STORE_LUKS2_BYTES
 * long, the data on dev from data_at (bytes), a key slot opened by what
 * key_file holds: the crypt device NAME.  format: a new header first.
 */
int encrypt_open_luks2(struct rosnap_ctx *ctx, int fd, dev_t dev,
		       uint64_t header_at, uint64_t data_at, bool format,
		       const char *key_file, const char *store,
		       const char *name, dev_t *out);
/* Whether a device NAME may have a store encrypted with LUKS2. */
int encrypt_check_name(struct rosnap_ctx *ctx, const char *name);
/* Whether key_file can be read and holds a key, before anything is made. */
int encrypt_check_key_file(struct rosnap_ctx *ctx, const char *key_file);
/* The device under the crypt device dev, and its encryption ("random",
 * "luks2"); -ENOENT if dev is no crypt device. */
int encrypt_below(struct rosnap_ctx *ctx, dev_t dev, dev_t *below,
		const char **type);
/* Remove the crypt device dev or NAME (-ENOENT: none rosnap made). */
int encrypt_close(struct rosnap_ctx *ctx, dev_t dev);
int encrypt_close_name(struct rosnap_ctx *ctx, const char *name);
/* Under the lock: remove the crypt devices no layer holds. */
void encrypt_tidy(struct rosnap_ctx *ctx);

/* save.c: a saved RAM store (state "saved"), for create --restore */
struct saved {
	struct store st;
	struct store_area area;   /* encrypted: its crypt device */
	int fd;                   /* the store's area is read from fd ... */
	uint64_t at;              /* ... from here */
};
/*
 * Open it, and check it belongs to o as far as o's identity tells; an
 * encrypted one is opened with key_file, as the crypt device of NAME's
 * layer NAME-cow (cowname).
 */
int saved_open(struct rosnap_ctx *ctx, const char *path,
	       const struct origin *o, const char *key_file,
	       const char *cowname, struct saved *sv);
/* Copy it into the fresh RAM store under cow, before a snapshot uses it. */
int saved_load(struct rosnap_ctx *ctx, const struct saved *sv,
	       const struct cow *cow);
void saved_close(struct rosnap_ctx *ctx, struct saved *sv);

/* device.c */
struct rosnap_device {
	int refcount;
	struct rosnap_ctx *ctx;
	char name[128];
	char path[PATH_MAX];
	char uuid[129];
	struct rosnap_uuid id;
	dev_t devnum;
	int open_count;
	char origin[PATH_MAX];
	char origin_file[PATH_MAX];
	dev_t origin_devnum;
	char cow_name[128];
	char cow_device[PATH_MAX];
	char compression[32];
	enum rosnap_backend backend;
	enum rosnap_state state;
	uint32_t chunk_bytes;
	uint64_t size;
	uint64_t cow_size;
	uint64_t cow_used;
	uint64_t cow_meta;
	uint64_t merge_remaining;  /* bytes */
	struct journal_ref journal;  /* path "" unless merging from one */
	struct journal_ref store;    /* path "" unless the store is on disk */
	char saved[PATH_MAX];        /* where rosnap save last wrote, or "" */
	uint64_t saved_at;
	uint64_t data_bytes;
	uint64_t ram_used;
	struct cow cow;
	char reason[512];
};
/* What to call the origin in messages: the disk image, or the device. */
const char *device_origin_label(const struct rosnap_device *d);
/* Resolve NAME or a path to a dm device name. */
int device_resolve_name(struct rosnap_ctx *ctx, const char *arg, char *name,
			size_t len);
int device_read(struct rosnap_ctx *ctx, const char *name,
		struct rosnap_device **dev);

#endif
