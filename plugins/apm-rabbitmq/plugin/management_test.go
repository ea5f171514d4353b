package plugin

import (
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/nomad-autoscaler/sdk"
	"github.com/shoenig/test/must"
)

// fakeManagement serves /api/queues/{vhost}[/{name}] from testdata fixtures,
// one file per vhost, and records what it was asked.
type fakeManagement struct {
	t      *testing.T
	vhosts map[string]string // vhost -> fixture file
	status int               // when not zero, answer every request with it

	mu       sync.Mutex
	requests []*http.Request
}

func (f *fakeManagement) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.requests = append(f.requests, r.Clone(r.Context()))
	f.mu.Unlock()
	if f.status != 0 {
		http.Error(w, http.StatusText(f.status), f.status)
		return
	}
	if user, pass, ok := r.BasicAuth(); !ok || user != "monitor" || pass != "hunter2" {
		http.Error(w, `{"error":"not_authorised"}`, http.StatusUnauthorized)
		return
	}
	// Split the escaped path: a vhost such as "/" arrives as %2F.
	segs := strings.Split(strings.TrimPrefix(r.URL.EscapedPath(), "/api/queues/"), "/")
	vhost, err := url.PathUnescape(segs[0])
	must.NoError(f.t, err)
	file, ok := f.vhosts[vhost]
	if !ok {
		http.Error(w, `{"error":"Object Not Found"}`, http.StatusNotFound)
		return
	}
	body, err := os.ReadFile(filepath.Join("testdata", file))
	must.NoError(f.t, err)
	if len(segs) == 1 {
		_, _ = w.Write(body)
		return
	}
	name, err := url.PathUnescape(segs[1])
	must.NoError(f.t, err)
	var queues []map[string]any
	must.NoError(f.t, json.Unmarshal(body, &queues))
	for _, q := range queues {
		if q["name"] == name {
			must.NoError(f.t, json.NewEncoder(w).Encode(q))
			return
		}
	}
	http.Error(w, `{"error":"Object Not Found"}`, http.StatusNotFound)
}

func (f *fakeManagement) escapedPaths() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var paths []string
	for _, r := range f.requests {
		paths = append(paths, r.URL.EscapedPath())
	}
	return paths
}

func newFakeManagement(t *testing.T) (*fakeManagement, *httptest.Server) {
	f := &fakeManagement{t: t, vhosts: map[string]string{
		"/": "queues_default_vhost.json", "prod/eu": "queues_prod_eu_vhost.json", "bad": "queues_bad_values_vhost.json",
		"text": "queues_text_values_vhost.json",
	}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

// managementPlugin configures a plugin with only management URLs.
func managementPlugin(t *testing.T, urls string, extra map[string]string) *Plugin {
	t.Helper()
	cfg := map[string]string{
		configKeyManagementURLs:     urls,
		configKeyManagementUsername: "monitor",
		configKeyManagementPassword: "hunter2",
		configKeyQueryTimeout:       "2s",
	}
	for k, v := range extra {
		cfg[k] = v
	}
	p := New(testLogger(t))
	must.NoError(t, p.SetConfig(cfg))
	t.Cleanup(p.shutdown)
	return p
}

func now() sdk.TimeRange { n := time.Now(); return sdk.TimeRange{From: n, To: n} }

func TestManagementQueries(t *testing.T) {
	t.Parallel()
	fake, srv := newFakeManagement(t)
	p := managementPlugin(t, srv.URL, nil)
	cases := []struct {
		name     string
		query    string
		want     float64
		wantPath string
	}{
		{"ready summed over a glob", "rabbitmq:ready:ekyc.*", 12, "/api/queues/%2F"},
		{"unacked summed over a glob", "rabbitmq:unacked:ekyc.*", 3, "/api/queues/%2F"},
		{"depth is ready plus unacked", "rabbitmq:depth:ekyc.*", 15, "/api/queues/%2F"},
		{"consumers summed over a glob", "rabbitmq:consumers:ekyc.*", 6, "/api/queues/%2F"},
		{"publish rate with an idle queue counting zero", "rabbitmq:publish_rate:ekyc.*", 4, "/api/queues/%2F"},
		{"deliver rate of a glob", "rabbitmq:deliver_rate:ekyc.*", 4, "/api/queues/%2F"},
		{"a class glob", "rabbitmq:ready:ekyc.[fo]*", 12, "/api/queues/%2F"},
		{"a single queue reads its own endpoint", "rabbitmq:depth:billing.invoices", 150, "/api/queues/%2F/billing.invoices"},
		{"ready without amqp_urls comes from the api", "rabbitmq:ready:ekyc.ocr", 7, "/api/queues/%2F/ekyc.ocr"},
		{"a vhost with a slash is escaped", "rabbitmq:depth:ekyc.ocr@prod/eu", 15, "/api/queues/prod%2Feu/ekyc.ocr"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := time.Now()
			got, err := p.Query(tc.query, now())
			must.NoError(t, err)
			must.Len(t, 1, got)
			must.Eq(t, tc.want, got[0].Value)
			must.False(t, got[0].Timestamp.Before(before))
			must.SliceContains(t, fake.escapedPaths(), tc.wantPath)
		})
	}
	fake.mu.Lock()
	defer fake.mu.Unlock()
	must.Eq(t, queueColumns, fake.requests[0].URL.Query().Get("columns"))
}

func TestManagementQueryErrors(t *testing.T) {
	t.Parallel()
	_, srv := newFakeManagement(t)
	p := managementPlugin(t, srv.URL, nil)
	cases := []struct {
		name    string
		query   string
		wantErr string
	}{
		{"a missing queue", "rabbitmq:unacked:ekyc.gone", `queue "ekyc.gone" not found in vhost "/"`},
		{"a missing vhost", "rabbitmq:ready:ekyc.*@nowhere", `vhost "nowhere" not found`},
		{"a glob matching nothing", "rabbitmq:ready:video.*", `glob "video.*" matches no queue in vhost "/"`},
		{"a matched queue without statistics fails the whole sum", "rabbitmq:ready:ekyc.*@prod/eu", `queue "ekyc.fresh" has no messages_ready statistics yet`},
		{"a query that does not parse", "rabbitmq:lag:q", `unknown metric "lag"`},
		{"a negative counter", "rabbitmq:ready:jobs.negative@bad", `queue "jobs.negative" reports messages_ready -2`},
		{"a negative rate", "rabbitmq:publish_rate:jobs.negative@bad", `queue "jobs.negative" reports publish rate -0.5`},
		{"a negative counter is not hidden by a glob sum", "rabbitmq:depth:jobs.*@bad", `queue "jobs.negative" reports messages_ready -2`},
		{"a negative rate is not hidden by a glob sum", "rabbitmq:publish_rate:jobs.*@bad", `queue "jobs.negative" reports publish rate -0.5`},
		{"a counter that is not a number", "rabbitmq:ready:jobs.text@text", "sent a body that is not the expected JSON"},
		{"a counter that is not a number in a glob", "rabbitmq:ready:jobs.*@text", "sent a body that is not the expected JSON"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := p.Query(tc.query, now())
			must.ErrorContains(t, err, tc.wantErr)
			must.ErrorContains(t, err, fmt.Sprintf("query %q", tc.query))
			mustBeSafeForAgent(t, err, "hunter2")
		})
	}
}

