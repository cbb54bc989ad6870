package core

import "net/http"

// Response is a lockout (or refusal) response built by core: adapters only
// write it, status, headers and body, in their framework's idiom.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}
