package cda_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/carnet-sante/carnet/internal/cda"
)

// FuzzParse: no input makes Parse or RenderHTML panic or hang, a failure is
// always a *ParseError, and whatever is rendered passes the allow-list.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(ccdaDir, "*.xml"))
	files = append(files, frenchFixture)
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	fr := readFile(f, frenchFixture)
	f.Add([]byte(withBody(f, `<nonXMLBody><text mediaType="text/plain" representation="B64">SGVsbG8=</text></nonXMLBody>`)))
	f.Add([]byte(withBody(f, `<structuredBody><component><section><text><linkHtml href="#x">a</linkHtml><table><tr><td colspan="2">b</td></tr></table></text></section></component></structuredBody>`)))
	f.Add([]byte(`<!DOCTYPE x [<!ENTITY e "e">]><ClinicalDocument xmlns="urn:hl7-org:v3">&e;</ClinicalDocument>`))
	f.Add([]byte(fr[:len(fr)/3]))
	f.Add([]byte{})

	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := cda.Parse(bytes.NewReader(data), 1<<20)
		if err != nil {
			var pe *cda.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %T %v, want *cda.ParseError", err, err)
			}
			return
		}
		d.Check(agreeing)
		html, err := cda.RenderHTML(d)
		switch {
		case errors.Is(err, cda.ErrDownloadOnly):
		case err != nil:
			t.Fatalf("RenderHTML: %v", err)
		case d.Body.Kind == cda.BodyNonXML:
			inner, ok := strings.CutPrefix(string(html), `<pre class="cda-text">`)
			if !ok || !strings.HasSuffix(inner, "</pre>") || strings.ContainsAny(strings.TrimSuffix(inner, "</pre>"), "<>") {
				t.Fatalf("plain text rendered as %q", html)
			}
		default:
			assertSafeHTML(t, string(html))
		}
	})
}
