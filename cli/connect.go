package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/lmx-video/lmx/api"
	"github.com/lmx-video/lmx/internal/netaddr"
)

// How a command reaches the control node, resolved on first use:
//
//   - the server is --server (or LMX_SERVER) when given; else the API URL a
//     control node on this machine wrote to DATA-DIR/local.json; else
//     defaultServer. DATA-DIR is LMX_DATA_DIR, else the control node's
//     default (api.DefaultDataDir), else, when that has no local.json, the
//     packaged control node's (api.SystemDataDir, /var/lib/lmx).
//   - the token is --token (or LMX_TOKEN); else, when the server is that
//     local control node, its admin token (DATA-DIR/admin.token) if this
//     user may read it.
//   - the CA is --ca-file (or LMX_CA_FILE); else, for that local control
//     node, the CA file local.json names.
//
// What local.json gives applies only to the server it names: the admin
// token never goes to a --server elsewhere.

// defaultServer is the management API when neither --server nor a local
// control node says otherwise.
var defaultServer = "http://" + netaddr.Dial(netaddr.Listen(netaddr.APIPort))

// apiFlags are the flags of the command groups that talk to the management
// API (source, rec, edge, token, tui), beside the global --server. They are
// not on Root because `lmx edged` has a --token of its own (the edge's
// shared token), and kong takes a flag name once per command path.
type apiFlags struct {
	Token  string `env:"LMX_TOKEN" placeholder:"TOKEN" help:"API token (default: the control node's admin token when this machine runs it)."`
	CAFile string `name:"ca-file" env:"LMX_CA_FILE" placeholder:"FILE" help:"PEM file of the CA to trust for an https control node (default: the one the control node on this machine uses, else the system's)."`
}

// AfterApply hands the parsed flags to the client provider; kong calls it
// on the command group that embeds apiFlags.
func (f *apiFlags) AfterApply(d *dial) error {
	d.flags = *f
	return nil
}

// connection is what the client is made from.
type connection struct {
	// Server is the management API's address.
	Server string
	// Token is sent as a bearer token ("" for none).
	Token string
	// CAFile is the CA to trust for https ("" for the system's).
	CAFile string

	// tokenFrom says where Token came from, for messages.
	tokenFrom string
	// dataDir is the control node data dir looked in ("" if none).
	dataDir string
}

// localNode is what a control node on this machine left for local tools
// (api.ReadLocal), and the data dir it was looked for in. A missing
// local.json is fs.ErrNotExist.
type localNode func() (dir string, node api.LocalNode, token string, err error)

// readLocal looks in LMX_DATA_DIR, else the control node's default data
// dir, else (when that has no local.json) in system, the data dir of the
// control node the package runs.
func readLocal(getenv func(string) string, system string) localNode {
	return func() (string, api.LocalNode, string, error) {
		if dir := getenv("LMX_DATA_DIR"); dir != "" {
			node, token, err := api.ReadLocal(dir)
			return dir, node, token, err
		}
		dir, err := api.DefaultDataDir()
		if err == nil {
			node, token, err := api.ReadLocal(dir)
			if !errors.Is(err, fs.ErrNotExist) || system == "" {
				return dir, node, token, err
			}
		} else if system == "" {
			return "", api.LocalNode{}, "", fmt.Errorf("%w: %v", fs.ErrNotExist, err)
		}
		node, token, serr := api.ReadLocal(system)
		if errors.Is(serr, fs.ErrNotExist) && dir != "" {
			return dir, api.LocalNode{}, "", serr // neither: the user's own dir is what to name
		}
		return system, node, token, serr
	}
}

// groupHint is what to do about a control node's file that this user may
// not read: join the group the package gives it to.
func groupHint(dir string) string {
	if dir != api.SystemDataDir {
		return ""
	}
	return fmt.Sprintf("add yourself to group %s (sudo adduser $USER %s, then log in again)", api.SystemAdminGroup, api.SystemAdminGroup)
}

