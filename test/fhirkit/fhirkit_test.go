// Package fhirkit_test runs fhir-kit-client, a FHIR client we did not
// write, against a real carnet server: interoperability checked by someone
// else's reading of the specification.
package fhirkit_test

import (
	"os"
	"os/exec"
	"testing"

	"github.com/carnet-sante/carnet/internal/clitest"
	"github.com/carnet-sante/carnet/internal/testenv"
)

func TestFHIRKitClient(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		testenv.Unavailable(t, "Node.js", err.Error())
	}
	if _, err := os.Stat("node_modules/fhir-kit-client"); err != nil {
		testenv.Unavailable(t, "fhir-kit-client", "run scripts/install-test-deps (npm ci in test/fhirkit)")
	}
	srv := clitest.Serve(t, nil, "--data", t.TempDir())
	out, err := exec.Command(node, "check.mjs", srv.URL+"/fhir").CombinedOutput()
	t.Logf("%s", out)
	if err != nil {
		t.Fatalf("fhir-kit-client checks failed: %v", err)
	}
}
