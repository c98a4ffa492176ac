package cli

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/lmx-video/lmx/api"
)

// TokenCmd groups the commands about API tokens: what operators, scripts
// and dashboards present to the management API, each with a role.
type TokenCmd struct {
	apiFlags
	Create TokenCreateCmd `cmd:"" help:"Create an API token and print its secret, once."`
	Ls     TokenLsCmd     `cmd:"" help:"List API tokens."`
	Revoke TokenRevokeCmd `cmd:"" help:"Revoke an API token."`
}

// Token states, as lmx token ls shows them.
const (
	tokenActive  = "active"
	tokenExpired = "expired"
	tokenRevoked = "revoked"
)

// tokenState is whether t still works at now.
func tokenState(t api.Token, now time.Time) string {
	switch {
	case !t.RevokedAt.IsZero():
		return tokenRevoked
	case !t.ExpiresAt.IsZero() && !t.ExpiresAt.After(now):
		return tokenExpired
	default:
		return tokenActive
	}
}

// expiry says when t (a token's or a URL's end) comes: "never" when unset,
// "in 29d", or "2h ago" once past.
func expiry(t, now time.Time) string {
	switch {
	case t.IsZero():
		return "never"
	case t.After(now):
		// Rounded: an expiry stored in whole seconds is a little under the TTL asked.
		return "in " + shortDuration(t.Sub(now).Round(time.Minute))
	default:
		return age(t, now)
	}
}

// sortTokens returns tokens sorted by name, leaving the caller's slice alone.
func sortTokens(tokens []api.Token) []api.Token {
	tokens = slices.Clone(tokens)
	slices.SortFunc(tokens, func(a, b api.Token) int { return strings.Compare(a.Name, b.Name) })
	return tokens
}

// writeTokens prints tokens as a table sorted by name.
func writeTokens(w io.Writer, tokens []api.Token, now time.Time) error {
	tw := newTable(w)
	fmt.Fprintln(tw, "NAME\tROLE\tCREATED\tBY\tEXPIRES\tLAST USED\tSTATE")
	for _, t := range sortTokens(tokens) {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
			t.Name, t.Role, age(t.CreatedAt, now), orNone(t.CreatedBy),
			expiry(t.ExpiresAt, now), age(t.LastUsedAt, now), tokenState(t, now))
	}
	return tw.Flush()
}

// tokenError explains an API error about the token name: a 404 becomes
// advice to look at the list; anything else keeps its message.
func tokenError(name string, err error) error {
	if errors.Is(err, api.ErrNotFound) {
		return &hintError{msg: fmt.Sprintf("token %q not found: see lmx token ls", name), err: err}
	}
	return err
}
