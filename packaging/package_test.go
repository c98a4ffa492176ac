// Package packaging holds the files of lmx's Debian packages (the systemd
// units, the default configuration files, the maintainer scripts) and the
// tests that check them: that .goreleaser.yaml's nfpms section ships them
// as meant, and, by building the amd64 packages from that section with
// nfpm, that the .deb files hold what they should, that systemd accepts
// the units and that the packaged binaries read the packaged configuration.
//
//	go test ./packaging                     # or scripts/package-test.sh
//	LMX_PACKAGE_DIR=dist/packages LMX_PACKAGE_VERSION=v1.2.3 go test -run TestPackages -v ./packaging
//
// keeps the .deb files it builds in LMX_PACKAGE_DIR (relative to the
// repository), for version LMX_PACKAGE_VERSION (default v0.0.0-test).
package packaging

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// nfpmModule is the nfpm the packages are built with, pinned
// (scripts/test-deps.sh installs it in GOPATH/bin).
const (
	nfpmModule  = "github.com/goreleaser/nfpm/v2/cmd/nfpm"
	nfpmVersion = "v2.45.2"
)

// releaseConfig is what the tests read of .goreleaser.yaml.
type releaseConfig struct {
	Builds []struct {
		ID      string   `yaml:"id"`
		Main    string   `yaml:"main"`
		Binary  string   `yaml:"binary"`
		Env     []string `yaml:"env"`
		Flags   []string `yaml:"flags"`
		Goos    []string `yaml:"goos"`
		Goarch  []string `yaml:"goarch"`
		Goarm   []string `yaml:"goarm"`
		Ldflags []string `yaml:"ldflags"`
	} `yaml:"builds"`
	Nfpms []nfpmPackage `yaml:"nfpms"`
}

// nfpmPackage is one entry of the nfpms section.
type nfpmPackage struct {
	ID           string    `yaml:"id"`
	PackageName  string    `yaml:"package_name"`
	IDs          []string  `yaml:"ids"`
	Formats      []string  `yaml:"formats"`
	Vendor       string    `yaml:"vendor"`
	Homepage     string    `yaml:"homepage"`
	Maintainer   string    `yaml:"maintainer"`
	Description  string    `yaml:"description"`
	Section      string    `yaml:"section"`
	Priority     string    `yaml:"priority"`
	Bindir       string    `yaml:"bindir"`
	Dependencies []string  `yaml:"dependencies"`
	Recommends   []string  `yaml:"recommends"`
	Suggests     []string  `yaml:"suggests"`
	Contents     []content `yaml:"contents"`
	Scripts      struct {
		Postinstall string `yaml:"postinstall"`
		Preremove   string `yaml:"preremove"`
		Postremove  string `yaml:"postremove"`
	} `yaml:"scripts"`
}

// content is one file of a package, as goreleaser and nfpm both write it.
type content struct {
	Src      string `yaml:"src"`
	Dst      string `yaml:"dst"`
	Type     string `yaml:"type,omitempty"`
	FileInfo struct {
		Mode  uint32 `yaml:"mode,omitempty"`
		Owner string `yaml:"owner,omitempty"`
		Group string `yaml:"group,omitempty"`
	} `yaml:"file_info"`
}

// what each package must be: the service it runs and its configuration.
var want = map[string]struct {
	unit, conf, binary, execStart, stateDir string
	arches                                  []string
	recommends, suggests                    []string
}{
	"lmx": {
		unit: "lmx-controld.service", conf: "/etc/lmx/controld.yaml", binary: "lmx",
		execStart: "/usr/bin/lmx controld --config /etc/lmx/controld.yaml", stateDir: "lmx",
		arches: []string{"amd64", "arm64"}, suggests: []string{"ffmpeg"},
	},
	"lmx-edge": {
		unit: "lmx-edge.service", conf: "/etc/lmx/edged.yaml", binary: "lmx-edge",
		execStart: "/usr/bin/lmx-edge --config /etc/lmx/edged.yaml", stateDir: "lmx-edge",
		arches: []string{"amd64", "arm64", "arm"}, recommends: []string{"ffmpeg"},
	},
}

// repoRoot is the repository, where the release configuration's paths start.
const repoRoot = ".."

