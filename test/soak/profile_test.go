package soak

import (
	"os"
	"time"
)

// The fault kinds the soak injects. Each is real (the process or server is
// killed, restarted or cut off) or simulated (the simulated cloud is told to
// behave so); README.md says which.
const (
	faultRabbitNode      = "rabbitmq_node_killed" // a cluster node SIGKILLed, started again after the hold
	faultRabbitCut       = "rabbitmq_cut"         // short form: the APM plugin's AMQP and management proxies stopped
	faultPostgresRestart = "postgres_restarted"   // the soak's PostgreSQL: fast shutdown and start
	faultPostgresCut     = "postgres_cut"         // short form: the APM plugin's PostgreSQL proxy stopped
	faultGCE5xx          = "gce_5xx_storm"        // the fake compute API answers 503 to most requests
	faultGCE429          = "gce_429_storm"        // the same with 429
	faultStockout        = "zone_stockout"        // ZONE_RESOURCE_POOL_EXHAUSTED in one zone
	faultNomadOutage     = "nomad_api_outage"     // the agent's and plugins' Nomad proxy stopped
	faultAgentKill       = "agent_sigkill"        // the agent and its plugins SIGKILLed, the agent started again
	faultVMLoss          = "vm_loss"              // serving VMs die; their MIG recreates them
	faultMaintenance     = "host_maintenance"     // maintenance-drain daemons see TERMINATE_ON_HOST_MAINTENANCE
	faultSIGHUP          = "sighup"               // the agent reloads its configuration
)

// faultSpec is one scheduled fault: at a simulated offset from the start of
// the replay, held for a simulated duration. arg is the zone, the RabbitMQ
// node, the HTTP status or the number of VMs, by kind.
type faultSpec struct {
	kind string
	at   time.Duration
	hold time.Duration
	arg  string
}

// profile is one form of the soak.
type profile struct {
	name        string
	start       string        // first replayed minute, RFC 3339 (NASA trace, server's local time)
	duration    time.Duration // simulated
	daily       float64       // the first replayed day's requests, at full volume
	sample      float64       // one published request stands for this many
	compression float64       // simulated seconds per real second (the policy is written for 300)
	max         int           // the policy's max
	// baseline is when (simulated offset) the plugins' resources are first
	// read: after the agent's SIGKILL, whose restart starts new plugins.
	baseline time.Duration
	// cluster requires scripts/soak-services.sh's three-node RabbitMQ and
	// PostgreSQL (real node kills and restarts).
	cluster bool
	faults  []faultSpec
}

const hour = time.Hour

// shortProfile runs in `make test`: six simulated hours of a Wednesday
// morning at 15M requests/day (a few hundred nodes) in about 75 s, with
// faults that need no server of its own, so that it runs against
// scripts/services.sh's single RabbitMQ node and shared PostgreSQL.
var shortProfile = profile{
	name: "short", start: "1995-07-05T06:00:00-04:00", duration: 6 * hour,
	daily: 15_000_000, sample: 1000, compression: 300, max: 600, baseline: 3 * hour,
	faults: []faultSpec{
		{kind: faultAgentKill, at: 45 * time.Minute},
		{kind: faultGCE5xx, at: 75 * time.Minute, hold: 20 * time.Minute, arg: "503"},
		{kind: faultStockout, at: 90 * time.Minute, hold: time.Hour, arg: "us-central1-a"},
		{kind: faultRabbitCut, at: 2*hour + 15*time.Minute, hold: 20 * time.Minute},
		{kind: faultNomadOutage, at: 2*hour + 45*time.Minute, hold: 10 * time.Minute},
		{kind: faultVMLoss, at: 3 * hour, arg: "4"},
		{kind: faultPostgresCut, at: 3*hour + 20*time.Minute, hold: 15 * time.Minute},
		{kind: faultMaintenance, at: 3*hour + 45*time.Minute, arg: "1"},
		{kind: faultSIGHUP, at: 4*hour + 15*time.Minute},
		{kind: faultGCE429, at: 4*hour + 30*time.Minute, hold: 20 * time.Minute, arg: "429"},
	},
}

// fullProfile is `make soak`: three simulated days (Wednesday to Friday)
// at 60M requests/day, about 1,400 GPU nodes at the daily peaks, in 14.4
// real minutes, every fault kind, several overlapping.
var fullProfile = profile{
	name: "full", start: "1995-07-05T00:00:00-04:00", duration: 72 * hour,
	daily: 60_000_000, sample: 2000, compression: 300, max: 2000, baseline: 24 * hour, cluster: true,
	faults: []faultSpec{
		// Day 1: the agent dies before the morning ramp; RabbitMQ loses a
		// node in the morning while zone a stocks out; GCE storms and a
		// Nomad outage at the peak.
		{kind: faultAgentKill, at: 5 * hour},
		{kind: faultRabbitNode, at: 9*hour + 30*time.Minute, hold: 40 * time.Minute, arg: "2"},
		{kind: faultStockout, at: 10 * hour, hold: 2 * hour, arg: "us-central1-a"},
		{kind: faultGCE5xx, at: 11 * hour, hold: 30 * time.Minute, arg: "503"},
		{kind: faultNomadOutage, at: 13 * hour, hold: 15 * time.Minute},
		{kind: faultGCE429, at: 15 * hour, hold: 30 * time.Minute, arg: "429"},
		{kind: faultVMLoss, at: 16 * hour, arg: "10"},
		{kind: faultSIGHUP, at: 19 * hour},
		// Day 2: PostgreSQL restarts in the morning ramp, host maintenance
		// and VM loss at the peak, a second Nomad outage while zone b
		// stocks out.
		{kind: faultPostgresRestart, at: 24*hour + 8*time.Hour},
		{kind: faultMaintenance, at: 24*hour + 11*time.Hour, arg: "3"},
		{kind: faultVMLoss, at: 24*hour + 12*time.Hour, arg: "20"},
		{kind: faultStockout, at: 24*hour + 13*time.Hour, hold: 2 * hour, arg: "us-central1-b"},
		{kind: faultNomadOutage, at: 24*hour + 14*time.Hour, hold: 10 * time.Minute},
		{kind: faultSIGHUP, at: 24*hour + 18*time.Hour},
		// Day 3: the publisher's RabbitMQ node dies during a 5xx storm;
		// maintenance and VM loss overlap a 429 storm.
		{kind: faultRabbitNode, at: 48*hour + 10*time.Hour, hold: 30 * time.Minute, arg: "1"},
		{kind: faultGCE5xx, at: 48*hour + 10*time.Hour + 15*time.Minute, hold: 30 * time.Minute, arg: "503"},
		{kind: faultGCE429, at: 48*hour + 14*time.Hour, hold: 30 * time.Minute, arg: "429"},
		{kind: faultMaintenance, at: 48*hour + 14*time.Hour + 10*time.Minute, arg: "2"},
		{kind: faultVMLoss, at: 48*hour + 14*time.Hour + 20*time.Minute, arg: "10"},
		{kind: faultPostgresRestart, at: 48*hour + 17*time.Hour},
	},
}

// selectedProfile is the full soak when SOAK_FULL is set (make soak), the
// short form otherwise.
func selectedProfile() profile {
	if os.Getenv("SOAK_FULL") != "" {
		return fullProfile
	}
	return shortProfile
}
