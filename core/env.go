package core

import (
	"errors"
	"fmt"
	"html/template"
	"math"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// ErrBadSetting is wrapped by every error about a bad setting, from
// ConfigFromEnv and from New.
var ErrBadSetting = errors.New("axes: bad setting")

// SettingError is a bad environment setting: the variable, its value and
// what was wanted. It wraps ErrBadSetting.
type SettingError struct {
	// Var is the variable's name, such as "AXES_FAILURE_LIMIT".
	Var string
	// Value is the value read (cut to 100 bytes).
	Value string
	// Want says what a good value looks like.
	Want string
}

func (e *SettingError) Error() string {
	return fmt.Sprintf("axes: %s=%q: %s", e.Var, e.Value, e.Want)
}

// Unwrap returns ErrBadSetting.
func (e *SettingError) Unwrap() error { return ErrBadSetting }

// ConfigFromEnv returns DefaultConfig() overridden by the AXES_* variables
// that getenv gives (pass os.Getenv); an empty variable means "not set".
// It reads the names of docs/design.md §5 (except AXES_STORE, which names a store
// built elsewhere) and AXES_COOLOFF_TIERS, AXES_CLIENT_IP_HEADER,
// AXES_MAX_BODY_BYTES, AXES_FAIL_OPEN, AXES_STORE_TIMEOUT,
// AXES_DISABLE_ACCESS_LOG, AXES_ENABLE_ACCESS_FAILURE_LOG,
// AXES_ACCESS_FAILURE_LOG_PER_USER_LIMIT, AXES_VERBOSE,
// AXES_COOLOFF_MESSAGE, AXES_PERMALOCK_MESSAGE, AXES_ALLOWED_CORS_ORIGINS
// and AXES_LOCKOUT_TEMPLATE (a file parsed with html/template). When
// AXES_LOCKOUT_PARAMETERS is not set, django-axes' older flags are read as
// it reads them: AXES_ONLY_USER_FAILURES, AXES_LOCK_OUT_BY_USER_OR_IP,
// AXES_LOCK_OUT_BY_COMBINATION_USER_AND_IP (in that precedence) and
// AXES_USE_USER_AGENT, which adds user_agent to the first alternative.
//
// Booleans are true/false, 1/0, t/f, yes/no, y/n, on/off (any case).
// AXES_COOLOFF_TIME is a Go duration ("30m") or a bare number of hours
// ("0.5" is 30 minutes). Lists are comma-separated. Every bad variable is
// reported, each as a *SettingError wrapping ErrBadSetting, joined.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	cfg := DefaultConfig()
	if getenv == nil {
		return cfg, nil
	}
	l := envLoader{getenv: getenv}

	l.bool("AXES_ENABLED", &cfg.Enabled)
	cfg.Verbose = cfg.Enabled // django-axes: AXES_VERBOSE defaults to AXES_ENABLED
	l.bool("AXES_VERBOSE", &cfg.Verbose)
	l.int("AXES_FAILURE_LIMIT", &cfg.FailureLimit, 1, math.MaxInt32, "want a whole number >= 1")
	l.bool("AXES_LOCK_OUT_AT_FAILURE", &cfg.LockOutAtFailure)
	if v, ok := l.get("AXES_COOLOFF_TIME"); ok {
		if d, ok := parseCoolOff(v); ok {
			cfg.CoolOff = d
		} else {
			l.fail("AXES_COOLOFF_TIME", v, `want a duration >= 0 such as "30m" or "1.5s", or a number of hours such as "1" or "0.5"`)
		}
	}
	if v, ok := l.get("AXES_COOLOFF_TIERS"); ok {
		if tiers, ok := parseTiers(v); ok {
			cfg.CoolOffTiers = tiers
		} else {
			l.fail("AXES_COOLOFF_TIERS", v, `want failures:cool-off pairs such as "3:1m,10:1h", failures >= 1 and different in every pair, cool-offs > 0`)
		}
	}
	l.lockoutParameters(&cfg)
	l.bool("AXES_RESET_ON_SUCCESS", &cfg.ResetOnSuccess)
	l.bool("AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT", &cfg.ResetCoolOffOnFailureDuringLockout)
	l.field("AXES_USERNAME_FORM_FIELD", &cfg.UsernameFormField)
	l.field("AXES_PASSWORD_FORM_FIELD", &cfg.PasswordFormField)
	l.ipList("AXES_IP_WHITELIST", &cfg.IPWhitelist)
	l.ipList("AXES_IP_BLACKLIST", &cfg.IPBlacklist)
	l.ipList("AXES_TRUSTED_PROXIES", &cfg.TrustedProxies)
	l.bool("AXES_NEVER_LOCKOUT_WHITELIST", &cfg.NeverLockoutWhitelist)
	l.bool("AXES_ONLY_WHITELIST", &cfg.OnlyWhitelist)
	l.bool("AXES_NEVER_LOCKOUT_GET", &cfg.NeverLockoutGet)
	l.int("AXES_HTTP_RESPONSE_CODE", &cfg.HTTPResponseCode, 100, 599, "want an HTTP status code 100..599")
	if v, ok := l.get("AXES_LOCKOUT_URL"); ok {
		if _, err := url.Parse(strings.TrimSpace(v)); err != nil || strings.TrimSpace(v) == "" {
			l.fail("AXES_LOCKOUT_URL", v, "want a URL")
		} else {
			cfg.LockoutURL = strings.TrimSpace(v)
		}
	}
	if v, ok := l.get("AXES_LOCKOUT_TEMPLATE"); ok {
		if t, err := template.ParseFiles(strings.TrimSpace(v)); err != nil {
			l.fail("AXES_LOCKOUT_TEMPLATE", v, "want a readable html/template file: "+err.Error())
		} else {
			cfg.LockoutTemplate = t
		}
	}
	l.str("AXES_COOLOFF_MESSAGE", &cfg.CoolOffMessage)
	l.str("AXES_PERMALOCK_MESSAGE", &cfg.PermaLockMessage)
	l.str("AXES_ALLOWED_CORS_ORIGINS", &cfg.AllowedCORSOrigins)
	if v, ok := l.get("AXES_CLIENT_IP_HEADER"); ok {
		if _, name, err := parseHeaderKind(v); err != nil {
			l.fail("AXES_CLIENT_IP_HEADER", v, "want X-Forwarded-For, X-Real-IP or Forwarded")
		} else {
			cfg.ClientIPHeader = name
		}
	}
	l.int("AXES_IPV6_PREFIX", &cfg.IPv6Prefix, 1, 128, "want a prefix length 1..128")
	if v, ok := l.get("AXES_SENSITIVE_PARAMETERS"); ok {
		if list := splitList(v); len(list) > 0 {
			cfg.SensitiveParameters = list
		} else {
			l.fail("AXES_SENSITIVE_PARAMETERS", v, "want comma-separated field names")
		}
	}
	var maxBody int
	if l.int("AXES_MAX_BODY_BYTES", &maxBody, 1, math.MaxInt32, "want a whole number of bytes >= 1") {
		cfg.MaxBodyBytes = int64(maxBody)
	}
	l.bool("AXES_FAIL_OPEN", &cfg.FailOpen)
	if v, ok := l.get("AXES_STORE_TIMEOUT"); ok {
		if d, err := time.ParseDuration(strings.TrimSpace(v)); err != nil || d <= 0 {
			l.fail("AXES_STORE_TIMEOUT", v, `want a duration > 0 such as "2s" or "500ms"`)
		} else {
			cfg.StoreTimeout = d
		}
	}
	l.bool("AXES_DISABLE_ACCESS_LOG", &cfg.DisableAccessLog)
	l.bool("AXES_ENABLE_ACCESS_FAILURE_LOG", &cfg.EnableAccessFailureLog)
	l.int("AXES_ACCESS_FAILURE_LOG_PER_USER_LIMIT", &cfg.AccessFailureLogPerUserLimit, 1, math.MaxInt32, "want a whole number >= 1")
	return cfg, errors.Join(l.errs...)
}

