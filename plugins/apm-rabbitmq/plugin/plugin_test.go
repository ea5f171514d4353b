package plugin

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/nomad-autoscaler/sdk"
	"github.com/shoenig/test/must"
)

// panickingRates is a rateSource with a bug.
type panickingRates struct{}

func (panickingRates) RequestsPerMinute(context.Context, minuteWindow, string, string) (sdk.TimestampedMetrics, error) {
	panic("rate source bug")
}

func (panickingRates) Series(context.Context, string, time.Time, time.Time) (sdk.TimestampedMetrics, error) {
	return sdk.TimestampedMetrics{{Timestamp: time.Unix(0, 0), Value: 1}}, nil
}

func (panickingRates) Close() {}

func TestQueryRecoversFromAPanic(t *testing.T) {
	t.Parallel()
	p := New(testLogger(t))
	p.backend = &backend{cfg: config{queryTimeout: time.Second, access: sqlAccess{allowInlineSQL: true}}, rates: panickingRates{}, now: time.Now}
	window := sdk.TimeRange{From: time.Now().Add(-10 * time.Minute), To: time.Now()}

	_, err := p.Query("postgres:requests_per_minute", window)
	must.ErrorContains(t, err, "internal error in query (recovered from a panic: rate source bug)")
	// The plugin keeps serving, and the in-flight count was released.
	got, err := p.Query("postgres:sql:SELECT $1, $2", window)
	must.NoError(t, err)
	must.Len(t, 1, got)
	p.shutdown()
}

func TestQueryBeforeSetConfig(t *testing.T) {
	t.Parallel()
	_, err := New(testLogger(t)).Query("rabbitmq:ready:q", now())
	must.ErrorContains(t, err, "not configured")
}

func TestPluginInfo(t *testing.T) {
	t.Parallel()
	info, err := New(testLogger(t)).PluginInfo()
	must.NoError(t, err)
	must.Eq(t, PluginName, info.Name)
	must.Eq(t, sdk.PluginTypeAPM, info.PluginType)
}

func TestSetConfigFailureKeepsThePreviousConfig(t *testing.T) {
	t.Parallel()
	_, srv := newFakeManagement(t)
	p := managementPlugin(t, srv.URL, nil)
	err := p.SetConfig(map[string]string{configKeyManagementURLs: srv.URL, configKeyQueryTimeout: "soon"})
	must.ErrorContains(t, err, `query_timeout "soon": not a duration`)
	must.Eq(t, 7.0, value(t, p, "rabbitmq:ready:ekyc.ocr"))
}

// TestSetConfigWarnsWhenInlineSQLIsAllowed checks that every SetConfig
// that leaves allow_inline_sql on says in the log, once, what it allows,
// and that none does otherwise.
func TestSetConfigWarnsWhenInlineSQLIsAllowed(t *testing.T) {
	t.Parallel()
	var logs strings.Builder
	p := New(hclog.New(&hclog.LoggerOptions{Output: &logs, Level: hclog.Trace}))
	t.Cleanup(p.shutdown)
	warnings := func() int { return strings.Count(logs.String(), "[WARN]  inline sql allowed: every scaling policy") }
	cases := []struct {
		name         string
		allow        string // "": the key is not set
		wantWarnings int
	}{
		{"off by default", "", 0},
		{"turned on", "true", 1},
		{"on again, unchanged (the agent's SIGHUP)", "true", 2},
		{"turned off", "false", 2},
	}
	for _, tc := range cases {
		cfg := map[string]string{configKeyPostgresURL: "postgres://127.0.0.1:1/api"}
		if tc.allow != "" {
			cfg[configKeyAllowInlineSQL] = tc.allow
		}
		must.NoError(t, p.SetConfig(cfg), must.Sprint(tc.name))
		must.Eq(t, tc.wantWarnings, warnings(), must.Sprint(tc.name))
	}
	must.StrContains(t, logs.String(), "anyone who may submit a nomad job, can run its own sql as this plugin's database role: key=allow_inline_sql")
}

// TestReloadWhileQuerying runs queries from many goroutines while the
// configuration flips between two management servers, as a SIGHUP during
// evaluations does. Under -race this checks the swap; every query must
// succeed on one server or the other.
func TestReloadWhileQuerying(t *testing.T) {
	t.Parallel()
	_, first := newFakeManagement(t)
	_, second := newFakeManagement(t)
	p := managementPlugin(t, first.URL, nil)
	configs := []string{first.URL, second.URL}

	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for range 4 {
		wg.Go(func() {
			for range 25 {
				got, err := p.Query("rabbitmq:depth:ekyc.*", now())
				if err == nil && got[0].Value != 15 {
					err = fmt.Errorf("depth %v, want 15", got[0].Value)
				}
				errs <- err
			}
		})
	}
	for i := range 20 {
		must.NoError(t, p.SetConfig(map[string]string{
			configKeyManagementURLs:     configs[i%2],
			configKeyManagementUsername: "monitor",
			configKeyManagementPassword: "hunter2",
		}))
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		must.NoError(t, err)
	}
}
