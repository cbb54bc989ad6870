package core

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
)

// ErrStoreUnavailable wraps store failures reported in a Decision.
var ErrStoreUnavailable = errors.New("axes: store unavailable")

// Engine decides, for a request's facts, whether a client may try to log in,
// records failures, successes and logouts, and resets. It is safe for
// concurrent use. It owns nothing it was given: the store stays the
// caller's to close.
type Engine struct {
	cfg       Config
	store     Store
	records   RecordStore // nil when the store keeps no records
	isMemory  bool
	mem       *MemoryStore // the store, when it is the memory store: called directly
	deferOK   bool         // the static part of DeferCredentials
	statusUA  bool         // Status needs the User-Agent (a parameter or a hook reads it)
	policy    Policy       // basePolicy, resolved once
	resolver  *IPResolver
	whitelist []netip.Prefix
	blacklist []netip.Prefix
	sensitive map[string]bool // by foldName
	clock     func() time.Time
	log       *slog.Logger

	refusalLog logThrottle

	// The username field's reading errors (credentialErrors), and whether
	// a missing field was warned about.
	errMissing, errTwice, errInQuery error
	warnedMissing                    atomic.Bool
}

// New validates cfg, fills its defaults and returns an Engine. A bad setting
// is an error naming the field; nothing panics.
func New(cfg Config) (*Engine, error) {
	if cfg.FailureLimit == 0 {
		cfg.FailureLimit = 3
	}
	if cfg.FailureLimit < 0 {
		return nil, fmt.Errorf("%w: FailureLimit %d: want a number >= 1", ErrBadSetting, cfg.FailureLimit)
	}
	if cfg.CoolOff < 0 {
		return nil, fmt.Errorf("%w: CoolOff %s: want >= 0", ErrBadSetting, cfg.CoolOff)
	}
	for i, t := range cfg.CoolOffTiers {
		if t.Failures < 1 || t.CoolOff <= 0 {
			return nil, fmt.Errorf("%w: CoolOffTiers[%d]: want failures >= 1 and a cool-off > 0", ErrBadSetting, i)
		}
		if i > 0 && t.Failures <= cfg.CoolOffTiers[i-1].Failures {
			return nil, fmt.Errorf("%w: CoolOffTiers: failures must grow from tier to tier", ErrBadSetting)
		}
	}
	if len(cfg.LockoutParameters) == 0 {
		cfg.LockoutParameters = []Combination{ParamIPAddress}
	}
	for i, c := range cfg.LockoutParameters {
		if c == 0 || c&^(ParamIPAddress|ParamUsername|ParamUserAgent) != 0 {
			return nil, fmt.Errorf("%w: LockoutParameters[%d]: unknown combination %d", ErrBadSetting, i, c)
		}
	}
	if cfg.UsernameFormField == "" {
		cfg.UsernameFormField = "username"
	}
	if cfg.PasswordFormField == "" {
		cfg.PasswordFormField = "password"
	}
	if cfg.HTTPResponseCode == 0 {
		cfg.HTTPResponseCode = 429
	}
	if cfg.HTTPResponseCode < 100 || cfg.HTTPResponseCode > 599 {
		return nil, fmt.Errorf("%w: HTTPResponseCode %d: want 100..599", ErrBadSetting, cfg.HTTPResponseCode)
	}
	if cfg.LockoutURL != "" {
		if _, err := url.Parse(cfg.LockoutURL); err != nil {
			return nil, fmt.Errorf("%w: LockoutURL: %v", ErrBadSetting, err)
		}
	}
	if cfg.CoolOffMessage == "" {
		cfg.CoolOffMessage = "Account locked: too many login attempts. Please try again later."
	}
	if cfg.PermaLockMessage == "" {
		cfg.PermaLockMessage = "Account locked: too many login attempts. Contact an admin to unlock your account."
	}
	if cfg.AllowedCORSOrigins == "" {
		cfg.AllowedCORSOrigins = "*"
	}
	if cfg.IPv6Prefix == 0 {
		cfg.IPv6Prefix = 64
	}
	if cfg.MaxBodyBytes == 0 {
		cfg.MaxBodyBytes = 64 << 10
	}
	if cfg.MaxBodyBytes < 0 {
		return nil, fmt.Errorf("%w: MaxBodyBytes %d: want >= 0", ErrBadSetting, cfg.MaxBodyBytes)
	}
	if cfg.StoreTimeout == 0 {
		cfg.StoreTimeout = 2 * time.Second
	}
	if cfg.StoreTimeout < 0 {
		return nil, fmt.Errorf("%w: StoreTimeout %s: want > 0", ErrBadSetting, cfg.StoreTimeout)
	}
	if cfg.AccessFailureLogPerUserLimit == 0 {
		cfg.AccessFailureLogPerUserLimit = 1000
	}
	if cfg.SensitiveParameters == nil {
		cfg.SensitiveParameters = DefaultSensitiveParameters
	}
	e := &Engine{cfg: cfg, store: cfg.Store, clock: cfg.Clock, log: cfg.Logger}
	var err error
	if e.resolver, err = NewIPResolver(cfg.TrustedProxies, cfg.ClientIPHeader, cfg.IPv6Prefix); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadSetting, err)
	}
	if e.whitelist, err = ParseIPList(cfg.IPWhitelist); err != nil {
		return nil, fmt.Errorf("%w: IPWhitelist: %v", ErrBadSetting, err)
	}
	if e.blacklist, err = ParseIPList(cfg.IPBlacklist); err != nil {
		return nil, fmt.Errorf("%w: IPBlacklist: %v", ErrBadSetting, err)
	}
	e.sensitive = map[string]bool{foldName(cfg.PasswordFormField): true, "password": true}
	for _, p := range cfg.SensitiveParameters {
		e.sensitive[foldName(strings.TrimSpace(p))] = true
	}
	if e.store == nil {
		e.store = NewMemoryStore(MemoryOptions{})
	}
	e.mem, _ = e.store.(*MemoryStore)
	e.isMemory = isMemoryStore(e.store) // an instrumented memory store needs no timeout either
	rs, _ := e.store.(RecordStore)
	e.records = guardRecords(rs) // every record value is escaped on its way in
	if e.clock == nil {
		e.clock = CoarseNow
	}
	if e.log == nil {
		e.log = slog.Default()
	}
	e.deferOK = e.deferrable()
	e.credentialErrors()
	e.policy = e.basePolicy()
	e.statusUA = cfg.LockoutParametersFunc != nil || cfg.WhitelistFunc != nil ||
		cfg.FailureLimitFunc != nil || cfg.CoolOffFunc != nil
	for _, c := range cfg.LockoutParameters {
		e.statusUA = e.statusUA || c.Has(ParamUserAgent)
	}
	return e, nil
}

