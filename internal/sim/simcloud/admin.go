package simcloud

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"time"

	"github.com/hashicorp/nomad/api"
)

// State is what GET /admin/state returns: the whole simulated cluster.
type State struct {
	Time      time.Time `json:"time"`
	TimeScale float64   `json:"time_scale"`
	Project   string    `json:"project"`
	Zones     []Zone    `json:"zones"`
	MIGs      []MIG     `json:"migs"`
	Nodes     []Node    `json:"nodes"`
	// ReadyWorkers counts, per zone, nodes that are ready, eligible, not
	// draining and run a worker allocation: the capacity serving requests.
	ReadyWorkers      map[string]int `json:"ready_workers"`
	ReadyWorkersTotal int            `json:"ready_workers_total"`
	// InstanceHours are RUNNING instance-hours of simulated time since start,
	// per zone (sampled every tick): what the GPU fleet has cost so far.
	InstanceHours      map[string]float64 `json:"instance_hours"`
	InstanceHoursTotal float64            `json:"instance_hours_total"`
	// WarmBootTime is how long a start from the standby pool takes.
	WarmBootTime string `json:"warm_boot_time"`
}

// Zone is a zone's injected failures.
type Zone struct {
	Zone          string `json:"zone"`
	Stockout      bool   `json:"stockout"`
	QuotaExceeded bool   `json:"quota_exceeded"`
	// Capacity is the zone's instance limit, -1 when unlimited.
	Capacity int `json:"capacity"`
}

// MIG is one managed instance group.
type MIG struct {
	Zone       string `json:"zone"`
	Name       string `json:"name"`
	TargetSize int    `json:"target_size"`
	Stable     bool   `json:"stable"`
	Running    int    `json:"running"`
	// TargetStoppedSize is the standby pool's size, Standby its members
	// (stopped or on their way), StandbyMode its standbyPolicy.mode.
	TargetStoppedSize int        `json:"target_stopped_size"`
	Standby           int        `json:"standby"`
	StandbyMode       string     `json:"standby_mode"`
	Instances         []Instance `json:"instances"`
	// Errors is the number of listErrors items; LastErrorCode the newest code.
	Errors        int    `json:"errors"`
	LastErrorCode string `json:"last_error_code,omitempty"`
	// Versions are the MIG's version templates ("name=template[:size]"),
	// VersionTargetReached its status.versionTarget.isReached.
	Versions             []string `json:"versions"`
	VersionTargetReached bool     `json:"version_target_reached"`
}

// Instance is one managed instance.
type Instance struct {
	Name          string `json:"name"`
	Status        string `json:"status"`
	CurrentAction string `json:"current_action"`
	Standby       bool   `json:"standby,omitempty"`
	NodeID        string `json:"node_id,omitempty"`
	Template      string `json:"template"`
}

// Node is one Nomad node.
type Node struct {
	ID             string            `json:"id"`
	Name           string            `json:"name"`
	Zone           string            `json:"zone"`
	Status         string            `json:"status"`
	Eligibility    string            `json:"eligibility"`
	Draining       bool              `json:"draining"`
	DrainFailed    bool              `json:"drain_failed"`
	LastDrain      string            `json:"last_drain,omitempty"` // draining, complete, canceled
	RunningAllocs  int               `json:"running_allocs"`
	RunningWorkers int               `json:"running_workers"`
	Meta           map[string]string `json:"meta,omitempty"`
}

