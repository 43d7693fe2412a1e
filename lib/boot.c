/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The root filesystem from the initramfs: settings from
 * /etc/rosnap/boot.conf and the kernel command line, and the decision to
 * protect the root device, or to fall back.
 *
 * Every value from the command line is checked here, in C, against what
 * it may be; nothing of it ever reaches a shell.  A setting that is wrong
 * is reported and makes the boot fall back (never silently protect with
 * other settings than asked, and never silently write the disk).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

#define DEFAULT_BOOT_NAME "rosnap-root"

_public_ int rosnap_boot_new(struct rosnap_ctx *ctx, struct rosnap_boot **boot)
{
	struct rosnap_boot *b = calloc(1, sizeof(*b));

	if (!b)
		return -ENOMEM;
	b->ctx = rosnap_ref(ctx);
	b->enabled = -1;
	b->warn = 80;
	b->critical = 95;
	b->notice = true;
	snprintf(b->name, sizeof(b->name), DEFAULT_BOOT_NAME);
	*boot = b;
	return 0;
}

_public_ struct rosnap_boot *rosnap_boot_unref(struct rosnap_boot *boot)
{
	if (boot) {
		rosnap_unref(boot->ctx);
		free(boot);
	}
	return NULL;
}

static int problem(struct rosnap_boot *b, const char *where, const char *key,
		   const char *value, const char *why)
{
	log_err(b->ctx, "%s: %s%s%s: %s", where, key, value ? "=" : "",
		value ? value : "", why);
	b->problems++;
	return -EINVAL;
}

static int parse_switch(const char *v)
{
	static const char *const on[] = { "1", "on", "yes", "true" };
	static const char *const off[] = { "0", "off", "no", "false" };
	unsigned i;

	for (i = 0; i < ARRAY_SIZE(on); i++)
		if (strcmp(v, on[i]) == 0)
			return 1;
	for (i = 0; i < ARRAY_SIZE(off); i++)
		if (strcmp(v, off[i]) == 0)
			return 0;
	return -1;
}

/* Printable, no blanks or quotes: a path or TAG=value. */
static bool plain_word(const char *v, size_t max)
{
	size_t n = strlen(v);
	const char *p;

	if (n == 0 || n >= max)
		return false;
	for (p = v; *p; p++)
		if (*p <= ' ' || *p > '~' || *p == '"' || *p == '\'' ||
		    *p == '\\' || *p == '`' || *p == '$')
			return false;
	return true;
}

