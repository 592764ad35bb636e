package main_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/carnet-sante/carnet/internal/clitest"
	"github.com/carnet-sante/carnet/internal/directory/extract"
	"github.com/carnet-sante/carnet/internal/ins"
)

// TestImportDirectory runs `carnet import directory` offline, again (the
// rerun creates nothing), then through a running server: rejected rows
// are listed with their line, the summary gives rows/s and peak memory,
// and the exit status says that rows were rejected.
func TestImportDirectory(t *testing.T) {
	file := filepath.Join(t.TempDir(), "PS_LibreAcces_Personne_activite_202501010000.txt")
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	gen, err := extract.Generate(f, 3000, 9, extract.GenerateOptions{InvalidFraction: 0.03, Latin1: true})
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	resources := gen.Practitioners + gen.Roles + gen.Organizations
	rejected := regexp.MustCompile(`(?m)^line \d+: \S`)
	check := func(t *testing.T, res clitest.Result, created, unchanged int) {
		t.Helper()
		if res.Code == 0 || strings.Count(res.Stderr, "\n") != 1 || !strings.Contains(res.Stderr, strconv.Itoa(gen.Invalid)+" rows rejected") {
			t.Errorf("exit %d, stderr %q: want non-zero and one line counting %d rejected rows", res.Code, res.Stderr, gen.Invalid)
		}
		if n := len(rejected.FindAllString(res.Stdout, -1)); n != gen.Invalid {
			t.Errorf("%d rejected rows listed, want %d", n, gen.Invalid)
		}
		for _, want := range []string{
			`: 3000 rows in [^:]+: \d+ rows/s, peak memory \d+ MiB`,
			strconv.Itoa(gen.Valid) + ` rows imported: ` + strconv.Itoa(created) + ` resources created, 0 updated, ` + strconv.Itoa(unchanged) + ` unchanged`,
		} {
			if !regexp.MustCompile(want).MatchString(res.Stdout) {
				t.Errorf("output lacks %q:\n%s", want, tail(res.Stdout))
			}
		}
	}
	data := t.TempDir()
	t.Run("offline", func(t *testing.T) {
		check(t, clitest.Run(t, nil, "import", "directory", "--data", data, file), resources, 0)
	})
	t.Run("rerun", func(t *testing.T) {
		check(t, clitest.Run(t, nil, "import", "directory", "--data", data, file), 0, resources)
	})
	t.Run("online", func(t *testing.T) {
		srv := clitest.Serve(t, nil, "--data", t.TempDir())
		check(t, clitest.Run(t, nil, "import", "directory", "--url", srv.URL, file), resources, 0)
		_, body := srv.Get(t, "/fhir/PractitionerRole?_summary=count")
		if !strings.Contains(body, `"total":`+strconv.Itoa(gen.Roles)) {
			t.Errorf("PractitionerRole count: %s, want %d", body, gen.Roles)
		}
	})
}

// tail is the end of a long output, for messages.
func tail(s string) string {
	if len(s) > 2000 {
		return "…" + s[len(s)-2000:]
	}
	return s
}

