package pluginkit

import (
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/hashicorp/go-hclog"
	"github.com/shoenig/test/must"
)

func TestAtBoundaryStripsCredentialsAndTheAgentsRestartPhrases(t *testing.T) {
	cause := fmt.Errorf("dial amqps://ops:s3cret@mq-1:5671/prod: connection refused; pg host=db password='p w' sslmode=verify-full: %w", io.EOF)
	err := AtBoundary(cause)
	must.EqError(t, err, "dial amqps://mq-1:5671/prod: connection rejected; pg host=db password=xxxxx sslmode=verify-full: end of stream")
	must.ErrorIs(t, err, io.EOF, must.Sprint("the cause is kept for errors.Is"))
	var be *BoundaryError
	must.True(t, errors.As(err, &be))
}

type typedError struct{}

func (typedError) Error() string { return "no-op: nothing to scale" }

func TestAnErrorThatNeedsNoChangeKeepsItsType(t *testing.T) {
	var te typedError
	must.True(t, errors.As(AtBoundary(typedError{}), &te))
	must.Eq[error](t, typedError{}, AtBoundary(typedError{}))
	must.NoError(t, AtBoundary(nil))
}

func TestRedactURL(t *testing.T) {
	must.Eq(t, "amqp://mq:5672/v", RedactURL("amqp://u:p@mq:5672/v"))
	must.Eq(t, "http://h/x", RedactURL("http://h/x"))
	must.Eq(t, "amqp://h:bad port/", RedactURL("amqp://u:p@h:bad port/"), must.Sprint("also when the URL does not parse"))
}

func TestRecoverTurnsAPanicIntoAnErrorAndLogsIt(t *testing.T) {
	var logged []any
	logger := hclog.New(&hclog.LoggerOptions{Output: io.Discard})
	logger = interceptor{Logger: logger, errorf: func(msg string, args ...any) { logged = append([]any{msg}, args...) }}
	run := func() (err error) {
		defer Recover(logger, "target-x", "scale", &err)
		panic("unexpected nil in a response")
	}
	err := run()
	must.ErrorContains(t, err, "target-x: internal error in scale (recovered from a panic: unexpected nil in a response)")
	must.Eq[any](t, "recovered from a panic", logged[0])
	must.Eq[any](t, "op", logged[1])
	must.Eq[any](t, "scale", logged[2])
	must.Eq[any](t, "panic", logged[3])
	must.Eq[any](t, "stack", logged[5])
}

func TestRecoverLeavesANormalReturnAlone(t *testing.T) {
	run := func() (err error) {
		defer Recover(nil, "p", "op", &err)
		return errors.New("plain")
	}
	must.EqError(t, run(), "plain")
}

// interceptor captures Error calls of an hclog.Logger.
type interceptor struct {
	hclog.Logger
	errorf func(msg string, args ...any)
}

func (i interceptor) Error(msg string, args ...any) { i.errorf(msg, args...) }
