package transport

import (
	"encoding"
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// maxEcho bounds how much of a client's input an error message quotes.
const maxEcho = 48

// clip returns s cut to at most maxEcho bytes (on a character boundary),
// with "…" when something was cut: error messages quote at most a short
// prefix of what the client sent.
func clip(s string) string {
	if len(s) <= maxEcho {
		return s
	}
	cut := maxEcho
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// errMalformed is checkStrict's verdict on JSON it cannot follow: the
// decoder then reports the syntax error in its own words.
var errMalformed = errors.New("malformed JSON")

// maxDepth bounds the nesting the scan follows, as encoding/json does.
const maxDepth = 10000

// checkStrict scans data once, before it is decoded into a value of type
// t, for what encoding/json accepts silently: invalid UTF-8 (which it
// replaces with U+FFFD), lone UTF-16 surrogates in \u escapes (same),
// duplicate keys (it keeps the last) at any depth, and keys that match a
// struct field only case-insensitively. It returns an INVALID_BODY error
// naming the key, errMalformed when the JSON is not well formed, or nil.
// Syntax is otherwise left to the decoder.
func checkStrict(data []byte, t reflect.Type) error {
	sc := scanner{data: data}
	return sc.value(t)
}

type scanner struct {
	data  []byte
	pos   int
	depth int
	path  []pathElem // where the scan is, for messages
}

// pathElem is an object key (index -1) or an array index.
type pathElem struct {
	key   string
	index int
}

// where returns the scan's position as "a.b[2].c".
func (s *scanner) where() string {
	var b strings.Builder
	for _, e := range s.path {
		if e.index >= 0 {
			b.WriteString("[" + strconv.Itoa(e.index) + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(e.key)
	}
	return b.String()
}

func (s *scanner) skipSpace() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

// value scans one JSON value that decodes into t (nil: anything).
func (s *scanner) value(t reflect.Type) error {
	s.skipSpace()
	if s.pos >= len(s.data) {
		return errMalformed
	}
	switch c := s.data[s.pos]; c {
	case '{':
		return s.object(t)
	case '[':
		return s.array(t)
	case '"':
		_, err := s.str(false)
		return err
	default:
		// A number or a literal: ASCII up to the next delimiter. The
		// decoder checks its grammar.
		start := s.pos
		for s.pos < len(s.data) {
			c := s.data[s.pos]
			if c == ',' || c == '}' || c == ']' || c == ' ' || c == '\t' || c == '\n' || c == '\r' {
				break
			}
			if c >= utf8.RuneSelf {
				return s.utf8Error()
			}
			s.pos++
		}
		if s.pos == start {
			return errMalformed
		}
		return nil
	}
}

func (s *scanner) enter() error {
	s.depth++
	if s.depth > maxDepth {
		return errMalformed
	}
	return nil
}

func (s *scanner) object(t reflect.Type) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer func() { s.depth-- }()
	s.pos++ // {
	t = target(t)
	var fields *structFields
	var elem reflect.Type
	if t != nil {
		switch t.Kind() {
		case reflect.Struct:
			fields = fieldsOf(t)
		case reflect.Map:
			elem = t.Elem()
		}
	}
	var seen []string // few keys: a slice beats a map
	var seenSet map[string]struct{}
	s.skipSpace()
	if s.pos < len(s.data) && s.data[s.pos] == '}' {
		s.pos++
		return nil
	}
	for {
		s.skipSpace()
		if s.pos >= len(s.data) || s.data[s.pos] != '"' {
			return errMalformed
		}
		key, err := s.str(true)
		if err != nil {
			return err
		}
		if dup := seenKey(&seen, &seenSet, key); dup {
			if len(s.path) == 0 {
				return ErrInvalidBody.WithMessage("duplicate key %q", clip(key))
			}
			return ErrInvalidBody.WithMessage("duplicate key %q in %s", clip(key), clip(s.where()))
		}
		next := elem
		if fields != nil {
			ft, ok := fields.exact[key]
			if !ok {
				if name, folded := fields.folded[strings.ToLower(key)]; folded {
					return ErrInvalidBody.WithMessage("unknown field %q: field names are case-sensitive; did you mean %q?", clip(key), name)
				}
				return ErrInvalidBody.WithMessage("unknown field %q", clip(key))
			}
			next = ft
		}
		s.skipSpace()
		if s.pos >= len(s.data) || s.data[s.pos] != ':' {
			return errMalformed
		}
		s.pos++
		s.path = append(s.path, pathElem{key: key, index: -1})
		if err := s.value(next); err != nil {
			return err
		}
		s.path = s.path[:len(s.path)-1]
		if done, err := s.afterMember('}'); done || err != nil {
			return err
		}
	}
}

func (s *scanner) array(t reflect.Type) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer func() { s.depth-- }()
	s.pos++ // [
	t = target(t)
	var elem reflect.Type
	if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
		elem = t.Elem()
	}
	s.skipSpace()
	if s.pos < len(s.data) && s.data[s.pos] == ']' {
		s.pos++
		return nil
	}
	for i := 0; ; i++ {
		s.path = append(s.path, pathElem{index: i})
		if err := s.value(elem); err != nil {
			return err
		}
		s.path = s.path[:len(s.path)-1]
		if done, err := s.afterMember(']'); done || err != nil {
			return err
		}
	}
}

// str scans a string starting at its opening quote and, when decode is
// set, returns its value.
func (s *scanner) str(decode bool) (string, error) {
	s.pos++ // "
	start, escaped := s.pos, false
	for s.pos < len(s.data) {
		c := s.data[s.pos]
		switch {
		case c == '"':
			raw := s.data[start:s.pos]
			s.pos++
			if !decode {
				return "", nil
			}
			if !escaped {
				return string(raw), nil
			}
			var v string
			if err := json.Unmarshal(s.data[start-1:s.pos], &v); err != nil {
				return "", errMalformed
			}
			return v, nil
		case c == '\\':
			escaped = true
			if s.pos+1 >= len(s.data) {
				return "", errMalformed
			}
			if s.data[s.pos+1] != 'u' {
				s.pos += 2
				continue
			}
			r, ok := s.hex4(s.pos + 2)
			if !ok {
				return "", errMalformed
			}
			switch {
			case r >= 0xD800 && r < 0xDC00:
				// A high surrogate needs a low one right after it.
				if s.pos+12 > len(s.data) || s.data[s.pos+6] != '\\' || s.data[s.pos+7] != 'u' {
					return "", s.surrogateError()
				}
				if lo, ok := s.hex4(s.pos + 8); !ok || lo < 0xDC00 || lo > 0xDFFF {
					return "", s.surrogateError()
				}
				s.pos += 12
			case r >= 0xDC00 && r <= 0xDFFF:
				return "", s.surrogateError()
			default:
				s.pos += 6
			}
		case c < 0x20:
			return "", errMalformed
		case c < utf8.RuneSelf:
			s.pos++
		default:
			r, size := utf8.DecodeRune(s.data[s.pos:])
			if r == utf8.RuneError && size == 1 {
				return "", s.utf8Error()
			}
			s.pos += size
		}
	}
	return "", errMalformed
}

// hex4 decodes the four hex digits at i.
func (s *scanner) hex4(i int) (rune, bool) {
	if i+4 > len(s.data) {
		return 0, false
	}
	var r rune
	for _, c := range s.data[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

func (s *scanner) utf8Error() error {
	return ErrInvalidBody.WithMessage("the request body is not valid UTF-8 (at byte %d)", s.pos)
}

func (s *scanner) surrogateError() error {
	return ErrInvalidBody.WithMessage("a \\u escape at byte %d is a lone UTF-16 surrogate, not a character", s.pos)
}

// seenKey records key and reports whether it was already there.
func seenKey(seen *[]string, set *map[string]struct{}, key string) bool {
	if *set != nil {
		if _, ok := (*set)[key]; ok {
			return true
		}
		(*set)[key] = struct{}{}
		return false
	}
	for _, k := range *seen {
		if k == key {
			return true
		}
	}
	*seen = append(*seen, key)
	if len(*seen) > 16 {
		*set = make(map[string]struct{}, 2*len(*seen))
		for _, k := range *seen {
			(*set)[k] = struct{}{}
		}
	}
	return false
}

var (
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// target is the type whose JSON shape the scan follows for t: pointers
// are followed, and types that decode themselves are anything (nil).
func target(t reflect.Type) reflect.Type {
	for t != nil {
		if t.Implements(jsonUnmarshaler) || reflect.PointerTo(t).Implements(jsonUnmarshaler) ||
			t.Implements(textUnmarshaler) || reflect.PointerTo(t).Implements(textUnmarshaler) {
			return nil
		}
		if t.Kind() != reflect.Pointer {
			return t
		}
		t = t.Elem()
	}
	return nil
}

// structFields are the JSON keys of a struct type: exact names with their
// field types, and the lower-cased names for the case-mismatch message.
type structFields struct {
	exact  map[string]reflect.Type
	folded map[string]string
}

var fieldCache sync.Map // reflect.Type → *structFields

func fieldsOf(t reflect.Type) *structFields {
	if f, ok := fieldCache.Load(t); ok {
		return f.(*structFields)
	}
	f := &structFields{exact: map[string]reflect.Type{}, folded: map[string]string{}}
	collectFields(t, f, map[reflect.Type]bool{})
	for name := range f.exact {
		f.folded[strings.ToLower(name)] = name
	}
	fieldCache.Store(t, f)
	return f
}

// collectFields adds t's fields, then those promoted from embedded
// structs (a shallower name wins, as in encoding/json).
func collectFields(t reflect.Type, f *structFields, visiting map[reflect.Type]bool) {
	if visiting[t] {
		return
	}
	visiting[t] = true
	var embedded []reflect.Type
	for i := range t.NumField() {
		sf := t.Field(i)
		tag := sf.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if sf.Anonymous && name == "" {
			et := sf.Type
			if et.Kind() == reflect.Pointer {
				et = et.Elem()
			}
			if et.Kind() == reflect.Struct {
				embedded = append(embedded, et)
				continue
			}
		}
		if !sf.IsExported() {
			continue
		}
		if name == "" {
			name = sf.Name
		}
		if _, ok := f.exact[name]; !ok {
			f.exact[name] = sf.Type
		}
	}
	for _, et := range embedded {
		collectFields(et, f, visiting)
	}
}

// afterMember consumes what follows an object member or array element: a
// comma (more follow) or the closing bracket (done).
func (s *scanner) afterMember(closing byte) (done bool, err error) {
	s.skipSpace()
	if s.pos >= len(s.data) {
		return false, errMalformed
	}
	switch s.data[s.pos] {
	case ',':
		s.pos++
		return false, nil
	case closing:
		s.pos++
		return true, nil
	}
	return false, errMalformed
}