// State returns a snapshot of the cluster.
func (c *Cluster) State() State {
	st := State{
		Time: c.clock.Now().UTC(), TimeScale: c.clock.Scale(), Project: c.cfg.Project,
		ReadyWorkers: map[string]int{},
	}
	zones := map[string]bool{}
	nodeByInstance := map[string]string{}
	for _, n := range c.Nomad.Nodes() {
		node := Node{
			ID: n.ID, Name: n.Name, Zone: n.Attributes["platform.gce.zone"], Status: n.Status,
			Eligibility: n.SchedulingEligibility, Draining: n.Draining, DrainFailed: n.DrainFailed, Meta: n.Meta,
		}
		if n.LastDrain != nil {
			node.LastDrain = string(n.LastDrain.Status)
		}
		for _, a := range n.Allocations {
			if a.ClientStatus == api.AllocClientStatusRunning {
				node.RunningAllocs++
				if a.JobID == c.cfg.WorkerJobID {
					node.RunningWorkers++
				}
			}
		}
		if node.Status == api.NodeStatusReady && node.Eligibility == api.NodeSchedulingEligible && !node.Draining && node.RunningWorkers > 0 {
			st.ReadyWorkers[node.Zone]++
			st.ReadyWorkersTotal++
		}
		nodeByInstance[node.Zone+"/"+node.Name] = node.ID
		st.Nodes = append(st.Nodes, node)
	}
	for _, m := range c.GCE.MIGs() {
		zones[m.Zone] = true
		mig := MIG{Zone: m.Zone, Name: m.Name, TargetSize: m.TargetSize, Stable: m.Stable, Errors: len(m.Errors),
			TargetStoppedSize: m.TargetStoppedSize, StandbyMode: m.StandbyMode, VersionTargetReached: m.VersionTargetReached}
		for _, v := range m.Versions {
			desc := v.Name + "=" + v.Template
			switch {
			case v.Fixed >= 0:
				desc += ":" + strconv.Itoa(v.Fixed)
			case v.Percent >= 0:
				desc += ":" + strconv.Itoa(v.Percent) + "%"
			}
			mig.Versions = append(mig.Versions, desc)
		}
		if len(m.Errors) > 0 {
			mig.LastErrorCode = m.Errors[len(m.Errors)-1].Code
		}
		for _, in := range m.Instances {
			if in.Status == "RUNNING" {
				mig.Running++
			}
			if in.Standby {
				mig.Standby++
			}
			mig.Instances = append(mig.Instances, Instance{
				Name: in.Name, Status: in.Status, CurrentAction: in.CurrentAction, Standby: in.Standby,
				NodeID: nodeByInstance[m.Zone+"/"+in.Name], Template: in.Template,
			})
		}
		st.MIGs = append(st.MIGs, mig)
	}
	for z := range zones {
		st.Zones = append(st.Zones, Zone{
			Zone: z, Stockout: c.GCE.Stockout(z), QuotaExceeded: c.GCE.QuotaExceeded(z), Capacity: c.GCE.Capacity(z),
		})
	}
	sort.Slice(st.Zones, func(i, j int) bool { return st.Zones[i].Zone < st.Zones[j].Zone })
	st.WarmBootTime = c.warmBoot().String()
	st.InstanceHours = c.InstanceHours()
	for _, h := range st.InstanceHours {
		st.InstanceHoursTotal += h
	}
	return st
}

// adminHandler serves run-time injection and inspection:
//
//	GET  /admin/state
//	GET  /admin/requests?api=gce|nomad      request logs of the fakes
//	GET  /admin/events                      Nomad drain and node events
//	POST /admin/stockout?zone=Z&on=true|false
//	POST /admin/quota?zone=Z&on=true|false
//	POST /admin/capacity?zone=Z&n=3          (n=-1: unlimited)
//	POST /admin/http-errors?status=429&n=5[&api=gce|nomad]   (default gce)
//	POST /admin/fail-operation?zone=Z&code=C&message=M
//	POST /admin/drain-duration?d=2m[&node=NAME]
//	POST /admin/warm-boot?d=90s               how long a start from the standby pool takes
//	POST /admin/fail-drain?node=NAME&message=M   (empty message clears)
//	POST /admin/template?name=NAME              registers an instance template
//	POST /admin/bad-template?name=NAME&on=true|false   workers of its VMs fail
func (c *Cluster) adminHandler() http.Handler {
	m := http.NewServeMux()
	m.HandleFunc("GET /admin/state", func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, c.State()) })
	m.HandleFunc("GET /admin/requests", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("api") == "nomad" {
			writeJSON(w, c.Nomad.Requests())
			return
		}
		writeJSON(w, c.GCE.Requests())
	})
	m.HandleFunc("GET /admin/events", func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, c.Nomad.Events()) })
	m.HandleFunc("POST /admin/stockout", c.zoneToggle(c.GCE.SetStockout))
	m.HandleFunc("POST /admin/quota", c.zoneToggle(c.GCE.SetQuotaExceeded))
	m.HandleFunc("POST /admin/capacity", c.capacity)
	m.HandleFunc("POST /admin/http-errors", c.httpErrors)
	m.HandleFunc("POST /admin/fail-operation", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("zone") == "" || q.Get("code") == "" {
			badRequest(w, "zone and code are required")
			return
		}
		c.GCE.FailNextOperation(q.Get("zone"), q.Get("code"), q.Get("message"))
		writeJSON(w, map[string]string{"result": "ok"})
	})
	m.HandleFunc("POST /admin/drain-duration", c.drainDuration)
	m.HandleFunc("POST /admin/template", func(w http.ResponseWriter, r *http.Request) {
		name := r.URL.Query().Get("name")
		if name == "" {
			badRequest(w, "name is required")
			return
		}
		c.AddTemplate(name)
		writeJSON(w, map[string]string{"result": "ok", "template": name})
	})
	m.HandleFunc("POST /admin/bad-template", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		on, err := strconv.ParseBool(q.Get("on"))
		if q.Get("name") == "" || err != nil {
			badRequest(w, fmt.Sprintf("want name=<template>&on=true|false, got name=%q on=%q", q.Get("name"), q.Get("on")))
			return
		}
		c.SetTemplateBad(q.Get("name"), on)
		writeJSON(w, map[string]string{"result": "ok"})
	})
	m.HandleFunc("POST /admin/warm-boot", c.setWarmBoot)
	m.HandleFunc("POST /admin/fail-drain", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("node") == "" {
			badRequest(w, "node is required")
			return
		}
		c.Nomad.FailDrain(q.Get("node"), q.Get("message"))
		writeJSON(w, map[string]string{"result": "ok"})
	})
	c.spotRoutes(m) // spot.go
	return m
}

