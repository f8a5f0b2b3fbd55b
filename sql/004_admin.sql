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

-- Usage per UTC day, user, org, provider and model, kept by llm_finish, so
-- that reports over millions of calls read thousands of rows.
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

-- Totals per UTC day, provider and model, for reports over everyone. Each
-- call adds to one of 16 rows of its (day, provider, model), chosen by
-- user, so concurrent calls do not queue on one row's lock.
CREATE TABLE usage_totals (
	day			date NOT NULL,
	provider		text NOT NULL,
	model			text NOT NULL,
	shard			smallint NOT NULL,
	requests		bigint NOT NULL DEFAULT 0,
	failed			bigint NOT NULL DEFAULT 0,
	prompt_tokens		bigint NOT NULL DEFAULT 0,
	completion_tokens	bigint NOT NULL DEFAULT 0,
	cost_usd		numeric(18, 8) NOT NULL DEFAULT 0,
	PRIMARY KEY (day, provider, model, shard)
);

-- Every usage row is added to both roll-ups.
CREATE FUNCTION usage_daily_add() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO usage_totals AS t (day, provider, model, shard, requests, failed,
	    prompt_tokens, completion_tokens, cost_usd)
	VALUES ((NEW.created_at AT TIME ZONE 'UTC')::date, NEW.provider, NEW.model,
	    abs(hashtext(NEW.user_id::text)) % 16, 1,
	    CASE WHEN NEW.status = 'ok' THEN 0 ELSE 1 END,
	    NEW.prompt_tokens, NEW.completion_tokens, NEW.cost_usd)
	ON CONFLICT (day, provider, model, shard)
	DO UPDATE SET requests = t.requests + 1, failed = t.failed + EXCLUDED.failed,
	    prompt_tokens = t.prompt_tokens + EXCLUDED.prompt_tokens,
	    completion_tokens = t.completion_tokens + EXCLUDED.completion_tokens,
	    cost_usd = t.cost_usd + EXCLUDED.cost_usd;
	INSERT INTO usage_daily AS d (day, user_id, org_id, provider, model,
	    requests, failed, prompt_tokens, completion_tokens, cost_usd)
	VALUES ((NEW.created_at AT TIME ZONE 'UTC')::date, NEW.user_id, NEW.org_id,
	    NEW.provider, NEW.model, 1, CASE WHEN NEW.status = 'ok' THEN 0 ELSE 1 END,
	    NEW.prompt_tokens, NEW.completion_tokens, NEW.cost_usd)
	ON CONFLICT (day, user_id, coalesce(org_id, '00000000-0000-0000-0000-000000000000'),
	    provider, model)
	DO UPDATE SET requests = d.requests + 1, failed = d.failed + EXCLUDED.failed,
	    prompt_tokens = d.prompt_tokens + EXCLUDED.prompt_tokens,
	    completion_tokens = d.completion_tokens + EXCLUDED.completion_tokens,
	    cost_usd = d.cost_usd + EXCLUDED.cost_usd;
	RETURN NULL;
END;
$$;
CREATE TRIGGER usage_rollup AFTER INSERT ON usage
	FOR EACH ROW EXECUTE FUNCTION usage_daily_add();

-- What is already there (from before this migration).
INSERT INTO usage_totals (day, provider, model, shard, requests, failed,
    prompt_tokens, completion_tokens, cost_usd)
SELECT (created_at AT TIME ZONE 'UTC')::date, provider, model,
       abs(hashtext(user_id::text)) % 16, count(*), count(*) FILTER (WHERE status <> 'ok'),
       sum(prompt_tokens), sum(completion_tokens), sum(cost_usd)
  FROM usage GROUP BY 1, 2, 3, 4;
INSERT INTO usage_daily (day, user_id, org_id, provider, model, requests,
    failed, prompt_tokens, completion_tokens, cost_usd)
SELECT (created_at AT TIME ZONE 'UTC')::date, user_id, org_id, provider, model,
       count(*), count(*) FILTER (WHERE status <> 'ok'), sum(prompt_tokens),
       sum(completion_tokens), sum(cost_usd)
  FROM usage GROUP BY 1, 2, 3, 4, 5;
