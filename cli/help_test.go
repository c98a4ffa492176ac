package cli

import (
	"context"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/alecthomas/kong"
)

var update = flag.Bool("update", false, "rewrite testdata/help/*.golden from the current --help output")

// testParser builds the real parser, with every binding, over a fresh Root.
func testParser(t *testing.T) *kong.Kong {
	t.Helper()
	p, err := newParser(context.Background(), &dial{root: &Root{}, env: testEnv(t, nil)}, io.Discard, io.Discard, BuildInfo{})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// commands walks kong's model and returns every command node, parents
// first, so a new command is covered by the tests that use it without
// anyone remembering to add it.
func commands(t *testing.T) []*kong.Node {
	var out []*kong.Node
	var walk func(n *kong.Node)
	walk = func(n *kong.Node) {
		for _, c := range n.Children {
			if c.Type == kong.CommandNode && !c.Hidden {
				out = append(out, c)
				walk(c)
			}
		}
	}
	walk(testParser(t).Model.Node)
	return out
}

// words is a command's path without "lmx": ["source", "stream", "on"].
func words(n *kong.Node) []string {
	return strings.Fields(n.FullPath())[1:]
}

func TestHelpGolden(t *testing.T) {
	// kong wraps help to the terminal width, read from COLUMNS when the
	// output is not a terminal.
	t.Setenv("COLUMNS", "80")
	// Help names the configuration files the packages install (it reads none).
	controldConfigFile, edgedConfigFile = defaultControldConfig, defaultEdgedConfig
	defer func() {
		controldConfigFile, edgedConfigFile = testDataDir+"/controld.yaml", testDataDir+"/edged.yaml"
	}()

	paths := [][]string{{}} // the root's help too
	for _, n := range commands(t) {
		paths = append(paths, words(n))
	}
	seen := map[string]bool{}
	for _, p := range paths {
		name := strings.Join(append([]string{"lmx"}, p...), "_") + ".golden"
		seen[name] = true
		t.Run(strings.Join(p, "_"), func(t *testing.T) {
			r := runCLI(t, nil, append(p, "--help")...)
			if r.code != 0 || r.stderr != "" {
				t.Fatalf("--help: exit %d, stderr:\n%s", r.code, r.stderr)
			}
			file := filepath.Join("testdata", "help", name)
			if *update {
				if err := os.WriteFile(file, []byte(r.stdout), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(file)
			if err != nil {
				t.Fatalf("%v (run go test ./cli -update to create it)", err)
			}
			if r.stdout != string(want) {
				t.Errorf("lmx %s --help differs from %s (run go test ./cli -update if the change is intended):\n%s",
					strings.Join(p, " "), file, r.stdout)
			}
		})
	}

	// A golden for a command that no longer exists would rot unnoticed.
	files, _ := filepath.Glob(filepath.Join("testdata", "help", "*.golden"))
	for _, f := range files {
		if seen[filepath.Base(f)] {
			continue
		}
		if *update {
			os.Remove(f)
			continue
		}
		t.Errorf("%s belongs to no command (run go test ./cli -update to remove it)", f)
	}
}

func TestEveryLeafHasExamples(t *testing.T) {
	for _, n := range commands(t) {
		if !n.Leaf() {
			continue
		}
		path := n.FullPath()
		if n.Help == "" {
			t.Errorf("%s: no help tag", path)
		}
		_, examples, ok := strings.Cut(n.Detail, "Examples:")
		if !ok {
			t.Errorf("%s: its Help() has no Examples: section", path)
			continue
		}
		if !strings.Contains(examples, path) {
			t.Errorf("%s: no example uses it", path)
		}
	}
}

// TestExamplesParse parses every example command line, so help never shows
// a flag that does not exist.
func TestExamplesParse(t *testing.T) {
	for _, n := range commands(t) {
		_, examples, ok := strings.Cut(n.Detail, "Examples:")
		if !ok {
			continue
		}
		for _, line := range strings.Split(examples, "\n") {
			line = strings.TrimSpace(line)
			if !strings.HasPrefix(line, "lmx ") {
				continue // e.g. inside $(...) or <(...): shell, not lmx
			}
			// Only the lmx part of a pipeline or redirection.
			for _, sep := range []string{" | ", " > "} {
				line, _, _ = strings.Cut(line, sep)
			}
			args, err := shellWords(line)
			if err != nil {
				t.Errorf("%s: example %q: %v", n.FullPath(), line, err)
				continue
			}
			// Trace checks words, flags and their values, but not what
			// a command validates against the machine (directories that
			// exist, for instance).
			kctx, err := kong.Trace(testParser(t), args[1:])
			if err == nil {
				err = kctx.Error
			}
			if err != nil {
				t.Errorf("%s: example %q does not parse: %v", n.FullPath(), line, err)
			}
		}
	}
}

// shellWords splits a command line the way a shell would for the simple
// quoting examples use: single and double quotes, no escapes.
func shellWords(s string) ([]string, error) {
	var out []string
	var cur strings.Builder
	inWord := false
	var quote rune
	for _, r := range s {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(r)
		case r == '"' || r == '\'':
			quote, inWord = r, true
		case r == ' ' || r == '\t':
			if inWord {
				out = append(out, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, os.ErrInvalid
	}
	if inWord {
		out = append(out, cur.String())
	}
	return out, nil
}