func readRelease(t *testing.T) releaseConfig {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, ".goreleaser.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var c releaseConfig
	if err := yaml.Unmarshal(b, &c); err != nil {
		t.Fatalf(".goreleaser.yaml: %v", err)
	}
	return c
}

// TestReleaseConfig checks the nfpms section of .goreleaser.yaml against
// the files in packaging/: both packages, for the right builds, with every
// file there, the configuration files as conffiles only root and group lmx
// read, and the maintainer scripts sound.
func TestReleaseConfig(t *testing.T) {
	c := readRelease(t)
	var names []string
	for _, p := range c.Nfpms {
		names = append(names, p.PackageName)
		w, ok := want[p.PackageName]
		if !ok {
			t.Errorf("nfpms: package %q is not one this test knows", p.PackageName)
			continue
		}
		if !slices.Equal(p.Formats, []string{"deb"}) {
			t.Errorf("%s: formats %v, want [deb]", p.PackageName, p.Formats)
		}
		if p.Bindir != "/usr/bin" || p.Maintainer == "" || p.Description == "" || p.Section == "" {
			t.Errorf("%s: bindir %q, maintainer %q, section %q, description %q", p.PackageName, p.Bindir, p.Maintainer, p.Section, p.Description)
		}
		if !slices.Contains(p.Dependencies, "adduser") {
			t.Errorf("%s: the scripts run adduser: depend on it", p.PackageName)
		}
		if !slices.Equal(p.Recommends, w.recommends) || !slices.Equal(p.Suggests, w.suggests) {
			t.Errorf("%s: recommends %v, suggests %v; want %v, %v", p.PackageName, p.Recommends, p.Suggests, w.recommends, w.suggests)
		}
		// The binary, from the build of the same name, for linux on every
		// architecture the package is for.
		if !slices.Equal(p.IDs, []string{w.binary}) {
			t.Errorf("%s: ids %v, want [%s]", p.PackageName, p.IDs, w.binary)
		}
		for _, b := range c.Builds {
			if b.ID != w.binary {
				continue
			}
			if b.Binary != w.binary || !slices.Contains(b.Goos, "linux") || !slices.Equal(b.Goarch, w.arches) {
				t.Errorf("build %s: binary %q, goos %v, goarch %v; want %s for linux %v", b.ID, b.Binary, b.Goos, b.Goarch, w.binary, w.arches)
			}
			if slices.Contains(b.Goarch, "arm") && !slices.Equal(b.Goarm, []string{"7"}) {
				t.Errorf("build %s: goarm %v, want [7] (armhf, the Raspberry Pi's)", b.ID, b.Goarm)
			}
		}
		var unit, conf *content
		for i, f := range p.Contents {
			if f.Type == "dir" {
				continue
			}
			if _, err := os.Stat(filepath.Join(repoRoot, f.Src)); err != nil {
				t.Errorf("%s: %s: %v", p.PackageName, f.Dst, err)
			}
			switch f.Dst {
			case "/usr/lib/systemd/system/" + w.unit:
				unit = &p.Contents[i]
			case w.conf:
				conf = &p.Contents[i]
			}
			if f.Type == "config|noreplace" && f.Dst != w.conf {
				t.Errorf("%s: %s is a conffile; only %s should be", p.PackageName, f.Dst, w.conf)
			}
		}
		if unit == nil || unit.FileInfo.Mode != 0o644 {
			t.Errorf("%s: no /usr/lib/systemd/system/%s, mode 0644", p.PackageName, w.unit)
		}
		if conf == nil || conf.Type != "config|noreplace" || conf.FileInfo.Mode != 0o640 || conf.FileInfo.Owner != "root" || conf.FileInfo.Group != "lmx" {
			t.Errorf("%s: %s: want it there as type config|noreplace, mode 0640, root:lmx; got %+v", p.PackageName, w.conf, conf)
		}
		for _, s := range []string{p.Scripts.Postinstall, p.Scripts.Preremove, p.Scripts.Postremove} {
			checkScript(t, p.PackageName, s)
		}
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"lmx", "lmx-edge"}) {
		t.Errorf("nfpms: packages %v, want lmx and lmx-edge", names)
	}
}

