/*
 * buf.c - growable byte buffer.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "buf.h"
#include "log.h"
#include "utf8.h"

const char buf_empty[1];

#define BUF_KEEP_MAX	(1024 * 1024)

void
buf_init(struct buf *b)
{
	b->data = (char *)buf_empty;
	b->len = 0;
	b->cap = 0;
}

void
buf_free(struct buf *b)
{
	if (b->cap > 0)
		free(b->data);
	buf_init(b);
}

void
buf_reset(struct buf *b)
{
	if (b->cap > BUF_KEEP_MAX) {
		buf_free(b);
		return;
	}
	b->len = 0;
	if (b->cap > 0)
		b->data[0] = '\0';
}

void
buf_grow(struct buf *b, size_t extra)
{
	size_t	 want, cap;
	char	*p;

	if (extra > SIZE_MAX - b->len - 1)
		die("buf_grow overflow");
	want = b->len + extra + 1;
	if (want <= b->cap)
		return;
	cap = b->cap ? b->cap : 256;
	while (cap < want)
		cap = cap > SIZE_MAX / 2 ? want : cap * 2;
	p = b->cap > 0 ? realloc(b->data, cap) : malloc(cap);
	if (p == NULL)
		die("out of memory (buffer of %zu bytes)", cap);
	if (b->cap == 0)
		p[0] = '\0';
	b->data = p;
	b->cap = cap;
}

void
buf_add(struct buf *b, const void *p, size_t n)
{
	if (n == 0)
		return;
	buf_grow(b, n);
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void
buf_adds(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

void
buf_addch(struct buf *b, int c)
{
	buf_grow(b, 1);
	b->data[b->len++] = (char)c;
	b->data[b->len] = '\0';
}

void
buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list	cp;
	int	n;

	va_copy(cp, ap);
	buf_grow(b, 64);
	n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, cp);
	va_end(cp);
	if (n < 0)
		die("buf_printf: bad format");
	if ((size_t)n >= b->cap - b->len) {
		buf_grow(b, (size_t)n);
		vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
	}
	b->len += (size_t)n;
}

void
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(b, fmt, ap);
	va_end(ap);
}

void
buf_truncate(struct buf *b, size_t n)
{
	if (n > b->len)
		BUG("buf_truncate past end (%zu > %zu)", n, b->len);
	b->len = n;
	if (b->cap > 0)
		b->data[n] = '\0';
}

void
buf_add_json_str(struct buf *b, const char *s, size_t n)
{
	static const char	 hex[] = "0123456789abcdef";
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i = 0, run, k;
	char			*o;

	buf_grow(b, n + 2);
	buf_addch(b, '"');
	while (i < n) {
		/* Copy the longest run of bytes that need no escaping. */
		for (run = i; run < n && p[run] >= 0x20 && p[run] < 0x80 &&
		    p[run] != '"' && p[run] != '\\'; run++)
			;
		buf_add(b, p + i, run - i);
		i = run;
		if (i >= n)
			break;
		if (p[i] >= 0x80) {
			k = utf8_seq_len(p + i, n - i);
			if (k == 0) {
				buf_adds(b, "\\ufffd");
				i++;
			} else {
				buf_add(b, p + i, k);
				i += k;
			}
			continue;
		}
		switch (p[i]) {
		case '"':  buf_adds(b, "\\\""); break;
		case '\\': buf_adds(b, "\\\\"); break;
		case '\n': buf_adds(b, "\\n"); break;
		case '\r': buf_adds(b, "\\r"); break;
		case '\t': buf_adds(b, "\\t"); break;
		default:
			buf_grow(b, 6);
			o = b->data + b->len;
			memcpy(o, "\\u00", 4);
			o[4] = hex[p[i] >> 4];
			o[5] = hex[p[i] & 15];
			b->len += 6;
			b->data[b->len] = '\0';
		}
		i++;
	}
	buf_addch(b, '"');
}

void
buf_add_json_cstr(struct buf *b, const char *s)
{
	if (s == NULL)
		buf_adds(b, "null");
	else
		buf_add_json_str(b, s, strlen(s));
}

static void
buf_free_cb(void *p)
{
	buf_free(p);
}

struct buf *
buf_arena_new(struct arena *a)
{
	struct buf *b = arena_alloc(a, sizeof(*b));

	buf_init(b);
	arena_cleanup(a, buf_free_cb, b);
	return b;
}
