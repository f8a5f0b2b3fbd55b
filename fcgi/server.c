/*
 * server.c - process model of one pool.
 *
 *   supervisor (the pid spawn-fcgi records)
 *     - holds the listening socket (fd 0 from spawn-fcgi, or --socket)
 *     - maps the pool's shared metrics file
 *     - forks `processes` workers and replaces any that dies
 *     - SIGTERM/SIGINT: tells workers to stop, waits, exits
 *     - SIGHUP: reopens the log file, passes it on
 *     - api pool: folds new usage into the report roll-ups (admin.c)
 *   worker
 *     - `threads` threads, each FCGX_Accept_r on the shared socket,
 *       each with its own arena and buffers
 *     - its own bounded PostgreSQL pool
 *     - SIGTERM: stop accepting, finish in-flight requests, exit 0
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "config.h"
#include "lexar.h"
#include "log.h"
#include "metrics.h"
#include "crypto.h"
#include "llm.h"
#include "password.h"
#include "token.h"
#include "util.h"

#define MAX_PROCS	64
#define WAKE_SIGNAL	SIGUSR2

enum thread_state { TS_ACCEPTING, TS_BUSY, TS_DONE };

struct worker_thread {
	pthread_t		tid;
	atomic_int		state;
	int			listen_fd;
	const char		*pool;
};

static atomic_int	stopping;
static int		listen_fd;

/* ---- one worker thread ---- */

static ssize_t
fcgx_read(void *ctx, char *p, size_t n)
{
	FCGX_Request	*fr = ctx;
	int		 got;

	if (n > INT32_MAX)
		n = INT32_MAX;
	got = FCGX_GetStr(p, (int)n, fr->in);
	if (got < 0)
		return -1;
	if (got == 0 && FCGX_GetError(fr->in) != 0)
		return -1;
	return got;
}

static int
fcgx_write(void *ctx, const char *p, size_t n)
{
	FCGX_Request *fr = ctx;

	while (n > 0) {
		int chunk = n > (1 << 30) ? (1 << 30) : (int)n;

		if (FCGX_PutStr(p, chunk, fr->out) != chunk)
			return -1;
		p += chunk;
		n -= (size_t)chunk;
	}
	return 0;
}

static int
fcgx_flush(void *ctx)
{
	FCGX_Request *fr = ctx;

	return FCGX_FFlush(fr->out) == 0 ? 0 : -1;
}

static void
log_request(struct req *r)
{
	struct buf	b = BUF_INIT;
	char		ts[32];
	int64_t		us = now_us() - r->t_start_us;

	if (!log_enabled(LOG_INFO))
		return;
	log_timestamp(ts, sizeof(ts));
	buf_printf(&b, "{\"time\":\"%s\",\"level\":\"info\",\"event\":\"request\","
	    "\"pool\":\"%s\",\"request_id\":", ts, r->pool);
	buf_add_json_cstr(&b, r->request_id);
	buf_adds(&b, ",\"method\":");
	buf_add_json_cstr(&b, r->method_str);
	buf_adds(&b, ",\"route\":");
	buf_add_json_cstr(&b, r->route ? r->route->pattern : NULL);
	buf_adds(&b, ",\"path\":");
	buf_add_json_cstr(&b, r->path);
	buf_printf(&b, ",\"status\":%d,\"duration_ms\":%.3f,\"user_id\":",
	    r->status, (double)us / 1000.0);
	buf_add_json_cstr(&b, r->auth.user_id);
	if (r->client_gone)
		buf_adds(&b, ",\"client_gone\":true");
	buf_addch(&b, '}');
	log_write_line(b.data, b.len);
	buf_free(&b);
}

