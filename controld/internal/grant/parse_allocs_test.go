//go:build !race

package grant

import (
	"crypto/sha256"
	"strconv"
	"testing"
)

// Verify runs on every playback request that carries a grant: reading one
// allocates nothing (what is left is crypto/hmac's).
func TestParseDoesNotAllocate(t *testing.T) {
	s := mustSign(t, testClaims(SourceScope(testSource)), testKey)
	var sig [sha256.Size]byte
	allocs := testing.AllocsPerRun(100, func() {
		if _, _, err := parse(s, &sig); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("parse allocates %v times per grant", allocs)
	}
}

func TestUnixLen(t *testing.T) {
	if n := len(strconv.Itoa(maxUnix)); n != unixLen {
		t.Errorf("unixLen is %d, maxUnix has %d digits", unixLen, n)
	}
}
