package poll

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shoenig/test/must"
)

func TestWaitReturnsOnceTheConditionHolds(t *testing.T) {
	var n atomic.Int32
	must.True(t, Wait(5*time.Second, func() bool { return n.Add(1) >= 3 }))
	must.Eq(t, int32(3), n.Load())
}

func TestWaitGivesUpAtTheTimeout(t *testing.T) {
	start := time.Now()
	must.False(t, Wait(50*time.Millisecond, func() bool { return false }))
	must.GreaterEq(t, 50*time.Millisecond, time.Since(start))
}

// recorder is a testing.TB that records Fatalf instead of stopping.
type recorder struct {
	testing.TB
	failed string
}

func (r *recorder) Helper()                           {}
func (r *recorder) Fatalf(format string, args ...any) { r.failed = fmt.Sprintf(format, args...) }

func TestUntilFailsWithTheDescriptionRenderedAtTheTimeout(t *testing.T) {
	rendered := 0
	r := &recorder{TB: t}
	Until(r, 20*time.Millisecond, func() bool { return false }, func() string { rendered++; return "state" })
	must.Eq(t, "not within 20ms: state", r.failed)
	must.Eq(t, 1, rendered)
	Until(r, time.Second, func() bool { return true }, func() string { rendered++; return "" })
	must.Eq(t, 1, rendered, must.Sprint("a success renders nothing"))
}

func TestHoldsChecksAllThroughAndStopsAtTheFirstBreak(t *testing.T) {
	var n atomic.Int32
	r := &recorder{TB: t}
	Holds(r, 100*time.Millisecond, func() bool { n.Add(1); return true }, Say("always"))
	must.Eq(t, "", r.failed)
	must.Greater(t, 5, n.Load(), must.Sprint("checked all through, not once"))

	n.Store(0)
	start := time.Now()
	Holds(r, 10*time.Second, func() bool { return n.Add(1) < 3 }, Say("the count stays"))
	must.StrHasSuffix(t, ": the count stays", r.failed)
	must.Less(t, time.Second, time.Since(start), must.Sprint("it fails at the break, not at the end"))
	must.Eq(t, int32(3), n.Load())
}
