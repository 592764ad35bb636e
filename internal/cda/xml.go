package cda

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// NamespaceV3 is the XML namespace of CDA R2 (HL7 version 3).
const NamespaceV3 = "urn:hl7-org:v3"

// DefaultLimit is the size cap Parse applies when given a limit ≤ 0.
const DefaultLimit = 32 << 20

// Structural caps, independent of the size cap. Real documents nest about
// 15 levels deep and keep a few thousand header and narrative elements; the
// caps leave a wide margin and keep hostile input from costing more than
// linear time and bounded memory (the renderer recurses once per level).
const (
	maxDepth = 128
	maxNodes = 250_000
)

// Sentinel errors wrapped by *ParseError, for errors.Is.
var (
	// ErrNotXML: the input is not well-formed XML.
	ErrNotXML = errors.New("not XML")
	// ErrForbidden: a DOCTYPE, DTD or entity declaration (XXE vector) was found.
	ErrForbidden = errors.New("DTD and entity declarations are not allowed")
	// ErrNotCDA: well-formed XML whose root is not a CDA ClinicalDocument.
	ErrNotCDA = errors.New("not a CDA document")
	// ErrTooLarge: the input exceeds the size cap or the element cap.
	ErrTooLarge = errors.New("document too large")
	// ErrTooDeep: elements nested deeper than the cap.
	ErrTooDeep = errors.New("elements nested too deeply")
	// ErrHeader: a required header element is missing or malformed.
	ErrHeader = errors.New("invalid CDA header")
)

// ParseError says what is wrong with a document and where. It names
// elements, never the value of a personal attribute (names, identifiers).
type ParseError struct {
	// Err is one of the sentinel errors above.
	Err error
	// Line is the 1-based line of the offending element, 0 when unknown.
	Line int
	// Path is the element path, e.g. "ClinicalDocument/recordTarget/patientRole",
	// empty when the error is not about one element.
	Path string
	Msg  string
}

func (e *ParseError) Error() string {
	var b strings.Builder
	b.WriteString("cda: ")
	if e.Err != nil {
		b.WriteString(e.Err.Error())
	}
	if e.Line > 0 {
		fmt.Fprintf(&b, ": line %d", e.Line)
	}
	if e.Path != "" {
		b.WriteString(": ")
		b.WriteString(e.Path)
	}
	if e.Msg != "" {
		b.WriteString(": ")
		b.WriteString(e.Msg)
	}
	return b.String()
}

// Unwrap returns the sentinel error.
func (e *ParseError) Unwrap() error { return e.Err }

// node is an element or, when name.Local is empty, a run of text. The tree
// keeps the header and the narrative; coded entries are skipped while
// reading (see skippable).
type node struct {
	name xml.Name
	attr []xml.Attr
	text string
	kids []*node
	line int
}

// isElem reports whether n is a CDA (urn:hl7-org:v3) element named local.
func (n *node) isElem(local string) bool {
	return n.name.Space == NamespaceV3 && n.name.Local == local
}

// child returns the first CDA child element named local, nil if none.
func (n *node) child(local string) *node {
	if n == nil {
		return nil
	}
	for _, k := range n.kids {
		if k.isElem(local) {
			return k
		}
	}
	return nil
}

// children returns the CDA child elements named local.
func (n *node) children(local string) []*node {
	if n == nil {
		return nil
	}
	var out []*node
	for _, k := range n.kids {
		if k.isElem(local) {
			out = append(out, k)
		}
	}
	return out
}

// at follows a path of CDA child elements, nil if one is missing.
func (n *node) at(path ...string) *node {
	for _, p := range path {
		n = n.child(p)
	}
	return n
}

// get returns the value of the unqualified attribute local, "" if absent.
func (n *node) get(local string) string {
	if n == nil {
		return ""
	}
	for _, a := range n.attr {
		if a.Name.Space == "" && a.Name.Local == local {
			return a.Value
		}
	}
	return ""
}

// textContent returns the text of n and its descendants, with runs of
// white space collapsed to one space and trimmed.
func (n *node) textContent() string {
	if n == nil {
		return ""
	}
	var b strings.Builder
	var walk func(*node)
	walk = func(n *node) {
		if n.name.Local == "" {
			b.WriteString(n.text)
			b.WriteByte(' ')
		}
		for _, k := range n.kids {
			walk(k)
		}
	}
	walk(n)
	return strings.Join(strings.Fields(b.String()), " ")
}

