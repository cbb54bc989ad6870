package core

import (
	"html/template"
	"log/slog"
	"time"
)

// Config configures an Engine. Start from DefaultConfig(): its booleans that
// django-axes defaults to true (Enabled, LockOutAtFailure,
// ResetCoolOffOnFailureDuringLockout, Verbose) are true there. Zero numbers
// and empty strings mean the default that each field's comment names.
// Every field has an environment name read by ConfigFromEnv.
type Config struct {
	// Enabled turns the engine on (AXES_ENABLED). Default: true. A disabled
	// engine allows everything and records nothing.
	Enabled bool
	// FailureLimit locks a key at this many failures (AXES_FAILURE_LIMIT).
	// Default: 3.
	FailureLimit int
	// FailureLimitFunc, when set, decides the limit per request.
	FailureLimitFunc func(Facts) int
	// LockOutAtFailure locks at the limit (AXES_LOCK_OUT_AT_FAILURE).
	// Default: true; false counts without locking.
	LockOutAtFailure bool
	// CoolOff is how long a lockout lasts after the last failure
	// (AXES_COOLOFF_TIME). Default: 0, locked until reset.
	CoolOff time.Duration
	// CoolOffFunc, when set, decides the cool-off per request.
	CoolOffFunc func(Facts) time.Duration
	// CoolOffTiers grow the cool-off with the failure count
	// (AXES_COOLOFF_TIERS, "3:1m,10:1h"); see Policy.Tiers.
	CoolOffTiers []Tier
	// LockoutParameters are the alternatives that are counted
	// (AXES_LOCKOUT_PARAMETERS). Default: ip_address alone.
	LockoutParameters []Combination
	// LockoutParametersFunc, when set, decides them per request.
	LockoutParametersFunc func(Facts) []Combination
	// ResetOnSuccess clears the attempt's keys on a successful login
	// (AXES_RESET_ON_SUCCESS). Default: false.
	ResetOnSuccess bool
	// ResetCoolOffOnFailureDuringLockout counts attempts refused during a
	// lockout, extending it (AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT).
	// Default: true.
	ResetCoolOffOnFailureDuringLockout bool
	// UsernameFormField names the form or JSON field of the username
	// (AXES_USERNAME_FORM_FIELD). Default: "username".
	UsernameFormField string
	// PasswordFormField names the password field, always masked
	// (AXES_PASSWORD_FORM_FIELD). Default: "password".
	PasswordFormField string
	// UsernameFunc, when set, replaces username extraction and
	// canonicalisation (AXES_USERNAME_CALLABLE).
	UsernameFunc func(*Request) string
	// WhitelistFunc, when it returns true, exempts the request
	// (AXES_WHITELIST_CALLABLE).
	WhitelistFunc func(Facts) bool
	// ClientIPFunc, when set, replaces client IP resolution
	// (AXES_CLIENT_IP_CALLABLE); "" means unresolvable.
	ClientIPFunc func(*Request) string
	// LockoutResponseFunc, when set, builds every lockout response
	// (AXES_LOCKOUT_CALLABLE).
	LockoutResponseFunc func(Facts, Decision) *Response
	// IPWhitelist and IPBlacklist take addresses and CIDR ranges
	// (AXES_IP_WHITELIST, AXES_IP_BLACKLIST). Default: empty.
	IPWhitelist, IPBlacklist []string
	// NeverLockoutWhitelist exempts whitelisted IPs
	// (AXES_NEVER_LOCKOUT_WHITELIST). Default: false.
	NeverLockoutWhitelist bool
	// OnlyWhitelist refuses every IP outside the whitelist
	// (AXES_ONLY_WHITELIST). Default: false.
	OnlyWhitelist bool
	// NeverLockoutGet exempts GET requests (AXES_NEVER_LOCKOUT_GET).
	// Default: false.
	NeverLockoutGet bool
	// HTTPResponseCode is the lockout status (AXES_HTTP_RESPONSE_CODE).
	// Default: 429.
	HTTPResponseCode int
	// LockoutURL, when set, answers lockouts with a 302 to
	// LockoutURL?username=… (AXES_LOCKOUT_URL).
	LockoutURL string
	// LockoutTemplate, when set, renders lockout pages with a
	// LockoutContext (AXES_LOCKOUT_TEMPLATE names a file).
	LockoutTemplate *template.Template
	// CoolOffMessage and PermaLockMessage are the plain lockout texts
	// (AXES_COOLOFF_MESSAGE, AXES_PERMALOCK_MESSAGE). Defaults as
	// django-axes.
	CoolOffMessage, PermaLockMessage string
	// AllowedCORSOrigins is Access-Control-Allow-Origin on JSON lockouts
	// (AXES_ALLOWED_CORS_ORIGINS). Default: "*".
	AllowedCORSOrigins string
	// TrustedProxies are the CIDRs (or addresses) whose forwarded headers
	// are believed (AXES_TRUSTED_PROXIES). Default: none; the client is
	// the socket peer.
	TrustedProxies []string
	// ClientIPHeader is the header read behind a trusted proxy:
	// "X-Forwarded-For" (walked right to left), "X-Real-IP" or "Forwarded"
	// (AXES_CLIENT_IP_HEADER). Default: "X-Forwarded-For".
	ClientIPHeader string
	// IPv6Prefix groups IPv6 clients by this prefix length
	// (AXES_IPV6_PREFIX). Default: 64.
	IPv6Prefix int
	// SensitiveParameters are masked in records, logs and events besides the
	// password field (AXES_SENSITIVE_PARAMETERS). Default: password-like
	// names (DefaultSensitiveParameters). A field matches a name as
	// encoding/json matches a key to a struct field: under Unicode simple
	// case folding (strings.EqualFold), so "PASSWORD" and "Paſſword"
	// (long s) are "password".
	SensitiveParameters []string
	// MaxBodyBytes caps the body read to find the username
	// (AXES_MAX_BODY_BYTES). Default: 64 KiB.
	MaxBodyBytes int64
	// FailOpen lets attempts through uncounted while the store fails
	// (AXES_FAIL_OPEN). Default: false, fail closed with 503.
	FailOpen bool
	// StoreTimeout bounds every store call (AXES_STORE_TIMEOUT).
	// Default: 2s.
	StoreTimeout time.Duration
	// DisableAccessLog stops access log rows (AXES_DISABLE_ACCESS_LOG).
	// Default: false.
	DisableAccessLog bool
	// EnableAccessFailureLog keeps one row per failure
	// (AXES_ENABLE_ACCESS_FAILURE_LOG). Default: false.
	EnableAccessFailureLog bool
	// AccessFailureLogPerUserLimit caps failure log rows per username
	// (AXES_ACCESS_FAILURE_LOG_PER_USER_LIMIT). Default: 1000.
	AccessFailureLogPerUserLimit int
	// Verbose logs every field of the client instead of only the lockout
	// parameters (AXES_VERBOSE). Default: true.
	Verbose bool
	// Store keeps the counters (AXES_STORE). Default: a memory store.
	Store Store
	// Clock reads the time once per request. Default: a coarse clock with
	// 10 ms resolution (seconds are plenty for cool-offs).
	Clock func() time.Time
	// Logger receives one line per event. Default: slog.Default().
	// Passwords are never logged.
	Logger *slog.Logger
	// Events receives every event after it is logged. Default: none.
	Events EventHandler
}

// DefaultSensitiveParameters are masked unless SensitiveParameters is set;
// the password field is always masked.
var DefaultSensitiveParameters = []string{"password", "password1", "password2", "new_password", "old_password", "passwd", "secret", "token", "otp", "csrfmiddlewaretoken"}

// DefaultConfig returns the defaults of django-axes as this package reads
// them: enabled, limit 3, lock at failure, no cool-off, ip_address alone,
// attempts during lockout counted, status 429.
func DefaultConfig() Config {
	return Config{
		Enabled:                            true,
		FailureLimit:                       3,
		LockOutAtFailure:                   true,
		ResetCoolOffOnFailureDuringLockout: true,
		Verbose:                            true,
	}
}