// Config returns the engine's configuration with its defaults filled in.
func (e *Engine) Config() Config { return e.cfg }

// Store returns the engine's store.
func (e *Engine) Store() Store { return e.store }

// Records returns the store's records, if it keeps them. Values passed to
// them (records, filters, searches) are escaped with StoreEscape before the
// store sees them; values read from them come escaped (StoreUnescape).
func (e *Engine) Records() (RecordStore, bool) { return e.records, e.records != nil }

// Now reads the engine's clock.
func (e *Engine) Now() time.Time { return e.clock() }

// prepared is what Begin and the reports share: the facts, the keys and the
// policy of one request.
type prepared struct {
	facts   Facts
	ip      netip.Addr
	ipKnown bool
	policy  Policy
	params  []Combination // the lockout parameters that apply (Allowed)
	keys    []Key         // filled by keysFor, outside prepare
	outcome Outcome       // Allowed, or a refusal/exemption decided before the store
	// unreadable says why the username of a request whose lockout
	// parameters involve it could not be read (then params is ipOnly).
	unreadable error
}

// keyIDBytes is the room for the key IDs of one request kept inline (in an
// Attempt, or on the stack for Status); longer IDs are allocated.
const keyIDBytes = 80 // one IPv6 key with room to spare; the Attempt (plus its malloc header) stays in the 768-byte class

// statusIDBytes is the room for key IDs on Status's stack.
const statusIDBytes = 256

// keyScratch holds the keys of one request and their IDs. Keys built in it
// alias ids, which is never written again once they are built; only the
// memory store sees them, and it copies any ID it keeps.
type keyScratch struct {
	buf [3]Key
	ids [keyIDBytes]byte
}

func (e *Engine) prepare(r *Request, p *prepared) { e.prepareFacts(r, p, true) }

// prepareFacts is prepare; without ua, the User-Agent is not read (Status,
// when nothing it runs looks at it).
func (e *Engine) prepareFacts(r *Request, p *prepared, ua bool) {
	if r == nil {
		r = &Request{}
	}
	p.facts.Request = r
	p.facts.Method, p.facts.Path = r.Method, r.Path
	if ua {
		p.facts.UserAgent = r.header("User-Agent")
	}
	if e.cfg.UsernameFunc != nil {
		p.facts.Username = e.cfg.UsernameFunc(r)
	} else {
		p.facts.Username = CanonicalUsername(r.Username)
	}
	given := ""
	if e.cfg.ClientIPFunc != nil {
		given = strings.TrimSpace(e.cfg.ClientIPFunc(r))
		if a, err := netip.ParseAddr(given); err == nil {
			p.ip, p.ipKnown = a.Unmap(), true
		}
	} else if a, n, ok := parsePeer4(r.RemoteAddr); ok && e.resolver.peerIsClient(a, r.Header) {
		// The common case: an IPv4 peer, already spelt canonically.
		p.ip, p.ipKnown = a, true
		p.facts.IP = r.RemoteAddr[:n]
	} else {
		p.ip, p.ipKnown = e.resolver.Resolve(r.RemoteAddr, r.Header)
		given = peerHost(r.RemoteAddr)
	}
	if p.ipKnown && p.facts.IP == "" {
		p.facts.IP = ipString(p.ip, given)
	}
	switch {
	case !e.cfg.Enabled:
		p.outcome = Exempt
		return
	case !p.ipKnown:
		p.outcome = UnknownClient
		return
	case ContainsIP(e.blacklist, p.ip):
		p.outcome = Blocked
		return
	}
	inWhitelist := len(e.whitelist) > 0 && ContainsIP(e.whitelist, p.ip)
	switch {
	case e.cfg.OnlyWhitelist && !inWhitelist:
		p.outcome = Blocked
		return
	case inWhitelist && (e.cfg.NeverLockoutWhitelist || e.cfg.OnlyWhitelist),
		e.cfg.NeverLockoutGet && r.Method == "GET",
		e.cfg.WhitelistFunc != nil && e.cfg.WhitelistFunc(p.facts):
		p.outcome = Exempt
		return
	}
	p.outcome = Allowed
	e.setPolicy(p)
	params := e.cfg.LockoutParameters
	if e.cfg.LockoutParametersFunc != nil {
		if ps := e.cfg.LockoutParametersFunc(p.facts); len(ps) > 0 {
			params = ps
		}
	}
	p.params = params
	if r.guarded && usernameMatters(params) {
		e.checkReading(r, p)
	}
}

