package core_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goaxes/axes/core"
)

// env is a getenv over a map.
func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestConfigFromEnvDefaults(t *testing.T) {
	cfg, err := core.ConfigFromEnv(env(nil))
	require.NoError(t, err)
	want := core.DefaultConfig()
	assert.Equal(t, want.Enabled, cfg.Enabled)
	assert.Equal(t, want.FailureLimit, cfg.FailureLimit)
	assert.Equal(t, want.LockOutAtFailure, cfg.LockOutAtFailure)
	assert.Equal(t, want.ResetCoolOffOnFailureDuringLockout, cfg.ResetCoolOffOnFailureDuringLockout)
	assert.Equal(t, want.Verbose, cfg.Verbose)
	assert.Nil(t, cfg.LockoutParameters)
	assert.Zero(t, cfg.CoolOff)

	cfg, err = core.ConfigFromEnv(nil)
	require.NoError(t, err)
	assert.Equal(t, 3, cfg.FailureLimit)
}

func TestConfigFromEnvReadsEverySetting(t *testing.T) {
	cfg, err := core.ConfigFromEnv(env(map[string]string{
		"AXES_ENABLED":                                  "yes",
		"AXES_FAILURE_LIMIT":                            " 5 ",
		"AXES_LOCK_OUT_AT_FAILURE":                      "off",
		"AXES_COOLOFF_TIME":                             "30m",
		"AXES_COOLOFF_TIERS":                            "10:1h, 3:1m",
		"AXES_LOCKOUT_PARAMETERS":                       "username,ip_address+user_agent",
		"AXES_RESET_ON_SUCCESS":                         "true",
		"AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT": "0",
		"AXES_USERNAME_FORM_FIELD":                      "email",
		"AXES_PASSWORD_FORM_FIELD":                      "pw",
		"AXES_IP_WHITELIST":                             "10.0.0.0/8, 192.0.2.1,,",
		"AXES_IP_BLACKLIST":                             "2001:db8::/32",
		"AXES_TRUSTED_PROXIES":                          "127.0.0.1",
		"AXES_NEVER_LOCKOUT_WHITELIST":                  "1",
		"AXES_ONLY_WHITELIST":                           "T",
		"AXES_NEVER_LOCKOUT_GET":                        "ON",
		"AXES_HTTP_RESPONSE_CODE":                       "403",
		"AXES_LOCKOUT_URL":                              "/locked",
		"AXES_COOLOFF_MESSAGE":                          "wait",
		"AXES_PERMALOCK_MESSAGE":                        "call us",
		"AXES_ALLOWED_CORS_ORIGINS":                     "https://example.com",
		"AXES_CLIENT_IP_HEADER":                         "x-real-ip",
		"AXES_IPV6_PREFIX":                              "56",
		"AXES_SENSITIVE_PARAMETERS":                     "otp, pin",
		"AXES_MAX_BODY_BYTES":                           "1024",
		"AXES_FAIL_OPEN":                                "true",
		"AXES_STORE_TIMEOUT":                            "500ms",
		"AXES_DISABLE_ACCESS_LOG":                       "true",
		"AXES_ENABLE_ACCESS_FAILURE_LOG":                "true",
		"AXES_ACCESS_FAILURE_LOG_PER_USER_LIMIT":        "50",
		"AXES_VERBOSE":                                  "false",
		"AXES_STORE":                                    "not read here",
	}))
	require.NoError(t, err)
	assert.True(t, cfg.Enabled)
	assert.Equal(t, 5, cfg.FailureLimit)
	assert.False(t, cfg.LockOutAtFailure)
	assert.Equal(t, 30*time.Minute, cfg.CoolOff)
	assert.Equal(t, []core.Tier{{Failures: 3, CoolOff: time.Minute}, {Failures: 10, CoolOff: time.Hour}}, cfg.CoolOffTiers)
	assert.Equal(t, []core.Combination{core.ParamUsername, core.ParamIPAddress | core.ParamUserAgent}, cfg.LockoutParameters)
	assert.True(t, cfg.ResetOnSuccess)
	assert.False(t, cfg.ResetCoolOffOnFailureDuringLockout)
	assert.Equal(t, "email", cfg.UsernameFormField)
	assert.Equal(t, "pw", cfg.PasswordFormField)
	assert.Equal(t, []string{"10.0.0.0/8", "192.0.2.1"}, cfg.IPWhitelist)
	assert.Equal(t, []string{"2001:db8::/32"}, cfg.IPBlacklist)
	assert.Equal(t, []string{"127.0.0.1"}, cfg.TrustedProxies)
	assert.True(t, cfg.NeverLockoutWhitelist)
	assert.True(t, cfg.OnlyWhitelist)
	assert.True(t, cfg.NeverLockoutGet)
	assert.Equal(t, 403, cfg.HTTPResponseCode)
	assert.Equal(t, "/locked", cfg.LockoutURL)
	assert.Equal(t, "wait", cfg.CoolOffMessage)
	assert.Equal(t, "call us", cfg.PermaLockMessage)
	assert.Equal(t, "https://example.com", cfg.AllowedCORSOrigins)
	assert.Equal(t, "X-Real-IP", cfg.ClientIPHeader)
	assert.Equal(t, 56, cfg.IPv6Prefix)
	assert.Equal(t, []string{"otp", "pin"}, cfg.SensitiveParameters)
	assert.Equal(t, int64(1024), cfg.MaxBodyBytes)
	assert.True(t, cfg.FailOpen)
	assert.Equal(t, 500*time.Millisecond, cfg.StoreTimeout)
	assert.True(t, cfg.DisableAccessLog)
	assert.True(t, cfg.EnableAccessFailureLog)
	assert.Equal(t, 50, cfg.AccessFailureLogPerUserLimit)
	assert.False(t, cfg.Verbose)
	assert.Nil(t, cfg.Store)
}

