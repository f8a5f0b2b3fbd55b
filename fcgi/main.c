/*
 * main.c - lexar.fcgi command line.
 *
 *   lexar.fcgi [serve] [--pool api|llm] [--socket PATH] [--config FILE]
 *   lexar.fcgi migrate [--status] [--dir DIR] [--config FILE]
 *   lexar.fcgi config check|show|keys [--config FILE]
 *   lexar.fcgi version
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "buf.h"
#include "config.h"
#include "lexar.h"
#include "log.h"
#include "migrate.h"

#define LEXAR_VERSION	"0.1.0"

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: lexar.fcgi [serve] [--pool api|llm] [--socket PATH] [--config FILE]\n"
	    "       lexar.fcgi migrate [--status] [--dir DIR] [--config FILE]\n"
	    "       lexar.fcgi config check|show|keys [--config FILE]\n"
	    "       lexar.fcgi version\n"
	    "\n"
	    "serve    run a pool of FastCGI workers on the socket spawn-fcgi passes\n"
	    "         as fd 0 (or on --socket PATH)\n"
	    "migrate  apply sql/NNN_name.sql migrations (--status: list pending)\n"
	    "config   check: validate and exit; show: effective values (secrets\n"
	    "         hidden); keys: the table of every key (markdown)\n"
	    "\n"
	    "Configuration: conf.yaml (or --config / LEXAR_CONFIG), then the\n"
	    "environment; see README.md.\n");
}

static int
load_config(const char *path)
{
	struct buf err = BUF_INIT;

	if (path == NULL)
		path = getenv("LEXAR_CONFIG");
	if (config_load(&cfg, path, &err) != 0) {
		fprintf(stderr, "lexar: configuration error%s:\n%s",
		    strchr(err.data, '\n') != strrchr(err.data, '\n') ? "s" : "",
		    err.data);
		buf_free(&err);
		config_free(&cfg);
		return -1;
	}
	buf_free(&err);
	log_set_level(cfg.log_level);
	return 0;
}

int
main(int argc, char **argv)
{
	const char	*cmd = "serve", *sub = NULL, *conf = NULL;
	const char	*pool = "api", *socket_path = NULL, *dir = NULL;
	char		 err[256];
	bool		 status_only = false;
	int		 i, rc;

	i = 1;
	if (argc > 1 && argv[1][0] != '-')
		cmd = argv[i++];
	if (strcmp(cmd, "config") == 0 && i < argc && argv[i][0] != '-')
		sub = argv[i++];
	for (; i < argc; i++) {
		const char *a = argv[i];

		if ((strcmp(a, "--config") == 0 || strcmp(a, "-c") == 0) && i + 1 < argc)
			conf = argv[++i];
		else if (strcmp(a, "--pool") == 0 && i + 1 < argc)
			pool = argv[++i];
		else if (strcmp(a, "--socket") == 0 && i + 1 < argc)
			socket_path = argv[++i];
		else if (strcmp(a, "--dir") == 0 && i + 1 < argc)
			dir = argv[++i];
		else if (strcmp(a, "--status") == 0)
			status_only = true;
		else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			return 0;
		} else {
			fprintf(stderr, "lexar: unknown argument '%s'\n", a);
			usage(stderr);
			return 2;
		}
	}

	if (strcmp(cmd, "version") == 0) {
		printf("lexar.fcgi %s\n", LEXAR_VERSION);
		return 0;
	}
	if (strcmp(cmd, "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(cmd, "config") == 0 && sub != NULL && strcmp(sub, "keys") == 0) {
		config_print_keys(stdout);
		return 0;
	}
	if (route_table_check(routes, nroutes, err, sizeof(err)) != 0) {
		fprintf(stderr, "lexar: %s\n", err);
		return 1;
	}
	if (load_config(conf) != 0)
		return 1;

	if (strcmp(cmd, "config") == 0) {
		if (sub == NULL || strcmp(sub, "check") == 0)
			printf("configuration ok (%s)\n", config_env_name(cfg.env));
		else if (strcmp(sub, "show") == 0)
			config_print_values(&cfg, stdout);
		else {
			usage(stderr);
			config_free(&cfg);
			return 2;
		}
		config_free(&cfg);
		return 0;
	}
	if (strcmp(cmd, "migrate") == 0) {
		rc = migrate_run(cfg.database_url, (int)cfg.db_connect_timeout_s,
		    dir ? dir : cfg.migrations_dir, status_only, stdout, stderr);
		config_free(&cfg);
		return rc == 0 ? 0 : 1;
	}
	if (strcmp(cmd, "serve") != 0) {
		fprintf(stderr, "lexar: unknown command '%s'\n", cmd);
		usage(stderr);
		config_free(&cfg);
		return 2;
	}
	if (strcmp(pool, "api") != 0 && strcmp(pool, "llm") != 0) {
		fprintf(stderr, "lexar: --pool must be api or llm\n");
		config_free(&cfg);
		return 2;
	}
	if (log_open(cfg.log_file) != 0) {
		fprintf(stderr, "lexar: cannot open log file %s\n", cfg.log_file);
		config_free(&cfg);
		return 1;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "lexar: curl_global_init failed\n");
		config_free(&cfg);
		return 1;
	}
	rc = server_run(pool, socket_path);
	curl_global_cleanup();
	config_free(&cfg);
	return rc;
}
