// Command floor is the end-to-end benchmark's floor: the paginated protobuf
// LISTs a plugin needs and nothing else. Each page is decoded into typed
// objects, as client-go does, and dropped; nothing is analysed or printed.
// What a plugin costs beyond this is its own work.
//
// With -keep, every decoded object is kept until the end (managedFields
// dropped, as an informer's transform commonly does): the memory of a
// program that holds the cluster's typed objects and does nothing else.
//
//	floor [-kubeconfig FILE] [-keep] pods-nodes | cert-sources | drain NODE
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	goruntime "runtime"
	"time"

	"golang.org/x/sync/errgroup"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// list is one paginated LIST: a page getter.
type list func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error)

func main() {
	kubeconfig := flag.String("kubeconfig", os.Getenv("KUBECONFIG"), "kubeconfig file")
	keep := flag.Bool("keep", false, "keep every decoded object (managedFields dropped) until the end")
	flag.Parse()
	if err := run(*kubeconfig, *keep, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "floor:", err)
		os.Exit(2)
	}
}

func run(kubeconfig string, keep bool, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("usage: floor pods-nodes | cert-sources | drain NODE")
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return err
	}
	cfg.QPS, cfg.Burst = 1000, 2000
	dyn, err := dynamic.NewForConfig(cfg) // JSON, for the kinds without protobuf
	if err != nil {
		return err
	}
	cfg.ContentType = "application/vnd.kubernetes.protobuf"
	cfg.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	c := cs.CoreV1()
	notDone := "status.phase!=Succeeded,status.phase!=Failed"
	withFields := func(l list, fs string) list {
		return func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			o.FieldSelector = fs
			return l(ctx, o)
		}
	}
	pods := func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
		return c.Pods("").List(ctx, o)
	}
	nodes := func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) { return c.Nodes().List(ctx, o) }
	unstructured := func(gvr schema.GroupVersionResource) list {
		return func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			return dyn.Resource(gvr).List(ctx, o)
		}
	}
	var lists []list
	switch args[0] {
	case "pods-nodes":
		// why-pending -A and qos-audit -A: every pod and every node.
		lists = []list{pods, nodes}
	case "cert-sources":
		// cert-expiry's in-cluster sources: Secrets (not Helm releases),
		// ConfigMaps, webhook configurations, APIServices, CRDs, CSRs.
		lists = []list{
			withFields(func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
				return c.Secrets("").List(ctx, o)
			}, "type!=helm.sh/release.v1"),
			func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
				return c.ConfigMaps("").List(ctx, o)
			},
			func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
				return cs.AdmissionregistrationV1().ValidatingWebhookConfigurations().List(ctx, o)
			},
			func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
				return cs.AdmissionregistrationV1().MutatingWebhookConfigurations().List(ctx, o)
			},
			unstructured(schema.GroupVersionResource{Group: "apiregistration.k8s.io", Version: "v1", Resource: "apiservices"}),
			unstructured(schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}),
			func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
				return cs.CertificatesV1().CertificateSigningRequests().List(ctx, o)
			},
		}
	case "drain":
		// A drain simulation: every node, every pod holding resources, the
		// budgets, DaemonSets, PriorityClasses and Namespaces, then the
		// drained node's pods.
		if len(args) != 2 {
			return fmt.Errorf("usage: floor drain NODE")
		}
		lists = []list{nodes, withFields(pods, notDone),
			func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
				return cs.PolicyV1().PodDisruptionBudgets("").List(ctx, o)
			},
			func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
				return cs.AppsV1().DaemonSets("").List(ctx, o)
			},
			func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
				return cs.SchedulingV1().PriorityClasses().List(ctx, o)
			},
			func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
				return c.Namespaces().List(ctx, o)
			},
			withFields(pods, "spec.nodeName="+args[1]),
		}
	default:
		return fmt.Errorf("unknown floor %q", args[0])
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	g, gctx := errgroup.WithContext(ctx)
	total := make([]int, len(lists))
	kept := make([][]runtime.Object, len(lists))
	for i, l := range lists {
		g.Go(func() error {
			n, err := drainList(gctx, l, func(page runtime.Object) {
				if keep {
					kept[i] = append(kept[i], dropManagedFields(page))
				}
			})
			total[i] = n
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	sum := 0
	for _, n := range total {
		sum += n
	}
	fmt.Println(sum) // the object count, so the harness can tell a floor that listed nothing
	goruntime.KeepAlive(kept)
	return nil
}

// dropManagedFields drops every item's managedFields, in place.
func dropManagedFields(page runtime.Object) runtime.Object {
	_ = meta.EachListItem(page, func(o runtime.Object) error {
		if m, err := meta.Accessor(o); err == nil {
			m.SetManagedFields(nil)
		}
		return nil
	})
	return page
}

// drainList reads every page of l (500 objects each), hands each to seen
// and counts the objects.
func drainList(ctx context.Context, l list, seen func(runtime.Object)) (int, error) {
	o := metav1.ListOptions{Limit: 500}
	n := 0
	for {
		obj, err := l(ctx, o)
		if err != nil {
			return n, err
		}
		lm, err := metaList(obj)
		if err != nil {
			return n, err
		}
		n += lm.count
		seen(obj)
		if lm.cont == "" {
			return n, nil
		}
		o.Continue = lm.cont
	}
}

type listMeta struct {
	count int
	cont  string
}

func metaList(obj runtime.Object) (listMeta, error) {
	type lister interface{ GetContinue() string }
	l, ok := obj.(lister)
	if !ok {
		return listMeta{}, fmt.Errorf("%T is not a list", obj)
	}
	items, err := itemCount(obj)
	return listMeta{count: items, cont: l.GetContinue()}, err
}

// itemCount counts a typed or unstructured list's items.
func itemCount(obj runtime.Object) (int, error) {
	return meta.LenList(obj), nil
}
