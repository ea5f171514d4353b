package plugin

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/shoenig/test/must"
)

func TestParseQuery(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		in   string
		want query
	}{
		{"ready of one queue in the default vhost", "rabbitmq:ready:ekyc.ocr",
			query{kind: queryKindQueue, metric: metricReady, queue: "ekyc.ocr"}},
		{"depth of a queue in a named vhost", "rabbitmq:depth:ekyc.ocr@prod",
			query{kind: queryKindQueue, metric: metricDepth, queue: "ekyc.ocr", vhost: "prod"}},
		{"a glob is recognised", "rabbitmq:unacked:ekyc.*",
			query{kind: queryKindQueue, metric: metricUnacked, queue: "ekyc.*", glob: true}},
		{"the last @ separates the vhost", "rabbitmq:consumers:jobs@eu@/",
			query{kind: queryKindQueue, metric: metricConsumers, queue: "jobs@eu", vhost: "/"}},
		{"a queue name may contain colons", "rabbitmq:publish_rate:a:b",
			query{kind: queryKindQueue, metric: metricPublishRate, queue: "a:b"}},
		{"a queue name of the longest length AMQP allows", "rabbitmq:ready:" + strings.Repeat("q", 255),
			query{kind: queryKindQueue, metric: metricReady, queue: strings.Repeat("q", 255)}},
		{"surrounding spaces are ignored", "  rabbitmq:deliver_rate:q \n",
			query{kind: queryKindQueue, metric: metricDeliverRate, queue: "q"}},
		{"requests per minute without a filter", "postgres:requests_per_minute",
			query{kind: queryKindRequestsPerMin}},
		{"requests per minute filtered on a column", "postgres:requests_per_minute:model=ekyc.ocr",
			query{kind: queryKindRequestsPerMin, filterColumn: "model", filterValue: "ekyc.ocr"}},
		{"the filter value may contain = and quotes", `postgres:requests_per_minute:customer=a='b"`,
			query{kind: queryKindRequestsPerMin, filterColumn: "customer", filterValue: `a='b"`}},
		{"a named query", "postgres:named:errors_5xx",
			query{kind: queryKindNamed, name: "errors_5xx"}},
		{"a named query's name may hold digits and dashes", "postgres:named:p-95",
			query{kind: queryKindNamed, name: "p-95"}},
		{"sql with both window parameters", "postgres:sql: SELECT $1::timestamptz, 1 WHERE $2::timestamptz IS NOT NULL",
			query{kind: queryKindSQL, sql: "SELECT $1::timestamptz, 1 WHERE $2::timestamptz IS NOT NULL"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseQuery(tc.in)
			must.NoError(t, err)
			must.Eq(t, tc.want, got)
		})
	}
}

func TestParseQueryRefuses(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		in      string
		wantErr string
	}{
		{"an empty query", "", `must start with "rabbitmq:" or "postgres:"`},
		{"an unknown source", "prometheus:up", `must start with`},
		{"an unknown metric", "rabbitmq:backlog:q", `unknown metric "backlog"`},
		{"a metric without a queue", "rabbitmq:ready", `want rabbitmq:<metric>:<queue>`},
		{"an empty queue name", "rabbitmq:ready:", "empty queue name"},
		{"an empty queue before the vhost", "rabbitmq:ready:@prod", "empty queue name"},
		{"an empty vhost", "rabbitmq:ready:q@", `empty vhost`},
		{"a malformed glob", "rabbitmq:ready:ekyc.[", `bad glob "ekyc.["`},
		{"an unknown postgres form", "postgres:requests_per_hour", `want postgres:requests_per_minute`},
		{"a form that only starts like requests_per_minute", "postgres:requests_per_minutes", `want postgres:requests_per_minute`},
		{"a filter without =", "postgres:requests_per_minute:model", `filter "model": want <column>=<value>`},
		{"a filter with an empty column", "postgres:requests_per_minute:=x", `filter column ""`},
		{"a filter with an empty value", "postgres:requests_per_minute:model=", `empty value`},
		{"a filter column too long for PostgreSQL", "postgres:requests_per_minute:" + strings.Repeat("c", 64) + "=x", "want 1 to 63 bytes"},
		{"a named query without a name", "postgres:named:", `named query "": a name is 1 to 64 of a-z, 0-9, _ and -`},
		{"a named query's name in upper case", "postgres:named:Errors", `named query "Errors": a name is`},
		{"a named query with SQL after it", "postgres:named:errors WHERE 1=1", `named query "errors WHERE 1=1": a name is`},
		{"empty sql", "postgres:sql:  ", "empty SQL"},
		{"sql without the window end", "postgres:sql:SELECT $1::timestamptz, 1", "must use $1 (window start) and $2"},
		{"a NUL byte", "rabbitmq:ready:q\x00", "NUL"},
		{"bytes that are not UTF-8", "rabbitmq:ready:\xff\xfe", "not valid UTF-8"},
		{"a queue name longer than AMQP allows", "rabbitmq:ready:" + strings.Repeat("q", 256), "queue name is 256 bytes, AMQP allows at most 255"},
		{"a vhost name longer than AMQP allows", "rabbitmq:ready:q@" + strings.Repeat("v", 256), "vhost name is 256 bytes, AMQP allows at most 255"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseQuery(tc.in)
			must.ErrorContains(t, err, tc.wantErr)
			must.StrContains(t, err.Error(), fmt.Sprintf("query %q", tc.in))
		})
	}
}

// FuzzParseQuery checks that the parser never panics, and that whatever it
// accepts renders back to a string it parses to the same query.
func FuzzParseQuery(f *testing.F) {
	for _, seed := range []string{
		"rabbitmq:ready:ekyc.ocr", "rabbitmq:depth:ekyc.*@prod", "rabbitmq:unacked:[a-", "rabbitmq:ready:q@",
		"postgres:requests_per_minute", "postgres:requests_per_minute:model=x=y", "postgres:sql:SELECT $1, $2",
		"postgres:named:errors", "postgres:named:", "postgres:named:a b",
		"rabbitmq:consumers:a@b@c", "postgres:requests_per_minute:", "rabbitmq::",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		q, err := parseQuery(in)
		if err != nil {
			must.StrContains(t, err.Error(), "query ")
			return
		}
		again, err := parseQuery(q.String())
		must.NoError(t, err)
		must.Eq(t, q, again)
		switch q.kind {
		case queryKindQueue:
			// Only names AMQP can carry reach the shared connection.
			must.NotEq(t, "", q.queue)
			must.True(t, isQueueMetric(q.metric))
			must.True(t, utf8.ValidString(q.queue+q.vhost))
			must.LessEq(t, maxAMQPNameLen, len(q.vhost))
			if !q.glob {
				must.LessEq(t, maxAMQPNameLen, len(q.queue))
			}
		case queryKindRequestsPerMin:
			must.Eq(t, q.filterColumn == "", q.filterValue == "")
		case queryKindNamed:
			// A name can only pick a query of the config, never carry SQL.
			must.RegexMatch(t, queryName, q.name)
			must.Eq(t, "", q.sql)
		case queryKindSQL:
			must.StrContains(t, q.sql, "$2")
		default:
			t.Fatalf("parsed %q into an unknown kind %d", in, q.kind)
		}
	})
}
