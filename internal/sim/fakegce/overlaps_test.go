package fakegce_test

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/shoenig/test/must"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/sim/fakegce"
)

func TestOverlapRecorderFlagsAnotherCallersChangeWhileAMIGIsUnstable(t *testing.T) {
	t.Parallel()
	var stable atomic.Bool
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
	rec := fakegce.NewOverlapRecorder(ok, func(zone, name string) bool { return stable.Load() })
	do := func(caller, path string) {
		r := httptest.NewRequest(http.MethodPost, "/compute/v1/projects/p/zones/zone-a/instanceGroupManagers/gpu-a/"+path, nil)
		r.Header.Set(fakegce.CallerHeader, caller)
		rec.ServeHTTP(httptest.NewRecorder(), r)
	}

	do("a", "resize")
	do("a", "deleteInstances") // the same caller again: one autoscaler's own sequence
	must.SliceEmpty(t, rec.Overlaps())

	do("b", "resize") // a's change still settling
	must.Len(t, 1, rec.Overlaps())
	got := rec.Overlaps()[0]
	must.Eq(t, "zone-a/gpu-a", got.MIG)
	must.Eq(t, "a", got.Busy)
	must.Eq(t, "b", got.Caller)

	stable.Store(true)
	do("a", "resize") // b's change answered and the MIG stable: a's turn is fine
	must.Len(t, 1, rec.Overlaps())

	r := httptest.NewRequest(http.MethodGet, "/compute/v1/projects/p/zones/zone-a/instanceGroupManagers/gpu-a", nil)
	rec.ServeHTTP(httptest.NewRecorder(), r)
	must.Len(t, 1, rec.Overlaps(), must.Sprint("reads are not changes"))
}
