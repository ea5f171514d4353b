package testenv

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// FreshVhost creates an empty RabbitMQ virtual host named after the test on
// the shared server, grants the AMQP URL's user every permission on it,
// deletes it when the test ends, and returns its name and the AMQP URL that
// connects to it. Tests that publish and consume use it so that they can run
// in parallel with every other package's tests without seeing their queues.
//
// It speaks to the management API itself rather than through a package of
// this module, so that any package's tests may use it without an import
// cycle.
func FreshVhost(t testing.TB) (name, amqpURL string) {
	t.Helper()
	root, mgmt := RabbitMQ(t)
	u, err := url.Parse(root)
	if err != nil {
		t.Fatalf("AMQP_URL: %v", err)
	}
	user, pass := "guest", "guest"
	if u.User != nil {
		user = u.User.Username()
		pass, _ = u.User.Password()
	}
	name = unsafeName.ReplaceAllString(strings.ToLower(t.Name()), "-")
	if len(name) > 60 {
		name = name[:60]
	}
	name = fmt.Sprintf("t-%s-%d", name, time.Now().UnixNano()%1e9)

	call := func(method, path, body string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(mgmt, "/")+path, strings.NewReader(body))
		if err != nil {
			return err
		}
		req.SetBasicAuth(user, pass)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			return fmt.Errorf("%s %s: HTTP %d", method, path, resp.StatusCode)
		}
		return nil
	}
	vhostPath := "/api/vhosts/" + url.PathEscape(name)
	if err := call(http.MethodPut, vhostPath, "{}"); err != nil {
		t.Fatalf("create vhost %s: %v", name, err)
	}
	t.Cleanup(func() { _ = call(http.MethodDelete, vhostPath, "") })
	perms := "/api/permissions/" + url.PathEscape(name) + "/" + url.PathEscape(user)
	if err := call(http.MethodPut, perms, `{"configure":".*","write":".*","read":".*"}`); err != nil {
		t.Fatalf("grant %s on vhost %s: %v", user, name, err)
	}
	u.Path = "/" + name
	u.RawPath = "/" + url.PathEscape(name)
	return name, u.String()
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
