// Package core is the framework-neutral engine of axes: brute-force login
// protection with the behaviour of django-axes.
//
//	request ─► adapter (gin | echo | fiber | nethttp) ─► core.Engine ─► core.Store
//	               │   translates framework ⇄ core          │  decides       MemoryStore (here, the default)
//	               │   writes core's Response               │  records       stores/sqlitestore, pgstore, redisstore
//	               ▼                                        ▼
//	        the app's login handler                   events: slog, metrics, hooks
//
// An adapter drives one login attempt through its life:
//
//	a := engine.Begin(ctx, &core.Request{RemoteAddr: …, Header: …, Username: …})
//	defer a.Done(ctx) // optional: the Attempt's memory is reused
//	if a.Decision().Refused() {
//		write(a.Response()) // lockout, blacklist, unknown client or store outage
//		return
//	}
//	ok := checkPassword(…)
//	if ok {
//		a.Succeed(ctx)
//	} else if d := a.Fail(ctx); d.Outcome == core.Locked {
//		write(a.Response()) // the limit-th failure is answered with the lockout
//	}
//
// Begin counts the attempt atomically before the credentials are checked and
// Succeed takes the count back, so however many attempts arrive at once, no
// lockout key sees more than FailureLimit credential checks (docs/design.md G1).
//
// Lockout parameters are alternatives (OR), each a combination of
// ip_address, username and user_agent (AND); a client is locked when any
// alternative's count reaches the limit. The cool-off runs from the last
// failure. Client IPs come from the socket peer unless it is a trusted proxy
// (G2); usernames are canonicalised (G3); the memory store is bounded (G4);
// passwords never reach a store, a log line or an event (G5); a failing
// store follows one policy, fail closed by default (G6).
//
// Engine and MemoryStore are safe for concurrent use; an Attempt belongs to
// one request.
package core
