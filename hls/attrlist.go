package hls

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Bounds on attribute lists (RFC 8216 4.2). A tag's attribute list is one
// line of a playlist the client sent us; without bounds a hostile playlist
// could make every attribute a megabyte or the list a thousand names long.
const (
	// maxAttrValueBytes bounds one attribute value (quotes excluded) and
	// the URI line of a variant. Real values are a few dozen bytes.
	maxAttrValueBytes = 1024
	// maxAttrs bounds the attributes of one tag; RFC 8216 defines fewer
	// than twenty for any tag.
	maxAttrs = 32
	// maxResolution bounds each dimension of a decimal-resolution:
	// 16384 pixels is above any level H.264 or H.265 defines.
	maxResolution = 16384
	// maxBandwidth bounds BANDWIDTH and AVERAGE-BANDWIDTH (bits per
	// second): 100 Gbit/s is far above any stream, and the bound keeps
	// sums of bandwidths well inside an int.
	maxBandwidth = 100_000_000_000
)

// attribute is one AttributeName=AttributeValue pair. For a quoted-string
// value, value holds the text between the quotes.
type attribute struct {
	name   string
	value  string
	quoted bool
}

// attrList is a parsed attribute list, in the order written.
type attrList []attribute

// parseAttributeList splits an RFC 8216 4.2 attribute list: comma-separated
// NAME=VALUE pairs, where a value is a quoted-string (which may contain
// commas and '=' but no '"', CR or LF) or an unquoted token (decimal
// integer, hexadecimal sequence, decimal float, decimal resolution or
// enumerated string) that contains no comma, quote or blank. Names are
// [A-Z0-9-]+ and may not repeat (RFC 8216 4.2: clients SHOULD refuse such
// playlists). Blanks after a comma are tolerated, as some writers add
// them. The error is a message for a *SyntaxError.
func parseAttributeList(s string) (attrList, error) {
	var l attrList
	for i := 0; ; {
		if len(l) == maxAttrs {
			return nil, fmt.Errorf("more than %d attributes", maxAttrs)
		}
		start := i
		for i < len(s) && isAttrNameByte(s[i]) {
			i++
		}
		name := s[start:i]
		if name == "" {
			if i == len(s) {
				if len(l) == 0 {
					return nil, fmt.Errorf("empty attribute list")
				}
				return nil, fmt.Errorf("attribute list ends with a comma")
			}
			return nil, fmt.Errorf("expected an attribute name (A-Z, 0-9, -) at %s", quote(s[i:]))
		}
		if i == len(s) || s[i] != '=' {
			return nil, fmt.Errorf("attribute %s has no '=' and value", name)
		}
		i++
		a := attribute{name: name}
		if i < len(s) && s[i] == '"' {
			end := strings.IndexByte(s[i+1:], '"')
			if end < 0 {
				return nil, fmt.Errorf("attribute %s: quoted string has no closing quote", name)
			}
			a.value, a.quoted = s[i+1:i+1+end], true
			i += end + 2
		} else {
			start := i
			for i < len(s) && s[i] != ',' {
				i++
			}
			a.value = s[start:i]
			if a.value == "" {
				return nil, fmt.Errorf("attribute %s has an empty value", name)
			}
			if j := strings.IndexAny(a.value, "\" \t"); j >= 0 {
				return nil, fmt.Errorf("attribute %s: unquoted value %s contains %q (quote the value?)", name, quote(a.value), a.value[j])
			}
		}
		if len(a.value) > maxAttrValueBytes {
			return nil, fmt.Errorf("attribute %s: value is %d bytes, longer than %d", name, len(a.value), maxAttrValueBytes)
		}
		for _, prev := range l {
			if prev.name == name {
				return nil, fmt.Errorf("attribute %s appears twice", name)
			}
		}
		l = append(l, a)
		if i == len(s) {
			return l, nil
		}
		if s[i] != ',' {
			return nil, fmt.Errorf("attribute %s: expected ',' after the value, found %s", name, quote(s[i:]))
		}
		i++
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
	}
}

// isAttrNameByte reports whether c may appear in an AttributeName.
func isAttrNameByte(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-'
}

// get returns the attribute called name.
func (l attrList) get(name string) (attribute, bool) {
	for _, a := range l {
		if a.name == name {
			return a, true
		}
	}
	return attribute{}, false
}

// quotedString returns a quoted-string value.
func (a attribute) quotedString() (string, error) {
	if !a.quoted {
		return "", fmt.Errorf("%s=%s must be a quoted string", a.name, a.value)
	}
	return a.value, nil
}

// nonEmptyQuoted returns a quoted-string value that must not be "".
func (a attribute) nonEmptyQuoted() (string, error) {
	v, err := a.quotedString()
	if err == nil && v == "" {
		err = fmt.Errorf("%s is empty", a.name)
	}
	return v, err
}

// enumerated returns an enumerated-string value.
func (a attribute) enumerated() (string, error) {
	if a.quoted {
		return "", fmt.Errorf("%s=\"%s\" must not be quoted", a.name, a.value)
	}
	return a.value, nil
}

// oneOf returns an enumerated-string value that must be one of allowed.
func (a attribute) oneOf(allowed ...string) (string, error) {
	v, err := a.enumerated()
	if err != nil {
		return "", err
	}
	for _, x := range allowed {
		if v == x {
			return v, nil
		}
	}
	return "", fmt.Errorf("%s=%s is not one of %s", a.name, quote(v), strings.Join(allowed, ", "))
}

// yesNo returns an enumerated YES or NO as a bool.
func (a attribute) yesNo() (bool, error) {
	v, err := a.oneOf("YES", "NO")
	return v == "YES", err
}

// decimalInteger returns a decimal-integer value (digits only, no sign)
// no greater than limit.
func (a attribute) decimalInteger(limit uint64) (uint64, error) {
	if a.quoted || !isDigits(a.value) {
		return 0, fmt.Errorf("%s=%s is not a decimal integer", a.name, quote(a.value))
	}
	n, err := strconv.ParseUint(a.value, 10, 64)
	if err != nil || n > limit {
		return 0, fmt.Errorf("%s=%s is above %d", a.name, quote(a.value), limit)
	}
	return n, nil
}

// decimalFloat returns a decimal-floating-point value (digits with at
// most one '.', no sign or exponent).
func (a attribute) decimalFloat() (float64, error) {
	if a.quoted || !isDecimal(a.value) {
		return 0, fmt.Errorf("%s=%s is not a decimal number", a.name, quote(a.value))
	}
	f, err := strconv.ParseFloat(a.value, 64)
	if err != nil || math.IsInf(f, 0) {
		return 0, fmt.Errorf("%s=%s is not a finite decimal number", a.name, quote(a.value))
	}
	return f, nil
}

// resolution returns a decimal-resolution value ("WIDTHxHEIGHT"), each
// dimension in [1, maxResolution].
func (a attribute) resolution() (width, height int, err error) {
	ws, hs, ok := strings.Cut(a.value, "x")
	if a.quoted || !ok || !isDigits(ws) || !isDigits(hs) {
		return 0, 0, fmt.Errorf("%s=%s is not a decimal resolution like 1280x720", a.name, quote(a.value))
	}
	w, werr := strconv.Atoi(ws)
	h, herr := strconv.Atoi(hs)
	if werr != nil || herr != nil || w < 1 || h < 1 || w > maxResolution || h > maxResolution {
		return 0, 0, fmt.Errorf("%s=%s: each dimension must be in [1, %d]", a.name, quote(a.value), maxResolution)
	}
	return w, h, nil
}
