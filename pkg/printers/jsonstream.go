package printers

import (
	"bufio"
	"encoding"
	"encoding/json"
	"io"
	"reflect"
	"strings"
	"sync"
	"unicode"
)

// A report can hold tens of thousands of pods: marshalling it whole and then
// indenting it holds the document two or three times over (the compact bytes,
// the indented copy, and their growth). The JSON and YAML printers write it
// part by part instead: the structs and lists of the document are walked here
// (only as deep as a list is short), and each element of a long list is
// marshalled on its own into a buffer that is reused, then written through
// one buffered writer. The bytes are the ones the whole-document encoders
// write (stream_test.go compares them on large random reports): the walk
// follows encoding/json's rules for field names, embedding and omitempty,
// and hands any value it does not model (a MarshalJSON method, an embedded
// pointer, a ",string" or ",omitzero" field, clashing names) to encoding/json
// whole.

// outBufferSize is the buffer between the printers and stdout.
const outBufferSize = 64 << 10

// walkedListLen is the longest list whose elements are walked into rather
// than marshalled whole: a SARIF log's one run holds all the results.
const walkedListLen = 8

// jsonStream writes one indented JSON document. The first write error stops
// it: w returns it from then on, out keeps it.
type jsonStream struct {
	w   *bufio.Writer
	out *errWriter // under w: the error the output returned
	enc *json.Encoder
	// leaf receives what enc writes, without the newline Encode adds.
	leaf trimNewline
}

func newJSONStream(w io.Writer) *jsonStream {
	s := &jsonStream{out: &errWriter{w: w}}
	s.w = bufio.NewWriterSize(s.out, outBufferSize)
	s.leaf.w = s.w
	s.enc = json.NewEncoder(&s.leaf)
	s.enc.SetEscapeHTML(false)
	return s
}

// document writes v and the newline json.Encoder.Encode ends with, and
// flushes.
func (s *jsonStream) document(v any) error {
	if err := s.value(reflect.ValueOf(v), 0); err != nil {
		return err
	}
	s.w.WriteByte('\n')
	return s.w.Flush()
}

// value writes v at nesting depth (its first line is already indented).
func (s *jsonStream) value(v reflect.Value, depth int) error {
	if !v.IsValid() {
		_, err := s.w.WriteString("null")
		return err
	}
	t := v.Type()
	if marshalsItself(t) {
		return s.marshal(v, depth)
	}
	switch t.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			_, err := s.w.WriteString("null")
			return err
		}
		if t.Elem().Kind() == reflect.Struct && !marshalsItself(t.Elem()) {
			return s.value(v.Elem(), depth)
		}
	case reflect.Struct:
		if f := fieldsOf(t); f.ok {
			return s.object(v, f.fields, depth)
		}
	case reflect.Slice:
		if v.IsNil() {
			_, err := s.w.WriteString("null")
			return err
		}
		if t.Elem().Kind() != reflect.Uint8 || marshalsItself(t.Elem()) {
			return s.array(v, depth)
		}
	}
	return s.marshal(v, depth)
}

func (s *jsonStream) object(v reflect.Value, fields []field, depth int) error {
	inner := indentOf(depth + 1)
	n := 0
	for i := range fields {
		f := &fields[i]
		fv := v.FieldByIndex(f.index)
		if f.omitEmpty && isEmptyValue(fv) {
			continue
		}
		if n == 0 {
			s.w.WriteString("{\n")
		} else {
			s.w.WriteString(",\n")
		}
		n++
		s.w.WriteString(inner)
		s.w.WriteString(f.key)
		if err := s.value(fv, depth+1); err != nil {
			return err
		}
	}
	if n == 0 {
		_, err := s.w.WriteString("{}")
		return err
	}
	s.w.WriteByte('\n')
	s.w.WriteString(indentOf(depth))
	_, err := s.w.WriteString("}")
	return err
}

func (s *jsonStream) array(v reflect.Value, depth int) error {
	if v.Len() == 0 {
		_, err := s.w.WriteString("[]")
		return err
	}
	inner := indentOf(depth + 1)
	walk := v.Len() <= walkedListLen
	for i := range v.Len() {
		if i == 0 {
			s.w.WriteString("[\n")
		} else {
			s.w.WriteString(",\n")
		}
		s.w.WriteString(inner)
		var err error
		if walk {
			err = s.value(v.Index(i), depth+1)
		} else {
			err = s.marshal(v.Index(i), depth+1)
		}
		if err != nil {
			return err
		}
	}
	s.w.WriteByte('\n')
	s.w.WriteString(indentOf(depth))
	_, err := s.w.WriteString("]")
	return err
}

