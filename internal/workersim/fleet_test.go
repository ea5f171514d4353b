package workersim

import (
	"context"
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
