/*
 * crypto.c - AES-256-GCM with OpenSSL EVP.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "arena.h"
#include "config.h"
#include "crypto.h"
#include "log.h"
#include "util.h"

#define MAX_KEYS	16

static struct {
	char		id[17];
	unsigned char	key[32];
} keys[MAX_KEYS];
static size_t nkeys;

static int
hexval(int c)
{
	return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

int
crypto_init(const struct cfg_list *l)
{
	size_t i, j;

	nkeys = 0;
	for (i = 0; i < l->n && nkeys < MAX_KEYS; i++) {
		const char *colon = strchr(l->v[i], ':');

		if (colon == NULL || colon - l->v[i] > 16 || strlen(colon + 1) != 64)
			continue;	/* config_validate refused these already */
		memcpy(keys[nkeys].id, l->v[i], (size_t)(colon - l->v[i]));
		keys[nkeys].id[colon - l->v[i]] = '\0';
		for (j = 0; j < 32; j++)
			keys[nkeys].key[j] = (unsigned char)(hexval(colon[1 + 2 * j]) << 4 |
			    hexval(colon[2 + 2 * j]));
		nkeys++;
	}
	return nkeys > 0 ? 0 : -1;
}

bool
crypto_enabled(void)
{
	return nkeys > 0;
}

void
crypto_cleanup(void)
{
	OPENSSL_cleanse(keys, sizeof(keys));
	nkeys = 0;
}

int
crypto_seal(struct arena *a, const char *plain, size_t n, const char *aad,
    const char **key_id, unsigned char nonce[CRYPTO_NONCE], unsigned char **out,
    size_t *outlen)
{
	EVP_CIPHER_CTX	*ctx;
	unsigned char	*ct;
	int		 len, fin, ok;

	if (nkeys == 0 || n > (1 << 20))
		return -1;
	rand_bytes(nonce, CRYPTO_NONCE);
	ct = arena_alloc(a, n + CRYPTO_TAG);
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL)
		die("EVP_CIPHER_CTX_new");
	ok = EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) &&
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, CRYPTO_NONCE, NULL) &&
	    EVP_EncryptInit_ex(ctx, NULL, NULL, keys[0].key, nonce) &&
	    EVP_EncryptUpdate(ctx, NULL, &len, (const unsigned char *)aad,
	    (int)strlen(aad)) &&
	    EVP_EncryptUpdate(ctx, ct, &len, (const unsigned char *)plain, (int)n) &&
	    EVP_EncryptFinal_ex(ctx, ct + len, &fin) &&
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, CRYPTO_TAG, ct + len + fin);
	EVP_CIPHER_CTX_free(ctx);
	if (!ok)
		return -1;
	*key_id = keys[0].id;
	*out = ct;
	*outlen = (size_t)(len + fin) + CRYPTO_TAG;
	return 0;
}

char *
crypto_open(struct arena *a, const char *key_id,
    const unsigned char nonce[CRYPTO_NONCE], const unsigned char *ct, size_t ctlen,
    const char *aad)
{
	EVP_CIPHER_CTX	*ctx;
	unsigned char	*pt;
	size_t		 i;
	int		 len = 0, fin = 0, ok;

	for (i = 0; i < nkeys && strcmp(keys[i].id, key_id) != 0; i++)
		;
	if (i == nkeys || ctlen < CRYPTO_TAG)
		return NULL;
	pt = arena_alloc(a, ctlen - CRYPTO_TAG + 1);
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL)
		die("EVP_CIPHER_CTX_new");
	ok = EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) &&
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, CRYPTO_NONCE, NULL) &&
	    EVP_DecryptInit_ex(ctx, NULL, NULL, keys[i].key, nonce) &&
	    EVP_DecryptUpdate(ctx, NULL, &len, (const unsigned char *)aad,
	    (int)strlen(aad)) &&
	    EVP_DecryptUpdate(ctx, pt, &len, ct, (int)(ctlen - CRYPTO_TAG)) &&
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, CRYPTO_TAG,
	    (void *)(ct + ctlen - CRYPTO_TAG)) &&
	    EVP_DecryptFinal_ex(ctx, pt + len, &fin) > 0;
	EVP_CIPHER_CTX_free(ctx);
	if (!ok)
		return NULL;
	pt[len + fin] = '\0';
	return (char *)pt;
}
