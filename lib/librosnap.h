/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * librosnap - make a read-only block device writable at the block level.
 *
 * A rosnap device is a device-mapper "snapshot" whose origin is the
 * protected device and whose copy-on-write store lives in RAM (zram,
 * compressed, or brd).  The kernel is the only database: every device
 * rosnap creates carries a DM UUID starting with "ROSNAP-".
 *
 * Conventions:
 *  - Every function returning int returns 0 (or a count where said) on
 *    success and a negative errno on failure.
 *  - The library never prints and never exits; it reports through the log
 *    function set with rosnap_set_log_fn(), with syslog priorities.  An
 *    operation that fails has logged one LOG_ERR message naming the
 *    problem and, where there is one, the fix.
 *  - Strings returned by getters belong to the object they came from and
 *    live as long as it does.
 */
#ifndef LIBROSNAP_H
#define LIBROSNAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct rosnap_ctx;
struct rosnap_device;

/* ------------------------------------------------------------------ */
/* Context                                                            */

/*
 * Create a library context with a reference count of one.
 * Returns 0 or -ENOMEM.
 */
int rosnap_new(struct rosnap_ctx **ctx);
struct rosnap_ctx *rosnap_ref(struct rosnap_ctx *ctx);
/* Drop a reference; frees the context at zero.  Always returns NULL. */
struct rosnap_ctx *rosnap_unref(struct rosnap_ctx *ctx);

/*
 * Log callback: priority is a syslog priority (LOG_ERR ... LOG_DEBUG),
 * msg a complete sentence without a trailing newline.
 */
typedef void (*rosnap_log_fn)(struct rosnap_ctx *ctx, int priority,
			      const char *msg, void *userdata);
/* Set the log function; NULL discards all messages (the default). */
void rosnap_set_log_fn(struct rosnap_ctx *ctx, rosnap_log_fn fn,
		       void *userdata);
/* Messages with a priority numerically above this are not produced. */
void rosnap_set_log_priority(struct rosnap_ctx *ctx, int priority);
int rosnap_get_log_priority(const struct rosnap_ctx *ctx);

/* ------------------------------------------------------------------ */
/* Values                                                             */

enum rosnap_backend {
	ROSNAP_BACKEND_AUTO = 0, /* zram unless the origin needs small sectors */
	ROSNAP_BACKEND_ZRAM,
	ROSNAP_BACKEND_BRD,
	ROSNAP_BACKEND_FILE,     /* a journal file, during a journaled merge */
	ROSNAP_BACKEND_NONE,     /* unprotected: no copy-on-write store */
	ROSNAP_BACKEND_DISK,     /* a store on disk: a file or a block device */
};

enum rosnap_state {
	ROSNAP_STATE_ACTIVE = 0,   /* protecting; changes go to RAM */
	ROSNAP_STATE_OVERFLOW,     /* COW full: writes fail, reads work */
	ROSNAP_STATE_INVALID,      /* snapshot invalidated by the kernel */
	ROSNAP_STATE_MERGING,      /* changes being written to the origin */
	ROSNAP_STATE_MERGE_FAILED, /* the kernel stopped a merge on error */
	ROSNAP_STATE_UNPROTECTED,  /* plain mapping of the origin */
	ROSNAP_STATE_INCOMPLETE,   /* left half-made; remove cleans it up */
};

/* "zram", "brd", "file", "none"; "auto" for ROSNAP_BACKEND_AUTO. */
const char *rosnap_backend_name(enum rosnap_backend backend);
/* Accepts "zram", "brd" and "auto".  Returns 0 or -EINVAL. */
int rosnap_backend_from_name(const char *name, enum rosnap_backend *backend);
/* "active", "overflow", "invalid", "merging", "merge-failed", ... */
const char *rosnap_state_name(enum rosnap_state state);

/*
 * Parse a size: a decimal integer with an optional binary unit
 * K, M, G, T (also KiB, MiB, GiB, TiB), case-insensitive.
 * Returns 0, -EINVAL (malformed) or -ERANGE (too large).
 */
