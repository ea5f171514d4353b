package simcloud

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/sim/fakegce"
)

// spotRoutes serves the Spot model of the fake GCE (fakegce/spot.go):
//
//	POST /admin/provisioning-model?zone=Z&mig=M&model=SPOT|STANDARD
//	POST /admin/preempt?zone=Z&mig=M[&instances=a,b|&n=N]  one MIG's Spot VMs (n=-1: all)
//	POST /admin/preempt-wave[?zone=Z]                       every running Spot VM of a zone (or all zones)
//	POST /admin/spot-stockout?zone=Z&on=true|false          no Spot capacity in a zone
//	GET  /admin/preemptions                                 every preemption so far
//
// A preempted VM is STOPPING for 30 s (its node stays up: the notice a
// maintenance-drain daemon acts on), then TERMINATED with its node down and
// the MIG RECREATING it once the zone has Spot capacity.
func (c *Cluster) spotRoutes(m *http.ServeMux) {
	m.HandleFunc("POST /admin/provisioning-model", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if err := c.GCE.SetMIGProvisioningModel(q.Get("zone"), q.Get("mig"), q.Get("model")); err != nil {
			badRequest(w, err.Error())
			return
		}
		writeJSON(w, map[string]string{"result": "ok"})
	})
	m.HandleFunc("POST /admin/preempt", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		var names []string
		if v := q.Get("instances"); v != "" {
			names = strings.Split(v, ",")
		}
		n := -1
		if v := q.Get("n"); v != "" {
			var err error
			if n, err = strconv.Atoi(v); err != nil {
				badRequest(w, fmt.Sprintf("n: not an integer: %q", v))
				return
			}
		}
		got, err := c.GCE.Preempt(q.Get("zone"), q.Get("mig"), names, n)
		if err != nil {
			badRequest(w, err.Error())
			return
		}
		c.Tick()
		writeJSON(w, map[string]any{"preempted": got})
	})
	m.HandleFunc("POST /admin/preempt-wave", func(w http.ResponseWriter, r *http.Request) {
		n := c.GCE.PreemptWave(r.URL.Query().Get("zone"))
		c.Tick()
		writeJSON(w, map[string]int{"preempted": n})
	})
	m.HandleFunc("POST /admin/spot-stockout", c.zoneToggle(c.GCE.SetSpotStockout))
	m.HandleFunc("GET /admin/preemptions", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, c.GCE.Preemptions())
	})
}

// Preemptions lists the Spot VMs preempted so far (fakegce.Preemption).
func (c *Cluster) Preemptions() []fakegce.Preemption { return c.GCE.Preemptions() }
