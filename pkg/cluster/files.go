package cluster

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	goruntime "runtime"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"golang.org/x/sync/errgroup"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	kjson "k8s.io/apimachinery/pkg/runtime/serializer/json"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/yaml"

	"github.com/ktriage/ktriage/pkg/report"
)

// StdinName is how objects read from "-" name their file.
const StdinName = "STDIN"

// FileOptions says which manifests LoadFiles reads.
type FileOptions struct {
	// Filenames are files or directories; "-" reads Stdin.
	Filenames []string
	// Recursive reads the subdirectories of directories too.
	Recursive bool
	// Stdin is read for "-"; nil means os.Stdin.
	Stdin io.Reader
	// MaxFileSize bounds each file and stdin (DefaultMaxFileSize when 0):
	// what the loader holds in memory grows with the input, so a larger
	// input is refused rather than read.
	MaxFileSize int64
}

// DefaultMaxFileSize is the largest manifest file LoadFiles reads: far above
// any manifest, and above the YAML dump of a cluster with tens of thousands
// of pods.
const DefaultMaxFileSize = 256 << 20

// manifestExtensions are the files a directory contributes (kubectl's set).
var manifestExtensions = []string{".yaml", ".yml", ".json"}

// LoadFiles reads manifests (multi-document YAML or JSON, List kinds) into a
// Snapshot, recording each object's file and line.
//
// Files named explicitly are read whatever their extension; directories
// contribute their *.yaml, *.yml and *.json files, in lexical order, and with
// Recursive those of their subdirectories. Kinds with a typed Snapshot field
// (at the exact apiVersion of the field) are decoded into it; all other
// objects (custom resources, other versions) go to Other. Lists ("kind:
// List" as kubectl get -o yaml prints, or typed lists such as PodList) are
// unpacked into their items, so offline dumps load like manifests. Loaded is
// set for every typed kind that was read. Namespaces are left as written; use
// DefaultNamespace to apply the namespace the objects are meant for.
//
// Errors are one line: "cannot read FILE: ..." for paths, "FILE:LINE: ..."
// for a file larger than MaxFileSize or a document that is not a valid
// object: malformed YAML or JSON, a key set twice in one mapping, an
// apiVersion Kubernetes does not serve or a kind its API group does not
// have. Unknown fields are accepted and reported as Snapshot warnings; an
// object defined twice keeps the later definition, with a warning.
func LoadFiles(opts FileOptions) (*Snapshot, error) {
	if opts.MaxFileSize <= 0 {
		opts.MaxFileSize = DefaultMaxFileSize
	}
	l := &fileLoader{b: newBuilder(), snap: &Snapshot{Loaded: map[Kind]bool{}}, strict: map[string]*repeated{}}
	stdinRead := false
	for _, name := range opts.Filenames {
		if name == "-" {
			if stdinRead {
				return nil, errors.New("stdin (-) can be read only once: pass -f - a single time")
			}
			stdinRead = true
			in := opts.Stdin
			if in == nil {
				in = os.Stdin
			}
			data, err := ReadAll(StdinName, in, opts.MaxFileSize)
			if err != nil {
				return nil, fileError(StdinName, err)
			}
			if err := l.parse(StdinName, data); err != nil {
				return nil, err
			}
			continue
		}
		files, err := expand(name, opts.Recursive)
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			data, err := ReadFile(f, opts.MaxFileSize)
			if err != nil {
				return nil, fileError(f, err)
			}
			if err := l.parse(f, data); err != nil {
				return nil, err
			}
		}
	}
	for _, r := range l.strict {
		if r.more > 0 {
			l.snap.Warnings[r.warning] += fmt.Sprintf(" (and in %d more %s objects)", r.more, r.kind)
		}
	}
	l.b.build(l.snap)
	return l.snap, nil
}

// expand turns a path into the files to read.
func expand(name string, recursive bool) ([]string, error) {
	info, err := os.Stat(name)
	if err != nil {
		return nil, readError(name, err)
	}
	if !info.IsDir() {
		return []string{name}, nil
	}
	var files []string
	hasSubdirs := false
	err = filepath.WalkDir(name, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return readError(path, err)
		}
		if d.IsDir() {
			if path != name && !recursive {
				hasSubdirs = true
				return filepath.SkipDir
			}
			return nil
		}
		if isManifest(path) {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		hint := ""
		if hasSubdirs {
			hint = "; add -R to read its subdirectories"
		}
		return nil, fmt.Errorf("%s: no .yaml, .yml or .json files in this directory%s", name, hint)
	}
	return files, nil
}