/* One setting, from the file (key) or the command line (rosnap.key). */
static int boot_set(struct rosnap_boot *b, const char *where,
		    const char *prefix, const char *key, const char *v)
{
	char shown[128];
	const char *why;
	uint64_t bytes;
	int on;

	/* Problems name the setting as it was written. */
	snprintf(shown, sizeof(shown), "%s%s", prefix, key);

	if (strcmp(key, "enable") == 0) {
		on = parse_switch(v);
		if (on < 0)
			return problem(b, where, shown, v, "use yes or no");
		b->enabled = on;
	} else if (strcmp(key, "ram") == 0) {
		if (strlen(v) >= sizeof(b->ram) ||
		    rosnap_parse_ram(b->ctx, v, &bytes) < 0 || bytes == 0)
			return problem(b, where, shown, v, "not a size such as 256M, "
				       "1G or 25%");
		snprintf(b->ram, sizeof(b->ram), "%s", v);
	} else if (strcmp(key, "backend") == 0) {
		if (rosnap_backend_from_name(v, &b->backend) < 0)
			return problem(b, where, shown, v, "use zram, brd or auto");
	} else if (strcmp(key, "compression") == 0) {
		if (!algorithm_name_ok(v))
			return problem(b, where, shown, v, "not an algorithm name");
		snprintf(b->compression, sizeof(b->compression), "%s", v);
	} else if (strcmp(key, "profile") == 0) {
		if (rosnap_parse_profile(v, &b->chunk_bytes) < 0)
			return problem(b, where, shown, v, "use one of "
				       ROSNAP_PROFILES);
	} else if (strcmp(key, "fallback") == 0) {
		if (strcmp(v, "ro") == 0)
			b->fallback = ROSNAP_FALLBACK_RO;
		else if (strcmp(v, "rw") == 0)
			b->fallback = ROSNAP_FALLBACK_RW;
		else if (strcmp(v, "panic") == 0)
			b->fallback = ROSNAP_FALLBACK_PANIC;
		else
			return problem(b, where, shown, v, "use ro, rw or panic");
	} else if (strcmp(key, "name") == 0) {
		if (rosnap_check_name(v, &why) < 0)
			return problem(b, where, shown, v, why);
		snprintf(b->name, sizeof(b->name), "%s", v);
	} else if (strcmp(key, "journal") == 0 || strcmp(key, "store") == 0 ||
		   strcmp(key, "restore") == 0 || strcmp(key, "save") == 0) {
		char *dst = strcmp(key, "journal") == 0 ? b->journal :
			    strcmp(key, "store") == 0 ? b->store :
			    strcmp(key, "restore") == 0 ? b->restore : b->save;

		if (!plain_word(v, sizeof(b->journal)) ||
		    (v[0] != '/' && !strchr(v, '=')))
			return problem(b, where, shown, v, "give a block device: a "
				       "path, or LABEL=, UUID=, PARTUUID=, PARTLABEL=");
		snprintf(dst, sizeof(b->journal), "%s", v);
	} else if (strcmp(key, "notice") == 0) {
		on = parse_switch(v);
		if (on < 0)
			return problem(b, where, shown, v, "use yes or no");
		b->notice = on;
	} else if (strcmp(key, "key") == 0) {
		/* The initramfs holds the file boot.conf names, no other. */
		if (prefix[0])
			return problem(b, where, shown, v, "name the key file in "
				       "/etc/rosnap/boot.conf (key=), whose file the "
				       "initramfs gets");
		if (!plain_word(v, sizeof(b->key)) || v[0] != '/')
			return problem(b, where, shown, v, "an absolute path to a "
				       "key file");
		snprintf(b->key, sizeof(b->key), "%s", v);
	} else if (strcmp(key, "warn") == 0 || strcmp(key, "critical") == 0) {
		uint64_t pct;

		if (parse_u64(v, &pct) < 0 || pct < 1 || pct > 100 || v[0] == '0')
			return problem(b, where, shown, v, "a percentage, 1 to 100");
		*(strcmp(key, "warn") == 0 ? &b->warn : &b->critical) = (unsigned)pct;
	} else if (strcmp(key, "min_free") == 0 || strcmp(key, "grow_by") == 0 ||
		   strcmp(key, "grow_max") == 0) {
		if (rosnap_parse_ram(b->ctx, v, &bytes) < 0)
			return problem(b, where, shown, v, "not a size such as 256M "
				       "or 10%");
		*(key[0] == 'm' ? &b->min_free :
		  strcmp(key, "grow_by") == 0 ? &b->grow_by : &b->grow_max) = bytes;
	} else if (strcmp(key, "exec") == 0) {
		if (!plain_word(v, sizeof(b->exec)) || v[0] != '/')
			return problem(b, where, shown, v, "an absolute path to a "
				       "program");
		snprintf(b->exec, sizeof(b->exec), "%s", v);
	} else {
		return problem(b, where, shown, v, "unknown setting (a typo?)");
	}
	return 0;
}

_public_ int rosnap_boot_load_config(struct rosnap_boot *boot, const char *path)
{
	char line[1024], *p, *eq, *end, *key, *value;
	int before = boot->problems, n = 0;
	FILE *f;

	f = fopen(path, "re");
	if (!f) {
		int e = errno;

		if (e == ENOENT)
			return 0;
		/* Its settings are unknown: a problem, as a bad one would be. */
		problem(boot, path, "cannot be read", NULL, strerror(e));
		return -e;
	}
	while (fgets(line, sizeof(line), f)) {
		char where[PATH_MAX + 16];

		n++;
		snprintf(where, sizeof(where), "%s:%d", path, n);
		if (!strchr(line, '\n') && !feof(f)) {
			problem(boot, where, "line", NULL, "too long");
			break;
		}
		for (p = line; *p == ' ' || *p == '\t'; p++)
			;
		end = p + strlen(p);
		while (end > p && (end[-1] == '\n' || end[-1] == ' ' ||
				   end[-1] == '\t' || end[-1] == '\r'))
			*--end = '\0';
		if (!*p || *p == '#')
			continue;
		eq = strchr(p, '=');
		if (!eq) {
			problem(boot, where, p, NULL, "not KEY=VALUE");
			continue;
		}
		key = p;
		value = eq + 1;
		for (*eq = '\0'; eq > key && (eq[-1] == ' ' || eq[-1] == '\t');)
			*--eq = '\0';
		while (*value == ' ' || *value == '\t')
			value++;
		/* A value may be quoted as in a shell file, without escapes. */
		if (*value == '"' && end - value >= 2 && end[-1] == '"') {
			*--end = '\0';
			value++;
		}
		boot_set(boot, where, "", key, value);
	}
	fclose(f);
	return boot->problems - before;
}

