package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/constant"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// trimmedFields are the struct fields trim clears (beyond managedFields and
// annotations), as "package.Type.Field".
var trimmedFields = []string{
	"k8s.io/api/core/v1.NodeStatus.Images",
	"k8s.io/api/core/v1.NodeStatus.VolumesInUse",
	"k8s.io/api/core/v1.NodeStatus.VolumesAttached",
	"k8s.io/api/core/v1.Container.LivenessProbe",
	"k8s.io/api/core/v1.Container.ReadinessProbe",
	"k8s.io/api/core/v1.Container.StartupProbe",
	"k8s.io/api/core/v1.Container.Lifecycle",
	"k8s.io/api/core/v1.EphemeralContainerCommon.LivenessProbe",
	"k8s.io/api/core/v1.EphemeralContainerCommon.ReadinessProbe",
	"k8s.io/api/core/v1.EphemeralContainerCommon.StartupProbe",
	"k8s.io/api/core/v1.EphemeralContainerCommon.Lifecycle",
	"k8s.io/api/core/v1.ContainerStatus.ImageID",
	"k8s.io/api/core/v1.ContainerStatus.ContainerID",
	"k8s.io/api/core/v1.ContainerStatus.VolumeMounts",
	"k8s.io/api/core/v1.ContainerStatus.User",
	"k8s.io/api/core/v1.ContainerStatus.AllocatedResourcesStatus",
	"k8s.io/api/core/v1.Container.Command",
	"k8s.io/api/core/v1.Container.Args",
	"k8s.io/api/core/v1.Container.WorkingDir",
	"k8s.io/api/core/v1.Container.SecurityContext",
	"k8s.io/api/core/v1.Container.TerminationMessagePath",
	"k8s.io/api/core/v1.Container.TerminationMessagePolicy",
	"k8s.io/api/core/v1.Container.ImagePullPolicy",
	// of volume mounts, only whether any has bind mount options is kept
	// (the scheduler's node declared features filter reads it)
	"k8s.io/api/core/v1.VolumeMount.Name",
	"k8s.io/api/core/v1.VolumeMount.ReadOnly",
	"k8s.io/api/core/v1.VolumeMount.RecursiveReadOnly",
	"k8s.io/api/core/v1.VolumeMount.MountPath",
	"k8s.io/api/core/v1.VolumeMount.SubPath",
	"k8s.io/api/core/v1.VolumeMount.MountPropagation",
	"k8s.io/api/core/v1.VolumeMount.SubPathExpr",
	"k8s.io/api/core/v1.EphemeralContainerCommon.Command",
	"k8s.io/api/core/v1.EphemeralContainerCommon.Args",
	"k8s.io/api/core/v1.EphemeralContainerCommon.WorkingDir",
	"k8s.io/api/core/v1.EphemeralContainerCommon.SecurityContext",
	"k8s.io/api/core/v1.EphemeralContainerCommon.TerminationMessagePath",
	"k8s.io/api/core/v1.EphemeralContainerCommon.TerminationMessagePolicy",
	"k8s.io/api/core/v1.EphemeralContainerCommon.ImagePullPolicy",
	"k8s.io/api/core/v1.PodSpec.SecurityContext",
	"k8s.io/api/core/v1.PodSpec.ServiceAccountName",
	"k8s.io/api/core/v1.PodSpec.DeprecatedServiceAccount",
	"k8s.io/api/core/v1.PodSpec.TerminationGracePeriodSeconds",
	"k8s.io/api/core/v1.PodSpec.EnableServiceLinks",
	"k8s.io/api/core/v1.VolumeSource.DownwardAPI",
	"k8s.io/api/core/v1.VolumeProjection.DownwardAPI",
	"k8s.io/api/core/v1.VolumeProjection.ServiceAccountToken",
	"k8s.io/api/core/v1.EnvVar.Value",
	"k8s.io/api/core/v1.EnvVarSource.FieldRef",
	"k8s.io/api/core/v1.EnvVarSource.ResourceFieldRef",
	"k8s.io/api/core/v1.EnvVarSource.FileKeyRef",
}

