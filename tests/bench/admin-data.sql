-- make bench: 100,000 users and 1,000,000 usage rows (last 90 days) for
-- the admin search and report timings.
INSERT INTO users (email, name, created_at)
SELECT 'bench-user-' || g || '@example.com', 'Bench User ' || g,
       now() - g * interval '37 seconds'
  FROM generate_series(1, 100000) g;
CREATE TEMP TABLE bench_ids AS
SELECT id, row_number() OVER (ORDER BY id) AS n FROM users WHERE email LIKE 'bench-user-%';
CREATE INDEX ON bench_ids (n);
INSERT INTO usage (created_at, user_id, provider, model, prompt_tokens,
    completion_tokens, cost_usd, latency_ms, status, kind, request_id)
SELECT now() - ((g::bigint * 7919) % 7776000) * interval '1 second', b.id,
       (ARRAY['openai', 'anthropic', 'gemini', 'openrouter'])[1 + g % 4],
       (ARRAY['gpt-4o', 'claude-sonnet-4-5', 'gemini-2.0-flash', 'openai/gpt-4o-mini'])[1 + g % 4],
       100 + g % 500, 50 + g % 300, 0.0012, 200 + g % 900,
       CASE WHEN g % 50 = 0 THEN 'upstream_error' ELSE 'ok' END, 'chat', 'bench'
  FROM generate_series(1, 1000000) g JOIN bench_ids b ON b.n = 1 + g % 100000;
-- Fold all of it now, as the background roll-up would over a few minutes.
SELECT usage_rollup(10000000);
ANALYZE;
