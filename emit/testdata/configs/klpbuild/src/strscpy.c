// SPDX-License-Identifier: GPL-2.0
#include <linux/string.h>

ssize_t klpc_sized_strscpy(char *dest, const char *src, size_t count);

ssize_t klpc_sized_strscpy(char *dest, const char *src, size_t count)
{
	size_t n = strnlen(src, count);

	if (!count)
		return -E2BIG;
	if (n == count)
		n--;
	memcpy(dest, src, n);
	dest[n] = '\0';
	return n == strlen(src) ? (ssize_t)n : -E2BIG;
}
