/*
 * log.h - structured JSON log lines on stderr.
 *
 * Every line is one JSON object written with a single write(2):
 *   {"time":"2026-11-22T02:51:41.123Z","level":"error","pid":42,
 *    "event":"db_error","request_id":"...","msg":"..."}
 * Request lines are written by the server (see log_request()).
 *
 * Never pass a secret, a password, a token or a request body to these
 * functions: messages are written as given.
 *
 * die() is for states the process cannot continue from (out of memory);
 * BUG() is for a broken invariant. Both log and abort.
 */
#ifndef LEXAR_LOG_H
#define LEXAR_LOG_H

#include <stdbool.h>
#include <stddef.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR, LOG_FATAL };

/* path NULL or "" keeps stderr; otherwise opened O_APPEND onto fd 2. */
int	log_open(const char *path);
/* Reopen the file given to log_open (after rotation); 0 or -1. */
int	log_reopen(void);
void	log_set_level(enum log_level lvl);
bool	log_enabled(enum log_level lvl);
/* Parse "debug", "info", "warn", "error"; -1 if unknown. */
int	log_level_parse(const char *s);

void	log_msg(enum log_level lvl, const char *event, const char *request_id,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#define log_debug(ev, ...)	log_msg(LOG_DEBUG, ev, NULL, __VA_ARGS__)
#define log_info(ev, ...)	log_msg(LOG_INFO, ev, NULL, __VA_ARGS__)
#define log_warn(ev, ...)	log_msg(LOG_WARN, ev, NULL, __VA_ARGS__)
#define log_error(ev, ...)	log_msg(LOG_ERROR, ev, NULL, __VA_ARGS__)

/* Write a pre-built JSON object (no trailing newline) as one line. */
void	log_write_line(const char *json, size_t len);
/* "2026-11-22T02:51:41.123Z" into out (at least 25 bytes). */
void	log_timestamp(char *out, size_t size);

void	die(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	bug_at(const char *file, int line, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4), noreturn));
#define BUG(...)	bug_at(__FILE__, __LINE__, __VA_ARGS__)

#endif
