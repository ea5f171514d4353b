package tcpproxy

import (
	"bufio"
	"net"
	"testing"
	"time"

	"github.com/shoenig/test/must"
)

// echo serves a line echo on a loopback port.
func echo(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	must.NoError(t, err)
	t.Cleanup(func() { _ = l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					_, _ = c.Write([]byte(line))
				}
			}()
		}
	}()
	return l.Addr().String()
}

func roundTrip(t *testing.T, c net.Conn, msg string) error {
	t.Helper()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write([]byte(msg + "\n")); err != nil {
		return err
	}
	got, err := bufio.NewReader(c).ReadString('\n')
	if err == nil {
		must.Eq(t, msg+"\n", got)
	}
	return err
}

func TestForwardsStopsCuttingConnectionsAndRestartsOnTheSameAddress(t *testing.T) {
	p := Start(t, echo(t))
	c, err := net.Dial("tcp", p.Addr())
	must.NoError(t, err)
	defer c.Close()
	must.NoError(t, roundTrip(t, c, "hello"))
	must.Eq(t, 1, p.Accepted())
	must.Eq(t, 1, p.Open())

	p.Stop()
	must.Error(t, roundTrip(t, c, "after stop"), must.Sprint("an open connection is cut"))
	_, err = net.DialTimeout("tcp", p.Addr(), time.Second)
	must.Error(t, err, must.Sprint("nothing listens while stopped"))

	addr := p.Addr()
	p.Restart()
	must.Eq(t, addr, p.Addr())
	c2, err := net.Dial("tcp", p.Addr())
	must.NoError(t, err)
	defer c2.Close()
	must.NoError(t, roundTrip(t, c2, "again"))
	must.Eq(t, 2, p.Accepted())
}
