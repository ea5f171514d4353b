package plugin

import (
	"context"
	"errors"
	"fmt"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/pluginkit"
	"io"
	"net"
	"os"
	"syscall"
	"testing"

	amqp "github.com/rabbitmq/amqp091-go"
	"github.com/shoenig/test/must"
)

// mustBeSafeForAgent fails when err would make the agent restart its policy
// handlers, or would leak a credential.
func mustBeSafeForAgent(t *testing.T, err error, secrets ...string) {
	t.Helper()
	must.Error(t, err)
	must.False(t, pluginkit.HasRestartPhrase(err.Error()), must.Sprintf("%q holds a phrase that restarts the agent's policy handlers", err))
	for _, s := range secrets {
		must.StrNotContains(t, err.Error(), s)
	}
}

func TestDescribeCause(t *testing.T) {
	t.Parallel()
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	cases := []struct {
		name string
		err  error
		want string
	}{
		{"a refused dial", fmt.Errorf("dial: %w", refused), "unreachable (nothing listening on the port)"},
		{"an end of stream", fmt.Errorf("read: %w", io.EOF), "closed the connection unexpectedly"},
		{"a truncated stream", io.ErrUnexpectedEOF, "closed the connection unexpectedly"},
		{"a reset", os.NewSyscallError("read", syscall.ECONNRESET), "closed the connection unexpectedly"},
		{"a deadline", context.DeadlineExceeded, "timed out"},
		{"an unknown error mentioning EOF", errors.New("unexpected EOF from amqp://u:hunter2@h/"), "unexpected end of stream from amqp://h/"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			must.Eq(t, tc.want, describeCause(tc.err))
		})
	}
}

func TestDescribeAMQPHidesIOErrorsInReasons(t *testing.T) {
	t.Parallel()
	lost := &amqp.Error{Code: amqp.FrameError, Reason: "EOF", Recover: true}
	must.Eq(t, "closed the connection unexpectedly", describeAMQP(lost))
	forced := &amqp.Error{Code: amqp.ConnectionForced, Reason: "CONNECTION_FORCED - broker forced connection closure with reason 'shutdown'", Server: true}
	must.StrContains(t, describeAMQP(forced), "broker error 320: CONNECTION_FORCED")
}
