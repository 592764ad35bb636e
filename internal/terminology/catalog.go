package terminology

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Catalog is a set of value sets, found by OID, by file name (without
// ".xml") or by short name ("J07"). It is read-only once loaded and safe for
// concurrent use.
type Catalog struct {
	sets []*ValueSet
	byID map[string]*ValueSet
}

// Load parses every *.xml file of dir (not its subdirectories) as an SVS
// value set. A malformed file is an error naming the file and the line; two
// files claiming the same OID or short name are an error too, since a
// lookup by that identifier would be ambiguous.
func Load(dir string) (*Catalog, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.xml"))
	if err != nil {
		return nil, fmt.Errorf("terminology: %w", err)
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("terminology: no *.xml value set in %s", dir)
	}
	slices.Sort(paths)
	c := &Catalog{byID: make(map[string]*ValueSet)}
	for _, path := range paths {
		vs, err := parseFile(path)
		if err != nil {
			return nil, err
		}
		base := strings.TrimSuffix(filepath.Base(path), ".xml")
		for _, id := range []string{vs.OID, base, vs.ShortName, vs.Name} {
			if id == "" {
				continue
			}
			if other, dup := c.byID[id]; dup && other != vs {
				return nil, &ParseError{File: path, Msg: fmt.Sprintf("value set identifier %q is also used by value set %s", id, other.OID)}
			}
			c.byID[id] = vs
		}
		c.sets = append(c.sets, vs)
	}
	return c, nil
}

func parseFile(path string) (*ValueSet, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("terminology: %w", err)
	}
	defer f.Close()
	vs, err := ParseSVS(f)
	var pe *ParseError
	if errors.As(err, &pe) {
		pe.File = path
	}
	return vs, err
}

// ValueSets returns the value sets in file-name order.
func (c *Catalog) ValueSets() []*ValueSet { return slices.Clone(c.sets) }

// ValueSet returns the value set with this identifier: its OID (bare or
// "urn:oid:"), its file name without ".xml", its name or its short name.
func (c *Catalog) ValueSet(id string) (*ValueSet, bool) {
	vs, ok := c.byID[strings.TrimPrefix(id, "urn:oid:")]
	return vs, ok
}

// Contains reports whether the value set valueSetID holds the code in the
// code system (an OID, bare or "urn:oid:"). An unknown value set holds
// nothing. Validity dates are not considered: use Lookup and
// Concept.ActiveAt for that.
func (c *Catalog) Contains(valueSetID, system, code string) bool {
	_, ok := c.Lookup(valueSetID, system, code)
	return ok
}

// Lookup returns the concept of the value set valueSetID with this code in
// this code system.
func (c *Catalog) Lookup(valueSetID, system, code string) (Concept, bool) {
	vs, ok := c.ValueSet(valueSetID)
	if !ok {
		return Concept{}, false
	}
	return vs.Lookup(system, code)
}

// Display returns the display name of a code of a value set, "" and false
// when the value set does not hold the code.
func (c *Catalog) Display(valueSetID, system, code string) (string, bool) {
	concept, ok := c.Lookup(valueSetID, system, code)
	return concept.DisplayName, ok
}
