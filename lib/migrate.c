/*
 * migrate.c - schema migrations.
 */
#include <dirent.h>
#include <errno.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libpq-fe.h>

#include "buf.h"
#include "db.h"
#include "log.h"
#include "migrate.h"
#include "util.h"

#define MIGRATE_LOCK_KEY	"7283550119"	/* pg_advisory_lock key */
#define MIGRATE_MAX_FILES	1000

struct mfile {
	int	 version;
	char	*name;		/* "001_base.sql" */
	char	 checksum[65];
	char	*sql;
	size_t	 len;
	bool	 applied;
};

static int
cmp_mfile(const void *a, const void *b)
{
	return ((const struct mfile *)a)->version - ((const struct mfile *)b)->version;
}

static char *
read_file(const char *path, size_t *len)
{
	FILE	*fp;
	char	*p;
	long	 n;

	if ((fp = fopen(path, "rb")) == NULL)
		return NULL;
	if (fseek(fp, 0, SEEK_END) != 0 || (n = ftell(fp)) < 0 ||
	    fseek(fp, 0, SEEK_SET) != 0) {
		fclose(fp);
		return NULL;
	}
	if ((p = malloc((size_t)n + 1)) == NULL)
		die("out of memory");
	*len = fread(p, 1, (size_t)n, fp);
	p[*len] = '\0';
	fclose(fp);
	return p;
}

static void
free_files(struct mfile *f, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		free(f[i].name);
		free(f[i].sql);
	}
	free(f);
}

