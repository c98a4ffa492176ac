// Package config reads a daemon's flags from a YAML file and prints the
// configuration a daemon would run with.
//
// A command embeds Flags, which adds --config FILE (env LMX_CONFIG) and
// --print-config, with the default file in the kong variable config_file:
//
//	config.Flags `embed:"" set:"config_file=/etc/lmx/controld.yaml"`
//
// The file's keys are the command's long flag names, so every flag, present
// or future, can be set there with no code of its own:
//
//	data-dir: /var/lib/lmx
//	hostname: [video.example.net, 192.0.2.10]
//	cache-size: 512MiB
//	no-auto-register: true
//
// A value on the command line wins over the environment, which wins over
// the file, which wins over the flag's default. The file is a kong.Resolver,
// and kong asks resolvers after it has applied the environment, letting them
// replace what it found there: so the file yields every flag one of whose
// environment variables is set.
//
// This package is linked into the small edge binary: it uses the standard
// library, kong and a YAML parser only.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"reflect"
	"strings"

	"github.com/alecthomas/kong"
	"go.yaml.in/yaml/v3"
)

// Flags are a daemon's --config and --print-config. Embed them in the
// command (see the package comment); their hooks load the file before kong
// resolves the other flags and print the configuration before it applies
// them.
type Flags struct {
	// File is the configuration file; empty when given as "" (read none).
	File string `name:"config" env:"LMX_CONFIG" placeholder:"FILE" default:"${config_file}" help:"Read settings from this YAML file, keyed by the long flag names (default: ${config_file}, when it exists). Flags and environment variables override it; an empty --config reads none."`
	// Print asks for the effective configuration on stdout instead of a run.
	Print bool `name:"print-config" help:"Print the configuration this would run with, as YAML saying where each value comes from (flag, environment, file, default), and exit."`

	// loaded is the file read for this parse (nil when none was).
	loaded *File
	// missing is the default file, when it does not exist.
	missing string
}

// BeforeResolve reads the configuration file, so that kong resolves the
// flags it names from it. kong calls it once per parse, after it has reset
// every flag to its default and environment value and before it resolves
// the flags the command line did not give. The default file may be absent;
// one named with --config or LMX_CONFIG must exist.
func (f *Flags) BeforeResolve(ctx *kong.Context) error {
	f.loaded, f.missing = nil, ""
	fileFlag, _ := f.ownFlags(ctx)
	if fileFlag == nil {
		return errors.New("config.Flags: no --config flag on the command path")
	}
	path, _ := ctx.FlagValue(fileFlag).(string)
	from := givenBy(ctx, fileFlag)
	if from == "" {
		// The default file: absent is fine, but one that exists must be read.
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			f.missing = path
			return nil
		}
	} else if path == "" {
		return nil // --config '' or LMX_CONFIG=: read no file
	}
	b, err := os.ReadFile(path)
	if err != nil {
		what := "the configuration file"
		if from != "" {
			what += " (" + from + ")"
		}
		if errors.Is(err, fs.ErrPermission) && from == "" {
			return fmt.Errorf("%s %s: %w (pass --config FILE for another, or an empty --config for none)", what, path, unwrapPath(err))
		}
		return fmt.Errorf("%s %s: %w", what, path, unwrapPath(err))
	}
	file, err := Parse(path, b, f.scope(ctx), commandName(ctx))
	if err != nil {
		return err
	}
	f.loaded = file
	ctx.AddResolver(file)
	return nil
}

// BeforeApply prints the configuration and exits when --print-config is
// given. It runs once kong has resolved every flag and before it applies
// them, so the daemon's own validation (which may look at the machine, or
// insist on flags the file is still missing) does not stand in the way.
func (f *Flags) BeforeApply(ctx *kong.Context) error {
	fileFlag, printFlag := f.ownFlags(ctx)
	if printFlag == nil {
		return nil
	}
	if on, _ := ctx.FlagValue(printFlag).(bool); !on {
		return nil
	}
	if err := f.print(ctx, fileFlag); err != nil {
		return err
	}
	ctx.Kong.Exit(0)
	return nil
}

// ownFlags finds the flags of f among those on the command path.
func (f *Flags) ownFlags(ctx *kong.Context) (file, print *kong.Flag) {
	for _, fl := range ctx.Flags() {
		if !fl.Target.CanAddr() {
			continue
		}
		switch fl.Target.Addr().Interface() {
		case &f.File:
			file = fl
		case &f.Print:
			print = fl
		}
	}
	return file, print
}

