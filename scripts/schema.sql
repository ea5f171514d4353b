-- scripts/schema.sql: the requests table that the apm-rabbitmq plugin reads
-- (postgres:requests_per_minute) and that the load generator, the seed script
-- and the benchmarks write. One row per API request. Idempotent: safe to run
-- on every start. Keep it stable: other tools insert (created_at, model) and
-- rely on every other column having a default or being nullable.
--
-- Why this shape (see plugins/apm-rabbitmq/README.md for EXPLAIN output):
-- * created_at timestamptz: the plugin counts per minute in UTC; a timestamp
--   without time zone would depend on the writer's session time zone.
-- * a plain btree on created_at: the per-minute counts over the last hour are
--   range scans of that hour only. Rows arrive in time order, so the hour's
--   rows are physically adjacent and the scans touch few pages; after
--   VACUUM they are index-only. A BRIN index is smaller but slower for
--   a one-hour window (it reads whole block ranges and rechecks every row).
-- * no index on model/customer: a filtered count reads the hour's rows
--   through the same time index and filters them (about 1,400 rows a minute
--   at 2M requests/day), which is cheaper than maintaining more indexes on
--   every insert.
CREATE TABLE IF NOT EXISTS api_requests (
    id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    created_at timestamptz NOT NULL DEFAULT now(),
    model      text,
    customer   text,
    status     integer,
    latency_ms integer
);

CREATE INDEX IF NOT EXISTS api_requests_created_at_idx ON api_requests (created_at);