// checkReading refuses the guard's reading of a request's username when it
// is not certain (docs/design.md, G9): the request is then counted under
// the client IP alone, and its handler never runs. With a UsernameFunc the
// app says where the username is, and only an empty one is uncertain.
func (e *Engine) checkReading(r *Request, p *prepared) {
	err := r.credErr
	if e.cfg.UsernameFunc != nil {
		err = nil
	}
	if err == nil && p.facts.Username == "" {
		err = e.errMissing
	}
	if err == nil {
		return
	}
	if err == e.errMissing && e.cfg.UsernameFunc == nil && !e.warnedMissing.Swap(true) {
		e.log.Warn("axes: a login request has no username field; is AXES_USERNAME_FORM_FIELD the login form's username field?",
			"field", e.cfg.UsernameFormField)
	}
	p.unreadable, p.params = err, ipOnly
}

// peerHost returns the host part of a socket peer ("h:port", "[h]:port"),
// or s itself; only a candidate for ipString, which checks it.
func peerHost(s string) string {
	if len(s) > 0 && s[0] == '[' {
		if i := strings.IndexByte(s, ']'); i > 0 {
			return s[1:i]
		}
		return s
	}
	if i := strings.IndexByte(s, ':'); i >= 0 && strings.IndexByte(s[i+1:], ':') < 0 {
		return s[:i]
	}
	return s
}

// ipString returns a.String(), reusing given when it already spells a so
// (the common case: the peer's own canonical address), without allocating.
func ipString(a netip.Addr, given string) string {
	var b [64]byte
	if t := a.AppendTo(b[:0]); string(t) == given {
		return given
	}
	return a.String()
}

// keysFor returns the lockout keys of p (Allowed) appended to dst. With
// ids, the IDs (and an IPv6 key form) are written there when they fit and
// the keys' strings alias it: only for the memory store, which copies any
// ID it keeps. Without ids, or when they do not fit, they are allocated.
func (e *Engine) keysFor(p *prepared, dst []Key, ids []byte) []Key {
	if p.outcome != Allowed {
		return dst
	}
	if ids != nil && idsFit(p, len(ids)) {
		return e.keysInline(p, dst, ids)
	}
	ipKey := p.facts.IP
	if p.ip.Is6() {
		ipKey = e.resolver.KeyForm(p.ip)
	}
	ipKey, user, ua := StoreEscape(ipKey), StoreEscape(p.facts.Username), StoreEscape(p.facts.UserAgent)
	for _, c := range p.params {
		if c.Has(ParamUsername) && p.facts.Username == "" {
			continue // as django-axes: no username, no username counter
		}
		dst = append(dst, NewKey(c, ipKey, user, ua))
	}
	return dst
}

// keysInline is keysFor writing within dst's capacity and into ids, which
// the caller checked are large enough.
func (e *Engine) keysInline(p *prepared, dst []Key, ids []byte) []Key {
	var l idLayout
	e.layoutIDs(p, ids, &l)
	ipKey := p.facts.IP
	if l.ipEnd > 0 {
		ipKey = unsafe.String(&ids[l.ipStart], l.ipEnd-l.ipStart)
	}
	start := 0
	for i := range l.n {
		c := l.params[i]
		k := Key{Params: c, ID: unsafe.String(&ids[start], l.ends[i]-start)}
		if c.Has(ParamIPAddress) {
			k.IP = ipKey
		}
		if c.Has(ParamUsername) {
			k.Username = p.facts.Username
		}
		if c.Has(ParamUserAgent) {
			k.UserAgent = p.facts.UserAgent
		}
		start = l.ends[i]
		dst = append(dst, k)
	}
	return dst
}

