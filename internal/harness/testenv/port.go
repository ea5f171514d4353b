package testenv

import (
	"fmt"
	"testing"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/localport"
)

// FreeAddr returns a loopback address nothing listens on, for a process the
// test starts that must be told its port, from below the kernel's ephemeral
// range (internal/localport says why).
func FreeAddr(t testing.TB) string {
	t.Helper()
	ports, err := localport.Free(1)
	if err != nil {
		t.Fatalf("%v", err)
	}
	return fmt.Sprintf("127.0.0.1:%d", ports[0])
}
