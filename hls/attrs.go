package hls

import (
	"fmt"
	"strings"
)

// attribute is one AttributeName=AttributeValue pair of an RFC 8216 4.2
// attribute list. quoted tells a quoted-string from the other value types;
// value is without its quotes.
type attribute struct {
	name, value string
	quoted      bool
}

// parseAttributes splits an attribute list. Names are upper-case letters,
// digits and '-'; a quoted-string value runs to the next '"' and may hold
// commas; any other value runs to the next comma. It says what is wrong
// for a list that is not of that form, or that names an attribute twice
// (RFC 8216 4.2: "MUST NOT contain multiple attributes with the same name").
func parseAttributes(s string) ([]attribute, error) {
	var out []attribute
	seen := map[string]bool{}
	for s != "" {
		eq := strings.IndexByte(s, '=')
		if eq <= 0 {
			return nil, fmt.Errorf("attribute %s has no name=value", quote(s))
		}
		name := s[:eq]
		for i := 0; i < len(name); i++ {
			if c := name[i]; !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return nil, fmt.Errorf("attribute name %s is not upper-case letters, digits and '-'", quote(name))
			}
		}
		if seen[name] {
			return nil, fmt.Errorf("attribute %s given twice", name)
		}
		seen[name] = true
		s = s[eq+1:]
		a := attribute{name: name}
		if strings.HasPrefix(s, `"`) {
			end := strings.IndexByte(s[1:], '"')
			if end < 0 {
				return nil, fmt.Errorf("attribute %s: quoted string is not closed", name)
			}
			a.value, a.quoted, s = s[1:1+end], true, s[2+end:]
		} else {
			end := strings.IndexByte(s, ',')
			if end < 0 {
				end = len(s)
			}
			a.value, s = s[:end], s[end:]
			if a.value == "" {
				return nil, fmt.Errorf("attribute %s has an empty value", name)
			}
		}
		out = append(out, a)
		if s == "" {
			break
		}
		if s[0] != ',' {
			return nil, fmt.Errorf("attribute %s: expected ',' before %s", name, quote(s))
		}
		s = s[1:]
		if s == "" {
			return nil, fmt.Errorf("attribute list ends with ','")
		}
	}
	return out, nil
}
