-- 003: LLM gateway: plans and limits, usage, chats, prices, provider keys.

CREATE TABLE plans (
	id			uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	name			text NOT NULL UNIQUE,
	daily_message_limit	integer NOT NULL CHECK (daily_message_limit >= 0),
	monthly_token_limit	bigint CHECK (monthly_token_limit >= 0),	-- NULL: none
	allowed_models		text[],			-- NULL: every configured model
	max_tokens_per_request	integer CHECK (max_tokens_per_request > 0),	-- NULL: none
	created_at		timestamptz NOT NULL DEFAULT now(),
	updated_at		timestamptz NOT NULL DEFAULT now()
);
CREATE TRIGGER plans_updated BEFORE UPDATE ON plans
	FOR EACH ROW EXECUTE FUNCTION set_updated_at();
-- DAILY_MESSAGE_LIMIT sets this plan's daily limit at each start.
INSERT INTO plans (name, daily_message_limit) VALUES ('free', 50);

ALTER TABLE users ADD COLUMN plan_id uuid REFERENCES plans(id);	-- NULL: free

-- Per-user overrides set by admins; each NULL field falls back to the plan.
CREATE TABLE user_limits (
	user_id			uuid PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
	daily_message_limit	integer CHECK (daily_message_limit >= 0),
	monthly_token_limit	bigint CHECK (monthly_token_limit >= 0),
	allowed_models		text[],
	max_tokens_per_request	integer CHECK (max_tokens_per_request > 0),
	expires_at		timestamptz,		-- NULL: until removed
	updated_at		timestamptz NOT NULL DEFAULT now()
);

-- What applies to a user now: override (unexpired) over plan over free.
CREATE FUNCTION effective_limits(p_user uuid)
RETURNS TABLE (plan text, daily_message_limit integer, monthly_token_limit bigint,
    allowed_models text[], max_tokens_per_request integer)
LANGUAGE sql STABLE AS $$
	SELECT p.name,
	       coalesce(o.daily_message_limit, p.daily_message_limit),
	       coalesce(o.monthly_token_limit, p.monthly_token_limit),
	       coalesce(o.allowed_models, p.allowed_models),
	       coalesce(o.max_tokens_per_request, p.max_tokens_per_request)
	  FROM users u
	  JOIN plans p ON p.id = coalesce(u.plan_id, (SELECT id FROM plans WHERE name = 'free'))
	  LEFT JOIN user_limits o ON o.user_id = u.id
	       AND (o.expires_at IS NULL OR o.expires_at > now())
	 WHERE u.id = p_user
$$;

-- Messages reserved per user and UTC day: the atomic counter of the limit.
CREATE TABLE usage_counters (
	user_id		uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	day		date NOT NULL,
	messages	integer NOT NULL DEFAULT 0,
	PRIMARY KEY (user_id, day)
);

-- Tokens per user and UTC month, for the monthly token limit.
CREATE TABLE usage_monthly (
	user_id		uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	month		date NOT NULL,
	tokens		bigint NOT NULL DEFAULT 0,
	PRIMARY KEY (user_id, month)
);

-- One row per upstream call.
CREATE TABLE usage (
	id			bigserial PRIMARY KEY,
	created_at		timestamptz NOT NULL DEFAULT now(),
	user_id			uuid NOT NULL REFERENCES users(id),
	org_id			uuid,
	api_key_id		uuid,
	provider		text NOT NULL,
	model			text NOT NULL,
	prompt_tokens		integer NOT NULL DEFAULT 0,
	completion_tokens	integer NOT NULL DEFAULT 0,
	cost_usd		numeric(14, 8) NOT NULL DEFAULT 0,
	latency_ms		integer NOT NULL DEFAULT 0,
	status			text NOT NULL,			-- ok | error code
	own_key			boolean NOT NULL DEFAULT false,
	kind			text NOT NULL,			-- chat | completions | test
	request_id		text NOT NULL
);
CREATE INDEX usage_user_time ON usage (user_id, created_at);
CREATE INDEX usage_time ON usage (created_at);
CREATE INDEX usage_org_time ON usage (org_id, created_at);

