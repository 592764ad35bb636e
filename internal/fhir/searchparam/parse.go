package searchparam

import (
	"errors"
	"fmt"
	"strings"
)

// This file parses FHIRPath into a small syntax tree for the native
// compiler. It covers the grammar the R4 search expressions use (paths,
// function calls, indexers, literals, the union, comparison, boolean and
// type operators, with FHIRPath's precedence); anything else is an error,
// which sends the expression to the FHIRPath library instead.

// node is a FHIRPath syntax tree node.
type node struct {
	kind nodeKind
	// name is the identifier, function name, operator or literal text.
	name string
	// typ is the type name of an is/as.
	typ string
	// x is the receiver of a member, call or indexer (nil at the start of
	// a path) and the left operand of an operator; y is the right operand
	// or the index.
	x, y *node
	args []*node
}

type nodeKind int

const (
	identNode  nodeKind = iota // name
	stringNode                 // 'text': name holds the unescaped text
	numberNode                 // 12, 1.5
	boolNode                   // true, false
	thisNode                   // $this
	callNode                   // x.name(args) or name(args)
	indexNode                  // x[y]
	binaryNode                 // x name y, for | = != ~ !~ < <= > >= and or xor implies in contains
	typeNode                   // x is typ, x as typ (name is "is" or "as")
)

var errSyntax = errors.New("unsupported FHIRPath syntax")

// parse parses a FHIRPath expression.
func parse(src string) (*node, error) {
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	n, err := p.expr(0)
	if err != nil {
		return nil, err
	}
	if p.pos != len(p.toks) {
		return nil, fmt.Errorf("%w: unexpected %q", errSyntax, p.toks[p.pos].text)
	}
	return n, nil
}

// Binary operator precedence, from loosest to tightest; type operators
// (is, as) bind tighter than all of them.
var precedence = map[string]int{
	"implies": 1,
	"or":      2, "xor": 2,
	"and": 3,
	"in":  4, "contains": 4,
	"=": 5, "~": 5, "!=": 5, "!~": 5,
	"<": 6, "<=": 6, ">": 6, ">=": 6,
	"|": 7,
}

const typePrecedence = 8

type parser struct {
	toks []token
	pos  int
}

func (p *parser) peek() token {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	return token{}
}

func (p *parser) expect(text string) error {
	if t := p.peek(); t.kind != punctTok || t.text != text {
		return fmt.Errorf("%w: want %q", errSyntax, text)
	}
	p.pos++
	return nil
}

// expr parses an expression whose operators bind tighter than minPrec
// (precedence climbing).
func (p *parser) expr(minPrec int) (*node, error) {
	left, err := p.postfix()
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		if t.kind != punctTok && t.kind != identTok {
			return left, nil
		}
		if (t.text == "is" || t.text == "as") && t.kind == identTok && typePrecedence > minPrec {
			p.pos++
			typ := p.peek()
			if typ.kind != identTok {
				return nil, fmt.Errorf("%w: type name expected after %s", errSyntax, t.text)
			}
			p.pos++
			left = &node{kind: typeNode, name: t.text, typ: typ.text, x: left}
			continue
		}
		prec, ok := precedence[t.text]
		if !ok || prec <= minPrec {
			return left, nil
		}
		p.pos++
		right, err := p.expr(prec)
		if err != nil {
			return nil, err
		}
		left = &node{kind: binaryNode, name: t.text, x: left, y: right}
	}
}

// postfix parses a term followed by any number of .member, .call() and
// [index] invocations.
func (p *parser) postfix() (*node, error) {
	n, err := p.term()
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		switch {
		case t.kind == punctTok && t.text == ".":
			p.pos++
			m, err := p.invocation()
			if err != nil {
				return nil, err
			}
			m.x = n
			n = m
		case t.kind == punctTok && t.text == "[":
			p.pos++
			idx, err := p.expr(0)
			if err != nil {
				return nil, err
			}
			if err := p.expect("]"); err != nil {
				return nil, err
			}
			n = &node{kind: indexNode, x: n, y: idx}
		default:
			return n, nil
		}
	}
}

