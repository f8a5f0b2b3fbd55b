/*
 * password.c - argon2id hashing with bounded concurrency.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <argon2.h>

#include "log.h"
#include "password.h"
#include "util.h"

#define SALT_LEN	16
#define HASH_LEN	32

static struct {
	unsigned	 m, t, p;
	unsigned	 slots;		/* free hashing slots */
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	char		 dummy[PASSWORD_HASH_MAX];
} pw = { .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER };

static void
slot_take(void)
{
	pthread_mutex_lock(&pw.mu);
	while (pw.slots == 0)
		pthread_cond_wait(&pw.cv, &pw.mu);
	pw.slots--;
	pthread_mutex_unlock(&pw.mu);
}

static void
slot_give(void)
{
	pthread_mutex_lock(&pw.mu);
	pw.slots++;
	pthread_cond_signal(&pw.cv);
	pthread_mutex_unlock(&pw.mu);
}

static int
hash_raw(const char *pwd, size_t len, char out[PASSWORD_HASH_MAX])
{
	unsigned char	salt[SALT_LEN];
	int		rc;

	rand_bytes(salt, sizeof(salt));
	rc = argon2id_hash_encoded(pw.t, pw.m, pw.p, pwd, len, salt, sizeof(salt),
	    HASH_LEN, out, PASSWORD_HASH_MAX);
	if (rc != ARGON2_OK) {
		log_error("argon2", "hash failed: %s", argon2_error_message(rc));
		return -1;
	}
	return 0;
}

void
password_init(unsigned memory_kib, unsigned iterations, unsigned parallelism,
    unsigned concurrency)
{
	pw.m = memory_kib;
	pw.t = iterations;
	pw.p = parallelism;
	pw.slots = concurrency;
	/* A real hash of a random password, for unknown users. */
	unsigned char junk[16];
	char hex[33];

	rand_bytes(junk, sizeof(junk));
	hex_encode(hex, junk, sizeof(junk));
	if (hash_raw(hex, 32, pw.dummy) != 0)
		die("cannot compute the dummy password hash");
}

int
password_hash(const char *pwd, size_t len, char out[PASSWORD_HASH_MAX])
{
	int rc;

	slot_take();
	rc = hash_raw(pwd, len, out);
	slot_give();
	return rc;
}

bool
password_verify(const char *encoded, const char *pwd, size_t len)
{
	bool	known = encoded != NULL && strncmp(encoded, "$argon2id$", 10) == 0;
	int	rc;

	slot_take();
	rc = argon2id_verify(known ? encoded : pw.dummy, pwd, len);
	slot_give();
	return known && rc == ARGON2_OK;
}

bool
password_needs_rehash(const char *encoded)
{
	unsigned v, m, t, p;

	if (encoded == NULL || sscanf(encoded, "$argon2id$v=%u$m=%u,t=%u,p=%u$",
	    &v, &m, &t, &p) != 4)
		return true;
	return v != ARGON2_VERSION_NUMBER || m < pw.m || t < pw.t || p < pw.p;
}
