/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Names of rosnap devices, backends and states. */
#include <errno.h>
#include <string.h>

#include "internal.h"

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '+' ||
	       c == '-';
}

_public_ int rosnap_check_name(const char *name, const char **why)
{
	const char *reason = NULL;
	int r = -EINVAL;
	const char *p;

	if (!name || !*name) {
		reason = "the name is empty";
		goto fail;
	}
	if (strlen(name) > ROSNAP_NAME_MAX) {
		reason = "the name is longer than 100 characters";
		r = -ENAMETOOLONG;
		goto fail;
	}
	if (name[0] == '.' || name[0] == '-') {
		reason = "the name starts with '.' or '-'";
		goto fail;
	}
	for (p = name; *p; p++) {
		if (*p == '/') {
			reason = "the name contains '/'";
			goto fail;
		}
		if (!name_char(*p)) {
			reason = "the name contains a character other than "
				 "letters, digits and . _ + -";
			goto fail;
		}
	}
	/* And "-cow." anything: the layers' own names go on from there. */
	p = strstr(name, COW_SUFFIX);
	while (p && p[strlen(COW_SUFFIX)] && p[strlen(COW_SUFFIX)] != '.')
		p = strstr(p + 1, COW_SUFFIX);
	if (p) {
		reason = "names ending in \"-cow\" or \"-cow.\" and more are "
			 "reserved for rosnap's internal layers";
		goto fail;
	}
	return 0;
fail:
	if (why)
		*why = reason;
	return r;
}

bool algorithm_name_ok(const char *s)
{
	const char *p;

	for (p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		      *p == '-'))
			return false;
	return p > s && p - s < 32;
}

static const char *const backend_names[] = {
	[ROSNAP_BACKEND_AUTO] = "auto",
	[ROSNAP_BACKEND_ZRAM] = "zram",
	[ROSNAP_BACKEND_BRD] = "brd",
	[ROSNAP_BACKEND_FILE] = "file",
	[ROSNAP_BACKEND_NONE] = "none",
	[ROSNAP_BACKEND_DISK] = "disk",
};

_public_ const char *rosnap_backend_name(enum rosnap_backend backend)
{
	if ((unsigned)backend >= ARRAY_SIZE(backend_names))
		return "unknown";
	return backend_names[backend];
}

_public_ int rosnap_backend_from_name(const char *name,
				      enum rosnap_backend *backend)
{
	static const enum rosnap_backend choosable[] = {
		ROSNAP_BACKEND_AUTO, ROSNAP_BACKEND_ZRAM, ROSNAP_BACKEND_BRD,
	};
	unsigned i;

	for (i = 0; name && i < ARRAY_SIZE(choosable); i++) {
		if (strcmp(name, backend_names[choosable[i]]) == 0) {
			*backend = choosable[i];
			return 0;
		}
	}
	return -EINVAL;
}

static const char *const state_names[] = {
	[ROSNAP_STATE_ACTIVE] = "active",
	[ROSNAP_STATE_OVERFLOW] = "overflow",
	[ROSNAP_STATE_INVALID] = "invalid",
	[ROSNAP_STATE_MERGING] = "merging",
	[ROSNAP_STATE_MERGE_FAILED] = "merge-failed",
	[ROSNAP_STATE_UNPROTECTED] = "unprotected",
	[ROSNAP_STATE_INCOMPLETE] = "incomplete",
};

_public_ const char *rosnap_state_name(enum rosnap_state state)
{
	if ((unsigned)state >= ARRAY_SIZE(state_names))
		return "unknown";
	return state_names[state];
}
