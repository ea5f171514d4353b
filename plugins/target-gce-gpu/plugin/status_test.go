package plugin

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shoenig/test/must"
)

func varRequests(h *harness) int {
	n := 0
	for _, r := range h.nomad.Requests() {
		if strings.HasPrefix(r.Path, "/v1/var/") {
			n++
		}
	}
	return n
}

func TestStatusWithoutTheVariableACLLeavesOutLastEventAndWarns(t *testing.T) {
	t.Parallel()
	h := newHarness(t, harnessOptions{sizeA: 1, sizeB: 1, bootTime: 20 * time.Millisecond})
	h.varStatus.Store(http.StatusForbidden)

	must.NoError(t, h.scale(4), must.Sprint("a scaling that cannot be recorded still happens"))
	must.StrContains(t, h.logs.String(), "cannot record last scaling time")

	// A restarted agent has nothing cached and cannot read the variable.
	h.p = h.newPlugin()
	var st = h.status()
	eventually(t, "the MIGs to settle", func() bool { st = h.status(); return st.Ready })
	must.Eq(t, int64(4), st.Count)
	must.MapNotContainsKey(t, st.Meta, metaKeyLastEvent)
	must.StrContains(t, h.logs.String(), "cannot read last scaling time")
	must.StrContains(t, h.logs.String(), "403")

	// A denied read is not repeated on every evaluation.
	reads := varRequests(h)
	h.status()
	h.status()
	must.Eq(t, reads, varRequests(h))
}