// countingReader fails once more than limit bytes have been read, and
// remembers the error of the underlying reader.
type countingReader struct {
	r     io.Reader
	n     int64
	limit int64
	err   error
}

func (c *countingReader) Read(p []byte) (int, error) {
	if c.n > c.limit {
		return 0, errTooLarge
	}
	if int64(len(p)) > c.limit-c.n+1 {
		p = p[:c.limit-c.n+1]
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.n > c.limit {
		return n, errTooLarge
	}
	if err != nil && err != io.EOF {
		c.err = err
	}
	return n, err
}

// errTooLarge travels through encoding/xml, which returns read errors as
// they are, and becomes a *ParseError in read.
var errTooLarge = errors.New("size cap exceeded")

// reader turns a token stream into a tree, enforcing the caps.
type reader struct {
	d     *xml.Decoder
	in    *countingReader
	limit int64
	nodes int
	// text gathers the character data of the current element between two
	// tags: comments split it into several tokens, which must not cost a
	// node, or a copy of the text so far, each.
	text strings.Builder
}

// read parses the whole input into a tree rooted at ClinicalDocument.
func read(r io.Reader, limit int64) (*node, error) {
	in := &countingReader{r: r, limit: limit}
	d := xml.NewDecoder(in)
	d.Strict = true
	d.CharsetReader = charsetReader
	rd := &reader{d: d, in: in, limit: limit}
	root, err := rd.tree()
	if err != nil {
		return nil, rd.wrap(err)
	}
	return root, nil
}

func (rd *reader) errorf(sentinel error, format string, args ...any) *ParseError {
	line, _ := rd.d.InputPos()
	return &ParseError{Err: sentinel, Line: line, Msg: fmt.Sprintf(format, args...)}
}

// wrap turns errors from encoding/xml and the size cap into *ParseError.
// An error of the reader given to Parse is returned wrapped as it is: it
// says nothing about the document.
func (rd *reader) wrap(err error) error {
	var pe *ParseError
	var se *xml.SyntaxError
	switch {
	case rd.in.err != nil:
		return fmt.Errorf("cda: reading the document: %w", rd.in.err)
	case errors.As(err, &pe):
		return pe
	case errors.Is(err, errTooLarge):
		return &ParseError{Err: ErrTooLarge, Msg: fmt.Sprintf("larger than %d bytes", rd.limit)}
	case errors.As(err, &se):
		return &ParseError{Err: ErrNotXML, Line: se.Line, Msg: se.Msg}
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		return rd.errorf(ErrNotXML, "unexpected end of input")
	}
	// An encoding charsetReader refused.
	return rd.errorf(ErrNotXML, "%v", err)
}

// token returns the next token that matters: elements, their ends and
// text. Comments and processing instructions (the XML declaration, a
// stylesheet link) are skipped; a directive (<!DOCTYPE …>, hence any DTD
// or entity declaration) is refused.
func (rd *reader) token() (xml.Token, error) {
	for {
		tok, err := rd.d.Token()
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.Directive:
			return nil, rd.errorf(ErrForbidden, "<!%s…> found", firstWord(string(t)))
		case xml.StartElement, xml.EndElement, xml.CharData:
			return t, nil
		}
	}
}

func (rd *reader) tree() (*node, error) {
	// Prolog: only blanks before the root element.
	var root *node
	for root == nil {
		tok, err := rd.token()
		if err == io.EOF {
			return nil, &ParseError{Err: ErrNotXML, Msg: "empty input"}
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.CharData:
			// A byte order mark is allowed at the start (encoding/xml
			// passes it on as text).
			if !blank(strings.TrimPrefix(string(t), "\ufeff")) {
				return nil, rd.errorf(ErrNotXML, "text before the root element")
			}
		case xml.StartElement:
			if t.Name.Space != NamespaceV3 || t.Name.Local != "ClinicalDocument" {
				return nil, rd.errorf(ErrNotCDA, "root element is %s, want ClinicalDocument in namespace %s", qname(t.Name), NamespaceV3)
			}
			root = rd.element(t)
		}
	}
	stack := []*node{root}
	for len(stack) > 0 {
		tok, err := rd.token()
		if err != nil {
			return nil, err
		}
		top := stack[len(stack)-1]
		switch t := tok.(type) {
		case xml.CharData:
			rd.text.Write(t)
			continue
		case xml.StartElement:
			if err := rd.flush(top); err != nil {
				return nil, err
			}
			if len(stack)+1 > maxDepth {
				return nil, rd.errorf(ErrTooDeep, "more than %d levels", maxDepth)
			}
			if skippable(top, t.Name) {
				if err := rd.skip(len(stack) + 1); err != nil {
					return nil, err
				}
				continue
			}
			if err := rd.count(); err != nil {
				return nil, err
			}
			n := rd.element(t)
			top.kids = append(top.kids, n)
			stack = append(stack, n)
		case xml.EndElement:
			if err := rd.flush(top); err != nil {
				return nil, err
			}
			stack = stack[:len(stack)-1]
		}
	}
	// Epilog: blanks, comments and processing instructions only.
	for {
		tok, err := rd.token()
		if err == io.EOF {
			return root, nil
		}
		if err != nil {
			return nil, err
		}
		if cd, ok := tok.(xml.CharData); !ok || !blank(string(cd)) {
			return nil, rd.errorf(ErrNotXML, "content after the end of the root element")
		}
	}
}

