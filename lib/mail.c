/*
 * mail.c - SMTP delivery with libcurl, or the log in development.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "arena.h"
#include "buf.h"
#include "config.h"
#include "http.h"
#include "log.h"
#include "mail.h"
#include "metrics.h"
#include "util.h"

struct payload {
	const char	*p;
	size_t		 left;
};

static size_t
read_cb(char *dst, size_t size, size_t n, void *arg)
{
	struct payload	*pl = arg;
	size_t		 k = size * n;

	if (k > pl->left)
		k = pl->left;
	memcpy(dst, pl->p, k);
	pl->p += k;
	pl->left -= k;
	return k;
}

/* Header-safe: no CR/LF can reach the message headers. */
static bool
header_safe(const char *s)
{
	return strpbrk(s, "\r\n") == NULL;
}

static void
build(struct buf *m, const char *to, const char *subject, const char *text)
{
	char		date[64], id[33];
	unsigned char	rnd[16];
	time_t		t = time(NULL);
	struct tm	tm;
	const char	*p;

	gmtime_r(&t, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	rand_bytes(rnd, sizeof(rnd));
	hex_encode(id, rnd, sizeof(rnd));
	buf_printf(m, "Date: %s\r\nFrom: %s\r\nTo: <%s>\r\nSubject: %s\r\n"
	    "Message-ID: <%s@lexar>\r\nMIME-Version: 1.0\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: 8bit\r\n\r\n", date, cfg.smtp_from, to,
	    subject, id);
	/* Body with CRLF line ends. */
	for (p = text; *p != '\0'; p++) {
		if (*p == '\n' && (p == text || p[-1] != '\r'))
			buf_addch(m, '\r');
		buf_addch(m, *p);
	}
	buf_adds(m, "\r\n");
}

/* The address part of "Name <addr>" or addr itself. */
static const char *
envelope_from(char *tmp, size_t size)
{
	const char *lt = strchr(cfg.smtp_from, '<'), *gt;

	if (lt != NULL && (gt = strchr(lt, '>')) != NULL &&
	    (size_t)(gt - lt) < size) {
		snprintf(tmp, size, "<%.*s>", (int)(gt - lt - 1), lt + 1);
		return tmp;
	}
	snprintf(tmp, size, "<%s>", cfg.smtp_from);
	return tmp;
}

struct mail {
	const char	*to, *subject, *text;
};

/* After the response (req_defer): the log, or the SMTP server. */
static void
deliver(struct req *r, void *arg)
{
	struct mail		*ml = arg;
	const char		*to = ml->to, *subject = ml->subject, *text = ml->text;
	struct buf		 m = BUF_INIT;
	struct payload		 pl;
	struct curl_slist	*rcpt = NULL;
	CURL			*h;
	CURLcode		 cc;
	char			 err[CURL_ERROR_SIZE] = "", from[320];
	const char		*url = cfg.smtp_url;
	int64_t			 t0;

	if (*url == '\0') {
		if (cfg.env == ENV_PRODUCTION) {
			log_msg(LOG_ERROR, "mail_not_sent", r->request_id,
			    "smtp.url is not configured; e-mail \"%s\" was not sent",
			    subject);
			return;
		}
		log_msg(LOG_INFO, "mail_logged", r->request_id,
		    "smtp.url is not configured (development): To: %s Subject: %s\n\n%s",
		    to, subject, text);
		return;
	}
	build(&m, to, subject, text);
	pl.p = m.data;
	pl.left = m.len;
	if ((h = curl_easy_init()) == NULL)
		die("curl_easy_init");
	rcpt = curl_slist_append(NULL, to);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	curl_easy_setopt(h, CURLOPT_MAIL_FROM, envelope_from(from, sizeof(from)));
	curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rcpt);
	curl_easy_setopt(h, CURLOPT_READFUNCTION, read_cb);
	curl_easy_setopt(h, CURLOPT_READDATA, &pl);
	curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, cfg.smtp_timeout_ms);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, err);
	if (strncmp(url, "smtp://", 7) == 0 && strstr(url + 7, ":587") != NULL)
		curl_easy_setopt(h, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
	if (*cfg.smtp_user != '\0') {
		curl_easy_setopt(h, CURLOPT_USERNAME, cfg.smtp_user);
		curl_easy_setopt(h, CURLOPT_PASSWORD, cfg.smtp_password);
	}
	t0 = now_us();
	cc = curl_easy_perform(h);
	if (cc != CURLE_OK) {
		log_msg(LOG_ERROR, "mail_failed", r->request_id,
		    "sending \"%s\" failed: %s", subject, *err ? err :
		    curl_easy_strerror(cc));
	}
	metrics_upstream(UP_SMTP, cc == CURLE_OK ? OUT_OK :
	    cc == CURLE_OPERATION_TIMEDOUT ? OUT_TIMEOUT : OUT_CONNECT_ERROR,
	    now_us() - t0);
	curl_slist_free_all(rcpt);
	curl_easy_cleanup(h);
	buf_free(&m);
}

void
mail_send(struct req *r, const char *to, const char *subject, const char *text)
{
	struct mail *ml = arena_alloc(r->a, sizeof(*ml));

	if (!header_safe(to) || !header_safe(subject))
		BUG("mail header with a line break");
	ml->to = arena_strdup(r->a, to);
	ml->subject = arena_strdup(r->a, subject);
	ml->text = arena_strdup(r->a, text);
	req_defer(r, deliver, ml);
}
