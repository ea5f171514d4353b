package workersim

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/shoenig/test/must"
)

func TestSimcloudFleetReadsTheReadyWorkers(t *testing.T) {
	cases := []struct {
		name, body string
		status     int
		want       int
		wantErr    string
	}{
		{"the total of ready workers is the fleet", `{"ready_workers":{"a":2,"b":3},"ready_workers_total":5}`, 200, 5, ""},
		{"a state without the total is an error", `{"ready_workers":{}}`, 200, 0, "no ready_workers_total"},
		{"an HTTP error is reported with its status", `boom`, 500, 0, "HTTP 500"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				must.Eq(t, "/admin/state", r.URL.Path)
				w.WriteHeader(tc.status)
				_, _ = w.Write([]byte(tc.body))
			}))
			defer srv.Close()
			n, err := SimcloudFleet{BaseURL: srv.URL + "/"}.Workers(context.Background())
			if tc.wantErr != "" {
				must.ErrorContains(t, err, tc.wantErr)
				return
			}
			must.NoError(t, err)
			must.Eq(t, tc.want, n)
		})
	}
}

func TestParseCLIReportsEveryProblem(t *testing.T) {
	_, err := ParseCLI([]string{"-capacity", "0", "-queues", " , ", "-every", "0s"}, func(string) string { return "" }, io.Discard)
	for _, want := range []string{"amqp url", "queues", "capacity per worker 0", "-every 0s"} {
		must.ErrorContains(t, err, want)
	}
	o, err := ParseCLI([]string{"-queues", "a, b"}, func(k string) string { return map[string]string{"AMQP_URL": "amqp://x"}[k] }, io.Discard)
	must.NoError(t, err)
	must.Eq(t, []string{"a", "b"}, o.Queues)
}
