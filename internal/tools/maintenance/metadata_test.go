package maintenance

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/shoenig/test/must"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/sim/fakemetadata"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/harness/poll"
)

// startMetadata serves a fake metadata server and returns a client of it
// with short deadlines.
func startMetadata(t *testing.T) (*fakemetadata.Server, *metadataClient, *httptest.Server) {
	t.Helper()
	fake := fakemetadata.New(fakemetadata.Options{})
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	t.Cleanup(fake.Close)
	c := newMetadataClient(srv.URL)
	c.slack, c.getTimeout = 500*time.Millisecond, time.Second
	return fake, c, srv
}

func TestTheClientReadsAValueWithItsETag(t *testing.T) {
	fake, c, _ := startMetadata(t)
	v, err := c.get(context.Background(), keyMaintenance, "", time.Second)
	must.NoError(t, err)
	_, etag, _ := fake.Value(keyMaintenance)
	must.Eq(t, metaValue{Text: "NONE", ETag: etag}, v)

	reqs := fake.Requests()
	must.Len(t, 1, reqs)
	must.Eq(t, "/computeMetadata/v1/instance/maintenance-event", reqs[0].Path)
	must.MapEmpty(t, reqs[0].Query, must.Sprint("the first read does not wait"))
	must.Eq(t, http.StatusOK, reqs[0].Status, must.Sprint("the client sends Metadata-Flavor: Google"))
}

func TestAWaitAnswersTheChange(t *testing.T) {
	fake, c, _ := startMetadata(t)
	first, err := c.get(context.Background(), keyMaintenance, "", time.Second)
	must.NoError(t, err)
	go func() {
		poll.Until(t, 5*time.Second, func() bool { return fake.Waiting() == 1 }, poll.Say("the long poll to be waiting"))
		fake.SetMaintenanceEvent(fakemetadata.MaintenanceTerminate)
	}()
	v, err := c.get(context.Background(), keyMaintenance, first.ETag, 30*time.Second)
	must.NoError(t, err)
	must.Eq(t, maintenanceTerminate, v.Text)
	must.NotEq(t, first.ETag, v.ETag)

	q := fake.Requests()[1].Query
	must.Eq(t, "true", q.Get("wait_for_change"))
	must.Eq(t, first.ETag, q.Get("last_etag"))
	must.Eq(t, "30", q.Get("timeout_sec"))
}

func TestAWaitWithoutAChangeAnswersTheSameETag(t *testing.T) {
	_, c, _ := startMetadata(t)
	first, err := c.get(context.Background(), keyPreempted, "", time.Second)
	must.NoError(t, err)
	v, err := c.get(context.Background(), keyPreempted, first.ETag, time.Second)
	must.NoError(t, err)
	must.Eq(t, first, v)
}

func TestBadAnswersAreErrorsThatSayWhy(t *testing.T) {
	cases := []struct {
		name  string
		fault fakemetadata.Fault
		want  string
	}{
		{"a refused request", fakemetadata.Fault{Kind: fakemetadata.FaultStatus, Status: http.StatusForbidden}, "HTTP 403"},
		{"a server in its own maintenance", fakemetadata.Fault{Kind: fakemetadata.FaultStatus, Status: http.StatusServiceUnavailable}, "HTTP 503"},
		{"an answer without an ETag", fakemetadata.Fault{Kind: fakemetadata.FaultBody, Body: "NONE", NoETag: true}, "malformed answer: no ETag header"},
		{"an answer too long to be a value", fakemetadata.Fault{Kind: fakemetadata.FaultBody, Body: strings.Repeat("<html>", 1000)}, "malformed answer: more than 4096 bytes"},
		{"a server that went away", fakemetadata.Fault{Kind: fakemetadata.FaultDrop}, "EOF"},
		{"a server that hangs", fakemetadata.Fault{Kind: fakemetadata.FaultHang}, "deadline exceeded"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fake, c, _ := startMetadata(t)
			fake.Inject(tc.fault, 1)
			_, err := c.get(context.Background(), keyMaintenance, "", time.Second)
			must.ErrorContains(t, err, "metadata maintenance-event")
			must.ErrorContains(t, err, tc.want)
		})
	}
}

func TestAWaitIsCutAtItsDeadline(t *testing.T) {
	fake, c, _ := startMetadata(t)
	fake.Inject(fakemetadata.Fault{Kind: fakemetadata.FaultHang}, 1)
	began := time.Now()
	_, err := c.get(context.Background(), keyMaintenance, "etag", time.Second)
	must.ErrorContains(t, err, "deadline exceeded")
	must.Less(t, 5*time.Second, time.Since(began), must.Sprint("timeout_sec plus the slack, not forever"))
}

func TestAClosedServerIsAnError(t *testing.T) {
	_, c, srv := startMetadata(t)
	srv.Close()
	_, err := c.get(context.Background(), keyPreempted, "", time.Second)
	must.ErrorContains(t, err, "metadata preempted")
}
