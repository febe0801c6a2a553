package certexpiry

import (
	"fmt"
	"os"

	"k8s.io/client-go/dynamic"

	"github.com/ktriage/ktriage/pkg/certs/collect"
)

// collectConfig says what to collect and how to reach the cluster.
func (o *Options) collectConfig() collect.Config {
	context := ""
	if c := o.ConfigFlags.Context; c != nil {
		context = *c
	}
	return collect.Config{
		Plan:      o.plan,
		Filenames: o.Filenames, Recursive: o.Recursive, Stdin: o.In,
		PKIDir: o.PKIDir, KubernetesDir: o.KubernetesDir, KubeletPKIDir: o.KubeletPKIDir,
		PKIDirSet: o.pkiDirSet, KubernetesDirSet: o.kubeDirSet, KubeletPKIDirSet: o.kubeletDirSet,
		Kubeconfig: o.ConfigFlags.ToRawKubeConfigLoader(),
		Context:    context,
		Cluster:    collect.Cluster{Connect: o.connect, Configured: o.clusterConfigured, Server: o.server},
		Handshakes: collect.HandshakeOptions{Concurrency: o.Concurrency, Timeout: collect.HandshakeTimeout(o.DialTimeout, o.ConfigFlags.Timeout)},
	}
}

// connect builds the cluster's clients; certificates matter in every
// namespace unless -n names one.
func (o *Options) connect() (collect.Connection, error) {
	var conn collect.Connection
	cs, cfg, err := o.Clientset()
	if err != nil {
		return conn, err
	}
	conn.Client, conn.Context = cs, o.CurrentContext()
	ns, explicit, err := o.Namespace()
	if err != nil {
		return conn, err
	}
	if explicit {
		conn.Namespace = ns
	}
	if conn.Dynamic, err = dynamic.NewForConfig(cfg); err != nil {
		return conn, fmt.Errorf("creating the API client: %w", err)
	}
	return conn, nil
}

// server names the API server in a finding about a cluster not read.
func (o *Options) server() string {
	if cfg, err := o.RESTConfig(); err == nil {
		return cfg.Host
	}
	return ""
}

// clusterConfigured says whether a cluster was configured at all (a
// kubeconfig with clusters, --server, or in-cluster): without one, a
// control-plane node's PKI check is not an unreachable cluster.
func (o *Options) clusterConfigured() bool {
	if f := o.ConfigFlags; f.APIServer != nil && *f.APIServer != "" {
		return true
	}
	if os.Getenv("KUBERNETES_SERVICE_HOST") != "" {
		return true
	}
	raw, err := o.ConfigFlags.ToRawKubeConfigLoader().RawConfig()
	return err != nil || len(raw.Clusters) > 0
}
