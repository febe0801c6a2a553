package cli

import (
	"context"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/metadata"
)

// CompletionTimeout bounds the one API request a completion makes when
// --request-timeout is not given: the shell waits on it, so a slow or
// unreachable cluster must cost a short pause, never a frozen prompt.
const CompletionTimeout = 5 * time.Second

var (
	podsResource       = schema.GroupVersionResource{Version: "v1", Resource: "pods"}
	nodesResource      = schema.GroupVersionResource{Version: "v1", Resource: "nodes"}
	namespacesResource = schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}
)

// CompletePods makes the command's arguments complete to the names of the pods
// in the namespace of -n (or the kubeconfig's), leaving out pods already
// named. max limits how many arguments complete (0: any number).
func (c *Common) CompletePods(cmd *cobra.Command, max int) {
	cmd.ValidArgsFunction = c.completeNames(podsResource, true, max)
}

// CompleteNodes makes the command's arguments complete to node names, leaving
// out nodes already named. max limits how many arguments complete (0: any
// number).
func (c *Common) CompleteNodes(cmd *cobra.Command, max int) {
	cmd.ValidArgsFunction = c.completeNames(nodesResource, false, max)
}

// registerKubeconfigCompletions completes the kubeconfig flags added by
// ConfigFlags: contexts, clusters and users from the kubeconfig, namespaces
// from the cluster.
func (c *Common) registerKubeconfigCompletions(cmd *cobra.Command) {
	fromConfig := func(names func() []string) cobra.CompletionFunc {
		return func(_ *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
			return matching(names(), nil, toComplete), cobra.ShellCompDirectiveNoFileComp
		}
	}
	_ = cmd.RegisterFlagCompletionFunc("context", fromConfig(c.contextNames))
	_ = cmd.RegisterFlagCompletionFunc("cluster", fromConfig(c.clusterNames))
	_ = cmd.RegisterFlagCompletionFunc("user", fromConfig(c.userNames))
	_ = cmd.RegisterFlagCompletionFunc("namespace", c.completeNames(namespacesResource, false, 1))
}

func (c *Common) contextNames() []string {
	raw, err := c.ConfigFlags.ToRawKubeConfigLoader().RawConfig()
	if err != nil {
		return nil
	}
	var names []string
	for name := range raw.Contexts {
		names = append(names, name)
	}
	return names
}

func (c *Common) clusterNames() []string {
	raw, err := c.ConfigFlags.ToRawKubeConfigLoader().RawConfig()
	if err != nil {
		return nil
	}
	var names []string
	for name := range raw.Clusters {
		names = append(names, name)
	}
	return names
}

func (c *Common) userNames() []string {
	raw, err := c.ConfigFlags.ToRawKubeConfigLoader().RawConfig()
	if err != nil {
		return nil
	}
	var names []string
	for name := range raw.AuthInfos {
		names = append(names, name)
	}
	return names
}

// completeNames lists the names of one resource (metadata only) and offers
// those starting with what was typed. A failed list offers nothing: the
// shell shows no choices rather than an error in the middle of the prompt.
func (c *Common) completeNames(gvr schema.GroupVersionResource, namespaced bool, max int) cobra.CompletionFunc {
	return func(_ *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		// TYPE/NAME and NS/NAME forms are typed by hand.
		if (max > 0 && len(args) >= max) || strings.Contains(toComplete, "/") {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		names, err := c.listNames(gvr, namespaced)
		if err != nil {
			cobra.CompDebugln("listing "+gvr.Resource+": "+err.Error(), true)
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return matching(names, args, toComplete), cobra.ShellCompDirectiveNoFileComp
	}
}

func (c *Common) listNames(gvr schema.GroupVersionResource, namespaced bool) ([]string, error) {
	cfg, err := c.RESTConfig()
	if err != nil {
		return nil, err
	}
	if c.ConfigFlags.Timeout == nil || *c.ConfigFlags.Timeout == "" || *c.ConfigFlags.Timeout == "0" {
		cfg.Timeout = CompletionTimeout
	}
	client, err := metadata.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), cfg.Timeout)
	defer cancel()
	var list *metav1.PartialObjectMetadataList
	if namespaced {
		ns, _, err := c.Namespace()
		if err != nil {
			return nil, err
		}
		list, err = client.Resource(gvr).Namespace(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return nil, err
		}
	} else {
		list, err = client.Resource(gvr).List(ctx, metav1.ListOptions{})
		if err != nil {
			return nil, err
		}
	}
	names := make([]string, 0, len(list.Items))
	for _, item := range list.Items {
		names = append(names, item.Name)
	}
	return names, nil
}

// matching returns the names starting with prefix that are not in taken,
// sorted.
func matching(names, taken []string, prefix string) []string {
	var out []string
	for _, n := range names {
		if strings.HasPrefix(n, prefix) && !slices.Contains(taken, n) {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}