func TestConfigFromEnvCoolOff(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want time.Duration
	}{
		{name: "go duration", in: "30m", want: 30 * time.Minute},
		{name: "fractional seconds", in: "1.5s", want: 1500 * time.Millisecond},
		{name: "bare hours", in: "1", want: time.Hour},
		{name: "bare fraction of hours", in: "0.5", want: 30 * time.Minute},
		{name: "zero", in: "0", want: 0},
		{name: "combined", in: "1h30m", want: 90 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := core.ConfigFromEnv(env(map[string]string{"AXES_COOLOFF_TIME": tt.in}))
			require.NoError(t, err)
			assert.Equal(t, tt.want, cfg.CoolOff)
		})
	}
}

func TestConfigFromEnvLegacyLockoutFlags(t *testing.T) {
	u, ip, ua := core.ParamUsername, core.ParamIPAddress, core.ParamUserAgent
	tests := []struct {
		name string
		vars map[string]string
		want []core.Combination
	}{
		{name: "none", vars: nil, want: nil},
		{name: "only user failures", vars: map[string]string{"AXES_ONLY_USER_FAILURES": "true"}, want: []core.Combination{u}},
		{name: "user or ip", vars: map[string]string{"AXES_LOCK_OUT_BY_USER_OR_IP": "true"}, want: []core.Combination{u, ip}},
		{name: "combination", vars: map[string]string{"AXES_LOCK_OUT_BY_COMBINATION_USER_AND_IP": "true"}, want: []core.Combination{u | ip}},
		{name: "user agent alone", vars: map[string]string{"AXES_USE_USER_AGENT": "true"}, want: []core.Combination{ip | ua}},
		{
			name: "user or ip with user agent",
			vars: map[string]string{"AXES_LOCK_OUT_BY_USER_OR_IP": "true", "AXES_USE_USER_AGENT": "true"},
			want: []core.Combination{u | ua, ip},
		},
		{
			name: "combination with user agent",
			vars: map[string]string{"AXES_LOCK_OUT_BY_COMBINATION_USER_AND_IP": "true", "AXES_USE_USER_AGENT": "true"},
			want: []core.Combination{u | ip | ua},
		},
		{
			name: "only user with user agent",
			vars: map[string]string{"AXES_ONLY_USER_FAILURES": "true", "AXES_USE_USER_AGENT": "true"},
			want: []core.Combination{u | ua},
		},
		{
			name: "precedence: only user over the others",
			vars: map[string]string{"AXES_ONLY_USER_FAILURES": "true", "AXES_LOCK_OUT_BY_USER_OR_IP": "true", "AXES_LOCK_OUT_BY_COMBINATION_USER_AND_IP": "true"},
			want: []core.Combination{u},
		},
		{
			name: "precedence: user or ip over combination",
			vars: map[string]string{"AXES_LOCK_OUT_BY_USER_OR_IP": "true", "AXES_LOCK_OUT_BY_COMBINATION_USER_AND_IP": "true"},
			want: []core.Combination{u, ip},
		},
		{
			name: "lockout parameters win over legacy flags",
			vars: map[string]string{"AXES_LOCKOUT_PARAMETERS": "ip_address", "AXES_ONLY_USER_FAILURES": "true", "AXES_USE_USER_AGENT": "true"},
			want: []core.Combination{ip},
		},
		{name: "false flags", vars: map[string]string{"AXES_ONLY_USER_FAILURES": "false"}, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := core.ConfigFromEnv(env(tt.vars))
			require.NoError(t, err)
			assert.Equal(t, tt.want, cfg.LockoutParameters)
		})
	}
}

