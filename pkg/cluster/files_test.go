package cluster

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8sruntime "k8s.io/apimachinery/pkg/runtime"
)

const manifests = "testdata/manifests"

func td(name string) string { return filepath.Join(manifests, name) }

// inventory lists every object of s as "Kind ns/name file:line", sorted.
func inventory(s *Snapshot) []string {
	var out []string
	s.each(func(k Kind, obj k8sruntime.Object) {
		m := obj.(metav1.Object)
		kind := sourceKind(k, obj)
		line := fmt.Sprintf("%s %s/%s", kind, m.GetNamespace(), m.GetName())
		if src := s.SourceOf(kind, m.GetNamespace(), m.GetName()); src != nil {
			line += fmt.Sprintf(" %s:%d", src.File, src.Line)
		}
		out = append(out, line)
	})
	slices.Sort(out)
	return out
}

func TestLoadFiles(t *testing.T) {
	tests := []struct {
		name      string
		files     []string
		recursive bool
		stdin     string
		want      []string
		warnings  []string
	}{
		{
			name:  "a multi-document YAML file yields every object at the line it starts on, skipping empty and comment-only documents",
			files: []string{td("multi.yaml")},
			want: []string{
				"Certificate shop/web-tls " + td("multi.yaml") + ":43",
				"Deployment shop/web " + td("multi.yaml") + ":3",
				"Pod /solo " + td("multi.yaml") + ":34",
				"Service shop/web " + td("multi.yaml") + ":24",
			},
		},
		{
			name:  "a JSON object is read",
			files: []string{td("pod.json")},
			want:  []string{"Pod default/json-pod " + td("pod.json") + ":1"},
		},
		{
			name:  "a stream of JSON objects yields each at its own line",
			files: []string{td("stream.json")},
			want: []string{
				"ConfigMap /one " + td("stream.json") + ":1",
				"ConfigMap /two " + td("stream.json") + ":2",
			},
		},
		{
			name:  "a kubectl get -o yaml dump (v1 List) yields its items at their own lines",
			files: []string{td("dump.yaml")},
			want: []string{
				"Node /node-1 " + td("dump.yaml") + ":3",
				"PersistentVolumeClaim prod/data-api-0 " + td("dump.yaml") + ":33",
				"Pod prod/api-0 " + td("dump.yaml") + ":15",
			},
		},
		{
			name:  "a kubectl get -o json dump (v1 List) yields its items at their own lines",
			files: []string{td("dump.json")},
			want: []string{
				"PersistentVolume /pv-1 " + td("dump.json") + ":12",
				"StorageClass /fast " + td("dump.json") + ":6",
			},
		},
		{
			name:  "a typed PodList whose items leave out their kind yields pods",
			files: []string{td("podlist.yaml")},
			want: []string{
				"Pod ns1/a " + td("podlist.yaml") + ":5",
				"Pod ns1/b " + td("podlist.yaml") + ":10",
			},
		},
		{
			name:  "stdin is read for -",
			files: []string{"-"},
			stdin: "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n  namespace: x\n",
			want:  []string{"Secret x/s STDIN:1"},
		},
		{
			name:  "a directory contributes only its yaml, yml and json files without -R",
			files: []string{td("dir")},
			want: []string{
				"Namespace /team-a " + td("dir/a.yaml") + ":1",
				"Namespace /team-b " + td("dir/b.yml") + ":1",
				"Namespace /team-c " + td("dir/c.json") + ":1",
			},
		},
		{
			name:      "a directory with -R contributes its subdirectories too",
			files:     []string{td("dir")},
			recursive: true,
			want: []string{
				"Namespace /team-a " + td("dir/a.yaml") + ":1",
				"Namespace /team-b " + td("dir/b.yml") + ":1",
				"Namespace /team-c " + td("dir/c.json") + ":1",
				"Namespace /team-d " + td("dir/sub/d.yaml") + ":1",
			},
		},
		{
			name:  "a file named explicitly is read whatever its extension",
			files: []string{td("dir/notes.txt")},
			want:  []string{"Namespace /not-a-manifest " + td("dir/notes.txt") + ":1"},
		},
		{
			name:  "an object defined twice keeps the later definition, with a warning",
			files: []string{td("dir/a.yaml"), "-"},
			stdin: "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team-a\n",
			want:  []string{"Namespace /team-a STDIN:1"},
			warnings: []string{
				"STDIN:1: Namespace team-a is also defined at " + td("dir/a.yaml") + ":1; using the later definition",
			},
		},
		{
			name:     "an unknown field is a warning and the object is kept",
			files:    []string{"-"},
			stdin:    "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n    image: x\n    resource: {}\n",
			want:     []string{"Pod /p STDIN:1"},
			warnings: []string{`STDIN:1: Pod p: unknown field "spec.containers[0].resource"`},
		},
		{
			name:     "the same unknown field in many objects is one warning with a count",
			files:    []string{"-"},
			stdin:    "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec: {future: 1}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: b}\nspec: {future: 1}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: c}\nspec: {future: 1}\n",
			want:     []string{"Pod /a STDIN:1", "Pod /b STDIN:6", "Pod /c STDIN:11"},
			warnings: []string{`STDIN:1: Pod a: unknown field "spec.future" (and in 2 more Pod objects)`},
		},
		{
			name:  "a YAML stream that opens with a flow mapping is read as YAML",
			files: []string{"-"},
			stdin: "{apiVersion: v1, kind: ConfigMap, metadata: {name: a}}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n",
			want:  []string{"ConfigMap /a STDIN:1", "ConfigMap /b STDIN:3"},
		},
		{
			name:  "another served version of a built-in kind is kept as an untyped object",
			files: []string{"-"},
			stdin: "apiVersion: resource.k8s.io/v1beta2\nkind: DeviceClass\nmetadata:\n  name: gpu\n",
			want:  []string{"DeviceClass /gpu STDIN:1"},
		},
		{
			name:  "a merge key may be overridden by the mapping's own keys",
			files: []string{"-"},
			stdin: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: merged\n  labels: &base {a: \"1\", b: \"2\"}\ndata:\n  <<: *base\n  b: \"3\"\n",
			want:  []string{"ConfigMap /merged STDIN:1"},
		},
		{
			name:  "an empty List yields nothing",
			files: []string{"-"},
			stdin: "apiVersion: v1\nkind: List\nitems: []\n",
		},
		{
			name:  "a custom resource whose kind ends in List but has no items array is an object",
			files: []string{"-"},
			stdin: "apiVersion: example.com/v1\nkind: AllowList\nmetadata:\n  name: a\nitems:\n  first: 1\n",
			want:  []string{"AllowList /a STDIN:1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := LoadFiles(FileOptions{Filenames: tt.files, Recursive: tt.recursive, Stdin: strings.NewReader(tt.stdin)})
			if err != nil {
				t.Fatalf("LoadFiles: %v", err)
			}
			if got := inventory(s); !slices.Equal(got, tt.want) {
				t.Errorf("objects:\n got %q\nwant %q", got, tt.want)
			}
			if !slices.Equal(s.Warnings, tt.warnings) {
				t.Errorf("warnings:\n got %q\nwant %q", s.Warnings, tt.warnings)
			}
		})
	}
}

func TestLoadFilesErrors(t *testing.T) {
	tests := []struct {
		name    string
		files   []string
		stdin   string
		wantErr string
	}{
		{
			name:    "broken YAML names the file and the absolute line of the fault",
			files:   []string{td("broken.yaml")},
			wantErr: td("broken.yaml") + ":12: yaml: line 5: mapping values are not allowed in this context",
		},
		{
			name:    "a document without kind names the line where it starts",
			files:   []string{td("nokind.yaml")},
			wantErr: td("nokind.yaml") + ":8: missing kind",
		},
		{
			name:    "a document without apiVersion says so",
			files:   []string{"-"},
			stdin:   "kind: Pod\nmetadata:\n  name: x\n",
			wantErr: "STDIN:1: missing apiVersion",
		},
		{
			name:    "a missing path cannot be read",
			files:   []string{td("nope.yaml")},
			wantErr: "cannot read " + td("nope.yaml") + ": no such file or directory",
		},
		{
			name:    "a directory with manifests only in subdirectories suggests -R",
			files:   []string{td("empty")},
			wantErr: td("empty") + ": no .yaml, .yml or .json files in this directory; add -R to read its subdirectories",
		},
		{
			name:    "broken JSON names the line of the fault",
			files:   []string{"-"},
			stdin:   "{\"apiVersion\": \"v1\",\n \"kind\": \"Pod\" \"x\"}",
			wantErr: "STDIN:2: invalid JSON: invalid character '\"' after object key:value pair",
		},
		{
			name:    "a field of the wrong type names the object",
			files:   []string{"-"},
			stdin:   "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers: 3\n",
			wantErr: "STDIN:2: Pod p: json: cannot unmarshal number into Go struct field PodSpec.spec.containers of type []v1.Container",
		},
		{
			name:    "a YAML list is not an object",
			files:   []string{"-"},
			stdin:   "- a\n- b\n",
			wantErr: "STDIN:1: not a Kubernetes object: expected a mapping with apiVersion and kind",
		},
		{
			name:    "a List item without kind names the item's line",
			files:   []string{"-"},
			stdin:   "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: a}\n- apiVersion: v1\n  metadata: {name: b}\n",
			wantErr: "STDIN:7: missing kind",
		},
		{
			name:    "stdin twice is refused",
			files:   []string{"-", "-"},
			wantErr: "stdin (-) can be read only once: pass -f - a single time",
		},
		{
			name:    "a key set twice in a YAML mapping names its second line",
			files:   []string{"-"},
			stdin:   "apiVersion: v1\nkind: Pod\nmetadata:\n  name: dup\nspec:\n  containers:\n  - name: app\n    image: a:1\n    image: b:2\n",
			wantErr: `STDIN:9: duplicate key "image": a mapping may set each key once`,
		},
		{
			name:    "a field set twice in JSON names the object",
			files:   []string{"-"},
			stdin:   `{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "dup"}, "spec": {"containers": [{"name": "a", "image": "a:1", "image": "b:2"}]}}`,
			wantErr: `STDIN:1: Pod dup: duplicate field "spec.containers[0].image": an object may set each field once`,
		},
		{
			name:    "a kind the core group does not have is a typo",
			files:   []string{"-"},
			stdin:   "apiVersion: v1\nkind: Pood\nmetadata:\n  name: typo\n",
			wantErr: `STDIN:1: Pood typo: unknown kind "Pood" in apiVersion v1`,
		},
		{
			name:    "a kind under the wrong API group names the right one",
			files:   []string{"-"},
			stdin:   "---\napiVersion: apps/v1\nkind: Pod\nmetadata:\n  name: misplaced\n",
			wantErr: `STDIN:2: Pod misplaced: unknown kind "Pod" in apiVersion apps/v1; Pod is v1`,
		},
		{
			name:    "a version a built-in group never had is named",
			files:   []string{"-"},
			stdin:   "apiVersion: apps/v2\nkind: Deployment\nmetadata:\n  name: web\n",
			wantErr: "STDIN:1: Deployment web: unknown apiVersion apps/v2: the apps API group has no version v2; Deployment is apps/v1",
		},
		{
			name:    "an API version Kubernetes no longer serves names the current one",
			files:   []string{"-"},
			stdin:   "apiVersion: policy/v1beta1\nkind: PodDisruptionBudget\nmetadata:\n  name: old\n  namespace: x\n",
			wantErr: "STDIN:1: PodDisruptionBudget x/old: apiVersion policy/v1beta1 is no longer served by Kubernetes; PodDisruptionBudget is policy/v1",
		},
		{
			name:    "a malformed apiVersion is named",
			files:   []string{"-"},
			stdin:   "apiVersion: apps/v1/extra\nkind: Deployment\nmetadata:\n  name: x\n",
			wantErr: `STDIN:1: Deployment x: invalid apiVersion "apps/v1/extra": want VERSION (v1) or GROUP/VERSION (apps/v1)`,
		},
		{
			name:    "UTF-16 is refused with a hint",
			files:   []string{"-"},
			stdin:   "\xff\xfea\x00",
			wantErr: "STDIN:1: the file is UTF-16 encoded; save it as UTF-8",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadFiles(FileOptions{Filenames: tt.files, Stdin: strings.NewReader(tt.stdin)})
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("error:\n got %v\nwant %s", err, tt.wantErr)
			}
		})
	}
}

