package testenv

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/loadgen"
	amqp "github.com/rabbitmq/amqp091-go"
)

// FreshVhost creates an empty RabbitMQ virtual host named after the test on
// the shared server, deletes it when the test ends, and returns its name and
// the AMQP URL that connects to it. Tests that publish and consume use it so
// that they can run in parallel with every other package's tests without
// seeing their queues.
func FreshVhost(t testing.TB) (name, amqpURL string) {
	t.Helper()
	root, mgmt := RabbitMQ(t)
	v, err := loadgen.VhostsFromAMQP(root, mgmt)
	if err != nil {
		t.Fatalf("management API: %v", err)
	}
	name = unsafeName.ReplaceAllString(strings.ToLower(t.Name()), "-")
	if len(name) > 60 {
		name = name[:60]
	}
	name = fmt.Sprintf("t-%s-%d", name, time.Now().UnixNano()%1e9)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := v.Create(ctx, name); err != nil {
		t.Fatalf("create vhost %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = v.Delete(ctx, name)
	})
	u, err := loadgen.VhostURL(root, name)
	if err != nil {
		t.Fatalf("vhost URL: %v", err)
	}
	return name, u
}

// DialAMQP connects to url and closes the connection when the test ends.
func DialAMQP(t testing.TB, url string) *amqp.Connection {
	t.Helper()
	c, err := amqp.Dial(url)
	if err != nil {
		t.Fatalf("dial AMQP: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}
