package cda_test

import (
	"encoding/xml"
	"errors"
	"io"
	"regexp"
	"strings"
	"testing"

	"github.com/carnet-sante/carnet/internal/cda"
)

// Everything RenderHTML may write: any other element, attribute or class
// in the output is a bug.
var (
	safeElements = map[string]bool{
		"div": true, "section": true, "h2": true, "h3": true, "h4": true, "h5": true, "h6": true,
		"p": true, "span": true, "ul": true, "ol": true, "li": true, "table": true, "caption": true,
		"thead": true, "tbody": true, "tfoot": true, "tr": true, "th": true, "td": true, "br": true,
		"sub": true, "sup": true, "small": true, "a": true, "pre": true,
	}
	safeClasses = map[string]bool{
		"cda-document": true, "cda-section": true, "cda-title": true, "cda-narrative": true,
		"cda-bold": true, "cda-italics": true, "cda-underline": true, "cda-emphasis": true,
		"cda-caption": true, "cda-footnote": true, "cda-footnote-ref": true, "cda-multimedia": true,
		"cda-list": true, "cda-table": true, "cda-text": true,
	}
)

// assertSafeHTML parses the output (well-formed by construction, since
// RenderHTML writes <br/>) and checks every element and attribute against
// the allow-lists: no script, no event handler, no style, no URL but an
// internal #cda- anchor.
func assertSafeHTML(t testing.TB, html string) {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader("<root>" + html + "</root>"))
	d.Strict = true
	depth := 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("output is not well formed: %v\n%s", err, html)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			depth++
			if depth == 1 {
				continue
			}
			if !safeElements[tok.Name.Local] || tok.Name.Space != "" {
				t.Errorf("output has element <%s>", tok.Name.Local)
			}
			for _, a := range tok.Attr {
				v := a.Value
				ok := false
				switch a.Name.Local {
				case "class":
					ok = true
					for _, c := range strings.Fields(v) {
						ok = ok && safeClasses[c]
					}
				case "id":
					ok = strings.HasPrefix(v, "cda-")
				case "href":
					ok = strings.HasPrefix(v, "#cda-") && tok.Name.Local == "a"
				case "colspan", "rowspan":
					ok = v != "" && strings.Trim(v, "0123456789") == ""
				}
				if !ok || a.Name.Space != "" {
					t.Errorf("output has attribute %s=%q on <%s>", a.Name.Local, v, tok.Name.Local)
				}
			}
		case xml.EndElement:
			depth--
		case xml.Directive, xml.ProcInst:
			t.Errorf("output has markup %T", tok)
		}
	}
}

// tagRE matches a tag of the output (attribute values hold no ">": the
// renderer escapes text and writes only safe attribute values).
var tagRE = regexp.MustCompile(`<[^>]*>`)

func render(t testing.TB, doc string) string {
	t.Helper()
	html, err := cda.RenderHTML(parse(t, doc))
	if err != nil {
		t.Fatalf("RenderHTML: %v", err)
	}
	assertSafeHTML(t, string(html))
	return string(html)
}

func TestRenderFrench(t *testing.T) {
	out := render(t, readFile(t, frenchFixture))
	for _, want := range []string{
		`<div class="cda-document"><section class="cda-section"><h2 class="cda-title">Motif de consultation</h2>`,
		`<p>Toux <span class="cda-bold">persistante</span> depuis 3 semaines, voir <a href="#cda-note1">la note</a>.</p>`,
		`<table class="cda-table"><caption>Constantes</caption>`,
		`<thead><tr><th>Mesure</th><th>Valeur</th></tr></thead>`,
		`<td colspan="2">Température 37,2 °C</td>`,
		`<ol class="cda-list">`,
		`<li><span class="cda-italics cda-underline">Pas de fièvre</span></li>`,
		`<p id="cda-note1">CO<sub>2</sub> normal<br/>m<sup>2</sup>.</p>`,
		`<span class="cda-multimedia">[contenu multimédia non affiché]</span>`,
		`<section class="cda-section"><h3 class="cda-title">Conclusion</h3><div class="cda-narrative">Bronchite aiguë.</div></section>`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %s\n%s", want, out)
		}
	}
	if strings.Contains(out, "J20.9") {
		t.Error("coded entries must not be rendered")
	}
}