// checkScript checks a maintainer script: there, executable, POSIX sh
// that parses, and knowing both packages.
func checkScript(t *testing.T, pkg, path string) {
	t.Helper()
	if path == "" {
		t.Errorf("%s: a maintainer script is missing", pkg)
		return
	}
	full := filepath.Join(repoRoot, path)
	st, err := os.Stat(full)
	if err != nil {
		t.Errorf("%s: %v", pkg, err)
		return
	}
	if st.Mode().Perm()&0o111 == 0 {
		t.Errorf("%s: %s is not executable", pkg, path)
	}
	b, _ := os.ReadFile(full)
	if !bytes.HasPrefix(b, []byte("#!/bin/sh\n")) {
		t.Errorf("%s: %s: want #!/bin/sh", pkg, path)
	}
	for name := range want {
		if !bytes.Contains(b, []byte("\n"+name+") ")) {
			t.Errorf("%s: %s does not handle the package %s", pkg, path, name)
		}
	}
	if out, err := exec.Command("sh", "-n", full).CombinedOutput(); err != nil {
		t.Errorf("%s: sh -n %s: %v\n%s", pkg, path, err, out)
	}
}

// unitDirectives reads a systemd unit's Key=Value lines, by key.
func unitDirectives(t *testing.T, path string) map[string][]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' || line[0] == '[' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Errorf("%s: %q is no Key=Value", path, line)
			continue
		}
		out[k] = append(out[k], v)
	}
	return out
}

// TestUnits: both units run their daemon as lmx with the packaged
// configuration and the hardening docs/architecture.md describes; the
// edge's leaves ffmpeg, which it runs, free to run.
func TestUnits(t *testing.T) {
	common := map[string]string{
		"User": "lmx", "Group": "lmx", "Restart": "on-failure", "StateDirectoryMode": "0750",
		"ProtectSystem": "strict", "ProtectHome": "yes", "NoNewPrivileges": "yes", "PrivateTmp": "yes",
		"PrivateDevices": "yes", "ProtectKernelTunables": "yes", "ProtectKernelModules": "yes",
		"ProtectControlGroups": "yes", "LockPersonality": "yes", "CapabilityBoundingSet": "",
		"AmbientCapabilities": "", "RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX AF_NETLINK",
		"WantedBy": "multi-user.target",
	}
	for name, w := range want {
		d := unitDirectives(t, filepath.Join(w.unit))
		check := func(k, v string) {
			if got := d[k]; len(got) != 1 || got[0] != v {
				t.Errorf("%s: %s=%q, want %q", w.unit, k, got, v)
			}
		}
		for k, v := range common {
			check(k, v)
		}
		check("ExecStart", w.execStart)
		check("StateDirectory", w.stateDir)
		switch name {
		case "lmx":
			check("MemoryDenyWriteExecute", "yes")
		case "lmx-edge":
			for _, k := range []string{"SystemCallFilter", "MemoryDenyWriteExecute"} {
				if _, ok := d[k]; ok {
					t.Errorf("%s: %s= would pass to the ffmpeg the agent runs", w.unit, k)
				}
			}
		}
	}
}

