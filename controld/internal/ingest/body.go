package ingest

import (
	"fmt"
	"net/http"
)

// bodyLimit is how large an upload's body may be, and what to say of one
// over it.
type bodyLimit struct {
	// what names the body in answers ("segment", "init segment").
	what string
	// max is the largest body taken; over it is a 413 with detail.
	max    int64
	limit  string
	detail string
}

// readBody reads an upload's body once its declared length is checked:
// a length is needed, within the limit, not zero, and the body must be
// as long as declared. On a refusal reason names it for the metrics.
func readBody(up Upload, l bodyLimit) (body []byte, reason string, err *Error) {
	switch n := up.ContentLength; {
	case n < 0:
		return nil, "no_length", refuse(http.StatusLengthRequired, l.what+" upload needs a Content-Length", "send the "+l.what+" with its length, not chunked")
	case int64(n) > l.max:
		return nil, "too_large", refuse(http.StatusRequestEntityTooLarge, fmt.Sprintf("%s of %d bytes is over the %s limit", l.what, n, l.limit), l.detail)
	case n == 0:
		return nil, "empty", refuse(http.StatusBadRequest, l.what+" upload is empty", "")
	}
	body = up.Body()
	if len(body) == 0 {
		return nil, "empty", refuse(http.StatusBadRequest, l.what+" upload is empty", "")
	}
	if len(body) != up.ContentLength {
		return nil, "short_body", refuse(http.StatusBadRequest, fmt.Sprintf("%s body of %d bytes does not match its Content-Length %d", l.what, len(body), up.ContentLength), "")
	}
	return body, "", nil
}