func (p *parser) term() (*node, error) {
	t := p.peek()
	switch t.kind {
	case stringTok:
		p.pos++
		return &node{kind: stringNode, name: t.text}, nil
	case numberTok:
		p.pos++
		return &node{kind: numberNode, name: t.text}, nil
	case identTok:
		if t.text == "true" || t.text == "false" {
			p.pos++
			return &node{kind: boolNode, name: t.text}, nil
		}
		return p.invocation()
	case punctTok:
		switch t.text {
		case "(":
			p.pos++
			n, err := p.expr(0)
			if err != nil {
				return nil, err
			}
			return n, p.expect(")")
		case "$this":
			p.pos++
			return &node{kind: thisNode}, nil
		}
	}
	return nil, fmt.Errorf("%w: unexpected %q", errSyntax, t.text)
}

// invocation parses an identifier or a function call.
func (p *parser) invocation() (*node, error) {
	t := p.peek()
	if t.kind != identTok {
		return nil, fmt.Errorf("%w: identifier expected", errSyntax)
	}
	p.pos++
	if n := p.peek(); n.kind != punctTok || n.text != "(" {
		return &node{kind: identNode, name: t.text}, nil
	}
	p.pos++
	call := &node{kind: callNode, name: t.text}
	if n := p.peek(); n.kind == punctTok && n.text == ")" {
		p.pos++
		return call, nil
	}
	for {
		arg, err := p.expr(0)
		if err != nil {
			return nil, err
		}
		call.args = append(call.args, arg)
		if n := p.peek(); n.kind == punctTok && n.text == "," {
			p.pos++
			continue
		}
		return call, p.expect(")")
	}
}

type tokenKind int

const (
	endTok tokenKind = iota
	identTok
	stringTok
	numberTok
	punctTok
)

type token struct {
	kind tokenKind
	text string
}

// lex splits a FHIRPath expression into tokens.
func lex(s string) ([]token, error) {
	var toks []token
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case isIdentByte(c, false):
			j := i + 1
			for j < len(s) && isIdentByte(s[j], true) {
				j++
			}
			toks = append(toks, token{identTok, s[i:j]})
			i = j
		case c == '`':
			j := strings.IndexByte(s[i+1:], '`')
			if j < 0 {
				return nil, fmt.Errorf("%w: unterminated identifier", errSyntax)
			}
			toks = append(toks, token{identTok, s[i+1 : i+1+j]})
			i += j + 2
		case c == '\'':
			text, n, err := unquote(s[i:])
			if err != nil {
				return nil, err
			}
			toks = append(toks, token{stringTok, text})
			i += n
		case c >= '0' && c <= '9':
			j := i + 1
			for j < len(s) && (s[j] >= '0' && s[j] <= '9' || s[j] == '.') {
				j++
			}
			toks = append(toks, token{numberTok, s[i:j]})
			i = j
		case strings.HasPrefix(s[i:], "$this"):
			toks = append(toks, token{punctTok, "$this"})
			i += len("$this")
		default:
			op := ""
			for _, o := range []string{"!=", "!~", "<=", ">=", ".", "(", ")", "[", "]", ",", "|", "=", "~", "<", ">"} {
				if strings.HasPrefix(s[i:], o) {
					op = o
					break
				}
			}
			if op == "" {
				return nil, fmt.Errorf("%w: unexpected %q", errSyntax, c)
			}
			toks = append(toks, token{punctTok, op})
			i += len(op)
		}
	}
	return toks, nil
}

// unquote reads the string literal at the start of s and returns its text
// and length in s.
func unquote(s string) (string, int, error) {
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch c := s[i]; c {
		case '\'':
			return b.String(), i + 1, nil
		case '\\':
			i++
			if i == len(s) {
				return "", 0, fmt.Errorf("%w: unterminated string", errSyntax)
			}
			switch e := s[i]; e {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			case '\'', '"', '`', '\\', '/':
				b.WriteByte(e)
			default:
				return "", 0, fmt.Errorf("%w: escape \\%c", errSyntax, e)
			}
		default:
			b.WriteByte(c)
		}
	}
	return "", 0, fmt.Errorf("%w: unterminated string", errSyntax)
}