int rosnap_parse_size(const char *str, uint64_t *bytes);
/*
 * Format bytes the way lsblk does: "0B", "512B", "4K", "1.5G".
 * Returns the length written, or -ENOSPC when buf is too small.
 */
int rosnap_format_size(uint64_t bytes, char *buf, size_t len);
/* Physical memory (MemTotal) in bytes. */
int rosnap_ram_total(struct rosnap_ctx *ctx, uint64_t *bytes);
/*
 * Parse a COW capacity: a size as rosnap_parse_size() or "N%" of
 * physical memory (1 <= N <= 100).  Does not check the result against
 * memory; rosnap_create() does.  Returns 0, -EINVAL or -ERANGE.
 */
int rosnap_parse_ram(struct rosnap_ctx *ctx, const char *str,
		     uint64_t *bytes);
/*
 * Check a device name: 1..ROSNAP_NAME_MAX characters from [A-Za-z0-9._+-],
 * not starting with '.' or '-', not ending in "-cow" nor holding "-cow."
 * followed by more (reserved for the internal layers).  Returns 0, -EINVAL or -ENAMETOOLONG;
 * *why (if not NULL) receives a static explanation on failure.
 */
#define ROSNAP_NAME_MAX 100
int rosnap_check_name(const char *name, const char **why);
/*
 * A chunk size named for what the device will mostly do (make bench's
 * trade-off): "edits", 4K, the default: a small change takes the least
 * RAM; "reads", 64K: reads of unchanged data and first writes are split
 * into fewer pieces, and each small change takes a whole 64K chunk.
 * Returns 0, or -EINVAL for another name.
 */
#define ROSNAP_PROFILES "edits, reads"
int rosnap_parse_profile(const char *name, uint32_t *chunk_bytes);

/* ------------------------------------------------------------------ */
/* Creating                                                           */

#define ROSNAP_CREATE_OVERWRITE 0x1u /* store: drop what the place holds */
/*
 * store: encrypt it (dm-crypt, aes-xts-plain64) with a random key that
 * only the kernel holds: once the device is removed or the power is off,
 * the changes on the disk can never be read.  For capacity beyond RAM,
 * not for keeping changes: such a store cannot be detached and attached.
 */
#define ROSNAP_CREATE_ENCRYPT 0x2u

/* Zero in any field means "the default". */
struct rosnap_create_opts {
	const char *name;           /* default "rosnap-<kernel name>" */
	uint64_t ram_bytes;         /* COW capacity; see rosnap(8); with a
	                             * store, the size of a new store file */
	uint32_t chunk_bytes;       /* default 4096 */
	enum rosnap_backend backend;
	const char *compression;    /* zram algorithm; default: kernel's */
	uint32_t flags;             /* ROSNAP_CREATE_* */
	/*
	 * A store on disk instead of RAM: a file (made if missing, with
	 * ram_bytes) or a block device.  It keeps the changes across
	 * reboots: rosnap_detach(), rosnap_attach().
	 */
	const char *store;
#if UINTPTR_MAX == UINT32_MAX       /* the pointer 8 bytes wide */
	uint32_t store_pad_;
#endif
	/*
	 * A RAM store saved by rosnap_save(): loaded into the new RAM store
	 * (of at least its size), if it belongs to the origin as it is.
	 */
	const char *restore;
#if UINTPTR_MAX == UINT32_MAX
	uint32_t restore_pad_;
#endif
	/*
	 * With a store: encrypt it with LUKS2, opened by what this file
	 * holds ("-": standard input, to its end; see ROSNAP_CREATE_ENCRYPT
	 * for a random key instead).  With restore: the key of a saved
	 * store rosnap_save_key() encrypted.
	 */
	const char *key_file;
#if UINTPTR_MAX == UINT32_MAX
	uint32_t key_file_pad_;
#endif
	uint64_t reserved[5];       /* must be 0 */
};

