package soak

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"text/template"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shoenig/test/must"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/harness/agenttest"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/harness/tcpproxy"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/harness/testenv"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/sim/simcloud"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/loadgen"
)

const (
	project = "ekyc-soak"
	migs    = "us-central1-a/ekyc-gpu-a,us-central1-b/ekyc-gpu-b"
	// capacityPerWorker is requests per simulated minute one worker serves
	// (the policy's capacity_per_worker).
	capacityPerWorker = 100
)

// services are the RabbitMQ and PostgreSQL servers of the run.
type services struct {
	amqp, mgmt []string // one per RabbitMQ node
	adminDSN   string
	script     string // scripts/soak-services.sh, for node kills and restarts; "" in the short form
}

// findServices reads scripts/soak-services.sh's environment when it is set
// (make soak) and scripts/services.sh's otherwise; testenv fails the test
// under CI when neither is set, so the short form never skips there.
func findServices(t *testing.T, p profile) services {
	t.Helper()
	if urls := os.Getenv("SOAK_AMQP_URLS"); urls != "" {
		return services{amqp: strings.Split(urls, ","), mgmt: strings.Split(os.Getenv("SOAK_MANAGEMENT_URLS"), ","),
			adminDSN: os.Getenv("SOAK_DATABASE_URL"), script: os.Getenv("SOAK_SERVICES")}
	}
	if p.cluster {
		t.Fatalf("the %s soak needs scripts/soak-services.sh's cluster: run `make soak`, or `eval \"$(scripts/soak-services.sh env)\"` after `scripts/soak-services.sh up`", p.name)
	}
	amqpURL, mgmtURL := testenv.RabbitMQ(t)
	return services{amqp: []string{amqpURL}, mgmt: []string{mgmtURL}, adminDSN: testenv.Postgres(t)}
}

// freshVhost creates an empty vhost whose queues are quorum queues by
// default, so that the load generator, the workers and the APM plugin,
// which declare queues without arguments, all get quorum queues.
func freshVhost(t *testing.T, s services, name string) []string {
	t.Helper()
	client := &http.Client{Timeout: 10 * time.Second}
	do := func(method, path, body string) {
		u, err := url.Parse(s.amqp[0])
		must.NoError(t, err)
		pass, _ := u.User.Password()
		req, err := http.NewRequest(method, s.mgmt[0]+path, strings.NewReader(body))
		must.NoError(t, err)
		req.SetBasicAuth(u.User.Username(), pass)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		must.NoError(t, err, must.Sprintf("%s %s on the management API", method, path))
		resp.Body.Close()
		if resp.StatusCode >= 300 && !(method == http.MethodDelete && resp.StatusCode == http.StatusNotFound) {
			t.Fatalf("%s %s on the management API: HTTP %d", method, path, resp.StatusCode)
		}
	}
	path := "/api/vhosts/" + url.PathEscape(name)
	do(http.MethodDelete, path, "")
	do(http.MethodPut, path, `{"defaultqueuetype":"quorum","description":"soak"}`)
	u, _ := url.Parse(s.amqp[0])
	do(http.MethodPut, "/api/permissions/"+url.PathEscape(name)+"/"+url.PathEscape(u.User.Username()), `{"configure":".*","write":".*","read":".*"}`)
	var out []string
	for _, a := range s.amqp {
		v, err := loadgen.VhostURL(a, name)
		must.NoError(t, err)
		out = append(out, v)
	}
	return out
}

// freshDatabase recreates the soak's database and applies the schema.
func freshDatabase(t *testing.T, adminDSN, name string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, adminDSN)
	must.NoError(t, err, must.Sprint("connect to the soak's PostgreSQL"))
	defer conn.Close(ctx)
	id := pgx.Identifier{name}.Sanitize()
	for _, stmt := range []string{"DROP DATABASE IF EXISTS " + id + " WITH (FORCE)", "CREATE DATABASE " + id} {
		_, err := conn.Exec(ctx, stmt)
		must.NoError(t, err)
	}
	cfg := conn.Config()
	dsn := fmt.Sprintf("postgres://%s@%s/%s?sslmode=disable", cfg.User, net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port))), name)
	must.NoError(t, loadgen.ApplySchema(ctx, dsn, filepath.Join(agenttest.RepoRoot(t), "scripts", "schema.sql")))
	return dsn
}