func isManifest(path string) bool {
	ext := strings.ToLower(filepath.Ext(path))
	for _, e := range manifestExtensions {
		if ext == e {
			return true
		}
	}
	return false
}

// ReadFile reads a file of at most max bytes (DefaultMaxFileSize when max
// is 0). A larger file is refused with a *SizeError before it is read; a
// device or pipe, which has no size, is refused once max bytes were read.
// Other failures are returned as the os package gives them.
func ReadFile(name string, max int64) ([]byte, error) {
	if max <= 0 {
		max = DefaultMaxFileSize
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() && st.Size() > max {
		return nil, &SizeError{Name: name, Size: st.Size(), Max: max}
	}
	return ReadAll(name, f, max)
}

// ReadAll reads r (named name in errors) to its end, refusing more than
// max bytes (DefaultMaxFileSize when max is 0) with a *SizeError. It reads
// into chunks joined once at the end, so an endless input costs at most max
// bytes before it is refused.
func ReadAll(name string, r io.Reader, max int64) ([]byte, error) {
	if max <= 0 {
		max = DefaultMaxFileSize
	}
	var (
		chunks [][]byte
		total  int64
		size   = int64(64 << 10)
	)
	for total <= max {
		chunk := make([]byte, min(size, max+1-total))
		n, err := io.ReadFull(r, chunk)
		chunks = append(chunks, chunk[:n])
		total += int64(n)
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return bytes.Join(chunks, nil), nil
		}
		if err != nil {
			return nil, err
		}
		size = min(2*size, 8<<20)
	}
	return nil, &SizeError{Name: name, Size: -1, Max: max}
}

// SizeError is a file larger than the most the loader reads.
type SizeError struct {
	Name string
	Size int64 // -1 when unknown (a pipe): more than Max
	Max  int64
}

func (e *SizeError) Error() string {
	what := "more than " + byteSize(e.Max)
	if e.Size >= 0 {
		what = byteSize(e.Size) + ", " + what
	}
	return fmt.Sprintf("%s:1: the file is %s, the most a manifest file may be: split it, or check that it is the file you meant", e.Name, what)
}

// fileError says why a file could not be read, in one line.
func fileError(name string, err error) error {
	var se *SizeError
	if errors.As(err, &se) {
		return err
	}
	return readError(name, err)
}

// byteSize renders a size in the largest binary unit that keeps it >= 1.
func byteSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d bytes", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 4; m /= unit {
		div *= unit
		exp++
	}
	v := float64(n) / float64(div)
	suffix := []string{"KiB", "MiB", "GiB", "TiB", "PiB"}[exp]
	if v == float64(int64(v)) {
		return fmt.Sprintf("%d %s", int64(v), suffix)
	}
	return fmt.Sprintf("%.1f %s", v, suffix)
}

// readError says which path could not be read and why, without Go's
// "open"/"stat" prefixes.
func readError(name string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return fmt.Errorf("cannot read %s: %w", name, err)
}

// fileLoader accumulates the objects of every file.
type fileLoader struct {
	b    *builder
	snap *Snapshot
	// strict counts repeats of the same unknown-field warning (a dump of
	// thousands of pods from a newer cluster would repeat it for each).
	strict map[string]*repeated
}

type repeated struct {
	warning int // index in snap.Warnings
	more    int
	kind    string
}

var (
	utf8BOM    = []byte{0xEF, 0xBB, 0xBF}
	utf16BOMBE = []byte{0xFE, 0xFF}
	utf16BOMLE = []byte{0xFF, 0xFE}
)

