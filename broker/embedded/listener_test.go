package embedded

import (
	"fmt"
	"sync"
	"testing"

	"github.com/eclipse/paho.golang/paho"
)

// TestManyClientsAtOnce: clients connecting and leaving at the same time
// are all served by the broker's own TCP listener.
func TestManyClientsAtOnce(t *testing.T) {
	b := startBroker(t, "")
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			for round := range 8 {
				id := fmt.Sprintf("edge-%d-%d", i, round)
				c, ca, err := dial(t, b, id, id, "", nil)
				if err != nil || ca == nil || ca.ReasonCode != rcSuccess {
					t.Errorf("%s: CONNACK %s, %v", id, connackCode(ca), err)
					return
				}
				// Leave at once, while others connect.
				_ = c.Disconnect(&paho.Disconnect{ReasonCode: rcSuccess})
				<-c.Done()
			}
		})
	}
	wg.Wait()
}