// idLayout says where layoutIDs wrote: key i's ID ends at ends[i] (the
// first starts at 0); an IPv6 key form is ids[ipStart:ipEnd], inside the
// first ID that has it (ipEnd 0: none, the IP is Facts.IP).
type idLayout struct {
	n              int
	ipStart, ipEnd int
	ends           [3]int
	params         [3]Combination
}

// layoutIDs writes p's key IDs into ids, which idsFit checked, recording
// where in l. It stores no pointer: its buffer may stay on the stack.
func (e *Engine) layoutIDs(p *prepared, ids []byte, l *idLayout) {
	var kf [64]byte
	var ipKey []byte
	if p.ip.Is6() {
		ipKey = appendKeyForm(kf[:0], p.ip, e.resolver)
	}
	b := ids[:0]
	for _, c := range p.params {
		if c.Has(ParamUsername) && p.facts.Username == "" {
			continue // as django-axes: no username, no username counter
		}
		b = append(b, "v1"...)
		if c.Has(ParamIPAddress) {
			if ipKey != nil {
				b = appendFieldBytes(b, 'i', ipKey)
				if l.ipEnd == 0 {
					l.ipStart, l.ipEnd = len(b)-len(ipKey), len(b)
				}
			} else {
				b = appendField(b, 'i', p.facts.IP)
			}
		}
		if c.Has(ParamUsername) {
			b = appendField(b, 'u', p.facts.Username)
		}
		if c.Has(ParamUserAgent) {
			b = appendField(b, 'a', p.facts.UserAgent)
		}
		l.ends[l.n] = len(b)
		l.params[l.n] = c
		l.n++
	}
}

// maxKeyForm is the longest IPv6 key form, "ffff:…:ffff/128".
const maxKeyForm = len("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128")

// idsFit reports whether p's key IDs fit in n bytes (an upper bound) and
// may be written inline: their fields need no StoreEscape.
func idsFit(p *prepared, n int) bool {
	if len(p.params) > 3 || len(p.facts.Username) > 1<<20 || len(p.facts.UserAgent) > 1<<20 {
		return false
	}
	if !storeSafe(p.facts.IP) || !storeSafe(p.facts.Username) || !storeSafe(p.facts.UserAgent) {
		return false
	}
	ipLen := len(p.facts.IP)
	if p.ip.Is6() {
		ipLen = maxKeyForm
	}
	need := 0
	for _, c := range p.params {
		need += 2 // "v1"
		if c.Has(ParamIPAddress) {
			need += 5 + ipLen // "|i" + 2 digits + ":"
		}
		if c.Has(ParamUsername) {
			need += 10 + len(p.facts.Username) // "|u" + at most 7 digits + ":"
		}
		if c.Has(ParamUserAgent) {
			need += 10 + len(p.facts.UserAgent)
		}
	}
	return need <= n
}

func appendFieldBytes(b []byte, tag byte, v []byte) []byte {
	b = append(b, '|', tag)
	b = strconv.AppendInt(b, int64(len(v)), 10)
	b = append(b, ':')
	return append(b, v...)
}

// appendKeyForm appends r.KeyForm(a) to b.
func appendKeyForm(b []byte, a netip.Addr, r *IPResolver) []byte {
	if !a.IsValid() {
		return b
	}
	a = a.WithZone("").Unmap()
	bits := 64
	if r != nil {
		bits = r.v6Prefix
	}
	if a.Is4() || bits >= 128 {
		return a.AppendTo(b)
	}
	p, err := a.Prefix(bits)
	if err != nil {
		return a.AppendTo(b)
	}
	return p.AppendTo(b)
}

// setPolicy resolves p's policy from its facts, in place (the hot path
// copies neither).
func (e *Engine) setPolicy(p *prepared) {
	pol := &p.policy
	*pol = e.policy
	if e.cfg.FailureLimitFunc != nil {
		if n := e.cfg.FailureLimitFunc(p.facts); n > 0 && e.cfg.LockOutAtFailure {
			pol.Limit = n
		}
	}
	if e.cfg.CoolOffFunc != nil {
		if d := e.cfg.CoolOffFunc(p.facts); d >= 0 {
			pol.CoolOff = d
		}
	}
}

// basePolicy is the policy before the per-request hooks.
func (e *Engine) basePolicy() Policy {
	pol := Policy{
		Limit:               e.cfg.FailureLimit,
		CoolOff:             e.cfg.CoolOff,
		Tiers:               e.cfg.CoolOffTiers,
		ExtendDuringLockout: e.cfg.ResetCoolOffOnFailureDuringLockout,
	}
	if !e.cfg.LockOutAtFailure {
		pol.Limit = 0
	}
	return pol
}

// storeCtx bounds a store call by StoreTimeout; the memory store needs no
// bound (and the hot path no timer). The call never ends with the
// request's own context: a client that goes away or a request past its
// deadline is no store fault (docs/design.md, G10), and what the attempt
// writes is written.
func (e *Engine) storeCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	if e.isMemory {
		return context.Background(), func() {}
	}
	if ctx == nil {
		ctx = context.Background()
	}
	return context.WithTimeout(context.WithoutCancel(ctx), e.cfg.StoreTimeout)
}