// TestPackages builds the amd64 packages the way a release does, from the
// nfpms section of .goreleaser.yaml, with nfpm, and inspects them.
func TestPackages(t *testing.T) {
	if testing.Short() {
		t.Skip("builds lmx and lmx-edge and packages them with nfpm")
	}
	for _, tool := range []string{"dpkg-deb"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed (apt-get install dpkg): the packages cannot be inspected", tool)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	c := readRelease(t)
	version := cmp.Or(os.Getenv("LMX_PACKAGE_VERSION"), "v0.0.0-test")
	work := t.TempDir()
	bins := buildBinaries(ctx, t, c, filepath.Join(work, "bin"), version)
	nfpm := findNfpm(ctx, t)
	out := filepath.Join(work, "out")
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, p := range c.Nfpms {
		t.Run(p.PackageName, func(t *testing.T) {
			deb := buildPackage(ctx, t, nfpm, p, bins, version, filepath.Join(out, p.PackageName))
			inspectPackage(ctx, t, p, deb, version)
			if dir := os.Getenv("LMX_PACKAGE_DIR"); dir != "" {
				if !filepath.IsAbs(dir) {
					dir = filepath.Join(repoRoot, dir)
				}
				keep(t, deb, dir)
			}
		})
	}
}

// buildBinaries builds every binary the packages take, for linux/amd64,
// with the release's flags.
func buildBinaries(ctx context.Context, t *testing.T, c releaseConfig, dir, version string) map[string]string {
	t.Helper()
	bins := map[string]string{}
	for _, b := range c.Builds {
		path := filepath.Join(dir, b.Binary)
		args := append([]string{"build"}, b.Flags...)
		args = append(args, "-ldflags", "-s -w -X main.version="+version, "-o", path, b.Main)
		cmd := exec.CommandContext(ctx, "go", args...)
		cmd.Dir = repoRoot
		cmd.Env = append(os.Environ(), append(b.Env, "GOOS=linux", "GOARCH=amd64")...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		bins[b.ID] = path
	}
	return bins
}

// findNfpm is the pinned nfpm: the one in PATH or GOPATH/bin when it is that
// version, else go run of it.
func findNfpm(ctx context.Context, t *testing.T) []string {
	t.Helper()
	candidates := []string{"nfpm"}
	if gopath, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
		candidates = append(candidates, filepath.Join(strings.TrimSpace(string(gopath)), "bin", "nfpm"))
	}
	for _, c := range candidates {
		path, err := exec.LookPath(c)
		if err != nil {
			continue
		}
		// go install leaves the module's version in the binary.
		out, err := exec.CommandContext(ctx, "go", "version", "-m", path).Output()
		if err == nil && regexp.MustCompile(`(?m)^\s+mod\s+github.com/goreleaser/nfpm/v2\s+`+regexp.QuoteMeta(nfpmVersion)+`\s`).Match(out) {
			return []string{path}
		}
	}
	t.Logf("nfpm %s is not installed (scripts/test-deps.sh installs it): using go run", nfpmVersion)
	return []string{"go", "run", nfpmModule + "@" + nfpmVersion}
}

// buildPackage writes the nfpm configuration for p (the goreleaser entry,
// with the binaries goreleaser adds to bindir), runs nfpm and returns the
// .deb it made.
func buildPackage(ctx context.Context, t *testing.T, nfpm []string, p nfpmPackage, bins map[string]string, version, out string) string {
	t.Helper()
	contents := []content{}
	for _, id := range p.IDs {
		var c content
		c.Src, c.Dst, c.FileInfo.Mode = bins[id], p.Bindir+"/"+filepath.Base(bins[id]), 0o755
		contents = append(contents, c)
	}
	contents = append(contents, p.Contents...)
	cfg := map[string]any{
		"name": p.PackageName, "arch": "amd64", "platform": "linux", "version": version,
		"section": p.Section, "priority": p.Priority, "maintainer": p.Maintainer,
		"description": p.Description, "vendor": p.Vendor, "homepage": p.Homepage,
		"depends": p.Dependencies, "recommends": p.Recommends, "suggests": p.Suggests,
		"contents": contents,
		"scripts": map[string]string{
			"postinstall": p.Scripts.Postinstall, "preremove": p.Scripts.Preremove, "postremove": p.Scripts.Postremove,
		},
	}
	b, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "nfpm.yaml")
	if err := os.WriteFile(file, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	// Into a directory: nfpm names the file as goreleaser does
	// (lmx_1.2.3_amd64.deb).
	args := append(slices.Clone(nfpm[1:]), "package", "--config", file, "--packager", "deb", "--target", out+"/")
	cmd := exec.CommandContext(ctx, nfpm[0], args...)
	cmd.Dir = repoRoot
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s\nconfiguration:\n%s", nfpm[0], strings.Join(args, " "), err, msg, b)
	}
	debs, _ := filepath.Glob(filepath.Join(out, "*.deb"))
	if len(debs) != 1 || !strings.HasPrefix(filepath.Base(debs[0]), p.PackageName+"_") || !strings.HasSuffix(debs[0], "_amd64.deb") {
		t.Fatalf("nfpm made %v, want one %s_VERSION_amd64.deb", debs, p.PackageName)
	}
	return debs[0]
}

// debEntry is one line of dpkg-deb -c.
type debEntry struct{ mode, owner string }

