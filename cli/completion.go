package cli

import (
	"fmt"
	"strings"

	"github.com/alecthomas/kong"
)

// CompletionCmd prints a shell completion script.
type CompletionCmd struct {
	Shell string `arg:"" enum:"bash,zsh,fish" help:"Shell to complete for: ${enum}."`
}

// Help is the detail under the usage line.
func (*CompletionCmd) Help() string {
	return `Prints a script that makes the shell complete lmx's commands and flags.
It is generated from the command tree, so it always matches this binary.

Examples:

    source <(lmx completion bash)
    lmx completion zsh > "${fpath[1]}/_lmx"
    lmx completion fish > ~/.config/fish/completions/lmx.fish`
}

// Run prints the script for the shell asked for.
func (c *CompletionCmd) Run(kctx *kong.Context, out Stdout) error {
	tree := completionTree(kctx.Model.Node)
	var script string
	switch c.Shell {
	case "bash":
		script = bashCompletion(tree)
	case "zsh":
		script = zshCompletion(tree)
	case "fish":
		script = fishCompletion(tree)
	default: // kong's enum keeps us from here
		return fmt.Errorf("no completion for shell %q: use bash, zsh or fish", c.Shell)
	}
	_, err := out.Write([]byte(script))
	return err
}

// The shell generators share this view of kong's model: every visible
// command, with the words that lead to it, what may follow it, and its flags.

// complNode is one command (or the root) as a completion script sees it.
type complNode struct {
	// path is the command words from the root, "lmx source ls".
	path string
	// subs are the subcommands.
	subs []complItem
	// args are the values the first positional argument accepts, if it is
	// an enum.
	args []string
	// flags are all flags valid here, those inherited from parents included.
	flags []complFlag
	// own are the flags this command declares itself.
	own []complFlag
}

// complItem is a word with its one-line description.
type complItem struct {
	name, help string
}

// complFlag is a flag as a completion script needs it.
type complFlag struct {
	long    string
	short   rune
	help    string
	value   bool     // takes a value
	choices []string // the values it accepts, when it is an enum
}

// completionTree flattens the visible commands under root, parents first.
func completionTree(root *kong.Node) []complNode {
	var out []complNode
	var walk func(n *kong.Node, path string, inherited []complFlag)
	walk = func(n *kong.Node, path string, inherited []complFlag) {
		own := complFlags(n)
		all := append(append([]complFlag(nil), inherited...), own...)
		cn := complNode{path: path, flags: all, own: own}
		for _, child := range visibleCommands(n) {
			cn.subs = append(cn.subs, complItem{name: child.Name, help: firstSentence(child.Help)})
		}
		if len(n.Positional) > 0 && n.Positional[0].Enum != "" {
			cn.args = n.Positional[0].EnumSlice()
		}
		out = append(out, cn)
		for _, child := range visibleCommands(n) {
			walk(child, path+" "+child.Name, all)
		}
	}
	walk(root, root.Name, nil)
	return out
}

func visibleCommands(n *kong.Node) []*kong.Node {
	var out []*kong.Node
	for _, c := range n.Children {
		if c.Type == kong.CommandNode && !c.Hidden {
			out = append(out, c)
		}
	}
	return out
}

func complFlags(n *kong.Node) []complFlag {
	var out []complFlag
	for _, f := range n.Flags {
		if f.Hidden {
			continue
		}
		cf := complFlag{long: f.Name, short: f.Short, help: firstSentence(f.Help), value: !f.IsBool() && !f.IsCounter()}
		if f.Enum != "" {
			cf.choices = f.EnumSlice()
		}
		out = append(out, cf)
	}
	return out
}

// firstSentence trims help to what fits in a completion menu.
func firstSentence(help string) string {
	help = strings.Join(strings.Fields(help), " ")
	if i := strings.Index(help, ". "); i >= 0 {
		help = help[:i]
	}
	return strings.TrimSuffix(help, ".")
}

// names returns the names of items.
func names(items []complItem) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.name
	}
	return out
}

// flagWords returns "--long" and "-s" for each flag.
func flagWords(flags []complFlag) []string {
	var out []string
	for _, f := range flags {
		out = append(out, "--"+f.long)
		if f.short != 0 {
			out = append(out, "-"+string(f.short))
		}
	}
	return out
}

// singleQuote quotes s for a POSIX-like shell (bash, zsh).
func singleQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
