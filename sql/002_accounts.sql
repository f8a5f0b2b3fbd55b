-- 002: accounts, organisations, sessions, tokens, API keys.

CREATE TABLE users (
	id		uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	email		text NOT NULL,			-- trimmed, domain lower-cased
	name		text NOT NULL DEFAULT '',
	locale		text NOT NULL DEFAULT 'en',
	password_hash	text,				-- argon2id; NULL for Google-only
	role		text NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'admin')),
	email_verified	boolean NOT NULL DEFAULT false,
	google_sub	text UNIQUE,
	banned_at	timestamptz,
	ban_reason	text,
	deleted_at	timestamptz,
	created_at	timestamptz NOT NULL DEFAULT now(),
	updated_at	timestamptz NOT NULL DEFAULT now()
);
-- One account per address, whatever the case of its local part.
CREATE UNIQUE INDEX users_email_key ON users (lower(email));
CREATE TRIGGER users_updated BEFORE UPDATE ON users
	FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TABLE orgs (
	id		uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	name		text NOT NULL,
	personal	boolean NOT NULL DEFAULT false,
	created_by	uuid REFERENCES users(id) ON DELETE SET NULL,
	created_at	timestamptz NOT NULL DEFAULT now(),
	updated_at	timestamptz NOT NULL DEFAULT now()
);
CREATE TRIGGER orgs_updated BEFORE UPDATE ON orgs
	FOR EACH ROW EXECUTE FUNCTION set_updated_at();

CREATE TABLE org_members (
	org_id		uuid NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
	user_id		uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	role		text NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
	created_at	timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (org_id, user_id)
);
CREATE INDEX org_members_user ON org_members (user_id);

-- A session is one login (one refresh token family).
CREATE TABLE sessions (
	id		uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	user_id		uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	org_id		uuid NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
	created_at	timestamptz NOT NULL DEFAULT now(),
	last_used_at	timestamptz NOT NULL DEFAULT now(),
	expires_at	timestamptz NOT NULL,
	revoked_at	timestamptz,
	revoked_reason	text,
	user_agent	text NOT NULL DEFAULT '',
	ip		text NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user ON sessions (user_id) WHERE revoked_at IS NULL;

CREATE TABLE refresh_tokens (
	token_hash	text PRIMARY KEY,		-- sha256 hex of the token
	session_id	uuid NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
	created_at	timestamptz NOT NULL DEFAULT now(),
	expires_at	timestamptz NOT NULL,
	used_at		timestamptz
);
CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);

-- Single-use tokens sent by e-mail (verify, reset) or made for the
-- OAuth hand-off (exchange); stored hashed.
CREATE TABLE one_time_tokens (
	token_hash	text PRIMARY KEY,
	purpose		text NOT NULL CHECK (purpose IN ('verify', 'reset', 'exchange')),
	user_id		uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	created_at	timestamptz NOT NULL DEFAULT now(),
	expires_at	timestamptz NOT NULL,
	used_at		timestamptz
);
CREATE INDEX one_time_tokens_user ON one_time_tokens (user_id, purpose);

CREATE TABLE invitations (
	id		uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	org_id		uuid NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
	email		text NOT NULL,
	role		text NOT NULL CHECK (role IN ('admin', 'member')),
	token_hash	text NOT NULL UNIQUE,
	invited_by	uuid REFERENCES users(id) ON DELETE SET NULL,
	created_at	timestamptz NOT NULL DEFAULT now(),
	expires_at	timestamptz NOT NULL,
	accepted_at	timestamptz,
	accepted_by	uuid REFERENCES users(id) ON DELETE SET NULL,
	revoked_at	timestamptz
);
CREATE INDEX invitations_org ON invitations (org_id, created_at DESC);