// marshal writes v whole, as encoding/json does at that depth. An
// addressable v goes by pointer, as it does inside the whole document, so
// that a MarshalJSON method on the pointer is called the same way.
func (s *jsonStream) marshal(v reflect.Value, depth int) error {
	s.enc.SetIndent(indentOf(depth), "  ")
	x := v
	if v.CanAddr() {
		x = v.Addr()
	}
	err := s.enc.Encode(x.Interface())
	s.leaf.pending = false
	return err
}

// trimNewline passes writes on, holding back a final newline until more
// comes: json.Encoder ends every value with one.
type trimNewline struct {
	w       *bufio.Writer
	pending bool
}

func (t *trimNewline) Write(b []byte) (int, error) {
	n := len(b)
	if n == 0 {
		return 0, nil
	}
	if t.pending {
		t.pending = false
		if err := t.w.WriteByte('\n'); err != nil {
			return 0, err
		}
	}
	if b[n-1] == '\n' {
		t.pending, b = true, b[:n-1]
	}
	if _, err := t.w.Write(b); err != nil {
		return 0, err
	}
	return n, nil
}

// indentOf is the indentation of a line at depth.
func indentOf(depth int) string {
	if depth < len(indents) {
		return indents[depth]
	}
	return strings.Repeat("  ", depth)
}

var indents = func() []string {
	out := make([]string, 16)
	for i := range out {
		out[i] = strings.Repeat("  ", i)
	}
	return out
}()

// field is one member of a JSON object, as encoding/json names it.
type field struct {
	name      string
	key       string // "name": , as written in indented output
	index     []int
	omitEmpty bool
}

// structFields are a struct type's JSON members in encoding/json's order;
// ok is false when the type uses what the walk does not model.
type structFields struct {
	fields []field
	ok     bool
}

var fieldCache sync.Map // reflect.Type → structFields

func fieldsOf(t reflect.Type) structFields {
	if f, ok := fieldCache.Load(t); ok {
		return f.(structFields)
	}
	var f structFields
	f.fields, f.ok = typeFields(t, nil)
	if f.ok {
		seen := map[string]bool{}
		for _, fl := range f.fields {
			if seen[fl.name] {
				// encoding/json's dominance rules decide; leave it to them.
				f.ok = false
				break
			}
			seen[fl.name] = true
		}
	}
	fieldCache.Store(t, f)
	return f
}

// typeFields follows encoding/json's typeFields for the cases the walk
// models: exported fields, names from tags, and embedded structs (by value,
// of exported types, without a tag name) whose fields are promoted in place.
func typeFields(t reflect.Type, index []int) ([]field, bool) {
	var out []field
	for i := range t.NumField() {
		sf := t.Field(i)
		if sf.Anonymous {
			et := sf.Type
			if et.Kind() == reflect.Pointer {
				et = et.Elem()
			}
			if !sf.IsExported() && et.Kind() != reflect.Struct {
				continue
			}
		} else if !sf.IsExported() {
			continue
		}
		tag := sf.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if !validTag(name) {
			name = ""
		}
		var omitEmpty bool
		for o := range strings.SplitSeq(opts, ",") {
			switch o {
			case "omitempty":
				omitEmpty = true
			case "string", "omitzero":
				return nil, false
			}
		}
		idx := append(append([]int(nil), index...), i)
		ft := sf.Type
		if ft.Name() == "" && ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if name != "" || !sf.Anonymous || ft.Kind() != reflect.Struct {
			if name == "" {
				name = sf.Name
			}
			out = append(out, field{name: name, key: `"` + name + `": `, index: idx, omitEmpty: omitEmpty})
			continue
		}
		// An embedded struct whose fields are promoted.
		if sf.Type.Kind() == reflect.Pointer || !sf.IsExported() || marshalsItself(sf.Type) {
			return nil, false
		}
		inner, ok := typeFields(sf.Type, idx)
		if !ok {
			return nil, false
		}
		out = append(out, inner...)
	}
	return out, true
}

// validTag is encoding/json's isValidTag: other names fall back to the
// field's.
func validTag(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		switch {
		case strings.ContainsRune("!#$%&()*+-./:;<=>?@[]^_{|}~ ", c):
		case !unicode.IsLetter(c) && !unicode.IsDigit(c):
			return false
		}
	}
	return true
}

var (
	jsonMarshaler = reflect.TypeFor[json.Marshaler]()
	textMarshaler = reflect.TypeFor[encoding.TextMarshaler]()
)

// marshalsItself: encoding/json calls a method of t (or *t) instead of
// looking at its fields or elements.
func marshalsItself(t reflect.Type) bool {
	pt := reflect.PointerTo(t)
	return t.Implements(jsonMarshaler) || t.Implements(textMarshaler) ||
		pt.Implements(jsonMarshaler) || pt.Implements(textMarshaler)
}

// isEmptyValue is encoding/json's test for omitempty.
func isEmptyValue(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool,
		reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64,
		reflect.Interface, reflect.Pointer:
		return v.IsZero()
	}
	return false
}
