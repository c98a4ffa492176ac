package auth

import (
	"time"

	"github.com/lmx-video/lmx/api"
)

// Permission is one kind of call a role may be allowed. Every route of the
// management API names the permission it needs (mgmt's route table), and
// docs/architecture.md's roles table is this file in words.
type Permission string

// Permissions, by what they let a token do.
const (
	// PermRead reads sources, edges, recordings, events, metrics and whoami.
	PermRead Permission = "read"
	// PermWatch mints signed playback URLs (grants).
	PermWatch Permission = "watch"
	// PermSources creates, changes and deletes sources and turns streaming on and off.
	PermSources Permission = "sources"
	// PermRecord starts, stops, pins and unpins recordings.
	PermRecord Permission = "record"
	// PermDelete deletes recordings.
	PermDelete Permission = "delete"
	// PermTokens lists tokens and creates and revokes viewer and operator tokens.
	PermTokens Permission = "tokens"
	// PermAdminTokens creates and revokes admin tokens.
	PermAdminTokens Permission = "admin-tokens"
	// PermEdges adds, revokes and restores edges.
	PermEdges Permission = "edges"
)

// Permissions lists every permission, in the roles table's order.
var Permissions = []Permission{PermRead, PermWatch, PermSources, PermRecord, PermDelete, PermTokens, PermAdminTokens, PermEdges}

// roleGrants is the roles table.
var roleGrants = map[string][]Permission{
	api.RoleViewer:   {PermRead, PermWatch},
	api.RoleOperator: {PermRead, PermWatch, PermSources, PermRecord, PermDelete, PermTokens},
	api.RoleAdmin:    Permissions,
}

// ValidRole reports whether role names a role.
func ValidRole(role string) bool {
	_, ok := roleGrants[role]
	return ok
}

// Allows reports whether role has permission p.
func Allows(role string, p Permission) bool {
	for _, q := range roleGrants[role] {
		if q == p {
			return true
		}
	}
	return false
}

// LeastRole is the least role that has p, for a 403 that says what is needed.
func LeastRole(p Permission) string {
	for _, r := range []string{api.RoleViewer, api.RoleOperator, api.RoleAdmin} {
		if Allows(r, p) {
			return r
		}
	}
	return api.RoleAdmin
}

// Principal is who made a request: the API token it presented.
type Principal struct {
	// TokenID is the token's public id ("" when auth is off).
	TokenID string
	// Name is the token's name, what events and logs call the actor.
	Name string
	// Role is the token's role.
	Role string
	// Expires is when the token stops working (zero: never).
	Expires time.Time
}

// Open is the principal of every request when auth is off: it may do
// everything, and it is nobody in particular.
var Open = Principal{Role: api.RoleAdmin}

// Can reports whether the principal may do p.
func (p Principal) Can(perm Permission) bool { return Allows(p.Role, perm) }
