package printers

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"
	"sigs.k8s.io/yaml"

	"github.com/ktriage/ktriage/pkg/report"
)

// wholeJSON is what the JSON printer wrote before it streamed: the document
// encoded at once, indented, HTML characters left alone.
func wholeJSON(t testing.TB, v any) []byte {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// assertStreamedLikeWhole fails unless the JSON and YAML printers write
// exactly what the whole-document encoders write for v, or fail where they
// fail (YAML refuses control characters).
func assertStreamedLikeWhole(t *testing.T, v any) (comparedYAML bool) {
	t.Helper()
	var got bytes.Buffer
	if err := writeJSON(&got, v, "report"); err != nil {
		t.Fatal(err)
	}
	if want := wholeJSON(t, v); !bytes.Equal(got.Bytes(), want) {
		t.Fatalf("streamed JSON differs from the whole document's at byte %d:\n%s", firstDiff(got.Bytes(), want), diffContext(got.Bytes(), want))
	}
	got.Reset()
	err := writeYAML(&got, v, "report")
	want, wantErr := yaml.Marshal(v)
	switch {
	case wantErr != nil && err == nil:
		t.Fatalf("streamed YAML succeeded where sigs.k8s.io/yaml.Marshal fails: %v", wantErr)
	case wantErr == nil && err != nil:
		t.Fatalf("streamed YAML: %v", err)
	case err == nil && !bytes.Equal(got.Bytes(), want):
		t.Fatalf("streamed YAML differs from sigs.k8s.io/yaml.Marshal's at byte %d:\n%s", firstDiff(got.Bytes(), want), diffContext(got.Bytes(), want))
	}
	return err == nil
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func diffContext(got, want []byte) string {
	i := firstDiff(got, want)
	from := max(0, i-200)
	return fmt.Sprintf("got:\n%s\n---\nwant:\n%s", got[from:min(len(got), i+200)], want[from:min(len(want), i+200)])
}

// streamDoc has what reports hold and what the walk must hand to
// encoding/json whole: an embedded report inline, omitempty of every kind,
// pointers, maps, interfaces, Marshalers by value and by pointer, long lists
// of structs and short ones to walk into, byte slices, fields named by tag,
// by field name and by an invalid tag.
type streamDoc struct {
	report.Report `json:",inline"`
	Pods          []streamPod           `json:"pods"`
	Nodes         []*streamNode         `json:"nodes,omitempty"`
	Runs          []streamRun           `json:"runs"`
	Matrix        [][]string            `json:"matrix,omitempty"`
	Counts        map[string]int        `json:"counts,omitempty"`
	Extra         any                   `json:"extra,omitempty"`
	Raw           []byte                `json:"raw,omitempty"`
	When          time.Time             `json:"when"`
	Quantity      resource.Quantity     `json:"quantity"`
	Quantities    []resource.Quantity   `json:"quantities"`
	Marshaled     streamMarshaler       `json:"marshaled"`
	PtrMarshaled  streamPtrMarshaler    `json:"ptrMarshaled"`
	Plain         string                // no tag: the field's name
	Skipped       string                `json:"-"`
	Labels        map[string]string     `json:"labels"`
	Nested        streamNested          `json:"nested"`
	NestedPtr     *streamNested         `json:"nestedPtr,omitempty"`
	Floats        []float64             `json:"floats,omitempty"`
	Flag          bool                  `json:"flag,omitempty"`
	Small         uint8                 `json:"small,omitempty"`
	ByName        map[string]*streamPod `json:"byName,omitempty"`
	unexported    string
}

type streamPod struct {
	Namespace  string            `json:"namespace"`
	Name       string            `json:"name"`
	Class      string            `json:"qosClass"`
	Node       string            `json:"node,omitempty"`
	Owner      *report.ObjectRef `json:"workload,omitempty"`
	Containers []streamContainer `json:"containers"`
	Score      *int              `json:"score,omitempty"`
	Ratio      float64           `json:"ratio"`
	Notes      []string          `json:"notes,omitempty"`
}

type streamContainer struct {
	Name     string            `json:"name"`
	Requests map[string]string `json:"requests,omitempty"`
	Limits   map[string]string `json:"limits,omitempty"`
	Adj      *int              `json:"oomScoreAdj,omitempty"`
}

type streamNode struct {
	Name  string      `json:"name"`
	Order []streamPod `json:"evictionOrder"`
	Props any         `json:"props"`
}

type streamRun struct {
	Tool    string         `json:"tool"`
	Results []streamResult `json:"results"`
}

type streamResult struct {
	RuleID  string         `json:"ruleId"`
	Message string         `json:"message"`
	Props   map[string]any `json:"properties,omitempty"`
}

type streamNested struct {
	Inner  []streamPod `json:"inner"`
	Count  int         `json:"count"`
	Hidden string      `json:"-"`
	//lint:ignore SA5008 a malformed name, which encoding/json ignores: the stream must too
	BadTag int `json:"bad\"tag,omitempty"`
	//lint:ignore SA5008 a field named "-", which the stream must name as encoding/json does
	Dash string `json:"-,"`
}

// streamMarshaler encodes itself, by value.
type streamMarshaler struct{ N int }

func (m streamMarshaler) MarshalJSON() ([]byte, error) {
	return []byte(fmt.Sprintf(`{ "n" : %d, "list": [1, 2] }`, m.N)), nil
}

// streamPtrMarshaler encodes itself only when addressable.
type streamPtrMarshaler struct{ S string }

func (m *streamPtrMarshaler) MarshalText() ([]byte, error) { return []byte("text:" + m.S), nil }

// streamStrings are strings that exercise escaping and YAML's quoting,
// block scalars and folding at 80 columns.
var streamStrings = []string{
	"", "a", "kube-system", "Guaranteed", "<none> & <more>", `quote " and \ backslash`, "tab\there",
	"line one\nline two\n", "trailing newline\n", "\n", " leading space", "trailing space ", "日本語の名前", "emoji 🙂",
	"true", "no", "null", "~", "123", "0x1F", "1e3", "-", "- dash", ": colon", "key: value", "#comment", "'single'",
	"@at", "`backtick`", "%percent", "!bang", "*star", "&amp", "|pipe", ">gt", "[list]", "{map}", "a, b", "?question",
	"\u2028line sep", "\u00a0nbsp",
	strings.Repeat("word ", 40),
	strings.Repeat("x", 200),
	"the pod requests 4 CPU but no node has it: 2000 nodes were checked and every one of them is too small for it, see the events",
	strings.Repeat("multi line with a long line that goes on past the eighty column mark for sure\n", 3),
}

// controlStrings have characters sigs.k8s.io/yaml refuses (or cannot read
// back from JSON).
var controlStrings = []string{"\x00nul", "\x7f", "bell\a", "\x1b[31mred", "\u0085next line", "\ufeffbom"}

type filler struct {
	r     *rand.Rand
	depth int
	// control: some strings hold control characters.
	control bool
}

func (f *filler) str() string {
	if f.control && f.r.IntN(500) == 0 {
		return controlStrings[f.r.IntN(len(controlStrings))]
	}
	if f.r.IntN(3) == 0 {
		return streamStrings[f.r.IntN(len(streamStrings))]
	}
	return f.word("abcdefghijklmnopqrstuvwxyz0123456789-./ ", 30)
}

// word is 1 to most bytes drawn from letters.
func (f *filler) word(letters string, most int) string {
	b := make([]byte, 1+f.r.IntN(most))
	for i := range b {
		b[i] = letters[f.r.IntN(len(letters))]
	}
	return string(b)
}

// streamKeys are map keys as reports have them.
var streamKeys = []string{"cpu", "memory", "ephemeral-storage", "hugepages-2Mi", "hugepages-1Gi", "nvidia.com/gpu", "pods", "", "a b", "<x>", "on", "true", "null", "key: value", "ünïcode"}

// key is a map key. Keys where digits meet letters are left out: YAML sorts
// keys with a comparison that is not transitive on them ("123" < "1e3" <
// "8x" < "123"), so their order in sigs.k8s.io/yaml's output depends on the
// map's iteration order, whole document or not.
func (f *filler) key() string {
	if f.r.IntN(2) == 0 {
		return streamKeys[f.r.IntN(len(streamKeys))]
	}
	return f.word("abcdefghijklmnopqrstuvwxyz-./ ", 20)
}

// anyValue is a value as JSON decoding would give one, or a typed one.
func (f *filler) anyValue() any {
	if f.depth > 3 {
		return f.str()
	}
	f.depth++
	defer func() { f.depth-- }()
	switch f.r.IntN(9) {
	case 0:
		return nil
	case 1:
		return f.r.IntN(1000) - 500
	case 2:
		return f.r.Float64() * 1e6
	case 3:
		return f.r.IntN(2) == 0
	case 4:
		m := map[string]any{}
		for range f.r.IntN(4) {
			m[f.key()] = f.anyValue()
		}
		return m
	case 5:
		var l []any
		for range f.r.IntN(4) {
			l = append(l, f.anyValue())
		}
		return l
	case 6:
		return []string{f.str(), f.str()}
	case 7:
		return int64(math.MaxInt64 - f.r.IntN(10))
	}
	return f.str()
}

// fill sets v (settable) to a random value of its type.
func (f *filler) fill(v reflect.Value) {
	switch v.Type() {
	case reflect.TypeFor[time.Time]():
		v.Set(reflect.ValueOf(time.Date(2026, 1+time.Month(f.r.IntN(12)), 1+f.r.IntN(28), f.r.IntN(24), 0, 0, f.r.IntN(1e9), time.UTC)))
		return
	case reflect.TypeFor[resource.Quantity]():
		qs := []string{"0", "100m", "1", "1.5", "128Mi", "1Gi", "2G", "1e3", "500k"}
		v.Set(reflect.ValueOf(resource.MustParse(qs[f.r.IntN(len(qs))])))
		return
	case reflect.TypeFor[report.Severity]():
		v.Set(reflect.ValueOf(report.Severity(f.r.IntN(4))))
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(f.str())
	case reflect.Bool:
		v.SetBool(f.r.IntN(2) == 0)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if f.r.IntN(3) > 0 {
			v.SetInt(int64(f.r.IntN(200) - 100))
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if f.r.IntN(3) > 0 {
			v.SetUint(uint64(f.r.IntN(200)))
		}
	case reflect.Float32, reflect.Float64:
		switch f.r.IntN(4) {
		case 0:
		case 1:
			v.SetFloat(math.Copysign(0, -1))
		case 2:
			v.SetFloat(f.r.Float64() * 1e22)
		default:
			v.SetFloat(f.r.Float64())
		}
	case reflect.Pointer:
		if f.r.IntN(3) == 0 || f.depth > 4 {
			return
		}
		p := reflect.New(v.Type().Elem())
		f.fill(p.Elem())
		v.Set(p)
	case reflect.Interface:
		if x := f.anyValue(); x != nil {
			v.Set(reflect.ValueOf(x))
		}
	case reflect.Slice:
		switch f.r.IntN(4) {
		case 0:
			return // nil
		case 1:
			v.Set(reflect.MakeSlice(v.Type(), 0, 0))
			return
		}
		n := 1 + f.r.IntN(walkedListLen+4)
		if f.depth > 2 {
			n = f.r.IntN(3)
		}
		s := reflect.MakeSlice(v.Type(), n, n)
		f.depth++
		for i := range n {
			f.fill(s.Index(i))
		}
		f.depth--
		v.Set(s)
	case reflect.Map:
		if f.r.IntN(3) == 0 {
			return
		}
		m := reflect.MakeMap(v.Type())
		f.depth++
		for range f.r.IntN(5) {
			k := reflect.New(v.Type().Key()).Elem()
			k.SetString(f.key())
			e := reflect.New(v.Type().Elem()).Elem()
			f.fill(e)
			m.SetMapIndex(k, e)
		}
		f.depth--
		v.Set(m)
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				f.fill(v.Field(i))
			}
		}
	}
}

// TestStreamedLikeWhole: the printers write the bytes of the whole-document
// encoders, on random documents with long lists.
func TestStreamedLikeWhole(t *testing.T) {
	for seed := range uint64(10) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			f := &filler{r: rand.New(rand.NewPCG(seed, 17)), control: seed%8 == 7}
			// YAML lists go in batches of every size: one element, a few, all.
			defer func(n int) { yamlBatchSize = n }(yamlBatchSize)
			yamlBatchSize = []int{1, 2000, 20000, 1 << 30}[seed%4]
			doc := &streamDoc{}
			f.fill(reflect.ValueOf(doc).Elem())
			// Long lists, so that elements are marshalled one by one.
			for range 20 + f.r.IntN(100) {
				var p streamPod
				f.fill(reflect.ValueOf(&p).Elem())
				doc.Pods = append(doc.Pods, p)
			}
			for range 20 {
				var fd report.Finding
				f.fill(reflect.ValueOf(&fd).Elem())
				doc.Findings = append(doc.Findings, fd)
			}
			if _, ok := yamlMembers(reflect.ValueOf(doc)); !ok {
				t.Fatal("the YAML printer would not stream the document")
			}
			if !assertStreamedLikeWhole(t, doc) && !f.control {
				t.Error("sigs.k8s.io/yaml cannot write the document: nothing was compared")
			}
		})
	}
}