// TestIdentityDuplicates: two patients with the same traits are listed
// together by `carnet identity duplicates`, through the API and offline.
func TestIdentityDuplicates(t *testing.T) {
	data := t.TempDir()
	srv := clitest.Serve(t, nil, "--data", data)
	res := clitest.Run(t, nil, "identity", "duplicates", "--url", srv.URL)
	if res.Code != 0 || !strings.Contains(res.Stdout, "no patient is flagged") {
		t.Errorf("empty: %d %q %q", res.Code, res.Stdout, res.Stderr)
	}
	patient := func(id, given string) {
		body, _ := json.Marshal(map[string]any{"resourceType": "Patient", "id": id, "gender": "male", "birthDate": "1961-11-05",
			"name": []any{map[string]any{"use": "official", "family": "Bérenger", "given": []any{given}}},
			"extension": []any{map[string]any{"url": ins.ExtBirthPlace, "valueAddress": map[string]any{"extension": []any{
				map[string]any{"url": ins.ExtAddressINSEECode, "valueCoding": map[string]any{"system": ins.CodeSystemCommune, "code": "63113"}}}}}}})
		req, _ := http.NewRequest(http.MethodPut, srv.URL+"/fhir/Patient/"+id, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/fhir+json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("PUT Patient/%s: %d", id, resp.StatusCode)
		}
	}
	patient("dup-1", "Rémi")
	patient("dup-2", "Remy")
	want := regexp.MustCompile(`(?s)2 patients flagged as possible duplicates \(DOUB\), in 1 groups.*group 1:\n  Patient/dup-1 +Bérenger Rémi, born 1961-11-05, no status DOUB, no INS\n  Patient/dup-2 `)
	online := clitest.Run(t, nil, "identity", "duplicates", "--url", srv.URL)
	if online.Code != 0 || !want.MatchString(online.Stdout) {
		t.Errorf("online: %d\n%s%s", online.Code, online.Stdout, online.Stderr)
	}
	srv.Stop(t)
	offline := clitest.Run(t, nil, "identity", "duplicates", "--data", data)
	if offline.Code != 0 || offline.Stdout != online.Stdout {
		t.Errorf("offline: %d\n%s%s\nwant the online output", offline.Code, offline.Stdout, offline.Stderr)
	}
}

// TestServeDemo: `serve --demo` says first where to go and as whom, the
// people it names are there, and a second start seeds nothing new.
func TestServeDemo(t *testing.T) {
	data := t.TempDir()
	var versions string
	for start := range 2 {
		banner, url := serveDemo(t, data, func(url string) {
			resp, err := http.Get(url + "/fhir/Patient/_history?_count=1000")
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var b struct{ Entry []any }
			json.NewDecoder(resp.Body).Decode(&b)
			if start == 0 {
				versions = strconv.Itoa(len(b.Entry))
			} else if got := strconv.Itoa(len(b.Entry)); got != versions {
				t.Errorf("second start: %s Patient versions, want %s (seeding again writes nothing)", got, versions)
			}
		})
		for _, want := range []string{
			`^carnet \S+ listening on ` + regexp.QuoteMeta(url) + `\n`,
			`\ndemo: \d+ patients \(\d+ legal representatives of minors\), \d+ professionals in \d+ structures`,
			`\ndemo: patient portal ` + regexp.QuoteMeta(url) + `/ \(no login yet\) — as patient .+, INS-NIR-DEMO \d{15}, .*représentant.* \(Patient/demo-patient-\d+\)\n`,
			`\ndemo: professional portal ` + regexp.QuoteMeta(url) + `/pro/ \(no login yet\) — as Dr .+, médecin, RPPS \d{11} \(Practitioner/8\d{11}\)\n`,
		} {
			if !regexp.MustCompile(want).MatchString(banner) {
				t.Errorf("start %d: banner lacks %q:\n%s", start, want, banner)
			}
		}
	}
}

// serveDemo starts `carnet serve --demo` on data, reads what it prints
// until the data line, runs check with its URL, and stops it.
func serveDemo(t *testing.T, data string, check func(url string)) (banner, base string) {
	t.Helper()
	cmd := exec.Command(clitest.Binary(t), "serve", "--demo", "--addr", "127.0.0.1:0", "--data", data)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	}()
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var b strings.Builder
	timeout := time.After(90 * time.Second)
	for !strings.Contains(b.String(), "\ndata: ") {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("serve --demo exited:\n%s", b.String())
			}
			b.WriteString(l + "\n")
		case <-timeout:
			t.Fatalf("serve --demo did not print its banner:\n%s", b.String())
		}
	}
	m := regexp.MustCompile(`listening on (http://\S+)`).FindStringSubmatch(b.String())
	if m == nil {
		t.Fatalf("no address in:\n%s", b.String())
	}
	check(m[1])
	go func() {
		for range lines {
		}
	}()
	return b.String(), m[1]
}
