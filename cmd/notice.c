/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The line an administrator reads at login while the root filesystem is
 * protected: where its changes go, and the command that keeps them.
 * pam_motd shows the files of /run/motd.d (Debian's, Fedora's and
 * upstream's login and sshd do), and /run goes from the initramfs to the
 * booted system.  rosnap boot writes it (unless boot.conf says
 * notice=no) and records the root's device; the commands that change
 * that device's protection (merge, protect, remove), and the monitor at
 * each round (a merge may end in another command's repair), bring it up
 * to date: gone while the root is not protected or is being merged.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "rosnap.h"

#define NOTICE_DIR "/run/motd.d"
#define NOTICE_FILE NOTICE_DIR "/rosnap"
#define NOTICE_ROOT "/run/rosnap/notice-root"

/*
 * path (in /run/motd.d) holds text, replaced whole: written in /run/rosnap
 * first (pam_motd shows every file of its directories), then renamed.
 */
static int write_file(const char *path, const char *text)
{
	char tmp[64];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "/run/rosnap/notice.%ld", (long)getpid());
	f = replace_start(tmp);
	if (!f)
		return -errno;
	fputs(text, f);
	return replace_finish(f, tmp, path);
}

/* The notice for a device in this state, or "" for none: a root being
 * merged (its writes reach the disk) or not protected gets none. */
static void notice_text(const struct rosnap_device *d, char *buf, size_t len)
{
	const char *name = rosnap_device_get_name(d);
	const char *store = rosnap_device_get_store(d);
	const char *crypt = rosnap_device_get_encryption(d);

	buf[0] = '\0';
	switch (rosnap_device_get_state(d)) {
	case ROSNAP_STATE_ACTIVE:
		break;
	case ROSNAP_STATE_OVERFLOW:
		snprintf(buf, len, "rosnap: the root filesystem is protected and "
			 "its store is full: writes fail; 'rosnap merge %s' writes "
			 "the changes to the disk.\n", name);
		return;
	case ROSNAP_STATE_INVALID:
		snprintf(buf, len, "rosnap: the root filesystem's store failed: its "
			 "changes are lost and it cannot be written; 'rosnap status "
			 "%s' says why.\n", name);
		return;
	default:
		return;
	}
	if (store && !(crypt && strcmp(crypt, "random") == 0))
		snprintf(buf, len, "rosnap: the root filesystem is protected: its "
			 "changes are kept in %s, not on its disk; 'rosnap merge "
			 "%s' writes them to the disk.\n", store, name);
	else
		snprintf(buf, len, "rosnap: the root filesystem is protected: its "
			 "changes go to %s and are lost at power-off unless saved; "
			 "'rosnap merge %s' writes them to the disk.\n",
			 store ? "an encrypted store" : "RAM", name);
}

/* Whether path holds text already (the monitor asks every round). */
static bool holds(const char *path, const char *text)
{
	char buf[1024];
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	return n == (ssize_t)strlen(text) && memcmp(buf, text, (size_t)n) == 0;
}

/* The root's device name recorded by rosnap boot, or false for none. */
static bool recorded_root(char *name, size_t len)
{
	FILE *f;

	f = fopen(NOTICE_ROOT, "re");
	if (!f)
		return false;
	if (!fgets(name, (int)len, f))
		name[0] = '\0';
	fclose(f);
	name[strcspn(name, "\n")] = '\0';
	return name[0] != '\0';
}

void notice_merging(const char *name)
{
	char root[256];

	if (recorded_root(root, sizeof(root)) && strcmp(root, name) == 0)
		unlink(NOTICE_FILE);
}

void notice_update(struct rosnap_ctx *ctx)
{
	struct rosnap_device *d = NULL;
	char name[256] = "", text[1024] = "";
	int prio;

	if (!recorded_root(name, sizeof(name)))
		return;
	/* Quietly: the device may be gone (removed), which ends the notice. */
	prio = rosnap_get_log_priority(ctx);
	rosnap_set_log_priority(ctx, LOG_CRIT);
	if (rosnap_device_open(ctx, name, &d) == 0) {
		notice_text(d, text, sizeof(text));
		rosnap_device_unref(d);
	}
	rosnap_set_log_priority(ctx, prio);
	if (!text[0]) {
		unlink(NOTICE_FILE);
		return;
	}
	if (holds(NOTICE_FILE, text))
		return;
	mkdir(NOTICE_DIR, 0755);
	if (write_file(NOTICE_FILE, text) < 0)
		unlink(NOTICE_FILE);
}

void notice_boot(struct rosnap_ctx *ctx, const char *name, bool on)
{
	char line[256];

	if (!on) {
		unlink(NOTICE_ROOT);
		unlink(NOTICE_FILE);
		return;
	}
	snprintf(line, sizeof(line), "%s\n", name);
	mkdir("/run/rosnap", 0700);
	if (write_file(NOTICE_ROOT, line) == 0)
		notice_update(ctx);
}