// parse reads every document of one file.
func (l *fileLoader) parse(file string, data []byte) error {
	if bytes.HasPrefix(data, utf16BOMBE) || bytes.HasPrefix(data, utf16BOMLE) {
		return fmt.Errorf("%s:1: the file is UTF-16 encoded; save it as UTF-8", file)
	}
	data = bytes.TrimPrefix(data, utf8BOM)
	// Line numbers count "\n"; Windows line endings would otherwise leave "\r"
	// in values and separators.
	data = bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n"))
	var (
		objs []decoded
		err  error
	)
	if isJSON(data) {
		objs, err = parseJSONStream(file, data)
		if err != nil {
			// A YAML stream may open with a flow mapping ("{...}\n---").
			if yobjs, yerr := parseYAMLStream(file, data); yerr == nil {
				objs, err = yobjs, nil
			}
		}
	} else {
		objs, err = parseYAMLStream(file, data)
	}
	if err != nil {
		return err
	}
	for _, d := range objs {
		l.add(d)
	}
	return nil
}

// parseYAMLStream reads every document of a YAML stream. Parsing YAML is the
// expensive part: documents are parsed in parallel, returned in file order.
func parseYAMLStream(file string, data []byte) ([]decoded, error) {
	docs := splitYAML(data)
	results := make([][]decoded, len(docs))
	errs := make([]error, len(docs))
	var g errgroup.Group
	g.SetLimit(goruntime.GOMAXPROCS(0))
	for i, d := range docs {
		g.Go(func() error {
			results[i], errs[i] = parseYAMLDocument(file, d)
			return nil
		})
	}
	_ = g.Wait()
	var out []decoded
	for i := range docs {
		if errs[i] != nil {
			return nil, errs[i]
		}
		out = append(out, results[i]...)
	}
	return out, nil
}

// isJSON says whether the file is a stream of JSON objects rather than YAML.
func isJSON(data []byte) bool {
	t := bytes.TrimLeft(data, " \t\n")
	return len(t) > 0 && t[0] == '{'
}

// yamlDoc is one document of a YAML stream and the file line it starts on.
type yamlDoc struct {
	data  []byte
	start int // 1-based line of data's first byte
}

// splitYAML cuts a YAML stream at "---" separator lines (which may carry a
// comment), keeping each document's first line number.
func splitYAML(data []byte) []yamlDoc {
	var docs []yamlDoc
	start, line, docStart := 0, 1, 1
	for off := 0; off < len(data); {
		end := bytes.IndexByte(data[off:], '\n')
		next := len(data)
		if end >= 0 {
			next = off + end + 1
		}
		if isSeparator(data[off:next]) {
			docs = append(docs, yamlDoc{data: data[start:off], start: docStart})
			start, docStart = next, line+1
		}
		off = next
		line++
	}
	return append(docs, yamlDoc{data: data[start:], start: docStart})
}

func isSeparator(line []byte) bool {
	if !bytes.HasPrefix(line, []byte("---")) {
		return false
	}
	rest := line[3:]
	t := bytes.TrimSpace(rest)
	return len(t) == 0 || (rest[0] == ' ' || rest[0] == '\t') && t[0] == '#'
}

// firstContentLine is the line of the first line that is not blank or a
// comment (where the object begins), or 0 if there is none.
func firstContentLine(data []byte, start int) int {
	line := start
	for _, l := range bytes.Split(data, []byte("\n")) {
		t := bytes.TrimSpace(l)
		if len(t) > 0 && t[0] != '#' && !bytes.Equal(t, []byte("...")) {
			return line
		}
		line++
	}
	return 0
}

var (
	yamlLineRE = regexp.MustCompile(`^(?:error converting YAML to JSON: )?yaml: line (\d+): `)
	// yamlUnmarshalRE is the first of go-yaml's "unmarshal errors", which
	// strict decoding gives for a key set twice in one mapping.
	yamlUnmarshalRE = regexp.MustCompile(`(?s)^(?:error converting YAML to JSON: )?yaml: unmarshal errors:\s*line (\d+): ([^\n]*)`)
	duplicateKeyRE  = regexp.MustCompile(`^key (".*") already set in map$`)
	mergeKeyRE      = regexp.MustCompile(`(?m)(^|[\s{,])<<\s*:`)
)

