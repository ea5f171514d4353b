package simcloud

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/cli"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// flags are cmd/simcloud's command line.
type flags struct {
	listen, project, migs, startTime, stateFile, addrFile string
	nodeClass, datacenter, nodePool, stockoutCode         string
	initialSize, gpus                                     int
	bootTime, deleteTime, drainDuration, downTTL, tick    time.Duration
	warmBootTime                                          time.Duration
	timeScale                                             float64
}

func parseFlags(args []string, stderr io.Writer) (flags, Config, error) {
	var f flags
	fs := flag.NewFlagSet("simcloud", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.listen, "listen", "127.0.0.1:0", "address to serve on (port 0 picks a free port)")
	fs.StringVar(&f.project, "project", "sim-project", "GCE project")
	fs.StringVar(&f.migs, "migs", "europe-west4-a/gpu-workers-a,europe-west4-b/gpu-workers-b", "zonal MIGs as zone/name,zone/name")
	fs.IntVar(&f.initialSize, "initial-size", 1, "instances per MIG at start")
	fs.DurationVar(&f.bootTime, "boot-time", 90*time.Second, "simulated time from resize to a ready Nomad node")
	fs.DurationVar(&f.warmBootTime, "warm-boot-time", DefaultWarmBootTime, "simulated time from startInstances (a VM of the standby pool) to a ready Nomad node")
	fs.DurationVar(&f.deleteTime, "delete-time", 30*time.Second, "simulated time a deleted instance takes to go away")
	fs.DurationVar(&f.drainDuration, "drain-duration", 30*time.Second, "simulated time a node drain takes")
	fs.DurationVar(&f.downTTL, "down-node-ttl", 0, "keep a deleted instance's node \"down\" this long before deregistering it (0: at once)")
	fs.Float64Var(&f.timeScale, "time-scale", 1, "simulated seconds per real second")
	fs.StringVar(&f.startTime, "start-time", "", "simulated start time, RFC 3339 (default: now)")
	fs.StringVar(&f.nodeClass, "node-class", "gpu", "node_class of the worker nodes")
	fs.StringVar(&f.datacenter, "datacenter", "dc1", "datacenter of the worker nodes")
	fs.StringVar(&f.nodePool, "node-pool", "default", "node pool of the worker nodes")
	fs.StringVar(&f.stockoutCode, "stockout-code", "ZONE_RESOURCE_POOL_EXHAUSTED", "listErrors code of a stockout (or ZONE_RESOURCE_POOL_EXHAUSTED_WITH_DETAILS)")
	fs.IntVar(&f.gpus, "gpus-per-node", 1, "GPUs per worker node")
	fs.DurationVar(&f.tick, "tick", 100*time.Millisecond, "real time between simulation steps")
	fs.StringVar(&f.stateFile, "state-file", "", "if set, write GET /admin/state JSON here every second and at exit")
	fs.StringVar(&f.addrFile, "addr-file", "", "if set, write the served URLs as JSON here once listening")
	if err := fs.Parse(args); err != nil {
		return f, Config{}, err
	}
	var errs []error
	migs, err := ParseMIGs(f.migs)
	if err != nil {
		errs = append(errs, fmt.Errorf("-migs: %w", err))
	}
	if f.timeScale <= 0 {
		errs = append(errs, fmt.Errorf("-time-scale: %v must be positive", f.timeScale))
	}
	if f.tick <= 0 {
		errs = append(errs, fmt.Errorf("-tick: %q must be positive", f.tick))
	}
	start := time.Now()
	if f.startTime != "" {
		if start, err = time.Parse(time.RFC3339, f.startTime); err != nil {
			errs = append(errs, fmt.Errorf("-start-time: %q is not RFC 3339", f.startTime))
		}
	}
	cfg := Config{
		Project: f.project, MIGs: migs, InitialSize: f.initialSize,
		BootTime: f.bootTime, WarmBootTime: f.warmBootTime, DeleteTime: f.deleteTime, DrainDuration: f.drainDuration, DownNodeTTL: f.downTTL,
		Datacenter: f.datacenter, NodeClass: f.nodeClass, NodePool: f.nodePool, GPUsPerNode: f.gpus,
		StockoutCode: f.stockoutCode,
		Clock:        NewClock(start, f.timeScale, nil),
	}
	if err := errors.Join(errs...); err != nil {
		return f, Config{}, err
	}
	return f, cfg, nil
}

// Addresses are the URLs simcloud serves, printed at start and written to
// -addr-file.
type Addresses struct {
	URL             string `json:"url"`
	ComputeEndpoint string `json:"compute_endpoint"`
	NomadAddr       string `json:"nomad_addr"`
	AdminURL        string `json:"admin_url"`
}

// Main runs cmd/simcloud until ctx is done (SIGINT/SIGTERM in main).
func Main(ctx context.Context, env cli.Env) error {
	args, stdout, stderr := env.Args, env.Stdout, env.Stderr
	f, cfg, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	cluster, err := New(cfg)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", f.listen)
	if err != nil {
		return fmt.Errorf("listen on %q: %w", f.listen, err)
	}
	base := "http://" + ln.Addr().String()
	addrs := Addresses{URL: base, ComputeEndpoint: base, NomadAddr: base, AdminURL: base + "/admin"}
	fmt.Fprintf(stdout, "simcloud listening on %s (time scale %v)\nCOMPUTE_ENDPOINT=%s\nNOMAD_ADDR=%s\nADMIN_URL=%s\n",
		base, cfg.Clock.Scale(), addrs.ComputeEndpoint, addrs.NomadAddr, addrs.AdminURL)
	if f.addrFile != "" {
		if err := writeJSONFile(f.addrFile, addrs); err != nil {
			_ = ln.Close()
			return err
		}
	}

	srv := &http.Server{Handler: cluster.Handler(), ReadHeaderTimeout: 10 * time.Second}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go cluster.Run(runCtx, f.tick)
	if f.stateFile != "" {
		go writeStatePeriodically(runCtx, cluster, f.stateFile, stderr)
	}

	select {
	case <-ctx.Done():
	case err := <-serveErr:
		return fmt.Errorf("serve: %w", err)
	}
	cancel()
	cluster.Close()
	shutdownCtx, done := context.WithTimeout(context.Background(), 5*time.Second)
	defer done()
	err = srv.Shutdown(shutdownCtx)
	if f.stateFile != "" {
		err = errors.Join(err, writeJSONFile(f.stateFile, cluster.State()))
	}
	fmt.Fprintln(stdout, "simcloud stopped")
	return err
}

func writeStatePeriodically(ctx context.Context, c *Cluster, path string, stderr io.Writer) {
	every(ctx, time.Second, func() {
		if err := writeJSONFile(path, c.State()); err != nil {
			fmt.Fprintln(stderr, "simcloud:", err)
		}
	})
}

// writeJSONFile replaces path atomically so readers never see half a file.
func writeJSONFile(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".simcloud-*")
	if err != nil {
		return fmt.Errorf("write %q: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("write %q: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %q: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %q: %w", path, err)
	}
	return nil
}
