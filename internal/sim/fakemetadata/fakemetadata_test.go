package fakemetadata

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/shoenig/test/must"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/harness/poll"
)

type answer struct {
	status int
	body   string
	etag   string
}

func start(t *testing.T) (*Server, string) {
	t.Helper()
	s := New(Options{})
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	t.Cleanup(s.Close)
	return s, srv.URL
}

// get asks for instance/<path> (with its query) and bounds the request by
// timeout.
func get(t *testing.T, base, path string, header http.Header, timeout time.Duration) (answer, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/computeMetadata/v1/instance/"+path, nil)
	must.NoError(t, err)
	req.Header = header
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	must.NoError(t, err)
	return answer{status: resp.StatusCode, body: string(body), etag: resp.Header.Get("ETag")}, nil
}

func google() http.Header { return http.Header{"Metadata-Flavor": {"Google"}} }

func mustGet(t *testing.T, base, path string) answer {
	t.Helper()
	a, err := get(t, base, path, google(), 5*time.Second)
	must.NoError(t, err)
	return a
}

func TestValuesNeedTheMetadataFlavorHeader(t *testing.T) {
	_, url := start(t)
	a, err := get(t, url, "maintenance-event", nil, time.Second)
	must.NoError(t, err)
	must.Eq(t, http.StatusForbidden, a.status)

	forwarded := google()
	forwarded.Set("X-Forwarded-For", "10.0.0.1")
	a, err = get(t, url, "maintenance-event", forwarded, time.Second)
	must.NoError(t, err)
	must.Eq(t, http.StatusForbidden, a.status, must.Sprint("a proxied request is refused"))

	a = mustGet(t, url, "maintenance-event")
	must.Eq(t, answer{status: 200, body: "NONE", etag: etagOf("NONE")}, a)
	must.Eq(t, answer{status: 200, body: "FALSE", etag: etagOf("FALSE")}, mustGet(t, url, "preempted"))
}

func TestBadRequestsAreRefused(t *testing.T) {
	_, url := start(t)
	must.Eq(t, http.StatusNotFound, mustGet(t, url, "upcoming-maintenance").status)
	must.Eq(t, http.StatusBadRequest, mustGet(t, url, "preempted?wait_for_change=yes").status)
	must.Eq(t, http.StatusBadRequest, mustGet(t, url, "preempted?wait_for_change=true&timeout_sec=-1").status)
	must.Eq(t, http.StatusBadRequest, mustGet(t, url, "preempted?wait_for_change=true&timeout_sec=1.5").status)
	resp, err := http.Post(url+"/computeMetadata/v1/instance/preempted", "text/plain", nil)
	must.NoError(t, err)
	resp.Body.Close()
	must.Eq(t, http.StatusMethodNotAllowed, resp.StatusCode)
}

func TestAWaitAnswersWhenTheValueChanges(t *testing.T) {
	s, url := start(t)
	none := mustGet(t, url, "maintenance-event")
	got := make(chan answer, 1)
	go func() {
		a, _ := get(t, url, "maintenance-event?wait_for_change=true&timeout_sec=30&last_etag="+none.etag, google(), 10*time.Second)
		got <- a
	}()
	poll.Until(t, 5*time.Second, func() bool { return s.Waiting() == 1 }, poll.Say("one long poll to be waiting"))
	s.SetPreempted(false) // another key, and the same value: no answer
	s.SetMaintenanceEvent(MaintenanceTerminate)
	a := <-got
	must.Eq(t, answer{status: 200, body: MaintenanceTerminate, etag: etagOf(MaintenanceTerminate)}, a)
}

func TestAWaitWithAStaleETagAnswersAtOnce(t *testing.T) {
	s, url := start(t)
	before := mustGet(t, url, "preempted")
	s.SetPreempted(true)
	a := mustGet(t, url, "preempted?wait_for_change=true&last_etag="+before.etag)
	must.Eq(t, "TRUE", a.body)
	must.NotEq(t, before.etag, a.etag)
}

func TestAWaitWithoutAnETagWaitsForTheNextChange(t *testing.T) {
	s, url := start(t)
	got := make(chan answer, 1)
	go func() {
		a, _ := get(t, url, "preempted?wait_for_change=true", google(), 10*time.Second)
		got <- a
	}()
	poll.Until(t, 5*time.Second, func() bool { return s.Waiting() == 1 }, poll.Say("one long poll to be waiting"))
	s.SetPreempted(true)
	must.Eq(t, "TRUE", (<-got).body)
}

func TestATimedOutWaitAnswersTheSameValueAndETag(t *testing.T) {
	_, url := start(t)
	none := mustGet(t, url, "maintenance-event")
	began := time.Now()
	a := mustGet(t, url, "maintenance-event?wait_for_change=true&timeout_sec=1&last_etag="+none.etag)
	must.Eq(t, none, a)
	must.GreaterEq(t, time.Second, time.Since(began))
}

func TestTheSameValueHasTheSameETag(t *testing.T) {
	s, url := start(t)
	none := mustGet(t, url, "maintenance-event")
	s.SetMaintenanceEvent(MaintenanceMigrate)
	s.SetMaintenanceEvent(MaintenanceNone)
	must.Eq(t, none, mustGet(t, url, "maintenance-event"))
}

func TestCloseReleasesWaitingRequests(t *testing.T) {
	s, url := start(t)
	got := make(chan answer, 1)
	go func() {
		a, _ := get(t, url, "preempted?wait_for_change=true&timeout_sec=300", google(), 10*time.Second)
		got <- a
	}()
	poll.Until(t, 5*time.Second, func() bool { return s.Waiting() == 1 }, poll.Say("one long poll to be waiting"))
	s.Close()
	must.Eq(t, "FALSE", (<-got).body)
}

func TestInjectedFaults(t *testing.T) {
	s, url := start(t)

	s.Inject(Fault{Kind: FaultStatus, Status: http.StatusServiceUnavailable}, 2)
	must.Eq(t, 503, mustGet(t, url, "preempted").status)
	must.Eq(t, 503, mustGet(t, url, "preempted").status)
	must.Eq(t, 200, mustGet(t, url, "preempted").status, must.Sprint("only the next n requests"))

	s.Inject(Fault{Kind: FaultBody, Body: "<html>captive portal</html>", NoETag: true}, 1)
	must.Eq(t, answer{status: 200, body: "<html>captive portal</html>"}, mustGet(t, url, "preempted"))

	s.Inject(Fault{Kind: FaultHang}, 1)
	_, err := get(t, url, "preempted", google(), 200*time.Millisecond)
	must.ErrorIs(t, err, context.DeadlineExceeded)

	s.Inject(Fault{Kind: FaultDrop}, 0)
	for range 2 {
		_, err = get(t, url, "preempted", google(), time.Second)
		must.Error(t, err)
		must.False(t, strings.Contains(err.Error(), "deadline"), must.Sprint(err))
	}
	s.ClearFaults()
	must.Eq(t, 200, mustGet(t, url, "preempted").status)
}

func TestTheAdminAPISetsAValue(t *testing.T) {
	s, url := start(t)
	req, err := http.NewRequest(http.MethodPut, url+"/admin/instance/maintenance-event", strings.NewReader(MaintenanceTerminate))
	must.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	must.NoError(t, err)
	resp.Body.Close()
	must.Eq(t, http.StatusNoContent, resp.StatusCode)
	v, _, _ := s.Value(KeyMaintenanceEvent)
	must.Eq(t, MaintenanceTerminate, v)
}
