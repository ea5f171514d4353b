package pluginkit

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/shoenig/test/must"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/harness/promtest"
)

func TestMetricsAreServedOnTheConfiguredAddressAndMoveWithIt(t *testing.T) {
	m := NewMetrics()
	t.Cleanup(m.Close)
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "kit_test_total", Help: "A test counter."})
	m.Register(c)
	c.Add(3)
	must.Eq(t, []string{"kit_test_total"}, m.Names())

	must.NoError(t, m.Serve("127.0.0.1:0"))
	first := m.Addr()
	body := promtest.Scrape(t, first)
	must.StrContains(t, body, "kit_test_total 3")
	must.StrContains(t, body, "go_goroutines ")
	must.StrContains(t, body, "process_resident_memory_bytes ")

	must.NoError(t, m.Serve("127.0.0.1:0"), must.Sprint("the same setting again keeps the listener"))
	must.Eq(t, first, m.Addr())

	must.NoError(t, m.Serve(""))
	must.Eq(t, "", m.Addr())
	_, err := net.DialTimeout("tcp", first, time.Second)
	must.Error(t, err, must.Sprint("off means nothing listens"))
}

func TestABadOrBusyAddressNamesTheKeyNotTheValue(t *testing.T) {
	m := NewMetrics()
	t.Cleanup(m.Close)
	err := m.Serve("secret-host-without-port")
	must.EqError(t, err, "metrics_address: want host:port, such as 127.0.0.1:9464")

	busy, err := net.Listen("tcp", "127.0.0.1:0")
	must.NoError(t, err)
	defer busy.Close()
	err = m.Serve(busy.Addr().String())
	must.ErrorContains(t, err, "metrics_address: cannot listen")
	must.False(t, strings.Contains(err.Error(), busy.Addr().String()))
}

func TestLabelsNameEachSeriesLabels(t *testing.T) {
	m := NewMetrics()
	m.Register(
		prometheus.NewCounter(prometheus.CounterOpts{Name: "kit_plain_total", Help: "x"}),
		prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "kit_pair", Help: "x"}, []string{"mig", "state"}),
	)
	must.Eq(t, map[string][]string{"kit_plain_total": nil, "kit_pair": {"mig", "state"}}, m.Labels())
	must.Eq(t, []string{"kit_pair", "kit_plain_total"}, m.Names())
}
