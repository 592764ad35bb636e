package main_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/carnet-sante/carnet/internal/clitest"
)

const synthea = "../../../shared/fixtures/synthea"

// TestImport runs `carnet import` as a user would: offline on a data
// directory, then through a running server; a bad file is reported with
// its name and entry and does not stop the others.
func TestImport(t *testing.T) {
	bundles, _ := filepath.Glob(filepath.Join(synthea, "*.json"))
	if len(bundles) < 3 {
		t.Fatalf("want Synthea bundles in %s", synthea)
	}
	bad := t.TempDir()
	writeFile(t, bad, "a-broken.json", `{"resourceType": "Bundle", "type": "transaction", "entry": [`)
	writeFile(t, bad, "b-resources.ndjson", strings.Join([]string{
		`{"resourceType": "Patient", "id": "nd-1", "birthDate": "1980-01-01"}`,
		`{"resourceType": "Patient", "id": "nd-2", "birthDate": "1980-13-01"}`,
		`not json`,
		`{"resourceType": "Patient", "id": "nd-3", "gender": "female"}`,
	}, "\n"))
	writeFile(t, bad, "c-document.json", `{"resourceType": "Patient", "gender": "male"}`)

	data := t.TempDir()
	offline := clitest.Run(t, nil, "import", "--data", data, bundles[0], bundles[1], bad)
	if offline.Code == 0 {
		t.Fatalf("import with bad files exited 0:\n%s", offline.Stdout)
	}
	for _, want := range []string{
		`imported \d+ resources from 5 files in .*: \d+ resources/s`,
		`a-broken\.json: not JSON`,
		`b-resources\.ndjson:2: .*birthDate`,
		`b-resources\.ndjson:3: not JSON`,
		`c-document\.json: a Patient of type "": want a transaction or batch Bundle`,
	} {
		if !regexp.MustCompile(want).MatchString(offline.Stdout) {
			t.Errorf("import output lacks %q:\n%s", want, offline.Stdout)
		}
	}
	if strings.Count(offline.Stderr, "\n") != 1 {
		t.Errorf("stderr should be one line, got %q", offline.Stderr)
	}

	// The same data dir served, then imported into through the API.
	srv := clitest.Serve(t, nil, "--data", data)
	online := clitest.Run(t, nil, "import", "--url", srv.URL, bundles[2])
	if online.Code != 0 || !strings.Contains(online.Stdout, "from 1 files") {
		t.Fatalf("import --url = %d\n%s%s", online.Code, online.Stdout, online.Stderr)
	}
	// Resources of both imports are there: the two NDJSON patients that
	// were valid, and every patient of the three bundles.
	for _, path := range []string{"/fhir/Patient/nd-1", "/fhir/Patient/nd-3"} {
		if code, body := srv.Get(t, path); code != 200 {
			t.Errorf("GET %s = %d %s", path, code, body)
		}
	}
	_, body := srv.Get(t, "/fhir/Patient?_summary=count")
	if !strings.Contains(body, `"total":5`) {
		t.Errorf("want 5 patients (3 bundles + 2 NDJSON lines), got %s", body)
	}
}

func writeFile(t *testing.T, dir, name, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