/* Default COW capacity, in percent of physical memory, per backend. */
#define ROSNAP_DEFAULT_RAM_PERCENT_ZRAM 50
#define ROSNAP_DEFAULT_RAM_PERCENT_BRD 25

/*
 * Protect ORIGIN: a block device path, a regular file (a disk image,
 * attached to a loop device that goes away with the rosnap device), or
 * LABEL=, UUID=, PARTUUID=, PARTLABEL=.  On success *dev (if not NULL)
 * holds a new reference to the device.  On failure nothing the call
 * made is left behind.
 *
 * Returns 0, or: -EINVAL bad options, -ENOENT/-ENODEV/-ENXIO origin not
 * found, -ENOTBLK not a block device or disk image, -EEXIST name taken,
 * -EBUSY origin in use or mounted, -EPERM/-EACCES not permitted,
 * -EOPNOTSUPP kernel support missing, -ENOMEM, -EIO.
 */
int rosnap_create(struct rosnap_ctx *ctx, const char *origin,
		  const struct rosnap_create_opts *opts,
		  struct rosnap_device **dev);

#define ROSNAP_ATTACH_FORCE 0x1u    /* attach to an origin that differs */
/*
 * Protect ORIGIN again with the changes kept in a store on disk (made by
 * rosnap_create() with a store, kept by rosnap_detach() or a power cut).
 * Refuses a store whose header is damaged, and one recorded for another
 * origin or for this origin as it was before it was written (size, UUIDs
 * and a fingerprint of its contents): attaching those would corrupt it.
 * ROSNAP_ATTACH_FORCE turns that refusal into a warning.  name NULL: the
 * name the store recorded.
 *
 * Returns 0, or as rosnap_create(), and -EINVAL for a store that is not
 * usable or does not match.
 */
int rosnap_attach(struct rosnap_ctx *ctx, const char *origin,
		  const char *store, const char *name, uint32_t flags,
		  struct rosnap_device **dev);
/*
 * The same for a store encrypted with LUKS2 (rosnap_create_opts'
 * key_file): key_file holds its key.  -EINVAL if the key opens none of
 * the store's key slots, if key_file is NULL for an encrypted store or
 * given for one that is not.
 */
int rosnap_attach_key(struct rosnap_ctx *ctx, const char *origin,
		      const char *store, const char *name, uint32_t flags,
		      const char *key_file, struct rosnap_device **dev);

/*
 * Remove a rosnap device by name or path: refuses with -EBUSY while it
 * is open; otherwise removes the snapshot and its internal layers,
 * frees the RAM device, detaches a loop device rosnap attached, and
 * gives the origin back its previous read-only flag.  Also cleans up
 * a device left half-made (state "incomplete").
 * Returns 0, -ENODEV (no such rosnap device), -EBUSY, -EPERM, -EIO.
 */
int rosnap_remove(struct rosnap_ctx *ctx, const char *name);
/*
 * Remove a device whose store is on disk and keep the store, with a
 * fresh fingerprint of the origin, for rosnap_attach().  (rosnap_remove()
 * wipes the store's header: its changes are gone.)
 * Returns as rosnap_remove(), and -EINVAL for a RAM store.
 */
int rosnap_detach(struct rosnap_ctx *ctx, const char *name);

#define ROSNAP_SAVE_OVERWRITE 0x1u  /* replace what path holds */
/*
 * Save a consistent copy of a device's RAM store to path (a file, written
 * whole then renamed over path; or a block device), with the origin's
 * identity and fingerprint, for rosnap_create() with restore.  The device
 * is suspended (its filesystem frozen) only while what changed since a
 * first copy is copied again.  A previous save of the same device and
 * origin at path is replaced; anything else only with
 * ROSNAP_SAVE_OVERWRITE (else -EEXIST); a file a loop device reads never
 * (-EBUSY).
 * Returns 0, -ENODEV, -EINVAL (a store on disk, not active, a bad place),
 * -EBUSY (merging), -EEXIST, -ENOSPC, -EIO.
 */
