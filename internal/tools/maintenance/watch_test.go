package maintenance

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/shoenig/test/must"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/sim/fakemetadata"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/harness/poll"
)

// watch runs a watcher of key with fast retries until the test ends.
func watch(t *testing.T, c *metadataClient, key string, pollWait time.Duration) <-chan observation {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out := make(chan observation)
	done := make(chan struct{})
	w := watcher{client: c, key: key, wait: pollWait, backoff: backoff{base: 10 * time.Millisecond, max: 50 * time.Millisecond}, log: hclog.NewNullLogger()}
	go func() { defer close(done); w.run(ctx, out) }()
	t.Cleanup(func() { cancel(); <-done })
	return out
}

func next(t *testing.T, obs <-chan observation) observation {
	t.Helper()
	select {
	case o := <-obs:
		return o
	case <-time.After(10 * time.Second):
		t.Fatal("no observation within 10s")
		return observation{}
	}
}

func TestTheWatcherReportsTheValueThenEachChange(t *testing.T) {
	fake, c, _ := startMetadata(t)
	obs := watch(t, c, keyMaintenance, 30*time.Second)
	must.Eq(t, observation{key: keyMaintenance, text: "NONE"}, next(t, obs))
	fake.SetMaintenanceEvent(fakemetadata.MaintenanceTerminate)
	must.Eq(t, maintenanceTerminate, next(t, obs).text)
	fake.SetMaintenanceEvent(fakemetadata.MaintenanceNone)
	must.Eq(t, "NONE", next(t, obs).text)
}

func TestTheWatcherReportsNothingWhileNothingChanges(t *testing.T) {
	fake, c, _ := startMetadata(t)
	obs := watch(t, c, keyPreempted, time.Second)
	must.Eq(t, "FALSE", next(t, obs).text)
	select {
	case o := <-obs:
		t.Fatalf("unexpected %v", o)
	case <-time.After(2500 * time.Millisecond):
	}
	_, etag, _ := fake.Value(keyPreempted)
	reqs := fake.Requests()
	must.Between(t, 2, len(reqs)-1, 3, must.Sprint("one wait per timeout_sec, no spinning"))
	for _, r := range reqs[1:] {
		must.Eq(t, etag, r.Query.Get("last_etag"))
	}
}

// A change while the server is away is answered by the first wait after it
// comes back, because that wait carries the ETag of the last value seen.
func TestTheWatcherCatchesAChangeMadeWhileTheServerWasAway(t *testing.T) {
	fake, c, srv := startMetadata(t)
	obs := watch(t, c, keyPreempted, 30*time.Second)
	must.Eq(t, "FALSE", next(t, obs).text)
	poll.Until(t, 5*time.Second, func() bool { return fake.Waiting() == 1 }, poll.Say("the watcher's long poll to be waiting"))

	// The open wait loses its connection and the retries find the server
	// unavailable; the value changes meanwhile.
	fake.Inject(fakemetadata.Fault{Kind: fakemetadata.FaultStatus, Status: http.StatusServiceUnavailable}, 0)
	srv.CloseClientConnections()
	poll.Until(t, 5*time.Second, func() bool { return count503(fake) >= 2 }, poll.Say("two 503 answers retried"))
	fake.SetPreempted(true)
	fake.ClearFaults()
	must.Eq(t, "TRUE", next(t, obs).text)
}

func count503(fake *fakemetadata.Server) int {
	n := 0
	for _, r := range fake.Requests() {
		if r.Status == http.StatusServiceUnavailable {
			n++
		}
	}
	return n
}

func TestTheWatcherRetriesBadAnswersUntilAGoodOne(t *testing.T) {
	faults := []fakemetadata.Fault{
		{Kind: fakemetadata.FaultStatus, Status: http.StatusForbidden},
		{Kind: fakemetadata.FaultStatus, Status: http.StatusServiceUnavailable},
		{Kind: fakemetadata.FaultBody, Body: "NONE", NoETag: true},
		{Kind: fakemetadata.FaultDrop},
	}
	for _, f := range faults {
		fake, c, _ := startMetadata(t)
		fake.Inject(f, 3)
		obs := watch(t, c, keyMaintenance, 30*time.Second)
		must.Eq(t, "NONE", next(t, obs).text)
	}
}

func TestTheWatcherReportsAnUndocumentedValue(t *testing.T) {
	fake, c, _ := startMetadata(t)
	fake.Set(keyMaintenance, "SOMETHING_NEW")
	obs := watch(t, c, keyMaintenance, 30*time.Second)
	must.Eq(t, "SOMETHING_NEW", next(t, obs).text, must.Sprint("the engine decides what it means"))
}