CREATE TABLE api_keys (
	id		uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	user_id		uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	org_id		uuid NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,
	name		text NOT NULL,
	prefix		text NOT NULL,			-- "lx_AbCdEfGh", shown in lists
	key_hash	text NOT NULL UNIQUE,		-- sha256 hex of the whole key
	scopes		text[] NOT NULL,
	created_at	timestamptz NOT NULL DEFAULT now(),
	last_used_at	timestamptz,
	expires_at	timestamptz,
	revoked_at	timestamptz
);
CREATE INDEX api_keys_owner ON api_keys (user_id, org_id, created_at DESC);

-- Failed logins per e-mail address (existing or not, so that the answer
-- never tells which): exponential backoff after a few failures.
CREATE TABLE login_throttle (
	email		text PRIMARY KEY,		-- lower(normalised e-mail)
	failures	integer NOT NULL DEFAULT 0,
	locked_until	timestamptz,
	updated_at	timestamptz NOT NULL DEFAULT now()
);

-- PKCE/state of Google sign-ins in progress.
CREATE TABLE oauth_states (
	state_hash	text PRIMARY KEY,
	verifier	text NOT NULL,
	created_at	timestamptz NOT NULL DEFAULT now(),
	expires_at	timestamptz NOT NULL
);

-- The per-request check of an access token: raises (so that anything
-- pipelined after it is not executed) unless the session is live, the
-- user neither banned nor deleted, still holding the token's platform role
-- and still a member of the token's org.
-- LX401 -> 401 invalid_token, LX403 -> 403 account_banned (message: reason).
CREATE FUNCTION auth_session(p_session uuid, p_user uuid, p_org uuid,
    p_role text)
RETURNS void LANGUAGE plpgsql STABLE AS $$
DECLARE
	r record;
BEGIN
	SELECT s.revoked_at, s.expires_at, u.banned_at, u.ban_reason, u.deleted_at,
	       u.role, m.user_id IS NOT NULL AS member
	  INTO r
	  FROM sessions s JOIN users u ON u.id = s.user_id
	  LEFT JOIN org_members m ON m.org_id = p_org AND m.user_id = p_user
	 WHERE s.id = p_session AND s.user_id = p_user;
	-- A ban is told as such (with its reason) even though it revoked the
	-- sessions too.
	IF FOUND AND r.deleted_at IS NULL AND r.banned_at IS NOT NULL THEN
		RAISE EXCEPTION '%', coalesce(r.ban_reason, '') USING ERRCODE = 'LX403';
	END IF;
	IF NOT FOUND OR r.revoked_at IS NOT NULL OR r.expires_at <= now()
	    OR r.deleted_at IS NOT NULL OR r.role <> p_role THEN
		RAISE EXCEPTION 'session is not valid' USING ERRCODE = 'LX401';
	END IF;
	IF NOT r.member THEN
		RAISE EXCEPTION 'not a member of the organisation' USING ERRCODE = 'LX401';
	END IF;
END;
$$;

-- The check of an API key; returns its identity or raises like above.
-- last_used_at is written at most once a minute.
CREATE FUNCTION auth_api_key(p_hash text)
RETURNS TABLE (key_id uuid, user_id uuid, org_id uuid, role text, scopes text[])
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
	r record;
BEGIN
	SELECT k.id, k.user_id, k.org_id, k.scopes, k.expires_at, k.revoked_at,
	       k.last_used_at, u.role, u.banned_at, u.ban_reason, u.deleted_at
	  INTO r
	  FROM api_keys k JOIN users u ON u.id = k.user_id
	 WHERE k.key_hash = p_hash;
	IF NOT FOUND OR r.revoked_at IS NOT NULL OR r.deleted_at IS NOT NULL
	    OR (r.expires_at IS NOT NULL AND r.expires_at <= now()) THEN
		RAISE EXCEPTION 'API key is not valid' USING ERRCODE = 'LX401';
	END IF;
	IF r.banned_at IS NOT NULL THEN
		RAISE EXCEPTION '%', coalesce(r.ban_reason, '') USING ERRCODE = 'LX403';
	END IF;
	IF NOT EXISTS (SELECT 1 FROM org_members m
	    WHERE m.org_id = r.org_id AND m.user_id = r.user_id) THEN
		RAISE EXCEPTION 'not a member of the organisation' USING ERRCODE = 'LX401';
	END IF;
	IF r.last_used_at IS NULL OR r.last_used_at < now() - interval '1 minute' THEN
		UPDATE api_keys SET last_used_at = now() WHERE id = r.id;
	END IF;
	RETURN QUERY SELECT r.id, r.user_id, r.org_id, r.role, r.scopes;