int rosnap_save(struct rosnap_ctx *ctx, const char *name, const char *path,
		uint32_t flags);
/*
 * The same, encrypted with LUKS2 opened by what key_file holds ("-":
 * standard input), as a store on disk is (rosnap_create_opts' key_file);
 * rosnap_create() restores it with the same key_file.  key_file NULL: as
 * rosnap_save().
 */
int rosnap_save_key(struct rosnap_ctx *ctx, const char *name, const char *path,
		    uint32_t flags, const char *key_file);

/* ------------------------------------------------------------------ */
/* Merging, discarding, protecting again                              */

#define ROSNAP_MERGE_NO_WAIT 0x1u   /* return as soon as the merge runs */
#define ROSNAP_MERGE_UNPROTECT 0x2u /* afterwards: a plain mapping */

/*
 * Called while a merge is waited for, with bytes merged and bytes to
 * merge.  Returning non-zero stops the waiting (not the merge).
 */
typedef int (*rosnap_progress_fn)(struct rosnap_ctx *ctx, uint64_t done,
				  uint64_t total, void *userdata);

struct rosnap_merge_opts {
	uint32_t flags;             /* ROSNAP_MERGE_* */
	const char *journal;        /* power-loss-safe: copy the COW here first */
	/*
	 * With a journal: called as the store is copied into it while the
	 * device runs, before the merge starts (bytes copied, bytes to
	 * copy).  Returning non-zero cancels the merge: -ECANCELED, the
	 * journal removed, nothing changed.  May be NULL.
	 */
	rosnap_progress_fn copy_progress;
#if UINTPTR_MAX == UINT32_MAX       /* each pointer 8 bytes wide */
	uint32_t copy_progress_pad_;
#endif
	void *copy_userdata;
#if UINTPTR_MAX == UINT32_MAX
	uint32_t copy_userdata_pad_;
#endif
	uint64_t reserved[6];       /* must be 0 */
};

/*
 * Write the changes of a rosnap device into its origin while the device
 * stays in use.  Afterwards the device protects the origin again with a
 * fresh, empty COW of the same kind and size, or, with
 * ROSNAP_MERGE_UNPROTECT, maps the origin plainly.  With a journal, the
 * COW is first copied to that file or block device (not on the origin, not
 * in RAM) and merged from there, so that rosnap_recover() can finish the
 * merge after a power cut.  Unless ROSNAP_MERGE_NO_WAIT, waits until the
 * merge is done, calling progress (may be NULL).  On a device already
 * merging, waits for that merge and finishes it.
 *
 * Returns 0, -ENODEV, -EINVAL (an invalid snapshot, nothing to merge, bad
 * options), -EROFS (the origin cannot be written), -EEXIST (the journal
 * exists), -EBUSY, -EIO (the kernel stopped the merge: "merge-failed";
 * calling rosnap_merge() again retries), -EPERM, -ECANCELED (copy_progress
 * asked).
 */
int rosnap_merge(struct rosnap_ctx *ctx, const char *name,
		 const struct rosnap_merge_opts *opts,
		 rosnap_progress_fn progress, void *userdata);
/* Wait for a running merge and finish it as rosnap_merge() would. */
int rosnap_merge_wait(struct rosnap_ctx *ctx, const char *name,
		      rosnap_progress_fn progress, void *userdata);

#define ROSNAP_DISCARD_REMOVE 0x1u  /* remove the device instead */
/*
 * Throw the changes away: the device shows the pristine origin again,
 * with a fresh COW of the same kind and size.  Refused with -EBUSY while
 * the device is open.
 */
int rosnap_discard(struct rosnap_ctx *ctx, const char *name, uint32_t flags);

/*
 * Protect an unprotected device again, live, with a fresh COW of
 * ram_bytes (0: the default share of memory).
 */
int rosnap_protect(struct rosnap_ctx *ctx, const char *name,
		   uint64_t ram_bytes);

