/*
 * routes.c - the map of the API. One row per endpoint:
 *   {method, pattern, handler, flags, max body (0 = server.max_body_bytes)}
 * Flags (router.h) are enforced by dispatch.c before the handler runs.
 * nginx/lexar-locations.conf decides which pool (api / llm) serves a prefix;
 * fcgi/openapi.yaml documents every row (a test keeps them in step).
 */
#include "lexar.h"

const struct route routes[] = {
	/* accounts: h_auth.c, h_google.c */
	{ M_POST,	"/api/v1/auth/register",	h_auth_register,	R_JSON, 0 },
	{ M_POST,	"/api/v1/auth/login",		h_auth_login,		R_JSON, 0 },
	{ M_POST,	"/api/v1/auth/refresh",		h_auth_refresh,		R_JSON, 0 },
	{ M_POST,	"/api/v1/auth/logout",		h_auth_logout,		R_USER, 0 },
	{ M_POST,	"/api/v1/auth/logout-all",	h_auth_logout_all,	R_USER, 0 },
	{ M_POST,	"/api/v1/auth/verify",		h_auth_verify,		R_JSON, 0 },
	{ M_POST,	"/api/v1/auth/verify/resend",	h_auth_verify_resend,	R_USER, 0 },
	{ M_POST,	"/api/v1/auth/forgot",		h_auth_forgot,		R_JSON, 0 },
	{ M_POST,	"/api/v1/auth/reset",		h_auth_reset,		R_JSON, 0 },
	{ M_POST,	"/api/v1/auth/switch-org",	h_auth_switch_org,	R_USER | R_JSON, 0 },
	{ M_GET,	"/api/v1/auth/google",		h_auth_google,		0, 0 },
	{ M_GET,	"/api/v1/auth/google/callback",	h_auth_google_callback,	0, 0 },
	{ M_POST,	"/api/v1/auth/exchange",	h_auth_exchange,	R_JSON, 0 },

	/* the signed-in user: h_me.c */
	{ M_GET,	"/api/v1/me",			h_me_get,		R_USER | R_APIKEY, 0 },
	{ M_PATCH,	"/api/v1/me",			h_me_update,		R_USER | R_JSON, 0 },
	{ M_DELETE,	"/api/v1/me",			h_me_delete,		R_USER | R_JSON, 0 },
	{ M_POST,	"/api/v1/me/password",		h_me_password,		R_USER | R_JSON, 0 },
	{ M_GET,	"/api/v1/me/sessions",		h_me_sessions,		R_USER, 0 },

	/* API keys: h_apikeys.c */
	{ M_POST,	"/api/v1/api-keys",		h_apikeys_create,	R_USER | R_JSON, 0 },
	{ M_GET,	"/api/v1/api-keys",		h_apikeys_list,		R_USER, 0 },
	{ M_DELETE,	"/api/v1/api-keys/:id",		h_apikeys_revoke,	R_USER, 0 },

	/* organisations: h_orgs.c */
	{ M_POST,	"/api/v1/orgs",			h_orgs_create,		R_USER | R_JSON, 0 },
	{ M_GET,	"/api/v1/orgs",			h_orgs_list,		R_USER, 0 },
	{ M_GET,	"/api/v1/orgs/:id",		h_orgs_get,		R_USER, 0 },
	{ M_PATCH,	"/api/v1/orgs/:id",		h_orgs_update,		R_USER | R_JSON, 0 },
	{ M_GET,	"/api/v1/orgs/:id/members",	h_orgs_members,		R_USER, 0 },
	{ M_PATCH,	"/api/v1/orgs/:id/members/:user_id", h_orgs_member_update, R_USER | R_JSON, 0 },
	{ M_DELETE,	"/api/v1/orgs/:id/members/:user_id", h_orgs_member_remove, R_USER, 0 },
	{ M_POST,	"/api/v1/orgs/:id/invitations",	h_orgs_invite,		R_USER | R_JSON, 0 },
	{ M_GET,	"/api/v1/orgs/:id/invitations",	h_orgs_invitations,	R_USER, 0 },
	{ M_DELETE,	"/api/v1/orgs/:id/invitations/:invitation_id", h_orgs_invitation_revoke, R_USER, 0 },
	{ M_POST,	"/api/v1/invitations/accept",	h_orgs_accept,		R_USER | R_JSON, 0 },

	/* chats: h_chat.c (sending waits on an LLM: llm pool) */
	{ M_POST,	"/api/v1/chats",		h_chat_create,		R_USER | R_JSON, 0 },
	{ M_GET,	"/api/v1/chats",		h_chat_list,		R_USER, 0 },
	{ M_GET,	"/api/v1/chats/:id",		h_chat_get,		R_USER, 0 },
	{ M_PATCH,	"/api/v1/chats/:id",		h_chat_update,		R_USER | R_JSON, 0 },
	{ M_DELETE,	"/api/v1/chats/:id",		h_chat_delete,		R_USER, 0 },
	{ M_POST,	"/api/v1/chats/:id/messages",	h_chat_send,		R_USER | R_JSON | R_STREAM, 0 },

	/* models, usage, own provider keys: h_ai.c */
	{ M_GET,	"/api/v1/ai/models",		h_ai_models,		R_USER | R_APIKEY, 0 },
	{ M_POST,	"/api/v1/ai/test-connection",	h_ai_test_connection,	R_USER | R_JSON, 0 },
	{ M_GET,	"/api/v1/usage",		h_ai_usage,		R_USER | R_APIKEY, 0 },
	{ M_GET,	"/api/v1/me/provider-keys",	h_ai_key_list,		R_USER, 0 },
	{ M_PUT,	"/api/v1/me/provider-keys/:provider", h_ai_key_put,	R_USER | R_JSON, 0 },
	{ M_DELETE,	"/api/v1/me/provider-keys/:provider", h_ai_key_delete,	R_USER, 0 },

	/* the OpenAI-compatible API: h_openai.c (llm pool) */
	{ M_POST,	"/v1/chat/completions",		h_openai_chat,		R_USER | R_APIKEY | R_JSON | R_STREAM | R_OPENAI, 0 },
	{ M_GET,	"/v1/models",			h_openai_models,	R_USER | R_APIKEY | R_OPENAI, 0 },

	/* admin: h_admin_users.c, h_admin.c (ADMIN_API_KEY or an admin user) */
	{ M_GET,	"/admin/users",			h_admin_users_list,	R_ADMIN, 0 },
	{ M_POST,	"/admin/users",			h_admin_users_create,	R_ADMIN | R_JSON, 0 },
	{ M_GET,	"/admin/users/:id",		h_admin_users_get,	R_ADMIN, 0 },
	{ M_PATCH,	"/admin/users/:id",		h_admin_users_update,	R_ADMIN | R_JSON, 0 },
	{ M_DELETE,	"/admin/users/:id",		h_admin_users_delete,	R_ADMIN, 0 },
	{ M_POST,	"/admin/users/:id/ban",		h_admin_users_ban,	R_ADMIN | R_JSON, 0 },
	{ M_POST,	"/admin/users/:id/unban",	h_admin_users_unban,	R_ADMIN, 0 },
	{ M_POST,	"/admin/users/:id/revoke-sessions", h_admin_users_revoke, R_ADMIN, 0 },
	{ M_POST,	"/admin/users/:id/password-reset", h_admin_users_reset,	R_ADMIN, 0 },
	{ M_PUT,	"/admin/users/:id/limits",	h_admin_limits_put,	R_ADMIN | R_JSON, 0 },
	{ M_DELETE,	"/admin/users/:id/limits",	h_admin_limits_delete,	R_ADMIN, 0 },
	{ M_GET,	"/admin/users/:id/chats",	h_admin_user_chats,	R_ADMIN, 0 },
	{ M_GET,	"/admin/chats/:id",		h_admin_chat_read,	R_ADMIN, 0 },
	{ M_POST,	"/admin/messages/:id/hide",	h_admin_message_hide,	R_ADMIN, 0 },
	{ M_GET,	"/admin/moderation/flags",	h_admin_flags,		R_ADMIN, 0 },
	{ M_POST,	"/admin/moderation/flags/:id/review", h_admin_flag_review, R_ADMIN, 0 },
	{ M_GET,	"/admin/plans",			h_admin_plans_list,	R_ADMIN, 0 },
	{ M_POST,	"/admin/plans",			h_admin_plans_create,	R_ADMIN | R_JSON, 0 },
	{ M_GET,	"/admin/plans/:id",		h_admin_plans_get,	R_ADMIN, 0 },
	{ M_PATCH,	"/admin/plans/:id",		h_admin_plans_update,	R_ADMIN | R_JSON, 0 },
	{ M_DELETE,	"/admin/plans/:id",		h_admin_plans_delete,	R_ADMIN, 0 },
	{ M_GET,	"/admin/usage",			h_admin_usage,		R_ADMIN, 0 },
	{ M_GET,	"/admin/providers",		h_admin_providers,	R_ADMIN, 0 },
	{ M_PUT,	"/admin/model-prices",		h_admin_price_put,	R_ADMIN | R_JSON, 0 },
	{ M_DELETE,	"/admin/model-prices",		h_admin_price_delete,	R_ADMIN, 0 },
	{ M_POST,	"/admin/models/refresh",	h_admin_models_refresh,	R_ADMIN, 0 },
	{ M_GET,	"/admin/audit",			h_admin_audit,		R_ADMIN, 0 },

	/* system: h_system.c */
	{ M_GET,	"/api/v1/health",	h_system_health,	0, 0 },
	{ M_GET,	"/api/v1/ready",	h_system_ready,		0, 0 },
	{ M_GET,	"/metrics",		h_system_metrics,	R_LOCAL, 0 },
};

const size_t nroutes = sizeof(routes) / sizeof(routes[0]);
