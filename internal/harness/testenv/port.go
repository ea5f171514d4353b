package testenv

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"testing"
)

// FreeAddr returns a loopback address nothing listens on, for a process the
// test starts that must be told its port (an agent's HTTP server, a
// plugin's metrics_address). The port lies below the kernel's ephemeral
// range: a port found by listening on :0 and closing is in that range, and
// until the process binds it, any outgoing connection of the many processes
// a parallel test run starts may take it as its local port (seen in the
// soak test: "metrics_address: cannot listen: address already in use").
func FreeAddr(t testing.TB) string {
	t.Helper()
	lo := ephemeralStart()
	const floor = 10000
	for range 200 {
		port := floor + rand.IntN(max(lo-floor, 1))
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		if l, err := net.Listen("tcp", addr); err == nil {
			_ = l.Close()
			return addr
		}
	}
	// Every try was taken: fall back to the kernel's choice.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().String()
}

// ephemeralStart is the first port of the kernel's ephemeral range
// (Linux's default 32768 when it cannot be read).
func ephemeralStart() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	var lo, hi int
	if err == nil {
		if _, err := fmt.Sscan(string(b), &lo, &hi); err == nil && lo > 10001 {
			return lo
		}
	}
	return 32768
}
