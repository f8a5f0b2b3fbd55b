/*
 * fuzz_json.c - strict JSON parsing and field validation.
 */
#include <stdint.h>

#include "arena.h"
#include "buf.h"
#include "json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const allowed[] = { "email", "password", "name", NULL };
	struct arena	 a;
	struct buf	 b = BUF_INIT;
	struct jv	 v;
	json_object	*o;
	const char	*why;
	int64_t		 n;
	double		 d;
	bool		 t;

	o = json_parse((const char *)data, size, &why);
	if (o == NULL)
		return 0;
	arena_init(&a);
	jv_init(&v);
	(void)jv_string(&v, o, "email", JV_REQUIRED | JV_TRIM, 3, 254, &a);
	(void)jv_string(&v, o, "name", JV_SINGLELINE | JV_NULLABLE, 0, 100, &a);
	(void)jv_int(&v, o, "max_tokens", 0, 1, 100000, &n);
	(void)jv_double(&v, o, "temperature", 0, 0, 2, &d);
	(void)jv_bool(&v, o, "stream", 0, &t);
	jv_only(&v, o, allowed);
	json_to_buf(&b, o);
	buf_add_json_str(&b, (const char *)data, size);
	jv_free(&v);
	json_object_put(o);
	buf_free(&b);
	arena_free(&a);
	return 0;
}