// pendingOnlyFields are what the live loader keeps only of pods that have
// not started (trimStarted): the objects they need to start and their
// containers' states. Only pendingOnlyReaders may read them.
var pendingOnlyFields = []string{
	"k8s.io/api/core/v1.VolumeSource.ConfigMap",
	"k8s.io/api/core/v1.VolumeSource.Secret",
	"k8s.io/api/core/v1.VolumeSource.Projected",
	"k8s.io/api/core/v1.Container.Env",
	"k8s.io/api/core/v1.Container.EnvFrom",
	"k8s.io/api/core/v1.EphemeralContainerCommon.Env",
	"k8s.io/api/core/v1.EphemeralContainerCommon.EnvFrom",
	"k8s.io/api/core/v1.ContainerStatus.State",
	"k8s.io/api/core/v1.ContainerStatus.LastTerminationState",
	"k8s.io/api/core/v1.ContainerStatus.Started",
	"k8s.io/api/core/v1.ContainerStatus.Ready",
	"k8s.io/api/core/v1.ContainerStatus.RestartCount",
	"k8s.io/api/core/v1.ContainerStatus.Image",
	"k8s.io/api/core/v1.ContainerStatus.StopSignal",
}

// pendingOnlyReaders are the functions that read pendingOnlyFields, each
// with why it only ever sees pods that have not started (or pods the live
// loader does not trim).
var pendingOnlyReaders = map[string]string{
	"github.com/ktriage/ktriage/pkg/pending.requiredObjects":   "why-pending's subjects: Pending pods",
	"github.com/ktriage/ktriage/pkg/pending.referencedObjects": "why-pending's subjects: Pending pods",
	// explainBound's steps: why-pending's subjects bound to a node
	"github.com/ktriage/ktriage/pkg/pending.explainInit":              "why-pending's subjects: Pending pods",
	"github.com/ktriage/ktriage/pkg/pending.explainImagePull":         "why-pending's subjects: Pending pods",
	"github.com/ktriage/ktriage/pkg/pending.explainContainerCreating": "why-pending's subjects: Pending pods",
	// netcheck's probe: the pod it added an ephemeral container to, read
	// by its own GET (never trimmed)
	"github.com/ktriage/ktriage/pkg/probe.inspect":  "a GET's pod, not trimmed",
	"github.com/ktriage/ktriage/pkg/probe.describe": "a GET's pod, not trimmed",
	// kubectl's ActivePods and ByLogging orders; nothing here sorts by
	// them (of podutils, only IsPodReady is called)
	"k8s.io/kubectl/pkg/util/podutils.maxContainerRestarts": "not called",
}

// annotationsPassedOn are the places that hand a whole annotation map to
// code that reads it by key, each named "package.function" with what it
// reads: the key must be in keptAnnotations.
var annotationsPassedOn = map[string]string{
	// a workload's reference carries its pod's ignore annotation
	"github.com/ktriage/ktriage/pkg/qosaudit.refWithAnnotations": "ktriage.io/ignore",
}

func TestTrimmedFieldsAndAnnotationsAreNeverRead(t *testing.T) {
	if testing.Short() {
		t.Skip("type-checks every package: not in -short")
	}
	pkgs := listPackages(t)
	reads := &readScan{exports: map[string]string{}, keys: map[string][]string{}, conditions: map[string][]string{}, pendingOnlyRead: map[string]bool{}}
	for _, p := range pkgs {
		if p.Export != "" {
			reads.exports[p.ImportPath] = p.Export
		}
	}
	reads.fset = token.NewFileSet()
	reads.imp = importer.ForCompiler(reads.fset, "gc", func(path string) (io.ReadCloser, error) {
		f, ok := reads.exports[path]
		if !ok {
			return nil, fmt.Errorf("no export data for %s", path)
		}
		return os.Open(f)
	})
	scanned := 0
	for _, p := range scanTargets(pkgs) {
		if err := reads.check(p); err != nil {
			t.Fatalf("type-checking %s: %v", p.ImportPath, err)
		}
		scanned++
	}
	if scanned < 10 {
		t.Fatalf("only %d packages scanned: the package list is wrong", scanned)
	}
	for _, v := range reads.violations {
		t.Error(v)
	}
	for k, at := range reads.keys {
		if !keptAnnotations[k] {
			t.Errorf("annotation %q is read (%s) but trim drops it: add it to keptAnnotations", k, strings.Join(at, ", "))
		}
	}
	for _, k := range annotationsPassedOn {
		if !keptAnnotations[k] {
			t.Errorf("annotation %q is read through a passed-on map but trim drops it: add it to keptAnnotations", k)
		}
	}
	for k := range keptAnnotations {
		if _, read := reads.keys[k]; !read && !slices.Contains(mapValues(annotationsPassedOn), k) {
			t.Errorf("keptAnnotations keeps %q, which nothing reads any more: remove it", k)
		}
	}
	for c, at := range reads.conditions {
		if !keptPodConditions[corev1.PodConditionType(c)] {
			t.Errorf("pod condition %q is read (%s) but trim drops it: add it to keptPodConditions", c, strings.Join(at, ", "))
		}
	}
	for c := range keptPodConditions {
		if _, read := reads.conditions[string(c)]; !read {
			t.Errorf("keptPodConditions keeps %q, which nothing reads any more: remove it", c)
		}
	}
	for fn := range pendingOnlyReaders {
		if !reads.pendingOnlyRead[fn] {
			t.Errorf("pendingOnlyReaders names %s, which reads none of pendingOnlyFields any more: remove it", fn)
		}
	}
	if t.Failed() {
		t.Logf("scanned %d packages; annotation keys read: %v; pod conditions named: %v", scanned,
			slices.Sorted(maps.Keys(reads.keys)), slices.Sorted(maps.Keys(reads.conditions)))
	}
}

