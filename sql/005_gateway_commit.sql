-- 005: the gateway's accounting without queues.
--
-- llm_finish commits asynchronously, as llm_begin already does: the answer
-- no longer waits for a WAL flush (~0.2 ms of every call). A crash of
-- PostgreSQL itself (not of lexar) can lose the last fraction of a second
-- of usage rows and assistant messages; the database stays consistent.
-- And the provider health row, written at most every 10 s per provider, is
-- no longer locked by every call (ON CONFLICT DO UPDATE locks the row even
-- when its WHERE is false), so concurrent calls do not queue on it.

CREATE OR REPLACE FUNCTION llm_finish(p_user uuid, p_org uuid, p_key uuid, p_chat uuid,
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
	SET LOCAL synchronous_commit = off;
	SELECT (p_prompt * mp.prompt_usd_per_mtok + p_completion *
	        mp.completion_usd_per_mtok) / 1000000
	  INTO p_cost FROM model_prices mp WHERE mp.model = p_model;
	p_cost := coalesce(p_cost, 0);
	IF p_provider IS NOT NULL THEN
		-- Looked at before the upsert: ON CONFLICT locks the row even when
		-- its WHERE is false, and every call would queue on it.
		IF NOT p_ok OR NOT EXISTS (SELECT 1 FROM provider_health h
		    WHERE h.provider = p_provider AND h.updated_at >= now() - interval '10 seconds') THEN
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
		END IF;
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
