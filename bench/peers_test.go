package bench

import (
	"context"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/go-chi/httprate"
	"github.com/redis/go-redis/v9"
	sethvargo "github.com/sethvargo/go-limiter"
	"github.com/sethvargo/go-limiter/memorystore"
	"github.com/ulule/limiter/v3"
	ulmemory "github.com/ulule/limiter/v3/drivers/store/memory"
	ulredis "github.com/ulule/limiter/v3/drivers/store/redis"
)

// A peer counts failures per key and decides "locked?", configured to the
// closest equivalent of 5 failures per key per 15-minute window. fail is one
// counted failure and its decision (true: over the limit); check reads a
// key's state without counting (true: still allowed).
type peer interface {
	fail(ctx context.Context, key string) bool
	check(ctx context.Context, key string) bool
}

const peerWindow = 15 * time.Minute

var peers = []struct {
	name string
	new  func(tb testing.TB) peer
}{
	{"ulule-memory", newUluleMemory},
	{"httprate-local", newHTTPRate},
	{"sethvargo-memory", newSethvargo},
}

// ulule/limiter v3: fixed window; Get counts one and reports Reached, Peek
// reads.
type ulule struct {
	store limiter.Store
	rate  limiter.Rate
}

func newUluleMemory(testing.TB) peer {
	return &ulule{store: ulmemory.NewStore(), rate: limiter.Rate{Period: peerWindow, Limit: peerLimit}}
}

// newUluleRedisClient is ulule's Redis store on the caller's client.
func newUluleRedisClient(rdb *redis.Client) (*ulule, error) {
	s, err := ulredis.NewStoreWithOptions(rdb, limiter.StoreOptions{Prefix: "ulule-bench", MaxRetry: 3})
	if err != nil {
		return nil, err
	}
	return &ulule{store: s, rate: limiter.Rate{Period: peerWindow, Limit: peerLimit}}, nil
}

func (u *ulule) fail(ctx context.Context, key string) bool {
	c, err := u.store.Get(ctx, key, u.rate)
	return err == nil && c.Reached
}

func (u *ulule) check(ctx context.Context, key string) bool {
	c, err := u.store.Peek(ctx, key, u.rate)
	return err == nil && !c.Reached
}

// go-chi/httprate: its local sliding-window counter under one mutex held
// across Get and IncrementBy, as its RateLimiter.OnLimit does (without the
// response headers it formats).
type httpRate struct {
	mu sync.Mutex
	c  httprate.LimitCounter
}

func newHTTPRate(testing.TB) peer {
	c := httprate.NewLocalLimitCounter(peerWindow)
	c.Config(peerLimit, peerWindow)
	return &httpRate{c: c}
}

func (h *httpRate) rate(key string) (float64, time.Time) {
	now := time.Now().UTC()
	cur := now.Truncate(peerWindow)
	curN, prevN, _ := h.c.Get(key, cur, cur.Add(-peerWindow))
	diff := now.Sub(cur)
	return float64(prevN)*(float64(peerWindow)-float64(diff))/float64(peerWindow) + float64(curN), cur
}

func (h *httpRate) fail(_ context.Context, key string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	r, cur := h.rate(key)
	if int(math.Round(r))+1 > peerLimit {
		return true
	}
	_ = h.c.IncrementBy(key, cur, 1)
	return false
}

func (h *httpRate) check(_ context.Context, key string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	r, _ := h.rate(key)
	return int(math.Round(r)) < peerLimit
}

// sethvargo/go-limiter: token bucket refilled per interval; Take spends one
// token (false: none left), Get reads.
type sethvargoPeer struct{ s sethvargo.Store }

func newSethvargo(tb testing.TB) peer {
	s, err := memorystore.New(&memorystore.Config{Tokens: peerLimit, Interval: peerWindow})
	if err != nil {
		tb.Fatal(err)
	}
	return &sethvargoPeer{s}
}

func (p *sethvargoPeer) fail(ctx context.Context, key string) bool {
	_, _, _, ok, err := p.s.Take(ctx, key)
	return err == nil && !ok
}

func (p *sethvargoPeer) check(ctx context.Context, key string) bool {
	_, remaining, err := p.s.Get(ctx, key)
	return err == nil && remaining > 0
}

// runPeer runs a peer's fail or check over keys.
func runPeer(b *testing.B, p peer, op string, keys []string, parallel bool) {
	ctx := context.Background()
	f := p.fail
	if op == "check" {
		f = p.check
	}
	each(b, parallel, len(keys), func(i int) { f(ctx, keys[i]) })
}