func mapValues(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

type goPackage struct {
	ImportPath string
	Dir        string
	GoFiles    []string
	Export     string
	Imports    []string
	Standard   bool
	DepOnly    bool
}

// listPackages lists pkg/ and plugins/ with every dependency and its export
// data (go list builds what is missing).
func listPackages(t *testing.T) []goPackage {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "list", "-deps", "-export", "-json=ImportPath,Dir,GoFiles,Export,Imports,Standard,DepOnly", "./pkg/...", "./plugins/...")
	cmd.Dir = filepath.Join("..", "..")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	var pkgs []goPackage
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p goPackage
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

// scanTargets are the packages whose reads count: this module's pkg/ and
// plugins/, the Kubernetes helper packages they import directly (kubectl's
// drain, qos and pod utilities, component-helpers) and component-helpers'
// own dependencies.
func scanTargets(pkgs []goPackage) []goPackage {
	const module = "github.com/ktriage/ktriage/"
	byPath := map[string]goPackage{}
	for _, p := range pkgs {
		byPath[p.ImportPath] = p
	}
	helper := func(path string) bool {
		return strings.HasPrefix(path, "k8s.io/component-helpers/") || strings.HasPrefix(path, "k8s.io/kubectl/")
	}
	want := map[string]bool{}
	var add func(path string)
	add = func(path string) {
		if want[path] {
			return
		}
		want[path] = true
		for _, imp := range byPath[path].Imports {
			if strings.HasPrefix(imp, "k8s.io/component-helpers/") {
				add(imp)
			}
		}
	}
	for _, p := range pkgs {
		if p.DepOnly || !strings.HasPrefix(p.ImportPath, module) {
			continue
		}
		want[p.ImportPath] = true
		for _, imp := range p.Imports {
			if helper(imp) {
				add(imp)
			}
		}
	}
	var out []goPackage
	for _, p := range pkgs {
		if want[p.ImportPath] && !p.Standard {
			out = append(out, p)
		}
	}
	return out
}

// readScan type-checks packages and records what they read.
type readScan struct {
	fset    *token.FileSet
	imp     types.Importer
	exports map[string]string
	// keys: annotation key read → where
	keys map[string][]string
	// conditions: pod condition type named → where
	conditions map[string][]string
	// pendingOnlyRead: functions that read pendingOnlyFields
	pendingOnlyRead map[string]bool
	violations      []string
}

func (r *readScan) check(p goPackage) error {
	var files, scan []*ast.File
	for _, f := range p.GoFiles {
		af, err := parser.ParseFile(r.fset, filepath.Join(p.Dir, f), nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		files = append(files, af)
		// not the trimming itself, nor the interning that follows it (it
		// replaces what is kept with equal shared values)
		if p.ImportPath != "github.com/ktriage/ktriage/pkg/cluster" || f != "trim.go" && f != "intern.go" {
			scan = append(scan, af)
		}
	}
	info := &types.Info{
		Types:      map[ast.Expr]types.TypeAndValue{},
		Selections: map[*ast.SelectorExpr]*types.Selection{},
		Uses:       map[*ast.Ident]types.Object{},
	}
	conf := types.Config{Importer: r.imp}
	if _, err := conf.Check(p.ImportPath, r.fset, files, info); err != nil {
		return err
	}
	for _, f := range scan {
		r.scanFile(p.ImportPath, f, info)
	}
	return nil
}

func (r *readScan) scanFile(pkg string, f *ast.File, info *types.Info) {
	written := map[ast.Expr]bool{}
	indexed := map[ast.Expr]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.AssignStmt:
			for _, l := range n.Lhs {
				written[l] = true
			}
		case *ast.IndexExpr:
			if r.isAnnotations(n.X, info) {
				indexed[n.X] = true
				r.annotationKey(n.Index, info, r.fset.Position(n.Pos()).String())
			}
		case *ast.CallExpr:
			if fn, ok := calledFunc(n, info); ok && fn == "k8s.io/apimachinery/pkg/apis/meta/v1.HasAnnotation" && len(n.Args) == 2 {
				indexed[n.Args[0]] = true
				r.annotationKey(n.Args[1], info, r.fset.Position(n.Pos()).String())
			}
			if tv := info.Types[n.Fun]; tv.IsType() && isPodConditionType(tv.Type) && len(n.Args) == 1 && info.Types[n.Args[0]].Value == nil {
				r.violations = append(r.violations, fmt.Sprintf("%s makes a pod condition type of a value that is not a constant: trim cannot know to keep it", r.fset.Position(n.Pos())))
			}
		}
		if e, ok := n.(ast.Expr); ok {
			if tv := info.Types[e]; tv.Value != nil && tv.Value.Kind() == constant.String && isPodConditionType(tv.Type) {
				c := constant.StringVal(tv.Value)
				r.conditions[c] = append(r.conditions[c], r.fset.Position(e.Pos()).String())
			}
		}
		return true
	})
	var fn string
	for _, d := range f.Decls {
		fd, ok := d.(*ast.FuncDecl)
		if ok {
			fn = pkg + "." + fd.Name.Name
		} else {
			fn = pkg
		}
		var readsConditions token.Pos
		namesCondition := false
		ast.Inspect(d, func(n ast.Node) bool {
			if e, ok := n.(ast.Expr); ok && !namesCondition {
				// a constant, or a variable holding one (a helper's
				// parameter: its callers name the constant)
				if tv := info.Types[e]; isPodConditionType(tv.Type) && (tv.Value != nil || isVar(e, info)) {
					namesCondition = true
				}
			}
			s, ok := n.(*ast.SelectorExpr)
			if !ok || written[s] {
				return true
			}
			sel := info.Selections[s]
			if sel == nil {
				return true
			}
			at := r.fset.Position(s.Pos()).String()
			field := fieldOwner(sel)
			if field == "k8s.io/api/core/v1.PodStatus.Conditions" && readsConditions == token.NoPos {
				readsConditions = s.Pos()
			}
			switch {
			case sel.Kind() == types.FieldVal && slices.Contains(trimmedFields, field):
				r.violations = append(r.violations, fmt.Sprintf("%s reads %s, which the live loader drops (pkg/cluster/trim.go)", at, field))
			case field == "k8s.io/apimachinery/pkg/apis/meta/v1.ObjectMeta.ManagedFields" && !recvIs(sel, "k8s.io/api/core/v1.Node"),
				sel.Kind() == types.MethodVal && sel.Obj().Name() == "GetManagedFields" && !recvIs(sel, "k8s.io/apimachinery/pkg/apis/meta/v1/unstructured.Unstructured"):
				r.violations = append(r.violations, fmt.Sprintf("%s reads managedFields of %s, which the live loader drops for every kind but Node", at, sel.Recv()))
			case sel.Kind() == types.FieldVal && slices.Contains(pendingOnlyFields, field):
				if pendingOnlyReaders[fn] == "" {
					r.violations = append(r.violations, fmt.Sprintf("%s (%s) reads %s, which the live loader keeps only of pods that have not started (pkg/cluster/trim.go trimStarted): if %s sees such pods only, name it in pendingOnlyReaders", at, fn, field, fn))
				}
				r.pendingOnlyRead[fn] = true
			case r.isAnnotations(s, info) && !indexed[s] && annotationsPassedOn[fn] == "":
				r.violations = append(r.violations, fmt.Sprintf("%s (%s) uses a whole annotation map: read it by constant key, or name the function in annotationsPassedOn with the key it reads", at, fn))
			}
			return true
		})
		if readsConditions != token.NoPos && !namesCondition {
			r.violations = append(r.violations, fmt.Sprintf("%s (%s) reads pod conditions without naming their type: trim keeps only keptPodConditions; compare each condition's type to a constant", r.fset.Position(readsConditions), fn))
		}
	}
}

