package core_test

import (
	"bytes"
	"fmt"
	"mime/multipart"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goaxes/axes/core"
)

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
		wantErr     bool // an ErrUnreadable
	}{
		{
			name: "form", contentType: "application/x-www-form-urlencoded",
			body: "username=alice&password=s%3Dcret&next=%2F", complete: true,
			want: url.Values{"username": {"alice"}, "password": {"s=cret"}, "next": {"/"}},
		},
		{
			name: "form with charset and bad pairs kept partly", contentType: "application/x-www-form-urlencoded; charset=utf-8",
			body: "a=%zz&username=bob&x;y=1&&username=eve", complete: true,
			want: url.Values{"username": {"bob", "eve"}}, wantErr: true,
		},
		{
			name: "form invalid UTF-8 kept as bytes", contentType: "application/x-www-form-urlencoded",
			body: "username=%FFalice", complete: true,
			want: url.Values{"username": {"\xffalice"}},
		},
		{
			name: "form incomplete", contentType: "application/x-www-form-urlencoded",
			body: "username=alice", complete: false, want: nil, wantErr: true,
		},
		{
			name: "json", contentType: "application/json",
			body:     `{"username":"alice","password":"x","n":12.50,"ok":true,"no":false,"nil":null,"nested":{"username":"eve"},"list":["a",{"b":1}],"after":"yes"}`,
			complete: true,
			want:     url.Values{"username": {"alice"}, "password": {"x"}, "n": {"12.50"}, "ok": {"true"}, "no": {"false"}, "after": {"yes"}},
		},
		{
			name: "json suffix type, duplicates kept in order", contentType: "application/vnd.api+json; charset=utf-8",
			body: `{"username":"eve","username":"alice"}`, complete: true,
			want: url.Values{"username": {"eve", "alice"}},
		},
		{
			name: "json not an object", contentType: "application/json",
			body: `["username","alice"]`, complete: true, want: nil, wantErr: true,
		},
		{
			name: "json broken keeps what parsed", contentType: "application/json",
			body: `{"username":"alice","password":`, complete: true,
			want: url.Values{"username": {"alice"}}, wantErr: true,
		},
		{
			name: "json incomplete", contentType: "application/json",
			body: `{"username":"alice"}`, complete: false, want: nil, wantErr: true,
		},
		{
			name: "multipart fields only, a value past the cap is an error", contentType: mpType, body: string(mpBody), complete: true,
			want: url.Values{"username": {"alice"}, "password": {"secret"}}, wantErr: true,
		},
		{
			name: "multipart without boundary", contentType: "multipart/form-data",
			body: string(mpBody), complete: true, want: nil, wantErr: true,
		},
		{name: "text/plain", contentType: "text/plain", body: "username=alice", complete: true, want: nil, wantErr: true},
		{name: "no content type", contentType: "", body: "username=alice", complete: true, want: nil, wantErr: true},
		{name: "bad media type", contentType: "application/json/x", body: `{"username":"alice"}`, complete: true, want: nil, wantErr: true},
		{name: "json with a byte order mark", contentType: "application/json", body: "\xef\xbb\xbf" + `{"username":"alice"}`, complete: true, want: nil, wantErr: true},
		{name: "json followed by more", contentType: "application/json", body: `{"username":"alice"} {"username":"bob"}`, complete: true, want: url.Values{"username": {"alice"}}, wantErr: true},
		{name: "odd casing", contentType: "Application/X-WWW-Form-URLEncoded", body: "username=alice", complete: true, want: url.Values{"username": {"alice"}}},
		{
			name: "bad parameter, good media type", contentType: "application/json; ;;",
			body: `{"username":"alice"}`, complete: true, want: url.Values{"username": {"alice"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := core.ParseFields(tt.contentType, []byte(tt.body), tt.complete)
			if tt.wantErr {
				assert.ErrorIs(t, err, core.ErrUnreadable)
			} else {
				assert.NoError(t, err)
			}
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
			got, err := core.ParseFields(tt.contentType, []byte(tt.body), true)
			assert.ErrorIs(t, err, core.ErrUnreadable)
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
	got, err := core.ParseFields("application/json", body, true)
	require.NoError(t, err)
	copy(body, bytes.Repeat([]byte("x"), len(body)))
	assert.Equal(t, "alice", got.Get("username"))
}
