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

	/* system: h_system.c */
	{ M_GET,	"/api/v1/health",	h_system_health,	0, 0 },
	{ M_GET,	"/api/v1/ready",	h_system_ready,		0, 0 },
	{ M_GET,	"/metrics",		h_system_metrics,	R_LOCAL, 0 },
};

const size_t nroutes = sizeof(routes) / sizeof(routes[0]);
