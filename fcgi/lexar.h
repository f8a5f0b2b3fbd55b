/*
 * lexar.h - the FastCGI program: route table, dispatcher, server, handlers.
 *
 * To find an endpoint: look it up in routes.c; its handler is named
 * h_<area>_<action> and lives in h_<area>.c.
 */
#ifndef LEXAR_FCGI_H
#define LEXAR_FCGI_H

#include <stdbool.h>
#include <stddef.h>

#include "http.h"
#include "llm.h"
#include "router.h"

extern const struct route	routes[];
extern const size_t		nroutes;

/* dispatch.c: run one request through the route table. */
void	dispatch(struct req *r);

/* server.c: supervise worker processes of one pool; returns exit code. */
int	server_run(const char *pool, const char *socket_path);

/* accounts.c: shared by the account handlers */
char		*acct_email_normalize(struct arena *a, const char *in);
void		 acct_password_check(struct req *r, const char *field,
		    const char *pw, const char *email);
int		 acct_access_token(struct req *r, const char *user_id,
		    const char *org_id, const char *role, const char *session_id,
		    json_object *out);
int		 acct_session_new(struct req *r, const char *user_id,
		    const char *org_id, const char *role, json_object *out);
json_object	*acct_user_json(PGresult *res, int row, int col);
int		 acct_mail_token(struct req *r, const char *user_id,
		    const char *email, const char *purpose);
int		 acct_bootstrap_admin(void);
int		 acct_sync_free_plan(void);

/* h_auth.c */
int	h_auth_register(struct req *r);
int	h_auth_login(struct req *r);
int	h_auth_refresh(struct req *r);
int	h_auth_logout(struct req *r);
int	h_auth_logout_all(struct req *r);
int	h_auth_verify(struct req *r);
int	h_auth_verify_resend(struct req *r);
int	h_auth_forgot(struct req *r);
int	h_auth_reset(struct req *r);
int	h_auth_switch_org(struct req *r);

/* h_google.c */
int	h_auth_google(struct req *r);
int	h_auth_google_callback(struct req *r);
int	h_auth_exchange(struct req *r);

/* h_me.c */
int	h_me_get(struct req *r);
int	h_me_update(struct req *r);
int	h_me_password(struct req *r);
int	h_me_sessions(struct req *r);
int	h_me_delete(struct req *r);

/* h_apikeys.c */
int	h_apikeys_create(struct req *r);
int	h_apikeys_list(struct req *r);
int	h_apikeys_revoke(struct req *r);

/* h_orgs.c */
int	h_orgs_create(struct req *r);
int	h_orgs_list(struct req *r);
int	h_orgs_get(struct req *r);
int	h_orgs_update(struct req *r);
int	h_orgs_members(struct req *r);
int	h_orgs_members_one(struct req *r, const char *org, const char *uid);
int	h_orgs_member_update(struct req *r);
int	h_orgs_member_remove(struct req *r);
int	h_orgs_invite(struct req *r);
int	h_orgs_invitations(struct req *r);
int	h_orgs_invitation_revoke(struct req *r);
int	h_orgs_accept(struct req *r);

/* gateway.c: one LLM call with limits, accounting and storage */
struct gw_call {
	/* In. */
	const char		*kind;		/* "chat" | "completions" */
	const char		*chat_id;	/* chat calls: store the turn */
	const char		*model;
	const char		*content;	/* chat calls: the user's message */
	const struct llm_msg	*msgs;		/* or the client's whole list */
	int			 nmsgs;
	int			 max_tokens;	/* 0: default */
	double			 temperature;
	bool			 has_temperature;
	bool			 stream;
	llm_delta_fn		 on_delta;
	void			*ctx;
	/* Out. */
	struct llm_result	 res;
	int			 daily_limit;
	int			 used_today;
	const char		*user_message_id;
	PGresult		*user_message_res;	/* llm_begin's row */
	PGresult		*assistant_res;		/* llm_finish's row */
	const char		*cost;			/* USD, as text */
};
/* 0 done; -1 error recorded on r; -2 failed after streaming began. */
int	gw_run(struct req *r, struct gw_call *c);

/* h_chat.c */
int	h_chat_create(struct req *r);
int	h_chat_list(struct req *r);
int	h_chat_get(struct req *r);
int	h_chat_update(struct req *r);
int	h_chat_delete(struct req *r);
int	h_chat_send(struct req *r);

/* h_openai.c: the OpenAI-compatible API */
int	h_openai_chat(struct req *r);
int	h_openai_models(struct req *r);

/* h_ai.c */
int	h_ai_models(struct req *r);
int	h_ai_test_connection(struct req *r);
int	h_ai_usage(struct req *r);
int	h_ai_key_put(struct req *r);
int	h_ai_key_list(struct req *r);
int	h_ai_key_delete(struct req *r);

/* admin.c, h_admin_users.c, h_admin.c: /admin (R_ADMIN) */
const char	*admin_actor(struct req *r);
void		 admin_rollup_tick(void);
int		 admin_audit(struct req *r, const char *action, const char *type,
		    const char *target, const char *before, const char *after);
int	h_admin_users_list(struct req *r);
int	h_admin_users_get(struct req *r);
int	h_admin_users_create(struct req *r);
int	h_admin_users_update(struct req *r);
int	h_admin_users_ban(struct req *r);
int	h_admin_users_unban(struct req *r);
int	h_admin_users_revoke(struct req *r);
int	h_admin_users_reset(struct req *r);
int	h_admin_users_delete(struct req *r);
int	h_admin_limits_put(struct req *r);
int	h_admin_limits_delete(struct req *r);
int	h_admin_plans_list(struct req *r);
int	h_admin_plans_get(struct req *r);
int	h_admin_plans_create(struct req *r);
int	h_admin_plans_update(struct req *r);
int	h_admin_plans_delete(struct req *r);
int	h_admin_usage(struct req *r);
int	h_admin_user_chats(struct req *r);
int	h_admin_chat_read(struct req *r);
int	h_admin_message_hide(struct req *r);
int	h_admin_flags(struct req *r);
int	h_admin_flag_review(struct req *r);
int	h_admin_providers(struct req *r);
int	h_admin_price_put(struct req *r);
int	h_admin_price_delete(struct req *r);
int	h_admin_models_refresh(struct req *r);
int	h_admin_audit(struct req *r);

/* h_system.c */
int	h_system_health(struct req *r);
int	h_system_ready(struct req *r);
int	h_system_metrics(struct req *r);

#endif