// decide fills d from counters after a store step.
func (p *prepared) decide(d *Decision, now time.Time, outcome Outcome, counters []Counter) {
	*d = Decision{Outcome: outcome, Limit: p.policy.Limit, Now: now, Username: p.facts.Username, IP: p.facts.IP}
	var last time.Time
	for i := range counters {
		c := &counters[i]
		if c.Failures > d.Failures {
			d.Failures = c.Failures
		}
		if p.policy.Limit > 0 && c.Failures >= p.policy.Limit && c.Last.After(last) {
			last = c.Last
		}
	}
	d.CoolOff = p.policy.coolOff(d.Failures)
	if !last.IsZero() && d.CoolOff > 0 {
		d.LockedUntil = last.Add(d.CoolOff)
	}
}

// Attempt is one login attempt between Begin and its report. It is not safe
// for concurrent use; report it once (later reports are no-ops). Done hands
// it back for reuse once the caller is finished with it.
type Attempt struct {
	e        *Engine
	p        prepared
	d        Decision
	counters [3]Counter
	ks       keyScratch
	pending  bool // counted in advance by Begin, not yet reported
	reported bool
	done     bool
}

// attempts recycles Attempts handed back by Done: a login decision then
// allocates nothing on the memory store.
var attempts = sync.Pool{New: func() any { return new(Attempt) }}

// Done tells the engine that the caller is finished with the attempt: it
// is abandoned if it was never reported (Abandon), and its memory is reused
// by a later Begin. The Attempt, and anything its methods returned that
// points into it, must not be used after Done; a second Done is a no-op.
// Calling Done is optional: an attempt never handed back is simply
// garbage collected. The adapters call it when the request ends.
func (a *Attempt) Done(ctx context.Context) {
	if a == nil || a.done {
		return
	}
	a.Abandon(ctx)
	a.done = true
	attempts.Put(a)
}

// Begin starts a login attempt: it resolves the request's facts and, in one
// atomic store step, refuses a locked client or counts the attempt as a
// failure in advance (taken back by Succeed or Abandon). So however many
// attempts run at once, at most FailureLimit credential checks happen per
// key inside a window (docs/design.md G1). The returned Attempt's Decision says
// whether the login handler may run.
func (e *Engine) Begin(ctx context.Context, r *Request) *Attempt {
	a := attempts.Get().(*Attempt)
	// Reset what is read before it is written; the key scratch and the
	// counters are always written first.
	a.e, a.p, a.d = e, prepared{}, Decision{}
	a.pending, a.reported, a.done = false, false, false
	now := e.clock()
	e.prepare(r, &a.p)
	p := &a.p
	if e.mem != nil {
		p.keys = e.keysFor(p, a.ks.buf[:0], a.ks.ids[:])
	} else {
		p.keys = e.keysFor(p, a.ks.buf[:0], nil)
	}
	switch p.outcome {
	case Exempt:
		a.d = Decision{Outcome: Exempt, Now: now, Username: p.facts.Username, IP: p.facts.IP}
		return a
	case Blocked, UnknownClient:
		a.d = Decision{Outcome: p.outcome, Now: now, Username: p.facts.Username, IP: p.facts.IP, Limit: e.cfg.FailureLimit}
		e.emit(ctx, p, Event{Kind: EventRefused, Time: now, Outcome: p.outcome})
		return a
	}
	if len(p.keys) == 0 {
		a.d = Decision{Outcome: Allowed, Now: now, Username: p.facts.Username, IP: p.facts.IP, Limit: p.policy.Limit}
		return a
	}
	out := a.counters[:len(p.keys)]
	var locked bool
	var err error
	if e.mem != nil {
		locked, err = e.mem.Hit(context.Background(), p.keys, now, p.policy, out)
	} else {
		sctx, cancel := e.storeCtx(ctx)
		locked, err = e.store.Hit(sctx, p.keys, now, p.policy, out)
		cancel()
	}
	if err != nil {
		a.d = e.storeFailed(ctx, p, now, "hit", err)
		return a
	}
	if locked {
		p.decide(&a.d, now, Locked, out)
		e.emit(ctx, p, Event{Kind: EventRefused, Time: now, Outcome: Locked, Failures: a.d.Failures, Limit: a.d.Limit, CoolOff: a.d.CoolOff})
		return a
	}
	a.pending = true
	p.decide(&a.d, now, Allowed, out)
	a.d.Failures-- // the attempt's own advance count is not a failure yet
	a.d.LockedUntil = time.Time{}
	return a
}

func (e *Engine) storeFailed(ctx context.Context, p *prepared, now time.Time, op string, err error) Decision {
	outcome := Unavailable
	if e.cfg.FailOpen {
		outcome = FailedOpen
	}
	err = fmt.Errorf("%w: %s: %w", ErrStoreUnavailable, op, err)
	e.emit(ctx, p, Event{Kind: EventStoreError, Time: now, Outcome: outcome, Op: op, Err: err})
	return Decision{Outcome: outcome, Now: now, Username: p.facts.Username, IP: p.facts.IP, Limit: p.policy.Limit, Err: err}
}

