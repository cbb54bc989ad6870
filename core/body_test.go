package core_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goaxes/axes/core"
)

// trackedBody records reads and Close.
type trackedBody struct {
	r      io.Reader
	read   int
	closed bool
}

func (b *trackedBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	b.read += n
	return n, err
}

func (b *trackedBody) Close() error { b.closed = true; return nil }

// failingBody returns some bytes, then an error.
type failingBody struct{ data []byte }

var errBroken = errors.New("broken pipe")

func (b *failingBody) Read(p []byte) (int, error) {
	if len(b.data) == 0 {
		return 0, errBroken
	}
	n := copy(p, b.data)
	b.data = b.data[n:]
	return n, nil
}

func (b *failingBody) Close() error { return nil }

func TestReadBody(t *testing.T) {
	tests := []struct {
		name         string
		body         string
		max          int64
		wantPrefix   string
		wantComplete bool
	}{
		{name: "short", body: "username=alice", max: 64, wantPrefix: "username=alice", wantComplete: true},
		{name: "exactly max", body: "abcd", max: 4, wantPrefix: "abcd", wantComplete: true},
		{name: "one over max", body: "abcde", max: 4, wantPrefix: "abcde", wantComplete: false},
		{name: "far over max", body: strings.Repeat("x", 1<<20), max: 10, wantPrefix: strings.Repeat("x", 11), wantComplete: false},
		{name: "empty", body: "", max: 10, wantPrefix: "", wantComplete: true},
		{name: "zero max", body: "a", max: 0, wantPrefix: "a", wantComplete: false},
		{name: "negative max is zero", body: "ab", max: -5, wantPrefix: "a", wantComplete: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			orig := &trackedBody{r: strings.NewReader(tt.body)}
			prefix, restored, complete, err := core.ReadBody(orig, tt.max)
			require.NoError(t, err)
			assert.Equal(t, tt.wantPrefix, string(prefix))
			assert.Equal(t, tt.wantComplete, complete)
			assert.LessOrEqual(t, orig.read, len(tt.wantPrefix), "read more than max+1 bytes before the handler asked")

			all, err := io.ReadAll(restored)
			require.NoError(t, err)
			assert.Equal(t, tt.body, string(all), "the handler must see the whole body")
			require.NoError(t, restored.Close())
			assert.True(t, orig.closed, "Close must close the original body")
		})
	}
	t.Run("nil body", func(t *testing.T) {
		prefix, restored, complete, err := core.ReadBody(nil, 10)
		require.NoError(t, err)
		assert.Nil(t, prefix)
		assert.Nil(t, restored)
		assert.True(t, complete)
	})
	t.Run("read error", func(t *testing.T) {
		prefix, restored, complete, err := core.ReadBody(&failingBody{data: []byte("user")}, 10)
		require.ErrorIs(t, err, errBroken)
		assert.False(t, complete)
		assert.Equal(t, "user", string(prefix))
		require.NotNil(t, restored)
		got, err := io.ReadAll(restored)
		assert.ErrorIs(t, err, errBroken)
		assert.Equal(t, "user", string(got))
	})
}

func multipartBody(t *testing.T, build func(w *multipart.Writer)) (string, []byte) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	build(w)
	require.NoError(t, w.Close())
	return w.FormDataContentType(), buf.Bytes()
}

