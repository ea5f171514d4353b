package localport

import (
	"net"
	"strconv"
	"testing"

	"github.com/shoenig/test/must"
)

func TestFreePortsAreDistinctBindableAndBelowTheEphemeralRange(t *testing.T) {
	ports, err := Free(30)
	must.NoError(t, err)
	must.Len(t, 30, ports)
	seen := map[int]bool{}
	for _, p := range ports {
		must.False(t, seen[p], must.Sprintf("port %d twice", p))
		seen[p] = true
		must.GreaterEq(t, floor, p)
		must.Less(t, ephemeralStart(), p)
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		must.NoError(t, err, must.Sprintf("port %d cannot be bound", p))
		_ = l.Close()
	}
}

func TestATakenPortIsNeverHandedOut(t *testing.T) {
	// Hold every port of a small window and ask for ports many times:
	// none of the held ones may come back.
	held := map[int]bool{}
	for p := floor; p < floor+50; p++ {
		if l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p))); err == nil {
			t.Cleanup(func() { _ = l.Close() })
			held[p] = true
		}
	}
	for range 50 {
		ports, err := Free(5)
		must.NoError(t, err)
		for _, p := range ports {
			must.False(t, held[p], must.Sprintf("port %d is held", p))
		}
	}
}