/*
 * The kernel's own splitting: words separated by blanks, a double quote
 * toggles quoting and is dropped.  Words after "--" belong to init.
 */
static const char *next_param(const char *s, char *word, size_t len)
{
	bool quoted = false;
	size_t n = 0;

	while (*s == ' ' || *s == '\t' || *s == '\n')
		s++;
	if (!*s)
		return NULL;
	for (; *s && (quoted || (*s != ' ' && *s != '\t' && *s != '\n')); s++) {
		if (*s == '"') {
			quoted = !quoted;
			continue;
		}
		if (n + 1 < len)
			word[n++] = *s;
	}
	word[n] = '\0';
	return s;
}

_public_ int rosnap_boot_load_cmdline(struct rosnap_boot *boot,
				      const char *cmdline)
{
	int before = boot->problems, on;
	char word[512], *eq;
	const char *s = cmdline;

	while ((s = next_param(s, word, sizeof(word)))) {
		if (strcmp(word, "--") == 0)
			break;
		if (strncmp(word, "root=", 5) == 0) {
			snprintf(boot->root, sizeof(boot->root), "%s", word + 5);
			continue;
		}
		if (strncmp(word, "rosnap", 6) != 0)
			continue;
		/* NOLINTNEXTLINE(clang-analyzer-core.UndefinedBinaryOperatorResult): 6 chars matched */
		if (word[6] == '\0') {
			boot->enabled = 1;
			boot->cmdline_off = false;
		} else if (word[6] == '=') {
			on = parse_switch(word + 7);
			if (on < 0)
				problem(boot, "kernel command line", "rosnap", word + 7,
					"use rosnap, rosnap=on or rosnap=off");
			else
				boot->enabled = on;
			boot->cmdline_off = on == 0;
		} else if (word[6] == '.') {
			eq = strchr(word, '=');
			/* One boot's order, never in the file. */
			if (strcmp(word + 7, "reset") == 0) {
				boot->reset = true;
				continue;
			}
			if (!eq) {
				problem(boot, "kernel command line", word, NULL,
					"needs a value");
				continue;
			}
			*eq = '\0';
			if (strcmp(word + 7, "enable") == 0)
				problem(boot, "kernel command line", word, eq + 1,
					"use rosnap or rosnap=off");
			else
				boot_set(boot, "kernel command line", "rosnap.",
					 word + 7, eq + 1);
		}
		/* Other words starting "rosnap" (rosnapper=...) are not ours. */
	}
	return boot->problems - before;
}

_public_ void rosnap_boot_get_monitor(const struct rosnap_boot *boot,
				      struct rosnap_monitor_settings *s)
{
	s->warn_percent = boot->warn;
	s->critical_percent = boot->critical;
	s->min_free_bytes = boot->min_free;
	s->grow_by = boot->grow_by;
	s->grow_max = boot->grow_max;
	s->exec = boot->exec[0] ? boot->exec : NULL;
}

_public_ bool rosnap_boot_get_notice(const struct rosnap_boot *boot)
{
	return boot->notice;
}

_public_ bool rosnap_boot_enabled(const struct rosnap_boot *boot)
{
	return boot->enabled == 1;
}

_public_ const char *rosnap_boot_get_name(const struct rosnap_boot *boot)
{
	return boot->name;
}

_public_ const char *rosnap_boot_get_root(const struct rosnap_boot *boot)
{
	return boot->root[0] ? boot->root : NULL;
}

_public_ enum rosnap_fallback rosnap_boot_get_fallback(const struct rosnap_boot *boot)
{
	return boot->fallback;
}

/* Does the journal device hold a merge to finish?  1 yes, 0 no. */
static int journal_pending(struct rosnap_boot *b, char *path, size_t len)
{
	if (strchr(b->journal, '=') && b->journal[0] != '/') {
		char *dev = blkid_resolve(b->journal);

		if (!dev) {
			log_warn(b->ctx, "no journal device %s: no interrupted merge "
				 "to finish", b->journal);
			return 0;
		}
		snprintf(path, len, "%s", dev);
		free(dev);
	} else {
		snprintf(path, len, "%s", b->journal);
	}
	if (access(path, R_OK) < 0) {
		log_warn(b->ctx, "cannot open the journal %s: %s", path,
			 strerror(errno));
		return 0;
	}
	return journal_has_magic(path);
}

