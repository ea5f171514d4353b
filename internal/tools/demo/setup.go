package demo

import (
	"context"
	"fmt"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/localport"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/sim/fakegce"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/sim/simcloud"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/loadgen"
)

// The demo's own database, vhost, project and MIGs: policies/demo.hcl
// names them, and they keep the demo away from every test's data.
const (
	demoDatabase = "ekyc_demo"
	demoVhost    = "ekyc-demo"
	demoProject  = "ekyc-demo"
	demoMIGs     = "us-central1-a/ekyc-gpu-a,us-central1-b/ekyc-gpu-b"
	// demoSpotMIGs are the demo policy's Spot tier (spot_migs): they start
	// empty, with the SPOT provisioning model.
	demoSpotMIGs = "us-central1-a/ekyc-gpu-spot-a,us-central1-b/ekyc-gpu-spot-b"
)

// freshDatabase drops and recreates the demo database, applies the schema
// and returns its DSN.
func freshDatabase(ctx context.Context, adminDSN, database, schema string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, adminDSN)
	if err != nil {
		return "", fmt.Errorf("connect to PostgreSQL (DATABASE_URL): %w", err)
	}
	defer conn.Close(ctx)
	name := pgx.Identifier{database}.Sanitize()
	for _, stmt := range []string{"DROP DATABASE IF EXISTS " + name + " WITH (FORCE)", "CREATE DATABASE " + name} {
		if _, err := conn.Exec(ctx, stmt); err != nil {
			return "", fmt.Errorf("recreate database %s: %w", database, err)
		}
	}
	cfg := conn.Config()
	dsn := fmt.Sprintf("postgres://%s@%s/%s?sslmode=disable", userInfo(cfg), net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port))), database)
	if err := loadgen.ApplySchema(ctx, dsn, schema); err != nil {
		return "", err
	}
	return dsn, nil
}

func userInfo(cfg *pgx.ConnConfig) string {
	if cfg.Password == "" {
		return cfg.User
	}
	return cfg.User + ":" + cfg.Password
}

// freshVhost empties the demo's vhost by recreating it and returns its AMQP URL.
func freshVhost(ctx context.Context, amqpURL, mgmtURL, vhost string) (string, error) {
	v, err := loadgen.VhostsFromAMQP(amqpURL, mgmtURL)
	if err != nil {
		return "", err
	}
	if err := v.Delete(ctx, vhost); err != nil {
		return "", err
	}
	if err := v.Create(ctx, vhost); err != nil {
		return "", err
	}
	return loadgen.VhostURL(amqpURL, vhost)
}

// cloud is the simulated GCE project and Nomad cluster, served on loopback.
type cloud struct {
	*simcloud.Cluster
	URL string
	srv *http.Server
}

// startCloud runs simcloud in real time with durations that are short in
// real time and realistic on the simulated clock: a GPU VM boots and loads
// its model in 5 simulated minutes (1 s at x300).
func startCloud(ctx context.Context, o Options, initialPerZone int) (*cloud, error) {
	refs, err := simcloud.ParseMIGs(demoMIGs)
	if err != nil {
		return nil, err
	}
	spot, err := simcloud.ParseMIGs(demoSpotMIGs)
	if err != nil {
		return nil, err
	}
	initial := map[simcloud.MIGRef]int{}
	for _, r := range refs {
		initial[r] = initialPerZone
	}
	sim := func(d time.Duration) time.Duration { return time.Duration(float64(d) / o.Compression) }
	c, err := simcloud.New(simcloud.Config{
		Project: demoProject, MIGs: append(refs, spot...), InitialSizes: initial, NodeClass: "gpu-l4",
		BootTime: sim(5 * time.Minute), DeleteTime: sim(time.Minute), DrainDuration: sim(90 * time.Second),
		// The demo policy keeps a warm pool: a stopped VM serves after 90 s.
		WarmBootTime: sim(demoWarmBoot), StopTime: sim(30 * time.Second),
	})
	if err != nil {
		return nil, err
	}
	for _, r := range spot {
		if err := c.GCE.SetMIGProvisioningModel(r.Zone, r.Name, fakegce.ProvisioningSpot); err != nil {
			return nil, err
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: c.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	go c.Run(ctx, 50*time.Millisecond)
	return &cloud{Cluster: c, URL: "http://" + ln.Addr().String(), srv: srv}, nil
}

func (c *cloud) close() {
	c.Cluster.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = c.srv.Shutdown(ctx)
}

// demoWarmBoot is how long a VM started from the standby pool takes to
// serve in the demo's cloud (a cold one takes 5 minutes).
const demoWarmBoot = 90 * time.Second

// initialWorkers sizes the fleet for the first replayed minute, split over
// the two zones, as a fleet that was already running would be.
func initialWorkers(firstMinute, capacity float64) int {
	return max(1, int(math.Ceil(firstMinute/capacity/2)))
}

// agentFiles is where writeAgentFiles put the agent's configuration and
// where the agent and its plugins will listen.
type agentFiles struct {
	config   string
	httpAddr string // the agent's API, its telemetry at /v1/metrics
	// strategyMetrics and targetMetrics serve the plugins' /metrics.
	strategyMetrics, targetMetrics string
}

// writeAgentFiles renders the agent configuration and copies the policy
// into out.
func writeAgentFiles(o Options, c *cloud, amqpURL, dsn string) (agentFiles, error) {
	ports, err := localport.Free(3)
	if err != nil {
		return agentFiles{}, err
	}
	port := ports[0]
	files := agentFiles{
		httpAddr:        net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
		strategyMetrics: net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[1])),
		targetMetrics:   net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[2])),
	}
	plugins, err := filepath.Abs(o.PluginDir)
	if err != nil {
		return agentFiles{}, err
	}
	policyDir := filepath.Join(o.OutDir, "policies")
	if err := os.MkdirAll(policyDir, 0o755); err != nil {
		return agentFiles{}, err
	}
	policy, err := os.ReadFile(o.Policy)
	if err != nil {
		return agentFiles{}, err
	}
	if err := os.WriteFile(filepath.Join(policyDir, filepath.Base(o.Policy)), policy, 0o644); err != nil {
		return agentFiles{}, err
	}
	absPolicyDir, _ := filepath.Abs(policyDir)
	cfg, err := RenderAgentConfig(o.AgentConfig, AgentOverrides{
		PluginDir: plugins, HTTPHost: "127.0.0.1", HTTPPort: port, NomadAddress: c.URL, PolicyDir: absPolicyDir,
		Plugins: map[[2]string]map[string]string{
			// The demo policy's rate check is inline SQL (requests per real
			// second, scaled to simulated minutes), which the plugin runs
			// only when the agent's configuration allows it.
			{"apm", "ekyc"}:       {"amqp_urls": amqpURL, "management_urls": o.ManagementURL, "postgres_url": dsn, "allow_inline_sql": "true"},
			{"target", "gce-gpu"}: {"compute_endpoint": c.URL, "compute_insecure": "true", "metrics_address": files.targetMetrics},
			{"strategy", "slope"}: {"metrics_address": files.strategyMetrics},
		},
	})
	if err != nil {
		return agentFiles{}, err
	}
	files.config = filepath.Join(o.OutDir, "agent.hcl")
	// The file holds service credentials of the local servers: owner only.
	if err := os.WriteFile(files.config, cfg, 0o600); err != nil {
		return agentFiles{}, err
	}
	return files, nil
}