/*
 * Finish a journaled merge cut short (by a power cut): verify the journal
 * at path, find its origin (or use origin, if not NULL), merge the rest
 * and delete the journal.  A journal whose merge never started is just
 * removed: the origin is unchanged.
 * Returns 0, -EINVAL (not a journal, damaged, or the origin does not
 * match), -ENODEV (origin not found), -EBUSY (origin in use), -EIO.
 */
int rosnap_recover(struct rosnap_ctx *ctx, const char *path,
		   const char *origin, rosnap_progress_fn progress,
		   void *userdata);

/*
 * Enlarge a device's store by bytes (at least ROSNAP_MIN_GROW_BYTES),
 * live, with one more RAM device of the same kind (up to 32 in all).  A
 * store that has overflowed stays overflowed (the kernel's doing): grow
 * before.
 */
#define ROSNAP_MIN_GROW_BYTES ((uint64_t)1 << 20)
int rosnap_grow(struct rosnap_ctx *ctx, const char *name, uint64_t bytes);
/*
 * Block until the kernel raises a device-mapper event on the device
 * (invalidation, a table change): *event_nr is the last event seen (0 at
 * first) and is updated.  Returns 0, or -ENODEV when the device is gone.
 * May be called from another thread than the context's others.
 */
int rosnap_wait_event(struct rosnap_ctx *ctx, const char *name,
		      uint32_t *event_nr);
/*
 * Devices coming and going, from udev's events (after its rules ran), for
 * a loop that would otherwise list every device now and then:
 * rosnap_watch_get_fd() becomes readable on an event, and
 * rosnap_watch_read() takes the pending ones and returns 1 if any was a
 * rosnap device's (added, changed, removed), else 0.  rosnap_watch_new()
 * returns -ENOTSUP where udevd does not run (an initramfs): no event
 * would come.
 */
struct rosnap_watch;
int rosnap_watch_new(struct rosnap_ctx *ctx, struct rosnap_watch **watch);
int rosnap_watch_get_fd(const struct rosnap_watch *watch);
int rosnap_watch_read(struct rosnap_watch *watch);
struct rosnap_watch *rosnap_watch_unref(struct rosnap_watch *watch);
/* MemAvailable: memory the kernel can give without swapping, bytes. */
int rosnap_mem_available(struct rosnap_ctx *ctx, uint64_t *bytes);

/*
 * A read-only view of a device's origin as it is on disk, beside the
 * writable device: /dev/mapper/NAME-origin (also /dev/rosnap/NAME-origin
 * with udev).  open=false removes the view; remove removes it too.
 */
int rosnap_origin_view(struct rosnap_ctx *ctx, const char *name, bool open);

/* ------------------------------------------------------------------ */
/* Booting: the root filesystem, protected from the initramfs         */

/* What to do when the root filesystem cannot be protected. */
enum rosnap_fallback {
	ROSNAP_FALLBACK_RO = 0,   /* boot the disk read-only (the default) */
	ROSNAP_FALLBACK_RW,       /* boot the disk writable, loudly */
	ROSNAP_FALLBACK_PANIC,    /* stop the boot */
};

struct rosnap_boot;

/* Boot settings: nothing enabled until a file or the command line says. */
int rosnap_boot_new(struct rosnap_ctx *ctx, struct rosnap_boot **boot);
/* Always returns NULL. */
struct rosnap_boot *rosnap_boot_unref(struct rosnap_boot *boot);
/*
 * Read KEY=VALUE settings (see rosnap-boot(7)); a missing file is not an
 * error.  Each problem (unknown key, bad value) is logged; returns how
 * many there were, or a negative errno when the file cannot be read.
 */
int rosnap_boot_load_config(struct rosnap_boot *boot, const char *path);
/*
 * Read a kernel command line: "rosnap", "rosnap=off", "rosnap.KEY=VALUE",
 * and "root=".  Wins over the file.  Returns the number of problems.
 */