// flush adds the text gathered so far, if any, as the last child of n.
func (rd *reader) flush(n *node) error {
	if rd.text.Len() == 0 {
		return nil
	}
	if err := rd.count(); err != nil {
		return err
	}
	n.kids = append(n.kids, &node{text: rd.text.String()})
	rd.text.Reset()
	return nil
}

// count enforces the node cap.
func (rd *reader) count() error {
	if rd.nodes++; rd.nodes > maxNodes {
		return rd.errorf(ErrTooLarge, "more than %d elements and text runs", maxNodes)
	}
	return nil
}

func (rd *reader) element(t xml.StartElement) *node {
	line, _ := rd.d.InputPos()
	return &node{name: t.Name, attr: t.Attr, line: line}
}

// skippable reports the subtrees the package never reads: the coded
// entries of a section (section/entry), which are most of a level-3
// document and are rendered from the narrative instead.
func skippable(parent *node, name xml.Name) bool {
	return parent.isElem("section") && name.Space == NamespaceV3 && name.Local == "entry"
}

// skip reads past the element just started at depth, still enforcing the
// depth cap and refusing directives.
func (rd *reader) skip(depth int) error {
	for level := 1; level > 0; {
		tok, err := rd.token()
		if err != nil {
			return err
		}
		switch tok.(type) {
		case xml.StartElement:
			if level++; depth+level-1 > maxDepth {
				return rd.errorf(ErrTooDeep, "more than %d levels", maxDepth)
			}
		case xml.EndElement:
			level--
		}
	}
	return nil
}

// charsetReader accepts the one legacy encoding still met in French
// documents, ISO-8859-1, besides UTF-8 (which encoding/xml handles itself).
func charsetReader(charset string, input io.Reader) (io.Reader, error) {
	switch strings.ToLower(charset) {
	case "iso-8859-1", "iso8859-1", "latin1", "latin-1", "l1":
		return &latin1Reader{r: input}, nil
	}
	return nil, fmt.Errorf("unsupported encoding %q (use UTF-8)", truncate(charset, 40))
}

// latin1Reader decodes ISO-8859-1 to UTF-8: each byte is the code point.
type latin1Reader struct {
	r   io.Reader
	buf []byte
	out []byte
}

func (l *latin1Reader) Read(p []byte) (int, error) {
	for len(l.out) == 0 {
		if cap(l.buf) == 0 {
			l.buf = make([]byte, 2048)
		}
		n, err := l.r.Read(l.buf[:cap(l.buf)])
		for _, b := range l.buf[:n] {
			l.out = utf8.AppendRune(l.out, rune(b))
		}
		if n == 0 && err != nil {
			return 0, err
		}
	}
	n := copy(p, l.out)
	l.out = l.out[n:]
	return n, nil
}

func blank(s string) bool { return strings.TrimSpace(s) == "" }

// qname writes an element name for a message: "{namespace}local", or
// "local" when it has no namespace.
func qname(n xml.Name) string {
	if n.Space == "" {
		return truncate(n.Local, 60)
	}
	return "{" + truncate(n.Space, 60) + "}" + truncate(n.Local, 60)
}

func firstWord(s string) string {
	if f := strings.Fields(s); len(f) > 0 {
		return truncate(f[0], 20)
	}
	return ""
}

// truncate shortens s for a message, at a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
