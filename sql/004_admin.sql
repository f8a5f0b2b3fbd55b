-- 004: admin API: audit trail, usage roll-ups for reports, moderation,
-- search indexes.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- Every change an admin makes, and every read of users' conversations.
CREATE TABLE admin_audit (
	id		bigserial PRIMARY KEY,
	created_at	timestamptz NOT NULL DEFAULT now(),
	actor		text NOT NULL,		-- admin user id, or 'admin-key'
	action		text NOT NULL,		-- user.ban, plan.update, chat.read ...
	target_type	text NOT NULL,
	target_id	text,
	before		jsonb,
	after		jsonb,
	request_id	text NOT NULL
);
CREATE INDEX admin_audit_time ON admin_audit (created_at DESC, id DESC);
CREATE INDEX admin_audit_action ON admin_audit (action, created_at DESC);
CREATE INDEX admin_audit_target ON admin_audit (target_id, created_at DESC);

-- Users: search by e-mail or name fragments, filters, sorts.
CREATE INDEX users_email_trgm ON users USING gin (lower(email) gin_trgm_ops);
CREATE INDEX users_name_trgm ON users USING gin (lower(name) gin_trgm_ops);
CREATE INDEX users_created ON users (created_at DESC, id DESC);
CREATE INDEX users_plan ON users (plan_id) WHERE plan_id IS NOT NULL;
CREATE INDEX users_banned ON users (banned_at) WHERE banned_at IS NOT NULL;

-- Roll-ups of usage for reports over millions of calls. They are filled
-- in the background (usage_rollup, called every few seconds by the api
-- pool's supervisor), not by the calls themselves: a program calling many
-- times a second must not queue on the lock of one summary row. Rows of
-- usage with an id above rollup_state.last_id are not in them yet;
-- reports add that small tail themselves, so they are exact and current.

-- Per UTC day, user, org, provider and model.
CREATE TABLE usage_daily (
	day			date NOT NULL,
	user_id			uuid NOT NULL,
	org_id			uuid,
	provider		text NOT NULL,
	model			text NOT NULL,
	requests		integer NOT NULL DEFAULT 0,
	failed			integer NOT NULL DEFAULT 0,
	prompt_tokens		bigint NOT NULL DEFAULT 0,
	completion_tokens	bigint NOT NULL DEFAULT 0,
	cost_usd		numeric(16, 8) NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX usage_daily_key ON usage_daily
	(day, user_id, coalesce(org_id, '00000000-0000-0000-0000-000000000000'), provider, model);
CREATE INDEX usage_daily_user ON usage_daily (user_id, day);

-- Per UTC day, provider and model: reports over everyone.
CREATE TABLE usage_totals (
	day			date NOT NULL,
	provider		text NOT NULL,
	model			text NOT NULL,
	requests		bigint NOT NULL DEFAULT 0,
	failed			bigint NOT NULL DEFAULT 0,
	prompt_tokens		bigint NOT NULL DEFAULT 0,
	completion_tokens	bigint NOT NULL DEFAULT 0,
	cost_usd		numeric(18, 8) NOT NULL DEFAULT 0,
	PRIMARY KEY (day, provider, model)
);

CREATE TABLE rollup_state (
	name		text PRIMARY KEY,
	last_id		bigint NOT NULL
);
INSERT INTO rollup_state VALUES ('usage', 0);

-- Add usage rows above the watermark to the roll-ups. Only rows older
-- than 10 seconds are taken, so that a row whose transaction committed
-- late (ids are handed out before commit) is never skipped. Concurrent
-- callers wait on the watermark's lock. At most p_batch ids are taken per
-- call; returns how many ids it moved the watermark (p_batch: call again).
CREATE FUNCTION usage_rollup(p_batch bigint DEFAULT 100000) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
	v_from bigint;
	v_to bigint;
BEGIN
	SELECT last_id INTO v_from FROM rollup_state WHERE name = 'usage' FOR UPDATE;
	SELECT max(id) INTO v_to FROM usage
	 WHERE id > v_from AND created_at < now() - interval '10 seconds';
	IF v_to IS NULL THEN
		RETURN 0;
	END IF;
	v_to := least(v_to, v_from + p_batch);
	INSERT INTO usage_daily AS d (day, user_id, org_id, provider, model,
	    requests, failed, prompt_tokens, completion_tokens, cost_usd)
	SELECT (created_at AT TIME ZONE 'UTC')::date, user_id, org_id, provider,
	       model, count(*), count(*) FILTER (WHERE status <> 'ok'),
	       sum(prompt_tokens), sum(completion_tokens), sum(cost_usd)
	  FROM usage WHERE id > v_from AND id <= v_to GROUP BY 1, 2, 3, 4, 5
	ON CONFLICT (day, user_id, coalesce(org_id, '00000000-0000-0000-0000-000000000000'),
	    provider, model)
	DO UPDATE SET requests = d.requests + EXCLUDED.requests,
	    failed = d.failed + EXCLUDED.failed,
	    prompt_tokens = d.prompt_tokens + EXCLUDED.prompt_tokens,
	    completion_tokens = d.completion_tokens + EXCLUDED.completion_tokens,
	    cost_usd = d.cost_usd + EXCLUDED.cost_usd;
	INSERT INTO usage_totals AS t (day, provider, model, requests, failed,
	    prompt_tokens, completion_tokens, cost_usd)
	SELECT (created_at AT TIME ZONE 'UTC')::date, provider, model, count(*),
	       count(*) FILTER (WHERE status <> 'ok'), sum(prompt_tokens),
	       sum(completion_tokens), sum(cost_usd)
	  FROM usage WHERE id > v_from AND id <= v_to GROUP BY 1, 2, 3
	ON CONFLICT (day, provider, model)
	DO UPDATE SET requests = t.requests + EXCLUDED.requests,
	    failed = t.failed + EXCLUDED.failed,
	    prompt_tokens = t.prompt_tokens + EXCLUDED.prompt_tokens,
	    completion_tokens = t.completion_tokens + EXCLUDED.completion_tokens,
	    cost_usd = t.cost_usd + EXCLUDED.cost_usd;
	UPDATE rollup_state SET last_id = v_to WHERE name = 'usage';
	RETURN v_to - v_from;
END;
$$;

-- Messages the moderation endpoint flagged (not sent to any model).
CREATE TABLE moderation_flags (
	id		uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	created_at	timestamptz NOT NULL DEFAULT now(),
	user_id		uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	org_id		uuid,
	api_key_id	uuid,
	chat_id		uuid REFERENCES chats(id) ON DELETE SET NULL,
	message_id	uuid REFERENCES messages(id) ON DELETE SET NULL,
	content		text NOT NULL,
	categories	text[] NOT NULL,
	request_id	text NOT NULL,
	reviewed_at	timestamptz,
	reviewed_by	text
);
CREATE INDEX moderation_flags_time ON moderation_flags (created_at DESC, id DESC);