CREATE TABLE model_prices (
	model			text PRIMARY KEY,
	prompt_usd_per_mtok	numeric(12, 6) NOT NULL DEFAULT 0,
	completion_usd_per_mtok	numeric(12, 6) NOT NULL DEFAULT 0,
	context_tokens		integer NOT NULL DEFAULT 16000 CHECK (context_tokens > 0),
	updated_at		timestamptz NOT NULL DEFAULT now()
);
INSERT INTO model_prices (model, prompt_usd_per_mtok, completion_usd_per_mtok, context_tokens) VALUES
	('openai/gpt-4o',		2.50, 10.00, 128000),
	('openai/gpt-4o-mini',		0.15,  0.60, 128000),
	('gpt-4o',			2.50, 10.00, 128000),
	('gpt-4o-mini',			0.15,  0.60, 128000),
	('gpt-5',			1.25, 10.00, 400000),
	('gpt-5-mini',			0.25,  2.00, 400000),
	('claude-sonnet-4-5',		3.00, 15.00, 200000),
	('claude-3-5-haiku-latest',	0.80,  4.00, 200000),
	('gemini-2.0-flash',		0.10,  0.40, 1000000),
	('gemini-2.5-pro',		1.25, 10.00, 1000000),
	('grok-2',			2.00, 10.00, 131072),
	('grok-3-mini',			0.30,  0.50, 131072);

-- Provider model lists, fetched at most once an hour.
CREATE TABLE model_cache (
	provider	text PRIMARY KEY,
	models		jsonb NOT NULL,
	fetched_at	timestamptz NOT NULL
);

CREATE TABLE chats (
	id		uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	user_id		uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	org_id		uuid NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
	title		text NOT NULL DEFAULT '',
	model		text,				-- NULL: the default model
	system_prompt	text NOT NULL DEFAULT '',
	created_at	timestamptz NOT NULL DEFAULT now(),
	updated_at	timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX chats_owner ON chats (user_id, org_id, updated_at DESC, id DESC);
CREATE TRIGGER chats_updated BEFORE UPDATE ON chats
	FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TABLE messages (
	id			uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	chat_id			uuid NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
	role			text NOT NULL CHECK (role IN ('user', 'assistant')),
	content			text NOT NULL,
	status			text NOT NULL DEFAULT 'ok',	-- ok | failed | incomplete | flagged
	error_code		text,
	model			text,
	provider		text,
	prompt_tokens		integer,
	completion_tokens	integer,
	cost_usd		numeric(14, 8),
	latency_ms		integer,
	created_at		timestamptz NOT NULL DEFAULT now(),
	hidden_at		timestamptz,			-- hidden by an admin
	hidden_by		text
);
CREATE INDEX messages_chat ON messages (chat_id, created_at, id);

-- Users' own provider keys, AES-256-GCM; key_id names the master key.
CREATE TABLE provider_keys (
	user_id		uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	provider	text NOT NULL,
	key_id		text NOT NULL,
	nonce		bytea NOT NULL,
	ciphertext	bytea NOT NULL,		-- with the 16-byte tag
	last4		text NOT NULL,
	created_at	timestamptz NOT NULL DEFAULT now(),
	updated_at	timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (user_id, provider)
);

-- Last outcome per provider, for the admin view (written at most every 10 s).
CREATE TABLE provider_health (
	provider	text PRIMARY KEY,
	last_ok_at	timestamptz,
	last_error_at	timestamptz,
	last_error	text,
	last_latency_ms	integer,
	updated_at	timestamptz NOT NULL DEFAULT now()
);

-- Before an upstream call, in one round trip: limits, the model allowed,
-- one message of today's allowance reserved (atomically: of N+k
-- concurrent calls against N remaining, exactly N get a row here), the
-- user's message stored (chat calls), the history returned (newest first).
-- The model is p_model, else the chat's, else p_default.
-- Its commit does not wait for the WAL flush: llm_finish's synchronous
-- commit later flushes these writes too (WAL is sequential), and a crash in
-- between loses only a request that failed anyway.
-- status: ok | quota_exceeded | tokens_exceeded | model_not_allowed |
--         max_tokens | no_chat
CREATE FUNCTION llm_begin(p_user uuid, p_org uuid, p_chat uuid, p_model text,
    p_content text, p_max_tokens integer, p_history integer, p_default text)