func isPodConditionType(t types.Type) bool {
	n, ok := t.(*types.Named)
	return ok && n.Obj().Pkg() != nil && n.Obj().Pkg().Path() == "k8s.io/api/core/v1" && n.Obj().Name() == "PodConditionType"
}

// isVar: e names a variable (not a field).
func isVar(e ast.Expr, info *types.Info) bool {
	id, ok := e.(*ast.Ident)
	if !ok {
		return false
	}
	v, ok := info.Uses[id].(*types.Var)
	return ok && !v.IsField()
}

// isAnnotations: e is a typed object's annotation map (the Annotations
// field, or GetAnnotations() of anything but Unstructured, whose
// annotations trim keeps).
func (r *readScan) isAnnotations(e ast.Expr, info *types.Info) bool {
	switch e := e.(type) {
	case *ast.SelectorExpr:
		sel := info.Selections[e]
		return sel != nil && sel.Kind() == types.FieldVal && fieldOwner(sel) == "k8s.io/apimachinery/pkg/apis/meta/v1.ObjectMeta.Annotations"
	case *ast.CallExpr:
		s, ok := e.Fun.(*ast.SelectorExpr)
		if !ok {
			return false
		}
		sel := info.Selections[s]
		return sel != nil && sel.Kind() == types.MethodVal && sel.Obj().Name() == "GetAnnotations" &&
			!recvIs(sel, "k8s.io/apimachinery/pkg/apis/meta/v1/unstructured.Unstructured")
	}
	return false
}

