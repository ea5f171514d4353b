package pluginkit

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// MetricsKey is the agent-level key that serves a plugin's Prometheus
// metrics. It is off unless set: every plugin is its own process, so each
// one that should be scraped gets its own address.
const MetricsKey = "metrics_address"

// MetricsKeyRow is MetricsKey's row for a plugin's agent-level table.
var MetricsKeyRow = Key{Name: MetricsKey, Kind: Text, Doc: "host:port to serve Prometheus metrics on at /metrics; off when unset"}

// Metrics serves a plugin's registry at /metrics. The Go runtime and
// process collectors are always registered, so the plugin's goroutines,
// memory and file descriptors can be watched like its decisions.
type Metrics struct {
	// Registry is where the plugin registers its collectors.
	Registry *prometheus.Registry

	mu         sync.Mutex
	collectors []prometheus.Collector // the plugin's own, for Names
	addr       string                 // as configured
	srv        *http.Server
	ln         net.Listener
}

// NewMetrics returns a registry with the runtime collectors, not yet served.
func NewMetrics() *Metrics {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return &Metrics{Registry: reg}
}

// Register registers the plugin's collectors.
func (m *Metrics) Register(cs ...prometheus.Collector) {
	m.Registry.MustRegister(cs...)
	m.mu.Lock()
	m.collectors = append(m.collectors, cs...)
	m.mu.Unlock()
}

// descName finds a metric's name in a Desc's text (Desc has no accessor).
var descName = regexp.MustCompile(`fqName: "([^"]+)"`)

// Names lists the metric names of the collectors passed to Register, so
// that dashboards and docs can be checked against what a plugin exports.
func (m *Metrics) Names() []string {
	return slices.Sorted(maps.Keys(m.Labels()))
}

// Labels maps each series the plugin registered to its label names.
func (m *Metrics) Labels() map[string][]string {
	m.mu.Lock()
	cs := slices.Clone(m.collectors)
	m.mu.Unlock()
	ch := make(chan *prometheus.Desc, 16)
	go func() {
		for _, c := range cs {
			c.Describe(ch)
		}
		close(ch)
	}()
	out := map[string][]string{}
	for d := range ch {
		mm := descName.FindStringSubmatch(d.String())
		if mm == nil {
			continue
		}
		var labels []string
		if l := descLabels.FindStringSubmatch(d.String()); l != nil && l[1] != "" {
			labels = strings.Split(l[1], ",")
		}
		out[mm[1]] = labels
	}
	return out
}

// descLabels reads the variable label names of a Desc's String().
var descLabels = regexp.MustCompile(`variableLabels: \{([^}]*)\}`)

// Serve listens on addr and serves /metrics, replacing a previous address;
// an empty addr stops serving. The same addr again (a SIGHUP without a
// change) keeps the listener. Errors name MetricsKey, not the address.
func (m *Metrics) Serve(addr string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if addr == m.addr {
		return nil
	}
	if addr != "" {
		if _, port, err := net.SplitHostPort(addr); err != nil || port == "" {
			return fmt.Errorf("%s: want host:port, such as 127.0.0.1:9464", MetricsKey)
		}
	}
	m.closeLocked()
	if addr == "" {
		return nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		var errno syscall.Errno
		if errors.As(err, &errno) {
			return fmt.Errorf("%s: cannot listen: %s", MetricsKey, errno.Error())
		}
		return fmt.Errorf("%s: cannot listen on it", MetricsKey)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Timeout: 10 * time.Second}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, WriteTimeout: 15 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	m.addr, m.srv, m.ln = addr, srv, ln
	return nil
}

// Addr is the address being served ("" when off); with port 0 in the
// configuration it is the port the system chose.
func (m *Metrics) Addr() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.ln == nil {
		return ""
	}
	return m.ln.Addr().String()
}

// Close stops serving.
func (m *Metrics) Close() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closeLocked()
}

func (m *Metrics) closeLocked() {
	if m.srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_ = m.srv.Shutdown(ctx)
		cancel()
	}
	m.addr, m.srv, m.ln = "", nil, nil
}
