/*
 * log.c - structured JSON log lines.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"

static enum log_level	 min_level = LOG_INFO;
static char		 log_path[4096];

static const char *const level_names[] = {
	"debug", "info", "warn", "error", "fatal"
};

int
log_open(const char *path)
{
	if (path == NULL || *path == '\0')
		return 0;
	if (strlen(path) >= sizeof(log_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(log_path, path);
	return log_reopen();
}

int
log_reopen(void)
{
	int fd;

	if (log_path[0] == '\0')
		return 0;
	fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (fd < 0)
		return -1;
	if (fd != STDERR_FILENO) {
		if (dup2(fd, STDERR_FILENO) < 0) {
			close(fd);
			return -1;
		}
		close(fd);
	}
	return 0;
}

void
log_set_level(enum log_level lvl)
{
	min_level = lvl;
}

bool
log_enabled(enum log_level lvl)
{
	return lvl >= min_level;
}

int
log_level_parse(const char *s)
{
	int i;

	for (i = LOG_DEBUG; i <= LOG_ERROR; i++)
		if (strcmp(s, level_names[i]) == 0)
			return i;
	return -1;
}

void
log_timestamp(char *out, size_t size)
{
	struct timespec	ts;
	struct tm	tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(out, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
}

void
log_write_line(const char *json, size_t len)
{
	struct buf	 b = BUF_INIT;
	const char	*p;
	ssize_t		 n;
	size_t		 left;

	buf_add(&b, json, len);
	buf_addch(&b, '\n');
	p = b.data;
	left = b.len;
	while (left > 0) {
		n = write(STDERR_FILENO, p, left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		p += n;
		left -= (size_t)n;
	}
	buf_free(&b);
}

static void
log_vmsg(enum log_level lvl, const char *event, const char *request_id,
    const char *fmt, va_list ap)
{
	struct buf	b = BUF_INIT, msg = BUF_INIT;
	char		ts[32];

	log_timestamp(ts, sizeof(ts));
	buf_vprintf(&msg, fmt, ap);
	buf_printf(&b, "{\"time\":\"%s\",\"level\":\"%s\",\"pid\":%ld", ts,
	    level_names[lvl], (long)getpid());
	if (event != NULL) {
		buf_adds(&b, ",\"event\":");
		buf_add_json_cstr(&b, event);
	}
	if (request_id != NULL) {
		buf_adds(&b, ",\"request_id\":");
		buf_add_json_cstr(&b, request_id);
	}
	buf_adds(&b, ",\"msg\":");
	buf_add_json_str(&b, msg.data, msg.len);
	buf_addch(&b, '}');
	log_write_line(b.data, b.len);
	buf_free(&msg);
	buf_free(&b);
}

void
log_msg(enum log_level lvl, const char *event, const char *request_id,
    const char *fmt, ...)
{
	va_list ap;

	if (lvl < min_level)
		return;
	va_start(ap, fmt);
	log_vmsg(lvl, event, request_id, fmt, ap);
	va_end(ap);
}

void
die(const char *fmt, ...)
{
	char	msg[512];
	va_list	ap;

	/* No allocation here: we may be out of memory. */
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	dprintf(STDERR_FILENO, "{\"level\":\"fatal\",\"pid\":%ld,"
	    "\"event\":\"die\",\"msg\":\"%s\"}\n", (long)getpid(), msg);
	abort();
}

void
bug_at(const char *file, int line, const char *fmt, ...)
{
	char	msg[512];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	dprintf(STDERR_FILENO, "{\"level\":\"fatal\",\"pid\":%ld,"
	    "\"event\":\"bug\",\"msg\":\"BUG %s:%d: %s\"}\n", (long)getpid(),
	    file, line, msg);
	abort();
}