func (r *readScan) annotationKey(key ast.Expr, info *types.Info, at string) {
	tv := info.Types[key]
	if tv.Value == nil || tv.Value.Kind() != constant.String {
		r.violations = append(r.violations, fmt.Sprintf("%s reads an annotation by a key that is not a constant: trim cannot know to keep it", at))
		return
	}
	k := constant.StringVal(tv.Value)
	r.keys[k] = append(r.keys[k], at)
}

// calledFunc names the package-level function a call calls.
func calledFunc(c *ast.CallExpr, info *types.Info) (string, bool) {
	var id *ast.Ident
	switch f := c.Fun.(type) {
	case *ast.Ident:
		id = f
	case *ast.SelectorExpr:
		id = f.Sel
	default:
		return "", false
	}
	fn, ok := info.Uses[id].(*types.Func)
	if !ok || fn.Pkg() == nil {
		return "", false
	}
	return fn.Pkg().Path() + "." + fn.Name(), true
}

// fieldOwner names a selected field by the struct that declares it:
// "k8s.io/api/core/v1.NodeStatus.Images" however it was reached.
func fieldOwner(sel *types.Selection) string {
	if sel.Kind() != types.FieldVal {
		return ""
	}
	t := sel.Recv()
	owner := ""
	for i, k := range sel.Index() {
		if p, ok := t.Underlying().(*types.Pointer); ok {
			t = p.Elem()
		}
		if n, ok := t.(*types.Named); ok && n.Obj().Pkg() != nil {
			owner = n.Obj().Pkg().Path() + "." + n.Obj().Name()
		}
		st, ok := t.Underlying().(*types.Struct)
		if !ok {
			return ""
		}
		f := st.Field(k)
		if i == len(sel.Index())-1 {
			return owner + "." + f.Name()
		}
		t = f.Type()
	}
	return ""
}

// recvIs: the selection's receiver is the named type (or a pointer to it).
func recvIs(sel *types.Selection, name string) bool {
	t := sel.Recv()
	if p, ok := t.(*types.Pointer); ok {
		t = p.Elem()
	}
	n, ok := t.(*types.Named)
	return ok && n.Obj().Pkg() != nil && n.Obj().Pkg().Path()+"."+n.Obj().Name() == name
}

