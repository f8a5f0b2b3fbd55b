/*
 * arena.h - one memory arena per request.
 *
 * Invariants:
 *  - Everything a request allocates comes from its arena and is released in
 *    one go by arena_reset() when the request is finished. Handlers never
 *    free piecemeal.
 *  - Resources that are not arena memory (PGresult, json_object, jwt_t,
 *    curl lists, malloc'd buffers) are registered with arena_cleanup() and
 *    released by arena_reset(), last registered first.
 *  - arena_alloc() never returns NULL: running out of memory aborts the
 *    worker process (the supervisor replaces it). Input sizes are bounded
 *    before anything is allocated for them, so this is not reachable from
 *    a client.
 *  - An arena is used by one thread at a time.
 */
#ifndef LEXAR_ARENA_H
#define LEXAR_ARENA_H

#include <stdarg.h>
#include <stddef.h>

struct arena_block;
struct arena_cleanup;

struct arena {
	struct arena_block	*head;		/* block allocations come from */
	struct arena_block	*first;		/* kept across resets */
	struct arena_cleanup	*cleanups;	/* LIFO list */
	size_t			 total;		/* bytes held in blocks */
};

void	 arena_init(struct arena *a);
/* Run cleanups, free all blocks but the first, keep the arena usable. */
void	 arena_reset(struct arena *a);
/* arena_reset() and free the last block too; the arena must be re-inited. */
void	 arena_free(struct arena *a);

/* 16-byte aligned, uninitialised / zeroed memory owned by the arena. */
void	*arena_alloc(struct arena *a, size_t n);
void	*arena_calloc(struct arena *a, size_t n, size_t size);
/* NUL-terminated copies owned by the arena. */
char	*arena_strdup(struct arena *a, const char *s);
char	*arena_strndup(struct arena *a, const char *s, size_t n);
char	*arena_sprintf(struct arena *a, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
char	*arena_vsprintf(struct arena *a, const char *fmt, va_list ap)
	    __attribute__((format(printf, 2, 0)));

/* Call fn(ptr) at arena_reset(). ptr may be NULL (then nothing is added). */
void	 arena_cleanup(struct arena *a, void (*fn)(void *), void *ptr);

/* Bytes currently held; for metrics and tests. */
size_t	 arena_size(const struct arena *a);

#endif
