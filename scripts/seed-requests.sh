#!/usr/bin/env bash
# seed-requests.sh: fill the requests table of scripts/schema.sql with
# synthetic, time-ordered API traffic, for the apm-rabbitmq benchmark and
# demos.
#
#   DATABASE_URL=postgres://... scripts/seed-requests.sh [--days 7] [--per-day 2000000] [--truncate]
#
# Rows are spread evenly over the DAYS days that end now (the last row is a
# moment ago), one INSERT ... SELECT generate_series per day, in time order,
# so that the table's physical order follows created_at as it does when an
# API appends rows. Four models, 50 customers, 1% status 500. The table is
# created if missing (schema.sql is idempotent) and VACUUM ANALYZEd at the
# end so that the planner has statistics and index-only scans are possible.
# 7 days at 2M/day (14M rows) take about two minutes on 2 cores.
set -euo pipefail

DAYS=7
PER_DAY=2000000
TRUNCATE=0

usage() { sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

while (($#)); do
  case $1 in
    --days) DAYS=${2:?}; shift 2 ;;
    --per-day) PER_DAY=${2:?}; shift 2 ;;
    --truncate) TRUNCATE=1; shift ;;
    -h|--help) usage ;;
    *) printf 'seed-requests: unknown argument %q\n' "$1" >&2; usage ;;
  esac
done
[[ $DAYS =~ ^[1-9][0-9]*$ && $PER_DAY =~ ^[1-9][0-9]*$ ]] ||
  { echo "seed-requests: --days and --per-day must be positive integers" >&2; exit 2; }
[[ -n ${DATABASE_URL:-} ]] ||
  { echo 'seed-requests: set DATABASE_URL (eval "$(scripts/services.sh env)")' >&2; exit 2; }

here=$(cd "$(dirname "$0")" && pwd)
psql_q() { PGOPTIONS="-c client_min_messages=warning" psql "$DATABASE_URL" -X -q -v ON_ERROR_STOP=1 "$@"; }

psql_q -f "$here/schema.sql"
if ((TRUNCATE)); then
  psql_q -c 'TRUNCATE api_requests RESTART IDENTITY'
fi

# One end for every day, so that the days join without a gap.
end=$(psql_q -At -c "SELECT now()")
echo "seed-requests: $DAYS days x $PER_DAY requests/day ending $end" >&2

for ((day = 0; day < DAYS; day++)); do
  SECONDS=0
  psql_q -v end="$end" -v days="$DAYS" -v day="$day" -v per_day="$PER_DAY" <<'SQL'
INSERT INTO api_requests (created_at, model, customer, status, latency_ms)
SELECT :'end'::timestamptz
         - make_interval(days => :days - :day)
         + make_interval(secs => i * 86400.0 / :per_day),
       (ARRAY['ekyc.facematch', 'ekyc.ocr', 'ekyc.liveness', 'ekyc.docclass'])[1 + i % 4],
       'customer-' || (i * 7919 % 50),
       CASE WHEN i % 100 = 0 THEN 500 ELSE 200 END,
       20 + (i * 31 % 400)
FROM generate_series(0::bigint, :per_day - 1) AS i;
SQL
  echo "seed-requests: day $((day + 1))/$DAYS inserted in ${SECONDS}s" >&2
done

SECONDS=0
psql_q -c 'VACUUM (ANALYZE) api_requests'
echo "seed-requests: vacuum analyze in ${SECONDS}s; rows: $(psql_q -At -c 'SELECT count(*) FROM api_requests')" >&2