END;
$$;

-- ISO 8601 UTC with milliseconds, the format of every timestamp in JSON.
CREATE FUNCTION iso(t timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
$$;

-- Rotate a refresh token: the presented one is used up and a new one
-- (p_new_hash) is issued in the same session. A token presented twice
-- revokes its whole session (the family). Status: ok | invalid | reused |
-- banned. When the user left the session's organisation, the session moves
-- to the personal one.
CREATE FUNCTION refresh_rotate(p_hash text, p_new_hash text, p_lifetime_s integer)
RETURNS TABLE (status text, session_id uuid, user_id uuid, org_id uuid,
    role text, ban_reason text)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
	t record;
	s record;
	u record;
	v_org uuid;
BEGIN
	SELECT * INTO t FROM refresh_tokens WHERE token_hash = p_hash FOR UPDATE;
	IF NOT FOUND THEN
		RETURN QUERY SELECT 'invalid', NULL::uuid, NULL::uuid, NULL::uuid,
		    NULL::text, NULL::text;
		RETURN;
	END IF;
	SELECT * INTO s FROM sessions WHERE id = t.session_id FOR UPDATE;
	IF t.used_at IS NOT NULL THEN
		UPDATE sessions SET revoked_at = coalesce(revoked_at, now()),
		    revoked_reason = coalesce(revoked_reason, 'refresh token reused')
		 WHERE id = t.session_id;
		RETURN QUERY SELECT 'reused', s.id, s.user_id, NULL::uuid,
		    NULL::text, NULL::text;
		RETURN;
	END IF;
	SELECT * INTO u FROM users WHERE id = s.user_id;
	IF t.expires_at <= now() OR s.revoked_at IS NOT NULL
	    OR s.expires_at <= now() OR u.deleted_at IS NOT NULL THEN
		RETURN QUERY SELECT 'invalid', s.id, s.user_id, NULL::uuid,
		    NULL::text, NULL::text;
		RETURN;
	END IF;
	IF u.banned_at IS NOT NULL THEN
		RETURN QUERY SELECT 'banned', s.id, s.user_id, NULL::uuid,
		    NULL::text, u.ban_reason;
		RETURN;
	END IF;
	v_org := s.org_id;
	IF NOT EXISTS (SELECT 1 FROM org_members m
	    WHERE m.org_id = v_org AND m.user_id = u.id) THEN
		SELECT m.org_id INTO v_org FROM org_members m JOIN orgs o ON o.id = m.org_id
		 WHERE m.user_id = u.id ORDER BY o.personal DESC, m.created_at LIMIT 1;
		IF v_org IS NULL THEN
			RETURN QUERY SELECT 'invalid', s.id, s.user_id, NULL::uuid,
			    NULL::text, NULL::text;
			RETURN;
		END IF;
	END IF;
	UPDATE refresh_tokens SET used_at = now() WHERE token_hash = p_hash;
	INSERT INTO refresh_tokens (token_hash, session_id, expires_at)
	VALUES (p_new_hash, s.id, s.expires_at);
	UPDATE sessions SET last_used_at = now(), org_id = v_org WHERE id = s.id;
	RETURN QUERY SELECT 'ok', s.id, u.id, v_org, u.role, NULL::text;
END;
$$;

-- A user with a personal organisation, in one statement's worth of work.
-- Returns the new user's columns as the API shows them (a query after this
-- call in the same statement would not see the new rows).
CREATE FUNCTION create_user(p_email text, p_name text, p_hash text,
    p_role text, p_verified boolean, p_google_sub text)
