package cluster

import (
	"fmt"
	"regexp"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/version"
	"k8s.io/client-go/kubernetes/scheme"
)

// removedVersions are built-in API versions Kubernetes no longer serves (the
// deprecated API migration guide): the API server refuses a manifest written
// for one.
var removedVersions = map[schema.GroupVersion]bool{
	{Group: "extensions", Version: "v1beta1"}:                   true,
	{Group: "apps", Version: "v1beta1"}:                         true,
	{Group: "apps", Version: "v1beta2"}:                         true,
	{Group: "admissionregistration.k8s.io", Version: "v1beta1"}: true,
	{Group: "apiextensions.k8s.io", Version: "v1beta1"}:         true,
	{Group: "apiregistration.k8s.io", Version: "v1beta1"}:       true,
	{Group: "authentication.k8s.io", Version: "v1beta1"}:        true,
	{Group: "authorization.k8s.io", Version: "v1beta1"}:         true,
	{Group: "autoscaling", Version: "v2beta1"}:                  true,
	{Group: "autoscaling", Version: "v2beta2"}:                  true,
	{Group: "batch", Version: "v1beta1"}:                        true,
	{Group: "certificates.k8s.io", Version: "v1beta1"}:          true,
	{Group: "coordination.k8s.io", Version: "v1beta1"}:          true,
	{Group: "discovery.k8s.io", Version: "v1beta1"}:             true,
	{Group: "events.k8s.io", Version: "v1beta1"}:                true,
	{Group: "flowcontrol.apiserver.k8s.io", Version: "v1beta1"}: true,
	{Group: "flowcontrol.apiserver.k8s.io", Version: "v1beta2"}: true,
	{Group: "flowcontrol.apiserver.k8s.io", Version: "v1beta3"}: true,
	{Group: "networking.k8s.io", Version: "v1beta1"}:            true,
	{Group: "node.k8s.io", Version: "v1alpha1"}:                 true,
	{Group: "node.k8s.io", Version: "v1beta1"}:                  true,
	{Group: "policy", Version: "v1beta1"}:                       true,
	{Group: "rbac.authorization.k8s.io", Version: "v1alpha1"}:   true,
	{Group: "rbac.authorization.k8s.io", Version: "v1beta1"}:    true,
	{Group: "scheduling.k8s.io", Version: "v1alpha1"}:           true,
	{Group: "scheduling.k8s.io", Version: "v1beta1"}:            true,
	{Group: "settings.k8s.io", Version: "v1alpha1"}:             true,
	{Group: "storage.k8s.io", Version: "v1beta1"}:               true,
}

// builtinGroup says whether group is one of the API groups Kubernetes itself serves: the groups of
// client-go's scheme and the two whose objects are read without it.
func builtinGroup(group string) bool {
	return scheme.Scheme.IsGroupRegistered(group) || group == "apiextensions.k8s.io" || group == "apiregistration.k8s.io"
}

// groupVersionRE is what an apiVersion looks like: VERSION or GROUP/VERSION,
// the group a DNS subdomain, the version a DNS label.
var groupVersionRE = regexp.MustCompile(`^(?:[a-z0-9]([-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

// checkAPI says what is wrong with an object's apiVersion and kind: a
// malformed apiVersion, an API version Kubernetes no longer serves, or a
// kind or version a built-in API group does not have (a typo such as Pood,
// Pod under apps/v1). Custom resources, whose groups this cannot know, pass.
func checkAPI(apiVersion, kind string) error {
	if !groupVersionRE.MatchString(apiVersion) {
		return fmt.Errorf("invalid apiVersion %q: want VERSION (v1) or GROUP/VERSION (apps/v1)", apiVersion)
	}
	gv, err := schema.ParseGroupVersion(apiVersion)
	if err != nil {
		return fmt.Errorf("invalid apiVersion %q: %v", apiVersion, err)
	}
	if removedVersions[gv] {
		return fmt.Errorf("apiVersion %s is no longer served by Kubernetes%s", apiVersion, servedAs(kind))
	}
	if !builtinGroup(gv.Group) {
		return nil
	}
	gvk := gv.WithKind(kind)
	if _, typed := typedByGVK[gvk]; typed {
		return nil
	}
	if gv.Group == "apiextensions.k8s.io" || gv.Group == "apiregistration.k8s.io" {
		return nil // not in client-go's scheme: read as unstructured objects
	}
	if scheme.Scheme.Recognizes(gvk) {
		return nil
	}
	if scheme.Scheme.IsVersionRegistered(gv) {
		return fmt.Errorf("unknown kind %q in apiVersion %s%s", kind, apiVersion, servedAs(kind))
	}
	return fmt.Errorf("unknown apiVersion %s: the %s API group has no version %s%s", apiVersion, groupName(gv.Group), gv.Version, servedAs(kind))
}

func groupName(group string) string {
	if group == "" {
		return "core"
	}
	return group
}

// servedAs names the apiVersion Kubernetes serves kind under, as a hint
// ("; Deployment is apps/v1"), or "" when it has no such kind.
func servedAs(kind string) string {
	best := schema.GroupVersion{}
	found := false
	for gvk := range scheme.Scheme.AllKnownTypes() {
		if gvk.Kind != kind || gvk.Version == runtime.APIVersionInternal || removedVersions[gvk.GroupVersion()] {
			continue
		}
		gv := gvk.GroupVersion()
		if _, typed := typedByGVK[gvk]; typed {
			best, found = gv, true
			break
		}
		if !found || better(gv, best) {
			best, found = gv, true
		}
	}
	if !found {
		return ""
	}
	return fmt.Sprintf("; %s is %s", kind, best.String())
}

// better prefers stable versions, then the core group, then the group name.
func better(a, b schema.GroupVersion) bool {
	if c := version.CompareKubeAwareVersionStrings(a.Version, b.Version); c != 0 {
		return c > 0
	}
	if (a.Group == "") != (b.Group == "") {
		return a.Group == ""
	}
	return a.Group < b.Group
}