// scope is the flags the file may set: every flag on the command path but
// f's own, --help, --version, and flags tagged config:"-" (those that
// are no setting of the daemon, such as the CLI's --server).
func (f *Flags) scope(ctx *kong.Context) []*kong.Flag {
	file, print := f.ownFlags(ctx)
	var out []*kong.Flag
	for _, fl := range ctx.Flags() {
		switch {
		case fl == file, fl == print, fl == ctx.Model.HelpFlag,
			fl.Tag.Get("config") == "-",
			fl.Target.Type() == reflect.TypeFor[kong.VersionFlag]():
			continue
		}
		out = append(out, fl)
	}
	return out
}

// givenBy says where a flag's value came from when it was given at all:
// "--NAME" on the command line, "NAME" for an environment variable, ""
// when neither gave it (its default, or a resolver).
func givenBy(ctx *kong.Context, fl *kong.Flag) string {
	for _, p := range ctx.Path {
		if p.Flag == fl && !p.Resolved {
			return "--" + fl.Name
		}
	}
	if env := envSet(fl); env != "" {
		return env
	}
	return ""
}

// envSet is the first of the flag's environment variables that is set, as
// kong reads them ("" when none is).
func envSet(fl *kong.Flag) string {
	for _, e := range fl.Envs {
		if _, ok := os.LookupEnv(e); ok {
			return e
		}
	}
	return ""
}

// commandName is the command being configured, for messages: "lmx
// controld", "lmx-edge".
func commandName(ctx *kong.Context) string {
	name := ctx.Model.Name
	if n := ctx.Selected(); n != nil {
		name = n.FullPath()
	}
	return name
}

// unwrapPath drops the *fs.PathError's own "open PATH:" from err, as the
// message names the file already.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// File is a parsed configuration file: the values it gives, by flag name.
// It is the kong.Resolver that hands them to kong.
type File struct {
	// Path is the file's name, as given.
	Path   string
	values map[string]fileValue
}

// fileValue is one key's value, as kong takes it, and where it was.
type fileValue struct {
	value any
	line  int
}

var _ kong.Resolver = (*File)(nil)

// Validate is part of kong.Resolver. Parse has checked every key against
// the command's flags already, before kong validated anything else, so that
// a misspelt key is what is reported rather than the setting it failed to
// make.
func (*File) Validate(*kong.Application) error { return nil }

// Resolve is part of kong.Resolver: the file's value for flag, nil when the
// file does not give it or when one of the flag's environment variables is
// set (the environment wins over the file, and kong would otherwise let a
// resolver replace what it read there).
func (c *File) Resolve(_ *kong.Context, _ *kong.Path, flag *kong.Flag) (any, error) {
	v, ok := c.values[flag.Name]
	if !ok || envSet(flag) != "" {
		return nil, nil
	}
	return v.value, nil
}

// Line is the line of the file that set the flag name, 0 when none did.
func (c *File) Line(name string) int {
	if c == nil {
		return 0
	}
	return c.values[name].line
}

// Parse reads the YAML configuration data of the file path for the flags in
// scope (command names the command, for messages). Each key must be the
// long name of one of them; each value is checked as that flag checks its
// values, and an error names the file and line.
func Parse(path string, data []byte, scope []*kong.Flag, command string) (*File, error) {
	c := &File{Path: path, values: map[string]fileValue{}}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return c, nil // empty, or comments only
		}
		return nil, fmt.Errorf("%s: %s", path, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	var more yaml.Node
	if err := dec.Decode(&more); err == nil {
		return nil, fmt.Errorf("%s:%d: a second YAML document: keep the configuration in one", path, more.Line)
	}
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		doc = *doc.Content[0]
	}
	if doc.Kind == yaml.ScalarNode && doc.Tag == "!!null" {
		return c, nil
	}
	if doc.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s:%d: want keys and values (data-dir: /var/lib/lmx), not %s", path, doc.Line, kindName(&doc))
	}
	flags := map[string]*kong.Flag{}
	for _, fl := range scope {
		flags[fl.Name] = fl
	}
	for i := 0; i+1 < len(doc.Content); i += 2 {
		k, v := doc.Content[i], doc.Content[i+1]
		at := fmt.Sprintf("%s:%d", path, k.Line)
		if k.Kind != yaml.ScalarNode {
			return nil, fmt.Errorf("%s: a key must be a flag's long name, not %s", at, kindName(k))
		}
		fl := flags[k.Value]
		if fl == nil {
			return nil, unknownKey(at, k.Value, scope, command)
		}
		if prev, dup := c.values[k.Value]; dup {
			return nil, fmt.Errorf("%s: %s is set twice (line %d too)", at, k.Value, prev.line)
		}
		if v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
			continue // "key:" with no value leaves the flag as it would be
		}
		value, err := tokenValue(fl, v)
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", at, k.Value, err)
		}
		// Check the value as the flag checks one from the command line,
		// here, where the file and line can be named.
		scratch := reflect.New(fl.Target.Type()).Elem()
		scan := kong.Scan().PushTyped(value, kong.FlagValueToken)
		if err := fl.Mapper.Decode(&kong.DecodeContext{Value: fl.Value, Scan: scan}, scratch); err != nil {
			return nil, fmt.Errorf("%s: %s: %w", at, k.Value, err)
		}
		c.values[k.Value] = fileValue{value: value, line: k.Line}
	}
	return c, nil
}

