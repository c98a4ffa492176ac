package config

import (
	"fmt"
	"net/url"
	"reflect"
	"slices"
	"strings"

	"github.com/alecthomas/kong"
	"go.yaml.in/yaml/v3"
)

// Redacted stands for the value of a secret (a flag tagged secret:"", such
// as a password or a join token) in printed configurations.
const Redacted = "<redacted>"

// print writes the configuration kong resolved, every key in the scope of
// the file with its value and, as a comment, where that value comes from.
// What it prints is itself a configuration file (secrets aside).
func (f *Flags) print(ctx *kong.Context, fileFlag *kong.Flag) error {
	var head []string
	head = append(head, commandName(ctx)+": the configuration it would run with.")
	switch {
	case f.loaded != nil:
		head = append(head, "Configuration file: "+f.loaded.Path)
	case f.missing != "":
		head = append(head, "Configuration file: none ("+f.missing+" does not exist)")
	default:
		head = append(head, "Configuration file: none ("+givenBy(ctx, fileFlag)+" is empty)")
	}
	head = append(head, "Precedence: flag > environment > file > default.")

	m := &yaml.Node{Kind: yaml.MappingNode}
	for _, fl := range f.scope(ctx) {
		origin := f.origin(ctx, fl)
		if fl.Hidden && origin == "default" {
			continue // a flag kept only to explain its removal
		}
		v := valueNode(fl, ctx.FlagValue(fl))
		v.LineComment = origin
		m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: fl.Name}, v)
	}
	doc := &yaml.Node{Kind: yaml.DocumentNode, HeadComment: strings.Join(head, "\n"), Content: []*yaml.Node{m}}
	enc := yaml.NewEncoder(ctx.Kong.Stdout)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("--print-config: %w", err)
	}
	return enc.Close()
}

// origin says where fl's value comes from: "flag", "env NAME",
// "file PATH:LINE" or "default".
func (f *Flags) origin(ctx *kong.Context, fl *kong.Flag) string {
	for _, p := range ctx.Path {
		if p.Flag != fl {
			continue
		}
		if !p.Resolved {
			return "flag"
		}
		if line := f.loaded.Line(fl.Name); line > 0 {
			return fmt.Sprintf("file %s:%d", f.loaded.Path, line)
		}
		return "resolved"
	}
	if env := envSet(fl); env != "" {
		return "env " + env
	}
	return "default"
}

// valueNode is the YAML for a flag's value, a secret's redacted.
func valueNode(fl *kong.Flag, value any) *yaml.Node {
	rv := reflect.ValueOf(value)
	if !rv.IsValid() {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}
	}
	if fl.Tag.Has("secret") && !rv.IsZero() {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: Redacted}
	}
	switch rv.Kind() {
	case reflect.Slice:
		seq := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
		for i := range rv.Len() {
			seq.Content = append(seq.Content, scalarNode(rv.Index(i)))
		}
		return seq
	case reflect.Map:
		m := &yaml.Node{Kind: yaml.MappingNode, Style: yaml.FlowStyle}
		keys := rv.MapKeys()
		slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(fmt.Sprint(a), fmt.Sprint(b)) })
		for _, k := range keys {
			m.Content = append(m.Content, scalarNode(k), scalarNode(rv.MapIndex(k)))
		}
		return m
	}
	return scalarNode(rv)
}

// scalarNode is one value as YAML: booleans and plain numbers as such,
// anything else as text the flag reads back (a time.Duration as "2m0s", a
// size as "256MiB"), with any password in a URL replaced.
func scalarNode(v reflect.Value) *yaml.Node {
	if s, ok := v.Interface().(fmt.Stringer); ok {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s.String()}
	}
	switch v.Kind() {
	case reflect.Bool:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: fmt.Sprint(v.Bool())}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: fmt.Sprint(v.Interface())}
	case reflect.String:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: redactURL(v.String())}
	}
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: fmt.Sprint(v.Interface())}
}

// redactURL hides the password of a URL (mqtt://user:PASSWORD@host) and
// leaves anything else as it is.
func redactURL(s string) string {
	if !strings.Contains(s, "://") {
		return s
	}
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	if _, ok := u.User.Password(); !ok {
		return s
	}
	return u.Redacted()
}
