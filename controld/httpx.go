package controld

import (
	"encoding/json"
	"net/http"

	"github.com/google/uuid"
)

// reply writes the LiveMix envelope with payload under key.
func reply(w http.ResponseWriter, r *http.Request, code int, key string, payload any) {
	body := map[string]any{"success": code/100 == 2, "request_id": requestID(w, r)}
	if key != "" {
		body[key] = payload
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(body)
}

// fail writes an error envelope whose message names the problem.
func fail(w http.ResponseWriter, r *http.Request, code int, msg, detail string) {
	e := map[string]any{"code": code, "message": msg}
	if detail != "" {
		e["detail"] = detail
	}
	body := map[string]any{"success": false, "request_id": requestID(w, r), "error": e}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(body)
}

// requestID returns the request's id (the caller's X-Request-ID or a new one)
// and echoes it in the answer.
func requestID(w http.ResponseWriter, r *http.Request) string {
	id := w.Header().Get("X-Request-ID")
	if id == "" {
		id = r.Header.Get("X-Request-ID")
		if id == "" || len(id) > 128 {
			id = uuid.NewString()
		}
		w.Header().Set("X-Request-ID", id)
	}
	return id
}
