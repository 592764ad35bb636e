package searchparam

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/carnet-sante/carnet/internal/testenv"
)

// fixturesDir holds the shared test fixtures, outside the module.
const fixturesDir = "../../../../shared/fixtures"

// fixture is one resource of the shared fixtures.
type fixture struct {
	name string // file and index, for messages
	typ  string
	res  map[string]any
}

var (
	fixturesOnce sync.Once
	synthea      []fixture
	pdsm         []fixture
	fixturesErr  error
)

// loadFixtures returns the resources of the Synthea transaction bundles
// (entry[].resource, with their urn:uuid: references rewritten to Type/id
// as a transaction does before storing) and of the PDSm examples (each
// resource, and the entries of the bundles). Without the fixtures the test
// is skipped, or fails under CI.
func loadFixtures(tb testing.TB) (synth, pds []fixture) {
	tb.Helper()
	fixturesOnce.Do(func() {
		synthea, fixturesErr = loadDir(filepath.Join(fixturesDir, "synthea"), true)
		if fixturesErr == nil {
			pdsm, fixturesErr = loadDir(filepath.Join(fixturesDir, "pdsm"), false)
		}
	})
	if os.IsNotExist(fixturesErr) {
		testenv.Unavailable(tb, "the shared fixtures", fixturesErr.Error())
	}
	if fixturesErr != nil {
		tb.Fatal(fixturesErr)
	}
	return synthea, pdsm
}

func loadDir(dir string, transaction bool) ([]fixture, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, &os.PathError{Op: "glob", Path: dir, Err: os.ErrNotExist}
	}
	var out []fixture
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		res, err := decode(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))) // some files start with a BOM
		if err != nil {
			return nil, err
		}
		rt, _ := res["resourceType"].(string)
		if rt == "" {
			continue // the PDSm OpenAPI description
		}
		name := filepath.Base(f)
		if rt != "Bundle" || !transaction {
			out = append(out, fixture{name, rt, res})
		}
		if rt != "Bundle" {
			continue
		}
		entries, _ := res["entry"].([]any)
		local := map[string]string{}
		var rs []map[string]any
		for _, e := range entries {
			e, _ := e.(map[string]any)
			r, _ := e["resource"].(map[string]any)
			if r == nil {
				continue
			}
			rs = append(rs, r)
			if full, _ := e["fullUrl"].(string); strings.HasPrefix(full, "urn:uuid:") {
				id := strings.TrimPrefix(full, "urn:uuid:")
				r["id"] = id
				local[full] = r["resourceType"].(string) + "/" + id
			}
		}
		for i, r := range rs {
			if transaction {
				rewriteRefs(r, local)
			}
			out = append(out, fixture{name + "#" + strconv.Itoa(i), r["resourceType"].(string), r})
		}
	}
	return out, nil
}

// rewriteRefs replaces, in every Reference.reference of n, the urn:uuid:
// of a bundle entry by its Type/id.
func rewriteRefs(n any, local map[string]string) {
	switch n := n.(type) {
	case map[string]any:
		for k, v := range n {
			if s, ok := v.(string); ok && k == "reference" && local[s] != "" {
				n[k] = local[s]
				continue
			}
			rewriteRefs(v, local)
		}
	case []any:
		for _, v := range n {
			rewriteRefs(v, local)
		}
	}
}

func decode(data []byte) (map[string]any, error) {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	var res map[string]any
	err := d.Decode(&res)
	return res, err
}
