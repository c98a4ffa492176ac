package api

import "time"

// Access control paths on the management API (see the roles table in
// docs/architecture.md for who may call each).
const (
	// PathTokens lists (GET) and creates (POST) API tokens.
	PathTokens = "/v1/token"
	// PathToken revokes (DELETE) one token, by name.
	PathToken = "/v1/token/{id}"
	// PathWhoami says which token the caller presented and its role (GET).
	PathWhoami = "/v1/whoami"
	// PathEdge reads (GET) one edge.
	PathEdge = "/v1/edge/{id}"
	// PathEdgeRevoke cuts an edge off (POST): its MQTT session is closed and
	// its uploads get 401 from then on.
	PathEdgeRevoke = "/v1/edge/{id}/revoke"
	// PathEdgeRestore lets a revoked edge back in with its same credential (POST).
	PathEdgeRestore = "/v1/edge/{id}/restore"
	// PathSourceGrant mints a signed playback URL for a source's live playlist (POST).
	PathSourceGrant = "/v1/source/{id}/grant"
	// PathRecordingGrant mints a signed playback URL for a recording (POST).
	PathRecordingGrant = "/v1/recording/{id}/grant"
)

// GrantParam is the query parameter a playback grant travels in, on the
// playlist URL and on every URI inside the playlists served with it.
const GrantParam = "grant"

// Roles, from least to most allowed.
const (
	// RoleViewer reads everything but tokens and mints playback URLs.
	RoleViewer = "viewer"
	// RoleOperator is a viewer who also changes sources and recordings and
	// mints viewer and operator tokens.
	RoleOperator = "operator"
	// RoleAdmin may do everything, including edges and admin tokens.
	RoleAdmin = "admin"
)

// Token is an API token as the control node lists it. The secret is never
// part of it; only NewTokenReply carries it, once.
type Token struct {
	// Name is what operators call the token (unique).
	Name string `json:"name"`
	// Role is RoleViewer, RoleOperator or RoleAdmin.
	Role string `json:"role"`
	// CreatedAt is when it was made.
	CreatedAt time.Time `json:"created_at"`
	// CreatedBy names the token that made it ("" for the first admin token).
	CreatedBy string `json:"created_by,omitempty"`
	// ExpiresAt is when it stops working (zero: never).
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	// RevokedAt is when it was revoked (zero: it was not).
	RevokedAt time.Time `json:"revoked_at,omitzero"`
	// LastUsedAt is when it last authenticated a request (zero: never).
	LastUsedAt time.Time `json:"last_used_at,omitzero"`
}

// NewToken is the body of POST /v1/token.
type NewToken struct {
	// Name is the new token's name: 1–64 letters, digits, '-', '_', '.'.
	Name string `json:"name"`
	// Role is RoleViewer, RoleOperator or RoleAdmin.
	Role string `json:"role"`
	// TTLSeconds is how long it works; 0 means until revoked.
	TTLSeconds int64 `json:"ttl_seconds,omitempty"`
}

// TokenReply answers a request about one token.
type TokenReply struct {
	Envelope
	// Token is the token.
	Token Token `json:"token"`
}

// NewTokenReply answers POST /v1/token: the only answer that carries a
// token's secret.
type NewTokenReply struct {
	Envelope
	// Token is the new token.
	Token Token `json:"token"`
	// Secret is what a client presents as "Authorization: Bearer SECRET".
	Secret string `json:"secret"`
}

// TokensReply answers a token listing.
type TokensReply struct {
	Envelope
	// Tokens are the tokens, by name.
	Tokens []Token `json:"tokens"`
}

// Whoami is who the control node takes the caller for.
type Whoami struct {
	// Token names the token presented ("" when auth is off).
	Token string `json:"token,omitempty"`
	// Role is the token's role (RoleAdmin when auth is off).
	Role string `json:"role"`
	// Auth is false when the control node runs with --auth none.
	Auth bool `json:"auth"`
}

// WhoamiReply answers GET /v1/whoami.
type WhoamiReply struct {
	Envelope
	// Whoami is the caller.
	Whoami Whoami `json:"whoami"`
}

// NewEdge is the body of POST /v1/edge.
type NewEdge struct {
	// Name is the edge's name.
	Name string `json:"name"`
	// TTLSeconds is how long the join token can be used (default 1 h).
	TTLSeconds int64 `json:"ttl_seconds,omitempty"`
	// Host is how the edge reaches the control node; default: the first
	// --hostname, else the host the request was sent to.
	Host string `json:"host,omitempty"`
}

// EdgeJoinReply answers POST /v1/edge: the only answer carrying a join token.
type EdgeJoinReply struct {
	Envelope
	// Edge is the registered edge.
	Edge Edge `json:"edge"`
	// JoinToken is the single-use token `lmx edged --join` takes.
	JoinToken string `json:"join_token"`
	// ExpiresAt is when the join token stops working if unused.
	ExpiresAt time.Time `json:"expires_at"`
	// Command is the line that starts the edge.
	Command string `json:"command"`
}

// EdgeReply answers a request about one edge.
type EdgeReply struct {
	Envelope
	// Edge is the edge.
	Edge Edge `json:"edge"`
}

// NewGrant is the body of POST /v1/source/{id}/grant and
// POST /v1/recording/{id}/grant.
type NewGrant struct {
	// TTLSeconds is how long the URL plays; default 2 h, never beyond the
	// calling token's own expiry.
	TTLSeconds int64 `json:"ttl_seconds,omitempty"`
}

// Grant is a signed playback URL.
type Grant struct {
	// URL plays as it is in any HLS player.
	URL string `json:"url"`
	// ExpiresAt is when the URL stops playing.
	ExpiresAt time.Time `json:"expires_at"`
}

// GrantReply answers a grant request.
type GrantReply struct {
	Envelope
	// Grant is the signed URL.
	Grant Grant `json:"grant"`
}

// SourceUpdate is the body of PATCH /v1/source/{id}: fields left out keep
// their value.
type SourceUpdate struct {
	// Public opens (true) or closes (false) the source's playback to anyone
	// without a grant.
	Public *bool `json:"public,omitempty"`
	// Edge moves the source to another edge (its owner); "" is refused.
	Edge *string `json:"edge,omitempty"`
	// Description replaces the description.
	Description *string `json:"description,omitempty"`
	// PullURL sets what the bound edge's ffmpeg reads; "" stops pulling.
	PullURL *string `json:"pull_url,omitempty"`
	// OnDemand turns on-demand upload on or off.
	OnDemand *bool `json:"on_demand,omitempty"`
	// IdleSeconds is how long an on-demand source uploads after the last
	// playlist request; 0 is the node's default.
	IdleSeconds *int `json:"idle_seconds,omitempty"`
	// Record is RecordOff or RecordAlways.
	Record *string `json:"record,omitempty"`
	// RecordChunkSeconds is the continuous-recording chunk; 0 is the node's default.
	RecordChunkSeconds *int `json:"record_chunk_seconds,omitempty"`
	// RetainSeconds is how long recordings are kept: 0 the node's default,
	// RetainForever for good.
	RetainSeconds *int64 `json:"retain_seconds,omitempty"`
	// Feeds replaces the edges allowed to feed the source, in order (the
	// first is its edge); more than one makes the others standbys the
	// control node fails over to.
	Feeds *[]string `json:"feeds,omitempty"`
	// Prefer names the feed to make active now and first on failover; ""
	// clears it.
	Prefer *string `json:"prefer,omitempty"`
}
