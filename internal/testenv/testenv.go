// Package testenv starts the real engines tests run against (a throwaway
// PostgreSQL cluster, an S3 server) and decides what happens when one is
// missing: a skip with the reason on a developer's machine, a failure
// under CI=true, where nothing a test claims to check may be skipped.
package testenv

import (
	"os"
	"testing"
)

// InCI reports whether the tests run in continuous integration.
func InCI() bool { return os.Getenv("CI") == "true" }

// Unavailable stops the test because an engine it needs cannot be had:
// skip on a laptop, fail in CI.
func Unavailable(t testing.TB, engine, reason string) {
	t.Helper()
	if InCI() {
		t.Fatalf("%s is required under CI=true but unavailable: %s", engine, reason)
	}
	t.Skipf("%s unavailable, skipping: %s", engine, reason)
}
