package app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/carnet-sante/carnet/internal/config"
	"github.com/carnet-sante/carnet/internal/directory"
	"github.com/carnet-sante/carnet/internal/fhir/rest"
	"github.com/carnet-sante/carnet/internal/identity"
	"github.com/carnet-sante/carnet/internal/ins"
)

// openIdentity builds the identity rules: the directory keys as
// configured, the national value sets for profession codes, and the key
// of the duplicate blocking key, derived from the master key so that it
// stays the same for the life of the data.
func (a *App) openIdentity(master []byte) error {
	cat, err := loadTerminology(a.Config.TerminologyDir)
	if err != nil {
		return err
	}
	a.identityRules = identity.Rules(identity.Options{
		DuplicateKeySecret: deriveKey(master, "carnet identity: duplicate key"),
		Directory:          directoryValidator(a.Config),
		Terminology:        cat,
	})
	return nil
}

// directoryValidator is the identifier check --directory-keys asks for.
func directoryValidator(cfg *config.Config) directory.Validator {
	skip := !cfg.DirectoryKeys
	return directory.Validator{SkipRPPSKey: skip, SkipADELIKey: skip, SkipFINESSKey: skip}
}

// mergeRules joins sets of rules by resource type, each type's rules in
// the order of the sets.
func mergeRules(sets ...map[string][]rest.Rule) map[string][]rest.Rule {
	out := map[string][]rest.Rule{}
	for _, set := range sets {
		for typ, rules := range set {
			out[typ] = append(out[typ], rules...)
		}
	}
	return out
}

// apiClient returns a client of the FHIR API and its base URL: the
// server at --url, or, without it, an in-process API on the stores of a
// stopped instance (closed by the returned function). Either way every
// rule of the API applies.
func apiClient(ctx context.Context, cfg *config.Config, timeout time.Duration) (*http.Client, string, func(), error) {
	if cfg.ServerURL != "" {
		base := strings.TrimSuffix(cfg.ServerURL, "/")
		if !strings.HasSuffix(base, "/fhir") {
			base += "/fhir"
		}
		return &http.Client{Timeout: timeout}, base, func() {}, nil
	}
	a, err := Open(ctx, cfg, newLogger(cfg, io.Discard))
	if err != nil {
		return nil, "", nil, err
	}
	return &http.Client{Transport: inProcess{a.Handler()}}, "http://in-process/fhir", a.Close, nil
}

// Identity runs the identity subcommands: `carnet identity duplicates`.
func Identity(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "duplicates" {
		fmt.Fprintln(stdout, "usage: carnet identity duplicates [--url URL] [options]\n\n  duplicates  list the patients flagged as possible duplicates (DOUB), grouped, for identity review")
		if len(args) == 0 || args[0] == "-h" || args[0] == "--help" {
			return nil
		}
		return fmt.Errorf("unknown identity command %q (see 'carnet identity --help')", args[0])
	}
	cfg, err := parse("carnet identity duplicates", args[1:], stdout, append([]string{"url", "terminology", "directory-keys"}, storageOptions...)...)
	if err != nil {
		return err
	}
	client, base, done, err := apiClient(ctx, cfg, time.Minute)
	if err != nil {
		return err
	}
	defer done()
	return listDuplicates(ctx, client, base, stdout)
}

// listDuplicates prints the patients flagged DOUB, grouped by duplicate
// blocking key, each group with every patient sharing its key (including
// those already reviewed, as HOMA).
func listDuplicates(ctx context.Context, client *http.Client, base string, w io.Writer) error {
	flagged, err := searchAll(ctx, client, base, "Patient?_tag="+url.QueryEscape(identity.TagDuplicate.System+"|"+identity.TagDuplicate.Code)+"&_sort=_id")
	if err != nil {
		return err
	}
	var keys []string
	for _, p := range flagged {
		if k := p.tag(identity.SystemDuplicateKey); k != "" && !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	if len(flagged) == 0 {
		fmt.Fprintln(w, "no patient is flagged as a possible duplicate (DOUB)")
		return nil
	}
	fmt.Fprintf(w, "%d patients flagged as possible duplicates (DOUB), in %d groups sharing birth name, birth date, sex and birthplace.\n", len(flagged), len(keys))
	fmt.Fprintln(w, "Review each group: merge the records of one person, or mark homonyms HOMA.")
	for i, k := range keys {
		group, err := searchAll(ctx, client, base, "Patient?_tag="+url.QueryEscape(identity.SystemDuplicateKey+"|"+k)+"&_sort=_id")
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "\ngroup %d:\n", i+1)
		for _, p := range group {
			fmt.Fprintf(w, "  %s\n", p.describe())
		}
	}
	return nil
}

// patientSummary is what the duplicates list shows of a Patient.
type patientSummary struct {
	raw map[string]any
}

func (p patientSummary) tag(system string) string {
	meta, _ := p.raw["meta"].(map[string]any)
	tags, _ := meta["tag"].([]any)
	for _, t := range tags {
		if m, _ := t.(map[string]any); m["system"] == system {
			s, _ := m["code"].(string)
			return s
		}
	}
	return ""
}

// describe is one line: id, official name, birth date, identity status
// and attributes, and whether it carries an INS.
func (p patientSummary) describe() string {
	id, _ := p.raw["id"].(string)
	ident, err := ins.FromPatient(p.raw)
	if err != nil {
		return fmt.Sprintf("Patient/%s (identity unreadable: %v)", id, err)
	}
	t := ident.Traits
	status := string(ident.Status)
	if status == "" {
		status = "no status"
	}
	for _, a := range ident.Attributes {
		status += " " + string(a)
	}
	insText := "no INS"
	if len(ident.INS) > 0 {
		insText = "INS " + ident.INS[0].Kind.String()
	}
	return fmt.Sprintf("Patient/%-36s %s %s, born %s, %s, %s", id, t.BirthName, t.FirstGivenName, t.BirthDate, status, insText)
}

// searchAll runs a search and follows its next links.
func searchAll(ctx context.Context, client *http.Client, base, query string) ([]patientSummary, error) {
	var out []patientSummary
	next := base + "/" + query + "&_count=200"
	for next != "" {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, next, nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Accept", "application/fhir+json")
		resp, err := client.Do(req)
		if err != nil {
			return nil, err
		}
		var b struct {
			Link []struct {
				Relation, URL string
			}
			Entry []struct {
				Resource map[string]any
				Search   struct{ Mode string }
			}
			Issue []struct{ Diagnostics string }
		}
		err = json.NewDecoder(resp.Body).Decode(&b)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("search %s: HTTP %d %v %v", query, resp.StatusCode, b.Issue, err)
		}
		next = ""
		for _, l := range b.Link {
			if l.Relation == "next" {
				next = rebase(l.URL, base)
			}
		}
		for _, e := range b.Entry {
			if e.Search.Mode == "match" {
				out = append(out, patientSummary{e.Resource})
			}
		}
	}
	return out, nil
}

// rebase makes a link of the server's answer go where this client sends
// its requests: the server may name itself differently (a proxy, the
// in-process API).
func rebase(link, base string) string {
	if i := strings.Index(link, rest.BasePath+"/"); i >= 0 {
		return base + link[i+len(rest.BasePath):]
	}
	return link
}