func TestParseFields(t *testing.T) {
	mpType, mpBody := multipartBody(t, func(w *multipart.Writer) {
		require.NoError(t, w.WriteField("username", "alice"))
		require.NoError(t, w.WriteField("password", "secret"))
		fw, err := w.CreateFormFile("avatar", "a.png")
		require.NoError(t, err)
		_, _ = fw.Write([]byte("PNG..."))
		require.NoError(t, w.WriteField("big", strings.Repeat("b", 10000)))
	})
	tests := []struct {
		name        string
		contentType string
		body        string
		complete    bool
		want        url.Values
	}{
		{
			name: "form", contentType: "application/x-www-form-urlencoded",
			body: "username=alice&password=s%3Dcret&next=%2F", complete: true,
			want: url.Values{"username": {"alice"}, "password": {"s=cret"}, "next": {"/"}},
		},
		{
			name: "form with charset and bad pairs kept partly", contentType: "application/x-www-form-urlencoded; charset=utf-8",
			body: "a=%zz&username=bob&x;y=1&&username=eve", complete: true,
			want: url.Values{"username": {"bob", "eve"}},
		},
		{
			name: "form invalid UTF-8 kept as bytes", contentType: "application/x-www-form-urlencoded",
			body: "username=%FFalice", complete: true,
			want: url.Values{"username": {"\xffalice"}},
		},
		{
			name: "form incomplete", contentType: "application/x-www-form-urlencoded",
			body: "username=alice", complete: false, want: nil,
		},
		{
			name: "json", contentType: "application/json",
			body:     `{"username":"alice","password":"x","n":12.50,"ok":true,"no":false,"nil":null,"nested":{"username":"eve"},"list":["a",{"b":1}],"after":"yes"}`,
			complete: true,
			want:     url.Values{"username": {"alice"}, "password": {"x"}, "n": {"12.50"}, "ok": {"true"}, "no": {"false"}, "after": {"yes"}},
		},
		{
			name: "json suffix type, last duplicate wins", contentType: "application/vnd.api+json; charset=utf-8",
			body: `{"username":"eve","username":"alice"}`, complete: true,
			want: url.Values{"username": {"alice"}},
		},
		{
			name: "json not an object", contentType: "application/json",
			body: `["username","alice"]`, complete: true, want: nil,
		},
		{
			name: "json broken keeps what parsed", contentType: "application/json",
			body: `{"username":"alice","password":`, complete: true,
			want: url.Values{"username": {"alice"}},
		},
		{
			name: "json incomplete", contentType: "application/json",
			body: `{"username":"alice"}`, complete: false, want: nil,
		},
		{
			name: "multipart fields only, values capped", contentType: mpType, body: string(mpBody), complete: true,
			want: url.Values{"username": {"alice"}, "password": {"secret"}, "big": {strings.Repeat("b", 4096)}},
		},
		{
			name: "multipart without boundary", contentType: "multipart/form-data",
			body: string(mpBody), complete: true, want: nil,
		},
		{name: "text/plain", contentType: "text/plain", body: "username=alice", complete: true, want: nil},
		{name: "no content type", contentType: "", body: "username=alice", complete: true, want: nil},
		{name: "bad media type", contentType: "application/json/x", body: `{"username":"alice"}`, complete: true, want: nil},
		{
			name: "bad parameter, good media type", contentType: "application/json; ;;",
			body: `{"username":"alice"}`, complete: true, want: url.Values{"username": {"alice"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := core.ParseFields(tt.contentType, []byte(tt.body), tt.complete)
			if tt.want == nil {
				assert.Empty(t, got)
				return
			}
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestParseFieldsCapsFieldCount(t *testing.T) {
	var form strings.Builder
	var js strings.Builder
	js.WriteString("{")
	for i := 0; i < 5000; i++ {
		fmt.Fprintf(&form, "f%d=v&", i)
		if i > 0 {
			js.WriteString(",")
		}
		fmt.Fprintf(&js, `"f%d":"v"`, i)
	}
	js.WriteString("}")
	mpType, mpBody := multipartBody(t, func(w *multipart.Writer) {
		for i := 0; i < 3000; i++ {
			require.NoError(t, w.WriteField(fmt.Sprintf("f%d", i), "v"))
		}
	})
	tests := []struct {
		name, contentType, body string
	}{
		{name: "form", contentType: "application/x-www-form-urlencoded", body: form.String()},
		{name: "repeated form key", contentType: "application/x-www-form-urlencoded", body: strings.Repeat("a=1&", 5000)},
		{name: "json", contentType: "application/json", body: js.String()},
		{name: "multipart", contentType: mpType, body: string(mpBody)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := core.ParseFields(tt.contentType, []byte(tt.body), true)
			n := 0
			for _, vs := range got {
				n += len(vs)
			}
			assert.Positive(t, n)
			assert.LessOrEqual(t, n, core.MaxFields)
		})
	}
}

func TestParseFieldsDoesNotAliasBody(t *testing.T) {
	body := []byte(`{"username":"alice"}`)
	got := core.ParseFields("application/json", body, true)
	copy(body, bytes.Repeat([]byte("x"), len(body)))
	assert.Equal(t, "alice", core.UsernameField(got, "username"))
}

func TestUsernameField(t *testing.T) {
	tests := []struct {
		name   string
		fields url.Values
		field  string
		want   string
	}{
		{name: "first value", fields: url.Values{"username": {"alice", "bob"}}, field: "username", want: "alice"},
		{name: "missing", fields: url.Values{"user": {"alice"}}, field: "username", want: ""},
		{name: "nil", fields: nil, field: "username", want: ""},
		{name: "exact wins over case variants", fields: url.Values{"username": {"bob"}, "USERNAME": {"alice"}}, field: "username", want: "bob"},
		{name: "case variant as encoding/json reads it", fields: url.Values{"UserName": {"alice"}}, field: "username", want: "alice"},
		{name: "several case variants: smallest key", fields: url.Values{"Username": {"b"}, "USERNAME": {"a"}}, field: "username", want: "a"},
		{name: "custom field", fields: url.Values{"email": {"a@example.com"}}, field: "email", want: "a@example.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, core.UsernameField(tt.fields, tt.field))
		})
	}
}