// inspectPackage checks a built package: its fields, its files with their
// modes and owners, its conffiles and scripts, its units (systemd-analyze)
// and that its binary reads its configuration file.
func inspectPackage(ctx context.Context, t *testing.T, p nfpmPackage, deb, version string) {
	w := want[p.PackageName]

	// The control fields. A Debian version starts with a digit, and a
	// pre-release sorts before the release ("~").
	fields := controlFields(t, run(ctx, t, "", "dpkg-deb", "-f", deb))
	debVersion := strings.Replace(strings.TrimPrefix(version, "v"), "-", "~", 1)
	for k, v := range map[string]string{
		"Package": p.PackageName, "Architecture": "amd64", "Version": debVersion,
		"Depends": strings.Join(p.Dependencies, ", "), "Recommends": strings.Join(w.recommends, ", "),
		"Suggests": strings.Join(w.suggests, ", "), "Section": "video", "Maintainer": p.Maintainer,
	} {
		if fields[k] != v {
			t.Errorf("%s: %s: %q, want %q", filepath.Base(deb), k, fields[k], v)
		}
	}

	// The files: exactly those of the release configuration, as it says.
	files := map[string]debEntry{}
	for _, line := range strings.Split(strings.TrimSpace(run(ctx, t, "", "dpkg-deb", "-c", deb)), "\n") {
		f := strings.Fields(line)
		if len(f) < 6 {
			t.Fatalf("dpkg-deb -c: %q", line)
		}
		path := strings.TrimPrefix(f[len(f)-1], ".")
		if strings.HasPrefix(f[0], "d") {
			if f[0] != "drwxr-xr-x" || f[1] != "root/root" {
				t.Errorf("directory %s: %s %s, want drwxr-xr-x root/root", path, f[0], f[1])
			}
			continue
		}
		files[path] = debEntry{f[0], f[1]}
	}
	wantFiles := map[string]debEntry{p.Bindir + "/" + w.binary: {"-rwxr-xr-x", "root/root"}}
	for _, c := range p.Contents {
		if c.Type == "dir" {
			continue // checked with every directory above
		}
		owner, group := cmp.Or(c.FileInfo.Owner, "root"), cmp.Or(c.FileInfo.Group, "root")
		wantFiles[c.Dst] = debEntry{fs.FileMode(c.FileInfo.Mode).String(), owner + "/" + group}
	}
	if fmt.Sprint(files) != fmt.Sprint(wantFiles) {
		t.Errorf("%s holds\n%v\nwant\n%v", filepath.Base(deb), files, wantFiles)
	}

	// The control area: the conffile, and the scripts as they are in packaging/.
	ctrl := t.TempDir()
	run(ctx, t, "", "dpkg-deb", "-e", deb, ctrl)
	if b, err := os.ReadFile(filepath.Join(ctrl, "conffiles")); err != nil || strings.TrimSpace(string(b)) != w.conf {
		t.Errorf("conffiles: %q, %v; want %s", b, err, w.conf)
	}
	for name, src := range map[string]string{"postinst": p.Scripts.Postinstall, "prerm": p.Scripts.Preremove, "postrm": p.Scripts.Postremove} {
		got, err := os.ReadFile(filepath.Join(ctrl, name))
		wantScript, _ := os.ReadFile(filepath.Join(repoRoot, src))
		if err != nil || !bytes.Equal(got, wantScript) {
			t.Errorf("%s: not %s as in packaging/ (%v)", name, src, err)
		}
		if st, err := os.Stat(filepath.Join(ctrl, name)); err != nil || st.Mode().Perm()&0o111 == 0 {
			t.Errorf("%s is not executable", name)
		}
	}

	root := t.TempDir()
	run(ctx, t, "", "dpkg-deb", "-x", deb, root)
	checkPackagedConfig(ctx, t, root, w.binary, w.conf)
	verifyUnit(ctx, t, root, w.unit, w.binary)
}

