package plugin

import (
	"context"
	"testing"
	"time"

	"github.com/hashicorp/nomad-autoscaler/sdk"
	"github.com/shoenig/test/must"
)

func TestAdmit(t *testing.T) {
	t.Parallel()
	locked := sqlAccess{}
	open := sqlAccess{
		allowInlineSQL: true,
		filterColumns:  []string{"model", "customer"},
		namedSQL:       map[string]string{"errors": validNamedSQL},
	}
	cases := []struct {
		name   string
		access sqlAccess
		query  string
		want   query
	}{
		{"a queue query needs no permission", locked, "rabbitmq:ready:q",
			query{kind: queryKindQueue, metric: metricReady, queue: "q"}},
		{"requests per minute without a filter needs no permission", locked, "postgres:requests_per_minute",
			query{kind: queryKindRequestsPerMin}},
		{"a filter on a listed column", open, "postgres:requests_per_minute:customer=acme",
			query{kind: queryKindRequestsPerMin, filterColumn: "customer", filterValue: "acme"}},
		{"a named query gets the operator's SQL", open, "postgres:named:errors",
			query{kind: queryKindNamed, name: "errors", sql: validNamedSQL}},
		{"inline SQL when allowed", open, "postgres:sql:SELECT $1::timestamptz, 1 WHERE $2::timestamptz IS NOT NULL",
			query{kind: queryKindSQL, sql: "SELECT $1::timestamptz, 1 WHERE $2::timestamptz IS NOT NULL"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			q, err := parseQuery(tc.query)
			must.NoError(t, err)
			got, err := tc.access.admit(q)
			must.NoError(t, err)
			must.Eq(t, tc.want, got)
		})
	}
}

func TestAdmitRefuses(t *testing.T) {
	t.Parallel()
	access := sqlAccess{
		filterColumns: []string{"model", "customer"},
		namedSQL:      map[string]string{"errors": validNamedSQL, "latency": validNamedSQL},
	}
	cases := []struct {
		name    string
		access  sqlAccess
		query   string
		wantErr string
	}{
		{"inline SQL by default, naming the key that allows it", access, "postgres:sql:SELECT $1::timestamptz, 1 WHERE $2::timestamptz IS NOT NULL",
			`inline SQL is refused: a policy's SQL would run as this plugin's database role, and policies come from whoever may submit a Nomad job; ` +
				`define the query as sql.<name> in the agent's apm config and use postgres:named:<name>, or set allow_inline_sql = "true"`},
		{"an unknown named query, naming it and the names there are", access, "postgres:named:error",
			`no named query "error": the agent's apm config has no key sql.error (it defines sql.errors, sql.latency)`},
		{"a named query when none is defined", sqlAccess{}, "postgres:named:errors",
			`no named query "errors": the agent's apm config has no key sql.errors (it defines none)`},
		{"a filter on a column not listed", access, "postgres:requests_per_minute:status=500",
			`filter column "status" is refused: it is not listed in filter_columns in the agent's apm config`},
		{"a filter when no column is listed (the default)", sqlAccess{}, "postgres:requests_per_minute:model=ocr",
			`filter column "model" is refused: it is not listed in filter_columns`},
		{"a filter column differing only in case, as it is a quoted identifier", access, "postgres:requests_per_minute:Model=ocr",
			`filter column "Model" is refused`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			q, err := parseQuery(tc.query)
			must.NoError(t, err)
			_, err = tc.access.admit(q)
			must.ErrorContains(t, err, tc.wantErr)
			must.StrNotContains(t, err.Error(), validNamedSQL)
		})
	}
}

// TestRefusedQueriesNeverReachTheDatabase runs the refused queries
// through the plugin in front of a rate source that records every call:
// the refusal comes before any SQL is sent, and names the query.
func TestRefusedQueriesNeverReachTheDatabase(t *testing.T) {
	t.Parallel()
	src := &recordingRates{}
	clock := &fakeClock{t: at(t, "10:05:40")}
	p := cachingPluginWith(t, src, clock, map[string]string{configKeyFilterColumns: "model", "sql.errors": validNamedSQL})
	window := sdk.TimeRange{From: at(t, "10:00"), To: clock.now()}
	for q, want := range map[string]string{
		"postgres:sql:SELECT $1::timestamptz, 1 WHERE $2::timestamptz IS NOT NULL": "inline SQL is refused",
		"postgres:named:errros":                      `no named query "errros"`,
		"postgres:requests_per_minute:customer=acme": `filter column "customer" is refused`,
	} {
		_, err := p.Query(q, window)
		must.ErrorContains(t, err, `query "`+q+`": `+want)
		mustBeSafeForAgent(t, err, validNamedSQL)
	}
	must.Eq(t, 0, src.calls)

	// The same plugin runs what is allowed: the named query with the
	// operator's SQL and the window.
	got, err := p.Query("postgres:named:errors", window)
	must.NoError(t, err)
	must.Len(t, 1, got)
	must.Eq(t, []string{validNamedSQL}, src.sql)
	must.Eq(t, [2]time.Time{window.From, window.To}, src.window)
}

// recordingRates is a rateSource that records what it is asked and
// answers one point.
type recordingRates struct {
	calls  int
	sql    []string
	window [2]time.Time
}

func (r *recordingRates) RequestsPerMinute(context.Context, minuteWindow, string, string) (sdk.TimestampedMetrics, error) {
	r.calls++
	return nil, nil
}

func (r *recordingRates) Series(_ context.Context, sql string, from, to time.Time) (sdk.TimestampedMetrics, error) {
	r.calls++
	r.sql = append(r.sql, sql)
	r.window = [2]time.Time{from, to}
	return sdk.TimestampedMetrics{{Timestamp: from, Value: 1}}, nil
}

func (r *recordingRates) Close() {}
