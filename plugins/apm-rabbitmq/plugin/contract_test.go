package plugin

import (
	"testing"
	"time"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/harness/plugintest"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/pluginkit"
	"github.com/hashicorp/nomad-autoscaler/sdk"
	"github.com/shoenig/test/must"
)

// TestContractOverGoPlugin builds the binary and talks to it the way the
// agent does: go-plugin handshake, gRPC, SetConfig with the keys the agent
// merges in, then queries of each kind against the real servers.
func TestContractOverGoPlugin(t *testing.T) {
	t.Parallel()
	r := newRabbit(t)
	dsn, conn := requestsDB(t)
	insertRequests(t, conn, time.Now().Add(-3*time.Minute).Truncate(time.Minute), 4, "ocr", 200)
	q := uniqueName("contract")
	r.queue("/", q, 6)

	bin := plugintest.Build(t, "github.com/fleetslope/nomad-gpu-autoscaler/plugins/apm-rabbitmq")
	apm := plugintest.LaunchAPM(t, bin)

	info, err := apm.PluginInfo()
	must.NoError(t, err)
	must.Eq(t, PluginName, info.Name)
	must.Eq(t, sdk.PluginTypeAPM, info.PluginType)

	err = apm.SetConfig(map[string]string{configKeyAMQPURLs: "http://nope", "query_timeuot": "1s"})
	must.ErrorContains(t, err, "amqp_urls element 1: want amqp://")
	must.ErrorContains(t, err, `unknown key "query_timeuot"`)
	must.StrNotContains(t, err.Error(), "nope")

	must.NoError(t, apm.SetConfig(map[string]string{
		configKeyAMQPURLs:                r.amqpURL,
		configKeyManagementURLs:          r.mgmtURL,
		configKeyPostgresURL:             dsn,
		configKeyFilterColumns:           "model,customer",
		"sql.total":                      `SELECT $2::timestamptz, count(*) FROM api_requests WHERE created_at >= $1 AND created_at < $2`,
		"nomad_address":                  "http://127.0.0.1:4646",
		"nomad_region":                   "global",
		"_nomad_autoscaler_grpc_timeout": "3s",
	}))

	got, err := apm.Query("rabbitmq:ready:"+q, now())
	must.NoError(t, err)
	must.Len(t, 1, got)
	must.Eq(t, 6.0, got[0].Value)

	end := time.Now()
	window := sdk.TimeRange{From: end.Add(-5 * time.Minute), To: end}
	series, err := apm.QueryMultiple("postgres:requests_per_minute:model=ocr", window)
	must.NoError(t, err)
	must.Len(t, 1, series)
	// 3 or 4 minutes that ended settle_delay (30 s) ago, depending on the second.
	must.Between(t, 3, len(series[0]), 4)
	var sum float64
	for _, m := range series[0] {
		sum += m.Value
	}
	must.Eq(t, 4.0, sum)

	got, err = apm.Query("postgres:named:total", window)
	must.NoError(t, err)
	must.Eq(t, sdk.TimestampedMetrics{{Timestamp: end.UTC().Truncate(time.Microsecond), Value: 4}}, got) // PostgreSQL keeps microseconds
	_, err = apm.Query("postgres:sql:SELECT $1::timestamptz, 1 WHERE $2::timestamptz IS NOT NULL", window)
	must.ErrorContains(t, err, "inline SQL is refused")

	_, err = apm.Query("rabbitmq:ready:"+q+".missing", now())
	must.ErrorContains(t, err, "not found")
	_, err = apm.Query("postgres:requests_per_minute", sdk.TimeRange{From: end, To: end})
	must.ErrorContains(t, err, "instant")
	must.False(t, pluginkit.HasRestartPhrase(err.Error()))
}