// checkPackagedConfig runs the packaged binary with --print-config on the
// packaged configuration file: it must read it, and the file must document
// every key the binary takes.
func checkPackagedConfig(ctx context.Context, t *testing.T, root, binary, conf string) {
	t.Helper()
	bin, file := filepath.Join(root, "usr/bin", binary), filepath.Join(root, conf)
	args := []string{"--config", file, "--print-config"}
	if binary == "lmx" {
		args = append([]string{"controld"}, args...)
	}
	out := run(ctx, t, "", bin, args...)
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(out), &doc); err != nil || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		t.Fatalf("%s --print-config is no YAML mapping (%v):\n%s", binary, err, out)
	}
	text, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	m := doc.Content[0]
	for i := 0; i+1 < len(m.Content); i += 2 {
		key := m.Content[i].Value
		if !regexp.MustCompile(`(?m)^#? ?` + regexp.QuoteMeta(key) + `:`).Match(text) {
			t.Errorf("%s does not document %s (every key of %s --print-config is in it, most commented out)", conf, key, binary)
		}
	}
	switch binary {
	case "lmx":
		for _, line := range []string{"data-dir: /var/lib/lmx # file " + file + ":", "admin-group: lmx # file " + file + ":"} {
			if !strings.Contains(out, "\n"+line) {
				t.Errorf("lmx controld --print-config lacks %q:\n%s", line, out)
			}
		}
	case "lmx-edge":
		if !strings.Contains(out, "\nstate-dir: /var/lib/lmx-edge # file "+file+":") {
			t.Errorf("lmx-edge --print-config lacks the state dir from the file:\n%s", out)
		}
	}
}

// verifyUnit runs systemd-analyze verify on the packaged unit (a copy whose
// ExecStart names the extracted binary, as verify wants it to exist), and
// checks that systemd-analyze security rates it OK or better.
func verifyUnit(ctx context.Context, t *testing.T, root, unit, binary string) {
	t.Helper()
	sa, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Logf("systemd-analyze is not installed (apt-get install systemd): the unit is not verified")
		return
	}
	b, err := os.ReadFile(filepath.Join(root, "usr/lib/systemd/system", unit))
	if err != nil {
		t.Fatal(err)
	}
	copyDir := t.TempDir()
	copyUnit := filepath.Join(copyDir, unit)
	adjusted := strings.ReplaceAll(string(b), "ExecStart=/usr/bin/"+binary+" ", "ExecStart="+filepath.Join(root, "usr/bin", binary)+" ")
	if err := os.WriteFile(copyUnit, []byte(adjusted), 0o644); err != nil {
		t.Fatal(err)
	}
	// verify exits 0 on what it merely warns about (an unknown key, a bad
	// value it ignores): anything it says is a failure.
	cmd := exec.CommandContext(ctx, sa, "verify", "--man=no", copyUnit)
	out, err := cmd.CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("systemd-analyze verify %s: %v\n%s", unit, err, out)
	}
	out, err = exec.CommandContext(ctx, sa, "security", "--offline=yes", copyUnit).CombinedOutput()
	if err != nil {
		t.Errorf("systemd-analyze security %s: %v\n%s", unit, err, out)
		return
	}
	m := regexp.MustCompile(`Overall exposure level for \S+: ([0-9.]+) (\S+)`).FindSubmatch(out)
	if m == nil {
		t.Errorf("systemd-analyze security %s: no overall level in\n%s", unit, out)
		return
	}
	t.Logf("systemd-analyze security %s: %s %s", unit, m[1], m[2])
	if rating := string(m[2]); rating != "OK" && rating != "SAFE" {
		t.Errorf("systemd-analyze security rates %s %s %s; keep its hardening (OK or SAFE)", unit, m[1], rating)
	}
}

// controlFields parses dpkg-deb -f's output.
func controlFields(t *testing.T, out string) map[string]string {
	t.Helper()
	fields := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(out))
	var last string
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, " ") {
			fields[last] += "\n" + line
			continue
		}
		k, v, ok := strings.Cut(line, ": ")
		if !ok {
			t.Errorf("control field %q", line)
			continue
		}
		fields[k], last = v, k
	}
	return fields
}

// run runs a command in dir, fails the test unless it succeeds, and
// returns its standard output. The daemons read no LMX_* variable of the
// test run's.
func run(ctx context.Context, t *testing.T, dir, name string, args ...string) string {
	t.Helper()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "LMX_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}

// keep copies a built package into dir.
func keep(t *testing.T, deb, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(deb)
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(dir, filepath.Base(deb))
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("kept %s", dst)
}