func TestManagementFailover(t *testing.T) {
	t.Parallel()
	failing := &fakeManagement{t: t, status: http.StatusServiceUnavailable}
	down := httptest.NewServer(failing)
	t.Cleanup(down.Close)
	closedPort := closedLoopbackAddr(t)
	fake, srv := newFakeManagement(t)

	p := managementPlugin(t, "http://"+closedPort+","+down.URL+","+srv.URL, nil)
	got, err := p.Query("rabbitmq:ready:ekyc.ocr", now())
	must.NoError(t, err)
	must.Eq(t, 7.0, got[0].Value)
	must.Len(t, 1, failing.escapedPaths())
	must.Len(t, 1, fake.escapedPaths())
}

func TestManagementAllNodesDown(t *testing.T) {
	t.Parallel()
	failing := &fakeManagement{t: t, status: http.StatusBadGateway}
	down := httptest.NewServer(failing)
	t.Cleanup(down.Close)
	closedPort := closedLoopbackAddr(t)

	p := managementPlugin(t, "http://monitor:hunter2@"+closedPort+","+down.URL, nil)
	_, err := p.Query("rabbitmq:unacked:ekyc.*", now())
	must.ErrorContains(t, err, "no rabbitmq management api reachable (tried "+closedPort+" unreachable")
	must.ErrorContains(t, err, strings.TrimPrefix(down.URL, "http://")+" answered HTTP 502")
	mustBeSafeForAgent(t, err, "hunter2")
}

func TestManagementRefusedLogin(t *testing.T) {
	t.Parallel()
	_, srv := newFakeManagement(t)
	p := managementPlugin(t, srv.URL, map[string]string{configKeyManagementPassword: "wrong-pass"})
	_, err := p.Query("rabbitmq:unacked:ekyc.*", now())
	must.ErrorContains(t, err, "refused the login (HTTP 401): check management_username and management_password")
	mustBeSafeForAgent(t, err, "wrong-pass")
}

func TestManagementOverTLSWithACAFile(t *testing.T) {
	t.Parallel()
	f := &fakeManagement{t: t, vhosts: map[string]string{"/": "queues_default_vhost.json"}}
	srv := httptest.NewTLSServer(f)
	t.Cleanup(srv.Close)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	must.NoError(t, os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600))

	p := managementPlugin(t, srv.URL, map[string]string{configKeyTLSCAFile: ca})
	got, err := p.Query("rabbitmq:consumers:ekyc.*", now())
	must.NoError(t, err)
	must.Eq(t, 6.0, got[0].Value)

	untrusting := managementPlugin(t, srv.URL, nil)
	_, err = untrusting.Query("rabbitmq:consumers:ekyc.*", now())
	must.ErrorContains(t, err, "TLS certificate not trusted")
}

func TestQueueMetricsNeedTheirSource(t *testing.T) {
	t.Parallel()
	p := New(testLogger(t))
	t.Cleanup(p.shutdown)
	must.NoError(t, p.SetConfig(map[string]string{configKeyAMQPURLs: "amqp://127.0.0.1:1/"}))
	_, err := p.Query("rabbitmq:unacked:q", now())
	must.ErrorContains(t, err, `metric "unacked" needs management_urls`)
	_, err = p.Query("rabbitmq:ready:ekyc.*", now())
	must.ErrorContains(t, err, "a queue glob needs management_urls")
	_, err = p.Query("postgres:requests_per_minute", now())
	must.ErrorContains(t, err, "postgres queries need postgres_url")
}

// closedLoopbackAddr returns a loopback address where nothing listens.
func closedLoopbackAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	must.NoError(t, err)
	addr := l.Addr().String()
	must.NoError(t, l.Close())
	return addr
}

func TestManagementFailoverPastASilentHost(t *testing.T) {
	t.Parallel()
	silent := silentListener(t)
	_, srv := newFakeManagement(t)
	// 2 s for each URL: the second must answer even on a loaded machine.
	p := managementPlugin(t, "http://"+silent+","+srv.URL, map[string]string{configKeyQueryTimeout: "4s"})
	must.Eq(t, 7.0, value(t, p, "rabbitmq:ready:ekyc.ocr"))
}