RETURNS TABLE (status text, model text, daily_limit integer, used_today integer,
    max_tokens integer, user_message_id uuid, user_message_at timestamptz,
    context_tokens integer, system_prompt text, history jsonb, day date,
    own_keys jsonb)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
	l record;
	v_system text;
	v_day date := (now() AT TIME ZONE 'UTC')::date;
	v_used integer;
	v_msg uuid;
	v_at timestamptz;
	v_tokens bigint;
	v_ctx integer;
	v_chat_model text;
BEGIN
	SET LOCAL synchronous_commit = off;
	SELECT * INTO l FROM effective_limits(p_user);
	IF p_chat IS NOT NULL THEN
		SELECT c.system_prompt, c.model INTO v_system, v_chat_model FROM chats c
		 WHERE c.id = p_chat AND c.user_id = p_user AND c.org_id = p_org;
		IF NOT FOUND THEN
			RETURN QUERY SELECT 'no_chat', NULL::text, 0, 0, 0, NULL::uuid, NULL::timestamptz,
			    0, NULL::text, NULL::jsonb, NULL::date, NULL::jsonb;
			RETURN;
		END IF;
	END IF;
	p_model := coalesce(p_model, v_chat_model, p_default);
	SELECT mp.context_tokens INTO v_ctx FROM model_prices mp WHERE mp.model = p_model;
	IF l.allowed_models IS NOT NULL AND NOT (p_model = ANY (l.allowed_models)) THEN
		RETURN QUERY SELECT 'model_not_allowed', p_model, l.daily_message_limit, 0, 0,
		    NULL::uuid, NULL::timestamptz, 0, NULL::text, NULL::jsonb, NULL::date, NULL::jsonb;
		RETURN;
	END IF;
	IF l.max_tokens_per_request IS NOT NULL AND p_max_tokens > l.max_tokens_per_request THEN
		RETURN QUERY SELECT 'max_tokens', p_model, l.daily_message_limit, 0,
		    l.max_tokens_per_request, NULL::uuid, NULL::timestamptz, 0,
		    NULL::text, NULL::jsonb, NULL::date, NULL::jsonb;
		RETURN;
	END IF;
	IF l.monthly_token_limit IS NOT NULL THEN
		SELECT tokens INTO v_tokens FROM usage_monthly
		 WHERE user_id = p_user AND month = date_trunc('month', v_day)::date;
		IF coalesce(v_tokens, 0) >= l.monthly_token_limit THEN
			RETURN QUERY SELECT 'tokens_exceeded', p_model, l.daily_message_limit, 0, 0,
			    NULL::uuid, NULL::timestamptz, 0,
			    NULL::text, NULL::jsonb, NULL::date, NULL::jsonb;
			RETURN;
		END IF;
	END IF;
	INSERT INTO usage_counters AS u (user_id, day, messages)
	SELECT p_user, v_day, 1 WHERE l.daily_message_limit > 0
	ON CONFLICT (user_id, day) DO UPDATE SET messages = u.messages + 1
	 WHERE u.messages < l.daily_message_limit
	RETURNING u.messages INTO v_used;
	IF v_used IS NULL THEN
		RETURN QUERY SELECT 'quota_exceeded', p_model, l.daily_message_limit,
		    l.daily_message_limit, 0, NULL::uuid, NULL::timestamptz, 0,
		    NULL::text, NULL::jsonb, NULL::date, NULL::jsonb;
		RETURN;
	END IF;
	IF p_chat IS NOT NULL THEN
		INSERT INTO messages (chat_id, role, content) VALUES (p_chat, 'user', p_content)
		RETURNING id, created_at INTO v_msg, v_at;
		UPDATE chats SET updated_at = now() WHERE id = p_chat;
	END IF;
	RETURN QUERY SELECT 'ok', p_model, l.daily_message_limit, v_used,
	    coalesce(l.max_tokens_per_request, 0), v_msg, v_at,
	    coalesce(v_ctx, 16000), v_system,
	    (SELECT coalesce(jsonb_agg(jsonb_build_object('role', h.role,
	        'content', h.content) ORDER BY h.created_at DESC, h.id DESC), '[]')
	       FROM (SELECT role, content, created_at, id FROM messages
	              WHERE chat_id = p_chat AND status = 'ok' AND hidden_at IS NULL
	                AND id <> v_msg
	              ORDER BY created_at DESC, id DESC LIMIT p_history) h),
	    v_day,
	    (SELECT jsonb_object_agg(k.provider, jsonb_build_array(k.key_id,
	        encode(k.nonce, 'base64'), encode(k.ciphertext, 'base64')))
	       FROM provider_keys k WHERE k.user_id = p_user);
