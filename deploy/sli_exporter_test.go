package deploy_test

import (
	"strings"
	"testing"

	"github.com/shoenig/test/must"

	"github.com/fleetslope/nomad-gpu-autoscaler/internal/tools/sli"
)

const sliJobFile = "sli-exporter.nomad.hcl"

// TestTheSLIExporterJobServesTheShippedSLA holds deploy/sli-exporter.nomad.hcl
// to cmd/sli and to the rest of deploy/: its flags are ones watch mode
// accepts, it listens on the port its service registers, the service is
// one the README's scrape configuration keeps, its business hours are the
// shipped policy's, and the DSN reaches it through the environment from
// the job's Nomad Variable, never on the command line.
func TestTheSLIExporterJobServesTheShippedSLA(t *testing.T) {
	f := workerParse(t, sliJobFile)
	defaults := map[string]string{}
	for _, v := range workerBlocks(f.body, "variable") {
		defaults[v.Labels[0]] = workerRaw(f, v.Body, "default")
	}
	job := workerBlock(t, f.body, "job")
	must.Eq(t, []string{"sli-exporter"}, job.Labels)
	must.Eq(t, "service", workerString(t, job.Body, "type"))
	group := workerBlock(t, job.Body, "group")
	must.Eq(t, "1", workerRaw(f, group.Body, "count"), must.Sprint("one reader"))

	service := workerBlock(t, group.Body, "service")
	port := workerString(t, service.Body, "port")
	must.Eq(t, []string{port}, workerBlock(t, workerBlock(t, group.Body, "network").Body, "port").Labels)
	tags := workerRaw(f, service.Body, "tags")
	for _, tag := range []string{`"metrics"`, `"path=/metrics"`} {
		must.StrContains(t, tags, tag, must.Sprint("the scrape configuration of deploy/README.md keeps services tagged metrics and reads path="))
	}
	must.Eq(t, "/metrics", workerString(t, workerBlock(t, service.Body, "check").Body, "path"))

	task := workerBlock(t, group.Body, "task")
	args := taskArgs(t, f, task)
	must.Eq(t, "${NOMAD_ADDR_"+port+"}", args["-listen"], must.Sprint("it listens where its service is registered"))
	must.MapNotContainsKey(t, args, "-postgres", must.Sprint("a DSN on the command line is readable by any user of the node"))
	argv := []string{}
	for flag, value := range args {
		for name, def := range defaults {
			value = strings.ReplaceAll(value, "${var."+name+"}", def)
		}
		value = strings.ReplaceAll(value, "${NOMAD_ADDR_"+port+"}", "10.0.0.7:24301")
		argv = append(argv, flag, value)
	}
	must.NoError(t, sli.CheckArgs(argv, "postgres://sli_reader@db.internal:5432/ekyc"))

	// The SLA's business hours are the ones the shipped policy's floor
	// keeps workers for.
	floor := shippedRateStrategy(t)
	must.Eq(t, workerString(t, floor, "timezone"), defaults["time_zone"])
	must.Eq(t, workerString(t, floor, "floor_hours"), defaults["business_hours"])
	must.Eq(t, "${var.time_zone}", args["-tz"])
	must.Eq(t, "${var.business_hours}", args["-business-hours"])

	tmpl := workerBlock(t, task.Body, "template")
	must.Eq(t, "true", workerString(t, tmpl.Body, "env"))
	data := workerRaw(f, tmpl.Body, "data")
	must.StrContains(t, data, `nomadVar "nomad/jobs/sli-exporter"`)
	must.StrContains(t, data, "DATABASE_URL={{ .database_url }}")
	must.StrHasPrefix(t, "${NOMAD_SECRETS_DIR}/", workerRaw(f, tmpl.Body, "destination"), must.Sprint("secrets stay out of the task dir"))
}
