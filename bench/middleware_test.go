package bench

import (
	"bytes"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/gofiber/fiber/v2"
	"github.com/labstack/echo/v4"
	"github.com/valyala/fasthttp"

	axesecho "github.com/goaxes/axes/adapters/echo"
	axesfiber "github.com/goaxes/axes/adapters/fiber"
	axesgin "github.com/goaxes/axes/adapters/gin"
	axeshttp "github.com/goaxes/axes/adapters/nethttp"
	"github.com/goaxes/axes/core"
)

// The middleware benchmarks send three requests through each real router,
// with axes' middleware on the login route and without it (the baseline):
//
//   - other:  GET /hello, a route that is not a login route;
//   - login:  POST /login with a form, allowed, the handler answers 200
//     (a success: the advance count is taken back), over 1,000 clients;
//   - locked: the same POST from a locked client: axes refuses it with
//     the lockout response, the baseline runs the bare 200 handler.
const (
	loginBody   = "username=alice&password=wonderland"
	formType    = "application/x-www-form-urlencoded"
	lockedAddr  = "192.0.2.99:40000"
	helloPath   = "/hello"
	loginPath   = "/login"
	mwKeysCount = 1_000
)

var mwRoutes = []string{"other", "login", "locked"}

// mwEngine is an engine whose lockedAddr is locked.
func mwEngine(tb testing.TB) *core.Engine {
	tb.Helper()
	e := newEngine(tb, core.NewMemoryStore(core.MemoryOptions{}), 3)
	populate(tb, e, []string{lockedAddr}, 3)
	return e
}

// A router under test: serve sends one request (route, client) through
// it and returns the status.
type router interface {
	serve(route string, addr string) int
}

type framework struct {
	name string
	// build returns a router (with axes' middleware on the login route
	// when e is not nil); call it once per goroutine.
	build func(e *core.Engine) func() router
}

var frameworks = []framework{
	{"nethttp", newNetHTTP},
	{"gin", newGin},
	{"echo", newEcho},
	{"fiber", newFiber},
}

// reusableBody is a request body that can be rewound without allocating.
type reusableBody struct{ bytes.Reader }

func (*reusableBody) Close() error { return nil }

// recorder is a minimal ResponseWriter, reused between requests.
type recorder struct {
	h      http.Header
	status int
}

func (w *recorder) Header() http.Header { return w.h }
func (w *recorder) WriteHeader(s int) {
	if w.status == 0 {
		w.status = s
	}
}
func (w *recorder) Write(p []byte) (int, error) { w.WriteHeader(200); return len(p), nil }
func (w *recorder) reset()                      { clear(w.h); w.status = 0 }

// stdRouter sends *http.Request values through an http.Handler.
type stdRouter struct {
	h           http.Handler
	hello, post *http.Request
	body        *reusableBody
	w           recorder
}

func newStdRouter(h http.Handler) *stdRouter {
	r := &stdRouter{h: h, body: &reusableBody{}, w: recorder{h: http.Header{}}}
	r.hello, _ = http.NewRequest(http.MethodGet, helloPath, nil)
	r.post, _ = http.NewRequest(http.MethodPost, loginPath, nil)
	r.post.Header.Set("Content-Type", formType)
	return r
}

func (r *stdRouter) serve(route, addr string) int {
	r.w.reset()
	req := r.hello
	if route != "other" {
		req = r.post
		r.body.Reset([]byte(loginBody))
		req.Body = r.body
		req.ContentLength = int64(len(loginBody))
		req.PostForm, req.Form = nil, nil
	}
	req.RemoteAddr = addr
	r.h.ServeHTTP(&r.w, req)
	if r.w.status == 0 {
		return 200
	}
	return r.w.status
}

func ok(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") }

func newNetHTTP(e *core.Engine) func() router {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+helloPath, ok)
	mux.HandleFunc("POST "+loginPath, ok)
	var h http.Handler = mux
	if e != nil {
		h = axeshttp.Middleware(e, axeshttp.Options{Paths: []string{loginPath}})(mux)
	}
	return func() router { return newStdRouter(h) }
}

func newGin(e *core.Engine) func() router {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	if e != nil {
		r.Use(axesgin.Middleware(e, axesgin.Options{Paths: []string{loginPath}}))
	}
	okGin := func(c *gin.Context) { c.String(200, "ok") }
	r.GET(helloPath, okGin)
	r.POST(loginPath, okGin)
	return func() router { return newStdRouter(r) }
}