END;
$$;

-- After the upstream call, in one round trip: the usage row, tokens of the
-- month, the assistant message (chat calls), and the reserved message
-- given back when the call failed (p_ok false).
CREATE FUNCTION llm_finish(p_user uuid, p_org uuid, p_key uuid, p_chat uuid,
    p_provider text, p_model text, p_prompt integer, p_completion integer,
    p_latency integer, p_status text, p_own_key boolean,
    p_kind text, p_request_id text, p_content text, p_ok boolean,
    p_msg_status text, p_day date)
RETURNS TABLE (message_id uuid, message_at timestamptz, cost numeric)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
	v_day date := (now() AT TIME ZONE 'UTC')::date;	-- tokens: month of now
	v_id uuid;
	v_at timestamptz;
	p_cost numeric := 0;
BEGIN
	SELECT (p_prompt * mp.prompt_usd_per_mtok + p_completion *
	        mp.completion_usd_per_mtok) / 1000000
	  INTO p_cost FROM model_prices mp WHERE mp.model = p_model;
	p_cost := coalesce(p_cost, 0);
	IF p_provider IS NOT NULL THEN
		INSERT INTO provider_health AS h (provider, last_ok_at, last_error_at,
		    last_error, last_latency_ms)
		VALUES (p_provider, CASE WHEN p_ok THEN now() END,
		    CASE WHEN NOT p_ok THEN now() END,
		    CASE WHEN NOT p_ok THEN p_status END, p_latency)
		ON CONFLICT (provider) DO UPDATE SET
		    last_ok_at = coalesce(EXCLUDED.last_ok_at, h.last_ok_at),
		    last_error_at = coalesce(EXCLUDED.last_error_at, h.last_error_at),
		    last_error = coalesce(EXCLUDED.last_error, h.last_error),
		    last_latency_ms = EXCLUDED.last_latency_ms, updated_at = now()
		 WHERE h.updated_at < now() - interval '10 seconds' OR NOT p_ok;
		INSERT INTO usage (user_id, org_id, api_key_id, provider, model,
		    prompt_tokens, completion_tokens, cost_usd, latency_ms, status,
		    own_key, kind, request_id)
		VALUES (p_user, p_org, p_key, p_provider, p_model, p_prompt,
		    p_completion, p_cost, p_latency, p_status, p_own_key, p_kind,
		    p_request_id);
	END IF;
	IF p_prompt + p_completion > 0 THEN
		INSERT INTO usage_monthly AS m (user_id, month, tokens)
		VALUES (p_user, date_trunc('month', v_day)::date, p_prompt + p_completion)
		ON CONFLICT (user_id, month) DO UPDATE SET tokens = m.tokens + EXCLUDED.tokens;
	END IF;
	IF NOT p_ok THEN
		-- The day the message was reserved on, even after midnight.
		UPDATE usage_counters SET messages = greatest(messages - 1, 0)
		 WHERE user_id = p_user AND day = p_day;
	END IF;
	IF p_chat IS NOT NULL THEN
		INSERT INTO messages (chat_id, role, content, status, error_code, model,
		    provider, prompt_tokens, completion_tokens, cost_usd, latency_ms)
		VALUES (p_chat, 'assistant', coalesce(p_content, ''), p_msg_status,
		    CASE WHEN p_ok THEN NULL ELSE p_status END, p_model, p_provider,
		    p_prompt, p_completion, p_cost, p_latency)
		RETURNING id, created_at INTO v_id, v_at;
	END IF;
	RETURN QUERY SELECT v_id, v_at, p_cost;