func TestRenderHostile(t *testing.T) {
	const hostile = `<structuredBody><component><section>
	<title>&lt;script&gt;alert(1)&lt;/script&gt;</title>
	<text>
		<paragraph onclick="alert(1)" style="color:red" ID="x&quot; onmouseover=&quot;alert(1)">Click</paragraph>
		<script>alert('narrative')</script>
		<x:script xmlns:x="http://www.w3.org/1999/xhtml">alert('xhtml')</x:script>
		<x:img xmlns:x="http://www.w3.org/1999/xhtml" src="http://evil.example/i.png" onerror="alert(1)"/>
		<img src="https://evil.example/track.gif"/>
		<iframe src="javascript:alert(1)">frame</iframe>
		<linkHtml href="javascript:alert(1)">js link</linkHtml>
		<linkHtml href="JaVaScRiPt&#x3A;alert(1)">encoded js link</linkHtml>
		<linkHtml href="http://evil.example/">external link</linkHtml>
		<linkHtml href="//evil.example/">scheme-relative link</linkHtml>
		<linkHtml href="#a&quot;&gt;&lt;script&gt;">bad anchor</linkHtml>
		<linkHtml href="#ok"><linkHtml href="#nested">nested</linkHtml></linkHtml>
		<content styleCode="Bold xss&quot; onclick=&quot;alert(1)" style="background:url(javascript:alert(1))">styled</content>
		<content>&lt;img src=x onerror=alert(1)&gt; &amp;lt;b&amp;gt; <![CDATA[<script>alert("cdata")</script>]]></content>
		<table onload="alert(1)"><tbody><tr><td colspan="2&quot; onclick=&quot;x" rowspan="-1">cell</td><td colspan="999999">wide</td></tr>
			<tr><script>alert('in row')</script></tr>stray text</tbody><paragraph>in table</paragraph></table>
		<paragraph><table><tr><td>table in paragraph</td></tr></table><list><item>list in paragraph</item></list></paragraph>
		<list listType="ordered" onclick="x"><item>one</item>loose text<paragraph>para in list</paragraph></list>
		<td>cell out of a table</td>
		<renderMultiMedia referencedObject="img1"><caption>X-ray <linkHtml href="file:///etc/passwd">file</linkHtml></caption></renderMultiMedia>
		<footnoteRef IDREF="n1&quot;"/><footnoteRef IDREF="n1"/><footnote ID="n1">note</footnote>
		<object data="http://evil.example/x.swf"/><embed src="http://evil.example/"/><style>body{display:none}</style>
		<a href="http://evil.example/">html anchor</a><svg onload="alert(1)"/>
	</text></section></component></structuredBody>`
	out := render(t, withBody(t, hostile))
	// Text is escaped, so every "<" of the output opens a tag the renderer
	// wrote: look for the hostile markup in the tags only, hostile words
	// shown as text being harmless.
	lower := strings.ToLower(strings.Join(tagRE.FindAllString(out, -1), " "))
	if strings.Count(out, "<") != strings.Count(lower, "<") {
		t.Fatalf("tag extraction missed some tags")
	}
	for _, bad := range []string{
		"<script", "<img", "<iframe", "<object", "<embed", "<style", "<svg",
		"javascript", "onclick", "onerror", "onload", "onmouseover", "style=",
		"http:", "https:", "//evil", "file:", "src=",
	} {
		if strings.Contains(lower, bad) {
			t.Errorf("output tags contain %q:\n%s", bad, out)
		}
	}
	flat := strings.Join(strings.Fields(out), " ")
	for _, want := range []string{
		`&lt;script&gt;alert(1)&lt;/script&gt;`, // the title, as text
		`&lt;img src=x onerror=alert(1)&gt; &amp;lt;b&amp;gt; &lt;script&gt;alert(&#34;cdata&#34;)&lt;/script&gt;`,
		`<p>Click</p>`,                  // attributes dropped, bad ID dropped
		`<span class="cda-bold">styled`, // only the whitelisted style kept
		`<a href="#cda-ok">nested</a>`,  // links do not nest
		`external link`, `js link`,      // link text kept
		`<td>cell</td><td>wide</td>`,   // bad spans dropped
		`<tr><td>stray text</td></tr>`, // stray text kept, inside a cell
		`<tr><td><p>in table</p></td></tr>`,
		`table in paragraph list in paragraph`, // blocks flattened in a paragraph
		`<li>loose text</li><li><p>para in list</p></li>`,
		`cell out of a table`,
		`<sup class="cda-footnote-ref"><a href="#cda-n1">*</a></sup><small id="cda-n1" class="cda-footnote">note</small>`,
		`html anchor`,
	} {
		if !strings.Contains(flat, want) {
			t.Errorf("output lacks %s\n%s", want, out)
		}
	}
}

func TestRenderNonXMLBody(t *testing.T) {
	for _, tt := range []struct {
		name, body, want string
		err              error
	}{
		{"plain text", `<nonXMLBody><text mediaType="text/plain; charset=utf-8">Ligne 1 &lt;b&gt;
Ligne 2</text></nonXMLBody>`, "<pre class=\"cda-text\">Ligne 1 &lt;b&gt;\nLigne 2</pre>", nil},
		{"invalid UTF-8 replaced", `<nonXMLBody><text representation="B64">/3g=</text></nonXMLBody>`, "<pre class=\"cda-text\">\uFFFDx</pre>", nil},
		{"PDF", `<nonXMLBody><text mediaType="application/pdf" representation="B64">JVBERi0=</text></nonXMLBody>`, "", cda.ErrDownloadOnly},
		{"HTML is never rendered", `<nonXMLBody><text mediaType="text/html">&lt;script&gt;alert(1)&lt;/script&gt;</text></nonXMLBody>`, "", cda.ErrDownloadOnly},
		{"bad media type", `<nonXMLBody><text mediaType="text/plain;;;">x</text></nonXMLBody>`, "", cda.ErrDownloadOnly},
	} {
		t.Run(tt.name, func(t *testing.T) {
			html, err := cda.RenderHTML(parse(t, withBody(t, tt.body)))
			if !errors.Is(err, tt.err) || string(html) != tt.want {
				t.Errorf("RenderHTML = %q, %v; want %q, %v", html, err, tt.want, tt.err)
			}
		})
	}
}
