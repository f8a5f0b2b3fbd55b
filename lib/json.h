/*
 * json.h - strict JSON parsing and field validation on top of json-c.
 *
 * json_parse() accepts exactly one RFC 8259 value: UTF-8 validated, nesting
 * bounded, nothing after it but whitespace. The returned object is owned by
 * the caller (json_object_put, or jarena() to hand it to an arena).
 *
 * Validation accumulates one message per bad field in a struct jv; the HTTP
 * layer turns a non-empty jv into 422 validation_failed with a "fields"
 * object. Getters return borrowed pointers into the parsed object.
 */
#ifndef LEXAR_JSON_H
#define LEXAR_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

struct arena;
struct buf;

#define JSON_MAX_DEPTH	32

json_object	*json_parse(const char *s, size_t n, const char **why);
/* Register json_object_put(o) on the arena; returns o. */
json_object	*jarena(struct arena *a, json_object *o);
/* Append the compact serialisation of o (no slash escaping). */
void		 json_to_buf(struct buf *b, json_object *o);

/* A JSON string, or null for NULL. */
json_object	*jstr(const char *s);
/* PostgreSQL text of a row/column: NULL -> null, "t"/"f" as booleans. */
json_object	*jpg_str(const void *res, int row, int col);
json_object	*jpg_bool(const void *res, int row, int col);
json_object	*jpg_int(const void *res, int row, int col);
/* A numeric as the JSON number PostgreSQL printed, trailing zeros of the
 * fraction dropped (13.34040000 -> 13.3404): exact, not via a double. */
json_object	*jnum(const char *numeric);
json_object	*jpg_num(const void *res, int row, int col);
/*
 * A timestamptz column as ISO 8601 UTC with milliseconds
 * ("2026-11-22T03:34:25.699Z"). Connections run with TimeZone UTC and
 * DateStyle ISO, so PostgreSQL prints "2026-11-22 03:34:25.699123+00";
 * formatting here is much cheaper than to_char() in the query.
 */
json_object	*jpg_time(const void *res, int row, int col);
/* A json/jsonb column parsed, its "*_at" timestamps in jpg_time's format
 * (PostgreSQL's JSON has its own); NULL for SQL NULL. */
json_object	*jpg_json(const void *res, int row, int col);

struct jv {
	json_object	*fields;	/* NULL until the first error */
};

#define JV_REQUIRED	0x01	/* missing -> "is required" */
#define JV_NULLABLE	0x02	/* explicit null accepted (getter sees absent) */
#define JV_TRIM		0x04	/* strings: trim ASCII blanks before checks */
#define JV_SINGLELINE	0x08	/* strings: no control characters at all */

void	 jv_init(struct jv *v);
void	 jv_free(struct jv *v);
bool	 jv_failed(const struct jv *v);
/* First error per field wins. */
void	 jv_error(struct jv *v, const char *field, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

/*
 * Each getter: absent (or null with JV_NULLABLE) -> returns the "absent"
 * value without error unless JV_REQUIRED; wrong type or out of range ->
 * error recorded, "absent" returned. *present tells which (may be NULL).
 */
/* Length limits count code points. Returns NULL when absent or invalid. */
const char *jv_string(struct jv *v, json_object *obj, const char *field,
	    unsigned flags, size_t min, size_t max, struct arena *a);
bool	 jv_int(struct jv *v, json_object *obj, const char *field,
	    unsigned flags, int64_t min, int64_t max, int64_t *out);
bool	 jv_double(struct jv *v, json_object *obj, const char *field,
	    unsigned flags, double min, double max, double *out);
bool	 jv_bool(struct jv *v, json_object *obj, const char *field,
	    unsigned flags, bool *out);
/* Every key of obj must be in allowed (NULL-terminated); others -> error. */
void	 jv_only(struct jv *v, json_object *obj, const char *const *allowed);

#endif