// resolve turns the flags into a connection (see the top of this file).
func resolve(server string, flags apiFlags, local localNode) (connection, error) {
	c := connection{Server: server, Token: strings.TrimSpace(flags.Token), CAFile: flags.CAFile}
	if c.Token != "" {
		c.tokenFrom = "--token or LMX_TOKEN"
	}
	if c.Server != "" && c.Token != "" && c.CAFile != "" {
		return c, nil // nothing left to look up
	}
	dir, node, token, err := local()
	c.dataDir = dir
	if err != nil {
		if c.Server == "" && errors.Is(err, fs.ErrPermission) {
			hint := groupHint(dir)
			if hint == "" {
				hint = "run this as the user that runs the control node"
			}
			return c, fmt.Errorf("you may not read %s, which the control node on this machine left for lmx: %s, or pass --server and --token",
				filepath.Join(dir, api.LocalFile), hint)
		}
		if c.Server == "" && !errors.Is(err, fs.ErrNotExist) {
			return c, fmt.Errorf("the control node on this machine left %s unreadable: %w (pass --server to skip it)",
				filepath.Join(dir, api.LocalFile), err)
		}
		node, token = api.LocalNode{}, ""
	}
	if c.Server == "" {
		c.Server = defaultServer
		if node.APIURL != "" {
			c.Server = node.APIURL
		}
	}
	if node.APIURL == "" || !sameServer(c.Server, node.APIURL) {
		return c, nil
	}
	if c.Token == "" && token != "" {
		c.Token, c.tokenFrom = token, filepath.Join(dir, api.AdminTokenFile)
	}
	if c.CAFile == "" && node.CAFile != "" {
		c.CAFile = node.CAFile
		if !filepath.IsAbs(c.CAFile) {
			c.CAFile = filepath.Join(dir, c.CAFile)
		}
	}
	return c, nil
}

// sameServer reports whether two server addresses are one: same scheme,
// host, port and path, "host:port" meaning http://host:port.
func sameServer(a, b string) bool {
	norm := func(s string) string {
		if !strings.Contains(s, "://") {
			s = "http://" + s
		}
		u, err := url.Parse(s)
		if err != nil {
			return s
		}
		return strings.ToLower(u.Scheme) + "://" + strings.ToLower(u.Host) + strings.TrimSuffix(u.Path, "/")
	}
	return norm(a) == norm(b)
}

// dial is how commands get their client: the global --server and the
// group's apiFlags, resolved once (on the first command that asks for a
// Client), then the client made for them. run keeps it to explain an
// authentication failure in terms of what was sent.
type dial struct {
	root  *Root
	env   env
	flags apiFlags

	resolved bool
	conn     connection
	err      error
}

// connection resolves the flags, once.
func (d *dial) connection() (connection, error) {
	if !d.resolved {
		d.resolved = true
		d.conn, d.err = resolve(d.root.Server, d.flags, d.env.local)
	}
	return d.conn, d.err
}

// client makes the client for the connection.
func (d *dial) client() (Client, error) {
	c, err := d.connection()
	if err != nil {
		return nil, err
	}
	return d.env.newClient(c)
}

// explain rewrites a 401 or 403 from the control node into what to do
// about it; other errors pass as they are.
func (d *dial) explain(err error) error {
	var se *api.StatusError
	if !errors.As(err, &se) || !d.resolved {
		return err
	}
	switch se.Status {
	case http.StatusUnauthorized:
		if d.conn.Token == "" {
			file := filepath.Join("DATA-DIR", api.AdminTokenFile)
			if d.conn.dataDir != "" {
				file = filepath.Join(d.conn.dataDir, api.AdminTokenFile)
				if _, rerr := os.ReadFile(file); errors.Is(rerr, fs.ErrPermission) {
					hint := groupHint(d.conn.dataDir)
					if hint == "" {
						hint = "run this as the user that runs the control node"
					}
					return &hintError{err: err, msg: fmt.Sprintf(
						"the control node wants a token, and you may not read its admin token %s: %s, or pass --token or set LMX_TOKEN", file, hint)}
				}
			}
			return &hintError{err: err, msg: fmt.Sprintf(
				"the control node wants a token: pass --token, set LMX_TOKEN, or run this on the control node's machine as the user that runs it (it reads %s)", file)}
		}
		return &hintError{err: err, msg: fmt.Sprintf(
			"the control node refused the token from %s (%s): it may have expired or been revoked; pass another with --token or LMX_TOKEN", d.conn.tokenFrom, se.Said())}
	case http.StatusForbidden:
		msg := "the token's role is not allowed to do this"
		if se.RequiredRole != "" {
			msg += ": it takes a token with role " + se.RequiredRole
			if se.RequiredRole != api.RoleAdmin {
				msg += " or above"
			}
		}
		return &hintError{err: err, msg: msg + " (the control node said: " + se.Said() + ")"}
	}
	return err
}