func parseYAMLDocument(file string, d yamlDoc) ([]decoded, error) {
	objLine := firstContentLine(d.data, d.start)
	if objLine == 0 {
		return nil, nil // empty or comments only
	}
	// Strict: a key set twice in one mapping is an error, as YAML says and
	// as the API server's strict field validation says of the JSON. Keys of
	// a merged mapping (<<) may be set again: that is what merging is for.
	js, err := yaml.YAMLToJSONStrict(d.data)
	if err != nil && yamlUnmarshalRE.MatchString(err.Error()) && mergeKeyRE.Match(d.data) {
		js, err = yaml.YAMLToJSON(d.data)
	}
	if err != nil {
		msg := err.Error()
		line := objLine
		if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
			n, _ := strconv.Atoi(m[1])
			line = d.start + n - 1
			msg = strings.TrimPrefix(msg, "error converting YAML to JSON: ")
		} else if m := yamlUnmarshalRE.FindStringSubmatch(msg); m != nil {
			n, _ := strconv.Atoi(m[1])
			line = d.start + n - 1
			msg = m[2]
			if k := duplicateKeyRE.FindStringSubmatch(msg); k != nil {
				msg = "duplicate key " + k[1] + ": a mapping may set each key once"
			}
		}
		// go-yaml names the line after the last one for an unexpected end.
		line = min(line, d.start+bytes.Count(bytes.TrimRight(d.data, "\n"), []byte("\n")))
		return nil, fmt.Errorf("%s:%d: %s", file, line, strings.Join(strings.Fields(msg), " "))
	}
	if bytes.Equal(bytes.TrimSpace(js), []byte("null")) {
		return nil, nil
	}
	return decodeDocument(file, objLine, js, func(n int) []int { return yamlItemLines(d.data, d.start, n) })
}

// parseJSONStream reads one or more concatenated JSON objects.
func parseJSONStream(file string, data []byte) ([]decoded, error) {
	lines := newLineIndex(data)
	dec := json.NewDecoder(bytes.NewReader(data))
	var out []decoded
	for {
		start := skipSpace(data, int(dec.InputOffset()))
		var raw json.RawMessage
		err := dec.Decode(&raw)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			off := len(data)
			var se *json.SyntaxError
			if errors.As(err, &se) {
				off = int(se.Offset)
			}
			return nil, fmt.Errorf("%s:%d: invalid JSON: %s", file, lines.line(max(off-1, 0)), err)
		}
		objLine := lines.line(start)
		itemLines := func(n int) []int {
			rel := jsonItemOffsets(raw, n)
			if rel == nil {
				return nil
			}
			out := make([]int, len(rel))
			for i, o := range rel {
				out[i] = lines.line(start + o)
			}
			return out
		}
		objs, err := decodeDocument(file, objLine, raw, itemLines)
		if err != nil {
			return nil, err
		}
		out = append(out, objs...)
	}
}

func skipSpace(data []byte, off int) int {
	for off < len(data) && (data[off] == ' ' || data[off] == '\t' || data[off] == '\n' || data[off] == '\r' || data[off] == ',') {
		off++
	}
	return off
}

// lineIndex maps byte offsets to 1-based line numbers.
type lineIndex []int // offsets of line starts

func newLineIndex(data []byte) lineIndex {
	idx := lineIndex{0}
	for i, c := range data {
		if c == '\n' {
			idx = append(idx, i+1)
		}
	}
	return idx
}

func (li lineIndex) line(off int) int {
	return sort.Search(len(li), func(i int) bool { return li[i] > off })
}

// header is what every object document must carry.
type header struct {
	APIVersion string          `json:"apiVersion"`
	Kind       string          `json:"kind"`
	Items      json.RawMessage `json:"items"`
	Metadata   struct {
		Name      string `json:"name"`
		Namespace string `json:"namespace"`
	} `json:"metadata"`
}

