package printers

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"slices"

	"sigs.k8s.io/yaml"
)

// sigs.k8s.io/yaml.Marshal turns the whole document into JSON, the JSON into
// a tree of maps, and the tree into YAML: three copies of a report, the tree
// the largest. writeYAML goes through the same steps one top-level member at
// a time, and a few dozen elements at a time for a list: the elements are
// converted inside a one-member document of the same shape, so that the YAML
// writer sees them at the same place (indentation and line folding depend on
// the column), and the member's name the wrapper repeats is dropped.

// writeYAML writes v as sigs.k8s.io/yaml.Marshal would.
func writeYAML(w io.Writer, v any, what string) error {
	out := &errWriter{w: w}
	bw := bufio.NewWriterSize(out, outBufferSize)
	err := yamlDocument(bw, v)
	if err == nil {
		err = bw.Flush()
	}
	switch {
	case out.err != nil:
		return out.err // the output failed, not the encoding
	case err != nil:
		return fmt.Errorf("encoding %s as YAML: %w", what, err)
	}
	return nil
}

// member is one top-level member of the document.
type member struct {
	name  string
	value reflect.Value
}

func yamlDocument(w *bufio.Writer, v any) error {
	members, ok := yamlMembers(reflect.ValueOf(v))
	if !ok || len(members) == 0 {
		b, err := yaml.Marshal(v)
		if err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	}
	y := newYAMLPart()
	for _, m := range members {
		if !longList(m.value) {
			y.start(m.name, false)
			if err := y.add(m.value); err != nil {
				return err
			}
			if err := y.end(w, false, false); err != nil {
				return err
			}
			continue
		}
		y.start(m.name, true)
		first := true
		for i := range m.value.Len() {
			if err := y.add(m.value.Index(i)); err != nil {
				return err
			}
			if y.buf.Len() < yamlBatchSize && i < m.value.Len()-1 {
				continue
			}
			// Every batch's document starts with the member's name.
			if err := y.end(w, true, !first); err != nil {
				return err
			}
			first = false
			y.start(m.name, true)
		}
	}
	return nil
}

// yamlMembers are the members of the JSON object v encodes to, in the order
// YAML writes them (sorted), when the walk models v and the order is plain:
// YAML sorts keys with digits in them by number, and every report's keys are
// letters only.
func yamlMembers(v reflect.Value) ([]member, bool) {
	for v.IsValid() && v.Kind() == reflect.Pointer && !v.IsNil() && !marshalsItself(v.Type()) {
		v = v.Elem()
	}
	if !v.IsValid() || v.Kind() != reflect.Struct || marshalsItself(v.Type()) {
		return nil, false
	}
	f := fieldsOf(v.Type())
	if !f.ok {
		return nil, false
	}
	var out []member
	for _, fl := range f.fields {
		if !lettersOnly(fl.name) {
			return nil, false
		}
		fv := v.FieldByIndex(fl.index)
		if fl.omitEmpty && isEmptyValue(fv) {
			continue
		}
		out = append(out, member{name: fl.name, value: fv})
	}
	slices.SortFunc(out, func(a, b member) int {
		switch {
		case a.name < b.name:
			return -1
		case a.name > b.name:
			return 1
		}
		return 0
	})
	return out, true
}

func lettersOnly(s string) bool {
	for _, c := range []byte(s) {
		if (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') {
			return false
		}
	}
	return s != ""
}

// longList: a list worth converting element by element.
func longList(v reflect.Value) bool {
	t := v.Type()
	return t.Kind() == reflect.Slice && t.Elem().Kind() != reflect.Uint8 && !marshalsItself(t) &&
		v.Len() > walkedListLen
}

// yamlBatchSize is about how much JSON is converted to YAML at once: a few
// dozen elements of a list, so that the converter's set-up is not paid per
// element, nor the whole list held as a tree. (A variable for tests.)
var yamlBatchSize = 64 << 10

// yamlPart converts one member of the document, or a batch of elements of a
// list member, reusing its buffer.
type yamlPart struct {
	buf bytes.Buffer
	enc *json.Encoder // into buf
	n   int           // values in buf
}

func newYAMLPart() *yamlPart {
	y := &yamlPart{}
	y.enc = json.NewEncoder(&y.buf)
	return y
}

// start begins the JSON document {"name": or {"name":[.
func (y *yamlPart) start(name string, list bool) {
	y.buf.Reset()
	y.n = 0
	y.buf.WriteString(`{"`)
	y.buf.WriteString(name)
	y.buf.WriteString(`":`)
	if list {
		y.buf.WriteByte('[')
	}
}

// add appends v as json.Marshal encodes it.
func (y *yamlPart) add(v reflect.Value) error {
	if y.n > 0 {
		y.buf.WriteByte(',')
	}
	y.n++
	x := v
	if v.CanAddr() {
		x = v.Addr()
	}
	if err := y.enc.Encode(x.Interface()); err != nil {
		return fmt.Errorf("error marshaling into JSON: %w", err)
	}
	y.buf.Truncate(y.buf.Len() - 1) // Encode's newline
	return nil
}

// end closes the JSON document, converts it and writes the YAML, without
// its first line (the member's name) when dropName.
func (y *yamlPart) end(w io.Writer, list, dropName bool) error {
	if list {
		y.buf.WriteByte(']')
	}
	y.buf.WriteByte('}')
	b, err := yaml.JSONToYAML(y.buf.Bytes())
	if err != nil {
		return err
	}
	if dropName {
		b = b[bytes.IndexByte(b, '\n')+1:]
	}
	_, err = w.Write(b)
	return err
}
