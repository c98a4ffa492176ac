package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// completionScript runs `lmx completion shell` and writes the script to a
// file for the shell to load.
func completionScript(t *testing.T, shell string) (script, file string) {
	t.Helper()
	r := runCLI(t, nil, "completion", shell)
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	file = filepath.Join(t.TempDir(), "lmx."+shell)
	if err := os.WriteFile(file, []byte(r.stdout), 0o644); err != nil {
		t.Fatal(err)
	}
	return r.stdout, file
}

// shell runs a script with the named shell, or skips when it is missing.
func shell(t *testing.T, name string, args ...string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s not installed", name)
	}
	out, err := exec.Command(path, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %q: %v\n%s", name, args, err, out)
	}
	return string(out)
}

// TestCompletionCoversEveryCommand checks each script names every command
// under its parent, walking kong's model so new commands are included.
func TestCompletionCoversEveryCommand(t *testing.T) {
	bash, _ := completionScript(t, "bash")
	zsh, _ := completionScript(t, "zsh")
	fish, _ := completionScript(t, "fish")
	for _, n := range commands(t) {
		path := n.FullPath()
		parent := n.Parent.FullPath()
		// Every command has a case of its own for its flags...
		for sh, script := range map[string]string{"bash": bash, "zsh": zsh} {
			if !strings.Contains(script, "'"+path+"')") {
				t.Errorf("%s script has no case for %q", sh, path)
			}
			if !strings.Contains(script, "'"+parent+"')") {
				t.Errorf("%s script has no case for %q", sh, parent)
			}
		}
		// ...and is offered after its parent.
		if want := "-n '__lmx_at \\'" + parent + "\\'' -a '" + n.Name + "'"; !strings.Contains(fish, want) {
			t.Errorf("fish script lacks %s", want)
		}
	}
}

func TestBashCompletion(t *testing.T) {
	_, file := completionScript(t, "bash")
	shell(t, "bash", "-n", file)

	// Complete as bash would, word by word; '' is the word being typed.
	probe := `source "$1"
t() { COMP_WORDS=("$@"); COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 )); COMPREPLY=(); _lmx; echo "${COMPREPLY[*]}"; }
t lmx ''
t lmx so
t lmx source ''
t lmx --server http://x:8080 source stream ''
t lmx source ls --
t lmx --log-level ''
t lmx completion ''
t lmx source stream on camera-0 --t
t lmx rec ''
t lmx rec start camera-0 --s
`
	got := shell(t, "bash", "-c", probe, "probe", file)
	want := `controld edged demo source rec edge token tui version completion
source
add ls show set rm stream url
on off
--help --server --log-level --log-format --token --ca-file --name --json --watch
debug info warn error
bash zsh fish
--token --timeout
start stop ls show url rm export pin unpin
--server --since --since-epoch
`
	if got != want {
		t.Errorf("completions:\n%s\nwant:\n%s", got, want)
	}
}

func TestZshCompletion(t *testing.T) {
	_, file := completionScript(t, "zsh")
	shell(t, "zsh", "-n", file)

	// Stand-ins for zsh's completion system print what would be offered.
	probe := `compdef() { : }
_describe() { print -r -- "${(j: :)${(@)${(P)4}%%:*}}" }
compadd() { print -r -- "${(j: :)${(P)2}}" }
_default() { print -r -- "(files)" }
source "$1"
t() { words=("$@"); CURRENT=$#words; _lmx }
t lmx ''
t lmx --server http://x:8080 source ''
t lmx source stream ''
t lmx edge ls --
t lmx --log-format ''
t lmx --server ''
t lmx completion ''
`
	got := shell(t, "zsh", "-f", "-c", probe, "probe", file)
	want := `controld edged demo source rec edge token tui version completion
add ls show set rm stream url
on off
--help -h --server --log-level --log-format --token --ca-file --json --watch -w
text json
(files)
bash zsh fish
`
	if got != want {
		t.Errorf("completions:\n%s\nwant:\n%s", got, want)
	}
}

func TestFishCompletion(t *testing.T) {
	_, file := completionScript(t, "fish")
	shell(t, "fish", "-n", file)

	probe := `source $argv[1]
for line in 'lmx ' 'lmx --server http://x:8080 source ' 'lmx source stream ' 'lmx edge show gw --' 'lmx --log-level ' 'lmx completion '
    complete -C "$line" | string replace -r '\t.*' '' | sort | string join ' '
end
`
	got := shell(t, "fish", "-N", "-c", probe, file)
	want := `completion controld demo edge edged rec source token tui version
add ls rm set show stream url
off on
--ca-file --help --json --log-format --log-level --server --token
debug error info warn
bash fish zsh
`
	if got != want {
		t.Errorf("completions:\n%s\nwant:\n%s", got, want)
	}
}
