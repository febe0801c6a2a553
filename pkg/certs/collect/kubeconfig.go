package collect

import (
	"fmt"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/ktriage/ktriage/pkg/certs"
)

// kubeconfig reads the certificates of the kubeconfig's contexts (--context:
// only that one) and the API servers they name.
func (c *collector) kubeconfig() error {
	loader := c.cfg.Kubeconfig
	if loader == nil {
		return fmt.Errorf("reading the kubeconfig: no kubeconfig loader; set KUBECONFIG or pass --kubeconfig")
	}
	raw, err := loader.RawConfig()
	if err != nil {
		return fmt.Errorf("reading the kubeconfig: %w; set KUBECONFIG or pass --kubeconfig", err)
	}
	if len(raw.Contexts) == 0 {
		c.warn("the kubeconfig has no context: no kubeconfig or served certificates to check")
		return nil
	}
	var contexts []string
	if name := c.cfg.Context; name != "" {
		if _, ok := raw.Contexts[name]; !ok {
			return usageErrorf("--context %q is not in the kubeconfig (kubectl config get-contexts)", name)
		}
		contexts = []string{name}
	}
	path := ""
	if f := loader.ConfigAccess().GetExplicitFile(); f != "" {
		path = f
	} else if files := loader.ConfigAccess().GetLoadingPrecedence(); len(files) == 1 {
		path = files[0]
	}
	inputs, endpoints, err := certs.FromKubeconfig(&raw, certs.KubeconfigOptions{Path: path, Contexts: contexts, Read: c.readFile})
	if err != nil {
		return &UsageError{Err: err}
	}
	if c.cfg.Plan.Sources[certs.SourceKubeconfig] {
		c.out.Inputs = append(c.out.Inputs, inputs...)
		c.used(certs.SourceKubeconfig)
	}
	c.kubeconfigEndpoints = endpoints
	if c.cfg.Plan.Sources[certs.SourceServed] {
		c.used(certs.SourceServed)
	}
	return nil
}

// kubeconfigFile reads a kubeconfig file as a whole (a PKI kubeconfig, or one
// given with -f): its certificates are named after the file.
func (c *collector) kubeconfigFile(path string, data []byte, typ string) {
	cfg, err := clientcmd.Load(data)
	if err != nil {
		c.input(certs.Input{Origin: certs.Origin{Type: typ, Path: path}, Err: fmt.Errorf("not a valid kubeconfig: %w", err)})
		return
	}
	setOrigin(cfg, path)
	inputs, _, err := certs.FromKubeconfig(cfg, certs.KubeconfigOptions{Path: path, AsFile: true, OriginType: typ, Read: c.readFile})
	if err != nil {
		c.input(certs.Input{Origin: certs.Origin{Type: typ, Path: path}, Err: err})
		return
	}
	c.out.Inputs = append(c.out.Inputs, inputs...)
}

// setOrigin makes relative certificate paths resolve against the file.
func setOrigin(cfg *clientcmdapi.Config, path string) {
	for _, c := range cfg.Clusters {
		c.LocationOfOrigin = path
	}
	for _, u := range cfg.AuthInfos {
		u.LocationOfOrigin = path
	}
}