// Decision returns the attempt's current decision.
func (a *Attempt) Decision() Decision { return a.d }

// Facts returns what core resolved from the request.
func (a *Attempt) Facts() Facts { return a.p.facts }

// Response returns the response for a refused attempt (a lockout, a block,
// an unknown client or a store outage), or nil when it was not refused.
func (a *Attempt) Response() *Response {
	if !a.d.Refused() {
		return nil
	}
	return a.e.Response(a.p.facts, a.d)
}

// Fail reports that the credentials were wrong. The failure was counted when
// the attempt began; Fail records it, fires the events and returns the new
// decision: Locked when this failure reached the limit (the limit-th failure
// is answered with the lockout response, as in django-axes). Only the first
// report of an attempt counts.
func (a *Attempt) Fail(ctx context.Context) Decision {
	e, p := a.e, &a.p
	if a.reported || a.d.Refused() || a.d.Outcome == FailedOpen {
		return a.d
	}
	a.reported = true
	switch {
	case a.d.Outcome == Exempt:
		if e.cfg.Enabled {
			e.log.LogAttrs(ctx, slog.LevelInfo, "axes: login failed from whitelisted client", e.clientAttrs(p)...)
		}
		return a.d
	case !a.pending:
		// No key applied (no username under username-only parameters):
		// nothing is counted, but the failure is recorded.
		e.recordFailure(ctx, p, &a.d, false)
		e.emit(ctx, p, Event{Kind: EventLoginFailed, Time: a.d.Now, Limit: a.d.Limit})
		return a.d
	}
	a.pending = false
	d := &a.d
	p.decide(d, d.Now, Allowed, a.counters[:len(p.keys)])
	crossed := false
	if d.Limit > 0 && d.Failures >= d.Limit {
		d.Outcome = Locked
		for _, c := range a.counters[:len(p.keys)] {
			if c.Failures == d.Limit {
				crossed = true
			}
		}
	} else {
		d.LockedUntil = time.Time{}
	}
	e.recordFailure(ctx, p, d, d.Outcome == Locked)
	e.emit(ctx, p, Event{Kind: EventLoginFailed, Time: d.Now, Failures: d.Failures, Limit: d.Limit, CoolOff: d.CoolOff})
	if crossed {
		e.emit(ctx, p, Event{Kind: EventLockedOut, Time: d.Now, Outcome: Locked, Failures: d.Failures, Limit: d.Limit, CoolOff: d.CoolOff})
	}
	return *d
}

// Succeed reports a successful login: the advance count is taken back (or,
// with ResetOnSuccess, the attempt's keys are cleared) and the login is
// logged. Only the first report of an attempt counts.
func (a *Attempt) Succeed(ctx context.Context) {
	if a.reported || a.d.Refused() {
		return
	}
	a.reported = true
	pending := a.pending
	a.pending = false
	a.e.succeed(ctx, &a.p, a.d.Now, pending)
}

// Abandon reports that the attempt neither failed nor succeeded (a form
// with a missing field, say): the advance count is taken back.
func (a *Attempt) Abandon(ctx context.Context) {
	if a.reported {
		return
	}
	a.reported = true
	if a.pending {
		a.pending = false
		a.e.release(ctx, &a.p, a.d.Now)
	}
}

func (e *Engine) release(ctx context.Context, p *prepared, now time.Time) {
	e.write(ctx, p, now, "release", func(ctx context.Context) error {
		return e.store.Release(ctx, p.keys, now, p.policy)
	})
}

// write runs a store write whose failure is only reported (storeFailed, as
// op), bounded by StoreTimeout.
func (e *Engine) write(ctx context.Context, p *prepared, now time.Time, op string, call func(context.Context) error) {
	sctx, cancel := e.storeCtx(ctx)
	err := call(sctx)
	cancel()
	if err != nil {
		e.storeFailed(ctx, p, now, op, err)
	}
}

func (e *Engine) succeed(ctx context.Context, p *prepared, now time.Time, pending bool) {
	if !e.cfg.Enabled {
		return
	}
	counted := len(p.keys) > 0 && p.outcome == Allowed
	logged := e.records != nil && !e.cfg.DisableAccessLog
	switch ls, ok := e.records.(LoginStore); {
	case ok && counted && pending && logged && !e.cfg.ResetOnSuccess:
		// The release and the access log in one store step.
		e.write(ctx, p, now, "record login", func(ctx context.Context) error {
			return ls.ReleaseAndRecordLogin(ctx, p.keys, now, p.policy, e.accessLog(p, now))
		})
	default:
		if counted && e.cfg.ResetOnSuccess {
			e.write(ctx, p, now, "clear", func(ctx context.Context) error { return e.store.Clear(ctx, p.keys) })
		} else if counted && pending {
			e.release(ctx, p, now)
		}
		if logged {
			e.write(ctx, p, now, "record login", func(ctx context.Context) error {
				return e.records.RecordLogin(ctx, e.accessLog(p, now))
			})
		}
	}
	e.emit(ctx, p, Event{Kind: EventLoggedIn, Time: now})
}

