package plugin

import (
	"context"
	"fmt"
	"testing"

	"github.com/hashicorp/nomad-autoscaler/sdk"
	"github.com/shoenig/test/must"
)

// TestNamedQueriesRunEndToEndReadOnly configures named queries as an
// operator would and runs them by name against PostgreSQL: the answer is
// the SQL's, sorted by time, and they run as inline SQL does, in a READ
// ONLY transaction with a statement timeout.
func TestNamedQueriesRunEndToEndReadOnly(t *testing.T) {
	t.Parallel()
	dsn, conn := requestsDB(t)
	seedMinutes(t, conn)
	p := postgresPlugin(t, dsn, map[string]string{
		configKeyQueryTimeout: "1s",
		// Server errors per minute, newest first: the plugin sorts.
		"sql.errors": `SELECT date_bin('1 minute', created_at, $1::timestamptz), count(*) FILTER (WHERE status >= 500)
			FROM api_requests WHERE created_at >= $1 AND created_at < $2 GROUP BY 1 ORDER BY 1 DESC`,
		"sql.read-only": `SELECT $1::timestamptz, CASE current_setting('transaction_read_only') WHEN 'on' THEN 1 ELSE 0 END
			WHERE $2::timestamptz IS NOT NULL`,
		"sql.purge": `WITH d AS (DELETE FROM api_requests RETURNING 1) SELECT $1::timestamptz, count(*) FROM d WHERE $2::timestamptz IS NOT NULL`,
		"sql.slow":  `SELECT $1::timestamptz, 1 FROM pg_sleep(60) WHERE $2::timestamptz IS NOT NULL`,
	})
	window := sdk.TimeRange{From: minute(0), To: minute(5)}
	rows := func() int {
		var n int
		must.NoError(t, conn.QueryRow(context.Background(), `SELECT count(*) FROM api_requests`).Scan(&n))
		return n
	}
	before := rows()

	got, err := p.Query("postgres:named:errors", window)
	must.NoError(t, err)
	must.Eq(t, sdk.TimestampedMetrics{
		{Timestamp: minute(0), Value: 1}, {Timestamp: minute(2), Value: 0}, {Timestamp: minute(4), Value: 2},
	}, got)

	got, err = p.Query("postgres:named:read-only", window)
	must.NoError(t, err)
	must.Eq(t, sdk.TimestampedMetrics{{Timestamp: minute(0), Value: 1}}, got)

	_, err = p.Query("postgres:named:purge", window)
	must.ErrorContains(t, err, `query "postgres:named:purge": refused: the query tries to write, and queries run in a READ ONLY transaction`)
	must.StrNotContains(t, err.Error(), "DELETE")
	must.Eq(t, before, rows())

	_, err = p.Query("postgres:named:slow", window)
	must.ErrorContains(t, err, `query "postgres:named:slow": postgresql statement timed out after `)
	must.StrNotContains(t, err.Error(), "pg_sleep")
}

// TestInlineSQLIsRefusedByDefault sends an inline query to a plugin
// configured without allow_inline_sql: it is refused before any connection
// is opened, and with a connection open it never reaches the server.
func TestInlineSQLIsRefusedByDefault(t *testing.T) {
	t.Parallel()
	dsn, conn := requestsDB(t)
	seedMinutes(t, conn)
	var db string
	must.NoError(t, conn.QueryRow(context.Background(), "SELECT current_database()").Scan(&db))
	const marker = "inline-marker-7731"
	inline := fmt.Sprintf("postgres:sql:SELECT $1::timestamptz, 1 /* %s */ WHERE $2::timestamptz IS NOT NULL", marker)
	seen := func() (backends, withMarker int) {
		must.NoError(t, conn.QueryRow(context.Background(),
			`SELECT count(*), count(*) FILTER (WHERE query LIKE '%' || $3 || '%') FROM pg_stat_activity WHERE datname = $1 AND application_name = $2`,
			db, PluginName, marker).Scan(&backends, &withMarker))
		return backends, withMarker
	}
	p := postgresPlugin(t, dsn, nil)
	window := sdk.TimeRange{From: minute(0), To: minute(5)}

	_, err := p.Query(inline, window)
	must.ErrorContains(t, err, "inline SQL is refused")
	must.ErrorContains(t, err, `set allow_inline_sql = "true"`)
	backends, _ := seen()
	must.Eq(t, 0, backends, must.Sprint("the refused query opened a connection"))

	_, err = p.Query("postgres:requests_per_minute", window)
	must.NoError(t, err)
	_, err = p.Query(inline, window)
	must.ErrorContains(t, err, "inline SQL is refused")
	backends, withMarker := seen()
	must.Eq(t, 1, backends)
	must.Eq(t, 0, withMarker, must.Sprint("the refused query reached the server"))

	// The operator's switch lets the same query through.
	got, err := postgresPlugin(t, dsn, allowInlineSQL).Query(inline, window)
	must.NoError(t, err)
	must.Eq(t, sdk.TimestampedMetrics{{Timestamp: minute(0), Value: 1}}, got)
}

// TestFilterColumnsDecideWhichColumnsAPolicyMayProbe: a filter on a column
// the operator did not list is refused, even if the column exists; listed,
// the same query answers.
func TestFilterColumnsDecideWhichColumnsAPolicyMayProbe(t *testing.T) {
	t.Parallel()
	dsn, conn := requestsDB(t)
	seedMinutes(t, conn)
	window := sdk.TimeRange{From: minute(0), To: fixedNow}
	const query = "postgres:requests_per_minute:status=500"

	_, err := postgresPlugin(t, dsn, nil).Query(query, window)
	must.ErrorContains(t, err, `filter column "status" is refused: it is not listed in filter_columns`)
	_, err = postgresPlugin(t, dsn, map[string]string{configKeyFilterColumns: "model,customer"}).Query(query, window)
	must.ErrorContains(t, err, `filter column "status" is refused`)

	got, err := postgresPlugin(t, dsn, map[string]string{configKeyFilterColumns: "model,customer,status"}).Query(query, window)
	must.NoError(t, err)
	must.Eq(t, seriesOf(minute(0), 1, 0, 0, 0, 2), got)
}