static void *
worker_thread(void *arg)
{
	struct worker_thread	*t = arg;
	struct req_io		 io;
	FCGX_Request		 fr;
	struct arena		 a;
	struct buf		 hdr = BUF_INIT, out = BUF_INIT;
	struct req		 r;
	sigset_t		 set;

	sigemptyset(&set);
	sigaddset(&set, WAKE_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);

	arena_init(&a);
	FCGX_InitRequest(&fr, t->listen_fd, FCGI_FAIL_ACCEPT_ON_INTR);
	io.read = fcgx_read;
	io.write = fcgx_write;
	io.flush = fcgx_flush;
	io.ctx = &fr;
	for (;;) {
		atomic_store(&t->state, TS_ACCEPTING);
		if (atomic_load(&stopping))
			break;
		if (FCGX_Accept_r(&fr) < 0) {
			if (atomic_load(&stopping))
				break;
			if (errno != EINTR)
				log_warn("accept", "FCGX_Accept_r failed: %s", strerror(errno));
			continue;
		}
		atomic_store(&t->state, TS_BUSY);
		req_init(&r, &a, fr.envp, &hdr, &out, &io);
		r.pool = t->pool;
		dispatch(&r);
		req_done(&r);
		/* FCGX_Finish_r frees the params the request points into. */
		req_detach_env(&r);
		/* Work after the answer: close this connection, so that nginx
		 * sends no other request to wait behind it. */
		if (r.deferred != NULL)
			fr.keepConnection = 0;
		FCGX_Finish_r(&fr);
		metrics_request(r.route_index, r.status, now_us() - r.t_start_us);
		log_request(&r);
		req_run_deferred(&r);	/* e-mail: the client has its answer */
		arena_reset(&a);
		buf_reset(&hdr);
		buf_reset(&out);
	}
	FCGX_Finish_r(&fr);
	FCGX_Free(&fr, 0);
	arena_free(&a);
	buf_free(&hdr);
	buf_free(&out);
	atomic_store(&t->state, TS_DONE);
	return NULL;
}

/* ---- one worker process ---- */

static void
wake_handler(int sig)
{
	(void)sig;	/* only interrupts accept()/read() */
}

static int
worker_main(const char *pool, int slot, const struct cfg_pool *pc)
{
	long			 nthreads = pc->threads;
	struct worker_thread	*th;
	struct sigaction	 sa;
	pthread_attr_t		 attr;
	sigset_t		 set;
	siginfo_t		 si;
	struct timespec		 tick = { 0, 20 * 1000 * 1000 };
	size_t			 stack;
	int64_t			 deadline;
	long			 i, alive;
	int			 sig, rc = 0;

	prctl(PR_SET_PDEATHSIG, SIGTERM);
	prctl(PR_SET_NAME, strcmp(pool, "llm") == 0 ? "lexar-llm" : "lexar-api");
	metrics_set_slot(slot, getpid());

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = wake_handler;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;	/* no SA_RESTART: accept() must see EINTR */
	sigaction(WAKE_SIGNAL, &sa, NULL);

	password_init((unsigned)cfg.argon2_memory_kib, (unsigned)cfg.argon2_iterations,
	    (unsigned)cfg.argon2_parallelism, (unsigned)cfg.hash_concurrency);
	token_init(cfg.jwt_secret, cfg.jwt_issuer, cfg.jwt_audience, cfg.jwt_expires_s);
	llm_init();
	crypto_init(&cfg.master_keys);
	db_pool_init(cfg.database_url, (int)pc->db_connections,
	    (int)cfg.db_acquire_timeout_ms, (int)cfg.db_statement_timeout_ms,
	    (int)cfg.db_connect_timeout_s);
	if (FCGX_Init() != 0) {
		log_error("fcgx_init", "FCGX_Init failed");
		return 1;
	}

	stack = (size_t)cfg.thread_stack_kb * 1024;
#if defined(__SANITIZE_ADDRESS__)
	stack *= 4;	/* ASan's redzones need room */
#endif
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, stack);
	th = calloc((size_t)nthreads, sizeof(*th));
	if (th == NULL)
		die("out of memory");
	for (i = 0; i < nthreads; i++) {
		th[i].listen_fd = listen_fd;
		th[i].pool = pool;
		atomic_store(&th[i].state, TS_ACCEPTING);
		if (pthread_create(&th[i].tid, &attr, worker_thread, &th[i]) != 0)
			die("pthread_create failed after %ld threads", i);
	}
	pthread_attr_destroy(&attr);
	log_info("worker_started", "pool %s worker %d: %ld threads, %ld db connections",
	    pool, slot, nthreads, pc->db_connections);

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	for (;;) {
		sig = sigwaitinfo(&set, &si);
		if (sig == SIGHUP) {
			log_reopen();
			continue;
		}
		if (sig == SIGTERM || sig == SIGINT)
			break;
	}

	/* Graceful stop: no new requests; in-flight ones finish. */
	atomic_store(&stopping, 1);
	FCGX_ShutdownPending();
	deadline = now_ms() + cfg.shutdown_timeout_s * 1000;
	for (;;) {
		for (alive = 0, i = 0; i < nthreads; i++) {
			int s = atomic_load(&th[i].state);

			if (s == TS_DONE)
				continue;
			alive++;
			/* Only threads waiting for a request are interrupted. */
			if (s == TS_ACCEPTING)
				pthread_kill(th[i].tid, WAKE_SIGNAL);
		}
		if (alive == 0 || now_ms() > deadline)
			break;
		nanosleep(&tick, NULL);
	}
	if (alive > 0) {
		log_warn("shutdown_timeout", "exiting with %ld requests still running",
		    alive);
		_exit(1);
	}
	for (i = 0; i < nthreads; i++)
		pthread_join(th[i].tid, NULL);
	free(th);
	db_pool_destroy();
	token_cleanup();
	crypto_cleanup();
	log_info("worker_stopped", "pool %s worker %d stopped", pool, slot);
	return rc;
}

