package pluginkit

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/hashicorp/nomad/api"
	"github.com/shoenig/test/must"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/sim/fakenomad"
)

func nomadClient(t *testing.T, fake *fakenomad.Server, token string) *api.Client {
	t.Helper()
	srv := httptest.NewServer(fake)
	t.Cleanup(func() { fake.Close(); srv.Close() })
	c, err := api.NewClient(&api.Config{Address: srv.URL, SecretID: token})
	must.NoError(t, err)
	return c
}

func TestReadVariableReadsItemsInTheNamespace(t *testing.T) {
	fake := fakenomad.New(fakenomad.Options{})
	client := nomadClient(t, fake, "")
	fake.SetVariable("ops", "autoscaler/pin", map[string]string{"count": "5"})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	items, err := ReadVariable(ctx, client, "/autoscaler/pin", &api.QueryOptions{Namespace: "ops"})
	must.NoError(t, err)
	must.Eq(t, map[string]string{"count": "5"}, items)

	items, err = ReadVariable(ctx, client, "autoscaler/pin", nil) // the default namespace has none
	must.NoError(t, err)
	must.Nil(t, items, must.Sprint("a missing variable is nil items, not an error"))
}

func TestAVariableTheTokenMayNotReadIsAnErrorNotAMissingVariable(t *testing.T) {
	fake := fakenomad.New(fakenomad.Options{})
	must.NoError(t, fake.AddACLToken("reader", `
namespace "default" {
  variables {
    path "other/*" {
      capabilities = ["read"]
    }
  }
}`))
	fake.SetVariable("default", "autoscaler/pin", map[string]string{"count": "5"})
	client := nomadClient(t, fake, "reader")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := ReadVariable(ctx, client, "autoscaler/pin", nil)
	must.ErrorContains(t, err, "read nomad variable autoscaler/pin")
	must.ErrorContains(t, err, "403")
}

func TestReadVariableHonoursItsDeadline(t *testing.T) {
	fake := fakenomad.New(fakenomad.Options{})
	client := nomadClient(t, fake, "")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := ReadVariable(ctx, client, "x", nil)
	must.ErrorIs(t, err, context.Canceled)
}

func TestListVariablesListsAPrefixInTheNamespaceSortedWithIndexes(t *testing.T) {
	fake := fakenomad.New(fakenomad.Options{})
	client := nomadClient(t, fake, "")
	fake.SetVariable("ops", "pins/gpu/b", map[string]string{"count": "5"})
	fake.SetVariable("ops", "pins/gpu/a", map[string]string{"count": "5"})
	fake.SetVariable("ops", "pins/gpu-canary", map[string]string{"count": "5"})
	fake.SetVariable("default", "pins/gpu/c", map[string]string{"count": "5"})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	got, err := ListVariables(ctx, client, "/pins/gpu/", &api.QueryOptions{Namespace: "ops"})
	must.NoError(t, err)
	must.SliceLen(t, 2, got)
	must.Eq(t, "pins/gpu/a", got[0].Path)
	must.Eq(t, "pins/gpu/b", got[1].Path)
	_, index, err := ReadVariableIndex(ctx, client, "pins/gpu/a", &api.QueryOptions{Namespace: "ops"})
	must.NoError(t, err)
	must.Eq(t, index, got[0].Index)
	must.Positive(t, index)

	cancelled, stop := context.WithCancel(context.Background())
	stop()
	_, err = ListVariables(cancelled, client, "pins/gpu/", nil)
	must.ErrorContains(t, err, "list nomad variables under pins/gpu/")
	must.ErrorIs(t, err, context.Canceled)
}
