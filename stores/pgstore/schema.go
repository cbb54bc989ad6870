package pgstore

// SchemaSQL is the DDL that New runs (idempotently, under an advisory lock)
// with the default prefix "axes_" and no schema; Schema gives it for other
// Options. Times are unix microseconds (bigint); text columns compare
// bytewise (COLLATE "C"), as core does.
//
//   - axes_counters: one lockout counter per key (core.Key.ID); params is
//     the core.Combination bit set, ip/username/user_agent the key's values
//     (for resets); last is the last counted failure; hit_locked tells
//     whether the last one-key Hit found the key locked (how that
//     one-statement upsert reports it).
//   - axes_hit: a Hit on several keys, in one call of two statements: an
//     upsert that inserts the missing keys and locks every key's row (in ID
//     order), then one statement that judges the rows and counts them.
//   - axes_attempts: django-axes' AccessAttempt, one row per (username, ip,
//     user_agent).
//   - axes_access_logs: AccessLog; logout_time is NULL while logged in.
//   - axes_failure_logs: AccessFailureLog.
const SchemaSQL = `CREATE TABLE IF NOT EXISTS axes_counters (
	id text COLLATE "C" PRIMARY KEY,
	params integer NOT NULL,
	ip text COLLATE "C" NOT NULL DEFAULT '',
	username text COLLATE "C" NOT NULL DEFAULT '',
	user_agent text COLLATE "C" NOT NULL DEFAULT '',
	failures integer NOT NULL,
	last bigint NOT NULL,
	hit_locked boolean NOT NULL DEFAULT false
);
CREATE INDEX IF NOT EXISTS axes_counters_ip ON axes_counters (ip);
CREATE INDEX IF NOT EXISTS axes_counters_username ON axes_counters (username);

CREATE TABLE IF NOT EXISTS axes_attempts (
	username text COLLATE "C" NOT NULL,
	ip text COLLATE "C" NOT NULL,
	user_agent text COLLATE "C" NOT NULL,
	accept text NOT NULL DEFAULT '',
	path text COLLATE "C" NOT NULL DEFAULT '',
	get_data text NOT NULL DEFAULT '',
	post_data text NOT NULL DEFAULT '',
	failures integer NOT NULL,
	first_attempt bigint NOT NULL,
	last_attempt bigint NOT NULL,
	PRIMARY KEY (username, ip, user_agent)
);
CREATE INDEX IF NOT EXISTS axes_attempts_ip ON axes_attempts (ip);
CREATE INDEX IF NOT EXISTS axes_attempts_last_attempt ON axes_attempts (last_attempt);

CREATE TABLE IF NOT EXISTS axes_access_logs (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	username text COLLATE "C" NOT NULL,
	ip text COLLATE "C" NOT NULL,
	user_agent text COLLATE "C" NOT NULL DEFAULT '',
	path text COLLATE "C" NOT NULL DEFAULT '',
	login_time bigint NOT NULL,
	logout_time bigint
);
CREATE INDEX IF NOT EXISTS axes_access_logs_username ON axes_access_logs (username, id);
CREATE INDEX IF NOT EXISTS axes_access_logs_login_time ON axes_access_logs (login_time);

CREATE TABLE IF NOT EXISTS axes_failure_logs (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	username text COLLATE "C" NOT NULL,
	ip text COLLATE "C" NOT NULL,
	user_agent text COLLATE "C" NOT NULL DEFAULT '',
	path text COLLATE "C" NOT NULL DEFAULT '',
	time bigint NOT NULL,
	locked_out boolean NOT NULL DEFAULT false
);
CREATE INDEX IF NOT EXISTS axes_failure_logs_username ON axes_failure_logs (username, id);
CREATE INDEX IF NOT EXISTS axes_failure_logs_username_time ON axes_failure_logs (username, time);
CREATE INDEX IF NOT EXISTS axes_failure_logs_time ON axes_failure_logs (time);

CREATE OR REPLACE FUNCTION axes_hit(
	p_ids text[], p_params integer[], p_ips text[], p_users text[], p_uas text[],
	p_now bigint, p_limit integer, p_base bigint, p_tier_f integer[], p_tier_c bigint[], p_extend boolean)
RETURNS TABLE (o_id text, o_failures integer, o_last bigint, o_locked boolean)
LANGUAGE plpgsql AS $fn$
BEGIN
	-- Insert the missing keys and lock every key's row, in ID order, so
	-- that Hits never deadlock: DO UPDATE … WHERE false locks a row and
	-- leaves it alone. p_ids holds no repeats.
	INSERT INTO axes_counters AS c (id, params, ip, username, user_agent, failures, last)
	SELECT k.id, k.params, k.ip, k.username, k.ua, 0, 0
	FROM unnest(p_ids, p_params, p_ips, p_users, p_uas) AS k(id, params, ip, username, ua)
	ORDER BY k.id
	ON CONFLICT (id) DO UPDATE SET failures = c.failures WHERE false;
	-- The rows are ours until commit: judge them all, then count them all
	-- unless one is locked (and attempts during a lockout do not count).
	RETURN QUERY
	WITH r AS (
		SELECT c.id, c.failures, c.last, coalesce((
			SELECT p_tier_c[i] FROM generate_subscripts(p_tier_f, 1) AS i
			WHERE p_tier_f[i] <= c.failures ORDER BY i DESC LIMIT 1), p_base) AS cool
		FROM axes_counters AS c WHERE c.id = ANY (p_ids)
	), e AS (
		SELECT r.id, r.failures, r.last, (r.failures <= 0 OR (r.cool > 0 AND p_now - r.last > r.cool)) AS expired FROM r
	), st AS (
		SELECT coalesce(bool_or(p_limit > 0 AND e.failures >= p_limit AND NOT e.expired), false) AS locked FROM e
	), u AS (
		UPDATE axes_counters AS c
		SET failures = CASE WHEN e.expired THEN 1 ELSE c.failures + 1 END, last = p_now
		FROM e, st
		WHERE c.id = e.id AND (NOT st.locked OR p_extend)
		RETURNING c.id, c.failures, c.last
	), d AS (
		-- Not counted: drop the rows inserted above.
		DELETE FROM axes_counters AS c USING st
		WHERE c.id = ANY (p_ids) AND c.failures <= 0 AND st.locked AND NOT p_extend
	)
	SELECT e.id, coalesce(u.failures, e.failures), coalesce(u.last, e.last), st.locked
	FROM e CROSS JOIN st LEFT JOIN u ON u.id = e.id;
END
$fn$;
`
