// Package redact hides the secrets a camera URL carries (its userinfo
// password, credential-like query values) wherever the URL or a line that
// may quote it (ffmpeg's stderr) is shown, logged or published. Standard
// library only: the edge links it.
package redact

import (
	"net/url"
	"strings"
)

// Mask replaces a secret.
const Mask = "xxxxx"

// secretParams are query keys whose values are treated as secrets
// (cameras often take ?user=admin&password=...).
var secretParams = []string{"pass", "pwd", "token", "key", "secret", "auth", "sig", "passphrase", "streamid"}

func isSecretParam(k string) bool {
	k = strings.ToLower(k)
	for _, s := range secretParams {
		if strings.Contains(k, s) {
			return true
		}
	}
	return false
}

// URL returns raw with its password and credential-like query values
// replaced by Mask ("rtsp://admin:xxxxx@10.0.0.7/stream"). The user name
// stays: it tells which account is used without giving it away. A string
// that does not parse as a URL is masked whole unless it has no '@' and no
// query, so nothing unparsed slips out.
func URL(raw string) string {
	if raw == "" {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil || u.Opaque != "" || u.Scheme == "" || u.Host == "" {
		if !strings.ContainsAny(raw, "@?") {
			return raw
		}
		return Mask
	}
	if u.User != nil {
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), Mask)
		}
	}
	if u.RawQuery != "" {
		q := u.Query()
		changed := false
		for k, vs := range q {
			if isSecretParam(k) {
				for i := range vs {
					vs[i] = Mask
				}
				changed = true
			}
		}
		if changed {
			u.RawQuery = q.Encode()
		}
	}
	return u.String()
}

// Secrets returns the secret strings of raw that Line must hide: the
// password as written and decoded, and credential-like query values. It
// reads the userinfo by hand too, so a URL net/url refuses still has its
// password hidden.
func Secrets(raw string) []string {
	var out []string
	add := func(s string) {
		if s != "" && s != Mask {
			out = append(out, s)
		}
	}
	if i := strings.Index(raw, "://"); i >= 0 {
		rest := raw[i+3:]
		if j := strings.IndexAny(rest, "/?#"); j >= 0 {
			rest = rest[:j]
		}
		if at := strings.LastIndex(rest, "@"); at >= 0 {
			if k := strings.Index(rest[:at], ":"); k >= 0 {
				p := rest[k+1 : at]
				add(p)
				if d, err := url.PathUnescape(p); err == nil {
					add(d)
				}
			}
		}
	}
	u, err := url.Parse(raw)
	if err != nil {
		return out
	}
	if u.User != nil {
		if p, has := u.User.Password(); has {
			add(p)
			add(url.PathEscape(p))
			add(url.QueryEscape(p))
		}
	}
	for k, vs := range u.Query() {
		if isSecretParam(k) {
			for _, v := range vs {
				add(v)
				add(url.QueryEscape(v))
			}
		}
	}
	return out
}

// Line hides in line every secret of the URL raw: ffmpeg quotes its input
// URL in errors ("rtsp://admin:hunter2@cam/...: 401 Unauthorized"), and the
// line may be logged and published in the edge's status.
func Line(line, raw string) string {
	for _, s := range Secrets(raw) {
		line = strings.ReplaceAll(line, s, Mask)
	}
	return line
}
