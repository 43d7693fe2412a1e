/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fields of rosnap's on-disk headers (a merge journal, a store on disk):
 * little-endian integers, zero-padded strings, a CRC32 over the header.
 */
#include <errno.h>
#include <string.h>

#include <zlib.h>

#include "internal.h"

void field_put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

void field_put64(unsigned char *p, uint64_t v)
{
	field_put32(p, (uint32_t)v);
	field_put32(p + 4, (uint32_t)(v >> 32));
}

uint32_t field_get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

uint64_t field_get64(const unsigned char *p)
{
	return (uint64_t)field_get32(p) | (uint64_t)field_get32(p + 4) << 32;
}

uint32_t field_crc(const unsigned char *buf, size_t len)
{
	return (uint32_t)crc32(crc32(0L, Z_NULL, 0), buf, (uInt)len);
}

int field_put_str(unsigned char *dst, size_t size, const char *s)
{
	size_t n = strlen(s);

	if (n >= size)
		return -ENAMETOOLONG;
	strncpy((char *)dst, s, size); /* pads the field with zeros */
	return 0;
}

int field_get_str(char *dst, const unsigned char *src, size_t size)
{
	size_t i;

	for (i = 0; i < size && src[i]; i++)
		if (src[i] < 0x20 || src[i] > 0x7e)
			return -EINVAL;
	if (i == size)
		return -EINVAL;
	memcpy(dst, src, i + 1);
	return 0;
}
