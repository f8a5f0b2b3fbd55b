/*
 * sse.h - incremental parser of Server-Sent Events (text/event-stream).
 *
 * Feed it bytes as they arrive, in chunks of any size; it calls on_event
 * with the event name ("message" when none was given) and its data (the
 * "data:" lines joined by "\n") for each complete event (ended by a blank
 * line). LF, CRLF and CR line ends are accepted; comment lines (":") and
 * unknown fields are ignored. A line or event longer than SSE_MAX_EVENT
 * bytes is an error: sse_feed returns -1 and the parser stops.
 */
#ifndef LEXAR_SSE_H
#define LEXAR_SSE_H

#include <stddef.h>

#include "buf.h"

#define SSE_MAX_EVENT	(1024 * 1024)

/* Return 0 to go on, -1 to stop parsing (sse_feed then returns -1). */
typedef int (*sse_event_fn)(void *ctx, const char *event, const char *data,
    size_t len);

struct sse {
	struct buf	 line;		/* the line being read */
	struct buf	 event;		/* its event name */
	struct buf	 data;		/* its data lines */
	int		 has_data;
	int		 cr;		/* last byte was CR */
	int		 failed;
	sse_event_fn	 on_event;
	void		*ctx;
};

void	sse_init(struct sse *s, sse_event_fn fn, void *ctx);
int	sse_feed(struct sse *s, const char *p, size_t n);
void	sse_free(struct sse *s);

#endif
