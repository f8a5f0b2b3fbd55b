/*
 * fuzz_sse.c - the Server-Sent Events parser, fed in chunks whose sizes
 * come from the input itself (byte 0 seeds the chunking).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sse.h"

static int
on_event(void *ctx, const char *event, const char *data, size_t len)
{
	size_t *n = ctx;

	if (event == NULL || (len > 0 && data == NULL) || strlen(event) > 128)
		abort();
	*n += len;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sse	s;
	size_t		n = 0, off = 1, step;
	unsigned	seed;

	if (size < 1)
		return 0;
	seed = data[0] | 1u;
	sse_init(&s, on_event, &n);
	while (off < size) {
		step = 1 + (seed % 97);
		seed = seed * 1103515245u + 12345u;
		if (step > size - off)
			step = size - off;
		if (sse_feed(&s, (const char *)data + off, step) != 0)
			break;
		off += step;
	}
	sse_free(&s);
	return 0;
}
