/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Kernel modules, through libkmod: load what rosnap needs, say what's missing. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

#include <libkmod.h>

#include "internal.h"

const struct kmod_need KMOD_DM_SNAPSHOT = { "dm_snapshot", "CONFIG_DM_SNAPSHOT", NULL };
const struct kmod_need KMOD_ZRAM = { "zram", "CONFIG_ZRAM", NULL };
const struct kmod_need KMOD_LOOP = { "loop", "CONFIG_BLK_DEV_LOOP", NULL };
/*
 * brd's sizes are module-global: rd_size applies to every device and only
 * at load time.  rosnap loads it with no devices and creates them on
 * demand (see brd.c); rd_size itself is chosen at load time by brd.c.
 */
const struct kmod_need KMOD_BRD = { "brd", "CONFIG_BLK_DEV_RAM", NULL };

__attribute__((format(printf, 6, 0)))
static void kmod_log(void *data, int priority, const char *file, int line,
		     const char *fn, const char *format, va_list args)
{
	struct rosnap_ctx *ctx = data;
	char msg[512];

	(void)priority;
	(void)file;
	(void)line;
	(void)fn;
	/* libkmod's words are for debugging; module_ensure() explains. */
	vsnprintf(msg, sizeof(msg), format, args);
	msg[strcspn(msg, "\n")] = '\0';
	log_dbg(ctx, "libkmod: %s", msg);
}

static struct kmod_ctx *kmod(struct rosnap_ctx *ctx)
{
	if (!ctx->kmod) {
		ctx->kmod = kmod_new(NULL, NULL);
		if (ctx->kmod)
			kmod_set_log_fn(ctx->kmod, kmod_log, ctx);
	}
	return ctx->kmod;
}

static int module_state(struct rosnap_ctx *ctx, const char *name)
{
	struct kmod_module *mod = NULL;
	struct kmod_ctx *k = kmod(ctx);
	int state;

	/* Without libkmod's context, sysfs still tells a loaded module. */
	if (!k)
		return path_exists(ctx, "/sys/module/%s", name) ?
			       KMOD_MODULE_LIVE : -ENOENT;
	if (kmod_module_new_from_name(k, name, &mod) < 0)
		return -ENOMEM;
	state = kmod_module_get_initstate(mod);
	kmod_module_unref(mod);
	return state;
}

bool module_loaded(struct rosnap_ctx *ctx, const char *name)
{
	int state = module_state(ctx, name);

	return state == KMOD_MODULE_LIVE || state == KMOD_MODULE_BUILTIN ||
	       state == KMOD_MODULE_COMING;
}

/* Load NEED's module unless it is there: 0, or libkmod's -errno. */
static int module_load(struct rosnap_ctx *ctx, const struct kmod_need *need)
{
	struct kmod_module *mod = NULL;
	struct kmod_ctx *k;
	int r;

	if (module_loaded(ctx, need->module))
		return 0;
	k = kmod(ctx);
	if (!k)
		return -ENOMEM;
	r = kmod_module_new_from_name(k, need->module, &mod);
	if (r < 0)
		return r;
	r = kmod_module_probe_insert_module(mod, 0, need->options, NULL, NULL,
					    NULL);
	kmod_module_unref(mod);
	if (r == 0)
		log_dbg(ctx, "loaded kernel module %s", need->module);
	return r;
}

/* Why module_load() failed with R, in words, into BUF. */
static void module_why(const struct kmod_need *need, int r, char *buf, size_t len)
{
	struct utsname u;

	uname(&u);
	if (r == -ENOENT)
		snprintf(buf, len, "the kernel has no %s support: module %s is "
			 "not loaded, not built in, and not in /lib/modules/%s",
			 need->module, need->module, u.release);
	else
		snprintf(buf, len, "cannot load kernel module %s (%s): %s",
			 need->module, need->config, strerror(-r));
}

int module_ensure(struct rosnap_ctx *ctx, const struct kmod_need *need)
{
	char why[512];
	int r = module_load(ctx, need);

	if (r == 0)
		return 0;
	module_why(need, r, why, sizeof(why));
	if (r == -ENOENT) {
		log_err(ctx, "%s; use a kernel built with %s=m or =y", why,
			need->config);
		return -EOPNOTSUPP;
	}
	log_err(ctx, "%s", why);
	return r == -EPERM || r == -EACCES || r == -ENOMEM ? r : -EOPNOTSUPP;
}

int module_try(struct rosnap_ctx *ctx, const struct kmod_need *need, char *why,
	       size_t len)
{
	int r = module_load(ctx, need);

	if (r < 0)
		module_why(need, r, why, len);
	return r;
}

int module_unload(struct rosnap_ctx *ctx, const char *name)
{
	struct kmod_module *mod = NULL;
	struct kmod_ctx *k = kmod(ctx);
	int r;

	if (!k)
		return -ENOMEM;
	r = kmod_module_new_from_name(k, name, &mod);
	if (r < 0)
		return r;
	r = kmod_module_remove_module(mod, 0);
	kmod_module_unref(mod);
	return r;
}