func (c *Cluster) zoneToggle(set func(zone string, on bool)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		on, err := strconv.ParseBool(q.Get("on"))
		if q.Get("zone") == "" || err != nil {
			badRequest(w, fmt.Sprintf("want zone=<zone>&on=true|false, got zone=%q on=%q", q.Get("zone"), q.Get("on")))
			return
		}
		set(q.Get("zone"), on)
		c.Tick()
		writeJSON(w, c.State())
	}
}

func (c *Cluster) capacity(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	n, err := strconv.Atoi(q.Get("n"))
	if q.Get("zone") == "" || err != nil {
		badRequest(w, fmt.Sprintf("want zone=<zone>&n=<instances, -1 for unlimited>, got zone=%q n=%q", q.Get("zone"), q.Get("n")))
		return
	}
	c.GCE.SetCapacity(q.Get("zone"), n)
	c.Tick()
	writeJSON(w, c.State())
}

func (c *Cluster) httpErrors(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	status, err1 := strconv.Atoi(q.Get("status"))
	n, err2 := strconv.Atoi(q.Get("n"))
	if err1 != nil || err2 != nil || status < 400 || status > 599 || n < 0 {
		badRequest(w, fmt.Sprintf("want status=<4xx|5xx>&n=<count>, got status=%q n=%q", q.Get("status"), q.Get("n")))
		return
	}
	switch q.Get("api") {
	case "", "gce":
		c.GCE.InjectHTTPErrors(status, n)
	case "nomad":
		c.Nomad.InjectHTTPErrors(status, n)
	default:
		badRequest(w, fmt.Sprintf("api %q: want gce or nomad", q.Get("api")))
		return
	}
	writeJSON(w, map[string]string{"result": "ok"})
}

func (c *Cluster) drainDuration(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	d, err := time.ParseDuration(q.Get("d"))
	if err != nil || d < 0 {
		badRequest(w, fmt.Sprintf("d %q: want a duration such as 2m", q.Get("d")))
		return
	}
	if node := q.Get("node"); node != "" {
		c.Nomad.SetNodeDrainDuration(node, d)
	} else {
		c.Nomad.SetDrainDuration(d)
	}
	writeJSON(w, map[string]string{"result": "ok"})
}

func (c *Cluster) setWarmBoot(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	d, err := time.ParseDuration(q.Get("d"))
	if err != nil || d < 0 {
		badRequest(w, fmt.Sprintf("d %q: want a duration such as 90s", q.Get("d")))
		return
	}
	c.mu.Lock()
	c.cfg.WarmBootTime = d
	c.mu.Unlock()
	c.GCE.SetStartTime(d)
	writeJSON(w, map[string]string{"result": "ok", "warm_boot_time": d.String()})
}

func (c *Cluster) warmBoot() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cfg.WarmBootTime
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func badRequest(w http.ResponseWriter, msg string) {
	http.Error(w, msg, http.StatusBadRequest)
}
