-- make bench: 100,000 users and 1,000,000 usage rows (last 90 days) for
-- the admin search and report timings.
INSERT INTO users (email, name, created_at)
SELECT 'bench-user-' || g || '@example.com', 'Bench User ' || g,
       now() - g * interval '37 seconds'
  FROM generate_series(1, 100000) g;
CREATE TEMP TABLE bench_ids AS
SELECT id, row_number() OVER (ORDER BY id) AS n FROM users WHERE email LIKE 'bench-user-%';
CREATE INDEX ON bench_ids (n);
-- The roll-up is rebuilt once below rather than row by row.
ALTER TABLE usage DISABLE TRIGGER usage_rollup;
INSERT INTO usage (created_at, user_id, provider, model, prompt_tokens,
    completion_tokens, cost_usd, latency_ms, status, kind, request_id)
SELECT now() - (g % 7776000) * interval '1 second', b.id,
       (ARRAY['openai', 'anthropic', 'gemini', 'openrouter'])[1 + g % 4],
       (ARRAY['gpt-4o', 'claude-sonnet-4-5', 'gemini-2.0-flash', 'openai/gpt-4o-mini'])[1 + g % 4],
       100 + g % 500, 50 + g % 300, 0.0012, 200 + g % 900,
       CASE WHEN g % 50 = 0 THEN 'upstream_error' ELSE 'ok' END, 'chat', 'bench'
  FROM generate_series(1, 1000000) g JOIN bench_ids b ON b.n = 1 + g % 100000;
ALTER TABLE usage ENABLE TRIGGER usage_rollup;
INSERT INTO usage_daily AS d (day, user_id, org_id, provider, model, requests,
    failed, prompt_tokens, completion_tokens, cost_usd)
SELECT (created_at AT TIME ZONE 'UTC')::date, user_id, org_id, provider, model,
       count(*), count(*) FILTER (WHERE status <> 'ok'), sum(prompt_tokens),
       sum(completion_tokens), sum(cost_usd)
  FROM usage WHERE request_id = 'bench' GROUP BY 1, 2, 3, 4, 5
ON CONFLICT (day, user_id, coalesce(org_id, '00000000-0000-0000-0000-000000000000'),
    provider, model)
DO UPDATE SET requests = d.requests + EXCLUDED.requests;
INSERT INTO usage_totals AS t (day, provider, model, shard, requests, failed,
    prompt_tokens, completion_tokens, cost_usd)
SELECT (created_at AT TIME ZONE 'UTC')::date, provider, model,
       abs(hashtext(user_id::text)) % 16, count(*), count(*) FILTER (WHERE status <> 'ok'),
       sum(prompt_tokens), sum(completion_tokens), sum(cost_usd)
  FROM usage WHERE request_id = 'bench' GROUP BY 1, 2, 3, 4
ON CONFLICT (day, provider, model, shard) DO UPDATE SET requests = t.requests + EXCLUDED.requests;
ANALYZE;
