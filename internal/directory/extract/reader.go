// Package extract reads the public extract of the national directory of
// health professionals (Annuaire Santé, file
// PS_LibreAcces_Personne_activite_<stamp>.txt) and turns it into FHIR R4
// Practitioner, PractitionerRole and Organization resources, as FR Core
// and the ANS directory profiles shape them. It is pure: it reads an
// io.Reader and returns JSON, and never touches a database.
//
// # The file
//
// One header row, then one row per activity of a professional: the same
// professional (join key "Identifiant PP") appears on several rows, one per
// structure, profession and savoir-faire. Fields are separated by "|",
// never quoted, and each line ends with "|". Columns are found by header
// name (trimmed, case-insensitive), never by position: newer files add and
// move columns. Current files are UTF-8 (a byte-order mark is tolerated);
// older ones are Latin-1, read here as Windows-1252 like every browser does,
// since Windows exports put ’ and œ in the 0x80–0x9F range. The encoding is
// decided by the first line that is not plain ASCII — in practice the
// header, whose "Prénom d'exercice" carries an é.
//
// # Idempotent output
//
// Every resource gets an id derived from national identifiers only, so an
// import that PUTs each resource by id can run again without creating
// duplicates, and rows of one professional that are not consecutive still
// land on the same resources:
//   - Practitioner: the IdNatPS ("8" + RPPS, "0" + ADELI);
//   - Organization: the IdNatStruct of the site: "1" + FINESS site, else
//     "3" + SIRET site, else "4" + the directory's technical identifier;
//   - PractitionerRole: IdNatPS, IdNatStruct, profession, mode d'exercice,
//     savoir-faire type and code, joined by "-" (empty parts stay empty), or
//     IdNatPS + "-" + a SHA-256 prefix of them when that would not be a
//     valid FHIR id.
//
// A Practitioner carries only what every row of the professional repeats
// (identifiers and name), so whichever row writes it last writes the same
// resource. Profession, mode d'exercice and savoir-faire, which vary from
// row to row, go on the PractitionerRole.
//
// # Bounded memory
//
// The reader keeps one line (at most 64 KiB), one group of rows of the
// same professional (at most 256 activities) and the set of Organization
// ids already returned, to send each structure once per run; that set is
// emptied when it reaches 262,144 ids (about 100,000 structures exist
// nationally), after which a structure may be sent again — harmless, since
// a PUT by id is idempotent.
package extract

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/carnet-sante/carnet/internal/directory"
)

// Limits that keep the reader's memory bounded whatever the input.
const (
	// maxLineBytes caps a line; a real row is about 500 bytes.
	maxLineBytes = 64 << 10
	// maxGroupRoles caps the activities gathered in one Group; a longer run
	// of the same professional continues in the next Group.
	maxGroupRoles = 256
	// maxOrganizationIDs caps the set of Organization ids already returned.
	maxOrganizationIDs = 1 << 18
)

// Resource is one FHIR R4 resource, ready to be stored or PUT at
// Type/ID. JSON holds resourceType and id too; it has no empty strings,
// arrays or objects.
type Resource struct {
	Type string // "Practitioner", "PractitionerRole" or "Organization"
	ID   string
	JSON []byte
}

// Group is what consecutive valid rows of one professional produce.
// Organizations come first, then the Practitioner, then the roles that
// reference them, so storing a Group in that order never leaves a dangling
// reference.
type Group struct {
	// Line is the line number of the group's first row (the header is
	// line 1).
	Line int
	// Organizations are the structures of the group's rows that this
	// Reader had not returned yet.
	Organizations []Resource
	Practitioner  Resource
	// Roles has one PractitionerRole per distinct activity.
	Roles []Resource
}

// RowError reports a rejected row. Reading goes on with the next row: call
// Next again.
type RowError struct {
	Line   int    // line number in the file (the header is line 1)
	Reason string // what is wrong with the row
	// Err is the identifier error behind Reason, if any (a
	// *directory.Error: errors.Is(err, directory.ErrCheckDigit) works).
	Err error
}

func (e *RowError) Error() string {
	return fmt.Sprintf("directory extract: line %d rejected: %s", e.Line, e.Reason)
}

func (e *RowError) Unwrap() error { return e.Err }

// Encoding is the character encoding of an extract.
type Encoding int

