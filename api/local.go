package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Files a control node keeps in its data dir for the tools on its own
// machine, so `lmx source ls` there works with no flags.
const (
	// AdminTokenFile holds the first admin token's secret (mode 0600).
	AdminTokenFile = "admin.token"
	// LocalFile says how this machine reaches the control node (LocalNode).
	LocalFile = "local.json"
)

// LocalNode is how a tool on the control node's own machine reaches it:
// written by `lmx controld` at start into {data-dir}/local.json.
type LocalNode struct {
	// APIURL is the management API, e.g. https://127.0.0.1:8080.
	APIURL string `json:"api_url"`
	// PlaybackURL is the playback listener, e.g. https://127.0.0.1:8081.
	PlaybackURL string `json:"playback_url"`
	// CAFile is the CA certificate to trust for APIURL ("" for plain HTTP
	// or a certificate the system trusts).
	CAFile string `json:"ca_file,omitempty"`
	// Auth is false when the node runs with --auth none.
	Auth bool `json:"auth"`
}

// SystemDataDir is the data dir of the control node the lmx package runs
// as a service (lmx-controld.service), where lmx looks when the user's own
// default data dir has no local.json.
const SystemDataDir = "/var/lib/lmx"

// SystemAdminGroup is the group the lmx package lets read the admin token
// of its control node (controld's --admin-group).
const SystemAdminGroup = "lmx"

// DefaultDataDir is the control node's data dir when --data-dir is not
// given: $XDG_DATA_HOME/lmx, else ~/.local/share/lmx.
func DefaultDataDir() (string, error) {
	base := os.Getenv("XDG_DATA_HOME")
	if base == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("no home directory: %w", err)
		}
		base = filepath.Join(home, ".local", "share")
	}
	return filepath.Join(base, "lmx"), nil
}

// ReadLocal reads what a control node with data dir dir left for local
// tools: how to reach it and, when this user may read it, the admin token.
// A missing local.json is os.ErrNotExist; an unreadable admin token is no
// error (token is then "").
func ReadLocal(dir string) (node LocalNode, token string, err error) {
	b, err := os.ReadFile(filepath.Join(dir, LocalFile))
	if err != nil {
		return LocalNode{}, "", err
	}
	if err := json.Unmarshal(b, &node); err != nil {
		return LocalNode{}, "", fmt.Errorf("%s: %w", filepath.Join(dir, LocalFile), err)
	}
	if t, err := os.ReadFile(filepath.Join(dir, AdminTokenFile)); err == nil {
		token = strings.TrimSpace(string(t))
	} else if !errors.Is(err, os.ErrNotExist) && !errors.Is(err, os.ErrPermission) {
		return node, "", err
	}
	return node, token, nil
}
