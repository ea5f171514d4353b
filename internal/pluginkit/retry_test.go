package pluginkit

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/shoenig/test/must"
)

func TestRetryableSortsStatusesAndMarks(t *testing.T) {
	cases := []struct {
		name string
		err  error
		want bool
	}{
		{"a plain API's 429 is retried", fmt.Errorf("queues: %w", StatusError(http.StatusTooManyRequests)), true},
		{"a plain API's 404 is final", StatusError(http.StatusNotFound), false},
		{"a permanent error is final whatever it wraps", Permanent(StatusError(http.StatusServiceUnavailable)), false},
		{"an attempt's deadline is retried", context.DeadlineExceeded, true},
		{"a cancelled call is final", context.Canceled, false},
		{"an unknown error is final", errors.New("bad template"), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { must.Eq(t, tc.want, Retryable(tc.err)) })
	}
}

func TestDoRetriesEachAttemptWithinItsOwnDeadline(t *testing.T) {
	b := Backoff{Attempts: 3, Initial: time.Millisecond, Max: 2 * time.Millisecond, AttemptTimeout: 20 * time.Millisecond}
	calls := 0
	err := b.Do(context.Background(), func(ctx context.Context) error {
		calls++
		<-ctx.Done() // a hung call: its attempt's deadline ends it
		return ctx.Err()
	})
	must.ErrorIs(t, err, context.DeadlineExceeded)
	must.Eq(t, 3, calls)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	calls = 0
	err = Backoff{Attempts: 5, Initial: time.Hour, Max: time.Hour}.Do(ctx, func(context.Context) error { calls++; return StatusError(503) })
	must.ErrorIs(t, err, context.Canceled)
	must.Eq(t, 1, calls, must.Sprint("a dead context stops the retries instead of sleeping"))
}

func TestNewRequestIDIsAVersion4UUID(t *testing.T) {
	id := NewRequestID()
	must.Eq(t, 36, len(id))
	must.Eq(t, byte('4'), id[14])
	must.NotEq(t, id, NewRequestID())
}
