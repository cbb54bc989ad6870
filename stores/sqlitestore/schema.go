package sqlitestore

// SchemaSQL is the DDL that New runs (idempotently) on the default prefix
// "axes_"; Schema gives it for another prefix. Times are unix microseconds.
//
//   - axes_counters: one lockout counter per key (core.Key.ID); params is
//     the core.Combination bit set, ip/username/user_agent the key's values
//     (for resets); last is the last counted failure; hit_locked tells
//     whether the last Hit found the key locked (how the one-statement Hit
//     reports it).
//   - axes_attempts: django-axes' AccessAttempt, one row per (username, ip,
//     user_agent).
//   - axes_access_logs: AccessLog; logout_time is NULL while logged in.
//   - axes_failure_logs: AccessFailureLog.
const SchemaSQL = `CREATE TABLE IF NOT EXISTS axes_counters (
	id TEXT PRIMARY KEY NOT NULL,
	params INTEGER NOT NULL,
	ip TEXT NOT NULL DEFAULT '',
	username TEXT NOT NULL DEFAULT '',
	user_agent TEXT NOT NULL DEFAULT '',
	failures INTEGER NOT NULL,
	last INTEGER NOT NULL,
	hit_locked BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX IF NOT EXISTS axes_counters_ip ON axes_counters (ip);
CREATE INDEX IF NOT EXISTS axes_counters_username ON axes_counters (username);

CREATE TABLE IF NOT EXISTS axes_attempts (
	username TEXT NOT NULL,
	ip TEXT NOT NULL,
	user_agent TEXT NOT NULL,
	accept TEXT NOT NULL DEFAULT '',
	path TEXT NOT NULL DEFAULT '',
	get_data TEXT NOT NULL DEFAULT '',
	post_data TEXT NOT NULL DEFAULT '',
	failures INTEGER NOT NULL,
	first_attempt INTEGER NOT NULL,
	last_attempt INTEGER NOT NULL,
	PRIMARY KEY (username, ip, user_agent)
);
CREATE INDEX IF NOT EXISTS axes_attempts_ip ON axes_attempts (ip);
CREATE INDEX IF NOT EXISTS axes_attempts_last_attempt ON axes_attempts (last_attempt);

CREATE TABLE IF NOT EXISTS axes_access_logs (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	username TEXT NOT NULL,
	ip TEXT NOT NULL,
	user_agent TEXT NOT NULL DEFAULT '',
	path TEXT NOT NULL DEFAULT '',
	login_time INTEGER NOT NULL,
	logout_time INTEGER
);
CREATE INDEX IF NOT EXISTS axes_access_logs_username ON axes_access_logs (username);
CREATE INDEX IF NOT EXISTS axes_access_logs_login_time ON axes_access_logs (login_time);

CREATE TABLE IF NOT EXISTS axes_failure_logs (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	username TEXT NOT NULL,
	ip TEXT NOT NULL,
	user_agent TEXT NOT NULL DEFAULT '',
	path TEXT NOT NULL DEFAULT '',
	time INTEGER NOT NULL,
	locked_out BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX IF NOT EXISTS axes_failure_logs_username ON axes_failure_logs (username, time);
CREATE INDEX IF NOT EXISTS axes_failure_logs_time ON axes_failure_logs (time);
`
