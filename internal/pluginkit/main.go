package pluginkit

// The shared entry point of the three plugin binaries. go-plugin answers a
// binary started by hand with a terse message meant for developers.
// Operators who run one of our binaries by hand usually want to know what it
// is and where it goes, so Main prints that instead.

import (
	"fmt"
	"io"
	"os"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/version"
	"github.com/hashicorp/nomad-autoscaler/plugins"
)

// Info describes a plugin binary for its help text.
type Info struct {
	// Name is the binary name, the agent's driver and PluginInfo().Name.
	Name string
	// Kind is the plugin type as the agent config spells it: apm, strategy or target.
	Kind string
	// Summary is one sentence saying what the plugin does.
	Summary string
}

// Main serves the plugin when the agent launched it, and otherwise handles
// -version or prints the help paragraph. It returns the process exit code.
func Main(info Info, args []string, getenv func(string) string, stdout, stderr io.Writer, serve func()) int {
	for _, a := range args {
		if a == "-version" || a == "--version" || a == "version" {
			fmt.Fprintf(stdout, "%s %s\n", info.Name, version.Version)
			return 0
		}
	}
	if getenv(plugins.Handshake.MagicCookieKey) != plugins.Handshake.MagicCookieValue {
		fmt.Fprint(stderr, Help(info))
		return 1
	}
	serve()
	return 0
}

// Help is the paragraph printed when the binary is run by hand.
func Help(info Info) string {
	return fmt.Sprintf(`%[1]s %[2]s: a Nomad Autoscaler %[3]s plugin. %[4]s

This binary is not meant to be run by hand: the nomad-autoscaler agent (v0.5.0)
launches it. Copy it into the agent's plugin_dir, keeping the file name, and
declare it in the agent configuration:

    plugin_dir = "/opt/nomad-autoscaler/plugins"
    %[3]s "<label>" {
      driver = "%[1]s"
      config = { ... }
    }

See https://github.com/fleetslope/nomad-gpu-autoscaler/tree/main/plugins/%[1]s
for every configuration key. Run with -version to print the version.
`, info.Name, version.Version, info.Kind, info.Summary)
}

// Run is what a plugin's main calls: it serves the factory through the
// official plugins.Serve when launched by the agent.
func Run(info Info, factory plugins.PluginFactory) {
	os.Exit(Main(info, os.Args[1:], os.Getenv, os.Stdout, os.Stderr, func() { plugins.Serve(factory) }))
}
