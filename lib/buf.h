/*
 * buf.h - the one growable byte buffer.
 *
 * Invariants (after buf_init, until buf_free):
 *  - data is never NULL and data[len] == '\0', so data is always a C string
 *    (it may also hold NUL bytes before len);
 *  - data points to heap memory owned by the buf once cap > 0, otherwise to
 *    a shared static "" that must not be written;
 *  - growth never fails: running out of memory aborts the process.
 *
 * Ownership: the code that called buf_init frees with buf_free (or hands the
 * buffer to an arena by making it with buf_arena_new). Worker threads keep their response
 * buffers across requests and only buf_reset them.
 */
#ifndef LEXAR_BUF_H
#define LEXAR_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct arena;

struct buf {
	char	*data;
	size_t	 len;
	size_t	 cap;	/* allocated bytes, 0 while data is the static "" */
};

#define BUF_INIT { .data = (char *)buf_empty, .len = 0, .cap = 0 }
extern const char buf_empty[1];

void	buf_init(struct buf *b);
void	buf_free(struct buf *b);
/* len = 0; keeps the allocation (shrinks it if it grew past 1 MiB). */
void	buf_reset(struct buf *b);
/* Make room for extra more bytes (plus the NUL). */
void	buf_grow(struct buf *b, size_t extra);
void	buf_add(struct buf *b, const void *p, size_t n);
void	buf_adds(struct buf *b, const char *s);
void	buf_addch(struct buf *b, int c);
void	buf_printf(struct buf *b, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	buf_vprintf(struct buf *b, const char *fmt, va_list ap)
	    __attribute__((format(printf, 2, 0)));
/* Cut to n bytes (n <= len). */
void	buf_truncate(struct buf *b, size_t n);

/*
 * Append s[0..n) as a JSON string literal, quotes included. Bytes that are
 * not valid UTF-8 are replaced with U+FFFD so the output is always valid JSON.
 */
void	buf_add_json_str(struct buf *b, const char *s, size_t n);
void	buf_add_json_cstr(struct buf *b, const char *s);	/* NULL -> null */

/*
 * A new empty buffer owned by the arena: the struct is arena memory and its
 * data is freed at arena_reset(). (There is deliberately no way to hand a
 * caller's local struct buf to an arena: the local would be gone by then.)
 */
struct buf	*buf_arena_new(struct arena *a);

#endif