RETURNS TABLE (user_id uuid, org_id uuid, id uuid, email text, name text,
    locale text, role text, email_verified boolean, created_at text)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
	v_user uuid;
	v_org uuid;
BEGIN
	INSERT INTO users (email, name, password_hash, role, email_verified, google_sub)
	VALUES (p_email, p_name, p_hash, p_role, p_verified, p_google_sub)
	RETURNING id INTO v_user;
	INSERT INTO orgs (name, personal, created_by)
	VALUES (CASE WHEN p_name <> '' THEN p_name ELSE split_part(p_email, '@', 1) END
	        || '''s workspace', true, v_user)
	RETURNING id INTO v_org;
	INSERT INTO org_members (org_id, user_id, role) VALUES (v_org, v_user, 'owner');
	RETURN QUERY SELECT v_user, v_org, u.id, u.email, u.name, u.locale, u.role,
	    u.email_verified, iso(u.created_at) FROM users u WHERE u.id = v_user;
END;
$$;

-- Find, link or create the user of a Google identity whose e-mail Google
-- has verified. Status: ok | banned.
CREATE FUNCTION google_link(p_sub text, p_email text, p_name text)
RETURNS TABLE (status text, user_id uuid, ban_reason text)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
	u record;
BEGIN
	SELECT * INTO u FROM users WHERE google_sub = p_sub AND deleted_at IS NULL;
	IF NOT FOUND THEN
		SELECT * INTO u FROM users
		 WHERE lower(email) = lower(p_email) AND deleted_at IS NULL FOR UPDATE;
		IF FOUND THEN
			UPDATE users SET google_sub = p_sub, email_verified = true
			 WHERE id = u.id;
		ELSE
			SELECT c.user_id INTO u FROM create_user(p_email, p_name, NULL,
			    'user', true, p_sub) c;
			RETURN QUERY SELECT 'ok', u.user_id, NULL::text;
			RETURN;
		END IF;
	END IF;
	IF u.banned_at IS NOT NULL THEN
		RETURN QUERY SELECT 'banned', u.id, u.ban_reason;
		RETURN;
	END IF;
	RETURN QUERY SELECT 'ok', u.id, NULL::text;
END;
$$;

-- GET /api/v1/me in one statement: the session check of auth_session
-- (raising LX401 / LX403 alike) and the user, in one lookup. With a NULL
-- session (the caller was authenticated by an API key) only the user is read.
CREATE FUNCTION me_get(p_session uuid, p_user uuid, p_org uuid, p_role text)
RETURNS TABLE (id uuid, email text, name text, locale text, role text,
    email_verified boolean, created_at timestamptz, org_id uuid,
    org_name text, org_personal boolean, org_role text)
LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_column
DECLARE
	r record;
BEGIN
	SELECT u.id, u.email, u.name, u.locale, u.role, u.email_verified,
	       u.created_at, o.id AS o_id, o.name AS o_name, o.personal,
	       m.role AS m_role, s.revoked_at, s.expires_at, u.banned_at,
	       u.ban_reason, u.deleted_at, s.id AS s_id
	  INTO r
	  FROM users u
	  JOIN org_members m ON m.user_id = u.id AND m.org_id = p_org
	  JOIN orgs o ON o.id = m.org_id
	  LEFT JOIN sessions s ON s.id = p_session AND s.user_id = u.id
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
	-- Assign and RETURN NEXT: no second query to run.
	id := r.id; email := r.email; name := r.name; locale := r.locale;
	role := r.role; email_verified := r.email_verified;
	created_at := r.created_at; org_id := r.o_id; org_name := r.o_name;
	org_personal := r.personal; org_role := r.m_role;
	RETURN NEXT;
END;
$$;
