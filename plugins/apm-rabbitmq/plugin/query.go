package plugin

import (
	"errors"
	"fmt"
	"path"
	"strings"
	"unicode/utf8"
)

// Query prefixes and forms. A check's query string is one of:
//
//	rabbitmq:<metric>:<queue or glob>[@<vhost>]
//	postgres:requests_per_minute[:<column>=<value>]
//	postgres:named:<name of a sql.<name> config key>
//	postgres:sql:<SELECT using $1 (window start) and $2 (window end)>
//
// Parsing checks the form only; what the operator allows (named queries,
// inline SQL, filter columns) is checked by sqlAccess.admit.
const (
	prefixRabbitMQ        = "rabbitmq:"
	prefixPostgres        = "postgres:"
	formRequestsPerMinute = "requests_per_minute"
	formNamed             = "named:"
	formSQL               = "sql:"
	maxIdentifierLen      = 63 // PostgreSQL's NAMEDATALEN - 1.
	// maxAMQPNameLen is the longest queue or vhost name: AMQP carries both
	// as a short string. amqp091 cannot encode a longer one and drops the
	// whole connection, failing every query that shares it.
	maxAMQPNameLen     = 255
	globMetaCharacters = "*?["
)

// queryKind says which source answers a query.
type queryKind int

const (
	queryKindQueue queryKind = iota + 1
	queryKindRequestsPerMin
	queryKindNamed
	queryKindSQL
)

// queueMetric is what a rabbitmq: query reads from a queue.
type queueMetric string

// The queue metrics. ready and consumers are exact over AMQP; the others
// come from the management API.
const (
	metricReady       queueMetric = "ready"
	metricUnacked     queueMetric = "unacked"
	metricDepth       queueMetric = "depth"
	metricConsumers   queueMetric = "consumers"
	metricPublishRate queueMetric = "publish_rate"
	metricDeliverRate queueMetric = "deliver_rate"
)

var queueMetrics = []queueMetric{metricReady, metricUnacked, metricDepth, metricConsumers, metricPublishRate, metricDeliverRate}

// needsManagement reports whether the metric can only be read from the
// management API (AMQP's passive declare only knows ready and consumers).
func (m queueMetric) needsManagement() bool {
	return m != metricReady && m != metricConsumers
}

// query is a parsed check query. Only the fields of its kind are set.
type query struct {
	kind queryKind

	// rabbitmq:
	metric queueMetric
	queue  string // a queue name, or a glob when glob is true
	glob   bool
	vhost  string // empty: the vhost of the connection (amqp_urls path, default "/")

	// postgres:requests_per_minute
	filterColumn string // empty: no filter
	filterValue  string

	// postgres:named: and postgres:sql:. For a named query, sql is empty
	// until admit looks the name up.
	name string
	sql  string
}

// String renders the query in the form parseQuery accepts.
func (q query) String() string {
	switch q.kind {
	case queryKindQueue:
		s := prefixRabbitMQ + string(q.metric) + ":" + q.queue
		if q.vhost != "" {
			s += "@" + q.vhost
		}
		return s
	case queryKindRequestsPerMin:
		s := prefixPostgres + formRequestsPerMinute
		if q.filterColumn != "" {
			s += ":" + q.filterColumn + "=" + q.filterValue
		}
		return s
	case queryKindNamed:
		return prefixPostgres + formNamed + q.name
	case queryKindSQL:
		return prefixPostgres + formSQL + q.sql
	}
	return ""
}

// parseQuery turns a check's query string into a query. It does no I/O, so
// that every malformed query is refused with the same words whatever the
// state of the servers.
func parseQuery(raw string) (query, error) {
	s := strings.TrimSpace(raw)
	switch {
	case strings.ContainsRune(s, 0):
		return query{}, fmt.Errorf("query %q: contains a NUL byte", raw)
	case !utf8.ValidString(s):
		// RabbitMQ answers a name that is not UTF-8 with a frame error
		// that closes the shared connection.
		return query{}, fmt.Errorf("query %q: not valid UTF-8", raw)
	}
	var (
		q   query
		err error
	)
	switch {
	case strings.HasPrefix(s, prefixRabbitMQ):
		q, err = parseQueueQuery(strings.TrimPrefix(s, prefixRabbitMQ))
	case strings.HasPrefix(s, prefixPostgres):
		q, err = parsePostgresQuery(strings.TrimPrefix(s, prefixPostgres))
	default:
		err = errors.New(`must start with "rabbitmq:" or "postgres:"`)
	}
	if err != nil {
		return query{}, fmt.Errorf("query %q: %w", raw, err)
	}
	return q, nil
}