static int fall_back(struct rosnap_boot *b, const char *root, const char *why,
		     int r, const char **newroot)
{
	int fd;

	snprintf(b->newroot, sizeof(b->newroot), "%s", root);
	*newroot = b->newroot;
	switch (b->fallback) {
	case ROSNAP_FALLBACK_RW:
		log_err(b->ctx, "cannot protect the root filesystem %s: %s; booting "
			"it WRITABLE, changes go to the disk (rosnap.fallback=rw)",
			root, why);
		return 0;
	case ROSNAP_FALLBACK_PANIC:
		log_err(b->ctx, "cannot protect the root filesystem %s: %s; "
			"stopping the boot (rosnap.fallback=panic)", root, why);
		return r < 0 ? r : -EINVAL;
	case ROSNAP_FALLBACK_RO:
	default:
		break;
	}
	/* Read-only at the block layer: nothing can remount it writable. */
	fd = open(root, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || blkdev_set_ro(fd, true) < 0)
		log_err(b->ctx, "cannot set %s read-only either", root);
	if (fd >= 0)
		close(fd);
	log_err(b->ctx, "cannot protect the root filesystem %s: %s; booting it "
		"read-only (rosnap.fallback=ro)", root, why);
	return 0;
}

static int protect(struct rosnap_boot *boot, const char *root,
		   const char **newroot);

/* A device setting (a path or TAG=value) as a path. */
static int boot_device(struct rosnap_boot *b, const char *key,
		       const char *spec, char *path, size_t len)
{
	char *dev;

	if (spec[0] == '/') {
		snprintf(path, len, "%s", spec);
		return 0;
	}
	dev = blkid_resolve(spec);
	if (!dev) {
		log_err(b->ctx, "rosnap.%s=%s: no device has %s", key, spec, spec);
		return -ENODEV;
	}
	snprintf(path, len, "%s", dev);
	free(dev);
	return 0;
}

/*
 * Whether the device at path starts with a store header of rosnap's: 1,
 * 0 (it was read: no header), or a negative errno when it cannot be read
 * (which is not "blank": a save there must not be replaced).
 */
static int holds_store(struct rosnap_boot *b, const char *path,
		       unsigned char head[STORE_HEADER_BYTES])
{
	ssize_t n;
	int fd, e;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		e = errno;
		log_err(b->ctx, "cannot open %s: %s", path, strerror(e));
		return -e;
	}
	n = read(fd, head, STORE_HEADER_BYTES);
	e = errno;
	close(fd);
	if (n < 0) {
		log_err(b->ctx, "cannot read %s: %s", path, strerror(e));
		return -e;
	}
	return n == STORE_HEADER_BYTES && store_has_magic(head);
}

/*
 * The key for the store or save whose header is head: boot.conf's key=
 * for one encrypted with LUKS2 (an error without one), NULL for another.
 */
static int boot_key(struct rosnap_boot *boot, const unsigned char *head,
		    const char *what, const char **key)
{
	struct store_header h;

	*key = NULL;
	if (store_decode(head, &h, NULL) < 0 || !(h.flags & STORE_F_LUKS2))
		return 0;
	if (!boot->key[0]) {
		log_err(boot->ctx, "rosnap.%s: it is encrypted (LUKS2), and "
			"/etc/rosnap/boot.conf names no key file (key=)", what);
		return -EINVAL;
	}
	*key = boot->key;
	return 0;
}

/*
 * The root's changes kept on disk (rosnap.store=): attach the store it
 * holds, or make one on a blank device; rosnap.reset makes it afresh.
 * A store that does not fit the root (changed since, another disk's, a
 * damaged header) is never attached anyway: the fallback decides.
 */
