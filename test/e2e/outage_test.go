package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/shoenig/test/must"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/harness/poll"
)

// (d) RabbitMQ unreachable for 30 s: no scaling action, the agent does not
// restart its policy handlers, and scaling resumes when it is back. The
// shared RabbitMQ keeps running (other packages test against it): the APM
// plugin reaches it through proxies that the test stops, so its AMQP
// connection is cut and new connections are refused, exactly what a
// stopped server looks like.
func TestRabbitMQOutageStopsScalingWithoutRestartingHandlers(t *testing.T) {
	t.Parallel()
	interval := evalInterval
	s := newStack(t, stackOptions{
		initialPerZone: 1, bootTime: time.Second, drainDuration: 500 * time.Millisecond, proxyRabbitMQ: true,
		policy: policyParams{Min: 2, Max: 20, Interval: interval, Cooldown: 2 * time.Second,
			DrainDeadline: 10 * time.Second, ScaleTimeout: 10 * time.Second},
	})
	s.agent.WaitForLog(t, `calculating scaling target`, 30*time.Second)

	s.amqpProxy.Stop()
	s.mgmtProxy.Stop()
	down := time.Now()
	// Work piles up while the autoscaler cannot see it.
	s.publishBacklog(80)
	outage := 30 * time.Second
	poll.Holds(t, outage-time.Since(down), func() bool { return s.count() == 2 }, func() string {
		return fmt.Sprintf("no scaling during the outage; the MIGs are at %v", s.targetSizes())
	})
	s.amqpProxy.Restart()
	s.mgmtProxy.Restart()
	up := time.Now()

	s.waitFor("scaling resumes once RabbitMQ is back", interval+managementLag+3*time.Second, func() bool { return s.count() > 2 })
	t.Logf("scaled up %s after RabbitMQ came back: %v", time.Since(up).Round(100*time.Millisecond), s.targetSizes())

	dels, shrinks := s.gceEvidence(1)
	must.SliceEmpty(t, dels)
	must.SliceEmpty(t, shrinks)
	for _, r := range s.cloud.GCE.Requests() {
		changes := strings.HasSuffix(r.Path, "/resize") || strings.HasSuffix(r.Path, "/deleteInstances")
		if changes && r.Received.After(down) && r.Received.Before(up) {
			t.Errorf("GCE change during the outage: %s %s?%s", r.Method, r.Path, r.Query.Encode())
		}
	}

	log := s.agent.Log()
	// The outage was felt: evaluations failed with the plugin's error...
	must.StrContains(t, log, "encountered an error monitoring policy IDs")
	// ...whose text does not make the agent restart every policy handler.
	for _, restart := range []string{"re-starting policy manager", "stopping policy handler due to context done"} {
		must.StrNotContains(t, log, restart)
	}
	for _, line := range strings.Split(log, "\n") {
		if strings.Contains(line, "encountered an error monitoring policy IDs") {
			for _, phrase := range []string{"connection refused", "EOF"} {
				must.StrNotContains(t, line, phrase, must.Sprint("the agent restarts its handlers on this phrase"))
			}
		}
	}
}