// Types the walk leaves to encoding/json: names that clash, an embedded
// pointer, ",string" and ",omitzero".
type (
	clashA    struct{ Name, A string }
	clashB    struct{ Name, B string }
	streamOdd struct {
		clashA
		clashB
		*streamNested
		Count int       `json:"count,string"`
		Zero  time.Time `json:"zero,omitzero"`
	}
	streamOdd2 struct {
		Pods []streamPod `json:"pods"`
		Zero time.Time   `json:"zero,omitzero"`
	}
)

func TestStreamedLikeWholeForEveryFormatInput(t *testing.T) {
	r := newFakeReport(true)
	assertStreamedLikeWhole(t, r)
	assertStreamedLikeWhole(t, SARIF(r.Base()))
	pods := make([]streamPod, 2*walkedListLen)
	for i := range pods {
		pods[i].Name = fmt.Sprint("pod-", i)
	}
	for _, v := range []any{nil, 3, "s", []int{}, []streamPod(nil), &streamDoc{unexported: "x"}, streamDoc{}, map[string]int{"a": 1},
		(*streamDoc)(nil), struct{}{}, &struct{}{}, pods, &pods, [][]streamPod{pods, nil, {}},
		&streamOdd{clashA: clashA{Name: "a"}, clashB: clashB{Name: "b"}, streamNested: &streamNested{Inner: pods}, Count: 3},
		streamOdd{}, &streamOdd2{Pods: pods}} {
		assertStreamedLikeWhole(t, v)
	}
}

