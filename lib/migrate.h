/*
 * migrate.h - apply sql/NNN_name.sql in order, each in its own transaction.
 *
 * Applied files are recorded in schema_migrations(version, name, checksum,
 * applied_at). A file changed after it was applied, a recorded migration
 * whose file is gone, a duplicate number or a badly named .sql file stops
 * everything with a message naming the file. Concurrent runs serialise on
 * an advisory lock.
 */
#ifndef LEXAR_MIGRATE_H
#define LEXAR_MIGRATE_H

#include <stdbool.h>
#include <stdio.h>

/* Returns 0 when the database is up to date, -1 (messages on err). */
int	migrate_run(const char *conninfo, int connect_timeout_s, const char *dir,
	    bool status_only, FILE *out, FILE *err);

#endif