func TestLoadFilesPermissionDenied(t *testing.T) {
	if runtime.GOOS == "windows" || os.Getuid() == 0 {
		t.Skip("root reads any file")
	}
	p := filepath.Join(t.TempDir(), "secret.yaml")
	if err := os.WriteFile(p, []byte("a: b\n"), 0o000); err != nil {
		t.Fatal(err)
	}
	_, err := LoadFiles(FileOptions{Filenames: []string{p}})
	if want := "cannot read " + p + ": permission denied"; err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
}

func TestLoadFilesEncodings(t *testing.T) {
	doc := "# pods\napiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n  labels:\n    app: web\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: b\n"
	tests := []struct {
		name    string
		content string
	}{
		{"a UTF-8 byte order mark is ignored", "\xef\xbb\xbf" + doc},
		{"Windows line endings keep values and line numbers", strings.ReplaceAll(doc, "\n", "\r\n")},
		{"a byte order mark with Windows line endings", "\xef\xbb\xbf" + strings.ReplaceAll(doc, "\n", "\r\n")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "pods.yaml")
			if err := os.WriteFile(p, []byte(tt.content), 0o644); err != nil {
				t.Fatal(err)
			}
			s, err := LoadFiles(FileOptions{Filenames: []string{p}})
			if err != nil {
				t.Fatal(err)
			}
			want := []string{"Pod /a " + p + ":2", "Pod /b " + p + ":9"}
			if got := inventory(s); !slices.Equal(got, want) {
				t.Errorf("got %q, want %q", got, want)
			}
			if got := s.Pods[0].Labels["app"]; got != "web" {
				t.Errorf("label app = %q, want web", got)
			}
		})
	}
	t.Run("a broken document with Windows line endings still names the right line", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "broken.yaml")
		content := strings.ReplaceAll("apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: b: c\n", "\n", "\r\n")
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := LoadFiles(FileOptions{Filenames: []string{p}})
		if want := p + ":9: yaml: line 4: mapping values are not allowed in this context"; err == nil || err.Error() != want {
			t.Errorf("got %v, want %s", err, want)
		}
	})
}