// startCloud serves simcloud in real time with simulated durations divided
// by the compression, as the demo does: a VM boots in 5 simulated minutes,
// a drain takes 90 s, a deletion a minute.
func startCloud(t *testing.T, ctx context.Context, p profile, initialPerZone int) (*simcloud.Cluster, string) {
	t.Helper()
	refs, err := simcloud.ParseMIGs(migs)
	must.NoError(t, err)
	sim := func(d time.Duration) time.Duration { return time.Duration(float64(d) / p.compression) }
	c, err := simcloud.New(simcloud.Config{
		Project: project, MIGs: refs, InitialSize: initialPerZone, NodeClass: "gpu-l4",
		BootTime: sim(5 * time.Minute), DeleteTime: sim(time.Minute), DrainDuration: sim(90 * time.Second),
		RetryInterval: sim(30 * time.Second),
	})
	must.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must.NoError(t, err)
	srv := &http.Server{Handler: c.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	go c.Run(ctx, 100*time.Millisecond)
	t.Cleanup(func() {
		c.Close()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	})
	return c, "http://" + ln.Addr().String()
}

// initialPerZone sizes the fleet for the first replayed minute, as a fleet
// that was already running would be.
func initialPerZone(firstMinute float64) int {
	return max(1, int(math.Ceil(firstMinute/capacityPerWorker/2)))
}

type policyParams struct {
	Sample          float64
	RateFactor      float64
	BacklogCapacity float64
	Max             int
	Vhost           string
	Project, MIGs   string
}

func writePolicy(t *testing.T, dir string, p profile, vhost string) {
	t.Helper()
	tmpl := template.Must(template.ParseFiles(filepath.Join("testdata", "policy.hcl.tmpl")))
	var b bytes.Buffer
	must.NoError(t, tmpl.Execute(&b, policyParams{
		Sample: p.sample, RateFactor: p.sample * 60 / p.compression,
		BacklogCapacity: capacityPerWorker / p.sample * p.compression, Max: p.max,
		Vhost: vhost, Project: project, MIGs: migs,
	}))
	must.NoError(t, os.WriteFile(filepath.Join(dir, "soak.hcl"), b.Bytes(), 0o644))
}

// pluginBlocks are the agent's plugin blocks: the APM plugin over every
// RabbitMQ node, the strategy's and the target's Prometheus metrics on
// metricsAddr and targetMetricsAddr.
func pluginBlocks(amqpURLs, mgmtURLs []string, dsn, cloudURL, metricsAddr, targetMetricsAddr string) string {
	return fmt.Sprintf(`
apm "ekyc" {
  driver = "apm-rabbitmq"
  config = {
    amqp_urls        = %q
    management_urls  = %q
    postgres_url     = %q
    query_timeout    = "1s"
    allow_inline_sql = "true"
  }
}

strategy "slope" {
  driver = "strategy-slope"
  config = {
    metrics_address = %q
  }
}

target "gce-gpu" {
  driver = "target-gce-gpu"
  config = {
    compute_endpoint = %q
    compute_insecure = "true"
    metrics_address  = %q
  }
}
`, strings.Join(amqpURLs, ","), strings.Join(mgmtURLs, ","), dsn, metricsAddr, cloudURL, targetMetricsAddr)
}

// proxied returns the URLs with their host replaced by a proxy's each.
func proxied(t *testing.T, raw []string) ([]string, []*tcpproxy.Proxy) {
	t.Helper()
	var out []string
	var proxies []*tcpproxy.Proxy
	for _, r := range raw {
		u, err := url.Parse(r)
		must.NoError(t, err)
		p := tcpproxy.Start(t, u.Host)
		u.Host = p.Addr()
		out = append(out, u.String())
		proxies = append(proxies, p)
	}
	return out, proxies
}

// runScript runs scripts/soak-services.sh with a deadline.
func runScript(ctx context.Context, script string, timeout time.Duration, args ...string) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, script, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %w: %s", filepath.Base(script), strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return nil
}