// envLoader reads variables and collects every error.
type envLoader struct {
	getenv func(string) string
	errs   []error
}

func (l *envLoader) get(name string) (string, bool) {
	v := l.getenv(name)
	return v, v != ""
}

func (l *envLoader) fail(name, value, want string) {
	if len(value) > 100 {
		value = value[:100]
	}
	l.errs = append(l.errs, &SettingError{Var: name, Value: value, Want: want})
}

func (l *envLoader) bool(name string, dst *bool) {
	v, ok := l.get(name)
	if !ok {
		return
	}
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "1", "t", "true", "y", "yes", "on":
		*dst = true
	case "0", "f", "false", "n", "no", "off":
		*dst = false
	default:
		l.fail(name, v, "want true or false (also 1/0, yes/no, on/off)")
	}
}

// int sets *dst from a whole number in lo..hi and reports whether it did.
func (l *envLoader) int(name string, dst *int, lo, hi int, want string) bool {
	v, ok := l.get(name)
	if !ok {
		return false
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < lo || n > hi {
		l.fail(name, v, want)
		return false
	}
	*dst = n
	return true
}

func (l *envLoader) str(name string, dst *string) {
	if v, ok := l.get(name); ok {
		*dst = v
	}
}

// field reads a form or JSON field name.
func (l *envLoader) field(name string, dst *string) {
	v, ok := l.get(name)
	if !ok {
		return
	}
	if t := strings.TrimSpace(v); t != "" {
		*dst = t
	} else {
		l.fail(name, v, "want a field name")
	}
}

func (l *envLoader) ipList(name string, dst *[]string) {
	v, ok := l.get(name)
	if !ok {
		return
	}
	list := splitList(v)
	if _, err := ParseIPList(list); err != nil {
		l.fail(name, v, "want comma-separated IP addresses and CIDR ranges: "+strings.TrimPrefix(err.Error(), "axes: "))
		return
	}
	*dst = list
}

// lockoutParameters reads AXES_LOCKOUT_PARAMETERS or, when it is not set,
// django-axes' older flags.
func (l *envLoader) lockoutParameters(cfg *Config) {
	var onlyUser, userOrIP, combination, userAgent bool
	l.bool("AXES_ONLY_USER_FAILURES", &onlyUser)
	l.bool("AXES_LOCK_OUT_BY_USER_OR_IP", &userOrIP)
	l.bool("AXES_LOCK_OUT_BY_COMBINATION_USER_AND_IP", &combination)
	l.bool("AXES_USE_USER_AGENT", &userAgent)
	if v, ok := l.get("AXES_LOCKOUT_PARAMETERS"); ok {
		cs, err := ParseLockoutParameters(v)
		if err != nil {
			l.fail("AXES_LOCKOUT_PARAMETERS", v, `want alternatives split by "," of ip_address, username, user_agent or combinations joined by "+": `+strings.TrimPrefix(err.Error(), "axes: "))
			return
		}
		cfg.LockoutParameters = cs
		return
	}
	// django-axes conf.py: ONLY_USER_FAILURES > USER_OR_IP > COMBINATION.
	var cs []Combination
	switch {
	case onlyUser:
		cs = []Combination{ParamUsername}
	case userOrIP:
		cs = []Combination{ParamUsername, ParamIPAddress}
	case combination:
		cs = []Combination{ParamUsername | ParamIPAddress}
	case userAgent:
		cs = []Combination{ParamIPAddress}
	default:
		return
	}
	if userAgent {
		cs[0] |= ParamUserAgent
	}
	cfg.LockoutParameters = cs
}

// parseCoolOff reads a Go duration or a bare number of hours, >= 0.
func parseCoolOff(v string) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if h, err := strconv.ParseFloat(v, 64); err == nil {
		if math.IsNaN(h) || h < 0 || h*float64(time.Hour) >= math.MaxInt64 {
			return 0, false
		}
		return time.Duration(h * float64(time.Hour)), true
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, false
	}
	return d, true
}

// parseTiers reads "3:1m,10:1h" into tiers sorted by failures.
func parseTiers(v string) ([]Tier, bool) {
	var tiers []Tier
	for _, item := range splitList(v) {
		n, d, ok := strings.Cut(item, ":")
		if !ok {
			return nil, false
		}
		failures, err := strconv.Atoi(strings.TrimSpace(n))
		if err != nil || failures < 1 {
			return nil, false
		}
		coolOff, ok := parseCoolOff(d)
		if !ok || coolOff <= 0 {
			return nil, false
		}
		tiers = append(tiers, Tier{Failures: failures, CoolOff: coolOff})
	}
	if len(tiers) == 0 {
		return nil, false
	}
	sort.Slice(tiers, func(i, j int) bool { return tiers[i].Failures < tiers[j].Failures })
	for i := 1; i < len(tiers); i++ {
		if tiers[i].Failures == tiers[i-1].Failures {
			return nil, false
		}
	}
	return tiers, true
}

// splitList splits a comma-separated list, trimming entries and dropping
// empty ones.
func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}
