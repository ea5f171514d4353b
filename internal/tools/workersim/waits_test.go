package workersim

import (
	"testing"
	"time"

	"github.com/shoenig/test/must"
)

func TestWaitsWeighByRequests(t *testing.T) {
	var w Waits
	w.add(time.Second, 90)
	w.add(10*time.Minute, 10)
	w.add(-time.Second, 0) // clock skew never yields a negative wait
	must.Eq(t, int64(100), w.Requests())
	must.Eq(t, 0.9, w.Within(time.Minute))
	must.Eq(t, time.Second, w.Quantile(0.5))
	must.Eq(t, time.Second, w.Quantile(0.9))
	must.Eq(t, 10*time.Minute, w.Quantile(0.95))
	must.Eq(t, 10*time.Minute, w.Max())
}

func TestEmptyWaitsMissNothing(t *testing.T) {
	var w Waits
	must.Eq(t, 1.0, w.Within(0))
	must.Eq(t, time.Duration(0), w.Quantile(0.95))
}
