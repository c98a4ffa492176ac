// Package envelope writes the LiveMix reply envelope
// ({"success", "request_id", "error": {"code", "message", "detail"}}) for
// both HTTP stacks of the control node: net/http (management API) and
// fasthttp (playback and ingest). Each error answer is built here once.
package envelope

import (
	"encoding/json"
	"net/http"

	"github.com/google/uuid"
	"github.com/valyala/fasthttp"

	"github.com/lmx-video/lmx/api"
)

// HeaderRequestID carries a request's id, the caller's or a new one.
const HeaderRequestID = "X-Request-ID"

// requestID is the caller's id when it is sane, else a new one.
func requestID(caller string) string {
	if caller == "" || len(caller) > 128 {
		return uuid.NewString()
	}
	return caller
}

// OK is the envelope of a successful answer to r, and sets r's id on w.
func OK(w http.ResponseWriter, r *http.Request) api.Envelope {
	return api.Envelope{Success: true, RequestID: ID(w, r)}
}

// ID returns the request's id (the caller's X-Request-ID or a new one) and
// echoes it in the answer.
func ID(w http.ResponseWriter, r *http.Request) string {
	if id := w.Header().Get(HeaderRequestID); id != "" {
		return id
	}
	id := requestID(r.Header.Get(HeaderRequestID))
	w.Header().Set(HeaderRequestID, id)
	return id
}

// Write sends v, an api.*Reply built with OK, as the JSON answer.
func Write(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// Fail answers r with an error envelope whose message names the problem and
// whose detail says what to do about it.
func Fail(w http.ResponseWriter, r *http.Request, code int, msg, detail string) {
	Write(w, code, failure(ID(w, r), code, msg, detail))
}

// FailFast is Fail for the fasthttp listener.
func FailFast(ctx *fasthttp.RequestCtx, code int, msg, detail string) {
	id := requestID(string(ctx.Request.Header.Peek(HeaderRequestID)))
	ctx.Response.Header.Set(HeaderRequestID, id)
	b, _ := json.MarshalIndent(failure(id, code, msg, detail), "", "  ")
	ctx.SetStatusCode(code)
	ctx.SetContentType("application/json")
	ctx.SetBody(append(b, '\n'))
}

// WriteFast sends v as a JSON answer on the fasthttp listener.
func WriteFast(ctx *fasthttp.RequestCtx, code int, v any) {
	b, _ := json.Marshal(v)
	ctx.SetStatusCode(code)
	ctx.SetContentType("application/json")
	ctx.SetBody(append(b, '\n'))
}

// IDFast is the id of a fasthttp request, echoed in its answer.
func IDFast(ctx *fasthttp.RequestCtx) string {
	id := requestID(string(ctx.Request.Header.Peek(HeaderRequestID)))
	ctx.Response.Header.Set(HeaderRequestID, id)
	return id
}

func failure(id string, code int, msg, detail string) api.Envelope {
	return api.Envelope{RequestID: id, Error: &api.Error{Code: code, Message: msg, Detail: detail}}
}

// Forbidden answers 403 for a token whose role does not allow the call,
// naming the least role that does.
func Forbidden(w http.ResponseWriter, r *http.Request, msg, role string) {
	env := failure(ID(w, r), http.StatusForbidden, msg, "")
	env.Error.RequiredRole = role
	Write(w, http.StatusForbidden, env)
}
