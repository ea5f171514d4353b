package sli

import (
	"github.com/jackc/pgx/v5"
)

// readSQL is the one statement of a read. Its parameters:
//
//	$1 timestamptz[]  the plan's bucket lower bounds, ascending
//	$2, $3            the scan: created_at in [$2, $3)
//	$4 int4[]         per bucket, the 1-based reported day whose business window holds it, 0 for none
//	$5 int8           the latency SLO in milliseconds
//
// It scans the rows once (a range of the created_at btree, or the whole
// table when the range is most of it) and reduces them to a histogram per
// bucket, outcome and latency: the buckets come from width_bucket, a binary
// search over a few hundred instants, which is cheaper than converting
// every row to local time (AT TIME ZONE costs twice the scan itself), and
// the histogram is hashed rather than sorted, which is what a
// percentile_disc per day would do to every row. The histogram has at most
// buckets x 3 x distinct latencies rows, whatever the traffic.
//
// It returns two kinds of rows: ('bucket', i, counts...) for every bucket
// with rows, and ('p95', day, ..., p95_ms) for every reported day with
// successful business requests. The p95 is nearest-rank: the smallest
// latency L such that at least 95% of the day's successful business
// requests took L or less, i.e. the value at rank ceil(0.95 n), which is
// what percentile_disc(0.95) returns; the comparison is in integers, so it
// does not depend on how 0.95 n rounds. A successful request without a
// latency_ms ranks after every latency (it has not shown it was fast): if
// the rank falls on one, p95_ms is NULL.
func readSQL(table pgx.Identifier) string {
	at := pgx.Identifier{columnTime}.Sanitize()
	status := pgx.Identifier{columnStatus}.Sanitize()
	latency := pgx.Identifier{columnLatency}.Sanitize()
	return `WITH h AS MATERIALIZED (
	SELECT bucket, outcome, CASE WHEN outcome = 1 AND ($4::int4[])[bucket] > 0 THEN latency_ms END AS latency_ms, count(*) AS n
	FROM (
		SELECT width_bucket(` + at + `, $1::timestamptz[]) AS bucket,
		       CASE WHEN ` + status + ` IS NULL THEN 0 WHEN ` + status + ` >= 500 THEN 2 ELSE 1 END AS outcome,
		       ` + latency + ` AS latency_ms
		FROM ` + table.Sanitize() + `
		WHERE ` + at + ` >= $2 AND ` + at + ` < $3
	) AS r
	GROUP BY 1, 2, 3
), lat AS (
	SELECT d.day, h.latency_ms, sum(h.n) AS n
	FROM h JOIN unnest($4::int4[]) WITH ORDINALITY AS d(day, bucket) ON d.bucket = h.bucket
	WHERE d.day > 0 AND h.outcome = 1
	GROUP BY 1, 2
), p95 AS (
	SELECT day, min(latency_ms) FILTER (WHERE 100 * cum >= 95 * total) AS p95_ms
	FROM (
		SELECT day, latency_ms,
		       sum(n) OVER (PARTITION BY day ORDER BY latency_ms NULLS LAST) AS cum,
		       sum(n) OVER (PARTITION BY day) AS total
		FROM lat
	) AS c
	GROUP BY day
)
SELECT 'bucket' AS kind, bucket AS key,
       sum(n)::int8,
       coalesce(sum(n) FILTER (WHERE outcome = 0), 0)::int8,
       coalesce(sum(n) FILTER (WHERE outcome = 2), 0)::int8,
       coalesce(sum(n) FILTER (WHERE outcome = 1 AND latency_ms IS NOT NULL), 0)::int8,
       coalesce(sum(n) FILTER (WHERE outcome = 1 AND latency_ms <= $5), 0)::int8,
       NULL::int8
FROM h GROUP BY bucket
UNION ALL
SELECT 'p95', day, 0, 0, 0, 0, 0, p95_ms::int8 FROM p95`
}

// checkSQL describes the table and the columns the read needs: its name as
// PostgreSQL resolves it (NULL when there is no such table or view), whether
// the user may read it, and each column's type (none for a missing column).
const checkSQL = `SELECT c.oid::regclass::text, has_table_privilege(c.oid, 'SELECT'), a.attname, format_type(a.atttypid, a.atttypmod)
FROM (SELECT to_regclass($1) AS oid) AS c
LEFT JOIN pg_attribute AS a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attname = ANY($2)`

// countsSQL is watch mode's statement: per bucket, the counts readSQL
// returns, without the latency histogram (the p95 needs a whole day).
// Parameters: $1 the bucket lower bounds, $2 and $3 the scan, $4 the
// latency SLO in milliseconds.
func countsSQL(table pgx.Identifier) string {
	at := pgx.Identifier{columnTime}.Sanitize()
	status := pgx.Identifier{columnStatus}.Sanitize()
	latency := pgx.Identifier{columnLatency}.Sanitize()
	return `SELECT width_bucket(` + at + `, $1::timestamptz[]) AS bucket,
       count(*)::int8,
       count(*) FILTER (WHERE ` + status + ` IS NULL)::int8,
       count(*) FILTER (WHERE ` + status + ` >= 500)::int8,
       count(*) FILTER (WHERE ` + status + ` < 500 AND ` + latency + ` IS NOT NULL)::int8,
       count(*) FILTER (WHERE ` + status + ` < 500 AND ` + latency + ` <= $4)::int8
FROM ` + table.Sanitize() + `
WHERE ` + at + ` >= $2 AND ` + at + ` < $3
GROUP BY 1`
}