func newEcho(e *core.Engine) func() router {
	r := echo.New()
	if e != nil {
		r.Use(axesecho.MiddlewareWithConfig(e, axesecho.Config{Paths: []string{loginPath}}))
	}
	okEcho := func(c echo.Context) error { return c.String(200, "ok") }
	r.GET(helloPath, okEcho)
	r.POST(loginPath, okEcho)
	return func() router { return newStdRouter(r) }
}

// fiberRouter drives fiber's fasthttp handler with one reused RequestCtx,
// as fiber's server does.
type fiberRouter struct {
	h     fasthttp.RequestHandler
	ctx   fasthttp.RequestCtx
	addrs map[string]net.Addr
}

func (r *fiberRouter) serve(route, addr string) int {
	a, found := r.addrs[addr]
	if !found {
		a = net.TCPAddrFromAddrPort(netip.MustParseAddrPort(addr))
		r.addrs[addr] = a
	}
	var req fasthttp.Request
	if route == "other" {
		req.Header.SetMethod(http.MethodGet)
		req.SetRequestURI(helloPath)
	} else {
		req.Header.SetMethod(http.MethodPost)
		req.SetRequestURI(loginPath)
		req.Header.SetContentType(formType)
		req.SetBodyString(loginBody)
	}
	r.ctx.Response.Reset() // as fasthttp's server does between requests
	r.ctx.Init(&req, a, nil)
	r.h(&r.ctx)
	return r.ctx.Response.StatusCode()
}

func newFiber(e *core.Engine) func() router {
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	if e != nil {
		app.Use(axesfiber.Middleware(e, axesfiber.Config{Paths: []string{loginPath}}))
	}
	okFiber := func(c *fiber.Ctx) error { return c.SendString("ok") }
	app.Get(helloPath, okFiber)
	app.Post(loginPath, okFiber)
	h := app.Handler()
	return func() router { return &fiberRouter{h: h, addrs: map[string]net.Addr{}} }
}

// BenchmarkMiddleware measures each framework's router with and without
// axes' middleware on the three requests above.
func BenchmarkMiddleware(b *testing.B) {
	_, addrs := keySet(mwKeysCount, false)
	e := mwEngine(b)
	for _, fw := range frameworks {
		variants := []struct {
			name string
			new  func() router
		}{{"baseline", fw.build(nil)}, {"axes", fw.build(e)}}
		for _, route := range mwRoutes {
			want := 200
			for _, v := range variants {
				if route == "locked" && v.name == "axes" {
					want = http.StatusTooManyRequests
				}
				for _, m := range modes {
					b.Run(fw.name+"/"+route+"/"+v.name+"/"+m.name, func(b *testing.B) {
						runRouter(b, v.new, route, addrs, want, m.parallel)
					})
				}
			}
		}
	}
}

func runRouter(b *testing.B, newRouter func() router, route string, addrs []string, want int, parallel bool) {
	pick := func(j int) string {
		if route == "locked" {
			return lockedAddr
		}
		return addrs[j]
	}
	fail := func(got int) {
		b.Errorf("%s: status %d, want %d", route, got, want)
	}
	b.ReportAllocs()
	if !parallel {
		r := newRouter()
		b.ResetTimer()
		j := 0
		for range b.N {
			if got := r.serve(route, pick(j)); got != want {
				fail(got)
				return
			}
			if j++; j == len(addrs) {
				j = 0
			}
		}
		return
	}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		r := newRouter()
		j := rand.IntN(len(addrs))
		for pb.Next() {
			if got := r.serve(route, pick(j)); got != want {
				fail(got)
				return
			}
			if j++; j == len(addrs) {
				j = 0
			}
		}
	})
}

// TestRouters checks, quickly and without services, that every router
// answers the three requests as the benchmarks expect.
func TestRouters(t *testing.T) {
	e := mwEngine(t)
	for _, fw := range frameworks {
		for _, withAxes := range []bool{false, true} {
			var eng *core.Engine
			if withAxes {
				eng = e
			}
			r := fw.build(eng)()
			for _, route := range mwRoutes {
				want := 200
				if route == "locked" && withAxes {
					want = http.StatusTooManyRequests
				}
				addr := "10.0.0.1:40000"
				if route == "locked" {
					addr = lockedAddr
				}
				for range 3 { // the allowed login stays allowed: successes take their count back
					if got := r.serve(route, addr); got != want {
						t.Fatalf("%s axes=%v %s: status %d, want %d", fw.name, withAxes, route, got, want)
					}
				}
			}
		}
	}
}