const (
	// EncodingUnknown: every line read so far is plain ASCII.
	EncodingUnknown Encoding = iota
	// EncodingUTF8 is the encoding of current extracts.
	EncodingUTF8
	// EncodingLatin1 is the encoding of older extracts, decoded as
	// Windows-1252 (a superset of ISO-8859-1 for text).
	EncodingLatin1
)

func (e Encoding) String() string {
	switch e {
	case EncodingUTF8:
		return "UTF-8"
	case EncodingLatin1:
		return "Latin-1 (Windows-1252)"
	}
	return "undetermined (ASCII so far)"
}

// Reader reads an extract, one Group at a time. It is not safe for
// concurrent use.
type Reader struct {
	br  *bufio.Reader
	v   directory.Validator
	enc Encoding

	col     [numColumns]int // field index of each column, -1 when absent
	nfields int             // fields per row, as in the header
	line    int             // number of the last line read
	fields  []string        // reused: the fields of the current line
	row     [numColumns]string

	cur     *Group
	curPS   string              // IdNatPS of cur
	orgSeen map[string]struct{} // Organization ids already returned
	err     error               // sticky: io.EOF or a read error

	out *jsonWriter
}

// NewReader reads the header of an extract and returns a Reader
// positioned on the first row. v checks the identifiers (see
// directory.Validator for the check digits that can be switched off). The
// error names every required column the header lacks.
func NewReader(r io.Reader, v directory.Validator) (*Reader, error) {
	x := &Reader{
		br:      bufio.NewReaderSize(r, maxLineBytes),
		v:       v,
		orgSeen: make(map[string]struct{}),
		out:     newJSONWriter(),
	}
	if bom, err := x.br.Peek(3); err == nil && bytes.Equal(bom, []byte("\xEF\xBB\xBF")) {
		x.enc = EncodingUTF8
		x.br.Discard(3)
	}
	line, err := x.readLine()
	if errors.Is(err, io.EOF) {
		return nil, errors.New("directory extract: the file is empty; want a header row then one row per activity")
	}
	var rowErr *RowError
	if errors.As(err, &rowErr) {
		return nil, fmt.Errorf("directory extract: the first line is over %d bytes: not a directory extract header", maxLineBytes)
	}
	if err != nil {
		return nil, fmt.Errorf("directory extract: reading the header: %w", err)
	}
	header, ok := x.decode(line)
	if !ok {
		return nil, errors.New("directory extract: the file starts with a UTF-8 byte-order mark but its header is not UTF-8: re-encode the file")
	}
	if err := x.mapHeader(header); err != nil {
		return nil, err
	}
	return x, nil
}

// Encoding returns the encoding detected so far.
func (r *Reader) Encoding() Encoding { return r.enc }

// Next returns the next Group: the resources of the following consecutive
// valid rows of one professional. A group is complete only once the next
// professional's row (or the end of the file) is read, while a rejected
// row is returned at once as a *RowError: a rejected row may thus come out
// before the group of the rows above it. After a *RowError, call Next
// again to go on. At the end of the file Next returns io.EOF. Any other
// error is a read error: Next first returns the group read up to it, then
// that error on every call.
func (r *Reader) Next() (Group, error) {
	for {
		if r.err != nil {
			if r.cur != nil {
				g := *r.cur
				r.cur = nil
				return g, nil
			}
			return Group{}, r.err
		}
		a, err := r.readActivity()
		if err != nil {
			var rowErr *RowError
			if errors.As(err, &rowErr) {
				return Group{}, err
			}
			r.err = err
			continue
		}
		if r.cur != nil && r.curPS == a.ps && len(r.cur.Roles) < maxGroupRoles {
			r.add(a)
			continue
		}
		done := r.cur
		r.start(a)
		if done != nil {
			return *done, nil
		}
	}
}

// start begins a new group with activity a.
func (r *Reader) start(a *activity) {
	r.cur = &Group{Line: r.line, Practitioner: r.practitioner(a)}
	r.curPS = a.ps
	r.add(a)
}

// add adds the role of activity a to the current group, and its
// structure when this Reader has not returned it yet. A role already in
// the group (a duplicated row) is replaced, as a later PUT would.
func (r *Reader) add(a *activity) {
	if a.st != "" {
		if _, seen := r.orgSeen[a.st]; !seen {
			if len(r.orgSeen) >= maxOrganizationIDs {
				clear(r.orgSeen)
			}
			r.orgSeen[a.st] = struct{}{}
			r.cur.Organizations = append(r.cur.Organizations, r.organization(a))
		}
	}
	role := r.role(a)
	if i := slices.IndexFunc(r.cur.Roles, func(x Resource) bool { return x.ID == role.ID }); i >= 0 {
		r.cur.Roles[i] = role
		return
	}
	r.cur.Roles = append(r.cur.Roles, role)
}

