package axesecho

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goaxes/axes/core"
)

// A handler wrapped twice is wrapped once and remembered; another handler
// gets its own wrapping; a handler made for one request is not kept.
func TestWrapRemembersRouteHandlers(t *testing.T) {
	e, err := core.New(core.DefaultConfig())
	require.NoError(t, err)
	m := &middleware{e: e}
	a := func(c echo.Context) error { return c.String(http.StatusOK, "a") }
	b := func(c echo.Context) error { return c.String(http.StatusOK, "b") }
	first := m.wrap(a)
	second := m.wrap(a)
	third := m.wrap(a)
	assert.NotEqual(t, funcAddr(first), funcAddr(second), "seen once: not kept yet")
	assert.Equal(t, funcAddr(second), funcAddr(third), "seen twice: kept")
	hb := m.wrap(b)
	assert.NotEqual(t, funcAddr(third), funcAddr(hb))
	for h, want := range map[*echo.HandlerFunc]string{&third: "a", &hb: "b"} {
		rec := httptest.NewRecorder()
		c := echo.New().NewContext(httptest.NewRequest(http.MethodGet, "/", nil), rec)
		require.NoError(t, (*h)(c))
		assert.Equal(t, want, rec.Body.String())
	}
	once := func(c echo.Context) error { return nil }
	m.wrap(once)
	for i := range m.cache {
		if w := m.cache[i].Load(); w != nil {
			assert.NotEqual(t, funcAddr(once), funcAddr(w.next), "a handler seen once is not kept")
		}
	}
}
