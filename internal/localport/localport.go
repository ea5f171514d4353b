// Package localport finds free loopback ports for processes this
// repository starts and must tell their port (an agent's HTTP server, a
// plugin's metrics_address): the demo and the test harnesses.
//
// A port found by listening on :0 and closing lies in the kernel's
// ephemeral range, and until the process binds it any outgoing connection
// on the machine may take it as its local port: under a parallel test run
// that happened ("metrics_address: cannot listen: address already in use").
// These ports come from below that range instead, where only an explicit
// bind can take them.
package localport

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"slices"
)

// floor is the lowest port handed out: below it lie well-known services.
const floor = 10000

// Free returns n distinct loopback ports that nothing listened on when
// asked, below the ephemeral range; the kernel's choice when that range
// leaves no room or every try is taken.
func Free(n int) ([]int, error) {
	lo := ephemeralStart()
	var ports []int
	for try := 0; len(ports) < n && try < 200*n; try++ {
		p := floor + rand.IntN(max(lo-floor, 1))
		if slices.Contains(ports, p) || !free(p) {
			continue
		}
		ports = append(ports, p)
	}
	for len(ports) < n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find a free loopback port: %w", err)
		}
		p := l.Addr().(*net.TCPAddr).Port
		_ = l.Close()
		if !slices.Contains(ports, p) {
			ports = append(ports, p)
		}
	}
	return ports, nil
}

func free(port int) bool {
	l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return false
	}
	_ = l.Close()
	return true
}

// ephemeralStart is the first port of the kernel's ephemeral range
// (Linux's default 32768 when it cannot be read).
func ephemeralStart() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	var lo, hi int
	if err == nil {
		if _, err := fmt.Sscan(string(b), &lo, &hi); err == nil && lo > floor+1 {
			return lo
		}
	}
	return 32768
}