// readLine returns the next line without its line terminator. A line over
// maxLineBytes is skipped and reported as a *RowError. At the end of the
// input it returns io.EOF.
func (r *Reader) readLine() ([]byte, error) {
	line, err := r.br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		r.line++
		for errors.Is(err, bufio.ErrBufferFull) {
			_, err = r.br.ReadSlice('\n')
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, err
		}
		return nil, &RowError{Line: r.line, Reason: fmt.Sprintf("line is over %d bytes, far more than a directory row", maxLineBytes)}
	}
	if errors.Is(err, io.EOF) && len(line) == 0 {
		return nil, io.EOF
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	r.line++
	line = bytes.TrimSuffix(line, []byte("\n"))
	return bytes.TrimSuffix(line, []byte("\r")), nil
}

// decode returns line as a string, deciding the encoding on the first
// line that is not plain ASCII. It reports false for a line that is not
// valid UTF-8 in a UTF-8 file.
func (r *Reader) decode(line []byte) (string, bool) {
	if r.enc == EncodingUnknown && !isASCII(line) {
		if utf8.Valid(line) {
			r.enc = EncodingUTF8
		} else {
			r.enc = EncodingLatin1
		}
	}
	switch r.enc {
	case EncodingLatin1:
		return decodeWindows1252(line), true
	case EncodingUTF8:
		if !utf8.Valid(line) {
			return "", false
		}
	}
	return string(line), true
}

// split splits a line into r.fields at every "|".
func (r *Reader) split(line string) {
	r.fields = r.fields[:0]
	for {
		i := strings.IndexByte(line, '|')
		if i < 0 {
			r.fields = append(r.fields, line)
			return
		}
		r.fields = append(r.fields, line[:i])
		line = line[i+1:]
	}
}

// readRow reads the next non-blank line into r.row. It returns a
// *RowError for a line that cannot be split into the header's columns.
func (r *Reader) readRow() error {
	for {
		raw, err := r.readLine()
		if err != nil {
			return err
		}
		if len(bytes.TrimSpace(raw)) == 0 {
			continue
		}
		line, ok := r.decode(raw)
		if !ok {
			return &RowError{Line: r.line, Reason: "not valid UTF-8, although the file was read as UTF-8 from its first lines: re-encode the file in UTF-8"}
		}
		// A row ends with "|", which makes one more, empty, field; a row
		// without it (hand-edited files) is accepted when it has as many
		// fields as the header.
		r.split(line)
		n := len(r.fields)
		if n == r.nfields+1 && r.fields[n-1] == "" {
			n--
		}
		if n != r.nfields {
			if r.fields[len(r.fields)-1] == "" {
				n = len(r.fields) - 1
			}
			return &RowError{Line: r.line, Reason: fmt.Sprintf("has %d fields, want %d as in the header (truncated or shifted line)", n, r.nfields)}
		}
		for c, i := range r.col {
			if i >= 0 {
				r.row[c] = strings.TrimSpace(r.fields[i])
			} else {
				r.row[c] = ""
			}
		}
		return nil
	}
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// windows1252 maps the bytes 0x80–0x9F, control characters in ISO-8859-1,
// to the characters Windows-1252 puts there; the five unassigned bytes keep
// their ISO-8859-1 meaning (WHATWG Encoding Standard, index windows-1252).
var windows1252 = [32]rune{
	'€', 0x81, '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', 0x8D, 'Ž', 0x8F,
	0x90, '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', 0x9D, 'ž', 'Ÿ',
}

// decodeWindows1252 decodes Windows-1252 (hence ISO-8859-1 text) to UTF-8.
func decodeWindows1252(b []byte) string {
	var s strings.Builder
	s.Grow(len(b) + len(b)/8)
	for _, c := range b {
		switch {
		case c < 0x80:
			s.WriteByte(c)
		case c < 0xA0:
			s.WriteRune(windows1252[c-0x80])
		default:
			s.WriteRune(rune(c))
		}
	}
	return s.String()
}