// parseQueueQuery parses "<metric>:<queue>[@<vhost>]". The vhost is split at
// the last "@" so that queue names may contain "@" when a vhost is given.
func parseQueueQuery(s string) (query, error) {
	metric, target, ok := strings.Cut(s, ":")
	if !ok {
		return query{}, errors.New(`want rabbitmq:<metric>:<queue>[@<vhost>]`)
	}
	q := query{kind: queryKindQueue, metric: queueMetric(metric), queue: target}
	if !isQueueMetric(q.metric) {
		return query{}, fmt.Errorf("unknown metric %q (want one of %s)", metric, metricList())
	}
	if i := strings.LastIndex(target, "@"); i >= 0 {
		q.queue, q.vhost = target[:i], target[i+1:]
		if q.vhost == "" {
			return query{}, errors.New(`empty vhost after "@"`)
		}
	}
	switch {
	case q.queue == "":
		return query{}, errors.New("empty queue name")
	case len(q.vhost) > maxAMQPNameLen:
		return query{}, fmt.Errorf("vhost name is %d bytes, AMQP allows at most %d", len(q.vhost), maxAMQPNameLen)
	case len(q.queue) > maxAMQPNameLen && !strings.ContainsAny(q.queue, globMetaCharacters):
		return query{}, fmt.Errorf("queue name is %d bytes, AMQP allows at most %d", len(q.queue), maxAMQPNameLen)
	}
	if strings.ContainsAny(q.queue, globMetaCharacters) {
		// path.Match validates the whole pattern before matching since Go 1.16,
		// so matching against the empty name is enough to find a bad glob.
		if _, err := path.Match(q.queue, ""); err != nil {
			return query{}, fmt.Errorf("bad glob %q: %w", q.queue, err)
		}
		q.glob = true
	}
	return q, nil
}

// parsePostgresQuery parses "requests_per_minute[:<column>=<value>]",
// "named:<name>" and "sql:<query>".
func parsePostgresQuery(s string) (query, error) {
	if name, ok := strings.CutPrefix(s, formNamed); ok {
		if !queryName.MatchString(name) {
			return query{}, fmt.Errorf("named query %q: a name is %s", name, queryNameSyntax)
		}
		return query{kind: queryKindNamed, name: name}, nil
	}
	if strings.HasPrefix(s, formSQL) {
		sql := strings.TrimSpace(strings.TrimPrefix(s, formSQL))
		switch {
		case sql == "":
			return query{}, errors.New("postgres:sql: query has empty SQL")
		case !strings.Contains(sql, "$1") || !strings.Contains(sql, "$2"):
			return query{}, errors.New("SQL must use $1 (window start) and $2 (window end)")
		}
		return query{kind: queryKindSQL, sql: sql}, nil
	}
	rest, ok := strings.CutPrefix(s, formRequestsPerMinute)
	if !ok || (rest != "" && rest[0] != ':') {
		return query{}, errors.New(`want postgres:requests_per_minute[:<column>=<value>], postgres:named:<name> or postgres:sql:<query>`)
	}
	q := query{kind: queryKindRequestsPerMin}
	if rest == "" {
		return q, nil
	}
	column, value, ok := strings.Cut(rest[1:], "=")
	switch {
	case !ok:
		return query{}, fmt.Errorf("filter %q: want <column>=<value>", rest[1:])
	case column == "" || len(column) > maxIdentifierLen:
		return query{}, fmt.Errorf("filter column %q: want 1 to %d bytes", column, maxIdentifierLen)
	case value == "":
		return query{}, fmt.Errorf("filter %q: empty value", rest[1:])
	}
	q.filterColumn, q.filterValue = column, value
	return q, nil
}

func isQueueMetric(m queueMetric) bool {
	for _, known := range queueMetrics {
		if m == known {
			return true
		}
	}
	return false
}

func metricList() string {
	names := make([]string, len(queueMetrics))
	for i, m := range queueMetrics {
		names[i] = string(m)
	}
	return strings.Join(names, ", ")
}