// failWriter fails every write after the first n bytes, as a closed pipe does.
type failWriter struct {
	n       int
	written int
	writes  int
}

var errClosedPipe = errors.New("write |1: broken pipe")

func (w *failWriter) Write(b []byte) (int, error) {
	w.writes++
	if w.written+len(b) > w.n {
		k := max(0, w.n-w.written)
		w.written += k
		return k, errClosedPipe
	}
	w.written += len(b)
	return len(b), nil
}

// TestWriteErrorEndsThePrint: a failed write comes back as it is (the
// command turns it into one line and exit code 2), and the printer stops
// writing instead of encoding the rest of the document.
func TestWriteErrorEndsThePrint(t *testing.T) {
	f := &filler{r: rand.New(rand.NewPCG(1, 2))}
	doc := &streamDoc{}
	for range 400 {
		var p streamPod
		f.fill(reflect.ValueOf(&p).Elem())
		doc.Pods = append(doc.Pods, p)
	}
	if n := len(wholeJSON(t, doc)); n < 2*outBufferSize {
		t.Fatalf("a document of %d bytes fits the output buffer", n)
	}
	for _, format := range []string{"json", "yaml"} {
		for _, n := range []int{0, 100, outBufferSize + 10} {
			w := &failWriter{n: n}
			var err error
			if format == "json" {
				err = writeJSON(w, doc, "report")
			} else {
				err = writeYAML(w, doc, "report")
			}
			if !errors.Is(err, errClosedPipe) {
				t.Errorf("%s after %d bytes: error %v, want the write's", format, n, err)
			}
			if w.writes > 2 {
				t.Errorf("%s after %d bytes: %d writes: the printer went on after the output failed", format, n, w.writes)
			}
		}
	}
}

// TestEncodingErrorIsNamed: a value JSON cannot hold fails the print with
// what was being encoded, and nothing half-written hides it.
func TestEncodingErrorIsNamed(t *testing.T) {
	doc := &streamDoc{Floats: []float64{1, math.NaN()}}
	for _, format := range []string{"json", "yaml"} {
		var err error
		if format == "json" {
			err = writeJSON(io.Discard, doc, "report")
		} else {
			err = writeYAML(io.Discard, doc, "report")
		}
		if err == nil || !strings.Contains(err.Error(), "encoding report as "+strings.ToUpper(format)) || !strings.Contains(err.Error(), "NaN") {
			t.Errorf("%s: error %v", format, err)
		}
	}
}

// TestEveryFormatReturnsTheWriteError: whatever the format, a failed write
// is the print's error, so the command says what failed and exits 2.
func TestEveryFormatReturnsTheWriteError(t *testing.T) {
	for _, format := range Formats {
		for _, n := range []int{0, 200} {
			if err := Print(&failWriter{n: n}, format, newFakeReport(true), Options{}); !errors.Is(err, errClosedPipe) {
				t.Errorf("%s, output closed after %d bytes: error %v, want the write's", format, n, err)
			}
		}
	}
}