int rosnap_boot_load_cmdline(struct rosnap_boot *boot, const char *cmdline);
bool rosnap_boot_enabled(const struct rosnap_boot *boot);
/* The name the protected root device gets ("rosnap-root" by default). */
const char *rosnap_boot_get_name(const struct rosnap_boot *boot);
/* root= from the command line, or NULL. */
const char *rosnap_boot_get_root(const struct rosnap_boot *boot);
enum rosnap_fallback rosnap_boot_get_fallback(const struct rosnap_boot *boot);
/*
 * Protect the root device as configured: finish a journaled merge a
 * power cut interrupted (the "journal" setting), then create the rosnap
 * device.  *newroot is the device to mount: the rosnap device, or root
 * itself when rosnap is off or after falling back to "ro" (root is then
 * read-only at the block layer) or "rw".  With the "panic" fallback, a
 * failure returns its negative errno.  *newroot belongs to boot.
 */
int rosnap_boot_protect_root(struct rosnap_boot *boot, const char *root,
			     const char **newroot);

/*
 * For a systemd initrd (a generator): when rosnap is on, write into dir
 * a unit that runs "rosnap boot --link /run/rosnap/root" once the root
 * device is there, and drop-ins that make sysroot.mount mount
 * /run/rosnap/root and check it (not the origin) with fsck.  Writes
 * nothing when rosnap is off.  Returns 0, or -EINVAL when root= is not a
 * block device rosnap can protect.
 */
int rosnap_boot_write_units(struct rosnap_boot *boot, const char *dir);

/*
 * At a clean shutdown: save the root's RAM store to the "save" setting's
 * device (rosnap_save()), for the next boot to restore.  Returns 0 when
 * there is nothing to do (no "save" setting; rosnap off; no root device
 * this boot, a fallback: the last save stays), -EINVAL when the settings
 * have problems, or rosnap_save()'s errors.
 */
int rosnap_boot_save(struct rosnap_boot *boot);

/* What rosnap monitor watches for; also read from boot.conf. */
struct rosnap_monitor_settings {
	unsigned warn_percent;      /* of the store's capacity; default 80 */
	unsigned critical_percent;  /* default 95 */
	uint64_t min_free_bytes;    /* MemAvailable floor; 0: none */
	uint64_t grow_by;           /* grow the store at warn by this; 0: never */
	uint64_t grow_max;          /* ... up to this capacity in all */
	const char *exec;           /* program run at each crossing, or NULL */
};
/* Whether a protected root gets a login notice (notice=, default yes). */
bool rosnap_boot_get_notice(const struct rosnap_boot *boot);
/* The monitor settings of boot.conf (defaults for what it does not set). */
void rosnap_boot_get_monitor(const struct rosnap_boot *boot,
			     struct rosnap_monitor_settings *settings);

/* How full a store is against the thresholds; a higher level is worse. */
enum rosnap_level {
	ROSNAP_LEVEL_OK = 0,
	ROSNAP_LEVEL_WARN,
	ROSNAP_LEVEL_CRITICAL,
	ROSNAP_LEVEL_OVERFLOW,
	ROSNAP_LEVEL_INVALID,
};
/*
 * A device's level (a merging or unprotected device is "ok": its store
 * is not filling up); *percent receives the store's use, 0..100.
 */
enum rosnap_level rosnap_device_get_level(const struct rosnap_device *dev,
					  const struct rosnap_monitor_settings *s,
					  unsigned *percent);
/* "ok", "warn", "critical", "overflow", "invalid" */
const char *rosnap_level_name(enum rosnap_level level);

/* ------------------------------------------------------------------ */
/* Inspecting                                                         */

/*
 * Look up a rosnap device by name ("rosnap-sda2") or path
 * ("/dev/mapper/rosnap-sda2", "/dev/dm-3", "/dev/rosnap/rosnap-sda2").
 * Returns 0, -ENODEV (no such device, or not a rosnap device), -EPERM.
 */
int rosnap_device_open(struct rosnap_ctx *ctx, const char *name,
		       struct rosnap_device **dev);
