package cda

import (
	"errors"
	"html/template"
	"mime"
	"strconv"
	"strings"
)

// ErrDownloadOnly is returned by RenderHTML for a non-XML body that is not
// plain text (a PDF, an image…): the portal should offer the file for
// download (Body.MediaType, Body.Data) instead of showing it.
var ErrDownloadOnly = errors.New("cda: the body is a file to download, not a narrative to show")

// multimediaPlaceholder replaces a renderMultiMedia: the referenced
// observationMedia is not shown. The portal speaks French.
const multimediaPlaceholder = "[contenu multimédia non affiché]"

// RenderHTML renders the body of d as an HTML fragment:
//   - a structured body as its sections (h2…h6 titles, nested sections)
//     with the narrative blocks mapped to HTML: paragraph, list/item
//     (ordered or not), table/thead/tbody/tfoot/tr/th/td (colspan and
//     rowspan kept when numeric), caption, content (styleCode Bold,
//     Italics, Underline and Emphasis as classes cda-bold…), br, sub, sup,
//     footnote and footnoteRef;
//   - a plain-text non-XML body as a <pre> block.
//
// Any other non-XML body gives ErrDownloadOnly.
//
// The output is built from a fixed set of tags and attributes, never
// copied from the input: text is escaped; an ID becomes id="cda-…" only
// when made of letters, digits and _.:-; linkHtml becomes a link only to
// such an internal anchor, never to an external or javascript: URL, and
// is otherwise its text; renderMultiMedia becomes a placeholder text;
// unknown elements, and elements out of place (a table inside a
// paragraph), are replaced by their content. So the output can hold no
// script, no event handler, no style and no external URL, and its tags
// are balanced.
func RenderHTML(d *Document) (template.HTML, error) {
	if d == nil {
		return "", errors.New("cda: RenderHTML: nil document")
	}
	r := &renderer{}
	switch d.Body.Kind {
	case BodyStructured:
		r.b.WriteString(`<div class="cda-document">`)
		for _, s := range d.Body.Sections {
			r.section(s, 2)
		}
		r.b.WriteString(`</div>`)
	case BodyNonXML:
		mt, _, err := mime.ParseMediaType(d.Body.MediaType)
		if err != nil || mt != "text/plain" {
			return "", ErrDownloadOnly
		}
		r.b.WriteString(`<pre class="cda-text">`)
		r.text(strings.ToValidUTF8(string(d.Body.Data), "\uFFFD"))
		r.b.WriteString(`</pre>`)
	default:
		return "", errors.New("cda: RenderHTML: the document has no body")
	}
	return template.HTML(r.b.String()), nil
}

type renderer struct {
	b strings.Builder
	// inLink is set inside an <a>, which must not nest.
	inLink bool
}

func (r *renderer) section(s Section, level int) {
	r.b.WriteString(`<section class="cda-section">`)
	if s.Title != "" {
		h := "h" + strconv.Itoa(min(level, 6))
		r.b.WriteString("<" + h + ` class="cda-title">`)
		r.text(s.Title)
		r.b.WriteString("</" + h + ">")
	}
	if s.text != nil {
		r.b.WriteString(`<div class="cda-narrative">`)
		r.nodes(s.text.kids, false)
		r.b.WriteString(`</div>`)
	}
	for _, sub := range s.Sections {
		r.section(sub, level+1)
	}
	r.b.WriteString(`</section>`)
}

func (r *renderer) nodes(kids []*node, inline bool) {
	for _, k := range kids {
		r.node(k, inline)
	}
}

// node renders one narrative node. inline is set where only phrasing
// content may appear (inside a paragraph, a content, a caption…): block
// elements there are replaced by their content.
func (r *renderer) node(n *node, inline bool) {
	if n.name.Local == "" {
		r.text(n.text)
		return
	}
	if n.name.Space != NamespaceV3 {
		r.nodes(n.kids, inline)
		return
	}
	switch local := n.name.Local; local {
	case "paragraph", "list", "table":
		switch {
		case inline:
			r.flatten(n)
		case local == "paragraph":
			r.element(n, "p", "", true)
		case local == "list":
			r.list(n)
		default:
			r.table(n)
		}
	case "content":
		r.element(n, "span", styleClasses(n.get("styleCode")), true)
	case "caption":
		r.element(n, "span", "cda-caption", true)
	case "sub", "sup":
		r.element(n, local, "", true)
	case "footnote":
		r.element(n, "small", "cda-footnote", true)
	case "br":
		r.b.WriteString("<br/>")
	case "linkHtml":
		if target, ok := anchor(n.get("href")); ok && !r.inLink {
			r.b.WriteString(`<a href="#` + target + `">`)
			r.inLink = true
			r.nodes(n.kids, true)
			r.inLink = false
			r.b.WriteString(`</a>`)
			return
		}
		r.nodes(n.kids, true)
	case "footnoteRef":
		if target, ok := anchor("#" + n.get("IDREF")); ok && !r.inLink {
			r.b.WriteString(`<sup class="cda-footnote-ref"><a href="#` + target + `">*</a></sup>`)
		}
	case "renderMultiMedia":
		r.b.WriteString(`<span class="cda-multimedia">`)
		r.text(multimediaPlaceholder)
		r.b.WriteString(`</span>`)
		if c := n.child("caption"); c != nil {
			r.element(c, "span", "cda-caption", true)
		}
	case "col", "colgroup":
		// Column widths and alignment are presentation: dropped.
	case "item", "thead", "tbody", "tfoot", "tr", "th", "td":
		// Out of their list or table.
		r.flatten(n)
	default:
		r.nodes(n.kids, inline)
	}
}