func TestLoadFilesHugeDocuments(t *testing.T) {
	// A ConfigMap of 8 MiB (beyond any line-buffer default) followed by a
	// small object whose line must still be right.
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\ndata:\n")
	const keys = 4096
	value := strings.Repeat("x", 2048)
	for i := range keys {
		fmt.Fprintf(&b, "  key%d: %s\n", i, value)
	}
	b.WriteString("---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: small\n")
	s, err := LoadFiles(FileOptions{Filenames: []string{"-"}, Stdin: strings.NewReader(b.String())})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"ConfigMap /big STDIN:1", fmt.Sprintf("ConfigMap /small STDIN:%d", 5+keys+2)}
	if got := inventory(s); !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := len(s.ConfigMap("", "big").Data["key4095"]); got != len(value) {
		t.Errorf("last value has %d bytes, want %d", got, len(value))
	}
}

func TestLoadFilesTypes(t *testing.T) {
	s, err := LoadFiles(FileOptions{Filenames: []string{td("multi.yaml"), td("dump.yaml")}})
	if err != nil {
		t.Fatal(err)
	}
	if got := *s.Deployments[0].Spec.Replicas; got != 2 {
		t.Errorf("deployment replicas = %d, want 2", got)
	}
	pod := s.Pod("prod", "api-0")
	if pod == nil || pod.Spec.NodeName != "node-1" || pod.Status.Phase != corev1.PodRunning {
		t.Fatalf("pod prod/api-0 not decoded: %+v", pod)
	}
	if got := pod.Spec.Containers[0].Command[2]; got != "echo starting\n- not an item\n" {
		t.Errorf("block scalar = %q", got)
	}
	if got := s.Node("node-1").Status.Allocatable.Cpu().String(); got != "4" {
		t.Errorf("node cpu = %s, want 4", got)
	}
	if len(s.Other) != 1 || s.Other[0].GetKind() != "Certificate" || s.Other[0].GetAPIVersion() != "cert-manager.io/v1" {
		t.Errorf("Other = %v, want the Certificate", s.Other)
	}
	for _, k := range []Kind{KindDeployment, KindService, KindPod, KindNode, KindPVC} {
		if !s.Loaded[k] {
			t.Errorf("Loaded[%s] is false", k)
		}
	}
	if s.Loaded[KindSecret] {
		t.Error("Loaded[Secret] is true but no secret was read")
	}
}

// A file larger than the limit is refused before it is read: its size is
// named, and the memory it would take is never allocated.
func TestLoadFilesRefusesAFileLargerThanTheLimit(t *testing.T) {
	huge := filepath.Join(t.TempDir(), "huge.yaml")
	f, err := os.Create(huge)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(3 << 30); err != nil { // sparse: no disk used
		t.Fatal(err)
	}
	f.Close()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err = LoadFiles(FileOptions{Filenames: []string{huge}})
	runtime.ReadMemStats(&after)
	want := huge + ":1: the file is 3 GiB, more than 256 MiB, the most a manifest file may be: split it, or check that it is the file you meant"
	if err == nil || err.Error() != want {
		t.Errorf("error:\n got %v\nwant %s", err, want)
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 1<<20 {
		t.Errorf("refusing the file allocated %d bytes", grew)
	}

	_, err = LoadFiles(FileOptions{Filenames: []string{"-"}, Stdin: strings.NewReader(strings.Repeat("#", 100)), MaxFileSize: 64})
	want = "STDIN:1: the file is more than 64 bytes, the most a manifest file may be: split it, or check that it is the file you meant"
	if err == nil || err.Error() != want {
		t.Errorf("stdin:\n got %v\nwant %s", err, want)
	}
}
