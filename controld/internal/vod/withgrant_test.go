package vod

import (
	"bytes"
	"strings"
	"testing"
)

const testGrant = "1.0a1b2c3d.sid-cam.0123456789abcdef.1767225600.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"

func TestWithGrant(t *testing.T) {
	const g = "G"
	for _, tt := range []struct {
		name, in, want string
	}{
		{"empty playlist", "", ""},
		{"live playlist",
			"#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:7\n#EXTINF:2.000,\n7.ts\n#EXTINF:2.000,\n8.ts\n",
			"#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:7\n#EXTINF:2.000,\n7.ts?grant=G\n#EXTINF:2.000,\n8.ts?grant=G\n"},
		{"recording playlist ends",
			"#EXTINF:2,\n1700000000000.ts\n#EXT-X-ENDLIST\n",
			"#EXTINF:2,\n1700000000000.ts?grant=G\n#EXT-X-ENDLIST\n"},
		{"CRLF lines keep their CR",
			"#EXTM3U\r\n#EXTINF:2,\r\n1.ts\r\n#EXT-X-MAP:URI=\"i.mp4\"\r\n",
			"#EXTM3U\r\n#EXTINF:2,\r\n1.ts?grant=G\r\n#EXT-X-MAP:URI=\"i.mp4?grant=G\"\r\n"},
		{"URI with a query", "1.ts?v=2\n", "1.ts?v=2&grant=G\n"},
		{"URI with an empty query", "1.ts?\n", "1.ts?&grant=G\n"},
		{"absolute URI", "https://cdn.example/a/1.ts\n", "https://cdn.example/a/1.ts?grant=G\n"},
		{"EXT-X-MAP", "#EXT-X-MAP:URI=\"init.mp4\"\n", "#EXT-X-MAP:URI=\"init.mp4?grant=G\"\n"},
		{"EXT-X-MAP with a byte range after", "#EXT-X-MAP:URI=\"init.mp4\",BYTERANGE=\"720@0\"\n", "#EXT-X-MAP:URI=\"init.mp4?grant=G\",BYTERANGE=\"720@0\"\n"},
		{"EXT-X-KEY with a query", "#EXT-X-KEY:METHOD=AES-128,URI=\"key?id=3\",IV=0x1f\n", "#EXT-X-KEY:METHOD=AES-128,URI=\"key?id=3&grant=G\",IV=0x1f\n"},
		{"empty URI attribute", "#EXT-X-MAP:URI=\"\"\n", "#EXT-X-MAP:URI=\"?grant=G\"\n"},
		{"two URI attributes", "#EXT-X-RENDITION-REPORT:URI=\"a.m3u8\",X-URI=\"b\"\n", "#EXT-X-RENDITION-REPORT:URI=\"a.m3u8?grant=G\",X-URI=\"b?grant=G\"\n"},
		{"unterminated URI attribute", "#EXT-X-MAP:URI=\"init.mp4\n1.ts\n", "#EXT-X-MAP:URI=\"init.mp4\n1.ts?grant=G\n"},
		{"tags and comments without URIs", "#EXTM3U\n# a comment\n#EXT-X-ENDLIST\n", "#EXTM3U\n# a comment\n#EXT-X-ENDLIST\n"},
		{"blank lines", "\n#EXTM3U\n\n\r\n1.ts\n\n", "\n#EXTM3U\n\n\r\n1.ts?grant=G\n\n"},
		{"no trailing newline", "#EXTINF:2,\n1.ts", "#EXTINF:2,\n1.ts?grant=G"},
		{"no trailing newline after CR", "1.ts\r", "1.ts?grant=G\r"},
		{"only a newline", "\n", "\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			in := []byte(tt.in)
			got := withGrant(in, g)
			if string(got) != tt.want {
				t.Errorf("withGrant(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
			if string(in) != tt.in {
				t.Errorf("the input was changed to %q", in)
			}
			checkWithGrant(t, in, g, got)
		})
	}

	// A real grant, and no grant: the playlist itself, not a copy.
	pl := []byte("#EXTINF:2,\n1.ts\n")
	if got := withGrant(pl, testGrant); string(got) != "#EXTINF:2,\n1.ts?grant="+testGrant+"\n" {
		t.Errorf("with a real grant: %q", got)
	}
	if got := withGrant(pl, ""); &got[0] != &pl[0] || len(got) != len(pl) {
		t.Errorf("without a grant: %q, want the input itself", got)
	}
	if got := withGrant(nil, ""); got != nil {
		t.Errorf("withGrant(nil, \"\") = %q", got)
	}
	// Appended to what is there, as a response's body buffer holds it.
	buf := append(make([]byte, 0, 4), "old"...)
	if got := appendWithGrant(buf[:1], pl, "G"); string(got) != "o#EXTINF:2,\n1.ts?grant=G\n" {
		t.Errorf("appendWithGrant after %q: %q", buf[:1], got)
	}
}

// FuzzWithGrant: whatever the playlist, only URIs change, each by the
// grant parameter added at its end, and the lines stay as they are.
func FuzzWithGrant(f *testing.F) {
	f.Add([]byte("#EXTM3U\n#EXTINF:2,\n1.ts\n"), testGrant)
	f.Add([]byte("#EXT-X-MAP:URI=\"i.mp4\"\r\n#EXTINF:2,\r\n1.ts?a=b\r\n"), "g")
	f.Add([]byte("\n\r\n#EXT-X-KEY:METHOD=AES-128,URI=\"k\",IV=0x1\nx"), "")
	f.Fuzz(func(t *testing.T, pl []byte, g string) {
		if strings.ContainsAny(g, "\r\n\"?&") {
			// Not a grant: grants are base64url and dots (grant.Parse),
			// and only verified ones reach withGrant.
			t.Skip()
		}
		in := bytes.Clone(pl)
		out := withGrant(pl, g)
		if !bytes.Equal(pl, in) {
			t.Fatalf("the input was changed")
		}
		checkWithGrant(t, in, g, out)
	})
}

// checkWithGrant checks out against withGrant's promises for in and g:
// without a grant, out is in; with one, out fits the buffer grantedLen
// sized, has as many lines as in, blank
// and tag lines without URI attributes unchanged, and every URI (a line
// that is not a tag, or a URI="…" attribute) ends with the grant
// parameter, with nothing else changed.
func checkWithGrant(t *testing.T, in []byte, g string, out []byte) {
	t.Helper()
	if g == "" {
		if !bytes.Equal(out, in) {
			t.Fatalf("without a grant: %q, want %q", out, in)
		}
		return
	}
	// One allocation, of grantedLen, never grown by an append.
	if want := grantedLen(in, g); cap(out) != want || len(out) > want {
		t.Fatalf("%d bytes out in a buffer of %d, want a buffer of grantedLen's %d", len(out), cap(out), want)
	}
	inLines, outLines := strings.Split(string(in), "\n"), strings.Split(string(out), "\n")
	if len(inLines) != len(outLines) {
		t.Fatalf("%d lines became %d:\n%q\n%q", len(inLines), len(outLines), in, out)
	}
	param := "grant=" + g
	for i, o := range outLines {
		l := inLines[i]
		body, cr := strings.CutSuffix(l, "\r")
		ob, ocr := strings.CutSuffix(o, "\r")
		if cr != ocr {
			t.Fatalf("line %d: %q became %q: its CR changed", i+1, l, o)
		}
		switch {
		case body == "":
			if o != l {
				t.Fatalf("blank line %d %q became %q", i+1, l, o)
			}
		case body[0] != '#':
			if !strings.HasSuffix(ob, param) {
				t.Fatalf("URI line %d %q became %q, without the grant at its end", i+1, l, o)
			}
			if want := uriWithGrant(body, param); ob != want {
				t.Fatalf("URI line %d %q became %q, want %q", i+1, l, o, want)
			}
		default:
			if !strings.Contains(l, `URI="`) {
				if o != l {
					t.Fatalf("tag line %d %q became %q", i+1, l, o)
				}
				continue
			}
			if back := withoutTagGrants(t, o, param); back != l {
				t.Fatalf("tag line %d %q became %q, which is not it with the grant in its URIs (%q)", i+1, l, o, back)
			}
		}
	}
}

func uriWithGrant(uri, param string) string {
	if strings.Contains(uri, "?") {
		return uri + "&" + param
	}
	return uri + "?" + param
}

// withoutTagGrants takes the grant parameter out of every URI="…" of a
// tag line, failing t for a URI without it.
func withoutTagGrants(t *testing.T, line, param string) string {
	t.Helper()
	var b strings.Builder
	rest := line
	for {
		i := strings.Index(rest, `URI="`)
		if i < 0 {
			break
		}
		i += len(`URI="`)
		j := strings.IndexByte(rest[i:], '"')
		if j < 0 {
			break
		}
		v := rest[i : i+j]
		orig, ok := strings.CutSuffix(v, param)
		if !ok || orig == "" {
			t.Fatalf("URI %q in %q without the grant at its end", v, line)
		}
		sep := orig[len(orig)-1]
		orig = orig[:len(orig)-1]
		if (sep == '&') != strings.Contains(orig, "?") || (sep != '&' && sep != '?') {
			t.Fatalf("URI %q in %q: the grant is joined with %q", v, line, sep)
		}
		b.WriteString(rest[:i])
		b.WriteString(orig)
		rest = rest[i+j:]
	}
	b.WriteString(rest)
	return b.String()
}