// flatten renders n's content inline, followed by a space so that the
// words of two flattened blocks do not run together.
func (r *renderer) flatten(n *node) {
	r.nodes(n.kids, true)
	r.b.WriteByte(' ')
}

// element renders <tag id class>content</tag>, the content inline or not.
func (r *renderer) element(n *node, tag, class string, inline bool) {
	r.open(n, tag, class, "")
	r.nodes(n.kids, inline)
	r.b.WriteString("</" + tag + ">")
}

// open writes a start tag with the element's ID (made safe), a class and
// extra attributes already made safe by the caller.
func (r *renderer) open(n *node, tag, class, extra string) {
	r.b.WriteString("<" + tag)
	if id, ok := anchor("#" + n.get("ID")); ok {
		r.b.WriteString(` id="` + id + `"`)
	}
	if class != "" {
		r.b.WriteString(` class="` + class + `"`)
	}
	r.b.WriteString(extra + ">")
}

func (r *renderer) list(n *node) {
	if c := n.child("caption"); c != nil {
		r.element(c, "p", "cda-caption", true)
	}
	tag := "ul"
	if n.get("listType") == "ordered" {
		tag = "ol"
	}
	r.open(n, tag, "cda-list", "")
	for _, k := range n.kids {
		switch {
		case k.isElem("caption"):
		case k.name.Local == "" && blank(k.text):
		case k.isElem("item"):
			r.element(k, "li", "", false)
		default:
			r.b.WriteString("<li>")
			r.node(k, false)
			r.b.WriteString("</li>")
		}
	}
	r.b.WriteString("</" + tag + ">")
}

func (r *renderer) table(n *node) {
	r.open(n, "table", "cda-table", "")
	if c := n.child("caption"); c != nil {
		r.element(c, "caption", "", true)
	}
	for _, k := range n.kids {
		switch {
		case k.isElem("caption"), k.isElem("col"), k.isElem("colgroup"):
		case k.name.Local == "" && blank(k.text):
		case k.isElem("thead"), k.isElem("tbody"), k.isElem("tfoot"):
			r.rows(k)
		case k.isElem("tr"):
			r.row(k)
		default:
			r.b.WriteString("<tr><td>")
			r.node(k, false)
			r.b.WriteString("</td></tr>")
		}
	}
	r.b.WriteString("</table>")
}

// rows renders a thead, tbody or tfoot.
func (r *renderer) rows(n *node) {
	r.open(n, n.name.Local, "", "")
	for _, k := range n.kids {
		switch {
		case k.name.Local == "" && blank(k.text):
		case k.isElem("tr"):
			r.row(k)
		default:
			r.b.WriteString("<tr><td>")
			r.node(k, false)
			r.b.WriteString("</td></tr>")
		}
	}
	r.b.WriteString("</" + n.name.Local + ">")
}

func (r *renderer) row(n *node) {
	r.open(n, "tr", "", "")
	for _, k := range n.kids {
		switch {
		case k.name.Local == "" && blank(k.text):
		case k.isElem("td"), k.isElem("th"):
			var extra string
			for _, a := range [...]string{"colspan", "rowspan"} {
				if v, err := strconv.Atoi(k.get(a)); err == nil && v >= 1 && v <= 1000 {
					extra += " " + a + `="` + strconv.Itoa(v) + `"`
				}
			}
			r.open(k, k.name.Local, "", extra)
			r.nodes(k.kids, false)
			r.b.WriteString("</" + k.name.Local + ">")
		default:
			r.b.WriteString("<td>")
			r.node(k, false)
			r.b.WriteString("</td>")
		}
	}
	r.b.WriteString("</tr>")
}

func (r *renderer) text(s string) {
	template.HTMLEscape(&r.b, []byte(s))
}

// styleClasses maps a styleCode to the classes of the few styles kept.
func styleClasses(styleCode string) string {
	var out []string
	for _, s := range strings.Fields(styleCode) {
		switch strings.ToLower(s) {
		case "bold":
			out = append(out, "cda-bold")
		case "italics":
			out = append(out, "cda-italics")
		case "underline":
			out = append(out, "cda-underline")
		case "emphasis":
			out = append(out, "cda-emphasis")
		}
	}
	return strings.Join(out, " ")
}

// anchor turns "#ID" into the output's id "cda-ID", when ID is a safe
// name: 1 to 64 ASCII letters, digits, and _ . : - starting with a letter
// or _. The prefix keeps document ids from colliding with the page's.
func anchor(href string) (string, bool) {
	id, ok := strings.CutPrefix(href, "#")
	if !ok || id == "" || len(id) > 64 {
		return "", false
	}
	for i, c := range id {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_':
		case i > 0 && (c >= '0' && c <= '9' || c == '.' || c == ':' || c == '-'):
		default:
			return "", false
		}
	}
	return "cda-" + id, true
}
