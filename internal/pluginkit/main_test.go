package pluginkit

import (
	"bytes"
	"testing"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/version"
	"github.com/hashicorp/nomad-autoscaler/plugins"
	"github.com/shoenig/test/must"
)

var info = Info{Name: "strategy-slope", Kind: "strategy", Summary: "Sizes a fleet."}

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestRunByHandPrintsHelpAndFails(t *testing.T) {
	var out, errOut bytes.Buffer
	served := false
	code := Main(info, nil, env(nil), &out, &errOut, func() { served = true })
	must.Eq(t, 1, code)
	must.False(t, served)
	must.StrContains(t, errOut.String(), "strategy-slope "+version.Version)
	must.StrContains(t, errOut.String(), "plugin_dir")
	must.StrContains(t, errOut.String(), `driver = "strategy-slope"`)
}

func TestVersionFlagPrintsVersion(t *testing.T) {
	var out, errOut bytes.Buffer
	code := Main(info, []string{"-version"}, env(nil), &out, &errOut, func() { t.Fatal("served") })
	must.Eq(t, 0, code)
	must.Eq(t, "strategy-slope "+version.Version+"\n", out.String())
}

func TestLaunchedByTheAgentServes(t *testing.T) {
	var out, errOut bytes.Buffer
	served := false
	cookie := map[string]string{plugins.Handshake.MagicCookieKey: plugins.Handshake.MagicCookieValue}
	code := Main(info, nil, env(cookie), &out, &errOut, func() { served = true })
	must.Eq(t, 0, code)
	must.True(t, served)
	must.Eq(t, "", errOut.String())
}
