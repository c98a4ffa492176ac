package redact

import "strings"

// Text masks the password of every URL written in s ("scheme://user:pass@"),
// whatever URL it is: what a node relays from elsewhere (an edge's report of
// ffmpeg's last error line) may quote a URL this side does not know. Line
// hides the secrets of one known URL, wherever they appear; Text needs no
// URL but only sees userinfo.
func Text(s string) string {
	var b strings.Builder
	for {
		i := strings.Index(s, "://")
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i+3])
		s = s[i+3:]
		// The authority ends at the first character a URL's host part
		// cannot hold; userinfo is what comes before its last '@'.
		end := strings.IndexAny(s, "/?# \t\"'<>")
		if end < 0 {
			end = len(s)
		}
		auth := s[:end]
		if at := strings.LastIndex(auth, "@"); at >= 0 {
			if colon := strings.Index(auth[:at], ":"); colon >= 0 {
				auth = auth[:colon+1] + Mask + auth[at:]
			}
		}
		b.WriteString(auth)
		s = s[end:]
	}
}