func TestTrim(t *testing.T) {
	at := metav1.NewTime(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: "n1",
			Annotations: map[string]string{"node.alpha.kubernetes.io/ttl": "0", "ktriage.io/ignore": "WP101"},
			ManagedFields: []metav1.ManagedFieldsEntry{
				{Manager: "kubelet", Operation: metav1.ManagedFieldsOperationUpdate, Time: &at, FieldsType: "FieldsV1",
					FieldsV1: metav1.NewFieldsV1(`{"f:metadata":{"f:annotations":{},"f:labels":{"f:a":{}}},"f:spec":{"f:podCIDR":{},"f:taints":{}}}`)},
				{Manager: "kubelet", Operation: metav1.ManagedFieldsOperationUpdate, Time: &at, FieldsType: "FieldsV1", Subresource: "status",
					FieldsV1: metav1.NewFieldsV1(`{"f:status":{"f:conditions":{}}}`)},
				{Manager: "kubectl-cordon", Operation: metav1.ManagedFieldsOperationUpdate, Time: &at, FieldsType: "FieldsV1",
					FieldsV1: metav1.NewFieldsV1(`{"f:spec":{"f:unschedulable":{}}}`)},
				{Manager: "kubectl-annotate", Operation: metav1.ManagedFieldsOperationUpdate, Time: &at, FieldsType: "FieldsV1",
					FieldsV1: metav1.NewFieldsV1(`{"f:metadata":{"f:annotations":{}}}`)},
			}},
		Status: corev1.NodeStatus{
			Images:   []corev1.ContainerImage{{Names: []string{"a"}}},
			NodeInfo: corev1.NodeSystemInfo{OperatingSystem: "linux"},
		},
	}
	trim(node, nil)
	if node.Status.Images != nil || node.Status.NodeInfo.OperatingSystem != "linux" {
		t.Errorf("node status after trim: %+v", node.Status)
	}
	if want := map[string]string{"ktriage.io/ignore": "WP101"}; !mapsEqual(node.Annotations, want) {
		t.Errorf("node annotations %v, want %v", node.Annotations, want)
	}
	var got []string
	for _, mf := range node.ManagedFields {
		got = append(got, mf.Manager+" "+mf.Time.UTC().Format(time.RFC3339)+" "+mf.FieldsV1.GetRawString())
	}
	want := []string{
		`kubelet 2026-01-02T03:04:05Z {"f:metadata":{"f:labels":{}},"f:spec":{"f:taints":{}}}`,
		`kubectl-cordon 2026-01-02T03:04:05Z {"f:spec":{"f:unschedulable":{}}}`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("node managedFields after trim:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "p",
			Annotations:   map[string]string{corev1.LastAppliedConfigAnnotation: "{}", corev1.MirrorPodAnnotationKey: "x"},
			ManagedFields: node.ManagedFields},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "i",
			ReadinessProbe: &corev1.Probe{}, Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1")}},
			VolumeMounts: []corev1.VolumeMount{{Name: "kube-api-access", MountPath: "/var/run/secrets"}, {Name: "data", MountPath: "/data", BindMountOptions: []string{"noexec"}}}}}},
		Status: corev1.PodStatus{ContainerStatuses: []corev1.ContainerStatus{{Name: "c", Image: "i", ImageID: "sha", ContainerID: "containerd://x", RestartCount: 3}},
			Conditions: slices.Grow([]corev1.PodCondition{
				{Type: corev1.PodReadyToStartContainers, Status: corev1.ConditionTrue},
				{Type: corev1.PodInitialized, Status: corev1.ConditionTrue},
				{Type: corev1.PodReady, Status: corev1.ConditionFalse, Reason: "ContainersNotReady", LastTransitionTime: at},
				{Type: corev1.ContainersReady, Status: corev1.ConditionFalse},
				{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: at},
			}, 3)},
	}
	trim(pod, newInterner())
	c, s := pod.Spec.Containers[0], pod.Status.ContainerStatuses[0]
	if pod.ManagedFields != nil || c.ReadinessProbe != nil || s.ImageID != "" || s.ContainerID != "" {
		t.Errorf("pod after trim keeps what nothing reads: %+v", pod)
	}
	if len(c.VolumeMounts) != 1 || c.VolumeMounts[0].Name != "data" {
		t.Errorf("volume mounts after trim: %+v, want only the one with bind mount options", c.VolumeMounts)
	}
	wantConds := []corev1.PodCondition{
		{Type: corev1.PodReady, Status: corev1.ConditionFalse, Reason: "ContainersNotReady", LastTransitionTime: at},
		{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: at},
	}
	if !slices.EqualFunc(pod.Status.Conditions, wantConds, func(a, b corev1.PodCondition) bool {
		return a.Type == b.Type && a.Status == b.Status && a.Reason == b.Reason && a.LastTransitionTime.Equal(&b.LastTransitionTime)
	}) ||
		cap(pod.Status.Conditions) != len(wantConds) {
		t.Errorf("conditions after trim: %+v (cap %d), want %+v in a slice of their own length", pod.Status.Conditions, cap(pod.Status.Conditions), wantConds)
	}
	if c.Image != "i" || c.Resources.Requests.Cpu().String() != "1" || s.RestartCount != 3 || s.Image != "i" ||
		!mapsEqual(pod.Annotations, map[string]string{corev1.MirrorPodAnnotationKey: "x"}) {
		t.Errorf("pod after trim lost what analyses read: %+v", pod)
	}

	u := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "karpenter.sh/v1", "kind": "NodePool", "metadata": map[string]any{
		"name": "default", "annotations": map[string]any{corev1.LastAppliedConfigAnnotation: "{}", "karpenter.sh/nodepool-hash": "1"},
		"managedFields": []any{map[string]any{"manager": "karpenter"}}}}}
	trim(u, nil)
	if u.GetManagedFields() != nil || !mapsEqual(u.GetAnnotations(), map[string]string{"karpenter.sh/nodepool-hash": "1"}) {
		t.Errorf("custom resource after trim: %v", u.Object)
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// TestTrimStartedPods: a pod that has started keeps of its volumes those
// that the scheduler, drain and qos-audit read (claims, local storage), and
// none of the ConfigMaps, Secrets and container states only why-pending
// reads of Pending pods; a Pending pod keeps them all.
func TestTrimStartedPods(t *testing.T) {
	pod := func(phase corev1.PodPhase) *corev1.Pod {
		return &corev1.Pod{
			Spec: corev1.PodSpec{
				Volumes: []corev1.Volume{
					{Name: "kube-api-access", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
						{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token"}},
						{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "kube-root-ca.crt"}}},
						{DownwardAPI: &corev1.DownwardAPIProjection{}},
					}}}},
					{Name: "config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "app"}}}},
					{Name: "tls", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "tls"}}},
					{Name: "podinfo", VolumeSource: corev1.VolumeSource{DownwardAPI: &corev1.DownwardAPIVolumeSource{}}},
					{Name: "data", VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "data"}}},
					{Name: "scratch", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
					{Name: "logs", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/var/log"}}},
				},
				Containers: []corev1.Container{{Name: "app",
					Env: []corev1.EnvVar{{Name: "LOG_LEVEL", Value: "info"},
						{Name: "POD_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
						{Name: "DB_PASS", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "db"}, Key: "pass"}}}},
					EnvFrom: []corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "app-env"}}}}}},
			},
			Status: corev1.PodStatus{Phase: phase, ContainerStatuses: []corev1.ContainerStatus{{Name: "app", RestartCount: 2, Started: ptrTo(true),
				State:                corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CreateContainerConfigError"}},
				LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1}},
				AllocatedResources:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1")}}}},
		}
	}
	names := func(vs []corev1.Volume) []string {
		var out []string
		for _, v := range vs {
			out = append(out, v.Name)
		}
		return out
	}

	pending := pod(corev1.PodPending)
	trim(pending, newInterner())
	if got, want := names(pending.Spec.Volumes), []string{"kube-api-access", "config", "tls", "podinfo", "data", "scratch", "logs"}; !slices.Equal(got, want) {
		t.Errorf("Pending pod's volumes after trim: %v, want %v", got, want)
	}
	if src := pending.Spec.Volumes[0].Projected.Sources; len(src) != 1 || cap(src) != 1 || src[0].ConfigMap == nil || src[0].ConfigMap.Name != "kube-root-ca.crt" {
		t.Errorf("Pending pod's projected sources after trim: %+v (cap %d), want the ConfigMap alone", src, cap(src))
	}
	c := pending.Spec.Containers[0]
	if len(c.Env) != 1 || cap(c.Env) != 1 || c.Env[0].Name != "DB_PASS" || c.Env[0].ValueFrom.SecretKeyRef.Name != "db" || len(c.EnvFrom) != 1 {
		t.Errorf("Pending pod's environment after trim: %+v (cap %d), %+v; want DB_PASS's Secret and the envFrom", c.Env, cap(c.Env), c.EnvFrom)
	}
	if s := pending.Status.ContainerStatuses[0]; s.State.Waiting == nil || s.LastTerminationState.Terminated == nil || s.Started == nil {
		t.Errorf("Pending pod's container status after trim lost its state: %+v", s)
	}

	for _, phase := range []corev1.PodPhase{corev1.PodRunning, corev1.PodSucceeded, corev1.PodFailed} {
		p := pod(phase)
		trim(p, newInterner())
		if got, want := names(p.Spec.Volumes), []string{"data", "scratch", "logs"}; !slices.Equal(got, want) || cap(p.Spec.Volumes) != len(want) {
			t.Errorf("%s pod's volumes after trim: %v (cap %d), want %v", phase, got, cap(p.Spec.Volumes), want)
		}
		if c := p.Spec.Containers[0]; c.Env != nil || c.EnvFrom != nil {
			t.Errorf("%s pod's environment after trim: %+v, %+v; want none", phase, c.Env, c.EnvFrom)
		}
		s := p.Status.ContainerStatuses[0]
		if s.State != (corev1.ContainerState{}) || s.LastTerminationState != (corev1.ContainerState{}) || s.Started != nil {
			t.Errorf("%s pod's container state after trim: %+v", phase, s)
		}
		if s.Name != "app" || s.AllocatedResources.Cpu().String() != "1" {
			t.Errorf("%s pod's container status after trim lost what analyses read: %+v", phase, s)
		}
		if s.RestartCount != 0 || s.Ready {
			t.Errorf("%s pod's container status after trim keeps what only why-pending reads: %+v", phase, s)
		}
	}
}