// tokenValue turns a YAML value into what kong's mapper for fl reads:
// booleans as bool, lists as one string joined by the flag's separator
// (the same string the command line would give), maps as KEY=VALUE pairs,
// and every other scalar as its text, parsed as the flag parses its
// argument (so durations and sizes read "60s" and "200GiB").
func tokenValue(fl *kong.Flag, v *yaml.Node) (any, error) {
	switch {
	case fl.IsBool():
		if v.Kind != yaml.ScalarNode || v.ShortTag() != "!!bool" {
			return nil, fmt.Errorf("want true or false, not %s", describe(v))
		}
		return v.Value == "true" || v.Value == "True" || v.Value == "TRUE", nil
	case fl.IsSlice():
		if v.Kind == yaml.ScalarNode {
			return v.Value, nil // a comma-separated string, as on the command line
		}
		if v.Kind != yaml.SequenceNode {
			return nil, fmt.Errorf("want a list ([a, b]) or a comma-separated string, not %s", describe(v))
		}
		items := make([]string, 0, len(v.Content))
		for _, e := range v.Content {
			if e.Kind != yaml.ScalarNode {
				return nil, fmt.Errorf("line %d: a list item must be a single value, not %s", e.Line, describe(e))
			}
			items = append(items, e.Value)
		}
		if len(items) == 0 {
			return []any{}, nil
		}
		if fl.Tag.Sep == -1 {
			list := make([]any, len(items))
			for i, s := range items {
				list[i] = s
			}
			return list, nil
		}
		return kong.JoinEscaped(items, fl.Tag.Sep), nil
	case fl.IsMap():
		if v.Kind == yaml.ScalarNode {
			return v.Value, nil
		}
		if v.Kind != yaml.MappingNode {
			return nil, fmt.Errorf("want keys and values, not %s", describe(v))
		}
		pairs := make([]string, 0, len(v.Content)/2)
		for i := 0; i+1 < len(v.Content); i += 2 {
			mk, mv := v.Content[i], v.Content[i+1]
			if mk.Kind != yaml.ScalarNode || mv.Kind != yaml.ScalarNode {
				return nil, fmt.Errorf("line %d: want KEY: VALUE", mk.Line)
			}
			pairs = append(pairs, mk.Value+"="+mv.Value)
		}
		return kong.JoinEscaped(pairs, fl.Tag.MapSep), nil
	}
	if v.Kind != yaml.ScalarNode {
		return nil, fmt.Errorf("want a single value, not %s", describe(v))
	}
	return v.Value, nil
}

// describe names a YAML value for messages.
func describe(v *yaml.Node) string {
	if v.Kind == yaml.ScalarNode {
		return fmt.Sprintf("%q", v.Value)
	}
	return kindName(v)
}

// kindName names a YAML node's kind for messages.
func kindName(v *yaml.Node) string {
	switch v.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "keys and values"
	case yaml.AliasNode:
		return "an alias"
	case yaml.ScalarNode:
		return fmt.Sprintf("%q", v.Value)
	}
	return "an empty document"
}

// unknownKey is the error for a key that names no flag, with the closest
// flag name when one is close enough to be meant.
func unknownKey(at, key string, scope []*kong.Flag, command string) error {
	best, bestDist := "", -1
	norm := normalize(key)
	for _, fl := range scope {
		if fl.Hidden {
			continue
		}
		d := levenshtein(norm, normalize(fl.Name))
		if bestDist < 0 || d < bestDist {
			best, bestDist = fl.Name, d
		}
	}
	msg := fmt.Sprintf("%s: unknown key %q", at, key)
	if best != "" && bestDist <= max(2, len(norm)/3) {
		msg += fmt.Sprintf(": did you mean %q?", best)
	}
	return errors.New(msg + " (the keys are the long flag names of " + command + " --help)")
}

// normalize folds the ways a flag name gets mistyped as a key (--data-dir,
// data_dir, DataDir) into one spelling.
func normalize(s string) string {
	s = strings.TrimLeft(strings.ToLower(s), "-")
	return strings.NewReplacer("_", "", "-", "", " ", "").Replace(s)
}

// levenshtein is the edit distance between a and b.
func levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