/* Read and check the directory. Returns count or -1. */
static int
load_files(const char *dir, struct mfile **out, FILE *err)
{
	DIR		*d;
	struct dirent	*de;
	struct mfile	*f;
	regex_t		 re;
	char		 path[4096];
	int		 n = 0, i;
	size_t		 nl;

	if ((d = opendir(dir)) == NULL) {
		fprintf(err, "migrate: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	if (regcomp(&re, "^[0-9]{3}_[a-z0-9_]+\\.sql$", REG_EXTENDED | REG_NOSUB) != 0)
		die("regcomp");
	f = calloc(MIGRATE_MAX_FILES, sizeof(*f));
	if (f == NULL)
		die("out of memory");
	while ((de = readdir(d)) != NULL) {
		nl = strlen(de->d_name);
		if (nl < 4 || strcmp(de->d_name + nl - 4, ".sql") != 0)
			continue;
		if (regexec(&re, de->d_name, 0, NULL, 0) != 0) {
			fprintf(err, "migrate: %s/%s: migration files are named "
			    "NNN_lowercase_name.sql\n", dir, de->d_name);
			goto fail;
		}
		if (n == MIGRATE_MAX_FILES) {
			fprintf(err, "migrate: too many files in %s\n", dir);
			goto fail;
		}
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		f[n].version = atoi(de->d_name);
		f[n].name = strdup(de->d_name);
		if ((f[n].sql = read_file(path, &f[n].len)) == NULL) {
			fprintf(err, "migrate: %s: %s\n", path, strerror(errno));
			n++;
			goto fail;
		}
		sha256_hex(f[n].checksum, f[n].sql, f[n].len);
		n++;
	}
	qsort(f, (size_t)n, sizeof(*f), cmp_mfile);
	for (i = 1; i < n; i++) {
		if (f[i].version == f[i - 1].version) {
			fprintf(err, "migrate: %s and %s have the same number\n",
			    f[i - 1].name, f[i].name);
			goto fail;
		}
	}
	regfree(&re);
	closedir(d);
	*out = f;
	return n;
fail:
	regfree(&re);
	closedir(d);
	free_files(f, n);
	return -1;
}

static int
exec_ok(PGconn *pg, const char *sql, FILE *err, const char *what)
{
	PGresult	*res = PQexec(pg, sql);
	int		 ok = PQresultStatus(res) == PGRES_COMMAND_OK ||
			    PQresultStatus(res) == PGRES_TUPLES_OK;

	if (!ok)
		fprintf(err, "migrate: %s: %s", what, PQerrorMessage(pg));
	PQclear(res);
	return ok ? 0 : -1;
}

static int
apply_one(PGconn *pg, struct mfile *m, FILE *out, FILE *err)
{
	const char	*params[3];
	char		 ver[16];
	PGresult	*res;

	if (exec_ok(pg, "BEGIN", err, m->name) != 0)
		return -1;
	res = PQexec(pg, m->sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK &&
	    PQresultStatus(res) != PGRES_TUPLES_OK &&
	    PQresultStatus(res) != PGRES_EMPTY_QUERY) {
		fprintf(err, "migrate: %s failed, nothing of it was applied: %s",
		    m->name, PQerrorMessage(pg));
		PQclear(res);
		PQclear(PQexec(pg, "ROLLBACK"));
		return -1;
	}
	PQclear(res);
	if (PQtransactionStatus(pg) != PQTRANS_INTRANS) {
		fprintf(err, "migrate: %s must not contain BEGIN/COMMIT; "
		    "each file already runs in its own transaction\n", m->name);
		PQclear(PQexec(pg, "ROLLBACK"));
		return -1;
	}
	snprintf(ver, sizeof(ver), "%d", m->version);
	params[0] = ver;
	params[1] = m->name;
	params[2] = m->checksum;
	res = PQexecParams(pg, "INSERT INTO schema_migrations "
	    "(version, name, checksum) VALUES ($1, $2, $3)", 3, NULL, params,
	    NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		fprintf(err, "migrate: recording %s: %s", m->name, PQerrorMessage(pg));
		PQclear(res);
		PQclear(PQexec(pg, "ROLLBACK"));
		return -1;
	}
	PQclear(res);
	if (exec_ok(pg, "COMMIT", err, m->name) != 0)
		return -1;
	fprintf(out, "applied %s\n", m->name);
	return 0;
}

int
migrate_run(const char *conninfo, int connect_timeout_s, const char *dir,
    bool status_only, FILE *out, FILE *err)
{
	struct mfile	*files = NULL;
	PGconn		*pg;
	PGresult	*res = NULL;
	char		 msg[512];
	int		 n, i, j, rc = -1, pending = 0;

	if ((n = load_files(dir, &files, err)) < 0)
		return -1;
	if ((pg = db_connect_once(conninfo, connect_timeout_s, msg, sizeof(msg))) == NULL) {
		fprintf(err, "migrate: cannot connect to the database: %s\n", msg);
		free_files(files, n);
		return -1;
	}
	PQclear(PQexec(pg, "SET client_min_messages = warning"));
	if (exec_ok(pg, "SELECT pg_advisory_lock(" MIGRATE_LOCK_KEY ")", err, "lock") != 0 ||
	    exec_ok(pg, "CREATE TABLE IF NOT EXISTS schema_migrations ("
	    " version integer PRIMARY KEY,"
	    " name text NOT NULL,"
	    " checksum text NOT NULL,"
	    " applied_at timestamptz NOT NULL DEFAULT now())", err, "schema_migrations") != 0)
		goto out;
	res = PQexec(pg, "SELECT version, name, checksum FROM schema_migrations "
	    "ORDER BY version");
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		fprintf(err, "migrate: reading schema_migrations: %s", PQerrorMessage(pg));
		goto out;
	}
	for (i = 0; i < PQntuples(res); i++) {
		int v = atoi(PQgetvalue(res, i, 0));

		for (j = 0; j < n && files[j].version != v; j++)
			;
		if (j == n) {
			fprintf(err, "migrate: migration %s was applied but its file "
			    "is missing from %s\n", PQgetvalue(res, i, 1), dir);
			goto out;
		}
		if (strcmp(files[j].checksum, PQgetvalue(res, i, 2)) != 0) {
			fprintf(err, "migrate: %s/%s was changed after it was applied "
			    "(checksum %.12s, recorded %.12s); never edit an applied "
			    "migration, add a new one\n", dir, files[j].name,
			    files[j].checksum, PQgetvalue(res, i, 2));
			goto out;
		}
		files[j].applied = true;
	}
	for (i = 0; i < n; i++) {
		if (files[i].applied)
			continue;
		pending++;
		if (status_only) {
			fprintf(out, "pending %s\n", files[i].name);
			continue;
		}
		if (apply_one(pg, &files[i], out, err) != 0)
			goto out;
	}
	if (pending == 0)
		fprintf(out, "database is up to date (%d migrations)\n", n);
	rc = status_only && pending > 0 ? 1 : 0;
out:
	PQclear(res);
	PQclear(PQexec(pg, "SELECT pg_advisory_unlock(" MIGRATE_LOCK_KEY ")"));
	PQfinish(pg);
	free_files(files, n);
	return rc;
}