static int protect_on_disk(struct rosnap_boot *boot, const char *root,
			   const char **newroot)
{
	struct rosnap_create_opts opts = { .name = boot->name };
	unsigned char head[STORE_HEADER_BYTES] = { 0 };
	char path[PATH_MAX], why[256];
	const char *key;
	struct store_header h;
	bool has_store, reset = boot->reset;
	struct origin o;
	int r;

	r = boot_device(boot, "store", boot->store, path, sizeof(path));
	if (r < 0)
		return fall_back(boot, root, "its store device is missing", r,
				 newroot);
	r = holds_store(boot, path, head);
	if (r < 0)
		return fall_back(boot, root, "its store device cannot be read", r,
				 newroot);
	has_store = r;
	if (reset && has_store && store_decode(head, &h, NULL) == 0) {
		/* A half-merged root must get the rest, reset or not. */
		if (h.state == STORE_MERGING) {
			log_notice(boot->ctx, "rosnap.reset ignored: a merge from %s "
				   "was cut short and must be finished", path);
			reset = false;
		} else if (origin_open(boot->ctx, root, &o) == 0) {
			const char *d = origin_differs(&o, &(const struct origin_id){
				h.origin_size, h.origin_uuid, h.origin_ptuuid,
				h.origin_partuuid }, "the store's origin", why,
				sizeof(why));

			origin_close(boot->ctx, &o, true);
			if (d)
				return fall_back(boot, root, "rosnap.reset: the store "
						 "holds another disk's changes, which "
						 "are not dropped", -EINVAL, newroot);
		}
	}
	if (has_store && !reset) {
		r = boot_key(boot, head, "store", &key);
		if (r == 0)
			r = rosnap_attach_key(boot->ctx, root, path, boot->name, 0,
					      key, NULL);
		if (r < 0)
			return fall_back(boot, root, "its store could not be "
					 "attached (see above)", r, newroot);
		log_notice(boot->ctx, "protecting the root filesystem %s: its "
			   "changes are kept in %s, as before", root, path);
	} else {
		opts.store = path;
		opts.chunk_bytes = boot->chunk_bytes;
		/* Made encrypted when boot.conf names a key. */
		opts.key_file = boot->key[0] ? boot->key : NULL;
		if (has_store) {
			opts.flags = ROSNAP_CREATE_OVERWRITE;
			log_notice(boot->ctx, "rosnap.reset: the changes kept in %s "
				   "are dropped", path);
		}
		r = rosnap_create(boot->ctx, root, &opts, NULL);
		if (r < 0)
			return fall_back(boot, root, "no store could be made (see "
					 "above)", r, newroot);
		log_notice(boot->ctx, "protecting the root filesystem %s: its "
			   "changes are kept in %s from now on", root, path);
	}
	snprintf(boot->newroot, sizeof(boot->newroot), "/dev/mapper/%s",
		 boot->name);
	*newroot = boot->newroot;
	return 0;
}

/*
 * The order of precedence, rosnap-boot(7): rosnap=off on the kernel
 * command line (maintenance) wins over everything; then any problem in
 * the settings, from either place, falls back; then rosnap protects if
 * it was switched on.
 */
enum boot_decision boot_decide(const struct rosnap_boot *boot)
{
	if (boot->cmdline_off)
		return BOOT_DISK;
	if (boot->problems)
		return BOOT_FALLBACK;
	return boot->enabled == 1 ? BOOT_PROTECT : BOOT_DISK;
}

_public_ int rosnap_boot_protect_root(struct rosnap_boot *boot,
				      const char *root, const char **newroot)
{
	char *dev = NULL;
	int r;

	/* A tag (initramfs-tools may pass UUID=...) becomes its device: the
	 * fallback must set that device read-only. */
	if (root[0] != '/' && strchr(root, '=') && boot->enabled == 1) {
		dev = blkid_resolve(root);
		if (!dev)
			log_warn(boot->ctx, "no device has %s (yet)", root);
	}
	r = protect(boot, dev ? dev : root, newroot);
	free(dev);
	return r;
}