// TestInternReplicas: what trim leaves of two replicas' owners, ports and
// container statuses is one shared copy; a Pending replica keeps its own
// statuses.
func TestInternReplicas(t *testing.T) {
	replica := func(name string, phase corev1.PodPhase, restarts int32) *corev1.Pod {
		return &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "web-1", UID: "u1", Controller: ptrTo(true)}}},
			Spec: corev1.PodSpec{Priority: ptrTo(int32(0)), Containers: []corev1.Container{{Name: "app", Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080, Protocol: corev1.ProtocolTCP}},
				Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m")}}}}},
			Status: corev1.PodStatus{Phase: phase, ContainerStatuses: []corev1.ContainerStatus{{Name: "app", Image: "web:1", RestartCount: restarts, Ready: true,
				State:     corev1.ContainerState{Running: &corev1.ContainerStateRunning{}},
				Resources: &corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m")}}}}},
		}
	}
	in := newInterner()
	a, b := replica("a", corev1.PodRunning, 0), replica("b", corev1.PodRunning, 4)
	other := replica("c", corev1.PodRunning, 0)
	other.OwnerReferences[0].Name, other.OwnerReferences[0].UID = "web-2", "u2"
	other.Spec.Containers[0].Ports[0].ContainerPort = 9090
	other.Status.ContainerStatuses[0].Resources.Requests = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("200m")}
	pending := replica("d", corev1.PodPending, 2)
	for _, p := range []*corev1.Pod{a, b, other, pending} {
		trim(p, in)
	}
	same := func(x, y any) bool { return reflect.ValueOf(x).Pointer() == reflect.ValueOf(y).Pointer() }
	if !same(a.OwnerReferences, b.OwnerReferences) || !same(a.Spec.Containers[0].Ports, b.Spec.Containers[0].Ports) ||
		!same(a.Status.ContainerStatuses, b.Status.ContainerStatuses) || a.Spec.Priority != b.Spec.Priority {
		t.Errorf("replicas do not share their owners, ports, container statuses and priority")
	}
	if same(a.OwnerReferences, other.OwnerReferences) || same(a.Spec.Containers[0].Ports, other.Spec.Containers[0].Ports) ||
		same(a.Status.ContainerStatuses, other.Status.ContainerStatuses) {
		t.Errorf("pods of different owners, ports or resources share them")
	}
	if other.OwnerReferences[0].Name != "web-2" || other.Spec.Containers[0].Ports[0].ContainerPort != 9090 ||
		other.Status.ContainerStatuses[0].Resources.Requests.Cpu().String() != "200m" {
		t.Errorf("another workload's pod after interning: %+v", other)
	}
	if same(a.Status.ContainerStatuses, pending.Status.ContainerStatuses) || pending.Status.ContainerStatuses[0].RestartCount != 2 ||
		pending.Status.ContainerStatuses[0].State.Running == nil {
		t.Errorf("Pending replica's container statuses after trim: %+v", pending.Status.ContainerStatuses)
	}
	for _, p := range []*corev1.Pod{a, b, other, pending} {
		if s := p.Status.ContainerStatuses; cap(s) != len(s) || cap(p.OwnerReferences) != len(p.OwnerReferences) {
			t.Errorf("pod %s: shared slices not clipped", p.Name)
		}
	}
}

func ptrTo[T any](v T) *T { return &v }