struct rosnap_device *rosnap_device_ref(struct rosnap_device *dev);
/* Always returns NULL. */
struct rosnap_device *rosnap_device_unref(struct rosnap_device *dev);
/* Read the device's state from the kernel again. */
int rosnap_device_refresh(struct rosnap_device *dev);

/*
 * All rosnap devices, sorted by name.  *devs is a NULL-terminated array
 * of references; free it with rosnap_list_free().  Returns the count.
 */
int rosnap_list(struct rosnap_ctx *ctx, struct rosnap_device ***devs);
void rosnap_list_free(struct rosnap_device **devs);

const char *rosnap_device_get_name(const struct rosnap_device *dev);
/* "/dev/mapper/NAME" */
const char *rosnap_device_get_path(const struct rosnap_device *dev);
/* "/dev/sda2", or the loop device of a disk image */
const char *rosnap_device_get_origin(const struct rosnap_device *dev);
/* The disk image behind a loop origin, or NULL. */
const char *rosnap_device_get_origin_file(const struct rosnap_device *dev);
/* The RAM device holding the changes ("/dev/zram1"), or NULL. */
const char *rosnap_device_get_cow_device(const struct rosnap_device *dev);
/* The file or block device of a store on disk, or NULL (RAM). */
const char *rosnap_device_get_store(const struct rosnap_device *dev);
/* How a store on disk is encrypted ("random": a key that dies with the
 * device, see ROSNAP_CREATE_ENCRYPT; "luks2": key_file), or NULL. */
const char *rosnap_device_get_encryption(const struct rosnap_device *dev);
/*
 * Where rosnap_save() last saved the RAM store since the device was made,
 * and when (*when, seconds since 1970, if not NULL); NULL if never.
 */
const char *rosnap_device_get_saved(const struct rosnap_device *dev,
				    uint64_t *when);
/*
 * Where the device is mounted now (its first mount in the mount table,
 * btrfs's included): 1 and *target, to free(); 0 if it is not mounted;
 * or -errno.
 */
int rosnap_device_get_mountpoint(const struct rosnap_device *dev,
				 char **target);
enum rosnap_backend rosnap_device_get_backend(const struct rosnap_device *dev);
enum rosnap_state rosnap_device_get_state(const struct rosnap_device *dev);
/*
 * Why a device is in a state that needs attention (overflow, invalid,
 * merge-failed, incomplete): a sentence, with the kernel's own message
 * when it logged one ("Invalidating snapshot: Error reading/writing.").
 * NULL for the other states.
 */
const char *rosnap_device_get_reason(const struct rosnap_device *dev);
/* zram compression algorithm in use, or NULL. */
const char *rosnap_device_get_compression(const struct rosnap_device *dev);
uint32_t rosnap_device_get_chunk_bytes(const struct rosnap_device *dev);
/* Size of the writable device (equals the origin's). */
uint64_t rosnap_device_get_size(const struct rosnap_device *dev);
/* COW capacity and use, metadata included, as the kernel reports them. */
uint64_t rosnap_device_get_cow_size(const struct rosnap_device *dev);
uint64_t rosnap_device_get_cow_used(const struct rosnap_device *dev);
/* Bytes of changed data held, before compression. */
uint64_t rosnap_device_get_data_bytes(const struct rosnap_device *dev);
/* Memory really used by the store: zram mem_used_total, brd pages. */
uint64_t rosnap_device_get_ram_used(const struct rosnap_device *dev);
/* True when the origin had been read-only before rosnap protected it. */
bool rosnap_device_origin_was_ro(const struct rosnap_device *dev);
/* RAM devices the store is made of: more than one once it has grown. */
unsigned rosnap_device_get_cow_parts(const struct rosnap_device *dev);
/* While merging: the fraction merged, 0..1; otherwise a negative number. */
double rosnap_device_get_merge_progress(const struct rosnap_device *dev);
/* While merging with a journal: its path; otherwise NULL. */
const char *rosnap_device_get_journal(const struct rosnap_device *dev);

#ifdef __cplusplus
}
#endif

#endif