static int protect(struct rosnap_boot *boot, const char *root,
		   const char **newroot)
{
	struct rosnap_create_opts opts = {
		.name = boot->name,
		.backend = boot->backend,
		.compression = boot->compression[0] ? boot->compression : NULL,
		.chunk_bytes = boot->chunk_bytes,
	};
	char journal[PATH_MAX], restore[PATH_MAX];
	const char *from;
	int r;

	switch (boot_decide(boot)) {
	case BOOT_FALLBACK:
		return fall_back(boot, root, "its rosnap settings are wrong (see "
				 "above)", -EINVAL, newroot);
	case BOOT_DISK:
		if (boot->problems)
			log_warn(boot->ctx, "rosnap=off on the kernel command line: "
				 "booting %s itself, unprotected, despite the "
				 "problems above", root);
		snprintf(boot->newroot, sizeof(boot->newroot), "%s", root);
		*newroot = boot->newroot;
		return 0;
	case BOOT_PROTECT:
		break;
	}
	if (boot->journal[0] && journal_pending(boot, journal, sizeof(journal))) {
		/* Another disk's merge must not stop this one from booting. */
		if (journal_is_of(boot->ctx, journal, root) == 0) {
			log_warn(boot->ctx, "the journal %s holds an interrupted "
				 "merge of another disk, not of %s: left alone "
				 "('rosnap recover %s --origin DEVICE' finishes it)",
				 journal, root, journal);
		} else {
			log_notice(boot->ctx, "finishing the merge a power loss "
				   "interrupted, from %s", journal);
			r = rosnap_recover(boot->ctx, journal, root, NULL, NULL);
			if (r < 0)
				return fall_back(boot, root, "the interrupted merge "
						 "could not be finished, the disk may "
						 "be half merged", r, newroot);
		}
	}
	from = boot->restore[0] ? boot->restore :
	       boot->save[0] ? boot->save : NULL;
	if (boot->store[0] && from)
		return fall_back(boot, root, "rosnap.store (changes kept on disk) "
				 "excludes rosnap.restore and rosnap.save (a RAM "
				 "store saved)", -EINVAL, newroot);
	if (boot->store[0])
		return protect_on_disk(boot, root, newroot);
	if (boot->ram[0] &&
	    (r = rosnap_parse_ram(boot->ctx, boot->ram, &opts.ram_bytes)) < 0)
		return fall_back(boot, root, "bad rosnap.ram", r, newroot);
	/* restore= names a save to start from; save= the place the last
	 * shutdown saved to, which holds nothing before the first. */
	if (from && boot->reset)
		log_notice(boot->ctx, "rosnap.reset: not restoring %s", from);
	else if (from) {
		unsigned char head[STORE_HEADER_BYTES] = { 0 };
		const char *key = boot->restore[0] ? "restore" : "save";

		r = boot_device(boot, key, from, restore, sizeof(restore));
		if (r < 0)
			return fall_back(boot, root, "its saved store is missing",
					 r, newroot);
		/* Unreadable is not blank: the shutdown would replace the
		 * save that is there.  No device: the save stays. */
		r = holds_store(boot, restore, head);
		if (r < 0)
			return fall_back(boot, root, "its save device cannot be "
					 "read", r, newroot);
		/* restore= names a save: create says what else it holds. */
		if (r || boot->restore[0]) {
			opts.restore = restore;
			/* A save keeps its chunks: profile= is for a new store. */
			if (opts.chunk_bytes)
				log_notice(boot->ctx, "rosnap.profile applies to a new "
					   "store; %s keeps the chunk size it was "
					   "saved with", restore);
			opts.chunk_bytes = 0;
			r = boot_key(boot, head, key, &opts.key_file);
			if (r < 0)
				return fall_back(boot, root, "its saved store "
						 "cannot be opened", r, newroot);
		} else
			log_notice(boot->ctx, "rosnap.save: nothing saved in %s "
				   "yet (it holds no save of rosnap's); the root's "
				   "changes start afresh", restore);
	}
	r = rosnap_create(boot->ctx, root, &opts, NULL);
	if (r < 0)
		return fall_back(boot, root, strerror(-r), r, newroot);
	snprintf(boot->newroot, sizeof(boot->newroot), "/dev/mapper/%s",
		 boot->name);
	*newroot = boot->newroot;
	log_notice(boot->ctx, "protecting the root filesystem %s: its changes "
		   "go to RAM (%s)%s%s", root, boot->newroot,
		   opts.restore ? ", restored from " : "",
		   opts.restore ? opts.restore : "");
	return 0;
}

/*
 * systemd's escaping of a path for a unit name: no leading, trailing or
 * repeated '/', '/' as '-', and every other byte outside [A-Za-z0-9:_.]
 * (and a leading '.') as \xNN.
 */
int unit_path_escape(const char *path, char *buf, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const char *p = path;
	size_t n = 0;

	while (*p == '/')
		p++;
	if (!*p)
		return snprintf(buf, len, "-") < (int)len ? 0 : -ENOSPC;
	for (; *p; p++) {
		char c = *p;

		if (c == '/') {
			while (p[1] == '/')
				p++;
			if (!p[1])
				break;
			if (n + 1 >= len)
				return -ENOSPC;
			buf[n++] = '-';
		} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			   (c >= '0' && c <= '9') || c == ':' || c == '_' ||
			   (c == '.' && n > 0)) {
			if (n + 1 >= len)
				return -ENOSPC;
			buf[n++] = c;
		} else {
			if (n + 4 >= len)
				return -ENOSPC;
			buf[n++] = '\\';
			buf[n++] = 'x';
			buf[n++] = hex[(unsigned char)c >> 4];
			buf[n++] = hex[(unsigned char)c & 15];
		}
	}
	buf[n] = '\0';
	return 0;
}