/* ---- the supervisor ---- */

struct child {
	pid_t	pid;
	int64_t	started_ms;
	int64_t	restart_at_ms;	/* 0 = running or not scheduled */
	int	fast_deaths;
};

static pid_t
spawn(const char *pool, int slot, const struct cfg_pool *pc)
{
	pid_t pid = fork();

	if (pid < 0) {
		log_error("fork", "fork failed: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		int rc = worker_main(pool, slot, pc);

		metrics_close();
		config_free(&cfg);
		exit(rc);
	}
	return pid;
}

static int
check_listen_socket(int fd)
{
	int		ok = 0;
	socklen_t	len = sizeof(ok);

	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &ok, &len) != 0 || !ok)
		return -1;
	return 0;
}

int
server_run(const char *pool, const char *socket_path)
{
	const struct cfg_pool	*pc = strcmp(pool, "llm") == 0 ? &cfg.pool_llm :
				    &cfg.pool_api;
	struct child		 kids[MAX_PROCS];
	struct timespec		 tmo = { 0, 200 * 1000 * 1000 };
	sigset_t		 set;
	siginfo_t		 si;
	int			 nproc = (int)pc->processes, i, sig, status;
	int64_t			 t;
	pid_t			 pid;
	bool			 quit = false;
	bool			 is_api = strcmp(pool, "api") == 0;

	if (nproc > MAX_PROCS)
		nproc = MAX_PROCS;
	if (socket_path != NULL) {
		listen_fd = FCGX_OpenSocket(socket_path, 1024);
		if (listen_fd < 0) {
			fprintf(stderr, "lexar: cannot listen on %s: %s\n",
			    socket_path, strerror(errno));
			return 1;
		}
	} else
		listen_fd = 0;
	if (check_listen_socket(listen_fd) != 0) {
		fprintf(stderr, "lexar: fd %d is not a listening socket; start me "
		    "with spawn-fcgi or give --socket PATH\n", listen_fd);
		return 1;
	}
	if (mkdir(cfg.run_dir, 0755) != 0 && errno != EEXIST)
		log_warn("run_dir", "cannot create %s: %s", cfg.run_dir, strerror(errno));
	if (metrics_open(cfg.run_dir, pool, routes, (int)nroutes) != 0)
		log_warn("metrics", "no shared metrics file in %s: %s", cfg.run_dir,
		    strerror(errno));

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, WAKE_SIGNAL);
	sigprocmask(SIG_BLOCK, &set, NULL);

	log_info("supervisor_started", "pool %s: %d processes x %ld threads, env %s",
	    pool, nproc, pc->threads, config_env_name(cfg.env));
	/* The admin from the environment, once per start (api pool only). */
	if (is_api) {
		password_init((unsigned)cfg.argon2_memory_kib,
		    (unsigned)cfg.argon2_iterations,
		    (unsigned)cfg.argon2_parallelism, 1);
		acct_bootstrap_admin();
		acct_sync_free_plan();
	}
	memset(kids, 0, sizeof(kids));
	for (i = 0; i < nproc; i++) {
		kids[i].pid = spawn(pool, i, pc);
		kids[i].started_ms = now_ms();
	}
	sigdelset(&set, WAKE_SIGNAL);

	while (!quit) {
		sig = sigtimedwait(&set, &si, &tmo);
		if (sig == SIGTERM || sig == SIGINT) {
			quit = true;
		} else if (sig == SIGHUP) {
			log_reopen();
			for (i = 0; i < nproc; i++)
				if (kids[i].pid > 0)
					kill(kids[i].pid, SIGHUP);
		}
		/* Reap; schedule replacements (backing off on crash loops). */
		while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
			for (i = 0; i < nproc && kids[i].pid != pid; i++)
				;
			if (i == nproc)
				continue;
			kids[i].pid = 0;
			metrics_clear_slot(i);
			if (quit)
				continue;
			t = now_ms();
			kids[i].fast_deaths = t - kids[i].started_ms < 2000 ?
			    kids[i].fast_deaths + 1 : 0;
			kids[i].restart_at_ms = t + (kids[i].fast_deaths > 0 ?
			    (kids[i].fast_deaths > 5 ? 5000 : 200 * kids[i].fast_deaths) : 0);
			if (WIFSIGNALED(status))
				log_error("worker_died", "pool %s worker %d (pid %d) killed "
				    "by signal %d; replacing it", pool, i, (int)pid,
				    WTERMSIG(status));
			else
				log_msg(WEXITSTATUS(status) == 0 ? LOG_WARN : LOG_ERROR,
				    "worker_exited", NULL, "pool %s worker %d (pid %d) "
				    "exited with status %d; replacing it", pool, i,
				    (int)pid, WEXITSTATUS(status));
		}
		if (is_api && !quit)
			admin_rollup_tick();
		t = now_ms();
		for (i = 0; !quit && i < nproc; i++) {
			if (kids[i].pid == 0 && kids[i].restart_at_ms <= t) {
				kids[i].pid = spawn(pool, i, pc);
				kids[i].started_ms = t;
				kids[i].restart_at_ms = 0;
				metrics_worker_restart();
			}
		}
	}

	log_info("supervisor_stopping", "pool %s: stopping workers", pool);
	for (i = 0; i < nproc; i++)
		if (kids[i].pid > 0)
			kill(kids[i].pid, SIGTERM);
	t = now_ms() + (cfg.shutdown_timeout_s + 5) * 1000;
	for (;;) {
		int left = 0;

		while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
			for (i = 0; i < nproc; i++)
				if (kids[i].pid == pid)
					kids[i].pid = 0;
		for (i = 0; i < nproc; i++)
			left += kids[i].pid > 0;
		if (left == 0)
			break;
		if (now_ms() > t) {
			for (i = 0; i < nproc; i++)
				if (kids[i].pid > 0)
					kill(kids[i].pid, SIGKILL);
		}
		sigtimedwait(&set, &si, &tmo);
	}
	for (i = 0; i < nproc; i++)
		metrics_clear_slot(i);
	metrics_close();
	log_info("supervisor_stopped", "pool %s stopped", pool);
	return 0;
}