func TestConfigFromEnvVerboseFollowsEnabled(t *testing.T) {
	cfg, err := core.ConfigFromEnv(env(map[string]string{"AXES_ENABLED": "false"}))
	require.NoError(t, err)
	assert.False(t, cfg.Enabled)
	assert.False(t, cfg.Verbose, "AXES_VERBOSE defaults to AXES_ENABLED")
}

func TestConfigFromEnvErrors(t *testing.T) {
	tests := []struct {
		name    string
		vars    map[string]string
		wantMsg string
	}{
		{name: "failure limit not a number", vars: map[string]string{"AXES_FAILURE_LIMIT": "abc"}, wantMsg: `axes: AXES_FAILURE_LIMIT="abc": want a whole number >= 1`},
		{name: "failure limit zero", vars: map[string]string{"AXES_FAILURE_LIMIT": "0"}, wantMsg: `AXES_FAILURE_LIMIT="0"`},
		{name: "bad bool", vars: map[string]string{"AXES_ENABLED": "maybe"}, wantMsg: `AXES_ENABLED="maybe": want true or false`},
		{name: "bad legacy bool", vars: map[string]string{"AXES_USE_USER_AGENT": "sometimes"}, wantMsg: `AXES_USE_USER_AGENT="sometimes"`},
		{name: "negative cool-off", vars: map[string]string{"AXES_COOLOFF_TIME": "-1m"}, wantMsg: `AXES_COOLOFF_TIME="-1m"`},
		{name: "negative hours", vars: map[string]string{"AXES_COOLOFF_TIME": "-1"}, wantMsg: `AXES_COOLOFF_TIME="-1"`},
		{name: "cool-off NaN", vars: map[string]string{"AXES_COOLOFF_TIME": "NaN"}, wantMsg: `AXES_COOLOFF_TIME="NaN"`},
		{name: "cool-off huge", vars: map[string]string{"AXES_COOLOFF_TIME": "1e300"}, wantMsg: `AXES_COOLOFF_TIME="1e300"`},
		{name: "cool-off words", vars: map[string]string{"AXES_COOLOFF_TIME": "a while"}, wantMsg: `AXES_COOLOFF_TIME="a while"`},
		{name: "tiers without colon", vars: map[string]string{"AXES_COOLOFF_TIERS": "3"}, wantMsg: `AXES_COOLOFF_TIERS="3"`},
		{name: "tiers zero failures", vars: map[string]string{"AXES_COOLOFF_TIERS": "0:1m"}, wantMsg: `AXES_COOLOFF_TIERS="0:1m"`},
		{name: "tiers zero cool-off", vars: map[string]string{"AXES_COOLOFF_TIERS": "3:0s"}, wantMsg: `AXES_COOLOFF_TIERS="3:0s"`},
		{name: "tiers duplicate", vars: map[string]string{"AXES_COOLOFF_TIERS": "3:1m,3:1h"}, wantMsg: `AXES_COOLOFF_TIERS="3:1m,3:1h"`},
		{name: "tiers only commas", vars: map[string]string{"AXES_COOLOFF_TIERS": ",,"}, wantMsg: `AXES_COOLOFF_TIERS=",,"`},
		{name: "unknown parameter", vars: map[string]string{"AXES_LOCKOUT_PARAMETERS": "email"}, wantMsg: `AXES_LOCKOUT_PARAMETERS="email"`},
		{name: "blank form field", vars: map[string]string{"AXES_USERNAME_FORM_FIELD": "  "}, wantMsg: `AXES_USERNAME_FORM_FIELD="  ": want a field name`},
		{name: "bad whitelist entry", vars: map[string]string{"AXES_IP_WHITELIST": "10.0.0.1, nope"}, wantMsg: `AXES_IP_WHITELIST="10.0.0.1, nope": want comma-separated IP addresses and CIDR ranges: IP list entry "nope"`},
		{name: "bad blacklist entry", vars: map[string]string{"AXES_IP_BLACKLIST": "1.2.3.4/40"}, wantMsg: `AXES_IP_BLACKLIST="1.2.3.4/40"`},
		{name: "bad trusted proxy", vars: map[string]string{"AXES_TRUSTED_PROXIES": "proxy.local"}, wantMsg: `AXES_TRUSTED_PROXIES="proxy.local"`},
		{name: "status too low", vars: map[string]string{"AXES_HTTP_RESPONSE_CODE": "99"}, wantMsg: `AXES_HTTP_RESPONSE_CODE="99": want an HTTP status code 100..599`},
		{name: "status too high", vars: map[string]string{"AXES_HTTP_RESPONSE_CODE": "600"}, wantMsg: `AXES_HTTP_RESPONSE_CODE="600"`},
		{name: "bad lockout URL", vars: map[string]string{"AXES_LOCKOUT_URL": "http://[::1"}, wantMsg: `AXES_LOCKOUT_URL="http://[::1"`},
		{name: "bad header", vars: map[string]string{"AXES_CLIENT_IP_HEADER": "CF-Connecting-IP"}, wantMsg: `AXES_CLIENT_IP_HEADER="CF-Connecting-IP"`},
		{name: "prefix zero", vars: map[string]string{"AXES_IPV6_PREFIX": "0"}, wantMsg: `AXES_IPV6_PREFIX="0": want a prefix length 1..128`},
		{name: "prefix too long", vars: map[string]string{"AXES_IPV6_PREFIX": "129"}, wantMsg: `AXES_IPV6_PREFIX="129"`},
		{name: "sensitive only commas", vars: map[string]string{"AXES_SENSITIVE_PARAMETERS": ","}, wantMsg: `AXES_SENSITIVE_PARAMETERS=","`},
		{name: "max body negative", vars: map[string]string{"AXES_MAX_BODY_BYTES": "-1"}, wantMsg: `AXES_MAX_BODY_BYTES="-1"`},
		{name: "store timeout zero", vars: map[string]string{"AXES_STORE_TIMEOUT": "0s"}, wantMsg: `AXES_STORE_TIMEOUT="0s"`},
		{name: "store timeout bare number", vars: map[string]string{"AXES_STORE_TIMEOUT": "2"}, wantMsg: `AXES_STORE_TIMEOUT="2"`},
		{name: "failure log limit", vars: map[string]string{"AXES_ACCESS_FAILURE_LOG_PER_USER_LIMIT": "x"}, wantMsg: `AXES_ACCESS_FAILURE_LOG_PER_USER_LIMIT="x"`},
		{name: "missing template", vars: map[string]string{"AXES_LOCKOUT_TEMPLATE": "/nonexistent/lockout.html"}, wantMsg: `AXES_LOCKOUT_TEMPLATE="/nonexistent/lockout.html"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := core.ConfigFromEnv(env(tt.vars))
			require.Error(t, err)
			assert.ErrorIs(t, err, core.ErrBadSetting)
			assert.Contains(t, err.Error(), tt.wantMsg)
			var se *core.SettingError
			require.True(t, errors.As(err, &se), "want a *SettingError in %v", err)
		})
	}
}

func TestConfigFromEnvReportsEveryBadVariable(t *testing.T) {
	_, err := core.ConfigFromEnv(env(map[string]string{
		"AXES_FAILURE_LIMIT": "x",
		"AXES_IPV6_PREFIX":   "x",
		"AXES_ENABLED":       "x",
	}))
	require.Error(t, err)
	for _, name := range []string{"AXES_FAILURE_LIMIT", "AXES_IPV6_PREFIX", "AXES_ENABLED"} {
		assert.Contains(t, err.Error(), name)
	}
}

func TestConfigFromEnvTemplate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lockout.html")
	require.NoError(t, os.WriteFile(path, []byte(`<p>{{.}}</p>`), 0o600))
	cfg, err := core.ConfigFromEnv(env(map[string]string{"AXES_LOCKOUT_TEMPLATE": path}))
	require.NoError(t, err)
	require.NotNil(t, cfg.LockoutTemplate)
}

func TestConfigFromEnvErrorCutsLongValues(t *testing.T) {
	long := make([]byte, 10000)
	for i := range long {
		long[i] = 'x'
	}
	_, err := core.ConfigFromEnv(env(map[string]string{"AXES_FAILURE_LIMIT": string(long)}))
	require.Error(t, err)
	assert.Less(t, len(err.Error()), 300)
}