/* root= as a device path: UUID=x is /dev/disk/by-uuid/x, and so on. */
int boot_root_path(const char *spec, char *buf, size_t len)
{
	static const struct {
		const char *tag, *dir;
	} tags[] = {
		{ "UUID=", "by-uuid" },       { "PARTUUID=", "by-partuuid" },
		{ "LABEL=", "by-label" },     { "PARTLABEL=", "by-partlabel" },
	};
	const unsigned char *p;
	unsigned i;
	size_t n;
	int m;

	if (strncmp(spec, "block:", 6) == 0)
		spec += 6;
	for (i = 0; i < ARRAY_SIZE(tags); i++) {
		size_t t = strlen(tags[i].tag);

		if (strncmp(spec, tags[i].tag, t) != 0)
			continue;
		if (!spec[t] || strcmp(spec + t, ".") == 0 ||
		    strcmp(spec + t, "..") == 0)
			return -EINVAL;
		m = snprintf(buf, len, "/dev/disk/%s/", tags[i].dir);
		if (m < 0 || (size_t)m >= len)
			return -ENAMETOOLONG;
		n = (size_t)m;
		/*
		 * The link's name as udev writes it: other bytes as \xNN
		 * ("LABEL=my root" is by-label/my\x20root).  UTF-8 passes.
		 */
		for (p = (const unsigned char *)spec + t; *p; p++) {
			bool plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
				     (*p >= '0' && *p <= '9') || *p >= 0x80 ||
				     strchr("#+-.:=@_", *p);

			if (n + (plain ? 1 : 4) >= len)
				return -ENAMETOOLONG;
			if (plain)
				buf[n++] = (char)*p;
			else
				n += (size_t)snprintf(buf + n, len - n, "\\x%02x", *p);
		}
		buf[n] = '\0';
		return 0;
	}
	if (strncmp(spec, "/dev/", 5) != 0 || !plain_word(spec, len) ||
	    strchr(spec, '%') || strstr(spec, "/../"))
		return -EINVAL;
	snprintf(buf, len, "%s", spec);
	return 0;
}

/* An argument of ExecStart=: systemd reads C escapes there. */
static int exec_arg_escape(const char *arg, char *buf, size_t len)
{
	size_t n = 0;

	for (; *arg; arg++) {
		if (n + 2 >= len)
			return -ENAMETOOLONG;
		if (*arg == '\\')
			buf[n++] = '\\';
		buf[n++] = *arg;
	}
	buf[n] = '\0';
	return 0;
}

static int write_unit(struct rosnap_ctx *ctx, const char *dir,
		      const char *subdir, const char *file, const char *text)
{
	char path[PATH_MAX];
	FILE *f;

	if (subdir) {
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, subdir) >=
		    sizeof(path))
			return -ENAMETOOLONG;
		if (mkdir(path, 0755) < 0 && errno != EEXIST)
			return -errno;
	}
	if ((size_t)snprintf(path, sizeof(path), "%s/%s%s%s", dir,
			     subdir ? subdir : "", subdir ? "/" : "", file) >=
	    sizeof(path))
		return -ENAMETOOLONG;
	f = fopen(path, "we");
	if (!f) {
		log_err(ctx, "cannot write %s: %s", path, strerror(errno));
		return -errno;
	}
	fputs(text, f);
	if (fclose(f) != 0)
		return -EIO;
	return 0;
}

/*
 * With journal=, the service must not start before the journal's device
 * is there: rosnap boot would find no interrupted merge to finish and
 * protect a half-merged origin.  Wants=, not Requires=: a journal device
 * that never comes delays the boot by the device's timeout, then rosnap
 * boot warns and goes on, as the other boot paths do.
 */
static void device_order(const struct rosnap_boot *boot, const char *key,
			 const char *spec, char *buf, size_t len)
{
	char dev[512], esc[1024];
	size_t used = strlen(buf);

	if (!spec[0])
		return;
	if (boot_root_path(spec, dev, sizeof(dev)) < 0 ||
	    unit_path_escape(dev, esc, sizeof(esc)) < 0) {
		log_warn(boot->ctx, "%s=%s is not a device path or tag a systemd "
			 "initrd can wait for; it is looked for without waiting",
			 key, spec);
		return;
	}
	snprintf(buf + used, len - used, "Wants=%s.device\nAfter=%s.device\n",
		 esc, esc);
}

/* The same for every device the root's protection reads besides root. */
static void journal_order(const struct rosnap_boot *boot, char *buf, size_t len)
{
	buf[0] = '\0';
	device_order(boot, "journal", boot->journal, buf, len);
	device_order(boot, "store", boot->store, buf, len);
	device_order(boot, "restore", boot->restore, buf, len);
	device_order(boot, "save", boot->save, buf, len);
}

