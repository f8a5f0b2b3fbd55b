/*
 * arena.c - per-request memory arena with cleanup callbacks.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "log.h"

#define ARENA_BLOCK	(16 * 1024)
#define ARENA_ALIGN	16

struct arena_block {
	struct arena_block	*next;
	size_t			 size;
	size_t			 used;
	_Alignas(ARENA_ALIGN) unsigned char data[];
};

struct arena_cleanup {
	struct arena_cleanup	*next;
	void			(*fn)(void *);
	void			*ptr;
};

static struct arena_block *
block_new(size_t size)
{
	struct arena_block *b;

	b = malloc(sizeof(*b) + size);
	if (b == NULL)
		die("out of memory (arena block of %zu bytes)", size);
	b->next = NULL;
	b->size = size;
	b->used = 0;
	return b;
}

void
arena_init(struct arena *a)
{
	a->head = a->first = block_new(ARENA_BLOCK);
	a->cleanups = NULL;
	a->total = ARENA_BLOCK;
}

void *
arena_alloc(struct arena *a, size_t n)
{
	struct arena_block	*b = a->head;
	size_t			 off, size;

	off = (b->used + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
	if (n <= b->size && off <= b->size - n) {
		b->used = off + n;
		return b->data + off;
	}
	if (n > SIZE_MAX / 2)
		die("arena allocation of %zu bytes", n);
	size = n > ARENA_BLOCK / 4 ? n : ARENA_BLOCK;
	b = block_new(size);
	a->total += size;
	if (size == ARENA_BLOCK || a->head->used == a->head->size) {
		/* New current block. */
		b->next = a->head;
		a->head = b;
	} else {
		/* Big one-off allocation: keep filling the current block. */
		b->next = a->head->next;
		a->head->next = b;
	}
	b->used = n;
	return b->data;
}

void *
arena_calloc(struct arena *a, size_t n, size_t size)
{
	void *p;

	if (size != 0 && n > SIZE_MAX / size)
		die("arena_calloc overflow");
	p = arena_alloc(a, n * size);
	memset(p, 0, n * size);
	return p;
}

char *
arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *p = arena_alloc(a, n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
arena_strdup(struct arena *a, const char *s)
{
	return arena_strndup(a, s, strlen(s));
}

char *
arena_vsprintf(struct arena *a, const char *fmt, va_list ap)
{
	va_list	 cp;
	char	*p;
	int	 n;

	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		die("arena_vsprintf: bad format");
	p = arena_alloc(a, (size_t)n + 1);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	return p;
}

char *
arena_sprintf(struct arena *a, const char *fmt, ...)
{
	va_list	 ap;
	char	*p;

	va_start(ap, fmt);
	p = arena_vsprintf(a, fmt, ap);
	va_end(ap);
	return p;
}

void
arena_cleanup(struct arena *a, void (*fn)(void *), void *ptr)
{
	struct arena_cleanup *c;

	if (ptr == NULL)
		return;
	c = arena_alloc(a, sizeof(*c));
	c->fn = fn;
	c->ptr = ptr;
	c->next = a->cleanups;
	a->cleanups = c;
}

static void
run_cleanups(struct arena *a)
{
	struct arena_cleanup *c;

	/* A cleanup may register nothing new: the list is detached first. */
	while ((c = a->cleanups) != NULL) {
		a->cleanups = c->next;
		c->fn(c->ptr);
	}
}

void
arena_reset(struct arena *a)
{
	struct arena_block *b, *next;

	run_cleanups(a);
	for (b = a->head; b != NULL; b = next) {
		next = b->next;
		if (b != a->first)
			free(b);
	}
	a->first->next = NULL;
	a->first->used = 0;
	a->head = a->first;
	a->total = a->first->size;
#ifdef LEXAR_POISON
	memset(a->first->data, 0xa5, a->first->size);
#endif
}

void
arena_free(struct arena *a)
{
	arena_reset(a);
	free(a->first);
	a->head = a->first = NULL;
	a->total = 0;
}

size_t
arena_size(const struct arena *a)
{
	return a->total;
}
