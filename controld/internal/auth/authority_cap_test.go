package auth

import (
	"strconv"
	"testing"
	"time"

	"github.com/lmx-video/lmx/api"
)

// TestCreatedTokenNeverOutlivesItsMaker: an operator whose token expires in
// an hour cannot mint a token that lives longer, with or without a TTL; a
// shorter TTL stays as asked.
func TestCreatedTokenNeverOutlivesItsMaker(t *testing.T) {
	f := newFixture(t)
	ops, _ := f.token(t, f.admin(t), "ops", api.RoleOperator, 3600)
	for _, c := range []struct {
		ttl  int64
		want time.Time
	}{
		{0, ops.Expires},
		{7 * 24 * 3600, ops.Expires},
		{60, f.clock.Now().Add(time.Minute)},
	} {
		child, _ := f.token(t, ops, "child-"+strconv.FormatInt(c.ttl, 10), api.RoleViewer, c.ttl)
		if !child.Expires.Equal(c.want) {
			t.Errorf("ttl %d: expires %v, want %v", c.ttl, child.Expires, c.want)
		}
	}
}