_public_ int rosnap_boot_write_units(struct rosnap_boot *boot, const char *dir)
{
	char dev[512], esc[1024], arg[1024], text[12288], sub[1200], jorder[8400];
	const char *fsck;
	int r;

	/*
	 * Bad settings must reach the fallback, as in the other boot paths:
	 * without units systemd mounts the disk itself, writable.  The
	 * service's "rosnap boot" reads them again and falls back.
	 */
	if (boot_decide(boot) == BOOT_DISK)
		return 0;
	if (!boot->root[0] || boot_root_path(boot->root, dev, sizeof(dev)) < 0) {
		log_err(boot->ctx, "root=%s is not a block device rosnap can protect "
			"from a systemd initrd; the root is not protected",
			boot->root[0] ? boot->root : "(none)");
		return -EINVAL;
	}
	r = unit_path_escape(dev, esc, sizeof(esc));
	if (r == 0)
		r = exec_arg_escape(dev, arg, sizeof(arg));
	if (r < 0)
		return r;
	journal_order(boot, jorder, sizeof(jorder));
	snprintf(text, sizeof(text),
		 "# Generated by rosnap-generator.\n"
		 "[Unit]\n"
		 "Description=rosnap: protect the root filesystem\n"
		 "DefaultDependencies=no\n"
		 "Requires=%s.device\n"
		 "After=%s.device systemd-udevd.service systemd-modules-load.service\n"
		 "%s"
		 "Before=sysroot.mount initrd-root-fs.target\n"
		 "\n"
		 "[Service]\n"
		 "Type=oneshot\n"
		 "RemainAfterExit=yes\n"
		 "# Why the root is not protected, where the user looks.\n"
		 "StandardError=journal+console\n"
		 "ExecStart=/usr/sbin/rosnap boot --link /run/rosnap/root %s\n",
		 esc, esc, jorder, arg);
	r = write_unit(boot->ctx, dir, NULL, "rosnap-root.service", text);
	if (r < 0)
		return r;
	r = write_unit(boot->ctx, dir, "sysroot.mount.d", "50-rosnap.conf",
		       "# Generated by rosnap-generator.\n"
		       "[Unit]\n"
		       "Requires=rosnap-root.service\n"
		       "After=rosnap-root.service\n"
		       "\n"
		       "[Mount]\n"
		       "What=/run/rosnap/root\n");
	if (r < 0)
		return r;
	/* fsck of the root: after rosnap, on what is mounted, never the origin. */
	fsck = access("/usr/lib/systemd/systemd-fsck", X_OK) == 0 ?
		       "/usr/lib/systemd/systemd-fsck" : "/lib/systemd/systemd-fsck";
	snprintf(text, sizeof(text),
		 "# Generated by rosnap-generator.\n"
		 "[Unit]\n"
		 "Requires=rosnap-root.service\n"
		 "After=rosnap-root.service\n"
		 "\n"
		 "[Service]\n"
		 "ExecStart=\n"
		 "ExecStart=%s /run/rosnap/root\n", fsck);
	snprintf(sub, sizeof(sub), "systemd-fsck@%s.service.d", esc);
	r = write_unit(boot->ctx, dir, sub, "50-rosnap.conf", text);
	if (r == 0)
		r = write_unit(boot->ctx, dir, "systemd-fsck-root.service.d",
			       "50-rosnap.conf", text);
	return r;
}

/*
 * At a clean shutdown (rosnap-save.service): the root's RAM store to the
 * save= device, where the next boot restores it from.  Nothing to do
 * without save=, or when the root is not protected this boot (rosnap=off,
 * a fallback): the last save then stays as it is.  Settings wrong now (a
 * boot.conf edited since) are an error, not a silent skip.
 */
_public_ int rosnap_boot_save(struct rosnap_boot *boot)
{
	struct rosnap_device *d = NULL;
	char path[PATH_MAX];
	int r;

	if (!boot->save[0])
		return 0;
	switch (boot_decide(boot)) {
	case BOOT_DISK:
		log_notice(boot->ctx, "rosnap.save: rosnap is off: the last save "
			   "stays");
		return 0;
	case BOOT_FALLBACK:
		log_err(boot->ctx, "rosnap.save: the settings are wrong (see "
			"above): the root's changes are not saved");
		return -EINVAL;
	case BOOT_PROTECT:
		break;
	}
	/* Quietly: no device is the expected fallback case, not an error. */
	r = device_read(boot->ctx, boot->name, &d);
	if (r == -ENODEV || r == -EINVAL) {
		log_notice(boot->ctx, "rosnap.save: no device %s, the root fell "
			   "back this boot: the last save stays", boot->name);
		return 0;
	}
	if (r < 0)
		return r;
	rosnap_device_unref(d);
	r = boot_device(boot, "save", boot->save, path, sizeof(path));
	if (r < 0)
		return r;
	r = rosnap_save_key(boot->ctx, boot->name, path, 0,
			    boot->key[0] ? boot->key : NULL);
	if (r == 0)
		log_notice(boot->ctx, "saved the root's changes to %s", path);
	return r;
}
