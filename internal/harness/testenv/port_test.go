package testenv

import (
	"net"
	"strconv"
	"testing"
)

func TestFreeAddrIsALoopbackPortBelowTheEphemeralRange(t *testing.T) {
	seen := map[string]bool{}
	for range 20 {
		addr := FreeAddr(t)
		host, port, err := net.SplitHostPort(addr)
		if err != nil || host != "127.0.0.1" {
			t.Fatalf("FreeAddr = %q", addr)
		}
		n, _ := strconv.Atoi(port)
		if n < 10000 || n >= ephemeralStart() {
			t.Fatalf("port %d outside [10000, %d)", n, ephemeralStart())
		}
		l, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatalf("FreeAddr gave %s, which cannot be bound: %v", addr, err)
		}
		_ = l.Close()
		seen[addr] = true
	}
	if len(seen) < 10 {
		t.Fatalf("20 calls gave only %d ports: %v", len(seen), seen)
	}
}