func (e *Engine) accessLog(p *prepared, now time.Time) AccessLog {
	return AccessLog{Username: p.facts.Username, IP: p.facts.IP, UserAgent: clip(p.facts.UserAgent, 512), Path: clip(p.facts.Path, 512), LoginTime: now}
}

func (e *Engine) recordFailure(ctx context.Context, p *prepared, d *Decision, lockedOut bool) {
	if e.records == nil {
		return
	}
	r := p.facts.Request
	rec := AttemptRecord{
		Username:     p.facts.Username,
		IP:           p.facts.IP,
		UserAgent:    clip(p.facts.UserAgent, 512),
		Accept:       clip(r.header("Accept"), 512),
		Path:         clip(p.facts.Path, 512),
		GetData:      e.maskedQuery(r.RawQuery),
		PostData:     e.masked(r.Form),
		Failures:     1,
		FirstAttempt: d.Now,
		LastAttempt:  d.Now,
	}
	e.write(ctx, p, d.Now, "record failure", func(ctx context.Context) error {
		return e.records.RecordFailure(ctx, rec, e.cfg.EnableAccessFailureLog, lockedOut, e.cfg.AccessFailureLogPerUserLimit)
	})
}

// ReportFailure records a failed login for a request whose handler checked
// the credentials itself, without Begin (the analog of sending
// user_login_failed). A client already locked is refused and, with
// ResetCoolOffOnFailureDuringLockout, counted again.
func (e *Engine) ReportFailure(ctx context.Context, r *Request) Decision {
	a := e.Begin(ctx, r)
	defer a.Done(ctx)
	if a.d.Refused() || a.d.Outcome == FailedOpen {
		return a.d
	}
	return a.Fail(ctx)
}

// ReportSuccess records a successful login made without Begin (the analog
// of user_logged_in): the access log, and with ResetOnSuccess the keys of
// the request are cleared.
func (e *Engine) ReportSuccess(ctx context.Context, r *Request) {
	var p prepared
	now := e.clock()
	e.prepare(r, &p)
	if p.outcome != Allowed && p.outcome != Exempt {
		return
	}
	p.keys = e.keysFor(&p, nil, nil)
	e.succeed(ctx, &p, now, false)
}

// ReportLogout records a logout (the analog of user_logged_out).
func (e *Engine) ReportLogout(ctx context.Context, r *Request) {
	if !e.cfg.Enabled {
		return
	}
	var p prepared
	now := e.clock()
	e.prepare(r, &p)
	if e.records != nil && !e.cfg.DisableAccessLog {
		e.write(ctx, &p, now, "record logout", func(ctx context.Context) error {
			return e.records.RecordLogout(ctx, p.facts.Username, p.facts.IP, now)
		})
	}
	e.emit(ctx, &p, Event{Kind: EventLoggedOut, Time: now})
}

// Status returns the decision a request would get now, changing nothing.
func (e *Engine) Status(ctx context.Context, r *Request) (d Decision) {
	if e.mem == nil {
		return e.statusStore(ctx, r)
	}
	// The memory store, called directly: nothing here escapes to the heap.
	var p prepared
	now := e.clock()
	e.prepareFacts(r, &p, e.statusUA)
	if p.outcome != Allowed || !idsFit(&p, statusIDBytes) {
		if p.outcome == Allowed {
			return e.statusStore(ctx, r) // IDs too long for the stack buffer, or escaped
		}
		return Decision{Outcome: p.outcome, Now: now, Username: p.facts.Username, IP: p.facts.IP, Limit: p.policy.Limit}
	}
	var ids [statusIDBytes]byte
	var l idLayout
	e.layoutIDs(&p, ids[:], &l)
	if l.n == 0 {
		return Decision{Outcome: p.outcome, Now: now, Username: p.facts.Username, IP: p.facts.IP, Limit: p.policy.Limit}
	}
	var buf [3]Counter
	out := buf[:l.n]
	if err := e.mem.peekIDs(context.Background(), ids[:], 0, l.ends[:l.n], now, &p.policy, out); err != nil {
		return e.storeFailed(ctx, &p, now, "peek", err)
	}
	p.statusInto(&d, now, out)
	return d
}

func (e *Engine) statusStore(ctx context.Context, r *Request) Decision {
	var p prepared
	now := e.clock()
	e.prepare(r, &p)
	p.keys = e.keysFor(&p, nil, nil)
	base := Decision{Outcome: p.outcome, Now: now, Username: p.facts.Username, IP: p.facts.IP, Limit: p.policy.Limit}
	if p.outcome != Allowed || len(p.keys) == 0 {
		return base
	}
	out := make([]Counter, len(p.keys))
	sctx, cancel := e.storeCtx(ctx)
	err := e.store.Peek(sctx, p.keys, now, p.policy, out)
	cancel()
	if err != nil {
		return e.storeFailed(ctx, &p, now, "peek", err)
	}
	return p.status(now, out)
}

