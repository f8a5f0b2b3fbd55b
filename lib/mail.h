/*
 * mail.h - e-mail through SMTP (libcurl).
 *
 * smtp.url: smtps://host[:465] uses TLS from the start; smtp://host:587
 * requires STARTTLS; smtp://host:other is plain (a local relay). With no
 * smtp.url, development writes the whole message to the log (never drops
 * it silently); production logs an error without the body.
 * mail_send only queues the message on the request: it is delivered after
 * the response has gone, and only if the request succeeded (req_defer),
 * bounded by smtp.timeout_ms; a failure is logged. Endpoints that send mail
 * are served by the llm pool.
 */
#ifndef LEXAR_MAIL_H
#define LEXAR_MAIL_H

struct req;

/* to must be a validated address; subject ASCII. */
void	mail_send(struct req *r, const char *to, const char *subject,
	    const char *text);

#endif