END;
$$;

-- /api/v1/me now also shows today's allowance: still one lookup (the plan
-- and an unexpired override are joined in, as effective_limits does).
DROP FUNCTION me_get(uuid, uuid, uuid, text);
CREATE FUNCTION me_get(p_session uuid, p_user uuid, p_org uuid, p_role text)
RETURNS TABLE (id uuid, email text, name text, locale text, role text,
    email_verified boolean, created_at timestamptz, org_id uuid,
    org_name text, org_personal boolean, org_role text, plan text,
    daily_limit integer, used_today integer)
LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_column
DECLARE
	r record;
BEGIN
	SELECT u.id, u.email, u.name, u.locale, u.role, u.email_verified,
	       u.created_at, o.id AS o_id, o.name AS o_name, o.personal,
	       m.role AS m_role, s.revoked_at, s.expires_at, u.banned_at,
	       u.ban_reason, u.deleted_at, s.id AS s_id, uc.messages,
	       pl.name AS plan,
	       coalesce(ov.daily_message_limit, pl.daily_message_limit) AS daily
	  INTO r
	  FROM users u
	  JOIN org_members m ON m.user_id = u.id AND m.org_id = p_org
	  JOIN orgs o ON o.id = m.org_id
	  JOIN plans pl ON pl.id = coalesce(u.plan_id,
	       (SELECT fp.id FROM plans fp WHERE fp.name = 'free'))
	  LEFT JOIN user_limits ov ON ov.user_id = u.id
	       AND (ov.expires_at IS NULL OR ov.expires_at > now())
	  LEFT JOIN sessions s ON s.id = p_session AND s.user_id = u.id
	  LEFT JOIN usage_counters uc ON uc.user_id = u.id
	       AND uc.day = (now() AT TIME ZONE 'UTC')::date
	 WHERE u.id = p_user;
	IF FOUND AND r.deleted_at IS NULL AND r.banned_at IS NOT NULL
	    AND (p_session IS NULL OR r.s_id IS NOT NULL) THEN
		RAISE EXCEPTION '%', coalesce(r.ban_reason, '') USING ERRCODE = 'LX403';
	END IF;
	IF p_session IS NOT NULL AND (NOT FOUND OR r.s_id IS NULL
	    OR r.revoked_at IS NOT NULL OR r.expires_at <= now()
	    OR r.deleted_at IS NOT NULL OR r.role <> p_role) THEN
		RAISE EXCEPTION 'session is not valid' USING ERRCODE = 'LX401';
	END IF;
	IF NOT FOUND THEN
		RETURN;
	END IF;
	id := r.id; email := r.email; name := r.name; locale := r.locale;
	role := r.role; email_verified := r.email_verified;
	created_at := r.created_at; org_id := r.o_id; org_name := r.o_name;
	org_personal := r.personal; org_role := r.m_role; plan := r.plan;
	daily_limit := r.daily; used_today := coalesce(r.messages, 0);
	RETURN NEXT;
END;
$$;