// status is the decision of Status from the counters read.
func (p *prepared) status(now time.Time, out []Counter) (d Decision) {
	p.statusInto(&d, now, out)
	return d
}

// statusInto is status writing into d.
func (p *prepared) statusInto(d *Decision, now time.Time, out []Counter) {
	locked := false
	if p.policy.Limit > 0 {
		for i := range out {
			c := &out[i]
			locked = locked || (c.Failures >= p.policy.Limit && !p.policy.expired(c, now))
		}
	}
	if locked {
		p.decide(d, now, Locked, out)
		return
	}
	p.decide(d, now, Allowed, out)
	d.LockedUntil = time.Time{}
}

func orBackground(ctx context.Context) context.Context {
	if ctx == nil {
		return context.Background()
	}
	return ctx
}

// Reset removes the counters and attempt records that match f (as
// django-axes' reset(ip=), reset(username=), reset(ip=, username=)) and
// returns how many attempt records it removed. f goes through
// CanonicalFilter first: a filter that names nothing, a username that is
// empty once canonicalised or an IP address that does not parse is refused
// with an error wrapping ErrBadFilter, and nothing is reset. ResetAll
// resets everything.
func (e *Engine) Reset(ctx context.Context, f Filter) (int, error) {
	f, err := e.CanonicalFilter(f)
	if err != nil {
		return 0, err
	}
	return e.reset(ctx, f)
}

// reset is Reset of a canonical filter; the zero Filter is everything
// (ResetAll).
func (e *Engine) reset(ctx context.Context, f Filter) (int, error) {
	now := e.clock()
	if f.Username != "" && (f.IP == "" || f.Either) {
		if err := e.clearUsersOtherKeys(ctx, f.Username); err != nil {
			return 0, fmt.Errorf("axes: reset: %w", err)
		}
	}
	sctx, cancel := e.storeCtx(ctx)
	n, err := e.store.Reset(sctx, f.storeSafe())
	cancel()
	if err != nil {
		return 0, fmt.Errorf("axes: reset: %w", err)
	}
	kind := "all"
	switch {
	case f.IP != "" && f.Username != "" && f.Either:
		kind = "ip_or_username"
	case f.IP != "" && f.Username != "":
		kind = "ip_username"
	case f.IP != "":
		kind = "ip"
	case f.Username != "":
		kind = "username"
	}
	e.emit(ctx, &prepared{facts: Facts{IP: f.IP, Username: f.Username}}, Event{Kind: EventReset, Time: now, Removed: n, ResetKind: kind})
	return n, nil
}

// clearUsersOtherKeys clears the counters that a username's recorded
// failures fed without naming the username: its IP and IP+user-agent keys.
// django-axes counts IP lockouts by summing attempt rows, so deleting a
// user's rows unlocks the IPs they locked; these counters are shared, so
// clearing them is how a reset by username unlocks that user here too. It
// needs the store's records; without them only username keys are reset.
func (e *Engine) clearUsersOtherKeys(ctx context.Context, username string) error {
	if e.records == nil {
		return nil
	}
	var combos []Combination
	for _, c := range e.cfg.LockoutParameters {
		if !c.Has(ParamUsername) {
			combos = append(combos, c)
		}
	}
	if len(combos) == 0 {
		return nil
	}
	sctx, cancel := e.storeCtx(ctx)
	defer cancel()
	recs, _, err := e.records.Attempts(sctx, ListQuery{Filter: Filter{Username: username}, Limit: 1000})
	if err != nil {
		return err
	}
	var keys []Key
	for _, r := range recs {
		a, err := netip.ParseAddr(r.IP)
		if err != nil {
			continue
		}
		ipKey := a.String()
		if a.Is6() {
			ipKey = e.resolver.KeyForm(a)
		}
		for _, c := range combos {
			// r.UserAgent is as stored: escaped already, as keysFor escapes.
			keys = append(keys, NewKey(c, ipKey, "", r.UserAgent))
		}
	}
	if len(keys) == 0 {
		return nil
	}
	return e.store.Clear(sctx, keys)
}

// ResetRequest resets the lockout of the request's own client: its IP and
// the username in its "username" query parameter (django-axes'
// reset_request). It never resets everything: a request whose IP cannot be
// resolved and that names no username (or one that is empty once
// canonicalised) resets nothing.
func (e *Engine) ResetRequest(ctx context.Context, r *Request) (int, error) {
	var p prepared
	e.prepare(r, &p)
	q, _ := url.ParseQuery(r.RawQuery)
	f := Filter{IP: p.facts.IP, Either: true}
	if u := q.Get("username"); e.filterUsername(u) != "" {
		f.Username = u
	}
	if f.IP == "" && f.Username == "" {
		return 0, nil
	}
	return e.Reset(ctx, f)
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}