// decodeDocument decodes one JSON document (an object or a List) found at line.
// itemLines, if it can, returns the line of each of a List's n items.
func decodeDocument(file string, line int, js []byte, itemLines func(n int) []int) ([]decoded, error) {
	if t := bytes.TrimSpace(js); len(t) == 0 || t[0] != '{' {
		return nil, fmt.Errorf("%s:%d: not a Kubernetes object: expected a mapping with apiVersion and kind", file, line)
	}
	var h header
	if err := json.Unmarshal(js, &h); err != nil {
		return nil, fmt.Errorf("%s:%d: %s", file, line, decodeMessage(err))
	}
	if err := checkHeader(file, line, h); err != nil {
		return nil, err
	}
	if !isList(h) {
		d, err := decodeObject(file, line, js, h)
		if err != nil {
			return nil, err
		}
		return []decoded{d}, nil
	}
	var items []json.RawMessage
	if t := bytes.TrimSpace(h.Items); len(t) == 0 || bytes.Equal(t, []byte("null")) {
		return nil, nil
	}
	if err := json.Unmarshal(h.Items, &items); err != nil {
		return nil, fmt.Errorf("%s:%d: %s: items must be a list of objects", file, line, oneLineValue(h.Kind))
	}
	lines := itemLines(len(items))
	out := make([]decoded, 0, len(items))
	itemKind := strings.TrimSuffix(h.Kind, "List")
	for i, raw := range items {
		at := line
		if lines != nil {
			at = lines[i]
		}
		var ih header
		if err := json.Unmarshal(raw, &ih); err != nil {
			return nil, fmt.Errorf("%s:%d: %s", file, at, decodeMessage(err))
		}
		// Items of typed lists (PodList) may leave their kind implied.
		if h.Kind != "List" && ih.Kind == "" && ih.APIVersion == "" {
			ih.Kind, ih.APIVersion = itemKind, h.APIVersion
			u := map[string]any{}
			if err := json.Unmarshal(raw, &u); err != nil {
				return nil, fmt.Errorf("%s:%d: %s", file, at, decodeMessage(err))
			}
			if u == nil { // a null item
				return nil, fmt.Errorf("%s:%d: %s: items must be a list of objects", file, at, oneLineValue(h.Kind))
			}
			u["kind"], u["apiVersion"] = ih.Kind, ih.APIVersion
			raw, _ = json.Marshal(u)
		}
		if err := checkHeader(file, at, ih); err != nil {
			return nil, err
		}
		d, err := decodeObject(file, at, raw, ih)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

func checkHeader(file string, line int, h header) error {
	switch {
	case h.Kind == "":
		return fmt.Errorf("%s:%d: missing kind", file, line)
	case h.APIVersion == "":
		return fmt.Errorf("%s:%d: missing apiVersion", file, line)
	}
	if err := checkAPI(h.APIVersion, h.Kind); err != nil {
		return fmt.Errorf("%s:%d: %s: %v", file, line, objectName(h), err)
	}
	return nil
}

func isList(h header) bool {
	if h.Kind == "List" {
		return true
	}
	t := bytes.TrimSpace(h.Items)
	return strings.HasSuffix(h.Kind, "List") && len(t) > 0 && t[0] == '['
}

// decoder decodes typed kinds strictly: unknown and duplicate fields are
// reported (as warnings) but the object is still returned.
var decoder = kjson.NewSerializerWithOptions(kjson.DefaultMetaFactory, scheme.Scheme, scheme.Scheme,
	kjson.SerializerOptions{Strict: true})

// decoded is one object read from a manifest.
type decoded struct {
	kind   Kind // "" for objects kept in Other
	obj    runtime.Object
	src    *report.Source
	what   string // "Kind ns/name" for messages
	strict string // unknown or duplicate fields
}

func decodeObject(file string, line int, js []byte, h header) (decoded, error) {
	d := decoded{src: &report.Source{File: file, Line: line}, what: objectName(h)}
	gvk := schema.FromAPIVersionAndKind(h.APIVersion, h.Kind)
	if k, ok := typedByGVK[gvk]; ok {
		o, _, err := decoder.Decode(js, nil, nil)
		if err != nil && !runtime.IsStrictDecodingError(err) {
			return d, fmt.Errorf("%s:%d: %s: %s", file, line, d.what, decodeMessage(err))
		}
		if err != nil {
			if dup := duplicateField(err); dup != "" {
				return d, fmt.Errorf("%s:%d: %s: %s: an object may set each field once", file, line, d.what, dup)
			}
			d.strict = decodeMessage(err)
		}
		d.kind, d.obj = k, o
		return d, nil
	}
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(js); err != nil {
		return d, fmt.Errorf("%s:%d: %s: %s", file, line, d.what, decodeMessage(err))
	}
	d.obj = u
	return d, nil
}

// add puts a decoded object into the snapshot being built.
func (l *fileLoader) add(d decoded) {
	if d.strict != "" {
		kind := string(d.kind)
		key := kind + "\x00" + d.strict
		if r, ok := l.strict[key]; ok {
			r.more++
		} else {
			l.strict[key] = &repeated{warning: len(l.snap.Warnings), kind: kind}
			l.snap.Warnings = append(l.snap.Warnings, fmt.Sprintf("%s:%d: %s: %s", d.src.File, d.src.Line, d.what, d.strict))
		}
	}
	if d.kind != "" {
		l.snap.Loaded[d.kind] = true
	}
	if prev := l.b.put(d.kind, d.obj, d.src); prev != nil && prev.source != nil {
		l.snap.Warnings = append(l.snap.Warnings, fmt.Sprintf("%s:%d: %s is also defined at %s:%d; using the later definition",
			d.src.File, d.src.Line, d.what, prev.source.File, prev.source.Line))
	}
}

// objectName names an object in messages the way kubectl does: Kind ns/name.
func objectName(h header) string {
	name := h.Metadata.Name
	if h.Metadata.Namespace != "" {
		name = h.Metadata.Namespace + "/" + name
	}
	if name == "" {
		return oneLineValue(h.Kind)
	}
	return oneLineValue(h.Kind) + " " + oneLineValue(name)
}

// oneLineValue quotes a value read from a file when it holds a line break
// or another control character, or starts or ends with a space, so that an
// error about it stays one unambiguous line.
func oneLineValue(s string) string {
	if strings.IndexFunc(s, unicode.IsControl) >= 0 || s != strings.TrimSpace(s) {
		return strconv.Quote(s)
	}
	return s
}

// duplicateField returns the first "duplicate field" of a strict decoding
// error, or "".
func duplicateField(err error) string {
	if se, ok := runtime.AsStrictDecodingError(err); ok {
		for _, e := range se.Errors() {
			if msg := e.Error(); strings.HasPrefix(msg, "duplicate field ") {
				return msg
			}
		}
	}
	return ""
}

// decodeMessage trims the Go-specific prefixes of decoding errors.
func decodeMessage(err error) string {
	msg := err.Error()
	msg = strings.TrimPrefix(msg, "strict decoding error: ")
	return msg
}

// yamlItemLines finds the line of each item of a List written in block style
// (as kubectl get -o yaml prints it): the "-" entries of the top-level
// "items:" sequence. It returns nil unless it finds exactly n of them.
func yamlItemLines(data []byte, start, n int) []int {
	lines := bytes.Split(data, []byte("\n"))
	i := 0
	for ; i < len(lines); i++ {
		l := bytes.TrimRight(lines[i], " \t")
		if bytes.Equal(l, []byte("items:")) || bytes.HasPrefix(l, []byte("items: #")) {
			break
		}
	}
	if i == len(lines) {
		return nil
	}
	var out []int
	indent := -1
	for j := i + 1; j < len(lines); j++ {
		l := lines[j]
		t := bytes.TrimLeft(l, " ")
		if len(bytes.TrimSpace(t)) == 0 || t[0] == '#' {
			continue
		}
		ind := len(l) - len(t)
		if indent < 0 {
			if t[0] != '-' {
				return nil
			}
			indent = ind
		}
		if ind < indent || ind == indent && t[0] != '-' {
			break
		}
		if ind == indent && (len(t) == 1 || t[1] == ' ') {
			out = append(out, start+j)
		}
	}
	if len(out) != n {
		return nil
	}
	return out
}

// jsonItemOffsets returns the byte offset of each of the n items of a JSON
// List's top-level "items" array, or nil.
func jsonItemOffsets(raw []byte, n int) []int {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil
	}
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return nil
		}
		if k != "items" {
			var skip json.RawMessage
			if dec.Decode(&skip) != nil {
				return nil
			}
			continue
		}
		if t, err := dec.Token(); err != nil || t != json.Delim('[') {
			return nil
		}
		var out []int
		for dec.More() {
			out = append(out, skipSpace(raw, int(dec.InputOffset())))
			var skip json.RawMessage
			if dec.Decode(&skip) != nil {
				return nil
			}
		}
		if len(out) != n {
			return nil
		}
		return out
	}
	return nil
}
